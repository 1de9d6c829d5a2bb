"""In a real browser: find an event on a station page → sign up → the ticket → staff at the door
mark the attendance from their phone (the code typed, the camera-free fallback)."""

import datetime

import pytest
from django.utils import timezone

from yizhan.conftest import build_small_demo

pytestmark = pytest.mark.browser


@pytest.fixture
def demo(transactional_db):
    from yizhan.orgs.models import Unit

    if not Unit.objects.exists():
        build_small_demo()


def test_station_page_sign_up_ticket_and_attendance(page, demo, live_server):
    from django.contrib.auth import get_user_model
    from django.test import Client

    from yizhan.events import services
    from yizhan.events.models import Registration
    from yizhan.orgs.models import Unit

    admin = get_user_model().objects.get(username="cq_admin")
    event = services.create_event(actor=admin, unit=Unit.objects.get(code="CQ"), title="浏览器测试讲座", kind="lecture",
                                  target_groups=["medical_staff"], capacity=5)  # fmt: skip
    start = timezone.now() + datetime.timedelta(days=2)
    (occ,) = services.add_occurrences(event, actor=admin, stations=["CQ-SXGC"], starts_at=start,
                                      ends_at=start + datetime.timedelta(hours=1))  # fmt: skip

    page.set_viewport_size({"width": 390, "height": 800})
    page.goto("/s/CQ-SXGC")
    page.get_by_role("link", name="浏览器测试讲座").click()
    page.wait_for_url(f"**/events/{event.pk}/")
    page.fill(f"#name{occ.pk}", "护士小张")
    page.select_option(f"#party{occ.pk}", "2")
    page.get_by_role("button", name="报名").click()
    page.wait_for_url("**/events/t/**")
    reg = Registration.objects.get(occurrence=occ)
    assert reg.code in page.locator("main").inner_text()
    assert page.locator(".ticket-qr svg").count() == 1

    # Staff at the door, on a phone: type the code.
    staff = Client()
    staff.force_login(get_user_model().objects.get(username="sanxia_manager"))
    page.context.add_cookies(
        [{"name": "sessionid", "value": staff.cookies["sessionid"].value, "url": live_server.url}]
    )
    page.goto(f"/manage/events/occurrences/{occ.pk}/")
    page.fill("#scan-code", reg.code)
    page.get_by_role("button", name="签到", exact=True).click()
    page.wait_for_url(f"**/manage/events/occurrences/{occ.pk}/")
    assert "护士小张" in page.locator(".messages").inner_text()
    assert Registration.objects.get(pk=reg.pk).state == "attended"
