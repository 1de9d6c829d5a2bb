"""Contingency plans (应急预案) with the four backups — business, staff, service, management.

    save_template(unit, actor=, name=, measures=[…])          head office or a province keeps templates
    fill_plan(outlet, actor=, template=, backup_staff=[…], …)  an outlet's own plan from a template
    activate(template, actor=, reason=, unit= | outlets=[…])   a province/city admin activates it
    complete_task(task, actor=, note=)                          a measure done
    deactivate(activation, actor=)                              the statuses before it come back

Activation sets each outlet's operating status through `services.schedule_status` (so the public
side follows), ends or withdraws the windows that were in its way and keeps them as snapshots;
deactivation ends the activation's window and schedules those snapshots again from now (the parts
not yet over). The measures become `PlanTask`s due in working days (the stations calendar, as
rectifications count them) and the people named — the outlet's managers and its backup staff —
are told through `notify()`. Everything for
all outlets runs in one transaction: an outlet that cannot take the plan refuses the whole
activation, naming it.
"""

import datetime

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Count, Q
from django.utils import timezone
from django.utils.translation import gettext as _

from yizhan.audit.services import diff, record, snapshot
from yizhan.core import concurrency
from yizhan.operations import services
from yizhan.operations.models import (
    ActivatedOutlet,
    Backup,
    OperatingState,
    OperatingStatus,
    OutletPlan,
    OwnerRole,
    PlanActivation,
    PlanTask,
    PlanTemplate,
    RosterEntry,
)
from yizhan.orgs.models import Membership, Role, Unit, UnitKind
from yizhan.orgs.scoping import Scope, scope_for

MAX_MEASURES = 60
MAX_OUTLETS = 2000
TEMPLATE_OWNERS = {UnitKind.HEAD_OFFICE, UnitKind.PROVINCE}
ACTIVATORS = {UnitKind.HEAD_OFFICE, UnitKind.PROVINCE, UnitKind.CITY}
ACTIVATION_STATES = (OperatingState.LIMITED, OperatingState.CLOSED, OperatingState.CLOSED_BY_ORDER)
WINDOW_FIELDS = ["state", "starts_at", "ends_at", "counter_windows", "self_service_24h", "notice", "reason"]

# The four-backup plan of seeds/001 (Liaoning), the default a template starts from.
DEFAULT_MEASURES = [
    ("business", "开放 1 个柜台窗口，其余业务引导至自助设备和手机银行", "outlet_manager", 1),
    ("business", "大额取现预约办理，备足现金", "outlet_manager", 2),
    ("staff", "备岗人员到岗待命，熟悉网点系统和岗位", "backup_staff", 1),
    ("staff", "员工分组轮岗，每组独立作业", "outlet_manager", 1),
    ("service", "自助银行 24 小时开放，每 4 小时消毒一次", "outlet_staff", 1),
    ("service", "公告备用服务渠道和咨询电话", "outlet_manager", 1),
    ("management", "每日向上级行报告营业和防控情况", "outlet_manager", 1),
    ("management", "上级行视频抽查网点防控落实情况", "admin_above", 3),
]


def default_measures() -> list[dict]:
    return [{"backup": b, "text": t, "owner": o, "working_days": d} for b, t, o, d in DEFAULT_MEASURES]


def _user(actor):
    return actor if getattr(actor, "pk", None) else None


