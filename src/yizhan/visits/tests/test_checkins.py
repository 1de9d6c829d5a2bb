"""Check-ins: the de-duplication window, request-id replays, the page and API, bad input and the
per-address rate limit."""

import datetime
import json

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from yizhan.visits import services
from yizhan.visits.models import CheckIn, DailyRollup, DeviceMark

pytestmark = pytest.mark.django_db

T0 = datetime.datetime(2026, 3, 2, 9, 0, tzinfo=datetime.UTC)


def count_at(station):
    return CheckIn.objects.filter(station=station).count()


def test_same_device_counts_once_in_30_minutes(station):
    s = station("CQ-SXGC")
    before = count_at(s)
    first = services.record_checkin(s, device="device-aaaa-1", now=T0)
    again = services.record_checkin(
        s, device="device-aaaa-1", now=T0 + datetime.timedelta(minutes=29, seconds=59)
    )
    assert first.counted and not again.counted and again.checkin is None
    # The window runs from the last *counted* visit: exactly 30 minutes later counts again.
    later = services.record_checkin(s, device="device-aaaa-1", now=T0 + datetime.timedelta(minutes=30))
    assert later.counted
    assert count_at(s) == before + 2


def test_window_is_per_station_and_per_device(station):
    a, b = station("CQ-SXGC"), station("CQ-JXDL")
    assert services.record_checkin(a, device="device-bbbb-1", now=T0).counted
    assert services.record_checkin(b, device="device-bbbb-1", now=T0).counted
    assert services.record_checkin(a, device="device-bbbb-2", now=T0).counted
    assert not services.record_checkin(a, device="device-bbbb-1", now=T0).counted


def test_without_a_device_every_visit_counts(station):
    s = station("CQ-SXGC")
    before = count_at(s)
    for _ in range(3):
        assert services.record_checkin(s, now=T0).counted
    assert count_at(s) == before + 3


def test_device_mark_stores_a_digest_not_the_cookie(station):
    services.record_checkin(station("CQ-SXGC"), device="my-secret-cookie-value", now=T0)
    mark = DeviceMark.objects.get()
    assert mark.device != "my-secret-cookie-value" and len(mark.device) == 32


def test_purge_forgets_only_marks_older_than_the_window(station):
    s = station("CQ-SXGC")
    services.record_checkin(s, device="device-old-1", now=T0)
    services.record_checkin(s, device="device-new-1", now=T0 + datetime.timedelta(minutes=20))
    assert services.purge_device_marks(now=T0 + datetime.timedelta(minutes=35)) == 1
    assert not services.record_checkin(
        s, device="device-new-1", now=T0 + datetime.timedelta(minutes=40)
    ).counted


def test_request_id_replay_never_counts_twice(station):
    s = station("CQ-SXGC")
    first = services.record_checkin(s, request_id="req-1", group="courier", now=T0)
    again = services.record_checkin(
        s, request_id="req-1", group="courier", now=T0 + datetime.timedelta(seconds=5)
    )
    assert again.replayed and again.checkin.pk == first.checkin.pk
    assert CheckIn.objects.filter(ref="req-1").count() == 1
    with pytest.raises(ValidationError) as exc:
        services.record_checkin(station("CQ-JXDL"), request_id="req-1")
    assert "request_id" in exc.value.message_dict


def test_local_day_and_hour_are_shanghai_time(station):
    s = station("CQ-SXGC")
    # 23:30 UTC is 07:30 the next morning in Shanghai.
    result = services.record_checkin(s, now=datetime.datetime(2026, 3, 1, 23, 30, tzinfo=datetime.UTC))
    assert result.checkin.day == datetime.date(2026, 3, 2) and result.checkin.hour == 7


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ({"group": "alien"}, "group"),
        ({"services": ["water", "beer"]}, "services"),
        ({"services": "water, sauna"}, "services"),
        ({"services": 7}, "services"),
        ({"device": "short"}, "device"),
        ({"device": "<script>alert(1)</script>"}, "device"),
        ({"request_id": "x" * 65}, "request_id"),
    ],
)
def test_bad_input_names_the_field_and_writes_nothing(station, data, field):
    s = station("CQ-SXGC")
    before = count_at(s)
    with pytest.raises(ValidationError) as exc:
        services.record_checkin(s, **data)
    assert field in exc.value.message_dict
    assert count_at(s) == before


