"""The staff roster and the daily health report (一日一报): verbs, who may see health data, and
completeness against the right denominator.

**Who is expected on a day** (the denominator): a person on the roster that day, not on leave,
at a unit that is open that day — a statutory workday (public holidays off, make-up weekend
workdays on, from `stations.hours`'s calendar) on which the outlet is not closed (closed or
closed by order) for the whole day. A report by someone not expected is kept but not counted.

**Rollups** (`HealthDay`, one row per unit and day): `own_*` count the unit's own roster, the
other columns its whole subtree. Every report adds one to its unit's row and each ancestor's in
the same transaction (F() updates, so concurrent reports never lose a count); a roster, leave or
status change recounts the unit's own figures for the days it touches and moves the ancestors by
the difference. A province's figures for a day or a month are then a handful of rows.

**Late or missing**: a report for today after the deadline (`YIZHAN_HEALTH_DEADLINE`, 10:00
Beijing time by default) or back-filled for an earlier day is late; an expected person without a
report is missing.

**Health data** (temperature, symptoms, travel, isolation) is shown only to the unit's named
desk (a roster entry marked `health_desk`, whose subtree it is) and to admins whose subtree
holds the unit; everyone else sees it masked, and the audit log never holds it.
"""

import datetime
from collections import defaultdict
from decimal import Decimal, InvalidOperation

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, connection, transaction
from django.db.models import Count, F, Q, Sum
from django.utils import timezone
from django.utils.translation import gettext as _

from yizhan.audit.services import diff, record, snapshot
from yizhan.core import concurrency
from yizhan.operations.models import (
    CLOSED_STATES,
    HealthDay,
    HealthReport,
    Isolation,
    Leave,
    OperatingStatus,
    RosterEntry,
    Symptom,
)
from yizhan.orgs.models import Unit
from yizhan.orgs.scoping import scope_for

MIN_TEMPERATURE = Decimal("34.0")
MAX_TEMPERATURE = Decimal("42.0")
BACKFILL_DAYS = 30
MASK = "***"
ROSTER_FIELDS = ["name", "employee_no", "user_id", "position", "health_desk", "on_from", "on_until"]


def deadline() -> datetime.time:
    text = getattr(settings, "YIZHAN_HEALTH_DEADLINE", "10:00")
    hour, minute = (int(part) for part in text.split(":"))
    return datetime.time(hour, minute)


def _calendar():
    from yizhan.stations import hours

    return hours.current_calendar()


# --- who may see health data ---------------------------------------------------------------------


def desk_paths(user, day: datetime.date | None = None) -> list[str]:
    """The subtrees whose health data `user` collects as the named desk."""
    if user is None or not getattr(user, "pk", None):
        return []
    cached = getattr(user, "_yizhan_desk_paths", None)
    if cached is not None:
        return cached
    day = day or timezone.localdate()
    paths = list(
        RosterEntry.objects.on(day).filter(user=user, health_desk=True).values_list("unit__path", flat=True)
    )
    user._yizhan_desk_paths = paths
    return paths


def can_see_health(user, unit: Unit) -> bool:
    """The desk of a unit's subtree, and admins whose subtree holds the unit."""
    scope = scope_for(user)
    if scope.role == "admin" and scope.covers(unit.path):
        return True
    return any(unit.path.startswith(path) for path in desk_paths(user))


def is_desk_for(user, unit: Unit) -> bool:
    return any(unit.path.startswith(path) for path in desk_paths(user))


def shown(report: HealthReport | None, user) -> dict:
    """The report's health fields as `user` may see them (masked unless entitled)."""
    if report is None:
        return {}
    if report.entry.user_id == getattr(user, "pk", None) or can_see_health(user, report.unit):
        return {
            "temperature": f"{report.temperature}",
            "symptoms": [str(Symptom(s).label) for s in report.symptoms if s in Symptom.values],
            "travelled": report.travelled,
            "travel_note": report.travel_note,
            "isolation": report.get_isolation_display(),
            "masked": False,
        }
    return {
        "temperature": MASK,
        "symptoms": [MASK],
        "travelled": None,
        "travel_note": MASK,
        "isolation": MASK,
        "masked": True,
    }


