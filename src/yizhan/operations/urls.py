from django.urls import path

from yizhan.operations import views

app_name = "operations"
urlpatterns = [
    path("manage/operations/status/", views.status_list, name="status_list"),
    path("manage/operations/outlets/<str:code>/status/", views.outlet_status, name="outlet_status"),
    path("manage/operations/outlets/<str:code>/customers/", views.outlet_customers, name="outlet_customers"),
    path("manage/operations/status/<int:pk>/<str:action>/", views.status_action, name="status_action"),
    path("manage/operations/health/", views.health_report, name="health_report"),
    path("manage/operations/health/units/", views.health_units, name="health_units"),
    path("manage/operations/health/units/<str:code>/", views.health_people, name="health_people"),
    path("manage/operations/health/units/<str:code>/export.xlsx", views.health_export, name="health_export"),
    path("manage/operations/roster/<str:code>/", views.roster, name="roster"),
    path("manage/operations/roster/entry/<int:pk>/leave/", views.roster_leave, name="roster_leave"),
    path("manage/operations/inspections/", views.inspections, name="inspections"),
    path("manage/operations/rectifications/", views.rectification_list, name="rectifications"),
    path(
        "manage/operations/rectifications/<int:pk>/", views.rectification_detail, name="rectification_detail"
    ),
    path(
        "manage/operations/rectifications/<int:pk>/<str:action>/",
        views.rectification_action,
        name="rectification_action",
    ),
]
