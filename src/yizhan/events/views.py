"""HTTP only: the public event list, event pages, sign-up and tickets, and the back office's
events, occurrences (door scanning, paper attendance, walk-ins), campaigns and offers."""

import secrets

import segno
from django.contrib import messages
from django.core.exceptions import NON_FIELD_ERRORS, ValidationError
from django.core.files.storage import default_storage
from django.core.paginator import Paginator
from django.db.models import Q
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from yizhan.audit.services import events_for
from yizhan.core import ratelimit
from yizhan.core.forms import apply_errors, flash_errors
from yizhan.events import campaigns as campaign_services
from yizhan.events import exports, limits, services
from yizhan.events import offers as offer_services
from yizhan.events.forms import CampaignForm, EventForm, OccurrenceForm, OfferForm
from yizhan.events.models import (
    TARGET_GROUPS,
    Ambassador,
    Campaign,
    Event,
    EventPhoto,
    Occurrence,
    Offer,
    Registration,
    Source,
    State,
    Topic,
    group_label,
)
from yizhan.orgs.models import Unit
from yizhan.orgs.scoping import get_for_user, scoped, staff_view
from yizhan.stations.models import Station, Theme

PUBLIC_LIST = 60


def _errors(exc: ValidationError) -> dict:
    if hasattr(exc, "error_dict"):
        return {k: v[0] for k, v in exc.message_dict.items()}
    return {NON_FIELD_ERRORS: exc.messages[0]}


# --- public ---------------------------------------------------------------------------------------


def station_section(station, request):
    """The locator's station page: this station's upcoming events and its group offers."""
    occurrences = list(
        Occurrence.objects.listed().filter(station=station).select_related("event").order_by("starts_at")[:5]
    )
    offers = offer_services.for_station(station)
    if not occurrences and not offers:
        return None
    return {"occurrences": occurrences, "offers": offers}


def checkin_section(station, group, request):
    """The check-in thank-you page: the offers for the group the visitor ticked ("for medical
    staff"). The group comes from the page's address; nothing is stored or asked for this."""
    offers = offer_services.for_station(station, group=group)
    if not offers:
        return None
    return {"offers": offers, "group": group_label(group)}


def _city_choices(occurrences) -> list[Unit]:
    ids = set()
    for occ in occurrences:
        parts = [p for p in occ.station.unit.path.split("/") if p]
        ids.update(int(p) for p in parts[1:3])  # province and the tier below it
    return list(Unit.objects.filter(pk__in=ids).order_by("path"))


@require_GET
def event_list(request):
    """活动: upcoming public events, filterable by group and city."""
    group = (request.GET.get("group") or "").strip()[:30]
    city = (request.GET.get("city") or "").strip()[:32]
    base = Occurrence.objects.listed().select_related("event", "station__unit").order_by("starts_at")
    everything = list(base[:500])
    chosen_city = Unit.objects.filter(code=city).first() if city else None
    shown = [
        o for o in everything
        if (not group or group in o.event.target_groups)
        and (chosen_city is None or o.station.unit.path.startswith(chosen_city.path))
    ][:PUBLIC_LIST]  # fmt: skip
    return render(
        request,
        "events/list.html",
        {
            "occurrences": shown,
            "groups": TARGET_GROUPS,
            "group": group,
            "cities": _city_choices(everything),
            "city": city,
        },
    )


def _public_event(request, pk) -> tuple[Event, str]:
    event = Event.objects.filter(pk=pk).first()
    invite = (request.GET.get("invite") or request.POST.get("invite") or "")[:40]
    if event is None or (not event.public and invite != event.invite_token):
        raise Http404
    return event, invite


def _event_context(event, invite, errors=None, chosen=None, data=None):
    now = timezone.now()
    occurrences = list(
        event.occurrences.filter(ends_at__gte=now).select_related("station", "event").order_by("starts_at")
    )
    for occ in occurrences:
        occ.closed_reason = services.signup_closed_reason(occ, now)
    return {
        "event": event,
        "invite": invite if not event.public else "",
        "occurrences": occurrences,
        "groups": event.target_group_labels,
        "errors": errors or {},
        "chosen": chosen,
        "data": data or {},
        "party_range": range(1, event.max_party + 1),
    }


@require_GET
def event_page(request, pk):
    event, invite = _public_event(request, pk)
    return render(request, "events/event.html", _event_context(event, invite))


