from django.urls import path

from yizhan.stations import views

app_name = "stations"
urlpatterns = [
    path("manage/stations/", views.station_list, name="list"),
    path("manage/stations/export.<str:fmt>", views.station_export, name="export"),
    path("manage/stations/template.<str:fmt>", views.import_template, name="template"),
    path("manage/stations/new/", views.station_create, name="create"),
    path("manage/stations/import/", views.station_import, name="import"),
    path("manage/stations/import/<uuid:job>/", views.import_job, name="import_job"),
    path("manage/stations/bulk-facility/", views.bulk_facility, name="bulk_facility"),
    path("manage/stations/reports/", views.report, name="report"),
    path("manage/stations/reports/export.xlsx", views.report_export, name="report_export"),
    path("manage/stations/waves/", views.wave_list, name="waves"),
    path("manage/stations/waves/new/", views.wave_create, name="wave_create"),
    path("manage/stations/waves/<int:pk>/", views.wave_detail, name="wave_detail"),
    path("manage/stations/waves/<int:pk>/edit/", views.wave_edit, name="wave_edit"),
    path("manage/stations/standards/", views.standard_list, name="standards"),
    path("manage/stations/standards/new/", views.standard_create, name="standard_create"),
    path("manage/stations/standards/<int:pk>/edit/", views.standard_edit, name="standard_edit"),
    path("manage/stations/holidays/", views.holiday_list, name="holidays"),
    path("manage/stations/holidays/import/", views.holiday_import, name="holiday_import"),
    path("manage/stations/holidays/import/<uuid:job>/", views.holiday_import_job, name="holiday_import_job"),
    path("manage/stations/holidays/<int:year>/", views.holiday_year, name="holiday_year"),
    path("manage/stations/<str:code>/", views.station_detail, name="detail"),
    path("manage/stations/<str:code>/edit/", views.station_edit, name="edit"),
    path("manage/stations/<str:code>/facilities/", views.station_facilities, name="facilities"),
    path("manage/stations/<str:code>/hours/", views.station_hours, name="hours"),
    path("manage/stations/<str:code>/close/", views.station_close, name="close"),
    path("manage/stations/<str:code>/reopen/", views.station_reopen, name="reopen"),
    path("manage/stations/<str:code>/verify/", views.station_verify, name="verify"),
]
