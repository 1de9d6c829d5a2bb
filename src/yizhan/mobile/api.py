"""The public API of a van's next visits (`/api/v1/mobile/{code}/visits`, no personal data) and
the staff API over the same verbs as the pages (`/api/v1/manage/mobile/…`)."""

import datetime

from django.core.exceptions import ValidationError
from django.http import Http404
from django.utils import timezone
from django.utils.translation import gettext as _
from ninja import Router, Schema, Status

from yizhan.core.boundary import Offset
from yizhan.core.schemas import Conflict, Message
from yizhan.mobile import services
from yizhan.mobile.models import Visit, VisitPlace, VisitSchedule
from yizhan.orgs.scoping import get_for_user, scoped
from yizhan.stations.models import Station, StationKind

router = Router(tags=["public: mobile stations"])
manage_router = Router(tags=["manage: mobile stations"])
P = "/mobile"
VANS = Station.objects.filter(kind=StationKind.MOBILE).select_related("unit")
VISITS = Visit.objects.select_related("place", "station")
PUBLIC_DAYS = 60


def _local(moment: datetime.datetime) -> str:
    return moment.astimezone(services.SHANGHAI).isoformat()


# --- public ---------------------------------------------------------------------------------------


class PublicVisitOut(Schema):
    place: str
    address: str
    lat: float
    lng: float
    starts_at: str  # Beijing time, ISO-8601 with +08:00
    ends_at: str
    cancelled: bool
    notice: str
    moved_for_holiday: bool


@router.get(
    P + "/{code}/visits",
    response={200: list[PublicVisitOut], 404: Message},
    summary="A mobile station's next visits (no login; Beijing time)",
)
def public_visits(request, code: str, limit: int = 50):
    limit = max(1, min(limit, 200))
    station = Station.objects.filter(code=code[:40], kind=StationKind.MOBILE).exclude(status="closed").first()
    if station is None:
        raise Http404
    now = timezone.now()
    visits = VISITS.filter(
        station=station, ends_at__gt=now, starts_at__lt=now + datetime.timedelta(days=PUBLIC_DAYS)
    ).order_by("starts_at")[:limit]
    return [
        {
            "place": v.place.name, "address": v.place.address, "lat": v.place.lat, "lng": v.place.lng,
            "starts_at": _local(v.starts_at), "ends_at": _local(v.ends_at), "cancelled": v.status == "cancelled",
            "notice": v.notice, "moved_for_holiday": v.starts_at.astimezone(services.SHANGHAI).date() != v.planned_on,
        }
        for v in visits
    ]  # fmt: skip


# --- staff ----------------------------------------------------------------------------------------


class NextVisit(Schema):
    id: int
    place: str
    starts_at: datetime.datetime
    ends_at: datetime.datetime


class VanOut(Schema):
    code: str
    name: str
    unit: str
    status: str
    next_visit: NextVisit | None


@manage_router.get(P + "/vans", response=list[VanOut], summary="The mobile stations in your subtree")
def list_vans(request, limit: int = 100, offset: Offset = 0):
    limit = max(1, min(limit, 500))
    vans = list(scoped(request.user, VANS).order_by("code")[offset : offset + limit])
    nexts: dict = {}
    for v in VISITS.planned().filter(station__in=vans, ends_at__gt=timezone.now()).order_by("starts_at"):
        nexts.setdefault(v.station_id, v)
    out = []
    for van in vans:
        nv = nexts.get(van.pk)
        out.append(
            {
                "code": van.code, "name": van.name, "unit": van.unit.code, "status": van.status,
                "next_visit": nv and {"id": nv.pk, "place": nv.place.name, "starts_at": nv.starts_at,
                                      "ends_at": nv.ends_at},
            }
        )  # fmt: skip
    return out


class VisitOut(Schema):
    id: int
    place: int
    place_name: str
    schedule: int | None
    planned_on: datetime.date
    starts_at: datetime.datetime
    ends_at: datetime.datetime
    status: str
    notice: str
    revision: int


def visit_out(v: Visit) -> dict:
    return {
        "id": v.pk, "place": v.place_id, "place_name": v.place.name, "schedule": v.schedule_id,
        "planned_on": v.planned_on, "starts_at": v.starts_at, "ends_at": v.ends_at, "status": v.status,
        "notice": v.notice, "revision": v.revision,
    }  # fmt: skip


@manage_router.get(P + "/vans/{code}/visits", response=list[VisitOut], summary="A van's visits not yet over")
def list_visits(request, code: str, limit: int = 100, offset: Offset = 0):
    limit = max(1, min(limit, 500))
    van = get_for_user(request.user, VANS, code=code[:40])
    visits = VISITS.filter(station=van, ends_at__gt=timezone.now()).order_by("starts_at", "pk")
    return [visit_out(v) for v in visits[offset : offset + limit]]


class PlaceIn(Schema):
    name: str
    kind: str = "other"
    address: str
    lat: float | str
    lng: float | str
    crs: str = "wgs84"


class PlaceOut(Schema):
    id: int
    unit: str
    name: str
    kind: str
    address: str
    lat: float
    lng: float


@manage_router.post(
    P + "/vans/{code}/places", response={201: PlaceOut}, summary="Add a visit place (of the van's sub-branch)"
)
def create_place(request, code: str, payload: PlaceIn):
    van = get_for_user(request.user, VANS, "change", code=code[:40])
    place = services.create_place(actor=request.user, unit=van.unit, **payload.dict())
    return Status(
        201,
        {"id": place.pk, "unit": van.unit.code, "name": place.name, "kind": place.kind,
         "address": place.address, "lat": place.lat, "lng": place.lng},
    )  # fmt: skip


