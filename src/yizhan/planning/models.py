"""Demand for stations where there may be none: points the planner weighs against the stations
and the outlets that could be equipped next."""

from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from yizhan.core.concurrency import revision_field
from yizhan.orgs.scoping import ScopedQuerySet


class DemandSource(models.TextChoices):
    SEARCH = "search", _("locator search")
    REPORT = "report", _("“no station here” report")
    SITE = "site", _("worker site")


class DemandQuerySet(ScopedQuerySet):
    scope_path_field = "unit__path"


class DemandPoint(models.Model):
    # The unit the point is planned by: for a search, the outlet of the station nearest to it;
    # for a worker site, the branch that marked it.
    unit = models.ForeignKey("orgs.Unit", verbose_name=_("unit"), on_delete=models.CASCADE, related_name="+")
    source = models.CharField(_("source"), max_length=10, choices=DemandSource.choices)
    # A search or a report is kept as its point rounded to 0.001° (~100 m) and the month: nothing else.
    lat = models.FloatField(_("latitude (WGS-84)"))
    lng = models.FloatField(_("longitude (WGS-84)"))
    month = models.DateField(_("month"))
    weight = models.PositiveIntegerField(_("weight"), default=1)
    name = models.CharField(_("name"), max_length=60, blank=True)
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    revision = revision_field()

    objects = DemandQuerySet.as_manager()

    class Meta:
        verbose_name = _("demand point")
        verbose_name_plural = _("demand points")
        ordering = ["-month", "pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["unit", "source", "lat", "lng", "month"],
                condition=models.Q(source__in=["search", "report"]),
                name="planning_counted_point_once",
            )
        ]
        indexes = [models.Index(fields=["unit", "month"])]

    def __str__(self):
        return self.name or f"{self.lat:.3f},{self.lng:.3f}"


class ReportRef(models.Model):
    """The request id of a "no station here" report sent from a phone's offline queue, with the
    rounded point it counted: a resend counts nothing more, the same id for another point is
    refused. Nothing about the sender."""

    ref = models.CharField(max_length=64, unique=True)
    lat = models.FloatField()
    lng = models.FloatField()
    counted = models.BooleanField(default=True)  # False: far from every station, not counted
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    def __str__(self):
        return self.ref
