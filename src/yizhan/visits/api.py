"""Public check-ins and reports (no login), and the staff API for the queue, tallies and statistics.

Both call the same service verbs as the pages; a ValidationError answers 422 naming the field.
"""

import datetime

from django.core.exceptions import ValidationError
from django.http import Http404
from django.utils import timezone
from django.utils.translation import gettext as _
from ninja import File, Form, Router, Schema, Status
from ninja.files import UploadedFile

from yizhan.core.boundary import IsoDate, Offset
from yizhan.core.masking import mask_contact
from yizhan.core.schemas import Conflict, Message
from yizhan.orgs.models import Unit
from yizhan.orgs.scoping import get_for_user, require, scope_for, scoped
from yizhan.stations.models import Station
from yizhan.visits import limits, services, stats
from yizhan.visits.models import Feedback, FeedbackStatus

router = Router(tags=["public: check-ins and reports"])
manage_router = Router(tags=["manage: visits and feedback"])

CONFIRMATION = "confirmation"


def _rate_limit(request, kind: str) -> None:
    # Imported here: yizhan.api imports this module while it is being built.
    from yizhan.api import RateLimited

    if (usage := limits.hit(request, kind)).over:
        raise RateLimited(usage.retry_after)


def _station(code: str, *, lean: bool = False) -> Station:
    station = services.station_for_checkin(code) if lean else services.station_for_public(code)
    if station is None:
        raise Http404
    return station


class CheckInIn(Schema):
    group: str | None = None
    services: list[str] | None = None
    device: str | None = None
    request_id: str | None = None


class CheckInOut(Schema):
    counted: bool
    replayed: bool = False
    id: int | None = None
    station: str
    day: datetime.date | None = None
    detail: str


@router.post(
    "/stations/{code}/checkins",
    response={201: CheckInOut, 200: CheckInOut, 404: Message, 429: Message},
    summary="Check in at a station (no login)",
    description=(
        "Counts one visit. `group` and `services` are optional codes; `device` is the app's own "
        "random id (or the `yz_device` cookie): one device counts once per station in 30 minutes "
        "(200, counted=false). `request_id` makes a retry safe: the same id never counts twice and "
        "answers 201 as the first time did."
    ),
)
def post_checkin(request, code: str, payload: CheckInIn):
    _rate_limit(request, "checkin")
    station = _station(code, lean=True)
    device = payload.device or request.COOKIES.get("yz_device") or None
    result = services.record_checkin(
        station,
        group=payload.group,
        services=payload.services,
        device=device,
        request_id=payload.request_id,
    )
    if not result.counted:
        return Status(
            200,
            {
                "counted": False,
                "station": station.code,
                "detail": _("Already counted: this device checked in here within the last 30 minutes."),
            },
        )
    return Status(
        201,
        {
            "counted": True,
            "replayed": result.replayed,
            "id": result.checkin.pk,
            "station": station.code,
            "day": result.checkin.day,
            "detail": _("Thank you: your visit is counted."),
        },
    )


class ReportOut(Schema):
    id: int | None = None
    replayed: bool = False
    kind: str
    station: str
    status: str
    due_on: datetime.date | None = None
    verified_at: datetime.datetime | None = None


@router.post(
    "/stations/{code}/reports",
    response={201: ReportOut, 404: Message, 429: Message},
    summary="Report a problem or confirm a station's details (no login)",
    description=(
        "multipart/form-data. `kind`: facility_broken, closed_when_open, wrong_hours, suggestion, "
        'praise, or confirmation ("the details are still correct", which updates the station\'s '
        "verified_at). Optional `facility` (catalogue code), `text` (≤ 2000 characters), `contact` "
        "(phone or e-mail) and `photo` (JPEG, PNG or WebP, ≤ 4 MB; stored re-encoded as a JPEG of at most "
        "1600 px a side, without its metadata). `request_id` makes a resend safe (a phone's offline "
        "queue): the same id answers 201 with the first report and writes nothing; the same id for "
        "another station is refused (422)."
    ),
)
def post_report(
    request,
    code: str,
    kind: Form[str] = "",
    facility: Form[str] = "",
    text: Form[str] = "",
    contact: Form[str] = "",
    photo: File[UploadedFile] = None,
    request_id: Form[str] = "",
):
    station = _station(code)
    if kind == CONFIRMATION:
        _rate_limit(request, "confirm")
        station = services.confirm_station(station)
        return Status(
            201,
            {
                "kind": CONFIRMATION,
                "station": station.code,
                "status": "done",
                "verified_at": station.verified_at,
            },
        )
    _rate_limit(request, "report")
    item = services.submit_feedback(
        station,
        kind=kind,
        facility=facility,
        text=text,
        contact=contact,
        photo=photo,
        request_id=request_id or None,
    )
    return Status(
        201,
        {
            "id": item.pk,
            "replayed": getattr(item, "replayed", False),
            "kind": item.kind,
            "station": station.code,
            "status": item.status,
            "due_on": item.due_on,
        },
    )


# --- staff -----------------------------------------------------------------------------------------


class FeedbackOut(Schema):
    id: int
    station: str
    kind: str
    facility: str | None
    text: str
    contact: str
    has_photo: bool
    status: str
    created_at: datetime.datetime
    due_on: datetime.date
    overdue: bool
    note: str
    revision: int