# --- the roster ----------------------------------------------------------------------------------


def _parse_day(value, field: str, errors: dict) -> datetime.date | None:
    if value in (None, ""):
        return None
    if isinstance(value, datetime.date):
        return value
    try:
        return datetime.date.fromisoformat(str(value).strip())
    except ValueError:
        errors[field] = _("Enter a valid date (YYYY-MM-DD).")
        return None


def clean_roster(unit: Unit, data: dict, *, instance: RosterEntry | None = None) -> dict:
    errors: dict[str, str] = {}
    name = str(data.get("name") or "").strip()
    if not name:
        errors["name"] = _("Enter the person's name.")
    elif len(name) > 60:
        errors["name"] = _("At most 60 characters.")
    employee_no = str(data.get("employee_no") or "").strip()
    if len(employee_no) > 32:
        errors["employee_no"] = _("At most 32 characters.")
    position = str(data.get("position") or "").strip()[:60]
    user = data.get("user")
    if isinstance(user, str | int) and str(user).strip():
        from django.contrib.auth import get_user_model

        user = get_user_model().objects.filter(username=str(user).strip()).first()
        if user is None:
            errors["user"] = _("No login with this user name.")
    user = user or None
    on_from = _parse_day(data.get("on_from"), "on_from", errors) or timezone.localdate()
    on_until = _parse_day(data.get("on_until"), "on_until", errors)
    if on_until and on_until < on_from:
        errors["on_until"] = _("The last day must not come before the first.")
    others = RosterEntry.objects.filter(unit=unit)
    if instance is not None:
        others = others.exclude(pk=instance.pk)
    if user is not None and others.filter(user=user).exists():
        errors["user"] = _("This person is on the unit's roster already.")
    if employee_no and others.filter(employee_no=employee_no).exists():
        errors["employee_no"] = _("This staff number is on the unit's roster already.")
    if errors:
        raise ValidationError(errors)
    return {
        "name": name,
        "employee_no": employee_no,
        "user": user,
        "position": position,
        "health_desk": bool(data.get("health_desk")) and user is not None,
        "on_from": on_from,
        "on_until": on_until,
    }


def _require_unit_admin(actor, unit: Unit) -> None:
    """The roster is kept by the admins whose subtree holds the unit (actor None: the system)."""
    if actor is None:
        return
    scope = scope_for(actor)
    if not (scope.role == "admin" and scope.covers(unit.path)):
        raise PermissionDenied


@transaction.atomic
def add_to_roster(unit: Unit, *, actor, **fields) -> RosterEntry:
    """Put a person on a unit's roster (the unit's admin keeps it)."""
    _require_unit_admin(actor, unit)
    clean = clean_roster(unit, fields)
    try:
        with transaction.atomic():
            entry = RosterEntry.objects.create(unit=unit, **clean)
    except IntegrityError:  # the same person added twice at the same moment
        raise ValidationError({"user": _("This person is on the unit's roster already.")}) from None
    record("operations.roster.added", entry, actor=actor, changes=diff({}, snapshot(entry, ROSTER_FIELDS)))
    recount_days(unit, entry.on_from, entry.on_until)
    return entry


@transaction.atomic
def update_roster(entry: RosterEntry, *, actor, revision=None, **fields) -> RosterEntry:
    _require_unit_admin(actor, entry.unit)
    entry = RosterEntry.objects.select_for_update().select_related("unit").get(pk=entry.pk)
    concurrency.check(entry, revision, actor=actor)
    before = snapshot(entry, ROSTER_FIELDS)
    merged = {
        **{
            k: getattr(entry, k)
            for k in ("name", "employee_no", "user", "position", "health_desk", "on_from", "on_until")
        },
        **fields,
    }
    clean = clean_roster(entry.unit, merged, instance=entry)
    old_from = entry.on_from
    for key, value in clean.items():
        setattr(entry, key, value)
    changes = diff(before, snapshot(entry, ROSTER_FIELDS))
    if not changes:
        return entry
    concurrency.advance(entry, changes)
    entry.save()
    record("operations.roster.changed", entry, actor=actor, changes=changes)
    recount_days(entry.unit, min(old_from, entry.on_from), None)
    return entry


