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
    schedule = visit.schedule
    for path in [M, f"{M}{van.code}/", f"{M}figures/", f"{M}{van.code}/places/new/",
                 f"{M}{van.code}/schedules/new/", f"{M}visits/{visit.pk}/cancel/",
                 f"{M}{van.code}/schedules/{schedule.pk}/edit/",
                 f"{M}{van.code}/schedules/{schedule.pk}/stop/"]:  # fmt: skip
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


# --- changing and stopping a schedule -------------------------------------------------------------


@pytest.fixture
def evening(van, place, users):
    """A daily evening schedule of the van from today (no other schedule of the van is then)."""
    return services.save_schedule(
        van, actor=users["hq_admin"], place=place, rrule="FREQ=DAILY", start_time="20:00", end_time="21:00",
        valid_from=services.local_today().isoformat(),
    )  # fmt: skip


def _day(n: int) -> datetime.date:
    return services.local_today() + datetime.timedelta(days=n)


def _to_come(schedule) -> dict:
    """{planned date: (pk, starts_at, ends_at, status)} of the schedule's visits not yet started."""
    return {
        v.planned_on: (v.pk, v.starts_at, v.ends_at, v.status)
        for v in Visit.objects.filter(schedule=schedule, starts_at__gt=timezone.now())
    }


def _public_starts(client, van) -> set:
    return {v["starts_at"] for v in client.get(f"/api/v1/mobile/{van.code}/visits?limit=200").json()}


def _beijing(day: datetime.date, clock: str) -> str:
    return services.at_local(day, datetime.time.fromisoformat(clock)).isoformat()


def _found_there(client, place, day) -> bool:
    """Whether the locator finds the van at `place` during the evening visit of `day`."""
    from yizhan.locator import loading

    loading.forget()
    at = services.at_local(day, datetime.time(20, 30)).isoformat().replace("+", "%2B")
    found = client.get(f"/api/v1/stations/nearby?lat={place.lat}&lng={place.lng}&limit=3&at={at}").json()
    return any(
        r["code"] == "SZ-YD-BA" and r["visit"]["place"] == place.name and r["open"] for r in found["results"]
    )


EDIT = {
    "rrule": "FREQ=DAILY",
    "start_time": "20:00",
    "end_time": "21:30",
    "valid_to": "",
    "on_holiday": "skip",
}


@pytest.mark.parametrize("username", WRITES)
def test_who_changes_a_schedule_on_the_page(client_for, username, van, place, evening):
    client = client_for(username)
    url = f"{M}{van.code}/schedules/{evening.pk}/edit/"
    shown = client.get(url)
    before = _to_come(evening)
    form = {**EDIT, "place": str(place.pk), "valid_from": evening.valid_from.isoformat(),
            "revision": evening.revision}  # fmt: skip
    answer = client.post(url, form)
    evening.refresh_from_db()
    if WRITES[username] == "ok":
        initial = {name: shown.context["form"][name].value() for name in ("place", "rrule", "start_time",
                   "end_time", "valid_from", "valid_to", "revision")}  # fmt: skip
        assert initial == {"place": str(place.pk), "rrule": "FREQ=DAILY", "start_time": "20:00",
                           "end_time": "21:00", "valid_from": services.local_today().isoformat(),
                           "valid_to": "", "revision": 1}  # fmt: skip
        assert answer.status_code == 302
        assert evening.end_time == datetime.time(21, 30) and evening.revision == 2
        after = _to_come(evening)
        assert set(after) == set(before)  # the same dates, each now ending at 21:30
        assert {v[2].astimezone(services.SHANGHAI).time() for v in after.values()} == {datetime.time(21, 30)}
        event = AuditEvent.objects.get(action="mobile.schedule_updated", object_id=str(evening.pk))
        assert event.changes["end_time"][1].startswith("21:30")
        assert f"{M}{van.code}/schedules/{evening.pk}/edit/" in client.get(f"{M}{van.code}/").content.decode()
    else:
        assert (shown.status_code, answer.status_code) == (WRITES[username],) * 2
        assert (evening.end_time, evening.revision) == (datetime.time(21), 1)
        assert _to_come(evening) == before


