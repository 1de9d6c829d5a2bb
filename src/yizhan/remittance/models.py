"""The remittance green channel: holiday batches of delayed instructions, screened, grouped
for duplicates and worked by staff with callbacks and two-person decisions."""

import datetime
from decimal import Decimal

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from yizhan.core.concurrency import revision_field
from yizhan.orgs.scoping import Scope, ScopedQuerySet, scope_for

DEFAULT_APPROVAL_THRESHOLD = Decimal("50000.00")
DEFAULT_NEAR_WINDOW_HOURS = 24
# A claim lapses after this long without a callback, so an item never stays locked by someone gone home.
CLAIM_TTL = datetime.timedelta(minutes=60)


class Field(models.TextChoices):
    PAYEE_NAME = "payee_name", _("payee")
    PURPOSE = "purpose", _("purpose")


class AllowField(models.TextChoices):
    PAYER_ACCOUNT = "payer_account", _("payer account")
    PAYEE_ACCOUNT = "payee_account", _("payee account")
    PAYER_NAME = "payer_name", _("payer name")
    PAYEE_NAME = "payee_name", _("payee name")


class Rule(models.Model):
    """A keyword that flags an instruction when found in one field (after normalisation)."""

    field = models.CharField(_("field"), max_length=16, choices=Field.choices)
    term = models.CharField(_("keyword"), max_length=64)
    category = models.CharField(_("category"), max_length=32, blank=True)
    priority = models.PositiveSmallIntegerField(_("priority"), default=50)
    is_active = models.BooleanField(_("active"), default=True)
    note = models.CharField(_("note"), max_length=200, blank=True)
    updated_at = models.DateTimeField(default=timezone.now, editable=False)
    revision = revision_field()

    class Meta:
        verbose_name = _("screening rule")
        verbose_name_plural = _("screening rules")
        ordering = ["-priority", "field", "term"]
        constraints = [models.UniqueConstraint(fields=["field", "term"], name="remittance_rule_field_term")]

    def __str__(self):
        return f"{self.term} ({self.get_field_display()})"


class Alias(models.Model):
    """Two spellings that mean the same (红会 ⇄ 红十字会); rules match either."""

    term_a = models.CharField(_("term"), max_length=64)
    term_b = models.CharField(_("same as"), max_length=64)
    updated_at = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        verbose_name = _("alias")
        verbose_name_plural = _("aliases")
        ordering = ["term_a", "term_b"]

    def __str__(self):
        return f"{self.term_a} ⇄ {self.term_b}"


class Exclusion(models.Model):
    """A context that is not what a rule means: a hit inside it is dropped (红十字路 around 红十字)."""

    term = models.CharField(_("exclusion context"), max_length=64)
    rule = models.ForeignKey(
        Rule,
        verbose_name=_("rule"),
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="exclusions",
        help_text=_("Empty: every rule."),
    )
    field = models.CharField(_("field"), max_length=16, choices=Field.choices, blank=True)
    note = models.CharField(_("note"), max_length=200, blank=True)
    updated_at = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        verbose_name = _("exclusion")
        verbose_name_plural = _("exclusions")
        ordering = ["term"]

    def __str__(self):
        return self.term


class AllowEntry(models.Model):
    """A known payer or payee whose hits are suppressed (a hospital's payroll account)."""

    field = models.CharField(_("field"), max_length=16, choices=AllowField.choices)
    value = models.CharField(_("value"), max_length=200)
    rule = models.ForeignKey(
        Rule,
        verbose_name=_("rule"),
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="allow_entries",
        help_text=_("Empty: every rule."),
    )
    reason = models.CharField(_("reason"), max_length=200)
    is_active = models.BooleanField(_("active"), default=True)
    updated_at = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        verbose_name = _("allow-list entry")
        verbose_name_plural = _("allow-list entries")
        ordering = ["field", "value"]

    def __str__(self):
        return f"{self.get_field_display()}: {self.value}"


class BatchQuerySet(ScopedQuerySet):
    """A batch is seen from its own unit's subtree and from below: a city branch works the
    instructions of a batch that head office imported (only its own instructions, which are
    scoped separately)."""

    scope_path_field = "unit__path"

    def for_user(self, user_or_scope):
        scope = user_or_scope if isinstance(user_or_scope, Scope) else scope_for(user_or_scope)
        if not scope.is_staff:
            return self.none()
        ancestors = [int(part) for part in scope.path.strip("/").split("/") if part]
        return self.filter(Q(unit__path__startswith=scope.path) | Q(unit_id__in=ancestors))


