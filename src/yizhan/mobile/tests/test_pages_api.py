"""Staff pages and API of mobile stations, and the public visits API: the matrix of named users
against a Shenzhen van (viewer reads, cannot write: 403; outside the scope: 404), bad input
refused naming the field with nothing written, and the public list with no personal data."""

import datetime

import pytest
from django.test import Client
from django.utils import timezone

from yizhan.audit.models import AuditEvent
from yizhan.mobile import services
from yizhan.mobile.models import Visit, VisitPlace, VisitSchedule, VisitStatus
from yizhan.stations.models import Station

pytestmark = pytest.mark.django_db
M = "/manage/mobile/"
A = "/api/v1/manage/mobile"
READS = {"hq_admin": 200, "sz_viewer": 200, "cq_admin": 404, "sanxia_manager": 404}
WRITES = {"hq_admin": "ok", "sz_viewer": 403, "cq_admin": 404, "sanxia_manager": 404}


@pytest.fixture
def van(db):
    return Station.objects.get(code="SZ-YD-BA")


@pytest.fixture
def place(van, users):
    return services.create_place(
        actor=users["hq_admin"], unit=van.unit, name="福永物流园", kind="logistics_park",
        address="深圳市宝安区福永街道", lat=22.67, lng=113.82,
    )  # fmt: skip


@pytest.fixture
def visit(van, place, users):
    VisitSchedule.objects.filter(station=van).update(active=False)
    Visit.objects.filter(station=van).delete()
    services.save_schedule(
        van, actor=users["hq_admin"], place=place, rrule="FREQ=DAILY", start_time="20:00", end_time="21:00",
        valid_from=services.local_today().isoformat(),
    )  # fmt: skip
    return Visit.objects.filter(station=van, ends_at__gt=timezone.now()).order_by("starts_at").first()


@pytest.fixture
def api(users):
    from yizhan.orgs.services import create_api_token

    def make(username: str) -> Client:
        _token, raw = create_api_token(user=users[username], name="mobile")
        return Client(HTTP_AUTHORIZATION=f"Bearer {raw}")

    return make


PLACE_FORM = {"name": "福海新建园区", "kind": "logistics_park", "address": "深圳市龙岗区平湖街道", "lat": "22.68", "lng": "114.12", "crs": "wgs84"}  # fmt: skip


# --- pages ----------------------------------------------------------------------------------------


@pytest.mark.parametrize("username", READS)
def test_who_reads_a_vans_pages(client_for, username, van, visit):
    client = client_for(username)
    listed = client.get(M)
    assert listed.status_code == 200
    assert (van.name in listed.content.decode()) == (READS[username] == 200)
    page = client.get(f"{M}{van.code}/")
    assert page.status_code == READS[username]
    if page.status_code == 200:
        html = page.content.decode()
        assert "福永物流园" in html
        assert (f"{M}visits/{visit.pk}/cancel/" in html) == (username == "hq_admin")
    assert client.get(f"{M}figures/").status_code == 200


@pytest.mark.parametrize("username", WRITES)
def test_who_adds_a_place_on_the_page(client_for, username, van):
    before = VisitPlace.objects.count()
    answer = client_for(username).post(f"{M}{van.code}/places/new/", PLACE_FORM)
    if WRITES[username] == "ok":
        assert answer.status_code == 302
        place = VisitPlace.objects.get(name="福海新建园区")
        assert place.unit == van.unit
        assert AuditEvent.objects.filter(action="mobile.place_created", object_id=str(place.pk)).exists()
    else:
        assert answer.status_code == WRITES[username]
        assert VisitPlace.objects.count() == before


@pytest.mark.parametrize("username", WRITES)
def test_who_cancels_a_visit_on_the_page(client_for, username, visit):
    answer = client_for(username).post(
        f"{M}visits/{visit.pk}/cancel/", {"notice": "车辆检修，暂停一次", "revision": visit.revision}
    )
    visit.refresh_from_db()
    if WRITES[username] == "ok":
        assert answer.status_code == 302
        assert (visit.status, visit.notice) == (VisitStatus.CANCELLED, "车辆检修，暂停一次")
    else:
        assert answer.status_code == WRITES[username]
        assert visit.status == VisitStatus.PLANNED


