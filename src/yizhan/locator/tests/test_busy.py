"""Busy now: the level from known check-ins and seats, "full" set by staff for an hour, the usual
busiest hour from the month rollups, shown in the list, on the station page and in the API."""

import datetime

import pytest
from django.utils import timezone

from yizhan.audit.models import AuditEvent
from yizhan.core.tests.pagecheck import problems
from yizhan.locator import busy
from yizhan.stations import services as station_services
from yizhan.visits.models import CheckIn
from yizhan.visits.services import record_checkin

SXGC = (29.5566, 106.4569)


def _checkins(station, n, minutes_ago=5):
    at = timezone.now() - datetime.timedelta(minutes=minutes_ago)
    for _ in range(n):
        record_checkin(station, now=at)


@pytest.mark.parametrize(
    ("n", "level"), [(0, "quiet"), (1, "quiet"), (2, "busy"), (3, "busy"), (4, "crowded"), (9, "crowded")]
)
def test_level_from_the_last_30_minutes_against_the_seats(db, sxgc, n, level):
    _checkins(sxgc, n)
    _checkins(sxgc, 10, minutes_ago=45)  # older than the window: not counted
    found = busy.busy_now([sxgc.pk])[sxgc.pk]
    assert (found.level, found.recent, found.seats) == (level, n, 4)
    # Kept list pages read the whole network's snapshot: the same answer.
    assert busy.network_now().levels([sxgc.pk])[sxgc.pk].level == level


def test_a_station_without_seats_counts_six(db, station, actor):
    s = station_services.update_station(station("CQ-SXGC"), actor=actor, seats=None)
    CheckIn.objects.filter(station=s).delete()
    _checkins(s, 3)
    assert busy.busy_now([s.pk])[s.pk].level == "busy"
    assert busy.network_now().levels([s.pk])[s.pk].text == busy.busy_now([s.pk])[s.pk].text == "较忙"


def test_staff_mark_full_for_an_hour(db, sxgc, users):
    now = timezone.now()
    busy.mark_full(sxgc, actor=users["sanxia_manager"], now=now)
    assert busy.busy_now([sxgc.pk], now=now)[sxgc.pk].level == "crowded"
    kept = busy.network_now(now).levels([sxgc.pk])[sxgc.pk]  # what kept list pages show
    assert (kept.level, kept.text) == ("crowded", busy.busy_now([sxgc.pk], now=now)[sxgc.pk].text)
    assert busy.busy_now([sxgc.pk], now=now + datetime.timedelta(minutes=61))[sxgc.pk].level == "quiet"
    assert busy.clear_full(sxgc, actor=users["sanxia_manager"], now=now)
    assert busy.busy_now([sxgc.pk], now=now)[sxgc.pk].level == "quiet"
    assert set(AuditEvent.objects.filter(object_id=str(sxgc.pk)).values_list("action", flat=True)) >= {
        "station.marked_full",
        "station.full_cleared",
    }


def test_usual_peak_from_the_hour_profile(db, sxgc):
    from yizhan.visits.models import MonthlyRollup

    today = timezone.localdate()
    MonthlyRollup.objects.filter(station=sxgc).delete()
    assert busy.usual_peak(sxgc.pk, today) is None
    MonthlyRollup.objects.create(station=sxgc, month=today.replace(day=1), h09=5, h12=30, h15=6, h18=4)
    assert busy.usual_peak(sxgc.pk, today) == 12
    MonthlyRollup.objects.filter(station=sxgc).update(h12=6, h09=6, h15=6, h18=6)  # no hour stands out
    assert busy.usual_peak(sxgc.pk, today) is None


def test_list_page_and_api_show_it(client, db, sxgc):
    from yizhan.visits.models import MonthlyRollup

    _checkins(sxgc, 4)
    html = client.get("/", {"lat": SXGC[0], "lng": SXGC[1]}).content.decode()
    first = html.split('class="station"')[1]
    assert "busy-crowded" in first and "拥挤" in first
    MonthlyRollup.objects.update_or_create(
        station=sxgc, month=timezone.localdate().replace(day=1), defaults={"h12": 60, "h09": 5}
    )
    page = client.get("/s/CQ-SXGC").content.decode()
    assert "拥挤" in page and "12:00" in page
    assert problems(page) == []
    body = client.get("/api/v1/stations/CQ-SXGC").json()
    assert body["busy"]["level"] == "crowded" and body["busy"]["recent_checkins"] == 4
    assert body["busy"]["usual_peak_hour"] == 12 and body["busy"]["seats"] == 4


BOARD = {"hq_admin": 200, "cq_admin": 200, "sanxia_manager": 200, "sz_viewer": 200}
# Marking CQ-SXGC full: its manager and admins above may; a viewer elsewhere gets 404.
MARK = {"hq_admin": 302, "cq_admin": 302, "sanxia_manager": 302, "sz_viewer": 404, "sd_admin": 404}


@pytest.mark.parametrize(("username", "status"), BOARD.items())
def test_the_board_is_scoped(client_for, username, status, sxgc):
    response = client_for(username).get("/manage/busy/")
    assert response.status_code == status
    html = response.content.decode()
    assert ("三峡广场支行驿站" in html) == (username != "sz_viewer")
    assert problems(html) == []


@pytest.mark.parametrize(("username", "status"), MARK.items())
def test_marking_full_is_scoped(client_for, username, status, sxgc):
    response = client_for(username).post("/manage/busy/CQ-SXGC/full/")
    assert response.status_code == status
    assert busy.busy_now([sxgc.pk])[sxgc.pk].level == ("crowded" if status == 302 else "quiet")


def test_a_viewer_may_not_mark_full_in_scope(client_for, users, sxgc):
    from yizhan.orgs import services as org_services

    viewer = users["sz_viewer"]
    org_services.set_membership(actor=users["hq_admin"], user=viewer, unit=sxgc.unit, role="viewer")
    assert client_for("sz_viewer").post("/manage/busy/CQ-SXGC/full/").status_code == 403
    assert client_for("cq_admin").post("/manage/busy/CQ-SXGC/explode/").status_code == 404
