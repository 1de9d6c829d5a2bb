"""Staff API for the station registry, under /api/v1/manage/ (token or session auth).

Every fetch goes through the scoping chokepoint: a station outside the caller's subtree answers
404 like a missing one, a read-only role answers 403 on writes, and bad input answers 422 naming
the field, with the same `clean_*` rules the back office and imports use.
"""

import datetime

from django.core.exceptions import ValidationError
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _
from ninja import File, Form, Router, Schema, Status
from ninja.files import UploadedFile

from yizhan.core.boundary import Offset
from yizhan.core.geo import from_wgs84, validate_crs
from yizhan.core.schemas import Conflict, Message
from yizhan.orgs.models import Unit
from yizhan.orgs.scoping import get_for_user, require, scope_for, scoped
from yizhan.stations import hours, services
from yizhan.stations.imports import import_stations
from yizhan.stations.models import Facility, Station, StationFacility

manage_router = Router(tags=["manage: stations"])


class ErrorItem(Schema):
    loc: list[str | int]
    msg: str
    type: str


class ValidationErrors(Schema):
    detail: list[ErrorItem]


ERRORS = {403: Message, 404: Message, 422: ValidationErrors}
EDIT_ERRORS = {**ERRORS, 409: Conflict}


class FacilityStateOut(Schema):
    facility: str
    name: str
    name_en: str
    group: str
    state: str
    out_of_order: bool
    out_of_order_since: datetime.date | None
    note: str
    revision: int  # the station's: send it back with a PUT


class StationOut(Schema):
    code: str
    name: str
    name_en: str
    unit_code: str
    address: str
    lat: float
    lng: float
    crs: str
    phone: str
    sign_installed_on: datetime.date | None
    status: str
    public_notice: str
    reopens_on: datetime.date | None
    themes: list[str]
    seats: int | None
    access_policy: str
    external_ids: dict[str, str]
    verified_at: datetime.datetime | None
    verification_source: str
    updated_at: datetime.datetime
    revision: int


class StationDetailOut(StationOut):
    opening_hours: dict
    facilities: list[FacilityStateOut]
    at: datetime.datetime
    open: bool
    next_change: datetime.datetime | None
    calendar_missing: bool


class StationIn(Schema):
    code: str
    name: str
    unit: str
    name_en: str = ""
    address: str = ""
    lat: float | None = None
    lng: float | None = None
    crs: str = "wgs84"
    phone: str = ""
    sign_installed_on: str | None = None
    status: str = "active"
    public_notice: str = ""
    reopens_on: str | None = None
    themes: list[str] = []
    seats: int | None = None
    access_policy: str = "open"
    external_ids: dict[str, str] = {}
    opening_hours: dict = {}


class StationPatch(Schema):
    revision: int  # the station's revision the change is based on (from GET); stale: 409
    name: str | None = None
    name_en: str | None = None
    unit: str | None = None
    address: str | None = None
    lat: float | None = None
    lng: float | None = None
    crs: str | None = None
    phone: str | None = None
    sign_installed_on: str | None = None
    status: str | None = None
    public_notice: str | None = None
    reopens_on: str | None = None
    themes: list[str] | None = None
    seats: int | None = None
    access_policy: str | None = None
    external_ids: dict[str, str] | None = None
    opening_hours: dict | None = None


class FacilityStateIn(Schema):
    revision: int  # the station's revision the change is based on; stale: 409
    state: str
    out_of_order: bool = False
    out_of_order_since: str | None = None
    note: str = ""


class CloseIn(Schema):
    notice: str
    temporary: bool = False
    reopens_on: str | None = None
    revision: int | None = None  # when given, a stale one answers 409


class ImportErrorOut(Schema):
    row: int
    column: str
    message: str


class ImportOut(Schema):
    dry_run: bool
    ok: bool
    committed: bool
    rows: int
    created: int
    updated: int
    unchanged: int
    error_count: int
    errors: list[ImportErrorOut]


