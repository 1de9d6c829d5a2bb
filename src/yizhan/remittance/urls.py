from django.urls import path

from yizhan.remittance import views

app_name = "remittance"
P = "manage/remittance/"
urlpatterns = [
    path(P, views.batch_list, name="batch_list"),
    path(P + "new/", views.batch_create, name="batch_create"),
    path(P + "<int:pk>/", views.batch_detail, name="batch_detail"),
    path(P + "<int:pk>/edit/", views.batch_edit, name="batch_edit"),
    path(P + "<int:pk>/worklist/", views.worklist, name="worklist"),
    path(P + "<int:pk>/duplicates/", views.duplicates, name="duplicates"),
    path(P + "<int:pk>/import/", views.import_upload, name="import_upload"),
    path(P + "<int:pk>/import/<int:run>/", views.import_preview, name="import_preview"),
    path(P + "<int:pk>/import/job/<uuid:job>/", views.import_job, name="import_job"),
    path(P + "<int:pk>/import/<int:run>/report.csv", views.import_report, name="import_report"),
    path(P + "<int:pk>/rescreen/", views.rescreen, name="rescreen"),
    path(P + "<int:pk>/export/", views.export, name="export"),
    path(P + "i/<int:pk>/", views.instruction_detail, name="instruction_detail"),
    path(P + "i/<int:pk>/claim/", views.claim, name="claim"),
    path(P + "i/<int:pk>/release/", views.release, name="release"),
    path(P + "i/<int:pk>/callback/", views.callback, name="callback"),
    path(P + "i/<int:pk>/decide/", views.decide, name="decide"),
    path(P + "i/<int:pk>/approve/", views.approve, name="approve"),
    path(P + "i/<int:pk>/reject/", views.reject, name="reject"),
    path(P + "i/<int:pk>/reopen/", views.reopen, name="reopen"),
    path(P + "rules/", views.rules, name="rules"),
    path(P + "rules/new/", views.rule_edit, name="rule_create"),
    path(P + "rules/<int:rule_pk>/", views.rule_edit, name="rule_edit"),
    path(P + "rules/<int:rule_pk>/delete/", views.rule_delete, name="rule_delete"),
    path(P + "rules/<str:part>/", views.rule_part_create, name="rule_part_create"),
    path(P + "rules/<str:part>/<int:item_pk>/delete/", views.rule_part_delete, name="rule_part_delete"),
]
