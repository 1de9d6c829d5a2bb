from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from yizhan.core.concurrency import revision_field
from yizhan.core.lang import localised
from yizhan.orgs.models import code_validator
from yizhan.orgs.scoping import ScopedQuerySet


class FacilityGroup(models.TextChoices):
    BASIC = "basic", _("Basic (8 basic facilities)")
    EXTENDED = "extended", _("Extended")
    ZONE = "zone", _("Zone")
    THEMED = "themed", _("Themed gear and services")


class Facility(models.Model):
    """One entry of the facility catalogue (seeded from catalogue.py after every migrate)."""

    code = models.CharField(_("code"), max_length=40, unique=True, validators=[code_validator])
    group = models.CharField(_("group"), max_length=12, choices=FacilityGroup.choices)
    name = models.CharField(_("name (Chinese)"), max_length=60)
    name_en = models.CharField(_("name (English)"), max_length=120)
    # SVG path data for a 24×24 line icon, drawn inline with stroke="currentColor".
    icon = models.TextField(_("icon (SVG path)"), blank=True)
    sort_order = models.PositiveSmallIntegerField(default=0)

    class Meta:
        verbose_name = _("facility")
        verbose_name_plural = _("facilities")
        ordering = ["sort_order", "code"]

    def __str__(self):
        return self.display_name

    @property
    def display_name(self) -> str:
        return localised(self.name, self.name_en)


class Theme(models.Model):
    code = models.CharField(_("code"), max_length=40, unique=True, validators=[code_validator])
    name = models.CharField(_("name (Chinese)"), max_length=60)
    name_en = models.CharField(_("name (English)"), max_length=120)
    sort_order = models.PositiveSmallIntegerField(default=0)

    class Meta:
        verbose_name = _("theme")
        verbose_name_plural = _("themes")
        ordering = ["sort_order", "code"]

    def __str__(self):
        return self.display_name

    @property
    def display_name(self) -> str:
        return localised(self.name, self.name_en)


class StationStatus(models.TextChoices):
    ACTIVE = "active", _("Active")
    TEMPORARILY_CLOSED = "temporarily_closed", _("Temporarily closed")
    CLOSED = "closed", _("Closed")


class StationKind(models.TextChoices):
    FIXED = "fixed", _("Station in an outlet")
    MOBILE = "mobile", _("Mobile station")


class AccessPolicy(models.TextChoices):
    OPEN = "open", _("Anyone may walk in")
    ASK_STAFF = "ask_staff", _("Ask the staff at the counter")
    TARGET_GROUP = "target_group", _("Reserved for the station's target group")


class VerificationSource(models.TextChoices):
    STAFF = "staff", _("Staff check")
    PUBLIC = "public", _("Public confirmation")


class StationQuerySet(ScopedQuerySet):
    scope_path_field = "unit__path"

    def active(self):
        return self.filter(status=StationStatus.ACTIVE)

    def public(self):
        """What the public may reach (station page, check-in, report): a permanently closed
        station answers like a missing one; a temporarily closed one shows with its notice."""
        return self.exclude(status=StationStatus.CLOSED)

    def subtree(self, unit):
        return self.filter(unit__path__startswith=unit.path)


