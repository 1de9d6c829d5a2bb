"""Scheduled work of the events app."""

from django.utils.translation import gettext_lazy as _

from yizhan.jobs.schedules import Every

SCHEDULES = [
    Every(
        "events.expire_offers",
        "yizhan.events.services.expire_offers",
        _("Expire waiting-list offers not taken in time and offer the places to the next in line"),
        minutes=5,
    ),
    Every(
        "events.send_reminders",
        "yizhan.events.services.send_reminders",
        _("Remind those signed up for an event starting within a day"),
        minutes=60,
    ),
]
