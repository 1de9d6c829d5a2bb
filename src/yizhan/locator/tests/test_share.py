"""Sharing: a filtered list as a short link with a QR image, a station's QR image, and the title and
description messaging apps show in their previews."""

import pytest

from yizhan.core.tests.pagecheck import problems
from yizhan.locator.models import ShortLink


def test_a_filtered_list_becomes_a_short_link_that_opens_it(client, db):
    data = {
        "lat": "29.5566",
        "lng": "106.4569",
        "near": "三峡广场",
        "facility": ["drinking_water"],
        "when": "now",
        "csrfmiddlewaretoken": "x",
    }
    response = client.post("/share/", data)
    assert response.status_code == 303
    link = ShortLink.objects.get()
    assert response["Location"] == f"/l/{link.code}/share"
    again = client.post("/share/", data)
    assert again["Location"] == response["Location"] and ShortLink.objects.count() == 1  # one list, one link
    page = client.get(response["Location"]).content.decode()
    assert f"/l/{link.code}" in page and "qr.svg" in page and problems(page) == []
    opened = client.get(f"/l/{link.code}")
    assert (
        opened.status_code == 302
        and "facility=drinking_water" in opened["Location"]
        and "when=now" in opened["Location"]
    )
    qr = client.get(f"/l/{link.code}/qr.svg")
    assert qr["Content-Type"] == "image/svg+xml" and b"<svg" in qr.content


@pytest.mark.parametrize("data", [{}, {"facility": "wifi"}, {"q": "x", "facility": ["f" * 150] * 10}])
def test_a_list_without_a_place_or_too_long_is_refused(client, db, data):
    response = client.post("/share/", data)
    assert response.status_code == 422 and 'role="alert"' in response.content.decode()
    assert not ShortLink.objects.exists()


def test_unknown_links_and_stations_are_404(client, db):
    assert client.get("/l/nope").status_code == 404
    assert client.get("/l/nope/qr.svg").status_code == 404
    assert client.get("/s/NOPE/qr.svg").status_code == 404
    assert client.get("/share/").status_code == 405


def test_sharing_is_rate_limited(client, db, settings):
    from yizhan.locator import share

    share.SHARES_PER_HOUR, before = 2, share.SHARES_PER_HOUR
    try:
        codes = [client.post("/share/", {"city": "CQ", "theme": t}).status_code for t in ("a", "b", "c")]
    finally:
        share.SHARES_PER_HOUR = before
    assert codes == [303, 303, 429]


def test_station_page_has_a_preview_and_a_qr_code(client, db):
    html = client.get("/s/CQ-SXGC").content.decode()
    assert '<meta property="og:title" content="三峡广场支行驿站">' in html
    assert 'property="og:description"' in html and "/s/CQ-SXGC/qr.svg" in html
    assert client.get("/s/CQ-SXGC/qr.svg")["Content-Type"] == "image/svg+xml"
    listing = client.get("/", {"q": "解放碑"}).content.decode()
    assert "解放碑附近的驿站" in listing and 'action="/share/"' in listing
