"""Checklists before / during / after opening, and the disinfection log with its printed sign."""

import datetime

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone

from yizhan.core.tests.pagecheck import problems
from yizhan.operations import controls, plans
from yizhan.operations.models import Checklist, Disinfection
from yizhan.orgs.services import create_api_token


def _api(users, username):
    from django.test import Client

    _token, raw = create_api_token(user=users[username], name="test")
    return Client(HTTP_AUTHORIZATION=f"Bearer {raw}")


# --- checklists ------------------------------------------------------------------------------------


def test_a_checklist_records_who_and_when_and_flags_the_missing(unit, users):
    sxgc = unit("CQ-SXGC")
    today = timezone.localdate()
    fresh = controls.checklist_for(sxgc, today)
    assert fresh.pk is None and fresh.missing == len(controls.DEFAULT_ITEMS)
    atm = next(n for n, item in enumerate(fresh.items, 1) if item["options"])
    saved = controls.fill_checklist(
        sxgc,
        actor=users["sanxia_manager"],
        day=today,
        answers={"1": True, "2": "true", str(atm): "withdraw_only"},
    )
    assert saved.missing == len(controls.DEFAULT_ITEMS) - 3
    assert saved.items[0]["by"] == "sanxia_manager" and saved.items[0]["at"].endswith("+08:00")
    assert saved.items[atm - 1]["value"] == "withdraw_only"
    again = controls.fill_checklist(
        sxgc, actor=users["cq_admin"], day=today, answers={"1": False}, revision=saved.revision
    )
    assert again.items[0]["done"] is False and again.missing == saved.missing + 1


@pytest.mark.parametrize(
    "day, answers, field",
    [
        ("tomorrow", {"1": True}, "day"),
        ("long ago", {"1": True}, "day"),
        ("abc", {"1": True}, "day"),
        ("today", {"99": True}, "answers[99]"),
        ("today", {"x": True}, "answers[x]"),
        ("today", {"1": "maybe"}, "answers[1]"),
        ("today", {"8": "sideways"}, "answers[8]"),
        ("today", "abc", "answers"),
    ],
)
def test_bad_checklists_are_refused_naming_the_field(unit, users, day, answers, field):
    today = timezone.localdate()
    days = {
        "today": today,
        "tomorrow": today + datetime.timedelta(days=1),
        "long ago": today - datetime.timedelta(days=30),
        "abc": "abc",
    }
    with pytest.raises(ValidationError) as caught:
        controls.fill_checklist(
            unit("CQ-SXGC"), actor=users["sanxia_manager"], day=days[day], answers=answers
        )
    assert field in caught.value.message_dict
    assert not Checklist.objects.filter(unit__code="CQ-SXGC").exists()


def test_a_new_version_applies_to_new_days_and_filled_days_keep_theirs(unit, users):
    sxgc = unit("CQ-SXGC")
    yesterday = timezone.localdate() - datetime.timedelta(days=1)
    kept = controls.fill_checklist(sxgc, actor=users["sanxia_manager"], day=yesterday, answers={"1": True})
    published = controls.publish_checklist(
        unit("CQ"),
        actor=users["cq_admin"],
        items=[{"phase": "before", "text": "一米线", "options": []}, {"phase": "during", "text": "测温"}],
    )
    assert published.version == 1
    assert controls.checklist_for(sxgc, timezone.localdate()).version == 1
    assert Checklist.objects.get(pk=kept.pk).version == 0
    assert controls.publish_checklist(unit("CQ"), actor=users["cq_admin"], items=published.items).version == 2
    with pytest.raises(ValidationError) as caught:
        controls.publish_checklist(unit("CQ"), actor=users["cq_admin"], items=[{"phase": "x", "text": "a"}])
    assert "items[1].phase" in caught.value.message_dict
    with pytest.raises(PermissionDenied):
        controls.publish_checklist(unit("CQ"), actor=users["sanxia_manager"], items=published.items)


CHECKLIST_PAGE = {"hq_admin": 200, "cq_admin": 200, "sanxia_manager": 200, "sz_viewer": 404}


@pytest.mark.parametrize("username, status", list(CHECKLIST_PAGE.items()))
def test_who_sees_the_checklist(client_for, username, status):
    response = client_for(username).get("/manage/operations/outlets/CQ-SXGC/checklist/")
    assert response.status_code == status
    if status == 200:
        assert problems(response.content.decode()) == []


def test_the_checklist_page_saves_and_refuses_a_future_day(client_for):
    client = client_for("sanxia_manager")
    today = timezone.localdate()
    ok = client.post(
        "/manage/operations/outlets/CQ-SXGC/checklist/", {"day": today.isoformat(), "item_1": "on"}
    )
    assert ok.status_code == 302
    assert Checklist.objects.get(unit__code="CQ-SXGC", day=today).items[0]["done"] is True
    future = (today + datetime.timedelta(days=1)).isoformat()
    refused = client.post("/manage/operations/outlets/CQ-SXGC/checklist/", {"day": future, "item_1": "on"})
    assert (
        refused.status_code == 200 and not Checklist.objects.filter(unit__code="CQ-SXGC", day=future).exists()
    )
    assert "error" in refused.content.decode()


