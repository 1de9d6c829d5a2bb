"""Staff API of supplies under /api/v1/manage/supplies/: the same service verbs and the same
scoping chokepoint as the pages."""

import datetime
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.http import Http404
from django.utils.translation import gettext as _
from ninja import Router, Schema, Status

from yizhan.core.schemas import Conflict, Message
from yizhan.orgs.models import Unit
from yizhan.orgs.scoping import get_for_user, require, scope_for, scoped
from yizhan.supplies import queries, services
from yizhan.supplies.models import Entry, Item, Level, Requisition, Transfer

manage_router = Router(tags=["manage: supplies"])
P = "/supplies"


class ItemOut(Schema):
    code: str
    name: str
    name_en: str
    uom: str
    category: str
    expiry_tracked: bool
    lot_tracked: bool
    driver: str
    per_use: Decimal
    active: bool
    revision: int


class ItemIn(Schema):
    code: str
    name: str
    name_en: str = ""
    uom: str
    category: str
    expiry_tracked: bool = False
    lot_tracked: bool = False
    driver: str = ""
    per_use: Decimal = Decimal(0)
    active: bool = True


class ItemPatch(Schema):
    revision: int
    name: str | None = None
    name_en: str | None = None
    uom: str | None = None
    category: str | None = None
    expiry_tracked: bool | None = None
    lot_tracked: bool | None = None
    driver: str | None = None
    per_use: Decimal | None = None
    active: bool | None = None


class EntryOut(Schema):
    id: int
    unit_code: str
    item_code: str
    seq: int
    kind: str
    qty: int
    balance_after: int
    lot: str
    expires_on: datetime.date | None
    reason: str
    at: datetime.datetime
    transfer_id: int | None
    distribution_id: int | None
    reverses_id: int | None


class MovementIn(Schema):
    kind: str  # receipt | adjustment | write_off
    item: str
    qty: int
    lot: str = ""
    expires_on: str = ""
    reason: str = ""


class LineIn(Schema):
    item: str
    qty: int
    lot: str = ""


class ReceiptLineIn(Schema):
    item: str
    qty: int
    lot: str = ""
    expires_on: str = ""


class ReceiptIn(Schema):
    lines: list[ReceiptLineIn]
    reason: str = ""


class IssueIn(Schema):
    lines: list[LineIn]
    recipient_kind: str
    group: str = ""
    people: int | None = None
    recipient: str = ""
    note: str = ""


class DistributionOut(Schema):
    id: int
    recipient_kind: str
    group: str
    people: int | None
    recipient: str
    entries: list[EntryOut]


class ReverseIn(Schema):
    reason: str


class LineOut(Schema):
    id: int
    item_code: str
    qty_sent: int
    qty_received: int | None
    difference: int | None
    difference_reason: str
    lot: str
    expires_on: datetime.date | None


class TransferOut(Schema):
    id: int
    from_unit: str
    to_unit: str
    state: str
    carrier: str
    note: str
    sent_at: datetime.datetime
    closed_at: datetime.datetime | None
    revision: int
    lines: list[LineOut]


class TransferIn(Schema):
    from_unit: str
    to_unit: str
    lines: list[LineIn]
    carrier: str = ""
    note: str = ""


class ReceivedLine(Schema):
    id: int
    qty_received: int
    difference_reason: str = ""


class ReceiveIn(Schema):
    revision: int
    lines: list[ReceivedLine] = []


class CancelIn(Schema):
    revision: int
    returned: bool = False
    reason: str = ""


class LevelIn(Schema):
    minimum: int
    reorder_point: int
    maximum: int | None = None
    lead_days: int = 7
    revision: int | None = None


class LevelOut(Schema):
    unit_code: str
    item_code: str
    minimum: int
    reorder_point: int
    maximum: int | None
    lead_days: int
    snoozed_until: datetime.date | None
    revision: int


class SnoozeIn(Schema):
    until: str | None = None
    revision: int