@pytest.mark.parametrize("username", WRITES)
def test_who_stops_a_schedule_on_the_page(client_for, client, username, van, evening, users):
    tomorrow = _to_come(evening)[_day(1)]
    later = Visit.objects.get(schedule=evening, planned_on=_day(3))
    services.cancel_visit(later, actor=users["hq_admin"], notice="车辆检修")
    todays = Visit.objects.filter(schedule=evening, planned_on=_day(0)).values_list("pk", flat=True).first()
    assert _beijing(_day(1), "20:00") in _public_starts(client, van)
    listed = client_for("hq_admin").get(f"{M}{van.code}/").context["visits"]
    assert tomorrow[0] in [v.pk for v in listed]
    assert _found_there(client, evening.place, _day(1))
    url = f"{M}{van.code}/schedules/{evening.pk}/stop/"
    shown = client_for(username).get(url)
    answer = client_for(username).post(url, {"revision": evening.revision})
    evening.refresh_from_db()
    if WRITES[username] == "ok":
        assert (shown.status_code, answer.status_code) == (200, 302)
        assert evening.valid_to == services.local_today() and evening.active
        assert AuditEvent.objects.filter(action="mobile.schedule_stopped", object_id=str(evening.pk)).exists()
        # Tomorrow's visit and the later ones are gone: from the van's page and from the public.
        assert not Visit.objects.filter(pk=tomorrow[0]).exists()
        page = client_for(username).get(f"{M}{van.code}/")
        assert not [v for v in page.context["visits"] if v.schedule_id == evening.pk and v.planned_on > _day(0)
                    and v.status == VisitStatus.PLANNED]  # fmt: skip
        public = _public_starts(client, van)
        assert not {_beijing(_day(n), "20:00") for n in (1, 2, 4, 5)} & public
        assert not _found_there(client, evening.place, _day(1))
        # Today's visit stands as it was; the cancelled one keeps its notice for the public.
        assert (
            Visit.objects.filter(schedule=evening, planned_on=_day(0)).values_list("pk", flat=True).first()
            == todays
        )
        later.refresh_from_db()
        assert later.status == VisitStatus.CANCELLED
        # Nothing left to stop: no link on the page, and a second stop is refused naming the field.
        assert f"{M}{van.code}/schedules/{evening.pk}/stop/" not in page.content.decode()
        again = client_for(username).post(url, {"revision": evening.revision})
        assert again.status_code == 200 and "该排班已经结束。" in again.context["form"].non_field_errors()
    else:
        assert (shown.status_code, answer.status_code) == (WRITES[username],) * 2
        assert (evening.valid_to, evening.revision) == (None, 1)
        assert Visit.objects.filter(pk=tomorrow[0]).exists()
        assert _beijing(_day(1), "20:00") in _public_starts(client, van)


def test_stopping_a_schedule_that_has_not_begun_switches_it_off(client_for, van, place, users):
    soon = services.save_schedule(
        van, actor=users["hq_admin"], place=place, rrule="FREQ=DAILY", start_time="20:00", end_time="21:00",
        valid_from=_day(7).isoformat(),
    )  # fmt: skip
    assert Visit.objects.filter(schedule=soon).exists()
    answer = client_for("hq_admin").post(
        f"{M}{van.code}/schedules/{soon.pk}/stop/", {"revision": soon.revision}
    )
    assert answer.status_code == 302
    soon.refresh_from_db()
    assert (soon.active, soon.valid_to) == (False, None)
    assert not Visit.objects.filter(schedule=soon).exists()
    services.generate_visits()  # the nightly job leaves a switched-off schedule alone
    assert not Visit.objects.filter(schedule=soon).exists()


