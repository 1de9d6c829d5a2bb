import datetime

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from yizhan.audit.models import AuditEvent
from yizhan.training import services
from yizhan.training.models import Certificate, Course, Enrolment, Session
from yizhan.training.tests.conftest import at, enrolment_of

pytestmark = pytest.mark.django_db


def test_a_pass_grants_the_certificate_with_its_expiry_computed_from_the_course(
    users, held_session, cq_people
):
    e = services.record_result(enrolment_of(held_session, cq_people[0]), actor=users["cq_admin"], grade="92")
    assert e.status == "passed"
    cert = Certificate.objects.get(enrolment=e)
    assert (cert.issued_on, cert.expires_on) == (datetime.date(2022, 11, 15), datetime.date(2025, 11, 14))
    assert cert.first_responder and cert.name == "应急第一响应人证书" and cert.unit_id == cq_people[0].unit_id
    assert cert.is_valid(datetime.date(2025, 11, 14)) and not cert.is_valid(datetime.date(2025, 11, 15))
    assert AuditEvent.objects.filter(action="training.result", object_id=str(e.pk)).exists()


def test_failing_or_deleting_a_result_withdraws_what_it_granted(users, held_session, cq_people):
    admin = users["cq_admin"]
    e = services.record_result(enrolment_of(held_session, cq_people[0]), actor=admin, grade="92")
    services.record_result(e, actor=admin, grade="79.5")
    cert = Certificate.objects.get(enrolment=e)
    assert Enrolment.objects.get(pk=e.pk).status == "failed" and cert.withdrawn_at is not None
    services.record_result(e, actor=admin, grade="80")  # the pass mark itself passes
    assert Certificate.objects.get(enrolment=e).withdrawn_at is None
    services.delete_result(e, actor=admin)
    e.refresh_from_db()
    assert (e.status, e.grade) == ("accepted", None)
    assert Certificate.objects.get(enrolment=e).withdrawn_at is not None
    assert AuditEvent.objects.filter(action="training.result_deleted").exists()


def test_a_course_without_a_certificate_grants_none(users, unit, cq_people):
    course = services.create_course(
        actor=users["cq_admin"], owner=unit("CQ"), code="CQ-FA", title="急救普及", hours="2", pass_mark=60,
        provider_kind="in_house",
    )  # fmt: skip
    s = services.create_session(
        actor=users["cq_admin"], course=course, unit=unit("CQ"), venue_kind="external", venue="礼堂",
        starts_at=at("2022-10-10"), ends_at=at("2022-10-10", 11), capacity=5,
    )  # fmt: skip
    services.invite(s, actor=users["cq_admin"], entries=[cq_people[0].pk])
    services.record_result(s.enrolments.get(), actor=users["cq_admin"], grade=99)
    assert not Certificate.objects.filter(entry=cq_people[0]).exists()


@pytest.mark.parametrize(
    ("grade", "status"),
    [("abc", ""), ("101", ""), ("-1", ""), ("NaN", ""), ("80.25", ""), ("", ""), ("", "passed")],
)
def test_a_bad_grade_is_refused_naming_the_field_and_nothing_changes(
    users, held_session, cq_people, grade, status
):
    e = enrolment_of(held_session, cq_people[0])
    with pytest.raises(ValidationError) as exc:
        services.record_result(e, actor=users["cq_admin"], grade=grade, status=status)
    assert set(exc.value.message_dict) <= {"grade", "status"}
    e.refresh_from_db()
    assert e.status == "invited" and not Certificate.objects.filter(enrolment=e).exists()


def test_a_result_for_someone_not_enrolled_is_refused(users, held_session, unit):
    from yizhan.operations.models import RosterEntry

    stranger = RosterEntry.objects.create(
        unit=unit("CQ-SXGC"), name="赵强", employee_no="CQ999", on_from=datetime.date(2020, 1, 1)
    )
    with pytest.raises(ValidationError) as exc:
        services.result_for(held_session, entry_id=stranger.pk)
    assert "entry" in exc.value.message_dict
    with pytest.raises(ValidationError) as exc:
        services.scan_badge(held_session, actor=users["cq_admin"], badge="CQ999")
    assert "badge" in exc.value.message_dict


def test_a_badge_scan_marks_attendance(users, held_session, cq_people):
    e = services.scan_badge(held_session, actor=users["cq_admin"], badge="CQ002")
    assert e.entry == cq_people[1] and e.status == "attended"


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ({"validity_months": 0}, "validity_months"),
        ({"validity_months": -6}, "validity_months"),
        ({"validity_months": "abc"}, "validity_months"),
        ({"certificate": "", "validity_months": 12}, "certificate"),
        ({"pass_mark": 101}, "pass_mark"),
        ({"hours": "0"}, "hours"),
        ({"hours": "abc"}, "hours"),
        ({"provider_kind": "guild"}, "provider_kind"),
        ({"provider": ""}, "provider"),
        ({"title": ""}, "title"),
        ({"code": "有 空格"}, "code"),
        ({"renews": "NOPE"}, "renews"),
    ],
)
def test_a_bad_course_is_refused_naming_the_field(users, unit, data, field):
    values = {
        "code": "CQ-X", "title": "课程", "hours": "8", "pass_mark": 80, "provider_kind": "external",
        "provider": "急救中心", "certificate": "证书", "validity_months": 24,
    }  # fmt: skip
    values.update(data)
    with pytest.raises(ValidationError) as exc:
        services.create_course(actor=users["cq_admin"], owner=unit("CQ"), **values)
    assert field in exc.value.message_dict
    assert not Course.objects.filter(code="CQ-X").exists()


