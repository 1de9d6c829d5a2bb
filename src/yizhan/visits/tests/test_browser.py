"""Scanning the poster's QR code on a phone: the check-in page, one tap, the thank-you page."""

import pytest

from yizhan.conftest import build_small_demo

pytestmark = pytest.mark.browser


@pytest.fixture
def demo(transactional_db):
    """The small demo network: transactional tests flush the database when they end, so the
    first one still finds the session's network and later ones build their own."""
    from yizhan.orgs.models import Unit

    if not Unit.objects.exists():
        build_small_demo()


def test_scan_check_in_thank_you(page, demo):
    from yizhan.visits.models import CheckIn

    page.set_viewport_size({"width": 390, "height": 800})
    page.goto("/c/CQ-SXGC")
    assert "三峡广场" in page.locator("h1").inner_text()
    before = CheckIn.objects.filter(station__code="CQ-SXGC").count()
    page.get_by_label("快递员").check()
    page.get_by_label("饮用水").check()
    page.get_by_role("button", name="我到了，签到").click()
    page.wait_for_url("**/c/CQ-SXGC/thanks?counted=1&group=courier")
    assert "谢谢" in page.locator("h1").inner_text()
    latest = CheckIn.objects.filter(station__code="CQ-SXGC").order_by("-pk").first()
    assert CheckIn.objects.filter(station__code="CQ-SXGC").count() == before + 1
    assert latest.group == "courier" and latest.service_codes == ["water"]

    # Scanning again at once: thanked, and counted once.
    page.goto("/c/CQ-SXGC")
    page.get_by_role("button", name="签到", exact=True).click()
    page.wait_for_url("**/c/CQ-SXGC/thanks?again=1")
    assert "30" in page.locator("main").inner_text()
    assert CheckIn.objects.filter(station__code="CQ-SXGC").count() == before + 1


def test_report_a_broken_facility_from_the_phone(page, demo):
    from yizhan.visits.models import Feedback

    page.goto("/s/CQ-SXGC/report?kind=facility_broken&facility=phone_charging")
    page.fill("#id_text", "<script>alert(1)</script> 充电口坏了")
    page.get_by_role("button", name="提交").click()
    page.wait_for_url("**/s/CQ-SXGC/report/thanks")
    item = Feedback.objects.latest("pk")
    assert item.kind == "facility_broken" and item.facility.code == "phone_charging"
