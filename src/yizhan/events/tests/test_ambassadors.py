"""Consumer-protection ambassadors (消保宣传使者): a campaign's couriers with what they passed on,
counted in its reach per unit; the Shandong demo."""

import datetime

import pytest
from django.core.exceptions import ValidationError
from django.test import Client

from yizhan.core.tests.pagecheck import problems
from yizhan.events import campaigns
from yizhan.events.models import Ambassador, Campaign, Outreach
from yizhan.orgs.services import create_api_token

pytestmark = pytest.mark.django_db
ALLOW = ("hq_admin", "cq_admin", "sanxia_manager", "sz_viewer")


@pytest.fixture
def campaign(users, unit):
    return campaigns.create_campaign(actor=users["hq_admin"], unit=unit("CQ"), name="快递小哥消保宣传", target_group="courier",
                                     starts_on=datetime.date(2024, 3, 1), ends_on=datetime.date(2024, 3, 31))  # fmt: skip


def _row_unit(campaign, code):
    from yizhan.orgs.models import Unit

    path = Unit.objects.get(code=code).path
    return next(u for u in campaigns.participating(campaign) if path.startswith(u.path))


def test_what_ambassadors_pass_on_is_counted_in_the_reach_of_their_unit(campaign, users):
    row_unit = _row_unit(campaign, "CQ-SXGC")
    amb = campaigns.enrol_ambassador(campaign, actor=users["cq_admin"], name="顺丰快递员甲", unit="CQ-SXGC",
                                     affiliation="顺丰速运", enrolled_on="2024-03-15")  # fmt: skip
    campaigns.record_outreach(amb, actor=users["cq_admin"], day="2024-03-18", topic="anti_fraud", people=12)
    campaigns.record_outreach(amb, actor=users["cq_admin"], day="2024-03-25", topic="payments", people=5)
    campaigns.record_outreach(amb, actor=users["cq_admin"], day="2024-04-02", topic="anti_fraud", people=3)
    result = campaigns.reach(campaign)
    assert (result["total"]["ambassadors"], result["total"]["passed_on"]) == (1, 20)
    row = next(r for r in result["rows"] if r["unit"] == row_unit)
    assert (row["ambassadors"], row["passed_on"]) == (1, 20)
    for key in ("ambassadors", "passed_on"):
        assert sum(r[key] for r in result["rows"]) == result["total"][key]
    (listed,) = campaigns.ambassadors(campaign)
    assert listed.people == 20 and [n for _label, n in listed.topics] == [15, 5]


@pytest.mark.parametrize(
    ("enrol", "field"),
    [
        ({"name": ""}, "name"),
        ({"unit": "SZ-MLYC"}, "unit"),  # outside the campaign's area
        ({"unit": "NOPE"}, "unit"),
        ({"unit": ""}, "unit"),  # the organising unit itself is no row of the reach
        ({"enrolled_on": "2024-02-30"}, "enrolled_on"),
        ({"enrolled_on": "2999-01-01"}, "enrolled_on"),
        ({"name": "甲" * 41}, "name"),
    ],
)
def test_bad_enrolments_are_refused_naming_the_field(campaign, users, enrol, field):
    data = {"name": "快递员", "unit": "CQ-SXGC", "enrolled_on": "2024-03-15", **enrol}
    with pytest.raises(ValidationError) as exc:
        campaigns.enrol_ambassador(campaign, actor=users["cq_admin"], **data)
    assert field in exc.value.message_dict
    assert not Ambassador.objects.filter(campaign=campaign).exists()


@pytest.mark.parametrize(
    ("values", "field"),
    [
        ({"day": "2024-03-14"}, "day"),  # before the enrolment
        ({"day": "2999-03-14"}, "day"),
        ({"day": "x"}, "day"),
        ({"topic": "gossip"}, "topic"),
        ({"people": 0}, "people"),
        ({"people": "many"}, "people"),
        ({"people": 10**9}, "people"),
        ({"note": "x" * 201}, "note"),
    ],
)
def test_bad_outreach_is_refused_naming_the_field(campaign, users, values, field):
    amb = campaigns.enrol_ambassador(
        campaign, actor=users["cq_admin"], name="甲", unit="CQ-SXGC", enrolled_on="2024-03-15"
    )
    data = {"day": "2024-03-20", "topic": "cash", "people": 4, **values}
    with pytest.raises(ValidationError) as exc:
        campaigns.record_outreach(amb, actor=users["cq_admin"], **data)
    assert field in exc.value.message_dict and not Outreach.objects.filter(ambassador=amb).exists()