def clean_leave(data: dict) -> dict:
    errors: dict[str, str] = {}
    starts_on = _parse_day(data.get("starts_on"), "starts_on", errors)
    ends_on = _parse_day(data.get("ends_on"), "ends_on", errors)
    if starts_on is None and "starts_on" not in errors:
        errors["starts_on"] = _("Enter the first day of the leave.")
    if ends_on is None and "ends_on" not in errors:
        errors["ends_on"] = _("Enter the last day of the leave.")
    if starts_on and ends_on and ends_on < starts_on:
        errors["ends_on"] = _("The last day must not come before the first.")
    if starts_on and ends_on and (ends_on - starts_on).days > 366:
        errors["ends_on"] = _("A leave lasts at most a year; enter another one after it.")
    if errors:
        raise ValidationError(errors)
    return {"starts_on": starts_on, "ends_on": ends_on, "note": str(data.get("note") or "").strip()[:200]}


@transaction.atomic
def add_leave(entry: RosterEntry, *, actor, **fields) -> Leave:
    """Record that a person is away those days: they are not expected to report."""
    _require_unit_admin(actor, entry.unit)
    clean = clean_leave(fields)
    leave = Leave.objects.create(entry=entry, **clean)
    record(
        "operations.roster.leave",
        entry,
        actor=actor,
        changes={"leave": [None, f"{leave.starts_on.isoformat()} – {leave.ends_on.isoformat()}"]},
    )
    recount_days(entry.unit, leave.starts_on, leave.ends_on)
    return leave


# --- the denominator ---------------------------------------------------------------------------


def _local_day(day: datetime.date) -> tuple[datetime.datetime, datetime.datetime]:
    """The start of `day` in Beijing and of the day after."""
    from yizhan.operations.services import SHANGHAI

    start = datetime.datetime.combine(day, datetime.time(), SHANGHAI)
    return start, start + datetime.timedelta(days=1)


def closed_all_day(unit_ids, day: datetime.date) -> set[int]:
    """Of these units, those closed (or closed by order) for the whole of `day`."""
    start, end = _local_day(day)
    return set(
        OperatingStatus.objects.live()
        .filter(unit_id__in=unit_ids, state__in=list(CLOSED_STATES), starts_at__lte=start)
        .filter(Q(ends_at__isnull=True) | Q(ends_at__gte=end))
        .values_list("unit_id", flat=True)
    )


def expected_entries(day: datetime.date, units=None):
    """The roster entries expected to report on `day` (see the module docstring), optionally of
    these units (ids) only."""
    if not _calendar().is_workday(day):
        return RosterEntry.objects.none()
    entries = RosterEntry.objects.on(day).filter(unit__closed_on__isnull=True)
    if units is not None:
        entries = entries.filter(unit_id__in=list(units))
    away = Leave.objects.filter(starts_on__lte=day, ends_on__gte=day).values("entry_id")
    entries = entries.exclude(pk__in=away)
    unit_ids = units if units is not None else entries.values_list("unit_id", flat=True).distinct()
    closed = closed_all_day(unit_ids, day)
    if closed:
        entries = entries.exclude(unit_id__in=closed)
    return entries


def own_counts(unit_ids, day: datetime.date) -> dict[int, tuple[int, int, int]]:
    """{unit id: (expected, on time, late)} counted from the raw rows, own roster only."""
    expected = expected_entries(day, unit_ids)
    out = {uid: [0, 0, 0] for uid in unit_ids}
    for uid, n in expected.values("unit_id").annotate(n=Count("pk")).values_list("unit_id", "n"):
        out[uid][0] = n
    reports = HealthReport.objects.filter(day=day, entry__in=expected.values("pk"))
    for uid, late, n in (
        reports.values("entry__unit_id", "late")
        .annotate(n=Count("pk"))
        .values_list("entry__unit_id", "late", "n")
    ):
        out[uid][2 if late else 1] += n
    return {uid: tuple(v) for uid, v in out.items()}


def _chain(unit: Unit) -> list[int]:
    return unit.ancestor_ids()