@pytest.mark.parametrize("username", WRITES)
def test_who_switches_a_switched_off_schedule_on_again(client_for, client, username, van, place, users):
    soon = services.save_schedule(
        van, actor=users["hq_admin"], place=place, rrule="FREQ=DAILY", start_time="20:00", end_time="21:00",
        valid_from=_day(7).isoformat(),
    )  # fmt: skip
    soon = services.save_schedule(
        van, actor=users["hq_admin"], schedule=soon, revision=soon.revision, stop=True
    )
    assert not soon.active and not Visit.objects.filter(schedule=soon).exists()
    url = f"{M}{van.code}/schedules/{soon.pk}/resume/"
    assert url in client_for("hq_admin").get(f"{M}{van.code}/").content.decode()
    shown = client_for(username).get(url)
    answer = client_for(username).post(url, {"revision": soon.revision})
    soon.refresh_from_db()
    if WRITES[username] == "ok":
        assert (shown.status_code, answer.status_code) == (200, 302)
        assert soon.active and soon.revision == 3
        assert Visit.objects.filter(schedule=soon, planned_on=_day(7)).exists()
        assert _beijing(_day(7), "20:00") in _public_starts(client, van)
        event = AuditEvent.objects.get(action="mobile.schedule_resumed", object_id=str(soon.pk))
        assert event.changes["active"] == [False, True]
        page = client_for(username).get(f"{M}{van.code}/").content.decode()
        assert url not in page and f"{M}{van.code}/schedules/{soon.pk}/stop/" in page
        again = client_for(username).post(url, {"revision": soon.revision})
        assert again.status_code == 200 and again.context["form"].non_field_errors()
    else:
        assert (shown.status_code, answer.status_code) == (WRITES[username],) * 2
        assert (soon.active, soon.revision) == (False, 2)
        assert not Visit.objects.filter(schedule=soon).exists()


def test_a_switched_off_schedule_is_switched_on_in_the_api(api, client, van, place, users):
    off = services.save_schedule(
        van, actor=users["hq_admin"], place=place, rrule="FREQ=DAILY", start_time="20:00", end_time="21:00",
        valid_from=_day(7).isoformat(), active=False,
    )  # fmt: skip
    answer = api("hq_admin").post(
        f"{A}/vans/{van.code}/schedules/{off.pk}/resume", {"revision": off.revision},
        content_type="application/json",
    )  # fmt: skip
    assert answer.status_code == 200, answer.content
    assert (answer.json()["active"], answer.json()["revision"]) == (True, 2)
    assert _beijing(_day(7), "20:00") in _public_starts(client, van)


def test_switching_on_is_refused_when_the_van_would_be_in_two_places(client_for, van, place, evening, users):
    other = services.create_place(
        actor=users["hq_admin"], unit=van.unit, name="沙井物流园", kind="logistics_park",
        address="深圳市宝安区沙井街道", lat=22.73, lng=113.83,
    )  # fmt: skip
    off = services.save_schedule(
        van, actor=users["hq_admin"], place=other, rrule="FREQ=DAILY", start_time="20:30", end_time="21:30",
        valid_from=_day(30).isoformat(), active=False,
    )  # fmt: skip
    client = client_for("hq_admin")
    for revision in ("", "abc", "-1"):  # bad input: named, nothing written
        bad = client.post(f"{M}{van.code}/schedules/{off.pk}/resume/", {"revision": revision})
        assert bad.status_code == 200 and bad.context["form"].errors
    answer = client.post(f"{M}{van.code}/schedules/{off.pk}/resume/", {"revision": off.revision})
    assert answer.status_code == 200
    assert "已安排在“福永物流园”" in " ".join(answer.context["form"].non_field_errors())
    off.refresh_from_db()
    assert (off.active, off.revision) == (False, 1)
    assert not Visit.objects.filter(schedule=off).exists()


def test_a_shorter_validity_keeps_the_visits_it_still_gives(van, evening, users):
    before = _to_come(evening)
    services.save_schedule(
        van,
        actor=users["hq_admin"],
        schedule=evening,
        revision=evening.revision,
        valid_to=_day(7).isoformat(),
    )
    after = _to_come(evening)
    assert after == {day: v for day, v in before.items() if day <= _day(7)}


