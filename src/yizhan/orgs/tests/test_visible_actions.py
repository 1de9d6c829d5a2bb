"""Pages show only the actions the user's role may take (issue 11): a link that answers 403 when
followed is not shown. The browser walk (core/tests/test_walk.py) follows every visible link."""

import re

import pytest


def hrefs(html: str) -> set[str]:
    return set(re.findall(r'href="([^"]+)"', html))


def test_the_manager_sees_tallies_poster_and_public_page_on_the_station_page(client_for, db):
    html = client_for("sanxia_manager").get("/manage/stations/CQ-SXGC/").content.decode()
    links = hrefs(html)
    assert {"/s/CQ-SXGC", "/manage/visits/stations/CQ-SXGC/", "/manage/visits/posters/CQ-SXGC.svg"} <= links
    assert "/manage/stations/CQ-SXGC/edit/" in links, "a manager may edit the station"


def test_a_viewer_sees_no_change_actions(client_for, db):
    from yizhan.stations.models import Station

    code = Station.objects.filter(unit__path__startswith=_unit("SZ").path).order_by("code").first().code
    html = client_for("sz_viewer").get(f"/manage/stations/{code}/").content.decode()
    assert f"/manage/stations/{code}/edit/" not in html and "/s/" + code in html
    unit_html = client_for("sz_viewer").get("/manage/units/SZ/").content.decode()
    assert "/manage/units/SZ/edit/" not in unit_html and "/manage/units/SZ/move/" not in unit_html


def _unit(code):
    from yizhan.orgs.models import Unit

    return Unit.objects.get(code=code)


@pytest.mark.parametrize(
    "username, code",
    [("sanxia_manager", "CQ-SXGC"), ("cq_admin", "CQ"), ("cq_admin", "CQ-SXGC"), ("sz_viewer", "SZ")],
)
def test_every_action_shown_on_a_unit_page_is_allowed(client_for, db, username, code):
    client = client_for(username)
    html = client.get(f"/manage/units/{code}/").content.decode()
    for href in hrefs(html):
        if href.startswith("/manage/units/") and href.rstrip("/").split("/")[-1] in ("edit", "new", "move"):
            assert client.get(href).status_code != 403, href
    if username == "sanxia_manager":
        assert "/move/" not in html, "a manager may not move a unit"


def test_the_overdue_link_on_home_opens_the_overdue_items(client_for, db):
    import datetime

    from django.utils import timezone

    from yizhan.visits.models import Feedback

    item = Feedback.objects.filter(station__unit__path__startswith=_unit("CQ").path).first()
    assert item is not None
    Feedback.objects.filter(pk=item.pk).update(
        status="new", due_on=timezone.localdate() - datetime.timedelta(days=3)
    )
    client = client_for("cq_admin")
    html = client.get("/manage/").content.decode()
    assert "/manage/feedback/?status=overdue" in html
    queue = client.get("/manage/feedback/?status=overdue").content.decode()
    assert f'href="/manage/feedback/{item.pk}/"' in queue
    assert '<td class="nowrap">' in queue


def test_the_unit_tree_says_what_its_count_is(client_for, db):
    html = client_for("hq_admin").get("/manage/units/").content.decode()
    assert re.search(r"直属下级 \d+ 个", html)


def test_the_coverage_report_names_its_bases(client_for, db):
    html = client_for("hq_admin").get("/manage/stations/reports/").content.decode()
    assert "达标驿站数 / 适用驿站数" in html
