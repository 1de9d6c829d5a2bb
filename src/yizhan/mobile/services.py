"""The verbs of mobile stations: places, schedules, the visits generated from them, cancelling a
visit with a notice, what a visit did, and a home-service case scheduled as a visit.

Every verb validates (one `clean_*` per concept, `ValidationError({field: message})`), runs in
one transaction, is audited, and bumps the `stations` and `mobile` data versions: the locator's
index reloads its mobile layer when `mobile` moves (see locator/mobile.py)."""

import datetime
import zoneinfo

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from yizhan.audit.services import record
from yizhan.core import concurrency
from yizhan.core.geo import parse_point
from yizhan.mobile import recurrence
from yizhan.mobile.models import (
    HolidayRule,
    PlaceKind,
    ServiceKind,
    Visit,
    VisitPlace,
    VisitSchedule,
    VisitServiceCount,
    VisitStatus,
)
from yizhan.orgs.models import Unit, UnitKind
from yizhan.stations.models import Station, StationKind

SHANGHAI = zoneinfo.ZoneInfo("Asia/Shanghai")
HORIZON_DAYS = 60
MAX_SERVICE_COUNT = 10_000


def bump() -> None:
    from yizhan.stations.services import bump as bump_versions

    bump_versions("stations", "mobile")


def local_today() -> datetime.date:
    return timezone.now().astimezone(SHANGHAI).date()


def at_local(day: datetime.date, clock: datetime.time) -> datetime.datetime:
    return datetime.datetime.combine(day, clock, tzinfo=SHANGHAI)


# --- mobile stations ----------------------------------------------------------------------------


def register_mobile_station(*, actor, unit, scope=None, **data) -> Station:
    """A mobile station of a sub-branch (`unit`: a Unit or its code); its base position and
    address default to the sub-branch's."""
    from yizhan.stations.services import register_station

    return register_station(actor=actor, unit=unit, scope=scope, kind=StationKind.MOBILE, **data)


# --- places -------------------------------------------------------------------------------------


def clean_place(data: dict) -> dict:
    errors: dict[str, str] = {}
    out: dict = {}
    for name, limit in (("name", 100), ("address", 255)):
        text = str(data.get(name) or "").strip()
        if not text:
            errors[name] = _("This field is required.")
        elif len(text) > limit:
            errors[name] = _("At most %(n)s characters.") % {"n": limit}
        out[name] = text
    kind = str(data.get("kind") or PlaceKind.OTHER)
    if kind not in PlaceKind.values:
        errors["kind"] = _("Unknown kind of place.")
    out["kind"] = kind
    try:
        out["lat"], out["lng"] = parse_point(data.get("lat"), data.get("lng"), data.get("crs") or "wgs84")
    except ValidationError as exc:
        errors.update({k: v[0] for k, v in exc.message_dict.items()})
    unit = data.get("unit")
    if not isinstance(unit, Unit) or unit.kind not in (UnitKind.SUB_BRANCH, UnitKind.OUTLET, UnitKind.CITY):
        errors["unit"] = _("A visit place belongs to a sub-branch.")
    out["unit"] = unit
    if errors:
        raise ValidationError(errors)
    return out


@transaction.atomic
def create_place(*, actor, **data) -> VisitPlace:
    place = VisitPlace.objects.create(**clean_place(data))
    record(
        "mobile.place_created",
        place,
        actor=actor,
        unit=place.unit,
        changes={"name": [None, place.name], "lat": [None, place.lat], "lng": [None, place.lng]},
    )
    bump()
    return place


# --- schedules ----------------------------------------------------------------------------------


def _clock(value, field: str, errors: dict) -> datetime.time | None:
    if isinstance(value, datetime.time):
        return value.replace(second=0, microsecond=0)
    try:
        return datetime.time.fromisoformat(str(value or "").strip()).replace(second=0, microsecond=0)
    except ValueError:
        errors[field] = _("Enter a time as HH:MM.")
        return None


def _day(value, field: str, errors: dict, *, required: bool) -> datetime.date | None:
    if isinstance(value, datetime.date):
        return value
    if value in (None, ""):
        if required:
            errors[field] = _("This field is required.")
        return None
    try:
        day = datetime.date.fromisoformat(str(value).strip())
    except ValueError:
        errors[field] = _("Enter a date as YYYY-MM-DD.")
        return None
    if not 2000 <= day.year <= 2100:
        errors[field] = _("Choose a date between the years 2000 and 2100.")
        return None
    return day


