"""The pension-day diversion: opted-in pensioners of chosen outlets, staggered over working days so
that no outlet gets more than its capacity a day, previewed per day and outlet before sending, a
second admin above the approval size, each day's invitations held until that morning."""

import datetime
import zoneinfo

import pytest
from django.core.exceptions import ValidationError
from django.test import override_settings
from django.utils import timezone

from yizhan.core.tests.pagecheck import problems
from yizhan.notify import campaigns, services
from yizhan.notify.models import Campaign, Consent, Message

BEIJING = zoneinfo.ZoneInfo("Asia/Shanghai")
MONDAY = datetime.datetime(2026, 7, 13, 10, 0, tzinfo=BEIJING)
WED, THU, FRI, MON, TUE = (datetime.date(2026, 7, d) for d in (15, 16, 17, 20, 21))


@pytest.fixture
def at(monkeypatch):
    def freeze(moment):
        monkeypatch.setattr(timezone, "now", lambda: moment)

    freeze(MONDAY)
    return freeze


@pytest.fixture
def pensioners(db, unit):
    """Fresh opt-ins at two Chongqing outlets (5 and 3), one opted out, one of another topic."""
    Consent.objects.all().delete()  # the demo's own pensioners (Sanming, Shenyang) aside
    n = 0
    for code, count in (("CQ-SXGC", 5), ("CQ-JXDL", 3)):
        for _i in range(count):
            n += 1
            services.record_consent(
                address=f"1391111{n:04d}", topic="pension-day", how="纸质同意书", unit=unit(code)
            )
    services.record_consent(
        address="13922220000", topic="pension-day", how="纸质同意书", unit=unit("CQ-SXGC")
    )
    services.opt_out("13922220000", how="sms reply")
    return n


def counts(plan):
    return {
        (row["day"], cell["outlet"].code): cell["count"] for row in plan.table() for cell in row["outlets"]
    }


def test_the_preview_staggers_each_outlet_within_its_capacity_over_working_days(db, users, pensioners, at):
    plan = campaigns.plan(users["cq_admin"], {"outlets": "CQ-SXGC CQ-JXDL", "start": "2026-07-15",
                                              "capacity": "2", "capacities": "CQ-SXGC=1"})  # fmt: skip
    assert plan.recipients == 8
    assert counts(plan) == {
        (WED, "CQ-SXGC"): 1,
        (THU, "CQ-SXGC"): 1,
        (FRI, "CQ-SXGC"): 1,
        (MON, "CQ-SXGC"): 1,
        (TUE, "CQ-SXGC"): 1,
        (WED, "CQ-JXDL"): 2,
        (THU, "CQ-JXDL"): 1,
    }  # fmt: skip — the weekend skipped, the opted-out number left out
    assert not Message.objects.exists() and not Campaign.objects.exists()  # a preview sends nothing


def test_a_unit_means_all_its_outlets(db, users, pensioners, at):
    plan = campaigns.plan(users["cq_admin"], {"outlets": "CQ", "start": "2026-07-15", "capacity": "10"})
    assert plan.recipients == 8 and {d for d, _u, _i in plan.days} == {WED}


def test_a_small_campaign_is_scheduled_day_by_day(db, users, pensioners, at):
    campaign = campaigns.propose(actor=users["cq_admin"], outlets="CQ-SXGC,CQ-JXDL", start="2026-07-15",
                                 capacity="3", window="9:00-11:00")  # fmt: skip
    assert campaign.state == Campaign.State.SENT and campaign.recipients == 8
    held = Message.objects.filter(state=Message.State.HELD)
    assert held.count() == 8
    wed_8 = datetime.datetime(2026, 7, 15, 8, 0, tzinfo=BEIJING)
    assert (
        held.filter(not_before=wed_8).count() == 6
        and held.filter(not_before=wed_8 + datetime.timedelta(days=1)).count() == 2
    )
    first = held.filter(not_before=wed_8, unit__code="CQ-SXGC").first()
    assert (
        first.text == "您好，三峡广场支行请您于7月15日 9:00-11:00办理养老金业务，避开高峰少排队。回复TD退订"
    )
    assert services.deliver_due() == 0  # nothing before its morning
    at(datetime.datetime(2026, 7, 15, 8, 0, 5, tzinfo=BEIJING))
    assert services.deliver_due() == 6
    campaigns._schedule(campaign)  # a retried job queues nothing twice
    assert Message.objects.count() == 8


@override_settings(YIZHAN_NOTIFY_APPROVAL_ABOVE=5)
def test_a_large_campaign_waits_for_a_second_admin(db, users, pensioners, at):
    campaign = campaigns.propose(actor=users["cq_admin"], outlets="CQ", start="2026-07-15")
    assert campaign.state == Campaign.State.PENDING and not Message.objects.exists()
    with pytest.raises(ValidationError) as err:
        campaigns.approve(campaign, actor=users["cq_admin"])
    assert "decided_by" in err.value.message_dict
    campaigns.approve(campaign, actor=users["hq_admin"])
    campaign.refresh_from_db()
    assert campaign.state == Campaign.State.SENT and campaign.decided_by == users["hq_admin"]
    assert Message.objects.filter(state=Message.State.HELD).count() == 8
    with pytest.raises(ValidationError):
        campaigns.approve(campaign, actor=users["hq_admin"])  # not twice
    with pytest.raises(ValidationError):
        campaigns.reject(campaign, actor=users["hq_admin"])


