"""Service cases (为群众办实事): someone needs something done — a visit at home, a fraud stopped with
the police, help for a vulnerable customer, a complaint — worked through the steps of its type,
each with a deadline in working days, and closed with a summary.

The people involved are recorded minimally (PIPL): how to address them, a phone number when a
call back is part of the work, and what they need. Lists and exports show them masked; the case
page shows them whole only to the staff of the case's unit and to admins above it.
"""

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from yizhan.core.concurrency import revision_field
from yizhan.core.masking import mask_phone
from yizhan.orgs.scoping import Scope, ScopedQuerySet


class CaseType(models.TextChoices):
    HOME_SERVICE = "home_service", _("Home / on-site service")
    FRAUD = "fraud", _("Fraud interception")
    VULNERABLE = "vulnerable", _("Vulnerable-customer assistance")
    COMPLAINT = "complaint", _("Complaint")


class Status(models.TextChoices):
    OPEN = "open", pgettext_lazy("case status", "open")
    CLOSED = "closed", pgettext_lazy("case status", "closed")


class Outcome(models.TextChoices):
    RESOLVED = "resolved", _("Resolved")
    PROTECTED = "protected", _("Fraud stopped, money kept")
    LOSS = "loss", _("Fraud not stopped in time")
    REFERRED = "referred", _("Referred elsewhere")
    WITHDRAWN = "withdrawn", _("Withdrawn by the customer")


class StepTemplate:
    """One step of a case type: its code, label, and the working days after opening it is due."""

    def __init__(self, code: str, label, days: int):
        self.code, self.label, self.days = code, label, days


# The template of steps of each type, in the order they must be done (CiviCase timelines).
TEMPLATES: dict[str, list[StepTemplate]] = {
    CaseType.FRAUD: [
        StepTemplate("calmed", _("Customer calmed"), 0),
        StepTemplate("police_called", _("Police called"), 0),
        StepTemplate("transaction_stopped", _("Transaction stopped"), 1),
        StepTemplate("follow_up", _("Follow-up call"), 3),
    ],
    CaseType.HOME_SERVICE: [
        StepTemplate("request_checked", _("Request checked for compliance"), 1),
        StepTemplate("visit_arranged", _("Visit arranged"), 2),
        StepTemplate("service_given", _("Service given on site"), 5),
        StepTemplate("follow_up", _("Follow-up call"), 7),
    ],
    CaseType.VULNERABLE: [
        StepTemplate("needs_assessed", _("Needs assessed"), 1),
        StepTemplate("help_given", _("Help given"), 3),
        StepTemplate("follow_up", _("Follow-up call"), 7),
    ],
    CaseType.COMPLAINT: [
        StepTemplate("acknowledged", _("Complaint acknowledged"), 1),
        StepTemplate("investigated", _("Facts checked"), 5),
        StepTemplate("replied", _("Reply given to the customer"), 10),
    ],
}
STEP_LABELS = {(t, s.code): s.label for t, steps in TEMPLATES.items() for s in steps}


class CaseQuerySet(ScopedQuerySet):
    scope_path_field = "unit__path"

    def open(self):
        return self.filter(status=Status.OPEN)

    def overdue(self, today=None):
        return self.open().filter(due_on__lt=today or timezone.localdate())