def _calendar():
    from yizhan.stations.hours import current_calendar

    return current_calendar()


def schedule_dates(schedule, first: datetime.date, last: datetime.date, calendar=None):
    """(planned, visit) date pairs of a schedule (a VisitSchedule or its clean values) in [first, last]."""
    get = schedule.get if isinstance(schedule, dict) else lambda name: getattr(schedule, name)
    rule = recurrence.parse(get("rrule"), get("valid_from"))
    return recurrence.visit_dates(
        rule,
        max(first, get("valid_from")),
        last,
        calendar or _calendar(),
        on_holiday=get("on_holiday"),
        valid_to=get("valid_to"),
    )


def clean_schedule(data: dict, *, station: Station, instance: VisitSchedule | None = None) -> dict:
    """One set of rules for a schedule: a readable RRULE that occurs at least once in its
    validity period, a visit that ends after it starts (same day), a known place and holiday
    rule, and no overlap with the same van's other schedules and visits."""
    errors: dict[str, str] = {}
    out: dict = {}
    if station.kind != StationKind.MOBILE:
        errors["station"] = _("Only a mobile station has a schedule of visits.")
    place = data.get("place")
    if isinstance(place, int | str) and str(place).isdigit():
        place = VisitPlace.objects.filter(pk=int(place)).first()
    if not isinstance(place, VisitPlace) or not place.unit.path.startswith(station.unit.path):
        errors["place"] = _("Choose a visit place of this sub-branch.")
        place = None
    out["place"] = place
    out["start_time"] = _clock(data.get("start_time"), "start_time", errors)
    out["end_time"] = _clock(data.get("end_time"), "end_time", errors)
    if out["start_time"] and out["end_time"] and out["end_time"] <= out["start_time"]:
        errors["end_time"] = _("A visit ends after it starts (on the same day).")
    out["valid_from"] = _day(data.get("valid_from"), "valid_from", errors, required=True)
    out["valid_to"] = _day(data.get("valid_to"), "valid_to", errors, required=False)
    if out["valid_from"] and out["valid_to"] and out["valid_to"] < out["valid_from"]:
        errors["valid_to"] = _("The validity period ends before it starts.")
    on_holiday = str(data.get("on_holiday") or HolidayRule.SKIP)
    if on_holiday not in HolidayRule.values:
        errors["on_holiday"] = _("Choose to skip a holiday visit or move it to the next workday.")
    out["on_holiday"] = on_holiday
    out["active"] = bool(data.get("active", True))
    out["rrule"] = recurrence.normalise(data.get("rrule"))
    if len(out["rrule"]) > 300:
        errors["rrule"] = _("At most %(n)s characters.") % {"n": 300}
    elif "valid_from" not in errors and out["valid_from"]:
        try:
            recurrence.parse(out["rrule"], out["valid_from"])
        except ValidationError as exc:
            errors.update({k: v[0] for k, v in exc.message_dict.items()})
    if errors:
        raise ValidationError(errors)

    calendar = _calendar()
    last = out["valid_to"] or out["valid_from"] + datetime.timedelta(days=recurrence.LOOKAHEAD_DAYS)
    dates = schedule_dates(out, out["valid_from"], last, calendar)
    # A schedule being ended (stopped today, or cut short) may end before it ever visited: that
    # is what the staff meant, not a rule that cannot occur.
    ending = instance is not None and out["valid_to"] is not None and out["valid_to"] <= local_today()
    if not dates and not ending:
        raise ValidationError({"rrule": _("This recurrence never occurs in the validity period.")})
    clash = _overlap(station, out, dates, instance, calendar) if dates and out["active"] else ""
    if clash:
        raise ValidationError({"start_time": clash})
    return out


