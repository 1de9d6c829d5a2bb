"""Public events and sign-up (no login), and the staff API for events, occurrences, attendance,
campaigns and offers. Both call the same service verbs as the pages; a ValidationError answers
422 naming the field."""

import datetime

from django.db.models import Sum
from django.http import Http404
from django.urls import reverse
from django.utils import timezone
from ninja import File, Form, Router, Schema, Status
from ninja.files import UploadedFile

from yizhan.core.boundary import Offset
from yizhan.core.schemas import Conflict, Message
from yizhan.events import campaigns as campaign_services
from yizhan.events import limits, services
from yizhan.events.models import Campaign, Event, Occurrence, Registration
from yizhan.orgs.models import Unit
from yizhan.orgs.scoping import get_for_user, require, scoped

router = Router(tags=["public: events"])
manage_router = Router(tags=["manage: events"])


def _rate_limit(request, kind: str) -> None:
    from yizhan.api import RateLimited

    if (usage := limits.hit(request, kind)).over:
        raise RateLimited(usage.retry_after)


class OccurrenceOut(Schema):
    id: int
    station: str
    station_name: str
    starts_at: datetime.datetime
    ends_at: datetime.datetime
    capacity: int
    left: int
    cancelled: bool


class EventOut(Schema):
    id: int
    title: str
    kind: str
    target_groups: list[str]
    description: str
    speakers: str
    public: bool
    occurrences: list[OccurrenceOut]


def _occ_out(o: Occurrence) -> dict:
    return {"id": o.pk, "station": o.station.code, "station_name": o.station.name, "starts_at": o.starts_at,
            "ends_at": o.ends_at, "capacity": o.capacity, "left": o.left, "cancelled": o.cancelled}  # fmt: skip


def _event_out(e: Event, occs) -> dict:
    return {"id": e.pk, "title": e.title, "kind": e.kind, "target_groups": e.target_groups,
            "description": e.description, "speakers": e.speakers, "public": e.public,
            "occurrences": [_occ_out(o) for o in occs]}  # fmt: skip


@router.get("/events", response=list[EventOut], summary="Upcoming public events (no login)")
def list_events(request, group: str = "", station: str = "", limit: int = 50, offset: Offset = 0):
    limit = max(1, min(limit, 200))
    occs = Occurrence.objects.listed().select_related("event", "station").order_by("starts_at")
    if station:
        occs = occs.filter(station__code=station[:32])
    by_event: dict[int, list] = {}
    events: dict[int, Event] = {}
    for o in occs[:1000]:
        if group and group not in o.event.target_groups:
            continue
        events[o.event_id] = o.event
        by_event.setdefault(o.event_id, []).append(o)
    ids = list(events)[offset : offset + limit]
    return [_event_out(events[i], by_event[i]) for i in ids]


@router.get("/events/{event_id}", response={200: EventOut, 404: Message}, summary="One public event")
def get_event(request, event_id: int, invite: str = ""):
    event = Event.objects.filter(pk=event_id).first()
    if event is None or (not event.public and invite != event.invite_token):
        raise Http404
    occs = event.occurrences.filter(ends_at__gte=timezone.now()).select_related("station")
    return _event_out(event, occs)


class SignUpIn(Schema):
    name: str
    phone: str = ""
    party: int = 1
    consent: bool = False
    invite: str = ""


class TicketOut(Schema):
    code: str
    token: str
    state: str
    party: int
    event: str
    station: str
    starts_at: datetime.datetime
    offered_until: datetime.datetime | None = None


def _ticket_out(reg: Registration) -> dict:
    occ = reg.occurrence
    return {"code": reg.code, "token": reg.token, "state": reg.state, "party": reg.party, "event": occ.event.title,
            "station": occ.station.code, "starts_at": occ.starts_at, "offered_until": reg.offered_until}  # fmt: skip


