"""The public locator's logic: one set of input rules for the pages and the API, the nearest-station
search over the in-process index, what each result says (open, next change, facilities,
navigation links), place search, and the open-data rows.

Nothing here writes: the locator only reads the registry (stations app), so there is no audit
trail to keep; every change a visitor can cause goes through the visits app's verbs.
"""

import datetime
import functools
import json
import time
import zoneinfo
from dataclasses import dataclass, field
from urllib.parse import quote, unquote_plus

import numpy as np
from django.core.exceptions import ValidationError
from django.db.models import Avg, Count, Q
from django.utils import timezone
from django.utils.translation import get_language, gettext_lazy, pgettext
from django.utils.translation import gettext as _

from yizhan.core.boundary import clip
from yizhan.core.geo import CHINA_LAT, CHINA_LNG, CRS_CHOICES, from_wgs84, parse_point
from yizhan.core.lang import localised
from yizhan.locator import busy, loading
from yizhan.locator.index import STATUS_TEMPORARILY_CLOSED, StationIndex, drop_older_half

SHANGHAI = zoneinfo.ZoneInfo("Asia/Shanghai")
DEFAULT_LIMIT = 10
MAX_LIMIT = 50
MAX_RADIUS_M = 50_000
TRUE_WORDS = {"1", "true", "yes", "on"}
FALSE_WORDS = {"0", "false", "no", "off", ""}


@dataclass
class NearbyQuery:
    lat: float  # WGS-84
    lng: float
    crs: str = "wgs84"  # the system answers in
    limit: int = DEFAULT_LIMIT
    radius_m: float = MAX_RADIUS_M
    facilities: list[str] = field(default_factory=list)
    themes: list[str] = field(default_factory=list)
    open_now: bool = False
    at: datetime.datetime | None = None  # the moment "open" refers to; now when not given
    at_given: bool = False


def read_query_string(raw: str) -> dict[str, list[str]]:
    """A query string as {name: [values]}, decoded as Django decodes request.GET (UTF-8,
    undecodable bytes replaced), with the same cap on the number of fields: the nearby API reads
    its parameters here (a QueryDict costs 6–11 µs, about what the search itself costs)."""
    from django.conf import settings
    from django.core.exceptions import TooManyFieldsSent

    limit = settings.DATA_UPLOAD_MAX_NUMBER_FIELDS
    if limit is not None and raw.count("&") >= limit:
        raise TooManyFieldsSent(
            "The number of GET/POST parameters exceeded settings.DATA_UPLOAD_MAX_NUMBER_FIELDS."
        )
    if not raw.isascii():  # WSGI hands the bytes over as Latin-1
        raw = raw.encode("iso-8859-1").decode("utf-8", "replace")
    params: dict[str, list[str]] = {}
    for part in raw.split("&"):
        if not part:
            continue
        name, _sep, value = part.partition("=")
        if "%" in part or "+" in part:
            name, value = unquote_plus(name), unquote_plus(value)
        values = params.get(name)
        if values is None:
            params[name] = [value]
        else:
            values.append(value)
    return params


def _params(data) -> dict[str, list]:
    """Every parameter with the list of its values: a QueryDict's own lists, a plain dict's
    values (a list, or one value), or read_query_string's answer as it is. Read once, so each
    parameter costs one dict lookup."""
    if hasattr(data, "lists"):
        return dict(data.lists())
    return {name: list(value) if isinstance(value, list | tuple) else [value] for name, value in data.items()}


def _values(params: dict, name: str) -> list[str]:
    """All values of a repeatable parameter; "a,b" counts as two."""
    out = []
    for value in params.get(name) or ():
        if value is not None:
            out += [part.strip() for part in str(value).split(",") if part.strip()]
    return out


def _one(params: dict, name: str) -> str | None:
    """The last value of a parameter, stripped; None when absent."""
    values = params.get(name)
    if not values or values[-1] is None:
        return None
    return str(values[-1]).strip()


def clean_at(value, field_name: str = "at") -> datetime.datetime | None:
    """ISO-8601 date-time (a time without an offset is Beijing time); None when empty."""
    if value in (None, ""):
        return None
    text = str(value).strip()
    try:
        parsed = datetime.datetime.fromisoformat(text.replace(" ", "T", 1) if "T" not in text else text)
    except ValueError:
        raise ValidationError(
            {field_name: _("Enter a date and time as ISO-8601, e.g. 2026-07-15T12:30+08:00.")}
        ) from None
    if not 2000 <= parsed.year <= 2100:
        raise ValidationError({field_name: _("Choose a time between the years 2000 and 2100.")})
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=SHANGHAI)
    return parsed


