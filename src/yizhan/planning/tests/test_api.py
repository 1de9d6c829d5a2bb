"""The planning API for staff: the gaps, the plan and the wave, with the pages' permissions (admins
of a city branch and above; another branch's unit 404) and bad input named by field."""

import json

import pytest

from yizhan.orgs.scoping import scope_for
from yizhan.orgs.services import create_api_token
from yizhan.planning import services
from yizhan.planning.tests.test_planning import MATRIX, new_outlets  # noqa: F401  (fixture)
from yizhan.stations.models import RolloutWave, Standard


def _headers(users, username):
    _token, raw = create_api_token(user=users[username], name="test")
    return {"HTTP_AUTHORIZATION": f"Bearer {raw}"}


@pytest.mark.parametrize(("username", "status"), MATRIX.items())
def test_the_api_permission_matrix(client, users, new_outlets, username, status):  # noqa: F811
    from yizhan.orgs.models import Unit

    headers = _headers(users, username)
    own = Unit.objects.get(pk=scope_for(users[username]).unit_id).code
    assert client.get(f"/api/v1/manage/planning/gaps?unit={own}", **headers).status_code == status
    assert client.get(f"/api/v1/manage/planning/plan?unit={own}&k=1", **headers).status_code in (status, 422)


def test_gaps_plan_and_wave_through_the_api(client, users, unit, new_outlets):  # noqa: F811
    headers = _headers(users, "cq_admin")
    gaps = client.get("/api/v1/manage/planning/gaps?unit=CQ&radius=1000", **headers).json()
    expected = services.gaps(unit("CQ"), 1000, limit=500)
    assert gaps["uncovered"] == expected.uncovered and gaps["cells"] == expected.cells
    plan = client.get("/api/v1/manage/planning/plan?unit=CQ&k=2", **headers).json()
    assert len(plan["outlets"]) == 2 and plan["greedy_covered"] <= plan["exact_covered"]
    response = client.post(
        "/api/v1/manage/planning/wave",
        json.dumps(
            {
                "unit": "CQ",
                "outlets": " ".join(o["code"] for o in plan["outlets"]),
                "name": "接口批次",
                "standard": Standard.objects.filter(is_active=True).first().pk,
                "target_date": "2027-06-30",
            }
        ),
        content_type="application/json",
        **headers,
    )
    assert response.status_code == 201
    assert RolloutWave.objects.get(pk=response.json()["id"]).outlets.count() == 2
    assert client.get("/api/v1/manage/planning/gaps?unit=SZ", **headers).status_code == 404


@pytest.mark.parametrize(
    ("query", "field"),
    [("k=0", "k"), ("k=99999", "k"), ("k=x", "k"), ("k=1&radius=0", "radius"), ("k=1&radius=9000", "radius")],
)
def test_bad_plan_requests_are_named(client, users, new_outlets, query, field):  # noqa: F811
    response = client.get(f"/api/v1/manage/planning/plan?unit=CQ&{query}", **_headers(users, "cq_admin"))
    assert response.status_code == 422 and response.json()["detail"][0]["loc"][-1] == field
    wave = client.post(
        "/api/v1/manage/planning/wave",
        json.dumps(
            {"unit": "CQ", "outlets": "SZ-NOPE", "name": "x", "standard": 1, "target_date": "2027-06-30"}
        ),
        content_type="application/json",
        **_headers(users, "cq_admin"),
    )
    assert wave.status_code == 422 and not RolloutWave.objects.filter(name="x").exists()
