"""A session changed or cancelled after it was scheduled: those still expected are told, nothing
more happens to a cancelled one, stale edits are refused, and bad input names its field."""

import datetime
import threading

import pytest
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.db import connection, connections
from django.utils import timezone

from yizhan.audit.models import AuditEvent
from yizhan.notify.models import Message
from yizhan.training import services
from yizhan.training.models import Session, Status
from yizhan.training.tests.conftest import at

pytestmark = pytest.mark.django_db
A = "/api/v1/manage/training"


@pytest.fixture
def coming(users, unit, course, cq_people):
    """A session three weeks ahead at 三峡广场, the five invited; 王伟 and 李娜 have logins, 李娜
    declined."""
    day = timezone.localdate() + datetime.timedelta(days=21)
    session = services.create_session(
        actor=users["cq_admin"], course=course, unit=unit("CQ"), venue_kind="outlets", outlets=["CQ-SXGC"],
        starts_at=at(day, 9), ends_at=at(day, 17), trainer="急救中心", capacity=10,
    )  # fmt: skip
    services.invite(session, actor=users["cq_admin"], entries=[p.pk for p in cq_people])
    for person, name in zip(cq_people[:2], ("wangwei", "lina"), strict=True):
        person.user = get_user_model().objects.create_user(name, password="x-long-password-1")
        person.save()
    services.reply(session.enrolments.get(entry=cq_people[1]), actor=cq_people[1].user, accept=False)
    return Session.objects.get(pk=session.pk)


def told(template: str) -> set[str]:
    return set(Message.objects.filter(template__key=template).values_list("user__username", flat=True))


def test_moving_a_session_tells_those_still_expected_and_is_audited(api, coming):
    client = api("cq_admin")
    day = timezone.localdate(coming.starts_at) + datetime.timedelta(days=1)
    answer = client.patch(
        f"{A}/sessions/{coming.pk}",
        {"revision": coming.revision, "starts_at": f"{day} 13:00", "ends_at": f"{day} 17:30"},
        content_type="application/json",
    )
    assert answer.status_code == 200, answer.content
    body = answer.json()
    assert body["revision"] == coming.revision + 1
    assert timezone.localtime(Session.objects.get(pk=coming.pk).starts_at).hour == 13
    assert told("training-session-moved") == {"wangwei"}  # 李娜 declined; the others have no login
    event = AuditEvent.objects.get(action="training.session.updated", object_id=str(coming.pk))
    assert "starts_at" in event.changes and event.changes["notified"] == [None, 1]
    # A change that does not move it (the trainer) tells nobody more.
    answer = client.patch(
        f"{A}/sessions/{coming.pk}",
        {"revision": body["revision"], "trainer": "张医生"},
        content_type="application/json",
    )
    assert answer.status_code == 200 and answer.json()["trainer"] == "张医生"
    assert Message.objects.filter(template__key="training-session-moved").count() == 1
    # The first revision again is stale: 409, nothing changed.
    stale = client.patch(
        f"{A}/sessions/{coming.pk}",
        {"revision": coming.revision, "trainer": "旧"},
        content_type="application/json",
    )
    assert stale.status_code == 409
    assert Session.objects.get(pk=coming.pk).trainer == "张医生"


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"capacity": 4}, "capacity"),  # five are enrolled
        ({"capacity": "abc"}, "capacity"),
        ({"ends_at": "2020-01-01 10:00"}, "ends_at"),
        ({"starts_at": "2026-02-30 09:00"}, "starts_at"),
        ({"venue": "x" * 201, "venue_kind": "external"}, "venue"),
        ({"venue_kind": "outlets", "outlets": ["SZ-FM"]}, "outlets"),
        ({"venue_kind": "moon"}, "venue_kind"),
    ],
)
def test_bad_changes_are_422_naming_the_field_and_change_nothing(api, coming, body, field):
    before = (coming.starts_at, coming.ends_at, coming.capacity, coming.venue_kind, coming.revision)
    answer = api("cq_admin").patch(
        f"{A}/sessions/{coming.pk}", {"revision": coming.revision, **body}, content_type="application/json"
    )
    assert answer.status_code == 422, answer.content
    assert field in str(answer.json()["detail"])
    after = Session.objects.get(pk=coming.pk)
    assert (after.starts_at, after.ends_at, after.capacity, after.venue_kind, after.revision) == before
    assert list(after.outlets.values_list("code", flat=True)) == ["CQ-SXGC"]


