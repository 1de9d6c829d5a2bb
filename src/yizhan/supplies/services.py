"""Service verbs of supplies: the catalogue, stock movements, transfers, levels, requisitions.

Each verb validates with the `clean_*` rules the forms, the API and the demo share, runs in one
transaction, moves stock only through `ledger.post` / `ledger.take`, and records an audit event.
"""

import datetime

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from yizhan.audit.services import diff, record, snapshot
from yizhan.core import concurrency
from yizhan.orgs.scoping import scope_for
from yizhan.supplies import ledger
from yizhan.supplies.models import (
    Category,
    Distribution,
    Driver,
    Entry,
    Item,
    Kind,
    Level,
    RecipientKind,
    Requisition,
    RequisitionLine,
    Transfer,
    TransferLine,
)
from yizhan.visits.models import GROUP_CODES

MAX_QTY = 10_000_000
MAX_LINES = 50
ITEM_FIELDS = [
    "code",
    "name",
    "name_en",
    "uom",
    "category",
    "expiry_tracked",
    "lot_tracked",
    "driver",
    "per_use",
    "active",
]
LEVEL_FIELDS = ["minimum", "reorder_point", "maximum", "lead_days"]


# --- rules shared by forms, API and demo ---------------------------------------------------------


def clean_qty(value, field: str = "qty", *, allow_negative: bool = False) -> int:
    """A whole number of the item's unit (every unit of measure here is a count)."""
    text = str(value).strip() if value is not None else ""
    try:
        number = int(text)
    except ValueError:
        try:
            float(text)
        except ValueError:
            raise ValidationError({field: _("Enter a quantity.")}) from None
        raise ValidationError(
            {field: _("Enter a whole number: this item is counted in whole units.")}
        ) from None
    if number == 0 or (number < 0 and not allow_negative):
        raise ValidationError({field: _("Enter a quantity of at least 1.")})
    if abs(number) > MAX_QTY:
        raise ValidationError({field: _("That quantity is too large.")})
    return number


def clean_count(value, field: str) -> int:
    """A whole number of 0 or more (a line that arrived empty)."""
    if str(value).strip() == "0":
        return 0
    return clean_qty(value, field)


def clean_date(value, field: str) -> datetime.date | None:
    if value in (None, ""):
        return None
    if isinstance(value, datetime.date):
        return value
    try:
        return datetime.date.fromisoformat(str(value).strip())
    except ValueError:
        raise ValidationError({field: _("Enter a date as YYYY-MM-DD.")}) from None


def clean_lot(
    item: Item, lot, expires_on, *, receiving: bool, prefix: str = "", on=None
) -> tuple[str, datetime.date | None]:
    lot = (lot or "").strip()[:40]
    expires_on = clean_date(expires_on, prefix + "expires_on")
    if not item.tracks_lots:
        return "", None
    if item.expiry_tracked and receiving:
        if expires_on is None:
            raise ValidationError(
                {prefix + "expires_on": _("This item's expiry is tracked: enter the expiry date.")}
            )
        if expires_on < (on or timezone.localdate()):
            raise ValidationError(
                {
                    prefix + "expires_on": _(
                        "That expiry date has passed: write expired stock off, do not receive it."
                    )
                }
            )
    if item.lot_tracked and receiving and not lot:
        raise ValidationError({prefix + "lot": _("This item's lots are tracked: enter the lot number.")})
    return lot, expires_on


def clean_reason(value, field: str = "reason", required: bool = True) -> str:
    text = (value or "").strip()
    if required and not text:
        raise ValidationError({field: _("Say why.")})
    if len(text) > 200:
        raise ValidationError({field: _("Keep it under 200 characters.")})
    return text


def _require_in_scope(actor, unit, field: str) -> None:
    """A unit the actor does not cover is refused by name in a field, the same as a missing one."""
    if actor is None:
        return
    scope = scope_for(actor)
    if not scope.covers(unit.path) or not scope.can("change"):
        raise ValidationError({field: _("Choose a unit in your part of the tree.")})


def _active_item(item: Item, field: str = "item") -> Item:
    if item is None or not item.active:
        raise ValidationError({field: _("Choose an item in use.")})
    return item


