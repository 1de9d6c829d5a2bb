"""The public pages (no login, no JavaScript, zh first) and the back office, with the permission
matrix of the named users; warnings; reach against known check-ins; the API."""

import datetime
import json
import re

import pytest
from django.test import Client
from django.utils import timezone

from yizhan.core.tests.pagecheck import problems
from yizhan.events import campaigns, offers, services
from yizhan.events.models import Registration
from yizhan.orgs.services import create_api_token
from yizhan.stations.models import HolidayDate, Station

pytestmark = pytest.mark.django_db
ALLOW = ("hq_admin", "cq_admin", "sanxia_manager", "sz_viewer")


def test_find_on_the_station_page_sign_up_and_get_a_ticket_without_javascript(make_event):
    event, (occ,) = make_event(capacity=1)
    client = Client()
    station = client.get("/s/CQ-SXGC")
    assert event.title in station.content.decode()
    listing = client.get("/events/?group=elderly")
    assert event.title in listing.content.decode() and problems(listing.content.decode()) == []
    page = client.get(f"/events/{event.pk}/")
    assert page.status_code == 200 and problems(page.content.decode()) == []
    done = client.post(
        f"/events/o/{occ.pk}/signup", {"name": "老王", "party": "1", "phone": "", "consent": ""}
    )
    assert done.status_code == 303
    ticket = client.get(done["Location"])
    html = ticket.content.decode()
    reg = Registration.objects.get(occurrence=occ)
    assert reg.code in html and "<svg" in html and problems(html) == []
    # The next one waits, and sees their place in the line.
    waiting = client.get(client.post(f"/events/o/{occ.pk}/signup", {"name": "小李"})["Location"])
    assert "候补" in waiting.content.decode()
    # Cancelled by the same link: the place goes to the one waiting.
    client.post(f"/events/t/{reg.token}/cancel")
    assert Registration.objects.get(pk=reg.pk).state == "cancelled"
    assert Registration.objects.get(name="小李").state == "offered"


def test_bad_sign_up_on_the_page_is_422_naming_the_problem(make_event):
    event, (occ,) = make_event()
    response = Client().post(f"/events/o/{occ.pk}/signup", {"name": "甲", "phone": "12345"})
    assert response.status_code == 422 and "11" in response.content.decode()
    assert not Registration.objects.filter(occurrence=occ).exists()


def test_sign_ups_are_rate_limited(make_event, settings):
    settings.YIZHAN_EVENTS_RATE_LIMITS = {"signup": (2, 600)}
    _event, (occ,) = make_event(capacity=10)
    client = Client()
    codes = [client.post(f"/events/o/{occ.pk}/signup", {"name": f"甲{i}"}).status_code for i in range(3)]
    assert codes == [303, 303, 429]


def test_an_invitation_only_event_is_hidden_without_its_link(make_event):
    event, (occ,) = make_event(public=False)
    client = Client()
    assert client.get(f"/events/{event.pk}/").status_code == 404
    assert f'href="/events/{event.pk}/"' not in client.get("/events/").content.decode()
    assert client.get(f"/events/{event.pk}/?invite={event.invite_token}").status_code == 200


