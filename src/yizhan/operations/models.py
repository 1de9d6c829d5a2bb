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


# --- contingency plans (四个备份) ------------------------------------------------------------------


class Backup(models.TextChoices):
    BUSINESS = "business", _("Business backup")
    STAFF = "staff", _("Staff backup")
    SERVICE = "service", _("Service backup")
    MANAGEMENT = "management", _("Management backup")


class OwnerRole(models.TextChoices):
    OUTLET_MANAGER = "outlet_manager", _("Outlet manager")
    OUTLET_STAFF = "outlet_staff", _("Outlet staff")
    BACKUP_STAFF = "backup_staff", _("Backup staff")
    ADMIN_ABOVE = "admin_above", _("Admin who activated the plan")


class PlanTemplateQuerySet(ScopedQuerySet):
    scope_path_field = "unit__path"

    def usable_by(self, scope):
        """Templates of the scope's own unit, of the units above it (head office, province) and
        of its subtree."""
        if not scope.is_staff:
            return self.none()
        above = [int(p) for p in scope.path.strip("/").split("/") if p]
        return self.filter(models.Q(unit_id__in=above) | models.Q(unit__path__startswith=scope.path))


class PlanTemplate(models.Model):
    """A contingency plan template (head office or province) with its four backups; `measures`
    is [{"backup", "text", "owner", "working_days"}]."""

    unit = models.ForeignKey(
        "orgs.Unit", verbose_name=_("owned by"), on_delete=models.PROTECT, related_name="+"
    )
    name = models.CharField(_("name"), max_length=100)
    measures = models.JSONField(_("measures"), default=list)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    revision = revision_field()

    objects = PlanTemplateQuerySet.as_manager()

    class Meta:
        verbose_name = _("contingency plan template")
        verbose_name_plural = _("contingency plan templates")
        ordering = ["unit_id", "name"]
        constraints = [models.UniqueConstraint(fields=["unit", "name"], name="operations_plan_name_once")]

    def __str__(self):
        return self.name


class OutletPlanQuerySet(ScopedQuerySet):
    scope_path_field = "unit__path"


class OutletPlan(models.Model):
    """An outlet's own plan, filled from a template: its measures (copied, so a later edit of the
    template does not rewrite it), backup staff from other outlets, backup cash route and channel."""

    unit = models.OneToOneField(
        "orgs.Unit", verbose_name=_("outlet"), on_delete=models.PROTECT, related_name="contingency_plan"
    )
    template = models.ForeignKey(
        PlanTemplate, verbose_name=_("template"), on_delete=models.PROTECT, related_name="outlet_plans"
    )
    measures = models.JSONField(_("measures"), default=list)
    backup_staff = models.ManyToManyField(
        RosterEntry, verbose_name=_("backup staff"), blank=True, related_name="backup_for"
    )
    cash_route = models.CharField(_("backup cash route"), max_length=300, blank=True)
    service_channel = models.CharField(_("backup service channel"), max_length=300, blank=True)
    updated_at = models.DateTimeField(default=timezone.now, editable=False)
    revision = revision_field()

    objects = OutletPlanQuerySet.as_manager()

    class Meta:
        verbose_name = _("outlet contingency plan")
        verbose_name_plural = _("outlet contingency plans")

    def __str__(self):
        return f"{self.unit} · {self.template}"


class ActivationQuerySet(ScopedQuerySet):
    scope_path_field = "root__path"

    def for_user(self, user_or_scope):
        """Visible up the tree (the root in the subtree) and down it (an outlet of it in the subtree)."""
        from yizhan.orgs.scoping import _as_scope

        scope = _as_scope(user_or_scope)
        if not scope.is_staff:
            return self.none()
        below = ActivatedOutlet.objects.filter(unit__path__startswith=scope.path).values("activation_id")
        return self.filter(models.Q(root__path__startswith=scope.path) | models.Q(pk__in=below))

    def active(self):
        return self.filter(deactivated_at__isnull=True)


