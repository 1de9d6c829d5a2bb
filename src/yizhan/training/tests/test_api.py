import pytest

from yizhan.training.models import Certificate, Session
from yizhan.training.tests.conftest import at

pytestmark = pytest.mark.django_db
A = "/api/v1/manage/training"


def test_the_api_creates_a_course_and_a_session_and_records_results(api, cq_people):
    client = api("cq_admin")
    answer = client.post(
        f"{A}/courses",
        {"code": "CQ-API", "title": "急救", "hours": "8", "pass_mark": 75, "provider_kind": "external",
         "provider": "急救中心", "certificate": "急救证", "validity_months": 24, "first_responder": True},
        content_type="application/json",
    )  # fmt: skip
    assert answer.status_code == 201, answer.content
    course = answer.json()
    answer = client.post(
        f"{A}/sessions",
        {"course": "CQ-API", "unit": "CQ", "venue_kind": "outlets", "outlets": ["CQ-SXGC"],
         "starts_at": at("2022-11-15").isoformat(), "ends_at": at("2022-11-15", 17).isoformat(), "capacity": 20},
        content_type="application/json",
    )  # fmt: skip
    assert answer.status_code == 201, answer.content
    sid = answer.json()["id"]
    answer = client.post(f"{A}/sessions/{sid}/invite", {"unit": "CQ-SXGC"}, content_type="application/json")
    assert answer.json() == {"invited": 5}
    answer = client.post(
        f"{A}/sessions/{sid}/results", {"badge": "CQ001", "grade": 88}, content_type="application/json"
    )
    assert answer.status_code == 200 and answer.json()["status"] == "passed"
    cert = Certificate.objects.get(enrolment__session_id=sid)
    assert str(cert.expires_on) == "2024-11-14"
    answer = client.get(f"{A}/people/{cq_people[0].pk}")
    assert answer.json()["certificates"][0]["expires_on"] == "2024-11-14"
    answer = client.delete(f"{A}/sessions/{sid}/results/{cq_people[0].pk}")
    assert answer.status_code == 200 and Certificate.objects.get(pk=cert.pk).withdrawn_at is not None
    answer = client.patch(
        f"{A}/courses/{course['id']}",
        {"revision": course["revision"], "pass_mark": 70},
        content_type="application/json",
    )
    assert answer.status_code == 200
    stale = client.patch(
        f"{A}/courses/{course['id']}",
        {"revision": course["revision"], "pass_mark": 60},
        content_type="application/json",
    )
    assert stale.status_code == 409


@pytest.mark.parametrize(
    ("path", "body", "field"),
    [
        ("/courses", {"code": "X", "title": "x", "hours": "1", "pass_mark": 1, "provider_kind": "in_house", "certificate": "c", "validity_months": 0}, "validity_months"),
        ("/courses", {"code": "X", "title": "x", "hours": "1", "pass_mark": "abc", "provider_kind": "in_house"}, "pass_mark"),
        ("/sessions", {"course": "SZ-FR", "unit": "CQ", "venue_kind": "external", "venue": "x", "starts_at": "2022-01-01T09:00", "ends_at": "2022-01-01T10:00", "capacity": 1}, "course"),
        ("/sessions", {"course": "CQ-FR", "unit": "SZ", "venue_kind": "external", "venue": "x", "starts_at": "2022-01-01T09:00", "ends_at": "2022-01-01T10:00", "capacity": 1}, "unit"),
        ("/sessions", {"course": "CQ-FR", "unit": "CQ", "venue_kind": "external", "venue": "x", "starts_at": "2022-01-01T09:00", "ends_at": "2021-01-01T10:00", "capacity": 1}, "ends_at"),
        ("/drills", {"outlet": "CQ-SXGC", "kind": "fire", "held_at": "abc", "scenario": "x"}, "held_at"),
    ],
)  # fmt: skip
def test_bad_api_input_is_422_naming_the_field(api, course, path, body, field):
    before = Session.objects.count()
    answer = api("cq_admin").post(A + path, body, content_type="application/json")
    assert answer.status_code == 422, answer.content
    assert field in str(answer.json()["detail"])
    assert Session.objects.count() == before


def test_a_result_for_someone_not_enrolled_or_a_bad_grade_is_422(api, held_session, cq_people):
    client = api("cq_admin")
    url = f"{A}/sessions/{held_session.pk}/results"
    assert client.post(url, {"badge": "NOPE"}, content_type="application/json").status_code == 422
    assert (
        client.post(
            url, {"entry": cq_people[0].pk, "grade": "abc"}, content_type="application/json"
        ).status_code
        == 422
    )
    assert (
        client.post(
            url, {"entry": cq_people[0].pk, "grade": 101}, content_type="application/json"
        ).status_code
        == 422
    )


@pytest.mark.parametrize(
    ("username", "sz", "write"),
    [("hq_admin", 200, 200), ("cq_admin", 404, 404), ("sanxia_manager", 404, 404), ("sz_viewer", 200, 403)],
)
def test_the_api_matrix(api, username, sz, write):
    session = Session.objects.filter(course__code="SZ-FR").first()
    client = api(username)
    assert client.get(f"{A}/sessions/{session.pk}").status_code == sz
    e = session.enrolments.first()
    answer = client.post(
        f"{A}/sessions/{session.pk}/results",
        {"entry": e.entry_id, "grade": 90},
        content_type="application/json",
    )
    assert answer.status_code == write


def test_coverage_and_expiring_lists(api):
    client = api("sz_viewer")
    fig = client.get(f"{A}/coverage?unit=SZ").json()
    assert fig["total"]["outlets"] > 0 and fig["staff"]["certified"] > 0
    rows = client.get(f"{A}/certificates/expiring?within=30").json()
    assert rows and all(r["unit"] for r in rows)
    assert api("cq_admin").get(f"{A}/coverage?unit=SZ").status_code == 404
    assert client.get(f"{A}/certificates/expiring?within=0").status_code == 422
