"""The queue's own housekeeping, scheduled like every app's work."""

from django.utils.translation import gettext_lazy as _

from yizhan.jobs.schedules import Every

SCHEDULES = [
    Every(
        "jobs.sweep", "yizhan.jobs.services.sweep", _("Retry or fail jobs whose worker stopped"), minutes=1
    ),
    Every("jobs.purge", "yizhan.jobs.services.purge", _("Delete finished jobs after 30 days"), at="04:10"),
]
