"""The daily health report on a phone: one screen, submitted with a thumb."""

import pytest

from yizhan.conftest import build_small_demo

pytestmark = pytest.mark.browser

PASSWORD = "x-long-password-1"


@pytest.fixture
def reporter(transactional_db):
    from yizhan.operations import health
    from yizhan.orgs.models import Unit
    from yizhan.orgs.services import create_staff

    if not Unit.objects.filter(code="HQ").exists():
        build_small_demo()
    sxgc = Unit.objects.get(code="CQ-SXGC")
    user = create_staff(actor=None, username="phone_zhang", password=PASSWORD, unit=sxgc, role="viewer")
    health.add_to_roster(sxgc, actor=None, name="张伟", user=user)
    return user


def test_the_health_report_takes_one_phone_screen(page, reporter):
    from yizhan.operations.models import HealthReport

    page.set_viewport_size({"width": 360, "height": 740})
    page.goto("/manage/login/")
    page.fill("input[name=username]", "phone_zhang")
    page.fill("input[name=password]", PASSWORD)
    page.locator("section.card form button.primary").click()
    page.wait_for_url("**/manage/")
    page.goto("/manage/operations/health/")
    submit = page.locator("form.health-form button[type=submit]")
    submit.scroll_into_view_if_needed()
    # Everything from the heading to the button fits within one screen's height, and nothing
    # makes the page scroll sideways.
    top = page.locator(".health-screen h1").bounding_box()["y"]
    bottom = submit.bounding_box()
    assert bottom["y"] + bottom["height"] - top <= 740, (top, bottom)
    assert page.evaluate("() => document.documentElement.scrollWidth <= window.innerWidth + 1")
    page.fill("input[name=temperature]", "36.6")
    page.check("input[name=symptoms][value=cough]")
    submit.click()
    page.wait_for_selector("text=谢谢，已提交。")
    report = HealthReport.objects.get(entry__user=reporter)
    assert str(report.temperature) == "36.6" and report.symptoms == ["cough"]