def test_a_stale_schedule_edit_or_stop_is_refused(client_for, api, van, place, evening):
    before, stale = _to_come(evening), evening.revision + 1
    client = client_for("hq_admin")
    page = client.post(
        f"{M}{van.code}/schedules/{evening.pk}/edit/",
        {**EDIT, "place": str(place.pk), "valid_from": evening.valid_from.isoformat(), "revision": stale},
    )
    assert page.status_code == 200 and page.context["form"].non_field_errors()
    stop = client.post(f"{M}{van.code}/schedules/{evening.pk}/stop/", {"revision": stale})
    assert stop.status_code == 200 and stop.context["form"].non_field_errors()
    resume = client.post(f"{M}{van.code}/schedules/{evening.pk}/resume/", {"revision": stale})
    assert resume.status_code == 200 and "修改" in " ".join(resume.context["form"].non_field_errors())
    patch = api("hq_admin").patch(
        f"{A}/vans/{van.code}/schedules/{evening.pk}", {"revision": stale, "end_time": "21:30"},
        content_type="application/json",
    )  # fmt: skip
    assert patch.status_code == 409, patch.content
    stopped = api("hq_admin").post(
        f"{A}/vans/{van.code}/schedules/{evening.pk}/stop",
        {"revision": stale},
        content_type="application/json",
    )
    assert stopped.status_code == 409, stopped.content
    evening.refresh_from_db()
    assert (evening.end_time, evening.valid_to, evening.revision) == (datetime.time(21), None, 1)
    assert _to_come(evening) == before


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"rrule": "not a rule"}, "rrule"),
        ({"end_time": "19:00"}, "end_time"),
        ({"start_time": "25:00"}, "start_time"),
        ({"valid_from": "2026-13-01"}, "valid_from"),
        ({"valid_to": "2000-01-01"}, "valid_to"),
        ({"place": "999999"}, "place"),
        ({"start_time": "15:00", "rrule": "FREQ=WEEKLY;BYDAY=TU"}, "start_time"),  # the Tuesday site
    ],
)
def test_a_bad_schedule_edit_names_the_field_and_changes_nothing(
    client_for, van, place, evening, changes, field
):
    before = _to_come(evening)
    form = {**EDIT, "place": str(place.pk), "valid_from": evening.valid_from.isoformat(),
            "revision": evening.revision, **changes}  # fmt: skip
    answer = client_for("hq_admin").post(f"{M}{van.code}/schedules/{evening.pk}/edit/", form)
    assert answer.status_code == 200
    assert answer.context["form"].errors.get(field)
    evening.refresh_from_db()
    assert (evening.end_time, evening.revision) == (datetime.time(21), 1)
    assert _to_come(evening) == before


@pytest.mark.parametrize(
    ("changes", "field"),
    [({"rrule": "FREQ=SECONDLY"}, "rrule"), ({"end_time": "07:00"}, "end_time"), ({"place": 999999}, "place"),
     ({"on_holiday": "pray"}, "on_holiday"), ({"valid_to": "someday"}, "valid_to")],
)  # fmt: skip
def test_a_bad_schedule_patch_names_the_field(api, van, evening, changes, field):
    before = _to_come(evening)
    answer = api("hq_admin").patch(
        f"{A}/vans/{van.code}/schedules/{evening.pk}", {"revision": evening.revision, **changes},
        content_type="application/json",
    )  # fmt: skip
    assert field in _fields(answer)
    evening.refresh_from_db()
    assert evening.revision == 1 and _to_come(evening) == before


@pytest.mark.parametrize("username", WRITES)
def test_who_changes_and_stops_a_schedule_in_the_api(api, client, username, van, evening):
    c = api(username)
    listed = c.get(f"{A}/vans/{van.code}/schedules")
    assert listed.status_code == READS[username]
    patch = c.patch(
        f"{A}/vans/{van.code}/schedules/{evening.pk}", {"revision": evening.revision, "end_time": "21:30"},
        content_type="application/json",
    )  # fmt: skip
    if WRITES[username] == "ok":
        mine = next(s for s in listed.json() if s["id"] == evening.pk)
        assert (mine["revision"], mine["start_time"]) == (1, "20:00:00")
        assert patch.status_code == 200, patch.content
        assert (patch.json()["end_time"], patch.json()["revision"]) == ("21:30:00", 2)
        stop = c.post(f"{A}/vans/{van.code}/schedules/{evening.pk}/stop", {"revision": 2},
                      content_type="application/json")  # fmt: skip
        assert stop.status_code == 200, stop.content
        assert stop.json()["valid_to"] == services.local_today().isoformat()
        assert _beijing(_day(1), "20:00") not in _public_starts(client, van)
        assert "valid_to" in _fields(
            c.post(f"{A}/vans/{van.code}/schedules/{evening.pk}/stop", {}, content_type="application/json")
        )
        # Still on (it ends today): switching on is refused naming `active`, a stale revision 409.
        resume = f"{A}/vans/{van.code}/schedules/{evening.pk}/resume"
        assert "active" in _fields(c.post(resume, {}, content_type="application/json"))
        assert c.post(resume, {"revision": 1}, content_type="application/json").status_code == 409
    else:
        stop = c.post(f"{A}/vans/{van.code}/schedules/{evening.pk}/stop", {}, content_type="application/json")
        resume = c.post(
            f"{A}/vans/{van.code}/schedules/{evening.pk}/resume", {}, content_type="application/json"
        )
        assert {patch.status_code, stop.status_code, resume.status_code} == {WRITES[username]}
        evening.refresh_from_db()
        assert (evening.end_time, evening.valid_to, evening.revision) == (datetime.time(21), None, 1)
        assert _beijing(_day(1), "20:00") in _public_starts(client, van)


