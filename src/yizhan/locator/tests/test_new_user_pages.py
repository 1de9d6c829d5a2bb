"""What a new visitor meets on the public pages (issue 11): the station page's days, the named
filters, the map's first view and its offline base layer, the site's own 404 and 403 pages."""

import json
import re
from pathlib import Path

from django.test import override_settings

from yizhan.locator.tests.conftest import WEEKDAY_9_TO_5
from yizhan.stations import services as station_services

BASEMAP = Path(__file__).resolve().parents[1] / "static" / "locator" / "basemap"


def test_the_station_page_says_today_and_a_closed_day_is_not_in_the_present_tense(client, db, actor, station):
    station_services.set_schedule(station("CQ-SXGC"), WEEKDAY_9_TO_5, actor=actor)
    # Tuesday 2026-06-16 at noon: closes today; the weekend ahead is "休息", not "休息中".
    html = client.get("/s/CQ-SXGC", {"at": "2026-06-16T12:00"}).content.decode()
    assert "今天 17:00 关闭。" in html
    assert "06-16 17:00" not in html
    week = html.split('class="grid week"')[1].split("</table>")[0]
    assert week.count("<td>休息") >= 2 and "休息中" not in week
    evening = client.get("/s/CQ-SXGC", {"at": "2026-06-16T20:00"}).content.decode()
    assert "明天 09:00 开放。" in evening


def test_a_filtered_link_names_its_filters(client, db):
    html = client.get("/", {"city": "CQ", "facility": "drinking_water", "when": "now"}).content.decode()
    summary = re.search(r"<summary>筛选(.*?)</summary>", html).group(1)
    assert "饮水设施、当前开放" in summary
    assert "(2)" not in summary


def test_the_map_fits_every_station_and_offers_the_list_without_javascript(client, db):
    from yizhan.locator import services

    html = client.get("/map/").content.decode()
    config = json.loads(re.search(r'id="map-config" type="application/json">(.*?)</script>', html).group(1))
    idx = services.index()
    (south, west), (north, east) = config["bounds"]
    assert (
        south <= idx.lat.min() and north >= idx.lat.max() and west <= idx.lng.min() and east >= idx.lng.max()
    )
    assert config["basemapUrl"].endswith("/locator/basemap/")
    noscript = re.search(r"<noscript>(.*?)</noscript>", html, re.S).group(1)
    assert 'href="/"' in noscript
    # A city or a point still opens there.
    city = client.get("/map/", {"city": "CQ"}).content.decode()
    assert '"bounds": null' in city


def test_the_offline_base_layer_is_small_wgs84_and_credited():
    files = list(BASEMAP.rglob("*.json"))
    assert sum(f.stat().st_size for f in files) < 2_500_000
    assert (BASEMAP / "provinces.json").stat().st_size < 120_000, "the national view loads this alone"
    provinces = json.loads((BASEMAP / "provinces.json").read_text(encoding="utf-8"))
    names = {f["properties"]["name"] for f in provinces["features"]}
    assert {"辽宁", "山东", "重庆", "广东", "福建"} <= names
    chongqing = json.loads((BASEMAP / "p" / "500000.json").read_text(encoding="utf-8"))
    yuzhong = next(f for f in chongqing["features"] if f["properties"]["name"] == "渝中区")
    west, south, east, north = yuzhong["properties"]["bbox"]
    # The demo's 渝中区 centre (WGS-84) lies inside the converted outline's box.
    assert west < 106.573 < east and south < 29.557 < north
    assert (BASEMAP / "c" / "440300.json").exists(), "Shenzhen's districts"
    notice = (BASEMAP / "NOTICE.md").read_text(encoding="utf-8")
    assert "Apache-2.0" in notice and "MIT" in notice and "WGS-84" in notice
    for script in BASEMAP.parents[0].glob("*.js"):
        assert "sourceMappingURL" not in script.read_text(encoding="utf-8")


@override_settings(DEBUG=True)
def test_with_debug_on_an_unknown_page_shows_the_sites_own_404_with_navigation(client, db):
    for path in ("/no-such-page/", "/s/NO-SUCH-STATION"):
        response = client.get(path)
        html = response.content.decode()
        assert response.status_code == 404
        assert "URLconf" not in html and "Django" not in html
        assert "找不到" in html or "未找到" in html or "没有" in html
        assert 'class="topbar public"' in html and 'href="/map/"' in html


@override_settings(DEBUG=True)
def test_staff_get_the_back_office_bar_on_404_and_403(client_for, db):
    client = client_for("sz_viewer")
    missing = client.get("/manage/units/NO-SUCH/")
    assert missing.status_code == 404 and 'class="mainnav"' in missing.content.decode()
    forbidden = client.get("/manage/stations/new/")
    html = forbidden.content.decode()
    assert forbidden.status_code == 403 and 'class="mainnav"' in html and 'href="/manage/"' in html


def test_json_404s_stay_json(client, db):
    response = client.get("/api/v1/stations/NO-SUCH")
    assert response.status_code == 404 and response["Content-Type"].startswith("application/json")


def test_a_stale_form_gets_the_sites_own_page_not_djangos_csrf_page(db):
    from django.test import Client

    client = Client(enforce_csrf_checks=True)
    response = client.post("/c/CQ-SXGC", {"go": "1"})
    html = response.content.decode()
    assert response.status_code == 403
    assert "CSRF" not in html and "表单已过期" in html and 'class="topbar public"' in html
