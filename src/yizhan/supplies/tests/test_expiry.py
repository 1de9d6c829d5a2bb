"""An expired lot is never handed out or sent: first-expiring-first-out skips it, and when only
expired stock is left the movement is refused by field, pointing to a write-off."""

import datetime

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from yizhan.orgs.models import Unit
from yizhan.supplies import services
from yizhan.supplies.models import Balance, Entry, Lot, Transfer

pytestmark = pytest.mark.django_db

TODAY = timezone.localdate()
WRITE_OFF = "请将过期物资报损"  # the refusal points to a write-off (pages and API answer in Chinese)


def _received_long_ago(unit, item, qty, expires_on, lot=""):
    """A lot received a year ago that has since expired (a receipt today would refuse the date)."""
    return services.receive_stock(unit, actor=None, item=item, qty=qty, lot=lot, expires_on=expires_on,
                                  at=timezone.now() - datetime.timedelta(days=365))  # fmt: skip


def _lots(unit, item):
    return dict(Lot.objects.filter(unit=unit, item=item).values_list("expires_on", "qty"))


def test_fefo_skips_an_expired_lot_and_takes_the_next_in_date(sanxia, item):
    masks = item("MASK")
    expired, soon, later = (TODAY - datetime.timedelta(days=3), TODAY + datetime.timedelta(days=10),
                            TODAY + datetime.timedelta(days=300))  # fmt: skip
    _received_long_ago(sanxia, masks, 20, expired)
    services.receive_stock(sanxia, actor=None, item=masks, qty=30, expires_on=soon)
    services.receive_stock(sanxia, actor=None, item=masks, qty=50, expires_on=later)
    dist = services.issue_stock(sanxia, actor=None, lines=[(masks, 40)], recipient_kind="staff")
    assert sorted((e.expires_on, e.qty) for e in dist.entries.all()) == [(soon, -30), (later, -10)]
    assert _lots(sanxia, masks) == {expired: 20, soon: 0, later: 40}


def test_a_lot_expiring_today_is_still_in_date(sanxia, item):
    masks = item("MASK")
    services.receive_stock(sanxia, actor=None, item=masks, qty=5, expires_on=TODAY)
    dist = services.issue_stock(sanxia, actor=None, lines=[(masks, 5)], recipient_kind="staff")
    assert [e.qty for e in dist.entries.all()] == [-5]


def test_only_expired_stock_left_refuses_the_hand_out_naming_the_line_and_suggesting_a_write_off(
    sanxia, item
):
    masks = item("MASK")
    expired = TODAY - datetime.timedelta(days=1)
    _received_long_ago(sanxia, masks, 25, expired)
    entries = Entry.objects.count()
    with pytest.raises(ValidationError) as exc:
        services.issue_stock(sanxia, actor=None, lines=[(masks, 1)], recipient_kind="staff")
    message = exc.value.message_dict["lines.0.qty"][0]
    assert WRITE_OFF in message and "25" in message and expired.isoformat() in message
    assert Entry.objects.count() == entries and Balance.objects.get(unit=sanxia, item=masks).qty == 25
    # The one way out for an expired lot: a write-off, which takes it.
    written = services.write_off(sanxia, actor=None, item=masks, qty=25, reason="过期报损")
    assert [(e.expires_on, e.qty) for e in written] == [(expired, -25)]
    assert _lots(sanxia, masks) == {expired: 0}


def test_a_named_expired_lot_is_refused_and_mixed_stock_short_of_the_ask_is_refused_whole(sanxia, item):
    suits = item("SUIT")  # expiry and lot tracked
    _received_long_ago(sanxia, suits, 10, TODAY - datetime.timedelta(days=30), lot="OLD")
    services.receive_stock(sanxia, actor=None, item=suits, qty=4, lot="NEW",
                           expires_on=TODAY + datetime.timedelta(days=60))  # fmt: skip
    with pytest.raises(ValidationError) as exc:
        services.issue_stock(sanxia, actor=None, lines=[(suits, 2, "OLD")], recipient_kind="staff")
    assert WRITE_OFF in exc.value.message_dict["lines.0.qty"][0]
    with pytest.raises(ValidationError) as exc:  # 14 on the books, only 4 in date
        services.issue_stock(sanxia, actor=None, lines=[(suits, 5)], recipient_kind="staff")
    assert "只有 4" in exc.value.message_dict["lines.0.qty"][0]
    assert Balance.objects.get(unit=sanxia, item=suits).qty == 14


