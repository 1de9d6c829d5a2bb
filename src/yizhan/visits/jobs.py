"""Scheduled work of the visits app: forgetting device marks, and chasing overdue feedback."""

import datetime

from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from yizhan.jobs.schedules import Every

# Working days past its due date after which overdue feedback goes to the admins above.
ESCALATE_AFTER = 2

SCHEDULES = [
    Every(
        "visits.purge_device_marks",
        "yizhan.visits.services.purge_device_marks",
        _("Forget check-in device marks older than the 30-minute window"),
        at="03:30",
    ),
    Every(
        "visits.chase_overdue_feedback",
        "yizhan.visits.jobs.chase_overdue_feedback",
        _("Tell the managers about overdue feedback, and their admins when it stays overdue"),
        at="09:00",
    ),
]


def working_days_late(due_on: datetime.date, today: datetime.date, calendar) -> int:
    from yizhan.stations import hours

    days, day = 0, due_on
    while day < today:
        day += datetime.timedelta(days=1)
        days += hours.is_workday(day, calendar)
    return days


def chase_overdue_feedback(today: datetime.date | None = None) -> dict:
    """Every open feedback past its due date (in working days, `stations.hours`) is sent once to
    the responsible managers (the nearest unit at or above its station's with a manager) with the
    `feedback-overdue` template; once it is ESCALATE_AFTER working days late, once more to the
    nearest admins at or above those managers' unit. Each occasion has its key (fb-overdue-<id>,
    fb-escalated-<id>), so a daily run, or a retried one, sends nobody anything twice."""
    from yizhan.notify import services as notify
    from yizhan.stations import hours
    from yizhan.visits.models import Feedback

    today = today or timezone.localdate()
    calendar = hours.current_calendar()
    found = _Nearest()
    sent = {"overdue": 0, "escalated": 0}
    for feedback in Feedback.objects.overdue(today).select_related("station__unit").order_by("pk"):
        late = working_days_late(feedback.due_on, today, calendar)
        if late < 1:
            continue  # past its date only over a weekend or a holiday
        unit = feedback.station.unit
        managers_unit, managers = found.members(unit, "manager")
        context = {"station": feedback.station.name, "days": late}
        if managers:
            sent["overdue"] += notify.notify(notify.staff(managers, unit=unit), "feedback-overdue", context,
                                             key=f"fb-overdue-{feedback.pk}").queued  # fmt: skip
        if late >= ESCALATE_AFTER or not managers:
            _admins_unit, admins = found.members(managers_unit or unit, "admin")
            key = f"fb-escalated-{feedback.pk}" if managers else f"fb-overdue-{feedback.pk}"
            summary = notify.notify(notify.staff(admins, unit=unit), "feedback-overdue", context, key=key)
            sent["escalated" if managers else "overdue"] += summary.queued
    return sent


class _Nearest:
    """The members of a role at the nearest unit at or above a unit that has any (cached per run)."""

    def __init__(self):
        self.cache = {}

    def members(self, unit, role):
        from django.contrib.auth import get_user_model

        from yizhan.orgs.models import Membership

        if (unit.pk, role) not in self.cache:
            ids = unit.ancestor_ids()  # the root first, the unit itself last
            rows = Membership.objects.filter(unit_id__in=ids, role=role, user__is_active=True).values_list(
                "unit_id", "user_id"
            )
            by_unit = {}
            for unit_id, user_id in rows:
                by_unit.setdefault(unit_id, []).append(user_id)
            nearest = next((pk for pk in reversed(ids) if pk in by_unit), None)
            users = list(get_user_model().objects.filter(pk__in=by_unit.get(nearest, [])).order_by("pk"))
            self.cache[(unit.pk, role)] = (_unit(nearest), users)
        return self.cache[(unit.pk, role)]


def _unit(pk):
    from yizhan.orgs.models import Unit

    return Unit.objects.get(pk=pk) if pk else None
