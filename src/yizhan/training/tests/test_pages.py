"""Pages and the permission matrix of the named users."""

import pytest

from yizhan.core.tests.pagecheck import problems
from yizhan.training import services
from yizhan.training.models import Course, Drill, Session
from yizhan.training.tests.conftest import at

pytestmark = pytest.mark.django_db

# username: (sees the Shenzhen demo session, may change it, sees Chongqing's, may change it, creates courses)
MATRIX = {
    "hq_admin": (True, True, True, True, True),
    "cq_admin": (False, False, True, True, True),
    "sanxia_manager": (False, False, False, False, False),
    "sz_viewer": (True, False, False, False, False),
}


@pytest.fixture
def sz_session():
    return Session.objects.filter(course__code="SZ-FR").order_by("starts_at").first()


@pytest.mark.parametrize("username", list(MATRIX))
def test_session_pages_answer_each_named_user_as_the_matrix_says(
    client_for, held_session, sz_session, username
):
    sees_sz, changes_sz, sees_cq, changes_cq, creates = MATRIX[username]
    client = client_for(username)
    for session, sees, changes in ((sz_session, sees_sz, changes_sz), (held_session, sees_cq, changes_cq)):
        assert client.get(f"/manage/training/sessions/{session.pk}/").status_code == (200 if sees else 404)
        e = session.enrolments.first()
        answer = client.post(
            f"/manage/training/sessions/{session.pk}/result/", {"enrolment": e.pk, "grade": "85"}
        )
        assert answer.status_code == (302 if changes else 403 if sees else 404)
    page = client.get("/manage/training/courses/new/")
    assert page.status_code == (200 if creates else 403)


@pytest.mark.parametrize("username", list(MATRIX))
def test_every_list_page_answers_and_shows_only_the_scope(client_for, username, held_session):
    client = client_for(username)
    for url in [
        "/manage/training/", "/manage/training/courses/", "/manage/training/sessions/", "/manage/training/people/",
        "/manage/training/expiring/", "/manage/training/drills/", "/manage/training/coverage.xlsx",
        "/manage/training/expiring.xlsx",
    ]:  # fmt: skip
        assert client.get(url).status_code == 200, url
    drills = client.get("/manage/training/drills/").content.decode()
    assert ("梅林一村" in drills) is MATRIX[username][0]
    sessions = client.get("/manage/training/sessions/").content.decode()
    assert (f"/manage/training/sessions/{held_session.pk}/" in sessions) is MATRIX[username][2]


def test_another_subtree_unit_in_the_dashboard_is_404(client_for):
    assert client_for("cq_admin").get("/manage/training/?unit=SZ").status_code == 404
    assert client_for("sz_viewer").get("/manage/training/?unit=SZ-FT").status_code == 200


def test_the_chongqing_course_is_not_shenzhens_and_head_office_courses_are_everyones(
    client_for, users, unit, course
):
    hq_course = services.create_course(
        actor=users["hq_admin"], owner=unit("HQ"), code="HQ-AED", title="AED 操作", hours="4", pass_mark=80,
        provider_kind="in_house", certificate="AED 证", validity_months=24,
    )  # fmt: skip
    page = client_for("sz_viewer").get("/manage/training/courses/").content.decode()
    assert "HQ-AED" in page and "CQ-FR" not in page and "SZ-FR" in page
    # A course of the units above is used, not edited, below.
    assert client_for("cq_admin").get(f"/manage/training/courses/{hq_course.pk}/").status_code == 403
    assert client_for("cq_admin").get(f"/manage/training/courses/{course.pk}/").status_code == 200
    assert client_for("sz_viewer").get(f"/manage/training/courses/{course.pk}/").status_code == 404