def clean_nearby(data, *, catalogue, now: datetime.datetime | None = None) -> NearbyQuery:
    """Validate the nearby parameters (the API's and the page's): every error names its parameter.
    The everyday request (see `_everyday`) takes a short way to the same answer."""
    data = _params(data)
    if now is None:
        quick = _everyday(data, catalogue)
        if quick is not None:
            return quick
    errors: dict[str, str] = {}
    crs = (_one(data, "crs") or "wgs84").lower()
    if crs not in CRS_CHOICES:
        errors["crs"] = _("Unknown coordinate system; use wgs84, gcj02 or bd09.")
        crs = "wgs84"
    lat = lng = None
    try:
        lat, lng = parse_point(_one(data, "lat"), _one(data, "lng"), crs)
    except ValidationError as exc:
        for name, messages in exc.message_dict.items():
            errors[name] = messages[0]

    limit = DEFAULT_LIMIT
    raw_limit = _one(data, "limit")
    if raw_limit:
        try:
            limit = int(raw_limit)
        except ValueError:
            errors["limit"] = _("Enter a whole number.")
        else:
            if not 1 <= limit <= MAX_LIMIT:
                errors["limit"] = _("Must be between 1 and %(max)s.") % {"max": MAX_LIMIT}

    radius = float(MAX_RADIUS_M)
    raw_radius = _one(data, "radius_m")
    if raw_radius:
        try:
            radius = float(raw_radius)
        except ValueError:
            errors["radius_m"] = _("Enter a number of metres.")
        else:
            if not (radius == radius and 1 <= radius <= MAX_RADIUS_M):  # radius == radius: not NaN
                errors["radius_m"] = _("Must be between 1 and %(max)s metres.") % {"max": MAX_RADIUS_M}

    facilities = _values(data, "facility")
    unknown = [code for code in facilities if code not in catalogue.facilities]
    if unknown:
        errors["facility"] = _("Unknown facility: %(codes)s.") % {"codes": ", ".join(map(clip, unknown[:5]))}
    themes = _values(data, "theme")
    unknown = [code for code in themes if code not in catalogue.themes]
    if unknown:
        errors["theme"] = _("Unknown theme: %(codes)s.") % {"codes": ", ".join(map(clip, unknown[:5]))}

    open_now = False
    raw_open = (_one(data, "open_now") or "").lower()
    if raw_open in TRUE_WORDS:
        open_now = True
    elif raw_open not in FALSE_WORDS:
        errors["open_now"] = _("Use true or false.")

    at = None
    try:
        at = clean_at(_one(data, "at"))
    except ValidationError as exc:
        errors["at"] = exc.message_dict["at"][0]
    if errors:
        raise ValidationError(errors)
    return NearbyQuery(
        lat=lat,
        lng=lng,
        crs=crs,
        limit=limit,
        radius_m=radius,
        facilities=list(dict.fromkeys(facilities)),
        themes=list(dict.fromkeys(themes)),
        open_now=open_now,
        at=at or now or timezone.now(),
        at_given=at is not None,
    )


QUICK_PARAMETERS = frozenset({"lat", "lng", "limit", "facility", "theme", "open_now"})


def _everyday(params: dict[str, list], catalogue) -> NearbyQuery | None:
    """clean_nearby's answer to the API's everyday request (a WGS-84 point inside China, and
    perhaps a limit, facilities, themes and open_now, all valid, all text), without its general
    detours: the nearby API's hot path. Anything rarer or wrong gives None, and the general
    rules answer it, with their messages. A property test holds the two ways to one result."""
    if not QUICK_PARAMETERS.issuperset(params):
        return None
    try:
        lat, lng = float(params["lat"][-1]), float(params["lng"][-1])
    except (KeyError, IndexError, TypeError, ValueError):
        return None
    if not (CHINA_LAT[0] <= lat <= CHINA_LAT[1] and CHINA_LNG[0] <= lng <= CHINA_LNG[1]):
        return None  # NaN lands here too
    limit = DEFAULT_LIMIT
    if "limit" in params:
        raw = params["limit"][-1]
        if not (isinstance(raw, str) and raw.isascii() and raw.isdigit()):
            return None
        limit = int(raw)
        if not 1 <= limit <= MAX_LIMIT:
            return None
    chosen = {}
    for name, known in (("facility", catalogue.facilities), ("theme", catalogue.themes)):
        codes = []
        for value in params.get(name, ()):
            if not isinstance(value, str):
                return None
            for code in value.split(","):
                if code not in known:
                    return None
                codes.append(code)
        chosen[name] = list(dict.fromkeys(codes))
    open_now = False
    if "open_now" in params:
        raw = params["open_now"][-1]
        if not isinstance(raw, str):
            return None
        raw = raw.lower()
        if raw in TRUE_WORDS:
            open_now = True
        elif raw not in FALSE_WORDS:
            return None
    return NearbyQuery(
        lat=lat,
        lng=lng,
        limit=limit,
        facilities=chosen["facility"],
        themes=chosen["theme"],
        open_now=open_now,
        at=datetime.datetime.now(datetime.UTC),  # timezone.now() with USE_TZ, minus its detour
    )


# --- results --------------------------------------------------------------------------------------


@dataclass
class Result:
    row: int
    code: str
    name: str
    name_en: str
    address: str
    phone: str
    notice: str
    lat: float
    lng: float
    distance_m: float
    status: str
    open: bool
    next_change: datetime.datetime | None
    hours_known: bool
    facilities: dict[str, str]
    themes: list[str]
    projected: tuple[float, float, float, float] = (0.0, 0.0, 0.0, 0.0)  # GCJ-02 lat/lng, BD-09 lat/lng
    operating: object = None  # the outlet's hours.StatusWindow in force at the query's time, or None
    station_id: int = 0
    visit: "VisitWindow | None" = None  # a mobile station's visit that put it here

    @property
    def kind(self) -> str:
        return "mobile" if self.visit is not None else "fixed"

    @property
    def display_name(self) -> str:
        return localised(self.name, self.name_en)

    @property
    def temporarily_closed(self) -> bool:
        return self.status == "temporarily_closed"

    @property
    def usable(self) -> list[str]:
        return [code for code, state in self.facilities.items() if state == "yes"]

    def badge(self, at: datetime.datetime) -> tuple[str, str]:
        return status_badge(self, at)

    def links(self) -> dict[str, str]:
        return links_at(self.projected, self.name, self.address)

    def position(self, crs: str) -> tuple[float, float]:
        if crs == "gcj02":
            return self.projected[0], self.projected[1]
        if crs == "bd09":
            return self.projected[2], self.projected[3]
        return self.lat, self.lng


