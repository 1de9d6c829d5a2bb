"""Verb functions for check-ins, tallies and the feedback queue.

Each validates with the shared `clean_*` rules (forms, API and tests use the same), runs in one
transaction and keeps the rollups current in that transaction. Staff actions write an audit
event with the field diff; a public check-in does not (it is itself the record, and auditing it
would double the writes on the hottest path).
"""

import datetime
import hashlib
import re
from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import IntegrityError, connection, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from yizhan.audit.services import diff, record, snapshot
from yizhan.core import concurrency
from yizhan.core.masking import mask_contact
from yizhan.stations import hours
from yizhan.stations.models import Facility, Station, StationStatus
from yizhan.stations.services import set_facility_state, verify_station
from yizhan.visits import photos, rollups
from yizhan.visits.models import (
    GROUP_CODES,
    SERVICE_CODES,
    UNSPECIFIED,
    CheckIn,
    DeviceMark,
    FacilityOutcome,
    Feedback,
    FeedbackKind,
    FeedbackStatus,
    Tally,
    services_to_mask,
)

DEDUP_WINDOW = datetime.timedelta(minutes=30)
FEEDBACK_DUE_WORKING_DAYS = 2
TEXT_LIMIT = 2000
NOTE_LIMIT = 1000
TALLY_LIMIT = 100_000
REF_RE = re.compile(r"^[A-Za-z0-9_.:-]{1,64}$")
DEVICE_RE = re.compile(r"^[A-Za-z0-9_-]{8,128}$")
PHONE_RE = re.compile(r"^[0-9+()\- ]{5,30}$")

# --- validation ---------------------------------------------------------------------------------


def clean_group(value, *, field: str = "group", allow_unspecified: bool = True) -> str:
    code = str(value or "").strip()
    if not code and allow_unspecified:
        return UNSPECIFIED
    if code not in GROUP_CODES:
        raise ValidationError(
            {
                field: _("Unknown group: %(value)s. Use one of: %(known)s.")
                % {"value": code or "—", "known": ", ".join(GROUP_CODES)}
            }
        )
    return code


def clean_services(value, *, field: str = "services") -> int:
    """A list of service codes (or "a, b" text) as a bitmask; an unknown code is named."""
    if value in (None, ""):
        return 0
    if isinstance(value, str):
        value = [part for part in re.split(r"[,，;\s]+", value) if part]
    if not isinstance(value, list | tuple | set):
        raise ValidationError({field: _("Give the services as a list of codes.")})
    codes = [str(item).strip() for item in value]
    unknown = [code for code in codes if code not in SERVICE_CODES]
    if unknown:
        raise ValidationError(
            {
                field: _("Unknown service: %(value)s. Use any of: %(known)s.")
                % {"value": ", ".join(unknown[:5])[:100], "known": ", ".join(SERVICE_CODES)}
            }
        )
    return services_to_mask(codes)


def device_digest(device: str | None, *, field: str = "device") -> str:
    """The stored form of a device id: a digest, so the table never holds the cookie itself."""
    if not device:
        return ""
    device = str(device)
    if not DEVICE_RE.match(device):
        raise ValidationError({field: _("A device id is 8 to 128 letters, digits, '-' or '_'.")})
    return hashlib.blake2b(device.encode(), digest_size=16).hexdigest()


def clean_ref(value, *, field: str = "request_id") -> str | None:
    if value in (None, ""):
        return None
    value = str(value)
    if not REF_RE.match(value):
        raise ValidationError({field: _("A request id is 1 to 64 letters, digits, '.', ':', '-' or '_'.")})
    return value


def clean_checkin(data: dict) -> dict:
    """{group, services, device, request_id} as given by a form or the API -> clean values."""
    errors = {}
    out = {}
    for key, cleaner in (
        ("group", clean_group),
        ("services", clean_services),
        ("device", device_digest),
        ("request_id", clean_ref),
    ):
        try:
            out[key] = cleaner(data.get(key))
        except ValidationError as exc:
            errors.update({k: v[0] for k, v in exc.message_dict.items()})
    if errors:
        raise ValidationError(errors)
    return out


def station_for_public(code: str) -> Station | None:
    """A station by its public code (the QR code's), for the pages that need no login."""
    code = str(code or "").strip()
    if not code or len(code) > 32:
        return None
    return Station.objects.public().select_related("unit").filter(code=code).first()


