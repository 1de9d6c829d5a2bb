"""A problem report sent with a request id (a phone's offline queue): sent again, it answers as
the first time and writes nothing; the id used for another station, or malformed, is refused."""

import pytest

from yizhan.audit.models import AuditEvent
from yizhan.visits.models import Feedback
from yizhan.visits.tests.conftest import PNG
from yizhan.visits.tests.test_feedback import photo

pytestmark = pytest.mark.django_db
URL = "/api/v1/stations/%s/reports"


def _send(client, code="CQ-SXGC", ref="offline-4b1d0c2e-aa", **extra):
    return client.post(
        URL % code, {"kind": "facility_broken", "facility": "seating", "request_id": ref, **extra}
    )


def test_a_resent_report_counts_once(client, media):
    first = _send(client, photo=photo(PNG))
    assert first.status_code == 201 and first.json()["replayed"] is False
    again = _send(client, photo=photo(PNG))
    assert again.status_code == 201 and again.json() == {**first.json(), "replayed": True}
    assert Feedback.objects.filter(ref="offline-4b1d0c2e-aa").count() == 1
    assert (
        AuditEvent.objects.filter(action="feedback.received", object_id=str(first.json()["id"])).count() == 1
    )
    assert len(list(media.rglob("*.jpg"))) == 1  # the resend's photo is not kept


def test_a_forged_replay_is_refused_and_writes_nothing(client, media):
    _send(client)
    before = Feedback.objects.count()
    other = _send(client, code="CQ-JXDL")
    assert other.status_code == 422 and other.json()["detail"][0]["loc"][-1] == "request_id"
    for bad in ("x" * 65, "spaces are not ids", "<script>"):
        response = _send(client, ref=bad)
        assert response.status_code == 422 and response.json()["detail"][0]["loc"][-1] == "request_id"
    assert Feedback.objects.count() == before


def test_without_a_request_id_every_report_counts(client):
    before = Feedback.objects.count()
    for _ in range(2):
        assert _send(client, ref="").status_code == 201
    assert Feedback.objects.count() == before + 2
