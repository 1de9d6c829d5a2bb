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


# --- contingency plans ---------------------------------------------------------------------------


class MeasureIn(Schema):
    backup: str
    text: str
    owner: str
    working_days: int = 1


class PlanTemplateIn(Schema):
    unit: str = ""
    name: str
    measures: list[dict]
    revision: int | None = None


class PlanTemplateOut(Schema):
    id: int
    unit: str
    name: str
    measures: list[dict]
    revision: int


def _template_json(t) -> dict:
    return {"id": t.pk, "unit": t.unit.code, "name": t.name, "measures": t.measures, "revision": t.revision}


@manage_router.get(
    "/operations/plan-templates",
    response=list[PlanTemplateOut],
    summary="Contingency plan templates you may use (yours, those above you, those below)",
)
def list_plan_templates(request):
    from yizhan.operations import plans

    require(request.user, "read")
    return [_template_json(t) for t in plans.usable_templates(request.user).order_by("pk")[:500]]


@manage_router.post(
    "/operations/plan-templates",
    response={201: PlanTemplateOut},
    summary="Create a plan template (head office or a province) with its four backups",
    description=(
        "`measures`: [{backup: business|staff|service|management, text, owner: outlet_manager|"
        "outlet_staff|backup_staff|admin_above, working_days}], at least one per backup. `unit`: the "
        "owning unit (default: yours)."
    ),
)
def post_plan_template(request, payload: PlanTemplateIn):
    from yizhan.operations import plans

    scope = require(request.user, "admin")
    unit = (
        get_for_user(request.user, Unit, "admin", code=payload.unit)
        if payload.unit
        else Unit.objects.get(pk=scope.unit_id)
    )
    t = plans.save_template(unit, actor=request.user, name=payload.name, measures=payload.measures)
    return Status(201, _template_json(t))


@manage_router.put(
    "/operations/plan-templates/{template_id}",
    response={200: PlanTemplateOut, 409: Conflict},
    summary="Change a plan template",
)
def put_plan_template(request, template_id: int, payload: PlanTemplateIn):
    from yizhan.operations import plans
    from yizhan.operations.models import PlanTemplate

    t = get_for_user(request.user, PlanTemplate.objects.select_related("unit"), "admin", pk=template_id)
    t = plans.save_template(
        t.unit,
        actor=request.user,
        name=payload.name,
        measures=payload.measures,
        template=t,
        revision=payload.revision,
    )
    return _template_json(t)


class OutletPlanIn(Schema):
    template: int | None = None  # empty: the plan's current one
    backup_staff: list[int] = []
    cash_route: str = ""
    service_channel: str = ""
    revision: int | None = None


class OutletPlanOut(Schema):
    outlet: str
    template: int
    measures: list[dict]
    backup_staff: list[dict]
    cash_route: str
    service_channel: str
    revision: int


def _plan_json(plan) -> dict:
    return {
        "outlet": plan.unit.code,
        "template": plan.template_id,
        "measures": plan.measures,
        "backup_staff": [
            {"id": e.pk, "name": e.name, "unit": e.unit.code}
            for e in plan.backup_staff.select_related("unit")
        ],
        "cash_route": plan.cash_route,
        "service_channel": plan.service_channel,
        "revision": plan.revision,
    }


@manage_router.get(
    "/operations/outlets/{code}/plan", response=OutletPlanOut, summary="An outlet's contingency plan"
)
def get_outlet_plan(request, code: str):
    from yizhan.operations.models import OutletPlan

    unit = get_for_user(request.user, Unit, code=code)
    plan = OutletPlan.objects.filter(unit=unit).select_related("unit").first()
    if plan is None:
        raise Http404
    return _plan_json(plan)


@manage_router.put(
    "/operations/outlets/{code}/plan",
    response={200: OutletPlanOut, 409: Conflict},
    summary="Fill an outlet's plan from a template: backup staff (roster entries of other outlets), cash route, channel",
)
def put_outlet_plan(request, code: str, payload: OutletPlanIn):
    from yizhan.operations import plans
    from yizhan.operations.models import OutletPlan

    unit = get_for_user(request.user, Unit, "change", code=code)
    data = payload.dict()
    if data["template"] is None:
        data["template"] = OutletPlan.objects.filter(unit=unit).values_list("template_id", flat=True).first()
    plan = plans.fill_plan(unit, actor=request.user, **data)
    return _plan_json(plan)


class ActivateIn(Schema):
    template: int
    reason: str
    unit: str = ""
    outlets: list[str] | str = []
    state: str = "limited"
    counter_windows: int | None = None
    self_service_24h: bool = False
    notice: str = ""


class ActivationOut(Schema):
    id: int
    template: int
    root: str
    reason: str
    state: str
    active: bool
    activated_at: datetime.datetime
    deactivated_at: datetime.datetime | None
    outlets: list[str]
    revision: int
    progress: dict | None = None


