"""HTTP only: public check-in, report and confirmation pages, and the back office's feedback
queue, statistics, tallies and posters. The rules are in services.py; scope in orgs.scoping."""

import datetime
import json
import secrets

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.db.models import Count
from django.http import FileResponse, Http404, HttpResponse, StreamingHttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import formats, timezone
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from yizhan.audit.services import events_for
from yizhan.core import ratelimit
from yizhan.core.forms import apply_errors, submit
from yizhan.core.middleware import set_cookie
from yizhan.orgs.models import Unit
from yizhan.orgs.scoping import get_for_user, scoped, staff_view
from yizhan.stations.catalogue import BASIC_EIGHT
from yizhan.stations.models import Facility, Station, StationFacility
from yizhan.visits import exports, limits, posters, sections, services, stats
from yizhan.visits.forms import NoteForm, QueueFilterForm, ResolveForm, StatsForm, TallyForm
from yizhan.visits.models import (
    CheckIn,
    DailyRollup,
    Feedback,
    FeedbackKind,
    Group,
    Service,
    Tally,
    checkin_column,
    tally_column,
)

DEVICE_COOKIE = "yz_device"
DEVICE_COOKIE_AGE = 2 * 365 * 24 * 3600


# --- public pages ---------------------------------------------------------------------------------


def _public_station(code: str) -> Station:
    station = services.station_for_public(code)
    if station is None:
        raise Http404
    return station


def _device_id(request) -> tuple[str, bool]:
    """The visitor's device id from its cookie, or a new one (True: the cookie must be set)."""
    value = request.COOKIES.get(DEVICE_COOKIE, "")
    if services.DEVICE_RE.match(value):
        return value, False
    return secrets.token_urlsafe(18), True


def _with_device_cookie(response, device: str, new: bool):
    if new:
        set_cookie(response, DEVICE_COOKIE, device, max_age=DEVICE_COOKIE_AGE, httponly=True)
    return response


def _too_many(request, usage):
    return ratelimit.too_many_requests(request, usage.retry_after)


def checkin(request, code):
    """The page the QR code opens: one tap counts a visit; group and services are optional."""
    station = _public_station(code)
    device, new = _device_id(request)
    errors, chosen = {}, {"group": "", "services": []}
    if request.method == "POST":
        if (usage := limits.hit(request, "checkin")).over:
            return _too_many(request, usage)
        chosen = {"group": request.POST.get("group", ""), "services": request.POST.getlist("services")}
        try:
            result = services.record_checkin(station, device=device, **chosen)
        except ValidationError as exc:
            errors = {k: v[0] for k, v in exc.message_dict.items()}
        else:
            url = reverse("visits:checkin_thanks", args=[station.code])
            query = "counted=1" if result.counted else "again=1"
            if chosen["group"] in Group.values:  # the group ticked, for the thank-you page's offers
                query += f"&group={chosen['group']}"
            response = redirect(f"{url}?{query}", permanent=False)
            response.status_code = 303
            return _with_device_cookie(response, device, new)
    response = render(
        request,
        "visits/checkin.html",
        {
            "station": station,
            "groups": Group.choices,
            "services": Service.choices,
            "chosen": chosen,
            "errors": errors,
        },
        status=422 if errors else 200,
    )
    return _with_device_cookie(response, device, new)


def checkin_thanks(request, code):
    station = _public_station(code)
    group = request.GET.get("group", "")
    group = group if group in Group.values else ""
    return render(
        request,
        "visits/checkin_thanks.html",
        {
            "station": station,
            "again": request.GET.get("again") == "1",
            "queued": request.GET.get("queued") == "1",
            "sections": sections.for_checkin(station, group, request) if group else [],
        },
    )


def _station_facilities(station: Station) -> list[Facility]:
    """What a visitor may report broken: the basic eight and whatever else the station has."""
    has = set(
        StationFacility.objects.filter(station=station, state="yes").values_list("facility__code", flat=True)
    )
    wanted = set(BASIC_EIGHT) | has
    return [f for f in Facility.objects.all() if f.code in wanted]


