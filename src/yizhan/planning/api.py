"""Public: "no station here" from a phone's offline queue (no login). The page's form posts to
/no-station/; this is the same verb for a client that sends JSON with its own request id."""

from django.utils.translation import gettext as _
from ninja import Router, Schema, Status

from yizhan.core.schemas import Message
from yizhan.planning import services

router = Router(tags=["public: planning"])


class NoStationIn(Schema):
    lat: float | str
    lng: float | str
    crs: str | None = None
    request_id: str | None = None


class NoStationOut(Schema):
    counted: bool
    detail: str


@router.post(
    "/no-station",
    response={201: NoStationOut, 429: Message},
    summary="Say a station is needed here (no login)",
    description=(
        "Counts the point (rounded to 0.001°, nothing else) as demand for the planner; `counted` is "
        "false far from every station. `crs` wgs84 (default), gcj02 or bd09. `request_id` makes a "
        "resend safe: the same id counts once and answers as the first time did; the same id for "
        "another point is refused (422). 5 an hour per address, like the page's button."
    ),
)
def post_no_station(request, payload: NoStationIn):
    from yizhan.api import RateLimited
    from yizhan.core import ratelimit
    from yizhan.planning.views import REPORTS_PER_HOUR

    usage = ratelimit.hit(request, "planning.report", ratelimit.address_key(request), REPORTS_PER_HOUR, 3600)
    if usage.over:
        raise RateLimited(usage.retry_after)
    counted = services.report_no_station(
        payload.lat, payload.lng, payload.crs or "wgs84", request_id=payload.request_id
    )
    detail = (
        _("Thank you: the bank counts where stations are missing and plans the next ones there.")
        if counted
        else _("This place is far from every branch we plan for, so it is not counted.")
    )
    return Status(201, {"counted": counted, "detail": detail})


# --- staff: the gaps, the plan, the wave (admins of a city branch and above) ----------------------

manage_router = Router(tags=["manage: planning"])


def _planner_unit(request, code: str):
    from django.utils.translation import gettext as _gettext

    from yizhan.orgs.models import Unit
    from yizhan.orgs.scoping import get_for_user

    services.require_planner(request.user)
    if not code:
        from django.core.exceptions import ValidationError

        raise ValidationError({"unit": _gettext("Give the unit's code.")})
    return get_for_user(request.user, Unit, code=code)


class GapCell(Schema):
    lat: float
    lng: float
    weight: int
    nearest_m: int | None


class GapsOut(Schema):
    unit: str
    radius: int
    total: float
    uncovered: float
    cells: list[GapCell]


@manage_router.get("/planning/gaps", response=GapsOut, summary="Demand with no station within the radius")
def get_gaps(request, unit: str = "", radius: str = "", weak: bool = False, limit: int = 500):
    """`radius` in metres (1–5000, 1000 by default); `weak`: stations below the basic standard do
    not count. Cells of ~1 km (WGS-84 centres), heaviest first, `limit` at most (1–5000)."""
    found = _planner_unit(request, unit)
    radius_m = services.clean_radius(radius or services.DEFAULT_RADIUS)
    gaps = services.gaps(
        found,
        radius_m,
        weak=services.weak_stations() if weak else frozenset(),
        limit=max(1, min(limit, 5000)),
    )
    return {
        "unit": found.code,
        "radius": gaps.radius,
        "total": gaps.total,
        "uncovered": gaps.uncovered,
        "cells": gaps.cells,
    }


class ChosenOutlet(Schema):
    code: str
    name: str
    lat: float
    lng: float
    covered: float


class PlanOut(Schema):
    unit: str
    k: int
    radius: int
    total: float
    candidates: int
    exact_covered: float
    exact_gap: float
    greedy_covered: float
    outlets: list[ChosenOutlet]


@manage_router.get("/planning/plan", response=PlanOut, summary="Which outlets to equip next")
def get_plan(request, unit: str = "", k: str = "", radius: str = "", weak: bool = False):
    """K outlets without a station (with `weak`, also those whose station misses the basic
    standard) covering the most uncovered demand within `radius`: the exact answer (HiGHS) in
    the order a wave would take them, its proven gap to optimal, and the greedy answer's cover."""
    found = _planner_unit(request, unit)
    plan = services.plan(found, k=k, radius=radius or services.DEFAULT_RADIUS, weak=weak)
    return {
        "unit": found.code,
        "k": plan.k,
        "radius": plan.radius,
        "total": plan.total,
        "candidates": plan.candidates,
        "exact_covered": plan.exact.covered,
        "exact_gap": plan.exact.gap,
        "greedy_covered": plan.greedy.covered,
        "outlets": [
            {"code": u.code, "name": u.display_name, "lat": u.lat, "lng": u.lng, "covered": c}
            for u, c in zip(plan.outlets, plan.covered, strict=True)
        ],
    }


class WaveIn(Schema):
    unit: str
    outlets: str  # outlet codes separated by spaces or commas, as the plan lists them
    name: str
    standard: int
    target_date: str


class WaveOut(Schema):
    id: int
    name: str


@manage_router.post("/planning/wave", response={201: WaveOut}, summary="Turn a plan into a roll-out wave")
def post_wave(request, payload: WaveIn):
    found = _planner_unit(request, payload.unit)
    wave = services.plan_to_wave(
        actor=request.user,
        unit=found,
        outlets=payload.outlets,
        name=payload.name,
        standard=payload.standard,
        target_date=payload.target_date,
    )
    return Status(201, {"id": wave.pk, "name": wave.name})
