"""The staff API: open / next_change at ?at=, coordinate systems, 422s named and declared."""

import pytest

from yizhan.orgs.services import create_api_token
from yizhan.stations import services
from yizhan.stations.models import Station

WORKDAY = [["09:00", "12:00"], ["14:00", "17:30"]]


@pytest.fixture
def client(users):
    from django.test import Client

    _token, raw = create_api_token(user=users["cq_admin"], name="test")
    return Client(HTTP_AUTHORIZATION=f"Bearer {raw}", HTTP_ACCEPT_LANGUAGE="en")


@pytest.fixture
def bank_hours(db):
    station = Station.objects.get(code="CQ-SXGC")
    services.set_schedule(
        station,
        {"weekly": dict.fromkeys(("mon", "tue", "wed", "thu", "fri"), WORKDAY), "statutory": True},
        actor=None,
    )
    return station


@pytest.mark.parametrize(
    ("at", "is_open", "next_change"),
    [
        ("2026-10-01T10:00:00+08:00", False, "2026-10-08T09:00:00+08:00"),  # National Day
        ("2026-10-10T10:00:00+08:00", True, "2026-10-10T12:00:00+08:00"),  # make-up Saturday
        ("2026-09-28T10:00:00+08:00", True, "2026-09-28T12:00:00+08:00"),  # ordinary Monday
        ("2026-09-28T12:30:00+08:00", False, "2026-09-28T14:00:00+08:00"),  # lunch break
        ("2026-09-28T04:30:00Z", False, "2026-09-28T14:00:00+08:00"),  # the same instant in UTC
        ("2026-09-28T12:30", False, "2026-09-28T14:00:00+08:00"),  # no offset: Beijing time
    ],
)
def test_open_and_next_change_at(client, bank_hours, at, is_open, next_change):
    body = client.get("/api/v1/manage/stations/CQ-SXGC", {"at": at}).json()
    assert body["open"] is is_open
    assert body["next_change"] == next_change
    assert body["calendar_missing"] is False


def test_a_year_missing_from_the_calendar_is_flagged(client, bank_hours):
    body = client.get("/api/v1/manage/stations/CQ-SXGC", {"at": "2027-10-01T10:00:00+08:00"}).json()
    assert body["open"] is True and body["calendar_missing"] is True


def test_bad_at_is_a_named_422(client, bank_hours):
    response = client.get("/api/v1/manage/stations/CQ-SXGC", {"at": "next tuesday"})
    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"][-1] == "at"


def test_output_in_gcj02_and_input_in_bd09(client):
    from yizhan.core.geo import from_wgs84

    station = Station.objects.get(code="CQ-SXGC")
    body = client.get("/api/v1/manage/stations/CQ-SXGC", {"crs": "gcj02"}).json()
    assert (body["lat"], body["lng"]) == pytest.approx(from_wgs84(station.lat, station.lng, "gcj02"))
    lat, lng = from_wgs84(29.5601, 106.4602, "bd09")
    response = client.post(
        "/api/v1/manage/stations",
        {"code": "API-BD", "name": "百度坐标", "unit": "CQ-SXGC", "lat": lat, "lng": lng, "crs": "bd09"},
        content_type="application/json",
    )
    assert response.status_code == 201, response.content
    created = Station.objects.get(code="API-BD")
    assert created.lat == pytest.approx(29.5601, abs=1e-6) and created.lng == pytest.approx(
        106.4602, abs=1e-6
    )
    assert client.get("/api/v1/manage/stations", {"crs": "mars"}).status_code == 422


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"code": "CQ-SXGC", "name": "重复", "unit": "CQ-SXGC"}, "code"),
        ({"code": "API-X", "name": "境外", "unit": "CQ-SXGC", "lat": 48.85, "lng": 2.35}, "lng"),
        ({"code": "API-X", "name": "日期", "unit": "CQ-SXGC", "sign_installed_on": "2026-02-30"}, "sign_installed_on"),
        ({"code": "API-X", "name": "时段", "unit": "CQ-SXGC", "opening_hours": {"weekly": {"mon": [["12:00", "09:00"]]}}}, "opening_hours.mon"),
        ({"code": "API-X", "name": "主题", "unit": "CQ-SXGC", "themes": ["unicorn"]}, "themes"),
    ],
)  # fmt: skip
def test_create_bad_input_is_422_naming_the_field(client, body, field):
    response = client.post("/api/v1/manage/stations", body, content_type="application/json")
    assert response.status_code == 422
    assert field in [item["loc"][-1] for item in response.json()["detail"]]
    assert not Station.objects.filter(code="API-X").exists()