class StockRowOut(Schema):
    item_code: str
    item_name: str
    uom: str
    qty: int
    minimum: int | None
    reorder_point: int | None
    maximum: int | None
    below_minimum: bool
    weekly_use: Decimal | None
    days_of_cover: int | None
    suggested_reorder: int
    given_this_week: int


class StockOut(Schema):
    unit_code: str
    checkins_this_week: int
    couriers_this_week: int
    rows: list[StockRowOut]


class LowOut(Schema):
    unit_code: str
    unit_name: str
    item_code: str
    qty: int
    minimum: int | None
    raised_at: datetime.datetime
    snoozed_until: datetime.date | None


class ChildOut(Schema):
    unit_code: str
    unit_name: str
    below_minimum: int


class BalancesOut(Schema):
    unit_code: str
    below_minimum: int
    alerts: list[LowOut]
    children: list[ChildOut]


class RequestLineIn(Schema):
    item: str
    qty: int


class RequisitionIn(Schema):
    lines: list[RequestLineIn]
    note: str = ""


class RequestLineOut(Schema):
    item_code: str
    qty: int


class RequisitionOut(Schema):
    id: int
    unit_code: str
    supplier_code: str
    lines: list[RequestLineOut]
    note: str
    state: str
    revision: int


class DecideIn(Schema):
    approve: bool
    revision: int
    carrier: str = ""


def _unit(request, code, perm="read") -> Unit:
    return get_for_user(request.user, Unit, perm, code=code)


def _item(code, field="item") -> Item:
    item = Item.objects.filter(code=code).first()
    if item is None:
        raise ValidationError({field: _("No item has this code.")})
    return item


def _path_item(code) -> Item:
    item = Item.objects.filter(code=code).first()
    if item is None:
        raise Http404
    return item


def item_out(item: Item) -> dict:
    return {f: getattr(item, f) for f in ItemOut.model_fields}


def entry_out(e: Entry) -> dict:
    return {
        "id": e.pk, "unit_code": e.unit.code, "item_code": e.item.code, "seq": e.seq, "kind": e.kind, "qty": e.qty,
        "balance_after": e.balance_after, "lot": e.lot, "expires_on": e.expires_on, "reason": e.reason, "at": e.at,
        "transfer_id": e.transfer_id, "distribution_id": e.distribution_id, "reverses_id": e.reverses_id,
    }  # fmt: skip


def transfer_out(t: Transfer) -> dict:
    return {
        "id": t.pk, "from_unit": t.from_unit.code, "to_unit": t.to_unit.code, "state": t.state, "carrier": t.carrier,
        "note": t.note, "sent_at": t.sent_at, "closed_at": t.closed_at, "revision": t.revision,
        "lines": [
            {"id": li.pk, "item_code": li.item.code, "qty_sent": li.qty_sent, "qty_received": li.qty_received,
             "difference": li.difference, "difference_reason": li.difference_reason, "lot": li.lot,
             "expires_on": li.expires_on}
            for li in t.lines.select_related("item")
        ],
    }  # fmt: skip


def level_out(lv: Level) -> dict:
    return {
        "unit_code": lv.unit.code, "item_code": lv.item.code, "minimum": lv.minimum, "reorder_point": lv.reorder_point,
        "maximum": lv.maximum, "lead_days": lv.lead_days, "snoozed_until": lv.snoozed_until, "revision": lv.revision,
    }  # fmt: skip


def req_out(r: Requisition) -> dict:
    return {
        "id": r.pk, "unit_code": r.unit.code, "supplier_code": r.supplier.code, "note": r.note, "state": r.state,
        "revision": r.revision, "lines": [{"item_code": li.item.code, "qty": li.qty} for li in r.lines.all()],
    }  # fmt: skip


def _lines(lines: list, *fields: str) -> list[tuple]:
    """Schema lines as the service's tuples; an unknown item code is left as None for the service
    to report by row, beside any other line's mistakes."""
    items = {i.code: i for i in Item.objects.filter(code__in={li.item for li in lines})}
    return [(items.get(li.item), li.qty, *(getattr(li, f) for f in fields)) for li in lines]


# --- catalogue ----------------------------------------------------------------------------------


