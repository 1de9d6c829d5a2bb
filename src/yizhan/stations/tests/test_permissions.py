"""The permission matrix: the named demo users against in-scope and out-of-scope stations, units
and waves, on every station page and every staff API endpoint (404 outside, 403 short of role)."""

import pytest

from yizhan.orgs.services import create_api_token
from yizhan.stations.models import RolloutWave, Station

USERS = ["hq_admin", "cq_admin", "sanxia_manager", "sz_viewer"]
# For each user: a station in their scope and one outside it (None: head office sees everything).
STATIONS = {
    "hq_admin": ("CQ-SXGC", None),
    "cq_admin": ("CQ-SXGC", "SZ-MLYC"),
    "sanxia_manager": ("CQ-SXGC", "CQ-JXDL"),
    "sz_viewer": ("SZ-MLYC", "CQ-SXGC"),
}
UNITS = {
    "hq_admin": ("SD", None),
    "cq_admin": ("CQ-YZ", "SZ"),
    "sanxia_manager": ("CQ-SXGC", "CQ"),
    "sz_viewer": ("SZ-FT", "CQ"),
}
ROLE = {"hq_admin": "admin", "cq_admin": "admin", "sanxia_manager": "manager", "sz_viewer": "viewer"}
RANK = {"viewer": 1, "manager": 2, "admin": 3}
NEED = {"read": 1, "change": 2, "admin": 3}


def allowed(username, perm) -> bool:
    if perm == "hq_admin":
        return username == "hq_admin"
    return RANK[ROLE[username]] >= NEED[perm]


def expected(username, perm, ok=200):
    return ok if allowed(username, perm) else 403


STATION_PAGES = [
    ("/manage/stations/{code}/", "read"),
    ("/manage/stations/{code}/edit/", "change"),
    ("/manage/stations/{code}/facilities/", "change"),
    ("/manage/stations/{code}/hours/", "change"),
    ("/manage/stations/{code}/close/", "change"),
]
STATION_POSTS = [
    ("/manage/stations/{code}/verify/", "change"),
    ("/manage/stations/{code}/reopen/", "change"),
]
PLAIN_PAGES = [
    ("/manage/stations/", "read"),
    ("/manage/stations/export.xlsx", "read"),
    ("/manage/stations/export.csv", "read"),
    ("/manage/stations/template.xlsx", "read"),
    ("/manage/stations/template.csv", "read"),
    ("/manage/stations/new/", "change"),
    ("/manage/stations/import/", "change"),
    ("/manage/stations/reports/", "read"),
    ("/manage/stations/reports/export.xlsx", "read"),
    ("/manage/stations/waves/", "read"),
    ("/manage/stations/waves/new/", "admin"),
    ("/manage/stations/standards/", "read"),
    ("/manage/stations/standards/new/", "hq_admin"),
    ("/manage/stations/holidays/", "read"),
    ("/manage/stations/holidays/2026/", "read"),
]


@pytest.mark.parametrize("username", USERS)
@pytest.mark.parametrize(("url", "perm"), STATION_PAGES)
def test_station_pages(client_for, username, url, perm):
    inside, outside = STATIONS[username]
    client = client_for(username)
    assert client.get(url.format(code=inside)).status_code == expected(username, perm)
    assert client.get(url.format(code=outside or "NO-SUCH")).status_code == 404
    assert client.get(url.format(code="NO-SUCH")).status_code == 404


@pytest.mark.parametrize("username", USERS)
@pytest.mark.parametrize(("url", "perm"), STATION_POSTS)
def test_station_actions(client_for, username, url, perm):
    inside, outside = STATIONS[username]
    client = client_for(username)
    if outside:
        before = Station.objects.get(code=outside).verified_at
        assert client.post(url.format(code=outside)).status_code == 404
        assert Station.objects.get(code=outside).verified_at == before
    assert client.post(url.format(code=inside)).status_code == expected(username, perm, ok=302)


@pytest.mark.parametrize("username", USERS)
@pytest.mark.parametrize(("url", "perm"), PLAIN_PAGES)
def test_plain_pages(client_for, username, url, perm):
    assert client_for(username).get(url).status_code == expected(username, perm)


@pytest.mark.parametrize("username", USERS)
def test_reports_drill_down_stays_in_scope(client_for, username):
    inside, outside = UNITS[username]
    client = client_for(username)
    assert client.get(f"/manage/stations/reports/?unit={inside}").status_code == 200
    assert client.get(f"/manage/stations/reports/export.xlsx?unit={inside}").status_code == 200
    if outside:
        assert client.get(f"/manage/stations/reports/?unit={outside}").status_code == 404
        assert client.get(f"/manage/stations/reports/export.xlsx?unit={outside}").status_code == 404


@pytest.mark.parametrize("username", USERS)
def test_list_and_export_show_only_the_subtree(client_for, username):
    inside, outside = STATIONS[username]
    client = client_for(username)
    page = client.get("/manage/stations/", {"q": inside}).content.decode()
    assert f"/manage/stations/{inside}/" in page
    exported = client.get("/manage/stations/export.csv").content.decode("utf-8-sig")
    assert inside in exported
    if outside:
        assert (
            f"/manage/stations/{outside}/"
            not in client.get("/manage/stations/", {"q": outside}).content.decode()
        )
        assert f"\n{outside}," not in exported


WAVE_ACCESS = {"hq_admin": 200, "cq_admin": 200, "sanxia_manager": 404, "sz_viewer": 404}


@pytest.mark.parametrize("username", USERS)
def test_wave_pages(client_for, username):
    wave = RolloutWave.objects.get(unit__code="CQ")
    client = client_for(username)
    assert client.get(f"/manage/stations/waves/{wave.pk}/").status_code == WAVE_ACCESS[username]
    edit = client.get(f"/manage/stations/waves/{wave.pk}/edit/").status_code
    assert edit == (WAVE_ACCESS[username] if WAVE_ACCESS[username] == 404 else expected(username, "admin"))
    assert client.get("/manage/stations/waves/999999/").status_code == 404


