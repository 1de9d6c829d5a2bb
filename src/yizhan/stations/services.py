"""Verb functions for stations, their facilities, hours and the holiday calendar.

Each validates with the shared `clean_*` rules (used by forms, API and imports alike), runs in one
transaction, writes an audit event with the field diff, and bumps the station data version in
the same transaction, so that caches built from station data (the locator's in-process index)
know to rebuild.
"""

import dataclasses
import datetime
import json
import re
import time
from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import F, Value
from django.db.models.functions import Greatest
from django.utils import timezone
from django.utils.translation import gettext as _

from yizhan.audit.services import diff, record, snapshot
from yizhan.core import concurrency
from yizhan.core.geo import parse_point, validate_crs
from yizhan.orgs.models import Unit, UnitKind, code_validator
from yizhan.orgs.scoping import Scope
from yizhan.stations.hours import clean_schedule
from yizhan.stations.models import (
    AccessPolicy,
    DataVersion,
    Facility,
    FacilityState,
    HolidayDate,
    HolidayKind,
    HolidayYear,
    RolloutWave,
    Standard,
    Station,
    StationFacility,
    StationKind,
    StationStatus,
    Theme,
    VerificationSource,
)

STATION_FIELDS = [
    "code",
    "kind",
    "name",
    "name_en",
    "unit_id",
    "address",
    "lat",
    "lng",
    "phone",
    "sign_installed_on",
    "status",
    "public_notice",
    "reopens_on",
    "seats",
    "access_policy",
    "external_ids",
    "opening_hours",
]

# --- the data version counters ----------------------------------------------------------------


def bump(*names: str) -> None:
    """Move the named counters on, inside the caller's transaction.

    The new value is the larger of value + 1 and the current time in microseconds: it only ever
    grows, and a value taken by a write that was rolled back is never handed out again (which a
    plain + 1 would do), so a cache keyed on it cannot mistake new data for old."""
    now_us = time.time_ns() // 1000
    for name in names or ("stations",):
        updated = DataVersion.objects.filter(name=name).update(value=Greatest(F("value") + 1, Value(now_us)))
        if not updated:
            DataVersion.objects.create(name=name, value=now_us)


def version_of(name: str) -> int:
    return DataVersion.objects.filter(name=name).values_list("value", flat=True).first() or 0


def data_version() -> int:
    """The station data version: it changes whenever any station, facility state, schedule or the
    holiday calendar changes. Compare for inequality; the numbers themselves mean nothing."""
    return version_of("stations")


# --- validation ---------------------------------------------------------------------------------

# Choices.values builds a new list on every access; imports check these 15,000 times.
STATUS_VALUES = frozenset(StationStatus.values)
POLICY_VALUES = frozenset(AccessPolicy.values)
STATE_VALUES = frozenset(FacilityState.values)

# Back-office paths under /manage/stations/ that a station code must not shadow.
RESERVED_CODES = frozenset({"new", "import", "reports", "waves", "standards", "holidays", "bulk-facility"})

PHONE_RE = re.compile(r"^[0-9+()\- ]{5,30}((转|ext\.?|x)\s*[0-9]{1,6})?$", re.IGNORECASE)
EXTERNAL_KEY_RE = re.compile(r"^[a-z][a-z0-9_]{0,29}$")


def _parse_date(value, field: str, errors: dict):
    if value in (None, ""):
        return None
    if isinstance(value, datetime.datetime):
        return value.date()
    if isinstance(value, datetime.date):
        return value
    try:
        return datetime.date.fromisoformat(str(value).strip()[:10])
    except ValueError:
        errors[field] = _("Enter a valid date (YYYY-MM-DD).")
        return None


@dataclass
class Lookups:
    """Prefetched lookups, so that an import validates 15,000 rows without 45,000 queries; the
    rules applied are the same as for one station."""

    units: dict[str, Unit]
    themes: dict[str, Theme]
    taken: dict[str, int]  # lower-cased station code -> station pk
    facilities: dict[str, Facility]
    schedules: dict = dataclasses.field(
        default_factory=dict
    )  # JSON text -> clean schedule (most rows share one)

    @classmethod
    def load(cls, station_codes=None) -> "Lookups":
        stations = Station.objects.all()
        if station_codes is not None:
            stations = stations.filter(code__in=list(station_codes))
        return cls(
            units={u.code: u for u in Unit.objects.all()},
            themes={t.code: t for t in Theme.objects.all()},
            taken={code.lower(): pk for code, pk in stations.values_list("code", "pk")},
            facilities={f.code: f for f in Facility.objects.all()},
        )