class Station(models.Model):
    """A worker station (驿站). It belongs to a unit: an outlet today; mobile stations that visit
    workers' sites will hang on a sub-branch, which is why the link is `unit`, not `outlet`."""

    code = models.CharField(_("code"), max_length=32, unique=True, validators=[code_validator])
    name = models.CharField(_("name (Chinese)"), max_length=100)
    name_en = models.CharField(_("name (English)"), max_length=200, blank=True)
    # A mobile station (移动驿站, yizhan.mobile) hangs on a sub-branch and is found where its
    # visits take it; its own lat/lng is only its base. The kind never changes.
    kind = models.CharField(_("kind"), max_length=10, choices=StationKind.choices, default=StationKind.FIXED)
    unit = models.ForeignKey(
        "orgs.Unit", verbose_name=_("unit"), on_delete=models.PROTECT, related_name="stations"
    )
    address = models.CharField(_("address"), max_length=255)
    lat = models.FloatField(_("latitude (WGS-84)"))
    lng = models.FloatField(_("longitude (WGS-84)"))
    phone = models.CharField(_("phone"), max_length=40, blank=True)
    sign_installed_on = models.DateField(_("sign installed on"), null=True, blank=True)
    status = models.CharField(
        _("status"), max_length=20, choices=StationStatus.choices, default=StationStatus.ACTIVE
    )
    public_notice = models.CharField(_("public notice"), max_length=500, blank=True)
    reopens_on = models.DateField(_("reopens on"), null=True, blank=True)
    themes = models.ManyToManyField(Theme, verbose_name=_("themes"), blank=True, related_name="stations")
    seats = models.PositiveIntegerField(_("seats"), null=True, blank=True)
    access_policy = models.CharField(
        _("access policy"), max_length=20, choices=AccessPolicy.choices, default=AccessPolicy.OPEN
    )
    external_ids = models.JSONField(_("external ids"), default=dict, blank=True)
    # Validated by hours.clean_schedule; compiled into an hours.Schedule by `schedule()`.
    opening_hours = models.JSONField(_("opening hours"), default=dict, blank=True)
    # The outlet's operating status as it bears on this station, kept by yizhan.operations through
    # `services.set_operating_windows` (see hours.StatusWindow); current and future windows only.
    operating_windows = models.JSONField(
        _("operating status windows"), default=list, blank=True, editable=False
    )
    verified_at = models.DateTimeField(_("verified at"), null=True, blank=True)
    verified_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("verified by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    verification_source = models.CharField(
        _("verified through"), max_length=10, choices=VerificationSource.choices, blank=True
    )
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    updated_at = models.DateTimeField(default=timezone.now, editable=False)
    revision = revision_field()

    objects = StationQuerySet.as_manager()

    class Meta:
        verbose_name = _("station")
        verbose_name_plural = _("stations")
        ordering = ["code"]
        indexes = [models.Index(fields=["status"]), models.Index(fields=["updated_at"])]

    def __str__(self):
        return self.name

    @property
    def display_name(self) -> str:
        return localised(self.name, self.name_en)

    def schedule(self):
        """The compact hours.Schedule for this station, status included."""
        from yizhan.stations.hours import Schedule

        return Schedule.from_station(self.opening_hours, self.status, self.reopens_on, self.operating_windows)


class FacilityState(models.TextChoices):
    YES = "yes", _("Yes")
    NO = "no", _("No")
    UNKNOWN = "unknown", _("Unknown")


class StationFacilityQuerySet(ScopedQuerySet):
    scope_path_field = "station__unit__path"


class StationFacility(models.Model):
    """A station's state for one catalogue facility. No row means `unknown`."""

    # No index of its own: the (station, facility) unique constraint leads with station and serves
    # every lookup by station, and one index fewer is a quarter less work per row in a bulk import.
    station = models.ForeignKey(
        Station, on_delete=models.CASCADE, related_name="facility_states", db_index=False
    )
    facility = models.ForeignKey(Facility, on_delete=models.PROTECT, related_name="station_states")
    state = models.CharField(
        _("state"), max_length=8, choices=FacilityState.choices, default=FacilityState.UNKNOWN
    )
    out_of_order = models.BooleanField(_("out of order"), default=False)
    out_of_order_since = models.DateField(_("out of order since"), null=True, blank=True)
    note = models.CharField(_("note"), max_length=200, blank=True)
    updated_at = models.DateTimeField(default=timezone.now, editable=False)

    objects = StationFacilityQuerySet.as_manager()

    class Meta:
        verbose_name = _("station facility")
        verbose_name_plural = _("station facilities")
        constraints = [
            models.UniqueConstraint(fields=["station", "facility"], name="stations_facility_once"),
        ]

    def __str__(self):
        return f"{self.station_id}:{self.facility_id}={self.state}"

    @property
    def usable(self) -> bool:
        return self.state == FacilityState.YES and not self.out_of_order


class HolidayKind(models.TextChoices):
    OFF = "off", _("Public holiday (closed)")
    WORK = "work", _("Make-up workday (调休)")


class HolidayYear(models.Model):
    """A year whose statutory arrangement is in the table; a year without a row is missing."""

    year = models.PositiveSmallIntegerField(_("year"), primary_key=True)
    source = models.CharField(_("source"), max_length=40)
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("holiday calendar year")
        verbose_name_plural = _("holiday calendar years")
        ordering = ["year"]

    def __str__(self):
        return str(self.year)

    SOURCES = {
        "manual": _("entered by hand"),
        "import": _("imported file"),
        "chinesecalendar": _("chinesecalendar package"),
    }

    def get_source_display(self) -> str:
        return str(self.SOURCES.get(self.source, self.source))