@dataclass(frozen=True)
class VisitWindow:
    """Where and when a mobile station is (or will be later that day)."""

    place: str
    starts_at: datetime.datetime
    ends_at: datetime.datetime

    def text(self, at: datetime.datetime) -> str:
        """ "今天 10:00–16:00 在 XX 物流园" ("today" only when it is `at`'s day)."""
        values = {
            "start": local_time(self.starts_at),
            "end": local_time(self.ends_at),
            "place": self.place,
        }
        if self.starts_at.astimezone(SHANGHAI).date() == at.astimezone(SHANGHAI).date():
            return _("Today %(start)s–%(end)s at %(place)s") % values
        return _("%(day)s %(start)s–%(end)s at %(place)s") % {
            **values,
            "day": self.starts_at.astimezone(SHANGHAI).strftime("%m-%d"),
        }


def index() -> StationIndex:
    return loading.current_index()


def mobile_result(idx: StationIndex, row: int, distance_m: float, at: datetime.datetime) -> Result:
    """The Result of a mobile station's row (see StationIndex.is_mobile): at its visit's place;
    open while the van is there, its next change the visit's start or end."""
    layer = idx.mobile
    visit = row - idx.n
    station = layer.station_of(visit)
    code, name, name_en, phone, notice = layer.texts[station]
    starts_at, ends_at = layer.window(visit)
    is_open = layer.is_open(visit, at)
    lat, lng = float(layer.lat[visit]), float(layer.lng[visit])
    g_lat, g_lng = from_wgs84(lat, lng, "gcj02")
    b_lat, b_lng = from_wgs84(lat, lng, "bd09")
    catalogue = idx.catalogue
    states = dict.fromkeys(catalogue.facility_codes_in(layer.yes[station]), "yes")
    states.update(dict.fromkeys(catalogue.facility_codes_in(layer.no[station]), "no"))
    states.update(dict.fromkeys(catalogue.facility_codes_in(layer.out_of_order[station]), "out_of_order"))
    return Result(
        row=row,
        code=code,
        name=name,
        name_en=name_en,
        address=layer.addresses[visit],
        phone=phone,
        notice=notice,
        lat=lat,
        lng=lng,
        distance_m=float(distance_m),
        status="active",
        open=is_open,
        next_change=ends_at if is_open else starts_at,
        hours_known=True,
        facilities=states,
        themes=catalogue.theme_codes_in(int(layer.themes[station])),
        projected=(g_lat, g_lng, b_lat, b_lng),
        station_id=int(layer.station_ids[station]),
        visit=VisitWindow(layer.places[visit], starts_at, ends_at),
    )


def result_for(
    idx: StationIndex, row: int, distance_m: float, at: datetime.datetime, is_open: bool
) -> Result:
    from yizhan.stations.hours import status_at

    schedule = idx.schedule(row)
    operating = status_at(schedule, at) if at is not None else None
    return Result(
        row=row,
        code=idx.text("code", row),
        name=idx.text("name", row),
        name_en=idx.text("name_en", row),
        address=idx.text("address", row),
        phone=idx.text("phone", row),
        notice=(operating.notice if operating and operating.notice else idx.text("public_notice", row)),
        lat=float(idx.lat[row]),
        lng=float(idx.lng[row]),
        distance_m=float(distance_m),
        status="temporarily_closed" if idx.status[row] == STATUS_TEMPORARILY_CLOSED else "active",
        open=bool(is_open),
        next_change=idx.next_change(row, at) if at is not None else None,
        hours_known=schedule.known,
        facilities=idx.facility_states(row),
        themes=idx.theme_codes(row),
        projected=idx.projected(row),
        operating=operating,
        station_id=int(idx.ids[row]),
    )


def _search(query: NearbyQuery, idx: StationIndex) -> tuple[list[int], list[float]]:
    """Rows nearest to the query's point that pass its filters, and their distances in metres."""
    catalogue = idx.catalogue
    return idx.nearest_rows(
        query.lat,
        query.lng,
        k=query.limit,
        radius_m=query.radius_m,
        facilities=catalogue.facility_mask(query.facilities) if query.facilities else None,
        themes=catalogue.theme_mask(query.themes) if query.themes else 0,
        open_at=query.at if query.open_now else None,
        at=query.at,
    )


