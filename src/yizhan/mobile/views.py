"""Staff pages of mobile stations: the vans in scope with their next visit, a van's places,
schedules and next visits (cancellable with a notice), the forms to add a place and to add,
change or stop a schedule, and the figures by site and by visitor group. Views translate HTTP
only; the verbs are in services.py."""

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from yizhan.core.forms import apply_errors
from yizhan.mobile import services
from yizhan.mobile.forms import CancelForm, PlaceForm, ScheduleEditForm, ScheduleForm, SwitchForm
from yizhan.mobile.models import ServiceKind, Visit, VisitPlace, VisitSchedule
from yizhan.orgs.scoping import get_for_user, scoped, staff_view
from yizhan.stations.models import Station, StationKind

VANS = Station.objects.filter(kind=StationKind.MOBILE).select_related("unit")
NEXT_VISITS = 20


def upcoming(station_ids):
    return Visit.objects.filter(station_id__in=station_ids, ends_at__gt=timezone.now()).select_related(
        "place", "station"
    )


def van_places(van):
    return VisitPlace.objects.filter(unit__path__startswith=van.unit.path).order_by("name")


@staff_view("read")
def van_list(request):
    vans = list(scoped(request.user, VANS).order_by("code"))
    nexts = {}
    for visit in upcoming([v.pk for v in vans]).planned().order_by("starts_at"):
        nexts.setdefault(visit.station_id, visit)
    for v in vans:
        v.next_visit = nexts.get(v.pk)
    page = Paginator(vans, 50).get_page(request.GET.get("page"))
    return render(request, "mobile/list.html", {"page": page})


@staff_view("read")
def van(request, code: str):
    station = get_for_user(request.user, VANS, code=code[:40])
    today = services.local_today()
    schedules = list(VisitSchedule.objects.filter(station=station).select_related("place"))
    for s in schedules:
        # Still to stop: switched on and not ending by today (a schedule stopped today ends today).
        s.running = s.active and (s.valid_to is None or s.valid_to > today)
        s.state = (
            ""
            if s.running
            else _("stopped before it began")
            if not s.active
            else _("ends today")
            if s.valid_to == today
            else _("ended")
        )
    return render(
        request,
        "mobile/van.html",
        {
            "van": station,
            "places": van_places(station),
            "schedules": schedules,
            "visits": upcoming([station.pk]).order_by("starts_at")[:NEXT_VISITS],
        },
    )


def _form_page(request, form, title, station, **extra):
    return render(
        request,
        "core/form_page.html",
        {"form": form, "title": title, "cancel_url": reverse("mobile:van", args=[station.code]), **extra},
    )


def _van_schedule(request, code: str, pk: int):
    """The van (through the chokepoint, with the right to change it) and one of its schedules."""
    station = get_for_user(request.user, VANS, "change", code=code[:40])
    return station, get_for_user(
        request.user, VisitSchedule.objects.select_related("place"), "change", pk=pk, station=station
    )


@staff_view("read")
def place_create(request, code: str):
    station = get_for_user(request.user, VANS, "change", code=code[:40])
    form = PlaceForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            services.create_place(actor=request.user, unit=station.unit, **form.cleaned_data)
        except ValidationError as exc:
            apply_errors(form, exc)
        else:
            messages.success(request, _("Visit place saved."))
            return redirect("mobile:van", station.code)
    return _form_page(request, form, _("New visit place"), station)


def _saved(request, form, station, schedule, done: str, **extra) -> bool:
    """Whether a posted schedule form (new, changed or stop) was saved through the service; its
    errors, a stale revision among them, are put on the form."""
    if request.method != "POST" or not form.is_valid():
        return False
    data = dict(form.cleaned_data)
    revision = data.pop("revision", None)
    try:
        services.save_schedule(
            station, actor=request.user, schedule=schedule, revision=revision, **data, **extra
        )
    except ValidationError as exc:
        apply_errors(form, exc)
        return False
    messages.success(request, done)
    return True


@staff_view("read")
def schedule_create(request, code: str):
    station = get_for_user(request.user, VANS, "change", code=code[:40])
    form = ScheduleForm(request.POST or None, places=van_places(station))
    if _saved(request, form, station, None, _("Schedule saved; its visits are planned.")):
        return redirect("mobile:van", station.code)
    return _form_page(request, form, _("New schedule"), station)