def _resolve_unit(
    value, scope: Scope | None, errors: dict, lookups: Lookups | None = None, kind: str = "fixed"
) -> Unit | None:
    if isinstance(value, Unit):
        unit = value
    else:
        code = str(value or "").strip()
        if not code:
            errors["unit"] = _("This field is required.")
            return None
        unit = lookups.units.get(code) if lookups else Unit.objects.filter(code=code).first()
    # Outside the caller's scope reads the same as unknown: an outsider learns nothing.
    if unit is None or (scope is not None and not scope.covers(unit.path)):
        errors["unit"] = _("No unit with this code in your part of the network.")
        return None
    if kind == StationKind.MOBILE:
        if unit.kind != UnitKind.SUB_BRANCH:
            errors["unit"] = _("A mobile station belongs to a sub-branch.")
        elif unit.closed_on is not None:
            errors["unit"] = _("The sub-branch is closed.")
        return unit
    if unit.kind != UnitKind.OUTLET:
        errors["unit"] = _("A station belongs to an outlet.")
    elif unit.closed_on is not None:
        errors["unit"] = _("The outlet is closed.")
    return unit


def clean_themes(value, errors: dict, field: str = "themes", lookups: Lookups | None = None) -> list[Theme]:
    if value in (None, ""):
        return []
    if isinstance(value, str):
        value = [part for part in re.split(r"[,，;；、\s]+", value) if part]
    known = lookups.themes if lookups else {t.code: t for t in Theme.objects.all()}
    by_name = {t.name: t for t in known.values()}
    themes, unknown = [], []
    for item in value:
        if isinstance(item, Theme):
            themes.append(item)
            continue
        text = str(item).strip()
        theme = known.get(text) or by_name.get(text)
        if theme is None:
            unknown.append(text)
        elif theme not in themes:
            themes.append(theme)
    if unknown:
        errors[field] = _("Unknown theme(s): %(codes)s. Known: %(known)s.") % {
            "codes": ", ".join(unknown),
            "known": ", ".join(known),
        }
    return themes


def clean_external_ids(value, errors: dict, field: str = "external_ids") -> dict:
    """A dict {source: id}, or the text form "amap=B0FFG1; baidu=123" used in spreadsheets."""
    if value in (None, ""):
        return {}
    if isinstance(value, str):
        pairs = {}
        for part in re.split(r"[;；\n]+", value):
            if not part.strip():
                continue
            key, sep, ident = part.partition("=")
            if not sep:
                errors[field] = _("Write external ids as source=id; source=id.")
                return {}
            pairs[key.strip().lower()] = ident.strip()
        value = pairs
    if not isinstance(value, dict):
        errors[field] = _("Write external ids as source=id; source=id.")
        return {}
    out = {}
    for key, ident in value.items():
        key = str(key).strip().lower()
        ident = str(ident if ident is not None else "").strip()
        if not EXTERNAL_KEY_RE.match(key):
            errors[field] = _("%(key)s is not a valid source name (lower-case letters, digits, _).") % {
                "key": key
            }
            return {}
        if not ident or len(ident) > 100:
            errors[field] = _("The id for %(key)s must be 1 to 100 characters.") % {"key": key}
            return {}
        out[key] = ident
    return dict(sorted(out.items()))