def nearby(query: NearbyQuery, idx: StationIndex | None = None) -> list[Result]:
    """The stations nearest to the query's point that pass its filters, nearest first: mobile
    ones where they are at the query's time, or will be later that day."""
    idx = idx if idx is not None else index()
    rows, metres = _search(query, idx)
    fixed = [row for row in rows if row < idx.n]
    open_flags = dict(
        zip(fixed, idx.open_rows(np.array(fixed, dtype=np.intp), query.at).tolist(), strict=True)
    )
    return [
        result_for(idx, row, distance, query.at, open_flags[row])
        if row < idx.n
        else mobile_result(idx, row, distance, query.at)
        for row, distance in zip(rows, metres, strict=True)
    ]


def local_time(value: datetime.datetime) -> str:
    return value.astimezone(SHANGHAI).strftime("%H:%M")


WEEKDAYS = [
    gettext_lazy("Mon"),
    gettext_lazy("Tue"),
    gettext_lazy("Wed"),
    gettext_lazy("Thu"),
    gettext_lazy("Fri"),
    gettext_lazy("Sat"),
    gettext_lazy("Sun"),
]


def when_text(change: datetime.datetime, at: datetime.datetime) -> str:
    """ "17:00", "tomorrow 09:00", "Mon 09:00" (within a week) or "10-08 09:00"."""
    local = change.astimezone(SHANGHAI)
    days = (local.date() - at.astimezone(SHANGHAI).date()).days
    clock = local.strftime("%H:%M")
    if days <= 0:
        return clock
    if days == 1:
        return _("tomorrow %(time)s") % {"time": clock}
    if days < 7:
        return f"{WEEKDAYS[local.weekday()]} {clock}"
    return f"{local:%m-%d} {clock}"


def day_text(change: datetime.datetime, at: datetime.datetime) -> str:
    """ "today 17:00", "tomorrow 09:00", "Mon 09:00" (within a week) or "10-08 09:00": for a
    sentence that stands alone, where a bare clock time would not say which day."""
    local = change.astimezone(SHANGHAI)
    if (local.date() - at.astimezone(SHANGHAI).date()).days <= 0:
        return _("today %(time)s") % {"time": local.strftime("%H:%M")}
    return when_text(change, at)


OPERATING_STATES = {
    "limited": gettext_lazy("Limited service"),
    "closed": gettext_lazy("Outlet closed"),
    "closed_by_order": gettext_lazy("Outlet closed by order of the authorities"),
}


def operating_label(window) -> str:
    """ "限流营业 · 1 个窗口 · 自助银行 24 小时" for an hours.StatusWindow ("" for ordinary operation)."""
    from django.utils.translation import ngettext

    if window is None or window.state not in OPERATING_STATES:
        return ""
    parts = [str(OPERATING_STATES[window.state])]
    if window.state == "limited" and window.counter_windows:
        n = window.counter_windows
        parts.append(ngettext("%(n)s counter window", "%(n)s counter windows", n) % {"n": n})
    if window.self_service_24h:
        parts.append(_("self-service bank 24 hours"))
    return " · ".join(parts)


def operating_json(window) -> dict | None:
    if window is None or window.state not in OPERATING_STATES:
        return None
    return {
        "state": window.state,
        "counter_windows": window.counter_windows,
        "self_service_24h": window.self_service_24h,
        "notice": window.notice,
        "label": operating_label(window),
    }


def status_badge(result, at: datetime.datetime) -> tuple[str, str]:
    """(css kind, text) for a result: "Open · closes 17:00", "Closed · opens tomorrow 09:00";
    under an operating status its label first ("限流营业 · 1 个窗口 · 自助银行 24 小时")."""
    if result.temporarily_closed:
        return "bad", _("Temporarily closed")
    visit = getattr(result, "visit", None)
    if visit is not None:
        if result.open:
            return "ok", _("Here now") + " · " + visit.text(at)
        return "warn", visit.text(at)
    label = operating_label(result.operating)
    if label:
        if not result.open:
            return "bad", label
        if result.next_change is None:
            return "warn", f"{label} · " + _("Open 24 hours")
        return "warn", f"{label} · " + _("Open · closes %(when)s") % {
            "when": when_text(result.next_change, at)
        }
    if not result.hours_known:
        return "warn", _("Hours unknown")
    if result.open:
        if result.next_change is None:
            return "ok", _("Open 24 hours")
        return "ok", _("Open · closes %(when)s") % {"when": when_text(result.next_change, at)}
    if result.next_change is None:
        return "bad", pgettext("opening state", "Closed")
    return "warn", _("Closed · opens %(when)s") % {"when": when_text(result.next_change, at)}


def navigation_links(lat: float, lng: float, name: str, address: str = "") -> dict[str, str]:
    """One-tap links into the map apps, each with the coordinates in its own system: Amap and
    Tencent use GCJ-02, Baidu BD-09. Each page opens the app where it is installed."""
    g_lat, g_lng = from_wgs84(lat, lng, "gcj02")
    b_lat, b_lng = from_wgs84(lat, lng, "bd09")
    return links_at((g_lat, g_lng, b_lat, b_lng), name, address)


@functools.lru_cache(maxsize=16384)
def _q(text: str) -> str:
    return quote(text, safe="")


