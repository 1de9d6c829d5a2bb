"""The public pages in Chromium as a new visitor meets them (issue 11): without JavaScript, the
map's offline base layer and attribution, filters in the address bar, large text on the map."""

import pytest

from yizhan.conftest import wait_until
from yizhan.locator.tests.test_browser import demo, outside  # noqa: F401 (fixtures)

pytestmark = pytest.mark.browser


def test_without_javascript_no_dead_button_and_the_map_points_to_the_list(chromium, live_server, demo):  # noqa: F811
    context = chromium.new_context(locale="zh-CN", base_url=live_server.url, java_script_enabled=False)
    page = context.new_page()
    page.goto("/")
    assert not page.locator("#locate").is_visible(), "使用我的位置 needs the script"
    assert not page.locator("#locate-note").is_visible()
    page.goto("/map/?facility=drinking_water")
    link = page.get_by_role("link", name="查看驿站列表")
    assert link.is_visible() and link.get_attribute("href") == "/?facility=drinking_water"
    context.close()


def test_the_map_orients_without_tiles_and_keeps_its_filters_in_the_address_bar(page, demo, outside):  # noqa: F811
    page.goto("/map/")
    wait_until(page, "document.querySelectorAll('.leaflet-areas-pane path').length > 20")
    assert page.locator(".area-label", has_text="重庆").count() >= 1
    attribution = page.locator(".leaflet-control-attribution").inner_text()
    assert "Leaflet" not in attribution
    wait_until(page, "Number(document.getElementById('map').dataset.markers || 0) > 0")
    page.locator(".filters-box > summary").click()
    page.get_by_label("当前开放").check()
    wait_until(page, "location.search.includes('when=now')")
    assert "when=now" in page.locator("#back-to-list").get_attribute("href")
    # Zoomed into a city, the districts come.
    page.goto("/map/?city=CQ")
    wait_until(page, "document.querySelectorAll('.area-label-1').length > 5")
    # Labels are placed as the district outlines load: on a busy machine 渝中区's may not be
    # among the first five, so wait for it rather than count at once.
    wait_until(
        page, "[...document.querySelectorAll('.area-label')].some(e => e.textContent.includes('渝中区'))"
    )
    assert page.locator(".area-label", has_text="渝中区").count() >= 1
    assert outside == []


def test_large_text_keeps_the_zoom_glyphs_whole(page, demo, live_server):  # noqa: F811
    page.context.add_cookies([{"name": "yz_large", "value": "1", "url": live_server.url}])
    page.goto("/map/")
    zoom_in = page.locator(".leaflet-control-zoom-in")
    zoom_in.wait_for()
    assert zoom_in.evaluate("e => getComputedStyle(e).textDecorationLine") == "none", (
        "an underlined + reads ±"
    )
    fits = zoom_in.evaluate("e => e.scrollHeight <= e.clientHeight + 1 && e.scrollWidth <= e.clientWidth + 1")
    assert fits


def test_in_english_on_a_phone_a_wrapping_label_keeps_its_checkbox_whole(chromium, live_server, demo):  # noqa: F811
    context = chromium.new_context(
        locale="en-US", base_url=live_server.url, viewport={"width": 320, "height": 700}
    )
    context.add_cookies([{"name": "django_language", "value": "en", "url": live_server.url}])
    page = context.new_page()
    page.goto("/?city=CQ")
    page.locator(".filters-box > summary").click()
    widths = page.eval_on_selector_all(
        ".filters-form input[type=checkbox]", "els => els.filter(e => e.offsetParent).map(e => e.offsetWidth)"
    )
    assert widths and len(set(widths)) == 1, widths
    context.close()


def test_on_a_phone_an_out_of_order_row_keeps_its_label_on_one_line(chromium, live_server, demo):  # noqa: F811
    from yizhan.stations import services
    from yizhan.stations.models import Station

    station = Station.objects.get(code="CQ-SXGC")
    services.set_facility_state(
        station, "phone_charging", actor=None, state="yes", out_of_order=True, note="充电器接口损坏，已报修"
    )
    # A small phone in large-text mode is where the row squeezed its label.
    context = chromium.new_context(
        locale="zh-CN", base_url=live_server.url, viewport={"width": 340, "height": 740}
    )
    context.add_cookies([{"name": "yz_large", "value": "1", "url": live_server.url}])
    page = context.new_page()
    page.goto("/s/CQ-SXGC")
    label = page.locator(".fs-out_of_order .label").first
    lines = label.evaluate(
        "e => e.getBoundingClientRect().height / parseFloat(getComputedStyle(e).lineHeight)"
    )
    assert lines < 1.5, "手机充/电"
    assert page.evaluate("document.documentElement.scrollWidth") <= 340
    context.close()
