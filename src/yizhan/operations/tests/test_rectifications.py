"""Spot checks and THE rectification mechanism: deadlines in working days, response, re-check,
closure, escalation up the tree, permissions and bad input."""

import datetime

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from yizhan.core.tests.pagecheck import problems
from yizhan.notify.models import Message
from yizhan.operations import rectifications
from yizhan.operations.models import Inspection, Rectification
from yizhan.orgs.services import create_api_token

FAILED = [
    {"item": "一米线未施划", "ok": False, "note": "大堂入口"},
    {"item": "已消毒标识未张贴", "ok": False, "note": ""},
    {"item": "体温检测", "ok": True, "note": ""},
]


@pytest.fixture
def checked(db, unit, users):
    return rectifications.record_inspection(
        unit("CQ-SXGC"), actor=users["cq_admin"], kind="video", items=FAILED, findings="入口秩序需改进"
    )


def test_failed_items_become_rectifications_and_the_outlet_is_told(checked, users):
    rects = list(rectifications.for_source(checked))
    assert [r.title for r in rects] == ["一米线未施划", "已消毒标识未张贴"]
    assert (
        Message.objects.filter(user=users["sanxia_manager"], template__key="rectification-opened").count()
        == 2
    )


def test_a_deadline_in_working_days_skips_the_national_day_holiday(unit, users):
    inspection = rectifications.record_inspection(
        unit("CQ-SXGC"),
        actor=users["cq_admin"],
        kind="on_site",
        items=FAILED[:1],
        opened_on=datetime.date(2026, 9, 30),
    )
    rect = rectifications.for_source(inspection).get()
    # 1–7 October off; 8, 9 October, the make-up Saturday 10 October, 12 and 13 October.
    assert rect.due_on == datetime.date(2026, 10, 13)


def test_respond_recheck_and_close(checked, users):
    rect = rectifications.for_source(checked).first()
    rect = rectifications.respond(
        rect, actor=users["sanxia_manager"], text="已重新施划一米线", revision=rect.revision
    )
    assert rect.status == "responded"
    with pytest.raises(PermissionDenied):  # the outlet does not re-check itself
        rectifications.recheck(rect, actor=users["sanxia_manager"], passed=True)
    with pytest.raises(ValidationError) as caught:
        rectifications.recheck(rect, actor=users["cq_admin"], passed=False)
    assert "note" in caught.value.message_dict
    rect = rectifications.recheck(
        rect, actor=users["cq_admin"], passed=False, note="颜色太浅", working_days=2
    )
    assert rect.status == "open" and rect.rechecks == 1
    rect = rectifications.respond(rect, actor=users["sanxia_manager"], text="已加深")
    rect = rectifications.recheck(rect, actor=users["cq_admin"], passed=True, note="合格")
    assert rect.status == "closed" and rect.closed_at is not None
    with pytest.raises(ValidationError):
        rectifications.respond(rect, actor=users["sanxia_manager"], text="再来")


def test_a_stale_response_is_refused(checked, users):
    from yizhan.core.concurrency import StaleEdit

    rect = rectifications.for_source(checked).first()
    old = rect.revision
    rectifications.respond(rect, actor=users["sanxia_manager"], text="第一次")
    rectifications.recheck(rect, actor=users["cq_admin"], passed=False, note="不行")
    with pytest.raises(StaleEdit):
        rectifications.respond(rect, actor=users["sanxia_manager"], text="第二次", revision=old)


def test_overdue_rectifications_climb_the_tree_and_each_level_is_told_once(unit, users):
    inspection = rectifications.record_inspection(
        unit("CQ-SXGC"),
        actor=users["cq_admin"],
        kind="video",
        items=FAILED[:1],
        opened_on=datetime.date(2026, 11, 2),
    )
    rect = rectifications.for_source(inspection).get()
    chain = unit("CQ-SXGC").ancestor_ids()[:-1]
    parent = chain[-1]
    first_late = rect.due_on + datetime.timedelta(days=1)
    while not rectifications._calendar().is_workday(first_late):
        first_late += datetime.timedelta(days=1)
    assert rectifications.escalate_overdue(first_late) == 1
    rect.refresh_from_db()
    assert rect.escalated_to_id == parent
    assert rectifications.escalate_overdue(first_late) == 0  # nothing new: told once
    much_later = first_late + datetime.timedelta(days=60)
    rectifications.escalate_overdue(much_later)
    rect.refresh_from_db()
    assert rect.escalated_to_id == chain[0]  # head office at most
    assert rectifications.escalate_overdue(much_later) == 0


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"kind": "drone"}, "kind"),
        ({"kind": "video", "items": []}, "items"),
        ({"kind": "video", "items": [{"item": "", "ok": False}]}, "items[1]"),
        ({"kind": "video", "working_days": 0}, "working_days"),
        ({"kind": "video", "working_days": "abc"}, "working_days"),
    ],
)
def test_bad_inspection_input_names_the_field_and_writes_nothing(unit, users, fields, field):
    before = (Inspection.objects.count(), Rectification.objects.count())
    with pytest.raises(ValidationError) as caught:
        rectifications.record_inspection(unit("CQ-SXGC"), actor=users["cq_admin"], **fields)
    assert field in caught.value.message_dict
    assert (Inspection.objects.count(), Rectification.objects.count()) == before


