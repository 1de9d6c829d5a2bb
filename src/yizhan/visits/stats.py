"""Visit statistics for a unit's subtree, read from the rollups only (never from raw check-ins).

Periods are split into whole months, summed from `MonthlyRollup`, and the days at either edge,
summed from `DailyRollup`; a province's year is then a sum over about ten thousand rows whatever
the number of check-ins behind them.
"""

import datetime
from collections import defaultdict
from dataclasses import dataclass

from django.db.models import Q, Sum
from django.utils import timezone

from yizhan.orgs.models import Unit
from yizhan.stations.models import Station, StationStatus
from yizhan.visits.models import (
    GROUP_CODES,
    SERVICE_CODES,
    UNSPECIFIED,
    DailyRollup,
    Group,
    MonthlyRollup,
    Service,
    checkin_column,
    hour_column,
    service_column,
    tally_column,
)

TOP_N = 10


def first_of_month(day: datetime.date) -> datetime.date:
    return day.replace(day=1)


def next_month(day: datetime.date) -> datetime.date:
    return (day.replace(day=28) + datetime.timedelta(days=4)).replace(day=1)


def last_of_month(day: datetime.date) -> datetime.date:
    return next_month(day) - datetime.timedelta(days=1)


def add_years(day: datetime.date, years: int) -> datetime.date:
    try:
        return day.replace(year=day.year + years)
    except ValueError:  # 29 February
        return day.replace(year=day.year + years, day=28)


def split_period(start: datetime.date, end: datetime.date):
    """([(first month, last month)] of the whole months inside, [(first day, last day)] of the days
    at either edge that do not fill a month)."""
    whole_from = start if start.day == 1 else next_month(start)
    whole_to = (
        first_of_month(end)
        if end == last_of_month(end)
        else first_of_month(first_of_month(end) - datetime.timedelta(days=1))
    )
    if whole_from > whole_to:
        return [], [(start, end)]
    days = []
    if start < whole_from:
        days.append((start, whole_from - datetime.timedelta(days=1)))
    if end > last_of_month(whole_to):
        days.append((next_month(whole_to), end))
    return [(whole_from, whole_to)], days


def _in_subtree(qs, unit: Unit):
    # A subquery of the subtree's station ids, evaluated once, instead of a join to station and
    # unit for every rollup row; the head office needs no filter at all.
    if unit.parent_id is None:
        return qs
    return qs.filter(station_id__in=Station.objects.filter(unit__path__startswith=unit.path).values("id"))


def sum_columns(unit: Unit, start, end, columns: list[str], *, by: str | None = None) -> dict:
    """{key: {column: total}} over the period; key is None, or the station id with by="station"."""
    months, days = split_period(start, end)
    totals: dict = defaultdict(lambda: dict.fromkeys(columns, 0))
    parts = [
        (_in_subtree(MonthlyRollup.objects, unit).filter(month__range=rng), "month") for rng in months
    ] + [(_in_subtree(DailyRollup.objects, unit).filter(day__range=rng), "day") for rng in days]
    for qs, _grain in parts:
        aggregates = {c: Sum(c) for c in columns}
        if by == "station":
            rows = qs.values("station_id").annotate(**aggregates).order_by()
        else:
            rows = [qs.aggregate(**aggregates)]
        for row in rows:
            key = row.get("station_id") if by == "station" else None
            bucket = totals[key]
            for c in columns:
                bucket[c] += row[c] or 0
    return dict(totals)


def series(unit: Unit, start, end, by: str) -> list[dict]:
    """[{label, start, checkins, tallied, total}] per day, ISO week (from Monday) or month."""
    if by == "month":
        rows = (
            _in_subtree(MonthlyRollup.objects, unit)
            .filter(month__range=(first_of_month(start), first_of_month(end)))
            .values("month")
            .annotate(c=Sum("checkins"), t=Sum("tallied"))
            .order_by("month")
        )
        found = {r["month"]: (r["c"] or 0, r["t"] or 0) for r in rows}
        keys, cursor = [], first_of_month(start)
        while cursor <= end:
            keys.append(cursor)
            cursor = next_month(cursor)
        return [_point(k, k.strftime("%Y-%m"), *found.get(k, (0, 0))) for k in keys]
    rows = (
        _in_subtree(DailyRollup.objects, unit)
        .filter(day__range=(start, end))
        .values("day")
        .annotate(c=Sum("checkins"), t=Sum("tallied"))
        .order_by("day")
    )
    per_day = {r["day"]: (r["c"] or 0, r["t"] or 0) for r in rows}
    if by == "week":
        weeks: dict = defaultdict(lambda: [0, 0])
        cursor = start - datetime.timedelta(days=start.weekday())
        while cursor <= end:
            weeks[cursor]
            cursor += datetime.timedelta(days=7)
        for day, (c, t) in per_day.items():
            week = weeks[day - datetime.timedelta(days=day.weekday())]
            week[0] += c
            week[1] += t
        return [_point(k, k.isoformat(), c, t) for k, (c, t) in sorted(weeks.items())]
    points, cursor = [], start
    while cursor <= end:
        points.append(_point(cursor, cursor.isoformat(), *per_day.get(cursor, (0, 0))))
        cursor += datetime.timedelta(days=1)
    return points