class PlanActivation(models.Model):
    """A plan activated for a set of outlets (a subtree or a hand-picked list) with a reason."""

    root = models.ForeignKey(
        "orgs.Unit", verbose_name=_("activated for"), on_delete=models.PROTECT, related_name="+"
    )
    template = models.ForeignKey(
        PlanTemplate, verbose_name=_("plan"), on_delete=models.PROTECT, related_name="activations"
    )
    reason = models.CharField(_("reason"), max_length=500)
    state = models.CharField(_("operating status"), max_length=20, choices=OperatingState.choices)
    counter_windows = models.PositiveSmallIntegerField(_("counter windows open"), null=True, blank=True)
    self_service_24h = models.BooleanField(_("self-service bank open 24 hours"), default=False)
    notice = models.CharField(_("public notice"), max_length=500, blank=True)
    activated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    activated_at = models.DateTimeField(_("activated at"), default=timezone.now)
    deactivated_at = models.DateTimeField(_("deactivated at"), null=True, blank=True)
    deactivated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    revision = revision_field()

    objects = ActivationQuerySet.as_manager()

    class Meta:
        verbose_name = _("plan activation")
        verbose_name_plural = _("plan activations")
        ordering = ["-activated_at"]

    def __str__(self):
        return f"{self.template} · {self.root}"

    @property
    def is_active(self) -> bool:
        return self.deactivated_at is None


class ActivatedOutletQuerySet(ScopedQuerySet):
    scope_path_field = "unit__path"


class ActivatedOutlet(models.Model):
    """One outlet of an activation: the status window the activation set, and the windows it ended
    or withdrew (`previous`, as snapshots) so that deactivation can restore them."""

    activation = models.ForeignKey(PlanActivation, on_delete=models.CASCADE, related_name="outlets")
    unit = models.ForeignKey(
        "orgs.Unit", verbose_name=_("outlet"), on_delete=models.PROTECT, related_name="+"
    )
    status = models.ForeignKey(
        OperatingStatus, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    previous = models.JSONField(default=list)
    restored = models.BooleanField(default=False)

    objects = ActivatedOutletQuerySet.as_manager()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["activation", "unit"], name="operations_activation_outlet_once")
        ]

    def __str__(self):
        return f"{self.activation_id} {self.unit}"


class PlanTaskQuerySet(ScopedQuerySet):
    scope_path_field = "unit__path"

    def open(self):
        return self.filter(done_at__isnull=True)


class PlanTask(models.Model):
    """A measure of an activated plan, assigned to an outlet with a deadline in working days."""

    activation = models.ForeignKey(PlanActivation, on_delete=models.CASCADE, related_name="tasks")
    unit = models.ForeignKey(
        "orgs.Unit", verbose_name=_("outlet"), on_delete=models.PROTECT, related_name="+"
    )
    backup = models.CharField(_("backup"), max_length=12, choices=Backup.choices)
    text = models.CharField(_("measure"), max_length=300)
    owner = models.CharField(_("owner"), max_length=20, choices=OwnerRole.choices)
    due_on = models.DateField(_("due on"))
    done_at = models.DateTimeField(_("done at"), null=True, blank=True)
    done_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    note = models.CharField(_("note"), max_length=500, blank=True)
    revision = revision_field()

    objects = PlanTaskQuerySet.as_manager()

    class Meta:
        verbose_name = _("plan task")
        verbose_name_plural = _("plan tasks")
        ordering = ["due_on", "pk"]
        indexes = [models.Index(fields=["activation", "unit"])]

    def __str__(self):
        return self.text


# --- checklists before / during / after opening, and the disinfection log ------------------------


class Phase(models.TextChoices):
    BEFORE = "before", _("Before opening")
    DURING = "during", _("While open")
    AFTER = "after", _("After closing")


class ChecklistTemplateQuerySet(ScopedQuerySet):
    scope_path_field = "unit__path"


