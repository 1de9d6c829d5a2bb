"""Contingency plans: templates with four backups, an outlet's plan, activation that sets the
operating status and assigns the measures, deactivation that restores the statuses before it,
progress up the tree, permissions and bad input."""

import datetime

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone

from yizhan.notify.models import Message
from yizhan.operations import plans, services
from yizhan.operations.models import ActivatedOutlet, OperatingStatus, PlanActivation, PlanTask, RosterEntry
from yizhan.orgs.models import Unit
from yizhan.orgs.services import create_api_token


@pytest.fixture
def template(db, unit, users):
    return plans.save_template(
        unit("CQ"), actor=users["cq_admin"], name="四个备份", measures=plans.default_measures()
    )


@pytest.fixture
def backup(db, unit, users):
    """A teller of another Chongqing outlet with a login, as backup staff for 三峡广场."""
    other = (
        Unit.objects.filter(path__startswith=unit("CQ").path, kind="outlet").exclude(code="CQ-SXGC").first()
    )
    return RosterEntry.objects.create(
        unit=other,
        name="备岗甲",
        user=users["sd_admin"],
        on_from=timezone.localdate() - datetime.timedelta(days=3),
    )


def _api(users, username):
    from django.test import Client

    _token, raw = create_api_token(user=users[username], name="test")
    return Client(HTTP_AUTHORIZATION=f"Bearer {raw}")


def _windows(outlet):
    return list(OperatingStatus.objects.live().filter(unit=outlet).order_by("starts_at"))


def test_activation_sets_the_statuses_assigns_tasks_and_deactivation_restores_them(
    template, backup, unit, users
):
    sxgc, jxdl = unit("CQ-SXGC"), unit("CQ-JXDL")
    now = timezone.now()
    # 三峡广场 was limited until further notice; 建新东路 limited until tomorrow, then a closure ahead.
    services.schedule_status(sxgc, actor=None, state="limited", counter_windows=2, notice="两个窗口")
    services.schedule_status(
        jxdl, actor=None, state="limited", counter_windows=3, ends_at=now + datetime.timedelta(days=1)
    )
    services.schedule_status(
        jxdl,
        actor=None,
        state="closed",
        notice="装修",
        starts_at=now + datetime.timedelta(days=2),
        ends_at=now + datetime.timedelta(days=3),
    )
    plans.fill_plan(
        sxgc,
        actor=users["cq_admin"],
        template=template,
        backup_staff=[backup.pk],
        cash_route="由江北支行调拨",
    )
    activation = plans.activate(
        template,
        actor=users["cq_admin"],
        reason="区域疫情",
        outlets=["CQ-SXGC", "CQ-JXDL"],
        state="closed_by_order",
        notice="按防控要求暂停营业",
        self_service_24h=True,
    )
    for outlet in (sxgc, jxdl):
        current = services.status_in_force(outlet)
        assert current.state == "closed_by_order" and current.notice == "按防控要求暂停营业"
        assert [w.state for w in _windows(outlet) if w.starts_at > timezone.now()] == []
    assert PlanTask.objects.filter(activation=activation, unit=sxgc).count() == len(plans.DEFAULT_MEASURES)
    task = PlanTask.objects.filter(
        activation=activation, unit=sxgc, backup="staff", owner="backup_staff"
    ).get()
    assert task.due_on > timezone.localdate()
    # The outlet's manager and the backup staff are told.
    assert Message.objects.filter(user=users["sanxia_manager"], template__key="plan-activated").count() == 1
    assert Message.objects.filter(user=users["sd_admin"], template__key="plan-backup-staff").count() == 1

    plans.deactivate(activation, actor=users["cq_admin"])
    after = services.status_in_force(sxgc)
    assert after.state == "limited" and after.counter_windows == 2 and after.ends_at is None
    back = services.status_in_force(jxdl)
    assert back.state == "limited" and back.counter_windows == 3
    assert abs((back.ends_at - (now + datetime.timedelta(days=1))).total_seconds()) < 1
    ahead = [w for w in _windows(jxdl) if w.starts_at > timezone.now()]
    assert [(w.state, w.notice) for w in ahead] == [("closed", "装修")]
    assert PlanActivation.objects.get(pk=activation.pk).deactivated_at is not None
    with pytest.raises(ValidationError):
        plans.deactivate(activation, actor=users["cq_admin"])


def test_an_outlet_without_a_status_is_back_to_usual_after_deactivation(template, unit, users):
    sxgc = unit("CQ-SXGC")
    activation = plans.activate(
        template, actor=users["cq_admin"], reason="演练", outlets="CQ-SXGC", counter_windows=1
    )
    assert services.status_in_force(sxgc).state == "limited"
    plans.deactivate(activation, actor=users["cq_admin"])
    assert services.status_in_force(sxgc) is None