def links_at(projected: tuple[float, float, float, float], name: str, address: str = "") -> dict[str, str]:
    """The navigation links from positions already converted: (GCJ-02 lat, lng, BD-09 lat, lng)."""
    g_lat, g_lng, b_lat, b_lng = projected
    q_name, q_address = _q(name), _q(address or name)
    return {
        "amap": f"https://uri.amap.com/marker?position={g_lng:.6f},{g_lat:.6f}&name={q_name}"
        "&coordinate=gaode&callnative=1&src=yizhan",
        "baidu": f"https://api.map.baidu.com/marker?location={b_lat:.6f},{b_lng:.6f}&title={q_name}"
        f"&content={q_address}&coord_type=bd09ll&output=html&src=webapp.yizhan.locator",
        "tencent": f"https://apis.map.qq.com/uri/v1/marker?marker=coord:{g_lat:.6f},{g_lng:.6f};"
        f"title:{q_name};addr:{q_address}&referer=yizhan",
    }


# ~1.4 KB each, in all coordinate systems together: at most ~46 MB per process, and room for the
# ~26,000 stations the HTTP benchmark's 2,000 query points (plain and filtered) come across; a
# cache of 16,384 kept evicting them before their reuse.
FRAGMENT_CACHE = 32768
_encode = json.encoder.encode_basestring  # a JSON string literal, non-ASCII kept as it is


@functools.lru_cache(maxsize=256)
def _themes_json(catalogue, mask: int) -> str:
    return json.dumps(catalogue.theme_codes_in(mask), separators=(",", ":"))


@functools.lru_cache(maxsize=4096)
def _states_bytes(catalogue, yes: tuple, no: tuple, broken: tuple) -> bytes:
    return catalogue.states_json(yes, no, broken).encode()


def _fragment(idx: StationIndex, row: int, crs: str) -> bytes:
    """A row's JSON (UTF-8) up to the per-request fields (distance, open, next change, which
    come last), kept per index and coordinate system: the static part is most of each answer,
    and the same stations come up again and again. Gives exactly what `result_json` gives (a
    test holds them together)."""
    code, name, name_en, address, phone, notice = idx.texts(row)
    projected = idx.projected(row)
    if crs == "gcj02":
        lat, lng = projected[0], projected[1]
    elif crs == "bd09":
        lat, lng = projected[2], projected[3]
    else:
        lat, lng = float(idx.lat[row]), float(idx.lng[row])
    status = "temporarily_closed" if idx.status[row] == STATUS_TEMPORARILY_CLOSED else "active"
    catalogue = idx.catalogue
    facilities = _states_bytes(
        catalogue,
        tuple(idx.yes[row].tolist()),
        tuple(idx.no[row].tolist()),
        tuple(idx.out_of_order[row].tolist()),
    )
    themes = _themes_json(catalogue, int(idx.themes[row]))
    links = links_at(projected, name, address)
    fragment = (
        (
            f'{{"code":{_encode(code)},"kind":"fixed","name":{_encode(name)},"name_en":{_encode(name_en)},'
            f'"lat":{round(lat, 6)!r},"lng":{round(lng, 6)!r},"crs":"{crs}","status":"{status}",'
            f'"notice":{_encode(notice)},"facilities":'
        ).encode()
        + facilities
        + (
            f',"themes":{themes},"address":{_encode(address)},"phone":{_encode(phone)},'
            f'"links":{{"page":{_encode("/s/" + code)},"amap":{_encode(links["amap"])},'
            f'"baidu":{_encode(links["baidu"])},"tencent":{_encode(links["tencent"])}}},"distance_m":'
        ).encode()
    )
    with idx._lock:  # runserver and threaded servers share the index between threads
        kept = idx.fragments.setdefault(crs, {})
        if sum(map(len, idx.fragments.values())) >= FRAGMENT_CACHE:
            largest = max(idx.fragments.values(), key=len)
            drop_older_half(largest, len(largest))
        kept[row] = fragment
    return fragment


def _hours_part(idx: StationIndex, row: int, at: datetime.datetime) -> bytes:
    """',"open":…,"next_change":…}' for a row at `at` (its timetable's, for the minute)."""
    is_open = bool(idx.open_rows(np.array([row], dtype=np.intp), at)[0])
    change = idx.next_change_texts([row], at)[0]
    when = f'"{change}"' if change is not None else "null"
    operating = "null"
    schedule = idx.schedule(row)
    if schedule.windows:
        from yizhan.stations.hours import status_at

        found = operating_json(status_at(schedule, at))
        if found is not None:
            operating = json.dumps(found, ensure_ascii=False, separators=(",", ":"))
    return f',"open":{"true" if is_open else "false"},"next_change":{when},"operating":{operating}}}'.encode()


def nearby_json(query: NearbyQuery, idx: StationIndex | None = None) -> bytes:
    """The API's answer for `query` as UTF-8 JSON (the same fields as `result_json`)."""
    idx = idx if idx is not None else index()
    rows, metres = _search(query, idx)
    at = query.at.astimezone(SHANGHAI).isoformat()
    out = [f'{{"at":"{at}","crs":"{query.crs}","results":['.encode()]
    if rows:
        crs, sid_of = query.crs, idx.schedule_of
        fragments = idx.fragments.get(crs) or {}
        # Open / next change depend on the timetable and the minute only: kept per timetable.
        hours_parts = idx.minute_cache(query.at)
        for row, distance in zip(rows, metres, strict=True):
            if row >= idx.n:  # a mobile station: a handful at most, written whole
                found = result_json(mobile_result(idx, row, distance, query.at), crs)
                out += (json.dumps(found, ensure_ascii=False, separators=(",", ":")).encode(), b",")
                continue
            sid = sid_of[row]
            hours = hours_parts.get(sid)
            if hours is None:
                hours = hours_parts[sid] = _hours_part(idx, row, query.at)
            out += (fragments.get(row) or _fragment(idx, row, crs), b"%d" % round(distance), hours, b",")
        out.pop()
    out.append(b"]}")
    return b"".join(out)


