"""The permission matrix: the named demo users against in-scope and out-of-scope feedback, stations
and units, on the queue, statistics, tallies, posters and the staff API (404 outside the scope,
403 in scope with too small a role, 200 allowed)."""

import json

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from yizhan.orgs.services import create_api_token
from yizhan.stations.models import Station
from yizhan.visits import services
from yizhan.visits.models import Feedback, FeedbackStatus, Tally
from yizhan.visits.tests.conftest import PNG

pytestmark = pytest.mark.django_db

# For each user: a station in scope and one outside it (None: head office sees everything).
SCOPES = {
    "hq_admin": ("CQ-SXGC", None),
    "cq_admin": ("CQ-SXGC", "SZ-MLYC"),
    "sanxia_manager": ("CQ-SXGC", "CQ-JXDL"),
    "sz_viewer": ("SZ-MLYC", "CQ-SXGC"),
}
# Units to ask statistics for: in scope and outside.
UNITS = {
    "hq_admin": ("CQ", None),
    "cq_admin": ("CQ", "SZ"),
    "sanxia_manager": ("CQ-SXGC", "CQ"),
    "sz_viewer": ("SZ", "CQ"),
}
ROLE = {"hq_admin": "admin", "cq_admin": "admin", "sanxia_manager": "manager", "sz_viewer": "viewer"}
RANK = {"viewer": 1, "manager": 2, "admin": 3}
NEED = {"read": 1, "change": 2}


def expected(username, perm):
    return 200 if RANK[ROLE[username]] >= NEED[perm] else 403


@pytest.fixture
def items(station, media):
    """A report with a photo at each station the matrix names."""
    out = {}
    for code in ("CQ-SXGC", "CQ-JXDL", "SZ-MLYC"):
        upload = SimpleUploadedFile("p.png", PNG, content_type="image/png")
        out[code] = services.submit_feedback(
            station(code), kind="facility_broken", facility="wifi", photo=upload
        )
    return out


@pytest.mark.parametrize("username", list(SCOPES))
def test_queue_lists_only_the_users_subtree(client_for, items, username):
    inside, outside = SCOPES[username]
    body = client_for(username).get("/manage/feedback/?status=all").content.decode()
    assert f"/manage/feedback/{items[inside].pk}/" in body
    if outside:
        assert f"/manage/feedback/{items[outside].pk}/" not in body


@pytest.mark.parametrize("username", list(SCOPES))
@pytest.mark.parametrize(
    ("url", "perm"), [("/manage/feedback/{pk}/", "read"), ("/manage/feedback/{pk}/photo", "read")]
)
def test_feedback_pages_in_and_out_of_scope(client_for, items, username, url, perm):
    inside, outside = SCOPES[username]
    client = client_for(username)
    assert client.get(url.format(pk=items[inside].pk)).status_code == expected(username, perm)
    if outside:
        assert client.get(url.format(pk=items[outside].pk)).status_code == 404
    assert client.get(url.format(pk=999999)).status_code == 404


@pytest.mark.parametrize("username", list(SCOPES))
def test_acknowledging_needs_scope_then_role(client_for, items, username):
    inside, outside = SCOPES[username]
    client = client_for(username)
    response = client.post(
        f"/manage/feedback/{items[inside].pk}/acknowledge/",
        {"note": "ok", "revision": items[inside].revision},
    )
    items[inside].refresh_from_db()
    if expected(username, "change") == 200:
        assert response.status_code == 302 and items[inside].status == FeedbackStatus.ACKNOWLEDGED
    else:
        assert response.status_code == 403 and items[inside].status == FeedbackStatus.NEW
    if outside:
        assert client.post(f"/manage/feedback/{items[outside].pk}/acknowledge/", {}).status_code == 404
        items[outside].refresh_from_db()
        assert items[outside].status == FeedbackStatus.NEW


def revision(pk: int) -> int:
    return Feedback.objects.get(pk=pk).revision


def test_the_queue_walks_through_the_pages(client_for, items):
    client = client_for("sanxia_manager")
    pk = items["CQ-SXGC"].pk
    client.post(f"/manage/feedback/{pk}/acknowledge/", {"note": "已派人", "revision": revision(pk)})
    client.post(
        f"/manage/feedback/{pk}/resolve/",
        {"facility_outcome": "out_of_order", "facility": "wifi", "note": "", "revision": revision(pk)},
    )
    item = Feedback.objects.get(pk=pk)
    assert item.status == FeedbackStatus.RESOLVED and item.facility_outcome == "out_of_order"
    # A wrong step is refused with a message, not an error page.
    response = client.post(
        f"/manage/feedback/{pk}/reject/", {"note": "x", "revision": revision(pk)}, follow=True
    )
    assert response.status_code == 200 and Feedback.objects.get(pk=pk).status == FeedbackStatus.RESOLVED
    assert client.post(f"/manage/feedback/{pk}/explode/", {}).status_code == 404


