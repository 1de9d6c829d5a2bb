"""The gap map on the planning page: the uncovered demand's areas (more than the table lists) and
the chosen outlets, for the radius asked; drawn by the vendored Leaflet in a real browser."""

import json
import re

import pytest

from yizhan.locator.tests.test_browser import demo  # noqa: F401  (fixture)
from yizhan.planning import services
from yizhan.planning.tests.test_planning import new_outlets  # noqa: F401  (fixture)


def _config(html: str) -> dict:
    return json.loads(
        re.search(r'<script id="gap-map-config" type="application/json">(.*?)</script>', html).group(1)
    )


def test_the_map_shows_the_gaps_of_the_radius_and_the_plan(client_for, unit, new_outlets):  # noqa: F811
    client = client_for("cq_admin")
    html = client.get("/manage/planning/", {"radius": "1000", "k": "2"}).content.decode()
    assert 'id="gap-map"' in html and "vendor/leaflet/leaflet.js" in html and "planning/gaps.js" in html
    config = _config(html)
    gaps = services.gaps(unit("CQ"), 1000, limit=500)
    assert [c[2] for c in config["cells"]] == [c["weight"] for c in gaps.cells] and config["cells"]
    assert config["radius"] == 1000 and len(config["outlets"]) == 2
    assert all(isinstance(o[2], str) and o[3] >= 0 for o in config["outlets"])
    # 500 m: demand within 1 km but beyond 500 m of a station is a gap too.
    near = _config(client.get("/manage/planning/", {"radius": "500"}).content.decode())
    assert sum(c[2] for c in near["cells"]) >= sum(c[2] for c in config["cells"])
    assert near["radius"] == 500 and near["outlets"] == []


@pytest.mark.browser
def test_the_map_draws_each_gap(chromium, live_server, demo):  # noqa: F811
    import random

    from django.contrib.auth import get_user_model
    from django.test import Client

    from yizhan.conftest import wait_until
    from yizhan.orgs.models import Unit
    from yizhan.planning.demo import add_outlets_with_demand

    add_outlets_with_demand(random.Random(18))
    staff = Client()
    staff.force_login(get_user_model().objects.get(username="cq_admin"))
    context = chromium.new_context(locale="zh-CN", base_url=live_server.url)
    try:
        context.add_cookies(
            [{"name": "sessionid", "value": staff.cookies["sessionid"].value, "url": live_server.url}]
        )
        page = context.new_page()
        errors = []
        page.on("pageerror", lambda e: errors.append(str(e)))
        page.goto("/manage/planning/?radius=1000&k=2")
        cells = len(services.gaps(Unit.objects.get(code="CQ"), 1000, limit=500).cells)
        assert cells
        wait_until(page, f"document.querySelectorAll('#gap-map path.leaflet-interactive').length === {cells}")
        assert page.locator("#gap-map .leaflet-marker-icon").count() == 2
        page.locator("#gap-map path.leaflet-interactive").first.click(force=True)
        assert "需求" in page.locator(".leaflet-popup-content").inner_text()
        assert errors == []
    finally:
        context.close()
