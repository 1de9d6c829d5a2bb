"""The public operating status of an outlet, and the staff API of outlet operations.

Both call the verbs in services.py; a ValidationError answers 422 naming the field, a stale
revision 409, an outlet outside the subtree 404, a viewer's write 403.
"""

import datetime

from django.http import Http404
from django.utils import timezone
from ninja import Router, Schema, Status

from yizhan.core.boundary import IsoDate
from yizhan.core.schemas import Conflict
from yizhan.operations import services
from yizhan.operations.models import OperatingStatus
from yizhan.orgs.models import Unit, UnitKind
from yizhan.orgs.scoping import get_for_user, require, scoped

router = Router(tags=["public: outlet status"])
manage_router = Router(tags=["manage: outlet operations"])


class StatusOut(Schema):
    id: int
    outlet: str
    state: str
    starts_at: datetime.datetime
    ends_at: datetime.datetime | None
    counter_windows: int | None
    self_service_24h: bool
    notice: str
    withdrawn: bool


class PublicStatusOut(Schema):
    outlet: str
    name: str
    at: datetime.datetime
    state: str
    since: datetime.datetime | None
    until: datetime.datetime | None
    counter_windows: int | None
    self_service_24h: bool
    notice: str
    upcoming: list[StatusOut]
    stations: list[dict]


def _status_json(entry: OperatingStatus) -> dict:
    return {
        "id": entry.pk,
        "outlet": entry.unit.code,
        "state": entry.state,
        "starts_at": entry.starts_at,
        "ends_at": entry.ends_at,
        "counter_windows": entry.counter_windows,
        "self_service_24h": entry.self_service_24h,
        "notice": entry.notice,
        "withdrawn": entry.cancelled_at is not None,
    }


@router.get(
    "/outlets/{code}/status",
    response=PublicStatusOut,
    summary="An outlet's operating status now and what is scheduled (no login)",
    description=(
        "`state`: open (ordinary operation), limited, closed or closed_by_order; `upcoming`: changes "
        "scheduled ahead; `stations`: the outlet's stations and whether each is open now (a closed "
        "outlet's station stays open only in a 24-hour self-service bank)."
    ),
)
def public_status(request, code: str):
    from yizhan.stations import hours
    from yizhan.stations.models import Station

    unit = Unit.objects.filter(code=code, kind=UnitKind.OUTLET, closed_on__isnull=True).first()
    if unit is None:
        raise Http404
    now = timezone.now()
    current = services.status_in_force(unit, now)
    upcoming = (
        OperatingStatus.objects.live()
        .filter(unit=unit, starts_at__gt=now)
        .select_related("unit")
        .order_by("starts_at")[:10]
    )
    calendar = hours.current_calendar()
    stations = [
        {"code": s.code, "open": hours.open_at(s.schedule(), now, calendar)}
        for s in Station.objects.public().filter(unit=unit).order_by("code")
    ]
    return {
        "outlet": unit.code,
        "name": unit.name,
        "at": now,
        "state": current.state if current else "open",
        "since": current.starts_at if current else None,
        "until": current.ends_at if current else None,
        "counter_windows": current.counter_windows if current else None,
        "self_service_24h": current.self_service_24h if current else False,
        "notice": current.notice if current else "",
        "upcoming": [_status_json(e) for e in upcoming],
        "stations": stations,
    }


class StatusIn(Schema):
    state: str
    starts_at: str | None = None
    ends_at: str | None = None
    counter_windows: int | None = None
    self_service_24h: bool = False
    notice: str = ""
    reason: str = ""


class EndIn(Schema):
    at: str | None = None
    revision: int | None = None


class WithdrawIn(Schema):
    revision: int | None = None


class StatusStaffOut(StatusOut):
    reason: str
    revision: int


def _staff_json(entry: OperatingStatus) -> dict:
    return {**_status_json(entry), "reason": entry.reason, "revision": entry.revision}