def clean_measures(measures) -> list[dict]:
    """Each measure: one of the four backups, its text, the owner role, working days (1–60).
    A plan has at least one measure in each backup."""
    from yizhan.operations.rectifications import clean_working_days

    if not isinstance(measures, list) or not measures:
        raise ValidationError({"measures": _("Give the measures: a list, at least one per backup.")})
    if len(measures) > MAX_MEASURES:
        raise ValidationError({"measures": _("At most 60 measures.")})
    out, errors = [], {}
    for n, m in enumerate(measures, start=1):
        if not isinstance(m, dict):
            errors[f"measures[{n}]"] = _("Each measure has its backup, text, owner and working days.")
            continue
        backup, owner = str(m.get("backup") or ""), str(m.get("owner") or "")
        text = str(m.get("text") or "").strip()
        if backup not in Backup.values:
            errors[f"measures[{n}].backup"] = _("Choose business, staff, service or management.")
        elif not text or len(text) > 300:
            errors[f"measures[{n}].text"] = _("Say what is to be done, in at most 300 characters.")
        elif owner not in OwnerRole.values:
            errors[f"measures[{n}].owner"] = _(
                "Choose outlet_manager, outlet_staff, backup_staff or admin_above."
            )
        else:
            try:
                days = clean_working_days(m.get("working_days", 1), f"measures[{n}].working_days")
            except ValidationError as exc:
                errors.update({k: v[0] for k, v in exc.message_dict.items()})
                continue
            out.append({"backup": backup, "text": text, "owner": owner, "working_days": days})
    if not errors:
        missing = [str(label) for value, label in Backup.choices if value not in {m["backup"] for m in out}]
        if missing:
            errors["measures"] = _("Every backup needs a measure; missing: %(backups)s.") % {
                "backups": "、".join(missing)
            }
    if errors:
        raise ValidationError(errors)
    return out


# --- templates ---------------------------------------------------------------------------------


@transaction.atomic
def save_template(
    unit: Unit, *, actor, name: str, measures, template: PlanTemplate | None = None, revision=None
) -> PlanTemplate:
    """Create a template for `unit` (head office or a province), or change `template`."""
    scope = scope_for(actor) if actor is not None else None
    if template is not None:
        template = PlanTemplate.objects.select_for_update().select_related("unit").get(pk=template.pk)
        unit = template.unit
    if scope is not None and not (scope.can("admin") and scope.covers(unit.path)):
        raise PermissionDenied
    errors = {}
    if unit.kind not in TEMPLATE_OWNERS:
        errors["unit"] = _("Plan templates are kept by head office or a provincial branch.")
    name = str(name or "").strip()
    if not name or len(name) > 100:
        errors["name"] = _("Give the plan a name of at most 100 characters.")
    elif PlanTemplate.objects.filter(unit=unit, name=name).exclude(pk=getattr(template, "pk", None)).exists():
        errors["name"] = _("This unit already has a plan of that name.")
    try:
        measures = clean_measures(measures)
    except ValidationError as exc:
        errors.update({k: v[0] for k, v in exc.message_dict.items()})
    if errors:
        raise ValidationError(errors)
    if template is None:
        template = PlanTemplate.objects.create(
            unit=unit, name=name, measures=measures, created_by=_user(actor)
        )
        record(
            "operations.plan.template_saved",
            template,
            actor=actor,
            changes={"name": [None, name], "measures": [None, len(measures)]},
        )
        return template
    concurrency.check(template, revision, actor=actor)
    before = snapshot(template, ["name", "measures"])
    template.name, template.measures = name, measures
    changes = concurrency.advance(template, diff(before, snapshot(template, ["name", "measures"])))
    template.save()
    record("operations.plan.template_saved", template, actor=actor, changes=changes)
    return template


def usable_templates(user_or_scope):
    scope = user_or_scope if isinstance(user_or_scope, Scope) else scope_for(user_or_scope)
    return PlanTemplate.objects.usable_by(scope).select_related("unit")


def _clean_template(template, actor, field="template") -> PlanTemplate:
    found = usable_templates(actor) if actor is not None else PlanTemplate.objects.all()
    if not isinstance(template, PlanTemplate):
        template = found.filter(pk=template if str(template or "").isdigit() else None).first()
    elif not found.filter(pk=template.pk).exists():
        template = None
    if template is None:
        raise ValidationError({field: _("Unknown plan template, or one you cannot use.")})
    return template


# --- an outlet's own plan ----------------------------------------------------------------------


