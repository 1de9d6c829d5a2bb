"""Outlet operations: the operating-status timeline per outlet and the customers served per day."""

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

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
