"""Key back-office pages, as each demo user sees them, pass the page check (pagecheck.py): no raw
code, Python literal, UTC timestamp or (in Chinese) English word outside names and codes."""

import pytest

from yizhan.core.tests.pagecheck import problems, visible_texts
from yizhan.orgs.models import Unit
from yizhan.orgs.scoping import scope_for, scoped
from yizhan.remittance.models import Instruction
from yizhan.stations.models import Station
from yizhan.visits.models import Feedback

DEMO_USERS = ("hq_admin", "cq_admin", "sanxia_manager", "sz_viewer", "sd_admin", "sm_manager")


def test_the_check_names_what_the_issue_found():
    html = """<table><tr><td>2026-12-01 16:33:59</td><td>system <span>(web)</span></td>
    <td><code>feedback.received</code></td><td>verified_at: ∅ → 2026-12-01T07:45:00+00:00</td>
    <td>photo: False</td><td>您的角色: admin</td><td>water, charging, rest</td></tr></table>"""
    found = "\n".join(problems(html))
    for expected in (
        "raw code: 'feedback.received'",
        "raw code: 'verified_at'",
        "UTC timestamp",
        "Python literal: 'False'",
        "English word: 'web'",
        "English word: 'admin'",
        "English word: 'water'",
    ):
        assert expected in found


def test_the_check_leaves_names_codes_and_hidden_text_alone():
    html = """<p>三峡广场支行驿站 CQ-SXGC · Wi-Fi无线上网 · r***@example.com · <a href="/manage/">首页</a></p>
    <p translate="no">sanxia_manager Sanxia Square</p><button lang="en">English</button>
    <script>var x = "feedback.received";</script><div hidden>debug text</div>"""
    assert problems(html) == []
    assert "三峡广场支行驿站 CQ-SXGC · Wi-Fi无线上网 · r***@example.com ·" in visible_texts(html)


def test_english_pages_are_checked_for_codes_but_not_for_english():
    assert problems("<p>Status: pending_approval</p>", lang="en") == [
        "raw code: 'pending_approval' (in: 'Status: pending_approval')"
    ]
    assert problems("<p>Visits by group</p>", lang="en") == []


def pages_for(username: str, user) -> list[str]:
    scope = scope_for(user)
    unit = Unit.objects.get(pk=scope.unit_id)
    station = scoped(user, Station).order_by("code").first()
    item = scoped(user, Feedback).order_by("pk").first()
    paths = ["/manage/", "/manage/audit/", "/manage/visits/", f"/manage/units/{unit.code}/"]
    if station is not None:
        paths += [f"/manage/stations/{station.code}/", f"/manage/visits/stations/{station.code}/"]
    if item is not None:
        paths.append(f"/manage/feedback/{item.pk}/")
    # An instruction someone has worked on: its history lists claims, calls and decisions.
    worked = scoped(user, Instruction).exclude(state="open").order_by("pk").first()
    if worked is not None:
        paths.append(f"/manage/remittance/i/{worked.pk}/")
    return paths


@pytest.mark.django_db
@pytest.mark.parametrize("username", DEMO_USERS)
@pytest.mark.parametrize("lang", ["zh-hans", "en"])
def test_key_pages_read_in_the_readers_language(username, lang, users, client_for):
    client = client_for(username)
    client.cookies["django_language"] = lang
    found = {}
    for path in pages_for(username, users[username]):
        response = client.get(path)
        assert response.status_code == 200, path
        trouble = problems(response.content.decode(), lang=lang, allow=set(users))
        if trouble:
            found[path] = trouble
    assert found == {}