@manage_router.get(P + "/items", response=list[ItemOut], summary="The item catalogue")
def list_items(request):
    require(request.user, "read")
    return [item_out(i) for i in Item.objects.all()]


@manage_router.post(P + "/items", response={201: ItemOut}, summary="Add an item (head-office admin)")
def create_item(request, payload: ItemIn):
    require(request.user, "hq_admin")
    return Status(201, item_out(services.save_item(actor=request.user, **payload.dict())))


@manage_router.patch(
    P + "/items/{code}", response={200: ItemOut, 409: Conflict}, summary="Change an item (head-office admin)"
)
def update_item(request, code: str, payload: ItemPatch):
    require(request.user, "read")
    item = _path_item(code)
    require(request.user, "hq_admin")
    data = payload.dict(exclude_none=True)
    revision = data.pop("revision")
    return item_out(services.save_item(actor=request.user, instance=item, revision=revision, **data))


# --- balances and the stock card ----------------------------------------------------------------


@manage_router.get(P + "/balances", response=BalancesOut,
                   summary="Items below minimum in a subtree (your unit, or ?unit=CODE), with counts one level down")  # fmt: skip
def balances(request, unit: str = ""):
    require(request.user, "read")
    at = _unit(request, unit) if unit else Unit.objects.get(pk=scope_for(request.user).unit_id)
    alerts, children, total = queries.below_minimum(at)
    return {
        "unit_code": at.code, "below_minimum": total,
        "alerts": [
            {"unit_code": a.unit.code, "unit_name": a.unit.name, "item_code": a.item.code, "qty": a.now or 0,
             "minimum": a.minimum, "raised_at": a.opened_at, "snoozed_until": a.snoozed_until}
            for a in alerts
        ],
        "children": [{"unit_code": c.code, "unit_name": c.name, "below_minimum": n} for c, n in children],
    }  # fmt: skip


@manage_router.get(P + "/units/{code}/stock", response=StockOut,
                   summary="A unit's balances with levels, forecast and this week's hand-outs")  # fmt: skip
def stock(request, code: str):
    unit = _unit(request, code)
    week = queries.week_checkins(unit)
    rows = []
    for r in queries.unit_rows(unit):
        f, lv = r.forecast, r.level
        rows.append({
            "item_code": r.item.code, "item_name": r.item.name, "uom": r.item.uom, "qty": r.qty,
            "minimum": lv.minimum if lv else None, "reorder_point": lv.reorder_point if lv else None,
            "maximum": lv.maximum if lv else None, "below_minimum": r.below, "weekly_use": f.weekly if f else None,
            "days_of_cover": f.days_of_cover if f else None, "suggested_reorder": f.suggest if f else 0,
            "given_this_week": r.issued_week,
        })  # fmt: skip
    return {
        "unit_code": unit.code,
        "checkins_this_week": week["all"],
        "couriers_this_week": week["courier"],
        "rows": rows,
    }


@manage_router.get(P + "/units/{code}/items/{item}/card", response=list[EntryOut],
                   summary="One item's stock card at a unit (a year: ?year=2026; all years without)")  # fmt: skip
def stock_card(request, code: str, item: str, year: int | None = None):
    unit, item = _unit(request, code), _path_item(item)
    if year is not None and not 2000 <= year <= 2100:
        raise ValidationError({"year": _("Enter a year from 2000 to 2100.")})
    return [entry_out(e) for e in queries.card(unit, item, year)]


# --- movements ----------------------------------------------------------------------------------


@manage_router.post(P + "/units/{code}/entries", response={201: list[EntryOut]},
                    summary="Post a receipt, an adjustment (+/-) or a write-off")  # fmt: skip
