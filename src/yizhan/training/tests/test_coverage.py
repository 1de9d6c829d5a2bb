"""Coverage on duty: opening hours × roster × certificates, including a holiday."""

import datetime

import pytest

from yizhan.operations.models import Leave, RosterEntry
from yizhan.orgs.models import Unit
from yizhan.training import coverage as cov
from yizhan.training.models import Certificate

pytestmark = pytest.mark.django_db

MONDAY = datetime.date(2026, 11, 30)
NATIONAL_DAY = datetime.date(2026, 10, 1)


@pytest.fixture
def sub_branch(users):
    """A sub-branch of two outlets under Chongqing: A with a station open Mon–Fri (statutory), B
    with none (counts on working days); nobody on either roster yet."""
    from yizhan.orgs.services import create_unit
    from yizhan.stations.models import Station

    cq = Unit.objects.get(code="CQ")
    sub = create_unit(actor=users["hq_admin"], parent=cq, code="CQ-T", kind="sub_branch", name="测试支行")
    a = create_unit(
        actor=users["hq_admin"], parent=sub, code="CQ-T-A", kind="outlet", name="甲网点", address="重庆市渝中区1号",
        lat=29.56, lng=106.57,
    )  # fmt: skip
    b = create_unit(
        actor=users["hq_admin"], parent=sub, code="CQ-T-B", kind="outlet", name="乙网点", address="重庆市渝中区2号",
        lat=29.57, lng=106.58,
    )  # fmt: skip
    week = {d: [["09:00", "17:00"]] for d in ("mon", "tue", "wed", "thu", "fri")}
    Station.objects.create(
        code="CQ-T-A-S", name="甲驿站", unit=a, address="x", lat=29.56, lng=106.57,
        opening_hours={"weekly": week, "statutory": True},
    )  # fmt: skip
    return sub, a, b


def _certified(outlet, name, *, issued=datetime.date(2025, 1, 1), months_valid=36, **entry):
    from yizhan.training.models import Course

    course = Course.objects.filter(first_responder=True).first()
    person = RosterEntry.objects.create(unit=outlet, name=name, on_from=datetime.date(2024, 1, 1), **entry)
    Certificate.objects.create(
        entry=person, unit=outlet, course=course, name="证书", first_responder=True, issued_on=issued,
        expires_on=issued + datetime.timedelta(days=30 * months_valid),
    )  # fmt: skip
    return person


def test_an_outlet_is_covered_by_a_certified_person_on_duty_during_opening_hours(sub_branch):
    sub, a, b = sub_branch
    person = _certified(a, "王伟")
    fig = cov.coverage(sub, MONDAY)
    assert fig["total"] == {"outlets": 2, "covered": 1, "gaps": 1, "share": 50.0}
    assert [g["code"] for g in fig["gaps"]] == ["CQ-T-B"]
    assert cov.as_raw(fig) == cov.raw_coverage(sub, MONDAY)
    # On leave that day: not on duty, so the outlet is a gap.
    Leave.objects.create(entry=person, starts_on=MONDAY, ends_on=MONDAY)
    assert cov.coverage(sub, MONDAY)["total"]["covered"] == 0
    assert cov.coverage(sub, MONDAY + datetime.timedelta(days=1))["total"]["covered"] == 1


def test_off_the_roster_expired_withdrawn_or_not_first_responder_does_not_cover(sub_branch):
    sub, a, _b = sub_branch
    gone = _certified(a, "李娜")
    gone.on_until = MONDAY - datetime.timedelta(days=1)
    gone.save()
    _certified(a, "张敏", issued=datetime.date(2022, 1, 1), months_valid=12)  # expired
    w = _certified(a, "刘洋")
    Certificate.objects.filter(entry=w).update(
        withdrawn_at=datetime.datetime(2026, 1, 1, tzinfo=datetime.UTC)
    )
    other = _certified(a, "陈静")
    Certificate.objects.filter(entry=other).update(first_responder=False)
    fig = cov.coverage(sub, MONDAY)
    assert fig["total"]["covered"] == 0
    assert cov.as_raw(fig) == cov.raw_coverage(sub, MONDAY)


def test_on_a_public_holiday_a_closed_station_is_not_counted_and_an_open_one_has_nobody_on_duty(sub_branch):
    from yizhan.stations.models import Station

    sub, a, b = sub_branch
    _certified(a, "王伟")
    _certified(b, "李娜")
    fig = cov.coverage(sub, NATIONAL_DAY)
    # A's station follows the statutory calendar: closed on the holiday, not counted; B has no
    # station and the day is no working day: not counted either.
    assert fig["total"]["outlets"] == 0
    # A station open every day, holidays included: open, but nobody is on duty on a holiday.
    Station.objects.filter(unit=a).update(opening_hours={"always_open": True})
    fig = cov.coverage(sub, NATIONAL_DAY)
    assert fig["total"] == {"outlets": 1, "covered": 0, "gaps": 1, "share": 0.0}
    assert cov.as_raw(fig) == cov.raw_coverage(sub, NATIONAL_DAY)


def test_an_outlet_closed_all_day_is_not_counted(sub_branch):
    from yizhan.operations import services as ops
    from yizhan.training.tests.conftest import at

    sub, a, _b = sub_branch
    _certified(a, "王伟")
    ops.schedule_status(
        a, actor=None, state="closed_by_order", starts_at=at(MONDAY, 0), ends_at=at(MONDAY + datetime.timedelta(days=1), 0),
        notice="封控暂停营业", allow_past=True,
    )  # fmt: skip
    fig = cov.coverage(sub, MONDAY)
    assert fig["total"]["outlets"] == 1 and [g["code"] for g in fig["gaps"]] == ["CQ-T-B"]
    assert cov.as_raw(fig) == cov.raw_coverage(sub, MONDAY)


def test_the_demo_shenzhen_figure_matches_a_raw_recomputation_and_ranks_the_gaps():
    sz = Unit.objects.get(code="SZ")
    day = cov.default_day()
    fig = cov.coverage(sz, day)
    assert cov.as_raw(fig) == cov.raw_coverage(sz, day)
    gaps = [r["gaps"] for r in fig["rows"]]
    assert gaps == sorted(gaps, reverse=True)
    shares = cov.staff_shares(sz, day)
    assert shares["staff"] > 0 and 0 < shares["certified"] <= shares["staff"]