@router.post(
    "/events/occurrences/{occurrence_id}/signups",
    response={201: TicketOut, 404: Message, 429: Message},
    summary="Sign up for an occurrence (no login)",
    description="Confirmed while places last, else on the waiting list (`state`). `phone` is optional "
    "(for a reminder, with `consent`); the `token` is the ticket's private link: keep it to cancel.",
)
def post_signup(request, occurrence_id: int, payload: SignUpIn):
    _rate_limit(request, "signup")
    try:
        reg = services.sign_up(occurrence_id, invite=payload.invite, name=payload.name, phone=payload.phone,
                               party=payload.party, consent=payload.consent)  # fmt: skip
    except Occurrence.DoesNotExist:  # missing, or by invitation without the link: the same answer
        raise Http404 from None
    return Status(201, _ticket_out(reg))


def _public_ticket(token: str) -> Registration:
    reg = (
        Registration.objects.select_related("occurrence__event", "occurrence__station")
        .filter(token=token[:40])
        .first()
    )
    if reg is None:
        raise Http404
    return reg


@router.get(
    "/events/tickets/{token}", response={200: TicketOut, 404: Message}, summary="A ticket by its private link"
)
def get_ticket(request, token: str):
    return _ticket_out(_public_ticket(token))


@router.post(
    "/events/tickets/{token}/{action}",
    response={200: TicketOut, 404: Message, 429: Message},
    summary="Cancel a sign-up, or accept a place offered from the waiting list",
)
def ticket_action(request, token: str, action: str):
    if action not in ("cancel", "accept"):
        raise Http404
    _rate_limit(request, "ticket")
    reg = _public_ticket(token)
    reg = services.cancel_registration(reg) if action == "cancel" else services.accept_offer(reg)
    return _ticket_out(
        Registration.objects.select_related("occurrence__event", "occurrence__station").get(pk=reg.pk)
    )


# --- staff ---------------------------------------------------------------------------------------------


class StaffEventOut(EventOut):
    unit: str
    capacity: int
    max_party: int
    revision: int
    campaign: int | None = None


def _staff_event(e: Event) -> dict:
    occs = e.occurrences.select_related("station").order_by("starts_at")
    return {**_event_out(e, occs), "unit": e.unit.code, "capacity": e.capacity, "max_party": e.max_party,
            "revision": e.revision, "campaign": e.campaign_id}  # fmt: skip


class EventIn(Schema):
    title: str
    kind: str
    target_groups: list[str] = []
    description: str = ""
    speakers: str = ""
    partners: str = ""
    capacity: int = 30
    max_party: int = 4
    signup_opens: datetime.datetime | None = None
    signup_closes: datetime.datetime | None = None
    public: bool = True
    offer_hours: int = 24
    campaign: int | None = None
    unit: str = ""


class EventPatch(EventIn):
    revision: int


# Declared before /events/{event_id}: the paths resolve in order.
class CampaignIn(Schema):
    name: str
    target_group: str
    starts_on: datetime.date
    ends_on: datetime.date
    units: list[str] = []
    partners: str = ""
    description: str = ""


class CampaignPatch(Schema):
    """Only the fields sent change; `revision` is the one the edit is based on."""

    revision: int
    name: str | None = None
    target_group: str | None = None
    starts_on: datetime.date | None = None
    ends_on: datetime.date | None = None
    units: list[str] | None = None
    partners: str | None = None
    description: str | None = None


class ReachRow(Schema):
    unit: str
    signed_up: int
    attended: int
    checkins: int
    checkins_before: int
    change: float | None = None
    ambassadors: int
    passed_on: int


class AmbassadorIn(Schema):
    name: str
    unit: str = ""
    affiliation: str = ""
    enrolled_on: datetime.date | None = None


class AmbassadorOut(Schema):
    id: int
    name: str
    unit: str
    affiliation: str
    enrolled_on: datetime.date
    people: int
    topics: dict[str, int]


