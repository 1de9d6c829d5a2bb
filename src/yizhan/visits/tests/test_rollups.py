"""The rollups stay equal to a recount of the raw check-ins and tallies through check-ins, tallies
and deletions; statistics read from them agree with raw counts."""

import datetime
import io
from collections import Counter

import pytest
from django.db import transaction
from django.utils import timezone
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from yizhan.visits import rollups, services, stats
from yizhan.visits.models import (
    DAILY_COLUMNS,
    MONTHLY_COLUMNS,
    CheckIn,
    DailyRollup,
    MonthlyRollup,
    Service,
    Tally,
    mask_to_services,
)

pytestmark = pytest.mark.django_db
SH = datetime.timezone(datetime.timedelta(hours=8))


def snapshot(station_ids=None) -> dict:
    """Every non-zero rollup figure, keyed by (grain, station, period, column)."""
    out = {}
    for model, period, columns in (
        (DailyRollup, "day", DAILY_COLUMNS),
        (MonthlyRollup, "month", MONTHLY_COLUMNS),
    ):
        qs = model.objects.all()
        if station_ids is not None:
            qs = qs.filter(station_id__in=station_ids)
        for row in qs.values("station_id", period, *columns):
            for c in columns:
                if row[c]:
                    out[(period, row["station_id"], row[period], c)] = row[c]
    return out


def recount(station_ids) -> dict:
    with transaction.atomic():
        rollups.rebuild(station_ids)
        recounted = snapshot(station_ids)
        transaction.set_rollback(True)
    return recounted


def test_checkins_tallies_and_deletions_keep_rollups_equal_to_a_recount(station, users):
    s = station("CQ-SXGC")
    actor = users["sanxia_manager"]
    # Before the demo year, across a month boundary, in local time: 31 March 23:50 and 1 April 00:10 in Shanghai.
    times = [
        datetime.datetime(2024, 3, 31, 23, 50, tzinfo=SH),
        datetime.datetime(2024, 4, 1, 0, 10, tzinfo=SH),
        datetime.datetime(2024, 4, 1, 12, 5, tzinfo=SH),
    ]
    made = [
        services.record_checkin(s, group="courier", services=["water", "charging"], now=times[0]).checkin,
        services.record_checkin(s, group="", services=[], now=times[1]).checkin,
        services.record_checkin(s, group="elderly", services=["warmth"], now=times[2]).checkin,
        services.record_checkin(s, group="elderly", services=["rest"], now=times[2]).checkin,
    ]
    today = timezone.localdate()
    services.set_tally(s, actor=actor, day=today, group="elderly", count=7)
    services.set_tally(s, actor=actor, day=today, group="elderly", count=5)  # replaces, never adds
    services.set_tally(s, actor=actor, day=today, group="other", count=2)
    services.set_tally(s, actor=actor, day=today, group="other", count=0)  # removes
    assert services.delete_checkins([made[0], made[3]], actor=actor, station=s) == 2
    assert snapshot([s.pk]) == recount([s.pk])

    april = DailyRollup.objects.get(station=s, day=datetime.date(2024, 4, 1))
    assert (april.checkins, april.c_none, april.c_elderly, april.s_warmth, april.s_rest) == (2, 1, 1, 1, 0)
    march = MonthlyRollup.objects.get(station=s, month=datetime.date(2024, 3, 1))
    assert march.checkins == CheckIn.objects.filter(station=s, day__month=3, day__year=2024).count()
    day_row = DailyRollup.objects.get(station=s, day=today)
    assert day_row.t_elderly == 5 and day_row.t_other == 0
    assert day_row.tallied == sum(Tally.objects.filter(station=s, day=today).values_list("count", flat=True))


def test_the_demo_rollups_equal_a_full_recount():
    before = snapshot()
    assert before, "the demo builds a year of visits"
    assert before == recount(None)


GROUPS = st.sampled_from(["", "courier", "elderly", "sanitation_worker", "other"])
SERVICE_SETS = st.lists(st.sampled_from(Service.values), max_size=3, unique=True)
WHEN = st.datetimes(
    min_value=datetime.datetime(2024, 1, 30), max_value=datetime.datetime(2024, 2, 2), timezones=st.just(SH)
)
OPS = st.lists(
    st.one_of(
        st.tuples(st.just("checkin"), GROUPS, SERVICE_SETS, WHEN),
        st.tuples(st.just("tally"), st.sampled_from(["elderly", "other", "courier"]), st.integers(0, 30)),
        st.tuples(st.just("delete"), st.integers(0, 5)),
    ),
    min_size=1,
    max_size=25,
)


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(ops=OPS)
def test_any_sequence_of_writes_keeps_rollups_equal_to_a_recount(station, users, ops):
    s = station("CQ-JXDL")
    actor = users["cq_admin"]
    day = timezone.localdate() - datetime.timedelta(days=3)
    with transaction.atomic():
        made = []
        for op in ops:
            if op[0] == "checkin":
                made.append(services.record_checkin(s, group=op[1], services=op[2], now=op[3]).checkin)
            elif op[0] == "tally":
                services.set_tally(s, actor=actor, day=day, group=op[1], count=op[2])
            elif made:
                services.delete_checkins([made.pop(op[1] % len(made))], actor=actor, station=s)
        assert snapshot([s.pk]) == recount([s.pk])
        transaction.set_rollback(True)


