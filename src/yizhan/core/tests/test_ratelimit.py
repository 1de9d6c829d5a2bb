"""The client's address behind proxies, the per-address limits, the login lock-out and its
ceilings, Retry-After, and exact counting under real concurrency (PostgreSQL, SQLite, Redis)."""

import json
import os
import subprocess
import sys
import threading
import time
import uuid
import zlib
from pathlib import Path

import pytest
from django.conf import settings
from django.db import connection, connections
from django.test import Client, RequestFactory, override_settings

from yizhan.core import ratelimit
from yizhan.core.demo import DEMO_PASSWORD

REDIS_URL = os.environ.get("YIZHAN_TEST_REDIS_URL", "redis://127.0.0.1:6379/3")
SRC = Path(__file__).resolve().parents[3]


def request(remote="192.0.2.1", forwarded=None):
    meta = {"REMOTE_ADDR": remote}
    if forwarded is not None:
        meta["HTTP_X_FORWARDED_FOR"] = forwarded
    return RequestFactory().get("/", **meta)


# --- the client's address ------------------------------------------------------------------------

PROXY = "10.0.0.2"
# Windows of a day where a test counts to a limit: a window turning over mid-test would restart it.
DAY = 86400


@pytest.mark.parametrize(
    ("proxies", "remote", "forwarded", "expected"),
    [
        # No proxy trusted: the socket address whatever the header says.
        (0, "203.0.113.5", None, "203.0.113.5"),
        (0, "203.0.113.5", "198.51.100.1", "203.0.113.5"),
        (0, "2001:db8::1", "198.51.100.1", "2001:db8::1"),
        # One proxy: the right-most entry (the one our proxy appended); the left is the client's say.
        (1, PROXY, "198.51.100.7", "198.51.100.7"),
        (1, PROXY, "1.1.1.1, 198.51.100.7", "198.51.100.7"),
        (1, PROXY, "1.1.1.1,2.2.2.2 ,  198.51.100.7", "198.51.100.7"),
        (1, PROXY, "2001:db8::9", "2001:db8::9"),
        (1, PROXY, "[2001:db8::9]:443", "2001:db8::9"),
        (1, PROXY, "198.51.100.7:51234", "198.51.100.7"),
        (1, PROXY, "::ffff:198.51.100.7", "198.51.100.7"),
        # Two proxies (a load balancer, then nginx): the second entry from the right.
        (2, PROXY, "1.1.1.1, 198.51.100.7, 10.0.0.1", "198.51.100.7"),
        (2, PROXY, "198.51.100.7, 10.0.0.1", "198.51.100.7"),
        # Too few entries, nothing usable, garbage: the proxy's own address (one shared count).
        (2, PROXY, "198.51.100.7", PROXY),
        (1, PROXY, None, PROXY),
        (1, PROXY, "", PROXY),
        (1, PROXY, "198.51.100.7, ", PROXY),
        (1, PROXY, "unknown", PROXY),
        (1, PROXY, "198.51.100.7, not-an-ip", PROXY),
        (1, PROXY, "999.1.1.1", PROXY),
        (1, PROXY, "x" * 5000, PROXY),
        (1, PROXY, "198.51.100.7\x00", PROXY),
        (1, "", None, "unknown"),
        (1, "not-an-ip", "garbage", "unknown"),
    ],
)
def test_client_address_matrix(proxies, remote, forwarded, expected):
    with override_settings(YIZHAN_TRUSTED_PROXIES=proxies):
        assert ratelimit.client_ip(request(remote, forwarded)) == expected


def test_ipv6_counts_per_64():
    with override_settings(YIZHAN_TRUSTED_PROXIES=1):
        one = ratelimit.address_key(request(PROXY, "2001:db8:1:2::1"))
        other = ratelimit.address_key(request(PROXY, "2001:db8:1:2:ffff::7"))
        elsewhere = ratelimit.address_key(request(PROXY, "2001:db8:1:3::1"))
    assert one == other == "2001:db8:1:2::/64" and elsewhere != one


def test_the_old_switch_means_one_proxy():
    env = {**os.environ, "YIZHAN_TRUST_X_FORWARDED_FOR": "1", "YIZHAN_TESTING": "1"}
    env.pop("YIZHAN_TRUSTED_PROXIES", None)
    code = "from yizhan import settings; print(settings.YIZHAN_TRUSTED_PROXIES)"
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "1"