def _crs(crs: str) -> str:
    return validate_crs(crs, field="crs")


def _facility_out(row: StationFacility) -> dict:
    return {
        "facility": row.facility.code,
        "name": row.facility.name,
        "name_en": row.facility.name_en,
        "group": row.facility.group,
        "state": row.state,
        "out_of_order": row.out_of_order,
        "out_of_order_since": row.out_of_order_since,
        "note": row.note,
        "revision": row.station.revision,
    }


def _station_out(station: Station, crs: str, theme_codes: list[str] | None = None) -> dict:
    lat, lng = from_wgs84(station.lat, station.lng, crs)
    return {
        "code": station.code,
        "name": station.name,
        "name_en": station.name_en,
        "unit_code": station.unit.code,
        "address": station.address,
        "lat": lat,
        "lng": lng,
        "crs": crs,
        "phone": station.phone,
        "sign_installed_on": station.sign_installed_on,
        "status": station.status,
        "public_notice": station.public_notice,
        "reopens_on": station.reopens_on,
        "themes": theme_codes if theme_codes is not None else [t.code for t in station.themes.all()],
        "seats": station.seats,
        "access_policy": station.access_policy,
        "external_ids": station.external_ids or {},
        "verified_at": station.verified_at,
        "verification_source": station.verification_source,
        "updated_at": station.updated_at,
        "revision": station.revision,
    }


def _parse_at(at: str | None) -> datetime.datetime:
    if not at:
        return timezone.now()
    try:
        moment = datetime.datetime.fromisoformat(at.strip().replace(" ", "+") if "T" in at else at.strip())
    except ValueError:
        raise ValidationError({"at": _("Give an ISO-8601 time, e.g. 2026-10-01T10:00+08:00.")}) from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=hours.SHANGHAI)
    return moment


def _detail(station: Station, crs: str, at: datetime.datetime) -> dict:
    calendar = hours.current_calendar()
    schedule = station.schedule()
    facilities = StationFacility.objects.filter(station=station).select_related("facility", "station")
    return {
        **_station_out(station, crs),
        "opening_hours": station.opening_hours or {},
        "facilities": [_facility_out(row) for row in facilities.order_by("facility__sort_order")],
        "at": at.astimezone(hours.SHANGHAI),
        "open": hours.open_at(schedule, at, calendar),
        "next_change": hours.next_change(schedule, at, calendar),
        "calendar_missing": hours.calendar_missing(schedule, at.astimezone(hours.SHANGHAI).date(), calendar),
    }


def _get(request, code: str, perm: str = "read") -> Station:
    return get_for_user(request.user, Station.objects.select_related("unit"), perm, code=code)


@manage_router.get(
    "/stations",
    response={200: list[StationOut], 422: ValidationErrors},
    summary="Stations in your subtree",
)
def list_stations(
    request,
    q: str = "",
    unit: str = "",
    status: str = "",
    theme: str = "",
    crs: str = "wgs84",
    limit: int = 200,
    offset: Offset = 0,
):
    crs = _crs(crs)
    limit = max(1, min(limit, 1000))
    stations = scoped(request.user, Station).select_related("unit").order_by("code")
    if q:
        stations = stations.filter(Q(code__iexact=q) | Q(name__icontains=q) | Q(address__icontains=q))
    if unit:
        root = Unit.objects.filter(code=unit).first()
        stations = stations.filter(unit__path__startswith=root.path) if root else stations.none()
    if status:
        stations = stations.filter(status=status)
    if theme:
        stations = stations.filter(themes__code=theme)
    page = list(stations[offset : offset + limit])
    themes: dict[int, list[str]] = {}
    for station_id, code in Station.themes.through.objects.filter(
        station_id__in=[s.pk for s in page]
    ).values_list("station_id", "theme__code"):
        themes.setdefault(station_id, []).append(code)
    return Status(200, [_station_out(s, crs, sorted(themes.get(s.pk, []))) for s in page])


