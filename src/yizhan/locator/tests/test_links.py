"""Navigation links carry each app's own coordinates; checked against published test vectors.

Vectors from wandergis/coordtransform (test/app.js), the reference most Chinese map code checks
against: WGS-84 (39.915, 116.404) -> GCJ-02 (39.91640428150164, 116.41024449916938), and
GCJ-02 (39.915, 116.404) -> BD-09 (39.92133699351021, 116.41036949371029).
"""

from urllib.parse import parse_qs, unquote, urlsplit

import pytest

from yizhan.core.geo import to_wgs84
from yizhan.locator.services import navigation_links

WGS = (39.915, 116.404)
GCJ_OF_WGS = (39.91640428150164, 116.41024449916938)
GCJ = (39.915, 116.404)
BD_OF_GCJ = (39.92133699351021, 116.41036949371029)


def amap_point(url):
    lng, lat = parse_qs(urlsplit(url).query)["position"][0].split(",")
    return float(lat), float(lng)


def baidu_point(url):
    query = parse_qs(urlsplit(url).query)
    assert query["coord_type"] == ["bd09ll"]
    lat, lng = query["location"][0].split(",")
    return float(lat), float(lng)


def tencent_point(url):
    marker = unquote(parse_qs(urlsplit(url).query)["marker"][0])
    coord = next(part for part in marker.split(";") if part.startswith("coord:"))
    lat, lng = coord[len("coord:") :].split(",")
    return float(lat), float(lng)


def test_amap_and_tencent_links_carry_gcj02():
    links = navigation_links(*WGS, "测试驿站", "北京市东城区")
    assert amap_point(links["amap"]) == pytest.approx(GCJ_OF_WGS, abs=1e-6)
    assert tencent_point(links["tencent"]) == pytest.approx(GCJ_OF_WGS, abs=1e-6)
    assert "coordinate=gaode" in links["amap"]


def test_baidu_link_carries_bd09():
    # A station whose GCJ-02 position is the published (39.915, 116.404).
    wgs = to_wgs84(*GCJ, "gcj02")
    links = navigation_links(*wgs, "测试驿站")
    assert baidu_point(links["baidu"]) == pytest.approx(BD_OF_GCJ, abs=1e-6)
    assert amap_point(links["amap"]) == pytest.approx(GCJ, abs=1e-6)


def test_names_are_encoded_not_injected():
    links = navigation_links(*WGS, "A&B;title:x", "路 1号")
    assert parse_qs(urlsplit(links["amap"]).query)["name"] == ["A&B;title:x"]
    assert parse_qs(urlsplit(links["baidu"]).query)["title"] == ["A&B;title:x"]
    assert all(link.startswith("https://") for link in links.values())


def test_station_page_links_match_the_station_position(client, db):
    from yizhan.core.geo import from_wgs84
    from yizhan.stations.models import Station

    sxgc = Station.objects.get(code="CQ-SXGC")
    html = client.get("/s/CQ-SXGC").content.decode()
    links = navigation_links(sxgc.lat, sxgc.lng, sxgc.name, sxgc.address)
    for name in ("amap", "baidu", "tencent"):
        assert links[name].replace("&", "&amp;") in html
    assert amap_point(links["amap"]) == pytest.approx(from_wgs84(sxgc.lat, sxgc.lng, "gcj02"), abs=1e-6)
    assert baidu_point(links["baidu"]) == pytest.approx(from_wgs84(sxgc.lat, sxgc.lng, "bd09"), abs=1e-6)
