"""Back-office pages of supplies. They translate HTTP only; the work is in services."""

import datetime

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from yizhan.core.forms import apply_errors, flash_errors
from yizhan.core.tabular import write_xlsx
from yizhan.orgs.models import Unit
from yizhan.orgs.scoping import get_for_user, scoped, staff_view
from yizhan.supplies import forms, queries, services
from yizhan.supplies.models import Entry, Item, Level, Requisition, Transfer


def _unit(request, code, perm="read") -> Unit:
    return get_for_user(request.user, Unit, perm, code=code)


def _item(code) -> Item:
    item = Item.objects.filter(code=code).first()
    if item is None:
        raise Http404
    return item


def _picked_item(code):
    return Item.objects.filter(code=code, active=True).first() if code else None


def _home(request) -> Unit:
    return Unit.objects.get(pk=request.scope.unit_id)


@staff_view("read")
def balances(request):
    code = (request.GET.get("unit") or "").strip()
    at = _unit(request, code) if code else _home(request)
    alerts, children, total = queries.below_minimum(at)
    ancestors = [a for a in at.ancestors() if request.scope.covers(a.path)]
    return render(request, "supplies/balances.html", {
        "at": at, "alerts": alerts, "children": children, "total_low": total, "ancestors": ancestors,
        "expiring": queries.expiring(at), "own": queries.unit_rows(at) if at.kind == "outlet" else None,
        "incoming": scoped(request.user, Transfer).filter(state="in_transit", to_unit__path__startswith=at.path).count(),
        "to_approve": scoped(request.user, Requisition).filter(state="requested", supplier__path__startswith=at.path).count(),
    })  # fmt: skip


@staff_view("read")
def unit_stock(request, code):
    unit = _unit(request, code)
    rows = queries.unit_rows(unit)
    return render(request, "supplies/unit.html", {
        "unit": unit, "rows": rows, "week": queries.week_checkins(unit),
        "can_change": request.scope.can("change"),
        "incoming": Transfer.objects.filter(to_unit=unit, state="in_transit").select_related("from_unit"),
        "expiring": queries.expiring(unit),
    })  # fmt: skip


def _year(request) -> int:
    try:
        year = int(request.GET.get("year") or timezone.localdate().year)
    except ValueError:
        raise Http404 from None
    if not 2000 <= year <= 2100:
        raise Http404
    return year


@staff_view("read")
def stock_card(request, code, item_code):
    unit, item = _unit(request, code), _item(item_code)
    year = _year(request)
    entries = list(queries.card(unit, item, year))
    for e in entries:
        e.counterpart = queries.counterpart(e)
    level = Level.objects.filter(unit=unit, item=item).first()
    initial = {f: getattr(level, f) for f in services.LEVEL_FIELDS} if level else {"lead_days": 7}
    if level:
        initial["revision"] = level.revision
    balance = unit and item and queries.Balance.objects.filter(unit=unit, item=item).first()
    return render(request, "supplies/card.html", {
        "unit": unit, "item": item, "year": year, "entries": entries, "level": level,
        "limit": queries.CARD_LIMIT, "qty": balance.qty if balance else 0, "lots": queries.lots(unit, item),
        "level_form": forms.LevelForm(initial=initial),
        "snooze_form": forms.SnoozeForm(initial={"snoozed_until": level.snoozed_until, "revision": level.revision}) if level else None,
        "can_change": request.scope.can("change"), "reversible": services.REVERSIBLE,
        "years": range(timezone.localdate().year, timezone.localdate().year - 6, -1),
    })  # fmt: skip


