"""Landmark search: the gazetteer's search (name, alias, initials, typos, exact first), the
locator page answering a landmark with the stations near it, and the gazetteer's write path —
back-office pages, import, audit, scope and bad input."""

import io

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from yizhan.audit.models import AuditEvent
from yizhan.core.concurrency import StaleEdit
from yizhan.core.geo import from_wgs84, haversine_m
from yizhan.core.tests.pagecheck import problems
from yizhan.locator import gazetteer, places
from yizhan.locator.models import Place
from yizhan.locator.tests.test_pages import codes_in
from yizhan.stations.models import Station

JIEFANGBEI = (29.5574, 106.5772)
CODES = ("wgs84", "gcj02", "bd09")  # the coordinate systems, as a file names them


@pytest.fixture(autouse=True)
def _fresh_gazetteer():
    gazetteer.forget()
    yield
    gazetteer.forget()


def names(text: str, limit: int = 5) -> list[str]:
    found = gazetteer.current()
    return [found.names[hit.row] for hit in found.search(text, limit=limit)]


# --- search --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "place"),
    [
        ("解放碑", "解放碑"),  # name
        ("解放碑步行街", "解放碑"),  # alias
        ("jfb", "解放碑"),  # pinyin initials
        ("JFB", "解放碑"),
        ("ｊｆｂ", "解放碑"),  # full-width letters from a Chinese keyboard
        ("jiefangbei", "解放碑"),  # full pinyin
        ("解方碑", "解放碑"),  # one wrong character
        ("解放", "解放碑"),  # the start of a name
        ("观音挢", "观音桥"),
        ("jiefngbei", "解放碑"),  # one letter missing
        ("华强北", "华强北"),
        ("hqb", "华强北"),
        ("深圳北站", "深圳北站"),
        ("中街", "中街"),
        ("泉城广场", "泉城广场"),
        ("qcgc", "泉城广场"),
        ("三明北站", "三明北站"),
    ],
)
def test_a_landmark_is_found_by_name_alias_initials_or_with_a_typo(db, text, place):
    assert names(text)[0] == place


def test_exact_names_rank_first(db, actor):
    places.create_place(
        actor=actor, city="SZ", name="深圳北站东广场", kind="station", lat=22.6090, lng=114.0310
    )
    places.create_place(actor=actor, city="SZ", name="深圳站前", lat=22.5330, lng=114.1170)
    found = names("深圳北站")
    assert found[0] == "深圳北站" and "深圳北站东广场" in found
    # "深圳站": the exact one before the typo-distance 深圳北站 and the prefix 深圳站前.
    assert names("深圳站")[:2] == ["深圳站", "深圳站前"]


def test_nothing_matches_nonsense(db):
    assert names("zzzzqqq") == []
    assert names("") == [] and names("   ") == []


def test_search_follows_the_data_version(db, actor):
    assert names("鹅岭二厂") == []
    place = places.create_place(actor=actor, city="CQ", name="鹅岭二厂", lat=29.5530, lng=106.5395)
    assert names("鹅岭二厂") == ["鹅岭二厂"]
    places.delete_place(place, actor=actor)
    assert names("鹅岭二厂") == []


# --- the locator page ----------------------------------------------------------------------------


def _nearest_codes(lat, lng, n=3):
    stations = Station.objects.public().filter(status="active").values_list("code", "lat", "lng")
    return [c for _d, c in sorted((haversine_m(lat, lng, la, ln), c) for c, la, ln in stations)[:n]]


def test_the_search_box_example_lists_the_stations_near_jiefangbei(client, db):
    html = client.get("/", {"q": "解放碑"}).content.decode()
    codes = codes_in(html)
    assert codes, "stations near 解放碑"
    assert codes[0] in _nearest_codes(*JIEFANGBEI, n=2)
    assert "解放碑" in html and 'class="places"' not in html
    assert problems(html, allow=("sxgc",)) == []


@pytest.mark.parametrize("text", ["观音桥", "华强北", "深圳北站", "jfb", "解方碑"])
def test_other_landmarks_list_their_stations(client, db, text):
    html = client.get("/", {"q": text}).content.decode()
    assert codes_in(html), text


def test_one_name_in_several_cities_asks_which(client, db):
    html = client.get("/", {"q": "北站"}).content.decode()  # 重庆北站, 深圳北站, 沈阳北站
    assert 'class="places"' in html and codes_in(html) == []
    for name in ("重庆北站", "深圳北站", "沈阳北站"):
        assert name in html


# --- the write path --------------------------------------------------------------------------------


