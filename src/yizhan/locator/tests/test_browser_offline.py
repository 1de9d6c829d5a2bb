"""Offline: after one visit with signal, the near-me list and the station pages open with the
network cut, marked "离线 · 更新于 HH:MM"; a check-in, a problem report and "no station here" made
offline are kept and sent once when the network is back, however often the worker then tries."""

import re

import pytest

from yizhan.conftest import wait_until
from yizhan.locator.tests.test_browser import demo  # noqa: F401  (fixture)

pytestmark = pytest.mark.browser

LIST = "/?lat=29.5566&lng=106.4569"
KEPT = "caches.open('yizhan-pages-v1').then(c => c.match('%s')).then(r => !!r)"


def _checkins():
    from yizhan.visits.models import CheckIn

    return CheckIn.objects.filter(station__code="CQ-SXGC").count()


def _poll(page, condition, timeout=15.0):
    for _ in range(int(timeout * 10)):
        if condition():
            return
        page.wait_for_timeout(100)
    raise AssertionError("condition still false")


@pytest.fixture
def context(chromium, live_server):
    context = chromium.new_context(locale="zh-CN", base_url=live_server.url)
    yield context
    context.close()


def test_offline_list_station_page_and_a_queued_checkin_sent_once(context, live_server, demo):  # noqa: F811
    page = context.new_page()
    page.goto(LIST)
    wait_until(page, "navigator.serviceWorker.controller !== null")
    page.goto(LIST)  # now through the service worker, which keeps it
    page.goto("/s/CQ-SXGC")
    page.goto("/c/CQ-SXGC")
    for url in (LIST, "/s/CQ-SXGC", "/c/CQ-SXGC", "/c/CQ-SXGC/thanks?queued=1"):
        wait_until(page, KEPT % url)

    context.set_offline(True)
    page.goto(LIST)
    note = page.locator(".offline-note")
    assert note.is_visible()
    assert re.fullmatch(r"离线 · 更新于 \d\d:\d\d", " ".join(note.inner_text().split()))
    assert page.locator(".stations .name").first.inner_text() == "三峡广场支行驿站"
    page.goto("/?lat=29.60&lng=106.55")  # never fetched: the last list kept
    assert page.locator(".offline-note").is_visible() and page.locator(".stations .name").count()
    page.goto("/s/CQ-SXGC")
    assert page.locator(".offline-note").is_visible() and "三峡广场" in page.locator("h1").inner_text()

    before = _checkins()
    page.goto("/c/CQ-SXGC")
    page.locator("button[name=go]").click()
    page.wait_for_load_state()
    assert "联网后" in page.content() or "网络恢复" in page.content()
    assert _checkins() == before

    context.set_offline(False)
    page.goto("/s/CQ-SXGC")
    assert not page.locator(".offline-note").is_visible()
    _poll(page, lambda: _checkins() == before + 1)
    for _ in range(2):  # sent again (a lost answer, another page): never counted twice
        page.evaluate("navigator.serviceWorker.controller.postMessage('flush')")
        page.reload()
    page.wait_for_timeout(500)
    assert _checkins() == before + 1
    assert _queued(page, "checkins") == 0


def _queued(page, store: str) -> int:
    return page.evaluate(
        "store => new Promise(ok => { const r = indexedDB.open('yizhan-offline'); r.onsuccess = () => {"
        " const q = r.result.transaction(store).objectStore(store).count(); q.onsuccess = () => ok(q.result); }; })",
        store,
    )


def _reports():
    from yizhan.visits.models import Feedback

    return Feedback.objects.filter(station__code="CQ-SXGC", kind="facility_broken").count()


def _no_station():
    from yizhan.planning.models import DemandPoint, DemandSource

    return sum(DemandPoint.objects.filter(source=DemandSource.REPORT).values_list("weight", flat=True))


def test_a_report_and_no_station_here_made_offline_are_sent_once(context, live_server, demo):  # noqa: F811
    page = context.new_page()
    page.goto(LIST)
    wait_until(page, "navigator.serviceWorker.controller !== null")
    page.goto(LIST)
    page.goto("/s/CQ-SXGC/report")
    for url in (LIST, "/s/CQ-SXGC/report", "/s/CQ-SXGC/report/thanks?queued=1", "/no-station/queued"):
        wait_until(page, KEPT % url)

    context.set_offline(True)
    reports, points = _reports(), _no_station()
    page.goto("/s/CQ-SXGC/report")
    assert page.locator(".offline-note").is_visible()
    page.locator("input[name=kind][value=facility_broken]").check()
    page.locator("textarea[name=text]").fill("饮水机坏了")
    page.locator("form[enctype] button[type=submit]").click()
    page.wait_for_load_state()
    assert "联网后会自动发送" in page.content()
    page.goto(LIST)
    page.locator("form.no-station button").click()
    page.wait_for_load_state()
    assert "联网后会自动发送" in page.content()
    assert (_reports(), _no_station()) == (reports, points)
    assert (_queued(page, "reports"), _queued(page, "no_station")) == (1, 1)

    context.set_offline(False)
    page.goto("/s/CQ-SXGC")
    _poll(page, lambda: (_reports(), _no_station()) == (reports + 1, points + 1))
    for _ in range(2):  # sent again: never counted twice
        page.evaluate("navigator.serviceWorker.controller.postMessage('flush')")
        page.reload()
    page.wait_for_timeout(500)
    assert (_reports(), _no_station()) == (reports + 1, points + 1)
    assert (_queued(page, "reports"), _queued(page, "no_station")) == (0, 0)
    from yizhan.visits.models import Feedback

    sent = Feedback.objects.filter(station__code="CQ-SXGC", kind="facility_broken").latest("pk")
    assert sent.text == "饮水机坏了" and sent.ref.startswith("offline-")


@pytest.mark.parametrize(
    "agent",
    [
        "Mozilla/5.0 (Linux; Android 13; V2049A) AppleWebKit/537.36 (KHTML, like Gecko) Version/4.0 "
        "Chrome/107.0.5304.141 Mobile Safari/537.36 XWEB/5023 MMWEBSDK/20230303 MicroMessenger/8.0.34.2340(0x28002237) "
        "WeChat/arm64 Weixin NetType/4G Language/zh_CN ABI/arm64",
        "Mozilla/5.0 (Linux; Android 12; M2102J2SC) AppleWebKit/537.36 (KHTML, like Gecko) Version/4.0 "
        "Chrome/89.0.4389.72 MQQBrowser/6.2 Mobile Safari/537.36 AlipayChannelId/5136 AliApp(AP/10.3.30.8000) "
        "AlipayClient/10.3.30.8000 Language/zh-Hans",
    ],
)
def test_in_app_browsers_work_with_or_without_a_service_worker(chromium, live_server, demo, agent):  # noqa: F811
    for workers in ("allow", "block"):  # "block": an in-app browser without service workers
        context = chromium.new_context(
            locale="zh-CN", base_url=live_server.url, user_agent=agent, service_workers=workers
        )
        try:
            page = context.new_page()
            errors = []
            page.on("pageerror", lambda e: errors.append(str(e)))
            page.goto(LIST)
            assert page.locator(".stations .name").first.inner_text() == "三峡广场支行驿站"
            page.goto("/c/CQ-SXGC")
            page.locator("button[name=go]").click()
            page.wait_for_load_state()
            assert "谢谢" in page.content()
            assert errors == []
        finally:
            context.close()
