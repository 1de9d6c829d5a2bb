"""The permission matrix: the named demo users against in-scope and out-of-scope instructions
and batches, on the pages and the API (404 outside the subtree, 403 when the role is short)."""

import datetime

import pytest
from django.utils import timezone

from yizhan.orgs.services import create_api_token
from yizhan.remittance import services
from yizhan.remittance.models import Instruction, Rule

USERS = ["hq_admin", "cq_admin", "sanxia_manager", "sz_viewer", "sd_admin", "sm_manager"]
ROLE = {
    "hq_admin": "admin",
    "cq_admin": "admin",
    "sanxia_manager": "manager",
    "sz_viewer": "viewer",
    "sd_admin": "admin",
    "sm_manager": "manager",
}
# Which of the fixture's instructions each user's subtree holds.
IN_SCOPE = {
    "hq_admin": {"G-001", "G-005", "G-007", "G-008", "G-009"},
    "cq_admin": {"G-005", "G-007"},
    "sanxia_manager": {"G-005"},
    "sz_viewer": {"G-008"},
    "sd_admin": {"G-009"},
    "sm_manager": {"G-001"},
}
PROBES = ["G-001", "G-005", "G-007", "G-008", "G-009"]


def can_change(username):
    return ROLE[username] in ("manager", "admin")


@pytest.mark.parametrize("username", USERS)
def test_instruction_pages(client_for, green, username):
    _batch, by_id = green
    client = client_for(username)
    for iid in PROBES:
        pk = by_id[iid].pk
        inside = iid in IN_SCOPE[username]
        assert client.get(f"/manage/remittance/i/{pk}/").status_code == (200 if inside else 404), iid
        claim = client.post(f"/manage/remittance/i/{pk}/claim/")
        if not inside:
            assert claim.status_code == 404, iid
        elif can_change(username):
            assert claim.status_code == 302, iid
            assert Instruction.objects.get(pk=pk).claimed_by.username == username
        else:
            assert claim.status_code == 403, iid
            assert Instruction.objects.get(pk=pk).claimed_by is None


@pytest.mark.parametrize("username", USERS)
def test_write_actions_outside_the_subtree_are_404_and_change_nothing(client_for, green, username):
    _batch, by_id = green
    client = client_for(username)
    outside = [iid for iid in PROBES if iid not in IN_SCOPE[username]]
    for iid in outside:
        pk = by_id[iid].pk
        for action, data in [
            ("callback", {"outcome": "confirmed"}),
            ("decide", {"decision": "leave_scheduled"}),
            ("approve", {}),
            ("reject", {}),
            ("reopen", {"note": "x"}),
            ("release", {}),
        ]:
            assert client.post(f"/manage/remittance/i/{pk}/{action}/", data).status_code == 404, (iid, action)
        assert Instruction.objects.get(pk=pk).state == "open"


@pytest.mark.parametrize("username", USERS)
def test_batch_pages_of_a_head_office_batch(client_for, green, username):
    batch, _ = green
    client = client_for(username)
    for path in ("", "worklist/", "duplicates/", "worklist/?state=any&show=all"):
        assert client.get(f"/manage/remittance/{batch.pk}/{path}").status_code == 200, path
    # Only the owner's subtree (head office) imports, re-screens and changes settings.
    owner_change = username == "hq_admin"
    assert client.get(f"/manage/remittance/{batch.pk}/import/").status_code == (200 if owner_change else 403)
    assert client.get(f"/manage/remittance/{batch.pk}/edit/").status_code == (200 if owner_change else 403)
    assert client.post(f"/manage/remittance/{batch.pk}/rescreen/").status_code == (
        302 if owner_change else 403
    )
    assert client.post(f"/manage/remittance/{batch.pk}/export/").status_code == (
        200 if can_change(username) else 403
    )


@pytest.fixture
def cq_batch(db, users, unit):
    return services.create_batch(
        actor=users["cq_admin"],
        unit=unit("CQ"),
        name="重庆批次",
        deadline=timezone.now() + datetime.timedelta(days=1),
    )


CQ_BATCH_EXPECT = {  # (overview, import page)
    "hq_admin": (200, 200),
    "cq_admin": (200, 200),
    "sanxia_manager": (200, 403),  # sees it (a batch above), may not import into it
    "sz_viewer": (404, 404),
    "sd_admin": (404, 404),
    "sm_manager": (404, 404),
}


