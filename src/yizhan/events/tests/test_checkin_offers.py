"""Group offers on the check-in thank-you page, for the group the visitor ticked: shown, never
stored or asked for."""

import datetime

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from yizhan.core.tests.pagecheck import problems
from yizhan.events import offers

pytestmark = pytest.mark.django_db


@pytest.fixture
def card(users, unit):
    # No theme: a group offer reaches the visitors of that group at every station of the unit.
    return offers.save_offer(actor=users["hq_admin"], unit=unit("CQ"), group="medical_staff", title="测试医护专属卡",
                             text="白金卡终身免年费", valid_from=datetime.date(2020, 1, 1),
                             valid_until=datetime.date(2099, 1, 1))  # fmt: skip


def test_a_visitor_who_ticks_medical_staff_is_shown_the_offers_for_medical_staff(card):
    client = Client()
    done = client.post("/c/CQ-JXDL", {"group": "medical_staff"})
    assert done.status_code == 303 and done["Location"].endswith("?counted=1&group=medical_staff")
    with CaptureQueriesContext(connection) as queries:
        page = client.get(done["Location"])
    html = page.content.decode()
    assert page.status_code == 200 and "测试医护专属卡" in html and "医护人员专享" in html
    assert problems(html) == []
    # Showing writes nothing: no record of who saw which offer.
    writes = [q["sql"] for q in queries if q["sql"].split()[0].upper() in {"INSERT", "UPDATE", "DELETE"}]
    assert writes == []


def test_other_groups_and_other_provinces_see_no_such_offer(card):
    client = Client()
    courier = client.get(client.post("/c/CQ-JXDL", {"group": "courier"})["Location"])
    assert "测试医护专属卡" not in courier.content.decode()
    none = client.get("/c/CQ-JXDL/thanks?counted=1")
    assert "测试医护专属卡" not in none.content.decode()
    elsewhere = client.get("/c/SZ-MLYC/thanks?counted=1&group=medical_staff")
    assert elsewhere.status_code == 200 and "测试医护专属卡" not in elsewhere.content.decode()


@pytest.mark.parametrize("group", ["nobody", "medical_staff'><script>", "", "%00", "x" * 500])
def test_a_made_up_group_in_the_address_shows_nothing_and_never_fails(card, group):
    page = Client().get("/c/CQ-JXDL/thanks", {"counted": "1", "group": group})
    assert page.status_code in (200, 400)
    assert "测试医护专属卡" not in page.content.decode() and "<script>" not in page.content.decode()


def test_new_citizen_offers_reach_couriers_riders_and_construction_workers(users, unit):
    offer = offers.save_offer(actor=users["hq_admin"], unit=unit("HQ"), group="new_citizen", title="新市民礼包",
                              text="x", valid_from="2020-01-01", valid_until="2099-01-01")  # fmt: skip
    from yizhan.stations.models import Station

    station = Station.objects.get(code="SZ-MLYC")
    assert offer in offers.for_station(station, group="delivery_rider")
    assert offer not in offers.for_station(station, group="elderly")