def report(request, code):
    station = _public_station(code)
    data = {
        "kind": request.GET.get("kind", ""),
        "facility": request.GET.get("facility", ""),
        "text": "",
        "contact": "",
    }
    errors = {}
    if request.method == "POST":
        if (usage := limits.hit(request, "report")).over:
            return _too_many(request, usage)
        data = {k: request.POST.get(k, "") for k in ("kind", "facility", "text", "contact")}
        try:
            services.submit_feedback(station, photo=request.FILES.get("photo"), **data)
        except ValidationError as exc:
            errors = {k: v[0] for k, v in exc.message_dict.items()}
        else:
            response = redirect("visits:report_thanks", code=station.code)
            response.status_code = 303
            return response
    return render(
        request,
        "visits/report.html",
        {
            "station": station,
            "kinds": FeedbackKind.choices,
            "facilities": _station_facilities(station),
            "data": data,
            "errors": errors,
        },
        status=422 if errors else 200,
    )


def report_thanks(request, code):
    station = _public_station(code)
    return render(
        request, "visits/report_thanks.html", {"station": station, "queued": request.GET.get("queued") == "1"}
    )


def confirm(request, code):
    """ "The details are still correct": one tap by a visitor updates the station's verified_at."""
    station = _public_station(code)
    if request.method == "POST":
        if (usage := limits.hit(request, "confirm")).over:
            return _too_many(request, usage)
        station = services.confirm_station(station)
        return render(request, "visits/confirm_thanks.html", {"station": station})
    facilities = [
        row.facility
        for row in StationFacility.objects.filter(station=station, state="yes")
        .select_related("facility")
        .order_by("facility__sort_order")
    ]
    return render(request, "visits/confirm.html", {"station": station, "facilities": facilities})


# --- back office: the feedback queue --------------------------------------------------------------


def _unit_param(request, field: str = "unit") -> Unit:
    """The unit named in the query (404 outside the scope) or the user's own unit."""
    code = (request.GET.get(field) or "").strip()[:32]
    if code:
        return get_for_user(request.user, Unit, code=code)
    return Unit.objects.get(pk=request.scope.unit_id)


def overdue_below(unit: Unit, feedback_qs) -> list[dict]:
    """Overdue items counted per unit directly below, so each level sees where they sit."""
    paths = list(feedback_qs.overdue().values_list("station__unit__path", flat=True))
    rows = []
    for child in unit.children.order_by("code"):
        n = sum(1 for p in paths if p.startswith(child.path))
        if n:
            rows.append({"unit": child, "overdue": n})
    return rows


@staff_view("read")
def feedback_queue(request):
    form = QueueFilterForm(request.GET or None)
    filters = form.cleaned_data if form.is_valid() else {}
    unit = _unit_param(request)
    in_unit = scoped(request.user, Feedback).filter(station__unit__path__startswith=unit.path)
    items = in_unit.select_related("station", "facility").order_by("due_on", "created_at")
    status = filters.get("status") or "open"
    today = timezone.localdate()
    if status == "open":
        items = items.open()
    elif status == "overdue":
        items = items.overdue(today)
    elif status != "all":
        items = items.filter(status=status).order_by("-created_at")
    if filters.get("kind"):
        items = items.filter(kind=filters["kind"])
    page = Paginator(items, 50).get_page(request.GET.get("page"))
    counts = dict(in_unit.open().values_list("status").annotate(n=Count("pk")).order_by())
    return render(
        request,
        "visits/feedback_queue.html",
        {
            "form": form,
            "unit": unit,
            "page": page,
            "today": today,
            "status": status,
            "counts": counts,
            "overdue_total": in_unit.overdue(today).count(),
            "overdue_below": overdue_below(unit, in_unit),
        },
    )


@staff_view("read")
def feedback_detail(request, pk):
    item = get_for_user(
        request.user, Feedback.objects.select_related("station__unit", "facility", "handled_by"), pk=pk
    )
    can_change = request.scope.can("change")
    events = events_for(request.user, item).order_by("created_at")
    return render(
        request,
        "visits/feedback_detail.html",
        {
            "item": item,
            "can_change": can_change,
            "contact": item.contact if can_change else item.masked_contact,
            "allowed": services.allowed_transitions(item),
            "events": events,
            "today": timezone.localdate(),
            "ack_form": NoteForm(auto_id="ack_%s", initial={"revision": item.revision}),
            "reject_form": NoteForm(auto_id="rej_%s", initial={"revision": item.revision}),
            "resolve_form": (
                ResolveForm(
                    auto_id="res_%s",
                    initial={
                        "facility": item.facility.code if item.facility else "",
                        "revision": item.revision,
                    },
                )
                if item.kind == FeedbackKind.FACILITY_BROKEN
                else NoteForm(auto_id="res_%s", initial={"revision": item.revision})
            ),
        },
    )