def test_the_api_checklist_matrix_and_bad_input(users):
    today = timezone.localdate().isoformat()
    url = f"/api/v1/manage/operations/outlets/CQ-SXGC/checklists/{today}"
    for username, status in [("sanxia_manager", 200), ("cq_admin", 200), ("sz_viewer", 404)]:
        response = _api(users, username).put(url, {"answers": {"1": True}}, content_type="application/json")
        assert response.status_code == status, (username, response.content)
    future = (timezone.localdate() + datetime.timedelta(days=1)).isoformat()
    refused = _api(users, "sanxia_manager").put(
        f"/api/v1/manage/operations/outlets/CQ-SXGC/checklists/{future}",
        {"answers": {"1": True}},
        content_type="application/json",
    )
    assert refused.status_code == 422 and "day" in refused.content.decode()
    assert _api(users, "sanxia_manager").get(url).json()["saved"] is True


# --- disinfection --------------------------------------------------------------------------------


@pytest.fixture
def area(unit, users):
    return controls.add_area(
        unit("CQ-SXGC"), actor=users["sanxia_manager"], name="自助设备", kind="self_service", every_hours=2
    )


def test_disinfection_is_overdue_only_while_a_plan_is_active(area, unit, users):
    sxgc = unit("CQ-SXGC")
    assert controls.areas_due(sxgc)[0]["due"] is None
    template = plans.save_template(
        unit("CQ"), actor=users["cq_admin"], name="预案", measures=plans.default_measures()
    )
    plans.activate(template, actor=users["cq_admin"], reason="疫情", outlets=["CQ-SXGC"])
    later = timezone.now() + datetime.timedelta(hours=3)
    assert controls.areas_due(sxgc, now=later)[0]["overdue"] is True
    controls.log_disinfection(area, actor=users["sanxia_manager"])
    row = controls.areas_due(sxgc, now=timezone.now() + datetime.timedelta(hours=1))[0]
    assert row["overdue"] is False and row["last"] is not None
    assert controls.areas_due(sxgc, now=later)[0]["overdue"] is True  # two hours after the last


@pytest.mark.parametrize(
    "fields, field",
    [
        ({"name": ""}, "name"),
        ({"name": "柜台", "kind": "roof"}, "kind"),
        ({"name": "柜台", "every_hours": 0}, "every_hours"),
        ({"name": "柜台", "every_hours": "abc"}, "every_hours"),
        ({"name": "自助设备"}, "name"),
    ],
)
def test_bad_areas_are_refused_naming_the_field(area, unit, users, fields, field):
    with pytest.raises(ValidationError) as caught:
        controls.add_area(unit("CQ-SXGC"), actor=users["sanxia_manager"], **fields)
    assert field in caught.value.message_dict


@pytest.mark.parametrize("at", ["abc", "in two hours", "2020-01-01 09:00"])
def test_bad_disinfection_times_are_refused(area, users, at):
    if at == "in two hours":  # computed here, not at collection: xdist's workers must collect one id
        at = (timezone.now() + datetime.timedelta(hours=2)).isoformat()
    with pytest.raises(ValidationError) as caught:
        controls.log_disinfection(area, actor=users["sanxia_manager"], at=at)
    assert "at" in caught.value.message_dict
    assert not Disinfection.objects.filter(area=area).exists()


def test_the_sign_shows_the_last_time_in_beijing_time(area, client_for, users):
    at = datetime.datetime.now(datetime.UTC).replace(microsecond=0) - datetime.timedelta(minutes=30)
    controls.log_disinfection(area, actor=users["sanxia_manager"], at=at)
    html = (
        client_for("sanxia_manager").get(f"/manage/operations/disinfection/{area.pk}/sign/").content.decode()
    )
    beijing = timezone.localtime(at).strftime("%Y-%m-%d %H:%M")
    assert "已消毒" in html and beijing in html
    assert at.strftime("%Y-%m-%d %H:%M") not in html  # never the UTC time
    assert problems(html) == []


DISINFECTION_API = {"sanxia_manager": 201, "cq_admin": 201, "sz_viewer": 404}


@pytest.mark.parametrize("username, status", list(DISINFECTION_API.items()))
def test_the_disinfection_api_matrix(area, users, username, status):
    response = _api(users, username).post(
        f"/api/v1/manage/operations/disinfection-areas/{area.pk}/log", {}, content_type="application/json"
    )
    assert response.status_code == status


def test_a_viewer_above_may_read_but_not_log(area, client_for, users, unit):
    from yizhan.orgs.models import Membership

    viewer = Membership.objects.filter(role="viewer", unit__path__startswith=unit("CQ").path).first()
    if viewer is None:
        pytest.skip("no viewer in Chongqing in the small demo")
    client = client_for(viewer.user.username)
    assert client.get("/manage/operations/outlets/CQ-SXGC/disinfection/").status_code == 200
    assert client.post(f"/manage/operations/disinfection/{area.pk}/done/", {}).status_code == 403


def test_the_disinfection_page_renders(area, client_for):
    response = client_for("sanxia_manager").get("/manage/operations/outlets/CQ-SXGC/disinfection/")
    assert response.status_code == 200 and problems(response.content.decode()) == []
    posted = client_for("sanxia_manager").post(
        f"/manage/operations/disinfection/{area.pk}/done/", {"note": "含氯"}
    )
    assert posted.status_code == 302 and Disinfection.objects.filter(area=area, note="含氯").exists()


def test_a_refused_post_flashes_the_field_label_and_writes_nothing(area, client_for):
    from django.contrib.messages import get_messages

    client = client_for("sanxia_manager")
    client.defaults["HTTP_ACCEPT_LANGUAGE"] = "en"
    posted = client.post(f"/manage/operations/disinfection/{area.pk}/done/", {"note": "x" * 201})
    assert posted.status_code == 302 and not Disinfection.objects.filter(area=area).exists()
    flashed = [str(m) for m in get_messages(posted.wsgi_request)]
    assert flashed == ["note: Ensure this value has at most 200 characters (it has 201)."]