def _overlap(station, values, dates, instance, calendar) -> str:
    """A message naming the first date on which this van would be in two places, or ""."""
    mine = {visit for _planned, visit in dates}
    first, last = min(mine), max(mine)
    start, end = values["start_time"], values["end_time"]
    others = VisitSchedule.objects.filter(station=station, active=True).select_related("place")
    if instance is not None:
        others = others.exclude(pk=instance.pk)
    for other in others:
        if not (start < other.end_time and other.start_time < end):
            continue
        for _planned, day in schedule_dates(other, first, last, calendar):
            if day in mine:
                return _("On %(day)s this van is already at “%(place)s” %(start)s–%(end)s.") % {
                    "day": day.isoformat(),
                    "place": other.place.name,
                    "start": other.start_time.strftime("%H:%M"),
                    "end": other.end_time.strftime("%H:%M"),
                }
    one_offs = Visit.objects.planned().filter(
        station=station,
        schedule__isnull=True,
        starts_at__gte=at_local(first, datetime.time()),
        starts_at__lt=at_local(last + datetime.timedelta(days=1), datetime.time()),
    )
    for visit in one_offs.select_related("place"):
        day = visit.starts_at.astimezone(SHANGHAI).date()
        if day in mine and visit.starts_at < at_local(day, end) and at_local(day, start) < visit.ends_at:
            return _("On %(day)s this van is already at “%(place)s” %(start)s–%(end)s.") % {
                "day": day.isoformat(),
                "place": visit.place.name,
                "start": visit.starts_at.astimezone(SHANGHAI).strftime("%H:%M"),
                "end": visit.ends_at.astimezone(SHANGHAI).strftime("%H:%M"),
            }
    return ""


SCHEDULE_FIELDS = [
    "place_id",
    "rrule",
    "start_time",
    "end_time",
    "valid_from",
    "valid_to",
    "on_holiday",
    "active",
]


def _snapshot(schedule: VisitSchedule) -> dict:
    from yizhan.audit.services import snapshot

    return snapshot(schedule, SCHEDULE_FIELDS)


def _stop_values(schedule: VisitSchedule) -> dict:
    """What stopping changes: the validity ends today (Beijing), so today's visit stands and the
    later ones go; a schedule that has not begun yet is switched off instead (a validity that
    ends before it starts is no period at all)."""
    today = local_today()
    if not schedule.active or (schedule.valid_to is not None and schedule.valid_to <= today):
        raise ValidationError({"valid_to": _("This schedule has already ended.")})
    if schedule.valid_from > today:
        return {"active": False}
    return {"valid_to": today}


def _resume_values(schedule: VisitSchedule) -> dict:
    """What switching on changes: a schedule switched off (stopped before it began) runs again,
    refused if that puts the van in two places at once. One that ended is given a new end date
    by changing it instead."""
    if schedule.active:
        raise ValidationError({"active": _("This schedule is already switched on.")})
    return {"active": True}


def _drop_changed_visits(schedule: VisitSchedule) -> None:
    """Remove the schedule's visits to come (not started, not cancelled, serving no case) that
    its new values no longer give — other dates or hours, another place, past its new end, or
    the schedule switched off. Those it still gives stay as they are (their id, their staff);
    generation then adds the missing ones. Cancelled visits keep their public notice."""
    pending = list(
        Visit.objects.filter(
            schedule=schedule, status=VisitStatus.PLANNED, case__isnull=True, starts_at__gt=timezone.now()
        ).only("pk", "place_id", "planned_on", "starts_at", "ends_at")
    )
    if not pending:
        return
    wanted: dict = {}
    if schedule.active:
        first = min(v.planned_on for v in pending)
        last = max(v.planned_on for v in pending)
        wanted = {
            planned: (at_local(day, schedule.start_time), at_local(day, schedule.end_time))
            # a few days more: a visit moved off a holiday may fall after the last planned date
            for planned, day in schedule_dates(schedule, first, last + datetime.timedelta(days=14))
        }
    gone = [
        v.pk
        for v in pending
        if v.place_id != schedule.place_id or wanted.get(v.planned_on) != (v.starts_at, v.ends_at)
    ]
    if gone:
        Visit.objects.filter(pk__in=gone).delete()


