"""Back-office pages of outlet operations; they translate HTTP and call the verbs in services.py."""

from functools import partial

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from yizhan.core.forms import apply_errors, submit
from yizhan.operations import services
from yizhan.operations.forms import CustomersForm, EndForm, StatusForm
from yizhan.operations.models import DailyCustomers, OperatingStatus
from yizhan.orgs.models import Unit, UnitKind
from yizhan.orgs.scoping import get_for_user, scoped, staff_view


@staff_view("read")
def status_list(request):
    """Outlets of the subtree closed or limited right now, and the changes scheduled ahead."""
    now = timezone.now()
    mine = scoped(request.user, OperatingStatus).select_related("unit")
    unit_code = request.GET.get("unit", "")
    if unit_code:
        within = get_for_user(request.user, Unit, code=unit_code)
        mine = mine.filter(unit__path__startswith=within.path)
    current = list(mine.in_force(now).exclude(state="open").order_by("state", "unit__path")[:500])
    upcoming = list(mine.live().filter(starts_at__gt=now).order_by("starts_at")[:100])
    counts = {
        "closed": sum(e.is_closed for e in current),
        "limited": sum(e.state == "limited" for e in current),
    }
    return render(
        request,
        "operations/status_list.html",
        {"current": current, "upcoming": upcoming, "counts": counts, "unit_code": unit_code},
    )


@staff_view("read")
def outlet_status(request, code):
    unit = get_for_user(request.user, Unit.objects.filter(kind=UnitKind.OUTLET), code=code)
    can_change = request.scope.can("change")
    form = StatusForm(request.POST or None)
    if request.method == "POST":
        if not can_change:
            raise PermissionDenied
        if form.is_valid():
            try:
                services.schedule_status(unit, actor=request.user, **form.cleaned_data)
            except ValidationError as exc:
                apply_errors(form, exc)
            else:
                messages.success(
                    request, _("The operating status is saved; the public station page follows it.")
                )
                return redirect("operations:outlet_status", code=unit.code)
    now = timezone.now()
    history = list(OperatingStatus.objects.filter(unit=unit).order_by("-starts_at")[:100])
    for entry in history:
        entry.in_force = entry.covers(now)
        entry.ended = entry.ends_at is not None and entry.ends_at <= now
        entry.upcoming = entry.cancelled_at is None and entry.starts_at > now
    return render(
        request,
        "operations/outlet_status.html",
        {
            "unit": unit,
            "form": form,
            "can_change": can_change,
            "history": history,
            "current": services.status_in_force(unit, now),
            "customers": DailyCustomers.objects.filter(unit=unit).order_by("-day")[:14],
            "customers_form": CustomersForm(initial={"day": timezone.localdate()}),
        },
    )


@require_POST
@staff_view("read")
def outlet_customers(request, code):
    unit = get_for_user(request.user, Unit.objects.filter(kind=UnitKind.OUTLET), "change", code=code)
    act = partial(services.record_customers, unit, actor=request.user)
    submit(request, CustomersForm(request.POST), act, _("Customers served recorded."))
    return redirect("operations:outlet_status", code=unit.code)


ACTIONS = {
    "end": (services.end_status, gettext_lazy("The status is ended: the outlet runs as usual again.")),
    "withdraw": (services.cancel_status, gettext_lazy("The scheduled status is withdrawn.")),
}


@require_POST
@staff_view("read")
def status_action(request, pk, action):
    if action not in ACTIONS:
        raise Http404
    entry = get_for_user(request.user, OperatingStatus.objects.select_related("unit"), "change", pk=pk)
    verb, done = ACTIONS[action]
    submit(request, EndForm(request.POST), partial(verb, entry, actor=request.user), done)
    return redirect("operations:outlet_status", code=entry.unit.code)


# --- the daily health report -------------------------------------------------------------------


def _day(request, name="day"):
    import datetime

    try:
        return datetime.date.fromisoformat(request.GET.get(name, ""))
    except ValueError:
        return timezone.localdate()


