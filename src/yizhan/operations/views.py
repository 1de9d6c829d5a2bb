"""Back-office pages of outlet operations; they translate HTTP and call the verbs in services.py."""

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from yizhan.core.forms import apply_errors
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
    form = CustomersForm(request.POST)
    if form.is_valid():
        try:
            services.record_customers(unit, actor=request.user, **form.cleaned_data)
        except ValidationError as exc:
            _flash(request, exc)
        else:
            messages.success(request, _("Customers served recorded."))
    else:
        for field, errors in form.errors.items():
            messages.error(
                request, f"{form.fields[field].label}: {errors[0]}" if field in form.fields else errors[0]
            )
    return redirect("operations:outlet_status", code=unit.code)


def _flash(request, exc: ValidationError) -> None:
    for message in exc.messages:
        messages.error(request, message)


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
    form = EndForm(request.POST)
    if not form.is_valid():
        for errors in form.errors.values():
            messages.error(request, errors[0])
    else:
        try:
            verb(entry, actor=request.user, revision=form.cleaned_data["revision"])
        except ValidationError as exc:
            _flash(request, exc)
        else:
            messages.success(request, str(done))
    return redirect("operations:outlet_status", code=entry.unit.code)