def clean_station(
    data: dict, *, instance: Station | None = None, scope: Scope | None = None, lookups: Lookups | None = None
) -> dict:
    """The one set of rules for a station, shared by forms, API and imports.

    `data` holds field values as typed (text from a spreadsheet or form, JSON from the API);
    `unit` may be a Unit or a unit code; `crs` says which datum lat/lng are in. With `scope`,
    a unit outside it is refused as unknown. Returns clean values, `themes` as Theme objects."""
    errors: dict[str, str] = {}
    out: dict = {}

    code = str(data.get("code") or "").strip()
    if not code:
        errors["code"] = _("This field is required.")
    elif len(code) > 32:
        errors["code"] = _("At most 32 characters.")
    elif instance is not None and code != instance.code:
        errors["code"] = _("A station's code never changes: it is printed in QR codes.")
    elif instance is None and code.lower() in RESERVED_CODES:
        errors["code"] = _("This word is reserved; choose another code.")
    else:
        try:
            code_validator(code)
        except ValidationError as exc:
            errors["code"] = exc.messages[0]
        else:
            if lookups is not None:
                holder = lookups.taken.get(code.lower())
                taken = holder is not None and (instance is None or holder != instance.pk)
            else:
                clash = Station.objects.filter(code__iexact=code)
                if instance is not None:
                    clash = clash.exclude(pk=instance.pk)
                taken = clash.exists()
            if taken:
                errors["code"] = _("A station with this code already exists.")
    out["code"] = code

    for field, limit, required in (("name", 100, True), ("name_en", 200, False)):
        text = str(data.get(field) or "").strip()
        if required and not text:
            errors[field] = _("This field is required.")
        elif len(text) > limit:
            errors[field] = _("At most %(n)s characters.") % {"n": limit}
        out[field] = text

    kind = str(data.get("kind") or (instance.kind if instance is not None else StationKind.FIXED))
    if kind not in StationKind.values:
        errors["kind"] = _("Unknown kind of station.")
        kind = StationKind.FIXED
    elif instance is not None and kind != instance.kind:
        errors["kind"] = _("A station's kind never changes.")
    out["kind"] = kind
    unit = _resolve_unit(data.get("unit"), scope, errors, lookups, kind=kind)
    out["unit"] = unit

    # With the unit itself in error, a blank address or position is that error's echo, not a second one.
    unit_failed = "unit" in errors
    address = str(data.get("address") or "").strip()
    if not address and unit is not None:
        address = unit.address
    if not address and not unit_failed:
        errors["address"] = _("This field is required.")
    elif len(address) > 255:
        errors["address"] = _("At most 255 characters.")
    out["address"] = address

    lat, lng = data.get("lat"), data.get("lng")
    out["lat"] = out["lng"] = None
    try:
        crs = validate_crs(data.get("crs"))
    except ValidationError as exc:
        errors.update({k: v[0] for k, v in exc.message_dict.items()})
        crs = None
    if crs is None:
        pass
    elif lat in (None, "") and lng in (None, ""):
        if unit is not None and unit.lat is not None:
            out["lat"], out["lng"] = unit.lat, unit.lng
        elif not unit_failed:
            errors["lat"] = _("Give the station's coordinates.")
    else:
        try:
            out["lat"], out["lng"] = parse_point(lat, lng, crs)
        except ValidationError as exc:
            errors.update({k: v[0] for k, v in exc.message_dict.items()})

    phone = str(data.get("phone") or "").strip()
    if phone and (not PHONE_RE.match(phone) or sum(ch.isdigit() for ch in phone) < 5):
        errors["phone"] = _("Enter a phone number: digits, spaces, + - ( ), and an extension after 转.")
    out["phone"] = phone

    out["sign_installed_on"] = _parse_date(data.get("sign_installed_on"), "sign_installed_on", errors)
    if out["sign_installed_on"] and out["sign_installed_on"] > timezone.localdate():
        errors["sign_installed_on"] = _("The sign cannot have been installed in the future.")

    status = str(data.get("status") or StationStatus.ACTIVE).strip()
    if status not in STATUS_VALUES:
        errors["status"] = _("Unknown status; use active, temporarily_closed or closed.")
    out["status"] = status
    notice = str(data.get("public_notice") or "").strip()
    if len(notice) > 500:
        errors["public_notice"] = _("At most 500 characters.")
    out["public_notice"] = notice
    out["reopens_on"] = _parse_date(data.get("reopens_on"), "reopens_on", errors)
    if out["reopens_on"] and status != StationStatus.TEMPORARILY_CLOSED:
        errors["reopens_on"] = _("Only a temporarily closed station has a reopening date.")

    out["themes"] = clean_themes(data.get("themes"), errors, lookups=lookups)

    seats = data.get("seats")
    out["seats"] = None
    if seats not in (None, ""):
        try:
            out["seats"] = int(str(seats).strip())
            if not 0 <= out["seats"] <= 1000:
                raise ValueError
        except ValueError:
            errors["seats"] = _("Enter a whole number of seats from 0 to 1000.")

    policy = str(data.get("access_policy") or AccessPolicy.OPEN).strip()
    if policy not in POLICY_VALUES:
        errors["access_policy"] = _("Unknown access policy; use open, ask_staff or target_group.")
    out["access_policy"] = policy

    out["external_ids"] = clean_external_ids(data.get("external_ids"), errors)

    try:
        out["opening_hours"] = _clean_schedule(data.get("opening_hours"), lookups)
    except ValidationError as exc:
        errors.update({k: v[0] for k, v in exc.message_dict.items()})

    if errors:
        raise ValidationError(errors)
    return out


def _clean_schedule(value, lookups: Lookups | None) -> dict:
    if lookups is None or not isinstance(value, dict):
        return clean_schedule(value)
    key = json.dumps(value, sort_keys=True, ensure_ascii=False)
    if key not in lookups.schedules:
        lookups.schedules[key] = clean_schedule(value)
    return lookups.schedules[key]