def test_patch_and_facility_round_trip(client):
    revision = client.get("/api/v1/manage/stations/CQ-SXGC").json()["revision"]
    response = client.patch(
        "/api/v1/manage/stations/CQ-SXGC",
        {"seats": 30, "themes": ["elderly"], "revision": revision},
        content_type="application/json",
    )
    assert (
        response.status_code == 200
        and response.json()["seats"] == 30
        and response.json()["themes"] == ["elderly"]
        and response.json()["revision"] == revision + 1
    )
    response = client.put(
        "/api/v1/manage/stations/CQ-SXGC/facilities/phone_charging",
        {
            "state": "yes",
            "out_of_order": True,
            "out_of_order_since": "2026-01-05",
            "note": "坏了",
            "revision": revision + 1,
        },
        content_type="application/json",
    )
    assert response.status_code == 200 and response.json()["out_of_order"] is True
    assert response.json()["revision"] == revision + 2
    facilities = {f["facility"]: f for f in client.get("/api/v1/manage/stations/CQ-SXGC/facilities").json()}
    assert facilities["phone_charging"]["out_of_order_since"] == "2026-01-05"
    assert len(facilities) == 32
    response = client.put(
        "/api/v1/manage/stations/CQ-SXGC/facilities/jacuzzi",
        {"state": "yes", "revision": revision + 2},
        content_type="application/json",
    )
    assert response.status_code == 422 and response.json()["detail"][0]["loc"][-1] == "facility"


def test_import_reports_rows_and_columns(client):
    from django.core.files.uploadedfile import SimpleUploadedFile

    data = (
        "驿站编码,驿站名称,网点编码,挂牌日期\nAPI-1,接口导入,CQ-SXGC,2022-01-01\nAPI-2,,CQ-SXGC,2022-13-01\n"
    )
    response = client.post(
        "/api/v1/manage/stations/import",
        {"file": SimpleUploadedFile("s.csv", data.encode("gbk")), "dry_run": "false"},
    )
    assert response.status_code == 422
    body = response.json()
    assert not body["committed"] and {(e["row"], e["column"]) for e in body["errors"]} == {
        (3, "驿站名称"),
        (3, "挂牌日期"),
    }
    assert not Station.objects.filter(code="API-1").exists()
    good = "驿站编码,驿站名称,网点编码\nAPI-1,接口导入,CQ-SXGC\n"
    response = client.post(
        "/api/v1/manage/stations/import",
        {"file": SimpleUploadedFile("s.csv", good.encode()), "dry_run": "false"},
    )
    assert response.status_code == 200 and response.json()["created"] == 1
    assert Station.objects.filter(code="API-1").exists()


def test_openapi_declares_the_422s(client):
    document = client.get("/api/v1/openapi.json").json()
    paths = document["paths"]
    for path, method in [
        ("/api/v1/manage/stations", "post"),
        ("/api/v1/manage/stations/{code}", "get"),
        ("/api/v1/manage/stations/{code}", "patch"),
        ("/api/v1/manage/stations/{code}/facilities/{facility}", "put"),
        ("/api/v1/manage/stations/import", "post"),
    ]:
        responses = paths[path][method]["responses"]
        assert "422" in responses, (path, method)
        assert "404" in responses or path.endswith("import")
    detail = paths["/api/v1/manage/stations/{code}"]["get"]["responses"]["200"]
    schema_ref = detail["content"]["application/json"]["schema"]["$ref"].rsplit("/", 1)[-1]
    properties = document["components"]["schemas"][schema_ref]["properties"]
    assert {"open", "next_change", "calendar_missing", "at"} <= set(properties)


def test_import_of_a_hostile_file_is_a_422_naming_the_cap(client, settings):
    import io
    import time
    import zipfile

    from django.core.files.uploadedfile import SimpleUploadedFile

    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("xl/sharedStrings.xml", b"<sst>" + b"a" * (20 * 2**20) + b"</sst>")
    start = time.perf_counter()
    response = client.post(
        "/api/v1/manage/stations/import",
        {"file": SimpleUploadedFile("bomb.xlsx", out.getvalue()), "dry_run": "true"},
        HTTP_ACCEPT_LANGUAGE="en",
    )
    assert time.perf_counter() - start < 1
    assert response.status_code == 422
    assert "compressed more than 100 to 1" in response.json()["errors"][0]["message"]
    settings.YIZHAN_IMPORT_LIMITS = {**settings.YIZHAN_IMPORT_LIMITS, "cell_chars": 100}
    data = "驿站编码,驿站名称,网点编码\nAPI-1," + "长" * 101 + ",CQ-SXGC\n"
    response = client.post(
        "/api/v1/manage/stations/import",
        {"file": SimpleUploadedFile("s.csv", data.encode()), "dry_run": "true"},
        HTTP_ACCEPT_LANGUAGE="en",
    )
    assert response.status_code == 422
    error = response.json()["errors"][0]
    assert (error["row"], error["column"]) == (2, "B") and "longer than 100" in error["message"]
    assert len(response.content) < 2000  # the cell is not echoed
