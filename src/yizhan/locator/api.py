"""Public API (no login): nearby stations, one station, and the open-data feed.

Handlers return ready JSON: the documented response schemas describe them in the OpenAPI file
without validating every answer a second time on the hot path.
"""

import datetime
import json
from typing import Literal

from django.core.exceptions import ValidationError
from django.http import HttpResponse, HttpResponseNotModified, StreamingHttpResponse
from django.utils import timezone
from django.utils.translation import gettext as _
from ninja import Field, Router, Schema

from yizhan.core.geo import validate_crs
from yizhan.locator import opendata, services

router = Router(tags=["public: locator"])


class NearbyParams(Schema):
    """The nearby parameters as documented; the endpoint reads them with services.clean_nearby."""

    lat: float = Field(description="Latitude, -90…90 (inside China).", examples=[29.557])
    lng: float = Field(description="Longitude, -180…180 (inside China).", examples=[106.573])
    crs: Literal["wgs84", "gcj02", "bd09"] = Field(
        "wgs84",
        description="Coordinate system of lat/lng, also used for the answer: wgs84 (GPS), gcj02 (Amap, "
        "Tencent) or bd09 (Baidu).",
    )
    limit: int = Field(10, ge=1, le=50, description="How many stations.")
    radius_m: float = Field(50000, ge=1, le=50000, description="Search radius in metres.")
    facility: list[str] = Field(
        default_factory=list,
        description="Facility codes the station must have in working order (repeatable; all must match).",
    )
    theme: list[str] = Field(
        default_factory=list, description="Themed-station codes, e.g. little_bee (repeatable; any matches)."
    )
    open_now: bool = Field(False, description="true: only stations open at `at` (or now).")
    at: datetime.datetime | None = Field(
        None,
        description="ISO-8601 time that `open` and `open_now` refer to; without an offset, Beijing time.",
    )


def _query_parameters(model) -> list[dict]:
    """OpenAPI parameters for a schema read straight from request.GET: the nearby endpoint skips
    ninja's parsing (the one shared validator, clean_nearby, does the checking) but stays documented."""
    out = []
    for name, spec in model.model_json_schema()["properties"].items():
        schema = {k: v for k, v in spec.items() if k not in ("title", "description", "default")}
        required = name in model.model_json_schema().get("required", [])
        parameter = {"in": "query", "name": name, "required": required, "schema": schema}
        if spec.get("description"):
            parameter["description"] = spec["description"]
        if spec.get("type") == "array":
            parameter.update(style="form", explode=True)
        out.append(parameter)
    return out


class Links(Schema):
    page: str
    amap: str = Field(description="Amap marker link, GCJ-02 coordinates.")
    baidu: str = Field(description="Baidu Maps marker link, BD-09 coordinates.")
    tencent: str = Field(description="Tencent Maps marker link, GCJ-02 coordinates.")


class OperatingOut(Schema):
    state: str = Field(description="limited | closed | closed_by_order (the outlet's operating status).")
    counter_windows: int | None = Field(description="Counter windows open (limited service).")
    self_service_24h: bool = Field(description="The self-service bank is open 24 hours.")
    notice: str
    label: str = Field(description="The status as the page shows it, in the request's language.")


class VisitOut(Schema):
    place: str = Field(description="Where the mobile station is, or will be later that day.")
    starts_at: str = Field(description="ISO-8601, +08:00.")
    ends_at: str = Field(description="ISO-8601, +08:00.")


class NearbyStation(Schema):
    code: str
    kind: str = Field(description="fixed (in an outlet) or mobile (a van visiting workers' sites).")
    name: str
    name_en: str
    distance_m: int = Field(description="Great-circle distance from the given point, metres.")
    lat: float = Field(description="In the requested crs.")
    lng: float = Field(description="In the requested crs.")
    crs: str
    status: str = Field(description="active or temporarily_closed (never open).")
    notice: str
    open: bool = Field(description="Open at `at` (or now), public holidays and make-up workdays included.")
    next_change: str | None = Field(
        description="When it next opens or closes (ISO-8601, +08:00); null: never."
    )
    operating: OperatingOut | None = Field(
        description="The outlet's operating status in force at `at`; null: ordinary operation."
    )
    facilities: dict[str, str] = Field(
        description="Facility code -> yes | no | out_of_order; facilities not listed are unknown."
    )
    themes: list[str]
    address: str
    phone: str
    links: Links
    visit: VisitOut | None = Field(
        None,
        description="Mobile stations only: the visit that puts it here (open: there now; else later that day).",
    )


