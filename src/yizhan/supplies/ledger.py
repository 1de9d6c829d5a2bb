"""The one write path of the stock ledger.

`post()` is the only code that inserts an `Entry` or changes a `Balance` or `Lot`. Inside the
caller's transaction it locks the balance row (creating it on first use), refuses a movement that
would take the balance or the lot below zero, inserts the entry with the next sequence number and
the balance after it, and moves the balance and lot by the same amount. Two issues of the last
unit at once therefore queue on the row lock: the second sees the first's balance and is refused.
`check()` proves the invariant over every balance with two grouped queries.
"""

import datetime
from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.db.models import Count, F, Max, Sum
from django.utils import timezone
from django.utils.translation import gettext as _

from yizhan.supplies.models import Alert, Balance, Entry, Level, Lot


def lock_balance(unit, item) -> Balance:
    balance = Balance.objects.select_for_update().filter(unit=unit, item=item).first()
    if balance is None:
        # First movement of this item here: create the row, then lock it. A concurrent first
        # movement loses the unique key race inside a savepoint and locks the winner's row.
        Balance.objects.get_or_create(unit=unit, item=item)
        balance = Balance.objects.select_for_update().get(unit=unit, item=item)
    return balance


def _locked_row(unit_id: int, item_id: int) -> tuple | None:
    """(balance id, qty, entries, the level's minimum or None), the balance row locked."""
    sql = _LOCK_SQL.get(connection.vendor)
    if sql is None:
        sql = (
            "SELECT b.id, b.qty, b.entries, lv.minimum FROM supplies_balance b LEFT JOIN supplies_level lv"
            " ON lv.unit_id = b.unit_id AND lv.item_id = b.item_id WHERE b.unit_id = %s AND b.item_id = %s"
        )
        if connection.features.has_select_for_update_of:
            sql += " FOR UPDATE OF b"
        elif connection.features.has_select_for_update:
            sql += " FOR UPDATE"
        _LOCK_SQL[connection.vendor] = sql
    with connection.cursor() as cursor:
        cursor.execute(sql, [unit_id, item_id])
        return cursor.fetchone()


_LOCK_SQL: dict[str, str] = {}


def post(unit, item, qty: int, kind: str, *, actor=None, lot: str = "", expires_on=None, field: str = "qty",
         at=None, **links) -> Entry:  # fmt: skip
    """Append one entry (qty signed: + in, - out) and move the balance with it."""
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("ledger.post runs inside the caller's transaction")
    if qty == 0:
        raise ValidationError({field: _("Enter a quantity other than zero.")})
    # The hot path (every receipt and hand-out) in two plain statements around the insert: the
    # balance row locked together with its level's minimum, and the update by the same amount.
    # The ORM's version of the same three queries cost about a third of a posting request.
    row = _locked_row(unit.pk, item.pk)
    if row is None:
        lock_balance(unit, item)
        row = _locked_row(unit.pk, item.pk)
    balance_id, before, count, minimum = row
    after = before + qty
    if after < 0:
        raise ValidationError(
            {field: _("Only %(left)s %(uom)s of %(item)s left here; %(asked)s cannot be taken out.")
             % {"left": before, "uom": item.uom, "item": item.name, "asked": -qty}}
        )  # fmt: skip
    if item.tracks_lots:
        _move_lot(unit, item, lot, expires_on, qty, field)
    now = at or timezone.now()
    entry = Entry(
        unit=unit, item=item, seq=count + 1, kind=kind, qty=qty, balance_after=after,
        lot=lot, expires_on=expires_on, actor=actor if getattr(actor, "pk", None) else None, at=now, **links,
    )  # fmt: skip
    entry.save(force_insert=True)
    with connection.cursor() as cursor:
        cursor.execute(
            "UPDATE supplies_balance SET qty = qty + %s, entries = entries + 1, updated_at = %s WHERE id = %s",
            [qty, connection.ops.adapt_datetimefield_value(now), balance_id],
        )
    # An open below-minimum alert exists exactly while the balance is below its level's minimum
    # (this function and save_level are its only writers, `check` proves it), so only a post that
    # crosses the minimum has an alert to open or clear.
    if minimum is not None and (before < minimum) != (after < minimum):
        reassess(unit, item, after)
    return entry


def _move_lot(unit, item, code, expires_on, qty, field):
    lot = Lot.objects.filter(unit=unit, item=item, code=code, expires_on=expires_on).first()
    if lot is None:
        if qty < 0:
            raise ValidationError({field: _("There is no such lot of %(item)s here.") % {"item": item.name}})
        Lot.objects.create(unit=unit, item=item, code=code, expires_on=expires_on, qty=qty)
        return
    if lot.qty + qty < 0:
        raise ValidationError(
            {field: _("Only %(left)s left in lot %(lot)s.") % {"left": lot.qty, "lot": code or "—"}}
        )
    Lot.objects.filter(pk=lot.pk).update(qty=F("qty") + qty)


# What leaves for use never includes an expired lot: it can only be written off (or corrected by a
# count), so hand-outs and transfers pick first-expiring-first-out among the lots still in date.
NO_EXPIRED = {"issue", "transfer_out"}


