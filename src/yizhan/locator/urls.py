from django.urls import path

from yizhan.locator import views

app_name = "locator"
urlpatterns = [
    path("", views.index, name="index"),
    path("map/", views.map_view, name="map"),
    path("map/stations.json", views.map_stations, name="map_stations"),
    path("s/<str:code>", views.station, name="station"),
]
