"""Planning: the solver against brute force, greedy ≤ exact; the gaps and the plan on the demo
network; the plan made a wave; demand from searches; bad input; the permission matrix."""

import itertools

import numpy as np
import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from yizhan.audit.models import AuditEvent
from yizhan.core.tests.pagecheck import problems
from yizhan.planning import services, solver
from yizhan.planning.models import DemandPoint, DemandSource
from yizhan.stations.models import RolloutWave


@pytest.fixture
def new_outlets(db):
    """The full demo's outlets without a station, with demand around them (the small demo has none)."""
    import random

    from yizhan.planning.demo import add_outlets_with_demand

    return add_outlets_with_demand(random.Random(18))


@pytest.mark.parametrize("seed", range(6))
def test_exact_matches_brute_force_and_greedy_is_never_better(seed):
    r = np.random.default_rng(seed)
    n, m, k = 250, 11, int(r.integers(1, 5))
    lat, lng = 29.5 + r.normal(0, 0.02, n), 106.5 + r.normal(0, 0.02, n)
    clat, clng = 29.5 + r.normal(0, 0.02, m), 106.5 + r.normal(0, 0.02, m)
    problem = solver.build(
        solver.unit_vectors(lat, lng), r.integers(1, 9, n), solver.unit_vectors(clat, clng), 1200
    )
    best = max(solver.covered_weight(problem, c) for c in itertools.combinations(range(m), k))
    greedy = solver.greedy(problem, k)
    exact = solver.exact(problem, k, start=greedy)
    assert exact.covered == pytest.approx(best)
    assert greedy.covered <= exact.covered + 1e-9
    assert exact.gap == pytest.approx(0, abs=1e-6) and len(exact.chosen) <= k
    assert solver.covered_weight(problem, greedy.chosen) == pytest.approx(greedy.covered)


def test_a_point_is_covered_within_the_radius_only():
    point = solver.unit_vectors([29.5], [106.5])
    near = solver.unit_vectors([29.5 + 900 / 111_195], [106.5])  # ~900 m north
    assert len(solver.build(point, [1], near, 1000).groups) == 1
    assert len(solver.build(point, [1], near, 500).groups) == 0


def test_demo_plan_covers_the_demand_and_becomes_a_wave(db, users, unit, new_outlets):
    cq = unit("CQ")
    gaps = services.gaps(cq, 1000)
    assert gaps.uncovered > 0 and gaps.cells
    plan = services.plan(cq, k=2, radius=1000)
    assert len(plan.outlets) == 2 and plan.exact.covered >= plan.greedy.covered > 0
    assert plan.covered == sorted(plan.covered, reverse=True)
    from yizhan.stations.models import Standard

    standard = Standard.objects.filter(is_active=True).first()
    wave = services.plan_to_wave(
        actor=users["cq_admin"],
        unit=cq,
        outlets=" ".join(u.code for u in plan.outlets),
        name="下一批驿站",
        standard=standard,
        target_date="2027-06-30",
    )
    assert set(wave.outlets.values_list("code", flat=True)) == {u.code for u in plan.outlets}


@pytest.mark.parametrize(
    ("k", "radius", "field"),
    [
        (0, 1000, "k"),
        (-3, 1000, "k"),
        (10**6, 1000, "k"),
        ("x", 1000, "k"),
        (2, 0, "radius"),
        (2, "abc", "radius"),
        (2, 99999, "radius"),
    ],
)
def test_bad_plan_requests_name_the_field(db, unit, new_outlets, k, radius, field):
    with pytest.raises(ValidationError) as caught:
        services.plan(unit("CQ"), k=k, radius=radius)
    assert field in caught.value.message_dict


def test_a_search_is_kept_rounded_and_counted(client, db):
    DemandPoint.objects.filter(source=DemandSource.SEARCH).delete()
    for _ in range(2):
        client.get("/", {"lat": "29.556612", "lng": "106.456934"})
    client.get("/", {"city": "CQ"})  # a picked city is not a searched point
    rows = list(DemandPoint.objects.filter(source=DemandSource.SEARCH).values_list("lat", "lng", "weight"))
    assert rows == [(29.557, 106.457, 2)]


def test_sites_are_audited_and_checked(db, users):
    site = services.add_site(
        actor=users["cq_admin"], unit="CQ", name="快递分拨点", lat=29.56, lng=106.55, weight=40
    )
    assert AuditEvent.objects.filter(action="demand_site.created", object_id=str(site.pk)).exists()
    with pytest.raises(ValidationError) as caught:
        services.add_site(actor=users["cq_admin"], unit="SZ", name="某地", lat=22.5, lng=114.0, weight=0)
    assert {"unit", "weight"} <= set(caught.value.message_dict)
    with pytest.raises(PermissionDenied):
        services.add_site(actor=users["sanxia_manager"], unit="CQ-SXGC", name="某地", lat=29.5, lng=106.5)
    services.remove_site(site, actor=users["cq_admin"], revision=site.revision)
    assert AuditEvent.objects.filter(action="demand_site.deleted").exists()