@staff_view("read")
def ledger_xlsx(request, code):
    unit = _unit(request, code)
    year = _year(request)
    item = _item(request.GET["item"]) if request.GET.get("item") else None
    entries = Entry.objects.filter(unit=unit) if item is None else Entry.objects.filter(unit=unit, item=item)
    tz = timezone.get_current_timezone()
    entries = entries.filter(
        at__gte=datetime.datetime(year, 1, 1, tzinfo=tz), at__lt=datetime.datetime(year + 1, 1, 1, tzinfo=tz)
    ).select_related("item", "actor", "transfer__from_unit", "transfer__to_unit", "distribution", "reverses")
    # The 台账 is a Chinese document whatever the reader's language: Chinese headers and labels.
    with translation.override("zh-hans"):
        headers = [str(h) for h in queries.LEDGER_HEADERS]
        rows = list(queries.ledger_rows(entries.order_by("item__code", "seq").iterator(chunk_size=2000)))
        title = _("Stock ledger")
    data = write_xlsx({title: (headers, rows)})
    response = HttpResponse(
        data, content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    )
    name = f"supplies-{unit.code}-{year}{'-' + item.code if item else ''}.xlsx"
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    return response


MOVEMENTS = {
    "receive": (forms.ReceiveLinesForm, "Receive stock"),
    "issue": (forms.IssueLinesForm, "Hand out"),
    "adjust": (forms.AdjustForm, "Adjust after a count"),
    "write-off": (forms.WriteOffForm, "Write off"),
    "send": (forms.SendLinesForm, "Send to another unit"),
    "request": (forms.RequestLinesForm, "Request from the unit above"),
}
ALIASES = {"entry": "qty", "unit": "item"}


def _line_tuples(lines: list[dict], *fields: str) -> list[tuple]:
    items = {i.code: i for i in Item.objects.filter(code__in={li["item"] for li in lines}, active=True)}
    return [(items.get(li["item"]), li["qty"], *(li[f] for f in fields)) for li in lines]


def _do(kind, unit, user, data, lines):
    if kind == "receive":
        return services.receive_lines(unit, actor=user, lines=_line_tuples(lines, "lot", "expires_on"),
                                      reason=data["reason"])  # fmt: skip
    if kind == "issue":
        return services.issue_stock(unit, actor=user, lines=_line_tuples(lines),
                                    recipient_kind=data["recipient_kind"], group=data["group"], people=data["people"],
                                    recipient=data["recipient"], note=data["note"])  # fmt: skip
    if kind == "send":
        to_unit = scoped(user, Unit).filter(code=data["to_unit"].strip()).first()
        return services.send_transfer(unit, to_unit, actor=user, lines=_line_tuples(lines), carrier=data["carrier"],
                                      note=data["note"])  # fmt: skip
    if kind == "request":
        return services.request_stock(unit, actor=user, lines=_line_tuples(lines), note=data["note"])
    item = _picked_item(data.get("item"))
    if kind == "adjust":
        return services.adjust_stock(unit, actor=user, item=item, qty=data["qty"], reason=data["reason"],
                                     lot=data["lot"], expires_on=data["expires_on"])  # fmt: skip
    return services.write_off(
        unit, actor=user, item=item, qty=data["qty"], reason=data["reason"], lot=data["lot"]
    )


@staff_view("read")
def movement(request, code, kind):
    if kind not in MOVEMENTS:
        raise Http404
    unit = _unit(request, code, "change")
    form_class, title = MOVEMENTS[kind]
    data = request.POST if request.method == "POST" else None
    initial = {"item": request.GET.get("item", ""), "item_0": request.GET.get("item", "")}
    multi = issubclass(form_class, forms.LinesForm)
    more = multi and data is not None and "more" in data
    if multi:
        form = form_class(data, initial=initial, rows=forms.row_count(data or request.GET, more))
    else:
        form = form_class(data, initial=initial)
    if data is not None and not more and form.is_valid():
        lines, rows = form.lines() if multi else ([], [])
        try:
            result = _do(kind, unit, request.user, form.cleaned_data, lines)
        except ValidationError as exc:
            apply_errors(form, exc, {**ALIASES, **(form.row_aliases(rows) if multi else {})})
        else:
            messages.success(request, _("Posted."))
            if isinstance(result, Transfer):
                return redirect("supplies:transfer", pk=result.pk)
            if isinstance(result, Requisition):
                return redirect("supplies:requisitions")
            return redirect("supplies:unit", code=unit.code)
    context = {
        "form": form, "title": f"{unit.name} · {_(title)}", "submit_label": _(title),
        "cancel_url": reverse("supplies:unit", args=[unit.code]),
    }  # fmt: skip
    return render(request, "supplies/lines_form.html" if multi else "core/form_page.html", context)