@override_settings(YIZHAN_NOTIFY_APPROVAL_ABOVE=5)
def test_approval_from_the_page_and_rejection(db, users, client_for, pensioners, at):
    client = client_for("cq_admin")
    body = {"outlets": "CQ", "start": "2026-07-15", "capacity": "4", "capacities": "", "window": "上午"}
    preview = client.post("/manage/campaigns/", {**body, "action": "preview"})
    html = preview.content.decode()
    assert "8 位收件人" in html and "三峡广场支行 4" in html and problems(html, allow=("cq_admin",)) == []
    client.post("/manage/campaigns/", {**body, "action": "send"})
    campaign = Campaign.objects.get()
    assert campaign.state == "pending"
    assert client.post(f"/manage/campaigns/{campaign.pk}/approve").status_code == 302
    campaign.refresh_from_db()
    assert campaign.state == "pending"  # the maker cannot approve their own
    client_for("hq_admin").post(f"/manage/campaigns/{campaign.pk}/reject")
    campaign.refresh_from_db()
    assert campaign.state == "rejected" and not Message.objects.exists()


MATRIX = [  # user, outlets, status
    ("hq_admin", "CQ", 201), ("cq_admin", "CQ-SXGC", 201), ("cq_admin", "FJ-SM", 422),
    ("sanxia_manager", "CQ-SXGC", 403), ("sz_viewer", "SZ", 403),
]  # fmt: skip


@pytest.mark.parametrize("username,outlets,status", MATRIX)
def test_api_matrix(db, client_for, pensioners, at, username, outlets, status):
    client = client_for(username)
    body = {"outlets": outlets, "start": "2026-07-15", "capacity": 2, "capacities": {}}
    preview = client.post("/api/v1/manage/campaigns/preview", body, content_type="application/json")
    assert preview.status_code == (200 if status == 201 else status)
    answer = client.post("/api/v1/manage/campaigns", body, content_type="application/json")
    assert answer.status_code == status
    page = client.get("/manage/campaigns/")
    assert page.status_code == (200 if status != 403 else 403)
    if status == 201:
        days = preview.json()["days"]
        assert all(n <= 2 for row in days for n in row["outlets"].values())
        assert answer.json()["days"] == days


def test_api_decide_matrix(db, users, client_for, pensioners, at, settings):
    settings.YIZHAN_NOTIFY_APPROVAL_ABOVE = 1
    campaign = campaigns.propose(actor=users["hq_admin"], outlets="CQ-SXGC", start="2026-07-15")
    assert client_for("sz_viewer").post(f"/api/v1/manage/campaigns/{campaign.pk}/approve").status_code == 404
    assert (
        client_for("sanxia_manager").post(f"/api/v1/manage/campaigns/{campaign.pk}/approve").status_code
        == 403
    )
    assert client_for("hq_admin").post(f"/api/v1/manage/campaigns/{campaign.pk}/approve").status_code == 422
    assert client_for("cq_admin").post(f"/api/v1/manage/campaigns/{campaign.pk}/nonsense").status_code == 404
    answer = client_for("cq_admin").post(f"/api/v1/manage/campaigns/{campaign.pk}/approve")
    assert answer.status_code == 200 and answer.json()["state"] == "sent"


BAD = [
    ("outlets", {"outlets": ""}),
    ("outlets", {"outlets": "CQ-SXGC NOPE"}),
    ("outlets", {"outlets": "SZ"}),  # nobody opted in there
    ("start", {"start": "2026-07-12"}),
    ("start", {"start": "15/07/2026"}),
    ("capacity", {"capacity": "0"}),
    ("capacity", {"capacity": "many"}),
    ("capacity", {"capacity": "1", "outlets": "CQ-SXGC", "capacities": ""}),  # fine: 5 days
    ("capacities", {"capacities": "CQ-SXGC=x"}),
    ("capacities", {"capacities": "FJ-SM-LD=3"}),
    ("window", {"window": "上午" * 30}),
]


@pytest.mark.parametrize("field,change", BAD)
def test_bad_input_names_the_field_and_sends_nothing(db, users, client_for, pensioners, at, field, change):
    body = {
        "outlets": "CQ-SXGC",
        "start": "2026-07-15",
        "capacity": "2",
        "capacities": "",
        "window": "",
        **change,
    }
    if change.get("capacity") == "1":
        assert campaigns.plan(users["cq_admin"], body).recipients == 5
        return
    with pytest.raises(ValidationError) as err:
        campaigns.propose(actor=users["cq_admin"], **body)
    assert field in err.value.message_dict
    page = client_for("cq_admin").post("/manage/campaigns/", {**body, "action": "send"})
    assert page.status_code == 200 and 'class="error"' in page.content.decode()
    assert not Campaign.objects.exists() and not Message.objects.exists()


def test_a_capacity_too_small_for_the_audience_is_refused(db, users, pensioners, at, monkeypatch):
    monkeypatch.setattr(campaigns, "MAX_DAYS", 3)
    with pytest.raises(ValidationError) as err:
        campaigns.plan(users["cq_admin"], {"outlets": "CQ-SXGC", "start": "2026-07-15", "capacity": "1"})
    assert "capacity" in err.value.message_dict and "三峡广场支行" in err.value.message_dict["capacity"][0]


def test_an_opt_out_after_scheduling_stops_that_invitation(db, users, pensioners, at):
    campaigns.propose(actor=users["cq_admin"], outlets="CQ-SXGC", start="2026-07-15", capacity="5")
    services.opt_out("13911110001", how="sms reply")
    assert Message.objects.get(address="13911110001").state == Message.State.REFUSED
    assert Message.objects.filter(state=Message.State.HELD).count() == 4


def test_the_demo_has_pensioners_at_sanming_and_shenyang(db, users):
    codes = set(Consent.objects.filter(topic="pension-day").values_list("unit__code", flat=True))
    assert {"FJ-SM-LD", "FJ-SM-SY", "LN-SY-HN"} <= codes
