"""Recurrences against the statutory calendar (seeded from chinesecalendar): National Day and
Spring Festival 2026, holidays skipped or moved to the next workday, make-up workdays (调休)
counted as workdays."""

import datetime

import pytest
from django.core.exceptions import ValidationError

from yizhan.mobile import recurrence
from yizhan.stations.hours import current_calendar

pytestmark = pytest.mark.django_db
D = datetime.date


def dates(rule, first, last, on_holiday="skip", valid_from=None, valid_to=None):
    parsed = recurrence.parse(rule, valid_from or first)
    pairs = recurrence.visit_dates(
        parsed, first, last, current_calendar(), on_holiday=on_holiday, valid_to=valid_to
    )
    return [visit for _planned, visit in pairs], pairs


def test_national_day_a_tuesday_visit_is_skipped_or_moved_to_the_next_workday():
    # 2026-10-01..07 are public holidays; Tuesday 6 October is one of them.
    skipped, _pairs = dates("FREQ=WEEKLY;BYDAY=TU", D(2026, 9, 28), D(2026, 10, 16))
    assert skipped == [D(2026, 9, 29), D(2026, 10, 13)]
    moved, pairs = dates("FREQ=WEEKLY;BYDAY=TU", D(2026, 9, 28), D(2026, 10, 16), on_holiday="next_workday")
    assert moved == [D(2026, 9, 29), D(2026, 10, 8), D(2026, 10, 13)]
    assert (D(2026, 10, 6), D(2026, 10, 8)) in pairs  # the planned date is kept beside the moved one


def test_a_wednesday_on_national_day_moves_to_thursday_the_eighth():
    moved, _ = dates("FREQ=WEEKLY;BYDAY=WE", D(2026, 9, 28), D(2026, 10, 16), on_holiday="next_workday")
    assert moved == [D(2026, 9, 30), D(2026, 10, 8), D(2026, 10, 14)]


def test_make_up_workdays_count_as_workdays():
    # A workday rule (Monday to Friday) also visits on the make-up Sunday 20 September and
    # Saturday 10 October, and never during the holiday week (nor on Mid-Autumn, 25 September).
    got, _ = dates("FREQ=WEEKLY;BYDAY=MO,TU,WE,TH,FR", D(2026, 9, 18), D(2026, 10, 12))
    assert D(2026, 9, 20) in got and D(2026, 10, 10) in got
    assert not [d for d in got if D(2026, 10, 1) <= d <= D(2026, 10, 7)]
    assert D(2026, 9, 25) not in got
    assert D(2026, 9, 19) not in got and D(2026, 10, 11) not in got  # ordinary weekend days


def test_spring_festival_moves_and_make_up_saturdays():
    # 2026-02-15..23 off; Saturdays 14 and 28 February are make-up workdays.
    friday, pairs = dates("FREQ=WEEKLY;BYDAY=FR", D(2026, 2, 9), D(2026, 3, 6), on_holiday="next_workday")
    assert friday == [D(2026, 2, 13), D(2026, 2, 24), D(2026, 2, 27), D(2026, 3, 6)]
    assert (D(2026, 2, 20), D(2026, 2, 24)) in pairs
    # Tuesday 17 February moves to Tuesday 24, which is a visit day anyway: one visit, not two.
    tuesday, _ = dates("FREQ=WEEKLY;BYDAY=TU", D(2026, 2, 9), D(2026, 3, 6), on_holiday="next_workday")
    assert tuesday == [D(2026, 2, 10), D(2026, 2, 24), D(2026, 3, 3)]
    workdays, _ = dates("FREQ=DAILY;BYDAY=MO,TU,WE,TH,FR", D(2026, 2, 9), D(2026, 3, 1))
    assert D(2026, 2, 14) in workdays and D(2026, 2, 28) in workdays
    assert not [d for d in workdays if D(2026, 2, 15) <= d <= D(2026, 2, 23)]


def test_every_other_friday_and_the_first_monday_of_the_month():
    fortnight, _ = dates(
        "FREQ=WEEKLY;INTERVAL=2;BYDAY=FR", D(2026, 11, 1), D(2026, 12, 31), valid_from=D(2026, 11, 6)
    )
    assert fortnight == [D(2026, 11, 6), D(2026, 11, 20), D(2026, 12, 4), D(2026, 12, 18)]
    monday, _ = dates("RRULE:FREQ=MONTHLY;BYDAY=1MO", D(2026, 11, 1), D(2027, 1, 31))
    assert monday == [D(2026, 11, 2), D(2026, 12, 7), D(2027, 1, 4)]


def test_the_validity_period_bounds_a_move():
    # Moved past its last valid day: dropped.
    got, _ = dates(
        "FREQ=WEEKLY;BYDAY=WE",
        D(2026, 9, 28),
        D(2026, 10, 16),
        on_holiday="next_workday",
        valid_to=D(2026, 10, 7),
    )
    assert got == [D(2026, 9, 30)]


@pytest.mark.parametrize(
    "text",
    [
        "",
        "weekly on tuesday",
        "FREQ=FORTNIGHTLY",
        "FREQ=HOURLY",
        "FREQ=MINUTELY;INTERVAL=5",
        "DTSTART:20260101T000000\nRRULE:FREQ=DAILY",
        "FREQ=WEEKLY;BYDAY=XX",
    ],
)
def test_an_unreadable_or_too_frequent_rule_is_refused_on_rrule(text):
    with pytest.raises(ValidationError) as caught:
        recurrence.parse(text, D(2026, 1, 1))
    assert list(caught.value.message_dict) == ["rrule"]
