"""Coverage-gap planning: the demand (locator searches, rounded; worker sites marked by admins),
the demand with no station within a radius, and which outlets without a station to equip next
(`solver`: greedy and exact), turned into a roll-out wave of the registry.

Planning is for admins of a city branch and above (`require_planner`); everything reads through
the scoping chokepoint.
"""

import datetime
import math
from dataclasses import dataclass

import numpy as np
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _

from yizhan.audit.services import diff, record, snapshot
from yizhan.core import concurrency
from yizhan.core.geo import parse_point
from yizhan.orgs.models import Unit, UnitKind
from yizhan.orgs.scoping import Scope, scope_for, scoped
from yizhan.planning import solver
from yizhan.planning.models import DemandPoint, DemandSource

PLANNER_KINDS = (UnitKind.HEAD_OFFICE, UnitKind.PROVINCE, UnitKind.CITY)
RADIUS_CHOICES = (500, 1000)
DEFAULT_RADIUS = 1000
MAX_RADIUS = 5000
MAX_K = 1000
# A visitor's searches count at most this often an hour (a bot cannot make demand).
SEARCHES_PER_HOUR = 20
SITE_FIELDS = ["unit_id", "name", "lat", "lng", "weight"]
GRID = 0.01  # the uncovered-demand table's cells, ~1 km


def require_planner(user) -> Scope:
    """Admins of a city branch or above; anyone else gets 403."""
    scope = scope_for(user) if not isinstance(user, Scope) else user
    if not scope.can("admin"):
        raise PermissionDenied
    unit = Unit.objects.filter(pk=scope.unit_id).values_list("kind", flat=True).first()
    if unit not in PLANNER_KINDS:
        raise PermissionDenied
    return scope


# --- demand -----------------------------------------------------------------------------------------


def note_search(sender=None, *, request, lat: float, lng: float, station_id: int, **_kwargs) -> None:
    """Keep a located search as demand: the point rounded to ~100 m and the month, nothing else,
    counted once more if it is there already."""
    from django.core.cache import caches

    from yizhan.core.ratelimit import address_key, hit

    address = address_key(request)
    # Once over its hour's limit, an address stays over until the window ends: this process then
    # skips the counter's write (two statements) for every further search of that address.
    over_key = f"planning.search.over:{address}"
    local = caches["default"]
    if local.get(over_key):
        return
    usage = hit(request, "planning.search", address, SEARCHES_PER_HOUR, 3600)
    if usage.over:
        local.set(over_key, True, usage.retry_after)
        return
    _count(DemandSource.SEARCH, lat, lng, station_id)


def _count(source: str, lat: float, lng: float, station_id: int | None) -> bool:
    """One more at the rounded point this month, planned by the nearest station's outlet."""
    from yizhan.stations.models import Station

    unit_id = Station.objects.filter(pk=station_id).values_list("unit_id", flat=True).first()
    if unit_id is None:
        return False
    month = timezone.localdate().replace(day=1)
    key = {"unit_id": unit_id, "source": source, "lat": round(lat, 3), "lng": round(lng, 3), "month": month}
    with transaction.atomic():
        if DemandPoint.objects.filter(**key).update(weight=F("weight") + 1):
            return True
        try:
            with transaction.atomic():
                DemandPoint.objects.create(**key)
        except IntegrityError:  # another request created it meanwhile
            DemandPoint.objects.filter(**key).update(weight=F("weight") + 1)
    return True


def report_no_station(lat, lng, crs: str = "wgs84", request_id: str | None = None) -> bool:
    """A visitor says there is no station where they are: demand at that point (rounded), planned
    by the outlet of the nearest station. Validated like any point; False far from every station
    (beyond the locator's 50 km, no branch plans there). With a request id (a phone's offline
    queue), a resend counts nothing more and answers as the first did; the id used for another
    point is refused."""
    from yizhan.locator.services import MAX_RADIUS_M, index
    from yizhan.planning.models import ReportRef
    from yizhan.visits.services import clean_ref

    lat, lng = parse_point(lat, lng, crs)
    ref = clean_ref(request_id)
    point = (round(lat, 3), round(lng, 3))
    idx = index()
    rows, _metres = idx.nearest_rows(lat, lng, k=1, radius_m=MAX_RADIUS_M)
    with transaction.atomic():
        if ref is not None:
            earlier = ReportRef.objects.filter(ref=ref).first()
            if earlier is not None:
                if (earlier.lat, earlier.lng) != point:
                    raise ValidationError({"request_id": _("This request id was used for another place.")})
                return earlier.counted
            try:
                with transaction.atomic():
                    ReportRef.objects.create(ref=ref, lat=point[0], lng=point[1], counted=bool(rows))
            except IntegrityError:  # the same id sent twice at once: the other one counts
                return bool(rows)
        if not rows:
            return False
        return _count(DemandSource.REPORT, lat, lng, int(idx.ids[rows[0]]))


