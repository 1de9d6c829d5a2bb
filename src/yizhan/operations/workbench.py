"""The outlet manager's workbench: what the day holds at one outlet, each figure one tap from its
page — and for city and province admins the same figures as a table of their outlets, worst first.

Every figure of the table is one grouped query over the subtree (never a query per outlet), so a
province of a thousand outlets costs the same dozen queries as a city of forty.
"""

import datetime
from collections import Counter

from django.db.models import Count, Max, Q, Sum
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from yizhan.operations.models import (
    CLOSED_STATES,
    Checklist,
    Disinfection,
    DisinfectionArea,
    HealthDay,
    OperatingStatus,
    PlanTask,
    Rectification,
)
from yizhan.orgs.models import Unit, UnitKind

TABLE_LIMIT = 200


def _state_label(entry) -> str:
    from yizhan.locator.services import operating_label
    from yizhan.stations.hours import StatusWindow

    if entry is None or entry.state == "open":
        return _("Open as usual")
    return operating_label(
        StatusWindow(0, None, False, entry.state, entry.counter_windows, entry.self_service_24h, "")
    )


def figures(outlets: list[Unit], now=None) -> dict[int, dict]:
    """Today's figures per outlet: {unit id: {...}} from one grouped query per figure."""
    from yizhan.stations import hours
    from yizhan.stations.models import Station, StationFacility
    from yizhan.visits.models import CheckIn, Feedback, Tally

    now = now or timezone.now()
    today = timezone.localdate(now)
    ids = [u.pk for u in outlets]
    out = {
        u.pk: {
            "unit": u,
            "status": None,
            "stations": [],
            "checkins": 0,
            "tallies": 0,
            "out_of_order": 0,
            "feedback": 0,
            "feedback_overdue": 0,
            "checklist_missing": None,
            "areas_overdue": 0,
            "health_expected": 0,
            "health_missing": 0,
            "rect_open": 0,
            "rect_overdue": 0,
            "tasks_open": 0,
            "tasks_overdue": 0,
            "activation": None,
        }
        for u in outlets
    }
    for entry in OperatingStatus.objects.in_force(now).filter(unit_id__in=ids):
        out[entry.unit_id]["status"] = entry
    calendar = hours.current_calendar()
    stations = list(Station.objects.public().filter(unit_id__in=ids).order_by("code"))
    by_station = {s.pk: s.unit_id for s in stations}
    for s in stations:
        out[s.unit_id]["stations"].append(
            {"station": s, "open": s.status == "active" and hours.open_at(s.schedule(), now, calendar)}
        )
    for row in (
        CheckIn.objects.filter(station_id__in=by_station, day=today)
        .values("station_id")
        .annotate(n=Count("pk"))
    ):
        out[by_station[row["station_id"]]]["checkins"] += row["n"]
    for row in (
        Tally.objects.filter(station_id__in=by_station, day=today)
        .values("station_id")
        .annotate(n=Sum("count"))
    ):
        out[by_station[row["station_id"]]]["tallies"] += row["n"] or 0
    for row in (
        StationFacility.objects.filter(station_id__in=by_station, out_of_order=True)
        .values("station_id")
        .annotate(n=Count("pk"))
    ):
        out[by_station[row["station_id"]]]["out_of_order"] += row["n"]
    for row in (
        Feedback.objects.open()
        .filter(station_id__in=by_station)
        .values("station_id")
        .annotate(n=Count("pk"), late=Count("pk", filter=Q(due_on__lt=today)))
    ):
        unit_id = by_station[row["station_id"]]
        out[unit_id]["feedback"] += row["n"]
        out[unit_id]["feedback_overdue"] += row["late"]
    for day in HealthDay.objects.filter(unit_id__in=ids, day=today):
        out[day.unit_id]["health_expected"] = day.expected
        out[day.unit_id]["health_missing"] = day.missing
    for row in (
        Rectification.objects.pending()
        .filter(unit_id__in=ids)
        .values("unit_id")
        .annotate(n=Count("pk"), late=Count("pk", filter=Q(status="open", due_on__lt=today)))
    ):
        out[row["unit_id"]]["rect_open"] = row["n"]
        out[row["unit_id"]]["rect_overdue"] = row["late"]
    # Controls are due while a plan is active at the outlet.
    from yizhan.operations.models import ActivatedOutlet

    active = {
        a.unit_id: a
        for a in ActivatedOutlet.objects.filter(
            unit_id__in=ids, activation__deactivated_at__isnull=True
        ).select_related("activation")
    }
    for unit_id, a in active.items():
        out[unit_id]["activation"] = a.activation
        out[unit_id]["checklist_missing"] = None
    for row in (
        PlanTask.objects.open()
        .filter(unit_id__in=ids, activation__deactivated_at__isnull=True)
        .values("unit_id")
        .annotate(n=Count("pk"), late=Count("pk", filter=Q(due_on__lt=today)))
    ):
        out[row["unit_id"]]["tasks_open"] = row["n"]
        out[row["unit_id"]]["tasks_overdue"] = row["late"]
    if active:
        from yizhan.operations.controls import DEFAULT_ITEMS

        filled = {c.unit_id: c.missing for c in Checklist.objects.filter(unit_id__in=list(active), day=today)}
        for unit_id in active:
            out[unit_id]["checklist_missing"] = filled.get(
                unit_id, _template_size(out[unit_id]["unit"], DEFAULT_ITEMS)
            )
        last = dict(
            Disinfection.objects.filter(unit_id__in=list(active))
            .values("area_id")
            .annotate(at=Max("at"))
            .values_list("area_id", "at")
        )
        for area in DisinfectionArea.objects.filter(unit_id__in=list(active)):
            since = active[area.unit_id].activation.activated_at
            at = last.get(area.pk)
            due = (at if at and at >= since else since) + datetime.timedelta(hours=area.every_hours)
            if due < now:
                out[area.unit_id]["areas_overdue"] += 1
    return out


