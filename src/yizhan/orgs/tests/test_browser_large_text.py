"""Large-text mode in the back office: the form controls grow with the text (issue 11)."""

import pytest

pytestmark = pytest.mark.browser


def test_in_large_text_mode_the_back_offices_inputs_grow(chromium, live_server, transactional_db):
    from django.contrib.auth import get_user_model
    from django.test import Client

    from yizhan.conftest import build_small_demo
    from yizhan.orgs.models import Unit

    if not Unit.objects.filter(code="HQ").exists():
        build_small_demo()
    client = Client()
    client.force_login(get_user_model().objects.get(username="cq_admin"))
    context = chromium.new_context(locale="zh-CN", base_url=live_server.url)
    context.add_cookies(
        [
            {"name": "sessionid", "value": client.cookies["sessionid"].value, "url": live_server.url},
            {"name": "yz_large", "value": "1", "url": live_server.url},
        ]
    )
    page = context.new_page()
    for path, selector in [("/manage/feedback/", "form.filters select"), ("/manage/units/", "#q")]:
        page.goto(path)
        size = page.locator(selector).first.evaluate("e => parseFloat(getComputedStyle(e).fontSize)")
        assert size >= 21, f"{path} {selector}: {size}px"
    context.close()