def clean_facility_state(data: dict, *, facilities: dict[str, Facility] | None = None) -> dict:
    """{facility, state, out_of_order, out_of_order_since, note} -> clean values; `facility` is a
    code or a Facility."""
    errors: dict[str, str] = {}
    facility = data.get("facility")
    if not isinstance(facility, Facility):
        code = str(facility or "").strip()
        facility = (
            facilities.get(code) if facilities is not None else Facility.objects.filter(code=code).first()
        )
        if facility is None:
            errors["facility"] = _("Unknown facility code: %(code)s.") % {"code": code or "—"}
    state = str(data.get("state") or "").strip().lower()
    if state not in STATE_VALUES:
        errors["state"] = _("Use yes, no or unknown.")
    out_of_order = _truthy(data.get("out_of_order"))
    since = _parse_date(data.get("out_of_order_since"), "out_of_order_since", errors)
    note = str(data.get("note") or "").strip()
    if len(note) > 200:
        errors["note"] = _("At most 200 characters.")
    if out_of_order and state != FacilityState.YES:
        errors["out_of_order"] = _("Only a facility the station has can be out of order.")
    if since and not out_of_order:
        errors["out_of_order_since"] = _("A since-date goes with an out-of-order facility.")
    if since and since > timezone.localdate():
        errors["out_of_order_since"] = _("This date is in the future.")
    if errors:
        raise ValidationError(errors)
    return {
        "facility": facility,
        "state": state,
        "out_of_order": out_of_order,
        "out_of_order_since": since if out_of_order else None,
        "note": note,
    }


def _truthy(value) -> bool:
    if isinstance(value, bool):
        return value
    return str(value or "").strip().lower() in {"1", "true", "yes", "y", "on", "是", "坏", "故障"}


# --- station verbs ------------------------------------------------------------------------------


def _station_snapshot(station: Station) -> dict:
    snap = snapshot(station, STATION_FIELDS)
    snap["themes"] = sorted(station.themes.values_list("code", flat=True)) if station.pk else []
    return snap


@transaction.atomic
def register_station(*, actor, unit=None, scope: Scope | None = None, **data) -> Station:
    """Create a station for an outlet (`unit`: a Unit or its code)."""
    values = clean_station({**data, "unit": unit if unit is not None else data.get("unit")}, scope=scope)
    themes = values.pop("themes")
    station = Station(**values)
    try:
        with transaction.atomic():
            station.save()
    except IntegrityError as exc:  # a concurrent insert of the same code
        raise ValidationError({"code": _("A station with this code already exists.")}) from exc
    station.themes.set(themes)
    record("station.created", station, actor=actor, changes=diff({}, _station_snapshot(station)))
    bump()
    return station


@transaction.atomic
def update_station(
    station: Station, *, actor, scope: Scope | None = None, revision: int | None = None, **data
) -> Station:
    """Change some fields of a station; fields not given keep their values. `revision` is the
    station's revision the edit was based on: another one means a stale edit (StaleEdit)."""
    station = Station.objects.select_for_update().select_related("unit").get(pk=station.pk)
    concurrency.check(station, revision, actor=actor)
    before = _station_snapshot(station)
    merged = {**before, "unit": station.unit, "crs": "wgs84", **data}
    if "unit" in data and data["unit"] is None:
        merged["unit"] = None
    if ("lat" in data or "lng" in data) and "crs" not in data:
        merged["crs"] = "wgs84"
    values = clean_station(merged, instance=station, scope=scope)
    themes = values.pop("themes")
    for key, value in values.items():
        setattr(station, key, value)
    after = {**snapshot(station, STATION_FIELDS), "themes": sorted(t.code for t in themes)}
    changes = diff(before, after)
    if not changes:
        return station
    concurrency.advance(station, changes, actor=actor)
    station.updated_at = timezone.now()
    station.save()
    if "themes" in changes:
        station.themes.set(themes)
    record("station.updated", station, actor=actor, changes=changes)
    bump()
    return station


@transaction.atomic
def close_station(
    station: Station,
    *,
    actor,
    notice: str,
    temporary: bool = False,
    reopens_on: datetime.date | str | None = None,
    revision: int | None = None,
) -> Station:
    """Close a station for good, or temporarily (optionally until a date), with a public notice."""
    if not str(notice or "").strip():
        raise ValidationError({"public_notice": _("Tell the public why the station is closed.")})
    status = StationStatus.TEMPORARILY_CLOSED if temporary else StationStatus.CLOSED
    return update_station(
        station,
        actor=actor,
        status=status,
        public_notice=notice,
        reopens_on=reopens_on if temporary else None,
        revision=revision,
    )


@transaction.atomic
def reopen_station(station: Station, *, actor, notice: str = "", revision: int | None = None) -> Station:
    return update_station(
        station,
        actor=actor,
        status=StationStatus.ACTIVE,
        public_notice=notice,
        reopens_on=None,
        revision=revision,
    )


@transaction.atomic
def set_schedule(station: Station, opening_hours: dict, *, actor, revision: int | None = None) -> Station:
    """Replace a station's opening hours (see hours.py for the format)."""
    return update_station(station, actor=actor, opening_hours=opening_hours, revision=revision)