@staff_view("read")
def schedule_edit(request, code: str, pk: int):
    station, schedule = _van_schedule(request, code, pk)
    form = ScheduleEditForm(
        request.POST or None, places=van_places(station), initial=ScheduleEditForm.initial_for(schedule)
    )
    if _saved(request, form, station, schedule, _("Schedule saved; its visits are planned.")):
        return redirect("mobile:van", station.code)
    title = _("Change the schedule at %(place)s") % {"place": schedule.place.name}
    return _form_page(request, form, title, station)


def _switch_page(request, code: str, pk: int, switch: str, *, done, title, intro, submit_label):
    """A schedule's stop or switch-on page: the revision it was shown with, then the service's
    `save_schedule(…, stop=True)` or `(…, resume=True)`."""
    station, schedule = _van_schedule(request, code, pk)
    form = SwitchForm(request.POST or None, initial={"revision": schedule.revision})
    if _saved(request, form, station, schedule, done, **{switch: True}):
        return redirect("mobile:van", station.code)
    title = title % {"place": schedule.place.name}
    return _form_page(request, form, title, station, intro=intro, submit_label=submit_label)


@staff_view("read")
def schedule_stop(request, code: str, pk: int):
    return _switch_page(
        request, code, pk, "stop",
        done=_("Schedule stopped; its visits after today are removed."),
        title=_("Stop the schedule at %(place)s"),
        intro=_(
            "The schedule ends today: a visit today stands, the visits after today that are not "
            "cancelled are removed and no longer shown to the public."
        ),
        submit_label=_("Stop the schedule"),
    )  # fmt: skip


@staff_view("read")
def schedule_resume(request, code: str, pk: int):
    return _switch_page(
        request, code, pk, "resume",
        done=_("Schedule switched on; its visits are planned."),
        title=_("Switch on the schedule at %(place)s"),
        intro=_("The schedule runs again as it is set: its visits are planned and shown to the public."),
        submit_label=_("Switch the schedule on"),
    )  # fmt: skip


@staff_view("read")
def cancel(request, pk: int):
    visit = get_for_user(request.user, Visit.objects.select_related("station", "place"), "change", pk=pk)
    form = CancelForm(request.POST or None, initial={"revision": visit.revision})
    if request.method == "POST" and form.is_valid():
        try:
            services.cancel_visit(
                visit,
                actor=request.user,
                notice=form.cleaned_data["notice"],
                revision=form.cleaned_data["revision"],
            )
        except ValidationError as exc:
            apply_errors(form, exc)
        else:
            messages.success(request, _("Visit cancelled; the notice is on the station page."))
            return redirect("mobile:van", visit.station.code)
    local = timezone.localtime(visit.starts_at)
    title = _("Cancel the visit to %(place)s on %(when)s") % {
        "place": visit.place.name,
        "when": local.strftime("%Y-%m-%d %H:%M"),
    }
    return _form_page(request, form, title, visit.station)


def group_columns(*tables) -> list[tuple[str, str]]:
    """(code, label) of the visitor groups counted anywhere in `tables` (rows with "groups"), in
    the visits app's order, "not said" last."""
    from yizhan.visits.models import GROUP_CODES, UNSPECIFIED, Group

    seen = {code for rows in tables for row in rows for code, n in row["groups"].items() if n}
    columns = [(code, str(Group(code).label)) for code in GROUP_CODES if code in seen]
    if UNSPECIFIED in seen:
        columns.append((UNSPECIFIED, _("not said")))
    return columns


@staff_view("read")
def figures(request):
    rows = services.site_figures(scoped(request.user, Visit))
    labels = dict(ServiceKind.choices)
    for row in rows:
        row["service_list"] = [(labels.get(k, k), n) for k, n in sorted(row["services"].items())]
    page = Paginator(rows, 50).get_page(request.GET.get("page"))
    fixed = services.fixed_group_figures(page.object_list)
    columns = group_columns(page.object_list, fixed)
    for row in [*page.object_list, *fixed]:
        row["group_cells"] = [row["groups"].get(code, 0) for code, _label in columns]
    return render(request, "mobile/figures.html", {"page": page, "fixed": fixed, "group_columns": columns})