def clean_site(data: dict, *, scope: Scope) -> dict:
    errors: dict[str, str] = {}
    out: dict = {}
    code = str(data.get("unit") or "").strip()
    unit = scoped(scope, Unit).filter(code=code, closed_on__isnull=True).first() if code else None
    if unit is None:
        errors["unit"] = _("No unit with this code in your part of the network.")
    out["unit"] = unit
    name = str(data.get("name") or "").strip()
    if not name:
        errors["name"] = _("This field is required.")
    elif len(name) > 60:
        errors["name"] = _("At most %(n)s characters.") % {"n": 60}
    out["name"] = name
    try:
        out["lat"], out["lng"] = parse_point(data.get("lat"), data.get("lng"), data.get("crs") or "wgs84")
    except ValidationError as exc:
        errors.update({field: messages[0] for field, messages in exc.message_dict.items()})
    try:
        raw = data.get("weight")
        weight = int(str(raw if raw not in (None, "") else 1).strip())
    except ValueError:
        weight = 0
    if not 1 <= weight <= 10_000:
        errors["weight"] = _("Enter a whole number of workers between 1 and 10000.")
    out["weight"] = weight
    if errors:
        raise ValidationError(errors)
    out["lat"], out["lng"] = round(out["lat"], 6), round(out["lng"], 6)
    return out


@transaction.atomic
def add_site(*, actor, **data) -> DemandPoint:
    """A place where workers gather (a delivery hub, a market's loading bay), with how many."""
    scope = require_planner(actor)
    values = clean_site(data, scope=scope)
    site = DemandPoint.objects.create(
        source=DemandSource.SITE, month=timezone.localdate().replace(day=1), **values
    )
    record("demand_site.created", site, actor=actor, changes=diff({}, snapshot(site, SITE_FIELDS)))
    return site


@transaction.atomic
def remove_site(site: DemandPoint, *, actor, revision=None) -> None:
    require_planner(actor)
    site = DemandPoint.objects.select_for_update().get(pk=site.pk, source=DemandSource.SITE)
    concurrency.check(site, revision, actor=actor)
    record(
        "demand_site.deleted",
        site,
        actor=actor,
        changes=diff(snapshot(site, SITE_FIELDS), {}),
        object_repr=site.name,
    )
    site.delete()


# --- gaps -------------------------------------------------------------------------------------------


def clean_radius(value) -> int:
    text = str(value if value not in (None, "") else DEFAULT_RADIUS).strip()
    try:
        radius = int(text)
    except ValueError:
        raise ValidationError({"radius": _("Enter a whole number of metres.")}) from None
    if not 1 <= radius <= MAX_RADIUS:
        raise ValidationError({"radius": _("Must be between 1 and %(max)s metres.") % {"max": MAX_RADIUS}})
    return radius


def weak_stations() -> set[int]:
    """Active stations that miss a standard in force for every station (one naming no theme,
    the basic eight): they cover in name only, and their outlets may be chosen to be equipped."""
    from yizhan.stations import compliance
    from yizhan.stations.models import Station

    rules = [rule for rule in compliance.load_rules() if rule.theme_id is None]
    if not rules:
        return set()
    facts = compliance.load_facts(Station.objects.filter(status="active"))
    return {f.id for f in facts if any(rule.applies(f) and rule.lacking(f) for rule in rules)}


def station_positions(weak: set[int] | frozenset = frozenset()) -> np.ndarray:
    """Every station the public can use now (active) and not `weak`, as unit vectors: a station
    across a branch border covers demand all the same."""
    from yizhan.locator.index import STATUS_ACTIVE
    from yizhan.locator.loading import current_index

    idx = current_index()
    active = idx.status == STATUS_ACTIVE
    if weak:
        active &= ~np.isin(idx.ids, np.fromiter(weak, dtype=np.int64, count=len(weak)))
    return solver.unit_vectors(idx.lat[active], idx.lng[active])