@staff_view("read")
def health_report(request):
    """One phone screen: today's report for me, or — for the desk — for someone of its subtree."""
    from yizhan.operations import health
    from yizhan.operations.forms import HealthReportForm
    from yizhan.operations.models import HealthReport, RosterEntry

    desk_paths = health.desk_paths(request.user)
    entry = health.own_entry(request.user)
    pk = request.POST.get("entry") or request.GET.get("entry")
    # The form names its entry even for one's own report; only someone else's needs the desk.
    if pk and not (entry is not None and str(entry.pk) == pk):
        candidates = RosterEntry.objects.select_related("unit").filter(
            pk__in=[pk] if str(pk).isdigit() else []
        )
        entry = next((e for e in candidates if any(e.unit.path.startswith(p) for p in desk_paths)), None)
        if entry is None:
            raise Http404
    desk = bool(entry is not None and health.is_desk_for(request.user, entry.unit))
    form = HealthReportForm(request.POST or None, desk=desk)
    if request.method == "POST" and entry is not None and form.is_valid():
        try:
            health.submit_report(actor=request.user, entry=entry, **form.cleaned_data)
        except ValidationError as exc:
            apply_errors(form, exc)
        else:
            messages.success(request, _("Thank you: the report is in."))
            if entry.user_id != request.user.pk:
                return redirect("operations:health_people", code=entry.unit.code)
            return redirect("operations:health_report")
    today = timezone.localdate()
    done = HealthReport.objects.filter(entry=entry, day=today).first() if entry is not None else None
    return render(
        request,
        "operations/health_report.html",
        {
            "entry": entry,
            "form": form,
            "done": done,
            "today": today,
            "is_desk": bool(desk_paths),
            "late_after": health.deadline(),
        },
    )


@staff_view("read")
def health_units(request):
    """Completeness of a unit and each unit directly below, for a day or a month."""
    import datetime

    from yizhan.operations import health

    code = request.GET.get("unit") or Unit.objects.get(pk=request.scope.unit_id).code
    unit = get_for_user(request.user, Unit, code=code)
    month = request.GET.get("month", "")
    try:
        first = datetime.date.fromisoformat(f"{month}-01") if month else None
    except ValueError:
        first = None
    if first is not None:
        start = first
        end = (first + datetime.timedelta(days=32)).replace(day=1) - datetime.timedelta(days=1)
        end = min(end, timezone.localdate())
    else:
        start = end = _day(request)
    rows = health.completeness(unit, start, end)
    return render(
        request,
        "operations/health_units.html",
        {"unit": unit, "rows": rows[1:], "total": rows[0], "start": start, "end": end, "month": month},
    )


@staff_view("read")
def health_people(request, code):
    from yizhan.operations import health

    unit = get_for_user(request.user, Unit, code=code)
    day = _day(request)
    rows = health.person_rows(unit, day, request.user)
    return render(
        request,
        "operations/health_people.html",
        {
            "unit": unit,
            "day": day,
            "rows": rows,
            "entitled": health.can_see_health(request.user, unit),
            "is_desk": health.is_desk_for(request.user, unit),
        },
    )


@staff_view("read")
def health_export(request, code):
    """The unit's people for a day as xlsx (Chinese headers). Health data only for the entitled,
    with a reason, which is recorded; masked otherwise."""
    from django.db import transaction
    from django.http import HttpResponse

    from yizhan.audit.services import record
    from yizhan.core.tabular import write_xlsx
    from yizhan.operations import health

    unit = get_for_user(request.user, Unit, code=code)
    day = _day(request)
    reason = request.GET.get("reason", "").strip()[:200]
    rows = health.person_rows(unit, day, request.user)
    with_data = bool(reason) and health.can_see_health(request.user, unit)
    states = dict(HEALTH_STATES)
    headers = ["姓名", "工号", "岗位", "日期", "状态", "体温(°C)", "症状", "外出", "去向", "隔离情况"]
    out = []
    for row in rows:
        entry, report, data = row["entry"], row["report"], row["data"]
        if report is None:
            values = [""] * 5
        elif with_data and not data["masked"]:
            yes_no = "是" if data["travelled"] else "否"
            values = [
                data["temperature"],
                "、".join(data["symptoms"]),
                yes_no,
                data["travel_note"],
                data["isolation"],
            ]
        else:
            values = [health.MASK] * 5
        out.append(
            [
                entry.name,
                entry.employee_no,
                entry.position,
                day.isoformat(),
                str(states[row["state"]]),
                *values,
            ]
        )
    if with_data:
        with transaction.atomic():
            record(
                "operations.health.exported",
                unit,
                actor=request.user,
                changes={"day": [None, day.isoformat()], "reason": [None, reason]},
            )
    body = write_xlsx({"一日一报": (headers, out)})
    response = HttpResponse(
        body, content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    )
    response["Content-Disposition"] = f'attachment; filename="health-{unit.code}-{day.isoformat()}.xlsx"'
    return response