# --- the page the QR code opens --------------------------------------------------------------------


def test_page_sets_a_device_cookie_and_one_tap_counts(client, station):
    s = station("CQ-SXGC")
    page = client.get("/c/CQ-SXGC")
    assert page.status_code == 200 and "yz_device" in page.cookies
    assert s.name in page.content.decode()
    before = count_at(s)
    done = client.post("/c/CQ-SXGC", {})
    assert done.status_code == 303 and done["Location"].endswith("/c/CQ-SXGC/thanks?counted=1")
    assert count_at(s) == before + 1
    # The same phone tapping again within 30 minutes is thanked, not counted.
    again = client.post("/c/CQ-SXGC", {"group": "courier"})
    assert again["Location"].endswith("?again=1&group=courier")
    assert count_at(s) == before + 1
    thanks = client.get(again["Location"])
    assert thanks.status_code == 200 and "30" in thanks.content.decode()


def test_page_records_group_and_services(client, station):
    s = station("CQ-SXGC")
    client.post("/c/CQ-SXGC", {"group": "sanitation_worker", "services": ["water", "warmth"]})
    checkin = CheckIn.objects.filter(station=s).order_by("-pk").first()
    assert checkin.group == "sanitation_worker" and set(checkin.service_codes) == {"water", "warmth"}


def test_page_names_an_unknown_group_with_422(client, station):
    s = station("CQ-SXGC")
    before = count_at(s)
    response = client.post("/c/CQ-SXGC", {"group": "alien", "services": ["teleport"]})
    assert response.status_code == 422
    body = response.content.decode()
    assert "alien" in body and "teleport" in body
    assert count_at(s) == before


def test_unknown_station_is_a_404_page(client):
    for url in ("/c/NO-SUCH", "/c/NO-SUCH/thanks", "/s/NO-SUCH/report", "/s/NO-SUCH/confirm"):
        assert client.get(url).status_code == 404
    assert client.post("/c/NO-SUCH", {}).status_code == 404


def test_station_name_is_escaped_on_the_public_pages(client, station, users):
    from yizhan.stations.services import update_station

    s = station("CQ-SXGC")
    update_station(s, actor=users["hq_admin"], name="<script>alert('x')</script>驿站")
    for url in ("/c/CQ-SXGC", "/c/CQ-SXGC/thanks", "/s/CQ-SXGC/report", "/s/CQ-SXGC/confirm"):
        body = client.get(url).content.decode()
        assert "<script>alert(" not in body and "&lt;script&gt;" in body


# --- the API ---------------------------------------------------------------------------------------


def post_json(client, url, data):
    return client.post(url, json.dumps(data), content_type="application/json")


def test_api_checkin_201_then_200_for_the_same_device(client, station):
    s = station("CQ-SXGC")
    before = count_at(s)
    url = "/api/v1/stations/CQ-SXGC/checkins"
    first = post_json(client, url, {"group": "courier", "services": ["water"], "device": "app-install-0001"})
    assert first.status_code == 201 and first.json()["counted"] is True
    second = post_json(client, url, {"device": "app-install-0001"})
    assert second.status_code == 200 and second.json()["counted"] is False
    assert count_at(s) == before + 1
    row = DailyRollup.objects.get(station=s, day=timezone.localdate())
    assert row.c_courier >= 1 and row.s_water >= 1