@manage_router.get(
    "/operations/statuses",
    response=list[StatusStaffOut],
    summary="Outlets of your subtree closed or limited now (or at `at`)",
)
def list_statuses(request, unit: str = "", at: str = ""):
    require(request.user, "read")
    moment = services.parse_moment(at, "at") or timezone.now()
    items = (
        scoped(request.user, OperatingStatus).in_force(moment).exclude(state="open").select_related("unit")
    )
    if unit:
        items = items.filter(unit__path__startswith=get_for_user(request.user, Unit, code=unit).path)
    return [_staff_json(e) for e in items.order_by("unit__path")[:1000]]


@manage_router.get(
    "/operations/outlets/{code}/statuses",
    response=list[StatusStaffOut],
    summary="An outlet's operating-status history, newest first",
)
def outlet_statuses(request, code: str):
    unit = get_for_user(request.user, Unit, code=code)
    items = OperatingStatus.objects.filter(unit=unit).select_related("unit").order_by("-starts_at")[:200]
    return [_staff_json(e) for e in items]


@manage_router.post(
    "/operations/outlets/{code}/statuses",
    response={201: StatusStaffOut},
    summary="Set an outlet's operating status, now or ahead",
    description=(
        "`starts_at` empty = now; `ends_at` empty = until further notice (an open-ended status in "
        "force at the start is ended there). Times ISO-8601; without an offset, Beijing time."
    ),
)
def post_status(request, code: str, payload: StatusIn):
    unit = get_for_user(request.user, Unit, "change", code=code)
    entry = services.schedule_status(unit, actor=request.user, **payload.dict())
    return Status(201, _staff_json(entry))


def _entry(request, status_id: int) -> OperatingStatus:
    return get_for_user(request.user, OperatingStatus.objects.select_related("unit"), "change", pk=status_id)


@manage_router.post(
    "/operations/statuses/{status_id}/end",
    response={200: StatusStaffOut, 409: Conflict},
    summary="End an operating status (now, or at `at`)",
)
def end_status(request, status_id: int, payload: EndIn):
    entry = services.end_status(
        _entry(request, status_id), actor=request.user, at=payload.at, revision=payload.revision
    )
    return _staff_json(entry)


@manage_router.post(
    "/operations/statuses/{status_id}/withdraw",
    response={200: StatusStaffOut, 409: Conflict},
    summary="Withdraw an operating status scheduled ahead, before it starts",
)
def withdraw_status(request, status_id: int, payload: WithdrawIn):
    entry = services.cancel_status(_entry(request, status_id), actor=request.user, revision=payload.revision)
    return _staff_json(entry)


class CustomersIn(Schema):
    customers: int
    revision: int | None = None


class CustomersOut(Schema):
    outlet: str
    day: datetime.date
    customers: int
    revision: int


@manage_router.put(
    "/operations/outlets/{code}/customers/{day}",
    response={200: CustomersOut, 409: Conflict},
    summary="Set the customers an outlet served on a day",
)
def put_customers(request, code: str, day: IsoDate, payload: CustomersIn):
    unit = get_for_user(request.user, Unit, "change", code=code)
    row = services.record_customers(
        unit, actor=request.user, day=day, customers=payload.customers, revision=payload.revision
    )
    return {"outlet": unit.code, "day": row.day, "customers": row.customers, "revision": row.revision}


# --- roster and daily health report --------------------------------------------------------------


class RosterIn(Schema):
    name: str
    employee_no: str = ""
    user: str = ""
    position: str = ""
    health_desk: bool = False
    on_from: str | None = None
    on_until: str | None = None


class RosterOut(Schema):
    id: int
    unit: str
    name: str
    employee_no: str
    user: str | None
    position: str
    health_desk: bool
    on_from: datetime.date
    on_until: datetime.date | None
    revision: int