def post_entry(request, code: str, payload: MovementIn):
    unit = _unit(request, code, "change")
    item = _item(payload.item)
    if payload.kind == "receipt":
        entries = [services.receive_stock(unit, actor=request.user, item=item, qty=payload.qty, lot=payload.lot,
                                          expires_on=payload.expires_on, reason=payload.reason)]  # fmt: skip
    elif payload.kind == "adjustment":
        entries = [services.adjust_stock(unit, actor=request.user, item=item, qty=payload.qty, reason=payload.reason,
                                         lot=payload.lot, expires_on=payload.expires_on)]  # fmt: skip
    elif payload.kind == "write_off":
        entries = services.write_off(unit, actor=request.user, item=item, qty=payload.qty, reason=payload.reason,
                                     lot=payload.lot or None)  # fmt: skip
    else:
        raise ValidationError(
            {
                "kind": _(
                    "Choose receipt, adjustment or write_off (hand-outs and transfers have their own endpoints)."
                )
            }
        )
    return Status(201, [entry_out(e) for e in entries])


@manage_router.post(P + "/units/{code}/receipts", response={201: list[EntryOut]},
                    summary="Receive several items in one delivery: every line is posted, or none")  # fmt: skip
def post_receipts(request, code: str, payload: ReceiptIn):
    unit = _unit(request, code, "change")
    entries = services.receive_lines(
        unit, actor=request.user, lines=_lines(payload.lines, "lot", "expires_on"), reason=payload.reason
    )
    return Status(201, [entry_out(e) for e in entries])


@manage_router.post(P + "/units/{code}/issues", response={201: DistributionOut},
                    summary="Hand out stock: to a worker (no name), to staff, or to a named outside group")  # fmt: skip
def post_issue(request, code: str, payload: IssueIn):
    unit = _unit(request, code, "change")
    dist = services.issue_stock(
        unit, actor=request.user, lines=_lines(payload.lines, "lot"), recipient_kind=payload.recipient_kind,
        group=payload.group, people=payload.people, recipient=payload.recipient, note=payload.note,
    )  # fmt: skip
    return Status(201, {
        "id": dist.pk, "recipient_kind": dist.recipient_kind, "group": dist.group, "people": dist.people,
        "recipient": dist.recipient, "entries": [entry_out(e) for e in dist.posted],
    })  # fmt: skip


@manage_router.post(P + "/entries/{int:entry_id}/reverse", response={201: EntryOut},
                    summary="Correct an entry with a reversing entry (the original stays)")  # fmt: skip
def reverse(request, entry_id: int, payload: ReverseIn):
    entry = get_for_user(request.user, Entry.objects.select_related("unit", "item"), "change", pk=entry_id)
    return Status(201, entry_out(services.reverse_entry(entry, actor=request.user, reason=payload.reason)))


@manage_router.api_operation(["PUT", "PATCH", "DELETE"], P + "/entries/{int:entry_id}", response={405: Message},
                             summary="Refused, always: a posted entry is never changed or deleted")  # fmt: skip
def edit_entry(request, entry_id: int):
    get_for_user(request.user, Entry, pk=entry_id)
    return Status(
        405, {"detail": _("A posted entry is never changed or deleted; post a reversing entry instead.")}
    )


# --- transfers ----------------------------------------------------------------------------------


@manage_router.get(P + "/transfers", response=list[TransferOut],
                   summary="Transfers from or to your subtree (?state=in_transit for those to receive)")  # fmt: skip
def list_transfers(request, state: str = ""):
    qs = scoped(request.user, Transfer).select_related("from_unit", "to_unit")
    if state:
        if state not in Transfer.State.values:
            raise ValidationError({"state": _("Unknown state.")})
        qs = qs.filter(state=state)
    return [transfer_out(t) for t in qs[:200]]


@manage_router.post(P + "/transfers", response={201: TransferOut}, summary="Send stock to another unit")
def send(request, payload: TransferIn):
    src = _unit(request, payload.from_unit, "change")
    dst = scoped(request.user, Unit).filter(code=payload.to_unit).first()
    t = services.send_transfer(src, dst, actor=request.user, lines=_lines(payload.lines, "lot"), carrier=payload.carrier,
                               note=payload.note)  # fmt: skip
    return Status(201, transfer_out(t))


def _transfer(request, pk) -> Transfer:
    return get_for_user(request.user, Transfer.objects.select_related("from_unit", "to_unit"), pk=pk)