class Case(models.Model):
    unit = models.ForeignKey(
        "orgs.Unit", verbose_name=_("unit"), on_delete=models.PROTECT, related_name="service_cases"
    )
    station = models.ForeignKey(
        "stations.Station",
        verbose_name=_("station"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="service_cases",
    )
    case_type = models.CharField(_("case type"), max_length=16, choices=CaseType.choices)
    title = models.CharField(_("title"), max_length=200)
    # The person served, minimally: how to address them, a number to call back, what they need.
    person_name = models.CharField(_("person"), max_length=50, blank=True)
    person_phone = models.CharField(_("phone"), max_length=32, blank=True)
    need = models.TextField(_("what is needed"), blank=True)
    opened_at = models.DateTimeField(_("opened at"), default=timezone.now)
    due_on = models.DateField(_("due on"))
    status = models.CharField(_("status"), max_length=8, choices=Status.choices, default=Status.OPEN)
    outcome = models.CharField(_("outcome"), max_length=16, choices=Outcome.choices, blank=True)
    amount_protected = models.DecimalField(
        _("amount protected (CNY)"), max_digits=15, decimal_places=2, null=True, blank=True
    )
    police_reference = models.CharField(_("police reference"), max_length=64, blank=True)
    summary = models.TextField(_("summary"), blank=True)
    closed_at = models.DateTimeField(_("closed at"), null=True, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    closed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("closed by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    revision = revision_field()

    objects = CaseQuerySet.as_manager()

    class Meta:
        verbose_name = _("service case")
        verbose_name_plural = _("service cases")
        ordering = ["-opened_at", "-pk"]
        indexes = [models.Index(fields=["status", "due_on"])]

    def __str__(self):
        return f"#{self.pk} {self.title}"

    @property
    def is_open(self) -> bool:
        return self.status == Status.OPEN

    def is_overdue(self, today=None) -> bool:
        return self.is_open and (today or timezone.localdate()) > self.due_on

    @property
    def masked_name(self) -> str:
        return mask_name(self.person_name)

    @property
    def masked_phone(self) -> str:
        return mask_phone(self.person_phone)

    def shows_person_to(self, scope: Scope) -> bool:
        """Whole personal data: the staff of the case's own unit, and admins above it."""
        if not scope.covers(self.unit.path):
            return False
        return scope.unit_id == self.unit_id or scope.role == "admin"


def mask_name(value: str) -> str:
    """刘先生 → 刘**, L先生 → L**: the first character only."""
    value = (value or "").strip()
    return f"{value[0]}{'*' * max(len(value) - 1, 1)}" if value else ""


class CaseStep(models.Model):
    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="steps")
    position = models.PositiveSmallIntegerField()
    code = models.CharField(max_length=32)
    due_on = models.DateField(_("due on"))
    done_at = models.DateTimeField(_("done at"), null=True, blank=True)
    done_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    note = models.CharField(_("note"), max_length=500, blank=True)

    class Meta:
        ordering = ["case", "position"]
        constraints = [models.UniqueConstraint(fields=["case", "position"], name="cases_step_position")]

    def __str__(self):
        return self.label

    @property
    def label(self) -> str:
        return str(STEP_LABELS.get((self.case.case_type, self.code), self.code))


class DocumentKind(models.TextChoices):
    PHOTO = "photo", _("photo")
    PDF = "pdf", _("PDF document")


class CaseDocument(models.Model):
    """A photo (re-encoded, metadata stripped) or a PDF, stored under MEDIA_ROOT with a random name."""

    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="documents")
    kind = models.CharField(_("kind"), max_length=8, choices=DocumentKind.choices)
    path = models.CharField(max_length=200)
    content_type = models.CharField(max_length=40)
    size = models.PositiveIntegerField(_("size (bytes)"))
    title = models.CharField(_("title"), max_length=100, blank=True)
    uploaded_at = models.DateTimeField(default=timezone.now)
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["uploaded_at", "pk"]

    def __str__(self):
        return self.title or self.get_kind_display()


class LinkedInstruction(models.Model):
    """A remittance instruction a fraud case is about (the green channel's worklist item)."""

    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="instruction_links")
    instruction = models.ForeignKey("remittance.Instruction", on_delete=models.CASCADE, related_name="+")
    linked_at = models.DateTimeField(default=timezone.now)
    linked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["case", "instruction"], name="cases_link_instruction_once")
        ]

    def __str__(self):
        return f"#{self.case_id} → {self.instruction_id}"


class ProposalState(models.TextChoices):
    PROPOSED = "proposed", _("awaiting a decision")
    ACCEPTED = "accepted", _("accepted: the rule screens instructions")
    DECLINED = "declined", _("declined")


class ProposalQuerySet(ScopedQuerySet):
    scope_path_field = "case__unit__path"


class RuleProposal(models.Model):
    """A screening keyword a fraud case suggests (a payee or purpose the fraudsters used); a
    head-office admin accepts it into the green channel's rules, or declines it."""

    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="rule_proposals")
    field = models.CharField(_("field"), max_length=16)
    term = models.CharField(_("keyword"), max_length=64)
    note = models.CharField(_("note"), max_length=200, blank=True)
    state = models.CharField(
        _("state"), max_length=10, choices=ProposalState.choices, default=ProposalState.PROPOSED
    )
    proposed_at = models.DateTimeField(default=timezone.now)
    proposed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    decided_at = models.DateTimeField(null=True, blank=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    rule = models.ForeignKey(
        "remittance.Rule", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    objects = ProposalQuerySet.as_manager()

    class Meta:
        ordering = ["-proposed_at", "-pk"]

    def __str__(self):
        return self.term