@transaction.atomic
def set_operating_windows(station: Station, windows: list[dict], *, actor) -> Station:
    """Mirror the outlet's operating status onto its station (hours.StatusWindow JSON), so that
    every reader of `station.schedule()` — the locator's index, the station page, the API — follows
    it. Written by `yizhan.operations` only; it leaves the station's revision alone (no station
    form shows these), and bumps the data version so that every process re-reads the station."""
    station = Station.objects.select_for_update().get(pk=station.pk)
    if station.operating_windows == windows:
        return station
    before = station.operating_windows
    station.operating_windows = windows
    station.updated_at = timezone.now()
    station.save(update_fields=["operating_windows", "updated_at"])
    record("station.operating_status", station, actor=actor, changes={"operating_windows": [before, windows]})
    bump()
    return station


@transaction.atomic
def verify_station(station: Station, *, actor) -> Station:
    """Record that the station's data was checked: by a staff member (`actor`) or, with
    actor=None, confirmed by a member of the public on the station's page. It leaves the
    station's revision alone: no edit form shows these fields, and a public confirmation must not
    turn a staff member's open form stale."""
    station = Station.objects.select_for_update().get(pk=station.pk)
    before = snapshot(station, ["verified_at", "verified_by_id", "verification_source"])
    station.verified_at = timezone.now()
    station.verified_by = actor if actor is not None and getattr(actor, "pk", None) else None
    station.verification_source = (
        VerificationSource.STAFF if station.verified_by is not None else VerificationSource.PUBLIC
    )
    station.save(update_fields=["verified_at", "verified_by", "verification_source"])
    changes = diff(before, snapshot(station, ["verified_at", "verified_by_id", "verification_source"]))
    record("station.verified", station, actor=actor, changes=changes)
    bump()
    return station


FACILITY_STATE_FIELDS = ["state", "out_of_order", "out_of_order_since", "note"]


def _facility_snapshot(row: StationFacility | None) -> dict:
    if row is None:
        return {"state": FacilityState.UNKNOWN, "out_of_order": False, "out_of_order_since": None, "note": ""}
    return snapshot(row, FACILITY_STATE_FIELDS)


@transaction.atomic
def set_facility_state(
    station: Station,
    facility,
    *,
    actor,
    state: str,
    out_of_order: bool = False,
    out_of_order_since=None,
    note: str = "",
    revision: int | None = None,
) -> StationFacility:
    """Set one facility of one station (`facility`: a Facility or its code). Facility states are
    part of the station: a change takes the station's next revision, and `revision` is the
    station's revision the edit was based on."""
    values = clean_facility_state(
        {
            "facility": facility,
            "state": state,
            "out_of_order": out_of_order,
            "out_of_order_since": out_of_order_since,
            "note": note,
        }
    )
    facility = values.pop("facility")
    station = Station.objects.select_for_update().get(pk=station.pk)
    concurrency.check(station, revision, actor=actor)
    row = StationFacility.objects.filter(station=station, facility=facility).first()
    before = _facility_snapshot(row)
    if row is None:
        row = StationFacility(station=station, facility=facility)
    for key, value in values.items():
        setattr(row, key, value)
    changes = diff(before, _facility_snapshot(row))
    if not changes:
        return row
    changes = concurrency.advance(
        station, {f"{facility.code}.{k}": v for k, v in changes.items()}, actor=actor
    )
    row.updated_at = timezone.now()
    row.save()
    Station.objects.filter(pk=station.pk).update(updated_at=row.updated_at)
    record("station.facility_set", station, actor=actor, changes=changes)
    bump()
    return row


@transaction.atomic
def set_facility_states(station: Station, items, *, actor, revision: int | None = None) -> int:
    """Set many facilities of one station at once: (facility, {state, out_of_order, ...}) pairs.
    All are checked first; errors are keyed "<facility code>__<field>". Returns how many changed.
    `revision`: the station's revision the facilities page was shown with."""
    locked = Station.objects.select_for_update().get(pk=station.pk)
    concurrency.check(locked, revision, actor=actor)
    errors: dict[str, str] = {}
    clean = []
    for facility, values in items:
        code = facility.code if isinstance(facility, Facility) else str(facility)
        try:
            clean.append(clean_facility_state({**values, "facility": facility}))
        except ValidationError as exc:
            errors.update({f"{code}__{k}": v[0] for k, v in exc.message_dict.items()})
    if errors:
        raise ValidationError(errors)
    current = {r.facility_id: r for r in StationFacility.objects.filter(station=station)}
    changed = 0
    for values in clean:
        before = _facility_snapshot(current.get(values["facility"].pk))
        row = set_facility_state(station, actor=actor, **values)
        changed += before != _facility_snapshot(row)
    return changed