def signup(request, pk):
    occ = Occurrence.objects.select_related("event", "station").filter(pk=pk).first()
    if occ is None:
        raise Http404
    event, invite = _public_event(request, occ.event_id)
    if request.method != "POST":
        return redirect("events:event", pk=event.pk)
    if (usage := limits.hit(request, "signup")).over:
        return ratelimit.too_many_requests(request, usage.retry_after)
    data = {k: request.POST.get(k, "") for k in ("name", "phone", "party", "consent")}
    try:
        reg = services.sign_up(occ, invite=invite, **data)
    except Occurrence.DoesNotExist:
        raise Http404 from None
    except ValidationError as exc:
        context = _event_context(event, invite, _errors(exc), chosen=occ.pk, data=data)
        return render(request, "events/event.html", context, status=422)
    response = redirect("events:ticket", token=reg.token)
    response.status_code = 303
    return response


def _ticket(token) -> Registration:
    token = str(token or "")[:40]
    reg = (
        Registration.objects.select_related("occurrence__event", "occurrence__station")
        .filter(token=token)
        .first()
    )
    if reg is None or reg.source != Source.PUBLIC:
        raise Http404
    return reg


def ticket_qr(reg: Registration) -> str:
    """The QR of the ticket as inline SVG (segno, no image library), carrying the code."""
    return segno.make(f"YZE:{reg.code}", error="m").svg_inline(scale=6, dark="#111", light="#fff")


@require_GET
def ticket(request, token):
    reg = _ticket(token)
    return render(
        request,
        "events/ticket.html",
        {
            "reg": reg,
            "occ": reg.occurrence,
            "event": reg.occurrence.event,
            "qr": ticket_qr(reg) if reg.state in (State.CONFIRMED, State.ATTENDED) else "",
            "position": reg.occurrence.registrations.filter(state=State.WAITLISTED, pk__lte=reg.pk).count()
            if reg.state == State.WAITLISTED else None,
        },
    )  # fmt: skip


@require_POST
def ticket_action(request, token, action):
    reg = _ticket(token)
    if action not in ("cancel", "accept"):
        raise Http404
    if (usage := limits.hit(request, "ticket")).over:
        return ratelimit.too_many_requests(request, usage.retry_after)
    try:
        if action == "cancel":
            services.cancel_registration(reg)
            messages.success(request, _("Your sign-up is cancelled. Thank you for letting us know."))
        else:
            services.accept_offer(reg)
            messages.success(request, _("The place is yours: this is your ticket."))
    except ValidationError as exc:
        flash_errors(request, exc)
    response = redirect("events:ticket", token=reg.token)
    response.status_code = 303
    return response


# --- back office: events --------------------------------------------------------------------------


def _unit_param(request) -> Unit:
    code = (request.GET.get("unit") or "").strip()[:32]
    if code:
        return get_for_user(request.user, Unit, code=code)
    return Unit.objects.get(pk=request.scope.unit_id)


@staff_view("read")
def manage_list(request):
    unit = _unit_param(request)
    events = (
        scoped(request.user, Event)
        .filter(unit__path__startswith=unit.path)
        .select_related("unit", "campaign")
    )
    query = (request.GET.get("q") or "").strip()[:60]
    if query:
        events = events.filter(Q(title__icontains=query) | Q(description__icontains=query))
    page = Paginator(events, 30).get_page(request.GET.get("page"))
    below = _summary_below(request, unit)
    # Events organised higher up that come to this unit's stations: the door is worked here.
    here = (
        scoped(request.user, Occurrence)
        .upcoming()
        .filter(station__unit__path__startswith=unit.path)
        .exclude(event__unit__path__startswith=unit.path)
        .select_related("event", "station")
        .order_by("starts_at")[:20]
    )
    return render(
        request,
        "events/manage_list.html",
        {"page": page, "unit": unit, "q": query, "below": below, "here": list(here)},
    )


@staff_view("read")
def summary_export(request):
    """The table "by unit directly below" as xlsx, with its total: events summarised up the tree."""
    unit = _unit_param(request)
    body = exports.summary_xlsx(unit, _summary_below(request, unit))
    response = HttpResponse(
        body, content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    )
    response["Content-Disposition"] = f'attachment; filename="events-{unit.pk}.xlsx"'
    return response