HEALTH_STATES = [
    ("on_time", gettext_lazy("reported")),
    ("late", gettext_lazy("reported late")),
    ("missing", gettext_lazy("missing")),
    ("away", gettext_lazy("on leave")),
    ("not_expected", gettext_lazy("not expected today")),
]


# --- the roster ----------------------------------------------------------------------------------


@staff_view("read")
def roster(request, code):
    from yizhan.operations import health
    from yizhan.operations.forms import LeaveForm, RosterForm
    from yizhan.operations.models import RosterEntry

    unit = get_for_user(request.user, Unit, code=code)
    can_keep = request.scope.role == "admin"
    form = RosterForm(request.POST or None)
    if request.method == "POST":
        if not can_keep:
            raise PermissionDenied
        if form.is_valid():
            try:
                health.add_to_roster(unit, actor=request.user, **form.cleaned_data)
            except ValidationError as exc:
                apply_errors(form, exc)
            else:
                messages.success(request, _("Added to the roster."))
                return redirect("operations:roster", code=unit.code)
    entries = RosterEntry.objects.filter(unit=unit).select_related("user").order_by("name")
    return render(
        request,
        "operations/roster.html",
        {"unit": unit, "entries": entries, "form": form, "can_keep": can_keep, "leave_form": LeaveForm()},
    )


@require_POST
@staff_view("read")
def roster_leave(request, pk):
    from yizhan.operations import health
    from yizhan.operations.forms import LeaveForm
    from yizhan.operations.models import RosterEntry

    entry = get_for_user(request.user, RosterEntry.objects.select_related("unit"), "admin", pk=pk)
    submit(
        request,
        LeaveForm(request.POST),
        partial(health.add_leave, entry, actor=request.user),
        _("Leave recorded."),
    )
    return redirect("operations:roster", code=entry.unit.code)


# --- spot checks and rectifications ------------------------------------------------------------


@staff_view("read")
def inspections(request):
    from yizhan.operations import rectifications
    from yizhan.operations.forms import InspectionForm
    from yizhan.operations.models import Inspection

    form = InspectionForm(request.POST or None)
    if request.method == "POST":
        if not request.scope.can("change"):
            raise PermissionDenied
        if form.is_valid():
            outlet = (
                Unit.objects.for_user(request.user).filter(code=form.cleaned_data["outlet"].strip()).first()
            )
            if outlet is None:
                form.add_error("outlet", _("Unknown outlet, or one outside your part of the network."))
            else:
                items = [
                    {
                        "item": str(label),
                        "ok": request.POST.get(f"item_{n}") != "fail",
                        "note": request.POST.get(f"note_{n}", "")[:1000],
                    }
                    for n, label in enumerate(rectifications.CHECKLIST)
                ]
                try:
                    rectifications.record_inspection(
                        outlet,
                        actor=request.user,
                        kind=form.cleaned_data["kind"],
                        items=items,
                        findings=form.cleaned_data["findings"],
                        working_days=form.cleaned_data["working_days"],
                    )
                except ValidationError as exc:
                    apply_errors(form, exc)
                else:
                    messages.success(
                        request, _("The spot check is recorded; each failed item is a rectification.")
                    )
                    return redirect("operations:rectifications")
    recent = scoped(request.user, Inspection).select_related("unit", "inspector")[:50]
    return render(
        request,
        "operations/inspections.html",
        {
            "form": form,
            "recent": recent,
            "checklist": list(enumerate(rectifications.CHECKLIST)),
            "can_change": request.scope.can("change"),
        },
    )


