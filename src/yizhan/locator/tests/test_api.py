"""The public API: nearby and one station, shape, filters, coordinates and bad input."""

import pytest

from yizhan.core.geo import haversine_m
from yizhan.locator.tests.conftest import WEEKDAY_9_TO_5
from yizhan.stations import services as station_services

SXGC = (29.5566, 106.4569)  # 三峡广场 (demo outlet, WGS-84)
NEARBY = "/api/v1/stations/nearby"


def nearby(client, **params):
    response = client.get(NEARBY, params)
    assert response.status_code == 200, response.content
    return response.json()["results"]


def test_nearby_is_sorted_by_true_distance(client, db):
    from yizhan.stations.models import Station

    results = nearby(client, lat=SXGC[0], lng=SXGC[1], limit=50)
    assert results[0]["code"] == "CQ-SXGC"
    public = Station.objects.filter(status__in=["active", "temporarily_closed"]).values_list(
        "code", "lat", "lng"
    )
    distance = {code: haversine_m(*SXGC, lat, lng) for code, lat, lng in public}
    expected = sorted((d, code) for code, d in distance.items() if d <= 50_000)[:50]
    assert [r["code"] for r in results] == [code for _d, code in expected]
    assert all(abs(r["distance_m"] - distance[r["code"]]) <= 1 for r in results)


def test_result_carries_what_the_issue_lists(client, db):
    result = nearby(client, lat=SXGC[0], lng=SXGC[1], limit=1)[0]
    assert set(result) >= {
        "code",
        "name",
        "distance_m",
        "lat",
        "lng",
        "open",
        "next_change",
        "facilities",
        "themes",
        "address",
        "links",
    }
    assert set(result["links"]) == {"page", "amap", "baidu", "tencent"}
    assert result["links"]["page"] == "/s/CQ-SXGC"
    assert "medical_priority" in result["themes"]
    assert result["facilities"]["drinking_water"] in {"yes", "no", "out_of_order"}


@pytest.mark.parametrize("crs", ["gcj02", "bd09"])
def test_answer_is_in_the_requested_coordinate_system(client, db, crs):
    from yizhan.core.geo import from_wgs84
    from yizhan.stations.models import Station

    sxgc = Station.objects.get(code="CQ-SXGC")
    lat, lng = from_wgs84(sxgc.lat, sxgc.lng, crs)
    result = nearby(client, lat=lat, lng=lng, crs=crs, limit=1)[0]
    assert result["code"] == "CQ-SXGC"
    assert result["distance_m"] <= 1, "the query point was converted back to WGS-84 exactly"
    assert (result["lat"], result["lng"]) == (round(lat, 6), round(lng, 6))
    assert result["crs"] == crs


def test_limit_and_radius(client, db):
    assert len(nearby(client, lat=SXGC[0], lng=SXGC[1], limit=3)) == 3
    close = nearby(client, lat=SXGC[0], lng=SXGC[1], radius_m=3000, limit=50)
    assert close and all(r["distance_m"] <= 3000 for r in close)
    assert len(close) < len(nearby(client, lat=SXGC[0], lng=SXGC[1], limit=50))


def test_facility_filter_drops_stations_without_it_or_with_it_broken(client, db, actor, station):
    sxgc = station("CQ-SXGC")
    station_services.set_facility_state(sxgc, "mother_baby_room", actor=actor, state="yes")
    codes = [r["code"] for r in nearby(client, lat=SXGC[0], lng=SXGC[1], facility="mother_baby_room")]
    assert codes[0] == "CQ-SXGC"
    station_services.set_facility_state(sxgc, "mother_baby_room", actor=actor, state="yes", out_of_order=True)
    results = nearby(client, lat=SXGC[0], lng=SXGC[1], facility="mother_baby_room", limit=50)
    assert "CQ-SXGC" not in [r["code"] for r in results]
    plain = nearby(client, lat=SXGC[0], lng=SXGC[1], limit=1)[0]
    assert plain["facilities"]["mother_baby_room"] == "out_of_order"


def test_two_facilities_must_both_be_there(client, db):
    both = nearby(client, lat=SXGC[0], lng=SXGC[1], facility=["wifi", "reading_glasses"], limit=50)
    assert both
    for r in both:
        assert r["facilities"].get("wifi") == "yes" and r["facilities"].get("reading_glasses") == "yes"
    one = nearby(client, lat=SXGC[0], lng=SXGC[1], facility="wifi", limit=50)
    assert len(both) <= len(one)


def test_theme_filter(client, db):
    bees = nearby(client, lat=36.66, lng=117.0, theme="little_bee", limit=50)
    assert bees and all("little_bee" in r["themes"] for r in bees)
    everyone = nearby(client, lat=36.66, lng=117.0, limit=50)
    assert len(bees) < len(everyone)