# --- the limits behind a proxy -------------------------------------------------------------------


@override_settings(YIZHAN_TRUSTED_PROXIES=1, YIZHAN_VISITS_RATE_LIMITS={"checkin": (3, DAY)})
def test_visitors_behind_the_proxy_have_their_own_counts(db):
    client = Client(REMOTE_ADDR=PROXY)
    for visitor in ("198.51.100.1", "198.51.100.2", "198.51.100.3"):
        for _ in range(3):
            assert client.post("/c/CQ-SXGC", {}, HTTP_X_FORWARDED_FOR=visitor).status_code == 303
            client.cookies.clear()
    assert client.post("/c/CQ-SXGC", {}, HTTP_X_FORWARDED_FOR="198.51.100.1").status_code == 429


@override_settings(YIZHAN_TRUSTED_PROXIES=1, YIZHAN_VISITS_RATE_LIMITS={"checkin": (3, DAY)})
def test_a_spoofed_left_most_entry_does_not_escape_the_limit(db):
    client = Client(REMOTE_ADDR=PROXY)
    answers = []
    for i in range(6):
        spoof = f"203.0.113.{i}, 10.9.{i}.1"  # whatever the client wrote, our proxy appended the truth
        answers.append(
            client.post("/c/CQ-SXGC", {}, HTTP_X_FORWARDED_FOR=f"{spoof}, 198.51.100.9").status_code
        )
        client.cookies.clear()
    assert answers == [303, 303, 303, 429, 429, 429]
    api = client.post(
        "/api/v1/stations/CQ-SXGC/checkins",
        "{}",
        content_type="application/json",
        HTTP_X_FORWARDED_FOR="203.0.113.77, 198.51.100.9",
    )
    assert api.status_code == 429


# --- Retry-After -----------------------------------------------------------------------------------


def seconds_left(value: str, period: int, now: int) -> int:
    """django-ratelimit's window end for `value`, computed independently of the code under test."""
    end = now - now % period + zlib.crc32(value.encode()) % period
    return (end + period if end < now else end) + 1 - now  # the window holds through second `end`


@override_settings(YIZHAN_VISITS_RATE_LIMITS={"report": (1, DAY)})
def test_retry_after_is_the_time_left_in_the_window(db):
    client = Client(REMOTE_ADDR="198.51.100.20")
    assert client.post("/s/CQ-SXGC/report", {"kind": "praise", "text": "好"}).status_code == 303
    before = int(time.time())
    page = client.post("/s/CQ-SXGC/report", {"kind": "praise", "text": "好"})
    api = client.post("/api/v1/stations/CQ-SXGC/reports", {"kind": "praise", "text": "好"})
    after = int(time.time())
    expected = {seconds_left("198.51.100.20", DAY, t) for t in range(before, after + 1)}
    assert page.status_code == api.status_code == 429
    assert int(page["Retry-After"]) in expected and int(api["Retry-After"]) in expected
    assert api.json()["detail"]


@override_settings(YIZHAN_LOGIN_MAX_FAILURES=2, YIZHAN_LOGIN_WINDOW_SECONDS=2)
def test_a_lock_out_ends_when_retry_after_says(db):
    for i in range(5):  # on a busy machine a 2-second window may turn over between the failures
        client = Client(REMOTE_ADDR=f"198.51.100.{30 + i}")  # so each try starts afresh
        for _ in range(2):
            assert client.post("/manage/login/", {"username": "cq_admin", "password": "x"}).status_code == 200
        locked = client.post("/manage/login/", {"username": "cq_admin", "password": DEMO_PASSWORD})
        if locked.status_code == 429:
            break
    assert locked.status_code == 429 and 1 <= int(locked["Retry-After"]) <= 2
    assert "error" in locked.content.decode()  # the login page saying so, not a bare error
    time.sleep(int(locked["Retry-After"]) + 0.05)
    assert (
        client.post("/manage/login/", {"username": "cq_admin", "password": DEMO_PASSWORD}).status_code == 302
    )


# --- login lock-out ----------------------------------------------------------------------------------


def fail(username, address, times=1):
    client = Client(REMOTE_ADDR=address)
    for _ in range(times):
        assert client.post("/manage/login/", {"username": username, "password": "wrong"}).status_code == 200