@transaction.atomic
def save_schedule(
    station: Station,
    *,
    actor,
    schedule: VisitSchedule | None = None,
    revision: int | None = None,
    stop: bool = False,
    resume: bool = False,
    **data,
) -> VisitSchedule:
    """Create a schedule (or change `schedule`; `stop=True`: end its validity today;
    `resume=True`: switch a switched-off one on again), then
    generate its visits for the horizon. A change removes the visits to come that the schedule
    no longer gives (see `_drop_changed_visits`) and generates the ones it now gives."""
    from yizhan.audit.services import diff

    if schedule is not None:
        schedule = VisitSchedule.objects.select_for_update().get(pk=schedule.pk)
        concurrency.check(schedule, revision, actor=actor)
        action = "mobile.schedule_updated"
        if stop:
            data, action = _stop_values(schedule), "mobile.schedule_stopped"
        elif resume:
            data, action = _resume_values(schedule), "mobile.schedule_resumed"
        merged = {
            "place": schedule.place,
            "rrule": schedule.rrule,
            "start_time": schedule.start_time,
            "end_time": schedule.end_time,
            "valid_from": schedule.valid_from,
            "valid_to": schedule.valid_to,
            "on_holiday": schedule.on_holiday,
            "active": schedule.active,
            **data,
        }
        values = clean_schedule(merged, station=station, instance=schedule)
        before = _snapshot(schedule)
        for key, value in values.items():
            setattr(schedule, key, value)
        changes = diff(before, _snapshot(schedule))
        if not changes:
            return schedule
        concurrency.advance(schedule, changes, actor=actor)
        schedule.save()
        _drop_changed_visits(schedule)
        record(action, schedule, actor=actor, unit=station.unit, changes=changes)
    else:
        values = clean_schedule(data, station=station)
        schedule = VisitSchedule.objects.create(station=station, **values)
        record(
            "mobile.schedule_created",
            schedule,
            actor=actor,
            unit=station.unit,
            changes=diff({}, _snapshot(schedule)),
        )
    if schedule.active:
        generate_visits(schedules=[schedule])
    bump()
    return schedule


def generate_visits(
    today: datetime.date | None = None, *, horizon: int = HORIZON_DAYS, schedules=None
) -> int:
    """Create the visits of every active schedule (or of `schedules`) from `today` to `horizon`
    days ahead that do not exist yet; returns how many were created. One visit per schedule and
    planned date (a unique constraint), so running it again — or twice at once — adds nothing;
    a cancelled visit stays cancelled."""
    today = today or local_today()
    last = today + datetime.timedelta(days=horizon)
    calendar = _calendar()
    if schedules is None:
        schedules = (
            VisitSchedule.objects.filter(active=True, station__status__in=["active", "temporarily_closed"])
            .filter(valid_from__lte=last)
            .exclude(valid_to__lt=today)
            .select_related("station", "place")
        )
    created = 0
    for schedule in schedules:
        existing = set(
            Visit.objects.filter(
                schedule=schedule, planned_on__gte=today - datetime.timedelta(days=14)
            ).values_list("planned_on", flat=True)
        )
        new = [
            Visit(
                station_id=schedule.station_id,
                place_id=schedule.place_id,
                schedule=schedule,
                planned_on=planned,
                starts_at=at_local(day, schedule.start_time),
                ends_at=at_local(day, schedule.end_time),
            )
            for planned, day in schedule_dates(schedule, today, last, calendar)
            if planned not in existing
        ]
        if new:
            try:
                with transaction.atomic():
                    Visit.objects.bulk_create(new)
            except IntegrityError:  # another run got there first: keep its rows, add the rest
                for visit in new:
                    try:
                        with transaction.atomic():
                            visit.save()
                    except IntegrityError:
                        continue
                    created += 1
                continue
            created += len(new)
    if created:
        with transaction.atomic():
            bump()
    return created


def run_generation() -> int:
    """The daily schedule's entry point (mobile.generate_visits)."""
    return generate_visits()


# --- one visit ----------------------------------------------------------------------------------


@transaction.atomic
def cancel_visit(visit: Visit, *, actor, notice: str, revision: int | None = None) -> Visit:
    """Cancel a planned visit with a notice the public reads on the station page; the staff on
    the visit and the sub-branch's managers are told."""
    from yizhan.notify.services import Recipient, notify
    from yizhan.orgs.models import Membership

    text = str(notice or "").strip()
    if not text:
        raise ValidationError({"notice": _("Tell the public why the visit is cancelled.")})
    if len(text) > 300:
        raise ValidationError({"notice": _("At most %(n)s characters.") % {"n": 300}})
    visit = Visit.objects.select_for_update().select_related("station__unit", "place").get(pk=visit.pk)
    concurrency.check(visit, revision, actor=actor)
    if visit.status == VisitStatus.CANCELLED:
        raise ValidationError({"status": _("This visit is already cancelled.")})
    if visit.ends_at <= timezone.now():
        raise ValidationError({"status": _("This visit is over; it can no longer be cancelled.")})
    changes = {"status": [visit.status, VisitStatus.CANCELLED], "notice": [visit.notice, text]}
    concurrency.advance(visit, changes, actor=actor)
    visit.status, visit.notice = VisitStatus.CANCELLED, text
    visit.save(update_fields=["status", "notice"])
    record("mobile.visit_cancelled", visit, actor=actor, unit=visit.station.unit, changes=changes)
    unit = visit.station.unit
    users = set(visit.staff.all())
    # The sub-branch's managers and admins, or those of the nearest unit above that has any.
    for target in [unit, *unit.ancestors()[::-1]]:
        members = Membership.objects.filter(unit=target, role__in=["manager", "admin"]).select_related("user")
        if members:
            users |= {m.user for m in members}
            break
    if users:
        notify(
            [Recipient(unit_id=unit.pk, user=user) for user in sorted(users, key=lambda u: u.pk)],
            "mobile-visit-cancelled",
            {
                "station": visit.station.name,
                "place": visit.place.name,
                "when": visit.starts_at.astimezone(SHANGHAI).strftime("%Y-%m-%d %H:%M"),
                "notice": text,
            },
            key=f"mobile-visit-cancelled-{visit.pk}",
        )
    bump()
    return visit


