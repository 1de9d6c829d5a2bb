"""Shared fixtures: a small demo network built once per test database, and the named demo users.

Tests that use `db` run inside a transaction over that network and leave it as they found it.
"""

import pytest

from yizhan.core.demo import DemoContext, build

NAMED_USERS = ("hq_admin", "cq_admin", "sanxia_manager", "sz_viewer")
DEMO: dict = {}  # what the session's demo build reported (ctx.data), e.g. built_at


def build_small_demo(seed: int = 2023) -> DemoContext:
    ctx = DemoContext(seed=seed, small=True, log=lambda msg: None)
    build(ctx)
    return ctx


def pytest_runtest_setup(item):
    # Such a test ignores DATABASE_URL, so the PostgreSQL run would only repeat the SQLite run's.
    if item.get_closest_marker("own_sqlite"):
        from django.db import connection

        if connection.vendor != "sqlite":
            pytest.skip("builds its own SQLite database: covered by the SQLite run")


@pytest.fixture(scope="session")
def django_db_setup(django_db_setup, django_db_blocker):
    with django_db_blocker.unblock():
        DEMO.update(build_small_demo().data)


@pytest.fixture
def demo_built_at(db):
    """The moment the session's demo network finished building."""
    return DEMO["built_at"]


@pytest.fixture(autouse=True)
def _default_language():
    """Each test starts in the site's language. LocaleMiddleware activates a request's language
    for the thread and leaves it there, so an English request in one test would otherwise turn
    the next test's service messages English (it did, on an xdist worker)."""
    from django.conf import settings
    from django.utils import translation

    translation.activate(settings.LANGUAGE_CODE)
    yield
    translation.deactivate()


@pytest.fixture(autouse=True)
def _fresh_caches():
    from django.core.cache import caches

    caches["shared"].clear()
    caches["default"].clear()
    from yizhan.core.counters import CounterCache

    if not isinstance(caches["ratelimit"], CounterCache):  # that one is a table, rolled back per test
        caches["ratelimit"].clear()
    yield


@pytest.fixture
def users(db):
    from django.contrib.auth import get_user_model

    return {u.username: u for u in get_user_model().objects.filter(membership__isnull=False)}


@pytest.fixture
def client_for(db, users):
    """client_for("cq_admin") -> a test client logged in as that demo user."""
    from django.test import Client

    def make(username: str) -> Client:
        client = Client()
        client.force_login(users[username])
        return client

    return make


@pytest.fixture
def unit(db):
    from yizhan.orgs.models import Unit

    return lambda code: Unit.objects.get(code=code)


CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-dev-shm-usage",
]


@pytest.fixture(scope="session")
def chromium():
    """The system Chromium driven by Playwright; skipped where it is missing, unless CI requires it."""
    import os
    import shutil

    if not shutil.which(CHROMIUM):
        if os.environ.get("YIZHAN_REQUIRE_BROWSER") == "1":
            pytest.fail(f"{CHROMIUM} is missing (apt-get install chromium fonts-noto-cjk)")
        pytest.skip(f"{CHROMIUM} is not installed")
    # Playwright's sync API runs an event loop in this thread; the ORM calls the tests make
    # between page actions are still plain synchronous code.
    os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def page(chromium, live_server):
    """A fresh browser page (its own context: cookies, geolocation) against the live server."""
    context = chromium.new_context(locale="zh-CN", base_url=live_server.url)
    page = context.new_page()
    # Whatever a browser test does, nothing it loads may break the Content-Security-Policy.
    refused = []
    page.on("console", lambda m: refused.append(m.text) if "Content Security Policy" in m.text else None)
    yield page
    context.close()
    assert refused == [], "the page broke the Content-Security-Policy"


def wait_until(page, expression: str, timeout: float = 15.0) -> None:
    """Poll a JavaScript expression from here until it is true. Playwright's wait_for_function
    evaluates a string inside the page, which the Content-Security-Policy refuses."""
    for _ in range(int(timeout * 10)):
        if page.evaluate(expression):
            return
        page.wait_for_timeout(100)
    raise AssertionError(f"still false after {timeout} s: {expression}")
