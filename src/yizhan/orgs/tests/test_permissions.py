"""The permission matrix: the four named demo users against in-scope and out-of-scope objects
for every back-office view of the organisation app (404 outside, 403 short of role, 200 allowed)."""

import pytest

# For each user: a unit in their scope and one outside it.
SCOPES = {
    "hq_admin": ("CQ-SXGC", None),  # head office sees everything; outside = a code that does not exist
    "cq_admin": ("CQ-SXGC", "SZ-FT"),
    "sanxia_manager": ("CQ-SXGC", "CQ-JXDL"),
    "sz_viewer": ("SZ-FT", "CQ-SXGC"),
}
ROLE = {"hq_admin": "admin", "cq_admin": "admin", "sanxia_manager": "manager", "sz_viewer": "viewer"}
NEED = {"read": 1, "change": 2, "admin": 3}
RANK = {"viewer": 1, "manager": 2, "admin": 3}

UNIT_VIEWS = [
    ("/manage/units/{code}/", "read"),
    ("/manage/units/{code}/children/", "read"),
    ("/manage/units/{code}/edit/", "change"),
    ("/manage/units/{code}/new/", "admin"),
    ("/manage/units/{code}/move/", "admin"),
]
PLAIN_VIEWS = [
    ("/manage/", "read"),
    ("/manage/units/", "read"),
    ("/manage/audit/", "read"),
    ("/manage/tokens/", "read"),
    ("/manage/staff/", "admin"),
    ("/manage/staff/new/", "admin"),
]


def expected(username, perm):
    return 200 if RANK[ROLE[username]] >= NEED[perm] else 403


@pytest.mark.parametrize("username", list(SCOPES))
@pytest.mark.parametrize(("url", "perm"), UNIT_VIEWS)
def test_unit_views_in_and_out_of_scope(client_for, username, url, perm):
    inside, outside = SCOPES[username]
    client = client_for(username)
    assert client.get(url.format(code=inside)).status_code == expected(username, perm)
    assert client.get(url.format(code=outside or "NO-SUCH-UNIT")).status_code == 404
    assert client.get(url.format(code="NO-SUCH-UNIT")).status_code == 404


@pytest.mark.parametrize("username", list(SCOPES))
@pytest.mark.parametrize(("url", "perm"), PLAIN_VIEWS)
def test_plain_views(client_for, username, url, perm):
    assert client_for(username).get(url).status_code == expected(username, perm)


STAFF_TARGETS = {  # (in scope, out of scope) memberships to edit
    "hq_admin": ("sz_viewer", None),
    "cq_admin": ("sanxia_manager", "sz_viewer"),
    "sanxia_manager": ("sanxia_manager", "sz_viewer"),
    "sz_viewer": ("sz_viewer", "sanxia_manager"),
}


@pytest.mark.parametrize("username", list(SCOPES))
def test_staff_edit_matrix(client_for, users, username):
    inside, outside = STAFF_TARGETS[username]
    client = client_for(username)
    assert client.get(f"/manage/staff/{users[inside].pk}/").status_code == expected(username, "admin")
    if outside:
        assert client.get(f"/manage/staff/{users[outside].pk}/").status_code == 404
    assert client.get("/manage/staff/999999/").status_code == 404


@pytest.mark.parametrize("username", list(SCOPES))
def test_unit_writes_respect_scope(client_for, unit, username):
    """A POST to change a unit outside the scope is a 404 and changes nothing."""
    _inside, outside = SCOPES[username]
    if outside is None:
        return
    target = unit(outside)
    response = client_for(username).post(
        f"/manage/units/{outside}/edit/",
        {
            "code": target.code,
            "kind": target.kind,
            "name": "HACKED",
            "address": "x",
            "lat": 30,
            "lng": 110,
            "crs": "wgs84",
        },
    )
    assert response.status_code == 404
    target.refresh_from_db()
    assert target.name != "HACKED"


def test_anonymous_is_sent_to_login(client):
    response = client.get("/manage/units/")
    assert response.status_code == 302
    assert response["Location"].startswith("/manage/login/")


def test_user_without_membership_is_refused(db, client, django_user_model):
    user = django_user_model.objects.create_user("nobody", password="x-long-password-123")
    client.force_login(user)
    assert client.get("/manage/").status_code == 403


@pytest.mark.parametrize("username", list(SCOPES))
def test_search_finds_only_the_subtree(client_for, unit, username):
    inside, outside = SCOPES[username]
    client = client_for(username)
    found = client.get("/manage/units/", {"q": unit(inside).name}).content.decode()
    assert f"/manage/units/{inside}/" in found
    if outside:
        found = client.get("/manage/units/", {"q": unit(outside).name}).content.decode()
        assert f"/manage/units/{outside}/" not in found


def test_home_panels_show_only_the_subtree(client_for):
    """Open feedback and green-channel work waiting in the subtree appear on the home page."""
    from yizhan.orgs.scoping import scoped
    from yizhan.visits.models import Feedback

    for username in ("hq_admin", "cq_admin", "sanxia_manager", "sz_viewer"):
        client = client_for(username)
        panels = client.get("/manage/").context["panels"]
        expected = scoped(client.get("/manage/").wsgi_request.user, Feedback).open().count()
        shown = {row["label"]: row["value"] for p in panels for row in p["rows"]}
        assert shown.get("待处理反馈", 0) == expected