def result_json(result: Result, crs: str) -> dict:
    lat, lng = result.position(crs)
    out = {
        "code": result.code,
        "kind": result.kind,
        "name": result.name,
        "name_en": result.name_en,
        "distance_m": round(result.distance_m),
        "lat": round(lat, 6),
        "lng": round(lng, 6),
        "crs": crs,
        "status": result.status,
        "notice": result.notice,
        "open": result.open,
        "next_change": result.next_change.isoformat() if result.next_change else None,
        "operating": operating_json(result.operating),
        "facilities": result.facilities,
        "themes": result.themes,
        "address": result.address,
        "phone": result.phone,
        "links": {"page": f"/s/{result.code}", **result.links()},
    }
    if result.visit is not None:
        out["visit"] = {
            "place": result.visit.place,
            "starts_at": result.visit.starts_at.isoformat(),
            "ends_at": result.visit.ends_at.isoformat(),
        }
    return out


# --- the catalogue as people read it -------------------------------------------------------------

_labels: dict = {"version": None, "loaded": 0.0, "facilities": [], "themes": []}
LABELS_TTL_S = 300


def catalogue_labels() -> tuple[list[dict], list[dict]]:
    """Facilities and themes with names and icons, in catalogue order (cached for a few minutes:
    the catalogue changes with a release, not with station data)."""
    from yizhan.stations.models import Facility, Theme

    if time.monotonic() - _labels["loaded"] > LABELS_TTL_S or not _labels["facilities"]:
        _labels["facilities"] = list(
            Facility.objects.order_by("sort_order", "code").values("code", "group", "name", "name_en", "icon")
        )
        _labels["themes"] = list(
            Theme.objects.order_by("sort_order", "code").values("code", "name", "name_en")
        )
        _labels["loaded"] = time.monotonic()
    return _labels["facilities"], _labels["themes"]


def localised_entry(entry: dict) -> str:
    return localised(entry["name"], entry.get("name_en"))


# --- places: cities and search ------------------------------------------------------------------

_cities: dict = {"loaded": 0.0, "items": []}
CITIES_TTL_S = 600


def cities() -> list[dict]:
    """Cities with stations, for "pick a city": second-tier city branches, and provincial branches
    whose outlets hang straight under them (Chongqing, Shenzhen). Centre = mean station position."""
    from yizhan.orgs.models import Unit, UnitKind
    from yizhan.stations.models import Station

    if time.monotonic() - _cities["loaded"] < CITIES_TTL_S and _cities["items"]:
        return _cities["items"]
    units = {
        u.pk: u
        for u in Unit.objects.filter(kind__in=[UnitKind.PROVINCE, UnitKind.CITY], closed_on__isnull=True)
    }
    per_outlet = (
        Station.objects.filter(status__in=["active", "temporarily_closed"])
        .values("unit__path")
        .annotate(lat=Avg("lat"), lng=Avg("lng"), n=Count("id"))
    )
    totals: dict[int, list[float]] = {}
    for row in per_outlet:
        ids = [int(p) for p in row["unit__path"].strip("/").split("/") if p]
        owner = next((i for i in reversed(ids) if i in units and units[i].kind == UnitKind.CITY), None)
        owner = owner or next((i for i in ids if i in units), None)
        if owner is None:
            continue
        total = totals.setdefault(owner, [0.0, 0.0, 0])
        total[0] += row["lat"] * row["n"]
        total[1] += row["lng"] * row["n"]
        total[2] += row["n"]
    items = [
        {
            "code": units[pk].code,
            "name": _city_name(units[pk].name, "市分行", "分行"),
            "name_en": _city_name(units[pk].name_en, " City Branch", " Branch"),
            "lat": lat_sum / n,
            "lng": lng_sum / n,
            "count": n,
        }
        for pk, (lat_sum, lng_sum, n) in totals.items()
    ]
    items.sort(key=lambda c: (-c["count"], c["code"]))
    _cities.update(loaded=time.monotonic(), items=items)
    return items


def _city_name(branch: str, *suffixes: str) -> str:
    """重庆市分行 -> 重庆, Sanming Branch -> Sanming: a visitor picks a city, not a branch."""
    for suffix in suffixes:
        if branch.endswith(suffix) and len(branch) > len(suffix):
            return branch[: -len(suffix)]
    return branch


def city(code: str) -> dict | None:
    return next((c for c in cities() if c["code"] == code), None)


def landmarks(text: str, limit: int = 8) -> list[dict]:
    """Gazetteer places matching what a visitor typed (name, alias, pinyin, initials, one typo),
    best first. Each: {label, detail, lat, lng, exact, kind}."""
    from yizhan.locator import gazetteer
    from yizhan.locator.models import PlaceKind

    found = gazetteer.current()
    english = (get_language() or "").startswith("en")
    kinds = dict(PlaceKind.choices)
    out = []
    for hit in found.search(text, limit=limit):
        city_name = found.cities.get(int(found.unit_ids[hit.row]), ("", ""))
        city_label = (english and city_name[1]) or city_name[0]
        out.append(
            {
                "label": found.names[hit.row],
                "detail": " · ".join(str(p) for p in (kinds.get(found.kinds[hit.row], ""), city_label) if p),
                "lat": float(found.lat[hit.row]),
                "lng": float(found.lng[hit.row]),
                "exact": hit.tier == gazetteer.EXACT,
                "kind": found.kinds[hit.row],
            }
        )
    return out


