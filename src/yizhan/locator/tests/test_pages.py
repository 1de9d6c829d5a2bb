"""The public pages without a browser: near me (no JavaScript needed), place search, station
page, map data. No login anywhere."""

import json
import re
from pathlib import Path

import pytest
from django.test import override_settings

from yizhan.locator.tests.conftest import WEEKDAY_9_TO_5
from yizhan.stations import services as station_services

SXGC = (29.5566, 106.4569)


def codes_in(html: str) -> list[str]:
    return re.findall(r'class="name" href="/s/([^"]+)"', html)


def test_near_me_lists_stations_by_distance_without_javascript(client, db):
    html = client.get("/", {"lat": SXGC[0], "lng": SXGC[1]}).content.decode()
    codes = codes_in(html)
    api = client.get("/api/v1/stations/nearby", {"lat": SXGC[0], "lng": SXGC[1], "limit": 20}).json()
    assert codes[0] == "CQ-SXGC"
    assert codes == [r["code"] for r in api["results"]]
    assert re.search(r'class="dist">\d+ m<', html)
    assert 'class="badge' in html
    assert '<use href="#fi-' in html, "facility icons"


def test_first_visit_asks_politely_and_offers_the_fallbacks(client, db):
    html = client.get("/").content.decode()
    assert 'id="locate"' in html and "hidden" in html.split('id="locate"')[1][:200]
    assert 'name="q"' in html
    assert "?city=CQ" in html and ">重庆<" in html
    assert codes_in(html) == []


def test_filters_narrow_the_list_and_htmx_gets_only_the_results(client, db, actor, station):
    station_services.set_facility_state(station("CQ-SXGC"), "mother_baby_room", actor=actor, state="yes")
    params = {"lat": SXGC[0], "lng": SXGC[1], "facility": "mother_baby_room"}
    full = client.get("/", params).content.decode()
    assert codes_in(full)[0] == "CQ-SXGC"
    assert len(codes_in(full)) < 20
    partial = client.get("/", params, HTTP_HX_REQUEST="true")
    body = partial.content.decode()
    assert body.lstrip().startswith('<section id="results"')
    assert "<html" not in body and codes_in(body) == codes_in(full)
    assert "HX-Request" in partial["Vary"]


def test_open_at_filter_on_the_page(client, db, actor, station):
    station_services.set_schedule(station("CQ-SXGC"), WEEKDAY_9_TO_5, actor=actor)
    base = {"lat": SXGC[0], "lng": SXGC[1], "when": "at"}
    noon = client.get("/", {**base, "at": "2026-06-16T12:00"}).content.decode()
    night = client.get("/", {**base, "at": "2026-06-16T21:00"}).content.decode()
    assert codes_in(noon)[0] == "CQ-SXGC" and "CQ-SXGC" not in codes_in(night)
    assert "17:00" in noon


def test_theme_filter_on_the_page(client, db):
    html = client.get("/", {"lat": 36.66, "lng": 117.0, "theme": "little_bee"}).content.decode()
    codes = codes_in(html)
    assert codes and all(code.startswith("SD-") for code in codes)


def test_temporarily_closed_notice_is_shown_in_the_list(client, db, actor, station):
    station_services.close_station(station("CQ-SXGC"), actor=actor, notice="装修暂停开放", temporary=True)
    html = client.get("/", {"lat": SXGC[0], "lng": SXGC[1]}).content.decode()
    assert codes_in(html)[0] == "CQ-SXGC"
    first = html.split('class="station"')[1]
    assert "装修暂停开放" in first and "暂停开放" in first


@pytest.mark.parametrize("text", ["sxgc", "三峡广场", "SXGC"])
def test_place_search_finds_a_station_by_name_or_pinyin_initials(client, db, text):
    html = client.get("/", {"q": text}).content.decode()
    assert codes_in(html)[0] == "CQ-SXGC"


def test_place_search_with_several_matches_asks_which(client, db):
    html = client.get("/", {"q": "重庆"}).content.decode()
    assert 'class="places"' in html and codes_in(html) == []


def test_place_search_that_finds_nothing_says_so(client, db):
    html = client.get("/", {"q": "zzzzqqq"}).content.decode()
    assert 'role="alert"' in html and "zzzzqqq" in html


def test_picking_a_city(client, db):
    html = client.get("/", {"city": "SZ"}).content.decode()
    assert codes_in(html) and all(code.startswith("SZ-") for code in codes_in(html)[:5])
    assert client.get("/", {"city": "NOWHERE"}).status_code == 200


@pytest.mark.parametrize(
    "params",
    [
        {"lat": "91", "lng": "106"},
        {"lat": "29.5", "lng": "abc"},
        {"lat": "29.5", "lng": "106.5", "facility": "jacuzzi"},
        {"lat": "29.5", "lng": "106.5", "theme": "vip"},
        {"lat": "29.5", "lng": "106.5", "when": "at", "at": "next tuesday"},
        {"lat": "29.5", "lng": "106.5", "crs": "mars"},
        {"lat": "29.5", "lng": "106.5", "when": "sometime"},
        {"lat": "29.5\x00", "lng": "106.5"},
    ],
)
def test_bad_input_on_the_page_is_a_friendly_message_never_a_500(client, db, params):
    response = client.get("/", params)
    assert response.status_code in (200, 400)
    if response.status_code == 200 and params.get("when") != "sometime":
        assert 'role="alert"' in response.content.decode()


