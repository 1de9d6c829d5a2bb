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


def test_the_four_backup_plan_is_active_for_huanggu_with_five_backup_staff_from_other_outlets():
    from yizhan.operations.models import OutletPlan, PlanActivation

    activation = PlanActivation.objects.active().get()
    outlets = list(activation.outlets.select_related("unit"))
    assert outlets and all("皇姑区" in o.unit.address for o in outlets)
    plans_ = OutletPlan.objects.filter(unit__in=[o.unit for o in outlets])
    staff = [e for p in plans_ for e in p.backup_staff.all()]
    assert len(staff) == 5 and all("皇姑区" not in e.unit.address for e in staff)
    for o in outlets:
        status = o.unit.operating_statuses.filter(cancelled_at__isnull=True, ends_at__isnull=True).get()
        assert status.state == "limited" and status.counter_windows == 1
    assert set(activation.tasks.values_list("backup", flat=True)) == {
        "business",
        "staff",
        "service",
        "management",
    }