@manage_router.get(P + "/transfers/{int:transfer_id}", response=TransferOut, summary="One transfer")
def get_transfer(request, transfer_id: int):
    return transfer_out(_transfer(request, transfer_id))


@manage_router.post(P + "/transfers/{int:transfer_id}/receive", response={200: TransferOut, 409: Conflict},
                    summary="Receive a transfer; a line left out arrived as sent, a difference needs its reason")  # fmt: skip
def receive(request, transfer_id: int, payload: ReceiveIn):
    t = _transfer(request, transfer_id)
    if not scope_for(request.user).covers(t.to_unit.path):
        raise Http404
    require(request.user, "change")
    received = {li.id: (li.qty_received, li.difference_reason) for li in payload.lines}
    return transfer_out(
        services.receive_transfer(t, actor=request.user, received=received, revision=payload.revision)
    )


@manage_router.post(P + "/transfers/{int:transfer_id}/cancel", response={200: TransferOut, 409: Conflict},
                    summary="Cancel (sender) or send back unopened (receiver, returned=true)")  # fmt: skip
def cancel(request, transfer_id: int, payload: CancelIn):
    t = _transfer(request, transfer_id)
    end = t.to_unit if payload.returned else t.from_unit
    if not scope_for(request.user).covers(end.path):
        raise Http404
    require(request.user, "change")
    t = services.cancel_transfer(t, actor=request.user, revision=payload.revision, returned=payload.returned,
                                 reason=payload.reason)  # fmt: skip
    return transfer_out(t)


# --- levels -------------------------------------------------------------------------------------


@manage_router.put(P + "/units/{code}/items/{item}/level", response={200: LevelOut, 409: Conflict},
                   summary="Set minimum, reorder point, maximum and lead time (revision when one exists)")  # fmt: skip
def put_level(request, code: str, item: str, payload: LevelIn):
    unit, item = _unit(request, code, "change"), _path_item(item)
    data = payload.dict()
    level = services.save_level(unit, item, actor=request.user, revision=data.pop("revision"), **data)
    return level_out(level)


@manage_router.post(P + "/units/{code}/items/{item}/snooze", response={200: LevelOut, 409: Conflict},
                    summary="No alert messages for this item here until a date (empty: end the snooze)")  # fmt: skip
def post_snooze(request, code: str, item: str, payload: SnoozeIn):
    unit, item = _unit(request, code, "change"), _path_item(item)
    level = Level.objects.filter(unit=unit, item=item).select_related("unit", "item").first()
    if level is None:
        raise Http404
    return level_out(
        services.snooze(level, actor=request.user, until=payload.until, revision=payload.revision)
    )


# --- requisitions -------------------------------------------------------------------------------


@manage_router.get(P + "/requisitions", response=list[RequisitionOut],
                   summary="Requisitions in your subtree (?state=requested)")  # fmt: skip
def list_requisitions(request, state: str = ""):
    qs = scoped(request.user, Requisition).select_related("unit", "supplier").prefetch_related("lines__item")
    if state:
        qs = qs.filter(state=state)
    return [req_out(r) for r in qs[:200]]


@manage_router.post(P + "/units/{code}/requisitions", response={201: RequisitionOut},
                    summary="Ask the unit above for stock")  # fmt: skip
def post_requisition(request, code: str, payload: RequisitionIn):
    unit = _unit(request, code, "change")
    req = services.request_stock(unit, actor=request.user, lines=_lines(payload.lines), note=payload.note)
    return Status(201, req_out(req))


@manage_router.post(P + "/requisitions/{int:req_id}/decide", response={200: RequisitionOut, 409: Conflict},
                    summary="Approve (and send at once) or reject, by the unit asked")  # fmt: skip
def decide(request, req_id: int, payload: DecideIn):
    req = get_for_user(
        request.user, Requisition.objects.select_related("unit", "supplier"), "change", pk=req_id
    )
    req = services.decide_requisition(req, actor=request.user, approve=payload.approve, revision=payload.revision,
                                      carrier=payload.carrier)  # fmt: skip
    return req_out(req)