@pytest.mark.parametrize(
    ("changes", "field"),
    [({"name": ""}, "name"), ({"address": ""}, "address"), ({"lat": "abc"}, "lat"), ({"lat": "95"}, "lat")],
)
def test_a_bad_place_form_names_the_field(client_for, van, changes, field):
    before = VisitPlace.objects.count()
    answer = client_for("hq_admin").post(f"{M}{van.code}/places/new/", {**PLACE_FORM, **changes})
    assert answer.status_code == 200
    assert answer.context["form"].errors.get(field)
    assert VisitPlace.objects.count() == before


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"rrule": "not a rule"}, "rrule"),
        ({"end_time": "07:00"}, "end_time"),
        ({"start_time": "25:00"}, "start_time"),
        ({"valid_from": "2026-13-01"}, "valid_from"),
        ({"valid_to": "2000-01-01"}, "valid_to"),
        ({"place": "999999"}, "place"),
    ],
)
def test_a_bad_schedule_form_names_the_field(client_for, van, place, changes, field):
    good = {"place": str(place.pk), "rrule": "FREQ=WEEKLY;BYDAY=SU", "start_time": "08:00", "end_time": "09:00",
            "valid_from": "2026-12-01", "on_holiday": "skip"}  # fmt: skip
    before = (VisitSchedule.objects.count(), Visit.objects.count())
    answer = client_for("hq_admin").post(f"{M}{van.code}/schedules/new/", {**good, **changes})
    assert answer.status_code == 200
    assert answer.context["form"].errors.get(field)
    assert (VisitSchedule.objects.count(), Visit.objects.count()) == before


def test_a_cancel_without_a_notice_names_the_notice(client_for, visit):
    answer = client_for("hq_admin").post(
        f"{M}visits/{visit.pk}/cancel/", {"notice": " ", "revision": visit.revision}
    )
    assert answer.status_code == 200
    assert answer.context["form"].errors.get("notice")
    visit.refresh_from_db()
    assert visit.status == VisitStatus.PLANNED


# --- staff API ------------------------------------------------------------------------------------


@pytest.mark.parametrize("username", READS)
def test_who_reads_a_van_in_the_api(api, username, van, visit):
    client = api(username)
    vans = client.get(f"{A}/vans")
    assert vans.status_code == 200
    codes = {v["code"]: v for v in vans.json()}
    assert (van.code in codes) == (READS[username] == 200)
    visits = client.get(f"{A}/vans/{van.code}/visits")
    assert visits.status_code == READS[username]
    if visits.status_code == 200:
        assert visits.json()[0]["id"] == visit.pk
        assert codes[van.code]["next_visit"]["id"] == visit.pk


@pytest.mark.parametrize("username", WRITES)
def test_who_writes_in_the_api(api, username, van, place, visit):
    client = api(username)
    counts = (VisitPlace.objects.count(), VisitSchedule.objects.count())
    created = client.post(f"{A}/vans/{van.code}/places", PLACE_FORM, content_type="application/json")
    schedule = client.post(
        f"{A}/vans/{van.code}/schedules",
        {"place": place.pk, "rrule": "FREQ=WEEKLY;BYDAY=SU", "start_time": "08:00", "end_time": "09:00",
         "valid_from": "2026-12-01"},
        content_type="application/json",
    )  # fmt: skip
    cancel = client.post(
        f"{A}/visits/{visit.pk}/cancel", {"notice": "暂停一次"}, content_type="application/json"
    )
    visit.refresh_from_db()
    if WRITES[username] == "ok":
        assert (created.status_code, schedule.status_code, cancel.status_code) == (201, 201, 200)
        assert schedule.json()["visits"] > 0
        assert cancel.json()["status"] == visit.status == VisitStatus.CANCELLED
    else:
        assert {created.status_code, schedule.status_code, cancel.status_code} == {WRITES[username]}
        assert (VisitPlace.objects.count(), VisitSchedule.objects.count()) == counts
        assert visit.status == VisitStatus.PLANNED


def _fields(answer) -> set:
    assert answer.status_code == 422, answer.content
    return {d["loc"][-1] for d in answer.json()["detail"]}


@pytest.mark.parametrize(
    ("changes", "field"), [({"name": " "}, "name"), ({"lat": "north"}, "lat"), ({"kind": "moon"}, "kind")]
)
def test_a_bad_place_in_the_api_names_the_field(api, van, changes, field):
    before = VisitPlace.objects.count()
    answer = api("hq_admin").post(
        f"{A}/vans/{van.code}/places", {**PLACE_FORM, **changes}, content_type="application/json"
    )
    assert field in _fields(answer)
    assert VisitPlace.objects.count() == before