class NearbyOut(Schema):
    at: str
    crs: str
    results: list[NearbyStation]


class Problem(Schema):
    loc: list[str]
    msg: str
    type: str


class ValidationOut(Schema):
    detail: list[Problem]


class DayOut(Schema):
    date: str
    intervals: list[list[str]]
    holiday: str


class BusyOut(Schema):
    level: str = Field(
        description="quiet | busy | crowded: the last 30 minutes' check-ins against the seats, or crowded while staff marked the station full."
    )
    recent_checkins: int = Field(description="Check-ins in the last 30 minutes.")
    seats: int = Field(description="Seats (6 when the station has not said).")
    full_until: str | None = Field(description="Staff marked it full until then (+08:00).")
    usual_peak_hour: int | None = Field(
        description="The hour of day (0–23) it is usually busiest, from the last three months; null when no hour stands out."
    )


class StationOut(Schema):
    code: str
    name: str
    name_en: str
    status: str
    notice: str
    reopens_on: str | None
    lat: float
    lng: float
    crs: str
    address: str
    phone: str
    at: str
    open: bool
    next_change: str | None
    operating: OperatingOut | None
    hours_known: bool
    week: list[DayOut] = Field(description="This week's opening intervals (Monday first), holidays applied.")
    facilities: dict[str, str] = Field(description="Facility code -> yes | no | unknown | out_of_order.")
    themes: list[str]
    access_policy: str
    verified_at: str | None
    links: Links
    busy: BusyOut


def _json(data, status: int = 200) -> HttpResponse:
    return HttpResponse(
        json.dumps(data, ensure_ascii=False, separators=(",", ":")),
        content_type="application/json; charset=utf-8",
        status=status,
    )


def _problem(exc: ValidationError) -> HttpResponse:
    from yizhan.api import validation_detail

    return _json({"detail": validation_detail(exc, "query")}, status=422)


@router.get(
    "/stations/nearby",
    response={200: NearbyOut, 422: ValidationOut},
    summary="Stations nearest to a point, with filters",
    description="Nearest first. 422 names the parameter at fault (lat, lng, crs, limit, radius_m, "
    "facility, theme, open_now, at).",
    openapi_extra={"parameters": _query_parameters(NearbyParams)},
)
def stations_nearby(request):
    idx = services.index()
    try:
        params = services.read_query_string(request.META.get("QUERY_STRING", ""))
        query = services.clean_nearby(params, catalogue=idx.catalogue)
    except ValidationError as exc:
        return _problem(exc)
    return HttpResponse(services.nearby_json(query, idx), content_type="application/json; charset=utf-8")


@router.get(
    "/stations/{code}",
    response={200: StationOut, 404: dict, 422: ValidationOut},
    summary="One station as the public sees it",
    description="`at` (ISO-8601) sets the moment `open` and `next_change` refer to; `crs` the "
    "coordinate system of lat/lng.",
)
def station_detail(request, code: str, at: str | None = None, crs: str | None = None):
    try:
        moment = services.clean_at(at)
        crs = validate_crs(crs)
    except ValidationError as exc:
        return _problem(exc)
    station = services.public_station(code)
    if station is None:
        return _json({"detail": "Not found."}, status=404)
    view = services.station_view(station, moment or timezone.now())
    return _json(services.station_json(view, crs))


class PlaceOut(Schema):
    name: str
    detail: str = Field(description="Its kind and city, in the reader's language.")
    kind: str = Field(description="landmark | station | metro | hospital | market | logistics | other")
    lat: float
    lng: float
    exact: bool = Field(description="The name, an alias, its pinyin or initials matched exactly.")