@staff_view("read")
def set_level(request, code, item_code):
    unit, item = _unit(request, code, "change"), _item(item_code)
    level = Level.objects.filter(unit=unit, item=item).first()
    initial = {f: getattr(level, f) for f in services.LEVEL_FIELDS} if level else {"lead_days": 7}
    if level:
        initial["revision"] = level.revision
    form = forms.LevelForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            services.save_level(unit, item, actor=request.user, **form.cleaned_data)
        except ValidationError as exc:
            apply_errors(form, exc)
        else:
            messages.success(request, _("Saved."))
            return redirect("supplies:card", code=unit.code, item_code=item.code)
    return render(request, "core/form_page.html", {
        "form": form, "title": f"{unit.name} · {item.name} · {_('stock level')}",
        "cancel_url": reverse("supplies:card", args=[unit.code, item.code]),
    })  # fmt: skip


@staff_view("read")
@require_POST
def snooze(request, code, item_code):
    unit, item = _unit(request, code, "change"), _item(item_code)
    level = Level.objects.filter(unit=unit, item=item).first()
    if level is None:
        raise Http404
    form = forms.SnoozeForm(request.POST)
    if form.is_valid():
        try:
            services.snooze(level, actor=request.user, until=form.cleaned_data["snoozed_until"],
                            revision=form.cleaned_data["revision"])  # fmt: skip
        except ValidationError as exc:
            apply_errors(form, exc)
        else:
            messages.success(request, _("Saved."))
            return redirect("supplies:card", code=unit.code, item_code=item.code)
    return render(request, "core/form_page.html", {
        "form": form, "title": f"{unit.name} · {item.name} · {_('snooze alerts')}",
        "cancel_url": reverse("supplies:card", args=[unit.code, item.code]),
    })  # fmt: skip


@staff_view("read")
def reverse_entry(request, pk):
    entry = get_for_user(request.user, Entry.objects.select_related("unit", "item"), "change", pk=pk)
    form = forms.ReverseForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            services.reverse_entry(entry, actor=request.user, reason=form.cleaned_data["reason"])
        except ValidationError as exc:
            apply_errors(form, exc, {"entry": None})
        else:
            messages.success(request, _("Posted."))
            return redirect("supplies:card", code=entry.unit.code, item_code=entry.item.code)
    return render(request, "core/form_page.html", {
        "form": form, "title": _("Reverse entry no. %(n)s") % {"n": entry.seq},
        "intro": _("The entry stays on the card; a new entry of %(qty)s takes it back.") % {"qty": -entry.qty},
        "submit_label": _("Reverse"), "cancel_url": reverse("supplies:card", args=[entry.unit.code, entry.item.code]),
    })  # fmt: skip


@staff_view("read")
def transfers(request):
    qs = scoped(request.user, Transfer).select_related("from_unit", "to_unit")
    path = request.scope.path
    return render(request, "supplies/transfers.html", {
        "incoming": qs.filter(state="in_transit", to_unit__path__startswith=path).order_by("sent_at")[:200],
        "outgoing": qs.filter(state="in_transit").exclude(to_unit__path__startswith=path).order_by("sent_at")[:200],
        "recent": qs.exclude(state="in_transit").order_by("-closed_at")[:50],
    })  # fmt: skip


class ReceiveForm(forms.forms.Form):
    revision = forms.RevisionField()

    def __init__(self, *args, lines=(), **kwargs):
        super().__init__(*args, **kwargs)
        for line in lines:
            self.fields[f"qty_{line.pk}"] = forms.qty_field(
                _("%(item)s received (sent: %(n)s)") % {"item": line.item.name, "n": line.qty_sent}
            )
            self.fields[f"reason_{line.pk}"] = forms.forms.CharField(
                label=_("reason for a difference"), max_length=200, required=False
            )


