"""The outlet manager's workbench on the home page, and the table of outlets for admins above."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from yizhan.operations import plans, rectifications, services, workbench
from yizhan.orgs.models import Unit


def test_an_outlet_managers_home_is_the_workbench_of_the_outlet(client_for, unit, users):
    services.schedule_status(unit("CQ-SXGC"), actor=None, state="closed", notice="装修")
    rectifications.record_inspection(
        unit("CQ-SXGC"), actor=users["cq_admin"], kind="video", items=[{"item": "一米线", "ok": False}]
    )
    response = client_for("sanxia_manager").get("/manage/")
    assert response.status_code == 200
    panel = next(p for p in response.context["panels"] if p["title"] == "今日网点")
    labels = [r["label"] for r in panel["rows"]]
    for expected in [
        "营业状态",
        "今日签到和手工计数",
        "设施故障",
        "未处理的意见（逾期）",
        "今日检查表缺项",
        "消毒逾期",
        "今日健康日报未报",
        "未关闭的整改（逾期）",
    ]:
        assert expected in labels, labels
    status = panel["rows"][0]
    assert status["alert"] and status["url"] == "/manage/operations/outlets/CQ-SXGC/status/"
    rect = next(r for r in panel["rows"] if r["label"] == "未关闭的整改（逾期）")
    assert rect["value"] == "1 (0)"
    for row in panel["rows"]:
        assert client_for("sanxia_manager").get(row["url"]).status_code == 200, row["url"]
    # The other apps' panels are still there.
    assert len(response.context["panels"]) >= 1


def test_a_province_admin_gets_the_table_worst_first(client_for, unit, users):
    services.schedule_status(unit("CQ-JXDL"), actor=None, state="closed_by_order", notice="封控")
    response = client_for("cq_admin").get("/manage/")
    panel = next(p for p in response.context["panels"] if p.get("table"))
    first = panel["table"]["rows"][0]
    assert first["unit"] == unit("CQ-JXDL").display_name and first["cells"][0]["alert"]
    assert "营业状态" in panel["table"]["columns"]
    assert "建新东路" in response.content.decode()


def test_the_table_costs_the_same_queries_for_more_outlets(unit):
    small = Unit.objects.filter(code="CQ-SXGC")
    with CaptureQueriesContext(connection) as one:
        workbench.table(small.get())
    with CaptureQueriesContext(connection) as many:
        workbench.table(unit("CQ"))
    assert len(many) <= len(one) + 3, [q["sql"] for q in many.captured_queries]


def test_an_active_plan_shows_its_measures_and_controls(client_for, unit, users):
    template = plans.save_template(
        unit("CQ"), actor=users["cq_admin"], name="预案", measures=plans.default_measures()
    )
    plans.activate(template, actor=users["cq_admin"], reason="疫情", outlets=["CQ-SXGC"])
    f = workbench.figures([unit("CQ-SXGC")])[unit("CQ-SXGC").pk]
    assert f["tasks_open"] == len(plans.DEFAULT_MEASURES) and f["checklist_missing"] > 0


WORKBENCH = {"hq_admin": 200, "cq_admin": 200, "sanxia_manager": 200, "sz_viewer": 200}


@pytest.mark.parametrize("username, status", list(WORKBENCH.items()))
def test_the_workbench_page(client_for, username, status):
    from yizhan.core.tests.pagecheck import problems

    response = client_for(username).get("/manage/operations/workbench/")
    assert response.status_code == status
    assert problems(response.content.decode()) == []


def test_the_workbench_of_a_unit_outside_is_404(client_for):
    assert client_for("sz_viewer").get("/manage/operations/workbench/?unit=CQ").status_code == 404
