"""The production settings' pieces that the development settings switch off: the hashed static
files manifest, and what every response carries (cookies, headers)."""

import re

import pytest
from django.core.management import call_command
from django.test import override_settings

PRODUCTION_STATIC = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
}


def test_collectstatic_with_the_manifest_then_pages_name_hashed_files(db, client, tmp_path):
    """Every vendored file must survive the manifest's post-processing (a reference to a file
    that was never vendored, such as a source map, fails collectstatic), and every page, the
    404 page included, must then find its assets in the manifest."""
    with override_settings(STATIC_ROOT=tmp_path, STORAGES=PRODUCTION_STATIC):
        call_command("collectstatic", "--noinput", verbosity=0)
        assert (tmp_path / "staticfiles.json").exists()
        for url, status in (("/manage/login/", 200), ("/s/CQ-SXGC", 200), ("/no-such-page", 404)):
            response = client.get(url)
            assert response.status_code == status, url
            html = response.content.decode()
            css = re.search(r'href="/static/yizhan/site\.([0-9a-f]{12})\.css"', html)
            assert css, f"{url} names no hashed site.css"
            assert (tmp_path / "yizhan" / f"site.{css.group(1)}.css").exists()
        for name in (
            "vendor/leaflet/leaflet.js",
            "vendor/markercluster/leaflet.markercluster.js",
            "vendor/htmx/htmx.min.js",
            "vendor/echarts/echarts.min.js",
            "ninja/swagger-ui-bundle.js",
        ):
            from django.contrib.staticfiles.storage import staticfiles_storage

            hashed = staticfiles_storage.stored_name(name)
            assert hashed != name and (tmp_path / hashed).exists(), name


# --- Content-Security-Policy ---------------------------------------------------------------------


def _policy(response) -> dict[str, list[str]]:
    header = response["Content-Security-Policy"]
    return {d.split()[0]: d.split()[1:] for d in (p.strip() for p in header.split(";")) if d}


@pytest.mark.parametrize(
    "path, status",
    [
        ("/", 200),
        ("/map/", 200),
        ("/s/CQ-SXGC", 200),
        ("/c/CQ-SXGC", 200),
        ("/manage/login/", 200),
        ("/api/v1/docs", 200),
        ("/no-such-page", 404),
    ],
)
def test_every_page_has_a_self_only_policy(client, db, path, status):
    response = client.get(path)
    assert response.status_code == status
    policy = _policy(response)
    assert policy["default-src"] == ["'self'"]
    assert policy["object-src"] == ["'none'"] and policy["frame-ancestors"] == ["'none'"]
    for directive in ("script-src", "style-src"):
        assert "'unsafe-inline'" not in policy[directive] and "'unsafe-eval'" not in policy[directive]
    assert policy["img-src"] == ["'self'", "data:"]


def test_no_template_has_inline_script_style_or_handlers():
    """What the policy would refuse: executable inline <script>, <style>, style="…", on…="…"."""
    from pathlib import Path

    import yizhan

    bad = re.compile(
        r"<script(?![^>]*\b(?:src=|type=\"application/json\"))|<style|\sstyle=|\son[a-z]+=", re.I
    )
    offenders = [
        str(path)
        for path in Path(yizhan.__file__).parent.rglob("templates/**/*.html")
        if bad.search(path.read_text(encoding="utf-8"))
    ]
    assert offenders == []


@override_settings(YIZHAN_TILE_URL="https://webrd0{s}.is.autonavi.com/appmaptile?x={x}&y={y}&z={z}")
def test_the_configured_tile_servers_origin_is_allowed_for_images(client, db):
    assert _policy(client.get("/map/"))["img-src"] == ["'self'", "data:", "https://*.is.autonavi.com"]