def search_places(text: str, limit: int = 8) -> list[dict]:
    """Places matching what a visitor typed: landmarks from the gazetteer first (exact names
    first), then branches and districts by name or pinyin initials (centre of their stations),
    then stations by name, address, code or pinyin initials. Each: {label, detail, lat, lng}
    (landmarks also say whether they matched exactly)."""
    from yizhan.orgs.models import Unit, UnitKind
    from yizhan.stations.models import Station

    text = (text or "").strip()[:60]
    if not text:
        return []
    lowered = text.lower()
    places = landmarks(text, limit=limit)
    if any(p["exact"] for p in places):
        return places
    units = Unit.objects.filter(
        Q(name__icontains=text) | Q(pinyin__startswith=lowered),
        kind__in=[UnitKind.PROVINCE, UnitKind.CITY, UnitKind.SUB_BRANCH],
        closed_on__isnull=True,
    ).order_by("level", "path")[: max(min(4, limit - len(places)), 0)]
    for unit in units:
        centre = Station.objects.filter(
            unit__path__startswith=unit.path, status__in=["active", "temporarily_closed"]
        ).aggregate(lat=Avg("lat"), lng=Avg("lng"), n=Count("id"))
        if centre["n"]:
            places.append(
                {
                    "label": unit.display_name,
                    "detail": _("%(count)s stations") % {"count": centre["n"]},
                    "lat": centre["lat"],
                    "lng": centre["lng"],
                }
            )
    stations = (
        Station.objects.filter(status__in=["active", "temporarily_closed"])
        .filter(
            Q(name__icontains=text)
            | Q(address__icontains=text)
            | Q(code__iexact=text)
            | Q(unit__pinyin__startswith=lowered)
        )
        .order_by("code")
        .values("code", "name", "name_en", "address", "lat", "lng")[: max(limit - len(places), 0)]
    )
    english = (get_language() or "").startswith("en")
    for station in stations:
        places.append(
            {
                "label": station["name_en"] if english and station["name_en"] else station["name"],
                "detail": station["address"],
                "lat": station["lat"],
                "lng": station["lng"],
                "code": station["code"],
            }
        )
    return places[:limit]


# --- one station ----------------------------------------------------------------------------------


def public_station(code: str):
    """The station with this code as the public may see it, or None: a permanently closed one
    answers like a missing one (its temporarily closed state shows with its notice)."""
    from yizhan.stations.models import Station

    return (
        Station.objects.public()
        .filter(code=code)
        .select_related("unit")
        .prefetch_related("themes", "facility_states__facility")
        .first()
    )


def format_intervals(intervals) -> str:
    from yizhan.stations.hours import format_time

    if not intervals:
        # A day in the week's table, possibly in the future: "休息", not the present "休息中".
        return pgettext("a day without opening hours", "Closed")
    if intervals == ((0, 1440),):
        return _("Open 24 hours")
    return ", ".join(f"{format_time(start)}–{format_time(end)}" for start, end in intervals)


@dataclass
class StationView:
    station: object
    at: datetime.datetime
    open: bool
    next_change: datetime.datetime | None
    hours_known: bool
    calendar_missing: bool
    week: list[dict]
    facility_groups: list[dict]
    facility_states: dict[str, dict]
    themes: list
    links: dict[str, str]
    busy: object = None  # busy.Busy, now (whatever `at` says)
    usual_peak: int | None = None  # the hour of day it is usually busiest
    operating: object = None  # hours.StatusWindow in force at `at`, or None

    @property
    def badge(self) -> tuple[str, str]:
        return status_badge(self, self.at)

    @property
    def notice(self) -> str:
        """The operating status's notice while one is in force, else the station's own."""
        if self.operating is not None and self.operating.notice:
            return self.operating.notice
        return self.station.public_notice

    @property
    def temporarily_closed(self) -> bool:
        return self.station.status == "temporarily_closed"

    @property
    def next_change_text(self) -> str:
        return day_text(self.next_change, self.at) if self.next_change else ""