def _summary_below(request, unit: Unit) -> list[dict]:
    """Events, sign-ups and attendance per unit directly below: summarised up the tree."""
    from django.db.models import Count, Sum

    rows = []
    occurrences = scoped(request.user, Occurrence)
    regs = scoped(request.user, Registration)
    for child in Unit.objects.filter(parent=unit).order_by("code"):
        mine = occurrences.filter(station__unit__path__startswith=child.path)
        n = mine.aggregate(events=Count("event", distinct=True), occurrences=Count("pk"))
        r = regs.filter(occurrence__station__unit__path__startswith=child.path)
        signed = r.filter(source=Source.PUBLIC).aggregate(n=Sum("party"))["n"] or 0
        attended = r.filter(state=State.ATTENDED).aggregate(n=Sum("party"))["n"] or 0
        hours = r.filter(source=Source.STAFF).aggregate(n=Sum("hours"))["n"] or 0
        if n["occurrences"] or attended:
            rows.append({"unit": child, **n, "signed_up": signed, "attended": attended, "hours": hours})
    return rows


def _campaign_choices(request):
    return scoped(request.user, Campaign).order_by("-starts_on")[:100]


def _event_values(form) -> dict:
    data = dict(form.cleaned_data)
    data.pop("revision", None)
    return data


@staff_view("change")
def manage_new(request):
    form = EventForm(request.POST or None, campaigns=_campaign_choices(request))
    if request.method == "POST" and form.is_valid():
        unit = Unit.objects.get(pk=request.scope.unit_id)
        try:
            event = services.create_event(actor=request.user, unit=unit, **_event_values(form))
        except ValidationError as exc:
            apply_errors(form, exc)
        else:
            messages.success(request, _("Event created: now add where and when it takes place."))
            return redirect("events:manage_event", pk=event.pk)
    return render(
        request, "events/manage_form.html", {"form": form, "event": None}, status=422 if form.errors else 200
    )


@staff_view("read")
def manage_edit(request, pk):
    event = get_for_user(request.user, Event.objects.select_related("unit"), "change", pk=pk)
    initial = {f: getattr(event, f) for f in services.EVENT_FIELDS if f != "campaign_id"}
    initial.update(campaign=str(event.campaign_id or ""), revision=event.revision)
    form = EventForm(
        request.POST or None, initial=initial, campaigns=_campaign_choices(request), editing=True
    )
    if request.method == "POST" and form.is_valid():
        try:
            services.update_event(
                event, actor=request.user, **_event_values(form), revision=form.cleaned_data["revision"]
            )
        except ValidationError as exc:
            apply_errors(form, exc)
        else:
            messages.success(request, _("Event saved."))
            return redirect("events:manage_event", pk=event.pk)
    return render(request, "events/manage_form.html", {"form": form, "event": event})


def _stations_for_form(request, event) -> list[Station]:
    return list(
        scoped(request.user, Station)
        .public()
        .filter(unit__path__startswith=event.unit.path)
        .order_by("code")[:500]
    )


@staff_view("read")
def manage_event(request, pk, occurrence_form=None, status=200):
    event = get_for_user(request.user, Event.objects.select_related("unit", "campaign"), pk=pk)
    occurrences = list(event.occurrences.select_related("station__unit").order_by("starts_at"))
    from yizhan.stations import hours

    calendar = hours.current_calendar()
    numbers = services.counts([o.pk for o in occurrences])
    for occ in occurrences:
        occ.warnings = services.warnings_for(occ, calendar)
        occ.numbers = numbers.get(occ.pk, {})
    form = occurrence_form or OccurrenceForm(stations=_stations_for_form(request, event))
    return render(
        request,
        "events/manage_event.html",
        {
            "event": event,
            "occurrences": occurrences,
            "form": form,
            "can_change": request.scope.can("change"),
            "history": events_for(request.user, event)[:20],
            "invite_url": request.build_absolute_uri(reverse("events:event", args=[event.pk]))
            + ("" if event.public else f"?invite={event.invite_token}"),
            "message_states": [(s, State(s).label) for s in services.MESSAGE_STATES],
            "photos": list(event.photos.all()),
        },
        status=status,
    )  # fmt: skip