def _activation_json(a, progress=None) -> dict:
    return {
        "id": a.pk,
        "template": a.template_id,
        "root": a.root.code,
        "reason": a.reason,
        "state": a.state,
        "active": a.is_active,
        "activated_at": a.activated_at,
        "deactivated_at": a.deactivated_at,
        "outlets": list(a.outlets.values_list("unit__code", flat=True)),
        "revision": a.revision,
        "progress": progress,
    }


def _progress_json(p) -> dict:
    strip = lambda row: {**row, "unit": row["unit"].code} if "unit" in row else row  # noqa: E731
    return {"total": p["total"], "below": [strip(r) for r in p["below"]]}


@manage_router.post(
    "/operations/activations",
    response={201: ActivationOut},
    summary="Activate a plan for a subtree (`unit`) or hand-picked `outlets`, with a reason",
    description=(
        "Province and city admins. Sets each outlet's operating status (`state`: limited, closed, "
        "closed_by_order), assigns the measures as tasks due in working days and notifies the people "
        "named. Any outlet outside your subtree refuses the whole activation (422 naming the field)."
    ),
)
def post_activation(request, payload: ActivateIn):
    from yizhan.operations import plans

    require(request.user, "admin")
    data = payload.dict()
    a = plans.activate(data.pop("template"), actor=request.user, **data)
    return Status(201, _activation_json(a))


@manage_router.get(
    "/operations/activations", response=list[ActivationOut], summary="Plan activations visible from your unit"
)
def list_activations(request, active: bool | None = None):
    from yizhan.operations.models import PlanActivation

    require(request.user, "read")
    items = PlanActivation.objects.for_user(request.user).select_related("root")
    if active is not None:
        items = items.filter(deactivated_at__isnull=active)
    return [_activation_json(a) for a in items.order_by("-activated_at")[:200]]


@manage_router.get(
    "/operations/activations/{activation_id}",
    response=ActivationOut,
    summary="An activation with its progress per unit directly below `unit` (default: its root)",
)
def get_activation(request, activation_id: int, unit: str = ""):
    from yizhan.operations import plans
    from yizhan.operations.models import PlanActivation

    a = get_for_user(request.user, PlanActivation.objects.select_related("root"), pk=activation_id)
    scope = require(request.user, "read")
    here = a.root if scope.covers(a.root.path) else Unit.objects.get(pk=scope.unit_id)
    if unit:
        here = get_for_user(request.user, Unit, code=unit)
    return _activation_json(a, _progress_json(plans.progress(a, here)))


class RevisionIn(Schema):
    revision: int | None = None


@manage_router.post(
    "/operations/activations/{activation_id}/deactivate",
    response={200: ActivationOut, 409: Conflict},
    summary="Deactivate: the outlets' statuses before the activation come back",
)
def post_deactivation(request, activation_id: int, payload: RevisionIn):
    from yizhan.operations import plans
    from yizhan.operations.models import PlanActivation

    a = get_for_user(request.user, PlanActivation.objects.select_related("root"), "admin", pk=activation_id)
    return _activation_json(plans.deactivate(a, actor=request.user, revision=payload.revision))


class TaskDoneIn(Schema):
    note: str = ""
    revision: int | None = None


class PlanTaskOut(Schema):
    id: int
    activation: int
    outlet: str
    backup: str
    text: str
    owner: str
    due_on: datetime.date
    done_at: datetime.datetime | None
    note: str
    revision: int


def _task_json(t) -> dict:
    return {
        "id": t.pk,
        "activation": t.activation_id,
        "outlet": t.unit.code,
        "backup": t.backup,
        "text": t.text,
        "owner": t.owner,
        "due_on": t.due_on,
        "done_at": t.done_at,
        "note": t.note,
        "revision": t.revision,
    }


@manage_router.get(
    "/operations/plan-tasks", response=list[PlanTaskOut], summary="Measures of active plans in your subtree"
)
def list_plan_tasks(request, open: bool = True):
    from yizhan.operations.models import PlanTask

    require(request.user, "read")
    items = (
        scoped(request.user, PlanTask).filter(activation__deactivated_at__isnull=True).select_related("unit")
    )
    if open:
        items = items.open()
    return [_task_json(t) for t in items.order_by("due_on", "pk")[:1000]]


@manage_router.post(
    "/operations/plan-tasks/{task_id}/done",
    response={200: PlanTaskOut, 409: Conflict},
    summary="Mark a measure done",
)
def post_task_done(request, task_id: int, payload: TaskDoneIn):
    from yizhan.operations import plans
    from yizhan.operations.models import PlanTask

    t = get_for_user(request.user, PlanTask.objects.select_related("unit"), "change", pk=task_id)
    return _task_json(
        plans.complete_task(t, actor=request.user, note=payload.note, revision=payload.revision)
    )


# --- checklists and disinfection ----------------------------------------------------------------


class ChecklistTemplateIn(Schema):
    unit: str = ""
    items: list[dict]


