from django.urls import path

from yizhan.notify import views

app_name = "notify"
urlpatterns = [
    path("u/<str:token>", views.opt_out, name="opt_out"),
    path("notify/receipts/<str:provider>", views.receipts, name="receipts"),
    path("manage/inbox/", views.inbox, name="inbox"),
    path("manage/inbox/read", views.inbox_read, name="inbox_read"),
    path("manage/outbox/", views.outbox, name="outbox"),
    path("manage/templates/", views.templates, name="templates"),
    path("manage/templates/<slug:key>/", views.template_detail, name="template"),
    path("manage/consents/", views.consents, name="consents"),
    path("manage/consents/<int:pk>/withdraw", views.consent_withdraw, name="consent_withdraw"),
    path("manage/campaigns/", views.campaigns, name="campaigns"),
    path("manage/campaigns/<int:pk>/<str:action>", views.campaign_decide, name="campaign_decide"),
    path("manage/broadcasts/", views.broadcasts, name="broadcasts"),
    path("manage/broadcasts/<int:pk>/<str:action>", views.broadcast_decide, name="broadcast_decide"),
]