@staff_view("read")
def occurrences_add(request, pk):
    event = get_for_user(request.user, Event.objects.select_related("unit"), "change", pk=pk)
    if request.method != "POST":
        return redirect("events:manage_event", pk=event.pk)
    form = OccurrenceForm(request.POST, stations=_stations_for_form(request, event))
    if form.is_valid():
        try:
            made = services.add_occurrences(event, actor=request.user, **form.cleaned_data)
        except ValidationError as exc:
            apply_errors(form, exc)
        else:
            messages.success(request, _("%(n)s occurrences added.") % {"n": len(made)})
            for occ in made:
                for warning in services.warnings_for(occ):
                    messages.warning(request, f"{occ.station.name}: {warning.text}")
            return redirect("events:manage_event", pk=event.pk)
    return manage_event(request, pk, occurrence_form=form, status=422)


@staff_view("read")
def event_action(request, pk, action):
    """Report (what happened), message the participants (by attendance)."""
    if action not in ("report", "message", "photo"):
        raise Http404
    event = get_for_user(request.user, Event.objects.select_related("unit"), "change", pk=pk)
    if request.method != "POST":
        return redirect("events:manage_event", pk=event.pk)
    try:
        if action == "photo":
            services.add_report_photo(
                event, actor=request.user, upload=request.FILES.get("photo"),
                caption=request.POST.get("caption", ""),
            )  # fmt: skip
            messages.success(request, _("Photo added."))
        elif action == "report":
            services.report_event(
                event, actor=request.user, note=request.POST.get("report_note", ""),
                people=request.POST.get("report_people", ""), revision=request.POST.get("revision"),
            )  # fmt: skip
            messages.success(request, _("Report saved."))
        else:
            log = services.message_participants(
                event,
                actor=request.user,
                text=request.POST.get("text", ""),
                states=request.POST.getlist("states"),
            )
            messages.success(
                request,
                _("Message to %(n)s participants: %(q)s queued, %(r)s without consent to messages.")
                % {"n": log.recipients, "q": log.queued, "r": log.refused},
            )
    except ValidationError as exc:
        flash_errors(request, exc)
    return redirect("events:manage_event", pk=event.pk)


@staff_view("read")
def event_photo(request, pk, photo):
    """A photo of the after-event record, to staff who can see the event (never public)."""
    from django.http import FileResponse

    event = get_for_user(request.user, Event, pk=pk)
    item = EventPhoto.objects.filter(event=event, pk=photo).first()
    if item is None:
        raise Http404
    try:
        handle = default_storage.open(item.path, "rb")
    except FileNotFoundError as exc:
        raise Http404 from exc
    response = FileResponse(handle, content_type="image/jpeg")
    response["X-Content-Type-Options"] = "nosniff"
    response["Content-Security-Policy"] = "default-src 'none'"
    response["Cache-Control"] = "private, max-age=3600"
    return response


@staff_view("read")
@require_POST
def event_photo_remove(request, pk, photo):
    event = get_for_user(request.user, Event, "change", pk=pk)
    item = EventPhoto.objects.filter(event=event, pk=photo).first()
    if item is None:
        raise Http404
    services.remove_report_photo(item, actor=request.user)
    messages.success(request, _("Photo removed."))
    return redirect("events:manage_event", pk=event.pk)


@staff_view("read")
def event_export(request, pk):
    event = get_for_user(request.user, Event.objects.select_related("unit"), pk=pk)
    body = exports.event_xlsx(event)
    response = HttpResponse(
        body, content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    )
    response["Content-Disposition"] = f'attachment; filename="event-{event.pk}.xlsx"'
    return response


# --- back office: one occurrence at the door --------------------------------------------------------


def _occurrence(request, pk, perm="read") -> Occurrence:
    return get_for_user(
        request.user, Occurrence.objects.select_related("event__unit", "station__unit"), perm, pk=pk
    )


@staff_view("read")
def manage_occurrence(request, pk, errors=None, status=200):
    occ = _occurrence(request, pk)
    regs = list(occ.registrations.order_by("pk"))
    on_sheet = [
        r
        for r in regs
        if r.state in (State.CONFIRMED, State.ATTENDED, State.NO_SHOW) and r.source == Source.PUBLIC
    ]
    numbers = services.counts([occ.pk]).get(occ.pk, {})
    return render(
        request,
        "events/manage_occurrence.html",
        {
            "occ": occ,
            "event": occ.event,
            "regs": regs,
            "on_sheet": on_sheet,
            "numbers": numbers,
            "warnings": services.warnings_for(occ),
            "nonce": secrets.token_urlsafe(12),  # one per shown form: a re-sent form counts once
            "errors": errors or {},
            "groups": TARGET_GROUPS,
            "can_change": request.scope.can("change"),
        },
        status=status,
    )


