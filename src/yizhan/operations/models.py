"""Outlet operations: the operating-status timeline per outlet and the customers served per day."""

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from yizhan.core.concurrency import revision_field
from yizhan.orgs.scoping import ScopedQuerySet


class OperatingState(models.TextChoices):
    OPEN = "open", _("Open as usual")
    LIMITED = "limited", _("Limited service")
    CLOSED = "closed", _("Closed")
    CLOSED_BY_ORDER = "closed_by_order", _("Closed by order of the authorities")


CLOSED_STATES = frozenset({OperatingState.CLOSED, OperatingState.CLOSED_BY_ORDER})


class OperatingStatusQuerySet(ScopedQuerySet):
    scope_path_field = "unit__path"

    def live(self):
        """Not withdrawn before it started."""
        return self.filter(cancelled_at__isnull=True)

    def in_force(self, at):
        return (
            self.live()
            .filter(starts_at__lte=at)
            .filter(models.Q(ends_at__isnull=True) | models.Q(ends_at__gt=at))
        )

    def current_or_future(self, at):
        return self.live().filter(models.Q(ends_at__isnull=True) | models.Q(ends_at__gt=at))


class OperatingStatus(models.Model):
    """One window of an outlet's operating status, from `starts_at` to `ends_at` (None: until further
    notice). Windows of one outlet never overlap; without one in force the outlet runs as usual."""

    unit = models.ForeignKey(
        "orgs.Unit", verbose_name=_("outlet"), on_delete=models.PROTECT, related_name="operating_statuses"
    )
    state = models.CharField(_("operating status"), max_length=20, choices=OperatingState.choices)
    starts_at = models.DateTimeField(_("from"))
    ends_at = models.DateTimeField(_("until"), null=True, blank=True)
    counter_windows = models.PositiveSmallIntegerField(_("counter windows open"), null=True, blank=True)
    self_service_24h = models.BooleanField(_("self-service bank open 24 hours"), default=False)
    notice = models.CharField(_("public notice"), max_length=500, blank=True)
    reason = models.CharField(_("reason"), max_length=500, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    cancelled_at = models.DateTimeField(_("withdrawn at"), null=True, blank=True, editable=False)
    revision = revision_field()

    objects = OperatingStatusQuerySet.as_manager()

    class Meta:
        verbose_name = _("operating status")
        verbose_name_plural = _("operating statuses")
        ordering = ["unit_id", "starts_at"]
        indexes = [models.Index(fields=["unit", "starts_at"]), models.Index(fields=["ends_at"])]

    def __str__(self):
        return f"{self.unit} {self.get_state_display()} {self.starts_at:%Y-%m-%d %H:%M}"

    @property
    def is_closed(self) -> bool:
        return self.state in CLOSED_STATES

    def covers(self, at) -> bool:
        return (
            self.cancelled_at is None and self.starts_at <= at and (self.ends_at is None or at < self.ends_at)
        )


class DailyCustomersQuerySet(ScopedQuerySet):
    scope_path_field = "unit__path"


class DailyCustomers(models.Model):
    """Customers an outlet served on one day (向工街: 60+ on its first day under control), kept beside
    its station's visits."""

    unit = models.ForeignKey(
        "orgs.Unit", verbose_name=_("outlet"), on_delete=models.PROTECT, related_name="+"
    )
    day = models.DateField(_("day"))
    customers = models.PositiveIntegerField(_("customers served"))
    updated_at = models.DateTimeField(default=timezone.now, editable=False)
    revision = revision_field()

    objects = DailyCustomersQuerySet.as_manager()

    class Meta:
        verbose_name = _("customers served")
        verbose_name_plural = _("customers served")
        constraints = [models.UniqueConstraint(fields=["unit", "day"], name="operations_customers_once")]

    def __str__(self):
        return f"{self.unit} {self.day}: {self.customers}"


# --- the staff roster and the daily health report (一日一报) -------------------------------------


class RosterQuerySet(ScopedQuerySet):
    scope_path_field = "unit__path"

    def on(self, day):
        """On the roster that day."""
        return self.filter(on_from__lte=day).filter(
            models.Q(on_until__isnull=True) | models.Q(on_until__gte=day)
        )


class RosterEntry(models.Model):
    """A person working at a unit, with or without a login; kept by the unit's admin. Other apps
    (training: who is certified) refer to people through these rows."""

    unit = models.ForeignKey(
        "orgs.Unit", verbose_name=_("unit"), on_delete=models.PROTECT, related_name="roster"
    )
    name = models.CharField(_("name"), max_length=60)
    employee_no = models.CharField(_("staff number"), max_length=32, blank=True)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("login"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="roster_entries",
    )
    position = models.CharField(_("job title"), max_length=60, blank=True)
    # The named desk (专人) that collects the daily report for this unit's subtree and may see it.
    health_desk = models.BooleanField(_("health report desk"), default=False)
    on_from = models.DateField(_("on the roster from"))
    on_until = models.DateField(_("on the roster until"), null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    revision = revision_field()

    objects = RosterQuerySet.as_manager()

    class Meta:
        verbose_name = _("roster entry")
        verbose_name_plural = _("roster")
        ordering = ["unit_id", "name"]
        constraints = [
            models.UniqueConstraint(
                fields=["unit", "user"],
                condition=models.Q(user__isnull=False),
                name="operations_roster_user_once",
            ),
            models.UniqueConstraint(
                fields=["unit", "employee_no"],
                condition=~models.Q(employee_no=""),
                name="operations_roster_number_once",
            ),
        ]

    def __str__(self):
        return self.name


class LeaveQuerySet(ScopedQuerySet):
    scope_path_field = "entry__unit__path"


class Leave(models.Model):
    """A person away (leave, sick, secondment): not expected to report those days."""

    entry = models.ForeignKey(RosterEntry, on_delete=models.CASCADE, related_name="leaves")
    starts_on = models.DateField(_("from"))
    ends_on = models.DateField(_("until"))
    note = models.CharField(_("note"), max_length=200, blank=True)

    objects = LeaveQuerySet.as_manager()

    class Meta:
        verbose_name = _("leave")
        verbose_name_plural = _("leave")

    def __str__(self):
        return f"{self.entry} {self.starts_on}–{self.ends_on}"


class Isolation(models.TextChoices):
    NONE = "none", _("Not isolated")
    HOME = "home", _("Home isolation")
    CENTRAL = "central", _("Central isolation")


class Symptom(models.TextChoices):
    FEVER = "fever", _("Fever")
    COUGH = "cough", _("Cough")
    FATIGUE = "fatigue", _("Fatigue")
    SORE_THROAT = "sore_throat", _("Sore throat")
    BREATHING = "breathing", _("Short of breath")


class HealthReportQuerySet(ScopedQuerySet):
    scope_path_field = "unit__path"


class HealthReport(models.Model):
    """One person's daily report. Health data: shown only to the desk and admins of the subtree."""

    entry = models.ForeignKey(RosterEntry, on_delete=models.PROTECT, related_name="health_reports")
    unit = models.ForeignKey(
        "orgs.Unit", on_delete=models.PROTECT, related_name="+"
    )  # the entry's, for scoping
    day = models.DateField(_("day"))
    temperature = models.DecimalField(_("temperature (°C)"), max_digits=3, decimal_places=1)
    symptoms = models.JSONField(_("symptoms"), default=list, blank=True)
    travelled = models.BooleanField(_("travelled outside the city"), default=False)
    travel_note = models.CharField(_("where to"), max_length=200, blank=True)
    isolation = models.CharField(
        _("isolation"), max_length=10, choices=Isolation.choices, default=Isolation.NONE
    )
    late = models.BooleanField(_("late"), default=False)
    counted = models.BooleanField(default=False, editable=False)  # expected that day: in the rollups
    submitted_at = models.DateTimeField(default=timezone.now, editable=False)
    submitted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    backfill_reason = models.CharField(
        _("reason for reporting on someone's behalf or later"), max_length=200, blank=True
    )

    objects = HealthReportQuerySet.as_manager()

    class Meta:
        verbose_name = _("daily health report")
        verbose_name_plural = _("daily health reports")
        constraints = [models.UniqueConstraint(fields=["entry", "day"], name="operations_health_once")]
        indexes = [models.Index(fields=["unit", "day"])]

    def __str__(self):
        return f"{self.entry} {self.day}"


class HealthDayQuerySet(ScopedQuerySet):
    scope_path_field = "unit__path"


class HealthDay(models.Model):
    """Completeness of one unit on one day, kept current in the same transaction as every report,
    roster, leave and status change: `own_*` counts the unit's own roster, the others its subtree."""

    unit = models.ForeignKey("orgs.Unit", on_delete=models.CASCADE, related_name="+")
    day = models.DateField()
    own_expected = models.PositiveIntegerField(default=0)
    own_on_time = models.PositiveIntegerField(default=0)
    own_late = models.PositiveIntegerField(default=0)
    expected = models.PositiveIntegerField(default=0)
    on_time = models.PositiveIntegerField(default=0)
    late = models.PositiveIntegerField(default=0)

    objects = HealthDayQuerySet.as_manager()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["unit", "day"], name="operations_healthday_once")]
        indexes = [models.Index(fields=["day", "unit"])]

    def __str__(self):
        return f"{self.unit_id} {self.day}: {self.on_time + self.late}/{self.expected}"

    @property
    def missing(self) -> int:
        return max(self.expected - self.on_time - self.late, 0)


