"""Opening hours against China's statutory calendar (the 2026 arrangement from chinesecalendar)."""

import datetime

import pytest
from django.core.exceptions import ValidationError
from django.utils import translation
from hypothesis import given, settings
from hypothesis import strategies as st

from yizhan.stations import hours
from yizhan.stations.hours import SHANGHAI, Calendar, Schedule, add_working_days, next_change, open_at
from yizhan.stations.seeding import chinesecalendar_days, chinesecalendar_years

WORKDAY = [["09:00", "12:00"], ["14:00", "17:30"]]  # a 12:00–14:00 lunch break
BANK = {
    "weekly": {"mon": WORKDAY, "tue": WORKDAY, "wed": WORKDAY, "thu": WORKDAY, "fri": WORKDAY},
    "statutory": True,
}


def at(y, m, d, hh=10, mm=0):
    return datetime.datetime(y, m, d, hh, mm, tzinfo=SHANGHAI)


@pytest.fixture(scope="module")
def cal():
    """The package's arrangement for every year it covers, built without the database."""
    days = {}
    for year in chinesecalendar_years():
        days.update({d: kind == "work" for d, kind, _name in chinesecalendar_days(year)})
    return Calendar(days, chinesecalendar_years())


@pytest.fixture(scope="module")
def bank():
    return Schedule.from_json(hours.clean_schedule(BANK))


def test_national_day_is_a_holiday_closed_until_the_next_workday(cal, bank):
    assert cal.kind(datetime.date(2026, 10, 1)) == "off"
    assert not open_at(bank, at(2026, 10, 1, 10), cal)
    # 1–7 October are off (the weekend inside too); Thursday 8 October opens as usual.
    assert next_change(bank, at(2026, 10, 1, 10), cal) == at(2026, 10, 8, 9, 0)


def test_make_up_saturday_opens_with_workday_hours(cal, bank):
    saturday = datetime.date(2026, 10, 10)
    assert saturday.weekday() == 5 and cal.kind(saturday) == "work"
    assert open_at(bank, at(2026, 10, 10, 10), cal)
    assert next_change(bank, at(2026, 10, 10, 10), cal) == at(2026, 10, 10, 12, 0)
    assert not open_at(bank, at(2026, 10, 10, 13), cal)
    assert open_at(bank, at(2026, 10, 10, 15), cal)
    # An ordinary Saturday a week later stays closed.
    assert not open_at(bank, at(2026, 10, 17, 10), cal)


def test_ordinary_monday(cal, bank):
    monday = datetime.date(2026, 9, 28)
    assert monday.weekday() == 0 and cal.kind(monday) is None
    assert not open_at(bank, at(2026, 9, 28, 8, 59), cal)
    assert next_change(bank, at(2026, 9, 28, 8, 59), cal) == at(2026, 9, 28, 9, 0)
    assert open_at(bank, at(2026, 9, 28, 9, 0), cal)
    assert open_at(bank, at(2026, 9, 28, 17, 29), cal)
    assert not open_at(bank, at(2026, 9, 28, 17, 30), cal)


def test_lunch_break(cal, bank):
    assert open_at(bank, at(2026, 9, 28, 11, 59), cal)
    assert not open_at(bank, at(2026, 9, 28, 12, 0), cal)
    assert not open_at(bank, at(2026, 9, 28, 13, 59), cal)
    assert next_change(bank, at(2026, 9, 28, 12, 30), cal) == at(2026, 9, 28, 14, 0)
    assert next_change(bank, at(2026, 9, 28, 15, 0), cal) == at(2026, 9, 28, 17, 30)
    # Friday evening: next opening is Monday morning …
    assert next_change(bank, at(2026, 9, 11, 18, 0), cal) == at(2026, 9, 14, 9, 0)
    # … unless the Sunday is a make-up workday (20 September 2026, before National Day).
    assert next_change(bank, at(2026, 9, 18, 18, 0), cal) == at(2026, 9, 20, 9, 0)


def test_year_missing_from_the_calendar_falls_back_to_the_weekly_hours(cal, bank):
    assert not cal.covers(2027)
    national_day_2027 = datetime.date(2027, 10, 1)  # a Friday: open by the weekly hours
    assert open_at(bank, at(2027, 10, 1, 10), cal)
    assert hours.calendar_missing(bank, national_day_2027, cal)
    assert not hours.calendar_missing(bank, datetime.date(2026, 10, 1), cal)
    assert hours.missing_calendar_years(datetime.date(2027, 3, 1), cal) == [2027]
    assert hours.missing_calendar_years(datetime.date(2026, 11, 1), cal) == [2027]
    assert hours.missing_calendar_years(datetime.date(2026, 3, 1), cal) == []