def test_a_transfer_never_sends_an_expired_lot(sanxia, item):
    masks = item("MASK")
    parent = Unit.objects.get(pk=sanxia.parent_id)
    _received_long_ago(parent, masks, 100, TODAY - datetime.timedelta(days=2))
    services.receive_stock(
        parent, actor=None, item=masks, qty=10, expires_on=TODAY + datetime.timedelta(days=90)
    )
    transfers = Transfer.objects.count()
    with pytest.raises(ValidationError) as exc:
        services.send_transfer(parent, sanxia, actor=None, lines=[(masks, 11)])
    assert WRITE_OFF in exc.value.message_dict["lines.0.qty"][0]
    assert Transfer.objects.count() == transfers
    t = services.send_transfer(parent, sanxia, actor=None, lines=[(masks, 10)])
    assert [(li.expires_on, li.qty_sent) for li in t.lines.all()] == [
        (TODAY + datetime.timedelta(days=90), 10)
    ]


def test_the_api_and_the_page_refuse_expired_stock_by_field(sanxia, item, api, client_for):
    masks = item("MASK")
    _received_long_ago(sanxia, masks, 8, TODAY - datetime.timedelta(days=5))
    answer = api("cq_admin").post(
        "/api/v1/manage/supplies/units/CQ-SXGC/issues",
        {"lines": [{"item": "MASK", "qty": 2}], "recipient_kind": "staff"}, content_type="application/json",
    )  # fmt: skip
    assert answer.status_code == 422
    assert WRITE_OFF in str(answer.json()) and "lines.0.qty" in str(answer.json())
    page = client_for("cq_admin").post(
        "/manage/supplies/u/CQ-SXGC/do/issue/", {"item_0": "MASK", "qty_0": "2", "recipient_kind": "staff"}
    )  # fmt: skip
    assert page.status_code == 200 and WRITE_OFF in page.content.decode()
    assert Balance.objects.get(unit=sanxia, item=masks).qty == 8


def test_expiry_alerts_come_n_days_ahead_once_per_item_and_clear_when_written_off(sanxia, item, settings):
    from yizhan.supplies import jobs
    from yizhan.supplies.models import Alert

    alcohol = item("ALCOHOL")
    assert not Lot.objects.filter(unit=sanxia, item=alcohol, qty__gt=0).exists()

    def alerts():
        return Alert.objects.filter(unit=sanxia, item=alcohol, kind="expiry", cleared_at__isnull=True)

    services.receive_stock(
        sanxia, actor=None, item=alcohol, qty=7, expires_on=TODAY + datetime.timedelta(days=40)
    )
    services.receive_stock(
        sanxia, actor=None, item=alcohol, qty=5, expires_on=TODAY + datetime.timedelta(days=44)
    )
    jobs.scan_expiry()
    assert not alerts().exists()  # 40 days out: beyond the default 30
    settings.YIZHAN_SUPPLIES_EXPIRY_DAYS = 45
    jobs.scan_expiry()
    jobs.scan_expiry()  # a second run opens nothing new
    assert [a.qty for a in alerts()] == [12]  # one alert for the item, both lots counted
    jobs.scan_expiry(TODAY - datetime.timedelta(days=10))  # seen from further back: not yet due
    assert not alerts().exists()
    jobs.scan_expiry()
    services.write_off(sanxia, actor=None, item=alcohol, qty=12, reason="临期报损")
    jobs.scan_expiry()
    assert not alerts().exists()