@transaction.atomic
def fill_plan(
    outlet: Unit,
    *,
    actor,
    template,
    backup_staff=(),
    cash_route: str = "",
    service_channel: str = "",
    measures=None,
    revision=None,
) -> OutletPlan:
    """Fill (or refill) an outlet's plan from a template; backup staff are roster entries of
    other outlets, in the actor's part of the network and on the roster today."""
    scope = scope_for(actor) if actor is not None else None
    if scope is not None and not (scope.can("change") and scope.covers(outlet.path)):
        raise PermissionDenied
    errors = {}
    if outlet.kind != UnitKind.OUTLET:
        errors["outlet"] = _("A contingency plan is filled for an outlet.")
    try:
        template = _clean_template(template, actor)
    except ValidationError as exc:
        errors.update({k: v[0] for k, v in exc.message_dict.items()})
        template = None
    try:
        measures = clean_measures(
            measures if measures is not None else (template.measures if template else [])
        )
    except ValidationError as exc:
        if template is not None:
            errors.update({k: v[0] for k, v in exc.message_dict.items()})
    ids = []
    for value in backup_staff or ():
        if not str(value).isdigit():
            errors["backup_staff"] = _("Name backup staff by their roster entries.")
            break
        ids.append(int(value))
    staff = []
    if ids and "backup_staff" not in errors:
        today = timezone.localdate()
        found = RosterEntry.objects.filter(pk__in=ids).on(today).select_related("unit")
        if scope is not None:
            found = found.for_user(scope)
        staff = list(found)
        if len(staff) != len(set(ids)):
            errors["backup_staff"] = _(
                "Unknown person, not on the roster today, or outside your part of the network."
            )
        elif any(e.unit_id == outlet.pk for e in staff):
            errors["backup_staff"] = _("Backup staff come from other outlets, not this one.")
    cash_route, service_channel = str(cash_route or "").strip(), str(service_channel or "").strip()
    if len(cash_route) > 300:
        errors["cash_route"] = _("At most 300 characters.")
    if len(service_channel) > 300:
        errors["service_channel"] = _("At most 300 characters.")
    if errors:
        raise ValidationError(errors)
    plan = OutletPlan.objects.select_for_update().filter(unit=outlet).first()
    fields = ["template_id", "measures", "cash_route", "service_channel"]
    if plan is None:
        plan = OutletPlan.objects.create(
            unit=outlet,
            template=template,
            measures=measures,
            cash_route=cash_route,
            service_channel=service_channel,
        )
        plan.backup_staff.set(staff)
        record(
            "operations.plan.filled",
            plan,
            actor=actor,
            changes={"template": [None, template.name], "backup_staff": [None, [e.name for e in staff]]},
        )
        return plan
    concurrency.check(plan, revision, actor=actor)
    before = {**snapshot(plan, fields), "backup_staff": sorted(e.name for e in plan.backup_staff.all())}
    plan.template, plan.measures, plan.cash_route, plan.service_channel = (
        template,
        measures,
        cash_route,
        service_channel,
    )
    plan.updated_at = timezone.now()
    after = {**snapshot(plan, fields), "backup_staff": sorted(e.name for e in staff)}
    changes = concurrency.advance(plan, diff(before, after))
    plan.save()
    plan.backup_staff.set(staff)
    record("operations.plan.filled", plan, actor=actor, changes=changes)
    return plan


# --- activation --------------------------------------------------------------------------------


def _require_activator(actor) -> Scope | None:
    if actor is None:
        return None
    scope = scope_for(actor)
    if not scope.can("admin"):
        raise PermissionDenied
    unit = Unit.objects.get(pk=scope.unit_id)
    if unit.kind not in ACTIVATORS:
        raise PermissionDenied
    return scope


def _outlets(scope: Scope | None, unit, outlets) -> tuple[Unit, list[Unit]]:
    """The root and the outlets of an activation; refused naming the field when any is unknown or
    outside the scope."""
    if unit and outlets:
        raise ValidationError({"outlets": _("Choose a subtree or a list of outlets, not both.")})
    if unit:
        root = Unit.objects.filter(code=str(unit).strip()).first()
        if root is None or (scope is not None and not scope.covers(root.path)):
            raise ValidationError({"unit": _("Unknown unit, or one outside your part of the network.")})
        found = list(
            Unit.objects.filter(
                path__startswith=root.path, kind=UnitKind.OUTLET, closed_on__isnull=True
            ).order_by("path")
        )
        if not found:
            raise ValidationError({"unit": _("There is no open outlet in this subtree.")})
        return root, found
    codes = outlets if isinstance(outlets, list | tuple) else str(outlets or "").replace("，", ",").split(",")
    codes = list(dict.fromkeys(str(c).strip() for c in codes if str(c).strip()))
    if not codes:
        raise ValidationError({"outlets": _("Choose a subtree or at least one outlet.")})
    if len(codes) > MAX_OUTLETS:
        raise ValidationError({"outlets": _("At most 2000 outlets at once.")})
    by_code = {
        u.code: u for u in Unit.objects.filter(code__in=codes, kind=UnitKind.OUTLET, closed_on__isnull=True)
    }
    bad = [c for c in codes if c not in by_code or (scope is not None and not scope.covers(by_code[c].path))]
    if bad:
        raise ValidationError(
            {
                "outlets": _("Unknown outlets, or outside your part of the network: %(codes)s.")
                % {"codes": ", ".join(bad[:20])}
            }
        )
    root = Unit.objects.get(pk=scope.unit_id) if scope is not None else _common_root(list(by_code.values()))
    return root, [by_code[c] for c in codes]