def test_create_update_delete_are_audited_and_computed(db, users):
    admin = users["cq_admin"]
    place = places.create_place(
        actor=admin,
        city="重庆",
        name="鹅岭二厂",
        aliases="二厂, 鹅岭",
        kind="地标",
        lat=29.5530,
        lng=106.5395,
    )
    assert place.unit.code == "CQ" and place.aliases == "二厂、鹅岭" and "elec" in place.pinyin
    place = places.update_place(place, actor=admin, revision=1, **_values(place, kind="market"))
    assert place.revision == 2
    places.delete_place(place, actor=admin, revision=2)
    actions = list(AuditEvent.objects.filter(object_type="locator.place").values_list("action", flat=True))
    assert actions[-3:] == ["place.created", "place.updated", "place.deleted"] or set(actions) >= {
        "place.created",
        "place.updated",
        "place.deleted",
    }


def _values(place, **changes) -> dict:
    return {
        "city": place.unit.code,
        "name": place.name,
        "aliases": place.aliases,
        "kind": place.kind,
        "lat": place.lat,
        "lng": place.lng,
        **changes,
    }


def test_positions_may_come_in_gcj02(db, actor):
    g_lat, g_lng = from_wgs84(29.5530, 106.5395, "gcj02")
    place = places.create_place(actor=actor, city="CQ", name="鹅岭二厂", lat=g_lat, lng=g_lng, crs="gcj02")
    assert haversine_m(place.lat, place.lng, 29.5530, 106.5395) < 1


def test_a_stale_edit_is_refused(db, actor):
    place = Place.objects.get(name="解放碑")
    places.update_place(place, actor=actor, revision=place.revision, **_values(place, aliases="甲"))
    with pytest.raises(StaleEdit):
        places.update_place(place, actor=actor, revision=place.revision, **_values(place, aliases="乙"))


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ({"city": "CQ", "name": "", "lat": 29.5, "lng": 106.5}, "name"),
        ({"city": "CQ", "name": "x" * 61, "lat": 29.5, "lng": 106.5}, "name"),
        ({"city": "CQ", "name": "··", "lat": 29.5, "lng": 106.5}, "name"),
        ({"city": "NOWHERE", "name": "某地", "lat": 29.5, "lng": 106.5}, "city"),
        ({"city": "CQ", "name": "某地", "lat": 51.5, "lng": -0.12}, "lng"),  # London
        ({"city": "CQ", "name": "某地", "lat": "abc", "lng": 106.5}, "lat"),
        ({"city": "CQ", "name": "某地", "lat": 29.5, "lng": 106.5, "kind": "castle"}, "kind"),
        ({"city": "CQ", "name": "某地", "lat": 29.5, "lng": 106.5, "crs": "utm"}, "crs"),
        ({"city": "CQ", "name": "解放碑", "lat": 29.5576, "lng": 106.5773}, "name"),  # already there
    ],
)
def test_bad_input_names_the_field_and_writes_nothing(db, actor, data, field):
    before = Place.objects.count()
    with pytest.raises(ValidationError) as caught:
        places.create_place(actor=actor, **data)
    assert field in caught.value.message_dict
    assert Place.objects.count() == before


def test_a_city_outside_the_scope_is_unknown(db, users):
    with pytest.raises(ValidationError) as caught:
        places.create_place(actor=users["cq_admin"], city="SZ", name="某地", lat=22.5, lng=114.0)
    assert "city" in caught.value.message_dict
    with pytest.raises(PermissionDenied):
        places.create_place(actor=users["sz_viewer"], city="SZ", name="某地", lat=22.5, lng=114.0)


# --- import ------------------------------------------------------------------------------------------


def _csv(*lines: str) -> bytes:
    return ("\n".join(["城市,名称,别名,类型,纬度,经度", *lines]) + "\n").encode()


def test_import_adds_and_updates_places(db, users):
    data = _csv(
        "CQ,鹅岭二厂,二厂,地标,29.5530,106.5395",
        "重庆,解放碑,解放碑步行街、得意世界,地标,29.5574,106.5772",  # updates the existing one
    )
    counts = places.import_places(places.place_rows("places.csv", data), actor=users["cq_admin"])
    assert counts == {"created": 1, "updated": 1, "unchanged": 0}
    assert Place.objects.get(name="解放碑").aliases == "解放碑步行街、得意世界"
    assert names("得意世界") == ["解放碑"] and names("eldc")[0] == "鹅岭二厂"
    assert AuditEvent.objects.filter(action="place.created", object_repr="鹅岭二厂").exists()


def test_import_from_xlsx(db, actor):
    from openpyxl import Workbook

    book = Workbook()
    sheet = book.active
    sheet.append(["城市", "名称", "纬度", "经度", "坐标系"])
    sheet.append(["深圳", "海岸城", 22.5170, 113.9360, "wgs84"])
    out = io.BytesIO()
    book.save(out)
    counts = places.import_places(places.place_rows("places.xlsx", out.getvalue()), actor=actor)
    assert counts["created"] == 1 and Place.objects.get(name="海岸城").unit.code == "SZ"


