from django.urls import path

from yizhan.locator import manage_views, views

app_name = "locator"
urlpatterns = [
    path("", views.index, name="index"),
    path("map/", views.map_view, name="map"),
    path("map/stations.json", views.map_stations, name="map_stations"),
    path("s/<str:code>", views.station, name="station"),
    path("s/<str:code>/qr.svg", views.station_qr, name="station_qr"),
    path("share/", views.share_list, name="share"),
    path("l/<str:code>", views.short_link, name="short_link"),
    path("l/<str:code>/share", views.short_link_share, name="short_link_share"),
    path("l/<str:code>/qr.svg", views.short_link_qr, name="short_link_qr"),
    path("sw.js", views.service_worker, name="service_worker"),
    path("manifest.webmanifest", views.manifest, name="manifest"),
]

urlpatterns += [
    path("manage/places/", manage_views.place_list, name="places"),
    path("manage/places/new/", manage_views.place_create, name="place_create"),
    path("manage/places/import/", manage_views.place_import, name="place_import"),
    path("manage/places/<int:pk>/", manage_views.place_edit, name="place_edit"),
    path("manage/places/<int:pk>/delete/", manage_views.place_delete, name="place_delete"),
    path("manage/busy/", manage_views.busy_board, name="busy"),
    path("manage/busy/<str:code>/<str:action>/", manage_views.busy_full, name="busy_full"),
]