def _point(start, label, checkins, tallied) -> dict:
    return {
        "start": start,
        "label": label,
        "checkins": checkins,
        "tallied": tallied,
        "total": checkins + tallied,
    }


def by_group(totals: dict) -> list[dict]:
    rows = []
    for code in GROUP_CODES:
        c, t = totals[checkin_column(code)], totals[tally_column(code)]
        rows.append({"code": code, "label": Group(code).label, "checkins": c, "tallied": t, "total": c + t})
    c = totals[checkin_column(UNSPECIFIED)]
    rows.append({"code": "none", "label": None, "checkins": c, "tallied": 0, "total": c})
    return rows


def by_service(totals: dict) -> list[dict]:
    return [
        {"code": code, "label": Service(code).label, "checkins": totals[service_column(code)]}
        for code in SERVICE_CODES
    ]


@dataclass
class Report:
    unit: Unit
    start: datetime.date
    end: datetime.date
    by: str
    totals: dict
    series: list
    groups: list
    services: list
    children: list
    top: list
    bottom: list
    year_on_year: list
    hours: list
    stations_count: int


GROUP_AND_SERVICE_COLUMNS = (
    ["checkins", "tallied"]
    + [checkin_column(g) for g in [*GROUP_CODES, UNSPECIFIED]]
    + [tally_column(g) for g in GROUP_CODES]
    + [service_column(s) for s in SERVICE_CODES]
)


def station_totals(unit: Unit, start, end) -> list[dict]:
    """Every station of the subtree with its check-ins and tallies in the period (zeros kept)."""
    sums = sum_columns(unit, start, end, ["checkins", "tallied"], by="station")
    stations = Station.objects.subtree(unit).values("pk", "code", "name", "name_en", "status", "unit__path")
    out = []
    for s in stations:
        row = sums.get(s["pk"], {"checkins": 0, "tallied": 0})
        out.append(
            {
                **s,
                "checkins": row["checkins"],
                "tallied": row["tallied"],
                "total": row["checkins"] + row["tallied"],
            }
        )
    return out


def children_totals(unit: Unit, stations: list[dict]) -> list[dict]:
    children = list(unit.children.order_by("code"))
    rows = []
    for child in children:
        inside = [s for s in stations if s["unit__path"].startswith(child.path)]
        if not inside:
            continue
        c = sum(s["checkins"] for s in inside)
        t = sum(s["tallied"] for s in inside)
        rows.append({"unit": child, "stations": len(inside), "checkins": c, "tallied": t, "total": c + t})
    return rows


def year_on_year(
    unit: Unit, year: int, until: datetime.date, today: datetime.date | None = None
) -> list[dict]:
    """Each month of `year` (the year of `until`) against the same month a year before, like
    with like.

    The month of `until`, when not complete at `until`, is compared month to date: days 1–N of
    both years, N being the last complete day (`until`, or yesterday when `until` is today), so
    one day of this December never meets the whole of last December; with no complete day yet
    (N = 0) neither side has a figure. A month without any rollup row on one side (before the
    network counted visits, or still to come) has no figure there (None) and no change, rather
    than a misleading zero or −100 %; last year's months after `until` keep their figure, as
    the line to be met. Rows: month, this, last, change (%), to_day (N, or None for a whole
    month)."""
    today = today or timezone.localdate()
    complete = min(until, today - datetime.timedelta(days=1))
    current = first_of_month(until)
    rows = (
        _in_subtree(MonthlyRollup.objects, unit)
        .filter(month__range=(datetime.date(year - 1, 1, 1), datetime.date(year, 12, 1)))
        .values("month")
        .annotate(c=Sum("checkins"), t=Sum("tallied"))
        .order_by()
    )
    found = {r["month"]: (r["c"] or 0) + (r["t"] or 0) for r in rows}
    partial = complete < last_of_month(until)
    out = []
    for month in range(1, 13):
        this_first, last_first = datetime.date(year, month, 1), datetime.date(year - 1, month, 1)
        to_day = None
        if this_first > current:
            this, last = None, found.get(last_first)
        elif this_first == current and partial:
            to_day = complete.day if first_of_month(complete) == current else 0
            this, last = (
                _days_total(unit, first, first.replace(day=min(to_day, last_of_month(first).day)))
                if to_day and first in found
                else None
                for first in (this_first, last_first)
            )
        else:
            this, last = found.get(this_first), found.get(last_first)
        change = round((this - last) * 100 / last, 1) if this is not None and last else None
        out.append({"month": month, "this": this, "last": last, "change": change, "to_day": to_day})
    return out


