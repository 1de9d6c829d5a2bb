"""Verbs of outlet operations: the operating-status timeline and the customers served per day.

Each validates with the shared `clean_*` rules (forms, API and demo alike), runs in one
transaction, writes the audit event, and — for the status — mirrors the outlet's current and
future windows onto its stations (`stations.services.set_operating_windows`), which bumps the
station data version: every process's locator index re-reads those stations, and a window
scheduled ahead takes effect at its minute without any reload (the windows are part of each
station's compiled `hours.Schedule`).
"""

import datetime
import zoneinfo

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from yizhan.audit.services import diff, record, snapshot
from yizhan.core import concurrency
from yizhan.operations.models import CLOSED_STATES, DailyCustomers, OperatingState, OperatingStatus
from yizhan.orgs.models import Unit, UnitKind
from yizhan.orgs.scoping import Scope

SHANGHAI = zoneinfo.ZoneInfo("Asia/Shanghai")
STATUS_FIELDS = [
    "state",
    "starts_at",
    "ends_at",
    "counter_windows",
    "self_service_24h",
    "notice",
    "reason",
    "cancelled_at",
]
# A change "now" typed a minute ago is still now; anything earlier would rewrite history.
PAST_GRACE = datetime.timedelta(minutes=10)
MAX_TEXT = 500
MAX_COUNTER_WINDOWS = 99


def parse_moment(value, field: str):
    """An aware datetime from a datetime or ISO-8601 text (no offset = Beijing time); None stays None."""
    if value in (None, ""):
        return None
    if isinstance(value, datetime.datetime):
        moment = value
    else:
        try:
            moment = datetime.datetime.fromisoformat(str(value).strip().replace(" ", "T", 1))
        except ValueError:
            raise ValidationError({field: _("Enter a date and time such as 2026-01-08 09:00.")}) from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=SHANGHAI)
    return moment


def clean_outlet(unit, scope: Scope | None = None, field: str = "outlet") -> Unit:
    """The outlet a status is for: a unit (or its code) of kind outlet, open, within the scope."""
    if not isinstance(unit, Unit):
        found = Unit.objects.filter(code=str(unit or "").strip())
        if scope is not None:
            found = found.for_user(scope)
        unit = found.first()
        if unit is None:
            raise ValidationError({field: _("Unknown outlet, or one outside your part of the network.")})
    elif scope is not None and not scope.covers(unit.path):
        raise ValidationError({field: _("Unknown outlet, or one outside your part of the network.")})
    if unit.kind != UnitKind.OUTLET:
        raise ValidationError(
            {field: _("An operating status is set for an outlet, not for %(unit)s.") % {"unit": unit}}
        )
    if unit.closed_on is not None:
        raise ValidationError({field: _("This outlet is closed for good.")})
    return unit


def clean_status(unit: Unit, data: dict, *, exclude: OperatingStatus | None = None, allow_past=False) -> dict:
    """Validate a status window for `unit`; returns the clean fields plus `_supersedes`, the
    open-ended window in force at the new start that the new one ends (it would overlap otherwise)."""
    errors: dict[str, str] = {}
    now = timezone.now()
    state = str(data.get("state") or "").strip()
    if state not in OperatingState.values:
        errors["state"] = _("Choose open, limited, closed or closed_by_order.")
    starts_at = ends_at = None
    try:
        starts_at = parse_moment(data.get("starts_at"), "starts_at") or now
    except ValidationError as exc:
        errors.update({k: v[0] for k, v in exc.message_dict.items()})
    try:
        ends_at = parse_moment(data.get("ends_at"), "ends_at")
    except ValidationError as exc:
        errors.update({k: v[0] for k, v in exc.message_dict.items()})
    if starts_at and not allow_past and starts_at < now - PAST_GRACE:
        errors["starts_at"] = _("A status cannot start in the past; leave it empty to start now.")
    if starts_at and ends_at and ends_at <= starts_at:
        errors["ends_at"] = _("The end must come after the start.")
    counter_windows = data.get("counter_windows")
    if counter_windows in ("", None):
        counter_windows = None
    else:
        try:
            counter_windows = int(str(counter_windows).strip())
            if not 0 <= counter_windows <= MAX_COUNTER_WINDOWS:
                raise ValueError
        except (TypeError, ValueError):
            errors["counter_windows"] = _("Enter a whole number of windows from 0 to 99.")
    notice = str(data.get("notice") or "").strip()
    reason = str(data.get("reason") or "").strip()
    if len(notice) > MAX_TEXT:
        errors["notice"] = _("At most 500 characters.")
    if len(reason) > MAX_TEXT:
        errors["reason"] = _("At most 500 characters.")
    if state in CLOSED_STATES and not notice:
        errors["notice"] = _("Tell the public why the outlet is closed.")
    supersedes = None
    if starts_at and not {"starts_at", "ends_at"} & set(errors):
        others = OperatingStatus.objects.live().filter(unit=unit)
        if exclude is not None:
            others = others.exclude(pk=exclude.pk)
        for other in others.order_by("starts_at"):
            if ends_at is not None and other.starts_at >= ends_at:
                continue
            if other.ends_at is not None and other.ends_at <= starts_at:
                continue
            if other.ends_at is None and other.starts_at < starts_at and exclude is None:
                supersedes = other  # until further notice: the new window ends it
                continue
            errors["starts_at"] = _(
                "This overlaps the outlet's status %(state)s from %(start)s%(end)s; end or withdraw that one first."
            ) % {
                "state": other.get_state_display(),
                "start": timezone.localtime(other.starts_at).strftime("%Y-%m-%d %H:%M"),
                "end": " "
                + _("to %(end)s") % {"end": timezone.localtime(other.ends_at).strftime("%Y-%m-%d %H:%M")}
                if other.ends_at
                else "",
            }
            break
    if errors:
        raise ValidationError(errors)
    return {
        "state": state,
        "starts_at": starts_at,
        "ends_at": ends_at,
        "counter_windows": counter_windows if state == OperatingState.LIMITED else None,
        "self_service_24h": bool(data.get("self_service_24h")) and state != OperatingState.OPEN,
        "notice": notice,
        "reason": reason,
        "_supersedes": supersedes,
    }


