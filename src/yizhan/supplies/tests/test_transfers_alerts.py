"""Transfers through all their states, the one alert per item (sent once, cleared by itself,
snoozed), expiry alerts, requisitions, and the forecast from known check-ins."""

import datetime
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from yizhan.notify.models import Message
from yizhan.orgs import services as org_services
from yizhan.orgs.models import Unit
from yizhan.supplies import forecast, jobs, services
from yizhan.supplies.models import Alert, Balance, Entry, Level, Requisition, Transfer

pytestmark = pytest.mark.django_db


def qty(unit, item):
    return getattr(Balance.objects.filter(unit=unit, item=item).first(), "qty", 0)


@pytest.fixture
def spb(db):
    return Unit.objects.get(code="CQ-SPB")


def test_the_shenyang_van_run_is_in_the_demo_as_a_received_transfer():
    t = Transfer.objects.get(to_unit__code="LN-SY-XGJ", carrier="每日运钞车")
    assert t.state == Transfer.State.RECEIVED
    assert {li.item.code: li.qty_received for li in t.lines.all()} == {"SUIT": 250, "WIPES": 1250}


def test_a_transfer_is_in_transit_then_received_with_a_recorded_shortage(spb, sanxia, item, users):
    cable = item("CABLE")
    services.receive_stock(spb, actor=users["cq_admin"], item=cable, qty=50)
    t = services.send_transfer(spb, sanxia, actor=users["cq_admin"], lines=[(cable, 20)], carrier="运钞车")
    assert t.state == "in_transit" and qty(spb, cable) == 30 and qty(sanxia, cable) == 0
    line = t.lines.get()
    with pytest.raises(ValidationError) as exc:  # a difference without a reason
        services.receive_transfer(
            t, actor=users["sanxia_manager"], received={line.pk: (18, "")}, revision=t.revision
        )
    assert f"lines.{line.pk}.difference_reason" in exc.value.message_dict
    with pytest.raises(ValidationError) as exc:  # more than was sent, without a reason
        services.receive_transfer(
            t, actor=users["sanxia_manager"], received={line.pk: (25, "")}, revision=t.revision
        )
    assert f"lines.{line.pk}.difference_reason" in exc.value.message_dict
    assert qty(sanxia, cable) == 0
    t = services.receive_transfer(
        t, actor=users["sanxia_manager"], received={line.pk: (18, "两根在途损坏")}, revision=t.revision
    )
    line.refresh_from_db()
    assert t.state == "received" and line.qty_received == 18 and line.difference == -2
    assert qty(sanxia, cable) == 18
    with pytest.raises(ValidationError):
        services.cancel_transfer(t, actor=users["cq_admin"])


@pytest.mark.parametrize("returned", [False, True])
def test_a_cancelled_or_returned_transfer_puts_the_stock_back_with_the_sender(
    spb, sanxia, item, users, returned
):
    cable = item("CABLE")
    services.receive_stock(spb, actor=None, item=cable, qty=10)
    t = services.send_transfer(spb, sanxia, actor=users["cq_admin"], lines=[(cable, 10)])
    t = services.cancel_transfer(
        t, actor=users["cq_admin"], returned=returned, reason="不需要" if returned else ""
    )
    assert t.state == ("returned" if returned else "cancelled")
    assert qty(spb, cable) == 10 and qty(sanxia, cable) == 0
    assert list(Entry.objects.filter(transfer=t).values_list("kind", flat=True)) == [
        "transfer_out",
        "transfer_back",
    ]


def test_a_transfer_to_itself_or_outside_the_scope_is_refused(sanxia, item, users):
    services.receive_stock(sanxia, actor=None, item=item("CABLE"), qty=5)
    with pytest.raises(ValidationError) as exc:
        services.send_transfer(sanxia, sanxia, actor=users["sanxia_manager"], lines=[(item("CABLE"), 1)])
    assert "to_unit" in exc.value.message_dict
    elsewhere = Unit.objects.get(code="CQ-JXDL")
    with pytest.raises(ValidationError) as exc:
        services.send_transfer(sanxia, elsewhere, actor=users["sanxia_manager"], lines=[(item("CABLE"), 1)])
    assert "to_unit" in exc.value.message_dict
    assert qty(sanxia, item("CABLE")) == 5


def test_one_alert_per_item_sent_once_to_the_unit_and_the_level_above_and_cleared_by_itself(
    sanxia, item, users
):
    cable = item("CABLE")
    services.receive_stock(sanxia, actor=None, item=cable, qty=10)
    services.save_level(
        sanxia, cable, actor=users["sanxia_manager"], minimum=5, reorder_point=8, maximum=20, lead_days=3
    )
    assert not Alert.objects.filter(unit=sanxia, item=cable).exists()
    for _ in range(3):  # three issues below the minimum: still one alert
        services.issue_stock(sanxia, actor=None, lines=[(cable, 2)], recipient_kind="staff")
    alert = Alert.objects.get(unit=sanxia, item=cable)
    assert alert.cleared_at is None and alert.qty == 4
    jobs.send_alerts()
    jobs.send_alerts()  # the next run sends nothing again
    messages = Message.objects.filter(dedup_key__startswith=f"supplies-low:supplies-alert-{alert.pk}:")
    told = {m.user.username for m in messages}
    assert "sanxia_manager" in told  # the outlet
    assert messages.count() == len(told)  # once each
    parent_staff = set(sanxia.parent.members.values_list("user__username", flat=True))
    assert parent_staff <= told  # and the level above
    assert "4" in messages.first().text
    services.receive_stock(sanxia, actor=None, item=cable, qty=10)
    alert.refresh_from_db()
    assert alert.cleared_at is not None
    services.issue_stock(sanxia, actor=None, lines=[(cable, 12)], recipient_kind="staff")
    assert (
        Alert.objects.filter(unit=sanxia, item=cable, cleared_at__isnull=True).count() == 1
    )  # a new occasion


