"""The operating-status timeline and how the public side follows it."""

import datetime

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from yizhan.core.tests.pagecheck import problems
from yizhan.locator import loading
from yizhan.locator import services as locator
from yizhan.operations import services
from yizhan.operations.models import OperatingStatus
from yizhan.orgs.services import create_api_token
from yizhan.stations import hours
from yizhan.stations import services as station_services
from yizhan.stations.models import Station

ALL_DAY_WEEK = {
    "weekly": {d: [["00:00", "24:00"]] for d in hours.DAY_KEYS},
    "always_open": False,
    "statutory": False,
}
SELF_SERVICE = {"weekly": {}, "always_open": True, "statutory": False, "exceptions": []}


@pytest.fixture
def outlet(db, unit, users):
    """三峡广场 with its station open every minute of the week (so only the status decides)."""
    sxgc = unit("CQ-SXGC")
    station = Station.objects.get(code="CQ-SXGC")
    station_services.set_schedule(station, ALL_DAY_WEEK, actor=users["hq_admin"])
    return sxgc


def _station():
    return Station.objects.get(code="CQ-SXGC")


def _nearby_open(station, at):
    query = locator.NearbyQuery(lat=station.lat, lng=station.lng, limit=50, open_now=True, at=at)
    return station.code in [r.code for r in locator.nearby(query, loading.current_index())]


def _api(users, username):
    from django.test import Client

    _token, raw = create_api_token(user=users[username], name="test")
    return Client(HTTP_AUTHORIZATION=f"Bearer {raw}")


# --- hours: the windows are part of the compiled schedule -----------------------------------------


def test_a_closing_window_cuts_its_minutes_out_of_the_hours():
    week = {"weekly": {d: [["09:00", "17:00"]] for d in hours.DAY_KEYS}}
    start = datetime.datetime(2026, 1, 8, 12, 0, tzinfo=hours.SHANGHAI)
    end = datetime.datetime(2026, 1, 9, 10, 0, tzinfo=hours.SHANGHAI)
    windows = [
        {
            "from": start.isoformat(),
            "to": end.isoformat(),
            "closes": True,
            "state": "closed",
            "notice": "疫情",
        }
    ]
    sched = hours.Schedule.from_station(week, "active", None, windows)
    cal = hours.Calendar()
    assert hours.intervals_on(sched, start.date(), cal) == ((540, 720),)
    assert hours.intervals_on(sched, end.date(), cal) == ((600, 1020),)
    assert hours.open_at(sched, start - datetime.timedelta(minutes=1), cal)
    assert not hours.open_at(sched, start, cal)
    assert hours.next_change(sched, start - datetime.timedelta(hours=1), cal) == start
    assert hours.next_change(sched, start, cal) == end
    assert hours.status_at(sched, start).notice == "疫情"
    assert hours.status_at(sched, end) is None


def test_an_open_ended_closure_has_no_reopening_time():
    windows = [{"from": "2026-01-08T00:00:00+08:00", "to": None, "closes": True, "state": "closed"}]
    sched = hours.Schedule.from_station(ALL_DAY_WEEK, "active", None, windows)
    at = datetime.datetime(2026, 3, 1, 10, tzinfo=hours.SHANGHAI)
    assert not hours.open_at(sched, at, hours.Calendar())
    assert hours.next_change(sched, at, hours.Calendar()) is None


# --- the timeline feeds the locator -------------------------------------------------------------


def test_closing_now_shuts_the_station_in_the_locator_and_on_its_page(outlet, users, client):
    station = _station()
    now = timezone.now()
    assert _nearby_open(station, now)
    version = loading.current_index().version
    services.schedule_status(outlet, actor=users["cq_admin"], state="closed", notice="因疫情防控暂停营业")
    assert loading.current_index().version != version  # the index re-read the station
    assert not _nearby_open(station, timezone.now())
    page = client.get("/s/CQ-SXGC", HTTP_ACCEPT_LANGUAGE="zh-hans").content.decode()
    assert "暂停营业" in page and "因疫情防控暂停营业" in page
    answer = client.get(f"/api/v1/stations/nearby?lat={station.lat}&lng={station.lng}&limit=50").json()
    mine = next(r for r in answer["results"] if r["code"] == "CQ-SXGC")
    assert mine["open"] is False
    assert mine["operating"]["state"] == "closed" and mine["operating"]["notice"] == "因疫情防控暂停营业"
    detail = client.get("/api/v1/stations/CQ-SXGC").json()
    assert detail["open"] is False and detail["operating"]["state"] == "closed"


