"""Duplicate grouping over one batch, pure Python (the import preview runs it before anything is saved).

Two instructions are linked when they
- carry the same instruction id (core banking exported it twice), or
- have the same payer account, payee account, amount and normalised purpose, or
- have the same payer account, payee account and amount, created within the window of each other
  (chained: three payments an hour apart with a two-hour window form one group).
Linked instructions form one group (connected components); its kind is the strongest link inside.

The one proposed to keep: a member already decided (or proposed) for processing now if there is
one; otherwise the earliest created, ties broken by the order it came in. A member already
deleted as a duplicate is never proposed.
"""

import datetime
from collections import defaultdict
from dataclasses import dataclass
from decimal import Decimal

SAME_ID, SAME_FIELDS, NEAR = "same_id", "same_fields", "near"
STRENGTH = {SAME_ID: 0, SAME_FIELDS: 1, NEAR: 2}


@dataclass(frozen=True)
class Item:
    key: object  # the pk, or the row number of a record not yet saved
    instruction_id: str
    payer_account: str
    payee_account: str
    amount: Decimal
    purpose: str  # normalised
    created_at: datetime.datetime
    decision: str = ""


@dataclass
class Group:
    members: list  # keys, in the order they came in
    kind: str
    keep: object


def group_duplicates(items: list[Item], window: datetime.timedelta) -> list[Group]:
    parent = list(range(len(items)))
    strongest: dict[int, str] = {}

    def find(i):
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    def link(i, j, kind):
        ri, rj = find(i), find(j)
        best = min((k for k in (strongest.get(ri), strongest.get(rj), kind) if k), key=STRENGTH.__getitem__)
        if ri != rj:
            parent[rj] = ri
            strongest.pop(rj, None)
        strongest[ri] = best

    by_id: dict[str, list[int]] = defaultdict(list)
    by_fields: dict[tuple, list[int]] = defaultdict(list)
    by_pair: dict[tuple, list[int]] = defaultdict(list)
    for index, item in enumerate(items):
        by_id[item.instruction_id].append(index)
        by_fields[(item.payer_account, item.payee_account, item.amount, item.purpose)].append(index)
        by_pair[(item.payer_account, item.payee_account, item.amount)].append(index)
    for indexes, kind in ((by_id, SAME_ID), (by_fields, SAME_FIELDS)):
        for members in indexes.values():
            for other in members[1:]:
                link(members[0], other, kind)
    for members in by_pair.values():
        if len(members) < 2:
            continue
        members = sorted(members, key=lambda i: (items[i].created_at, i))
        for previous, current in zip(members, members[1:], strict=False):
            if items[current].created_at - items[previous].created_at <= window:
                link(previous, current, NEAR)

    components: dict[int, list[int]] = defaultdict(list)
    for index in range(len(items)):
        components[find(index)].append(index)
    # Members are listed in input order, so groups come out in the order their first member came in.
    return [
        Group(
            members=[items[i].key for i in members],
            kind=strongest[root],
            keep=items[propose_keep(items, members)].key,
        )
        for root, members in sorted(components.items(), key=lambda kv: kv[1][0])
        if len(members) > 1
    ]


def propose_keep(items: list[Item], members) -> int:
    """The index of the member to keep (rules in the module docstring)."""
    chosen = [i for i in members if items[i].decision == "process_now"]
    if chosen:
        return min(chosen)
    candidates = [i for i in members if items[i].decision != "delete_duplicate"] or members
    return min(candidates, key=lambda i: (items[i].created_at, i))