def _template_size(outlet: Unit, default) -> int:
    from yizhan.operations.controls import template_for

    template = template_for(outlet)
    return len(template.items) if template else len(default)


def badness(f: dict) -> tuple:
    """Worst first: closed, then overdue things, then what is missing today."""
    closed = f["status"] is not None and f["status"].state in CLOSED_STATES
    overdue = f["rect_overdue"] + f["tasks_overdue"] + f["feedback_overdue"] + f["areas_overdue"]
    missing = f["health_missing"] + (f["checklist_missing"] or 0) + f["out_of_order"]
    return (-int(closed), -overdue, -missing, f["unit"].path)


def outlet_rows(f: dict) -> list[dict]:
    """The workbench of one outlet as panel rows, each with its link."""
    unit = f["unit"]
    code = unit.code
    rows = [
        {
            "label": _("Operating status"),
            "value": _state_label(f["status"]),
            "url": reverse("operations:outlet_status", args=[code]),
            "alert": f["status"] is not None and f["status"].state in CLOSED_STATES,
        }
    ]
    for s in f["stations"]:
        rows.append(
            {
                "label": _("Station %(name)s") % {"name": s["station"].name},
                "value": _("open now") if s["open"] else _("closed now"),
                "url": reverse("stations:detail", args=[s["station"].code]),
                "alert": not s["open"],
            }
        )
    first = f["stations"][0]["station"].code if f["stations"] else None
    rows.append(
        {
            "label": _("Today's check-ins and tallies"),
            "value": f"{f['checkins']} + {f['tallies']}",
            "url": reverse("visits:station", args=[first]) if first else reverse("visits:statistics"),
            "alert": False,
        }
    )
    rows.append(
        {
            "label": _("Facilities out of order"),
            "value": f["out_of_order"],
            "url": reverse("stations:facilities", args=[first]) if first else reverse("stations:list"),
            "alert": f["out_of_order"] > 0,
        }
    )
    rows.append(
        {
            "label": _("Open feedback (overdue)"),
            "value": f"{f['feedback']} ({f['feedback_overdue']})",
            "url": reverse("visits:feedback_queue"),
            "alert": f["feedback_overdue"] > 0,
        }
    )
    if f["activation"] is not None:
        rows.append(
            {
                "label": _("Contingency plan measures open (overdue)"),
                "value": f"{f['tasks_open']} ({f['tasks_overdue']})",
                "url": reverse("operations:activation_detail", args=[f["activation"].pk]) + f"?unit={code}",
                "alert": f["tasks_overdue"] > 0,
            }
        )
    rows.append(
        {
            "label": _("Today's checklist: items missing"),
            "value": f["checklist_missing"]
            if f["checklist_missing"] is not None
            else _("not required today"),
            "url": reverse("operations:outlet_checklist", args=[code]),
            "alert": bool(f["checklist_missing"]),
        }
    )
    rows.append(
        {
            "label": _("Disinfection overdue"),
            "value": f["areas_overdue"] if f["activation"] is not None else _("not required today"),
            "url": reverse("operations:outlet_disinfection", args=[code]),
            "alert": f["areas_overdue"] > 0,
        }
    )
    rows.append(
        {
            "label": _("Daily health reports missing today"),
            "value": f"{f['health_missing']} / {f['health_expected']}",
            "url": reverse("operations:health_people", args=[code]),
            "alert": f["health_missing"] > 0,
        }
    )
    rows.append(
        {
            "label": _("Rectifications not closed (overdue)"),
            "value": f"{f['rect_open']} ({f['rect_overdue']})",
            "url": reverse("operations:rectifications") + f"?unit={code}",
            "alert": f["rect_overdue"] > 0,
        }
    )
    return rows