def _clean_lines(lines: list[tuple], *, receiving: bool = False, on=None) -> list[tuple]:
    """Lines are (item, qty[, lot[, expires_on]]). Every bad line is reported at once, each by its
    row and field (`lines.2.qty`); nothing is written unless all are good. Returned as (item, qty,
    lot, expires_on, row)."""
    if not lines:
        raise ValidationError({"lines": _("Add at least one item.")})
    if len(lines) > MAX_LINES:
        raise ValidationError({"lines": _("Up to %(n)s lines at a time.") % {"n": MAX_LINES}})
    checked, errors = [], {}
    for n, line in enumerate(lines):
        item, qty, lot, expires_on = (*line, None, None)[:4]
        try:
            item = _active_item(item, f"lines.{n}.item")
            qty = clean_qty(qty, f"lines.{n}.qty")
            if receiving:
                lot, expires_on = clean_lot(
                    item, lot, expires_on, receiving=True, prefix=f"lines.{n}.", on=on
                )
            else:
                lot = (lot or "").strip() or None
        except ValidationError as exc:
            errors.update(exc.message_dict)
            continue
        checked.append((item, qty, lot, expires_on, n))
    if errors:
        raise ValidationError(errors)
    return checked


def _post_event(entry: Entry, actor, before: int, extra: dict | None = None) -> None:
    record(
        "supplies.entry.posted",
        entry,
        actor=actor,
        unit=entry.unit,
        changes={"kind": [None, entry.kind], "item": [None, entry.item.code], "qty": [None, entry.qty],
                 "balance": [before, entry.balance_after], **(extra or {})},
        object_repr=f"{entry.item.name} {entry.qty:+d}",
    )  # fmt: skip


def _post(unit, item, qty, kind, actor, **kwargs) -> Entry:
    entry = ledger.post(unit, item, qty, kind, actor=actor, **kwargs)
    _post_event(entry, actor, entry.balance_after - entry.qty)
    return entry


def _take(unit, item, qty, kind, actor, **kwargs) -> list[Entry]:
    entries = ledger.take(unit, item, qty, kind, actor=actor, **kwargs)
    for entry in entries:
        _post_event(entry, actor, entry.balance_after - entry.qty)
    return entries


# --- the catalogue --------------------------------------------------------------------------------


def clean_item(data: dict, instance: Item | None = None) -> dict:
    from yizhan.orgs.models import code_validator

    errors, out = {}, {}
    code = (data.get("code") if "code" in data else getattr(instance, "code", "")) or ""
    code = str(code).strip()
    try:
        code_validator(code)
        if not code or len(code) > 32:
            raise ValidationError(_("Enter a code of up to 32 letters, digits, '-' or '_'."))
    except ValidationError as exc:
        errors["code"] = exc.messages
    else:
        clash = Item.objects.filter(code=code).exclude(pk=getattr(instance, "pk", None))
        if clash.exists():
            errors["code"] = _("Another item has this code.")
    out["code"] = code
    for field, limit, required in (("name", 100, True), ("name_en", 200, False), ("uom", 10, True)):
        value = str(data.get(field, getattr(instance, field, "")) or "").strip()
        if required and not value:
            errors[field] = _("This field is required.")
        elif len(value) > limit:
            errors[field] = _("Keep it under %(n)s characters.") % {"n": limit}
        out[field] = value
    category = data.get("category", getattr(instance, "category", ""))
    if category not in Category.values:
        errors["category"] = _("Choose a category.")
    out["category"] = category
    driver = data.get("driver", getattr(instance, "driver", "")) or ""
    if driver not in Driver.values:
        errors["driver"] = _("Choose what the use follows.")
    out["driver"] = driver
    from decimal import Decimal, InvalidOperation

    try:
        per_use = Decimal(str(data.get("per_use", getattr(instance, "per_use", 0)) or 0))
        if not per_use.is_finite() or per_use < 0 or per_use > 1000:
            raise InvalidOperation
        out["per_use"] = per_use.quantize(Decimal("0.001"))
    except (InvalidOperation, ValueError):
        errors["per_use"] = _("Enter a number from 0 to 1000.")
    for flag in ("expiry_tracked", "lot_tracked", "active"):
        out[flag] = bool(data.get(flag, getattr(instance, flag, flag == "active")))
    if errors:
        raise ValidationError(errors)
    return out