def test_cancelling_tells_those_expected_and_stops_everything_after(api, coming, cq_people, users):
    client = api("cq_admin")
    url = f"{A}/sessions/{coming.pk}/cancel"
    assert client.post(url, {"reason": "  "}, content_type="application/json").status_code == 422
    answer = client.post(
        url, {"reason": "讲师因疫情无法到场", "revision": coming.revision}, content_type="application/json"
    )
    assert answer.status_code == 200, answer.content
    assert answer.json()["cancelled_at"] and answer.json()["cancel_reason"] == "讲师因疫情无法到场"
    assert told("training-session-cancelled") == {"wangwei"}
    text = Message.objects.get(template__key="training-session-cancelled").text
    assert "讲师因疫情无法到场" in text and "应急第一响应人" in text
    assert (
        AuditEvent.objects.filter(action="training.session.cancelled", object_id=str(coming.pk)).count() == 1
    )
    # Nothing more can happen to it, each refusal naming its field.
    session = Session.objects.get(pk=coming.pk)
    again = client.post(url, {"reason": "再取消"}, content_type="application/json")
    assert again.status_code == 422 and "session" in str(again.json()["detail"])
    patch = client.patch(
        f"{A}/sessions/{coming.pk}",
        {"revision": session.revision, "trainer": "x"},
        content_type="application/json",
    )
    assert patch.status_code == 422
    invite = client.post(
        f"{A}/sessions/{coming.pk}/invite", {"unit": "CQ-SXGC"}, content_type="application/json"
    )
    assert invite.status_code == 422 and "entries" in str(invite.json()["detail"])
    with pytest.raises(ValidationError) as refused:
        services.reply(session.enrolments.get(entry=cq_people[0]), actor=cq_people[0].user, accept=True)
    assert list(refused.value.message_dict) == ["status"]
    assert session.enrolments.filter(status=Status.ACCEPTED).count() == 0
    # The renewal reminder no longer offers it.
    cert_course = session.course
    later = services.next_renewal_session(
        type("C", (), {"course_id": cert_course.pk})(), cq_people[0].unit, timezone.now()
    )
    assert later is None


def test_a_session_with_attendance_marked_can_no_longer_change_or_be_cancelled(
    api, held_session, cq_people, users
):
    services.record_result(held_session.enrolments.get(entry=cq_people[0]), actor=users["cq_admin"], grade=90)
    session = Session.objects.get(pk=held_session.pk)
    client = api("cq_admin")
    answer = client.patch(
        f"{A}/sessions/{session.pk}",
        {"revision": session.revision, "trainer": "x"},
        content_type="application/json",
    )
    assert answer.status_code == 422 and "session" in str(answer.json()["detail"])
    answer = client.post(
        f"{A}/sessions/{session.pk}/cancel", {"reason": "x"}, content_type="application/json"
    )
    assert answer.status_code == 422
    assert Session.objects.get(pk=session.pk).cancelled_at is None


@pytest.mark.parametrize(
    ("username", "status"),
    [("hq_admin", 200), ("cq_admin", 404), ("sanxia_manager", 404), ("sz_viewer", 403)],
)
def test_who_may_change_and_cancel_a_shenzhen_session(api, username, status):
    session = Session.objects.filter(course__code="SZ-FR").first()
    session.enrolments.filter(status__in=services.MARKED).update(status=Status.ACCEPTED)  # not held yet
    client = api(username)
    answer = client.patch(
        f"{A}/sessions/{session.pk}",
        {"revision": session.revision, "trainer": "新讲师"},
        content_type="application/json",
    )
    assert answer.status_code == status, answer.content
    answer = client.post(
        f"{A}/sessions/{session.pk}/cancel", {"reason": "测试"}, content_type="application/json"
    )
    assert answer.status_code == status, answer.content
    assert (Session.objects.get(pk=session.pk).cancelled_at is not None) == (status == 200)