# --- spot checks, inspections and THE rectification mechanism -----------------------------------


class InspectionKind(models.TextChoices):
    VIDEO = "video", _("Spot check by video")
    ON_SITE = "on_site", _("On-site check")


class InspectionQuerySet(ScopedQuerySet):
    scope_path_field = "unit__path"


class Inspection(models.Model):
    """A spot check by video (监控联网抽查) or on site: a checklist, findings; each failed item
    becomes a rectification."""

    unit = models.ForeignKey(
        "orgs.Unit", verbose_name=_("outlet"), on_delete=models.PROTECT, related_name="+"
    )
    kind = models.CharField(_("kind"), max_length=10, choices=InspectionKind.choices)
    checked_at = models.DateTimeField(_("checked at"), default=timezone.now)
    inspector = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    items = models.JSONField(_("checklist"), default=list)  # [{"item", "ok", "note"}]
    findings = models.TextField(_("findings"), blank=True)
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    objects = InspectionQuerySet.as_manager()

    class Meta:
        verbose_name = _("inspection")
        verbose_name_plural = _("inspections")
        ordering = ["-checked_at"]

    def __str__(self):
        return f"{self.get_kind_display()} {self.unit} {self.checked_at:%Y-%m-%d}"

    @property
    def failed(self) -> int:
        return sum(1 for item in self.items if not item.get("ok"))


