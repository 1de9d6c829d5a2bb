from django.urls import path

from yizhan.operations import views

app_name = "operations"
urlpatterns = [
    path("manage/operations/status/", views.status_list, name="status_list"),
    path("manage/operations/outlets/<str:code>/status/", views.outlet_status, name="outlet_status"),
    path("manage/operations/outlets/<str:code>/customers/", views.outlet_customers, name="outlet_customers"),
    path("manage/operations/status/<int:pk>/<str:action>/", views.status_action, name="status_action"),
]