@pytest.mark.parametrize("username", USERS)
def test_batch_of_a_province_is_seen_from_above_and_below_only(client_for, cq_batch, username):
    client = client_for(username)
    overview, import_page = CQ_BATCH_EXPECT[username]
    assert client.get(f"/manage/remittance/{cq_batch.pk}/").status_code == overview
    assert client.get(f"/manage/remittance/{cq_batch.pk}/import/").status_code == import_page
    listed = f"/manage/remittance/{cq_batch.pk}/" in client.get("/manage/remittance/").content.decode()
    assert listed == (overview == 200)


@pytest.mark.parametrize("username", USERS)
def test_create_batch_needs_admin(client_for, username):
    expected = 200 if ROLE[username] == "admin" else 403
    assert client_for(username).get("/manage/remittance/new/").status_code == expected


@pytest.mark.parametrize("username", USERS)
def test_rules_are_read_by_all_and_maintained_by_head_office_admins_only(client_for, db, username):
    client = client_for(username)
    body = client.get("/manage/remittance/rules/")
    assert body.status_code == 200 and "红十字会" in body.content.decode()
    rule = Rule.objects.get(field="payee_name", term="医院")
    hq = username == "hq_admin"
    assert client.get("/manage/remittance/rules/new/").status_code == (200 if hq else 403)
    assert client.get(f"/manage/remittance/rules/{rule.pk}/").status_code == (200 if hq else 403)
    response = client.post(
        f"/manage/remittance/rules/{rule.pk}/",
        {"field": "payee_name", "term": "医院", "priority": 99, "revision": rule.revision},
    )
    assert response.status_code == (302 if hq else 403)
    assert Rule.objects.get(pk=rule.pk).priority == (99 if hq else 40)
    response = client.post("/manage/remittance/rules/aliases/", {"term_a": "慈善会", "term_b": "慈善总会"})
    assert response.status_code == (302 if hq else 403)
    assert client.post(f"/manage/remittance/rules/{rule.pk}/delete/").status_code == (302 if hq else 403)


@pytest.mark.parametrize("username", USERS)
def test_worklist_shows_only_the_subtree(client_for, green, username):
    batch, _ = green
    body = client_for(username).get(f"/manage/remittance/{batch.pk}/worklist/?show=all").content.decode()
    for iid in PROBES:
        assert (f">{iid}<" in body) == (iid in IN_SCOPE[username]), iid


def test_a_city_branch_sees_only_its_branches_instructions(client_for, green):
    batch, _ = green
    body = client_for("sm_manager").get(f"/manage/remittance/{batch.pk}/worklist/?show=all").content.decode()
    assert all(f">{iid}<" in body for iid in ("G-001", "G-002", "G-003", "G-004", "G-010"))
    assert ">G-005<" not in body and ">G-008<" not in body


# ------------------------------------------------------------ the same matrix on the API


@pytest.fixture
def api(client, users):
    def call(username, method, path, **kwargs):
        _token, raw = create_api_token(user=users[username], name="test")
        return getattr(client, method)(
            f"/api/v1/manage/remittance{path}", HTTP_AUTHORIZATION=f"Bearer {raw}", **kwargs
        )

    return call


@pytest.mark.parametrize("username", USERS)
def test_api_instruction_matrix(api, green, username):
    _batch, by_id = green
    for iid in PROBES:
        pk = by_id[iid].pk
        inside = iid in IN_SCOPE[username]
        assert api(username, "get", f"/instructions/{pk}").status_code == (200 if inside else 404)
        expected = 404 if not inside else 200 if can_change(username) else 403
        assert api(username, "post", f"/instructions/{pk}/claim").status_code == expected


@pytest.mark.parametrize("username", USERS)
def test_api_rules_matrix(api, db, username):
    assert api(username, "get", "/rules").status_code == 200
    response = api(
        username,
        "post",
        "/rules",
        data={"field": "purpose", "term": "呼吸机"},
        content_type="application/json",
    )
    assert response.status_code == (201 if username == "hq_admin" else 403)
    assert Rule.objects.filter(term="呼吸机").exists() == (username == "hq_admin")