class OutreachIn(Schema):
    day: datetime.date
    topic: str
    people: int
    note: str = ""


class CampaignOut(Schema):
    id: int
    name: str
    target_group: str
    starts_on: datetime.date
    ends_on: datetime.date
    units: list[str]
    partners: str
    description: str
    revision: int


class ReachOut(Schema):
    rows: list[ReachRow]
    total: dict[str, float | int | None]
    messages: dict[str, int]
    events: int


def _campaign_out(c: Campaign) -> dict:
    return {"id": c.pk, "name": c.name, "target_group": c.target_group, "starts_on": c.starts_on,
            "ends_on": c.ends_on, "units": sorted(u.code for u in c.units.all()), "partners": c.partners,
            "description": c.description, "revision": c.revision}  # fmt: skip


@manage_router.get("/events/campaigns", response=list[CampaignOut], summary="Campaigns of your subtree")
def staff_campaigns(request):
    return [_campaign_out(c) for c in scoped(request.user, Campaign).prefetch_related("units")[:500]]


@manage_router.post("/events/campaigns", response={201: CampaignOut}, summary="Create a campaign")
def staff_create_campaign(request, payload: CampaignIn):
    scope = require(request.user, "change")
    campaign = campaign_services.create_campaign(
        actor=request.user, unit=Unit.objects.get(pk=scope.unit_id), **payload.dict()
    )
    return Status(201, _campaign_out(campaign))


@manage_router.get("/events/campaigns/{campaign_id}", response=CampaignOut, summary="One campaign")
def staff_campaign(request, campaign_id: int):
    return _campaign_out(get_for_user(request.user, Campaign, pk=campaign_id))


@manage_router.patch(
    "/events/campaigns/{campaign_id}",
    response={200: CampaignOut, 409: Conflict},
    summary="Change a campaign (optimistic concurrency: a stale `revision` answers 409)",
)
def staff_update_campaign(request, campaign_id: int, payload: CampaignPatch):
    campaign = get_for_user(request.user, Campaign.objects.select_related("unit"), "change", pk=campaign_id)
    sent = payload.dict(exclude_unset=True)
    revision, units = sent.pop("revision"), sent.pop("units", None)
    # A field sent as null keeps its value, like one not sent.
    data = {f: getattr(campaign, f) for f in campaign_services.FIELDS}
    data.update({k: v for k, v in sent.items() if v is not None})
    campaign = campaign_services.update_campaign(
        campaign, actor=request.user, revision=revision, units=units, **data
    )
    return _campaign_out(campaign)


@manage_router.get(
    "/events/campaigns/{campaign_id}/reach", response=ReachOut, summary="A campaign's reach by unit"
)
def staff_reach(request, campaign_id: int):
    campaign = get_for_user(request.user, Campaign.objects.select_related("unit"), pk=campaign_id)
    result = campaign_services.reach(campaign)
    rows = [{**{k: v for k, v in r.items() if k != "unit"}, "unit": r["unit"].code} for r in result["rows"]]
    return {
        "rows": rows,
        "total": result["total"],
        "messages": result["messages"],
        "events": result["events"],
    }


def _ambassador_out(a) -> dict:
    topics = dict(a.outreach.values_list("topic").annotate(n=Sum("people")))
    return {"id": a.pk, "name": a.name, "unit": a.unit.code, "affiliation": a.affiliation,
            "enrolled_on": a.enrolled_on, "people": sum(topics.values()), "topics": topics}  # fmt: skip


@manage_router.get(
    "/events/campaigns/{campaign_id}/ambassadors",
    response=list[AmbassadorOut],
    summary="A campaign's consumer-protection ambassadors, with the people reached per topic",
)
def staff_ambassadors(request, campaign_id: int):
    campaign = get_for_user(request.user, Campaign, pk=campaign_id)
    return [_ambassador_out(a) for a in campaign.ambassadors.select_related("unit")[:1000]]