def test_a_station_that_ignores_the_calendar_opens_on_holidays(cal):
    schedule = Schedule.from_json({**BANK, "statutory": False})
    assert open_at(schedule, at(2026, 10, 1, 10), cal)
    assert not open_at(schedule, at(2026, 10, 10, 10), cal)


def test_date_exceptions_override_everything(cal):
    data = hours.clean_schedule(
        {
            **BANK,
            "exceptions": [
                {"date": "2026-09-29", "closed": True, "reason": "停电检修"},
                {"date": "2026-10-02", "intervals": [["10:00", "15:00"]], "reason": "国庆值班"},
            ],
        }
    )
    schedule = Schedule.from_json(data)
    assert not open_at(schedule, at(2026, 9, 29, 10), cal)
    assert open_at(schedule, at(2026, 10, 2, 11), cal)
    assert next_change(schedule, at(2026, 10, 2, 11), cal) == at(2026, 10, 2, 15, 0)
    assert next_change(schedule, at(2026, 9, 28, 18), cal) == at(2026, 9, 30, 9, 0)


def test_always_open_and_closed_never_change(cal):
    always = Schedule.from_json({"always_open": True, "statutory": True})
    assert open_at(always, at(2026, 10, 1, 3), cal)
    assert next_change(always, at(2026, 10, 1, 3), cal) is None
    closed = Schedule.from_station(BANK, "closed", None)
    assert not open_at(closed, at(2026, 9, 28, 10), cal)
    assert next_change(closed, at(2026, 9, 28, 10), cal) is None
    unknown = Schedule.from_json({})
    assert not unknown.known and next_change(unknown, at(2026, 9, 28, 10), cal) is None


def test_temporarily_closed_until_a_date(cal):
    schedule = Schedule.from_station(BANK, "temporarily_closed", datetime.date(2026, 9, 30))
    assert not open_at(schedule, at(2026, 9, 28, 10), cal)
    assert next_change(schedule, at(2026, 9, 28, 10), cal) == at(2026, 9, 30, 9, 0)


def test_open_across_midnight_changes_only_when_it_closes(cal):
    all_day = [["00:00", "24:00"]]
    schedule = Schedule.from_json(
        {"weekly": dict.fromkeys(("mon", "tue", "wed", "thu", "fri", "sat"), all_day), "statutory": False}
    )
    assert next_change(schedule, at(2026, 9, 28, 23, 0), cal) == at(2026, 10, 4, 0, 0)
    assert next_change(schedule, at(2026, 10, 4, 12, 0), cal) == at(2026, 10, 5, 0, 0)


def test_naive_datetimes_are_refused(cal, bank):
    with pytest.raises(ValueError):
        open_at(bank, datetime.datetime(2026, 9, 28, 10), cal)


def test_working_days(cal):
    assert cal.is_workday(datetime.date(2026, 10, 10))  # make-up Saturday
    assert cal.is_workday(datetime.date(2026, 9, 20))  # make-up Sunday
    assert not cal.is_workday(datetime.date(2026, 10, 1))
    assert not cal.is_workday(datetime.date(2026, 10, 3))
    assert cal.is_workday(datetime.date(2026, 9, 28))
    wednesday = datetime.date(2026, 9, 30)
    assert add_working_days(wednesday, 0, cal) == wednesday
    assert add_working_days(wednesday, 1, cal) == datetime.date(2026, 10, 8)
    assert add_working_days(wednesday, 3, cal) == datetime.date(2026, 10, 10)
    assert add_working_days(datetime.date(2026, 10, 8), -1, cal) == wednesday
    # A year missing from the calendar: Monday to Friday.
    assert add_working_days(datetime.date(2027, 9, 30), 1, cal) == datetime.date(2027, 10, 1)