class ChecklistTemplateOut(Schema):
    id: int
    unit: str
    version: int
    items: list[dict]


@manage_router.post(
    "/operations/checklist-templates",
    response={201: ChecklistTemplateOut},
    summary="Publish a new version of a unit's opening checklist (head office or a province)",
    description="`items`: [{phase: before|during|after, text, options: [answers] (e.g. withdraw_only)}].",
)
def post_checklist_template(request, payload: ChecklistTemplateIn):
    from yizhan.operations import controls

    scope = require(request.user, "admin")
    unit = (
        get_for_user(request.user, Unit, "admin", code=payload.unit)
        if payload.unit
        else Unit.objects.get(pk=scope.unit_id)
    )
    t = controls.publish_checklist(unit, actor=request.user, items=payload.items)
    return Status(201, {"id": t.pk, "unit": unit.code, "version": t.version, "items": t.items})


class ChecklistIn(Schema):
    answers: dict
    revision: int | None = None


class ChecklistOut(Schema):
    outlet: str
    day: datetime.date
    version: int
    items: list[dict]
    missing: int
    saved: bool
    revision: int


def _checklist_json(c) -> dict:
    return {
        "outlet": c.unit.code,
        "day": c.day,
        "version": c.version,
        "items": c.items,
        "missing": c.missing,
        "saved": c.pk is not None,
        "revision": c.revision,
    }


@manage_router.get(
    "/operations/outlets/{code}/checklists/{day}",
    response=ChecklistOut,
    summary="An outlet's checklist for a day (unsaved: the current template's items, all missing)",
)
def get_checklist(request, code: str, day: IsoDate):
    from yizhan.operations import controls

    unit = get_for_user(request.user, Unit.objects.filter(kind=UnitKind.OUTLET), code=code)
    return _checklist_json(controls.checklist_for(unit, day))


@manage_router.put(
    "/operations/outlets/{code}/checklists/{day}",
    response={200: ChecklistOut, 409: Conflict},
    summary="Tick items of an outlet's checklist: `answers` maps item numbers (from 1) to true/false or an answer",
    description="Today or the last 7 days; a day in the future is refused (422 naming `day`).",
)
def put_checklist(request, code: str, day: str, payload: ChecklistIn):
    from yizhan.operations import controls

    unit = get_for_user(request.user, Unit.objects.filter(kind=UnitKind.OUTLET), "change", code=code)
    c = controls.fill_checklist(
        unit, actor=request.user, day=day, answers=payload.answers, revision=payload.revision
    )
    return _checklist_json(c)


class AreaIn(Schema):
    name: str
    kind: str = "other"
    every_hours: int = 4


class AreaOut(Schema):
    id: int
    outlet: str
    name: str
    kind: str
    every_hours: int
    last: datetime.datetime | None
    due: datetime.datetime | None
    overdue: bool
    revision: int


def _area_json(row) -> dict:
    a = row["area"]
    return {
        "id": a.pk,
        "outlet": a.unit.code,
        "name": a.name,
        "kind": a.kind,
        "every_hours": a.every_hours,
        "last": row["last"],
        "due": row["due"],
        "overdue": row["overdue"],
        "revision": a.revision,
    }


@manage_router.get(
    "/operations/outlets/{code}/disinfection-areas",
    response=list[AreaOut],
    summary="An outlet's areas with the last disinfection and whether one is overdue",
)
def list_areas(request, code: str):
    from yizhan.operations import controls

    unit = get_for_user(request.user, Unit.objects.filter(kind=UnitKind.OUTLET), code=code)
    return [_area_json(r) for r in controls.areas_due(unit)]


@manage_router.post(
    "/operations/outlets/{code}/disinfection-areas",
    response={201: AreaOut},
    summary="Add an area to disinfect (counters, self_service, station, lift, doors, other)",
)
def post_area(request, code: str, payload: AreaIn):
    from yizhan.operations import controls

    unit = get_for_user(request.user, Unit.objects.filter(kind=UnitKind.OUTLET), "change", code=code)
    area = controls.add_area(unit, actor=request.user, **payload.dict())
    row = next(r for r in controls.areas_due(unit) if r["area"].pk == area.pk)
    return Status(201, _area_json(row))


class DisinfectionIn(Schema):
    at: str | None = None
    note: str = ""


@manage_router.post(
    "/operations/disinfection-areas/{area_id}/log",
    response={201: AreaOut},
    summary="Record a disinfection of an area (now, or `at` within the last 24 hours)",
)
def post_disinfection(request, area_id: int, payload: DisinfectionIn):
    from yizhan.operations import controls
    from yizhan.operations.models import DisinfectionArea

    area = get_for_user(request.user, DisinfectionArea.objects.select_related("unit"), "change", pk=area_id)
    controls.log_disinfection(area, actor=request.user, at=payload.at, note=payload.note)
    row = next(r for r in controls.areas_due(area.unit) if r["area"].pk == area.pk)
    return Status(201, _area_json(row))
