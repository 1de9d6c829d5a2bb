"""Coordinate conversion against published GCJ-02 / BD-09 test vectors, and through the station
verbs, which store WGS-84 whatever datum the input was in.

Vectors: googollee/eviltransform's test suite (WGS-84 -> GCJ-02 in Shanghai, Shenzhen, Beijing),
the coordtransform test suites (GCJ-02 <-> BD-09 at Tiananmen, 116.404 E 39.915 N) and a
WGS-84 -> GCJ-02 -> BD-09 triple published with the geotool CLI tests.
"""

import pytest

from yizhan.core.geo import from_wgs84, to_wgs84
from yizhan.stations import services

WGS_GCJ = [
    ((31.1774276, 121.5272106), (31.17530398364597, 121.531541859215)),  # Shanghai
    ((22.543847, 113.912316), (22.540796131694766, 113.9171764808363)),  # Shenzhen
    ((39.911954, 116.377817), (39.91334545536069, 116.38404722455657)),  # Beijing
    ((39.915, 116.404), (39.91640428150164, 116.41024449916938)),  # Tiananmen
]
GCJ_BD = [((39.915, 116.404), (39.92133699351021, 116.41036949371029))]
BD_GCJ = [((39.915, 116.404), (39.90865673957631, 116.39762729119315))]
WGS_BD = [((30.6107779, 121.0917077), (30.61484572185035, 121.10271732371203))]


@pytest.mark.parametrize(("wgs", "gcj"), WGS_GCJ)
def test_wgs84_to_gcj02_matches_published_vectors(wgs, gcj):
    assert from_wgs84(*wgs, "gcj02") == pytest.approx(gcj, abs=1e-9)


@pytest.mark.parametrize(("wgs", "gcj"), WGS_GCJ)
def test_gcj02_back_to_wgs84_within_a_centimetre(wgs, gcj):
    assert to_wgs84(*gcj, "gcj02") == pytest.approx(wgs, abs=1e-7)


@pytest.mark.parametrize(("gcj", "bd"), GCJ_BD)
def test_gcj02_to_bd09(gcj, bd):
    import prcoords

    out = prcoords.gcj_bd(prcoords.Coords(*gcj))
    assert (out.lat, out.lon) == pytest.approx(bd, abs=1e-9)


@pytest.mark.parametrize(("bd", "gcj"), BD_GCJ)
def test_bd09_to_gcj02(bd, gcj):
    import prcoords

    out = prcoords.bd_gcj(prcoords.Coords(*bd))
    assert (out.lat, out.lon) == pytest.approx(gcj, abs=1e-9)


@pytest.mark.parametrize(("wgs", "bd"), WGS_BD)
def test_wgs84_to_bd09_and_back(wgs, bd):
    # The published triple used slightly different constants: agree to a decimetre (1e-6 degrees).
    assert from_wgs84(*wgs, "bd09") == pytest.approx(bd, abs=1e-6)
    assert to_wgs84(*from_wgs84(*wgs, "bd09"), "bd09") == pytest.approx(wgs, abs=1e-7)


@pytest.mark.parametrize("crs", ["gcj02", "bd09"])
def test_station_verbs_store_wgs84(db, unit, crs):
    wgs = (22.543847, 113.912316)
    lat, lng = from_wgs84(*wgs, crs)
    station = services.register_station(
        actor=None, unit=unit("SZ-QCXJ"), code=f"GEO-{crs}", name="坐标", lat=lat, lng=lng, crs=crs
    )
    assert (station.lat, station.lng) == pytest.approx(wgs, abs=1e-7)
    gcj = from_wgs84(22.5440, 113.9125, "gcj02")
    services.update_station(station, actor=None, lat=gcj[0], lng=gcj[1], crs="gcj02")
    station.refresh_from_db()
    assert (station.lat, station.lng) == pytest.approx((22.5440, 113.9125), abs=1e-7)