def station_for_checkin(code: str) -> Station | None:
    """Only what a check-in needs (id and code), in one plain query: this runs on every scan."""
    code = str(code or "").strip()
    if not code or len(code) > 32:
        return None
    table = connection.ops.quote_name(Station._meta.db_table)
    with connection.cursor() as cursor:
        # As Station.objects.public(): a permanently closed station counts nothing.
        cursor.execute(
            f"SELECT id FROM {table} WHERE code = %s AND status <> %s",  # noqa: S608
            [code, StationStatus.CLOSED],
        )
        row = cursor.fetchone()
    return Station(pk=row[0], code=code) if row else None


# --- check-ins ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class CheckInResult:
    checkin: CheckIn | None
    counted: bool  # False: the same device was counted here within the last 30 minutes
    replayed: bool = False  # True: this request id was recorded before; nothing new was written


def _claim_window(station_id: int, digest: str, now: datetime.datetime) -> bool:
    """Claim the device's 30-minute window at this station; False if it is already taken.

    One statement: insert the mark, or move it on only if the last count is older than the
    window. The unique key serialises concurrent claims (PostgreSQL re-checks the WHERE on the
    locked row; SQLite runs one writer at a time), so exactly one of two simultaneous taps wins."""
    table = connection.ops.quote_name(DeviceMark._meta.db_table)
    adapt = connection.ops.adapt_datetimefield_value
    sql = (
        f"INSERT INTO {table} (station_id, device, last_at) VALUES (%s, %s, %s) "  # noqa: S608
        f"ON CONFLICT (station_id, device) DO UPDATE SET last_at = excluded.last_at "
        f"WHERE {table}.last_at <= %s"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, [station_id, digest, adapt(now), adapt(now - DEDUP_WINDOW)])
        return cursor.rowcount == 1


class _Replay(Exception):
    """Raised inside the check-in transaction to undo it and answer as the earlier request did."""

    def __init__(self, result: CheckInResult):
        self.result = result


def _earlier(ref: str | None, station: Station) -> CheckInResult | None:
    if ref is None:
        return None
    earlier = CheckIn.objects.filter(ref=ref).first()
    if earlier is None:
        return None
    if earlier.station_id != station.pk:
        raise ValidationError({"request_id": _("This request id was used for another station.")})
    return CheckInResult(earlier, counted=True, replayed=True)


def _insert_checkin(checkin: CheckIn) -> int | None:
    """Insert the row in one statement; None when its request id is already taken (a replay).
    Raw SQL because this is the hottest write in the system and the ORM's save costs more than
    the rest of the transaction."""
    qn = connection.ops.quote_name
    table = qn(CheckIn._meta.db_table)
    returning = " RETURNING id" if connection.features.can_return_columns_from_insert else ""
    sql = (
        f"INSERT INTO {table} (station_id, at, day, hour, {qn('group')}, services, ref) "  # noqa: S608
        f"VALUES (%s, %s, %s, %s, %s, %s, %s) ON CONFLICT DO NOTHING{returning}"
    )
    params = [
        checkin.station_id,
        connection.ops.adapt_datetimefield_value(checkin.at),
        connection.ops.adapt_datefield_value(checkin.day),
        checkin.hour,
        checkin.group,
        checkin.services,
        checkin.ref,
    ]
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        if returning:
            row = cursor.fetchone()
            return row[0] if row else None
        return cursor.lastrowid if cursor.rowcount == 1 else None


@transaction.atomic
def _record(station: Station, values: dict, now: datetime.datetime) -> CheckInResult:
    ref, digest = values["request_id"], values["device"]
    if digest and not _claim_window(station.pk, digest, now):
        return _earlier(ref, station) or CheckInResult(None, counted=False)
    local = timezone.localtime(now)
    checkin = CheckIn(
        station=station,
        at=now,
        day=local.date(),
        hour=local.hour,
        group=values["group"],
        services=values["services"],
        ref=ref,
    )
    checkin.pk = _insert_checkin(checkin)
    if checkin.pk is None:
        # The request id was recorded before: undo the window just claimed and answer as then.
        raise _Replay(_earlier(ref, station))
    rollups.apply(
        station.pk, checkin.day, rollups.checkin_deltas(checkin.group, checkin.services, checkin.hour)
    )
    return CheckInResult(checkin, counted=True)


