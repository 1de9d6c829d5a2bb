"""Every kind of page works under the Content-Security-Policy: the locator and its Leaflet map,
htmx pages, the ECharts statistics (tooltips included), the API's Swagger page. A blocked script,
style or image shows as a `securitypolicyviolation` event or a console message; none may appear."""

import pytest

pytestmark = pytest.mark.browser

RECORD_VIOLATIONS = """
window.__csp = [];
document.addEventListener("securitypolicyviolation", function (e) {
  window.__csp.push(e.violatedDirective + " " + (e.blockedURI || "inline") + " " + (e.sourceFile || ""));
});
"""


@pytest.fixture
def demo(transactional_db):
    from yizhan.conftest import build_small_demo
    from yizhan.locator import loading
    from yizhan.orgs.models import Unit

    if not Unit.objects.filter(code="HQ").exists():
        build_small_demo()
    loading.forget()


@pytest.fixture
def watched(page):
    console = []
    page.add_init_script(RECORD_VIOLATIONS)
    page.on(
        "console",
        lambda m: console.append(m.text) if "Content Security Policy" in m.text else None,
    )
    page.on("pageerror", lambda error: console.append(f"pageerror: {error}"))

    def violations() -> list[str]:
        return console + page.evaluate("window.__csp || []")

    return violations


def visit(page, violations, path: str, ready: str | None = None) -> None:
    response = page.goto(path)
    assert response.status < 400, path
    assert "default-src 'self'" in response.headers["content-security-policy"], path
    if ready:  # a selector: wait_for_function would evaluate a string, which the policy refuses
        page.wait_for_selector(ready)
    page.wait_for_load_state("networkidle")
    assert violations() == [], path


def test_public_pages_run_under_the_policy(page, demo, watched):
    visit(page, watched, "/?lat=29.5566&lng=106.4569")
    page.locator(".filters-box > summary").click()
    page.locator("details.more > summary").click()
    page.locator("input[name=facility]").first.check()  # an htmx swap
    page.wait_for_url("**facility=*")
    page.wait_for_load_state("networkidle")
    assert watched() == []
    visit(
        page,
        watched,
        "/map/?lat=29.5566&lng=106.4569",
        "#map[data-markers]:not([data-markers='0'])",
    )
    page.locator(".leaflet-marker-icon").first.click()  # a cluster zooms, a marker opens its popup
    page.wait_for_timeout(300)
    assert watched() == []
    for path in ("/s/CQ-SXGC", "/c/CQ-SXGC", "/s/CQ-SXGC/report"):
        visit(page, watched, path)


def test_staff_pages_and_the_api_docs_run_under_the_policy(page, demo, watched):
    visit(page, watched, "/manage/login/")
    page.fill("#id_username", "hq_admin")
    page.fill("#id_password", "yizhan-demo-2026")
    page.locator("button[type=submit].primary").click()
    page.wait_for_url("**/manage/")
    assert watched() == []
    visit(page, watched, "/manage/visits/", "#chart-series svg")
    box = page.locator("#chart-series").bounding_box()
    page.mouse.move(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)  # the tooltip
    page.wait_for_timeout(300)
    assert watched() == []
    visit(page, watched, "/manage/units/")
    page.locator("details[hx-get] > summary > .muted").first.click()  # htmx loads the children
    page.wait_for_selector("details[open] .kids .tree")
    assert watched() == []
    visit(page, watched, "/manage/stations/")
    visit(page, watched, "/manage/feedback/")
    visit(page, watched, "/api/v1/docs", ".opblock")
    page.locator(".opblock-summary").first.click()
    page.wait_for_timeout(300)
    assert watched() == []
