"""Scheduled work of outlet operations: the day's health-report rollups and the reminders."""

import os

from django.utils.translation import gettext_lazy as _

from yizhan.jobs.schedules import Every

# Beijing times; the reminders go once per day and person (or desk) whatever the schedule.
REMIND_AT = os.environ.get("YIZHAN_HEALTH_REMIND_AT", "09:30")
REMIND_DESK_AT = os.environ.get("YIZHAN_HEALTH_REMIND_DESK_AT", "10:30")

SCHEDULES = [
    Every(
        "operations.rectifications_escalate",
        "yizhan.operations.rectifications.escalate_overdue",
        _("Escalate overdue rectifications up the tree"),
        at="08:00",
    ),
    Every(
        "operations.health_open_day",
        "yizhan.operations.health.open_today",
        _("Write the day's health-report completeness for every unit"),
        at="00:05",
    ),
    Every(
        "operations.health_remind",
        "yizhan.operations.health.chase_people",
        _("Remind the staff whose daily health report is missing"),
        at=REMIND_AT,
    ),
    Every(
        "operations.health_remind_desk",
        "yizhan.operations.health.chase_desks",
        _("Tell each health-report desk how many reports are missing"),
        at=REMIND_DESK_AT,
    ),
]