COLUMNS = [
    gettext_lazy("Operating status"),
    gettext_lazy("Check-ins and tallies"),
    gettext_lazy("Facilities out of order"),
    gettext_lazy("Open feedback"),
    gettext_lazy("Plan measures overdue"),
    gettext_lazy("Checklist items missing"),
    gettext_lazy("Disinfection overdue"),
    gettext_lazy("Health reports missing"),
    gettext_lazy("Rectifications overdue"),
]


def table(root: Unit, now=None, limit: int = TABLE_LIMIT) -> dict:
    """The subtree's open outlets, worst first, as a panel table."""
    outlets = list(
        Unit.objects.filter(path__startswith=root.path, kind=UnitKind.OUTLET, closed_on__isnull=True)
    )
    data = sorted(figures(outlets, now).values(), key=badness)
    rows = []
    for f in data[:limit]:
        code = f["unit"].code
        cells = [
            {
                "value": _state_label(f["status"]),
                "url": reverse("operations:outlet_status", args=[code]),
                "alert": f["status"] is not None and f["status"].state in CLOSED_STATES,
            },
            {"value": f["checkins"] + f["tallies"], "url": None, "alert": False},
            {"value": f["out_of_order"], "url": None, "alert": f["out_of_order"] > 0},
            {"value": f["feedback"], "url": None, "alert": f["feedback_overdue"] > 0},
            {
                "value": f["tasks_overdue"] if f["activation"] else "—",
                "url": reverse("operations:activation_detail", args=[f["activation"].pk]) + f"?unit={code}"
                if f["activation"]
                else None,
                "alert": f["tasks_overdue"] > 0,
            },
            {
                "value": f["checklist_missing"] if f["checklist_missing"] is not None else "—",
                "url": reverse("operations:outlet_checklist", args=[code]),
                "alert": bool(f["checklist_missing"]),
            },
            {
                "value": f["areas_overdue"] if f["activation"] else "—",
                "url": reverse("operations:outlet_disinfection", args=[code]),
                "alert": f["areas_overdue"] > 0,
            },
            {
                "value": f"{f['health_missing']} / {f['health_expected']}",
                "url": reverse("operations:health_people", args=[code]),
                "alert": f["health_missing"] > 0,
            },
            {
                "value": f["rect_overdue"],
                "url": reverse("operations:rectifications") + f"?unit={code}&status=overdue",
                "alert": f["rect_overdue"] > 0,
            },
        ]
        rows.append(
            {"unit": f["unit"].display_name, "url": reverse("orgs:unit_detail", args=[code]), "cells": cells}
        )
    counts = Counter(bool(any(c["alert"] for c in r["cells"])) for r in rows)
    return {
        "columns": [str(label) for label in COLUMNS],
        "rows": rows,
        "total": len(data),
        "with_alerts": counts[True],
        "more_url": reverse("operations:workbench") + f"?unit={root.code}" if len(data) > limit else None,
    }
