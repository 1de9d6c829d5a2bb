from django.urls import path

from yizhan.cases import views

app_name = "cases"
P = "manage/cases/"
urlpatterns = [
    path(P, views.case_list, name="case_list"),
    path(P + "export.csv", views.case_export, name="case_export"),
    path(P + "new/", views.case_create, name="case_create"),
    path(P + "<int:pk>/", views.case_detail, name="case_detail"),
    path(P + "<int:pk>/edit/", views.case_edit, name="case_edit"),
    path(P + "<int:pk>/step/", views.case_step, name="case_step"),
    path(P + "<int:pk>/close/", views.case_close, name="case_close"),
    path(P + "<int:pk>/documents/", views.case_document_add, name="case_document_add"),
    path(P + "<int:pk>/documents/<int:doc>/", views.case_document, name="case_document"),
    path(P + "<int:pk>/instructions/", views.case_link, name="case_link"),
    path(P + "<int:pk>/proposals/", views.case_propose, name="case_propose"),
    path(P + "proposals/<int:pk>/decide/", views.proposal_decide, name="proposal_decide"),
]
