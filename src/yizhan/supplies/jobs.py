"""Scheduled work of supplies: alert messages (once per alert), expiry alerts, the ledger proof."""

import datetime
import logging

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from yizhan.jobs.schedules import Every

log = logging.getLogger(__name__)


def expiry_days() -> int:
    return getattr(settings, "YIZHAN_SUPPLIES_EXPIRY_DAYS", 30)


def scan_expiry(today: datetime.date | None = None) -> int:
    """Open one expiry alert per unit and item with stock expiring within N days; clear the ones
    whose lots are used up, written off or no longer that close. Returns how many are open."""
    from yizhan.supplies.models import Alert, Lot

    today = today or timezone.localdate()
    horizon = today + datetime.timedelta(days=expiry_days())
    due = {}  # (unit, item) → how many expire by the horizon, over all its lots
    for u, i, q in Lot.objects.filter(qty__gt=0, expires_on__lte=horizon).values_list(
        "unit_id", "item_id", "qty"
    ):
        due[(u, i)] = due.get((u, i), 0) + q
    with transaction.atomic():
        open_alerts = {
            (a.unit_id, a.item_id): a
            for a in Alert.objects.filter(kind=Alert.Kind.EXPIRY, cleared_at__isnull=True)
        }
        gone = [a.pk for key, a in open_alerts.items() if key not in due]
        Alert.objects.filter(pk__in=gone).update(cleared_at=timezone.now())
        Alert.objects.bulk_create(
            [
                Alert(unit_id=u, item_id=i, kind=Alert.Kind.EXPIRY, qty=q)
                for (u, i), q in due.items()
                if (u, i) not in open_alerts
            ]
        )
    return len(due)


def send_alerts(now=None) -> int:
    """Tell the unit's staff and the level above about each alert not yet told: one message per
    alert and person (the notification centre's key), none while the item is snoozed there."""
    from yizhan.notify.services import notify, staff
    from yizhan.orgs.models import Membership
    from yizhan.supplies.models import Alert, Level, Lot

    now = now or timezone.now()
    today = timezone.localdate(now)
    sent = 0
    due = Alert.objects.filter(cleared_at__isnull=True, notified_at__isnull=True).select_related(
        "unit", "item"
    )
    for alert in due[:500]:
        level = Level.objects.filter(unit=alert.unit, item=alert.item).first()
        if level is not None and level.snoozed_until and level.snoozed_until > today:
            continue
        units = [alert.unit_id] + ([alert.unit.parent_id] if alert.unit.parent_id else [])
        users = [
            m.user
            for m in Membership.objects.filter(unit_id__in=units, user__is_active=True).select_related("user")
        ]
        context = {"unit": alert.unit.name, "item": alert.item.name, "qty": alert.qty, "uom": alert.item.uom}
        if alert.kind == Alert.Kind.LOW:
            template, context["minimum"] = "supplies-low", level.minimum if level else 0
        else:
            template = "supplies-expiry"
            lot = (
                Lot.objects.filter(unit=alert.unit, item=alert.item, qty__gt=0)
                .exclude(expires_on=None)
                .order_by("expires_on")
                .first()
            )
            context["date"] = lot.expires_on.isoformat() if lot else ""
            context["qty"] = lot.qty if lot else alert.qty
        with transaction.atomic():
            if users:
                notify(staff(users, alert.unit), template, context, key=f"supplies-alert-{alert.pk}")
            # Marked in the same transaction as the messages: a retried run sends nothing twice.
            Alert.objects.filter(pk=alert.pk, notified_at__isnull=True).update(notified_at=now)
        sent += 1
    return sent


def check_ledger() -> int:
    """The daily proof that every balance equals the sum of its entries; mismatches are logged loudly."""
    from yizhan.supplies import ledger

    checked, problems = ledger.check()
    for p in problems:
        log.error("supplies ledger mismatch: unit %s item %s balance %s ledger %s (%s)", p.unit_id, p.item_id,
                  p.balance, p.ledger, p.what)  # fmt: skip
    return len(problems)


SCHEDULES = [
    Every("supplies.send_alerts", "yizhan.supplies.jobs.send_alerts", _("Send stock alerts"), minutes=15),
    Every(
        "supplies.scan_expiry",
        "yizhan.supplies.jobs.scan_expiry",
        _("Raise alerts for lots about to expire"),
        at="07:00",
    ),
    Every(
        "supplies.check_ledger",
        "yizhan.supplies.jobs.check_ledger",
        _("Prove every stock balance against its ledger"),
        at="03:30",
    ),
]
