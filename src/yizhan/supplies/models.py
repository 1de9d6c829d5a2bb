"""Supplies: the item catalogue, the append-only stock ledger per unit, transfers between units,
hand-outs to people, levels and their alerts, requisitions.

The ledger is the truth. `Balance` (per unit and item) and `Lot` (per unit, item and lot) are
running sums of `Entry` rows and are written only by `ledger.post`, in the same transaction as
the entry, under a row lock on the balance; each entry carries its sequence number and the balance
after it, so `ledger.check` can prove sum(entries) = balance for every pair. Entries are never
updated or deleted: the model refuses it, and database triggers refuse it for raw SQL too.
"""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from yizhan.core.concurrency import revision_field
from yizhan.core.lang import localised
from yizhan.orgs.models import code_validator
from yizhan.orgs.scoping import ScopedQuerySet, _as_scope


class Category(models.TextChoices):
    STATION = "station_consumable", _("Station consumable")
    COURIER = "courier_gear", _("Courier gear")
    EPIDEMIC = "epidemic_supply", _("Epidemic supply")
    EQUIPMENT = "equipment", _("Equipment")
    RELIEF = "relief_goods", _("Relief goods")


class Driver(models.TextChoices):
    """What drives an item's use, for the forecast: check-ins that used a service, or by a group."""

    NONE = "", _("Not forecast")
    WATER = "water", _("Check-ins for drinking water")
    COOLING = "cooling", _("Check-ins for cooling down")
    WARMTH = "warmth", _("Check-ins for warming up")
    CHARGING = "charging", _("Check-ins for phone charging")
    CHECKINS = "checkins", _("All check-ins")
    COURIER = "courier", _("Check-ins by couriers")


class Item(models.Model):
    code = models.CharField(_("code"), max_length=32, unique=True, validators=[code_validator])
    name = models.CharField(_("name (Chinese)"), max_length=100)
    name_en = models.CharField(_("name (English)"), max_length=200, blank=True)
    # Every unit of measure is a count (件, 片, 盒, 桶, 瓶…): quantities are whole numbers.
    uom = models.CharField(_("unit of measure"), max_length=10)
    category = models.CharField(_("category"), max_length=24, choices=Category.choices)
    expiry_tracked = models.BooleanField(_("expiry tracked"), default=False)
    lot_tracked = models.BooleanField(_("lot tracked"), default=False)
    driver = models.CharField(_("use follows"), max_length=16, choices=Driver.choices, blank=True)
    per_use = models.DecimalField(
        _("used per check-in"), max_digits=8, decimal_places=3, default=0,
        help_text=_("How many are used per check-in it follows (a cup per drink of water: 1)."),
    )  # fmt: skip
    active = models.BooleanField(_("in use"), default=True)
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    revision = revision_field()

    class Meta:
        verbose_name = _("item")
        verbose_name_plural = _("items")
        ordering = ["category", "code"]

    def __str__(self):
        return self.name

    @property
    def display_name(self) -> str:
        return localised(self.name, self.name_en)

    @property
    def tracks_lots(self) -> bool:
        return self.expiry_tracked or self.lot_tracked


class UnitScoped(ScopedQuerySet):
    scope_path_field = "unit__path"


class Balance(models.Model):
    """The running balance of one item at one unit. Written only by `ledger.post`."""

    unit = models.ForeignKey("orgs.Unit", verbose_name=_("unit"), on_delete=models.PROTECT, related_name="+")
    item = models.ForeignKey(Item, verbose_name=_("item"), on_delete=models.PROTECT, related_name="balances")
    qty = models.BigIntegerField(_("balance"), default=0)
    entries = models.PositiveIntegerField(_("entries"), default=0)  # = the last entry's seq
    updated_at = models.DateTimeField(default=timezone.now)

    objects = UnitScoped.as_manager()

    class Meta:
        verbose_name = _("balance")
        constraints = [
            models.UniqueConstraint(fields=["unit", "item"], name="supplies_balance_once"),
            models.CheckConstraint(condition=Q(qty__gte=0), name="supplies_balance_not_negative"),
        ]

    def __str__(self):
        return f"{self.unit_id}/{self.item_id}={self.qty}"