@staff_view("read")
def rectification_list(request):
    from yizhan.operations import rectifications
    from yizhan.operations.models import Rectification

    today = timezone.localdate()
    unit = Unit.objects.get(pk=request.scope.unit_id)
    if request.GET.get("unit"):
        unit = get_for_user(request.user, Unit, code=request.GET["unit"])
    items = (
        scoped(request.user, Rectification)
        .filter(unit__path__startswith=unit.path)
        .select_related("unit", "escalated_to")
    )
    status = request.GET.get("status", "pending")
    if status == "overdue":
        items = items.overdue(today)
    elif status == "pending":
        items = items.pending()
    for_view = list(items.order_by("status", "due_on")[:500])
    for item in for_view:
        item.overdue_now = item.is_overdue(today)
    return render(
        request,
        "operations/rectifications.html",
        {
            "unit": unit,
            "items": for_view,
            "status": status,
            "overdue_total": scoped(request.user, Rectification)
            .filter(unit__path__startswith=unit.path)
            .overdue(today)
            .count(),
            "overdue_below": rectifications.overdue_below(unit, today),
        },
    )


@staff_view("read")
def rectification_detail(request, pk):
    from yizhan.audit.services import events_for
    from yizhan.operations.forms import RecheckForm, RespondForm
    from yizhan.operations.models import Rectification

    item = get_for_user(request.user, Rectification.objects.select_related("unit", "escalated_to"), pk=pk)
    scope = request.scope
    return render(
        request,
        "operations/rectification_detail.html",
        {
            "item": item,
            "overdue": item.is_overdue(timezone.localdate()),
            "can_respond": scope.can("change") and item.status == "open",
            "can_recheck": scope.can("change")
            and scope.unit_id != item.unit_id
            and item.status == "responded",
            "respond_form": RespondForm(initial={"revision": item.revision}),
            "recheck_form": RecheckForm(initial={"revision": item.revision}),
            "events": events_for(request.user, item).order_by("created_at"),
        },
    )


@require_POST
@staff_view("read")
def rectification_action(request, pk, action):
    from yizhan.operations import rectifications
    from yizhan.operations.forms import RecheckForm, RespondForm
    from yizhan.operations.models import Rectification

    verbs = {
        "respond": (RespondForm, rectifications.respond),
        "recheck": (RecheckForm, rectifications.recheck),
    }
    if action not in verbs:
        raise Http404
    item = get_for_user(request.user, Rectification.objects.select_related("unit"), "change", pk=pk)
    form_class, verb = verbs[action]
    submit(request, form_class(request.POST), partial(verb, item, actor=request.user), _("Saved."))
    return redirect("operations:rectification_detail", pk=item.pk)


# --- contingency plans ---------------------------------------------------------------------------


def _can_activate(request) -> bool:
    from yizhan.operations.plans import ACTIVATORS

    return request.scope.can("admin") and Unit.objects.get(pk=request.scope.unit_id).kind in ACTIVATORS


def _can_keep_templates(request) -> bool:
    from yizhan.operations.plans import TEMPLATE_OWNERS

    return request.scope.can("admin") and Unit.objects.get(pk=request.scope.unit_id).kind in TEMPLATE_OWNERS


