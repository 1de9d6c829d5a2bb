"""The operations dashboard: status map of a subtree, completeness and timeliness by day, export."""

import datetime

import pytest
from django.utils import timezone

from yizhan.core.tests.pagecheck import problems
from yizhan.operations import dashboard, health, services
from yizhan.orgs.models import Unit


def test_the_map_colours_outlets_by_their_status_now(unit):
    services.schedule_status(unit("CQ-SXGC"), actor=None, state="closed", notice="装修")
    services.schedule_status(unit("CQ-JXDL"), actor=None, state="limited", counter_windows=1)
    found = dashboard.status_map(unit("CQ"))
    by_url = {p["url"]: p for p in found["points"]}
    assert by_url["/manage/operations/outlets/CQ-SXGC/status/"]["css"] == "st-closed"
    assert by_url["/manage/operations/outlets/CQ-JXDL/status/"]["css"] == "st-limited"
    assert found["counts"]["closed"] == 1 and found["counts"]["limited"] == 1
    assert all(0 <= p["x"] <= found["width"] and 0 <= p["y"] <= found["height"] for p in found["points"])
    assert found["points"][-1]["css"] != "st-open"  # drawn last, on top


def test_completeness_and_timeliness_by_day_follow_the_rollups(db):
    shenyang = Unit.objects.get(code="LN-SY")
    today = timezone.localdate()
    rows = dashboard.by_day(shenyang, today - datetime.timedelta(days=10), today)
    assert rows
    for row in rows:
        raw = health.raw_completeness(shenyang, row["day"], row["day"])[shenyang.pk]
        assert (row["expected"], row["on_time"], row["late"]) == raw
        assert row["timeliness"] <= row["completeness"] <= 100


DASHBOARD = {"hq_admin": 200, "cq_admin": 200, "sanxia_manager": 200, "sz_viewer": 200}


@pytest.mark.parametrize("username, status", list(DASHBOARD.items()))
def test_the_dashboard_page(client_for, username, status):
    response = client_for(username).get("/manage/operations/dashboard/?days=14")
    assert response.status_code == status
    assert problems(response.content.decode()) == []


def test_the_dashboard_of_shenyang_draws_its_chart_and_exports(client_for):
    client = client_for("hq_admin")
    html = client.get("/manage/operations/dashboard/?unit=LN-SY&days=12").content.decode()
    assert "<svg" in html and 'class="all"' in html and "st-limited" in html
    export = client.get("/manage/operations/dashboard/export.xlsx?unit=LN-SY&days=12")
    assert export.status_code == 200 and export["Content-Type"].startswith("application/vnd.openxml")


@pytest.mark.parametrize("days", ["abc", "-5", "100000", ""])
def test_odd_day_counts_are_clamped(client_for, days):
    assert client_for("hq_admin").get(f"/manage/operations/dashboard/?days={days}").status_code == 200


def test_a_subtree_outside_is_404(client_for):
    assert client_for("sz_viewer").get("/manage/operations/dashboard/?unit=LN-SY").status_code == 404
    assert client_for("sz_viewer").get("/manage/operations/dashboard/export.xlsx?unit=LN").status_code == 404
