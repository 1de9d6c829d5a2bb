"""The demo can be walked through: nurses' day at two stations, the new-citizen month with reach,
Sanming's volunteers, upcoming events everywhere, the medical-staff card on 三峡广场's page."""

import pytest
from django.db.models import Sum
from django.test import Client

from yizhan.events import campaigns
from yizhan.events.models import Campaign, Event, Occurrence, Registration, Source

pytestmark = pytest.mark.django_db


def test_nurses_day_at_two_stations_with_eight_honoured_at_sanxia():
    event = Event.objects.get(title__contains="致敬最美白衣天使")
    codes = set(event.occurrences.values_list("station__code", flat=True))
    assert codes == {"CQ-SXGC", "CQ-JXDL"}
    assert (
        Registration.objects.filter(
            occurrence__event=event, occurrence__station__code="CQ-SXGC", state="attended"
        ).count()
        == 8
    )


def test_the_new_citizen_month_has_reach_that_adds_up():
    month = Campaign.objects.filter(name__startswith="新市民金融服务宣传月").order_by("-starts_on").first()
    result = campaigns.reach(month)
    assert result["total"]["attended"] > 0 and result["total"]["checkins"] > 0
    for key in ("signed_up", "attended", "checkins", "checkins_before"):
        assert sum(r[key] for r in result["rows"]) == result["total"][key]


def test_volunteers_hours_and_upcoming_events_everywhere(client_for):
    hours = Registration.objects.filter(source=Source.STAFF).aggregate(h=Sum("hours"))["h"]
    assert hours == 52
    assert Occurrence.objects.listed().filter(station__code="CQ-SXGC").exists()
    html = Client().get("/s/CQ-SXGC").content.decode()
    assert "医护专属信用卡" in html and "防诈骗小课堂" in html
    assert client_for("cq_admin").get(
        f"/manage/events/campaigns/{Campaign.objects.first().pk}/"
    ).status_code in (200, 404)
