from django.urls import path

from yizhan.planning import views

app_name = "planning"
urlpatterns = [
    path("no-station/", views.no_station, name="no_station"),
    path("no-station/queued", views.no_station_queued, name="no_station_queued"),
    path("manage/planning/", views.index, name="index"),
    path("manage/planning/wave/", views.make_wave, name="make_wave"),
    path("manage/planning/sites/new/", views.site_create, name="site_create"),
    path("manage/planning/sites/<int:pk>/delete/", views.site_delete, name="site_delete"),
]