def test_open_now_and_open_at(client, db, actor, station):
    sxgc = station("CQ-SXGC")
    station_services.set_schedule(sxgc, WEEKDAY_9_TO_5, actor=actor)
    tuesday_noon = "2026-06-16T12:00:00+08:00"
    tuesday_night = "2026-06-16T21:00:00+08:00"
    at_noon = nearby(client, lat=SXGC[0], lng=SXGC[1], at=tuesday_noon, open_now="true", limit=50)
    assert at_noon[0]["code"] == "CQ-SXGC" and at_noon[0]["open"] is True
    assert at_noon[0]["next_change"] == "2026-06-16T17:00:00+08:00"
    at_night = nearby(client, lat=SXGC[0], lng=SXGC[1], at=tuesday_night, open_now="true", limit=50)
    assert "CQ-SXGC" not in [r["code"] for r in at_night]
    assert all(r["open"] for r in at_night)
    unfiltered = nearby(client, lat=SXGC[0], lng=SXGC[1], at=tuesday_night, limit=1)[0]
    assert unfiltered["code"] == "CQ-SXGC" and unfiltered["open"] is False
    assert unfiltered["next_change"] == "2026-06-17T09:00:00+08:00"


def test_open_now_on_a_holiday_and_on_a_make_up_workday(client, db, actor, station):
    sxgc = station("CQ-SXGC")
    station_services.set_schedule(sxgc, WEEKDAY_9_TO_5, actor=actor)
    # 2026-10-01 is National Day (a Thursday off); 2026-09-20 a Sunday worked in its place.
    holiday = nearby(client, lat=SXGC[0], lng=SXGC[1], at="2026-10-01T10:00", limit=1)[0]
    assert holiday["code"] == "CQ-SXGC" and holiday["open"] is False
    assert holiday["next_change"] == "2026-10-08T09:00:00+08:00", "the whole Golden Week is off"
    makeup = nearby(client, lat=SXGC[0], lng=SXGC[1], at="2026-09-20T10:00", limit=1)[0]
    assert makeup["open"] is True
    assert makeup["next_change"] == "2026-09-20T17:00:00+08:00"
    open_on_holiday = nearby(client, lat=SXGC[0], lng=SXGC[1], at="2026-10-01T10:00", open_now="1", limit=50)
    assert "CQ-SXGC" not in [r["code"] for r in open_on_holiday]


def test_temporarily_closed_station_shows_its_notice_and_is_never_open(client, db, actor, station):
    sxgc = station("CQ-SXGC")
    station_services.set_schedule(sxgc, {**WEEKDAY_9_TO_5, "always_open": True}, actor=actor)
    station_services.close_station(sxgc, actor=actor, notice="装修暂停开放", temporary=True)
    result = nearby(client, lat=SXGC[0], lng=SXGC[1], limit=1)[0]
    assert result["code"] == "CQ-SXGC"
    assert result["status"] == "temporarily_closed" and result["notice"] == "装修暂停开放"
    assert result["open"] is False
    open_now = nearby(client, lat=SXGC[0], lng=SXGC[1], open_now="true", limit=50)
    assert "CQ-SXGC" not in [r["code"] for r in open_now]


def test_closed_station_is_not_listed(client, db, actor, station):
    station_services.close_station(station("CQ-SXGC"), actor=actor, notice="网点撤并")
    codes = [r["code"] for r in nearby(client, lat=SXGC[0], lng=SXGC[1], limit=50)]
    assert "CQ-SXGC" not in codes


BAD_INPUT = [
    ({"lat": "91", "lng": "106.5"}, "lat"),
    ({"lat": "29.5", "lng": "abc"}, "lng"),
    ({"lat": "29.5", "lng": "106.5", "limit": "0"}, "limit"),
    ({"lat": "29.5", "lng": "106.5", "limit": "500"}, "limit"),
    ({"lat": "29.5", "lng": "106.5", "limit": "ten"}, "limit"),
    ({"lat": "29.5", "lng": "106.5", "radius_m": str(10**9)}, "radius_m"),
    ({"lat": "29.5", "lng": "106.5", "radius_m": "nan"}, "radius_m"),
    ({"lat": "29.5", "lng": "106.5", "facility": "jacuzzi"}, "facility"),
    ({"lat": "29.5", "lng": "106.5", "theme": "vip"}, "theme"),
    ({"lat": "29.5", "lng": "106.5", "at": "yesterday noon"}, "at"),
    ({"lat": "29.5", "lng": "106.5", "at": "2026-13-40T25:00"}, "at"),
    ({"lat": "29.5", "lng": "106.5", "crs": "mars"}, "crs"),
    ({"lat": "29.5", "lng": "106.5", "open_now": "maybe"}, "open_now"),
    ({"lng": "106.5"}, "lat"),
    ({"lat": "51.5", "lng": "-0.12"}, "lng"),
]


