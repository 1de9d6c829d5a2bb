from django.urls import path

from yizhan.jobs import views

app_name = "jobs"
urlpatterns = [
    path("manage/jobs/", views.job_list, name="list"),
    path("manage/jobs/<uuid:pk>/progress", views.job_progress, name="progress"),
    path("manage/schedules/", views.schedule_list, name="schedules"),
]
