"""Feedback deadline escalation (a declared daily schedule): overdue feedback goes once to the
responsible manager, and once more to the admins above when it stays overdue; working days count."""

import datetime

import pytest

from yizhan.notify.models import Message
from yizhan.visits import jobs, services
from yizhan.visits.models import Feedback

pytestmark = pytest.mark.django_db
SH = datetime.timezone(datetime.timedelta(hours=8))
D = datetime.date.fromisoformat


def received(station, day: str, **data):
    now = datetime.datetime.combine(D(day), datetime.time(10), tzinfo=SH)
    return services.submit_feedback(station, kind="facility_broken", text="饮水机坏了", now=now, **data)


def recipients(feedback, occasion):
    return sorted(
        Message.objects.filter(dedup_key__contains=f":fb-{occasion}-{feedback.pk}:").values_list(
            "user__username", flat=True
        )
    )


def test_overdue_goes_to_the_manager_then_to_the_admin_above_each_once(station):
    item = received(station("CQ-SXGC"), "2025-11-12")  # a Wednesday: due Friday the 14th
    assert item.due_on == D("2025-11-14")
    jobs.chase_overdue_feedback(D("2025-11-14"))
    assert recipients(item, "overdue") == []
    jobs.chase_overdue_feedback(D("2025-11-15"))  # Saturday: late only over the weekend
    assert recipients(item, "overdue") == []
    jobs.chase_overdue_feedback(D("2025-11-17"))
    assert recipients(item, "overdue") == ["sanxia_manager"]
    message = Message.objects.get(dedup_key__contains=f":fb-overdue-{item.pk}:")
    assert message.text == f"{item.station.name}的问题反馈已逾期 1 天，请尽快处理。"
    assert message.unit == item.station.unit  # scoped in the outbox with the station
    jobs.chase_overdue_feedback(D("2025-11-17"))  # a retried run
    jobs.chase_overdue_feedback(D("2025-11-18"))
    assert recipients(item, "overdue") == ["sanxia_manager"]
    assert recipients(item, "escalated") == ["cq_admin"]
    jobs.chase_overdue_feedback(D("2025-11-19"))
    jobs.chase_overdue_feedback(D("2025-11-20"))
    assert Message.objects.filter(dedup_key__contains=f"-{item.pk}:").count() == 2


def test_a_holiday_does_not_count_and_handled_feedback_is_not_chased(station, users):
    item = received(station("CQ-SXGC"), "2025-09-30")  # the National Day holiday follows
    jobs.chase_overdue_feedback(item.due_on + datetime.timedelta(days=1))
    assert len(recipients(item, "overdue")) == 1
    done = received(station("CQ-SXGC"), "2025-11-12")
    services.acknowledge_feedback(done, actor=users["sanxia_manager"])
    services.resolve_feedback(Feedback.objects.get(pk=done.pk), actor=users["sanxia_manager"], note="已修好")
    jobs.chase_overdue_feedback(D("2025-11-20"))
    assert recipients(done, "overdue") == recipients(done, "escalated") == []


def test_without_a_manager_the_nearest_admins_are_told(station):
    from yizhan.stations.models import Station

    shenzhen = Station.objects.filter(unit__code__startswith="SZ").select_related("unit").first()
    item = received(shenzhen, "2025-11-12")
    jobs.chase_overdue_feedback(D("2025-11-17"))
    assert recipients(item, "overdue") == ["hq_admin"]  # Shenzhen has a viewer only
    jobs.chase_overdue_feedback(D("2025-11-25"))
    assert recipients(item, "escalated") == []  # nobody further up: told once


def test_the_schedule_is_declared():
    from yizhan.jobs.schedules import declared

    spec = next(s for s in declared() if s.name == "visits.chase_overdue_feedback")
    assert spec.at == "09:00" and spec.func == "yizhan.visits.jobs.chase_overdue_feedback"