def _common_root(units: list[Unit]) -> Unit:
    chains = [u.ancestor_ids() for u in units]
    common = None
    for ids in zip(*chains, strict=False):
        if len(set(ids)) != 1:
            break
        common = ids[0]
    return Unit.objects.get(pk=common)


def _window_snapshot(entry: OperatingStatus) -> dict:
    return {
        "id": entry.pk,
        "state": entry.state,
        "starts_at": entry.starts_at.isoformat(),
        "ends_at": entry.ends_at.isoformat() if entry.ends_at else None,
        "counter_windows": entry.counter_windows,
        "self_service_24h": entry.self_service_24h,
        "notice": entry.notice,
        "reason": entry.reason,
    }


def _keyed(exc: ValidationError, outlet: Unit) -> ValidationError:
    """An outlet's own refusal, named: the field and which outlet."""
    return ValidationError({k: f"{outlet.name} ({outlet.code}): {v[0]}" for k, v in exc.message_dict.items()})


@transaction.atomic
def activate(
    template,
    *,
    actor,
    reason: str,
    unit=None,
    outlets=None,
    state: str = OperatingState.LIMITED,
    counter_windows=None,
    self_service_24h: bool = False,
    notice: str = "",
    today: datetime.date | None = None,
) -> PlanActivation:
    scope = _require_activator(actor)
    errors = {}
    try:
        template = _clean_template(template, actor)
    except ValidationError as exc:
        errors.update({k: v[0] for k, v in exc.message_dict.items()})
    reason = str(reason or "").strip()
    if not reason:
        errors["reason"] = _("Say why the plan is activated.")
    elif len(reason) > 500:
        errors["reason"] = _("At most 500 characters.")
    if state not in ACTIVATION_STATES:
        errors["state"] = _("Choose limited, closed or closed_by_order.")
    try:
        root, units = _outlets(scope, unit, outlets)
    except ValidationError as exc:
        errors.update({k: v[0] for k, v in exc.message_dict.items()})
        units = []
    if units and not errors:
        # Two admins activating for the same outlet at once: the second waits here, then sees it busy.
        list(
            Unit.objects.select_for_update()
            .filter(pk__in=[u.pk for u in units])
            .order_by("pk")
            .values_list("pk")
        )
        busy = list(
            ActivatedOutlet.objects.filter(unit__in=units, activation__deactivated_at__isnull=True)
            .values_list("unit__code", flat=True)
            .distinct()
        )
        if busy:
            errors["outlets"] = _("Already under an active plan: %(codes)s.") % {
                "codes": ", ".join(busy[:20])
            }
    if errors:
        raise ValidationError(errors)
    today = today or timezone.localdate()
    activation = PlanActivation.objects.create(
        root=root,
        template=template,
        reason=reason,
        state=state,
        counter_windows=counter_windows if state == OperatingState.LIMITED else None,
        self_service_24h=bool(self_service_24h),
        notice=str(notice or "").strip()[:500],
        activated_by=_user(actor),
    )
    plans = {p.unit_id: p for p in OutletPlan.objects.filter(unit__in=units).prefetch_related("backup_staff")}
    tasks = []
    for outlet in units:
        previous = _clear_way(outlet, actor)
        try:
            window = services.schedule_status(
                outlet,
                actor=actor,
                scope=scope,
                state=state,
                counter_windows=counter_windows,
                self_service_24h=self_service_24h,
                notice=notice,
                reason=_("Contingency plan activated: %(reason)s") % {"reason": reason},
            )
        except ValidationError as exc:
            raise _keyed(exc, outlet) from None
        ActivatedOutlet.objects.create(activation=activation, unit=outlet, status=window, previous=previous)
        plan = plans.get(outlet.pk)
        measures = (
            plan.measures if plan is not None and plan.template_id == template.pk else template.measures
        )
        tasks += [
            PlanTask(
                activation=activation,
                unit=outlet,
                backup=m["backup"],
                text=m["text"],
                owner=m["owner"],
                due_on=_deadline(today, m["working_days"]),
            )
            for m in measures
        ]
    PlanTask.objects.bulk_create(tasks)
    record(
        "operations.plan.activated",
        activation,
        actor=actor,
        changes={
            "plan": [None, template.name],
            "reason": [None, reason],
            "outlets": [None, len(units)],
            "state": [None, state],
        },
    )
    _tell_activation(activation, units, plans, tasks)
    return activation