def test_a_status_scheduled_ahead_takes_effect_at_its_minute_without_a_reload(outlet, users):
    station = _station()
    start = (timezone.now() + datetime.timedelta(hours=2)).replace(second=0, microsecond=0)
    end = start + datetime.timedelta(hours=3)
    services.schedule_status(
        outlet,
        actor=users["cq_admin"],
        state="limited",
        starts_at=start,
        ends_at=end,
        counter_windows=1,
        self_service_24h=True,
        notice="限流营业",
    )
    services.schedule_status(
        outlet,
        actor=users["cq_admin"],
        state="closed",
        starts_at=end,
        ends_at=end + datetime.timedelta(days=1),
        notice="消杀",
    )
    idx = loading.current_index()
    assert _nearby_open(station, start - datetime.timedelta(minutes=1))
    assert _nearby_open(station, start + datetime.timedelta(minutes=1))  # limited: open, labelled
    assert not _nearby_open(station, end)
    assert _nearby_open(station, end + datetime.timedelta(days=1))
    assert loading.current_index() is idx  # nothing was reloaded between those moments
    query = locator.NearbyQuery(
        lat=station.lat, lng=station.lng, limit=50, at=start + datetime.timedelta(minutes=1)
    )
    mine = next(r for r in locator.nearby(query, idx) if r.code == "CQ-SXGC")
    kind, text = mine.badge(query.at)
    assert kind == "warn" and "1" in text


def test_a_closed_outlet_keeps_a_station_in_its_24_hour_self_service_bank_open(outlet, users, client):
    station = _station()
    station_services.set_schedule(station, SELF_SERVICE, actor=users["hq_admin"])
    services.schedule_status(
        outlet,
        actor=users["cq_admin"],
        state="closed",
        self_service_24h=True,
        notice="网点暂停营业，自助银行 24 小时",
    )
    assert _nearby_open(station, timezone.now())
    status = client.get("/api/v1/outlets/CQ-SXGC/status").json()
    assert status["state"] == "closed" and status["self_service_24h"] is True
    assert status["stations"] == [{"code": "CQ-SXGC", "open": True}]


def test_a_closed_outlet_shuts_a_24_hour_station_when_the_self_service_bank_closes_too(outlet, users):
    station = _station()
    station_services.set_schedule(station, SELF_SERVICE, actor=users["hq_admin"])
    services.schedule_status(outlet, actor=users["cq_admin"], state="closed_by_order", notice="奉命暂停营业")
    assert not _nearby_open(station, timezone.now())


def test_ending_and_withdrawing_restore_ordinary_operation(outlet, users):
    station = _station()
    now_entry = services.schedule_status(outlet, actor=users["cq_admin"], state="closed", notice="暂停")
    later = services.schedule_status(
        outlet,
        actor=users["cq_admin"],
        state="closed",
        starts_at=timezone.now() + datetime.timedelta(days=2),
        ends_at=timezone.now() + datetime.timedelta(days=3),
        notice="再次暂停",
    )
    # The open-ended closure was ended where the later one starts.
    now_entry.refresh_from_db()
    assert now_entry.ends_at == later.starts_at
    services.end_status(now_entry, actor=users["cq_admin"], revision=now_entry.revision)
    assert _nearby_open(station, timezone.now())
    services.cancel_status(later, actor=users["cq_admin"], revision=later.revision)
    assert _station().operating_windows == []
    assert _nearby_open(station, later.starts_at + datetime.timedelta(hours=1))