class PlacesOut(Schema):
    places: list[PlaceOut] = Field(
        description="Best first: exact names, then names starting with the text, containing it, one character off."
    )
    stations: NearbyOut = Field(
        description="The stations nearest to the first place (WGS-84), as /stations/nearby answers."
    )


@router.get(
    "/places",
    response={200: PlacesOut, 422: ValidationOut},
    summary="Find a landmark by name, alias, pinyin or initials, with the stations nearest to it",
    description="`q`: 解放碑, jfb, jiefangbei, 解方碑 (one character off) all find 解放碑; `limit` stations (1–50, 10).",
)
def places_search(request, q: str, limit: int = 10):
    text = (q or "").strip()
    errors = {}
    if not text:
        errors["q"] = _("Type a place, an address or a station name.")
    if not 1 <= limit <= services.MAX_LIMIT:
        errors["limit"] = _("Must be between 1 and %(max)s.") % {"max": services.MAX_LIMIT}
    if errors:
        return _problem(ValidationError(errors))
    found = [{**place, "name": place.pop("label")} for place in services.landmarks(text)]
    stations = {"at": timezone.now().astimezone(services.SHANGHAI).isoformat(), "crs": "wgs84", "results": []}
    if found:
        query = services.NearbyQuery(lat=found[0]["lat"], lng=found[0]["lng"], limit=limit, at=timezone.now())
        stations = json.loads(services.nearby_json(query))
    return _json({"places": found, "stations": stations})


@router.get("/open-data/", summary="What the open-data feed holds: fields and licence")
def open_data_index(request):
    return _json(
        {
            "license": opendata.licence(),
            "formats": {
                "geojson": "/api/v1/open-data/stations.geojson",
                "csv": "/api/v1/open-data/stations.csv",
            },
            "parameters": {
                "updated_since": "ISO-8601; only stations changed since then, closed ones included, "
                "so that a copy can be kept in step.",
            },
            "fields": {name: str(help_text) for name, help_text in opendata.FIELDS},
            "facilities": opendata.facility_codes(),
        }
    )


def _feed(request, fmt: str, updated_since: str | None):
    try:
        since = services.clean_at(updated_since, "updated_since")
    except ValidationError as exc:
        return _problem(exc)
    codes = opendata.facility_codes()
    tag = opendata.etag(fmt, since, codes)
    if tag in [t.strip() for t in request.headers.get("If-None-Match", "").split(",")]:
        response = HttpResponseNotModified()
    else:
        if fmt == "geojson":
            chunks, content_type = (
                opendata.geojson_chunks(since, codes),
                "application/geo+json; charset=utf-8",
            )
        else:
            chunks, content_type = opendata.csv_chunks(since, codes), "text/csv; charset=utf-8"
        response = StreamingHttpResponse(
            (chunk.encode("utf-8") for chunk in chunks), content_type=content_type
        )
        response["Content-Disposition"] = f'inline; filename="yizhan-stations.{fmt}"'
        response["X-License"] = opendata.licence().encode("ascii", "ignore").decode().strip()
    response["ETag"] = tag
    response["Cache-Control"] = "public, max-age=300"
    response["Link"] = '</api/v1/open-data/>; rel="describedby"'
    return response


@router.get(
    "/open-data/stations.geojson",
    summary="Every public station as GeoJSON (WGS-84)",
    description="Cached with ETag (If-None-Match answers 304). `updated_since` (ISO-8601) limits the feed "
    "to stations changed since then, closed ones included. Fields: /api/v1/open-data/.",
)
def open_data_geojson(request, updated_since: str | None = None):
    return _feed(request, "geojson", updated_since)


@router.get(
    "/open-data/stations.csv",
    summary="Every public station as CSV (UTF-8)",
    description="One row per station, one column per facility. Same caching and `updated_since` as the GeoJSON.",
)
def open_data_csv(request, updated_since: str | None = None):
    return _feed(request, "csv", updated_since)