def test_station_page(client, db, actor, station):
    sxgc = station("CQ-SXGC")
    station_services.set_schedule(sxgc, WEEKDAY_9_TO_5, actor=actor)
    station_services.set_facility_state(sxgc, "phone_charging", actor=actor, state="yes", out_of_order=True)
    station_services.set_facility_state(sxgc, "wifi", actor=actor, state="no")
    station_services.verify_station(sxgc, actor=actor)
    html = client.get("/s/CQ-SXGC").content.decode()
    assert sxgc.name in html and sxgc.address in html
    assert f'href="tel:{sxgc.phone}"' in html
    assert 'class="today" aria-current="date"' in html
    assert html.count("09:00–17:00") >= 5
    assert re.search(r'class="fs-out_of_order".*?手机充电.*?故障', html, re.S)
    assert re.search(r'class="fs-no".*?Wi-Fi', html, re.S)
    assert 'href="/s/CQ-SXGC/report"' in html and 'href="/s/CQ-SXGC/confirm"' in html
    assert "uri.amap.com" in html and "api.map.baidu.com" in html and "apis.map.qq.com" in html
    assert "最近核实" in html or "Last verified" in html


def test_station_page_shows_notice_and_next_change(client, db, actor, station):
    sxgc = station("CQ-SXGC")
    station_services.set_schedule(sxgc, WEEKDAY_9_TO_5, actor=actor)
    html = client.get("/s/CQ-SXGC", {"at": "2026-10-01T10:00"}).content.decode()
    assert "10-08 09:00" in html, "next opening after the Golden Week"
    assert "国庆节" in html
    station_services.close_station(
        sxgc, actor=actor, notice="停电检修", temporary=True, reopens_on="2030-01-02"
    )
    html = client.get("/s/CQ-SXGC").content.decode()
    assert "停电检修" in html and "2030-01-02" in html


def test_unknown_station_is_404(client, db):
    assert client.get("/s/NOPE").status_code == 404


def test_permanently_closed_station_answers_like_a_missing_one(client, db, actor, station):
    station_services.close_station(station("CQ-SXGC"), actor=actor, notice="网点撤并")
    assert client.get("/s/CQ-SXGC").status_code == 404


def test_map_page_has_no_tiles_by_default(client, db):
    html = client.get("/map/", {"lat": SXGC[0], "lng": SXGC[1]}).content.decode()
    config = json.loads(
        re.search(r'<script id="map-config" type="application/json">(.*?)</script>', html).group(1)
    )
    assert config["tileUrl"] == "" and config["crs"] == "wgs84"
    assert config["you"] == [SXGC[0], SXGC[1]]
    assert "map-plain" in html
    assert "vendor/leaflet/leaflet.js" in html and "vendor/markercluster/leaflet.markercluster.js" in html


@override_settings(YIZHAN_TILE_URL="https://tiles.example/{z}/{x}/{y}.png", YIZHAN_TILE_CRS="gcj02")
def test_markers_are_shifted_to_gcj02_for_gcj02_tiles(client, db):
    from yizhan.core.geo import from_wgs84
    from yizhan.stations.models import Station

    sxgc = Station.objects.get(code="CQ-SXGC")
    glat, glng = from_wgs84(sxgc.lat, sxgc.lng, "gcj02")
    html = client.get("/map/", {"lat": sxgc.lat, "lng": sxgc.lng}).content.decode()
    config = json.loads(
        re.search(r'<script id="map-config" type="application/json">(.*?)</script>', html).group(1)
    )
    assert config["crs"] == "gcj02" and config["you"] == pytest.approx([glat, glng])
    box = {"south": glat - 0.01, "west": glng - 0.01, "north": glat + 0.01, "east": glng + 0.01}
    markers = client.get("/map/stations.json", box).json()["markers"]
    marker = next(m for m in markers if m[0] == "CQ-SXGC")
    assert marker[2:4] == pytest.approx([glat, glng], abs=1e-6)


def test_map_markers_in_wgs84_without_tiles_and_with_filters(client, db, actor, station):
    box = {"south": 29.4, "west": 106.3, "north": 29.7, "east": 106.7}
    everything = client.get("/map/stations.json", box).json()
    sxgc = next(m for m in everything["markers"] if m[0] == "CQ-SXGC")
    assert sxgc[2:4] == [29.5566, 106.4569]
    station_services.set_facility_state(station("CQ-SXGC"), "mother_baby_room", actor=actor, state="yes")
    few = client.get("/map/stations.json", {**box, "facility": "mother_baby_room"}).json()
    assert [m[0] for m in few["markers"]] == ["CQ-SXGC"] and few["total"] == 1
    assert client.get("/map/stations.json", {"south": "x"}).status_code == 422
    assert client.get("/map/stations.json", {**box, "facility": "jacuzzi"}).status_code == 422


def test_public_pages_need_no_login(client, db):
    for url in ("/", "/map/", "/s/CQ-SXGC", "/api/v1/stations/CQ-SXGC", "/api/v1/open-data/stations.csv"):
        assert client.get(url).status_code == 200, url


def test_list_page_is_small(client, db):
    from django.contrib.staticfiles import finders

    html = client.get("/", {"lat": SXGC[0], "lng": SXGC[1]}).content
    assets = re.findall(rb'(?:href|src)="/static/([^"]+)"', html)
    total = len(html) + sum(Path(finders.find(a.decode())).stat().st_size for a in assets)
    assert total < 150 * 1024, f"{total} bytes before compression"