@pytest.mark.parametrize(
    ("changes", "field"),
    [({"rrule": "FREQ=SECONDLY"}, "rrule"), ({"end_time": "07:00"}, "end_time"), ({"place": 999999}, "place"),
     ({"on_holiday": "pray"}, "on_holiday")],
)  # fmt: skip
def test_a_bad_schedule_in_the_api_names_the_field(api, van, place, changes, field):
    good = {"place": place.pk, "rrule": "FREQ=WEEKLY;BYDAY=SU", "start_time": "08:00", "end_time": "09:00",
            "valid_from": "2026-12-01"}  # fmt: skip
    before = (VisitSchedule.objects.count(), Visit.objects.count())
    answer = api("hq_admin").post(
        f"{A}/vans/{van.code}/schedules", {**good, **changes}, content_type="application/json"
    )
    assert field in _fields(answer)
    assert (VisitSchedule.objects.count(), Visit.objects.count()) == before


def test_a_bad_cancel_in_the_api_names_the_field(api, visit):
    client = api("hq_admin")
    assert "notice" in _fields(
        client.post(f"{A}/visits/{visit.pk}/cancel", {"notice": ""}, content_type="application/json")
    )
    client.post(f"{A}/visits/{visit.pk}/cancel", {"notice": "暂停"}, content_type="application/json")
    assert "status" in _fields(
        client.post(f"{A}/visits/{visit.pk}/cancel", {"notice": "再次"}, content_type="application/json")
    )


# --- public API -----------------------------------------------------------------------------------


def test_the_public_reads_a_vans_next_visits_in_beijing_time(client, van, visit, users):
    services.cancel_visit(visit, actor=users["hq_admin"], notice="车辆检修")
    answer = client.get(f"/api/v1/mobile/{van.code}/visits")
    assert answer.status_code == 200
    first, second = answer.json()[:2]
    assert first == {
        "place": "福永物流园", "address": "深圳市宝安区福永街道", "lat": 22.67, "lng": 113.82,
        "starts_at": first["starts_at"], "ends_at": first["ends_at"], "cancelled": True, "notice": "车辆检修",
        "moved_for_holiday": False,
    }  # fmt: skip
    starts = datetime.datetime.fromisoformat(first["starts_at"])
    assert first["starts_at"].endswith("+08:00") and starts == visit.starts_at
    assert first["starts_at"][11:16] == "20:00" and first["ends_at"][11:16] == "21:00"
    assert second["cancelled"] is False and second["notice"] == ""
    assert client.get("/api/v1/mobile/NO-SUCH-VAN/visits").status_code == 404
    fixed = Station.objects.exclude(kind="mobile").first()
    assert client.get(f"/api/v1/mobile/{fixed.code}/visits").status_code == 404


@pytest.mark.parametrize("lang", ["zh-hans", "en"])
def test_the_pages_read_in_the_readers_language(client_for, users, van, visit, lang):
    from yizhan.core.tests.pagecheck import problems

    client = client_for("hq_admin")
    client.cookies["django_language"] = lang
    found = {}
    for path in [M, f"{M}{van.code}/", f"{M}figures/", f"{M}{van.code}/places/new/",
                 f"{M}{van.code}/schedules/new/", f"{M}visits/{visit.pk}/cancel/"]:  # fmt: skip
        answer = client.get(path)
        assert answer.status_code == 200, path
        trouble = problems(answer.content.decode(), lang=lang, allow=set(users))
        if trouble:
            found[path] = trouble
    assert found == {}


def test_a_cancel_based_on_another_revision_is_refused(client_for, api, visit):
    stale = visit.revision + 1
    page = client_for("hq_admin").post(f"{M}visits/{visit.pk}/cancel/", {"notice": "暂停", "revision": stale})
    assert page.status_code == 200 and page.context["form"].non_field_errors()
    answer = api("hq_admin").post(
        f"{A}/visits/{visit.pk}/cancel",
        {"notice": "暂停", "revision": stale},
        content_type="application/json",
    )
    assert answer.status_code == 409, answer.content
    visit.refresh_from_db()
    assert visit.status == VisitStatus.PLANNED