@staff_view("read")
def plans(request):
    """Plan templates one may use, activations visible from here, and — for a province or city
    admin — the activation form."""
    from yizhan.operations import plans as plan_services
    from yizhan.operations.forms import ActivateForm
    from yizhan.operations.models import PlanActivation

    templates = list(plan_services.usable_templates(request.user).order_by("unit__level", "name"))
    can_activate = _can_activate(request)
    form = ActivateForm(request.POST or None, templates=templates)
    if request.method == "POST":
        if not can_activate:
            raise PermissionDenied
        if form.is_valid():
            data = form.cleaned_data
            try:
                activation = plan_services.activate(
                    data["template"],
                    actor=request.user,
                    reason=data["reason"],
                    unit=data["unit"].strip(),
                    outlets=data["outlets"],
                    state=data["state"],
                    counter_windows=data["counter_windows"],
                    self_service_24h=data["self_service_24h"],
                    notice=data["notice"],
                )
            except ValidationError as exc:
                apply_errors(form, exc)
            else:
                messages.success(
                    request, _("The plan is activated: statuses set, measures assigned, people told.")
                )
                return redirect("operations:activation_detail", pk=activation.pk)
    activations = list(
        PlanActivation.objects.for_user(request.user)
        .select_related("template", "root")
        .order_by("-activated_at")[:100]
    )
    return render(
        request,
        "operations/plans.html",
        {
            "templates": templates,
            "activations": activations,
            "form": form,
            "can_activate": can_activate,
            "can_keep": _can_keep_templates(request),
        },
    )


@staff_view("read")
def plan_template(request, pk=None):
    from yizhan.operations import plans as plan_services
    from yizhan.operations.forms import PlanTemplateForm, measures_to_lines
    from yizhan.operations.models import Backup, OwnerRole, PlanTemplate

    template = None
    if pk is not None:
        template = get_for_user(request.user, PlanTemplate.objects.select_related("unit"), pk=pk)
        measures = template.measures
        can_edit = request.scope.can("admin")
    else:
        if not _can_keep_templates(request):
            raise PermissionDenied
        measures = plan_services.default_measures()
        can_edit = True
    initial = {b: measures_to_lines(measures, b) for b in Backup.values}
    if template is not None:
        initial.update(name=template.name, revision=template.revision)
    form = PlanTemplateForm(request.POST or None, initial=initial)
    form.fields["revision"].required = template is not None
    if request.method == "POST":
        if not can_edit:
            raise PermissionDenied
        if form.is_valid():
            unit = template.unit if template else Unit.objects.get(pk=request.scope.unit_id)
            try:
                saved = plan_services.save_template(
                    unit,
                    actor=request.user,
                    name=form.cleaned_data["name"],
                    measures=form.measures(),
                    template=template,
                    revision=form.cleaned_data.get("revision"),
                )
            except ValidationError as exc:
                apply_errors(form, exc, aliases={"measures": None})
            else:
                messages.success(request, _("The plan template is saved."))
                return redirect("operations:plan_template", pk=saved.pk)
    return render(
        request,
        "operations/plan_template.html",
        {"template": template, "form": form, "can_edit": can_edit, "owners": OwnerRole.choices},
    )


@staff_view("read")
def outlet_plan(request, code):
    from yizhan.operations import plans as plan_services
    from yizhan.operations.forms import OutletPlanForm
    from yizhan.operations.models import Backup, OutletPlan, RosterEntry

    unit = get_for_user(request.user, Unit.objects.filter(kind=UnitKind.OUTLET), code=code)
    plan = OutletPlan.objects.filter(unit=unit).select_related("template").first()
    can_change = request.scope.can("change")
    templates = list(plan_services.usable_templates(request.user).order_by("unit__level", "name"))
    # Backup staff from the other outlets around it (the parent's subtree), as the article's
    # city branch lent tellers between its outlets.
    around = Unit.objects.get(pk=unit.parent_id) if unit.parent_id else unit
    staff = list(
        scoped(request.user, RosterEntry)
        .on(timezone.localdate())
        .filter(unit__path__startswith=around.path, unit__kind=UnitKind.OUTLET)
        .exclude(unit=unit)
        .select_related("unit")
        .order_by("unit__path", "name")[:300]
    )
    chosen = list(plan.backup_staff.select_related("unit")) if plan else []
    staff += [e for e in chosen if e not in staff]
    initial = {}
    if plan is not None:
        initial = {
            "template": plan.template_id,
            "backup_staff": [e.pk for e in chosen],
            "cash_route": plan.cash_route,
            "service_channel": plan.service_channel,
            "revision": plan.revision,
        }
    form = OutletPlanForm(request.POST or None, initial=initial, templates=templates, staff=staff)
    form.fields["revision"].required = plan is not None
    if request.method == "POST":
        if not can_change:
            raise PermissionDenied
        if form.is_valid():
            data = form.cleaned_data
            try:
                plan_services.fill_plan(
                    unit,
                    actor=request.user,
                    template=data["template"],
                    backup_staff=data["backup_staff"],
                    cash_route=data["cash_route"],
                    service_channel=data["service_channel"],
                    revision=data.get("revision"),
                )
            except ValidationError as exc:
                apply_errors(form, exc)
            else:
                messages.success(request, _("The outlet's contingency plan is saved."))
                return redirect("operations:outlet_plan", code=unit.code)
    measures = plan.measures if plan else []
    return render(
        request,
        "operations/outlet_plan.html",
        {
            "unit": unit,
            "plan": plan,
            "form": form,
            "can_change": can_change and bool(templates),
            "backups": [
                {"label": label, "measures": [m for m in measures if m["backup"] == value]}
                for value, label in Backup.choices
            ],
            "backup_staff": chosen,
            "active": plan_services.active_for(unit),
        },
    )


