"""Training, certification and drills: courses, sessions at outlets, enrolments with results,
certificates whose expiry is computed from the course, and emergency drills whose findings become
rectifications. People are the operations roster (`operations.RosterEntry`)."""

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from yizhan.core.concurrency import revision_field
from yizhan.core.lang import localised
from yizhan.orgs.scoping import ScopedQuerySet, _as_scope

MAX_GRADE = 100


class Provider(models.TextChoices):
    IN_HOUSE = "in_house", _("In-house")
    EXTERNAL = "external", _("External body")


class CourseQuerySet(ScopedQuerySet):
    scope_path_field = "owner__path"

    def for_user(self, user_or_scope):
        """The catalogue a staff member may use: courses owned in their subtree and those of the
        units above them (head office's courses are everyone's)."""
        scope = _as_scope(user_or_scope)
        if not scope.is_staff:
            return self.none()
        above = [f"/{'/'.join(scope.path.strip('/').split('/')[: n + 1])}/" for n in range(scope.level or 0)]
        return self.filter(models.Q(owner__path__startswith=scope.path) | models.Q(owner__path__in=above))


class Course(models.Model):
    code = models.CharField(_("code"), max_length=32, unique=True)
    title = models.CharField(_("title (Chinese)"), max_length=100)
    title_en = models.CharField(_("title (English)"), max_length=200, blank=True)
    hours = models.DecimalField(_("hours"), max_digits=5, decimal_places=1)
    pass_mark = models.PositiveSmallIntegerField(_("pass mark"))
    provider_kind = models.CharField(_("provider"), max_length=10, choices=Provider.choices)
    provider = models.CharField(_("provider name"), max_length=100, blank=True)
    certificate = models.CharField(_("certificate granted"), max_length=100, blank=True)
    validity_months = models.PositiveSmallIntegerField(
        _("certificate valid for (months)"), null=True, blank=True
    )
    first_responder = models.BooleanField(_("first-responder certificate"), default=False)
    renews = models.ForeignKey(
        "self",
        verbose_name=_("renews"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="renewed_by",
    )
    owner = models.ForeignKey(
        "orgs.Unit", verbose_name=_("owned by"), on_delete=models.PROTECT, related_name="+"
    )
    active = models.BooleanField(_("active"), default=True)
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    revision = revision_field()

    objects = CourseQuerySet.as_manager()

    class Meta:
        verbose_name = _("course")
        verbose_name_plural = _("courses")
        ordering = ["code"]

    def __str__(self):
        return f"{self.code} {self.title}"

    @property
    def display_title(self) -> str:
        return localised(self.title, self.title_en)

    @property
    def grants_certificate(self) -> bool:
        return bool(self.certificate and self.validity_months)


class VenueKind(models.TextChoices):
    OUTLETS = "outlets", _("At outlets")
    STATION = "station", _("At a station")
    EXTERNAL = "external", _("External venue")


class SessionQuerySet(ScopedQuerySet):
    scope_path_field = "unit__path"


class Session(models.Model):
    """A course held on a date: at one or several outlets at once, at a station, or elsewhere."""

    course = models.ForeignKey(
        Course, verbose_name=_("course"), on_delete=models.PROTECT, related_name="sessions"
    )
    unit = models.ForeignKey(
        "orgs.Unit", verbose_name=_("organised by"), on_delete=models.PROTECT, related_name="+"
    )
    venue_kind = models.CharField(_("where"), max_length=10, choices=VenueKind.choices)
    outlets = models.ManyToManyField("orgs.Unit", verbose_name=_("outlets"), blank=True, related_name="+")
    station = models.ForeignKey(
        "stations.Station",
        verbose_name=_("station"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    venue = models.CharField(_("venue"), max_length=200, blank=True)
    starts_at = models.DateTimeField(_("starts at"))
    ends_at = models.DateTimeField(_("ends at"))
    trainer = models.CharField(_("trainer"), max_length=100, blank=True)
    capacity = models.PositiveIntegerField(_("capacity"))
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    cancelled_at = models.DateTimeField(_("cancelled at"), null=True, blank=True)
    cancel_reason = models.CharField(_("reason for cancelling"), max_length=200, blank=True)
    revision = revision_field()

    objects = SessionQuerySet.as_manager()

    class Meta:
        verbose_name = _("training session")
        verbose_name_plural = _("training sessions")
        ordering = ["-starts_at", "pk"]
        indexes = [models.Index(fields=["course", "starts_at"])]

    def __str__(self):
        return f"{self.course.title} {timezone.localtime(self.starts_at):%Y-%m-%d}"


class Status(models.TextChoices):
    INVITED = "invited", _("Invited")
    ACCEPTED = "accepted", _("Accepted")
    DECLINED = "declined", _("Declined")
    ATTENDED = "attended", _("Attended")
    ABSENT = "absent", _("Absent")
    PASSED = "passed", _("Passed")
    FAILED = "failed", _("Failed")


TRAINED = (Status.ATTENDED, Status.PASSED, Status.FAILED)


class EnrolmentQuerySet(ScopedQuerySet):
    scope_path_field = "unit__path"


class Enrolment(models.Model):
    """One person in one session: invited → accepted / declined → attended / absent → passed / failed."""

    session = models.ForeignKey(Session, on_delete=models.CASCADE, related_name="enrolments")
    entry = models.ForeignKey(
        "operations.RosterEntry", verbose_name=_("person"), on_delete=models.PROTECT, related_name="trainings"
    )
    unit = models.ForeignKey(
        "orgs.Unit", on_delete=models.PROTECT, related_name="+"
    )  # the person's, for scoping
    status = models.CharField(_("status"), max_length=10, choices=Status.choices, default=Status.INVITED)
    grade = models.DecimalField(_("grade"), max_digits=5, decimal_places=1, null=True, blank=True)
    marked_at = models.DateTimeField(_("marked at"), null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    objects = EnrolmentQuerySet.as_manager()

    class Meta:
        verbose_name = _("enrolment")
        verbose_name_plural = _("enrolments")
        constraints = [models.UniqueConstraint(fields=["session", "entry"], name="training_enrolment_once")]
        indexes = [models.Index(fields=["entry", "status"])]

    def __str__(self):
        return f"{self.entry} · {self.session}"


class CertificateQuerySet(ScopedQuerySet):
    scope_path_field = "unit__path"

    def valid_on(self, day):
        return self.filter(withdrawn_at__isnull=True, issued_on__lte=day, expires_on__gte=day)


class Certificate(models.Model):
    """Granted by a passed result; its expiry is the course's validity after the session's day.
    Failing or deleting the result withdraws it (kept, struck out)."""

    entry = models.ForeignKey(
        "operations.RosterEntry",
        verbose_name=_("person"),
        on_delete=models.PROTECT,
        related_name="certificates",
    )
    unit = models.ForeignKey(
        "orgs.Unit", on_delete=models.PROTECT, related_name="+"
    )  # the person's, for scoping
    course = models.ForeignKey(Course, verbose_name=_("course"), on_delete=models.PROTECT, related_name="+")
    enrolment = models.OneToOneField(
        Enrolment, null=True, blank=True, on_delete=models.SET_NULL, related_name="certificate"
    )
    name = models.CharField(_("certificate"), max_length=100)
    first_responder = models.BooleanField(_("first-responder certificate"), default=False)
    issued_on = models.DateField(_("issued on"))
    expires_on = models.DateField(_("expires on"))
    withdrawn_at = models.DateTimeField(_("withdrawn at"), null=True, blank=True)
    withdrawn_reason = models.CharField(_("reason withdrawn"), max_length=200, blank=True)

    objects = CertificateQuerySet.as_manager()

    class Meta:
        verbose_name = _("certificate")
        verbose_name_plural = _("certificates")
        ordering = ["expires_on", "pk"]
        indexes = [
            models.Index(fields=["expires_on"], name="training_cert_expiry"),
            models.Index(fields=["unit", "expires_on"], name="training_cert_unit_expiry"),
        ]

    def __str__(self):
        return f"{self.name} · {self.entry}"

    def is_valid(self, day) -> bool:
        return self.withdrawn_at is None and self.issued_on <= day <= self.expires_on


class DrillKind(models.TextChoices):
    AGE_FRIENDLY = "age_friendly", _("Age-friendly service emergency")
    FIRE = "fire", _("Fire")
    FIRST_AID = "first_aid", _("First aid")
    OTHER = "other", _("Other emergency")


class DrillQuerySet(ScopedQuerySet):
    scope_path_field = "unit__path"


class Drill(models.Model):
    """An emergency drill at an outlet: scenario, participants, observed times, findings."""

    unit = models.ForeignKey(
        "orgs.Unit", verbose_name=_("outlet"), on_delete=models.PROTECT, related_name="+"
    )
    kind = models.CharField(_("kind"), max_length=20, choices=DrillKind.choices)
    held_at = models.DateTimeField(_("held at"))
    scenario = models.TextField(_("scenario"))
    participants = models.ManyToManyField(
        "operations.RosterEntry", verbose_name=_("participants"), blank=True, related_name="drills"
    )
    # [{"label": "呼叫 120", "seconds": 45}]: what was timed and how long it took.
    times = models.JSONField(_("observed times"), default=list, blank=True)
    summary = models.TextField(_("summary"), blank=True)
    # The outlet's contingency plan, when the drill exercised it (a drill of its staff backup…).
    plan = models.ForeignKey(
        "operations.OutletPlan", verbose_name=_("contingency plan exercised"), null=True, blank=True,
        on_delete=models.SET_NULL, related_name="drills",
    )  # fmt: skip
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    objects = DrillQuerySet.as_manager()

    class Meta:
        verbose_name = _("drill")
        verbose_name_plural = _("drills")
        ordering = ["-held_at"]

    def __str__(self):
        return f"{self.get_kind_display()} {self.unit} {timezone.localtime(self.held_at):%Y-%m-%d}"


class FindingQuerySet(ScopedQuerySet):
    scope_path_field = "drill__unit__path"


class Finding(models.Model):
    """What a drill showed must be put right; its rectification is the operations mechanism's."""

    drill = models.ForeignKey(Drill, on_delete=models.CASCADE, related_name="findings")
    title = models.CharField(_("finding"), max_length=200)
    detail = models.TextField(_("details"), blank=True)
    rectification = models.OneToOneField(
        "operations.Rectification", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    objects = FindingQuerySet.as_manager()

    class Meta:
        verbose_name = _("drill finding")
        verbose_name_plural = _("drill findings")
        ordering = ["pk"]

    def __str__(self):
        return self.title

    @property
    def unit(self):
        return self.drill.unit