def clean_services(counts) -> dict[str, int]:
    if not isinstance(counts, dict):
        raise ValidationError({"services": _("Give a count for each kind of service.")})
    out = {}
    for kind, value in counts.items():
        if kind not in ServiceKind.values:
            raise ValidationError({"services": _("Unknown service: %(code)s.") % {"code": str(kind)[:40]}})
        try:
            number = int(str(value).strip())
        except ValueError:
            raise ValidationError({"services": _("Enter a whole number.")}) from None
        if not 0 <= number <= MAX_SERVICE_COUNT:
            raise ValidationError(
                {"services": _("Must be between 0 and %(max)s.") % {"max": MAX_SERVICE_COUNT}}
            )
        out[kind] = number
    return out


@transaction.atomic
def record_services(visit: Visit, *, actor, counts: dict, staff=None) -> Visit:
    """Set what the visit did (a count per kind of service) and, when given, who was on it."""
    values = clean_services(counts)
    visit = Visit.objects.select_for_update().select_related("station__unit").get(pk=visit.pk)
    if visit.status == VisitStatus.CANCELLED:
        raise ValidationError({"services": _("A cancelled visit gave no service.")})
    if visit.starts_at > timezone.now():
        raise ValidationError({"services": _("This visit has not started yet.")})
    before = dict(visit.service_counts.values_list("kind", "count"))
    for kind, number in values.items():
        if number:
            VisitServiceCount.objects.update_or_create(visit=visit, kind=kind, defaults={"count": number})
        else:
            VisitServiceCount.objects.filter(visit=visit, kind=kind).delete()
    after = dict(visit.service_counts.values_list("kind", "count"))
    changes = {
        k: [before.get(k), after.get(k)]
        for k in sorted(set(before) | set(after))
        if before.get(k) != after.get(k)
    }
    if staff is not None:
        staff = list(staff)
        old = sorted(u.username for u in visit.staff.all())
        visit.staff.set(staff)
        new = sorted(u.username for u in staff)
        if old != new:
            changes["staff"] = [old, new]
    if changes:
        record("mobile.visit_services", visit, actor=actor, unit=visit.station.unit, changes=changes)
    return visit


@transaction.atomic
def schedule_case_visit(case, *, actor, station: Station, place: VisitPlace, starts_at, ends_at) -> Visit:
    """A home / on-site service case scheduled as one visit of a mobile station."""
    from yizhan.cases.models import CaseType

    errors = {}
    if case.case_type != CaseType.HOME_SERVICE:
        errors["case"] = _("Only a home / on-site service case is scheduled as a visit.")
    if station.kind != StationKind.MOBILE:
        errors["station"] = _("Choose a mobile station.")
    for name, value in (("starts_at", starts_at), ("ends_at", ends_at)):
        if not isinstance(value, datetime.datetime) or value.tzinfo is None:
            errors[name] = _("Enter a date and time.")
    if (
        not errors
        and ends_at <= starts_at
        or not errors
        and starts_at.astimezone(SHANGHAI).date() != ends_at.astimezone(SHANGHAI).date()
    ):
        errors["ends_at"] = _("A visit ends after it starts (on the same day).")
    if errors:
        raise ValidationError(errors)
    day = starts_at.astimezone(SHANGHAI).date()
    busy = list(Visit.objects.planned().filter(station=station, starts_at__lt=ends_at, ends_at__gt=starts_at))
    if busy:
        raise ValidationError(
            {
                "starts_at": _("On %(day)s this van is already at “%(place)s” %(start)s–%(end)s.")
                % {
                    "day": day.isoformat(),
                    "place": busy[0].place.name,
                    "start": busy[0].starts_at.astimezone(SHANGHAI).strftime("%H:%M"),
                    "end": busy[0].ends_at.astimezone(SHANGHAI).strftime("%H:%M"),
                }
            }
        )
    visit = Visit.objects.create(
        station=station, place=place, planned_on=day, starts_at=starts_at, ends_at=ends_at, case=case
    )
    record(
        "mobile.case_visit_scheduled",
        visit,
        actor=actor,
        unit=station.unit,
        changes={"case": [None, case.pk], "starts_at": [None, starts_at.isoformat()]},
    )
    record("case.visit_scheduled", case, actor=actor, changes={"visit": [None, visit.pk]})
    bump()
    return visit