def _roster_json(entry) -> dict:
    return {
        "id": entry.pk,
        "unit": entry.unit.code,
        "name": entry.name,
        "employee_no": entry.employee_no,
        "user": entry.user.get_username() if entry.user_id else None,
        "position": entry.position,
        "health_desk": entry.health_desk,
        "on_from": entry.on_from,
        "on_until": entry.on_until,
        "revision": entry.revision,
    }


@manage_router.get("/operations/units/{code}/roster", response=list[RosterOut], summary="A unit's own roster")
def get_roster(request, code: str):
    from yizhan.operations.models import RosterEntry

    unit = get_for_user(request.user, Unit, code=code)
    entries = RosterEntry.objects.filter(unit=unit).select_related("unit", "user").order_by("name")[:5000]
    return [_roster_json(e) for e in entries]


@manage_router.post(
    "/operations/units/{code}/roster",
    response={201: RosterOut},
    summary="Put a person on a unit's roster (the unit's admins)",
)
def post_roster(request, code: str, payload: RosterIn):
    from yizhan.operations import health

    unit = get_for_user(request.user, Unit, "admin", code=code)
    entry = health.add_to_roster(unit, actor=request.user, **payload.dict())
    return Status(201, _roster_json(entry))


class HealthIn(Schema):
    entry: int | None = None
    day: str | None = None
    temperature: str | float
    symptoms: list[str] = []
    travelled: bool = False
    travel_note: str = ""
    isolation: str = "none"
    reason: str = ""


class HealthOut(Schema):
    id: int
    entry: int
    day: datetime.date
    late: bool
    counted: bool


@manage_router.post(
    "/operations/health/reports",
    response={201: HealthOut},
    summary="Submit a daily health report (one's own for today; the desk's for others or earlier days)",
    description=(
        "`temperature` 34.0–42.0 °C; `symptoms` from fever, cough, fatigue, sore_throat, breathing; "
        "`isolation` none, home or central. Without `entry`, the caller's own roster entry; `day` other "
        "than today only for the desk, with a `reason`."
    ),
)
def post_health(request, payload: HealthIn):
    from yizhan.operations import health
    from yizhan.operations.models import RosterEntry

    require(request.user, "read")
    data = payload.dict()
    entry = None
    if data.pop("entry") is not None:
        entry = RosterEntry.objects.select_related("unit").filter(pk=payload.entry).first()
        if entry is None or not (
            health.is_desk_for(request.user, entry.unit) or entry.user_id == request.user.pk
        ):
            raise Http404
    report = health.submit_report(actor=request.user, entry=entry, **data)
    return Status(
        201,
        {
            "id": report.pk,
            "entry": report.entry_id,
            "day": report.day,
            "late": report.late,
            "counted": report.counted,
        },
    )


class CompletenessRow(Schema):
    unit: str
    name: str
    expected: int
    on_time: int
    late: int
    missing: int


@manage_router.get(
    "/operations/health/completeness",
    response=list[CompletenessRow],
    summary="Daily-report completeness of a unit and each unit directly below (first row: the unit)",
)
def get_completeness(request, unit: str = "", start: IsoDate = None, end: IsoDate = None):
    from yizhan.operations import health
    from yizhan.orgs.scoping import scope_for

    require(request.user, "read")
    target = (
        get_for_user(request.user, Unit, code=unit)
        if unit
        else Unit.objects.get(pk=scope_for(request.user).unit_id)
    )
    start = start or timezone.localdate()
    end = end or start
    if end < start or (end - start).days > 366:
        from django.core.exceptions import ValidationError
        from django.utils.translation import gettext as _

        raise ValidationError({"end": _("The end must be on or after the start, within a year.")})
    return [
        {
            "unit": r["unit"].code,
            "name": r["unit"].name,
            "expected": r["expected"],
            "on_time": r["on_time"],
            "late": r["late"],
            "missing": r["missing"],
        }
        for r in health.completeness(target, start, end)
    ]


