"""The staff API: the same verbs as the pages, scoped, masked in lists, 422 naming the field, 409
on a stale edit."""

import pytest

from yizhan.cases import services
from yizhan.cases.models import Case
from yizhan.cases.tests.conftest import PDF

pytestmark = pytest.mark.django_db
P = "/api/v1/manage/cases"


def post(client, url, body):
    return client.post(url, body, content_type="application/json")


def test_open_work_and_close_a_fraud_case_over_the_api(api):
    client = api("sanxia_manager")
    response = post(
        client,
        P,
        {
            "unit": "CQ-SXGC",
            "case_type": "fraud",
            "title": "客户疑遭诈骗",
            "person_name": "刘先生",
            "person_phone": "13812345678",
        },
    )
    assert response.status_code == 201, response.content
    case = response.json()
    assert [s["step"] for s in case["steps"]][:2] == ["calmed", "police_called"]
    assert case["person_phone"] == "13812345678" and not case["personal_data_masked"]
    for step in ["calmed", "police_called", "transaction_stopped", "follow_up"]:
        assert post(client, f"{P}/{case['id']}/steps/{step}", {"note": "ok"}).status_code == 200
    closed = post(
        client,
        f"{P}/{case['id']}/close",
        {"outcome": "protected", "summary": "保住", "amount_protected": "8800"},
    )
    assert closed.status_code == 200 and closed.json()["amount_protected"] == "8800.00"
    listed = client.get(f"{P}?status=closed").json()
    row = next(r for r in listed if r["id"] == case["id"])
    assert row["person_phone"] == "138****5678" and row["person_name"] == "刘**" and row["need"] is None


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"unit": "CQ-SXGC", "case_type": "burglary", "title": "x"}, "case_type"),
        ({"unit": "SZ-GM", "case_type": "fraud", "title": "x"}, "unit"),
        (
            {"unit": "CQ-SXGC", "case_type": "fraud", "title": "x", "amount_protected": "0"},
            "amount_protected",
        ),
        (
            {"unit": "CQ-SXGC", "case_type": "fraud", "title": "x", "amount_protected": "-1"},
            "amount_protected",
        ),
        ({"unit": "CQ-SXGC", "case_type": "fraud", "title": ""}, "title"),
    ],
)
def test_bad_input_answers_422_naming_the_field(api, body, field):
    before = Case.objects.count()
    response = post(api("sanxia_manager"), P, body)
    assert response.status_code == 422
    assert field in str(response.json()["detail"])
    assert Case.objects.count() == before


def test_a_step_out_of_order_is_422_on_step(api, new_case):
    case = new_case()
    response = post(api("cq_admin"), f"{P}/{case.pk}/steps/follow_up", {})
    assert response.status_code == 422 and "step" in str(response.json()["detail"])


def test_bad_input_on_every_action_is_4xx_and_writes_nothing(api, new_case, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    case = new_case()
    client = api("cq_admin")
    assert post(client, f"{P}/{case.pk}/close", {"outcome": "x", "summary": ""}).status_code == 422
    assert post(client, f"{P}/{case.pk}/instructions", {"instruction": 999999999}).status_code == 422
    assert post(client, f"{P}/{case.pk}/proposals", {"field": "colour", "term": "x"}).status_code == 422
    assert client.patch(f"{P}/{case.pk}", {"title": "x"}, content_type="application/json").status_code == 422
    fake = client.post(f"{P}/{case.pk}/documents", {"file": _file(b"<html></html>", "x.png")})
    assert fake.status_code == 422 and "file" in str(fake.json()["detail"])
    case.refresh_from_db()
    assert case.status == "open" and not case.documents.exists() and not case.rule_proposals.exists()
    ok = client.post(f"{P}/{case.pk}/documents", {"file": _file(PDF, "x.png"), "title": "回执"})
    assert ok.status_code == 201 and ok.json()["kind"] == "pdf"


def _file(data, name):
    from django.core.files.uploadedfile import SimpleUploadedFile

    return SimpleUploadedFile(name, data, content_type="image/png")


def test_a_stale_patch_is_409_naming_what_changed(api, new_case, users):
    case = new_case()
    based_on = case.revision
    services.update_case(case, actor=users["hq_admin"], police_reference="JQ-1")
    response = api("cq_admin").patch(
        f"{P}/{case.pk}", {"title": "新标题", "revision": based_on}, content_type="application/json"
    )
    assert response.status_code == 409 and "police_reference" in response.json()["fields"]
    ok = api("cq_admin").patch(
        f"{P}/{case.pk}", {"title": "新标题", "revision": based_on + 1}, content_type="application/json"
    )
    assert ok.status_code == 200 and ok.json()["revision"] == based_on + 2


@pytest.mark.parametrize(
    ("username", "get", "patch"),
    [("hq_admin", 200, 200), ("cq_admin", 404, 404), ("sz_viewer", 200, 403), ("sanxia_manager", 404, 404)],
)
def test_scope_and_role_on_a_shenzhen_case(api, new_case, username, get, patch):
    case = new_case("SZ-GM")
    client = api(username)
    detail = client.get(f"{P}/{case.pk}")
    assert detail.status_code == get
    if get == 200:
        # sz_viewer sits above 光明 but is neither its staff nor an admin: masked.
        assert detail.json()["personal_data_masked"] is (username == "sz_viewer")
    response = client.patch(
        f"{P}/{case.pk}", {"title": "x", "revision": case.revision}, content_type="application/json"
    )
    assert response.status_code == patch


def test_head_office_accepts_a_proposal_over_the_api(api, new_case):
    case = new_case()
    proposal = post(
        api("cq_admin"), f"{P}/{case.pk}/proposals", {"field": "payee_name", "term": "某某安全中心"}
    )
    assert proposal.status_code == 201
    pid = proposal.json()["id"]
    assert post(api("cq_admin"), f"{P}/proposals/{pid}/decide", {"accept": True}).status_code == 403
    decided = post(api("hq_admin"), f"{P}/proposals/{pid}/decide", {"accept": True})
    assert decided.status_code == 200 and decided.json()["rule"]


def test_figures(api, new_case):
    new_case()
    body = api("cq_admin").get(f"{P}/figures?unit=CQ-SXGC").json()
    assert body["opened"] >= 1 and {r["case_type"] for r in body["by_type"]} >= {"fraud", "complaint"}
    assert api("cq_admin").get(f"{P}/figures?unit=SZ").status_code == 404


def test_figures_of_one_station(api, users, unit):
    from yizhan.stations.models import Station

    station = Station.objects.filter(unit__code="CQ-SXGC").first()
    case = services.open_case(
        actor=users["hq_admin"],
        unit=unit("CQ-SXGC"),
        case_type="vulnerable",
        title="助老",
        station=station.code,
    )
    body = api("cq_admin").get(f"{P}/figures?station={station.code}").json()
    assert {r["case_type"]: r["opened"] for r in body["by_type"]}["vulnerable"] >= 1
    assert case.station == station
    assert api("sz_viewer").get(f"{P}/figures?station={station.code}").status_code == 404
    page = api("cq_admin").get(f"/manage/cases/?station={station.code}&status=all")
    assert page.status_code in (200, 302)  # (a page: a token is not a session)