# --- check-ins by visitor group -------------------------------------------------------------------


def test_the_figures_count_check_ins_by_group_beside_the_fixed_stations(client_for, van, place, users):
    from yizhan.visits.models import Group
    from yizhan.visits.services import record_checkin

    past = services.save_schedule(
        van, actor=users["hq_admin"], place=place, rrule="FREQ=DAILY", start_time="20:00", end_time="21:00",
        valid_from=_day(-3).isoformat(), valid_to=_day(-1).isoformat(),
    )  # fmt: skip
    services.generate_visits(_day(-3), horizon=3, schedules=[past])
    one, two, three = Visit.objects.filter(schedule=past).order_by("starts_at")
    minutes = datetime.timedelta(minutes=1)
    for visit, groups in ((one, ["courier", "courier", "sanitation_worker"]), (two, ["courier", ""])):
        for n, group in enumerate(groups):
            record_checkin(van, group=group, now=visit.starts_at + (n + 1) * minutes)
    record_checkin(van, group="courier", now=two.starts_at - minutes)  # before the visit
    record_checkin(van, group="courier", now=two.ends_at)  # as it ended
    month = {v.pk: v.starts_at.astimezone(services.SHANGHAI).strftime("%Y-%m") for v in (one, two, three)}
    expected: dict = {}
    for visit, groups in (
        (one, {"courier": 2, "sanitation_worker": 1}),
        (two, {"courier": 1, "": 1}),
        (three, {}),
    ):
        row = expected.setdefault(month[visit.pk], {"visits": 0, "groups": {}})
        row["visits"] += 1
        for code, n in groups.items():
            row["groups"][code] = row["groups"].get(code, 0) + n
    rows = {
        r["month"]: r for r in services.site_figures(Visit.objects.filter(station=van)) if r["place"] == place
    }
    assert {m: {"visits": r["visits"], "groups": r["groups"]} for m, r in rows.items()} == expected
    assert sum(r["checkins"] for r in rows.values()) == 5

    # The fixed stations of the van's sub-branch, the same month, from the rollups.
    fixed = Station.objects.filter(kind="fixed", unit__path__startswith=van.unit.path).first()
    assert fixed is not None
    mine = rows[month[one.pk]]

    def fixed_courier():
        found = services.fixed_group_figures([mine])
        assert [(r["unit"], r["month"]) for r in found] == [(van.unit, month[one.pk])]
        return found[0]["groups"].get("courier", 0)

    counted = fixed_courier()
    record_checkin(fixed, group="courier", now=one.starts_at)
    record_checkin(fixed, group="courier", now=one.starts_at + minutes)
    assert fixed_courier() == counted + 2

    # The page: translated group labels, never a raw code, and the counts in their columns.
    page = client_for("hq_admin").get(f"{M}figures/")
    html = page.content.decode()
    labels = dict(page.context["group_columns"])
    assert (labels["courier"], labels["sanitation_worker"], labels[""]) == ("快递员", "环卫工人", "未填写")
    assert str(Group.SANITATION.label) in html and "sanitation_worker" not in html
    shown = next(r for r in page.context["page"] if r["place"] == place and r["month"] == month[one.pk])
    codes = [code for code, _label in page.context["group_columns"]]
    assert (
        dict(zip(codes, shown["group_cells"], strict=True))["courier"]
        == expected[month[one.pk]]["groups"]["courier"]
    )
    beside = next(r for r in page.context["fixed"] if r["unit"] == van.unit and r["month"] == month[one.pk])
    assert dict(zip(codes, beside["group_cells"], strict=True))["courier"] == counted + 2
