"""The production settings' pieces that the development settings switch off: the hashed static
files manifest, and what every response carries (cookies, headers)."""

import re

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