def test_activation_for_a_subtree_and_its_progress_up_the_tree(template, unit, users):
    root = unit("CQ-JB") if Unit.objects.filter(code="CQ-JB").exists() else unit("CQ")
    activation = plans.activate(template, actor=users["cq_admin"], reason="江北区疫情", unit=root.code)
    outlets = set(ActivatedOutlet.objects.filter(activation=activation).values_list("unit_id", flat=True))
    assert outlets == set(
        Unit.objects.filter(path__startswith=root.path, kind="outlet").values_list("pk", flat=True)
    )
    task = PlanTask.objects.filter(activation=activation).first()
    plans.complete_task(task, actor=users["cq_admin"], note="已落实")
    seen_from = plans.progress(activation, unit("CQ"))
    assert seen_from["total"]["done"] == 1 and seen_from["total"]["total"] == len(outlets) * len(
        plans.DEFAULT_MEASURES
    )
    # Head office sees it up the tree; the outlet's own manager sees it down the tree.
    assert PlanActivation.objects.for_user(users["hq_admin"]).filter(pk=activation.pk).exists()
    assert not PlanActivation.objects.for_user(users["sz_viewer"]).filter(pk=activation.pk).exists()


def test_activation_outside_the_subtree_is_refused_naming_the_field_and_nothing_written(
    template, unit, users
):
    before = (OperatingStatus.objects.count(), PlanActivation.objects.count(), PlanTask.objects.count())
    sz_outlet = Unit.objects.filter(path__startswith=unit("SZ").path, kind="outlet").first()
    with pytest.raises(ValidationError) as caught:
        plans.activate(template, actor=users["cq_admin"], reason="x", outlets=["CQ-SXGC", sz_outlet.code])
    assert sz_outlet.code in caught.value.message_dict["outlets"][0]
    with pytest.raises(ValidationError) as caught:
        plans.activate(template, actor=users["cq_admin"], reason="x", unit="SZ")
    assert "unit" in caught.value.message_dict
    assert (
        OperatingStatus.objects.count(),
        PlanActivation.objects.count(),
        PlanTask.objects.count(),
    ) == before


def test_an_outlet_refusing_its_status_refuses_the_whole_activation(template, unit, users):
    """A closure without a notice is refused at the first outlet: none of them changes."""
    before = OperatingStatus.objects.count()
    with pytest.raises(ValidationError) as caught:
        plans.activate(
            template, actor=users["cq_admin"], reason="x", outlets=["CQ-SXGC", "CQ-JXDL"], state="closed"
        )
    assert "notice" in caught.value.message_dict and "CQ-SXGC" in caught.value.message_dict["notice"][0]
    assert (
        OperatingStatus.objects.count() == before
        and not PlanActivation.objects.filter(template__name="四个备份").exists()
    )


@pytest.mark.parametrize(
    "fields, field",
    [
        ({"reason": ""}, "reason"),
        ({"reason": "x" * 501}, "reason"),
        ({"state": "open"}, "state"),
        ({"outlets": []}, "outlets"),
        ({"outlets": ["NOPE"]}, "outlets"),
        ({"outlets": ["CQ-SXGC"], "unit": "CQ"}, "outlets"),
        ({"template": 999999}, "template"),
    ],
)
def test_bad_activations_are_refused_naming_the_field(template, users, fields, field):
    data = {"reason": "疫情", "outlets": ["CQ-SXGC"], **fields}
    chosen = data.pop("template", template)
    with pytest.raises(ValidationError) as caught:
        plans.activate(chosen, actor=users["cq_admin"], **data)
    assert field in caught.value.message_dict


def test_an_outlet_under_an_active_plan_is_not_activated_twice(template, users):
    plans.activate(template, actor=users["cq_admin"], reason="一", outlets=["CQ-SXGC"])
    with pytest.raises(ValidationError) as caught:
        plans.activate(template, actor=users["cq_admin"], reason="二", outlets=["CQ-SXGC"])
    assert "CQ-SXGC" in caught.value.message_dict["outlets"][0]


@pytest.mark.parametrize(
    "measures, field",
    [
        ([], "measures"),
        ("abc", "measures"),
        ([{"backup": "business", "text": "a", "owner": "outlet_manager", "working_days": 1}], "measures"),
        ([{"backup": "x", "text": "a", "owner": "outlet_manager"}], "measures[1].backup"),
        ([{"backup": "staff", "text": "", "owner": "outlet_manager"}], "measures[1].text"),
        ([{"backup": "staff", "text": "a", "owner": "boss"}], "measures[1].owner"),
        (
            [{"backup": "staff", "text": "a", "owner": "outlet_manager", "working_days": 99}],
            "measures[1].working_days",
        ),
    ],
)
def test_bad_templates_are_refused_naming_the_field(unit, users, measures, field):
    with pytest.raises(ValidationError) as caught:
        plans.save_template(unit("CQ"), actor=users["cq_admin"], name="坏", measures=measures)
    assert field in caught.value.message_dict


def test_templates_are_kept_by_head_office_or_a_province(unit, users):
    with pytest.raises(ValidationError) as caught:
        plans.save_template(
            unit("CQ-SXGC"), actor=users["hq_admin"], name="x", measures=plans.default_measures()
        )
    assert "unit" in caught.value.message_dict