# Admins of a city and above plan; managers and viewers may not (403); another city's plan is 404.
MATRIX = {
    "hq_admin": 200,
    "cq_admin": 200,
    "sd_admin": 200,
    "sanxia_manager": 403,
    "sz_viewer": 403,
    "sm_manager": 403,
}


@pytest.mark.parametrize(("username", "status"), MATRIX.items())
def test_planning_pages_permission_matrix(client_for, new_outlets, username, status):
    client = client_for(username)
    response = client.get("/manage/planning/", {"k": "1"})
    assert response.status_code == status
    if status == 200:
        assert problems(response.content.decode(), allow=("wgs84", "gcj02", "bd09")) == []
    assert client.get("/manage/planning/sites/new/").status_code == status


def test_another_citys_plan_is_not_found(client_for):
    assert client_for("sd_admin").get("/manage/planning/", {"unit": "CQ"}).status_code == 404
    assert client_for("cq_admin").get("/manage/planning/", {"unit": "SZ"}).status_code == 404


def test_the_page_plans_and_makes_a_wave(client_for, db, new_outlets):
    client = client_for("cq_admin")
    html = client.get("/manage/planning/", {"k": "2", "radius": "1000"}).content.decode()
    assert "make_wave" in html or "/manage/planning/wave/" in html
    import re

    outlets = re.search(r'name="outlets" value="([^"]+)"', html).group(1)
    from yizhan.stations.models import Standard

    response = client.post(
        "/manage/planning/wave/",
        {
            "unit": "CQ",
            "outlets": outlets,
            "name": "下一批",
            "standard": Standard.objects.filter(is_active=True).first().pk,
            "target_date": "2027-06-30",
        },
    )
    assert response.status_code == 302
    assert RolloutWave.objects.filter(name="下一批").exists()
    bad = client.get("/manage/planning/", {"k": "0"})
    assert bad.status_code == 200 and 'role="alert"' in bad.content.decode()
    forged = client.post(
        "/manage/planning/wave/",
        {"unit": "CQ", "outlets": "SZ-NOPE", "name": "x", "standard": "1", "target_date": "2027-06-30"},
    )
    assert forged.status_code == 302 and not RolloutWave.objects.filter(name="x").exists()


def test_no_station_here_is_counted_rounded_and_rate_limited(client, db):
    DemandPoint.objects.filter(source=DemandSource.REPORT).delete()
    response = client.post(
        "/no-station/", {"lat": "29.71234", "lng": "106.63456", "back": "/?lat=29.7&lng=106.6"}
    )
    assert response.status_code == 200 and 'href="/?lat=29.7&amp;lng=106.6"' in response.content.decode()
    assert problems(response.content.decode()) == []
    row = DemandPoint.objects.get(source=DemandSource.REPORT)
    assert (row.lat, row.lng, row.weight) == (29.712, 106.635, 1)
    bad = client.post("/no-station/", {"lat": "91", "lng": "106.6"})
    assert bad.status_code == 422 and 'role="alert"' in bad.content.decode()
    forged = client.post("/no-station/", {"lat": "29.7", "lng": "106.6", "back": "//evil.example/"})
    assert "evil.example" not in forged.content.decode()
    statuses = [client.post("/no-station/", {"lat": "29.7", "lng": "106.6"}).status_code for _ in range(5)]
    assert statuses[-1] == 429


def test_weak_stations_count_as_missing_and_their_outlets_as_candidates(db, unit, actor_station_weak):
    cq = unit("CQ")
    station = actor_station_weak
    weak = services.weak_stations()
    assert station.pk in weak
    plain = {u.code for u in services.candidates(cq)}
    with_weak = {u.code for u in services.candidates(cq, weak)}
    assert station.unit.code in with_weak - plain
    assert len(services.station_positions(weak)) < len(services.station_positions())
    plan = services.plan(cq, k=len(with_weak), radius=1000, weak=True)
    assert plan.candidates == len(with_weak)


@pytest.fixture
def actor_station_weak(users):
    """CQ-SXGC without drinking water: below the basic standard."""
    from yizhan.stations import services as station_services
    from yizhan.stations.models import Station

    station = Station.objects.select_related("unit").get(code="CQ-SXGC")
    station_services.set_facility_state(station, "drinking_water", actor=users["hq_admin"], state="no")
    return station
