"""Expected use per week from the station's check-ins, with the season, and days of cover.

For an item whose use follows a service (drinking water, cooling down, warming up…) or a group
(couriers): weekly use = per_use × the check-ins that drove it over the last four weeks / 4,
times the season factor — how last year's next four weeks compare with last year's same last
four weeks (sun sleeves in June, warming up in December). Without last year's data the factor is 1.
Read from the daily rollups of the unit's own stations, never from raw check-ins.
"""

import datetime
import math
from dataclasses import dataclass
from decimal import Decimal

from django.db.models import F, Sum
from django.utils import timezone

from yizhan.supplies.models import Driver
from yizhan.visits.models import DailyRollup, checkin_column, service_column, tally_column

WINDOW = 28


def _expression(driver: str):
    if driver == Driver.CHECKINS:
        return F("checkins") + F("tallied")
    if driver == Driver.COURIER:
        return F(checkin_column("courier")) + F(tally_column("courier"))
    return F(service_column(driver))


def driver_counts(unit, drivers: set[str], start: datetime.date, end: datetime.date) -> dict[str, int]:
    """{driver: count} over [start, end) for the unit's stations."""
    drivers = {d for d in drivers if d}
    if not drivers:
        return {}
    totals = DailyRollup.objects.filter(station__unit=unit, day__gte=start, day__lt=end).aggregate(
        **{d: Sum(_expression(d)) for d in drivers}
    )
    return {d: int(totals[d] or 0) for d in drivers}


@dataclass
class Forecast:
    weekly: Decimal | None  # expected use per week; None when not forecast
    season: Decimal
    days_of_cover: int | None
    suggest: int  # reorder quantity suggested now (0: none needed)


def _yearago(day: datetime.date) -> datetime.date:
    return day - datetime.timedelta(days=364)  # whole weeks: the same weekdays


def forecast(unit, rows, today: datetime.date | None = None) -> dict[int, Forecast]:
    """rows: (item, balance qty, level or None) → {item.pk: Forecast}, with four aggregate queries."""
    today = today or timezone.localdate()
    rows = list(rows)
    drivers = {item.driver for item, _q, _l in rows}
    start = today - datetime.timedelta(days=WINDOW)
    recent = driver_counts(unit, drivers, start, today)
    last_before = driver_counts(unit, drivers, _yearago(start), _yearago(today))
    last_after = driver_counts(
        unit, drivers, _yearago(today), _yearago(today + datetime.timedelta(days=WINDOW))
    )
    out = {}
    for item, qty, level in rows:
        weekly, season = None, Decimal(1)
        if item.driver and item.per_use:
            before, after = last_before.get(item.driver, 0), last_after.get(item.driver, 0)
            if before and after:
                season = (Decimal(after) / Decimal(before)).quantize(Decimal("0.01"))
            weekly = (item.per_use * recent.get(item.driver, 0) * 7 / WINDOW * season).quantize(
                Decimal("0.1")
            )
        cover = None
        if weekly:
            cover = int(Decimal(qty) / weekly * 7)
        out[item.pk] = Forecast(weekly, season, cover, suggest(qty, level, weekly))
    return out


def suggest(qty: int, level, weekly: Decimal | None) -> int:
    """Up to the maximum (or to cover the lead time plus two weeks) once at or below the reorder
    point, or once the days of cover fall within the lead time plus a week."""
    if level is None:
        return 0
    lead = level.lead_days
    low = qty <= level.reorder_point or (weekly and qty / float(weekly) * 7 < lead + 7)
    if not low:
        return 0
    target = level.maximum
    if target is None:
        need = float(weekly or 0) * (lead / 7 + 2)
        target = max(level.reorder_point, math.ceil(need))
    return max(0, target - qty)
