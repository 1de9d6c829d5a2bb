"""The operations dashboard of a subtree, drawn on the server as SVG (no script, no tiles: the
back office works offline and under the Content-Security-Policy): the outlets on a map coloured by
their status now, and completeness and timeliness of the daily health report by day."""

import datetime

from django.urls import reverse
from django.utils import timezone

from yizhan.operations.models import CLOSED_STATES, HealthDay, OperatingStatus
from yizhan.orgs.models import Unit, UnitKind

MAP_W, MAP_H, PAD = 640, 420, 16
CHART_W, CHART_H, CHART_PAD = 640, 220, 32
MAX_DAYS = 92
STATE_CLASS = {
    "open": "st-open",
    "limited": "st-limited",
    "closed": "st-closed",
    "closed_by_order": "st-closed",
}


def status_map(root: Unit, now=None) -> dict:
    """Points of the subtree's open outlets with a position, projected into the SVG box (the
    longitude scaled by the cosine of the mean latitude, so a city keeps its shape)."""
    import math

    now = now or timezone.now()
    outlets = list(
        Unit.objects.filter(
            path__startswith=root.path, kind=UnitKind.OUTLET, closed_on__isnull=True, lat__isnull=False
        ).only("pk", "code", "name", "name_en", "lat", "lng")
    )
    states = {
        e.unit_id: e for e in OperatingStatus.objects.in_force(now).filter(unit__path__startswith=root.path)
    }
    if not outlets:
        return {"points": [], "width": MAP_W, "height": MAP_H, "counts": {}}
    lats = [u.lat for u in outlets]
    lngs = [u.lng for u in outlets]
    k = math.cos(math.radians(sum(lats) / len(lats)))
    x0, x1 = min(lngs) * k, max(lngs) * k
    y0, y1 = min(lats), max(lats)
    span = max(x1 - x0, y1 - y0, 1e-4)
    scale = min((MAP_W - 2 * PAD) / span, (MAP_H - 2 * PAD) / span)
    points, counts = [], {"open": 0, "limited": 0, "closed": 0}
    for u in outlets:
        entry = states.get(u.pk)
        state = entry.state if entry else "open"
        bucket = "closed" if state in CLOSED_STATES else state
        counts[bucket] = counts.get(bucket, 0) + 1
        points.append(
            {
                "x": round(PAD + (u.lng * k - x0) * scale, 1),
                "y": round(MAP_H - PAD - (u.lat - y0) * scale, 1),
                "name": u.display_name,
                "state": entry.get_state_display() if entry else None,
                "css": STATE_CLASS[state],
                "url": reverse("operations:outlet_status", args=[u.code]),
            }
        )
    # Open ones first, so the closed and limited are drawn on top where points overlap.
    points.sort(key=lambda p: p["css"] != "st-open")
    return {"points": points, "width": MAP_W, "height": MAP_H, "counts": counts}


def by_day(unit: Unit, start: datetime.date, end: datetime.date) -> list[dict]:
    """Completeness (reported, late included) and timeliness (on time) of the unit's subtree per
    day, from the rollups; days nobody was expected are left out (holidays, weekends)."""
    rows = []
    for day in HealthDay.objects.filter(unit=unit, day__range=(start, end)).order_by("day"):
        if not day.expected:
            continue
        rows.append(
            {
                "day": day.day,
                "expected": day.expected,
                "on_time": day.on_time,
                "late": day.late,
                "missing": day.missing,
                "completeness": round(100 * (day.on_time + day.late) / day.expected, 1),
                "timeliness": round(100 * day.on_time / day.expected, 1),
            }
        )
    return rows


def chart(rows: list[dict]) -> dict:
    """Two bars a day: completeness and, inside it, timeliness (percent of those expected)."""
    n = max(len(rows), 1)
    inner_w = CHART_W - 2 * CHART_PAD
    inner_h = CHART_H - 2 * CHART_PAD
    step = inner_w / n
    bar = max(step * 0.7, 1)
    bars = []
    for i, row in enumerate(rows):
        x = CHART_PAD + i * step + (step - bar) / 2
        h_all = inner_h * row["completeness"] / 100
        h_time = inner_h * row["timeliness"] / 100
        bars.append(
            {
                "x": round(x, 1),
                "w": round(bar, 1),
                "y_all": round(CHART_PAD + inner_h - h_all, 1),
                "h_all": round(h_all, 1),
                "y_time": round(CHART_PAD + inner_h - h_time, 1),
                "h_time": round(h_time, 1),
                "label": row["day"].strftime("%m-%d"),
                "label_x": round(x + bar / 2, 1),
                "row": row,
            }
        )
    every = max(1, len(rows) // 10)  # at most about ten day labels under the bars
    for i, b in enumerate(bars):
        b["show_label"] = i % every == 0
    grid = [
        {"y": round(CHART_PAD + inner_h * (1 - p / 100), 1), "label": f"{p}%"} for p in (0, 25, 50, 75, 100)
    ]
    return {
        "bars": bars,
        "grid": grid,
        "width": CHART_W,
        "height": CHART_H,
        "left": CHART_PAD,
        "right": CHART_W - CHART_PAD,
        "label_y": CHART_H - CHART_PAD + 14,
    }


def clean_days(value) -> int:
    try:
        days = int(str(value or "14"))
    except ValueError:
        return 14
    return min(max(days, 1), MAX_DAYS)