def _lock_outlet(unit: Unit) -> Unit:
    # Two people scheduling the same outlet at once: the second waits and then sees the first's window.
    return Unit.objects.select_for_update().get(pk=unit.pk)


@transaction.atomic
def schedule_status(
    unit, *, actor, scope: Scope | None = None, allow_past: bool = False, **fields
) -> OperatingStatus:
    """Set an outlet's operating status from `starts_at` (now when empty) to `ends_at` (None: until
    further notice). An open-ended status in force at the start is ended there."""
    unit = _lock_outlet(clean_outlet(unit, scope))
    clean = clean_status(unit, fields, allow_past=allow_past)
    supersedes = clean.pop("_supersedes")
    if supersedes is not None:
        _set_end(supersedes, clean["starts_at"], actor=actor)
    entry = OperatingStatus.objects.create(unit=unit, created_by=_user(actor), **clean)
    _recount(unit, entry.starts_at, entry.ends_at)
    record(
        "operations.status.scheduled",
        entry,
        actor=actor,
        changes=diff(
            {},
            snapshot(
                entry,
                ["state", "starts_at", "ends_at", "counter_windows", "self_service_24h", "notice", "reason"],
            ),
        ),
    )
    sync_stations(unit, actor=actor)
    return entry


def _user(actor):
    return actor if getattr(actor, "pk", None) else None


def _set_end(entry: OperatingStatus, ends_at, *, actor) -> None:
    before = snapshot(entry, STATUS_FIELDS)
    entry.ends_at = ends_at
    changes = concurrency.advance(entry, diff(before, snapshot(entry, STATUS_FIELDS)))
    entry.save(update_fields=["ends_at"])
    record("operations.status.ended", entry, actor=actor, changes=changes)


@transaction.atomic
def end_status(entry: OperatingStatus, *, actor, at=None, revision=None) -> OperatingStatus:
    """End a status at `at` (now when empty): the outlet is back to ordinary operation then."""
    unit = _lock_outlet(entry.unit)
    entry = OperatingStatus.objects.select_for_update().get(pk=entry.pk)
    concurrency.check(entry, revision, actor=actor)
    now = timezone.now()
    at = parse_moment(at, "ends_at") or now
    if entry.cancelled_at is not None:
        raise ValidationError({"ends_at": _("This status was withdrawn.")})
    if entry.starts_at > now:
        raise ValidationError({"ends_at": _("This status has not started yet: withdraw it instead.")})
    if entry.ends_at is not None and entry.ends_at <= now:
        raise ValidationError({"ends_at": _("This status has already ended.")})
    if at < now - PAST_GRACE or at <= entry.starts_at:
        raise ValidationError({"ends_at": _("The end must be now or later, and after the start.")})
    clean_status(
        unit,
        {**snapshot(entry, STATUS_FIELDS), "starts_at": entry.starts_at, "ends_at": at},
        exclude=entry,
        allow_past=True,
    )
    _set_end(entry, at, actor=actor)
    _recount(unit, entry.starts_at, None)
    sync_stations(unit, actor=actor)
    return entry