class Batch(models.Model):
    """One holiday's pending instructions, imported from core banking in one or more files."""

    name = models.CharField(_("name"), max_length=100)
    unit = models.ForeignKey(
        "orgs.Unit", verbose_name=_("owner unit"), on_delete=models.PROTECT, related_name="+"
    )
    deadline = models.DateTimeField(_("deadline (end of the holiday)"))
    approval_threshold = models.DecimalField(
        _("second approval above (CNY)"),
        max_digits=15,
        decimal_places=2,
        default=DEFAULT_APPROVAL_THRESHOLD,
    )
    near_window_hours = models.PositiveIntegerField(
        _("near-duplicate window (hours)"), default=DEFAULT_NEAR_WINDOW_HOURS
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    screened_at = models.DateTimeField(null=True, blank=True, editable=False)
    revision = revision_field()

    objects = BatchQuerySet.as_manager()

    class Meta:
        verbose_name = _("remittance batch")
        verbose_name_plural = _("remittance batches")
        ordering = ["-created_at", "-pk"]

    def __str__(self):
        return self.name

    @property
    def is_overdue(self) -> bool:
        return timezone.now() > self.deadline


class ImportRun(models.Model):
    """One file imported into a batch; the file is kept so that a preview can be confirmed."""

    class Status(models.TextChoices):
        PREVIEWED = "previewed", _("previewed")
        IMPORTED = "imported", _("imported")
        DISCARDED = "discarded", _("discarded")

    batch = models.ForeignKey(Batch, on_delete=models.CASCADE, related_name="imports")
    filename = models.CharField(_("file"), max_length=200)
    sha256 = models.CharField(max_length=64, editable=False)
    content = models.BinaryField(editable=False)
    status = models.CharField(_("status"), max_length=16, choices=Status.choices, default=Status.PREVIEWED)
    rows_read = models.PositiveIntegerField(default=0)
    rows_imported = models.PositiveIntegerField(default=0)
    rows_rejected = models.PositiveIntegerField(default=0)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        ordering = ["-created_at", "-pk"]

    def __str__(self):
        return self.filename


class DuplicateGroup(models.Model):
    class Kind(models.TextChoices):
        SAME_ID = "same_id", _("same instruction id")
        SAME_FIELDS = "same_fields", _("same accounts, amount and purpose")
        NEAR = "near", _("same payer, payee and amount within the window")

    batch = models.ForeignKey(Batch, on_delete=models.CASCADE, related_name="duplicate_groups")
    number = models.PositiveIntegerField()
    # The strongest reason that links the members (same id > same fields > near).
    kind = models.CharField(_("kind"), max_length=16, choices=Kind.choices)
    keep = models.ForeignKey(
        "Instruction",
        verbose_name=_("proposed to keep"),
        null=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    size = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["number"]
        constraints = [models.UniqueConstraint(fields=["batch", "number"], name="remittance_group_number")]

    def __str__(self):
        return f"G{self.number}"


class State(models.TextChoices):
    OPEN = "open", _("open")
    PENDING = "pending_approval", _("awaiting second approval")
    DECIDED = "decided", _("decided")


class Decision(models.TextChoices):
    PROCESS_NOW = "process_now", _("process now")
    DELETE_DUPLICATE = "delete_duplicate", _("delete as duplicate")
    LEAVE_SCHEDULED = "leave_scheduled", _("leave as scheduled")


# The codes core banking reads in the decisions export.
EXPORT_CODES = {
    Decision.PROCESS_NOW: "PROCESS_NOW",
    Decision.DELETE_DUPLICATE: "DELETE",
    Decision.LEAVE_SCHEDULED: "KEEP_SCHEDULED",
}


class InstructionQuerySet(ScopedQuerySet):
    scope_path_field = "unit__path"

    def worklist_order(self):
        """Hits first (by rule priority), then the largest amounts, then the oldest."""
        return self.order_by("-priority", "-amount", "created_at", "pk")


class Instruction(models.Model):
    """A delayed remittance instruction from core banking, with its branch in the org tree."""

    batch = models.ForeignKey(Batch, on_delete=models.CASCADE, related_name="instructions")
    import_run = models.ForeignKey(
        ImportRun, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    row_number = models.PositiveIntegerField(default=0)
    unit = models.ForeignKey(
        "orgs.Unit", verbose_name=_("branch"), on_delete=models.PROTECT, related_name="+"
    )
    instruction_id = models.CharField(_("instruction id"), max_length=64, db_index=True)
    created_at = models.DateTimeField(_("created at"))
    scheduled_date = models.DateField(_("scheduled date"))
    payer_name = models.CharField(_("payer name"), max_length=200)
    payer_account = models.CharField(_("payer account"), max_length=40)
    payer_phone = models.CharField(_("payer phone"), max_length=32, blank=True)
    payee_name = models.CharField(_("payee name"), max_length=200)
    payee_account = models.CharField(_("payee account"), max_length=40)
    payee_bank = models.CharField(_("payee bank"), max_length=200, blank=True)
    amount = models.DecimalField(_("amount (CNY)"), max_digits=15, decimal_places=2)
    purpose = models.CharField(_("purpose"), max_length=255, blank=True)
    channel = models.CharField(_("channel"), max_length=32, blank=True)

    # Screening and grouping, derived on import and re-screening.
    priority = models.PositiveSmallIntegerField(_("priority"), default=0)
    hit_count = models.PositiveSmallIntegerField(default=0)
    flagged = models.BooleanField(default=False)  # hits or a duplicate group: needs a look
    allowed_by = models.ForeignKey(
        AllowEntry, null=True, blank=True, on_delete=models.SET_NULL, related_name="+", db_index=False
    )
    dup_group = models.ForeignKey(
        DuplicateGroup, null=True, blank=True, on_delete=models.SET_NULL, related_name="members"
    )

    # The work.
    state = models.CharField(_("state"), max_length=20, choices=State.choices, default=State.OPEN)
    claimed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        db_index=False,
    )
    claimed_at = models.DateTimeField(null=True, blank=True)
    decision = models.CharField(_("decision"), max_length=20, choices=Decision.choices, blank=True)
    decision_note = models.CharField(_("note"), max_length=500, blank=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        db_index=False,
    )
    decided_at = models.DateTimeField(null=True, blank=True)
    approved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        db_index=False,
    )
    approved_at = models.DateTimeField(null=True, blank=True)
    exported_at = models.DateTimeField(null=True, blank=True)

    objects = InstructionQuerySet.as_manager()

    class Meta:
        verbose_name = _("remittance instruction")
        verbose_name_plural = _("remittance instructions")
        ordering = ["-priority", "-amount", "created_at", "pk"]
        indexes = [
            models.Index(fields=["batch", "flagged", "-priority", "-amount"]),
            models.Index(fields=["batch", "state"]),
        ]

    def __str__(self):
        return self.instruction_id

    def claim_active(self, now=None) -> bool:
        if self.claimed_by_id is None or self.claimed_at is None or self.state != State.OPEN:
            return False
        return (now or timezone.now()) - self.claimed_at < CLAIM_TTL


class Hit(models.Model):
    """Which rule fired on which field, and where in the original text."""

    instruction = models.ForeignKey(Instruction, on_delete=models.CASCADE, related_name="hits")
    rule = models.ForeignKey(Rule, null=True, on_delete=models.SET_NULL, related_name="+")
    rule_term = models.CharField(max_length=64)  # kept, so a deleted rule still explains the hit
    field = models.CharField(_("field"), max_length=16, choices=Field.choices)
    start = models.PositiveIntegerField()
    end = models.PositiveIntegerField()
    text = models.CharField(max_length=200)

    class Meta:
        ordering = ["field", "start"]

    def __str__(self):
        return f"{self.rule_term}@{self.field}[{self.start}:{self.end}]"


class CallbackQuerySet(ScopedQuerySet):
    scope_path_field = "instruction__unit__path"


class Callback(models.Model):
    class Outcome(models.TextChoices):
        CONFIRMED = "confirmed", _("confirmed")
        WANTS_CANCEL = "wants_cancel", _("wants it cancelled")
        UNREACHABLE = "unreachable", _("unreachable")
        CALL_BACK = "call_back", _("call back at …")

    instruction = models.ForeignKey(Instruction, on_delete=models.CASCADE, related_name="callbacks")
    caller = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    caller_name = models.CharField(max_length=150)
    called_at = models.DateTimeField(_("called at"), default=timezone.now)
    phone = models.CharField(_("number called"), max_length=32)
    outcome = models.CharField(_("outcome"), max_length=16, choices=Outcome.choices)
    call_back_at = models.DateTimeField(_("call back at"), null=True, blank=True)
    note = models.CharField(_("note"), max_length=500, blank=True)

    objects = CallbackQuerySet.as_manager()

    class Meta:
        ordering = ["-called_at", "-pk"]

    def __str__(self):
        return f"{self.instruction_id} {self.outcome}"

    @property
    def phone_masked(self) -> str:
        from yizhan.core.masking import mask_phone

        return mask_phone(self.phone)