@staff_view("read")
def transfer_detail(request, pk):
    transfer = get_for_user(
        request.user, Transfer.objects.select_related("from_unit", "to_unit", "sent_by"), pk=pk
    )
    lines = list(transfer.lines.select_related("item"))
    scope = request.scope
    can_receive = (
        transfer.state == "in_transit" and scope.covers(transfer.to_unit.path) and scope.can("change")
    )
    can_cancel = (
        transfer.state == "in_transit" and scope.covers(transfer.from_unit.path) and scope.can("change")
    )
    initial = {"revision": transfer.revision, **{f"qty_{li.pk}": li.qty_sent for li in lines}}
    form = ReceiveForm(request.POST or None, lines=lines, initial=initial)
    if request.method == "POST":
        action = request.POST.get("action")
        if action not in ("receive", "cancel", "return"):
            raise Http404
        if not (can_receive if action in ("receive", "return") else can_cancel):
            raise PermissionDenied
        if form.is_valid():
            data = form.cleaned_data
            try:
                if action == "receive":
                    received = {li.pk: (data[f"qty_{li.pk}"], data[f"reason_{li.pk}"]) for li in lines}
                    services.receive_transfer(
                        transfer, actor=request.user, received=received, revision=data["revision"]
                    )
                else:
                    services.cancel_transfer(transfer, actor=request.user, revision=data["revision"],
                                             returned=action == "return",
                                             reason=data.get(f"reason_{lines[0].pk}", "") if lines else "")  # fmt: skip
            except ValidationError as exc:
                aliases = {}
                for li in lines:
                    aliases[f"lines.{li.pk}.qty_received"] = f"qty_{li.pk}"
                    aliases[f"lines.{li.pk}.difference_reason"] = f"reason_{li.pk}"
                aliases["reason"] = f"reason_{lines[0].pk}" if lines else "reason"
                apply_errors(form, exc, aliases)
            else:
                messages.success(request, _("Saved."))
                return redirect("supplies:transfer", pk=transfer.pk)
    return render(request, "supplies/transfer.html", {
        "transfer": transfer, "lines": lines, "form": form, "can_receive": can_receive, "can_cancel": can_cancel,
    })  # fmt: skip


@staff_view("read")
def requisitions(request):
    qs = scoped(request.user, Requisition).select_related("unit", "supplier").prefetch_related("lines__item")
    return render(request, "supplies/requisitions.html", {
        "to_decide": qs.filter(state="requested", supplier__path__startswith=request.scope.path),
        "mine": qs.exclude(state="requested", supplier__path__startswith=request.scope.path)[:100],
        "can_change": request.scope.can("change"),
    })  # fmt: skip


@staff_view("read")
@require_POST
def decide(request, pk):
    req = get_for_user(request.user, Requisition, "change", pk=pk)
    action = request.POST.get("action")
    if action not in ("approve", "reject"):
        raise Http404
    try:
        services.decide_requisition(req, actor=request.user, approve=action == "approve",
                                    revision=services.concurrency.clean_revision(request.POST.get("revision")))  # fmt: skip
    except ValidationError as exc:
        flash_errors(request, exc)
    else:
        messages.success(request, _("Saved."))
    return redirect("supplies:requisitions")


@staff_view("read")
def items(request):
    return render(request, "supplies/items.html", {
        "items": Item.objects.all(), "can_edit": request.scope.can("hq_admin"),
    })  # fmt: skip


@staff_view("hq_admin")
def item_edit(request, code=None):
    item = _item(code) if code else None
    fields = [
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
    initial = {f: getattr(item, f) for f in fields} if item else {"active": True}
    if item:
        initial["revision"] = item.revision
    form = forms.ItemForm(request.POST or None, initial=initial, editing=item is not None)
    if request.method == "POST" and form.is_valid():
        data = dict(form.cleaned_data)
        revision = data.pop("revision", None)
        try:
            saved = services.save_item(actor=request.user, instance=item, revision=revision, **data)
        except ValidationError as exc:
            apply_errors(form, exc)
        else:
            messages.success(request, _("Saved."))
            return redirect(reverse("supplies:items") + f"#{saved.code}")
    return render(request, "core/form_page.html", {
        "form": form, "title": item.name if item else _("New item"), "cancel_url": reverse("supplies:items"),
    })  # fmt: skip