# --- spot checks and rectifications ------------------------------------------------------------


class ItemIn(Schema):
    item: str
    ok: bool
    note: str = ""


class InspectionIn(Schema):
    outlet: str
    kind: str
    items: list[ItemIn] | None = None
    findings: str = ""
    working_days: int = 5


class RectificationOut(Schema):
    id: int
    outlet: str
    title: str
    status: str
    opened_on: datetime.date
    due_on: datetime.date
    overdue: bool
    escalated_to: str | None
    revision: int


def _rect_json(r) -> dict:
    return {
        "id": r.pk,
        "outlet": r.unit.code,
        "title": r.title,
        "status": r.status,
        "opened_on": r.opened_on,
        "due_on": r.due_on,
        "overdue": r.is_overdue(timezone.localdate()),
        "escalated_to": r.escalated_to.code if r.escalated_to_id else None,
        "revision": r.revision,
    }


class InspectionOut(Schema):
    id: int
    outlet: str
    kind: str
    failed: int
    rectifications: list[RectificationOut]


@manage_router.post(
    "/operations/inspections",
    response={201: InspectionOut},
    summary="Record a spot check (video or on site); each failed item becomes a rectification",
)
def post_inspection(request, payload: InspectionIn):
    from yizhan.operations import rectifications

    unit = get_for_user(request.user, Unit, "change", code=payload.outlet)
    data = payload.dict()
    data.pop("outlet")
    inspection = rectifications.record_inspection(unit, actor=request.user, **data)
    rects = rectifications.for_source(inspection).select_related("unit", "escalated_to")
    return Status(
        201,
        {
            "id": inspection.pk,
            "outlet": unit.code,
            "kind": inspection.kind,
            "failed": inspection.failed,
            "rectifications": [_rect_json(r) for r in rects],
        },
    )


@manage_router.get(
    "/operations/rectifications",
    response=list[RectificationOut],
    summary="Rectifications of your subtree: pending (default), overdue or all",
)
def list_rectifications(request, status: str = "pending", unit: str = ""):
    from yizhan.operations.models import Rectification

    require(request.user, "read")
    items = scoped(request.user, Rectification).select_related("unit", "escalated_to")
    if unit:
        items = items.filter(unit__path__startswith=get_for_user(request.user, Unit, code=unit).path)
    if status == "overdue":
        items = items.overdue(timezone.localdate())
    elif status == "pending":
        items = items.pending()
    return [_rect_json(r) for r in items.order_by("due_on", "pk")[:1000]]


class RespondIn(Schema):
    text: str
    revision: int | None = None


class RecheckIn(Schema):
    passed: bool
    note: str = ""
    working_days: int = 5
    revision: int | None = None


def _rect(request, rect_id):
    from yizhan.operations.models import Rectification

    return get_for_user(request.user, Rectification.objects.select_related("unit"), "change", pk=rect_id)


@manage_router.post(
    "/operations/rectifications/{rect_id}/respond",
    response={200: RectificationOut, 409: Conflict},
    summary="The outlet's response to a rectification",
)
def respond_rectification(request, rect_id: int, payload: RespondIn):
    from yizhan.operations import rectifications

    r = rectifications.respond(
        _rect(request, rect_id), actor=request.user, text=payload.text, revision=payload.revision
    )
    return _rect_json(r)


@manage_router.post(
    "/operations/rectifications/{rect_id}/recheck",
    response={200: RectificationOut, 409: Conflict},
    summary="Re-check a responded rectification: passed closes it, not passed opens it again",
)
def recheck_rectification(request, rect_id: int, payload: RecheckIn):
    from yizhan.operations import rectifications

    r = rectifications.recheck(
        _rect(request, rect_id),
        actor=request.user,
        passed=payload.passed,
        note=payload.note,
        working_days=payload.working_days,
        revision=payload.revision,
    )
    return _rect_json(r)
