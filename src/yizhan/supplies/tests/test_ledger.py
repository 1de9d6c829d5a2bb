"""The ledger: balance = sum of entries after any sequence of movements, append-only entries,
bad input refused by field with nothing written."""

import datetime
import io

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, connection, transaction
from django.utils import timezone
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, rule

from yizhan.orgs.models import Unit
from yizhan.supplies import ledger, services
from yizhan.supplies.models import Balance, Entry, Item, Lot

pytestmark = pytest.mark.django_db


def test_the_demo_ledger_proves_itself():
    checked, problems = ledger.check()
    assert checked > 20 and problems == []


def test_receipt_issue_and_reversal_move_the_balance_and_keep_the_card(sanxia, item, users):
    cups = item("CABLE")
    actor = users["sanxia_manager"]
    services.receive_stock(sanxia, actor=actor, item=cups, qty=30)
    dist = services.issue_stock(
        sanxia, actor=actor, lines=[(cups, 4)], recipient_kind="worker", group="courier"
    )
    entry = dist.entries.get()
    assert entry.qty == -4 and entry.balance_after == 26
    back = services.reverse_entry(entry, actor=actor, reason="登记错误")
    assert back.qty == 4 and back.reverses == entry
    assert Balance.objects.get(unit=sanxia, item=cups).qty == 30
    with pytest.raises(ValidationError) as exc:
        services.reverse_entry(entry, actor=actor, reason="again")
    assert "entry" in exc.value.message_dict
    seqs = list(Entry.objects.filter(unit=sanxia, item=cups).order_by("seq").values_list("seq", flat=True))
    assert seqs == [1, 2, 3]


def test_a_posted_entry_cannot_be_edited_or_deleted_not_even_with_raw_sql(sanxia, item):
    with transaction.atomic():
        entry = services.receive_stock(sanxia, actor=None, item=item("CABLE"), qty=5)
    entry.qty = 500
    with pytest.raises(TypeError):
        entry.save()
    with pytest.raises(TypeError):
        entry.delete()
    with pytest.raises(TypeError):
        Entry.objects.filter(pk=entry.pk).update(qty=500)
    with pytest.raises(TypeError):
        Entry.objects.filter(pk=entry.pk).delete()
    with pytest.raises(Exception, match="append-only"), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("UPDATE supplies_entry SET qty = 500 WHERE id = %s", [entry.pk])
    assert Entry.objects.get(pk=entry.pk).qty == 5


def test_the_database_refuses_a_negative_balance_even_past_the_service(sanxia, item):
    services.receive_stock(sanxia, actor=None, item=item("CABLE"), qty=2)
    with pytest.raises(IntegrityError), transaction.atomic():
        Balance.objects.filter(unit=sanxia, item=item("CABLE")).update(qty=-1)


@pytest.mark.parametrize(
    "qty, message_field",
    [("-3", "qty"), ("2.5", "qty"), ("0", "qty"), ("", "qty"), ("abc", "qty"), ("99999999999", "qty")],
)
def test_bad_quantities_are_refused_naming_the_field(sanxia, item, qty, message_field):
    before = Entry.objects.count()
    with pytest.raises(ValidationError) as exc:
        services.receive_stock(sanxia, actor=None, item=item("CABLE"), qty=qty)
    assert message_field in exc.value.message_dict
    assert Entry.objects.count() == before


def test_an_issue_larger_than_the_balance_is_refused_and_nothing_is_written(sanxia, item):
    cable, glasses = item("CABLE"), item("GLASSES")
    services.receive_stock(sanxia, actor=None, item=cable, qty=3)
    before = Entry.objects.count()
    have = Balance.objects.get(unit=sanxia, item=glasses).qty
    with pytest.raises(ValidationError) as exc:
        services.issue_stock(sanxia, actor=None, lines=[(glasses, 1), (cable, 4)], recipient_kind="staff")
    assert "lines.1.qty" in exc.value.message_dict and "3" in exc.value.message_dict["lines.1.qty"][0]
    assert Entry.objects.count() == before
    assert Balance.objects.get(unit=sanxia, item=glasses).qty == have


def test_an_expiry_in_the_past_on_a_receipt_is_refused(sanxia, item):
    with pytest.raises(ValidationError) as exc:
        services.receive_stock(sanxia, actor=None, item=item("MASK"), qty=10, expires_on="2020-01-01")
    assert "expires_on" in exc.value.message_dict
    with pytest.raises(ValidationError) as exc:
        services.receive_stock(sanxia, actor=None, item=item("MASK"), qty=10)
    assert "expires_on" in exc.value.message_dict