# Who may see a Chongqing campaign's ambassadors and enrol one there.
MATRIX = {
    "hq_admin": (200, 302),
    "cq_admin": (200, 302),
    "sanxia_manager": (404, 404),
    "sz_viewer": (404, 404),
}


@pytest.mark.parametrize("username", list(MATRIX))
def test_the_permission_matrix_of_the_campaign_page_and_its_forms(client_for, campaign, username):
    client = client_for(username)
    page_status, enrol_status = MATRIX[username]
    page = client.get(f"/manage/events/campaigns/{campaign.pk}/")
    assert page.status_code == page_status
    if page_status == 200:
        assert "消保宣传使者" in page.content.decode() and problems(page.content.decode(), allow=ALLOW) == []
    done = client.post(f"/manage/events/campaigns/{campaign.pk}/ambassador/",
                       {"name": "中通快递员乙", "unit": "CQ-SXGC", "enrolled_on": "2024-03-15"})  # fmt: skip
    assert done.status_code == enrol_status
    assert Ambassador.objects.filter(campaign=campaign).count() == (1 if enrol_status == 302 else 0)


def test_a_bad_form_on_the_page_is_422_and_writes_nothing(client_for, campaign, users):
    client = client_for("cq_admin")
    bad = client.post(f"/manage/events/campaigns/{campaign.pk}/ambassador/", {"name": "", "unit": "CQ-SXGC"})
    assert bad.status_code == 422 and not Ambassador.objects.filter(campaign=campaign).exists()
    amb = campaigns.enrol_ambassador(
        campaign, actor=users["cq_admin"], name="甲", unit="CQ-SXGC", enrolled_on="2024-03-15"
    )
    other = client.post(f"/manage/events/campaigns/{campaign.pk}/outreach/",
                        {"ambassador": "999999", "day": "2024-03-20", "topic": "cash", "people": "3"})  # fmt: skip
    assert other.status_code == 422 and not Outreach.objects.filter(ambassador=amb).exists()
    ok = client.post(f"/manage/events/campaigns/{campaign.pk}/outreach/",
                     {"ambassador": str(amb.pk), "day": "2024-03-20", "topic": "cash", "people": "3"})  # fmt: skip
    assert ok.status_code == 302 and Outreach.objects.get(ambassador=amb).people == 3


def test_the_api_enrols_records_and_lists(campaign, users):
    _row, token = create_api_token(user=users["cq_admin"], name="ambassadors")
    api = Client(HTTP_AUTHORIZATION=f"Bearer {token}")
    base = f"/api/v1/manage/events/campaigns/{campaign.pk}/ambassadors"
    made = api.post(
        base,
        {"name": "韵达快递员丙", "unit": "CQ-SXGC", "enrolled_on": "2024-03-15"},
        content_type="application/json",
    )
    assert made.status_code == 201
    url = f"{base}/{made.json()['id']}/outreach"
    done = api.post(
        url, {"day": "2024-03-20", "topic": "savings", "people": 7}, content_type="application/json"
    )
    assert done.status_code == 201 and done.json()["topics"] == {"savings": 7}
    bad = api.post(
        url, {"day": "2024-03-20", "topic": "savings", "people": -1}, content_type="application/json"
    )
    assert bad.status_code == 422 and "people" in bad.content.decode()
    reach = api.get(f"/api/v1/manage/events/campaigns/{campaign.pk}/reach").json()
    assert sum(r["passed_on"] for r in reach["rows"]) == reach["total"]["passed_on"] == 7
    _row, viewer = create_api_token(user=users["sz_viewer"], name="x")
    assert Client(HTTP_AUTHORIZATION=f"Bearer {viewer}").get(base).status_code == 404


def test_the_shandong_demo_has_its_courier_ambassadors_in_the_reach(client_for):
    demo = Campaign.objects.get(name="快递小哥消保宣传使者")
    result = campaigns.reach(demo)
    assert result["total"]["ambassadors"] == 6 and result["total"]["passed_on"] > 0
    companies = set(demo.ambassadors.values_list("affiliation", flat=True))
    assert {"顺丰速运", "京东物流"} <= companies
    for lang in ("zh-hans", "en"):
        client = client_for("hq_admin")
        client.cookies["django_language"] = lang
        page = client.get(f"/manage/events/campaigns/{demo.pk}/", HTTP_ACCEPT_LANGUAGE=lang)
        html = page.content.decode()
        assert page.status_code == 200 and "顺丰速运" in html
        assert problems(html, lang=lang, allow=ALLOW) == [], lang
    assert (
        "防范电信网络诈骗"
        in client_for("hq_admin").get(f"/manage/events/campaigns/{demo.pk}/").content.decode()
    )