def test_only_admins_create_courses_and_a_course_edit_checks_the_revision(users, unit, course):
    with pytest.raises(PermissionDenied):
        services.create_course(
            actor=users["sanxia_manager"], owner=unit("CQ-SXGC"), code="X", title="x", hours="1", pass_mark=1,
            provider_kind="in_house",
        )  # fmt: skip
    services.update_course(course, actor=users["cq_admin"], revision=course.revision, pass_mark=70)
    from yizhan.core.concurrency import StaleEdit

    with pytest.raises(StaleEdit):
        services.update_course(course, actor=users["cq_admin"], revision=course.revision, pass_mark=75)


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ({"ends_at": at("2022-11-15", 8)}, "ends_at"),  # ends before it starts
        ({"starts_at": "yesterday"}, "starts_at"),
        ({"capacity": 0}, "capacity"),
        ({"capacity": "abc"}, "capacity"),
        ({"outlets": []}, "outlets"),
        ({"outlets": ["SZ-MLYC"]}, "outlets"),  # outside the organiser and the scope
        ({"venue_kind": "moon"}, "venue_kind"),
    ],
)
def test_a_bad_session_is_refused_and_nothing_is_written(users, unit, course, data, field):
    values = {
        "venue_kind": "outlets", "outlets": ["CQ-SXGC"], "starts_at": at("2022-11-15", 9),
        "ends_at": at("2022-11-15", 17), "capacity": 30,
    }  # fmt: skip
    values.update(data)
    before = Session.objects.count()
    with pytest.raises(ValidationError) as exc:
        services.create_session(actor=users["cq_admin"], course=course, unit=unit("CQ"), **values)
    assert field in exc.value.message_dict
    assert Session.objects.count() == before


def test_one_session_runs_at_several_outlets_and_warns_of_holidays_and_closed_outlets(users, unit, course):
    from yizhan.operations import services as ops

    outlets = [
        u.code
        for u in unit("CQ").__class__.objects.filter(path__startswith=unit("CQ").path, kind="outlet")[:3]
    ]
    # 2026-10-01, National Day: a public holiday.
    s = services.create_session(
        actor=users["cq_admin"], course=course, unit=unit("CQ"), venue_kind="outlets", outlets=outlets,
        starts_at=at("2026-10-01", 9), ends_at=at("2026-10-01", 12), capacity=30,
    )  # fmt: skip
    assert sorted(s.outlets.values_list("code", flat=True)) == sorted(outlets)
    warnings = services.session_warnings(s)
    assert any("2026-10-01" in w for w in warnings)
    first = s.outlets.order_by("path").first()
    ops.schedule_status(
        first, actor=None, state="closed", starts_at=at("2026-09-30", 0), ends_at=at("2026-10-03", 0),
        notice="装修暂停营业", allow_past=True,
    )  # fmt: skip
    assert any(first.name in w for w in services.session_warnings(s))


def test_invitees_outside_the_scope_or_the_organiser_are_refused(users, unit, held_session):
    from yizhan.operations.models import RosterEntry

    sz_person = RosterEntry.objects.filter(unit__code__startswith="SZ").first()
    before = held_session.enrolments.count()
    with pytest.raises(ValidationError) as exc:
        services.invite(held_session, actor=users["cq_admin"], entries=[sz_person.pk])
    assert "entries" in exc.value.message_dict
    with pytest.raises(ValidationError):
        services.invite(held_session, actor=users["cq_admin"], entries=["abc"])
    with pytest.raises(ValidationError):
        services.invite(held_session, actor=users["cq_admin"], unit=unit("SZ"))
    assert held_session.enrolments.count() == before


def test_invite_by_subtree_and_job_title_leaves_the_enrolled_alone(users, unit, course, cq_people):
    s = services.create_session(
        actor=users["cq_admin"], course=course, unit=unit("CQ"), venue_kind="external", venue="礼堂",
        starts_at=at("2022-12-01"), ends_at=at("2022-12-01", 12), capacity=100,
    )  # fmt: skip
    cq_people[4].position = "大堂经理"
    cq_people[4].save()
    assert services.invite(s, actor=users["cq_admin"], unit=unit("CQ-SXGC"), position="柜员") == 4
    assert services.invite(s, actor=users["cq_admin"], unit=unit("CQ-SXGC")) == 1
    with pytest.raises(ValidationError):
        s.capacity = 5
        s.save()
        services.invite(s, actor=users["cq_admin"], entries=[])


def test_a_reply_is_the_persons_own_or_a_managers(users, held_session, cq_people):
    cq_people[0].user = users["sanxia_manager"]
    cq_people[0].save()
    e = services.reply(enrolment_of(held_session, cq_people[0]), actor=users["sanxia_manager"], accept=False)
    assert e.status == "declined"
    with pytest.raises(ValidationError):
        services.reply(enrolment_of(held_session, cq_people[1]), actor=users["sz_viewer"], accept=True)


def test_the_persons_record_lists_trainings_and_certificates(users, held_session, cq_people):
    services.record_result(enrolment_of(held_session, cq_people[0]), actor=users["cq_admin"], grade=90)
    rec = services.person_record(cq_people[0], today=datetime.date(2023, 1, 1))
    assert [t.status for t in rec["trainings"]] == ["passed"]
    assert [c.valid_now for c in rec["certificates"]] == [True]