class ScheduleIn(Schema):
    place: int
    rrule: str
    start_time: str
    end_time: str
    valid_from: str
    valid_to: str | None = None
    on_holiday: str = "skip"


class ScheduleOut(Schema):
    id: int
    place: int
    rrule: str
    start_time: datetime.time
    end_time: datetime.time
    valid_from: datetime.date
    valid_to: datetime.date | None
    on_holiday: str
    active: bool
    visits: int
    revision: int


def schedule_out(s: VisitSchedule) -> dict:
    return {
        "id": s.pk, "place": s.place_id, "rrule": s.rrule, "start_time": s.start_time, "end_time": s.end_time,
        "valid_from": s.valid_from, "valid_to": s.valid_to, "on_holiday": s.on_holiday, "active": s.active,
        "visits": s.visits.count(), "revision": s.revision,
    }  # fmt: skip


def _place(van: Station, pk: int) -> VisitPlace:
    place = VisitPlace.objects.filter(pk=pk, unit__path__startswith=van.unit.path).first()
    if place is None:
        raise ValidationError({"place": _("Choose a visit place of this sub-branch.")})
    return place


def _schedule(request, code: str, schedule_id: int, perm: str = "read") -> tuple[Station, VisitSchedule]:
    van = get_for_user(request.user, VANS, perm, code=code[:40])
    return van, get_for_user(request.user, VisitSchedule, perm, pk=schedule_id, station=van)


@manage_router.get(P + "/vans/{code}/schedules", response=list[ScheduleOut], summary="A van's schedules")
def list_schedules(request, code: str):
    van = get_for_user(request.user, VANS, code=code[:40])
    return [schedule_out(s) for s in VisitSchedule.objects.filter(station=van).order_by("start_time", "pk")]


@manage_router.post(
    P + "/vans/{code}/schedules",
    response={201: ScheduleOut},
    summary="Add a schedule; its visits are generated for the horizon",
)
def create_schedule(request, code: str, payload: ScheduleIn):
    van = get_for_user(request.user, VANS, "change", code=code[:40])
    data = payload.dict()
    place = _place(van, data.pop("place"))
    s = services.save_schedule(van, actor=request.user, place=place, **data)
    return Status(201, schedule_out(VisitSchedule.objects.get(pk=s.pk)))


class SchedulePatch(Schema):
    revision: int  # the schedule's revision the change is based on (from GET); stale: 409
    place: int | None = None
    rrule: str | None = None
    start_time: str | None = None
    end_time: str | None = None
    valid_from: str | None = None
    valid_to: str | None = None  # null: no end
    on_holiday: str | None = None


@manage_router.patch(
    P + "/vans/{code}/schedules/{schedule_id}",
    response={200: ScheduleOut, 409: Conflict},
    summary="Change some fields of a schedule (with the revision it is based on; stale: 409); "
    "its visits to come follow the change",
)
def update_schedule(request, code: str, schedule_id: int, payload: SchedulePatch):
    van, schedule = _schedule(request, code, schedule_id, "change")
    data = payload.dict(exclude_unset=True)
    revision = data.pop("revision")
    if "place" in data:
        data["place"] = _place(van, data["place"])
    s = services.save_schedule(van, actor=request.user, schedule=schedule, revision=revision, **data)
    return schedule_out(VisitSchedule.objects.get(pk=s.pk))


class SwitchIn(Schema):
    revision: int | None = None  # when given, a stale one is 409


def _switched(request, code: str, schedule_id: int, payload: SwitchIn, switch: str):
    """`save_schedule(…, stop=True)` or `(…, resume=True)` on one of the van's schedules."""
    van, schedule = _schedule(request, code, schedule_id, "change")
    s = services.save_schedule(
        van, actor=request.user, schedule=schedule, revision=payload.revision, **{switch: True}
    )
    return schedule_out(VisitSchedule.objects.get(pk=s.pk))


@manage_router.post(
    P + "/vans/{code}/schedules/{schedule_id}/stop",
    response={200: ScheduleOut, 409: Conflict},
    summary="Stop a schedule: its validity ends today (Beijing); its visits after today that are "
    "not cancelled are removed",
)
def stop_schedule(request, code: str, schedule_id: int, payload: SwitchIn):
    return _switched(request, code, schedule_id, payload, "stop")


@manage_router.post(
    P + "/vans/{code}/schedules/{schedule_id}/resume",
    response={200: ScheduleOut, 409: Conflict},
    summary="Switch a switched-off schedule on again; its visits are planned (already on, or the van "
    "in two places: 422)",
)
def resume_schedule(request, code: str, schedule_id: int, payload: SwitchIn):
    return _switched(request, code, schedule_id, payload, "resume")


class CancelIn(Schema):
    notice: str
    revision: int | None = None


@manage_router.post(
    P + "/visits/{visit_id}/cancel",
    response={200: VisitOut, 409: Conflict},
    summary="Cancel a planned visit with a notice to the public (stale revision: 409)",
)
def cancel_visit(request, visit_id: int, payload: CancelIn):
    visit = get_for_user(request.user, VISITS, "change", pk=visit_id)
    services.cancel_visit(visit, actor=request.user, notice=payload.notice, revision=payload.revision)
    return visit_out(VISITS.get(pk=visit.pk))
