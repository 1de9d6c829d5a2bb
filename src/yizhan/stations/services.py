"""Verb functions for stations, their facilities, hours and the holiday calendar.

Each validates with the shared `clean_*` rules (used by forms, API and imports alike), runs in one
transaction, writes an audit event with the field diff, and bumps the station data version in
the same transaction, so that caches built from station data (the locator's in-process index)
know to rebuild.
"""

import datetime
import re
import time

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import F, Value
from django.db.models.functions import Greatest
from django.utils import timezone
from django.utils.translation import gettext as _

from yizhan.audit.services import diff, record, snapshot
from yizhan.core.geo import parse_point, validate_crs
from yizhan.orgs.models import Unit, UnitKind, code_validator
from yizhan.orgs.scoping import Scope
from yizhan.stations.hours import clean_schedule
from yizhan.stations.models import (
    AccessPolicy,
    DataVersion,
    Facility,
    FacilityState,
    Station,
    StationFacility,
    StationStatus,
    Theme,
    VerificationSource,
)

STATION_FIELDS = [
    "code",
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


def _resolve_unit(value, scope: Scope | None, errors: dict) -> Unit | None:
    if isinstance(value, Unit):
        unit = value
    else:
        code = str(value or "").strip()
        if not code:
            errors["unit"] = _("This field is required.")
            return None
        unit = Unit.objects.filter(code=code).first()
    # Outside the caller's scope reads the same as unknown: an outsider learns nothing.
    if unit is None or (scope is not None and not scope.covers(unit.path)):
        errors["unit"] = _("No unit with this code in your part of the network.")
        return None
    if unit.kind != UnitKind.OUTLET:
        errors["unit"] = _("A station belongs to an outlet.")
    elif unit.closed_on is not None:
        errors["unit"] = _("The outlet is closed.")
    return unit


def clean_themes(value, errors: dict, field: str = "themes") -> list[Theme]:
    if value in (None, ""):
        return []
    if isinstance(value, str):
        value = [part for part in re.split(r"[,，;；\s]+", value) if part]
    known = {t.code: t for t in Theme.objects.all()}
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


def clean_station(data: dict, *, instance: Station | None = None, scope: Scope | None = None) -> dict:
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
    else:
        try:
            code_validator(code)
        except ValidationError as exc:
            errors["code"] = exc.messages[0]
        else:
            clash = Station.objects.filter(code__iexact=code)
            if instance is not None:
                clash = clash.exclude(pk=instance.pk)
            if clash.exists():
                errors["code"] = _("A station with this code already exists.")
    out["code"] = code

    for field, limit, required in (("name", 100, True), ("name_en", 200, False)):
        text = str(data.get(field) or "").strip()
        if required and not text:
            errors[field] = _("This field is required.")
        elif len(text) > limit:
            errors[field] = _("At most %(n)s characters.") % {"n": limit}
        out[field] = text

    unit = _resolve_unit(data.get("unit"), scope, errors)
    out["unit"] = unit

    address = str(data.get("address") or "").strip()
    if not address and unit is not None:
        address = unit.address
    if not address:
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
        else:
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
    if status not in StationStatus.values:
        errors["status"] = _("Unknown status; use active, temporarily_closed or closed.")
    out["status"] = status
    notice = str(data.get("public_notice") or "").strip()
    if len(notice) > 500:
        errors["public_notice"] = _("At most 500 characters.")
    out["public_notice"] = notice
    out["reopens_on"] = _parse_date(data.get("reopens_on"), "reopens_on", errors)
    if out["reopens_on"] and status != StationStatus.TEMPORARILY_CLOSED:
        errors["reopens_on"] = _("Only a temporarily closed station has a reopening date.")

    out["themes"] = clean_themes(data.get("themes"), errors)

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
    if policy not in AccessPolicy.values:
        errors["access_policy"] = _("Unknown access policy; use open, ask_staff or target_group.")
    out["access_policy"] = policy

    out["external_ids"] = clean_external_ids(data.get("external_ids"), errors)

    try:
        out["opening_hours"] = clean_schedule(data.get("opening_hours"))
    except ValidationError as exc:
        errors.update({k: v[0] for k, v in exc.message_dict.items()})

    if errors:
        raise ValidationError(errors)
    return out


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
    if state not in FacilityState.values:
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
def update_station(station: Station, *, actor, scope: Scope | None = None, **data) -> Station:
    """Change some fields of a station; fields not given keep their values."""
    station = Station.objects.select_for_update().select_related("unit").get(pk=station.pk)
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
    )


@transaction.atomic
def reopen_station(station: Station, *, actor, notice: str = "") -> Station:
    return update_station(
        station, actor=actor, status=StationStatus.ACTIVE, public_notice=notice, reopens_on=None
    )


@transaction.atomic
def set_schedule(station: Station, opening_hours: dict, *, actor) -> Station:
    """Replace a station's opening hours (see hours.py for the format)."""
    return update_station(station, actor=actor, opening_hours=opening_hours)


@transaction.atomic
def verify_station(station: Station, *, actor) -> Station:
    """Record that the station's data was checked: by a staff member (`actor`) or, with
    actor=None, confirmed by a member of the public on the station's page."""
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
) -> StationFacility:
    """Set one facility of one station (`facility`: a Facility or its code)."""
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
    row = StationFacility.objects.filter(station=station, facility=facility).first()
    before = _facility_snapshot(row)
    if row is None:
        row = StationFacility(station=station, facility=facility)
    for key, value in values.items():
        setattr(row, key, value)
    changes = diff(before, _facility_snapshot(row))
    if not changes:
        return row
    row.updated_at = timezone.now()
    row.save()
    Station.objects.filter(pk=station.pk).update(updated_at=row.updated_at)
    record(
        "station.facility_set",
        station,
        actor=actor,
        changes={f"{facility.code}.{k}": v for k, v in changes.items()},
    )
    bump()
    return row