def test_api_replay_answers_201_with_the_same_id(client):
    url = "/api/v1/stations/CQ-SXGC/checkins"
    first = post_json(client, url, {"request_id": "bench-1-42"})
    again = post_json(client, url, {"request_id": "bench-1-42"})
    assert first.status_code == again.status_code == 201
    assert again.json()["id"] == first.json()["id"] and again.json()["replayed"] is True


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({"group": "alien"}, "group"),
        ({"services": ["water", "beer"]}, "services"),
        ({"services": "water"}, "services"),
        ({"device": "x"}, "device"),
    ],
)
def test_api_bad_input_is_422_naming_the_field(client, station, payload, field):
    before = count_at(station("CQ-SXGC"))
    response = post_json(client, "/api/v1/stations/CQ-SXGC/checkins", payload)
    assert response.status_code == 422
    assert any(d["loc"][-1] == field for d in response.json()["detail"])
    assert count_at(station("CQ-SXGC")) == before


def test_api_unknown_station_404(client):
    assert post_json(client, "/api/v1/stations/NO-SUCH/checkins", {}).status_code == 404


def test_api_rejects_a_body_that_is_not_json(client):
    response = client.post("/api/v1/stations/CQ-SXGC/checkins", "group=courier", content_type="text/plain")
    assert response.status_code in (400, 422)


# --- the rate limit ----------------------------------------------------------------------------------


def test_a_flood_from_one_address_gets_429_with_a_friendly_page(client, settings, station):
    settings.YIZHAN_VISITS_RATE_LIMITS = {"checkin": (3, 600)}
    s = station("CQ-SXGC")
    before = count_at(s)
    for _ in range(3):
        assert client.post("/c/CQ-SXGC", {}).status_code == 303
        client.cookies.pop("yz_device", None)  # a script without cookies: each one a new device
    flooded = client.post("/c/CQ-SXGC", {})
    # Retry-After: the seconds left in the address's 10-minute window, not the window's length.
    assert flooded.status_code == 429 and 0 < int(flooded["Retry-After"]) <= 600
    assert "<h1>" in flooded.content.decode()  # the site's 429 page, not a bare error
    api = post_json(client, "/api/v1/stations/CQ-SXGC/checkins", {})
    assert api.status_code == 429 and abs(int(api["Retry-After"]) - int(flooded["Retry-After"])) <= 1
    assert count_at(s) == before + 3


def test_the_limit_is_per_address(client, settings):
    settings.YIZHAN_VISITS_RATE_LIMITS = {"checkin": (1, 600)}
    assert client.post("/c/CQ-SXGC", {}, REMOTE_ADDR="10.0.0.1").status_code == 303
    assert client.post("/c/CQ-SXGC", {}, REMOTE_ADDR="10.0.0.1").status_code == 429
    assert client.post("/c/CQ-SXGC", {}, REMOTE_ADDR="10.0.0.2").status_code == 303


@pytest.mark.django_db(transaction=True)
def test_simultaneous_taps_from_one_device_count_once():
    """Eight threads, eight connections, one device, one instant: exactly one visit counts.
    Run on PostgreSQL, where writers truly overlap (SQLite's test database is one in-memory file
    that serialises them anyway; bench/checkins.py drives two processes at it)."""
    import threading

    from django.db import connection, connections

    if connection.vendor != "postgresql":
        pytest.skip("concurrent writers need a server database")
    from yizhan.orgs.models import Unit
    from yizhan.stations.models import Station

    root = Unit.objects.create(code="T-HQ", kind="head_office", name="总行", path="/")
    root.path = f"/{root.pk}/"
    root.save()
    outlet = Unit.objects.create(
        code="T-O", kind="outlet", name="网点", parent=root, level=1, path="/", lat=30, lng=106
    )
    outlet.path = f"{root.path}{outlet.pk}/"
    outlet.save()
    station = Station.objects.create(code="T-O", name="驿站", unit=outlet, address="x", lat=30, lng=106)
    barrier = threading.Barrier(8)
    results = []

    def tap():
        try:
            barrier.wait()
            results.append(services.record_checkin(station, device="one-phone-1234", now=T0).counted)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=tap) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(results) == [False] * 7 + [True]
    assert CheckIn.objects.filter(station=station).count() == 1
    assert DailyRollup.objects.get(station=station).checkins == 1