@transaction.atomic
def bulk_set_facility(
    stations,
    facility,
    *,
    actor,
    state: str,
    out_of_order: bool = False,
    out_of_order_since=None,
    note: str = "",
) -> int:
    """Set one facility across many stations, each change audited; returns how many changed."""
    values = clean_facility_state(
        {
            "facility": facility,
            "state": state,
            "out_of_order": out_of_order,
            "out_of_order_since": out_of_order_since,
            "note": note,
        }
    )
    stations = list(stations)
    if not stations:
        raise ValidationError({"stations": _("Select at least one station.")})
    changed = 0
    for station in stations:
        before = StationFacility.objects.filter(station=station, facility=values["facility"]).first()
        row = set_facility_state(station, actor=actor, **values)
        changed += _facility_snapshot(before) != _facility_snapshot(row)
    return changed


# --- standards ----------------------------------------------------------------------------------

STANDARD_FIELDS = ["code", "version", "name", "name_en", "theme_id", "is_active"]


def clean_standard(data: dict, *, instance: Standard | None = None) -> dict:
    errors: dict[str, str] = {}
    out: dict = {}
    for field, limit in (("code", 40), ("version", 20), ("name", 100), ("name_en", 200)):
        text = str(data.get(field) or "").strip()
        if field != "name_en" and not text:
            errors[field] = _("This field is required.")
        elif len(text) > limit:
            errors[field] = _("At most %(n)s characters.") % {"n": limit}
        out[field] = text
    if out["code"] and "code" not in errors:
        try:
            code_validator(out["code"])
        except ValidationError as exc:
            errors["code"] = exc.messages[0]
    if out["code"] and out["version"]:
        clash = Standard.objects.filter(code=out["code"], version=out["version"])
        if instance is not None:
            clash = clash.exclude(pk=instance.pk)
        if clash.exists():
            errors["version"] = _("This standard already has this version; give the new one another.")
    theme = data.get("theme")
    if isinstance(theme, Theme) or theme in (None, ""):
        out["theme"] = theme or None
    else:
        out["theme"] = Theme.objects.filter(code=str(theme).strip()).first()
        if out["theme"] is None:
            errors["theme"] = _("Unknown theme: %(code)s.") % {"code": theme}
    codes = data.get("facilities") or []
    if isinstance(codes, str):
        codes = [c for c in re.split(r"[,，;；、\s]+", codes) if c]
    facilities = {f.code: f for f in Facility.objects.all()}
    chosen = []
    for code in codes:
        code = code.code if isinstance(code, Facility) else str(code).strip()
        if code not in facilities:
            errors["facilities"] = _("Unknown facility code: %(code)s.") % {"code": code}
            break
        if facilities[code] not in chosen:
            chosen.append(facilities[code])
    if not chosen and "facilities" not in errors:
        errors["facilities"] = _("A standard lists at least one facility.")
    out["facilities"] = chosen
    out["is_active"] = bool(data.get("is_active", True))
    if errors:
        raise ValidationError(errors)
    return out


def _standard_snapshot(standard: Standard) -> dict:
    snap = snapshot(standard, STANDARD_FIELDS)
    snap["facilities"] = sorted(standard.facilities.values_list("code", flat=True)) if standard.pk else []
    return snap


@transaction.atomic
def save_standard(
    *, actor, instance: Standard | None = None, revision: int | None = None, **data
) -> Standard:
    """Create a standard (or a new version of one), or edit an existing version (`revision`: the
    one the edit was based on)."""
    if instance is not None:
        instance = Standard.objects.select_for_update().get(pk=instance.pk)
        concurrency.check(instance, revision, actor=actor)
    before = _standard_snapshot(instance) if instance is not None else {}
    values = clean_standard(
        {**before, "theme": instance.theme if instance else None, **data}, instance=instance
    )
    facilities = values.pop("facilities")
    standard = instance or Standard()
    for key, value in values.items():
        setattr(standard, key, value)
    after = {**snapshot(standard, STANDARD_FIELDS), "facilities": sorted(f.code for f in facilities)}
    changes = diff(before, after)
    if instance is not None and not changes:
        return standard
    if instance is not None:
        concurrency.advance(standard, changes, actor=actor)
    standard.updated_at = timezone.now()
    standard.save()
    standard.facilities.set(facilities)
    if changes:
        record(
            "standard.created" if not before else "standard.updated", standard, actor=actor, changes=changes
        )
        bump()
    return standard


# --- roll-out waves -----------------------------------------------------------------------------

WAVE_FIELDS = ["name", "name_en", "unit_id", "standard_id", "target_date", "note"]


