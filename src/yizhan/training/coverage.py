"""The coverage figure: is a certified first responder on duty while the station is open?

For one day, an outlet **counts** when it is open that day: not closed (`Unit.closed_on`), not
closed for the whole day by its operating status, and — when it has stations — at least one of
them has opening hours that day (`hours.intervals_on`: holidays, make-up workdays, exceptions and
closing windows included); an outlet without a station counts on working days. It is **covered**
when at least one person on its roster is **on duty** that day — on the roster (from / until), not
on leave, and the day a working day of the statutory calendar — and holds a first-responder
certificate valid that day (issued on or before it, expiring on or after it, not withdrawn).

`coverage(unit, day)` answers per unit directly below (outlets counted, covered, share, gaps) and
ranks the gaps; `raw_coverage` recomputes the same from the rows in Python (tests, bench).
"""

import datetime

from django.db.models import Exists, OuterRef, Q
from django.utils import timezone

from yizhan.operations.health import closed_all_day
from yizhan.operations.models import Leave, RosterEntry
from yizhan.orgs.models import Unit, UnitKind
from yizhan.stations import hours
from yizhan.training.models import TRAINED, Certificate, Enrolment


def default_day(today: datetime.date | None = None) -> datetime.date:
    """The last working day up to today: a dashboard read on a Sunday shows Friday's figure."""
    day = today or timezone.localdate()
    cal = hours.current_calendar()
    for _n in range(15):
        if cal.is_workday(day):
            return day
        day -= datetime.timedelta(days=1)
    return today or timezone.localdate()


def _outlets(unit: Unit):
    return list(
        Unit.objects.filter(path__startswith=unit.path, kind=UnitKind.OUTLET, closed_on__isnull=True)
        .values_list("pk", "path", "code", "name")
        .order_by("path")
    )


def open_outlets(outlet_ids, day: datetime.date) -> set[int]:
    """Of these outlets, those open on `day` (see the module docstring)."""
    from yizhan.stations.models import Station

    cal = hours.current_calendar()
    with_station: dict[int, bool] = {}
    rows = Station.objects.filter(unit_id__in=list(outlet_ids)).exclude(status="closed").order_by()
    for unit_id, data, status, reopens_on, windows in rows.values_list(
        "unit_id", "opening_hours", "status", "reopens_on", "operating_windows"
    ).iterator():
        if with_station.get(unit_id):
            continue
        schedule = hours.Schedule.from_station(data, status, reopens_on, windows)
        with_station[unit_id] = (
            bool(hours.intervals_on(schedule, day, cal)) if schedule.known else cal.is_workday(day)
        )
    closed = closed_all_day(outlet_ids, day)
    workday = cal.is_workday(day)
    return {pk for pk in outlet_ids if pk not in closed and with_station.get(pk, workday)}


def on_duty(day: datetime.date):
    """Roster entries on duty on `day` (nobody on a day that is not a working day)."""
    if not hours.current_calendar().is_workday(day):
        return RosterEntry.objects.none()
    away = Leave.objects.filter(entry=OuterRef("pk"), starts_on__lte=day, ends_on__gte=day)
    return RosterEntry.objects.on(day).exclude(Exists(away))


def covered_outlets(outlet_ids, day: datetime.date) -> set[int]:
    """Of these units, those where a certified first responder is on duty on `day`. By unit ids
    (an indexed IN), not by path prefix: SQLite cannot use an index for a LIKE."""
    if not hours.current_calendar().is_workday(day):
        return set()
    away = Leave.objects.filter(entry=OuterRef("entry_id"), starts_on__lte=day, ends_on__gte=day)
    return set(
        Certificate.objects.valid_on(day)
        .filter(first_responder=True, unit_id__in=list(outlet_ids), entry__on_from__lte=day)
        .filter(Q(entry__on_until__isnull=True) | Q(entry__on_until__gte=day))
        .exclude(Exists(away))
        .order_by()
        .values_list("unit_id", flat=True)
        .distinct()
    )