@pytest.mark.parametrize(
    ("data", "field", "words"),
    [
        ({"weekly": {"mon": [["13:00", "12:00"]]}}, "opening_hours.mon", "ends before it starts"),
        ({"weekly": {"tue": [["09:00", "12:00"], ["11:00", "17:00"]]}}, "opening_hours.tue", "overlap"),
        ({"weekly": {"wed": [["9h", "12:00"]]}}, "opening_hours.wed", "HH:MM"),
        ({"weekly": {"thu": [["24:00", "24:00"]]}}, "opening_hours.thu", "HH:MM"),
        ({"weekly": {"funday": []}}, "opening_hours.weekly", "Unknown day"),
        (
            {"exceptions": [{"date": "2026-02-30", "closed": True}]},
            "opening_hours.exceptions[1].date",
            "valid date",
        ),
        (
            {"exceptions": [{"date": "2026-10-02", "closed": True}, {"date": "2026-10-02", "closed": True}]},
            "opening_hours.exceptions[2].date",
            "twice",
        ),
        ({"exceptions": [{"date": "2026-10-02"}]}, "opening_hours.exceptions[1].intervals", "closed"),
        ({"colour": "red"}, "opening_hours", "Unknown key"),
    ],
)
def test_bad_schedules_name_the_field(data, field, words):
    with translation.override("en"), pytest.raises(ValidationError) as info:
        hours.clean_schedule(data)
    assert field in info.value.message_dict
    assert words in info.value.message_dict[field][0]


def test_clean_schedule_normalises():
    clean = hours.clean_schedule({"weekly": {"mon": [["14:00", "17:00"], ["9:00", "12:00"]]}, "statutory": 1})
    assert clean["weekly"]["mon"] == [["09:00", "12:00"], ["14:00", "17:00"]]
    assert clean["weekly"]["sun"] == [] and clean["statutory"] is True


minutes = st.integers(min_value=0, max_value=48)  # half-hour steps


@st.composite
def day_intervals(draw):
    cuts = sorted(draw(st.sets(minutes, max_size=6)))
    pairs = list(zip(cuts[::2], cuts[1::2], strict=False))
    return [[hours.format_time(a * 30), hours.format_time(b * 30)] for a, b in pairs if b > a]


@settings(max_examples=60, deadline=None)
@given(
    weekly=st.lists(day_intervals(), min_size=7, max_size=7),
    statutory=st.booleans(),
    start=st.datetimes(min_value=datetime.datetime(2026, 9, 1), max_value=datetime.datetime(2027, 1, 31)),
)
def test_next_change_is_the_first_minute_the_state_flips(cal, weekly, statutory, start):
    data = hours.clean_schedule(
        {"weekly": dict(zip(hours.DAY_KEYS, weekly, strict=True)), "statutory": statutory}
    )
    schedule = Schedule.from_json(data)
    t = start.replace(tzinfo=SHANGHAI, second=0, microsecond=0)
    change = next_change(schedule, t, cal)
    state = open_at(schedule, t, cal)
    if change is None:
        probe = [t + datetime.timedelta(hours=h) for h in range(0, 24 * 21, 7)]
        assert all(open_at(schedule, p, cal) == state for p in probe)
        return
    assert change > t
    assert open_at(schedule, change, cal) != state
    assert open_at(schedule, change - datetime.timedelta(minutes=1), cal) == state
    # No flip in between, probed every half hour (intervals sit on half hours).
    probe = t
    while probe < change - datetime.timedelta(minutes=1):
        assert open_at(schedule, probe, cal) == state
        probe += datetime.timedelta(minutes=30)


@pytest.mark.parametrize(
    ("text", "weekly"),
    [
        ("周一至周五 09:00-12:00,14:00-17:30；周六 09:30-16:00", {"mon": WORKDAY, "fri": WORKDAY, "sat": [["09:30", "16:00"]], "sun": []}),
        ("mon-fri 09:00-17:00; sat closed", {"mon": [["09:00", "17:00"]], "sat": [], "sun": []}),
        ("工作日 9:00-17:00；周末 10:00-15:00", {"thu": [["09:00", "17:00"]], "sun": [["10:00", "15:00"]]}),
        ("每天 08:00-20:00", {"mon": [["08:00", "20:00"]], "sun": [["08:00", "20:00"]]}),
    ],
)  # fmt: skip
def test_hours_text(text, weekly):
    clean = hours.clean_schedule(hours.parse_hours_text(text))
    for day, intervals in weekly.items():
        assert clean["weekly"][day] == intervals
    assert hours.clean_schedule(hours.parse_hours_text(hours.format_hours_text(clean))) == clean


def test_hours_text_always_and_errors():
    assert hours.parse_hours_text("24小时")["always_open"] is True
    assert hours.format_hours_text({"always_open": True}) == "24小时"
    with translation.override("en"):
        for bad in ("whenever", "周八 09:00-10:00", "周五至周一 09:00-10:00"):
            with pytest.raises(ValidationError) as info:
                hours.parse_hours_text(bad)
            assert "opening_hours" in info.value.message_dict