def raw_counts(unit, start, end) -> tuple[int, Counter, Counter, int]:
    rows = CheckIn.objects.filter(station__unit__path__startswith=unit.path, day__range=(start, end))
    groups = Counter(rows.values_list("group", flat=True))
    used = Counter(
        code for mask in rows.values_list("services", flat=True) for code in mask_to_services(mask)
    )
    tallied = sum(
        Tally.objects.filter(station__unit__path__startswith=unit.path, day__range=(start, end)).values_list(
            "count", flat=True
        )
    )
    return rows.count(), groups, used, tallied


@pytest.mark.parametrize("code", ["HQ", "CQ", "SZ"])
def test_statistics_from_rollups_equal_raw_counts(unit, code):
    target = unit(code)
    end = timezone.localdate()
    start = end - datetime.timedelta(days=200)  # whole months in the middle, part months at both ends
    report = stats.report(target, start, end, "week")
    total, groups, used, tallied = raw_counts(target, start, end)
    assert report.totals["checkins"] == total > 0
    assert report.totals["tallied"] == tallied
    assert {g["code"]: g["checkins"] for g in report.groups if g["checkins"]} == {
        (g or "none"): n for g, n in groups.items()
    }
    assert {s["code"]: s["checkins"] for s in report.services if s["checkins"]} == dict(used)
    assert sum(p["checkins"] for p in report.series) >= total  # weeks cover the period and a little more
    assert sum(c["checkins"] for c in report.children) == total


def test_province_by_month_and_group_equals_a_raw_group_by(unit):
    province = unit("CQ")
    year = timezone.localdate().year
    raw = Counter(
        (day.month, group)
        for day, group in CheckIn.objects.filter(
            station__unit__path__startswith=province.path, day__year=year
        ).values_list("day", "group")
    )
    assert stats.province_by_month_and_group(province, year) == dict(raw)


@pytest.mark.parametrize(
    ("start", "end", "months", "days"),
    [
        ("2026-01-01", "2026-12-31", [("2026-01-01", "2026-12-01")], []),
        (
            "2026-01-15",
            "2026-03-10",
            [("2026-02-01", "2026-02-01")],
            [("2026-01-15", "2026-01-31"), ("2026-03-01", "2026-03-10")],
        ),
        ("2026-01-15", "2026-01-20", [], [("2026-01-15", "2026-01-20")]),
        ("2026-01-15", "2026-02-10", [], [("2026-01-15", "2026-02-10")]),
        ("2026-02-01", "2026-02-28", [("2026-02-01", "2026-02-01")], []),
    ],
)
def test_split_period(start, end, months, days):
    d = datetime.date.fromisoformat
    got_months, got_days = stats.split_period(d(start), d(end))
    assert got_months == [(d(a), d(b)) for a, b in months]
    assert got_days == [(d(a), d(b)) for a, b in days]


def test_tally_bad_input_names_the_field(station, users):
    from django.core.exceptions import ValidationError

    s = station("CQ-SXGC")
    future = timezone.localdate() + datetime.timedelta(days=2)
    for kwargs, field in (
        ({"day": "2026-13-01", "group": "elderly", "count": 1}, "day"),
        ({"day": future, "group": "elderly", "count": 1}, "day"),
        ({"day": timezone.localdate(), "group": "martian", "count": 1}, "group"),
        ({"day": timezone.localdate(), "group": "elderly", "count": -1}, "count"),
        ({"day": timezone.localdate(), "group": "elderly", "count": "many"}, "count"),
        ({"day": timezone.localdate(), "group": "elderly", "count": 10**9}, "count"),
    ):
        with pytest.raises(ValidationError) as exc:
            services.set_tally(s, actor=users["sanxia_manager"], **kwargs)
        assert field in exc.value.message_dict


def test_rebuild_command_repairs_and_refuses_unknown_codes(station):
    from django.core.management import CommandError, call_command

    s = station("CQ-SXGC")
    before = snapshot([s.pk])
    DailyRollup.objects.filter(station=s).update(checkins=0)  # damage, as a bad manual edit would
    call_command("rebuild_visit_rollups", "CQ-SXGC", stdout=io.StringIO())
    assert snapshot([s.pk]) == before
    with pytest.raises(CommandError):
        call_command("rebuild_visit_rollups", "NO-SUCH")