class RectificationStatus(models.TextChoices):
    OPEN = "open", pgettext_lazy("rectification", "Open")
    RESPONDED = "responded", _("Responded, to be re-checked")
    CLOSED = "closed", _("Closed")


class RectificationQuerySet(ScopedQuerySet):
    scope_path_field = "unit__path"

    def pending(self):
        return self.exclude(status=RectificationStatus.CLOSED)

    def overdue(self, today):
        return self.filter(status=RectificationStatus.OPEN, due_on__lt=today)


class Rectification(models.Model):
    """整改: one finding an outlet must put right by a deadline in working days. THE mechanism
    every app uses (inspections here; drills, supplies …): create with
    `rectifications.open_rectification(source, …)`; the source is any model instance."""

    unit = models.ForeignKey(
        "orgs.Unit", verbose_name=_("outlet"), on_delete=models.PROTECT, related_name="+"
    )
    source_type = models.ForeignKey("contenttypes.ContentType", on_delete=models.PROTECT, related_name="+")
    source_id = models.PositiveBigIntegerField()
    title = models.CharField(_("finding"), max_length=200)
    detail = models.TextField(_("details"), blank=True)
    opened_on = models.DateField(_("opened on"))
    due_on = models.DateField(_("due on"))
    status = models.CharField(
        _("status"), max_length=10, choices=RectificationStatus.choices, default=RectificationStatus.OPEN
    )
    response = models.TextField(_("the outlet's response"), blank=True)
    responded_at = models.DateTimeField(_("responded at"), null=True, blank=True)
    recheck_note = models.TextField(_("re-check note"), blank=True)
    rechecked_at = models.DateTimeField(_("re-checked at"), null=True, blank=True)
    rechecks = models.PositiveSmallIntegerField(_("re-checks failed"), default=0)
    closed_at = models.DateTimeField(_("closed at"), null=True, blank=True)
    escalated_to = models.ForeignKey(
        "orgs.Unit",
        verbose_name=_("escalated to"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    revision = revision_field()

    objects = RectificationQuerySet.as_manager()

    class Meta:
        verbose_name = _("rectification")
        verbose_name_plural = _("rectifications")
        ordering = ["due_on", "pk"]
        indexes = [
            models.Index(fields=["source_type", "source_id"]),
            models.Index(fields=["status", "due_on"]),
        ]

    def __str__(self):
        return self.title

    @property
    def source(self):
        return self.source_type.get_object_for_this_type(pk=self.source_id)

    def is_overdue(self, today) -> bool:
        return self.status == RectificationStatus.OPEN and self.due_on < today