class HolidayDate(models.Model):
    """One day that differs from the ordinary Monday–Friday week: a holiday or a make-up workday."""

    date = models.DateField(_("date"), unique=True)
    kind = models.CharField(_("kind"), max_length=4, choices=HolidayKind.choices)
    name = models.CharField(_("name"), max_length=60, blank=True)

    class Meta:
        verbose_name = _("holiday calendar day")
        verbose_name_plural = _("holiday calendar days")
        ordering = ["date"]

    def __str__(self):
        return f"{self.date} {self.kind}"


class DataVersion(models.Model):
    """Counters bumped in the same transaction as every station / calendar write; caches such as
    the locator's in-process index rebuild when the number they were built from has moved."""

    name = models.CharField(max_length=20, primary_key=True)
    value = models.BigIntegerField(default=0)

    def __str__(self):
        return f"{self.name}={self.value}"


class StandardQuerySet(models.QuerySet):
    def current(self):
        """The newest active version of each standard code."""
        rows = self.filter(is_active=True).order_by("code", "-version")
        seen, keep = set(), []
        for standard in rows:
            if standard.code not in seen:
                seen.add(standard.code)
                keep.append(standard.pk)
        return self.filter(pk__in=keep).order_by("sort_order", "code")


class Standard(models.Model):
    """A named, versioned checklist that head office maintains ("基础八项", "小蜜蜂驿站 2023").

    It applies to every station, or with `theme` only to the stations of that theme; a station
    meets it when every listed facility is there and in working order."""

    code = models.CharField(_("code"), max_length=40, validators=[code_validator])
    version = models.CharField(_("version"), max_length=20)
    name = models.CharField(_("name (Chinese)"), max_length=100)
    name_en = models.CharField(_("name (English)"), max_length=200, blank=True)
    theme = models.ForeignKey(
        Theme,
        verbose_name=_("applies to the theme"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="standards",
    )
    facilities = models.ManyToManyField(Facility, verbose_name=_("required facilities"), related_name="+")
    is_active = models.BooleanField(_("in force"), default=True)
    sort_order = models.PositiveSmallIntegerField(default=0)
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    updated_at = models.DateTimeField(default=timezone.now, editable=False)
    revision = revision_field()

    objects = StandardQuerySet.as_manager()

    class Meta:
        verbose_name = _("standard")
        verbose_name_plural = _("standards")
        ordering = ["sort_order", "code", "-version"]
        constraints = [models.UniqueConstraint(fields=["code", "version"], name="stations_standard_version")]

    def __str__(self):
        return self.display_name

    @property
    def display_name(self) -> str:
        return localised(self.name, self.name_en)


class RolloutWaveQuerySet(ScopedQuerySet):
    scope_path_field = "unit__path"


class RolloutWave(models.Model):
    """A named set of outlets that should meet a standard by a target date (Shandong's Little Bee
    pilot: 8 outlets in 6 city branches by May 2023; then all 880 outlets)."""

    name = models.CharField(_("name"), max_length=100)
    name_en = models.CharField(_("name (English)"), max_length=200, blank=True)
    unit = models.ForeignKey(
        "orgs.Unit", verbose_name=_("run by"), on_delete=models.PROTECT, related_name="rollout_waves"
    )
    standard = models.ForeignKey(
        Standard, verbose_name=_("standard to meet"), on_delete=models.PROTECT, related_name="waves"
    )
    target_date = models.DateField(_("target date"))
    outlets = models.ManyToManyField("orgs.Unit", verbose_name=_("outlets"), related_name="+")
    note = models.CharField(_("note"), max_length=500, blank=True)
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    updated_at = models.DateTimeField(default=timezone.now, editable=False)
    revision = revision_field()

    objects = RolloutWaveQuerySet.as_manager()

    class Meta:
        verbose_name = _("roll-out wave")
        verbose_name_plural = _("roll-out waves")
        ordering = ["target_date", "name"]

    def __str__(self):
        return self.display_name

    @property
    def display_name(self) -> str:
        return localised(self.name, self.name_en)