def test_expiry_tracked_stock_goes_first_expiring_first_out(sanxia, item):
    masks = item("MASK")
    soon = timezone.localdate() + datetime.timedelta(days=10)
    later = timezone.localdate() + datetime.timedelta(days=300)
    services.receive_stock(sanxia, actor=None, item=masks, qty=50, expires_on=later)
    services.receive_stock(sanxia, actor=None, item=masks, qty=30, expires_on=soon)
    dist = services.issue_stock(sanxia, actor=None, lines=[(masks, 40)], recipient_kind="staff")
    parts = sorted((e.expires_on, e.qty) for e in dist.entries.all())
    assert parts == [(soon, -30), (later, -10)]
    assert dict(Lot.objects.filter(unit=sanxia, item=masks).values_list("expires_on", "qty")) == {
        soon: 0,
        later: 40,
    }


def test_an_outside_group_must_be_named_and_a_worker_is_never_named(sanxia, item):
    services.receive_stock(sanxia, actor=None, item=item("CABLE"), qty=10)
    with pytest.raises(ValidationError) as exc:
        services.issue_stock(sanxia, actor=None, lines=[(item("CABLE"), 1)], recipient_kind="outside")
    assert "recipient" in exc.value.message_dict
    dist = services.issue_stock(
        sanxia,
        actor=None,
        lines=[(item("CABLE"), 1)],
        recipient_kind="worker",
        recipient="张三",
        group="courier",
    )
    assert dist.recipient == "" and dist.group == "courier"


class LedgerMachine(RuleBasedStateMachine):
    """Any sequence of receipts, issues, adjustments, write-offs, reversals and transfers between
    two units leaves every balance equal to the sum of its entries and never below zero."""

    def __init__(self):
        super().__init__()
        self.units = [Unit.objects.get(code="CQ-SPB"), Unit.objects.get(code="CQ-SXGC")]
        self.items = [Item.objects.get(code="CABLE"), Item.objects.get(code="MASK")]
        self.expected = {
            (u.pk, i.pk): getattr(Balance.objects.filter(unit=u, item=i).first(), "qty", 0)
            for u in self.units
            for i in self.items
        }
        self.entries = []
        self.transfers = []

    def _try(self, fn, *args, **kwargs):
        try:
            with transaction.atomic():
                return fn(*args, **kwargs)
        except ValidationError:
            return None

    @rule(u=st.integers(0, 1), i=st.integers(0, 1), qty=st.integers(1, 40), days=st.integers(1, 60))
    def receive(self, u, i, qty, days):
        expiry = timezone.localdate() + datetime.timedelta(days=days)
        entry = self._try(
            services.receive_stock, self.units[u], actor=None, item=self.items[i], qty=qty, expires_on=expiry
        )
        if entry:
            self.expected[self.units[u].pk, self.items[i].pk] += qty
            self.entries.append(entry)

    @rule(u=st.integers(0, 1), i=st.integers(0, 1), qty=st.integers(1, 60))
    def issue(self, u, i, qty):
        key = (self.units[u].pk, self.items[i].pk)
        dist = self._try(
            services.issue_stock,
            self.units[u],
            actor=None,
            lines=[(self.items[i], qty)],
            recipient_kind="staff",
        )
        assert (dist is not None) == (qty <= self.expected[key])
        if dist:
            self.expected[key] -= qty
            self.entries.extend(dist.entries.all())

    @rule(u=st.integers(0, 1), i=st.integers(0, 1), qty=st.integers(-30, 30).filter(bool))
    def adjust(self, u, i, qty):
        key = (self.units[u].pk, self.items[i].pk)
        entry = self._try(services.adjust_stock, self.units[u], actor=None, item=self.items[i], qty=qty, reason="盘点",
                          expires_on=timezone.localdate() + datetime.timedelta(days=5))  # fmt: skip
        if entry:
            self.expected[key] += qty

    @rule(n=st.integers(0, 1000))
    def reverse(self, n):
        if not self.entries:
            return
        entry = self.entries[n % len(self.entries)]
        back = self._try(services.reverse_entry, entry, actor=None, reason="冲正")
        if back:
            self.expected[entry.unit_id, entry.item_id] -= entry.qty

    @rule(i=st.integers(0, 1), qty=st.integers(1, 30), up=st.booleans())
    def send(self, i, qty, up):
        src, dst = (self.units[1], self.units[0]) if up else (self.units[0], self.units[1])
        transfer = self._try(services.send_transfer, src, dst, actor=None, lines=[(self.items[i], qty)])
        if transfer:
            self.expected[src.pk, self.items[i].pk] -= qty
            self.transfers.append(transfer)

    @rule(n=st.integers(0, 1000), short=st.integers(0, 3), back=st.booleans())
    def close(self, n, short, back):
        if not self.transfers:
            return
        transfer = self.transfers.pop(n % len(self.transfers))
        line = transfer.lines.get()
        if back:
            services.cancel_transfer(transfer, actor=None)
            self.expected[transfer.from_unit_id, line.item_id] += line.qty_sent
        else:
            got = max(0, line.qty_sent - short)
            services.receive_transfer(
                transfer, actor=None, received={line.pk: (got, "运输破损" if short else "")}
            )
            self.expected[transfer.to_unit_id, line.item_id] += got

    @invariant()
    def balances_equal_the_ledger(self):
        for (unit_id, item_id), qty in self.expected.items():
            balance = Balance.objects.filter(unit_id=unit_id, item_id=item_id).first()
            assert getattr(balance, "qty", 0) == qty >= 0
        _checked, problems = ledger.check()
        assert problems == []