def test_backup_staff_come_from_other_outlets_on_the_roster(template, backup, unit, users):
    sxgc = unit("CQ-SXGC")
    own = RosterEntry.objects.create(unit=sxgc, name="本网点", on_from=timezone.localdate())
    gone = RosterEntry.objects.create(
        unit=backup.unit, name="已调离", on_from=datetime.date(2020, 1, 1), on_until=datetime.date(2020, 2, 1)
    )
    for staff in ([own.pk], [gone.pk], ["abc"], [999999]):
        with pytest.raises(ValidationError) as caught:
            plans.fill_plan(sxgc, actor=users["cq_admin"], template=template, backup_staff=staff)
        assert "backup_staff" in caught.value.message_dict
    with pytest.raises(ValidationError) as caught:
        plans.fill_plan(sxgc, actor=users["cq_admin"], template=template, cash_route="x" * 301)
    assert "cash_route" in caught.value.message_dict


# --- permissions: a matrix of named users ----------------------------------------------------------

ACTIVATE = {
    "hq_admin": True,
    "cq_admin": True,
    "sanxia_manager": False,
    "sz_viewer": False,
    "sd_admin": False,
}


@pytest.mark.parametrize("username, allowed", list(ACTIVATE.items()))
def test_who_may_activate(template, users, username, allowed):
    if allowed:
        assert plans.activate(template, actor=users[username], reason="疫情", outlets=["CQ-SXGC"])
        return
    with pytest.raises((PermissionDenied, ValidationError)):
        plans.activate(template, actor=users[username], reason="疫情", outlets=["CQ-SXGC"])
    assert not PlanActivation.objects.filter(template__name="四个备份").exists()


FILL = {"hq_admin": 200, "cq_admin": 200, "sanxia_manager": 200, "sz_viewer": 404, "sd_admin": 404}


@pytest.mark.parametrize("username, status", list(FILL.items()))
def test_who_sees_an_outlets_plan_page(template, client_for, username, status):
    assert client_for(username).get("/manage/operations/outlets/CQ-SXGC/plan/").status_code == status


API_ACTIVATE = {"hq_admin": 201, "cq_admin": 201, "sanxia_manager": 403, "sz_viewer": 403}


@pytest.mark.parametrize("username, status", list(API_ACTIVATE.items()))
def test_api_activation_matrix(template, users, username, status):
    response = _api(users, username).post(
        "/api/v1/manage/operations/activations",
        {"template": template.pk, "reason": "疫情", "outlets": ["CQ-SXGC"]},
        content_type="application/json",
    )
    assert response.status_code == status, response.content


def test_api_activation_bad_input_names_the_field(template, users):
    client = _api(users, "cq_admin")
    for body, field in [
        ({"template": template.pk, "reason": "", "outlets": ["CQ-SXGC"]}, "reason"),
        ({"template": template.pk, "reason": "x", "unit": "SZ"}, "unit"),
        ({"template": template.pk, "reason": "x", "outlets": "abc"}, "outlets"),
        ({"template": "abc", "reason": "x"}, None),
    ]:
        response = client.post("/api/v1/manage/operations/activations", body, content_type="application/json")
        assert response.status_code in (400, 422), response.content
        if field:
            assert field in response.content.decode()


def test_api_deactivation_and_progress(template, users):
    client = _api(users, "cq_admin")
    made = client.post(
        "/api/v1/manage/operations/activations",
        {"template": template.pk, "reason": "疫情", "outlets": ["CQ-SXGC"], "counter_windows": 1},
        content_type="application/json",
    ).json()
    seen = client.get(f"/api/v1/manage/operations/activations/{made['id']}").json()
    assert seen["progress"]["total"]["outlets"] == 1
    assert (
        _api(users, "sanxia_manager")
        .post(
            f"/api/v1/manage/operations/activations/{made['id']}/deactivate",
            {},
            content_type="application/json",
        )
        .status_code
        == 403
    )
    done = client.post(
        f"/api/v1/manage/operations/activations/{made['id']}/deactivate",
        {"revision": made["revision"]},
        content_type="application/json",
    )
    assert done.status_code == 200 and done.json()["active"] is False


def test_plan_pages_render(template, client_for, users):
    from yizhan.core.tests.pagecheck import problems

    activation = plans.activate(template, actor=users["cq_admin"], reason="区域疫情", outlets=["CQ-SXGC"])
    client = client_for("cq_admin")
    for url in [
        "/manage/operations/plans/",
        f"/manage/operations/plans/templates/{template.pk}/",
        "/manage/operations/outlets/CQ-SXGC/plan/",
        f"/manage/operations/plans/activations/{activation.pk}/",
    ]:
        response = client.get(url)
        assert response.status_code == 200, url
        assert problems(response.content.decode()) == [], url


def test_activate_page_refuses_outside_outlets_naming_the_field(template, client_for):
    response = client_for("cq_admin").post(
        "/manage/operations/plans/",
        {"template": template.pk, "reason": "疫情", "outlets": "CQ-SXGC, SZ-NOPE", "state": "limited"},
    )
    assert response.status_code == 200
    assert (
        "SZ-NOPE" in response.content.decode()
        and not PlanActivation.objects.filter(template__name="四个备份").exists()
    )