@manage_router.post(
    "/events/campaigns/{campaign_id}/ambassadors",
    response={201: AmbassadorOut},
    summary="Enrol a consumer-protection ambassador (消保宣传使者)",
)
def staff_enrol_ambassador(request, campaign_id: int, payload: AmbassadorIn):
    campaign = get_for_user(request.user, Campaign.objects.select_related("unit"), "change", pk=campaign_id)
    amb = campaign_services.enrol_ambassador(campaign, actor=request.user, **payload.dict())
    return Status(201, _ambassador_out(amb))


@manage_router.post(
    "/events/campaigns/{campaign_id}/ambassadors/{ambassador_id}/outreach",
    response={201: AmbassadorOut},
    summary="Record what an ambassador passed on (counted in the campaign's reach)",
)
def staff_outreach(request, campaign_id: int, ambassador_id: int, payload: OutreachIn):
    campaign = get_for_user(request.user, Campaign, "change", pk=campaign_id)
    amb = campaign.ambassadors.select_related("unit").filter(pk=ambassador_id).first()
    if amb is None:
        raise Http404
    campaign_services.record_outreach(amb, actor=request.user, **payload.dict())
    return Status(201, _ambassador_out(amb))


@manage_router.get("/events", response=list[StaffEventOut], summary="Events of your subtree")
def staff_events(request, limit: int = 50, offset: Offset = 0):
    limit = max(1, min(limit, 200))
    return [
        _staff_event(e) for e in scoped(request.user, Event).select_related("unit")[offset : offset + limit]
    ]


@manage_router.post("/events", response={201: StaffEventOut}, summary="Create an event")
def staff_create_event(request, payload: EventIn):
    scope = require(request.user, "change")
    data = payload.dict()
    code = data.pop("unit")
    unit = get_for_user(request.user, Unit, code=code) if code else Unit.objects.get(pk=scope.unit_id)
    event = services.create_event(actor=request.user, unit=unit, **data)
    return Status(201, _staff_event(event))


@manage_router.get("/events/{event_id}", response=StaffEventOut, summary="One event")
def staff_event(request, event_id: int):
    return _staff_event(get_for_user(request.user, Event.objects.select_related("unit"), pk=event_id))


@manage_router.patch(
    "/events/{event_id}", response={200: StaffEventOut, 409: Conflict}, summary="Change an event"
)
def staff_update_event(request, event_id: int, payload: EventPatch):
    event = get_for_user(request.user, Event.objects.select_related("unit"), "change", pk=event_id)
    data = payload.dict()
    data.pop("unit")
    event = services.update_event(event, actor=request.user, **data)
    return _staff_event(event)


class PhotoOut(Schema):
    id: int
    caption: str
    url: str


@manage_router.post(
    "/events/{event_id}/photos",
    response={201: PhotoOut},
    summary="Add a photo to the after-event record (JPEG, PNG or WebP, judged by its bytes; re-encoded)",
)
def staff_add_photo(request, event_id: int, photo: File[UploadedFile] = None, caption: Form[str] = ""):
    event = get_for_user(request.user, Event.objects.select_related("unit"), "change", pk=event_id)
    item = services.add_report_photo(event, actor=request.user, upload=photo, caption=caption)
    return Status(201, {"id": item.pk, "caption": item.caption,
                        "url": reverse("events:photo", args=[event.pk, item.pk])})  # fmt: skip


class OccurrencesIn(Schema):
    stations: list[str]
    starts_at: datetime.datetime
    ends_at: datetime.datetime
    capacity: int | None = None


@manage_router.post("/events/{event_id}/occurrences", response={201: list[OccurrenceOut]},
                    summary="Add occurrences: the event at one or many stations at once")  # fmt: skip
def staff_add_occurrences(request, event_id: int, payload: OccurrencesIn):
    event = get_for_user(request.user, Event.objects.select_related("unit"), "change", pk=event_id)
    made = services.add_occurrences(event, actor=request.user, **payload.dict())
    return Status(201, [_occ_out(o) for o in made])