def test_bad_form_input_is_a_form_error_not_a_500(client_for, held_session):
    client = client_for("cq_admin")
    answer = client.post(
        "/manage/training/courses/new/",
        {"code": "X1", "title": "x", "hours": "1", "pass_mark": "abc", "provider_kind": "in_house"},
    )
    assert answer.status_code == 200 and "pass_mark" in answer.context["form"].errors
    answer = client.post(
        "/manage/training/sessions/new/",
        {"course": "CQ-FR", "unit": "CQ", "venue_kind": "outlets", "outlets": "CQ-SXGC", "starts_at": "2022-11-15 10:00",
         "ends_at": "2022-11-15 09:00", "capacity": "10"},
    )  # fmt: skip
    assert answer.status_code == 200 and "ends_at" in answer.context["form"].errors
    answer = client.post(
        f"/manage/training/sessions/{held_session.pk}/result/", {"enrolment": "0", "grade": "90"}
    )
    assert answer.status_code == 400
    answer = client.post(f"/manage/training/sessions/{held_session.pk}/badge/", {"badge": "NOPE"})
    assert answer.status_code == 400
    from django.core.files.uploadedfile import SimpleUploadedFile

    answer = client.post(
        f"/manage/training/sessions/{held_session.pk}/import/",
        {"file": SimpleUploadedFile("x.xlsx", b"PK\x03\x04zz")},
    )
    assert answer.status_code == 400
    answer = client.post(
        "/manage/training/drills/new/",
        {"outlet": "CQ-SXGC", "kind": "fire", "held_at": "abc", "scenario": "x"},
    )
    assert answer.status_code == 200 and "held_at" in answer.context["form"].errors


def test_a_staff_member_sees_their_own_record(client_for, users, held_session, cq_people):
    cq_people[0].user = users["sanxia_manager"]
    cq_people[0].save()
    services.record_result(held_session.enrolments.get(entry=cq_people[0]), actor=users["cq_admin"], grade=90)
    page = client_for("sanxia_manager").get("/manage/training/me/")
    assert page.status_code == 200 and "应急第一响应人证书" in page.content.decode()
    assert client_for("sz_viewer").get("/manage/training/me/").status_code == 404


@pytest.mark.parametrize("lang", ["zh-hans", "en"])
def test_the_pages_read_in_the_readers_language(client_for, lang):
    client = client_for("hq_admin")
    client.defaults["HTTP_ACCEPT_LANGUAGE"] = lang
    session = Session.objects.filter(course__code="SZ-FA").first()
    drill = Drill.objects.get(unit__code="SZ-JT")
    person = session.enrolments.first().entry
    course = Course.objects.get(code="SZ-FR")
    for url in [
        "/manage/training/?unit=SZ", "/manage/training/courses/", "/manage/training/sessions/",
        f"/manage/training/sessions/{session.pk}/", f"/manage/training/people/{person.pk}/",
        "/manage/training/expiring/?unit=SZ", "/manage/training/drills/", f"/manage/training/drills/{drill.pk}/",
        "/manage/training/people/?unit=SZ-FT", f"/manage/training/courses/{course.pk}/",
    ]:  # fmt: skip
        page = client.get(url)
        assert page.status_code == 200, url
        assert problems(page.content.decode(), lang=lang) == [], url


def test_the_shenzhen_dashboard_shows_the_programme(client_for):
    page = client_for("sz_viewer").get("/manage/training/?unit=SZ")
    shares = page.context["shares"]
    assert shares["trained"] > 0 and shares["certified"] > 0
    assert page.context["expiring"] >= 1
    assert page.context["figure"]["total"]["outlets"] > 0


def test_session_with_warnings_on_a_holiday_shows_them(client_for, users, unit, course):
    s = services.create_session(
        actor=users["cq_admin"], course=course, unit=unit("CQ"), venue_kind="outlets", outlets=["CQ-SXGC"],
        starts_at=at("2026-10-01", 9), ends_at=at("2026-10-01", 12), capacity=10,
    )  # fmt: skip
    page = client_for("cq_admin").get(f"/manage/training/sessions/{s.pk}/")
    assert "2026-10-01" in "".join(page.context["warnings"])