def _ensure_rows(unit_ids, day) -> None:
    have = set(HealthDay.objects.filter(unit_id__in=unit_ids, day=day).values_list("unit_id", flat=True))
    missing = [HealthDay(unit_id=uid, day=day) for uid in unit_ids if uid not in have]
    if missing:
        HealthDay.objects.bulk_create(missing, ignore_conflicts=True)


def recount(unit: Unit, day: datetime.date) -> HealthDay:
    """Recount a unit's own figures for a day from the raw rows and move its subtree rows and its
    ancestors' by the difference; flags each report counted or not. In the caller's transaction."""
    chain = _chain(unit)
    _ensure_rows(chain, day)
    row = HealthDay.objects.select_for_update().get(unit=unit, day=day)
    expected, on_time, late = own_counts([unit.pk], day)[unit.pk]
    delta = (expected - row.own_expected, on_time - row.own_on_time, late - row.own_late)
    if any(delta):
        HealthDay.objects.filter(pk=row.pk).update(own_expected=expected, own_on_time=on_time, own_late=late)
        HealthDay.objects.filter(unit_id__in=chain, day=day).update(
            expected=F("expected") + delta[0], on_time=F("on_time") + delta[1], late=F("late") + delta[2]
        )
    counted = expected_entries(day, [unit.pk]).values("pk")
    HealthReport.objects.filter(unit=unit, day=day).exclude(entry__in=counted).filter(counted=True).update(
        counted=False
    )
    HealthReport.objects.filter(unit=unit, day=day, entry__in=counted, counted=False).update(counted=True)
    row.refresh_from_db()
    return row


def recount_days(unit: Unit, first: datetime.date, last: datetime.date | None) -> None:
    """Recount the days from `first` to `last` (today at most) that have rollups already."""
    today = timezone.localdate()
    last = min(last or today, today)
    if first > last:
        return
    days = HealthDay.objects.filter(day__range=(first, last)).values_list("day", flat=True).distinct()
    for day in sorted(set(days)):
        recount(unit, day)


@transaction.atomic
def open_day(day: datetime.date) -> int:
    """Write every unit's rollups for `day` from the raw rows (the morning job, and a full recount
    when asked). Returns the number of rows written."""
    own: dict[int, list[int]] = defaultdict(lambda: [0, 0, 0])
    expected = expected_entries(day)
    for uid, n in expected.values("unit_id").annotate(n=Count("pk")).values_list("unit_id", "n"):
        own[uid][0] = n
    reports = HealthReport.objects.filter(day=day, entry__in=expected.values("pk"))
    for uid, late, n in (
        reports.values("entry__unit_id", "late")
        .annotate(n=Count("pk"))
        .values_list("entry__unit_id", "late", "n")
    ):
        own[uid][2 if late else 1] += n
    rostered = set(RosterEntry.objects.on(day).values_list("unit_id", flat=True).distinct())
    paths = dict(Unit.objects.filter(pk__in=rostered | set(own)).values_list("pk", "path"))
    subtree: dict[int, list[int]] = defaultdict(lambda: [0, 0, 0])
    for uid, path in paths.items():
        counts = own.get(uid, [0, 0, 0])
        for ancestor in (int(p) for p in path.strip("/").split("/")):
            total = subtree[ancestor]
            total[0] += counts[0]
            total[1] += counts[1]
            total[2] += counts[2]
    HealthDay.objects.filter(day=day).delete()
    rows = [
        HealthDay(
            unit_id=uid,
            day=day,
            own_expected=own.get(uid, [0, 0, 0])[0],
            own_on_time=own.get(uid, [0, 0, 0])[1],
            own_late=own.get(uid, [0, 0, 0])[2],
            expected=total[0],
            on_time=total[1],
            late=total[2],
        )
        for uid, total in subtree.items()
    ]
    HealthDay.objects.bulk_create(rows, batch_size=2000)
    HealthReport.objects.filter(day=day).update(counted=False)
    HealthReport.objects.filter(day=day, entry__in=expected.values("pk")).update(counted=True)
    return len(rows)


def open_today() -> int:
    return open_day(timezone.localdate())