def record_checkin(
    station: Station,
    *,
    group=None,
    services=None,
    device: str | None = None,
    request_id: str | None = None,
    now: datetime.datetime | None = None,
) -> CheckInResult:
    """Count one visit, in one transaction. Without a device id every call counts; with one, a
    device counts once per station in any 30 minutes; with a request id, a repeated request is
    answered as the first one was and never counts twice."""
    values = clean_checkin({"group": group, "services": services, "device": device, "request_id": request_id})
    try:
        return _record(station, values, now or timezone.now())
    except _Replay as replay:
        return replay.result


@transaction.atomic
def delete_checkins(checkins, *, actor, station: Station) -> int:
    """Remove check-ins of one station (a prank burst, a test scan) and take them out of the
    rollups in the same transaction."""
    rows = list(
        CheckIn.objects.select_for_update()
        .filter(pk__in=[c.pk if isinstance(c, CheckIn) else c for c in checkins], station=station)
        .values_list("pk", "day", "hour", "group", "services")
    )
    if not rows:
        return 0
    changes: dict = {}
    for _pk, day, hour, group, services in rows:
        deltas = changes.setdefault((station.pk, day), {})
        for column, delta in rollups.checkin_deltas(group, services, hour, sign=-1).items():
            deltas[column] = deltas.get(column, 0) + delta
    CheckIn.objects.filter(pk__in=[r[0] for r in rows]).delete()
    rollups.apply_many(changes)
    record(
        "visits.checkins_deleted",
        station,
        actor=actor,
        changes={"checkins": [len(rows), 0], "days": [sorted({str(r[1]) for r in rows}), None]},
    )
    return len(rows)


def purge_device_marks(now: datetime.datetime | None = None) -> int:
    """Forget device marks older than the window: they can no longer stop a count."""
    now = now or timezone.now()
    deleted, _detail = DeviceMark.objects.filter(last_at__lte=now - DEDUP_WINDOW).delete()
    return deleted


# --- tallies ------------------------------------------------------------------------------------


def _parse_day(value, field: str = "day") -> datetime.date:
    if isinstance(value, datetime.datetime):
        raise ValidationError({field: _("Enter a valid date (YYYY-MM-DD).")})
    if isinstance(value, datetime.date):
        day = value
    else:
        try:
            day = datetime.date.fromisoformat(str(value or "").strip())
        except ValueError:
            raise ValidationError({field: _("Enter a valid date (YYYY-MM-DD).")}) from None
    if day > timezone.localdate():
        raise ValidationError({field: _("This date is in the future.")})
    if day < timezone.localdate() - datetime.timedelta(days=366):
        raise ValidationError({field: _("Tallies can be recorded for the last year only.")})
    return day


def clean_tally(data: dict) -> dict:
    errors = {}
    out = {}
    try:
        out["day"] = _parse_day(data.get("day"))
    except ValidationError as exc:
        errors.update({k: v[0] for k, v in exc.message_dict.items()})
    try:
        out["group"] = clean_group(data.get("group"), allow_unspecified=False)
    except ValidationError as exc:
        errors.update({k: v[0] for k, v in exc.message_dict.items()})
    raw = data.get("count")
    try:
        if isinstance(raw, bool | float):
            raise ValueError
        count = int(str(raw).strip())
        if not 0 <= count <= TALLY_LIMIT:
            raise ValueError
        out["count"] = count
    except (TypeError, ValueError):
        errors["count"] = _("Enter a whole number of visitors from 0 to %(n)s.") % {"n": TALLY_LIMIT}
    if errors:
        raise ValidationError(errors)
    return out


@transaction.atomic
def set_tally(station: Station, *, actor, day, group, count, revision: int | None = None) -> Tally | None:
    """Set the number of visitors of one group that staff counted on one day (0 removes it).
    Replaces any earlier figure: a tally recorded twice is never added twice."""
    try:
        return set_tallies(station, actor=actor, day=day, counts={group: count}, revision=revision).get(group)
    except ValidationError as exc:
        if not hasattr(exc, "error_dict") or group not in exc.error_dict:
            raise
        # One group at a time: its count is the field ("count"), as the API for one tally names it.
        errors = {
            ("count" if field == group else field): messages for field, messages in exc.message_dict.items()
        }
        raise ValidationError(errors) from exc


