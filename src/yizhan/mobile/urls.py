from django.urls import path

from yizhan.mobile import views

app_name = "mobile"
P = "manage/mobile/"
urlpatterns = [
    path(P, views.van_list, name="list"),
    path(P + "figures/", views.figures, name="figures"),
    path(P + "visits/<int:pk>/cancel/", views.cancel, name="cancel"),
    path(P + "<str:code>/", views.van, name="van"),
    path(P + "<str:code>/places/new/", views.place_create, name="place_create"),
    path(P + "<str:code>/schedules/new/", views.schedule_create, name="schedule_create"),
    path(P + "<str:code>/schedules/<int:pk>/edit/", views.schedule_edit, name="schedule_edit"),
    path(P + "<str:code>/schedules/<int:pk>/stop/", views.schedule_stop, name="schedule_stop"),
    path(P + "<str:code>/schedules/<int:pk>/resume/", views.schedule_resume, name="schedule_resume"),
]