# --- the report --------------------------------------------------------------------------------


def clean_report(data: dict) -> dict:
    errors: dict[str, str] = {}
    raw = str(data.get("temperature") if data.get("temperature") is not None else "").strip()
    temperature = None
    try:
        temperature = Decimal(raw).quantize(Decimal("0.1"))
        if not temperature.is_finite() or not MIN_TEMPERATURE <= temperature <= MAX_TEMPERATURE:
            raise InvalidOperation
    except (InvalidOperation, ValueError):
        errors["temperature"] = _("Enter a body temperature between 34.0 and 42.0 °C, such as 36.5.")
    symptoms = data.get("symptoms") or []
    if isinstance(symptoms, str):
        symptoms = [s for s in symptoms.replace("，", ",").split(",") if s.strip()]
    symptoms = [str(s).strip() for s in symptoms]
    unknown = [s for s in symptoms if s not in Symptom.values]
    if unknown:
        errors["symptoms"] = _("Unknown symptom: %(codes)s.") % {"codes": ", ".join(unknown)[:100]}
    isolation = str(data.get("isolation") or Isolation.NONE)
    if isolation not in Isolation.values:
        errors["isolation"] = _("Choose none, home or central.")
    travel_note = str(data.get("travel_note") or "").strip()
    if len(travel_note) > 200:
        errors["travel_note"] = _("At most 200 characters.")
    reason = str(data.get("reason") or "").strip()
    if len(reason) > 200:
        errors["reason"] = _("At most 200 characters.")
    if errors:
        raise ValidationError(errors)
    return {
        "temperature": temperature,
        "symptoms": sorted(set(symptoms)),
        "travelled": bool(data.get("travelled")),
        "travel_note": travel_note,
        "isolation": isolation,
        "reason": reason,
    }


def own_entry(user) -> RosterEntry | None:
    if user is None or not getattr(user, "pk", None):
        return None
    return RosterEntry.objects.on(timezone.localdate()).filter(user=user).select_related("unit").first()


@transaction.atomic
def submit_report(*, actor, entry: RosterEntry | None = None, day=None, **fields) -> HealthReport:
    """A person's report for today, or the desk's for someone (without a login, say) or for an
    earlier day (with a reason). Saving again the same day corrects the values."""
    today = timezone.localdate()
    errors: dict[str, str] = {}
    day = _parse_day(day, "day", errors) or today
    if errors:
        raise ValidationError(errors)
    entry = entry or own_entry(actor)
    if entry is None:
        raise ValidationError(
            {"entry": _("You are not on a unit's roster: ask your unit's admin to add you.")}
        )
    mine = entry.user_id is not None and entry.user_id == getattr(actor, "pk", None)
    desk = actor is None or is_desk_for(actor, entry.unit)
    if not mine and not desk:
        raise PermissionDenied
    clean = clean_report(fields)
    if day > today:
        raise ValidationError({"day": _("A report is for today; the future cannot be reported.")})
    if day < today:
        if not desk:
            raise ValidationError({"day": _("Only the desk may report for an earlier day.")})
        if day < today - datetime.timedelta(days=BACKFILL_DAYS):
            raise ValidationError({"day": _("Reports can be back-filled for the last 30 days only.")})
        if not clean["reason"]:
            raise ValidationError({"reason": _("Say why the report is entered for an earlier day.")})
    if not (entry.on_from <= day and (entry.on_until is None or day <= entry.on_until)):
        raise ValidationError({"day": _("This person is not on the roster that day.")})
    now = timezone.now()
    late = day < today or timezone.localtime(now).time() > deadline()
    reason = clean.pop("reason")
    submitted_by = actor if getattr(actor, "pk", None) else None
    counted = is_expected(entry, day)
    try:
        with transaction.atomic():
            report = HealthReport.objects.create(
                entry=entry,
                unit=entry.unit,  # loaded already: the audit event reads it
                day=day,
                late=late,
                counted=counted,
                submitted_at=now,
                submitted_by=submitted_by,
                backfill_reason=reason,
                **clean,
            )
    except IntegrityError:
        # Reported already that day: this corrects the values (a retry after a lost answer too).
        existing = HealthReport.objects.select_for_update().filter(entry=entry, day=day).first()
        if existing is None:
            raise ValidationError({"day": _("This day's report was just submitted.")}) from None
        for key, value in clean.items():
            setattr(existing, key, value)
        existing.submitted_by = submitted_by
        if reason:
            existing.backfill_reason = reason
        existing.save()
        record(
            "operations.health.corrected",
            existing,
            actor=actor,
            unit=entry.unit,
            changes={"day": [None, day.isoformat()]},
        )
        return existing
    # The audit event says who reported for whom and when, never the health data itself.
    record(
        "operations.health.reported",
        report,
        actor=actor,
        changes={"day": [None, day.isoformat()], "late": [None, late], "for": [None, entry.name]},
    )
    if counted:
        _count(report, entry.unit)
    return report