def login(username, address):
    return Client(REMOTE_ADDR=address).post(
        "/manage/login/", {"username": username, "password": DEMO_PASSWORD}
    )


@override_settings(YIZHAN_LOGIN_MAX_FAILURES=3, YIZHAN_LOGIN_WINDOW_SECONDS=DAY)
def test_lock_out_is_per_username_and_address(db):
    branch = "198.51.100.40"  # one NAT address for a whole bank branch
    fail("cq_admin", branch, 3)
    assert login("cq_admin", branch).status_code == 429
    # A colleague behind the same address, and the same person from home, still log in.
    assert login("sz_viewer", branch).status_code == 302
    assert login("cq_admin", "198.51.100.41").status_code == 302


@override_settings(
    YIZHAN_LOGIN_MAX_FAILURES=3, YIZHAN_LOGIN_WINDOW_SECONDS=DAY, YIZHAN_LOGIN_MAX_FAILURES_PER_USER=6
)
def test_per_username_ceiling_stops_guessing_from_many_addresses(db):
    for i in range(6):
        fail("cq_admin", f"198.51.100.{50 + i}", 1)
    locked = login("cq_admin", "198.51.100.99")  # a fresh address: the account is locked everywhere
    assert locked.status_code == 429 and int(locked["Retry-After"]) > 0
    assert login("sz_viewer", "198.51.100.99").status_code == 302


@override_settings(
    YIZHAN_LOGIN_MAX_FAILURES=3, YIZHAN_LOGIN_WINDOW_SECONDS=DAY, YIZHAN_LOGIN_MAX_FAILURES_PER_ADDRESS=6
)
def test_per_address_ceiling_stops_spraying_from_one_address(db):
    for name in ("a", "b", "c", "d", "e", "f"):
        fail(name, "198.51.100.60", 1)
    assert login("sz_viewer", "198.51.100.60").status_code == 429
    assert login("sz_viewer", "198.51.100.61").status_code == 302


@override_settings(YIZHAN_TRUSTED_PROXIES=1, YIZHAN_LOGIN_MAX_FAILURES=3, YIZHAN_LOGIN_WINDOW_SECONDS=DAY)
def test_lock_out_behind_the_proxy_uses_the_real_address(db):
    client = Client(REMOTE_ADDR=PROXY)
    for i in range(3):
        forwarded = f"203.0.113.{i}, 198.51.100.70"  # spoofing the left changes nothing
        client.post(
            "/manage/login/", {"username": "cq_admin", "password": "x"}, HTTP_X_FORWARDED_FOR=forwarded
        )
    data = {"username": "cq_admin", "password": DEMO_PASSWORD}
    assert client.post("/manage/login/", data, HTTP_X_FORWARDED_FOR="198.51.100.70").status_code == 429
    assert client.post("/manage/login/", data, HTTP_X_FORWARDED_FOR="198.51.100.71").status_code == 302


# --- exact counting under concurrency ---------------------------------------------------------------


def race(threads=20, limit=10, group=None):
    """`threads` threads, each on its own connection, hit one key at one instant."""
    group = group or f"race:{uuid.uuid4().hex}"
    barrier = threading.Barrier(threads)
    allowed, errors = [], []

    def one():
        try:
            barrier.wait()
            usage = ratelimit.hit(request(), group, "198.51.100.80", limit, DAY)
            allowed.append(not usage.over)
        except Exception as exc:
            errors.append(repr(exc))
        finally:
            connections.close_all()

    workers = [threading.Thread(target=one) for _ in range(threads)]
    for w in workers:
        w.start()
    for w in workers:
        w.join()
    return allowed.count(True), errors


@pytest.mark.django_db(transaction=True)
def test_twenty_threads_against_a_limit_of_ten_on_postgresql():
    if connection.vendor != "postgresql":
        pytest.skip("the PostgreSQL run covers this; SQLite has its own test below")
    caches = {**settings.CACHES, "ratelimit": {"BACKEND": "yizhan.core.counters.CounterCache"}}
    with override_settings(CACHES=caches):
        assert [race() for _ in range(3)] == [(10, [])] * 3