def test_the_public_status_of_an_outlet(outlet, users, client):
    assert client.get("/api/v1/outlets/CQ-SXGC/status").json()["state"] == "open"
    start = timezone.now() + datetime.timedelta(days=1)
    services.schedule_status(
        outlet, actor=users["cq_admin"], state="limited", starts_at=start, counter_windows=1, notice=""
    )
    answer = client.get("/api/v1/outlets/CQ-SXGC/status").json()
    assert answer["state"] == "open" and answer["upcoming"][0]["state"] == "limited"
    assert client.get("/api/v1/outlets/CQ/status").status_code == 404  # not an outlet
    assert client.get("/api/v1/outlets/NOPE/status").status_code == 404


# --- bad input -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"state": "shut"}, "state"),
        ({"state": "closed"}, "notice"),
        ({"state": "limited", "starts_at": "tomorrow"}, "starts_at"),
        ({"state": "limited", "starts_at": "2020-01-01T09:00"}, "starts_at"),
        ({"state": "limited", "starts_at": "+1d", "ends_at": "+1d-1h"}, "ends_at"),
        ({"state": "limited", "counter_windows": "abc"}, "counter_windows"),
        ({"state": "limited", "counter_windows": 500}, "counter_windows"),
        ({"state": "limited", "notice": "长" * 501}, "notice"),
    ],
)
def test_bad_status_input_names_the_field_and_writes_nothing(outlet, users, fields, field):
    day = (timezone.localtime() + datetime.timedelta(days=1)).replace(second=0, microsecond=0)
    relative = {"+1d": day, "+1d-1h": day - datetime.timedelta(hours=1)}
    fields = {k: relative.get(v, v) if isinstance(v, str) else v for k, v in fields.items()}
    before = OperatingStatus.objects.count()
    with pytest.raises(ValidationError) as caught:
        services.schedule_status(outlet, actor=users["cq_admin"], **fields)
    assert field in caught.value.message_dict
    assert OperatingStatus.objects.count() == before


def test_an_overlapping_status_is_refused(outlet, users):
    start = timezone.now() + datetime.timedelta(days=1)
    services.schedule_status(
        outlet,
        actor=users["cq_admin"],
        state="limited",
        starts_at=start,
        ends_at=start + datetime.timedelta(days=2),
    )
    with pytest.raises(ValidationError) as caught:
        services.schedule_status(
            outlet,
            actor=users["cq_admin"],
            state="closed",
            notice="x",
            starts_at=start + datetime.timedelta(days=1),
            ends_at=start + datetime.timedelta(days=5),
        )
    assert "starts_at" in caught.value.message_dict
    assert OperatingStatus.objects.filter(unit=outlet).count() == 1


def test_api_bad_input_and_scope(outlet, users):
    hq = _api(users, "hq_admin")
    url = "/api/v1/manage/operations/outlets/{}/statuses"
    bad = hq.post(
        url.format("CQ-SXGC"), {"state": "limited", "counter_windows": -1}, content_type="application/json"
    )
    assert bad.status_code == 422
    assert bad.json()["detail"][0]["loc"][-1] == "counter_windows"
    not_outlet = hq.post(url.format("CQ"), {"state": "limited"}, content_type="application/json")
    assert not_outlet.status_code == 422 and not_outlet.json()["detail"][0]["loc"][-1] == "outlet"
    garbage = hq.post(url.format("CQ-SXGC"), "{", content_type="application/json")
    assert garbage.status_code in (400, 422)
    assert not OperatingStatus.objects.filter(unit__code__in=["CQ-SXGC", "CQ"]).exists()


# --- permissions -----------------------------------------------------------------------------------

SZ_OUTLET = "SZ-MLYC"


@pytest.mark.parametrize(
    ("username", "code", "read", "write"),
    [
        ("hq_admin", "CQ-SXGC", 200, 201),
        ("cq_admin", "CQ-SXGC", 200, 201),
        ("sanxia_manager", "CQ-SXGC", 200, 201),
        ("sanxia_manager", SZ_OUTLET, 404, 404),
        ("sz_viewer", "CQ-SXGC", 404, 404),
        ("sz_viewer", SZ_OUTLET, 200, 403),
    ],
)
def test_permission_matrix(outlet, users, client_for, username, code, read, write):
    api = _api(users, username)
    url = f"/api/v1/manage/operations/outlets/{code}/statuses"
    assert api.get(url).status_code == read
    body = {"state": "limited", "counter_windows": 1}
    assert api.post(url, body, content_type="application/json").status_code == write
    page = client_for(username)
    assert page.get(f"/manage/operations/outlets/{code}/status/").status_code == read
    posted = page.post(f"/manage/operations/outlets/{code}/status/", {"state": "limited"})
    assert posted.status_code == (302 if write == 201 else write)