def _days_total(unit: Unit, start: datetime.date, end: datetime.date) -> int:
    row = (
        _in_subtree(DailyRollup.objects, unit)
        .filter(day__range=(start, end))
        .aggregate(c=Sum("checkins"), t=Sum("tallied"))
    )
    return (row["c"] or 0) + (row["t"] or 0)


def hour_profile(unit: Unit, start, end) -> list[dict]:
    columns = [hour_column(h) for h in range(24)]
    totals = (
        _in_subtree(MonthlyRollup.objects, unit)
        .filter(month__range=(first_of_month(start), first_of_month(end)))
        .aggregate(**{c: Sum(c) for c in columns})
    )
    return [{"hour": h, "checkins": totals[hour_column(h)] or 0} for h in range(24)]


def report(unit: Unit, start: datetime.date, end: datetime.date, by: str = "day") -> Report:
    totals = sum_columns(unit, start, end, GROUP_AND_SERVICE_COLUMNS).get(None) or dict.fromkeys(
        GROUP_AND_SERVICE_COLUMNS, 0
    )
    stations = station_totals(unit, start, end)
    ranked = sorted(stations, key=lambda s: (-s["total"], s["code"]))
    active = [s for s in stations if s["status"] == StationStatus.ACTIVE]
    bottom = sorted(active, key=lambda s: (s["total"], s["code"]))[:TOP_N]
    if len(stations) < 2 * TOP_N:
        # Too few for two lists that do not overlap: one ranking of every station instead.
        top, bottom = ranked, []
    else:
        top = ranked[:TOP_N]
    return Report(
        unit=unit,
        start=start,
        end=end,
        by=by,
        totals={
            "checkins": totals["checkins"],
            "tallied": totals["tallied"],
            "total": totals["checkins"] + totals["tallied"],
        },
        series=series(unit, start, end, by),
        groups=by_group(totals),
        services=by_service(totals),
        children=children_totals(unit, stations),
        top=top,
        bottom=bottom,
        year_on_year=year_on_year(unit, end.year, end),
        hours=hour_profile(unit, start, end),
        stations_count=len(stations),
    )


def province_by_month_and_group(unit: Unit, year: int) -> dict:
    """{(month, group): check-ins} for a calendar year, from the monthly rollups (the benchmark's
    question, and the table the statistics page shows for a province)."""
    columns = {code: checkin_column(code) for code in [*GROUP_CODES, UNSPECIFIED]}
    rows = (
        _in_subtree(MonthlyRollup.objects, unit)
        .filter(month__range=(datetime.date(year, 1, 1), datetime.date(year, 12, 1)))
        .values("month")
        .annotate(**{col: Sum(col) for col in columns.values()})
        .order_by("month")
    )
    out = {}
    for row in rows:
        for code, col in columns.items():
            if row[col]:
                out[(row["month"].month, code)] = row[col]
    return out


def units_by_month_and_group(units, months, *, station_kind: str | None = None) -> dict:
    """{(unit id, month): {group code ("" = not said): check-ins}} of each unit's subtree in each
    month (first days of months), from the monthly rollups in one grouped query; `station_kind`
    keeps one kind of station (the mobile figures set the fixed stations beside the vans')."""
    units, months = list(units), sorted(set(months))
    if not units or not months:
        return {}
    columns = {code: checkin_column(code) for code in [*GROUP_CODES, UNSPECIFIED]}
    inside = Q()
    for unit in units:
        inside |= Q(station__unit__path__startswith=unit.path)
    rows = MonthlyRollup.objects.filter(inside, month__in=months)
    if station_kind:
        rows = rows.filter(station__kind=station_kind)
    rows = (
        rows.values("station__unit__path", "month")
        .annotate(**{col: Sum(col) for col in columns.values()})
        .order_by()
    )
    out: dict = {}
    for row in rows:
        for unit in units:  # a unit inside another on the list counts for both
            if row["station__unit__path"].startswith(unit.path):
                bucket = out.setdefault((unit.pk, row["month"]), dict.fromkeys(columns, 0))
                for code, col in columns.items():
                    bucket[code] += row[col] or 0
    return out