class Lot(models.Model):
    """What is left of one lot of an expiry- or lot-tracked item at one unit. Written only by `ledger.post`."""

    unit = models.ForeignKey("orgs.Unit", on_delete=models.PROTECT, related_name="+")
    item = models.ForeignKey(Item, on_delete=models.PROTECT, related_name="+")
    code = models.CharField(_("lot"), max_length=40, blank=True)
    expires_on = models.DateField(_("expires on"), null=True, blank=True)
    qty = models.BigIntegerField(_("quantity"), default=0)

    objects = UnitScoped.as_manager()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["unit", "item", "code", "expires_on"], name="supplies_lot_once"),
            models.CheckConstraint(condition=Q(qty__gte=0), name="supplies_lot_not_negative"),
        ]
        # Postgres and SQLite treat NULLs in a unique key as distinct; lots with no expiry date
        # are still found by `ledger._lot`, which locks the balance first.
        indexes = [models.Index(fields=["expires_on"])]

    def __str__(self):
        return f"{self.item_id} {self.code or '—'} {self.expires_on or ''} = {self.qty}"


class Kind(models.TextChoices):
    RECEIPT = "receipt", _("Receipt")
    TRANSFER_OUT = "transfer_out", _("Transfer out")
    TRANSFER_IN = "transfer_in", _("Transfer in")
    TRANSFER_BACK = "transfer_back", _("Transfer returned")
    ISSUE = "issue", _("Issue")
    ADJUSTMENT = "adjustment", _("Adjustment")
    WRITE_OFF = "write_off", _("Write-off")
    REVERSAL = "reversal", _("Reversal")


class EntryQuerySet(UnitScoped):
    def update(self, **kwargs):
        raise TypeError("ledger entries are never changed: post a reversing entry")

    def delete(self):
        raise TypeError("ledger entries are never deleted: post a reversing entry")


class Entry(models.Model):
    """One line of a unit's stock card. Append-only: a mistake is corrected by a reversing entry."""

    unit = models.ForeignKey("orgs.Unit", verbose_name=_("unit"), on_delete=models.PROTECT, related_name="+")
    item = models.ForeignKey(Item, verbose_name=_("item"), on_delete=models.PROTECT, related_name="+")
    seq = models.PositiveIntegerField(_("number"))
    kind = models.CharField(_("kind"), max_length=16, choices=Kind.choices)
    qty = models.BigIntegerField(_("quantity"))  # signed: + in, - out
    balance_after = models.BigIntegerField(_("balance after"))
    lot = models.CharField(_("lot"), max_length=40, blank=True)
    expires_on = models.DateField(_("expires on"), null=True, blank=True)
    reason = models.CharField(_("reason"), max_length=200, blank=True)
    transfer = models.ForeignKey(
        "Transfer", null=True, blank=True, on_delete=models.PROTECT, related_name="entries"
    )
    distribution = models.ForeignKey(
        "Distribution", null=True, blank=True, on_delete=models.PROTECT, related_name="entries"
    )
    reverses = models.OneToOneField(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="reversed_by"
    )
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    at = models.DateTimeField(_("time"), default=timezone.now)

    objects = EntryQuerySet.as_manager()

    class Meta:
        verbose_name = _("ledger entry")
        verbose_name_plural = _("ledger entries")
        constraints = [
            models.UniqueConstraint(fields=["unit", "item", "seq"], name="supplies_entry_seq_once"),
            models.CheckConstraint(condition=~Q(qty=0), name="supplies_entry_not_zero"),
            models.CheckConstraint(
                condition=Q(balance_after__gte=0), name="supplies_entry_after_not_negative"
            ),
        ]
        indexes = [models.Index(fields=["unit", "item", "at"])]

    def __str__(self):
        return f"{self.unit_id}/{self.item_id}#{self.seq} {self.kind} {self.qty:+d}"

    def save(self, *args, **kwargs):
        if self.pk is not None or not kwargs.get("force_insert"):
            raise TypeError("ledger entries are only ever inserted, by ledger.post")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise TypeError("ledger entries are never deleted: post a reversing entry")