def station_view(station, at: datetime.datetime | None = None) -> StationView:
    """Everything the station page and the station API show, at `at` (now by default)."""
    from yizhan.stations import hours
    from yizhan.stations.models import HolidayDate

    at = at or timezone.now()
    calendar = hours.current_calendar()
    schedule = station.schedule()
    today = at.astimezone(SHANGHAI).date()
    monday = today - datetime.timedelta(days=today.weekday())
    dates = [monday + datetime.timedelta(days=i) for i in range(7)]
    holiday_names = dict(HolidayDate.objects.filter(date__in=dates).values_list("date", "name"))
    week = []
    for day in dates:
        kind = calendar.kind(day) if schedule.statutory else None
        week.append(
            {
                "date": day,
                "weekday": WEEKDAYS[day.weekday()],
                "hours": format_intervals(hours.intervals_on(schedule, day, calendar))
                if schedule.known
                else "",
                "intervals": hours.intervals_on(schedule, day, calendar),
                "today": day == today,
                "holiday": holiday_names.get(day, "") if kind else "",
                "kind": kind,
            }
        )
    facilities, _themes = catalogue_labels()
    states = {}
    for row in station.facility_states.all():
        states[row.facility.code] = {
            "state": "out_of_order" if row.state == "yes" and row.out_of_order else row.state,
            "since": row.out_of_order_since,
            "note": row.note,
        }
    groups: dict[str, dict] = {}
    from yizhan.stations.catalogue import GROUP_LABELS

    for entry in facilities:
        group = groups.setdefault(
            entry["group"],
            {"code": entry["group"], "label": GROUP_LABELS.get(entry["group"], entry["group"]), "items": []},
        )
        state = states.get(entry["code"], {"state": "unknown", "since": None, "note": ""})
        if entry["group"] != "basic" and state["state"] == "unknown":
            continue  # the extended catalogue is long: list what the station has or lacks
        group["items"].append({**entry, "label": localised_entry(entry), **state})
    return StationView(
        station=station,
        at=at,
        open=hours.open_at(schedule, at, calendar),
        next_change=hours.next_change(schedule, at, calendar),
        hours_known=schedule.known,
        calendar_missing=schedule.known and hours.calendar_missing(schedule, today, calendar),
        week=week,
        facility_groups=[g for g in groups.values() if g["items"]],
        facility_states=states,
        themes=list(station.themes.all()),
        links=navigation_links(station.lat, station.lng, station.name, station.address),
        busy=busy.busy_now([station.pk])[station.pk],
        usual_peak=busy.usual_peak(station.pk),
        operating=hours.status_at(schedule, at),
    )


def station_json(view: StationView, crs: str = "wgs84") -> dict:
    station = view.station
    lat, lng = from_wgs84(station.lat, station.lng, crs)
    return {
        "code": station.code,
        "name": station.name,
        "name_en": station.name_en,
        "status": station.status,
        "notice": view.notice,
        "reopens_on": station.reopens_on.isoformat() if station.reopens_on else None,
        "lat": round(lat, 6),
        "lng": round(lng, 6),
        "crs": crs,
        "address": station.address,
        "phone": station.phone,
        "at": view.at.isoformat(),
        "open": view.open,
        "next_change": view.next_change.isoformat() if view.next_change else None,
        "operating": operating_json(view.operating),
        "hours_known": view.hours_known,
        "week": [
            {
                "date": day["date"].isoformat(),
                "intervals": [
                    [f"{s // 60:02d}:{s % 60:02d}", f"{e // 60:02d}:{e % 60:02d}"]
                    for s, e in day["intervals"]
                ],
                "holiday": day["holiday"],
            }
            for day in view.week
        ],
        "facilities": {code: state["state"] for code, state in view.facility_states.items()},
        "themes": [theme.code for theme in view.themes],
        "access_policy": station.access_policy,
        "verified_at": station.verified_at.isoformat() if station.verified_at else None,
        "links": {"page": f"/s/{station.code}", **view.links},
        "busy": {
            "level": view.busy.level,
            "recent_checkins": view.busy.recent,
            "seats": view.busy.seats,
            "full_until": view.busy.full_until.astimezone(SHANGHAI).isoformat()
            if view.busy.full_until
            else None,
            "usual_peak_hour": view.usual_peak,
        },
    }


# --- mobile stations ------------------------------------------------------------------------------

NEXT_VISITS = 10


def next_visits(station, at: datetime.datetime | None = None, limit: int = NEXT_VISITS) -> list[dict]:
    """A mobile station's visits from the one running at `at` on (cancelled ones with their
    notice), for its page and its API: {place, address, starts_at, ends_at, now, cancelled,
    notice, text, navigation links}."""
    from yizhan.mobile.models import Visit, VisitStatus

    at = at or timezone.now()
    out = []
    for visit in (
        Visit.objects.filter(station=station, ends_at__gt=at)
        .select_related("place")
        .order_by("starts_at")[:limit]
    ):
        window = VisitWindow(
            visit.place.name, visit.starts_at.astimezone(SHANGHAI), visit.ends_at.astimezone(SHANGHAI)
        )
        cancelled = visit.status == VisitStatus.CANCELLED
        out.append(
            {
                "place": visit.place.name,
                "address": visit.place.address,
                "starts_at": window.starts_at,
                "ends_at": window.ends_at,
                "now": not cancelled and visit.starts_at <= at < visit.ends_at,
                "cancelled": cancelled,
                "notice": visit.notice,
                "moved": visit.moved,
                "text": window.text(at),
                "links": navigation_links(
                    visit.place.lat, visit.place.lng, visit.place.name, visit.place.address
                ),
            }
        )
    return out


def mobile_badge(visits: list[dict], at: datetime.datetime) -> tuple[str, str]:
    """The station page's badge for a mobile station: there now, or where it goes next."""
    planned = [v for v in visits if not v["cancelled"]]
    if not planned:
        return "bad", _("No visit planned")
    first = planned[0]
    if first["now"]:
        return "ok", _("Here now") + " · " + first["text"]
    return "warn", _("Next: %(visit)s") % {"visit": first["text"]}