@staff_view("read")
def occurrence_action(request, pk, action):
    if action not in ("scan", "attendance", "walk-in", "cancel", "capacity"):
        raise Http404
    occ = _occurrence(request, pk, "change")
    if request.method != "POST":
        return redirect("events:manage_occurrence", pk=occ.pk)
    post = request.POST
    try:
        if action == "scan":
            result = services.scan_ticket(
                occ, actor=request.user, code=post.get("code"), nonce=post.get("nonce")
            )
            reg = result.registration
            if result.duplicate:
                messages.info(request, _("This scan was already counted."))
            else:
                messages.success(
                    request, _("Welcome: %(name)s, %(n)s people.") % {"name": reg.name, "n": reg.party}
                )
        elif action == "attendance":
            changed = services.mark_attendance(
                occ, actor=request.user, attended=post.getlist("attended"), shown=post.getlist("shown"),
                revision=post.get("revision"),
            )  # fmt: skip
            messages.success(request, _("Attendance saved: %(n)s changed.") % {"n": len(changed)})
        elif action == "walk-in":
            services.record_walk_in(
                occ, actor=request.user, name=post.get("name", ""), group=post.get("group", ""),
                party=post.get("party", ""), affiliation=post.get("affiliation", ""),
                staff=post.get("staff") == "on", hours=post.get("hours", ""),
            )  # fmt: skip
            messages.success(request, _("Walk-in recorded."))
        elif action == "capacity":
            services.update_occurrence(
                occ, actor=request.user, capacity=post.get("capacity"), revision=post.get("revision")
            )
            messages.success(request, _("Places saved."))
        else:
            services.update_occurrence(occ, actor=request.user, cancelled=True, revision=post.get("revision"))
            messages.success(
                request, _("Occurrence cancelled; those signed up are told (where they agreed to messages).")
            )
    except ValidationError as exc:
        return manage_occurrence(request, pk, errors=_errors(exc), status=422)
    return redirect("events:manage_occurrence", pk=occ.pk)


@staff_view("read")
@require_POST
def participant_cancel(request, pk):
    reg = get_for_user(request.user, Registration.objects.select_related("occurrence"), "change", pk=pk)
    try:
        services.cancel_registration(reg, actor=request.user)
        messages.success(request, _("Sign-up cancelled."))
    except ValidationError as exc:
        flash_errors(request, exc)
    return redirect("events:manage_occurrence", pk=reg.occurrence_id)


# --- back office: campaigns and offers --------------------------------------------------------------


@staff_view("read")
def campaign_list(request):
    items = scoped(request.user, Campaign).select_related("unit")
    return render(
        request,
        "events/campaigns.html",
        {"campaigns": items[:200], "can_change": request.scope.can("change")},
    )


def _codes(text: str) -> list[str]:
    return [c for c in text.replace("，", ",").replace(" ", ",").split(",") if c.strip()]


@staff_view("change")
def campaign_new(request):
    form = CampaignForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        data = dict(form.cleaned_data)
        units = _codes(data.pop("units"))
        try:
            campaign = campaign_services.create_campaign(
                actor=request.user, unit=Unit.objects.get(pk=request.scope.unit_id), units=units, **data
            )
        except ValidationError as exc:
            apply_errors(form, exc)
        else:
            return redirect("events:campaign", pk=campaign.pk)
    return render(request, "events/campaign_form.html", {"form": form}, status=422 if form.errors else 200)


@staff_view("read")
def campaign_edit(request, pk):
    campaign = get_for_user(request.user, Campaign.objects.select_related("unit"), "change", pk=pk)
    initial = {f: getattr(campaign, f) for f in campaign_services.FIELDS}
    initial.update(
        units=", ".join(campaign.units.order_by("code").values_list("code", flat=True)),
        revision=campaign.revision,
    )
    form = CampaignForm(request.POST or None, initial=initial, editing=True)
    if request.method == "POST" and form.is_valid():
        data = dict(form.cleaned_data)
        units, revision = _codes(data.pop("units")), data.pop("revision")
        try:
            campaign_services.update_campaign(
                campaign, actor=request.user, revision=revision, units=units, **data
            )
        except ValidationError as exc:
            apply_errors(form, exc)
        else:
            messages.success(request, _("Campaign saved."))
            return redirect("events:campaign", pk=campaign.pk)
    return render(request, "events/campaign_form.html", {"form": form, "campaign": campaign})