def take(
    unit, item, qty: int, kind: str, *, lot: str | None = None, field: str = "qty", **kwargs
) -> list[Entry]:
    """Take `qty` (> 0) out: from the named lot, or first-expiring-first-out across the lots."""
    if not item.tracks_lots:
        return [post(unit, item, -qty, kind, field=field, **kwargs)]
    balance = lock_balance(unit, item)  # the lots are read under the balance lock
    if balance.qty < qty:
        post(unit, item, -qty, kind, field=field, **kwargs)  # raises with the message
    lots = Lot.objects.filter(unit=unit, item=item, qty__gt=0)
    if lot is not None:
        lots = lots.filter(code=lot)
    lots = list(lots.order_by(F("expires_on").asc(nulls_last=True), "pk"))
    if kind in NO_EXPIRED:
        day = timezone.localdate(kwargs.get("at") or timezone.now())
        expired = [row for row in lots if row.expires_on is not None and row.expires_on < day]
        lots = [row for row in lots if row not in expired]
        usable = sum(row.qty for row in lots)
        if expired and usable < qty:
            raise ValidationError({field: _(
                "Only %(left)s %(uom)s of %(item)s here are within their expiry date; %(expired)s %(uom)s "
                "expired (first on %(day)s) and cannot be handed out or sent: write the expired stock off."
            ) % {"left": usable, "uom": item.uom, "item": item.name, "expired": sum(r.qty for r in expired),
                 "day": min(r.expires_on for r in expired).isoformat()}})  # fmt: skip
    entries, left = [], qty
    for row in lots:
        part = min(left, row.qty)
        entries.append(
            post(unit, item, -part, kind, lot=row.code, expires_on=row.expires_on, field=field, **kwargs)
        )
        left -= part
        if not left:
            return entries
    raise ValidationError({field: _("Not enough of %(item)s in that lot.") % {"item": item.name}})


# --- levels and alerts ---------------------------------------------------------------------------


def reassess(unit, item, qty: int, level: Level | None = None) -> None:
    """Open the item's one below-minimum alert, or clear it, to match the balance just written."""
    level = level or Level.objects.filter(unit=unit, item=item).first()
    below = level is not None and qty < level.minimum
    open_alert = Alert.objects.filter(unit=unit, item=item, kind=Alert.Kind.LOW, cleared_at__isnull=True)
    if below:
        if not open_alert.exists():
            Alert.objects.create(unit=unit, item=item, kind=Alert.Kind.LOW, qty=qty)
    else:
        open_alert.update(cleared_at=timezone.now())


# --- the proof -----------------------------------------------------------------------------------


@dataclass
class Mismatch:
    unit_id: int
    item_id: int
    balance: int | None
    ledger: int | None
    what: str


def check(limit: int = 100) -> tuple[int, list[Mismatch]]:
    """(balances checked, mismatches): every balance against the sum, count and last number of its
    entries, every lot against its entries, and no entries without a balance."""
    sums = {
        (r["unit_id"], r["item_id"]): r
        for r in Entry.objects.order_by()
        .values("unit_id", "item_id")
        .annotate(total=Sum("qty"), n=Count("pk"), last=Max("seq"))
    }
    problems, checked = [], 0
    for unit_id, item_id, qty, entries in Balance.objects.values_list(
        "unit_id", "item_id", "qty", "entries"
    ).iterator(chunk_size=20000):
        checked += 1
        row = sums.pop((unit_id, item_id), None)
        total, n, last = (row["total"], row["n"], row["last"]) if row else (0, 0, 0)
        if total != qty:
            problems.append(Mismatch(unit_id, item_id, qty, total, "sum"))
        elif n != entries or last != entries:
            problems.append(Mismatch(unit_id, item_id, entries, n, "count"))
    for (unit_id, item_id), row in sums.items():
        problems.append(Mismatch(unit_id, item_id, None, row["total"], "no balance"))
    lot_sums = {
        (r["unit_id"], r["item_id"], r["lot"], r["expires_on"]): r["total"]
        for r in Entry.objects.filter(item__in=_tracked_items()).order_by()
        .values("unit_id", "item_id", "lot", "expires_on").annotate(total=Sum("qty"))
    }  # fmt: skip
    for unit_id, item_id, code, expires_on, qty in Lot.objects.values_list(
        "unit_id", "item_id", "code", "expires_on", "qty"
    ).iterator(chunk_size=20000):
        total = lot_sums.pop((unit_id, item_id, code, expires_on), 0)
        if total != qty:
            problems.append(Mismatch(unit_id, item_id, qty, total, f"lot {code}"))
    for (unit_id, item_id, code, _e), total in lot_sums.items():
        if total:
            problems.append(Mismatch(unit_id, item_id, None, total, f"lot {code}"))
    # Every balance below its minimum has its one open alert, and no other pair has one.
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT b.unit_id, b.item_id, b.qty, lv.minimum FROM supplies_balance b JOIN supplies_level lv"
            " ON lv.unit_id = b.unit_id AND lv.item_id = b.item_id WHERE b.qty < lv.minimum"
        )
        below = {(u, i): (q, m) for u, i, q, m in cursor.fetchall()}
    for unit_id, item_id in Alert.objects.filter(kind=Alert.Kind.LOW, cleared_at__isnull=True).values_list(
        "unit_id", "item_id"
    ):
        if below.pop((unit_id, item_id), None) is None:
            problems.append(Mismatch(unit_id, item_id, None, None, "alert open, balance not below minimum"))
    for (unit_id, item_id), (qty, minimum) in below.items():
        problems.append(Mismatch(unit_id, item_id, qty, minimum, "below minimum, no open alert"))
    return checked, problems[:limit]


def _tracked_items():
    from django.db.models import Q

    from yizhan.supplies.models import Item

    return Item.objects.filter(Q(expiry_tracked=True) | Q(lot_tracked=True)).values("pk")


def week_start(day: datetime.date) -> datetime.date:
    return day - datetime.timedelta(days=day.weekday())
