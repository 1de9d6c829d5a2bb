from django.urls import path

from yizhan.events import views

app_name = "events"
urlpatterns = [
    # Public, no login.
    path("events/", views.event_list, name="list"),
    path("events/<int:pk>/", views.event_page, name="event"),
    path("events/o/<int:pk>/signup", views.signup, name="signup"),
    path("events/t/<str:token>", views.ticket, name="ticket"),
    path("events/t/<str:token>/<str:action>", views.ticket_action, name="ticket_action"),
    # Back office.
    path("manage/events/", views.manage_list, name="manage_list"),
    path("manage/events/new/", views.manage_new, name="manage_new"),
    path("manage/events/summary.xlsx", views.summary_export, name="summary_export"),
    path("manage/events/<int:pk>/", views.manage_event, name="manage_event"),
    path("manage/events/<int:pk>/edit/", views.manage_edit, name="manage_edit"),
    path("manage/events/<int:pk>/occurrences/", views.occurrences_add, name="occurrences_add"),
    path("manage/events/<int:pk>/export.xlsx", views.event_export, name="export"),
    path("manage/events/<int:pk>/photos/<int:photo>.jpg", views.event_photo, name="photo"),
    path("manage/events/<int:pk>/photos/<int:photo>/remove/", views.event_photo_remove, name="photo_remove"),
    path("manage/events/<int:pk>/<str:action>/", views.event_action, name="event_action"),
    path("manage/events/occurrences/<int:pk>/", views.manage_occurrence, name="manage_occurrence"),
    path(
        "manage/events/occurrences/<int:pk>/<str:action>/", views.occurrence_action, name="occurrence_action"
    ),
    path("manage/events/participants/<int:pk>/cancel/", views.participant_cancel, name="participant_cancel"),
    path("manage/events/campaigns/", views.campaign_list, name="campaigns"),
    path("manage/events/campaigns/new/", views.campaign_new, name="campaign_new"),
    path("manage/events/campaigns/<int:pk>/", views.campaign_detail, name="campaign"),
    path("manage/events/campaigns/<int:pk>/edit/", views.campaign_edit, name="campaign_edit"),
    path("manage/events/campaigns/<int:pk>/<str:action>/", views.campaign_action, name="campaign_action"),
    path("manage/events/offers/", views.offer_list, name="offers"),
    path("manage/events/offers/new/", views.offer_edit, name="offer_new"),
    path("manage/events/offers/<int:pk>/", views.offer_edit, name="offer"),
]
