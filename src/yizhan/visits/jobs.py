"""Scheduled work of the visits app."""

from django.utils.translation import gettext_lazy as _

from yizhan.jobs.schedules import Every

SCHEDULES = [
    Every(
        "visits.purge_device_marks",
        "yizhan.visits.services.purge_device_marks",
        _("Forget check-in device marks older than the 30-minute window"),
        at="03:30",
    ),
]