def clean_wave(data: dict, *, unit: Unit) -> dict:
    errors: dict[str, str] = {}
    out: dict = {}
    for field, limit, required in (("name", 100, True), ("name_en", 200, False), ("note", 500, False)):
        text = str(data.get(field) or "").strip()
        if required and not text:
            errors[field] = _("This field is required.")
        elif len(text) > limit:
            errors[field] = _("At most %(n)s characters.") % {"n": limit}
        out[field] = text
    standard = data.get("standard")
    if not isinstance(standard, Standard):
        standard = Standard.objects.filter(pk=standard).first() if str(standard or "").isdigit() else None
        if standard is None:
            errors["standard"] = _("Choose a standard.")
    out["standard"] = standard
    out["target_date"] = _parse_date(data.get("target_date"), "target_date", errors)
    if out["target_date"] is None and "target_date" not in errors:
        errors["target_date"] = _("This field is required.")
    outlets = data.get("outlets")
    if outlets in (None, "", []):
        errors["outlets"] = _("List the outlets of the wave (codes), or choose all outlets below the unit.")
        out["outlets"] = []
    elif outlets == "all":
        out["outlets"] = list(Unit.objects.subtree(unit).outlets().filter(closed_on__isnull=True))
    else:
        if isinstance(outlets, str):
            outlets = [c for c in re.split(r"[,，;；、\s]+", outlets) if c]
        codes = [o.code if isinstance(o, Unit) else str(o).strip() for o in outlets]
        found = {u.code: u for u in Unit.objects.subtree(unit).outlets().filter(code__in=codes)}
        unknown = [c for c in codes if c not in found]
        if unknown:
            errors["outlets"] = _("Not outlets below %(unit)s: %(codes)s.") % {
                "unit": unit.name,
                "codes": ", ".join(unknown[:20]) + (" …" if len(unknown) > 20 else ""),
            }
        out["outlets"] = list(dict.fromkeys(found[c] for c in codes if c in found))
    if errors:
        raise ValidationError(errors)
    return out


def _wave_snapshot(wave: RolloutWave) -> dict:
    snap = snapshot(wave, WAVE_FIELDS)
    snap["outlets"] = sorted(wave.outlets.values_list("code", flat=True)) if wave.pk else []
    return snap


@transaction.atomic
def save_wave(
    *, actor, unit: Unit, instance: RolloutWave | None = None, revision: int | None = None, **data
) -> RolloutWave:
    """Create or change a roll-out wave run by `unit` (its outlets must lie below it); `revision`
    is the wave's revision the edit was based on."""
    if instance is not None:
        instance = RolloutWave.objects.select_for_update().get(pk=instance.pk)
        concurrency.check(instance, revision, actor=actor)
    before = _wave_snapshot(instance) if instance is not None else {}
    values = clean_wave(data, unit=unit)
    outlets = values.pop("outlets")
    wave = instance or RolloutWave(unit=unit)
    for key, value in values.items():
        setattr(wave, key, value)
    after = {**snapshot(wave, WAVE_FIELDS), "outlets": sorted(u.code for u in outlets)}
    changes = diff(before, after)
    if instance is not None and not changes:
        return wave
    if instance is not None:
        concurrency.advance(wave, changes, actor=actor)
    wave.updated_at = timezone.now()
    wave.save()
    wave.outlets.set(outlets)
    if changes:
        if len(after["outlets"]) > 50:  # keep the event readable: counts, not 880 codes
            changes["outlets"] = [len(before.get("outlets") or []), len(after["outlets"])]
        record("wave.created" if not before else "wave.updated", wave, actor=actor, changes=changes)
    return wave


# --- the holiday calendar -----------------------------------------------------------------------


def clean_holiday(data: dict, *, year: int | None = None) -> dict:
    errors: dict[str, str] = {}
    day = _parse_date(data.get("date"), "date", errors)
    if day is None and "date" not in errors:
        errors["date"] = _("This field is required.")
    if day is not None and year is not None and day.year != year:
        errors["date"] = _("%(date)s is not in %(year)s.") % {"date": day.isoformat(), "year": year}
    kind = str(data.get("kind") or "").strip().lower()
    kind = {"休": "off", "假": "off", "holiday": "off", "班": "work", "workday": "work"}.get(kind, kind)
    if kind not in HolidayKind.values:
        errors["kind"] = _("Use off (public holiday, 休) or work (make-up workday, 班).")
    elif kind == HolidayKind.WORK and day is not None and day.weekday() < 5:
        errors["kind"] = _("A make-up workday falls on a Saturday or Sunday.")
    name = str(data.get("name") or "").strip()
    if len(name) > 60:
        errors["name"] = _("At most 60 characters.")
    if errors:
        raise ValidationError(errors)
    return {"date": day, "kind": kind, "name": name}


