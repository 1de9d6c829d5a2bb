import io

import pytest
from django.core.management import call_command
from django.test import Client, override_settings

from yizhan.audit.models import AuditEvent
from yizhan.core.demo import DEMO_PASSWORD
from yizhan.orgs.models import ApiToken


def test_demo_user_logs_in_and_sees_home(db):
    client = Client()
    response = client.post("/manage/login/", {"username": "sanxia_manager", "password": DEMO_PASSWORD})
    assert response.status_code == 302
    body = client.get("/manage/").content.decode()
    assert "三峡广场支行" in body


@override_settings(YIZHAN_LOGIN_MAX_FAILURES=3)
def test_login_is_rate_limited_per_username(db):
    client = Client()
    for _ in range(3):
        assert client.post("/manage/login/", {"username": "cq_admin", "password": "wrong"}).status_code == 200
    locked = client.post("/manage/login/", {"username": "cq_admin", "password": DEMO_PASSWORD})
    assert locked.status_code == 429
    assert not client.session.get("_auth_user_id")
    # Another user from another address is not locked out by cq_admin's failures.
    other = Client(REMOTE_ADDR="10.0.0.9")
    assert (
        other.post("/manage/login/", {"username": "sz_viewer", "password": DEMO_PASSWORD}).status_code == 302
    )


@override_settings(YIZHAN_LOGIN_MAX_FAILURES_PER_ADDRESS=3)
def test_login_is_rate_limited_per_address(db):
    client = Client(REMOTE_ADDR="10.0.0.7")
    for name in ("a", "b", "c"):
        client.post("/manage/login/", {"username": name, "password": "wrong"})
    assert (
        client.post("/manage/login/", {"username": "sz_viewer", "password": DEMO_PASSWORD}).status_code == 429
    )


def test_logout(client_for):
    client = client_for("sz_viewer")
    assert client.post("/manage/logout/").status_code == 302
    assert client.get("/manage/").status_code == 302


def bearer(raw):
    return {"HTTP_AUTHORIZATION": f"Bearer {raw}"}


def test_token_page_creates_usable_token_and_revokes_it(client_for, users):
    client = client_for("cq_admin")
    response = client.post("/manage/tokens/", {"name": "laptop"})
    raw = response.context["new_token"]
    assert raw.startswith("yz_")
    token = ApiToken.objects.get(user=users["cq_admin"])
    assert token.digest != raw and raw not in token.digest  # only the hash is stored
    api = Client()
    me = api.get("/api/v1/manage/me", **bearer(raw))
    assert me.status_code == 200 and me.json()["unit_code"] == "CQ"
    assert client.post(f"/manage/tokens/{token.pk}/revoke/").status_code == 302
    assert api.get("/api/v1/manage/me", **bearer(raw)).status_code == 401
    assert AuditEvent.objects.filter(action="api_token.revoked", object_id=str(token.pk)).exists()


def test_token_name_is_required(client_for):
    response = client_for("cq_admin").post("/manage/tokens/", {"name": ""})
    assert "name" in response.context["form"].errors
    assert not ApiToken.objects.exists()


def test_cannot_revoke_someone_elses_token(client_for, users):
    from yizhan.orgs.services import create_api_token

    token, _raw = create_api_token(user=users["sz_viewer"], name="x")
    assert client_for("hq_admin").post(f"/manage/tokens/{token.pk}/revoke/").status_code == 404
    token.refresh_from_db()
    assert token.revoked_at is None


def test_cli_prints_a_working_token(db):
    out = io.StringIO()
    call_command("create_api_token", "sz_viewer", stdout=out)
    raw = out.getvalue().strip()
    assert Client().get("/api/v1/manage/units/SZ-FT", **bearer(raw)).status_code == 200
    assert AuditEvent.objects.get(action="api_token.created").via == "cli"


def test_cli_refuses_unknown_user(db):
    from django.core.management.base import CommandError

    with pytest.raises(CommandError):
        call_command("create_api_token", "ghost")


SCOPES = {
    "hq_admin": ("CQ-SXGC", None),
    "cq_admin": ("CQ-SXGC", "SZ-FT"),
    "sanxia_manager": ("CQ-SXGC", "CQ-JXDL"),
    "sz_viewer": ("SZ-FT", "CQ-SXGC"),
}


@pytest.mark.parametrize("username", list(SCOPES))
def test_api_matrix(db, users, username):
    from yizhan.orgs.services import create_api_token

    _token, raw = create_api_token(user=users[username], name="t")
    api = Client()
    inside, outside = SCOPES[username]
    assert api.get(f"/api/v1/manage/units/{inside}", **bearer(raw)).status_code == 200
    assert api.get(f"/api/v1/manage/units/{outside or 'NO-SUCH'}", **bearer(raw)).status_code == 404
    codes = {u["code"] for u in api.get("/api/v1/manage/units?limit=1000", **bearer(raw)).json()}
    assert inside in codes and (outside is None or outside not in codes)


@pytest.mark.parametrize("header", ["", "Bearer ", "Bearer yz_nope", "Token abc", "Bearer " + "x" * 5000])
def test_api_refuses_bad_tokens(db, header):
    response = Client().get("/api/v1/manage/me", HTTP_AUTHORIZATION=header)
    assert response.status_code == 401


def test_openapi_and_docs_are_served_locally(db):
    client = Client()
    schema = client.get("/api/v1/openapi.json").json()
    assert "/api/v1/manage/units/{code}" in schema["paths"]
    docs = client.get("/api/v1/docs").content.decode()
    assert "cdn" not in docs.lower() and "unpkg" not in docs.lower()