def _deadline(day, working_days):
    from yizhan.operations.rectifications import deadline

    return deadline(day, working_days)


def _clear_way(outlet: Unit, actor) -> list[dict]:
    """End the window in force (when it has an end: one without is ended by the new window itself)
    and withdraw those scheduled ahead; returns them as snapshots for deactivation."""
    now = timezone.now()
    previous = []
    for entry in OperatingStatus.objects.current_or_future(now).filter(unit=outlet).order_by("starts_at"):
        previous.append(_window_snapshot(entry))
        if entry.starts_at > now:
            services.cancel_status(entry, actor=actor)
        elif entry.ends_at is not None:
            services.end_status(entry, actor=actor, at=now)
    return previous


def _tell_activation(activation: PlanActivation, units, plans, tasks) -> None:
    from yizhan.notify.services import Recipient, notify

    first_due = {}
    for task in tasks:
        first_due[task.unit_id] = min(first_due.get(task.unit_id, task.due_on), task.due_on)
    managers: dict[int, list] = {}
    for m in Membership.objects.filter(
        unit__in=units, role__in=[Role.MANAGER, Role.ADMIN], user__is_active=True
    ).select_related("user"):
        managers.setdefault(m.unit_id, []).append(m.user)
    for outlet in units:
        context = {
            "outlet": outlet.name,
            "plan": activation.template.name,
            "reason": activation.reason,
            "tasks": sum(1 for t in tasks if t.unit_id == outlet.pk),
            "due_on": first_due[outlet.pk].isoformat() if outlet.pk in first_due else "",
        }
        people = [Recipient(unit_id=outlet.pk, user=u) for u in managers.get(outlet.pk, [])]
        if people:
            notify(people, "plan-activated", context, key=f"plan-{activation.pk}-{outlet.pk}")
        plan = plans.get(outlet.pk)
        backups = [e for e in (plan.backup_staff.all() if plan else []) if e.user_id and e.user.is_active]
        if backups:
            notify(
                [Recipient(unit_id=e.unit_id, user=e.user) for e in backups],
                "plan-backup-staff",
                context,
                key=f"plan-backup-{activation.pk}-{outlet.pk}",
            )


