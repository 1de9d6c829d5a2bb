"""Overdue cases escalate up the tree on the declared schedule, each occasion once."""

import datetime

import pytest

from yizhan.audit.models import AuditEvent
from yizhan.cases import jobs
from yizhan.cases.tests.conftest import at
from yizhan.notify.models import Message
from yizhan.stations.hours import current_calendar

pytestmark = pytest.mark.django_db


def test_working_days_late_skips_the_holiday():
    cal = current_calendar()
    # Due Wednesday 30 September 2026; 1–7 October off, so 8 October is the first day late.
    assert jobs.working_days_late(datetime.date(2026, 9, 30), datetime.date(2026, 10, 7), cal) == 0
    assert jobs.working_days_late(datetime.date(2026, 9, 30), datetime.date(2026, 10, 8), cal) == 1
    assert (
        jobs.working_days_late(datetime.date(2026, 9, 30), datetime.date(2026, 10, 12), cal) == 4
    )  # Sat 10th counts


def test_the_schedule_is_declared():
    assert [s.name for s in jobs.SCHEDULES] == ["cases.escalate_overdue"]
    assert [days for days, _up in jobs.ESCALATION] == sorted(days for days, _up in jobs.ESCALATION)


def test_an_overdue_case_escalates_level_by_level_and_each_occasion_once(new_case, users, unit):
    case = new_case("CQ-SXGC", case_type="fraud", opened_at=at("2026-09-28"))  # due Thursday 1 October → 8th
    due = case.due_on
    mine = Message.objects.filter(dedup_key__contains=f"case-{case.pk}-overdue")

    def recipients():
        return set(mine.values_list("user__username", flat=True))

    jobs.escalate_overdue(today=due)
    assert not mine.exists()  # due today: not late
    day1 = next(
        d
        for d in (due + datetime.timedelta(days=i) for i in range(1, 10))
        if current_calendar().is_workday(d)
    )
    jobs.escalate_overdue(today=day1)
    assert recipients() == {"sanxia_manager"}  # level 0: the outlet's own manager
    jobs.escalate_overdue(today=day1)
    assert mine.count() == 1  # sent once
    later = day1 + datetime.timedelta(days=14)
    jobs.escalate_overdue(today=later)
    # Levels 1 and 2: nobody at the sub-branch above, so the nearest unit with staff (Chongqing).
    assert recipients() == {"sanxia_manager", "cq_admin"}
    assert AuditEvent.objects.filter(object_id=str(case.pk), action="case.escalated").count() >= 2
    sent = mine.count()
    jobs.escalate_overdue(today=later)
    assert mine.count() == sent


def test_a_closed_case_never_escalates(new_case, users):
    from yizhan.cases import services

    case = new_case("CQ-SXGC", case_type="complaint", opened_at=at("2026-09-01"))
    services.close_case(case, actor=users["hq_admin"], outcome="withdrawn", summary="撤回")
    jobs.escalate_overdue(today=datetime.date(2026, 11, 30))
    assert not Message.objects.filter(dedup_key__contains=f"case-{case.pk}-overdue").exists()