class ChecklistTemplate(models.Model):
    """One version of a unit's (head office, province) opening checklist; publishing a change
    makes a new version, and a day's checklist keeps the version it was filled from.
    `items` is [{"phase", "text", "options"}] (options: the answers to choose from, e.g. ATM modes)."""

    unit = models.ForeignKey(
        "orgs.Unit", verbose_name=_("owned by"), on_delete=models.PROTECT, related_name="+"
    )
    version = models.PositiveIntegerField(_("version"))
    items = models.JSONField(_("items"), default=list)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    objects = ChecklistTemplateQuerySet.as_manager()

    class Meta:
        verbose_name = _("checklist template")
        verbose_name_plural = _("checklist templates")
        constraints = [
            models.UniqueConstraint(fields=["unit", "version"], name="operations_checklist_version_once")
        ]

    def __str__(self):
        return f"{self.unit} v{self.version}"


class ChecklistQuerySet(ScopedQuerySet):
    scope_path_field = "unit__path"


class Checklist(models.Model):
    """An outlet's checklist for one day: the template's items, each with its answer and who ticked
    it when (`items`: [{"phase", "text", "options", "done", "value", "by", "at"}])."""

    unit = models.ForeignKey(
        "orgs.Unit", verbose_name=_("outlet"), on_delete=models.PROTECT, related_name="+"
    )
    day = models.DateField(_("day"))
    template = models.ForeignKey(
        ChecklistTemplate, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    version = models.PositiveIntegerField(_("version"), default=0)
    items = models.JSONField(_("items"), default=list)
    updated_at = models.DateTimeField(default=timezone.now, editable=False)
    revision = revision_field()

    objects = ChecklistQuerySet.as_manager()

    class Meta:
        verbose_name = _("checklist")
        verbose_name_plural = _("checklists")
        constraints = [models.UniqueConstraint(fields=["unit", "day"], name="operations_checklist_once")]

    def __str__(self):
        return f"{self.unit} {self.day}"

    @property
    def missing(self) -> int:
        return sum(1 for item in self.items if not item.get("done"))


class AreaKind(models.TextChoices):
    COUNTERS = "counters", _("Counters")
    SELF_SERVICE = "self_service", _("Self-service machines")
    STATION = "station", _("Worker station corner")
    LIFT = "lift", _("Lift buttons")
    DOORS = "doors", _("Door handles")
    OTHER = "other", _("Other")


class DisinfectionAreaQuerySet(ScopedQuerySet):
    scope_path_field = "unit__path"


class DisinfectionArea(models.Model):
    """An area of an outlet to disinfect every `every_hours` hours while a plan is active there."""

    unit = models.ForeignKey(
        "orgs.Unit", verbose_name=_("outlet"), on_delete=models.PROTECT, related_name="+"
    )
    name = models.CharField(_("area"), max_length=60)
    kind = models.CharField(_("kind"), max_length=16, choices=AreaKind.choices, default=AreaKind.OTHER)
    every_hours = models.PositiveSmallIntegerField(_("every (hours)"), default=4)
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    revision = revision_field()

    objects = DisinfectionAreaQuerySet.as_manager()

    class Meta:
        verbose_name = _("disinfection area")
        verbose_name_plural = _("disinfection areas")
        ordering = ["unit_id", "name"]
        constraints = [models.UniqueConstraint(fields=["unit", "name"], name="operations_area_once")]

    def __str__(self):
        return self.name


class DisinfectionQuerySet(ScopedQuerySet):
    scope_path_field = "unit__path"


class Disinfection(models.Model):
    area = models.ForeignKey(DisinfectionArea, on_delete=models.CASCADE, related_name="log")
    unit = models.ForeignKey("orgs.Unit", on_delete=models.PROTECT, related_name="+")  # the area's
    at = models.DateTimeField(_("disinfected at"), default=timezone.now)
    by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    note = models.CharField(_("note"), max_length=200, blank=True)

    objects = DisinfectionQuerySet.as_manager()

    class Meta:
        verbose_name = _("disinfection")
        verbose_name_plural = _("disinfection log")
        indexes = [models.Index(fields=["area", "at"])]

    def __str__(self):
        return f"{self.area} {self.at:%Y-%m-%d %H:%M}"