def is_expected(entry: RosterEntry, day: datetime.date) -> bool:
    """Whether this person is in the denominator of `day` (see the module docstring)."""
    if not _calendar().is_workday(day) or entry.unit.closed_on is not None:
        return False
    if not (entry.on_from <= day and (entry.on_until is None or day <= entry.on_until)):
        return False
    return not _away_or_closed(entry, day)


# Report submission's hot path runs the next three statements once per report, as plain SQL: the
# ORM's compile step costs ~0.4 ms a statement on this hardware, several times the statement
# itself, and the three took 1.6 ms of a 6.6 ms request (the ORM forms are `expected_entries`'s
# leave, `closed_all_day` and `recount`; test_health checks the plain forms agree with them).
def _away_or_closed(entry: RosterEntry, day: datetime.date) -> bool:
    """On leave on `day`, or the unit closed (or closed by order) all of it."""
    start, end = _local_day(day)
    ops, quote = connection.ops, connection.ops.quote_name
    states = sorted(CLOSED_STATES)
    sql = (
        f"SELECT 1 FROM {quote(Leave._meta.db_table)} WHERE entry_id = %s AND starts_on <= %s AND ends_on >= %s "  # noqa: S608
        f"UNION ALL SELECT 1 FROM {quote(OperatingStatus._meta.db_table)} WHERE unit_id = %s "
        f"AND cancelled_at IS NULL AND state IN ({', '.join(['%s'] * len(states))}) AND starts_at <= %s "
        "AND (ends_at IS NULL OR ends_at >= %s) LIMIT 1"
    )
    on = ops.adapt_datefield_value(day)
    params = [entry.pk, on, on, entry.unit_id, *states]
    params += [ops.adapt_datetimefield_value(start), ops.adapt_datetimefield_value(end)]
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchone() is not None


def _count(report: HealthReport, unit: Unit) -> None:
    """One more report on the unit's row and its ancestors', in the caller's transaction."""
    column = "late" if report.late else "on_time"  # a column name of ours, never input
    table = connection.ops.quote_name(HealthDay._meta.db_table)
    day = connection.ops.adapt_datefield_value(report.day)
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {table} SET own_{column} = own_{column} + 1, {column} = {column} + 1 "  # noqa: S608
            "WHERE unit_id = %s AND day = %s",
            [unit.pk, day],
        )
        if not cursor.rowcount:
            recount(unit, report.day)  # the day's first figures for this unit, counted from the rows
            return
        ancestors = _chain(unit)[:-1]
        if ancestors:
            cursor.execute(
                f"UPDATE {table} SET {column} = {column} + 1 "  # noqa: S608
                f"WHERE day = %s AND unit_id IN ({', '.join(['%s'] * len(ancestors))})",
                [day, *ancestors],
            )


# --- completeness --------------------------------------------------------------------------------


