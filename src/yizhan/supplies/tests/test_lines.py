"""Several items in one form and one API call: a receipt, a transfer, a requisition; all lines
are posted or none, and each bad line is named by its row and field."""

import datetime

import pytest
from django.utils import timezone

from yizhan.core.tests.pagecheck import problems
from yizhan.supplies.models import Balance, Entry, Requisition, Transfer

pytestmark = pytest.mark.django_db

LATER = (timezone.localdate() + datetime.timedelta(days=200)).isoformat()


def qty(code, item):
    row = Balance.objects.filter(unit__code=code, item__code=item).first()
    return row.qty if row else 0


def counts():
    return Entry.objects.count(), Transfer.objects.count(), Requisition.objects.count()


def test_a_receipt_of_three_items_in_one_form(client_for):
    before = {i: qty("CQ-SXGC", i) for i in ("CABLE", "MASK", "CUP")}
    answer = client_for("sanxia_manager").post("/manage/supplies/u/CQ-SXGC/do/receive/", {
        "rows": "5", "reason": "分行配送",
        "item_0": "CABLE", "qty_0": "3",
        "item_2": "MASK", "qty_2": "100", "expires_on_2": LATER,  # row 2 left empty: skipped
        "item_3": "CUP", "qty_3": "200",
    })  # fmt: skip
    assert answer.status_code == 302
    assert {i: qty("CQ-SXGC", i) - before[i] for i in before} == {"CABLE": 3, "MASK": 100, "CUP": 200}


def test_one_bad_row_posts_nothing_and_every_bad_row_is_named(client_for):
    before = counts()
    client = client_for("sanxia_manager")
    client.cookies["django_language"] = "en"
    answer = client.post("/manage/supplies/u/CQ-SXGC/do/receive/", {
        "rows": "5", "item_0": "CABLE", "qty_0": "3",
        "item_1": "MASK", "qty_1": "10",  # expiry tracked: the date is missing
        "item_3": "CUP", "qty_3": "2.5",
    }, HTTP_ACCEPT_LANGUAGE="en")  # fmt: skip
    assert answer.status_code == 200 and counts() == before
    form = answer.context["form"]
    assert set(form.errors) == {"expires_on_1", "qty_3"}
    page = answer.content.decode()
    assert "Nothing was posted" in page and "Row 2 · expires on:" in page and "Row 4 · quantity:" in page


def test_the_row_summary_reads_chinese(client_for):
    answer = client_for("sanxia_manager").post(
        "/manage/supplies/u/CQ-SXGC/do/receive/", {"rows": "5", "item_1": "CUP", "qty_1": "-1"}
    )
    page = answer.content.decode()
    assert "第 2 行" in page and problems(page) == []


def test_a_row_short_of_stock_is_named_and_the_whole_transfer_refused(client_for):
    have = qty("CQ-SPB", "CUP")
    before = counts()
    answer = client_for("cq_admin").post("/manage/supplies/u/CQ-SPB/do/send/", {
        "rows": "5", "to_unit": "CQ-SXGC", "item_0": "CUP", "qty_0": "5", "item_1": "CUP", "qty_1": str(have),
    })  # fmt: skip
    assert answer.status_code == 200 and counts() == before
    assert list(answer.context["form"].errors) == ["qty_1"]
    answer = client_for("cq_admin").post("/manage/supplies/u/CQ-SPB/do/send/", {
        "rows": "5", "to_unit": "CQ-SXGC", "carrier": "运钞车",
        "item_0": "CUP", "qty_0": "5", "item_1": "WATER-BARREL", "qty_1": "2",
    })  # fmt: skip
    assert answer.status_code == 302
    t = Transfer.objects.latest("pk")
    assert sorted((li.item.code, li.qty_sent) for li in t.lines.all()) == [("CUP", 5), ("WATER-BARREL", 2)]