def test_the_pages_change_and_cancel_a_session(client_for, coming):
    client = client_for("cq_admin")
    page = client.get(f"/manage/training/sessions/{coming.pk}/edit/")
    assert page.status_code == 200 and "急救中心" in page.content.decode()
    form = {
        "venue_kind": "external", "venue": "渝中区急救中心三楼", "outlets": "", "station": "",
        "starts_at": f"{timezone.localdate(coming.starts_at)} 09:00", "ends_at": f"{timezone.localdate(coming.starts_at)} 16:00",
        "trainer": "急救中心", "capacity": "12", "revision": coming.revision,
    }  # fmt: skip
    bad = client.post(f"/manage/training/sessions/{coming.pk}/edit/", {**form, "capacity": "2"})
    assert "已有 5 人报名" in bad.content.decode() and Session.objects.get(pk=coming.pk).capacity == 10
    answer = client.post(f"/manage/training/sessions/{coming.pk}/edit/", form)
    assert answer.status_code == 302
    session = Session.objects.get(pk=coming.pk)
    assert session.venue == "渝中区急救中心三楼" and session.capacity == 12
    assert told("training-session-moved") == {"wangwei"}
    empty = client.post(
        f"/manage/training/sessions/{coming.pk}/cancel/", {"reason": "", "revision": session.revision}
    )
    assert empty.status_code == 400 and Session.objects.get(pk=coming.pk).cancelled_at is None
    done = client.post(
        f"/manage/training/sessions/{coming.pk}/cancel/", {"reason": "场地停电", "revision": session.revision}
    )
    assert done.status_code == 302
    page = client.get(f"/manage/training/sessions/{coming.pk}/").content.decode()
    assert "场地停电" in page and f"/manage/training/sessions/{coming.pk}/invite/" not in page


@pytest.mark.skipif(connection.vendor != "postgresql", reason="row locks: PostgreSQL")
@pytest.mark.django_db(transaction=True)
def test_two_staff_changing_one_session_at_once_exactly_one_wins():
    from yizhan.core.concurrency import StaleEdit
    from yizhan.core.tests import race
    from yizhan.training.models import Course

    station, users = race.build()
    course = Course.objects.create(
        code="RACE-C", owner=station.unit.parent, title="并发课程", hours=1, pass_mark=60
    )
    day = timezone.localdate() + datetime.timedelta(days=10)
    session = services.create_session(
        actor=users[0], course=course, unit=station.unit, venue_kind="external", venue="会议室",
        starts_at=at(day, 9), ends_at=at(day, 11), capacity=5,
    )  # fmt: skip
    barrier = threading.Barrier(2)
    results: dict[str, str] = {}

    def attempt(user, verb):
        try:
            barrier.wait(timeout=10)
            if verb == "cancel":
                services.cancel_session(session, actor=user, reason="取消", revision=session.revision)
            else:
                services.update_session(session, actor=user, revision=session.revision, trainer=user.username)
            results[verb] = "won"
        except StaleEdit:
            results[verb] = "stale"
        except Exception as exc:  # noqa: BLE001 — reported, so the test shows what went wrong
            results[verb] = f"error:{type(exc).__name__}:{exc}"
        finally:
            connections.close_all()

    threads = [threading.Thread(target=attempt, args=a) for a in ((users[0], "cancel"), (users[1], "update"))]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert sorted(results.values()) == ["stale", "won"], results
    after = Session.objects.get(pk=session.pk)
    assert after.revision == session.revision + 1
    assert (after.cancelled_at is not None) == (results["cancel"] == "won")
    assert (after.trainer == "race_bob") == (results["update"] == "won")
