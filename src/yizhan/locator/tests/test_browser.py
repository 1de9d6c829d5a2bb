"""The public locator in the system's Chromium: a mocked location, filters, large text, language,
the map, and not a single request leaving 127.0.0.1."""

from urllib.parse import urlsplit

import pytest

from yizhan.conftest import wait_until

pytestmark = pytest.mark.browser

SXGC = {"latitude": 29.5566, "longitude": 106.4569}


@pytest.fixture
def demo(transactional_db):
    from yizhan.conftest import build_small_demo
    from yizhan.locator import loading
    from yizhan.orgs.models import Unit

    # The first transactional test still sees the session's demo; the flush comes after each.
    if not Unit.objects.filter(code="HQ").exists():
        build_small_demo()
    loading.forget()


@pytest.fixture
def outside(page):
    """Every request the page makes goes through here; any not for 127.0.0.1 is refused and kept."""
    seen = []

    def handle(route):
        host = urlsplit(route.request.url).hostname
        if host not in ("127.0.0.1", "localhost"):
            seen.append(route.request.url)
            route.abort()
        else:
            route.continue_()

    page.context.route("**/*", handle)
    page.on(
        "request",
        lambda request: (
            None if urlsplit(request.url).hostname in ("127.0.0.1", "localhost") else seen.append(request.url)
        ),
    )
    return seen


def test_with_a_mocked_location_the_nearest_station_comes_first_and_filters_narrow(
    page, demo, outside, live_server
):
    from yizhan.stations import services
    from yizhan.stations.models import Station

    sxgc = Station.objects.get(code="CQ-SXGC")
    services.set_facility_state(sxgc, "mother_baby_room", actor=None, state="yes")
    page.context.grant_permissions(["geolocation"], origin=live_server.url)
    page.context.set_geolocation(SXGC)
    page.goto("/")
    page.locator("#locate").click()
    page.wait_for_url("**lat=*")
    names = page.locator(".stations .name")
    assert names.first.inner_text() == sxgc.name
    before = names.count()
    assert before > 5
    # What a phone with an empty cache downloads for this list: the page and everything it loads.
    fresh = page.context.browser.new_context(base_url=live_server.url)
    sizes = []
    fresh_page = fresh.new_page()
    fresh_page.on("response", lambda response: sizes.append(len(response.body())) if response.ok else None)
    fresh_page.goto(page.url)
    fresh_page.wait_for_load_state("networkidle")
    fresh.close()
    assert 0 < sum(sizes) < 150 * 1024, f"the list page transferred {sum(sizes)} bytes"

    page.locator(".filters-box > summary").click()
    page.locator("details.more > summary").click()
    page.locator("input[name=facility][value=mother_baby_room]").check()
    page.wait_for_url("**facility=mother_baby_room*")
    wait_until(page, "document.querySelectorAll('.stations .name').length < %d" % before)
    assert names.first.inner_text() == sxgc.name
    assert names.count() < before
    assert outside == []


def test_refused_location_offers_typing_a_place(page, demo, outside):
    page.goto("/")
    page.locator("#locate").click()
    error = page.locator("#locate-error")
    error.wait_for(state="visible")
    assert page.evaluate("document.activeElement.id") == "q"
    page.locator("#q").fill("sxgc")
    page.locator("#q").press("Enter")
    page.wait_for_url("**q=sxgc*")
    assert page.locator(".stations .name").first.inner_text() == "三峡广场支行驿站"
    assert outside == []


def test_large_text_and_language_are_remembered(page, demo, outside):
    page.goto("/s/CQ-SXGC")
    normal = page.evaluate("parseFloat(getComputedStyle(document.documentElement).fontSize)")
    page.get_by_role("button", name="大字模式").click()
    page.wait_for_load_state()
    assert "large-text" in page.locator("html").get_attribute("class")
    large = page.evaluate("parseFloat(getComputedStyle(document.documentElement).fontSize)")
    assert large >= normal * 1.3
    page.get_by_role("button", name="English").click()
    page.wait_for_load_state()
    assert page.locator("html").get_attribute("lang") == "en"
    page.goto("/?lat=29.5566&lng=106.4569")
    assert page.locator("html").get_attribute("lang") == "en"
    assert "large-text" in page.locator("html").get_attribute("class")
    assert page.get_by_role("heading", name="Stations near you").is_visible()
    assert outside == []


def test_map_shows_clustered_markers_on_a_plain_background(page, demo, outside):
    page.goto("/map/?lat=29.5566&lng=106.4569")
    page.wait_for_selector("#map[data-markers]:not([data-markers='0'])")
    assert page.locator(".marker-cluster, .leaflet-marker-icon").count() > 0
    assert page.locator(".leaflet-tile").count() == 0
    assert outside == []