@transaction.atomic
def set_tallies(
    station: Station, *, actor, day, counts: dict[str, object], revision: int | None = None
) -> dict:
    """A day's tallies for several groups at once (the back-office form); all or nothing.

    Tallies are the station's figures, so they take the station's revision (yizhan.core.concurrency):
    a form or PUT based on an older revision is refused with what changed meanwhile, instead of
    putting back a colleague's count."""
    errors = {}
    clean = {}
    for group, count in counts.items():
        try:
            clean[group] = clean_tally({"day": day, "group": group, "count": count})
        except ValidationError as exc:
            for field, messages in exc.message_dict.items():
                errors[group if field == "count" else field] = messages[0]
    if errors:
        raise ValidationError(errors)
    locked = Station.objects.select_for_update().get(pk=station.pk)
    concurrency.check(locked, revision, actor=actor)
    changes, result = {}, {}
    for values in clean.values():
        day, group, count = values["day"], values["group"], values["count"]
        tally = Tally.objects.select_for_update().filter(station=locked, day=day, group=group).first()
        before = tally.count if tally else 0
        result[group] = tally
        if count == before:
            continue
        if count == 0:
            tally.delete()
            result[group] = None
        elif tally is None:
            result[group] = Tally.objects.create(
                station=locked, day=day, group=group, count=count, recorded_by=actor
            )
        else:
            tally.count, tally.recorded_by, tally.updated_at = count, actor, timezone.now()
            tally.save(update_fields=["count", "recorded_by", "updated_at"])
        rollups.apply(locked.pk, day, rollups.tally_deltas(group, count - before))
        changes[f"{day.isoformat()}.{group}"] = [before, count]
    if changes:
        concurrency.advance(locked, changes, actor=actor)
        station.revision = locked.revision
        record("visits.tally_set", locked, actor=actor, changes=changes)
    return result


# --- feedback from the public -------------------------------------------------------------------


def clean_text(value, *, field: str, limit: int = TEXT_LIMIT, required: bool = False) -> str:
    text = str(value or "").strip()
    if "\x00" in text:
        raise ValidationError({field: _("The text contains a NUL character, which is not allowed.")})
    if required and not text:
        raise ValidationError({field: _("This field is required.")})
    if len(text) > limit:
        raise ValidationError(
            {field: _("At most %(n)s characters (this is %(len)s).") % {"n": limit, "len": len(text)}}
        )
    return text


def clean_contact(value, *, field: str = "contact") -> str:
    contact = clean_text(value, field=field, limit=100)
    if not contact:
        return ""
    if "@" in contact:
        try:
            validate_email(contact)
        except ValidationError:
            raise ValidationError({field: _("Give a phone number or an e-mail address.")}) from None
        return contact
    if not PHONE_RE.match(contact) or not 5 <= sum(ch.isdigit() for ch in contact) <= 20:
        raise ValidationError({field: _("Give a phone number or an e-mail address.")})
    return contact


def clean_feedback(data: dict) -> dict:
    """{kind, facility, text, contact} -> clean values (the photo is checked by clean_photo)."""
    errors = {}
    out = {}
    kind = str(data.get("kind") or "").strip()
    if kind not in FeedbackKind.values:
        errors["kind"] = _("Unknown kind: %(value)s. Use one of: %(known)s.") % {
            "value": kind[:40] or "—",
            "known": ", ".join(FeedbackKind.values),
        }
    out["kind"] = kind
    out["facility"] = None
    facility = data.get("facility")
    if kind == FeedbackKind.FACILITY_BROKEN and facility not in (None, ""):
        if isinstance(facility, Facility):
            out["facility"] = facility
        else:
            out["facility"] = Facility.objects.filter(code=str(facility).strip()).first()
            if out["facility"] is None:
                errors["facility"] = _("Unknown facility code: %(code)s.") % {"code": str(facility)[:40]}
    needs_text = kind in (FeedbackKind.SUGGESTION, FeedbackKind.PRAISE) or (
        kind == FeedbackKind.FACILITY_BROKEN and out["facility"] is None and "facility" not in errors
    )
    for field, cleaner in (
        ("text", lambda v: clean_text(v, field="text", required=needs_text)),
        ("contact", clean_contact),
    ):
        try:
            out[field] = cleaner(data.get(field))
        except ValidationError as exc:
            errors.update({k: v[0] for k, v in exc.message_dict.items()})
    if errors:
        raise ValidationError(errors)
    return out


