"""The Liaoning demo plays out in the back office and on the public locator."""

import pytest
from django.utils import timezone

from yizhan.operations import health
from yizhan.operations.models import Rectification
from yizhan.orgs.models import Unit

pytestmark = pytest.mark.django_db


def test_xianggong_street_is_open_under_control_on_the_public_side(client):
    page = client.get("/s/LN-SY-XGJ", HTTP_ACCEPT_LANGUAGE="zh-hans").content.decode()
    assert "限流营业 · 1 个窗口 · 自助银行 24 小时" in page
    status = client.get("/api/v1/outlets/LN-SY-XGJ/status").json()
    assert status["state"] == "limited" and status["counter_windows"] == 1 and status["self_service_24h"]


def test_shenyang_reports_have_gaps_and_match_a_raw_count():
    shenyang = Unit.objects.get(code="LN-SY")
    today = timezone.localdate()
    start = today - timezone.timedelta(days=10)
    rows = health.completeness(shenyang, start, today)
    total = rows[0]
    assert total["expected"] > 0 and 0 < total["missing"] < total["expected"] and total["late"] > 0
    raw = health.raw_completeness(shenyang, start, today)
    assert all((r["expected"], r["on_time"], r["late"]) == raw[r["unit"].pk] for r in rows)


def test_two_rectifications_one_overdue():
    shenyang = Unit.objects.get(code="LN-SY")
    rects = Rectification.objects.filter(unit__path__startswith=shenyang.path)
    assert rects.count() == 2
    assert rects.overdue(timezone.localdate()).count() == 1
    overdue = rects.overdue(timezone.localdate()).get()
    assert overdue.escalated_to is not None and shenyang.path.startswith(overdue.escalated_to.path)
