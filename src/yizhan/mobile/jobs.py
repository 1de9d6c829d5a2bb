"""Scheduled work of mobile stations: visits generated ahead for the horizon, every night."""

from django.utils.translation import gettext_lazy as _

from yizhan.jobs.schedules import Every

SCHEDULES = [
    Every(
        "mobile.generate_visits",
        "yizhan.mobile.services.run_generation",
        _("Generate mobile stations’ visits for the next 60 days"),
        at="02:30",
    ),
]