@transaction.atomic
def set_holiday(*, actor, **data) -> HolidayDate:
    """Add or change one day of the calendar (the year becomes covered if it was not)."""
    values = clean_holiday(data)
    row = HolidayDate.objects.filter(date=values["date"]).first()
    before = snapshot(row, ["kind", "name"]) if row else {}
    row = row or HolidayDate(date=values["date"])
    row.kind, row.name = values["kind"], values["name"]
    row.save()
    HolidayYear.objects.get_or_create(year=row.date.year, defaults={"source": "manual"})
    changes = diff(before, snapshot(row, ["kind", "name"]))
    if changes:
        record("holiday.set", row, actor=actor, changes=changes, object_repr=row.date.isoformat())
        bump("calendar", "stations")
    return row


@transaction.atomic
def remove_holiday(day: datetime.date, *, actor) -> None:
    row = HolidayDate.objects.filter(date=day).first()
    if row is None:
        raise ValidationError({"date": _("%(date)s is not in the calendar.") % {"date": day.isoformat()}})
    record(
        "holiday.removed",
        row,
        actor=actor,
        changes={"kind": [row.kind, None], "name": [row.name, None]},
        object_repr=day.isoformat(),
    )
    row.delete()
    bump("calendar", "stations")


@transaction.atomic
def import_holiday_year(
    year: int, rows: list[tuple[int, dict]], *, actor, source: str = "import"
) -> HolidayYear:
    """Replace one year's arrangement (State Council notice, published each late autumn).
    `rows` are (row number, {date, kind, name}); every error names its row; nothing is written
    unless all rows are good."""
    if not 2000 <= int(year) <= 2100:
        raise ValidationError({"year": _("Enter a year between 2000 and 2100.")})
    errors: dict[str, str] = {}
    days: dict[datetime.date, dict] = {}
    for number, data in rows:
        try:
            values = clean_holiday(data, year=int(year))
        except ValidationError as exc:
            for field, messages in exc.message_dict.items():
                errors[f"row {number}: {field}"] = messages[0]
            continue
        if values["date"] in days:
            errors[f"row {number}: date"] = _("%(date)s appears twice.") % {
                "date": values["date"].isoformat()
            }
        days[values["date"]] = values
    if not days and not errors:
        errors["file"] = _("The file lists no days.")
    if errors:
        raise ValidationError(errors)
    old = dict(HolidayDate.objects.filter(date__year=year).values_list("date", "kind"))
    HolidayDate.objects.filter(date__year=year).delete()
    HolidayDate.objects.bulk_create([HolidayDate(**v) for v in days.values()])
    calendar_year, created = HolidayYear.objects.update_or_create(
        year=year, defaults={"source": source, "updated_at": timezone.now()}
    )
    new = {d: v["kind"] for d, v in days.items()}
    record(
        "holiday.year_imported",
        calendar_year,
        actor=actor,
        changes={
            "source": [None if created else "", source],
            "off": [sum(k == "off" for k in old.values()), sum(k == "off" for k in new.values())],
            "work": [sum(k == "work" for k in old.values()), sum(k == "work" for k in new.values())],
        },
        object_repr=str(year),
    )
    bump("calendar", "stations")
    return calendar_year


HOLIDAY_HEADERS = {
    "日期": "date",
    "date": "date",
    "类型": "kind",
    "kind": "kind",
    "名称": "name",
    "name": "name",
}


def holiday_rows(name: str, data: bytes) -> list[tuple[int, dict]]:
    """(row number, {date, kind, name}) from an uploaded arrangement, for `import_holiday_year`."""
    from yizhan.core.filereader import FileRefused, read_table

    try:
        table = read_table(name, data)
    except FileRefused as exc:
        where = _("row %(row)s: ") % {"row": exc.row} if exc.row else ""
        raise ValidationError({"file": where + exc.message}) from exc
    keys = [HOLIDAY_HEADERS.get(h.strip().lower()) for h in table.headers]
    if "date" not in keys or "kind" not in keys:
        raise ValidationError({"file": _("The file needs the columns 日期 and 类型.")})
    return [
        (number, {key: cells[i] if i < len(cells) else "" for i, key in enumerate(keys) if key})
        for number, cells in table.rows
    ]


def import_holiday_year_from_package(year: int, *, actor) -> HolidayYear:
    """Take a year from the installed chinesecalendar (after upgrading it)."""
    from yizhan.stations.seeding import CHINESECALENDAR_SOURCE, chinesecalendar_days, chinesecalendar_years

    if year not in chinesecalendar_years():
        raise ValidationError(
            {
                "year": _("The installed chinesecalendar does not cover %(year)s; upload the arrangement.")
                % {"year": year}
            }
        )
    rows = [
        (i, {"date": d, "kind": k, "name": n}) for i, (d, k, n) in enumerate(chinesecalendar_days(year), 1)
    ]
    return import_holiday_year(year, rows, actor=actor, source=CHINESECALENDAR_SOURCE)
