"""A permanently closed station answers like a missing one on every public path: nothing is
counted or received. A temporarily closed one still takes check-ins and reports."""

import json

import pytest

from yizhan.stations import services as station_services
from yizhan.visits.models import CheckIn, Feedback

pytestmark = pytest.mark.django_db


@pytest.fixture
def closed(station, users):
    sxgc = station("CQ-SXGC")
    station_services.close_station(sxgc, actor=users["cq_admin"], notice="网点撤并")
    return sxgc


def test_every_public_path_answers_404_and_writes_nothing(client, closed):
    checkins, reports = CheckIn.objects.count(), Feedback.objects.count()
    api = client.post(
        "/api/v1/stations/CQ-SXGC/checkins", json.dumps({"group": "courier"}), content_type="application/json"
    )
    assert api.status_code == 404
    answers = {
        "station page": client.get("/s/CQ-SXGC"),
        "station api": client.get("/api/v1/stations/CQ-SXGC"),
        "check-in page": client.get("/c/CQ-SXGC"),
        "check-in form": client.post("/c/CQ-SXGC", {"go": "1"}),
        "thanks page": client.get("/c/CQ-SXGC/thanks"),
        "report page": client.get("/s/CQ-SXGC/report"),
        "report form": client.post("/s/CQ-SXGC/report", {"kind": "suggestion", "text": "还开吗"}),
        "report api": client.post(
            "/api/v1/stations/CQ-SXGC/reports", {"kind": "suggestion", "text": "还开吗"}
        ),
        "confirm": client.post("/s/CQ-SXGC/confirm"),
    }
    assert {name: r.status_code for name, r in answers.items()} == dict.fromkeys(answers, 404)
    assert CheckIn.objects.count() == checkins and Feedback.objects.count() == reports

    # The site's own 404 page, as for a station that never existed.
    assert "<h1>" in answers["station page"].content.decode()
    assert client.get("/s/NO-SUCH").status_code == 404


def test_a_temporarily_closed_station_still_counts(client, station, users):
    station_services.close_station(station("CQ-SXGC"), actor=users["cq_admin"], notice="装修", temporary=True)
    api = client.post("/api/v1/stations/CQ-SXGC/checkins", "{}", content_type="application/json")
    assert api.status_code == 201
    assert "装修" in client.get("/s/CQ-SXGC").content.decode()
