"""Mobile stations (移动驿站): a van that belongs to a sub-branch and visits workers' sites on a
schedule. The station itself is a `stations.Station` of kind `mobile`; this app holds where it
goes (places), when (schedules: an RRULE with a validity period and a holiday rule) and the
visits generated from them ahead of time, each cancellable with a public notice."""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from yizhan.core.concurrency import revision_field
from yizhan.orgs.scoping import ScopedQuerySet


class PlaceKind(models.TextChoices):
    CONSTRUCTION_SITE = "construction_site", _("Construction site")
    LOGISTICS_PARK = "logistics_park", _("Logistics park")
    DELIVERY_HUB = "delivery_hub", _("Delivery hub")
    INDUSTRIAL_PARK = "industrial_park", _("Industrial park")
    OTHER = "other", pgettext_lazy("visit place kind", "Other")


class HolidayRule(models.TextChoices):
    SKIP = "skip", _("Skip the visit")
    NEXT_WORKDAY = "next_workday", _("Move it to the next workday")


class VisitStatus(models.TextChoices):
    PLANNED = "planned", pgettext_lazy("visit status", "Planned")
    CANCELLED = "cancelled", pgettext_lazy("visit status", "Cancelled")


class ServiceKind(models.TextChoices):
    """What the staff did on a visit (counted per kind)."""

    CARD_ISSUED = "card_issued", _("Card issued")
    ACCOUNT_OPENED = "account_opened", _("Account opened")
    PAYROLL_CARD = "payroll_card", _("Payroll card")
    QUESTION_ANSWERED = "question_answered", _("Question answered")
    ANTI_FRAUD_TALK = "anti_fraud_talk", _("Anti-fraud talk")
    OTHER = "other", pgettext_lazy("visit service", "Other")


class PlaceQuerySet(ScopedQuerySet):
    scope_path_field = "unit__path"


class VisitPlace(models.Model):
    """Where a mobile station stops: a construction site, a logistics park, a delivery hub."""

    unit = models.ForeignKey("orgs.Unit", verbose_name=_("unit"), on_delete=models.PROTECT, related_name="+")
    name = models.CharField(_("name"), max_length=100)
    kind = models.CharField(_("kind"), max_length=24, choices=PlaceKind.choices, default=PlaceKind.OTHER)
    address = models.CharField(_("address"), max_length=255)
    lat = models.FloatField(_("latitude (WGS-84)"))
    lng = models.FloatField(_("longitude (WGS-84)"))
    revision = revision_field()

    objects = PlaceQuerySet.as_manager()

    class Meta:
        verbose_name = _("visit place")
        verbose_name_plural = _("visit places")
        ordering = ["name"]

    def __str__(self):
        return self.name


class ScheduleQuerySet(ScopedQuerySet):
    scope_path_field = "station__unit__path"


class VisitSchedule(models.Model):
    """A mobile station's recurring visit to one place: an RRULE (RFC 5545, as python-dateutil
    reads it) from `valid_from`, until `valid_to` when given, from `start_time` to `end_time`
    Beijing time. A visit falling on a public holiday is skipped or moved to the next workday
    (make-up workdays count) as `on_holiday` says."""

    station = models.ForeignKey(
        "stations.Station",
        verbose_name=_("station"),
        on_delete=models.CASCADE,
        related_name="visit_schedules",
    )
    place = models.ForeignKey(
        VisitPlace, verbose_name=_("place"), on_delete=models.PROTECT, related_name="schedules"
    )
    rrule = models.CharField(_("recurrence (RRULE)"), max_length=300)
    start_time = models.TimeField(_("from"))
    end_time = models.TimeField(_("until"))
    valid_from = models.DateField(_("valid from"))
    valid_to = models.DateField(_("valid to"), null=True, blank=True)
    on_holiday = models.CharField(
        _("on a public holiday"), max_length=16, choices=HolidayRule.choices, default=HolidayRule.SKIP
    )
    active = models.BooleanField(_("active"), default=True)
    revision = revision_field()

    objects = ScheduleQuerySet.as_manager()

    class Meta:
        verbose_name = _("visit schedule")
        verbose_name_plural = _("visit schedules")
        ordering = ["station", "start_time"]

    def __str__(self):
        return f"{self.station} · {self.place}"


class VisitQuerySet(ScopedQuerySet):
    scope_path_field = "station__unit__path"

    def planned(self):
        return self.filter(status=VisitStatus.PLANNED)


class Visit(models.Model):
    """One stop of a mobile station at a place: generated from a schedule (one per planned date,
    which is what makes the generation idempotent) or arranged once (a home-service case)."""

    station = models.ForeignKey(
        "stations.Station", verbose_name=_("station"), on_delete=models.CASCADE, related_name="mobile_visits"
    )
    place = models.ForeignKey(
        VisitPlace, verbose_name=_("place"), on_delete=models.PROTECT, related_name="visits"
    )
    schedule = models.ForeignKey(
        VisitSchedule,
        verbose_name=_("schedule"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="visits",
    )
    planned_on = models.DateField(_("planned for"))  # the rule's date, before any holiday move
    starts_at = models.DateTimeField(_("starts"))
    ends_at = models.DateTimeField(_("ends"))
    status = models.CharField(
        _("status"), max_length=12, choices=VisitStatus.choices, default=VisitStatus.PLANNED
    )
    notice = models.CharField(_("notice"), max_length=300, blank=True)
    case = models.ForeignKey(
        "cases.Case",
        verbose_name=_("service case"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="mobile_visits",
    )
    staff = models.ManyToManyField(
        settings.AUTH_USER_MODEL, verbose_name=_("staff"), blank=True, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    revision = revision_field()

    objects = VisitQuerySet.as_manager()

    class Meta:
        verbose_name = _("mobile visit")
        verbose_name_plural = _("mobile visits")
        ordering = ["starts_at"]
        indexes = [models.Index(fields=["station", "starts_at"]), models.Index(fields=["ends_at"])]
        constraints = [
            models.UniqueConstraint(
                fields=["schedule", "planned_on"],
                condition=Q(schedule__isnull=False),
                name="mobile_visit_once",
            )
        ]

    def __str__(self):
        return f"{self.station} · {self.place} · {self.starts_at:%Y-%m-%d}"

    @property
    def moved(self) -> bool:
        return self.starts_at.astimezone(timezone.get_current_timezone()).date() != self.planned_on


class VisitServiceCount(models.Model):
    """How many times the staff gave one kind of service on a visit."""

    visit = models.ForeignKey(Visit, on_delete=models.CASCADE, related_name="service_counts")
    kind = models.CharField(_("service"), max_length=24, choices=ServiceKind.choices)
    count = models.PositiveIntegerField(_("count"))

    class Meta:
        constraints = [models.UniqueConstraint(fields=["visit", "kind"], name="mobile_service_once")]

    def __str__(self):
        return f"{self.visit_id} {self.kind} {self.count}"