class ParticipantOut(Schema):
    id: int
    code: str
    name: str
    phone: str  # masked
    party: int
    state: str
    source: str
    group: str
    affiliation: str
    attended_at: datetime.datetime | None = None


def _participant(r: Registration) -> dict:
    return {"id": r.pk, "code": r.code, "name": r.name, "phone": r.masked_phone, "party": r.party, "state": r.state,
            "source": r.source, "group": r.group, "affiliation": r.affiliation, "attended_at": r.attended_at}  # fmt: skip


def _staff_occ(request, occurrence_id: int, perm: str = "read") -> Occurrence:
    return get_for_user(
        request.user,
        Occurrence.objects.select_related("event__unit", "station__unit"),
        perm,
        pk=occurrence_id,
    )


@manage_router.get("/events/occurrences/{occurrence_id}/participants", response=list[ParticipantOut],
                   summary="An occurrence's participants (phones masked)")  # fmt: skip
def staff_participants(request, occurrence_id: int, state: str = ""):
    occ = _staff_occ(request, occurrence_id)
    regs = occ.registrations.order_by("pk")
    if state:
        regs = regs.filter(state=state[:12])
    return [_participant(r) for r in regs[:5000]]


class ScanIn(Schema):
    code: str
    nonce: str


class ScanOut(Schema):
    duplicate: bool
    participant: ParticipantOut | None = None


@manage_router.post("/events/occurrences/{occurrence_id}/scans", response=ScanOut,
                    summary="A ticket scanned at the door; the same nonce uploaded again counts once")  # fmt: skip
def staff_scan(request, occurrence_id: int, payload: ScanIn):
    occ = _staff_occ(request, occurrence_id, "change")
    result = services.scan_ticket(occ, actor=request.user, code=payload.code, nonce=payload.nonce)
    return {
        "duplicate": result.duplicate,
        "participant": _participant(result.registration) if result.registration else None,
    }


class AttendanceIn(Schema):
    attended: list[int]
    shown: list[int]
    revision: int


class AttendanceOut(Schema):
    changed: dict[str, list[str]]
    revision: int


@manage_router.post("/events/occurrences/{occurrence_id}/attendance", response={200: AttendanceOut, 409: Conflict},
                    summary="Attendance marked afterwards from the paper sheet")  # fmt: skip
def staff_attendance(request, occurrence_id: int, payload: AttendanceIn):
    occ = _staff_occ(request, occurrence_id, "change")
    changed = services.mark_attendance(occ, actor=request.user, **payload.dict())
    return {"changed": changed, "revision": Occurrence.objects.get(pk=occ.pk).revision}


class WalkInIn(Schema):
    name: str = ""
    group: str = ""
    party: int = 1
    affiliation: str = ""
    staff: bool = False
    hours: float | None = None


@manage_router.post("/events/occurrences/{occurrence_id}/walk-ins", response={201: ParticipantOut},
                    summary="A walk-in (or a staff volunteer with hours)")  # fmt: skip
def staff_walk_in(request, occurrence_id: int, payload: WalkInIn):
    occ = _staff_occ(request, occurrence_id, "change")
    return Status(201, _participant(services.record_walk_in(occ, actor=request.user, **payload.dict())))


class MessageIn(Schema):
    text: str
    states: list[str]


class MessageOut(Schema):
    recipients: int
    queued: int
    refused: int


@manage_router.post("/events/{event_id}/messages", response=MessageOut,
                    summary="Message the participants, filtered by attendance (through notify)")  # fmt: skip
def staff_message(request, event_id: int, payload: MessageIn):
    event = get_for_user(request.user, Event.objects.select_related("unit"), "change", pk=event_id)
    log = services.message_participants(event, actor=request.user, **payload.dict())
    return {"recipients": log.recipients, "queued": log.queued, "refused": log.refused}