def save_item(*, actor, instance: Item | None = None, revision=None, **data) -> Item:
    with transaction.atomic():
        if instance is None:
            item = Item(**clean_item(data))
            item.save()
            record("supplies.item.created", item, actor=actor, changes=diff({}, snapshot(item, ITEM_FIELDS)))
            return item
        item = Item.objects.select_for_update().get(pk=instance.pk)
        concurrency.check(item, revision, actor=actor)
        cleaned = clean_item(data, item)
        before = snapshot(item, ITEM_FIELDS)
        for field, value in cleaned.items():
            setattr(item, field, value)
        changes = diff(before, snapshot(item, ITEM_FIELDS))
        if changes:
            concurrency.advance(item, changes, actor=actor)
            item.save()
            record("supplies.item.updated", item, actor=actor, changes=changes)
        return item


# --- stock movements at one unit -----------------------------------------------------------------


def receive_stock(unit, *, actor, item, qty, lot="", expires_on=None, reason="", at=None) -> Entry:
    """Stock bought or donated arrives at `unit` (not from another unit: that is a transfer).
    `at` backdates the entry (the demo's history); it is still appended last."""
    item = _active_item(item)
    qty = clean_qty(qty)
    lot, expires_on = clean_lot(item, lot, expires_on, receiving=True, on=at and timezone.localdate(at))
    reason = clean_reason(reason, required=False)
    with transaction.atomic():
        return _post(
            unit, item, qty, Kind.RECEIPT, actor, lot=lot, expires_on=expires_on, reason=reason, at=at
        )


def receive_lines(unit, *, actor, lines: list[tuple], reason="", at=None) -> list[Entry]:
    """Several items arrive together (one delivery note): lines are (item, qty, lot, expires_on);
    all are posted or none."""
    checked = _clean_lines(lines, receiving=True, on=at and timezone.localdate(at))
    reason = clean_reason(reason, required=False)
    with transaction.atomic():
        entries = []
        for item, qty, lot, expires_on, n in sorted(checked, key=lambda c: c[0].pk):  # one lock order
            entries.append(_post(unit, item, qty, Kind.RECEIPT, actor, lot=lot, expires_on=expires_on,
                                 reason=reason, field=f"lines.{n}.qty", at=at))  # fmt: skip
        return entries


def adjust_stock(unit, *, actor, item, qty, reason, lot="", expires_on=None) -> Entry:
    """A stock count differs from the card: the difference (+/-) goes in with its reason."""
    item = _active_item(item)
    qty = clean_qty(qty, allow_negative=True)
    reason = clean_reason(reason)
    lot, expires_on = clean_lot(item, lot, expires_on, receiving=qty > 0)
    with transaction.atomic():
        if qty < 0:
            return _take(unit, item, -qty, Kind.ADJUSTMENT, actor, lot=lot or None, reason=reason)[0]
        return _post(unit, item, qty, Kind.ADJUSTMENT, actor, lot=lot, expires_on=expires_on, reason=reason)


def write_off(unit, *, actor, item, qty, reason, lot=None) -> list[Entry]:
    """Expired or damaged stock leaves the books."""
    item = _active_item(item)
    qty = clean_qty(qty)
    reason = clean_reason(reason)
    with transaction.atomic():
        return _take(unit, item, qty, Kind.WRITE_OFF, actor, lot=(lot or None), reason=reason)


def clean_distribution(data: dict) -> dict:
    kind = data.get("recipient_kind") or ""
    if kind not in RecipientKind.values:
        raise ValidationError({"recipient_kind": _("Say who received it.")})
    group = (data.get("group") or "").strip()
    if group and group not in GROUP_CODES:
        raise ValidationError({"group": _("Choose a visitor group.")})
    people = data.get("people")
    people = None if people in (None, "") else clean_qty(people, "people")
    recipient = (data.get("recipient") or "").strip()
    if kind == RecipientKind.OUTSIDE and not recipient:
        raise ValidationError({"recipient": _("Name the group that received it (a checkpoint, a hotel…).")})
    if len(recipient) > 100:
        raise ValidationError({"recipient": _("Keep it under 100 characters.")})
    # A worker is not named: the hand-out records the group and how many, nothing personal.
    if kind == RecipientKind.WORKER:
        recipient = ""
    return {
        "recipient_kind": kind, "group": group if kind == RecipientKind.WORKER else "", "people": people,
        "recipient": recipient, "note": clean_reason(data.get("note"), "note", required=False),
    }  # fmt: skip


