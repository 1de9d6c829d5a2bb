"""The list page kept per process (pagecache): a kept page answers like a rendered one — the
busy levels of now, the demand counted, nothing of the visitor's own — and is dropped when the data, the
language or the clock could change what it says."""

import datetime

from django.test import Client, override_settings
from django.utils import timezone

from yizhan.locator import pagecache, services
from yizhan.planning.models import DemandPoint, DemandSource
from yizhan.stations import services as station_services
from yizhan.visits.services import record_checkin

LIST = {"lat": "29.5566", "lng": "106.4569"}


def _first_row(html: str) -> str:
    return html.split('class="station"')[1]


def test_a_kept_page_is_the_rendered_page_and_nobody_s_own(client, db):
    first = client.get("/", LIST)
    assert len(pagecache._entries) == 1
    second = client.get("/", LIST)
    assert second.status_code == 200 and second["Content-Type"].startswith("text/html")
    # No token, no cookie: every visitor gets the same bytes (its forms are public_forms).
    assert first.content == second.content and pagecache.SLOT not in second.content.decode()
    assert "csrfmiddlewaretoken" not in second.content.decode() and not second.cookies
    assert "Cookie" in second["Vary"]  # the language and large-text cookies change it
    # Its forms take a post from the page itself without a token, with Django's check on.
    strict = Client(enforce_csrf_checks=True)
    assert strict.post("/share/", LIST, HTTP_SEC_FETCH_SITE="same-origin").status_code == 303


def test_busy_levels_and_demand_are_of_each_request(client, db, sxgc):
    DemandPoint.objects.filter(source=DemandSource.SEARCH).delete()
    assert "busy-quiet" in _first_row(client.get("/", LIST).content.decode())
    for _ in range(4):
        record_checkin(sxgc)
    html = client.get("/", LIST).content.decode()
    assert len(pagecache._entries) == 1  # the same kept page, with the levels of now
    assert "busy-crowded" in _first_row(html) and "拥挤" in _first_row(html)
    assert DemandPoint.objects.get(source=DemandSource.SEARCH).weight == 2


def test_a_station_write_language_or_large_text_is_another_page(client, db, station, actor):
    client.get("/", LIST)
    station_services.update_station(station("CQ-SXGC"), actor=actor, name="三峡广场新驿站")
    assert "三峡广场新驿站" in client.get("/", LIST).content.decode()
    client.cookies["django_language"] = "en"
    english = client.get("/", LIST).content.decode()
    assert 'lang="en"' in english and "Stations near" in english
    client.cookies["yz_large"] = "1"
    assert "large-text" in client.get("/", LIST).content.decode()[:400]
    assert len(pagecache._entries) == 4


def test_only_certain_places_are_kept(client, db):
    client.get("/", {"q": "解放碑"})  # one exact landmark: kept
    assert len(pagecache._entries) == 1
    client.get("/", {"q": "zzzzqqq"})  # nothing found: rendered each time
    client.get("/", {"lat": "91", "lng": "0"})  # an error
    assert len(pagecache._entries) == 1


def test_a_kept_page_lasts_until_a_badge_could_change(db, station):
    idx = services.index()
    at = timezone.localtime().replace(hour=10, minute=0, second=0, microsecond=0)
    query = services.clean_nearby({**LIST, "limit": "20"}, catalogue=idx.catalogue)
    query = query.__class__(**{**query.__dict__, "at": at, "at_given": False})
    results = services.nearby(query, idx)
    until = pagecache.valid_until(idx, results, query)
    changes = [r.next_change.timestamp() for r in results if r.next_change is not None]
    midnight = (at + datetime.timedelta(days=1)).replace(hour=0).timestamp()
    assert until <= min(changes + [midnight])
    # With "open now" the list itself moves with the minute.
    now = query.__class__(**{**query.__dict__, "open_now": True})
    assert pagecache.valid_until(idx, results, now) <= (timezone.now().timestamp() // 60 + 1) * 60
    # "Open at" a given moment: nothing moves with the clock (but the labels' own five minutes).
    fixed = query.__class__(**{**query.__dict__, "open_now": True, "at_given": True})
    assert pagecache.valid_until(idx, results, fixed) <= timezone.now().timestamp() + pagecache.MAX_AGE_S


def test_an_expired_page_is_rendered_again(client, db):
    client.get("/", LIST)
    (entry,) = pagecache._entries.values()
    entry.until = 0
    client.get("/", LIST)
    (fresh,) = pagecache._entries.values()
    assert fresh is not entry and fresh.until > timezone.now().timestamp()


def test_a_listed_van_bounds_the_page_by_its_visit_not_by_a_fixed_row(db):
    """A van's row lies past the fixed stations' arrays (index.n + visit): its words change at its
    visit's start or end, the result's next_change; there is no weekly schedule to read for it."""
    import types

    idx = services.index()
    at = timezone.localtime().replace(hour=10, minute=0, second=0, microsecond=0)
    query = services.clean_nearby({**LIST, "limit": "20"}, catalogue=idx.catalogue)
    query = query.__class__(**{**query.__dict__, "at": at, "at_given": False})
    ends = at + datetime.timedelta(hours=2)
    van = types.SimpleNamespace(row=idx.n + 3, next_change=ends)
    assert idx.is_mobile(van.row)
    assert pagecache.valid_until(idx, [van], query) <= ends.timestamp()


@override_settings(YIZHAN_LOCATOR_REFRESH_MS=60_000)
def test_a_kept_pages_busy_words_last_a_snapshot_and_a_full_mark_ends_it(client, db, sxgc, users):
    from yizhan.locator import busy

    assert "busy-quiet" in _first_row(client.get("/", LIST).content.decode())
    for _ in range(4):
        record_checkin(sxgc)
    # Within the snapshot's 30 seconds the kept page says what it said.
    assert "busy-quiet" in _first_row(client.get("/", LIST).content.decode())
    busy.mark_full(sxgc, actor=users["sanxia_manager"])  # this process: the snapshot is dropped
    row = _first_row(client.get("/", LIST).content.decode())
    assert "busy-crowded" in row and "满员（工作人员标记" in row
    assert len(pagecache._entries) == 1
