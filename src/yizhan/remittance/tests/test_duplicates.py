"""Duplicate grouping: exact (same id; same accounts, amount and purpose), near (same payer, payee
and amount within the window), connected into groups, with the one to keep proposed."""

import datetime
from decimal import Decimal

from yizhan.remittance import services
from yizhan.remittance.duplicates import Item, group_duplicates
from yizhan.remittance.models import DuplicateGroup, Instruction

T0 = datetime.datetime(2020, 1, 25, 9, 0, tzinfo=datetime.UTC)
HOUR = datetime.timedelta(hours=1)


def item(key, *, iid=None, payer="P1", payee="Q1", amount="100.00", purpose="捐款", at=0, decision=""):
    return Item(key, iid or f"ID{key}", payer, payee, Decimal(amount), purpose, T0 + at * HOUR, decision)


def groups_of(items, window_hours=24):
    return [(sorted(g.members), g.kind, g.keep) for g in group_duplicates(items, window_hours * HOUR)]


def test_same_instruction_id_is_an_exact_duplicate():
    items = [
        item(1, iid="A", payer="X"),
        item(2, iid="A", payer="Y", amount="5"),
        item(3, iid="B", payer="Z"),
    ]
    assert groups_of(items) == [([1, 2], "same_id", 1)]


def test_same_accounts_amount_and_purpose_is_an_exact_duplicate_whatever_the_time():
    items = [item(1, at=0), item(2, at=200), item(3, purpose="货款", payer="OTHER")]
    assert groups_of(items) == [([1, 2], "same_fields", 1)]


def test_near_duplicates_need_the_window():
    items = [item(1, purpose="捐款", at=0), item(2, purpose="抗疫捐款", at=3)]
    assert groups_of(items, window_hours=4) == [([1, 2], "near", 1)]
    assert groups_of(items, window_hours=2) == []


def test_different_amount_or_payee_is_not_a_duplicate():
    items = [item(1), item(2, amount="100.01"), item(3, payee="Q2"), item(4, payer="P2")]
    assert groups_of(items) == []


def test_near_links_chain_and_the_strongest_kind_names_the_group():
    items = [
        item(1, purpose="a", at=0),
        item(2, purpose="b", at=2),
        item(3, purpose="c", at=4),  # 4 h from the first, 2 h from the second: chained with a 3 h window
        item(4, purpose="c", at=40),  # same fields as 3: exact, whatever the time
    ]
    assert groups_of(items, window_hours=3) == [([1, 2, 3, 4], "same_fields", 1)]


def test_keep_prefers_a_member_already_processed_then_the_earliest():
    items = [item(1, at=5), item(2, at=1), item(3, at=3)]
    assert groups_of(items)[0][2] == 2
    items = [item(1, at=5, decision="process_now"), item(2, at=1), item(3, at=3)]
    assert groups_of(items)[0][2] == 1
    items = [item(1, at=5), item(2, at=1, decision="delete_duplicate"), item(3, at=3)]
    assert groups_of(items)[0][2] == 3


def test_same_id_copies_keep_the_first_that_came_in():
    items = [item(7, iid="A", at=0), item(3, iid="A", at=0)]
    assert groups_of(items) == [([3, 7], "same_id", 7)]


def test_groups_are_numbered_in_the_order_their_first_member_came_in(green):
    batch, by_id = green
    numbers = {g.number: g for g in DuplicateGroup.objects.filter(batch=batch)}
    assert sorted(numbers) == [1, 2]
    assert numbers[1].keep_id == by_id["G-001"].pk and numbers[1].size == 2
    assert numbers[2].keep_id == by_id["G-005"].pk and numbers[2].kind == "near"


def test_changing_the_window_regroups(green):
    batch, by_id = green
    services.update_batch(batch, actor=None, near_window_hours=1)
    assert Instruction.objects.get(pk=by_id["G-006"].pk).dup_group_id is None
    assert DuplicateGroup.objects.filter(batch=batch).count() == 1
    services.update_batch(batch, actor=None, near_window_hours=2)
    g5, g6 = Instruction.objects.get(pk=by_id["G-005"].pk), Instruction.objects.get(pk=by_id["G-006"].pk)
    assert g5.dup_group_id == g6.dup_group_id is not None