def test_a_bad_import_lists_every_row_and_writes_nothing(db, users):
    data = _csv(
        "CQ,鹅岭二厂,,地标,29.5530,106.5395",
        "CQ,鹅岭二厂,,地标,29.5531,106.5396",  # the same place twice
        "CQ,伦敦桥,,地标,51.5079,-0.0877",  # outside China
        "火星,某地,,地标,29.5,106.5",  # unknown city
        "SZ,海岸城,,地标,22.5170,113.9360",  # a city outside cq_admin's scope
    )
    before = Place.objects.count(), AuditEvent.objects.count()
    with pytest.raises(ValidationError) as caught:
        places.import_places(places.place_rows("places.csv", data), actor=users["cq_admin"])
    keys = set(caught.value.message_dict)
    assert {"row 3: name", "row 4: lng", "row 5: city", "row 6: city"} <= keys
    assert (Place.objects.count(), AuditEvent.objects.count()) == before


def test_an_import_without_the_columns_says_which(db, actor):
    with pytest.raises(ValidationError) as caught:
        places.place_rows("places.csv", "名字,位置\n甲,乙\n".encode())
    assert "城市" in caught.value.message_dict["file"][0]


# --- back office -------------------------------------------------------------------------------------

LIST_MATRIX = {"hq_admin": 200, "cq_admin": 200, "sanxia_manager": 200, "sz_viewer": 200}
CREATE_MATRIX = {"hq_admin": 200, "cq_admin": 200, "sanxia_manager": 403, "sz_viewer": 403, "sd_admin": 200}
# A Chongqing place: outsiders get 404 (an outlet manager is below the city, not above it).
EDIT_MATRIX = {"hq_admin": 200, "cq_admin": 200, "sanxia_manager": 404, "sz_viewer": 404, "sd_admin": 404}


@pytest.mark.parametrize(("username", "status"), LIST_MATRIX.items())
def test_list_is_scoped(client_for, username, status):
    response = client_for(username).get("/manage/places/")
    assert response.status_code == status
    html = response.content.decode()
    assert ("解放碑" in html) == (username in ("hq_admin", "cq_admin"))
    assert ("华强北" in html) == (username in ("hq_admin", "sz_viewer"))
    assert problems(html, allow=CODES) == []


@pytest.mark.parametrize(("username", "status"), CREATE_MATRIX.items())
def test_create_page_needs_an_admin(client_for, username, status):
    assert client_for(username).get("/manage/places/new/").status_code == status


@pytest.mark.parametrize(("username", "status"), EDIT_MATRIX.items())
def test_edit_page_is_scoped(client_for, username, status):
    place = Place.objects.get(name="解放碑")
    assert client_for(username).get(f"/manage/places/{place.pk}/").status_code == status
    response = client_for(username).post(f"/manage/places/{place.pk}/delete/", {"revision": place.revision})
    assert response.status_code == (302 if status == 200 else status)


def test_add_edit_and_import_through_the_pages(client_for, db):
    client = client_for("cq_admin")
    response = client.post(
        "/manage/places/new/",
        {
            "city": "CQ",
            "name": "鹅岭二厂",
            "aliases": "",
            "kind": "landmark",
            "lat": "29.5530",
            "lng": "106.5395",
            "crs": "wgs84",
        },
    )
    assert response.status_code == 302
    place = Place.objects.get(name="鹅岭二厂")
    page = client.get(f"/manage/places/{place.pk}/")
    assert problems(page.content.decode(), allow=CODES) == []
    response = client.post(
        f"/manage/places/{place.pk}/",
        {**_values(place, aliases="二厂"), "crs": "wgs84", "revision": place.revision},
    )
    assert response.status_code == 302 and Place.objects.get(pk=place.pk).aliases == "二厂"
    bad = client.post(
        "/manage/places/new/",
        {"city": "CQ", "name": "某地", "kind": "landmark", "lat": "91", "lng": "106", "crs": "wgs84"},
    )
    assert bad.status_code == 200 and "91" in bad.content.decode()
    upload = io.BytesIO(_csv("CQ,伦敦桥,,地标,51.5079,-0.0877"))
    upload.name = "places.csv"
    response = client.post("/manage/places/import/", {"file": upload}, follow=True)
    html = response.content.decode()
    assert "第 2 行，经度" in html
    assert not Place.objects.filter(name="伦敦桥").exists()


def test_the_places_api_answers_a_landmark_with_its_stations(client, db):
    body = client.get("/api/v1/places", {"q": "jfb", "limit": 3}).json()
    assert body["places"][0]["name"] == "解放碑" and body["places"][0]["exact"] is True
    codes = [s["code"] for s in body["stations"]["results"]]
    assert len(codes) == 3 and codes[0] in _nearest_codes(*JIEFANGBEI, n=2)
    nothing = client.get("/api/v1/places", {"q": "zzzzqqq"}).json()
    assert nothing["places"] == [] and nothing["stations"]["results"] == []
    for bad in ({"q": " "}, {"q": "解放碑", "limit": 0}, {}):
        response = client.get("/api/v1/places", bad)
        assert response.status_code == 422