@pytest.mark.parametrize("username", list(SCOPES))
def test_overdue_items_are_flagged_up_the_tree(client_for, station, username):
    import datetime

    old = datetime.datetime(2025, 9, 30, 10, tzinfo=datetime.UTC)
    from yizhan.orgs.models import Unit

    inside, _outside = SCOPES[username]
    s = station(inside)
    services.submit_feedback(s, kind="wrong_hours", now=old)
    body = client_for(username).get("/manage/feedback/?status=overdue").content.decode()
    assert 'class="badge bad"' in body
    # Every level above the outlet sees which unit directly below holds the overdue item.
    own = client_for(username).get("/api/v1/manage/me").json()["unit_code"]
    own_unit = Unit.objects.get(code=own)
    if own_unit.pk != s.unit_id:
        child = next(u for u in s.unit.ancestors() + [s.unit] if u.parent_id == own_unit.pk)
        assert f"?unit={child.code}&status=overdue" in body


@pytest.mark.parametrize("username", list(SCOPES))
@pytest.mark.parametrize(
    "url",
    [
        "/manage/visits/?unit={code}",
        "/manage/visits/export.xlsx?unit={code}",
        "/manage/feedback/?unit={code}",
        "/manage/visits/posters/?unit={code}",
        "/manage/visits/posters/unit/{code}.zip",
    ],
)
def test_statistics_and_posters_by_unit(client_for, username, url):
    inside, outside = UNITS[username]
    client = client_for(username)
    assert client.get(url.format(code=inside)).status_code == 200
    if outside:
        assert client.get(url.format(code=outside)).status_code == 404
    assert client.get(url.format(code="NO-SUCH")).status_code == 404


@pytest.mark.parametrize("username", list(SCOPES))
def test_own_unit_by_default(client_for, username):
    for url in ("/manage/visits/", "/manage/feedback/", "/manage/visits/posters/"):
        assert client_for(username).get(url).status_code == 200


@pytest.mark.parametrize("username", list(SCOPES))
@pytest.mark.parametrize("url", ["/manage/visits/stations/{code}/", "/manage/visits/posters/{code}.svg"])
def test_station_pages(client_for, username, url):
    inside, outside = SCOPES[username]
    client = client_for(username)
    assert client.get(url.format(code=inside)).status_code == 200
    if outside:
        assert client.get(url.format(code=outside)).status_code == 404


@pytest.mark.parametrize("username", list(SCOPES))
def test_recording_tallies_needs_scope_then_role(client_for, station, username):
    from django.utils import timezone

    inside, outside = SCOPES[username]
    today = timezone.localdate()
    client = client_for(username)
    revision = Station.objects.get(code=inside).revision
    data = {"day": today.isoformat(), "elderly": "777", "revision": revision}
    response = client.post(f"/manage/visits/stations/{inside}/", data)
    allowed = expected(username, "change") == 200
    assert response.status_code == (302 if allowed else 403)
    saved = Tally.objects.filter(station__code=inside, day=today, group="elderly", count=777).exists()
    assert saved == allowed
    if outside:
        assert client.post(f"/manage/visits/stations/{outside}/", data).status_code == 404
        assert not Tally.objects.filter(station__code=outside, day=today, count=777).exists()


def test_tally_form_names_bad_input(client_for):
    response = client_for("sanxia_manager").post(
        "/manage/visits/stations/CQ-SXGC/",
        {"day": "2026-01-05", "elderly": "-3", "revision": Station.objects.get(code="CQ-SXGC").revision},
    )
    assert response.status_code == 422 and "has-error" in response.content.decode()


@pytest.mark.parametrize("username", list(SCOPES))
def test_deleting_checkins_needs_scope_and_role(client_for, station, username):
    inside, outside = SCOPES[username]
    checkin = services.record_checkin(station(inside)).checkin
    response = client_for(username).post(
        f"/manage/visits/stations/{inside}/delete/", {"checkin": [checkin.pk]}
    )
    gone = not type(checkin).objects.filter(pk=checkin.pk).exists()
    assert (response.status_code, gone) == (
        (302, True) if expected(username, "change") == 200 else (403, False)
    )
    if outside:
        other = services.record_checkin(station(outside)).checkin
        assert (
            client_for(username)
            .post(f"/manage/visits/stations/{outside}/delete/", {"checkin": [other.pk]})
            .status_code
            == 404
        )
        assert type(other).objects.filter(pk=other.pk).exists()