def test_end_and_withdraw_permissions(outlet, users):
    entry = services.schedule_status(outlet, actor=users["cq_admin"], state="limited")
    assert (
        _api(users, "sz_viewer")
        .post(f"/api/v1/manage/operations/statuses/{entry.pk}/end", {}, content_type="application/json")
        .status_code
        == 404
    )
    stale = _api(users, "cq_admin").post(
        f"/api/v1/manage/operations/statuses/{entry.pk}/end",
        {"revision": entry.revision + 5},
        content_type="application/json",
    )
    assert stale.status_code == 409
    done = _api(users, "cq_admin").post(
        f"/api/v1/manage/operations/statuses/{entry.pk}/end",
        {"revision": entry.revision},
        content_type="application/json",
    )
    assert done.status_code == 200 and done.json()["ends_at"]


def test_customers_served(outlet, users):
    api = _api(users, "sanxia_manager")
    today = timezone.localdate().isoformat()
    ok = api.put(
        f"/api/v1/manage/operations/outlets/CQ-SXGC/customers/{today}",
        {"customers": 63},
        content_type="application/json",
    )
    assert ok.status_code == 200 and ok.json()["customers"] == 63
    tomorrow = (timezone.localdate() + datetime.timedelta(days=1)).isoformat()
    bad = api.put(
        f"/api/v1/manage/operations/outlets/CQ-SXGC/customers/{tomorrow}",
        {"customers": 1},
        content_type="application/json",
    )
    assert bad.status_code == 422 and bad.json()["detail"][0]["loc"][-1] == "day"


# --- pages ----------------------------------------------------------------------------------------


@pytest.mark.parametrize("lang", ["zh-hans", "en"])
def test_pages_read_cleanly(outlet, users, client_for, lang):
    services.schedule_status(
        outlet, actor=users["cq_admin"], state="limited", counter_windows=1, self_service_24h=True
    )
    services.schedule_status(
        outlet,
        actor=users["cq_admin"],
        state="closed",
        notice="暂停",
        starts_at=timezone.now() + datetime.timedelta(days=3),
        ends_at=timezone.now() + datetime.timedelta(days=4),
    )
    client = client_for("cq_admin")
    for url in ("/manage/operations/status/", "/manage/operations/outlets/CQ-SXGC/status/"):
        html = client.get(url, HTTP_ACCEPT_LANGUAGE=lang).content.decode()
        assert ("三峡广场" if lang == "zh-hans" else "Sanxia") in html
        assert problems(html, lang=lang) == [], url
    public = client_for("cq_admin").get("/s/CQ-SXGC", HTTP_ACCEPT_LANGUAGE=lang).content.decode()
    assert (
        "限流营业 · 1 个窗口 · 自助银行 24 小时"
        if lang == "zh-hans"
        else "Limited service · 1 counter window"
    ) in public


@pytest.mark.parametrize("lang", ["zh-hans", "en"])
def test_the_home_page_panel(outlet, users, client_for, lang):
    services.schedule_status(
        outlet, actor=users["cq_admin"], state="limited", counter_windows=1, self_service_24h=True
    )
    mine = client_for("sanxia_manager").get("/manage/", HTTP_ACCEPT_LANGUAGE=lang).content.decode()
    expected = (
        "限流营业 · 1 个窗口 · 自助银行 24 小时"
        if lang == "zh-hans"
        else "Limited service · 1 counter window"
    )
    assert expected in mine and "/manage/operations/outlets/CQ-SXGC/status/" in mine
    assert problems(mine, lang=lang) == []
    above = client_for("cq_admin").get("/manage/", HTTP_ACCEPT_LANGUAGE=lang).content.decode()
    assert "/manage/operations/status/" in above
    assert problems(above, lang=lang) == []
