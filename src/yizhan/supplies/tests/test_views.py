"""The pages: what they show (below minimum first, the forecast, gear given beside couriers
checked in), Chinese and English without raw codes, the xlsx 台账, and bad input on every form."""

import io

import pytest
from openpyxl import load_workbook

from yizhan.core.tests.pagecheck import problems
from yizhan.supplies.models import Alert, Balance, Entry, Requisition, Transfer

pytestmark = pytest.mark.django_db

PAGES = ["/manage/supplies/", "/manage/supplies/?unit=CQ", "/manage/supplies/items/", "/manage/supplies/transfers/",
         "/manage/supplies/requisitions/", "/manage/supplies/u/CQ-SXGC/", "/manage/supplies/u/CQ-SXGC/i/CUP/",
         "/manage/supplies/u/CQ-SXGC/i/FIRST-AID/", "/manage/supplies/u/LN-SY-XGJ/i/SUIT/?year=2021",
         "/manage/supplies/u/CQ-SXGC/do/issue/", "/manage/supplies/items/CUP/edit/"]  # fmt: skip


@pytest.mark.parametrize("lang", ["zh-hans", "en"])
def test_pages_read_in_the_readers_language(client_for, lang):
    client = client_for("hq_admin")
    client.cookies["django_language"] = lang
    for url in PAGES:
        answer = client.get(url, HTTP_ACCEPT_LANGUAGE=lang)
        assert answer.status_code == 200, url
        assert problems(answer.content.decode(), lang=lang) == [], url
    transfer = Transfer.objects.get(carrier="每日运钞车")
    answer = client.get(f"/manage/supplies/transfers/{transfer.pk}/", HTTP_ACCEPT_LANGUAGE=lang)
    assert problems(answer.content.decode(), lang=lang) == []


def test_the_subtree_lists_below_minimum_first_and_the_outlet_page_shows_the_forecast(client_for):
    client = client_for("cq_admin")
    page = client.get("/manage/supplies/").content.decode()
    assert "三峡广场支行" in page and "一次性纸杯" in page
    outlet = client.get("/manage/supplies/u/CQ-SXGC/").content.decode()
    assert outlet.index("一次性纸杯") < outlet.index("老花镜")  # below minimum first


def test_a_little_bee_pilot_shows_gear_given_beside_couriers_checked_in(api):
    entry = (
        Entry.objects.filter(kind="issue", item__code="WAIST-BAG", distribution__group="courier")
        .order_by("-at")
        .first()
    )
    stock = api("hq_admin").get(f"/api/v1/manage/supplies/units/{entry.unit.code}/stock").json()
    bags = next(r for r in stock["rows"] if r["item_code"] == "WAIST-BAG")
    assert bags["given_this_week"] > 0
    assert stock["couriers_this_week"] >= 0 and stock["checkins_this_week"] >= stock["couriers_this_week"]
    sleeves = next(r for r in stock["rows"] if r["item_code"] == "SLEEVES")
    assert sleeves["weekly_use"] is not None


def test_the_ledger_export_has_chinese_headers_and_every_entry(client_for):
    answer = client_for("hq_admin").get(
        "/manage/supplies/u/LN-SY-XGJ/ledger.xlsx?year=2021", HTTP_ACCEPT_LANGUAGE="en"
    )
    assert answer.status_code == 200
    sheet = load_workbook(io.BytesIO(answer.content), read_only=True).active
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[0][:4] == ("编号", "时间", "物资", "类型")
    assert len(rows) - 1 == Entry.objects.filter(unit__code="LN-SY-XGJ", at__year=2021).count()
    assert any(r[9] == "沈阳分行" for r in rows[1:])  # the van run's counterpart


@pytest.mark.parametrize(
    "kind, data, field",
    [
        ("receive", {"item_0": "CABLE", "qty_0": "-3"}, "qty_0"),
        ("receive", {"item_0": "CABLE", "qty_0": "2.5"}, "qty_0"),
        ("receive", {"item_0": "MASK", "qty_0": "5", "expires_on_0": "2020-01-01"}, "expires_on_0"),
        ("receive", {"item_0": "", "qty_0": "5"}, "item_0"),
        ("issue", {"item_0": "CUP", "qty_0": "99999", "recipient_kind": "staff"}, "qty_0"),
        ("issue", {"item_0": "CUP", "qty_0": "1", "recipient_kind": "outside"}, "recipient"),
        ("adjust", {"item": "CUP", "qty": "5", "reason": ""}, "reason"),
        ("write-off", {"item": "CUP", "qty": "99999", "reason": "损坏"}, "qty"),
        ("send", {"to_unit": "CQ-SXGC", "item_0": "CUP", "qty_0": "1"}, "to_unit"),
        ("send", {"to_unit": "SZ-MLYC", "item_0": "CUP", "qty_0": "1"}, "to_unit"),
        ("request", {"item_0": "CUP", "qty_0": "0"}, "qty_0"),
        ("request", {}, "item_0"),  # no line at all
        ("receive", {"item_0": "CABLE", "qty_0": "3", "item_3": "CABLE", "qty_3": "x"}, "qty_3"),
        ("issue", {"recipient_kind": "staff", "item_0": "CUP", "qty_0": "1", "qty_2": "4"}, "item_2"),
    ],
)
def test_bad_input_on_a_form_names_the_field_and_writes_nothing(client_for, kind, data, field):
    before = (Entry.objects.count(), Transfer.objects.count(), Requisition.objects.count())
    answer = client_for("sanxia_manager").post(f"/manage/supplies/u/CQ-SXGC/do/{kind}/", data)
    assert answer.status_code == 200
    form = answer.context["form"]
    assert form.errors.get(field), form.errors
    assert (Entry.objects.count(), Transfer.objects.count(), Requisition.objects.count()) == before