RACE_ON_SQLITE = """
import json, django
django.setup()
from django.db import connection
from yizhan.core.models import RateCounter
with connection.schema_editor() as editor:
    editor.create_model(RateCounter)
connection.close()
from yizhan.core.tests.test_ratelimit import race
print(json.dumps([race() for _ in range(3)]))
"""


@pytest.mark.own_sqlite
def test_twenty_threads_against_a_limit_of_ten_on_sqlite(tmp_path):
    """On a SQLite file in WAL mode, as served (the test database is in memory, where writers
    from several threads fail at once instead of waiting their turn)."""
    env = {**os.environ, "YIZHAN_VAR_DIR": str(tmp_path), "YIZHAN_TESTING": "1"}
    env["DJANGO_SETTINGS_MODULE"] = "yizhan.settings"
    env["PYTHONPATH"] = str(SRC)
    for name in ("DATABASE_URL", "YIZHAN_REDIS_URL", "YIZHAN_CACHE_URL"):
        env.pop(name, None)
    out = subprocess.run(
        [sys.executable, "-c", RACE_ON_SQLITE], env=env, capture_output=True, text=True, timeout=120
    )
    assert out.returncode == 0, out.stderr[-2000:]
    assert json.loads(out.stdout.strip().splitlines()[-1]) == [[10, []]] * 3


def test_twenty_threads_against_a_limit_of_ten_on_redis():
    redis = pytest.importorskip("redis")
    try:
        redis.Redis.from_url(REDIS_URL, socket_connect_timeout=1).ping()
    except redis.exceptions.ConnectionError:
        if os.environ.get("CI"):
            raise
        pytest.skip(f"no Redis at {REDIS_URL}")
    caches = {
        **settings.CACHES,
        "ratelimit": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": REDIS_URL},
    }
    with override_settings(CACHES=caches):
        assert [race() for _ in range(3)] == [(10, [])] * 3


class _ClockCrossingTheWindowEnd:
    """django-ratelimit's clock: the window is picked in its last second, the time left read in the next."""

    def __init__(self, end: int):
        self.reads = iter([end + 0.9, end + 1.1])

    def time(self):
        return next(self.reads, time.time())


def test_a_hit_in_the_last_second_of_its_window_counts_and_is_not_refused(db, monkeypatch):
    import django_ratelimit.core

    value, period = "198.51.100.60", 600
    now = int(time.time())
    end = now + seconds_left(value, period, now) - 1  # this value's window holds through second `end`
    monkeypatch.setattr(django_ratelimit.core, "time", _ClockCrossingTheWindowEnd(end))
    usage = ratelimit.hit(request(), "test:last-second", value, 10, period)
    assert not usage.over and usage.count == 1 and usage.retry_after == 1


def test_a_counter_that_cannot_be_read_fails_closed(db, monkeypatch):
    from django.core.cache import caches

    cache = caches[settings.RATELIMIT_USE_CACHE]
    monkeypatch.setattr(cache, "add", lambda *a, **k: False)  # someone else's counter…
    monkeypatch.setattr(cache, "incr", lambda *a, **k: (_ for _ in ()).throw(ValueError("gone")))  # …vanished
    usage = ratelimit.hit(request(), "test:vanished", "198.51.100.61", 10, 600)
    assert usage.over and usage.retry_after == 600


def test_a_hit_is_one_statement_and_peeking_counts_nothing(db):
    """On the counters table a hit costs one write (on SQLite each write queues on the one lock)."""
    from django.test.utils import CaptureQueriesContext

    group, value = f"one:{uuid.uuid4().hex}", "198.51.100.90"
    caches = {**settings.CACHES, "ratelimit": {"BACKEND": "yizhan.core.counters.CounterCache"}}
    with override_settings(CACHES=caches, RATELIMIT_USE_CACHE="ratelimit"):
        counts = []
        for _ in range(4):
            with CaptureQueriesContext(connection) as queries:
                counts.append(ratelimit.hit(request(), group, value, 10, DAY).count)
            assert len([q for q in queries if not q["sql"].startswith("DELETE")]) == 1
        assert counts == [1, 2, 3, 4]
        assert ratelimit.peek(request(), group, value, 10, DAY).count == 4
        assert ratelimit.peek(request(), group, value, 10, DAY).count == 4
        assert ratelimit.hit(request(), group, value, 10, DAY).count == 5