@pytest.mark.parametrize(
    "url, origin",
    [
        ("https://tile.example/{z}/{x}/{y}.png", "https://tile.example"),
        ("https://{s}.tile.openstreetmap.org/{z}/{x}/{y}.png", "https://*.tile.openstreetmap.org"),
        ("http://127.0.0.1:8080/tiles/{z}/{x}/{y}.png", "http://127.0.0.1:8080"),
        ("/tiles/{z}/{x}/{y}.png", ""),  # same origin: 'self' covers it
    ],
)
def test_tile_origin(url, origin):
    from yizhan.core.middleware import tile_origin

    assert tile_origin(url) == origin


# --- Cache-Control on staff answers --------------------------------------------------------------


@pytest.mark.parametrize(
    "path",
    [
        "/manage/",
        "/manage/stations/",
        "/manage/feedback/",
        "/manage/stations/export.csv",
        "/api/v1/manage/stations",
    ],
)
def test_staff_answers_are_never_stored(client_for, path):
    response = client_for("cq_admin").get(path)
    assert response.status_code == 200, path
    assert "no-store" in response["Cache-Control"] and "private" in response["Cache-Control"]


def test_public_pages_may_be_cached(client, db):
    assert "no-store" not in client.get("/s/CQ-SXGC").get("Cache-Control", "")


# --- Secure cookies -------------------------------------------------------------------------------


def test_production_settings_make_every_cookie_secure():
    """The settings module as production loads it (no pytest, no debug)."""
    import os
    import subprocess
    import sys

    env = {k: v for k, v in os.environ.items() if not k.startswith(("YIZHAN_", "DJANGO_"))}
    env.update(
        YIZHAN_SECRET_KEY="x" * 60, YIZHAN_TESTING="0", YIZHAN_VAR_DIR=os.environ.get("TMPDIR", "/tmp")
    )
    code = (
        "import yizhan.settings as s; print(s.SESSION_COOKIE_SECURE, s.CSRF_COOKIE_SECURE, "
        "s.LANGUAGE_COOKIE_SECURE, s.DEBUG)"
    )
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["True", "True", "True", "False"]


@override_settings(SESSION_COOKIE_SECURE=True, CSRF_COOKIE_SECURE=True, LANGUAGE_COOKIE_SECURE=True)
def test_every_cookie_is_secure_with_production_settings(client, db, users):
    set_by = {}
    response = client.post("/c/CQ-SXGC", {"go": "1"})
    set_by["checkin"] = response.cookies
    set_by["large text"] = client.post("/prefs/large-text/", {"on": "1"}).cookies
    set_by["language"] = client.post("/i18n/setlang/", {"language": "en", "next": "/"}).cookies
    set_by["login page"] = client.get("/manage/login/").cookies
    users["cq_admin"].set_password("pw-for-this-test")
    users["cq_admin"].save()
    set_by["login"] = client.post(
        "/manage/login/", {"username": "cq_admin", "password": "pw-for-this-test"}
    ).cookies
    names = {name for cookies in set_by.values() for name in cookies}
    assert {"yz_device", "yz_large", "django_language", "csrftoken", "sessionid"} <= names
    insecure = [
        f"{name} ({what})"
        for what, cookies in set_by.items()
        for name, c in cookies.items()
        if not c["secure"]
    ]
    assert insecure == []


def test_check_deploy_is_clean_with_the_readmes_production_settings(tmp_path):
    """`yizhan check --deploy --fail-level WARNING`, as the README and CI run it (a library's
    warning, or a settings block that drops a silenced check, fails here before it fails CI)."""
    import os
    import secrets
    import subprocess
    import sys

    env = {k: v for k, v in os.environ.items() if not k.startswith(("YIZHAN_", "DJANGO_"))}
    env.update(
        YIZHAN_SECRET_KEY=secrets.token_urlsafe(50), YIZHAN_TESTING="0", YIZHAN_VAR_DIR=str(tmp_path),
        YIZHAN_ALLOWED_HOSTS="yizhan.example.com", YIZHAN_SSL_REDIRECT="0",
    )  # fmt: skip
    out = subprocess.run(
        [sys.executable, "-m", "yizhan", "check", "--deploy", "--fail-level", "WARNING"],
        env=env, capture_output=True, text=True,
    )  # fmt: skip
    assert out.returncode == 0, out.stdout + out.stderr