# --- figures --------------------------------------------------------------------------------------


def site_figures(visits) -> list[dict]:
    """Per place and month (Beijing time): visits made, check-ins during them (at the van, whose
    QR code travels with it), check-ins by visitor group ("" = not said), services given by
    kind, and the vans' units (`units`, for the fixed stations' figures beside: see
    `fixed_group_figures`). `visits`: a (scoped) queryset of Visit."""
    from django.db.models import Count, OuterRef, Subquery

    from yizhan.visits.models import CheckIn

    done = visits.filter(status=VisitStatus.PLANNED, starts_at__lte=timezone.now())
    rows: dict = {}
    own = {}
    first = last = None
    for visit in done.select_related("place", "station__unit").order_by("starts_at"):
        month = visit.starts_at.astimezone(SHANGHAI).strftime("%Y-%m")
        row = rows.setdefault(
            (visit.place_id, month),
            {"place": visit.place, "month": month, "visits": 0, "checkins": 0, "groups": {},
             "services": {}, "units": {}},
        )  # fmt: skip
        row["visits"] += 1
        row["units"][visit.station.unit_id] = visit.station.unit
        own[visit.pk] = row
        first = min(first or visit.starts_at, visit.starts_at)
        last = max(last or visit.ends_at, visit.ends_at)
    if not own:
        return []
    # A check-in names its station and time only: it belongs to the van's visit running then.
    # One grouped query for all of them; (station, day) narrows the check-ins on its index.
    running = done.filter(
        station_id=OuterRef("station_id"), starts_at__lte=OuterRef("at"), ends_at__gt=OuterRef("at")
    ).order_by("starts_at")
    counts = (
        CheckIn.objects.filter(
            station_id__in=done.values("station_id"),
            day__range=(first.astimezone(SHANGHAI).date(), last.astimezone(SHANGHAI).date()),
            at__gte=first,
            at__lt=last,
        )
        .annotate(visit_id=Subquery(running.values("pk")[:1]))
        .exclude(visit_id=None)
        .values("visit_id", "group")
        .annotate(n=Count("pk"))
        .order_by()
    )
    for found in counts:
        row = own.get(found["visit_id"])
        if row is not None:
            row["checkins"] += found["n"]
            row["groups"][found["group"]] = row["groups"].get(found["group"], 0) + found["n"]
    for visit_id, kind, count in VisitServiceCount.objects.filter(visit__in=done.values("pk")).values_list(
        "visit_id", "kind", "count"
    ):
        services = own[visit_id]["services"]
        services[kind] = services.get(kind, 0) + count
    return sorted(rows.values(), key=lambda r: (r["place"].name, r["month"]))


def fixed_group_figures(rows) -> list[dict]:
    """Beside `rows` of `site_figures`: the check-ins by visitor group at the fixed stations of
    the vans' units in the same months, from the visits app's monthly rollups. One row per unit
    and month: {unit, month, groups, checkins}."""
    from yizhan.visits.stats import units_by_month_and_group

    wanted = {(unit.pk, row["month"]): unit for row in rows for unit in row["units"].values()}
    if not wanted:
        return []
    found = units_by_month_and_group(
        {unit.pk: unit for unit in wanted.values()}.values(),
        [datetime.date.fromisoformat(month + "-01") for _pk, month in wanted],
        station_kind=StationKind.FIXED,
    )
    out = []
    for (unit_pk, month), unit in wanted.items():
        groups = found.get((unit_pk, datetime.date.fromisoformat(month + "-01")), {})
        groups = {code: n for code, n in groups.items() if n}
        out.append({"unit": unit, "month": month, "groups": groups, "checkins": sum(groups.values())})
    return sorted(out, key=lambda r: (r["unit"].path, r["month"]))