def due_date(received: datetime.datetime) -> datetime.date:
    """Two working days after the day it came in (holidays and make-up workdays respected)."""
    return hours.add_working_days(timezone.localtime(received).date(), FEEDBACK_DUE_WORKING_DAYS)


FEEDBACK_FIELDS = [
    "status",
    "note",
    "handled_by_id",
    "acknowledged_at",
    "closed_at",
    "facility_id",
    "facility_outcome",
]


def _earlier_report(ref: str | None, station: Station) -> Feedback | None:
    if ref is None:
        return None
    earlier = Feedback.objects.filter(ref=ref).first()
    if earlier is not None and earlier.station_id != station.pk:
        raise ValidationError({"request_id": _("This request id was used for another station.")})
    if earlier is not None:
        earlier.replayed = True
    return earlier


def submit_feedback(
    station: Station,
    *,
    photo=None,
    request_id: str | None = None,
    now: datetime.datetime | None = None,
    **data,
) -> Feedback:
    """A report from the public (no login). Everything is checked before anything is written;
    the photo file is removed again if the database write fails. With a request id, a resend
    (a phone's offline queue trying again) is answered with the first report (`.replayed`) and
    writes nothing; the same id for another station is refused."""
    ref = clean_ref(request_id)
    if (earlier := _earlier_report(ref, station)) is not None:
        return earlier
    values = clean_feedback(data)
    photo_bytes = photos.clean_photo(photo)
    now = now or timezone.now()
    path = photos.store(photo_bytes) if photo_bytes else ""
    try:
        with transaction.atomic():
            try:
                with transaction.atomic():
                    feedback = Feedback.objects.create(
                        station=station,
                        photo=path,
                        photo_type=photos.STORED_TYPE[0] if path else "",
                        created_at=now,
                        due_on=due_date(now),
                        ref=ref,
                        **values,
                    )
            except IntegrityError:
                # The same id sent twice at once: the other request wrote it.
                earlier = _earlier_report(ref, station) if ref else None
                if earlier is None:
                    raise
                photos.delete(path)
                return earlier
            record(
                "feedback.received",
                feedback,
                actor=None,
                unit=station.unit,
                changes={
                    "station": [None, station.code],
                    "kind": [None, values["kind"]],
                    "facility": [None, values["facility"].code if values["facility"] else None],
                    "contact": [None, mask_contact(values["contact"]) or None],
                    "photo": [None, bool(path)],
                    "due_on": [None, feedback.due_on],
                },
            )
    except Exception:
        photos.delete(path)
        raise
    return feedback


def open_feedback_photo(feedback: Feedback):
    return photos.open_photo(feedback.photo)


def confirm_station(station: Station) -> Station:
    """One tap from the public: "the details are still correct" (updates verified_at)."""
    return verify_station(station, actor=None)


# --- the queue ----------------------------------------------------------------------------------

TRANSITIONS = {
    FeedbackStatus.NEW: {FeedbackStatus.ACKNOWLEDGED},
    FeedbackStatus.ACKNOWLEDGED: {FeedbackStatus.RESOLVED, FeedbackStatus.REJECTED},
    FeedbackStatus.RESOLVED: set(),
    FeedbackStatus.REJECTED: set(),
}


def allowed_transitions(feedback: Feedback) -> set[str]:
    return TRANSITIONS[FeedbackStatus(feedback.status)]