def test_a_snoozed_item_sends_nothing_until_the_date(sanxia, item, users):
    cable = item("CABLE")
    level = services.save_level(sanxia, cable, actor=None, minimum=5, reorder_point=5, lead_days=3)
    level = services.snooze(level, actor=users["sanxia_manager"], until=timezone.localdate() + datetime.timedelta(days=3),
                            revision=level.revision)  # fmt: skip
    alert = Alert.objects.get(unit=sanxia, item=cable, cleared_at__isnull=True)
    jobs.send_alerts()
    alert.refresh_from_db()
    assert alert.notified_at is None
    jobs.send_alerts(now=timezone.now() + datetime.timedelta(days=4))
    alert.refresh_from_db()
    assert alert.notified_at is not None
    with pytest.raises(ValidationError) as exc:
        services.snooze(level, actor=None, until="2020-01-01")
    assert "snoozed_until" in exc.value.message_dict


def test_levels_refuse_a_reorder_point_below_the_minimum(sanxia, item):
    with pytest.raises(ValidationError) as exc:
        services.save_level(sanxia, item("CABLE"), actor=None, minimum=10, reorder_point=5, lead_days=3)
    assert "reorder_point" in exc.value.message_dict
    assert not Level.objects.filter(unit=sanxia, item=item("CABLE")).exists()


def test_the_demo_has_an_expiring_lot_alert_and_it_clears_when_written_off(sanxia, item):
    kits = item("FIRST-AID")
    alert = Alert.objects.get(unit=sanxia, item=kits, kind="expiry", cleared_at__isnull=True)
    services.write_off(sanxia, actor=None, item=kits, qty=2, lot="FA-2406", reason="临近过期报损")
    jobs.scan_expiry()
    alert.refresh_from_db()
    assert alert.cleared_at is not None


def test_a_requisition_is_approved_by_the_parent_and_sent_as_a_transfer(sanxia, spb, item, users):
    req = Requisition.objects.get(unit=sanxia, state="requested")
    with pytest.raises(ValidationError):  # the outlet cannot approve its own request
        services.decide_requisition(req, actor=users["sanxia_manager"], approve=True, revision=req.revision)
    before = qty(spb, item("CUP"))
    req = services.decide_requisition(req, actor=users["cq_admin"], approve=True, revision=req.revision)
    assert req.state == "approved"
    t = req.transfers.get()
    assert t.from_unit == spb and t.to_unit == sanxia and qty(spb, item("CUP")) == before - 500


def test_the_forecast_follows_the_check_ins_by_service_and_the_season(item, users):
    from yizhan.stations.models import Station
    from yizhan.visits import services as visit_services

    hq = Unit.objects.get(code="CQ-SPB")
    outlet = org_services.create_unit(actor=None, parent=hq, code="CQ-FC-TEST", kind="outlet", name="预测测试网点",
                                      address="测试路1号", lat=29.5, lng=106.5)  # fmt: skip
    station = Station.objects.create(
        code="FC-TEST", name="预测测试驿站", unit=outlet, address="测试路1号", lat=29.5, lng=106.5
    )
    today = datetime.date(2026, 6, 1)
    noon = datetime.time(12, tzinfo=timezone.get_current_timezone())
    # Last four weeks: 56 water check-ins (2 a day); a year before: 28 then 84 in the next four weeks.
    for day in range(28):
        d = today - datetime.timedelta(days=day + 1)
        for _ in range(2):
            visit_services.record_checkin(station, services=["water"], now=datetime.datetime.combine(d, noon))
        ago = d - datetime.timedelta(days=364)
        visit_services.record_checkin(station, services=["water"], now=datetime.datetime.combine(ago, noon))
        ahead = today + datetime.timedelta(days=day) - datetime.timedelta(days=364)
        for _ in range(3):
            visit_services.record_checkin(
                station, services=["water"], now=datetime.datetime.combine(ahead, noon)
            )
    visit_services.record_checkin(
        station,
        services=["charging"],
        now=datetime.datetime.combine(today - datetime.timedelta(days=2), noon),
    )
    cups = item("CUP")  # one per water check-in
    level = Level(unit=outlet, item=cups, minimum=20, reorder_point=50, maximum=200, lead_days=7)
    result = forecast.forecast(outlet, [(cups, 42, level)], today=today)[cups.pk]
    assert result.season == Decimal(3)
    assert result.weekly == Decimal("42.0")  # 14 a week × 3 for the season
    assert result.days_of_cover == 7
    assert result.suggest == 200 - 42