@pytest.mark.parametrize("username", USERS)
def test_standard_and_holiday_writes_are_for_head_office_admins(client_for, username):
    from yizhan.stations.models import Standard

    client = client_for(username)
    standard = Standard.objects.first()
    assert client.get(f"/manage/stations/standards/{standard.pk}/edit/").status_code == expected(
        username, "hq_admin"
    )
    response = client.post(
        "/manage/stations/holidays/2026/", {"date": "2026-06-01", "kind": "off", "name": "x"}
    )
    assert response.status_code == (302 if username == "hq_admin" else 403)
    response = client.post("/manage/stations/holidays/import/", {"year": 2027})
    assert response.status_code == (302 if username == "hq_admin" else 403)
    job_page = client_for("hq_admin").post("/manage/stations/holidays/import/", {"year": 2027})["Location"]
    assert client.get(job_page).status_code == expected(username, "hq_admin")


@pytest.mark.parametrize("username", USERS)
def test_bulk_facility_only_touches_the_scope(client_for, username):
    from yizhan.stations.models import StationFacility

    inside, outside = STATIONS[username]
    codes = [inside] + ([outside] if outside else [])
    response = client_for(username).post(
        "/manage/stations/bulk-facility/", {"stations": codes, "facility": "wifi", "state": "no"}
    )
    assert response.status_code == expected(username, "change", ok=302)
    wifi = dict(
        StationFacility.objects.filter(facility__code="wifi", station__code__in=codes).values_list(
            "station__code", "state"
        )
    )
    assert (wifi.get(inside) == "no") == allowed(username, "change")
    if outside:
        assert wifi.get(outside) != "no"


def test_anonymous_is_sent_to_login(client):
    for url in ("/manage/stations/", "/manage/stations/CQ-SXGC/", "/manage/stations/reports/"):
        response = client.get(url)
        assert response.status_code == 302 and response["Location"].startswith("/manage/login/")


# --- the staff API ----------------------------------------------------------------------------------


@pytest.fixture
def api(users):
    def make(username):
        from django.test import Client

        _token, raw = create_api_token(user=users[username], name="test")
        client = Client(HTTP_AUTHORIZATION=f"Bearer {raw}")
        return client

    return make


API_READS = ["/api/v1/manage/stations/{code}", "/api/v1/manage/stations/{code}/facilities"]
API_WRITES = [
    ("patch", "/api/v1/manage/stations/{code}", {"seats": 9}),
    ("put", "/api/v1/manage/stations/{code}/facilities/wifi", {"state": "no"}),
    ("post", "/api/v1/manage/stations/{code}/verify", {}),
    ("post", "/api/v1/manage/stations/{code}/close", {"notice": "装修", "temporary": True}),
]


@pytest.mark.parametrize("username", USERS)
@pytest.mark.parametrize("url", API_READS)
def test_api_reads(api, username, url):
    inside, outside = STATIONS[username]
    client = api(username)
    assert client.get(url.format(code=inside)).status_code == 200
    assert client.get(url.format(code=outside or "NO-SUCH")).status_code == 404
    assert client.get(url.format(code="NO-SUCH")).status_code == 404


@pytest.mark.parametrize("username", USERS)
@pytest.mark.parametrize(("method", "url", "body"), API_WRITES)
def test_api_writes(api, username, method, url, body):
    inside, outside = STATIONS[username]
    client = api(username)
    call = getattr(client, method)
    if method in ("patch", "put"):  # edits name the station's revision they are based on
        body = {**body, "revision": Station.objects.get(code=inside).revision}
    if outside:
        before = Station.objects.get(code=outside).updated_at
        assert call(url.format(code=outside), body, content_type="application/json").status_code == 404
        assert Station.objects.get(code=outside).updated_at == before
    response = call(url.format(code=inside), body, content_type="application/json")
    assert response.status_code == expected(username, "change"), response.content


@pytest.mark.parametrize("username", USERS)
def test_api_list_create_and_import(api, username):
    inside, outside = STATIONS[username]
    client = api(username)
    listed = {s["code"] for s in client.get("/api/v1/manage/stations", {"limit": 1000}).json()}
    assert inside in listed and (outside is None or outside not in listed)
    unit = Station.objects.get(code=inside).unit.code
    response = client.post(
        "/api/v1/manage/stations",
        {"code": f"API-{username}", "name": "接口驿站", "unit": unit},
        content_type="application/json",
    )
    assert response.status_code == expected(username, "change", ok=201)
    if outside:
        response = client.post(
            "/api/v1/manage/stations",
            {"code": "API-OUT", "name": "越权", "unit": Station.objects.get(code=outside).unit.code},
            content_type="application/json",
        )
        assert response.status_code == (422 if allowed(username, "change") else 403)
        assert not Station.objects.filter(code="API-OUT").exists()
    from django.core.files.uploadedfile import SimpleUploadedFile

    upload = SimpleUploadedFile("s.csv", "驿站编码,驿站名称,网点编码\nAPI-IMP,导入,CQ-SXGC\n".encode())
    response = client.post("/api/v1/manage/stations/import", {"file": upload, "dry_run": "true"})
    in_cq = username in ("hq_admin", "cq_admin", "sanxia_manager")
    assert response.status_code == (403 if not allowed(username, "change") else (200 if in_cq else 422))


def test_api_without_a_token_is_401(client):
    assert client.get("/api/v1/manage/stations").status_code == 401
    assert client.get("/api/v1/manage/stations/CQ-SXGC").status_code == 401