def feedback_out(item: Feedback, *, full_contact: bool, today) -> dict:
    return {
        "id": item.pk,
        "station": item.station.code,
        "kind": item.kind,
        "facility": item.facility.code if item.facility else None,
        "text": item.text,
        "contact": item.contact if full_contact else mask_contact(item.contact),
        "has_photo": bool(item.photo),
        "status": item.status,
        "created_at": item.created_at,
        "due_on": item.due_on,
        "overdue": item.is_overdue(today),
        "note": item.note,
        "revision": item.revision,
    }


@manage_router.get("/feedback", response=list[FeedbackOut], summary="The feedback queue of your subtree")
def list_feedback(request, status: str = "open", unit: str = "", limit: int = 100, offset: Offset = 0):
    """`status`: open (default), overdue, all, or one of new / acknowledged / resolved / rejected.
    Contacts are masked in the list."""
    limit = max(1, min(limit, 500))
    items = scoped(request.user, Feedback).select_related("station", "facility").order_by("due_on", "pk")
    if unit:
        items = items.filter(station__unit__path__startswith=get_for_user(request.user, Unit, code=unit).path)
    today = timezone.localdate()
    if status == "open":
        items = items.open()
    elif status == "overdue":
        items = items.overdue(today)
    elif status in FeedbackStatus.values:
        items = items.filter(status=status)
    elif status != "all":
        raise ValidationError(
            {"status": _("Use open, overdue, all, new, acknowledged, resolved or rejected.")}
        )
    return [feedback_out(i, full_contact=False, today=today) for i in items[offset : offset + limit]]


class TransitionIn(Schema):
    revision: int | None = None  # the item's revision it is based on; when given, a stale one is 409
    note: str = ""
    facility_outcome: str = ""
    facility: str = ""


@manage_router.post(
    "/feedback/{item_id}/{action}",
    response={200: FeedbackOut, 409: Conflict},
    summary="Acknowledge, resolve or reject a feedback item",
)
def transition_feedback(request, item_id: int, action: str, payload: TransitionIn):
    verbs = {
        "acknowledge": lambda item: services.acknowledge_feedback(
            item, actor=request.user, note=payload.note, revision=payload.revision
        ),
        "resolve": lambda item: services.resolve_feedback(
            item,
            actor=request.user,
            note=payload.note,
            facility_outcome=payload.facility_outcome,
            facility=payload.facility or None,
            revision=payload.revision,
        ),
        "reject": lambda item: services.reject_feedback(
            item, actor=request.user, note=payload.note, revision=payload.revision
        ),
    }
    if action not in verbs:
        raise Http404
    item = get_for_user(request.user, Feedback.objects.select_related("station__unit"), "change", pk=item_id)
    item = verbs[action](item)
    return feedback_out(item, full_contact=True, today=timezone.localdate())


class TallyIn(Schema):
    counts: dict[str, int | str]
    revision: int  # the station's revision it is based on (GET /manage/stations/{code}); stale: 409


class TallyOut(Schema):
    station: str
    day: datetime.date
    counts: dict[str, int]
    revision: int


@manage_router.put(
    "/stations/{code}/tallies/{day}",
    response=TallyOut,
    summary="Set a station's hand-counted visitors per group for one day (0 removes)",
)
def put_tallies(request, code: str, day: IsoDate, payload: TallyIn):
    # `day` typed as a date: 0 or 2026-13-01 are 422 on `day` before anything is looked up.
    station = get_for_user(request.user, Station, "change", code=code)
    services.set_tallies(
        station, actor=request.user, day=day, counts=payload.counts, revision=payload.revision
    )
    counts = dict(station.tallies.filter(day=day).values_list("group", "count"))
    return {"station": station.code, "day": day, "counts": counts, "revision": station.revision}


class SeriesPoint(Schema):
    label: str
    checkins: int
    tallied: int
    total: int


class GroupRow(Schema):
    code: str
    checkins: int
    tallied: int
    total: int


class ServiceRow(Schema):
    code: str
    checkins: int


class StatsOut(Schema):
    unit: str
    start: datetime.date
    end: datetime.date
    checkins: int
    tallied: int
    total: int
    series: list[SeriesPoint]
    groups: list[GroupRow]
    services: list[ServiceRow]


@manage_router.get("/visits/stats", response=StatsOut, summary="Visit statistics of a unit's subtree")
def get_stats(request, unit: str = "", start: str = "", end: str = "", by: str = "day"):
    from yizhan.visits.forms import StatsForm

    require(request.user, "read")
    form = StatsForm({"start": start, "end": end, "by": by})
    if not form.is_valid():
        raise ValidationError({field: errors[0] for field, errors in form.errors.items()})
    target = (
        get_for_user(request.user, Unit, code=unit)
        if unit
        else Unit.objects.get(pk=scope_for(request.user).unit_id)
    )
    data = form.cleaned_data
    r = stats.report(target, data["start"], data["end"], data["by"])
    return {
        "unit": target.code,
        "start": r.start,
        "end": r.end,
        **r.totals,
        "series": [{k: p[k] for k in ("label", "checkins", "tallied", "total")} for p in r.series],
        "groups": [{k: g[k] for k in ("code", "checkins", "tallied", "total")} for g in r.groups],
        "services": [{k: s[k] for k in ("code", "checkins")} for s in r.services],
    }