class RecipientKind(models.TextChoices):
    WORKER = "worker", _("Outdoor worker")
    STAFF = "staff", _("Staff")
    OUTSIDE = "outside", _("Outside group")


class Distribution(models.Model):
    """A hand-out: gear to a worker (no name needed), supplies to staff, goods to an outside group
    (named). Its entries are the `issue` lines of the ledger."""

    unit = models.ForeignKey("orgs.Unit", verbose_name=_("unit"), on_delete=models.PROTECT, related_name="+")
    recipient_kind = models.CharField(_("given to"), max_length=16, choices=RecipientKind.choices)
    group = models.CharField(_("visitor group"), max_length=24, blank=True)
    people = models.PositiveIntegerField(_("people"), null=True, blank=True)
    recipient = models.CharField(_("recipient"), max_length=100, blank=True)
    note = models.CharField(_("note"), max_length=200, blank=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    at = models.DateTimeField(_("time"), default=timezone.now)

    objects = UnitScoped.as_manager()

    class Meta:
        verbose_name = _("hand-out")

    def __str__(self):
        return self.recipient or self.get_recipient_kind_display()


class TransferQuerySet(ScopedQuerySet):
    def for_user(self, user_or_scope):
        """A transfer is in scope for both ends: the sender's and the receiver's subtree."""
        scope = _as_scope(user_or_scope)
        if not scope.is_staff:
            return self.none()
        return self.filter(
            Q(from_unit__path__startswith=scope.path) | Q(to_unit__path__startswith=scope.path)
        )


class Transfer(models.Model):
    class State(models.TextChoices):
        IN_TRANSIT = "in_transit", _("In transit")
        RECEIVED = "received", _("Received")
        CANCELLED = "cancelled", _("Cancelled")
        RETURNED = "returned", _("Returned")

    from_unit = models.ForeignKey(
        "orgs.Unit", verbose_name=_("from"), on_delete=models.PROTECT, related_name="+"
    )
    to_unit = models.ForeignKey("orgs.Unit", verbose_name=_("to"), on_delete=models.PROTECT, related_name="+")
    state = models.CharField(_("state"), max_length=16, choices=State.choices, default=State.IN_TRANSIT)
    carrier = models.CharField(_("carried by"), max_length=100, blank=True)
    note = models.CharField(_("note"), max_length=200, blank=True)
    sent_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    sent_at = models.DateTimeField(_("sent at"), default=timezone.now)
    closed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    closed_at = models.DateTimeField(_("closed at"), null=True, blank=True)
    requisition = models.ForeignKey(
        "Requisition", null=True, blank=True, on_delete=models.PROTECT, related_name="transfers"
    )
    revision = revision_field()

    objects = TransferQuerySet.as_manager()

    class Meta:
        verbose_name = _("transfer")
        ordering = ["-sent_at"]
        indexes = [models.Index(fields=["to_unit", "state"])]

    def __str__(self):
        return f"{self.from_unit} → {self.to_unit}"

    @property
    def unit(self):  # audit events belong to the sender
        return self.from_unit


class TransferLine(models.Model):
    transfer = models.ForeignKey(Transfer, on_delete=models.CASCADE, related_name="lines")
    item = models.ForeignKey(Item, verbose_name=_("item"), on_delete=models.PROTECT, related_name="+")
    qty_sent = models.PositiveIntegerField(_("sent"))
    qty_received = models.PositiveIntegerField(_("received"), null=True, blank=True)
    lot = models.CharField(_("lot"), max_length=40, blank=True)
    expires_on = models.DateField(_("expires on"), null=True, blank=True)
    difference_reason = models.CharField(_("reason for the difference"), max_length=200, blank=True)

    class Meta:
        ordering = ["pk"]

    def __str__(self):
        return f"{self.item_id} ×{self.qty_sent}"

    @property
    def difference(self) -> int | None:
        return None if self.qty_received is None else self.qty_received - self.qty_sent


class Level(models.Model):
    """Minimum, reorder point and maximum of one item at one unit (OpenBoxes' min/reorder/max)."""

    unit = models.ForeignKey("orgs.Unit", verbose_name=_("unit"), on_delete=models.PROTECT, related_name="+")
    item = models.ForeignKey(Item, verbose_name=_("item"), on_delete=models.PROTECT, related_name="+")
    minimum = models.PositiveIntegerField(_("minimum"), default=0)
    reorder_point = models.PositiveIntegerField(_("reorder point"), default=0)
    maximum = models.PositiveIntegerField(_("maximum"), null=True, blank=True)
    lead_days = models.PositiveSmallIntegerField(_("lead time (days)"), default=7)
    snoozed_until = models.DateField(_("alerts snoozed until"), null=True, blank=True)
    revision = revision_field()

    objects = UnitScoped.as_manager()

    class Meta:
        verbose_name = _("stock level")
        constraints = [models.UniqueConstraint(fields=["unit", "item"], name="supplies_level_once")]

    def __str__(self):
        return f"{self.item} @ {self.unit}"


class Alert(models.Model):
    """One open alert per unit, item and kind (a partial unique key); it clears itself when stock
    comes back (below minimum) or the lot is gone (expiry)."""

    class Kind(models.TextChoices):
        LOW = "low", _("Below minimum")
        EXPIRY = "expiry", _("Lot expiring")

    unit = models.ForeignKey("orgs.Unit", verbose_name=_("unit"), on_delete=models.PROTECT, related_name="+")
    item = models.ForeignKey(Item, verbose_name=_("item"), on_delete=models.PROTECT, related_name="+")
    kind = models.CharField(_("kind"), max_length=8, choices=Kind.choices)
    qty = models.BigIntegerField(_("balance when raised"))
    opened_at = models.DateTimeField(_("raised at"), default=timezone.now)
    notified_at = models.DateTimeField(_("notified at"), null=True, blank=True)
    cleared_at = models.DateTimeField(_("cleared at"), null=True, blank=True)

    objects = UnitScoped.as_manager()

    class Meta:
        verbose_name = _("alert")
        constraints = [
            models.UniqueConstraint(
                fields=["unit", "item", "kind"],
                condition=Q(cleared_at__isnull=True),
                name="supplies_alert_one_open",
            )
        ]
        indexes = [models.Index(fields=["cleared_at", "notified_at"])]

    def __str__(self):
        return f"{self.get_kind_display()}: {self.item} @ {self.unit}"


class Requisition(models.Model):
    """An outlet asks its parent for stock; the parent approves (and sends) or rejects."""

    class State(models.TextChoices):
        REQUESTED = "requested", _("Awaiting approval")
        APPROVED = "approved", _("Approved and sent")
        REJECTED = "rejected", _("Rejected")

    unit = models.ForeignKey(
        "orgs.Unit", verbose_name=_("requested by"), on_delete=models.PROTECT, related_name="+"
    )
    supplier = models.ForeignKey(
        "orgs.Unit", verbose_name=_("asked of"), on_delete=models.PROTECT, related_name="+"
    )
    note = models.CharField(_("note"), max_length=200, blank=True)
    state = models.CharField(_("state"), max_length=16, choices=State.choices, default=State.REQUESTED)
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    requested_at = models.DateTimeField(default=timezone.now)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    decided_at = models.DateTimeField(null=True, blank=True)
    revision = revision_field()

    objects = UnitScoped.as_manager()

    class Meta:
        verbose_name = _("requisition")
        ordering = ["-requested_at"]

    def __str__(self):
        return f"{self.unit} → {self.supplier} #{self.pk}"


class RequisitionLine(models.Model):
    """One item asked for; approving the requisition sends every line in one transfer."""

    requisition = models.ForeignKey(Requisition, on_delete=models.CASCADE, related_name="lines")
    item = models.ForeignKey(Item, verbose_name=_("item"), on_delete=models.PROTECT, related_name="+")
    qty = models.PositiveIntegerField(_("quantity"))

    class Meta:
        verbose_name = _("requisition line")
        ordering = ["pk"]

    def __str__(self):
        return f"{self.item} ×{self.qty}"
