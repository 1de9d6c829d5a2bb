from django.urls import path

from yizhan.visits import views

app_name = "visits"
urlpatterns = [
    # Public, no login: the QR code's short address, and the station page's report and confirm links.
    path("c/<str:code>", views.checkin, name="checkin"),
    path("c/<str:code>/thanks", views.checkin_thanks, name="checkin_thanks"),
    path("s/<str:code>/report", views.report, name="report"),
    path("s/<str:code>/report/thanks", views.report_thanks, name="report_thanks"),
    path("s/<str:code>/confirm", views.confirm, name="confirm"),
    # Back office.
    path("manage/visits/", views.statistics, name="statistics"),
    path("manage/visits/export.xlsx", views.statistics_export, name="statistics_export"),
    path("manage/visits/stations/<str:code>/", views.station_visits, name="station"),
    path("manage/visits/stations/<str:code>/delete/", views.station_checkins_delete, name="checkins_delete"),
    path("manage/visits/posters/", views.poster_index, name="posters"),
    path("manage/visits/posters/<str:code>.svg", views.poster_svg, name="poster"),
    path("manage/visits/posters/unit/<str:code>.zip", views.poster_zip, name="poster_zip"),
    path("manage/feedback/", views.feedback_queue, name="feedback_queue"),
    path("manage/feedback/<int:pk>/", views.feedback_detail, name="feedback_detail"),
    path("manage/feedback/<int:pk>/photo", views.feedback_photo, name="feedback_photo"),
    path("manage/feedback/<int:pk>/<str:action>/", views.feedback_action, name="feedback_action"),
]