@staff_view("read")
def activation_detail(request, pk):
    from yizhan.operations import plans as plan_services
    from yizhan.operations.forms import TaskDoneForm
    from yizhan.operations.models import PlanActivation, PlanTask

    activation = get_for_user(
        request.user, PlanActivation.objects.select_related("template", "root", "activated_by"), pk=pk
    )
    # From the activation's root down; someone below the root starts at their own unit.
    root = activation.root
    here = root if request.scope.covers(root.path) else Unit.objects.get(pk=request.scope.unit_id)
    if request.GET.get("unit"):
        here = get_for_user(request.user, Unit, code=request.GET["unit"])
        if root.path.startswith(here.path):
            here = root if request.scope.covers(root.path) else Unit.objects.get(pk=request.scope.unit_id)
        elif not here.path.startswith(root.path):
            raise Http404
    today = timezone.localdate()
    tasks = []
    if here.is_outlet:
        tasks = list(
            PlanTask.objects.filter(activation=activation, unit=here).order_by("due_on", "backup", "pk")
        )
        for task in tasks:
            task.overdue = task.done_at is None and task.due_on < today
    return render(
        request,
        "operations/activation_detail.html",
        {
            "activation": activation,
            "here": here,
            "progress": plan_services.progress(activation, here, today),
            "tasks": tasks,
            "can_do": request.scope.can("change") and activation.is_active,
            "can_deactivate": activation.is_active
            and _can_activate(request)
            and request.scope.covers(activation.root.path),
            "done_form": TaskDoneForm(),
        },
    )


@require_POST
@staff_view("read")
def activation_deactivate(request, pk):
    from yizhan.operations import plans as plan_services
    from yizhan.operations.forms import EndForm
    from yizhan.operations.models import PlanActivation

    activation = get_for_user(request.user, PlanActivation.objects.select_related("root"), "admin", pk=pk)
    act = partial(plan_services.deactivate, activation, actor=request.user)
    done = _("The plan is deactivated; the outlets' statuses before it are back.")
    submit(request, EndForm(request.POST), act, done)
    return redirect("operations:activation_detail", pk=activation.pk)


@require_POST
@staff_view("read")
def plan_task_done(request, pk):
    from yizhan.operations import plans as plan_services
    from yizhan.operations.forms import TaskDoneForm
    from yizhan.operations.models import PlanTask

    task = get_for_user(request.user, PlanTask.objects.select_related("unit"), "change", pk=pk)
    act = partial(plan_services.complete_task, task, actor=request.user)
    submit(request, TaskDoneForm(request.POST), act, _("The measure is marked done."))
    return redirect(
        reverse("operations:activation_detail", args=[task.activation_id]) + f"?unit={task.unit.code}"
    )


# --- checklists before / during / after opening, and the disinfection log ----------------------------