def test_anonymous_is_sent_to_login(client, items):
    for url in (
        "/manage/visits/",
        "/manage/feedback/",
        f"/manage/feedback/{items['CQ-SXGC'].pk}/photo",
        "/manage/visits/posters/CQ-SXGC.svg",
    ):
        response = client.get(url)
        assert response.status_code == 302 and response["Location"].startswith("/manage/login/")


# --- the staff API ------------------------------------------------------------------------------------


def api(users, username):
    _token, raw = create_api_token(user=users[username], name="test")
    return {"HTTP_AUTHORIZATION": f"Bearer {raw}"}


@pytest.mark.parametrize("username", list(SCOPES))
def test_api_queue_and_transitions(client, users, items, username):
    inside, outside = SCOPES[username]
    headers = api(users, username)
    listed = client.get("/api/v1/manage/feedback?status=all", **headers).json()
    ids = {row["id"] for row in listed}
    assert items[inside].pk in ids
    if outside:
        assert items[outside].pk not in ids
    response = client.post(
        f"/api/v1/manage/feedback/{items[inside].pk}/acknowledge",
        json.dumps({"note": "ok"}),
        content_type="application/json",
        **headers,
    )
    assert response.status_code == expected(username, "change")
    if outside:
        response = client.post(
            f"/api/v1/manage/feedback/{items[outside].pk}/acknowledge",
            "{}",
            content_type="application/json",
            **headers,
        )
        assert response.status_code == 404


@pytest.mark.parametrize("username", list(SCOPES))
def test_api_statistics_and_tallies(client, users, username):
    from django.utils import timezone

    inside, outside = UNITS[username]
    headers = api(users, username)
    assert client.get(f"/api/v1/manage/visits/stats?unit={inside}", **headers).status_code == 200
    if outside:
        assert client.get(f"/api/v1/manage/visits/stats?unit={outside}", **headers).status_code == 404
    station_code = SCOPES[username][0]
    day = timezone.localdate().isoformat()
    response = client.put(
        f"/api/v1/manage/stations/{station_code}/tallies/{day}",
        json.dumps({"counts": {"elderly": 4}, "revision": Station.objects.get(code=station_code).revision}),
        content_type="application/json",
        **headers,
    )
    assert response.status_code == expected(username, "change")
    if response.status_code == 200:
        assert response.json()["counts"]["elderly"] == 4


def test_api_bad_input(client, users):
    headers = api(users, "cq_admin")
    bad_group = client.put(
        "/api/v1/manage/stations/CQ-SXGC/tallies/2026-01-05",
        json.dumps({"counts": {"martians": 4}, "revision": 1}),
        content_type="application/json",
        **headers,
    )
    assert bad_group.status_code == 422 and "martians" in json.dumps(bad_group.json())
    bad_day = client.put(
        "/api/v1/manage/stations/CQ-SXGC/tallies/yesterday",
        json.dumps({"counts": {"elderly": 4}, "revision": 1}),
        content_type="application/json",
        **headers,
    )
    assert bad_day.status_code == 422 and bad_day.json()["detail"][0]["loc"][-1] == "day"
    bad_period = client.get("/api/v1/manage/visits/stats?start=2026-02-01&end=2025-01-01", **headers)
    assert bad_period.status_code == 422 and bad_period.json()["detail"][0]["loc"][-1] == "start"
    bad_status = client.get("/api/v1/manage/feedback?status=whatever", **headers)
    assert bad_status.status_code == 422


def test_a_tally_saved_from_a_stale_page_is_refused_with_what_changed(client_for, client, users):
    """Two staff open the same day's tallies; the second save must not put back the first's count."""
    from django.utils import timezone

    station = Station.objects.get(code="CQ-SXGC")
    day = timezone.localdate().isoformat()
    shown = station.revision
    first = client_for("sanxia_manager").post(
        "/manage/visits/stations/CQ-SXGC/", {"day": day, "elderly": "5", "revision": shown}
    )
    assert first.status_code == 302
    second = client_for("cq_admin").post(
        "/manage/visits/stations/CQ-SXGC/", {"day": day, "elderly": "9", "revision": shown}
    )
    body = second.content.decode()
    assert second.status_code in (200, 422) and "sanxia_manager" in body
    assert Tally.objects.get(station=station, day=day, group="elderly").count == 5
    stale = client.put(
        f"/api/v1/manage/stations/CQ-SXGC/tallies/{day}",
        json.dumps({"counts": {"elderly": 7}, "revision": shown}),
        content_type="application/json",
        **api(users, "cq_admin"),
    )
    assert stale.status_code == 409 and stale.json()["revision"] == shown + 1
    assert Tally.objects.get(station=station, day=day, group="elderly").count == 5