ACTIONS = {
    "acknowledge": (services.acknowledge_feedback, NoteForm, _("Acknowledged.")),
    "resolve": (services.resolve_feedback, ResolveForm, _("Resolved.")),
    "reject": (services.reject_feedback, NoteForm, _("Rejected.")),
}


@require_POST
@staff_view("read")
def feedback_action(request, pk, action):
    if action not in ACTIONS:
        raise Http404
    item = get_for_user(
        request.user, Feedback.objects.select_related("station__unit", "facility"), "change", pk=pk
    )
    verb, form_class, done = ACTIONS[action]

    def act(**data):
        verb(item, actor=request.user, **{k: v for k, v in data.items() if v is not None})

    submit(request, form_class(request.POST), act, done)
    return redirect("visits:feedback_detail", pk=item.pk)


@staff_view("read")
def feedback_photo(request, pk):
    item = get_for_user(request.user, Feedback, pk=pk)
    if not item.photo:
        raise Http404
    try:
        handle = services.open_feedback_photo(item)
    except FileNotFoundError as exc:
        raise Http404 from exc
    response = FileResponse(handle, content_type=item.photo_type)
    response["X-Content-Type-Options"] = "nosniff"
    response["Content-Security-Policy"] = "default-src 'none'"
    return response


# --- back office: statistics -----------------------------------------------------------------------


def _stats_input(request):
    """The form, whether it was valid, the values to use (defaults when not) and the unit.

    A valid form is bound again to the dates it stands for, so that empty start and end fields
    show the range the page reports (the last 30 days by default) rather than staying blank."""
    form = StatsForm(request.GET)
    valid = form.is_valid()
    if valid:
        data = form.cleaned_data
        form = StatsForm(
            {
                "unit": data.get("unit") or "",
                "start": data["start"].isoformat(),
                "end": data["end"].isoformat(),
                "by": data["by"],
            }
        )
        form.is_valid()
    else:
        fallback = StatsForm({})
        fallback.is_valid()
        data = fallback.cleaned_data
    return form, valid, data, _unit_param(request)


def _month_label(row: dict) -> str:
    month = row["name"]
    if row["to_day"]:
        return _("%(month)s 1–%(day)s") % {"month": month, "day": row["to_day"]}
    return month


@staff_view("read")
def statistics(request):
    form, valid, data, unit = _stats_input(request)
    result = stats.report(unit, data["start"], data["end"], data["by"])
    for m in result.year_on_year:
        m["name"] = formats.date_format(datetime.date(2000, m["month"], 1), "F")
    chart = {
        "series": {
            "labels": [p["label"] for p in result.series],
            "checkins": [p["checkins"] for p in result.series],
            "tallied": [p["tallied"] for p in result.series],
        },
        "groups": {
            "labels": [str(g["label"] or _("not said")) for g in result.groups],
            "checkins": [g["checkins"] for g in result.groups],
            "tallied": [g["tallied"] for g in result.groups],
        },
        "services": {
            "labels": [str(s["label"]) for s in result.services],
            "checkins": [s["checkins"] for s in result.services],
        },
        "yoy": {
            "labels": [_month_label(m) for m in result.year_on_year],
            "this": [m["this"] for m in result.year_on_year],
            "last": [m["last"] for m in result.year_on_year],
            "this_label": str(result.end.year),
            "last_label": str(result.end.year - 1),
        },
        "hours": {
            "labels": [f"{h['hour']:02d}" for h in result.hours],
            "checkins": [h["checkins"] for h in result.hours],
        },
        "names": {
            "checkins": _("check-ins"),
            "tallied": _("tallied by staff"),
        },
        # Axis labels in the reader's units: 万 in Chinese (25,000 → 2.5万), k in English.
        "compact": {"div": 10000, "suffix": "万"}
        if (get_language() or "").startswith("zh")
        else {"div": 1000, "suffix": "k"},
    }
    ancestors = [a for a in unit.ancestors() if request.scope.covers(a.path)]
    return render(
        request,
        "visits/statistics.html",
        {
            "form": form,
            "valid": valid,
            "unit": unit,
            "ancestors": ancestors,
            "r": result,
            "chart": chart,
            "query": request.GET.urlencode(),
        },
    )


