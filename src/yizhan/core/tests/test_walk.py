"""A walk through the site as each demo user, on a 390-px phone, in Chinese.

Each page fails the walk on what pagecheck finds in the rendered page (an English word, a raw
code, a UTC timestamp, a future time where only past events are listed), on content wider than the
screen, and on a visible back-office link that answers 403 when followed with the user's own
session. With YIZHAN_SCREENSHOTS=docs/screenshots the walk also writes the README's pictures.
"""

import os
from pathlib import Path
from urllib.parse import urljoin, urlsplit

import pytest

from yizhan.core.tests.pagecheck import future_times, problems

pytestmark = pytest.mark.browser

PHONE = {"width": 390, "height": 844}

DEMO_USERNAMES = ("hq_admin", "cq_admin", "sanxia_manager", "sz_viewer", "sd_admin", "sm_manager")

SCREENSHOTS = {
    ("visitor", "home"): "public-home-phone.png",
    ("visitor", "map"): "map-offline-base-layer.png",
    ("visitor", "station"): "station-page.png",
    ("sanxia_manager", "home"): "manager-home.png",
    ("cq_admin", "feedback"): "feedback-queue.png",
}


@pytest.fixture
def demo(transactional_db):
    from yizhan.conftest import build_small_demo
    from yizhan.locator import loading
    from yizhan.orgs.models import Unit

    if not Unit.objects.filter(code="HQ").exists():
        build_small_demo()
    loading.forget()


class Walk:
    def __init__(self, page, who: str, base_url: str):
        self.page, self.who, self.base = page, who, base_url
        self.failures: list[str] = []
        self.followed: set[str] = set()

    def visit(self, key: str, path: str, *, past_only: bool = False, status: int = 200) -> None:
        page = self.page
        response = page.goto(path)  # waits for "load"; back-office pages fetch nothing after it
        if not path.startswith("/manage/"):
            page.wait_for_load_state("networkidle")  # the map fetches its stations after load
        where = f"{self.who} {key} {path}"
        if response is None or response.status != status:
            self.failures.append(f"{where}: answered {response and response.status}, not {status}")
        lang = page.locator("html").get_attribute("lang") or ""
        html = page.content()
        # Usernames are names, and "sxgc" is the search box's example of pinyin initials: codes, not words.
        found = problems(html, lang=lang, allow=DEMO_USERNAMES + ("sxgc",)) + (
            future_times(html, lang=lang) if past_only else []
        )
        self.failures.extend(f"{where}: {line}" for line in found if f"{where}: {line}" not in self.failures)
        width = page.evaluate("document.documentElement.scrollWidth")
        if width > PHONE["width"]:
            self.failures.append(f"{where}: content {width} px wide on a {PHONE['width']} px screen")
        if path.startswith("/manage/"):
            self._follow_links(where)
        self._screenshot(key)

    def _follow_links(self, where: str) -> None:
        hrefs = self.page.eval_on_selector_all(
            "a[href]",
            "els => els.filter(e => e.offsetParent !== null).map(e => e.getAttribute('href'))",
        )
        for href in hrefs:
            url = urljoin(self.page.url, href)
            parts = urlsplit(url)
            if parts.netloc != urlsplit(self.base).netloc or "logout" in parts.path:
                continue
            target = parts.path + (f"?{parts.query}" if parts.query else "")
            if target in self.followed or "page=" in parts.query:
                continue
            self.followed.add(target)
            answer = self.page.context.request.get(url, max_redirects=0)
            if answer.status == 403:
                self.failures.append(f"{where}: the visible link {target} answers 403")

    def _screenshot(self, key: str) -> None:
        folder = os.environ.get("YIZHAN_SCREENSHOTS")
        name = SCREENSHOTS.get((self.who, key))
        if folder and name:
            Path(folder).mkdir(parents=True, exist_ok=True)
            tables = self.page.locator("main table.grid")
            if key == "feedback" and tables.count():
                tables.first.evaluate(
                    "e => window.scrollTo(0, e.getBoundingClientRect().top + scrollY - 120)"
                )
            self.page.screenshot(path=str(Path(folder) / name))

    def check(self) -> None:
        assert not self.failures, "\n".join(self.failures)


def _context(chromium, live_server, username=None):
    context = chromium.new_context(locale="zh-CN", base_url=live_server.url, viewport=PHONE)
    if username:
        from django.contrib.auth import get_user_model
        from django.test import Client

        client = Client()
        client.force_login(get_user_model().objects.get(username=username))
        context.add_cookies(
            [{"name": "sessionid", "value": client.cookies["sessionid"].value, "url": live_server.url}]
        )
    return context


def test_a_visitor_on_a_phone(chromium, live_server, demo):
    context = _context(chromium, live_server)
    walk = Walk(context.new_page(), "visitor", live_server.url)
    walk.visit("home", "/")
    walk.visit("list", "/?city=CQ")
    walk.visit("list", "/?city=CQ&facility=drinking_water&when=now")
    walk.visit("map", "/map/")
    walk.visit("station", "/s/CQ-SXGC")
    walk.visit("checkin", "/c/CQ-SXGC")
    walk.visit("report", "/s/CQ-SXGC/report")
    walk.visit("not found", "/no-such-page/", status=404)
    walk.visit("not found", "/s/NO-SUCH-STATION", status=404)
    walk.check()
    context.close()


STAFF = ["sanxia_manager", "sz_viewer", "cq_admin", "hq_admin"]


@pytest.mark.parametrize("username", STAFF)
def test_the_back_office_as(chromium, live_server, demo, username):
    from yizhan.orgs.models import Membership
    from yizhan.stations.models import Station

    membership = Membership.objects.select_related("unit").get(user__username=username)
    unit = membership.unit
    station = Station.objects.filter(unit__path__startswith=unit.path).order_by("code").first()
    context = _context(chromium, live_server, username)
    walk = Walk(context.new_page(), username, live_server.url)
    walk.visit("home", "/manage/")
    nav = set(walk.page.eval_on_selector_all(".mainnav a", "els => els.map(e => e.getAttribute('href'))"))
    walk.visit("units", "/manage/units/")
    walk.visit("unit", f"/manage/units/{unit.code}/")
    if station is not None:
        walk.visit("station", f"/manage/stations/{station.code}/")
        walk.visit("tallies", f"/manage/visits/stations/{station.code}/", past_only=True)
    walk.visit("stations", "/manage/stations/")
    walk.visit("feedback", "/manage/feedback/")
    walk.visit("feedback", "/manage/feedback/?status=overdue")
    walk.visit("coverage", "/manage/stations/reports/")
    # Not past-only: an audit diff may name a deadline still to come.
    walk.visit("audit", "/manage/audit/")
    for href in sorted(nav):
        if href.startswith("/manage/remittance"):
            walk.visit("remittance", href)
    walk.visit("not found", "/manage/units/NO-SUCH-UNIT/", status=404)
    walk.check()
    context.close()
