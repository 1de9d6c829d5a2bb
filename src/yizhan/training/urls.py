from django.urls import path

from yizhan.training import views

app_name = "training"
P = "manage/training/"
urlpatterns = [
    path(P, views.dashboard, name="dashboard"),
    path(P + "coverage.xlsx", views.coverage_export, name="coverage_export"),
    path(P + "courses/", views.course_list, name="course_list"),
    path(P + "courses/new/", views.course_create, name="course_create"),
    path(P + "courses/<int:pk>/", views.course_edit, name="course_edit"),
    path(P + "sessions/", views.session_list, name="session_list"),
    path(P + "sessions/new/", views.session_create, name="session_create"),
    path(P + "sessions/<int:pk>/", views.session_detail, name="session_detail"),
    path(P + "sessions/<int:pk>/edit/", views.session_edit, name="session_edit"),
    path(P + "sessions/<int:pk>/cancel/", views.session_cancel, name="session_cancel"),
    path(P + "sessions/<int:pk>/invite/", views.session_invite, name="session_invite"),
    path(P + "sessions/<int:pk>/result/", views.session_result, name="session_result"),
    path(P + "sessions/<int:pk>/badge/", views.session_badge, name="session_badge"),
    path(P + "sessions/<int:pk>/import/", views.session_import, name="session_import"),
    path(P + "sessions/<int:pk>/export.xlsx", views.session_export, name="session_export"),
    path(P + "people/", views.people, name="people"),
    path(P + "people/<int:pk>/", views.person, name="person"),
    path(P + "me/", views.my_record, name="my_record"),
    path(P + "expiring/", views.expiring, name="expiring"),
    path(P + "expiring.xlsx", views.expiring_export, name="expiring_export"),
    path(P + "drills/", views.drill_list, name="drill_list"),
    path(P + "drills/new/", views.drill_create, name="drill_create"),
    path(P + "drills/<int:pk>/", views.drill_detail, name="drill_detail"),
    path(P + "drills/<int:pk>/findings/", views.drill_finding, name="drill_finding"),
]