def completeness(unit: Unit, start: datetime.date, end: datetime.date) -> list[dict]:
    """The unit and each unit directly below: expected, on time, late, missing and the share
    reported, over the days from start to end (from the rollups)."""
    children = list(Unit.objects.filter(parent=unit).order_by("path"))
    ids = [unit.pk] + [c.pk for c in children]
    sums = {
        row["unit_id"]: row
        for row in HealthDay.objects.filter(unit_id__in=ids, day__range=(start, end))
        .values("unit_id")
        .annotate(expected=Sum("expected"), on_time=Sum("on_time"), late=Sum("late"))
    }
    out = []
    for u in [unit, *children]:
        row = sums.get(u.pk, {"expected": 0, "on_time": 0, "late": 0})
        expected, on_time, late = row["expected"] or 0, row["on_time"] or 0, row["late"] or 0
        out.append(
            {
                "unit": u,
                "expected": expected,
                "on_time": on_time,
                "late": late,
                "missing": max(expected - on_time - late, 0),
                "share": (on_time + late) / expected if expected else None,
            }
        )
    return out


def raw_completeness(unit: Unit, start: datetime.date, end: datetime.date) -> dict[int, tuple[int, int, int]]:
    """The same figures as `completeness`, counted from the raw rows (the benchmark's and the tests'
    check): {unit id: (expected, on time, late)} for the unit and each child."""
    children = list(Unit.objects.filter(parent=unit))
    out = {}
    for u in [unit, *children]:
        ids = list(Unit.objects.filter(path__startswith=u.path).values_list("pk", flat=True))
        total = [0, 0, 0]
        day = start
        while day <= end:
            expected = expected_entries(day, ids)
            total[0] += expected.count()
            reports = HealthReport.objects.filter(day=day, entry__in=expected.values("pk"))
            total[1] += reports.filter(late=False).count()
            total[2] += reports.filter(late=True).count()
            day += datetime.timedelta(days=1)
        out[u.pk] = tuple(total)
    return out


def person_rows(unit: Unit, day: datetime.date, user) -> list[dict]:
    """Each person on the unit's own roster that day: on time / late / missing / away / not
    expected, with the health fields as `user` may see them."""
    entries = list(RosterEntry.objects.on(day).filter(unit=unit).order_by("name"))
    expected = set(expected_entries(day, [unit.pk]).values_list("pk", flat=True))
    away = set(
        Leave.objects.filter(entry__in=entries, starts_on__lte=day, ends_on__gte=day).values_list(
            "entry_id", flat=True
        )
    )
    reports = {
        r.entry_id: r
        for r in HealthReport.objects.filter(day=day, entry__in=entries).select_related("entry", "unit")
    }
    rows = []
    for entry in entries:
        report = reports.get(entry.pk)
        if report is not None:
            state = "late" if report.late else "on_time"
        elif entry.pk in away:
            state = "away"
        elif entry.pk in expected:
            state = "missing"
        else:
            state = "not_expected"
        rows.append({"entry": entry, "state": state, "report": report, "data": shown(report, user)})
    return rows


def missing_entries(day: datetime.date):
    reported = HealthReport.objects.filter(day=day).values("entry_id")
    return expected_entries(day).exclude(pk__in=reported)


def chase(day: datetime.date | None = None, *, desks: bool = False) -> int:
    """Remind the people still missing today's report (or, with desks=True, each desk of how many
    are missing in its subtree). The notification key is per day, so each is sent once however
    often this runs."""
    from yizhan.notify.services import notify, staff

    day = day or timezone.localdate()
    missing = missing_entries(day).select_related("unit")
    if not desks:
        users = [e.user for e in missing.filter(user__isnull=False).select_related("user")]
        if not users:
            return 0
        summary = notify(staff(users), "health-missing", {"day": day.isoformat()}, key=f"health-{day}")
        return summary.queued + summary.held
    by_path = list(missing.values_list("unit__path", flat=True))
    sent = 0
    for desk in (
        RosterEntry.objects.on(day)
        .filter(health_desk=True, user__isnull=False)
        .select_related("unit", "user")
    ):
        count = sum(path.startswith(desk.unit.path) for path in by_path)
        if count:
            summary = notify(
                staff([desk.user]),
                "health-missing-desk",
                {"unit": desk.unit.name, "day": day.isoformat(), "missing": count},
                key=f"health-desk-{day}-{desk.unit_id}",
            )
            sent += summary.queued + summary.held
    return sent


def chase_people() -> int:
    return chase()


def chase_desks() -> int:
    return chase(desks=True)