def coverage(unit: Unit, day: datetime.date | None = None, *, gaps: int = 50) -> dict:
    day = day or default_day()
    outlets = _outlets(unit)
    ids = [o[0] for o in outlets]
    counted = open_outlets(ids, day)
    certified_at = covered_outlets(counted, day)
    children = list(
        Unit.objects.filter(parent=unit).order_by("path").values_list("pk", "path", "code", "name", "name_en")
    )
    rows = {c[1]: {"code": c[2], "name": c[3], "name_en": c[4], "outlets": 0, "covered": 0} for c in children}
    total = {"outlets": 0, "covered": 0}
    gap_list = []
    for pk, path, code, name in outlets:
        if pk not in counted:
            continue
        row = next((rows[p] for p in rows if path.startswith(p)), None)
        covered = pk in certified_at
        for target in (row, total):
            if target is not None:
                target["outlets"] += 1
                target["covered"] += covered
        if not covered:
            gap_list.append({"code": code, "name": name, "below": row["name"] if row else ""})
    for row in [*rows.values(), total]:
        row["gaps"] = row["outlets"] - row["covered"]
        row["share"] = round(100 * row["covered"] / row["outlets"], 1) if row["outlets"] else None
    ranked = sorted(
        (r for r in rows.values() if r["outlets"]), key=lambda r: (-r["gaps"], r["share"] or 0, r["code"])
    )
    return {"day": day, "total": total, "rows": ranked, "gaps": gap_list[:gaps], "gap_count": len(gap_list)}


def staff_shares(unit: Unit, day: datetime.date | None = None) -> dict:
    """People on the roster of the subtree that day, how many have ever attended a session, how
    many hold a valid first-responder certificate."""
    day = day or timezone.localdate()
    units = list(Unit.objects.filter(path__startswith=unit.path).values_list("pk", flat=True))
    people = RosterEntry.objects.on(day).filter(unit_id__in=units)
    staff = people.count()
    trained = (
        Enrolment.objects.filter(unit_id__in=units, status__in=TRAINED, entry__in=people)
        .order_by()
        .values("entry_id")
        .distinct()
        .count()
    )
    certified = (
        Certificate.objects.valid_on(day)
        .filter(first_responder=True, unit_id__in=units, entry__in=people)
        .order_by()
        .values("entry_id")
        .distinct()
        .count()
    )

    def share(n):
        return round(100 * n / staff, 1) if staff else None

    return {
        "staff": staff, "trained": trained, "certified": certified,
        "trained_share": share(trained), "certified_share": share(certified),
    }  # fmt: skip


def raw_coverage(unit: Unit, day: datetime.date) -> dict:
    """The same figure as `coverage`, recomputed row by row in Python from the raw tables."""
    from yizhan.operations.models import OperatingStatus
    from yizhan.stations.models import Station

    cal = hours.current_calendar()
    outlets = {pk: path for pk, path, _c, _n in _outlets(unit)}
    start = datetime.datetime.combine(day, datetime.time(), hours.SHANGHAI)
    end = start + datetime.timedelta(days=1)
    closed = set()
    for s in OperatingStatus.objects.filter(unit_id__in=list(outlets), cancelled_at__isnull=True):
        if (
            s.state in ("closed", "closed_by_order")
            and s.starts_at <= start
            and (s.ends_at is None or s.ends_at >= end)
        ):
            closed.add(s.unit_id)
    opens: dict[int, bool] = {}
    for st in Station.objects.filter(unit_id__in=list(outlets)).exclude(status="closed"):
        sched = st.schedule()
        is_open = bool(hours.intervals_on(sched, day, cal)) if sched.known else cal.is_workday(day)
        opens[st.unit_id] = opens.get(st.unit_id, False) or is_open
    counted = {pk for pk in outlets if pk not in closed and opens.get(pk, cal.is_workday(day))}
    leave = {}
    for lv in Leave.objects.all():
        leave.setdefault(lv.entry_id, []).append((lv.starts_on, lv.ends_on))
    duty = set()
    if cal.is_workday(day):
        for e in RosterEntry.objects.filter(unit_id__in=list(outlets)):
            on = e.on_from <= day and (e.on_until is None or e.on_until >= day)
            if on and not any(a <= day <= b for a, b in leave.get(e.pk, ())):
                duty.add(e.pk)
    covered = set()
    for c in Certificate.objects.filter(unit_id__in=list(outlets), first_responder=True):
        if c.withdrawn_at is None and c.issued_on <= day <= c.expires_on and c.entry_id in duty:
            covered.add(c.unit_id)
    by_child = {}
    for child in Unit.objects.filter(parent=unit):
        n = [pk for pk in counted if outlets[pk].startswith(child.path)]
        if n:
            by_child[child.code] = (len(n), sum(pk in covered for pk in n))
    return {"total": (len(counted), len(counted & covered)), "rows": by_child}


def as_raw(figure: dict) -> dict:
    """`coverage`'s answer in `raw_coverage`'s shape, to compare the two."""
    return {
        "total": (figure["total"]["outlets"], figure["total"]["covered"]),
        "rows": {r["code"]: (r["outlets"], r["covered"]) for r in figure["rows"]},
    }