def test_a_requisition_of_two_items_is_approved_as_one_transfer(client_for, users):
    from yizhan.supplies import services

    answer = client_for("sanxia_manager").post("/manage/supplies/u/CQ-SXGC/do/request/", {
        "rows": "5", "note": "周末活动", "item_0": "CUP", "qty_0": "50", "item_1": "WATER-BARREL", "qty_1": "3",
    })  # fmt: skip
    assert answer.status_code == 302
    req = Requisition.objects.latest("pk")
    assert [(li.item.code, li.qty) for li in req.lines.all()] == [("CUP", 50), ("WATER-BARREL", 3)]
    page = client_for("cq_admin").get("/manage/supplies/requisitions/").content.decode()
    assert "桶装饮用水 × 3" in page
    audit = client_for("cq_admin").get("/manage/audit/")  # the request's event names its items
    assert audit.status_code == 200 and "WATER-BARREL" in audit.content.decode()
    req = services.decide_requisition(req, actor=users["cq_admin"], approve=True, revision=req.revision)
    t = req.transfers.get()
    assert sorted((li.item.code, li.qty_sent) for li in t.lines.all()) == [("CUP", 50), ("WATER-BARREL", 3)]


def test_more_rows_keeps_the_input_and_posts_nothing(client_for):
    before = counts()
    client = client_for("sanxia_manager")
    assert client.get("/manage/supplies/u/CQ-SXGC/do/receive/").context["form"].row_total == 5
    answer = client.post(
        "/manage/supplies/u/CQ-SXGC/do/receive/", {"rows": "5", "item_0": "CABLE", "qty_0": "3", "more": "1"}
    )
    assert answer.status_code == 200 and counts() == before
    form = answer.context["form"]
    assert form.row_total == 10 and not form.errors
    assert 'name="qty_9"' in answer.content.decode() and 'value="3"' in answer.content.decode()
    for rows in ("999", "-4", "x"):  # clipped to 1..50, never an error
        assert (
            1
            <= client.get(f"/manage/supplies/u/CQ-SXGC/do/send/?rows={rows}").context["form"].row_total
            <= 50
        )


def test_the_api_posts_several_lines_or_none(api):
    client = api("cq_admin")
    before = qty("CQ-SXGC", "CABLE"), qty("CQ-SXGC", "MASK")
    answer = client.post("/api/v1/manage/supplies/units/CQ-SXGC/receipts", {
        "lines": [{"item": "CABLE", "qty": 4}, {"item": "MASK", "qty": 20, "expires_on": LATER}], "reason": "配送",
    }, content_type="application/json")  # fmt: skip
    assert answer.status_code == 201 and sorted(e["qty"] for e in answer.json()) == [4, 20]
    assert (qty("CQ-SXGC", "CABLE"), qty("CQ-SXGC", "MASK")) == (before[0] + 4, before[1] + 20)
    before = counts()
    answer = client.post("/api/v1/manage/supplies/units/CQ-SXGC/receipts", {
        "lines": [{"item": "CABLE", "qty": 4}, {"item": "NOPE", "qty": 1}, {"item": "MASK", "qty": 3}],
    }, content_type="application/json")  # fmt: skip
    assert answer.status_code == 422 and counts() == before
    fields = str(answer.json())
    assert "lines.1.item" in fields and "lines.2.expires_on" in fields and "lines.0" not in fields
    answer = client.post("/api/v1/manage/supplies/units/CQ-SXGC/requisitions", {
        "lines": [{"item": "CUP", "qty": 10}, {"item": "GLASSES", "qty": 2}], "note": "",
    }, content_type="application/json")  # fmt: skip
    assert answer.status_code == 201
    assert answer.json()["lines"] == [{"item_code": "CUP", "qty": 10}, {"item_code": "GLASSES", "qty": 2}]
    answer = client.post("/api/v1/manage/supplies/units/CQ-SXGC/requisitions", {
        "lines": [{"item": "CUP", "qty": 10}, {"item": "CUP", "qty": 0}],
    }, content_type="application/json")  # fmt: skip
    assert (
        answer.status_code == 422
        and "lines.1.qty" in str(answer.json())
        and counts() == before[:2] + (before[2] + 1,)
    )
    answer = client.post("/api/v1/manage/supplies/units/CQ-SXGC/receipts", {"lines": []},
                         content_type="application/json")  # fmt: skip
    assert answer.status_code == 422 and "lines" in str(answer.json())