def test_balance_equals_the_sum_of_entries_after_any_sequence(db):
    run = LedgerMachine.TestCase
    run.settings = settings(max_examples=12, stateful_step_count=12, deadline=None,
                            suppress_health_check=list(HealthCheck))  # fmt: skip
    # Each example runs in a savepoint of this test's transaction, rolled back afterwards.
    original = LedgerMachine.__init__

    def init(self):
        self._sp = transaction.savepoint()
        original(self)

    def teardown(self):
        transaction.savepoint_rollback(self._sp)

    LedgerMachine.__init__, LedgerMachine.teardown = init, teardown
    try:
        run().runTest()
    finally:
        LedgerMachine.__init__ = original
        del LedgerMachine.teardown


def test_the_check_command_proves_the_ledger_and_names_a_drifted_balance(sanxia, item):
    from django.core.management import CommandError, call_command
    from django.db.models import F

    out = io.StringIO()
    call_command("check_supplies", stdout=out)
    assert "balances checked" in out.getvalue() or "已核对" in out.getvalue()
    services.receive_stock(sanxia, actor=None, item=item("CABLE"), qty=5)
    # Only a write behind the ledger's back can make a balance drift; the check names it.
    Balance.objects.filter(unit=sanxia, item=item("CABLE")).update(qty=F("qty") + 1)
    out = io.StringIO()
    with pytest.raises(CommandError):
        call_command("check_supplies", stdout=out)
    assert f"unit {sanxia.pk} item {item('CABLE').pk}" in out.getvalue()


def test_the_proof_covers_the_alerts_too(sanxia, item):
    from yizhan.supplies.models import Alert, Level

    cups = item("CUP")
    alert = Alert.objects.get(unit=sanxia, item=cups, kind="low", cleared_at__isnull=True)
    assert ledger.check()[1] == []
    Alert.objects.filter(pk=alert.pk).delete()  # an alert lost behind the ledger's back
    assert [p.what for p in ledger.check()[1]] == ["below minimum, no open alert"]
    Alert.objects.create(unit=sanxia, item=cups, kind="low", qty=0)
    level = Level.objects.get(unit=sanxia, item=cups)
    Level.objects.filter(pk=level.pk).update(minimum=0)  # a minimum lowered without save_level
    assert [p.what for p in ledger.check()[1]] == ["alert open, balance not below minimum"]


def test_only_a_post_that_crosses_the_minimum_touches_the_alert(sanxia, item):
    from yizhan.supplies.models import Alert

    cable = item("CABLE")
    services.save_level(sanxia, cable, actor=None, minimum=5, reorder_point=5, maximum=None, lead_days=7)
    open_alerts = Alert.objects.filter(unit=sanxia, item=cable, kind="low", cleared_at__isnull=True)
    have = Balance.objects.get(unit=sanxia, item=cable).qty
    services.receive_stock(sanxia, actor=None, item=cable, qty=max(1, 5 - have))  # up to the minimum
    assert not open_alerts.exists()
    services.issue_stock(sanxia, actor=None, lines=[(cable, 1)], recipient_kind="staff")  # 4 < 5
    first = open_alerts.get()
    services.issue_stock(sanxia, actor=None, lines=[(cable, 1)], recipient_kind="staff")  # still below
    assert open_alerts.get().pk == first.pk
    services.receive_stock(sanxia, actor=None, item=cable, qty=10)
    assert not open_alerts.exists() and ledger.check()[1] == []