def issue_stock(unit, *, actor, lines: list[tuple], at=None, **data) -> Distribution:
    """Hand out stock: lines are (item, qty) or (item, qty, lot)."""
    cleaned = clean_distribution(data)
    checked = _clean_lines(lines)
    with transaction.atomic():
        dist = Distribution.objects.create(unit=unit, actor=_user(actor), at=at or timezone.now(), **cleaned)
        dist.posted = []  # the entries, in line order, for the caller to show without reading them back
        for item, qty, lot, _e, n in sorted(checked, key=lambda c: c[0].pk):  # one lock order: no deadlock
            dist.posted += _take(
                unit, item, qty, Kind.ISSUE, actor, lot=lot, distribution=dist, field=f"lines.{n}.qty", at=at
            )
        return dist


REVERSIBLE = {Kind.RECEIPT, Kind.ISSUE, Kind.ADJUSTMENT, Kind.WRITE_OFF}


def reverse_entry(entry: Entry, *, actor, reason) -> Entry:
    """Correct a mistaken entry with its mirror image; the original stays on the card."""
    reason = clean_reason(reason)
    if entry.kind not in REVERSIBLE:
        raise ValidationError(
            {"entry": _("Movements of a transfer are corrected by cancelling or returning the transfer.")}
        )
    with transaction.atomic():
        if Entry.objects.filter(reverses=entry).exists():
            raise ValidationError({"entry": _("This entry has been reversed already.")})
        lot = {"lot": entry.lot, "expires_on": entry.expires_on} if entry.item.tracks_lots else {}
        return _post(entry.unit, entry.item, -entry.qty, Kind.REVERSAL, actor, reverses=entry,
                     reason=reason, field="entry", **lot)  # fmt: skip


# --- transfers -----------------------------------------------------------------------------------


def send_transfer(
    from_unit, to_unit, *, actor, lines: list[tuple], carrier="", note="", requisition=None, at=None
) -> Transfer:
    """Stock leaves `from_unit` at once and is in transit until `to_unit` receives it."""
    if to_unit is None:
        raise ValidationError({"to_unit": _("Choose the unit to send to.")})
    if to_unit.pk == from_unit.pk:
        raise ValidationError({"to_unit": _("A unit cannot send stock to itself.")})
    if to_unit.closed_on is not None:
        raise ValidationError({"to_unit": _("That unit is closed.")})
    _require_in_scope(actor, to_unit, "to_unit")
    checked = _clean_lines(lines)
    with transaction.atomic():
        transfer = Transfer.objects.create(
            from_unit=from_unit, to_unit=to_unit, sent_by=actor if getattr(actor, "pk", None) else None,
            carrier=clean_reason(carrier, "carrier", required=False)[:100], note=clean_reason(note, "note", required=False),
            requisition=requisition, sent_at=at or timezone.now(),
        )  # fmt: skip
        for item, qty, lot, _e, n in sorted(checked, key=lambda c: c[0].pk):
            for entry in _take(from_unit, item, qty, Kind.TRANSFER_OUT, actor, lot=lot, transfer=transfer,
                               field=f"lines.{n}.qty", at=at):  # fmt: skip
                TransferLine.objects.create(transfer=transfer, item=item, qty_sent=-entry.qty, lot=entry.lot,
                                            expires_on=entry.expires_on)  # fmt: skip
        record("supplies.transfer.sent", transfer, actor=actor,
               changes={"state": [None, transfer.state], "to_unit": [None, to_unit.code]})  # fmt: skip
        return transfer


def _lock_transfer(transfer: Transfer, revision, actor) -> Transfer:
    locked = Transfer.objects.select_for_update().select_related("from_unit", "to_unit").get(pk=transfer.pk)
    concurrency.check(locked, revision, actor=actor)
    if locked.state != Transfer.State.IN_TRANSIT:
        raise ValidationError({"state": _("This transfer is no longer in transit.")})
    return locked