def demand(unit: Unit, since: datetime.date | None = None) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(lat, lng, weight) of the demand points below `unit` (since a month)."""
    rows = DemandPoint.objects.filter(unit__path__startswith=unit.path)
    if since is not None:
        rows = rows.filter(month__gte=since)
    data = np.array(list(rows.values_list("lat", "lng", "weight")), dtype=float).reshape(-1, 3)
    return data[:, 0], data[:, 1], data[:, 2]


@dataclass
class Gaps:
    radius: int
    total: float
    uncovered: float
    cells: list[dict]  # {lat, lng, weight, nearest_m}, heaviest first


def gaps(unit: Unit, radius: int, *, limit: int = 50, weak: set[int] | frozenset = frozenset()) -> Gaps:
    """The demand below `unit` with no station (but `weak` ones) within `radius` metres, summed in
    ~1 km cells."""
    lat, lng, weight = demand(unit)
    nearest = solver.nearest_distance_m(solver.unit_vectors(lat, lng), station_positions(weak))
    return summarise(lat, lng, weight, nearest, radius, limit=limit)


def summarise(lat, lng, weight, nearest, radius: int, *, limit: int = 50) -> Gaps:
    out = nearest > radius
    cells: list[dict] = []
    if out.any():
        keys = np.column_stack((np.floor(lat[out] / GRID), np.floor(lng[out] / GRID))).astype(np.int64)
        unique, inverse = np.unique(keys, axis=0, return_inverse=True)
        inverse = inverse.ravel()
        sums = np.bincount(inverse, weights=weight[out])
        near = np.full(len(unique), np.inf)
        np.minimum.at(near, inverse, nearest[out])
        for c in np.argsort(-sums, kind="stable")[:limit].tolist():
            cells.append(
                {
                    "lat": (unique[c][0] + 0.5) * GRID,
                    "lng": (unique[c][1] + 0.5) * GRID,
                    "weight": int(sums[c]),
                    "nearest_m": None if math.isinf(near[c]) else int(near[c]),
                }
            )
    return Gaps(radius, float(weight.sum()), float(weight[out].sum()), cells)


# --- which outlets next -------------------------------------------------------------------------------


def candidates(unit: Unit, weak: set[int] | frozenset = frozenset()) -> list[Unit]:
    """Open outlets below `unit` with a position and no station the public can use, or only a
    `weak` one."""
    from yizhan.stations.models import Station

    equipped = (
        Station.objects.filter(status__in=["active", "temporarily_closed"])
        .exclude(pk__in=weak)
        .values("unit_id")
    )
    return list(
        Unit.objects.subtree(unit)
        .outlets()
        .filter(closed_on__isnull=True, lat__isnull=False, lng__isnull=False)
        .exclude(pk__in=equipped)
        .order_by("code")
    )


def clean_k(value, available: int) -> int:
    try:
        k = int(str(value).strip())
    except (TypeError, ValueError):
        raise ValidationError({"k": _("Enter a whole number of outlets.")}) from None
    if k <= 0:
        raise ValidationError({"k": _("Choose at least one outlet.")})
    if k > available:
        raise ValidationError(
            {"k": _("Only %(n)s outlets without a station can be chosen here.") % {"n": available}}
        )
    return k


@dataclass
class Plan:
    unit: Unit
    k: int
    radius: int
    outlets: list[Unit]  # the exact answer, most demand first
    covered: list[float]  # weight each chosen outlet alone covers, newly
    exact: solver.Answer
    greedy: solver.Answer
    total: float  # the demand not within `radius` of a station, below the unit
    candidates: int

    @property
    def gain_over_greedy(self) -> float:
        return self.exact.covered - self.greedy.covered


def plan(unit: Unit, *, k, radius, weak: bool = False, time_limit: float = 30.0) -> Plan:
    """K outlets without a station (or, with `weak`, with one below the basic standard) that newly
    cover the most demand out of reach of the (other) stations."""
    radius = clean_radius(radius)
    weak_ids = weak_stations() if weak else frozenset()
    pool = candidates(unit, weak_ids)
    k = clean_k(k, len(pool))
    lat, lng, weight = demand(unit)
    points = solver.unit_vectors(lat, lng)
    nearest = solver.nearest_distance_m(points, station_positions(weak_ids))
    out = nearest > radius
    pool_xyz = solver.unit_vectors([u.lat for u in pool], [u.lng for u in pool])
    problem = solver.build(points[out], weight[out], pool_xyz, radius)
    greedy = solver.greedy(problem, k)
    exact = solver.exact(problem, k, start=greedy, time_limit=time_limit)
    if exact.covered < greedy.covered:  # out of time before matching the greedy start
        exact = solver.Answer(
            greedy.chosen, greedy.covered, exact.seconds, exact.gap, exact.bound, exact.status
        )
    # Order the exact choice as a greedy would take it, for a wave's first steps.
    order, covered, taken = [], [], np.zeros(len(problem.groups), dtype=bool)
    remaining = list(exact.chosen)
    covers = {j: [] for j in remaining}
    for g, members in enumerate(problem.groups):
        for j in members.tolist():
            if j in covers:
                covers[j].append(g)
    while remaining:
        best = max(remaining, key=lambda j: (sum(problem.weights[g] for g in covers[j] if not taken[g]), -j))
        covered.append(float(sum(problem.weights[g] for g in covers[best] if not taken[g])))
        taken[covers[best]] = True
        order.append(best)
        remaining.remove(best)
    return Plan(
        unit=unit,
        k=k,
        radius=radius,
        outlets=[pool[j] for j in order],
        covered=covered,
        exact=exact,
        greedy=greedy,
        total=float(weight[out].sum()),
        candidates=len(pool),
    )


def plan_to_wave(*, actor, unit: Unit, outlets: str, name: str, standard, target_date):
    """The chosen outlets as a roll-out wave of the registry (its own rules check the outlets)."""
    from yizhan.stations import services as station_services

    require_planner(actor)
    return station_services.save_wave(
        actor=actor, unit=unit, name=name, standard=standard, target_date=target_date, outlets=outlets
    )