def _transition(
    feedback: Feedback, target: str, *, actor, note: str, revision=None, **extra
) -> tuple[Feedback, dict]:
    feedback = Feedback.objects.select_for_update().select_related("station__unit").get(pk=feedback.pk)
    concurrency.check(feedback, revision, actor=actor)
    if target not in TRANSITIONS[FeedbackStatus(feedback.status)]:
        raise ValidationError(
            {
                "status": _("A %(from)s item cannot become %(to)s.")
                % {
                    "from": FeedbackStatus(feedback.status).label,
                    "to": FeedbackStatus(target).label,
                }
            }
        )
    before = snapshot(feedback, FEEDBACK_FIELDS)
    now = timezone.now()
    feedback.status = target
    feedback.handled_by = actor
    if note:
        feedback.note = f"{feedback.note}\n{note}".strip() if feedback.note else note
    if target == FeedbackStatus.ACKNOWLEDGED:
        feedback.acknowledged_at = now
    else:
        feedback.closed_at = now
    for key, value in extra.items():
        setattr(feedback, key, value)
    return feedback, before


def _finish(feedback: Feedback, before: dict, action: str, *, actor) -> Feedback:
    changes = concurrency.advance(feedback, diff(before, snapshot(feedback, FEEDBACK_FIELDS)), actor=actor)
    feedback.save()
    record(action, feedback, actor=actor, unit=feedback.station.unit, changes=changes)
    return feedback


@transaction.atomic
def acknowledge_feedback(feedback: Feedback, *, actor, note: str = "", revision=None) -> Feedback:
    """`revision`: the item's revision the staff member saw (a stale one: StaleEdit)."""
    note = clean_text(note, field="note", limit=NOTE_LIMIT)
    feedback, before = _transition(
        feedback, FeedbackStatus.ACKNOWLEDGED, actor=actor, note=note, revision=revision
    )
    return _finish(feedback, before, "feedback.acknowledged", actor=actor)


@transaction.atomic
def resolve_feedback(
    feedback: Feedback, *, actor, note: str = "", facility_outcome: str = "", facility=None, revision=None
) -> Feedback:
    """Close an item as handled. For a broken facility, `facility_outcome` says what the station's
    facility now is, and the station service records it (audited there too)."""
    note = clean_text(note, field="note", limit=NOTE_LIMIT)
    current = Feedback.objects.select_related("facility").get(pk=feedback.pk)
    outcome = str(facility_outcome or "").strip()
    target_facility = current.facility
    if current.kind == FeedbackKind.FACILITY_BROKEN:
        if facility not in (None, ""):
            target_facility = (
                facility
                if isinstance(facility, Facility)
                else Facility.objects.filter(code=str(facility)).first()
            )
            if target_facility is None:
                raise ValidationError(
                    {"facility": _("Unknown facility code: %(code)s.") % {"code": str(facility)[:40]}}
                )
        if target_facility is not None and not outcome:
            outcome = FacilityOutcome.REPAIRED
        if outcome and outcome not in FacilityOutcome.values:
            raise ValidationError({"facility_outcome": _("Use repaired, out_of_order or removed.")})
        if outcome and target_facility is None:
            raise ValidationError({"facility": _("Name the facility the report is about.")})
    elif outcome:
        raise ValidationError(
            {"facility_outcome": _("Only a broken-facility report has a facility outcome.")}
        )
    feedback, before = _transition(
        feedback,
        FeedbackStatus.RESOLVED,
        actor=actor,
        note=note,
        facility_outcome=outcome,
        facility=target_facility,
        revision=revision,
    )
    if outcome:
        received = timezone.localtime(feedback.created_at).date()
        state = {
            FacilityOutcome.REPAIRED: {"state": "yes", "out_of_order": False},
            FacilityOutcome.OUT_OF_ORDER: {
                "state": "yes",
                "out_of_order": True,
                "out_of_order_since": received,
            },
            FacilityOutcome.REMOVED: {"state": "no", "out_of_order": False},
        }[FacilityOutcome(outcome)]
        set_facility_state(
            feedback.station,
            target_facility,
            actor=actor,
            note=_("Feedback #%(id)s") % {"id": feedback.pk},
            **state,
        )
    return _finish(feedback, before, "feedback.resolved", actor=actor)


@transaction.atomic
def reject_feedback(feedback: Feedback, *, actor, note: str = "", revision=None) -> Feedback:
    note = clean_text(note, field="note", limit=NOTE_LIMIT, required=True)
    feedback, before = _transition(
        feedback, FeedbackStatus.REJECTED, actor=actor, note=note, revision=revision
    )
    return _finish(feedback, before, "feedback.rejected", actor=actor)