@staff_view("read")
def campaign_action(request, pk, action):
    """Enrol a consumer-protection ambassador, or record what one passed on."""
    if action not in ("ambassador", "outreach"):
        raise Http404
    campaign = get_for_user(request.user, Campaign.objects.select_related("unit"), "change", pk=pk)
    if request.method != "POST":
        return redirect("events:campaign", pk=campaign.pk)
    post = request.POST
    try:
        if action == "ambassador":
            campaign_services.enrol_ambassador(
                campaign, actor=request.user, name=post.get("name", ""), unit=post.get("unit", ""),
                affiliation=post.get("affiliation", ""), enrolled_on=post.get("enrolled_on") or None,
            )  # fmt: skip
            messages.success(request, _("Ambassador enrolled."))
        else:
            amb = Ambassador.objects.filter(campaign=campaign, pk=_int(post.get("ambassador"))).first()
            if amb is None:
                raise ValidationError({"ambassador": _("Choose one of this campaign's ambassadors.")})
            campaign_services.record_outreach(
                amb, actor=request.user, day=post.get("day", ""), topic=post.get("topic", ""),
                people=post.get("people", ""), note=post.get("note", ""),
            )  # fmt: skip
            messages.success(request, _("Saved: counted in the campaign's reach."))
    except ValidationError as exc:
        return campaign_detail(request, pk, errors=_errors(exc), posted=post, status=422)
    return redirect("events:campaign", pk=campaign.pk)


def _int(value) -> int | None:
    try:
        return int(str(value))
    except (TypeError, ValueError):
        return None


@staff_view("read")
def campaign_detail(request, pk, errors=None, posted=None, status=200):
    campaign = get_for_user(request.user, Campaign.objects.select_related("unit"), pk=pk)
    result = campaign_services.reach(campaign)
    # The chart is two <progress> bars per unit against the largest figure: no script needed.
    chart = {"max": max([1, *(max(r["checkins"], r["checkins_before"]) for r in result["rows"])])}
    return render(
        request,
        "events/campaign.html",
        {"campaign": campaign, "reach": result, "chart": chart, "group": group_label(campaign.target_group),
         "events": campaign.events.all()[:100], "can_change": request.scope.can("change"),
         "ambassadors": campaign_services.ambassadors(campaign), "topics": Topic.choices,
         "units": campaign_services.participating(campaign), "errors": errors or {}, "posted": posted or {},
         "today": timezone.localdate()},
        status=status,
    )  # fmt: skip


@staff_view("read")
def offer_list(request):
    items = scoped(request.user, Offer).select_related("unit", "theme")
    return render(
        request, "events/offers.html", {"offers": items[:200], "can_change": request.scope.can("change")}
    )


@staff_view("read")
def offer_edit(request, pk=None):
    offer = get_for_user(request.user, Offer, "change", pk=pk) if pk else None
    if offer is None and not request.scope.can("change"):
        from django.core.exceptions import PermissionDenied

        raise PermissionDenied
    initial = {}
    if offer:
        initial = {f: getattr(offer, f) for f in offer_services.FIELDS if f != "theme_id"}
        initial.update(theme=offer.theme.code if offer.theme else "", revision=offer.revision)
    form = OfferForm(
        request.POST or None, initial=initial, themes=Theme.objects.all(), editing=offer is not None
    )
    if request.method == "POST" and form.is_valid():
        data = dict(form.cleaned_data)
        revision = data.pop("revision", None)
        try:
            offer_services.save_offer(
                offer,
                actor=request.user,
                unit=Unit.objects.get(pk=request.scope.unit_id),
                revision=revision,
                **data,
            )
        except ValidationError as exc:
            apply_errors(form, exc)
        else:
            messages.success(request, _("Offer saved."))
            return redirect("events:offers")
    # A creation refused is 422; an edit re-shown (a stale one lists what changed) is the page again.
    status = 422 if form.errors and offer is None else 200
    return render(request, "events/offer_form.html", {"form": form, "offer": offer}, status=status)
