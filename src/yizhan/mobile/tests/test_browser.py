"""A mobile station in the near-me list of the system's Chromium, at the right time: listed while
it is at the site (open now), not at a moment it is not there."""

import datetime
import zoneinfo
from urllib.parse import quote

import pytest

from yizhan.locator.tests.test_browser import demo, outside  # noqa: F401 (fixtures)

pytestmark = pytest.mark.browser
SHANGHAI = zoneinfo.ZoneInfo("Asia/Shanghai")


def test_a_mobile_station_is_in_the_near_me_list_while_it_is_at_the_site(page, demo, outside, live_server):  # noqa: F811
    from django.db import transaction
    from django.utils import timezone

    from yizhan.locator import loading
    from yizhan.mobile import services
    from yizhan.mobile.models import Visit, VisitPlace
    from yizhan.stations.models import Station

    van = Station.objects.get(code="SZ-YD-LG")
    place = VisitPlace.objects.get(name="平湖物流园")
    now = timezone.now().astimezone(SHANGHAI)
    start = max(now - datetime.timedelta(minutes=30), now.replace(hour=0, minute=0, second=0, microsecond=0))
    end = min(now + datetime.timedelta(hours=2), now.replace(hour=23, minute=59, second=0, microsecond=0))
    with transaction.atomic():
        Visit.objects.filter(station=van, starts_at__lt=end, ends_at__gt=start).delete()
        Visit.objects.create(station=van, place=place, planned_on=now.date(), starts_at=start, ends_at=end)
        services.bump()
    loading.forget()

    page.context.grant_permissions(["geolocation"], origin=live_server.url)
    page.context.set_geolocation({"latitude": place.lat, "longitude": place.lng})
    page.goto("/")
    page.locator("#locate").click()
    page.wait_for_url("**lat=*")
    first = page.locator(".stations .station").first
    assert first.locator(".name").inner_text() == "龙岗移动驿站"
    badge = first.locator(".badge").inner_text()
    assert badge.startswith("此刻在此") and "平湖物流园" in badge
    assert f"{start:%H:%M}–{end:%H:%M}" in badge

    # "Open now" keeps it (it is there now) ...
    page.goto(f"/?lat={place.lat}&lng={place.lng}&when=now")
    assert page.locator(".stations .name").first.inner_text() == "龙岗移动驿站"
    # ... and at a moment it is not there, it is not listed.
    later = (end + datetime.timedelta(minutes=1)).strftime("%Y-%m-%dT%H:%M")
    page.goto(f"/?lat={place.lat}&lng={place.lng}&when=at&at={quote(later)}")
    page.locator("#results h2").wait_for()
    assert "龙岗移动驿站" not in page.locator("#results").inner_text()
    # Its page lists the visit as now.
    page.goto("/s/SZ-YD-LG")
    assert page.locator(".visits .visit.now").count() == 1
    assert outside == []