@transaction.atomic
def cancel_status(entry: OperatingStatus, *, actor, revision=None) -> OperatingStatus:
    """Withdraw a status scheduled ahead, before it starts (it stays in the history, struck out)."""
    unit = _lock_outlet(entry.unit)
    entry = OperatingStatus.objects.select_for_update().get(pk=entry.pk)
    concurrency.check(entry, revision, actor=actor)
    if entry.cancelled_at is not None:
        raise ValidationError({"status": _("This status was withdrawn already.")})
    if entry.starts_at <= timezone.now():
        raise ValidationError({"status": _("This status has started: end it instead.")})
    before = snapshot(entry, STATUS_FIELDS)
    entry.cancelled_at = timezone.now()
    changes = concurrency.advance(entry, diff(before, snapshot(entry, STATUS_FIELDS)))
    entry.save(update_fields=["cancelled_at"])
    record("operations.status.withdrawn", entry, actor=actor, changes=changes)
    sync_stations(unit, actor=actor)
    return entry


def station_windows(unit: Unit, station, *, now=None) -> list[dict]:
    """The outlet's current and future windows as `station` follows them (hours.StatusWindow JSON).
    A closed outlet shuts its station, unless the outlet keeps its self-service bank open 24 hours
    and the station lives there (its own hours are 24/7)."""
    now = now or timezone.now()
    in_self_service_area = bool((station.opening_hours or {}).get("always_open"))
    out = []
    for entry in OperatingStatus.objects.current_or_future(now).filter(unit=unit).order_by("starts_at"):
        closes = entry.state in CLOSED_STATES and not (entry.self_service_24h and in_self_service_area)
        out.append(
            {
                "from": entry.starts_at.astimezone(SHANGHAI).isoformat(),
                "to": entry.ends_at.astimezone(SHANGHAI).isoformat() if entry.ends_at else None,
                "closes": closes,
                "state": entry.state,
                "counter_windows": entry.counter_windows,
                "self_service_24h": entry.self_service_24h,
                "notice": entry.notice,
            }
        )
    return out


def _recount(unit: Unit, starts_at, ends_at) -> None:
    """A closure changes who is expected to report on the days it covers (up to today)."""
    from yizhan.operations import health

    first = timezone.localtime(starts_at).date()
    last = timezone.localtime(ends_at).date() if ends_at else None
    health.recount_days(unit, first, last)


def sync_stations(unit: Unit, *, actor) -> None:
    """Mirror the outlet's windows onto each of its public stations."""
    from yizhan.stations.models import Station
    from yizhan.stations.services import set_operating_windows

    for station in Station.objects.filter(unit=unit).exclude(status="closed"):
        set_operating_windows(station, station_windows(unit, station), actor=actor)


def status_in_force(unit: Unit, at=None) -> OperatingStatus | None:
    return OperatingStatus.objects.in_force(at or timezone.now()).filter(unit=unit).first()


# --- customers served -------------------------------------------------------------------------


def clean_customers(day, customers) -> tuple[datetime.date, int]:
    errors = {}
    if isinstance(day, datetime.date):
        parsed = day
    else:
        try:
            parsed = datetime.date.fromisoformat(str(day or "").strip())
        except ValueError:
            parsed = None
            errors["day"] = _("Enter a valid date (YYYY-MM-DD).")
    if parsed and parsed > timezone.localdate():
        errors["day"] = _("Customers can be recorded for today or earlier only.")
    try:
        count = int(str(customers).strip())
        if not 0 <= count <= 100_000:
            raise ValueError
    except (TypeError, ValueError):
        count = 0
        errors["customers"] = _("Enter a whole number from 0 to 100000.")
    if errors:
        raise ValidationError(errors)
    return parsed, count


@transaction.atomic
def record_customers(
    unit, *, actor, day, customers, scope: Scope | None = None, revision=None
) -> DailyCustomers:
    """Set the customers an outlet served on a day (saving again replaces the figure)."""
    unit = clean_outlet(unit, scope)
    day, count = clean_customers(day, customers)
    row, created = DailyCustomers.objects.select_for_update().get_or_create(
        unit=unit, day=day, defaults={"customers": count}
    )
    if created:
        record(
            "operations.customers.recorded",
            row,
            actor=actor,
            changes={"day": [None, day.isoformat()], "customers": [None, count]},
        )
        return row
    concurrency.check(row, revision, actor=actor)
    if row.customers == count:
        return row
    changes = concurrency.advance(row, {"customers": [row.customers, count]})
    row.customers = count
    row.updated_at = timezone.now()
    row.save(update_fields=["customers", "updated_at"])
    record("operations.customers.recorded", row, actor=actor, changes=changes)
    return row