@transaction.atomic
def deactivate(activation: PlanActivation, *, actor, revision=None) -> PlanActivation:
    """End the activation: each outlet's activation window ends now and the windows it ended or
    withdrew are scheduled again from now, where they are not over (an outlet whose window
    someone already ended by hand keeps what they set)."""
    activation = PlanActivation.objects.select_for_update().get(pk=activation.pk)
    concurrency.check(activation, revision, actor=actor)
    scope = _require_activator(actor)
    if scope is not None and not scope.covers(activation.root.path):
        raise PermissionDenied
    if activation.deactivated_at is not None:
        raise ValidationError({"activation": _("This plan was deactivated already.")})
    now = timezone.now()
    restored = 0
    for row in activation.outlets.select_related("unit", "status"):
        window = row.status
        if window is None or not window.covers(now):
            continue
        if window.starts_at >= now:
            services.cancel_status(window, actor=actor)
        else:
            services.end_status(window, actor=actor, at=now)
        for snap in row.previous:
            ends_at = datetime.datetime.fromisoformat(snap["ends_at"]) if snap["ends_at"] else None
            if ends_at is not None and ends_at <= now:
                continue
            starts_at = max(datetime.datetime.fromisoformat(snap["starts_at"]), now)
            try:
                services.schedule_status(
                    row.unit,
                    actor=actor,
                    allow_past=True,
                    **{**{k: snap[k] for k in WINDOW_FIELDS}, "starts_at": starts_at, "ends_at": ends_at},
                )
            except ValidationError as exc:
                raise _keyed(exc, row.unit) from None
        row.restored = True
        row.save(update_fields=["restored"])
        restored += 1
    before = snapshot(activation, ["deactivated_at"])
    activation.deactivated_at, activation.deactivated_by = now, _user(actor)
    changes = concurrency.advance(activation, diff(before, snapshot(activation, ["deactivated_at"])))
    activation.save()
    record(
        "operations.plan.deactivated",
        activation,
        actor=actor,
        changes={**changes, "restored": [None, restored]},
    )
    return activation


@transaction.atomic
def complete_task(task: PlanTask, *, actor, note: str = "", revision=None) -> PlanTask:
    """A measure done: by the outlet's staff or someone above it."""
    task = PlanTask.objects.select_for_update().select_related("unit", "activation").get(pk=task.pk)
    concurrency.check(task, revision, actor=actor)
    if actor is not None:
        scope = scope_for(actor)
        if not (scope.can("change") and scope.covers(task.unit.path)):
            raise PermissionDenied
    note = str(note or "").strip()
    if len(note) > 500:
        raise ValidationError({"note": _("At most 500 characters.")})
    if task.done_at is not None:
        raise ValidationError({"task": _("This measure is done already.")})
    if not task.activation.is_active:
        raise ValidationError({"task": _("The plan is no longer active.")})
    before = snapshot(task, ["done_at", "note"])
    task.done_at, task.done_by, task.note = timezone.now(), _user(actor), note
    changes = concurrency.advance(task, diff(before, snapshot(task, ["done_at", "note"])))
    task.save()
    record("operations.plan.task_done", task, actor=actor, changes=changes)
    return task


# --- progress up the tree ----------------------------------------------------------------------


def progress(activation: PlanActivation, unit: Unit, today: datetime.date | None = None) -> dict:
    """The activation's progress in `unit`'s subtree and per unit directly below it: outlets,
    measures done of all, overdue measures."""
    today = today or timezone.localdate()
    tasks = PlanTask.objects.filter(activation=activation, unit__path__startswith=unit.path)
    per_path = (
        tasks.values("unit__path")
        .annotate(
            total=Count("pk"),
            done=Count("pk", filter=Q(done_at__isnull=False)),
            overdue=Count("pk", filter=Q(done_at__isnull=True, due_on__lt=today)),
        )
        .order_by()
    )
    rows = {}
    children = list(Unit.objects.filter(parent=unit).order_by("path"))
    for item in per_path:
        path = item["unit__path"]
        child = next((c for c in children if path.startswith(c.path)), None)
        key = child.pk if child else unit.pk
        row = rows.setdefault(key, {"unit": child or unit, "outlets": 0, "total": 0, "done": 0, "overdue": 0})
        row["outlets"] += 1
        for k in ("total", "done", "overdue"):
            row[k] += item[k]
    below = sorted(rows.values(), key=lambda r: (-r["overdue"], r["done"] - r["total"], r["unit"].path))
    total = {k: sum(r[k] for r in below) for k in ("outlets", "total", "done", "overdue")}
    for row in [*below, total]:
        row["percent"] = round(100 * row["done"] / row["total"]) if row["total"] else 100
    return {"total": total, "below": below}


def active_for(unit: Unit) -> ActivatedOutlet | None:
    """The active activation an outlet is under, if any."""
    return (
        ActivatedOutlet.objects.filter(unit=unit, activation__deactivated_at__isnull=True)
        .select_related("activation")
        .first()
    )