def test_a_level_below_the_balance_clears_the_alert_from_the_page(client_for):
    alert = Alert.objects.get(unit__code="CQ-SXGC", item__code="CUP", kind="low", cleared_at__isnull=True)
    client = client_for("sanxia_manager")
    level_page = client.get("/manage/supplies/u/CQ-SXGC/i/CUP/").content.decode()
    import re

    revision = re.search(r'name="revision" value="(\d+)"', level_page).group(1)
    answer = client.post("/manage/supplies/u/CQ-SXGC/i/CUP/level/",
                         {"minimum": "10", "reorder_point": "20", "maximum": "", "lead_days": "7", "revision": revision})  # fmt: skip
    assert answer.status_code == 302
    alert.refresh_from_db()
    assert alert.cleared_at is not None
    bad = client.post("/manage/supplies/u/CQ-SXGC/i/CUP/level/",
                      {"minimum": "-1", "reorder_point": "x", "lead_days": "7"})  # fmt: skip
    assert bad.status_code == 200 and bad.context["form"].errors.get("minimum")


def test_the_api_refuses_an_edit_of_a_posted_entry_always(api):
    entry = Entry.objects.filter(unit__code="CQ-SXGC").first()
    client = api("hq_admin")
    for method in ("put", "patch", "delete"):
        answer = getattr(client, method)(f"/api/v1/manage/supplies/entries/{entry.pk}", {"qty": 1},
                                         content_type="application/json")  # fmt: skip
        assert (
            answer.status_code == 405
            and "reversing" in answer.json()["detail"].lower()
            or "冲" in answer.json()["detail"]
        )
    assert Entry.objects.get(pk=entry.pk).qty == entry.qty


@pytest.mark.parametrize(
    "body, field",
    [
        ({"kind": "receipt", "item": "CABLE", "qty": -1}, "qty"),
        ({"kind": "receipt", "item": "CABLE", "qty": 2.5}, "qty"),
        ({"kind": "receipt", "item": "NOPE", "qty": 1}, "item"),
        ({"kind": "edit", "item": "CABLE", "qty": 1}, "kind"),
        ({"kind": "write_off", "item": "CUP", "qty": 999999, "reason": "过期"}, "qty"),
    ],
)
def test_bad_input_on_the_api_is_a_422_naming_the_field(api, body, field):
    before = Entry.objects.count()
    answer = api("cq_admin").post(
        "/api/v1/manage/supplies/units/CQ-SXGC/entries", body, content_type="application/json"
    )
    assert answer.status_code == 422, answer.content
    assert field in answer.content.decode()
    assert Entry.objects.count() == before


def test_receiving_more_than_sent_over_the_api_needs_a_reason(api):
    t = Transfer.objects.get(to_unit__code="CQ-JXDL", state="in_transit")
    line = t.lines.get()
    client = api("cq_admin")
    url = f"/api/v1/manage/supplies/transfers/{t.pk}/receive"
    more = {"revision": t.revision, "lines": [{"id": line.pk, "qty_received": line.qty_sent + 2}]}
    answer = client.post(url, more, content_type="application/json")
    have = Balance.objects.get(unit__code="CQ-JXDL", item=line.item).qty
    assert answer.status_code == 422 and "difference_reason" in answer.content.decode()
    assert Balance.objects.get(unit__code="CQ-JXDL", item=line.item).qty == have
    more["lines"][0]["difference_reason"] = "多装了两副"
    answer = client.post(url, more, content_type="application/json")
    assert answer.status_code == 200 and answer.json()["lines"][0]["difference"] == 2


def test_snooze_with_a_date_on_the_page_and_the_api(client_for, api):
    import datetime
    import re

    from django.utils import timezone

    from yizhan.supplies.models import Level

    level = Level.objects.get(unit__code="CQ-SXGC", item__code="CUP")
    client = client_for("sanxia_manager")
    url = "/manage/supplies/u/CQ-SXGC/i/CUP/snooze/"
    today = timezone.localdate()
    for bad in (
        "2020-01-01",
        (today + datetime.timedelta(days=91)).isoformat(),
        "13/45/2026",
        today.isoformat(),
    ):
        answer = client.post(url, {"snoozed_until": bad, "revision": level.revision})
        assert answer.status_code == 200 and answer.context["form"].errors.get("snoozed_until"), bad
    until = today + datetime.timedelta(days=14)
    assert (
        client.post(url, {"snoozed_until": until.isoformat(), "revision": level.revision}).status_code == 302
    )
    level.refresh_from_db()
    assert level.snoozed_until == until
    card = client.get("/manage/supplies/u/CQ-SXGC/i/CUP/").content.decode()
    assert re.search(r'name="snoozed_until"[^>]*value="' + until.isoformat(), card)
    answer = api("cq_admin").post("/api/v1/manage/supplies/units/CQ-SXGC/items/CUP/snooze",
                                  {"until": "", "revision": level.revision}, content_type="application/json")  # fmt: skip
    assert answer.status_code == 200 and answer.json()["snoozed_until"] is None
    stale = api("cq_admin").post("/api/v1/manage/supplies/units/CQ-SXGC/items/CUP/snooze",
                                 {"until": until.isoformat(), "revision": level.revision}, content_type="application/json")  # fmt: skip
    assert stale.status_code == 409