@staff_view("read")
def statistics_export(request):
    form, valid, data, unit = _stats_input(request)
    if not valid:
        return HttpResponse(json.dumps(form.errors), status=422, content_type="application/json")
    result = stats.report(unit, data["start"], data["end"], data["by"])
    body = exports.statistics_xlsx(result)
    response = HttpResponse(
        body, content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    )
    name = f"visits-{unit.code}-{data['start']:%Y%m%d}-{data['end']:%Y%m%d}.xlsx"
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    return response


# --- back office: one station's visits and tallies ------------------------------------------------


@staff_view("read")
def station_visits(request, code):
    station = get_for_user(request.user, Station.objects.select_related("unit"), code=code)
    can_change = request.scope.can("change")
    today = timezone.localdate()
    form = TallyForm(initial={"day": today, "revision": station.revision})
    if request.method == "POST":
        station = get_for_user(request.user, Station.objects.select_related("unit"), "change", code=code)
        form = TallyForm(request.POST)
        if form.is_valid():
            counts = {code: form.cleaned_data[code] for code in Group.values if form.cleaned_data[code] != ""}
            try:
                services.set_tallies(
                    station, actor=request.user, day=form.cleaned_data["day"], counts=counts,
                    revision=form.cleaned_data["revision"],
                )  # fmt: skip
            except ValidationError as exc:
                apply_errors(form, exc)
            else:
                messages.success(request, _("Tallies saved."))
                return redirect(
                    f"{reverse('visits:station', args=[station.code])}?day={form.cleaned_data['day']}"
                )
    else:
        try:
            day = datetime.date.fromisoformat(request.GET.get("day", ""))
        except ValueError:
            day = today
        existing = {t.group: t.count for t in Tally.objects.filter(station=station, day=day)}
        form = TallyForm(initial={"day": day, "revision": station.revision, **existing})

    start = today - datetime.timedelta(days=13)
    rollup = {r.day: r for r in DailyRollup.objects.filter(station=station, day__range=(start, today))}
    days = []
    for offset in range(14):
        day = today - datetime.timedelta(days=offset)
        row = rollup.get(day)
        days.append(
            {
                "day": day,
                "checkins": row.checkins if row else 0,
                "tallied": row.tallied if row else 0,
                "groups": [
                    (
                        getattr(row, checkin_column(g)) if row else 0,
                        getattr(row, tally_column(g)) if row else 0,
                    )
                    for g in Group.values
                ],
            }
        )
    recent = CheckIn.objects.filter(station=station).order_by("-at")[:30]
    return render(
        request,
        "visits/station.html",
        {
            "station": station,
            "form": form,
            "can_change": can_change,
            "days": days,
            "groups": Group.choices,
            "recent": recent,
        },
        status=422 if form.errors else 200,
    )


@require_POST
@staff_view("read")
def station_checkins_delete(request, code):
    station = get_for_user(request.user, Station, "change", code=code)
    ids = [int(v) for v in request.POST.getlist("checkin") if v.isdigit()]
    deleted = services.delete_checkins(ids, actor=request.user, station=station)
    messages.success(request, _("%(n)s check-ins removed.") % {"n": deleted})
    return redirect("visits:station", code=station.code)


# --- back office: posters --------------------------------------------------------------------------


@staff_view("read")
def poster_index(request):
    unit = _unit_param(request)
    stations = Station.objects.subtree(unit).order_by("code")
    count = stations.count()
    return render(
        request,
        "visits/posters.html",
        {"unit": unit, "count": count, "stations": stations[:100], "base_url": posters.base_url(request)},
    )


@staff_view("read")
def poster_svg(request, code):
    station = get_for_user(request.user, Station, code=code)
    body = posters.poster_svg(station, posters.base_url(request))
    response = HttpResponse(body, content_type="image/svg+xml; charset=utf-8")
    if request.GET.get("download"):
        response["Content-Disposition"] = f'attachment; filename="{station.code}.svg"'
    return response


@staff_view("read")
def poster_zip(request, code):
    unit = get_for_user(request.user, Unit, code=code)
    stations = Station.objects.subtree(unit).order_by("code").iterator()
    response = StreamingHttpResponse(
        posters.zip_stream(stations, posters.base_url(request)), content_type="application/zip"
    )
    response["Content-Disposition"] = f'attachment; filename="posters-{unit.code}.zip"'
    return response