@pytest.mark.parametrize(("params", "field"), BAD_INPUT)
def test_bad_input_is_a_422_naming_the_parameter(client, db, params, field):
    response = client.get(NEARBY, params)
    assert response.status_code == 422
    fields = [problem["loc"][-1] for problem in response.json()["detail"]]
    assert field in fields
    assert all(problem["loc"][0] == "query" and problem["msg"] for problem in response.json()["detail"])


def test_every_bad_parameter_is_named_at_once(client, db):
    response = client.get(
        NEARBY,
        {"lat": "91", "lng": "abc", "limit": "0", "radius_m": "1e9", "facility": "x", "at": "x", "crs": "x"},
    )
    assert response.status_code == 422
    assert {p["loc"][-1] for p in response.json()["detail"]} == {
        "lat",
        "lng",
        "limit",
        "radius_m",
        "facility",
        "at",
        "crs",
    }


def test_station_detail_at_a_time(client, db, actor, station):
    station_services.set_schedule(station("CQ-SXGC"), WEEKDAY_9_TO_5, actor=actor)
    response = client.get("/api/v1/stations/CQ-SXGC", {"at": "2026-10-01T10:00+08:00"})
    assert response.status_code == 200
    data = response.json()
    assert data["code"] == "CQ-SXGC" and data["open"] is False
    assert data["next_change"] == "2026-10-08T09:00:00+08:00"
    assert data["week"][3] == {"date": "2026-10-01", "intervals": [], "holiday": "国庆节"}
    assert data["week"][0]["intervals"] == [["09:00", "17:00"]]
    assert set(data["links"]) == {"page", "amap", "baidu", "tencent"}
    assert data["facilities"]["seating"] in {"yes", "no", "unknown", "out_of_order"}


def test_station_detail_bad_input_and_unknown_code(client, db):
    assert client.get("/api/v1/stations/NOPE").status_code == 404
    response = client.get("/api/v1/stations/CQ-SXGC", {"at": "soon"})
    assert response.status_code == 422 and response.json()["detail"][0]["loc"] == ["query", "at"]
    response = client.get("/api/v1/stations/CQ-SXGC", {"crs": "utm"})
    assert response.status_code == 422 and response.json()["detail"][0]["loc"] == ["query", "crs"]


def test_openapi_documents_the_public_endpoints(client, db):
    paths = client.get("/api/v1/openapi.json").json()["paths"]
    nearby_doc = paths["/api/v1/stations/nearby"]["get"]
    names = {p["name"] for p in nearby_doc["parameters"]}
    assert names >= {"lat", "lng", "crs", "limit", "radius_m", "facility", "theme", "open_now", "at"}
    assert "422" in nearby_doc["responses"]
    assert "/api/v1/stations/{code}" in paths
    assert "/api/v1/open-data/stations.geojson" in paths and "/api/v1/open-data/stations.csv" in paths


def test_times_are_given_in_beijing_time(client, db, actor, station):
    station_services.set_schedule(station("CQ-SXGC"), WEEKDAY_9_TO_5, actor=actor)
    # 03:00 UTC on a Tuesday is 11:00 in Beijing: open, closing at 17:00 Beijing time.
    answer = client.get(
        NEARBY, {"lat": SXGC[0], "lng": SXGC[1], "limit": 1, "at": "2026-06-16T03:00:00Z"}
    ).json()
    assert answer["at"] == "2026-06-16T11:00:00+08:00"
    assert answer["results"][0]["open"] is True
    assert answer["results"][0]["next_change"] == "2026-06-16T17:00:00+08:00"


@pytest.mark.parametrize("crs", ["wgs84", "gcj02", "bd09"])
def test_fast_answer_is_the_same_as_the_plain_one(db, crs):
    """The API writes its JSON from per-station fragments; they must say what result_json says."""
    import json

    from yizhan.locator import services

    idx = services.index()
    query = services.clean_nearby(
        {"lat": str(SXGC[0]), "lng": str(SXGC[1]), "limit": "20", "crs": crs}, catalogue=idx.catalogue
    )
    fast = json.loads(services.nearby_json(query, idx))["results"]
    plain = [services.result_json(r, crs) for r in services.nearby(query, idx)]
    assert len(fast) >= 10
    assert fast == plain
    assert json.loads(services.nearby_json(query, idx))["results"] == plain, "and again from the fragments"


def test_answers_stay_right_when_the_station_json_cache_overflows(db, monkeypatch):
    import json

    from yizhan.locator import services

    monkeypatch.setattr(services, "FRAGMENT_CACHE", 4)
    idx = services.index()
    query = services.clean_nearby(
        {"lat": str(SXGC[0]), "lng": str(SXGC[1]), "limit": "15"}, catalogue=idx.catalogue
    )
    plain = [services.result_json(r, "wgs84") for r in services.nearby(query, idx)]
    for _ in range(3):
        assert json.loads(services.nearby_json(query, idx))["results"] == plain
    assert sum(len(kept) for kept in idx.fragments.values()) <= 4
