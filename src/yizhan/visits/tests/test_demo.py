"""The demo year shows the patterns the issue asks for (small network, as the tests build it)."""

import datetime

import pytest
from django.db.models import Sum
from django.utils import timezone

from yizhan.visits.models import CheckIn, Feedback, MonthlyRollup

pytestmark = pytest.mark.django_db


def monthly(column: str, month: int, **filters) -> int:
    return MonthlyRollup.objects.filter(month__month=month, **filters).aggregate(n=Sum(column))["n"] or 0


def test_a_year_of_checkins():
    days = CheckIn.objects.dates("day", "day")
    assert days.count() >= 360
    assert CheckIn.objects.count() > 10_000


def test_noon_and_early_morning_peaks():
    hours = MonthlyRollup.objects.aggregate(**{f"h{h:02d}": Sum(f"h{h:02d}") for h in range(24)})
    assert hours["h12"] == max(hours.values())
    assert hours["h07"] > hours["h10"] and hours["h07"] > 3 * hours["h03"]


def test_water_and_cooling_in_summer_warmth_in_winter():
    assert monthly("s_cooling", 7) > 10 * monthly("s_cooling", 1)
    assert monthly("s_warmth", 1) > 10 * monthly("s_warmth", 7)
    share = lambda month: monthly("s_water", month) / monthly("checkins", month)  # noqa: E731
    assert share(7) > share(1) + 0.15


def test_couriers_are_heavy_at_little_bee_stations():
    bee = MonthlyRollup.objects.filter(station__themes__code="little_bee").aggregate(
        c=Sum("c_courier"), n=Sum("checkins")
    )
    rest = MonthlyRollup.objects.exclude(station__themes__code="little_bee").aggregate(
        c=Sum("c_courier"), n=Sum("checkins")
    )
    assert bee["n"] and bee["c"] / bee["n"] > 2 * rest["c"] / rest["n"]


def test_nurses_day_brings_medical_staff_to_chongqing():
    today = timezone.localdate()
    year = today.year if (today.month, today.day) >= (5, 12) else today.year - 1
    nurses_day = datetime.date(year, 5, 12)
    cq = CheckIn.objects.filter(station__code__startswith="CQ-", group="medical_staff")
    on_the_day = cq.filter(day=nurses_day).count()
    typical = (
        cq.filter(
            day__range=(nurses_day - datetime.timedelta(days=14), nurses_day - datetime.timedelta(days=1))
        ).count()
        / 14
    )
    assert on_the_day > 5 * max(typical, 1)


def test_open_reports_one_of_them_overdue():
    assert Feedback.objects.open().count() >= 3
    assert Feedback.objects.overdue().count() == 1
    assert (
        Feedback.objects.filter(status="resolved").exists()
        and Feedback.objects.filter(status="rejected").exists()
    )