def receive_transfer(
    transfer: Transfer, *, actor, received: dict | None = None, revision=None, at=None
) -> Transfer:
    """`received` maps a line id to (quantity received, reason for a difference); a line left out
    arrived as sent. A difference is recorded on the line with its reason, never hidden."""
    received = received or {}
    with transaction.atomic():
        transfer = _lock_transfer(transfer, revision, actor)
        lines = list(transfer.lines.select_related("item"))
        known = {line.pk for line in lines}
        for key in received:
            if key not in known:
                raise ValidationError({"lines": _("That line is not part of this transfer.")})
        for line in sorted(lines, key=lambda li: (li.item_id, li.pk)):
            qty, reason = received.get(line.pk, (line.qty_sent, ""))
            field = f"lines.{line.pk}"
            qty = clean_count(qty, field + ".qty_received")
            reason = clean_reason(reason, field + ".difference_reason", required=qty != line.qty_sent)
            line.qty_received, line.difference_reason = qty, reason
            line.save(update_fields=["qty_received", "difference_reason"])
            if qty:
                _post(transfer.to_unit, line.item, qty, Kind.TRANSFER_IN, actor, lot=line.lot,
                      expires_on=line.expires_on, transfer=transfer, reason=reason, field=field + ".qty_received", at=at)  # fmt: skip
        changes = {"state": [transfer.state, Transfer.State.RECEIVED]}
        differences = {line.item.code: line.difference for line in lines if line.difference}
        if differences:
            changes["differences"] = [None, differences]
        concurrency.advance(transfer, changes, actor=actor)
        transfer.state, transfer.closed_by, transfer.closed_at = (
            Transfer.State.RECEIVED,
            _user(actor),
            at or timezone.now(),
        )
        transfer.save(update_fields=["state", "closed_by", "closed_at"])
        record("supplies.transfer.received", transfer, actor=actor, changes=changes)
        return transfer


def _user(actor):
    return actor if getattr(actor, "pk", None) else None


def cancel_transfer(
    transfer: Transfer, *, actor, revision=None, returned: bool = False, reason=""
) -> Transfer:
    """The sender cancels, or the receiver sends it back unopened: the stock goes back to the sender."""
    reason = clean_reason(reason, required=returned)
    with transaction.atomic():
        transfer = _lock_transfer(transfer, revision, actor)
        for line in sorted(transfer.lines.select_related("item"), key=lambda li: (li.item_id, li.pk)):
            _post(transfer.from_unit, line.item, line.qty_sent, Kind.TRANSFER_BACK, actor, lot=line.lot,
                  expires_on=line.expires_on, transfer=transfer, reason=reason)  # fmt: skip
        state = Transfer.State.RETURNED if returned else Transfer.State.CANCELLED
        changes = {"state": [transfer.state, state]}
        concurrency.advance(transfer, changes, actor=actor)
        transfer.state, transfer.closed_by, transfer.closed_at = state, _user(actor), timezone.now()
        transfer.save(update_fields=["state", "closed_by", "closed_at"])
        record(f"supplies.transfer.{state}", transfer, actor=actor, changes=changes)
        return transfer


# --- levels --------------------------------------------------------------------------------------


def clean_level(data: dict) -> dict:
    out, errors = {}, {}
    for field in LEVEL_FIELDS:
        value = data.get(field)
        if value in (None, "") and field == "maximum":
            out[field] = None
            continue
        try:
            number = int(str(value if value is not None else 0).strip() or 0)
            if number < 0 or number > MAX_QTY:
                raise ValueError
        except ValueError:
            errors[field] = _("Enter a whole number of 0 or more.")
            continue
        out[field] = number
    if not errors:
        if out["reorder_point"] < out["minimum"]:
            errors["reorder_point"] = _("The reorder point cannot be below the minimum.")
        if out["maximum"] is not None and out["maximum"] < out["reorder_point"]:
            errors["maximum"] = _("The maximum cannot be below the reorder point.")
        if out["lead_days"] > 365:
            errors["lead_days"] = _("Enter a lead time of up to 365 days.")
    if errors:
        raise ValidationError(errors)
    return out