@staff_view("read")
def outlet_checklist(request, code):
    """The outlet's checklist for a day (today unless ?day=): tick each item; missing ones flagged."""
    import datetime

    from yizhan.operations import controls

    unit = get_for_user(request.user, Unit.objects.filter(kind=UnitKind.OUTLET), code=code)
    can_change = request.scope.can("change")
    today = timezone.localdate()
    raw_day = request.POST.get("day") or request.GET.get("day") or today.isoformat()
    error = ""
    try:
        day = datetime.date.fromisoformat(raw_day)
    except ValueError:
        day, error = today, _("Enter a valid date (YYYY-MM-DD).")
    if request.method == "POST":
        if not can_change:
            raise PermissionDenied
        checklist = controls.checklist_for(unit, min(day, today))
        answers = {}
        for n, item in enumerate(checklist.items, start=1):
            answers[str(n)] = (
                request.POST.get(f"item_{n}", "") if item["options"] else bool(request.POST.get(f"item_{n}"))
            )
        try:
            controls.fill_checklist(
                unit, actor=request.user, day=raw_day, answers=answers, revision=request.POST.get("revision")
            )
        except ValidationError as exc:
            error = " ".join(exc.messages)
        else:
            messages.success(request, _("The checklist is saved."))
            return redirect(
                reverse("operations:outlet_checklist", args=[unit.code]) + f"?day={day.isoformat()}"
            )
    shown = controls.checklist_for(unit, min(day, today))
    return render(
        request,
        "operations/checklist.html",
        {
            "unit": unit,
            "day": day,
            "today": today,
            "checklist": shown,
            "phases": controls.phases(shown),
            "can_change": can_change and day <= today,
            "error": error,
            "option_label": controls.option_label,
            "options": {
                n: [(o, controls.option_label(o)) for o in item["options"]]
                for n, item in enumerate(shown.items, 1)
            },
        },
    )


@staff_view("read")
def outlet_disinfection(request, code):
    from yizhan.operations import controls
    from yizhan.operations.forms import AreaForm, DisinfectedForm
    from yizhan.operations.models import Disinfection

    unit = get_for_user(request.user, Unit.objects.filter(kind=UnitKind.OUTLET), code=code)
    can_change = request.scope.can("change")
    form = AreaForm(request.POST or None)
    if request.method == "POST":
        if not can_change:
            raise PermissionDenied
        if form.is_valid():
            try:
                controls.add_area(unit, actor=request.user, **form.cleaned_data)
            except ValidationError as exc:
                apply_errors(form, exc)
            else:
                messages.success(request, _("The area is added."))
                return redirect("operations:outlet_disinfection", code=unit.code)
    log = Disinfection.objects.filter(unit=unit).select_related("area", "by").order_by("-at")[:50]
    return render(
        request,
        "operations/disinfection.html",
        {
            "unit": unit,
            "areas": controls.areas_due(unit),
            "log": log,
            "form": form,
            "done_form": DisinfectedForm(),
            "can_change": can_change,
        },
    )


@require_POST
@staff_view("read")
def disinfection_log(request, pk):
    from yizhan.operations import controls
    from yizhan.operations.forms import DisinfectedForm
    from yizhan.operations.models import DisinfectionArea

    area = get_for_user(request.user, DisinfectionArea.objects.select_related("unit"), "change", pk=pk)
    act = partial(controls.log_disinfection, area, actor=request.user)
    done = _("Recorded: %(area)s disinfected.") % {"area": area.name}
    submit(request, DisinfectedForm(request.POST), act, done)
    return redirect("operations:outlet_disinfection", code=area.unit.code)


@staff_view("read")
def disinfection_sign(request, pk):
    """The printable "已消毒" sign of an area, with its last time in Beijing time."""
    from yizhan.operations.models import Disinfection, DisinfectionArea

    area = get_for_user(request.user, DisinfectionArea.objects.select_related("unit"), pk=pk)
    last = Disinfection.objects.filter(area=area).order_by("-at").select_related("by").first()
    return render(request, "operations/disinfection_sign.html", {"area": area, "last": last})


