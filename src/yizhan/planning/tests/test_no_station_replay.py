""" "No station here" from a phone's offline queue (`POST /api/v1/no-station` with a request id):
counted once however often it is sent; the id used for another point, or malformed, is refused."""

import pytest

from yizhan.planning.models import DemandPoint, DemandSource, ReportRef

pytestmark = pytest.mark.django_db
URL = "/api/v1/no-station"
POINT = {"lat": "29.71234", "lng": "106.63456"}


def _send(client, ref="offline-9f8e7d6c", **point):
    return client.post(URL, {**POINT, **point, "request_id": ref}, content_type="application/json")


def _weight() -> int:
    return sum(DemandPoint.objects.filter(source=DemandSource.REPORT).values_list("weight", flat=True))


def test_a_resent_report_counts_once(client):
    DemandPoint.objects.filter(source=DemandSource.REPORT).delete()
    for _ in range(3):
        response = _send(client)
        assert response.status_code == 201 and response.json()["counted"] is True
    assert _weight() == 1
    assert ReportRef.objects.filter(ref="offline-9f8e7d6c").values_list("lat", "lng").get() == (
        29.712,
        106.635,
    )


def test_a_forged_replay_is_refused_and_counts_nothing(client):
    DemandPoint.objects.filter(source=DemandSource.REPORT).delete()
    _send(client)
    other = _send(client, lat="22.5431", lng="114.0579")  # the same id for a point in Shenzhen
    assert other.status_code == 422 and other.json()["detail"][0]["loc"][-1] == "request_id"
    bad = _send(client, ref="not an id!")
    assert bad.status_code == 422 and bad.json()["detail"][0]["loc"][-1] == "request_id"
    outside = _send(client, ref="offline-1", lat="91")
    assert outside.status_code == 422 and outside.json()["detail"][0]["loc"][-1] == "lat"
    assert _weight() == 1 and ReportRef.objects.count() == 1


def test_far_from_every_station_it_is_not_counted_also_when_resent(client):
    for _ in range(2):
        response = _send(client, ref="offline-far", lat="45.0", lng="85.0")
        assert response.status_code == 201 and response.json()["counted"] is False


def test_it_is_rate_limited_like_the_button(client):
    statuses = [_send(client, ref=f"offline-{i}").status_code for i in range(6)]
    assert statuses[:5] == [201] * 5 and statuses[5] == 429