def test_the_page_reads_in_english_too(make_event):
    event, _ = make_event()
    client = Client(HTTP_ACCEPT_LANGUAGE="en")
    client.cookies["django_language"] = "en"
    html = client.get(f"/events/{event.pk}/", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "Sign up" in html or "报名" in html


# --- the back office and its permission matrix ----------------------------------------------------

# What each user may do with a Chongqing event at 三峡广场 and a Shenzhen one.
MATRIX = {
    "hq_admin": {"cq": (200, 200), "sz": (200, 200)},
    "cq_admin": {"cq": (200, 200), "sz": (404, 404)},
    "sanxia_manager": {"cq": (404, 200), "sz": (404, 404)},  # not his event, but his door
    "sz_viewer": {"cq": (404, 404), "sz": (200, 200)},
}


@pytest.fixture
def two_events(make_event, users, unit):
    cq, (cq_occ,) = make_event()
    sz = services.create_event(actor=users["hq_admin"], unit=unit("SZ"), title="新市民讲堂", kind="lecture")
    start = timezone.now() + datetime.timedelta(days=2)
    (sz_occ,) = services.add_occurrences(sz, actor=users["hq_admin"], stations=["SZ-MLYC"], starts_at=start,
                                         ends_at=start + datetime.timedelta(hours=1))  # fmt: skip
    return {"cq": (cq, cq_occ), "sz": (sz, sz_occ)}


@pytest.mark.parametrize("username", list(MATRIX))
def test_the_permission_matrix(client_for, two_events, username):
    client = client_for(username)
    for key, (event_status, occ_status) in MATRIX[username].items():
        event, occ = two_events[key]
        assert client.get(f"/manage/events/{event.pk}/").status_code == event_status, (username, key)
        page = client.get(f"/manage/events/occurrences/{occ.pk}/")
        assert page.status_code == occ_status, (username, key)
        if occ_status == 200:
            assert problems(page.content.decode(), allow=ALLOW) == []
        reg = services.sign_up(occ, name="甲")
        nonce = f"n-{username}-{key}"
        scan = client.post(f"/manage/events/occurrences/{occ.pk}/scan/", {"code": reg.code, "nonce": nonce})
        want = 404 if occ_status == 404 else (403 if username == "sz_viewer" else 302)
        assert scan.status_code == want, (username, key)
        assert Registration.objects.get(pk=reg.pk).state == ("attended" if want == 302 else "confirmed")
        edit = client.get(f"/manage/events/{event.pk}/edit/")
        assert edit.status_code == (404 if event_status == 404 else 403 if username == "sz_viewer" else 200)


def test_staff_pages_render_cleanly(client_for, two_events):
    client = client_for("cq_admin")
    event, occ = two_events["cq"]
    services.sign_up(occ, name="甲", phone="13800001234")
    for url in ("/manage/events/", f"/manage/events/{event.pk}/", f"/manage/events/occurrences/{occ.pk}/",
                "/manage/events/campaigns/", "/manage/events/offers/", "/manage/events/new/",
                "/manage/events/campaigns/new/", "/manage/events/offers/new/"):  # fmt: skip
        response = client.get(url)
        assert response.status_code == 200, url
        html = response.content.decode()
        assert problems(html, allow=ALLOW) == [], url
        assert "13800001234" not in html  # masked in lists
    export = client.get(f"/manage/events/{event.pk}/export.xlsx")
    assert export.status_code == 200 and export.content[:2] == b"PK"


def test_an_occurrence_at_a_station_outside_the_scope_is_refused(client_for, two_events, users):
    event, _occ = two_events["cq"]
    before = event.occurrences.count()
    response = client_for("cq_admin").post(
        f"/manage/events/{event.pk}/occurrences/",
        {"stations": ["SZ-MLYC"], "starts_at": "2030-05-12T09:30", "ends_at": "2030-05-12T11:30"},
    )
    assert response.status_code == 422
    with pytest.raises(Exception) as exc:
        services.add_occurrences(event, actor=users["sanxia_manager"], stations=["CQ-JXDL"],
                                 starts_at="2030-05-12 09:30", ends_at="2030-05-12 11:30")  # fmt: skip
    assert "stations" in exc.value.message_dict
    assert event.occurrences.count() == before


def test_a_stale_event_edit_shows_what_changed(client_for, two_events, users):
    event, _ = two_events["cq"]
    client = client_for("cq_admin")
    client.defaults["HTTP_ACCEPT_LANGUAGE"] = "en"
    form = client.get(f"/manage/events/{event.pk}/edit/").context["form"]
    data = {k: form[k].value() for k in form.fields}
    data = {k: ("" if v is None else v) for k, v in data.items() if not isinstance(v, bool) or v}
    data["target_groups"] = event.target_groups
    services.update_event(event, actor=users["hq_admin"], title="别人改的标题", kind="anti_fraud")
    response = client.post(f"/manage/events/{event.pk}/edit/", {**data, "speakers": "我"})
    assert response.status_code == 200 and "nothing was saved" in response.content.decode()
    assert "别人改的标题" in response.content.decode()


# --- warnings and reach ---------------------------------------------------------------------------


def test_holiday_hours_and_closed_outlet_warnings(make_event, users):
    from yizhan.stations import hours

    event, (occ,) = make_event()
    station = Station.objects.get(code="CQ-SXGC")
    day = timezone.localtime(occ.starts_at).date()  # the local day: UTC is a day behind after 16:00
    calendar = hours.Calendar({day: False}, [day.year])
    codes = {w.code for w in services.warnings_for(occ, calendar)}
    assert "holiday" in codes
    night = timezone.localtime(occ.starts_at).replace(hour=2, minute=0)
    occ.starts_at, occ.ends_at = night, night + datetime.timedelta(hours=1)
    codes = {w.code for w in services.warnings_for(occ, hours.Calendar())}
    assert codes & {"hours", "closed"}
    station.status, station.reopens_on = "temporarily_closed", None
    occ.station = station
    assert "closed" in {w.code for w in services.warnings_for(occ, hours.Calendar())}
    assert HolidayDate is not None


def test_reach_is_computed_against_known_check_ins(users, unit):
    from yizhan.visits import services as visits

    station = Station.objects.get(code="SZ-MLYC")
    campaign = campaigns.create_campaign(actor=users["hq_admin"], unit=unit("SZ"), name="新市民月", target_group="courier",
                                         starts_on=datetime.date(2031, 9, 1), ends_on=datetime.date(2031, 9, 30))  # fmt: skip
    during = timezone.make_aware(datetime.datetime(2031, 9, 10, 12))
    before = timezone.make_aware(datetime.datetime(2031, 8, 20, 12))
    from unittest import mock

    for when, n in ((during, 3), (before, 2)):
        with mock.patch("django.utils.timezone.now", return_value=when):
            for _ in range(n):
                visits.record_checkin(station, group="courier")
            visits.record_checkin(station, group="elderly")  # not the target group
    result = campaigns.reach(campaign)
    total = result["total"]
    assert (total["checkins"], total["checkins_before"], total["change"]) == (3, 2, 50.0)
    assert sum(r["checkins"] for r in result["rows"]) == total["checkins"]


def test_a_campaign_ending_before_it_starts_is_refused(users, unit):
    with pytest.raises(Exception) as exc:
        campaigns.create_campaign(actor=users["hq_admin"], unit=unit("SZ"), name="x", target_group="courier",
                                  starts_on="2022-09-30", ends_on="2022-09-01")  # fmt: skip
    assert "ends_on" in exc.value.message_dict


def test_group_offers_show_on_matching_stations_only(users, unit):
    offer = offers.save_offer(actor=users["hq_admin"], unit=unit("HQ"), group="medical_staff", theme="medical_priority",
                              title="测试医护卡", text="免年费", valid_from=datetime.date(2020, 1, 1),
                              valid_until=datetime.date(2099, 1, 1))  # fmt: skip
    assert offer in offers.for_station(Station.objects.get(code="CQ-SXGC"))
    assert "测试医护卡" in Client().get("/s/CQ-SXGC").content.decode()
    plain = Station.objects.exclude(themes__code="medical_priority").first()
    assert offer not in offers.for_station(plain)
    with pytest.raises(Exception) as exc:
        offers.save_offer(actor=users["cq_admin"], unit=unit("CQ-SXGC"), group="medical_staff", title="x", text="y",
                          valid_from="2020-01-01", valid_until="2019-01-01")  # fmt: skip
    assert "valid_until" in exc.value.message_dict


# --- the API --------------------------------------------------------------------------------------


def test_the_api_signs_up_and_staff_scan_with_a_nonce(make_event, users):
    event, (occ,) = make_event(capacity=1)
    public = Client()
    listed = public.get("/api/v1/events?group=elderly").json()
    assert any(e["id"] == event.pk for e in listed)
    made = public.post(
        f"/api/v1/events/occurrences/{occ.pk}/signups", {"name": "甲"}, content_type="application/json"
    )
    assert made.status_code == 201 and made.json()["state"] == "confirmed"
    code = made.json()["code"]
    bad = public.post(
        f"/api/v1/events/occurrences/{occ.pk}/signups",
        {"name": "乙", "party": 99},
        content_type="application/json",
    )
    assert bad.status_code == 422 and "party" in json.dumps(bad.json())
    _row, token = create_api_token(user=users["sanxia_manager"], name="door")
    staff = Client(HTTP_AUTHORIZATION=f"Bearer {token}")
    url = f"/api/v1/manage/events/occurrences/{occ.pk}/scans"
    first = staff.post(url, {"code": code, "nonce": "api-nonce-1"}, content_type="application/json")
    again = staff.post(url, {"code": code, "nonce": "api-nonce-1"}, content_type="application/json")
    assert first.status_code == 200 and not first.json()["duplicate"]
    assert again.status_code == 200 and again.json()["duplicate"]
    wrong = staff.post(url, {"code": "ZZZZ3333", "nonce": "api-nonce-2"}, content_type="application/json")
    assert wrong.status_code == 422 and "code" in json.dumps(wrong.json())
    people = staff.get(f"/api/v1/manage/events/occurrences/{occ.pk}/participants").json()
    assert people[0]["state"] == "attended"
    assert re.fullmatch(r"[\d*]*", people[0]["phone"])
