"""Scheduled work of service cases: overdue cases escalate up the org tree.

`ESCALATION` is the declared schedule: (working days overdue, how many levels above the case's
unit to tell). Level 0 is the case's own unit; when a unit has no manager or admin, the next one
up is told instead. Each occasion is sent once: its notify key names the case and the level, so a
daily run (or a retried one) never tells anyone twice.
"""

import datetime

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from yizhan.jobs.schedules import Every

ESCALATION = [
    (1, 0),  # one working day late: the case's own unit (its managers and admins)
    (3, 1),  # three: the unit above
    (5, 2),  # a working week: two levels up (a city or provincial branch)
]
TEMPLATE = "case-overdue"


def working_days_late(due_on: datetime.date, today: datetime.date, calendar) -> int:
    """Working days after `due_on` up to and including `today` (capped: beyond a quarter it no
    longer changes whom to tell)."""
    days, day = 0, due_on
    while day < today and days < 60:
        day += datetime.timedelta(days=1)
        days += calendar.is_workday(day)
    return days


def _recipients(unit, levels_up: int):
    """The managers and admins `levels_up` above `unit` (or the nearest unit above with any)."""
    from yizhan.notify.services import Recipient
    from yizhan.orgs.models import Membership

    chain = [*unit.ancestors(), unit][::-1]  # the unit first, the root last
    for target in chain[min(levels_up, len(chain) - 1) :]:
        members = list(
            Membership.objects.filter(unit=target, role__in=["manager", "admin"]).select_related("user")
        )
        if members:
            return target, [Recipient(unit_id=target.pk, user=m.user) for m in members]
    return None, []


def escalate_overdue(today: datetime.date | None = None) -> int:
    """Tell the people the schedule names about every overdue open case; returns messages queued."""
    from yizhan.audit.services import audit_via, record
    from yizhan.cases.models import Case
    from yizhan.notify.services import notify
    from yizhan.stations.hours import current_calendar

    today = today or timezone.localdate()
    calendar = current_calendar()
    sent = 0
    for case in Case.objects.overdue(today).select_related("unit").order_by("pk").iterator():
        late = working_days_late(case.due_on, today, calendar)
        for level, (days, levels_up) in enumerate(ESCALATION, start=1):
            if late < days:
                break
            target, recipients = _recipients(case.unit, levels_up)
            if not recipients:
                continue
            with audit_via("system"), transaction.atomic():
                summary = notify(
                    recipients,
                    TEMPLATE,
                    {"case": case.title, "unit": case.unit.name, "days": late},
                    key=f"case-{case.pk}-overdue-{level}",
                )
                fresh = summary.queued + summary.held
                if fresh:
                    record(
                        "case.escalated",
                        case,
                        actor=None,
                        unit=case.unit,
                        changes={"level": [None, level], "notified": [None, target.name]},
                    )
            sent += fresh
    return sent


SCHEDULES = [
    Every(
        "cases.escalate_overdue",
        "yizhan.cases.jobs.escalate_overdue",
        _("Escalate overdue service cases up the org tree"),
        at="09:00",
    ),
]