def test_inspection_permissions(unit, users):
    with pytest.raises(PermissionDenied):  # an outlet does not inspect itself
        rectifications.record_inspection(unit("CQ-SXGC"), actor=users["sanxia_manager"], kind="video")
    with pytest.raises(ValidationError):
        rectifications.record_inspection(unit("CQ"), actor=users["hq_admin"], kind="video")


@pytest.mark.parametrize(
    ("username", "post", "listed"),
    [("hq_admin", 201, 2), ("cq_admin", 201, 2), ("sanxia_manager", 403, 2), ("sz_viewer", 404, 0)],
)
def test_api_matrix(checked, users, username, post, listed):
    from django.test import Client

    _token, raw = create_api_token(user=users[username], name="t")
    api = Client(HTTP_AUTHORIZATION=f"Bearer {raw}")
    answer = api.post(
        "/api/v1/manage/operations/inspections",
        {"outlet": "CQ-SXGC", "kind": "on_site", "items": FAILED[:1]},
        content_type="application/json",
    )
    assert answer.status_code == post, answer.content
    rows = [r for r in api.get("/api/v1/manage/operations/rectifications").json() if r["outlet"] == "CQ-SXGC"]
    assert len(rows) == listed + (1 if post == 201 else 0)
    rect = rectifications.for_source(checked).first()
    respond = api.post(
        f"/api/v1/manage/operations/rectifications/{rect.pk}/respond",
        {"text": "已整改"},
        content_type="application/json",
    )
    assert respond.status_code == (200 if username != "sz_viewer" else 404)


def test_api_bad_input(users):
    from django.test import Client

    _token, raw = create_api_token(user=users["cq_admin"], name="t")
    api = Client(HTTP_AUTHORIZATION=f"Bearer {raw}")
    bad = api.post(
        "/api/v1/manage/operations/inspections",
        {"outlet": "CQ-SXGC", "kind": "x"},
        content_type="application/json",
    )
    assert bad.status_code == 422 and bad.json()["detail"][0]["loc"][-1] == "kind"


@pytest.mark.parametrize("lang", ["zh-hans", "en"])
def test_pages_read_cleanly(checked, client_for, lang):
    rect = rectifications.for_source(checked).first()
    client = client_for("cq_admin")
    for url in (
        "/manage/operations/inspections/",
        "/manage/operations/rectifications/",
        "/manage/operations/rectifications/?status=all",
        f"/manage/operations/rectifications/{rect.pk}/",
    ):
        page = client.get(url, HTTP_ACCEPT_LANGUAGE=lang)
        assert page.status_code == 200, url
        assert problems(page.content.decode(), lang=lang) == [], url
    manager = client_for("sanxia_manager")
    page = manager.post(
        f"/manage/operations/rectifications/{rect.pk}/respond/", {"text": "已整改", "revision": rect.revision}
    )
    assert page.status_code == 302
    rect.refresh_from_db()
    assert rect.status == "responded"


def test_the_inspection_form(client_for, users):
    client = client_for("cq_admin")
    answer = client.post(
        "/manage/operations/inspections/",
        {"outlet": "CQ-SXGC", "kind": "video", "working_days": 5, "item_0": "fail", "note_0": "入口无一米线"},
    )
    assert answer.status_code == 302
    assert Rectification.objects.filter(title=str(rectifications.CHECKLIST[0])).exists()
    outside = client_for("cq_admin").post(
        "/manage/operations/inspections/", {"outlet": "SZ-MLYC", "kind": "video", "working_days": 5}
    )
    assert outside.status_code == 200 and not Inspection.objects.filter(unit__code="SZ-MLYC").exists()