# Declared before "/stations/{code}": routes match in order, and "import" would read as a code.
@manage_router.post(
    "/stations/import",
    response={200: ImportOut, 403: Message, 422: ImportOut},
    summary="Import an xlsx or csv file (dry_run=true only checks); 422 lists every error by row and column",
)
def run_import(request, file: UploadedFile = File(...), dry_run: bool = Form(True)):  # noqa: B008
    scope = require(request.user, "change")
    result = import_stations(
        file.name or "upload.csv", file.read(), actor=request.user, scope=scope, dry_run=dry_run
    )
    return Status((200 if result.ok else 422), result.as_dict())


@manage_router.get(
    "/stations/{code}",
    response={200: StationDetailOut, **ERRORS},
    summary="One station, with open / next_change at ?at= (default now)",
)
def get_station(request, code: str, at: str | None = None, crs: str = "wgs84"):
    station = _get(request, code)
    return Status(200, _detail(station, _crs(crs), _parse_at(at)))


@manage_router.post("/stations", response={201: StationDetailOut, **ERRORS}, summary="Register a station")
def create_station(request, payload: StationIn):
    scope = require(request.user, "change")
    data = payload.dict()
    station = services.register_station(actor=request.user, scope=scope, **data)
    station = Station.objects.select_related("unit").get(pk=station.pk)
    return Status(201, _detail(station, "wgs84", timezone.now()))


@manage_router.patch(
    "/stations/{code}",
    response={200: StationDetailOut, **EDIT_ERRORS},
    summary="Change some fields of a station (with the revision it is based on; stale: 409)",
)
def update_station(request, code: str, payload: StationPatch):
    station = _get(request, code, "change")
    data = payload.dict(exclude_unset=True)
    services.update_station(station, actor=request.user, scope=scope_for(request.user), **data)
    station = Station.objects.select_related("unit").get(pk=station.pk)
    return Status(200, _detail(station, "wgs84", timezone.now()))


@manage_router.get(
    "/stations/{code}/facilities",
    response={200: list[FacilityStateOut], **ERRORS},
    summary="Every catalogue facility's state at the station (unknown where never set)",
)
def list_facilities(request, code: str):
    station = _get(request, code)
    rows = {
        r.facility_id: r
        for r in StationFacility.objects.filter(station=station).select_related("facility", "station")
    }
    out = []
    for facility in Facility.objects.all():
        row = rows.get(facility.pk) or StationFacility(station=station, facility=facility)
        out.append(_facility_out(row))
    return Status(200, out)


@manage_router.put(
    "/stations/{code}/facilities/{facility}",
    response={200: FacilityStateOut, **EDIT_ERRORS},
    summary="Set one facility's state (with the station's revision it is based on; stale: 409)",
)
def set_facility(request, code: str, facility: str, payload: FacilityStateIn):
    station = _get(request, code, "change")
    row = services.set_facility_state(station, facility, actor=request.user, **payload.dict())
    if row.pk is None:  # "unknown" where no row exists: there is nothing stored, nor to fetch
        return Status(200, _facility_out(row))
    return Status(
        200, _facility_out(StationFacility.objects.select_related("facility", "station").get(pk=row.pk))
    )


@manage_router.post(
    "/stations/{code}/verify", response={200: StationDetailOut, **ERRORS}, summary="Record a staff check"
)
def verify(request, code: str):
    station = _get(request, code, "change")
    services.verify_station(station, actor=request.user)
    station.refresh_from_db()
    return Status(200, _detail(station, "wgs84", timezone.now()))


@manage_router.post(
    "/stations/{code}/close",
    response={200: StationDetailOut, **EDIT_ERRORS},
    summary="Close a station (temporarily or for good) with a public notice",
)
def close(request, code: str, payload: CloseIn):
    station = _get(request, code, "change")
    services.close_station(station, actor=request.user, **payload.dict())
    station.refresh_from_db()
    return Status(200, _detail(station, "wgs84", timezone.now()))