@staff_view("read")
def checklist_template(request):
    """The checklist outlets below this unit follow, and — for head office or a province admin —
    publishing a new version of it."""
    from yizhan.operations import controls
    from yizhan.operations.forms import ChecklistTemplateForm, items_to_lines
    from yizhan.operations.models import ChecklistTemplate

    unit = Unit.objects.get(pk=request.scope.unit_id)
    can_publish = request.scope.can("admin") and unit.kind in (UnitKind.HEAD_OFFICE, UnitKind.PROVINCE)
    current = controls.template_for(unit)
    items = current.items if current else controls.default_items()
    form = ChecklistTemplateForm(
        request.POST or None, initial={p: items_to_lines(items, p) for p in ("before", "during", "after")}
    )
    if request.method == "POST":
        if not can_publish:
            raise PermissionDenied
        if form.is_valid():
            try:
                published = controls.publish_checklist(unit, actor=request.user, items=form.items())
            except ValidationError as exc:
                apply_errors(form, exc)
            else:
                messages.success(request, _("Version %(v)s is published.") % {"v": published.version})
                return redirect("operations:checklist_template")
    versions = ChecklistTemplate.objects.filter(unit=unit).order_by("-version")[:20]
    return render(
        request,
        "operations/checklist_template.html",
        {"unit": unit, "current": current, "form": form, "can_publish": can_publish, "versions": versions},
    )


@staff_view("read")
def workbench_page(request):
    """The workbench in full: an outlet's day, or every outlet of a subtree, worst first."""
    from yizhan.operations import workbench

    unit = Unit.objects.get(pk=request.scope.unit_id)
    if request.GET.get("unit"):
        unit = get_for_user(request.user, Unit, code=request.GET["unit"])
    context = {"unit": unit}
    if unit.is_outlet:
        context["rows"] = workbench.outlet_rows(workbench.figures([unit])[unit.pk])
    else:
        context["table"] = workbench.table(unit)
    return render(request, "operations/workbench.html", context)


# --- the dashboard of a subtree --------------------------------------------------------------------


def _dashboard_scope(request):
    import datetime

    from yizhan.operations import dashboard

    unit = Unit.objects.get(pk=request.scope.unit_id)
    if request.GET.get("unit"):
        unit = get_for_user(request.user, Unit, code=request.GET["unit"])
    days = dashboard.clean_days(request.GET.get("days"))
    end = timezone.localdate()
    return unit, days, end - datetime.timedelta(days=days - 1), end


@staff_view("read")
def dashboard_page(request):
    """A subtree's outlets on a map by their status now, and the health report's completeness and
    timeliness by day, with the overdue counts one tap from their lists."""
    from yizhan.operations import dashboard
    from yizhan.operations.models import PlanTask, Rectification

    unit, days, start, end = _dashboard_scope(request)
    rows = dashboard.by_day(unit, start, end)
    return render(
        request,
        "operations/dashboard.html",
        {
            "unit": unit,
            "days": days,
            "start": start,
            "end": end,
            "map": dashboard.status_map(unit),
            "rows": rows,
            "chart": dashboard.chart(rows),
            "children": Unit.objects.filter(parent=unit, closed_on__isnull=True).order_by("code"),
            "rect_overdue": Rectification.objects.filter(unit__path__startswith=unit.path)
            .overdue(end)
            .count(),
            "tasks_overdue": PlanTask.objects.open()
            .filter(unit__path__startswith=unit.path, activation__deactivated_at__isnull=True, due_on__lt=end)
            .count(),
        },
    )


@staff_view("read")
def dashboard_export(request):
    """Completeness and timeliness by day as xlsx (Chinese headers; counts only, no health data)."""
    from django.http import HttpResponse

    from yizhan.core.tabular import write_xlsx
    from yizhan.operations import dashboard

    unit, days, start, end = _dashboard_scope(request)
    headers = ["日期", "应报人数", "按时上报", "迟报", "未报", "完整率(%)", "及时率(%)"]
    out = [
        [
            r["day"].isoformat(),
            r["expected"],
            r["on_time"],
            r["late"],
            r["missing"],
            r["completeness"],
            r["timeliness"],
        ]
        for r in dashboard.by_day(unit, start, end)
    ]
    body = write_xlsx({"报送完整率": (headers, out)})
    response = HttpResponse(
        body, content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    )
    response["Content-Disposition"] = f'attachment; filename="completeness-{unit.code}-{start}-{end}.xlsx"'
    return response
