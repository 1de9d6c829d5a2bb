"""Read side shared by the pages, the API and the exports (all through the scoping chokepoint)."""

import datetime
from dataclasses import dataclass

from django.db.models import Count, OuterRef, Subquery, Sum
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from yizhan.orgs.models import Unit
from yizhan.supplies import forecast as fc
from yizhan.supplies.models import Alert, Balance, Entry, Level, Lot
from yizhan.visits.models import DailyRollup, checkin_column, tally_column

CARD_LIMIT = 2000


@dataclass
class Row:
    item: object
    qty: int
    level: Level | None
    forecast: fc.Forecast | None = None
    issued_week: int = 0

    @property
    def below(self) -> bool:
        return self.level is not None and self.qty < self.level.minimum

    @property
    def reorder(self) -> bool:
        return self.level is not None and self.qty <= self.level.reorder_point


def below_minimum(at: Unit, limit: int = 200):
    """The subtree's open below-minimum alerts (one per unit and item), with today's balance and
    level, plus counts per unit one level down. The alerts move with the balances in the same
    transaction, so this never scans the balances themselves."""
    open_low = Alert.objects.filter(
        kind=Alert.Kind.LOW, cleared_at__isnull=True, unit__path__startswith=at.path
    )
    pair = {"unit_id": OuterRef("unit_id"), "item_id": OuterRef("item_id")}
    level = Level.objects.filter(**pair)
    alerts = list(
        open_low.select_related("unit", "item")
        .annotate(
            now=Subquery(Balance.objects.filter(**pair).values("qty")[:1]),
            minimum=Subquery(level.values("minimum")[:1]),
            snoozed_until=Subquery(level.values("snoozed_until")[:1]),
        )
        .order_by("unit__path", "item__code")[:limit]
    )
    children = list(Unit.objects.filter(parent=at).open().order_by("code"))
    counts = {c.pk: 0 for c in children}
    by_path = {c.path: c.pk for c in children}
    depth = len(at.ancestor_ids()) + 1
    for path, n in open_low.order_by().values_list("unit__path").annotate(n=Count("pk")):
        parts = path.strip("/").split("/")
        if len(parts) >= depth:
            child = "/" + "/".join(parts[:depth]) + "/"
            if child in by_path:
                counts[by_path[child]] += n
    return alerts, [(c, counts[c.pk]) for c in children], open_low.count()


def expiring(at: Unit, limit: int = 100):
    return list(
        Alert.objects.filter(kind=Alert.Kind.EXPIRY, cleared_at__isnull=True, unit__path__startswith=at.path)
        .select_related("unit", "item")
        .order_by("unit__path")[:limit]
    )


def week_bounds(today: datetime.date):
    start = today - datetime.timedelta(days=today.weekday())
    return start, start + datetime.timedelta(days=7)


def unit_rows(unit: Unit, today: datetime.date | None = None) -> list[Row]:
    """The unit's balances with their levels, the forecast and this week's hand-outs; below
    minimum first."""
    today = today or timezone.localdate()
    balances = list(
        Balance.objects.filter(unit=unit).select_related("item").order_by("item__category", "item__code")
    )
    levels = {lv.item_id: lv for lv in Level.objects.filter(unit=unit)}
    start, end = week_bounds(today)
    tz = timezone.get_current_timezone()
    issued = dict(
        Entry.objects.filter(
            unit=unit, kind="issue",
            at__gte=datetime.datetime.combine(start, datetime.time(), tzinfo=tz),
            at__lt=datetime.datetime.combine(end, datetime.time(), tzinfo=tz),
        ).order_by().values_list("item_id").annotate(n=Sum("qty"))
    )  # fmt: skip
    rows = [
        Row(b.item, b.qty, levels.get(b.item_id), issued_week=-(issued.get(b.item_id) or 0)) for b in balances
    ]
    forecasts = fc.forecast(unit, [(r.item, r.qty, r.level) for r in rows], today)
    for r in rows:
        r.forecast = forecasts.get(r.item.pk)
    rows.sort(key=lambda r: (not r.below, not r.reorder))
    return rows


def week_checkins(unit: Unit, today: datetime.date | None = None) -> dict:
    """This week's check-ins at the unit's stations: all, and by couriers (for the gear given)."""
    start, end = week_bounds(today or timezone.localdate())
    totals = DailyRollup.objects.filter(station__unit=unit, day__gte=start, day__lt=end).aggregate(
        all=Sum("checkins"), tallied=Sum("tallied"),
        courier=Sum(checkin_column("courier")), courier_tallied=Sum(tally_column("courier")),
    )  # fmt: skip
    return {
        "all": (totals["all"] or 0) + (totals["tallied"] or 0),
        "courier": (totals["courier"] or 0) + (totals["courier_tallied"] or 0),
        "start": start,
    }


def card(unit: Unit, item, year: int | None = None):
    """The stock card of one item at one unit (a year of it, oldest first)."""
    entries = Entry.objects.filter(unit=unit, item=item)
    if year:
        tz = timezone.get_current_timezone()
        entries = entries.filter(
            at__gte=datetime.datetime(year, 1, 1, tzinfo=tz),
            at__lt=datetime.datetime(year + 1, 1, 1, tzinfo=tz),
        )
    return entries.select_related(
        "item", "actor", "transfer__from_unit", "transfer__to_unit", "distribution", "reverses"
    ).order_by("seq")[:CARD_LIMIT]


def lots(unit: Unit, item):
    return Lot.objects.filter(unit=unit, item=item, qty__gt=0).order_by("expires_on", "code")


def counterpart(entry) -> str:
    """Where an entry's stock came from or went to, for the card."""
    if entry.transfer_id:
        t = entry.transfer
        other = t.to_unit if entry.kind == "transfer_out" else t.from_unit
        return other.name
    if entry.distribution_id:
        d = entry.distribution
        if d.recipient:
            return d.recipient
        return d.get_recipient_kind_display()
    if entry.reverses_id:
        return _("reverses no. %(n)s") % {"n": entry.reverses.seq}
    return ""


LEDGER_HEADERS = [
    gettext_lazy("number"), gettext_lazy("time"), gettext_lazy("item"), gettext_lazy("kind"), gettext_lazy("in"),
    gettext_lazy("out"), gettext_lazy("balance"), gettext_lazy("lot"), gettext_lazy("expires on"),
    gettext_lazy("from / to"), gettext_lazy("reason"), gettext_lazy("by"),
]  # fmt: skip


def ledger_rows(entries):
    for e in entries:
        yield [
            e.seq,
            timezone.localtime(e.at).strftime("%Y-%m-%d %H:%M"),
            e.item.name,
            e.get_kind_display(),
            e.qty if e.qty > 0 else "",
            -e.qty if e.qty < 0 else "",
            e.balance_after,
            e.lot,
            e.expires_on.isoformat() if e.expires_on else "",
            counterpart(e),
            e.reason,
            e.actor.get_username() if e.actor_id else _("system"),
        ]
