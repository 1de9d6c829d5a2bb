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
urlpatterns += [
    path("manage/operations/plans/", views.plans, name="plans"),
    path("manage/operations/plans/templates/new/", views.plan_template, name="plan_template_new"),
    path("manage/operations/plans/templates/<int:pk>/", views.plan_template, name="plan_template"),
    path("manage/operations/outlets/<str:code>/plan/", views.outlet_plan, name="outlet_plan"),
    path("manage/operations/plans/activations/<int:pk>/", views.activation_detail, name="activation_detail"),
    path(
        "manage/operations/plans/activations/<int:pk>/deactivate/",
        views.activation_deactivate,
        name="activation_deactivate",
    ),
    path("manage/operations/plans/tasks/<int:pk>/done/", views.plan_task_done, name="plan_task_done"),
]
urlpatterns += [
    path("manage/operations/outlets/<str:code>/checklist/", views.outlet_checklist, name="outlet_checklist"),
    path(
        "manage/operations/outlets/<str:code>/disinfection/",
        views.outlet_disinfection,
        name="outlet_disinfection",
    ),
    path("manage/operations/disinfection/<int:pk>/done/", views.disinfection_log, name="disinfection_log"),
    path("manage/operations/disinfection/<int:pk>/sign/", views.disinfection_sign, name="disinfection_sign"),
]
urlpatterns += [
    path("manage/operations/checklists/template/", views.checklist_template, name="checklist_template"),
]
urlpatterns += [path("manage/operations/workbench/", views.workbench_page, name="workbench")]
urlpatterns += [
    path("manage/operations/dashboard/", views.dashboard_page, name="dashboard"),
    path("manage/operations/dashboard/export.xlsx", views.dashboard_export, name="dashboard_export"),
]
