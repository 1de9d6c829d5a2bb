"""The open-data feed: GeoJSON and CSV, updated_since, documented fields, licence, ETag."""

import csv
import io
import json

from yizhan.stations import services as station_services
from yizhan.stations.models import Facility, Station

GEOJSON = "/api/v1/open-data/stations.geojson"
CSV = "/api/v1/open-data/stations.csv"


def body(response) -> bytes:
    return b"".join(response.streaming_content) if response.streaming else response.content


def test_geojson_holds_every_public_station_in_wgs84(client, db, actor, station):
    station_services.close_station(station("CQ-JXDL"), actor=actor, notice="撤并")
    response = client.get(GEOJSON)
    assert response.status_code == 200 and response["Content-Type"].startswith("application/geo+json")
    data = json.loads(body(response))
    assert data["type"] == "FeatureCollection" and "CC BY" in data["license"]
    features = {f["id"]: f for f in data["features"]}
    public = Station.objects.filter(status__in=["active", "temporarily_closed"])
    assert set(features) == set(public.values_list("code", flat=True))
    assert "CQ-JXDL" not in features
    sxgc = Station.objects.get(code="CQ-SXGC")
    feature = features["CQ-SXGC"]
    assert feature["geometry"] == {"type": "Point", "coordinates": [sxgc.lng, sxgc.lat]}
    props = feature["properties"]
    assert props["themes"] == ["medical_priority"]
    assert set(props["facilities"]) == set(Facility.objects.values_list("code", flat=True))
    assert set(props["facilities"].values()) <= {"yes", "no", "unknown", "out_of_order"}
    assert props["status"] == "active"


def test_csv_has_one_column_per_facility_and_the_same_stations(client, db, actor, station):
    station_services.set_facility_state(
        station("CQ-SXGC"), "wifi", actor=actor, state="yes", out_of_order=True
    )
    response = client.get(CSV)
    assert response["Content-Type"].startswith("text/csv")
    text = body(response).decode("utf-8-sig")
    rows = list(csv.DictReader(io.StringIO(text)))
    assert len(rows) == Station.objects.filter(status__in=["active", "temporarily_closed"]).count()
    sxgc = next(r for r in rows if r["code"] == "CQ-SXGC")
    assert sxgc["facility:wifi"] == "out_of_order"
    assert sxgc["themes"] == "medical_priority"
    assert float(sxgc["lat"]) == Station.objects.get(code="CQ-SXGC").lat


def test_updated_since_gives_changes_including_closures(client, db, actor, station):
    from django.utils import timezone

    mark = timezone.now()
    station_services.close_station(station("CQ-JXDL"), actor=actor, notice="撤并")
    station_services.set_facility_state(station("CQ-SXGC"), "restroom", actor=actor, state="yes")
    data = json.loads(body(client.get(GEOJSON, {"updated_since": mark.isoformat()})))
    assert {f["id"]: f["properties"]["status"] for f in data["features"]} == {
        "CQ-JXDL": "closed",
        "CQ-SXGC": "active",
    }
    rows = list(
        csv.DictReader(
            io.StringIO(body(client.get(CSV, {"updated_since": mark.isoformat()})).decode("utf-8-sig"))
        )
    )
    assert {r["code"] for r in rows} == {"CQ-JXDL", "CQ-SXGC"}


def test_bad_updated_since_is_a_422(client, db):
    response = client.get(GEOJSON, {"updated_since": "last week"})
    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"] == ["query", "updated_since"]


def test_etag_gives_304_until_the_data_changes(client, db, actor, station):
    first = client.get(GEOJSON)
    tag = first["ETag"]
    assert tag and "max-age" in first["Cache-Control"]
    again = client.get(GEOJSON, HTTP_IF_NONE_MATCH=tag)
    assert again.status_code == 304 and again["ETag"] == tag
    assert client.get(CSV, HTTP_IF_NONE_MATCH=tag).status_code == 200, "each format has its own tag"
    station_services.set_facility_state(station("CQ-SXGC"), "restroom", actor=actor, state="yes")
    changed = client.get(GEOJSON, HTTP_IF_NONE_MATCH=tag)
    assert changed.status_code == 200 and changed["ETag"] != tag


def test_fields_and_licence_are_documented(client, db):
    doc = client.get("/api/v1/open-data/").json()
    assert "CC BY" in doc["license"]
    assert {"code", "name", "lat", "lng", "status", "themes", "facilities"} <= set(doc["fields"])
    assert all(doc["fields"].values())
    assert "wifi" in doc["facilities"]
    header = next(csv.reader(io.StringIO(body(client.get(CSV)).decode("utf-8-sig"))))
    documented = set(doc["fields"]) - {"facilities"}
    assert documented == {h for h in header if not h.startswith("facility:")}
