"""Offline support without a browser: the service worker and manifest are served as browsers need
them, the pages carry the hidden offline note and the manifest, in-app browsers get the same
pages, and a forged replay of the offline queue is refused with a clear message."""

import json

import pytest

from yizhan.visits.models import CheckIn

WECHAT = (
    "Mozilla/5.0 (Linux; Android 13) AppleWebKit/537.36 (KHTML, like Gecko) Version/4.0 Chrome/107.0 "
    "Mobile Safari/537.36 XWEB/5023 MicroMessenger/8.0.34.2340 WeChat/arm64 Weixin NetType/4G Language/zh_CN"
)
ALIPAY = "Mozilla/5.0 (Linux; Android 12) AppleWebKit/537.36 Chrome/89.0 Mobile Safari/537.36 AlipayClient/10.3.30.8000"


def test_the_service_worker_is_served_from_the_root(client, db):
    response = client.get("/sw.js")
    assert response.status_code == 200 and response["Content-Type"].startswith("text/javascript")
    assert response["Service-Worker-Allowed"] == "/" and response["Cache-Control"] == "no-cache"
    assert b'addEventListener("fetch"' in response.content
    assert client.post("/sw.js").status_code == 405


def test_the_manifest_makes_the_list_installable(client, db):
    response = client.get("/manifest.webmanifest")
    assert response["Content-Type"] == "application/manifest+json"
    data = json.loads(response.content)
    assert data["start_url"] == "/" and data["display"] == "standalone" and data["icons"]
    assert data["name"] == "附近的驿站" or "驿站" in data["name"]


@pytest.mark.parametrize("agent", [WECHAT, ALIPAY, ""])
@pytest.mark.parametrize("url", ["/?lat=29.5566&lng=106.4569", "/s/CQ-SXGC", "/c/CQ-SXGC"])
def test_pages_carry_the_manifest_and_the_hidden_offline_note(client, db, agent, url):
    html = client.get(url, HTTP_USER_AGENT=agent).content.decode()
    assert 'rel="manifest"' in html and 'class="offline-note" hidden' in html
    assert '<time class="offline-time"></time>' in html and "offline.js" in html


def test_a_forged_replay_is_refused_and_counts_nothing(client, db):
    url = "/api/v1/stations/CQ-SXGC/checkins"
    body = {"request_id": "offline-1234-abcd"}
    first = client.post(url, body, content_type="application/json")
    assert first.status_code == 201
    before = CheckIn.objects.count()
    again = client.post(url, body, content_type="application/json")  # replayed: the first answer
    assert again.status_code == 201 and again.json()["id"] == first.json()["id"]
    from yizhan.stations.models import Station

    other_code = Station.objects.public().exclude(code="CQ-SXGC").values_list("code", flat=True).first()
    other = client.post(f"/api/v1/stations/{other_code}/checkins", body, content_type="application/json")
    assert other.status_code == 422 and "request_id" in other.content.decode()
    bad = client.post(url, {"request_id": "x" * 500}, content_type="application/json")
    assert bad.status_code == 422 and "request_id" in bad.content.decode()
    assert CheckIn.objects.count() == before


def test_the_queued_thanks_page_says_it_will_be_sent(client, db):
    html = client.get("/c/CQ-SXGC/thanks?queued=1").content.decode()
    assert "联网后会自动发送" in html