def save_level(unit, item, *, actor, revision=None, **data) -> Level:
    cleaned = clean_level(data)
    with transaction.atomic():
        ledger.lock_balance(unit, item)  # alerts move with the balance, under its lock
        level = Level.objects.select_for_update().filter(unit=unit, item=item).first()
        if level is None:
            level = Level.objects.create(unit=unit, item=item, **cleaned)
            record("supplies.level.set", level, actor=actor, changes=diff({}, snapshot(level, LEVEL_FIELDS)))
        else:
            concurrency.check(level, revision, actor=actor)
            before = snapshot(level, LEVEL_FIELDS)
            for field, value in cleaned.items():
                setattr(level, field, value)
            changes = diff(before, snapshot(level, LEVEL_FIELDS))
            if not changes:
                return level
            concurrency.advance(level, changes, actor=actor)
            level.save()
            record("supplies.level.set", level, actor=actor, changes=changes)
        balance = ledger.lock_balance(unit, item)
        ledger.reassess(unit, item, balance.qty, level)
        return level


def snooze(level: Level, *, actor, until, revision=None) -> Level:
    """No alert message for this item here until the date (the alert itself stays visible)."""
    until = clean_date(until, "snoozed_until")
    if until is not None and until <= timezone.localdate():
        raise ValidationError({"snoozed_until": _("Choose a day after today.")})
    if until is not None and until > timezone.localdate() + datetime.timedelta(days=90):
        raise ValidationError({"snoozed_until": _("Snooze for at most 90 days.")})
    with transaction.atomic():
        level = Level.objects.select_for_update().get(pk=level.pk)
        concurrency.check(level, revision, actor=actor)
        changes = diff({"snoozed_until": level.snoozed_until and level.snoozed_until.isoformat()},
                       {"snoozed_until": until and until.isoformat()})  # fmt: skip
        if changes:
            concurrency.advance(level, changes, actor=actor)
            level.snoozed_until = until
            level.save(update_fields=["snoozed_until"])
            record("supplies.level.snoozed", level, actor=actor, changes=changes)
        return level


# --- requisitions --------------------------------------------------------------------------------


def request_stock(unit, *, actor, lines: list[tuple], note="") -> Requisition:
    """An outlet asks its parent for several items at once: lines are (item, qty)."""
    if unit.parent_id is None:
        raise ValidationError({"unit": _("Head office has no one above it to ask.")})
    checked = _clean_lines(lines)
    note = clean_reason(note, "note", required=False)
    with transaction.atomic():
        req = Requisition.objects.create(
            unit=unit, supplier=unit.parent, requested_by=_user(actor), note=note
        )
        RequisitionLine.objects.bulk_create(
            RequisitionLine(requisition=req, item=item, qty=qty) for item, qty, _lot, _e, _n in checked
        )
        asked = {}  # code → quantity, like a transfer's differences ("lines" is the relation's name)
        for item, qty, *_rest in checked:
            asked[item.code] = asked.get(item.code, 0) + qty
        record("supplies.requisition.requested", req, actor=actor,
               changes={"items": [None, asked]})  # fmt: skip
        return req


def decide_requisition(req: Requisition, *, actor, approve: bool, revision=None, carrier="") -> Requisition:
    """The parent approves (and sends the stock at once, as a transfer) or rejects."""
    with transaction.atomic():
        req = Requisition.objects.select_for_update().select_related("unit", "supplier").get(pk=req.pk)
        concurrency.check(req, revision, actor=actor)
        if req.state != Requisition.State.REQUESTED:
            raise ValidationError({"state": _("This requisition has been decided already.")})
        if actor is not None and not scope_for(actor).covers(req.supplier.path):
            raise ValidationError({"state": _("The unit that was asked decides, not the one that asked.")})
        state = Requisition.State.APPROVED if approve else Requisition.State.REJECTED
        changes = {"state": [req.state, state]}
        if approve:
            lines = [(line.item, line.qty) for line in req.lines.select_related("item")]
            send_transfer(req.supplier, req.unit, actor=actor, lines=lines, carrier=carrier, requisition=req)
        concurrency.advance(req, changes, actor=actor)
        req.state, req.decided_by, req.decided_at = state, _user(actor), timezone.now()
        req.save(update_fields=["state", "decided_by", "decided_at"])
        record(f"supplies.requisition.{state}", req, actor=actor, changes=changes)
        return req
