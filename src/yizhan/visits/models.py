"""Check-ins, staff tallies, daily and monthly rollups, device marks and public feedback.

Statistics never read raw check-ins: every write that changes a count (a check-in, a tally, a
deletion) adds its delta to one row of `DailyRollup` and one of `MonthlyRollup` in the same
transaction (see rollups.py). The rollups are *wide*: one row per station and day (or month)
with a column per group, per service and (monthly) per hour, so a province's year by month and
group is a sum over ~10,000 rows, not over millions of check-ins.
"""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from yizhan.core.concurrency import revision_field
from yizhan.orgs.scoping import ScopedQuerySet


class Group(models.TextChoices):
    """Who visits: the groups the articles name (DOMAIN.md, 客群)."""

    SANITATION = "sanitation_worker", _("Sanitation worker")
    COURIER = "courier", _("Courier")
    DELIVERY_RIDER = "delivery_rider", _("Delivery rider")
    TRAFFIC_POLICE = "traffic_police", _("Traffic police")
    CONSTRUCTION = "construction_worker", _("Construction worker")
    ELDERLY = "elderly", _("Elderly")
    MEDICAL = "medical_staff", _("Medical staff")
    OTHER = "other", pgettext_lazy("visitor group", "Other")


# A check-in need not say who the visitor is: stored as "" and shown as "not said".
UNSPECIFIED = ""


class Service(models.TextChoices):
    """What a visitor used; several may be ticked. Stored as a bitmask on the check-in."""

    WATER = "water", _("Drinking water")
    CHARGING = "charging", _("Phone charging")
    REST = "rest", _("A seat to rest")
    WIFI = "wifi", _("Wi-Fi")
    WARMTH = "warmth", _("Warming up")
    COOLING = "cooling", _("Cooling down")
    RESTROOM = "restroom", _("Restroom")
    OTHER = "other", pgettext_lazy("service used", "Other")


SERVICE_BITS = {code: 1 << i for i, code in enumerate(Service.values)}
GROUP_CODES = list(Group.values)
SERVICE_CODES = list(Service.values)


def services_to_mask(codes) -> int:
    mask = 0
    for code in codes:
        mask |= SERVICE_BITS[code]
    return mask


def mask_to_services(mask: int) -> list[str]:
    return [code for code, bit in SERVICE_BITS.items() if mask & bit]


# Rollup column names. "c_" check-ins per group (c_none: group not said), "t_" tallied visitors
# per group, "s_" check-ins that used a service, "h00".."h23" check-ins per local hour (monthly).
def checkin_column(group: str) -> str:
    return f"c_{group or 'none'}"


def tally_column(group: str) -> str:
    return f"t_{group}"


def service_column(service: str) -> str:
    return f"s_{service}"


def hour_column(hour: int) -> str:
    return f"h{hour:02d}"


CHECKIN_COLUMNS = [checkin_column(g) for g in [*GROUP_CODES, UNSPECIFIED]]
TALLY_COLUMNS = [tally_column(g) for g in GROUP_CODES]
SERVICE_COLUMNS = [service_column(s) for s in SERVICE_CODES]
HOUR_COLUMNS = [hour_column(h) for h in range(24)]
DAILY_COLUMNS = ["checkins", "tallied", *CHECKIN_COLUMNS, *TALLY_COLUMNS, *SERVICE_COLUMNS]
MONTHLY_COLUMNS = [*DAILY_COLUMNS, *HOUR_COLUMNS]


class CheckInQuerySet(ScopedQuerySet):
    scope_path_field = "station__unit__path"


class CheckIn(models.Model):
    """One counted visit. Kept lean: it is the table that grows by millions."""

    # Indexed through (station, day) below; a separate station index would only slow the inserts.
    station = models.ForeignKey(
        "stations.Station", on_delete=models.CASCADE, related_name="checkins", db_index=False
    )
    at = models.DateTimeField(_("time"), default=timezone.now)
    # Local (Asia/Shanghai) day and hour, fixed at write time so rollups and any raw check of
    # them never need time-zone arithmetic in SQL.
    day = models.DateField(_("day"))
    hour = models.PositiveSmallIntegerField(_("hour"))
    group = models.CharField(_("visitor group"), max_length=24, blank=True, choices=Group.choices)
    services = models.PositiveSmallIntegerField(_("services"), default=0)
    # A client's own id for the request: sending it again (after a lost answer) never counts twice.
    ref = models.CharField(max_length=64, null=True, blank=True)

    objects = CheckInQuerySet.as_manager()

    class Meta:
        verbose_name = _("check-in")
        verbose_name_plural = _("check-ins")
        indexes = [models.Index(fields=["station", "day"])]
        constraints = [
            # Partial: most check-ins carry no request id and need no entry in this index.
            models.UniqueConstraint(
                fields=["ref"], condition=Q(ref__isnull=False), name="visits_checkin_ref_once"
            )
        ]

    def __str__(self):
        return f"{self.station_id} {self.at:%Y-%m-%d %H:%M}"

    @property
    def service_codes(self) -> list[str]:
        return mask_to_services(self.services)

    def service_labels(self) -> list[str]:
        """The services used, in the reader's language (for pages; the codes are for the API)."""
        return [str(Service(code).label) for code in mask_to_services(self.services)]


class DeviceMark(models.Model):
    """When a device was last counted at a station: the 30-minute de-duplication window.

    One row per (station, device); `record_checkin` claims the window with one conditional upsert,
    which the database serialises on the unique key, so two simultaneous taps count once."""

    station = models.ForeignKey(
        "stations.Station", on_delete=models.CASCADE, related_name="+", db_index=False
    )
    device = models.CharField(max_length=32)  # a digest of the device cookie, never the cookie
    last_at = models.DateTimeField()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["station", "device"], name="visits_devicemark_once")]
        indexes = [models.Index(fields=["last_at"])]

    def __str__(self):
        return f"{self.station_id}:{self.device}@{self.last_at:%Y-%m-%d %H:%M}"


class TallyQuerySet(ScopedQuerySet):
    scope_path_field = "station__unit__path"


class Tally(models.Model):
    """Visitors staff counted by hand (many elderly visitors do not scan): one number per group
    per day. It counts only those who did not check in; setting it again replaces it."""

    station = models.ForeignKey(
        "stations.Station", on_delete=models.CASCADE, related_name="tallies", db_index=False
    )
    day = models.DateField(_("day"))
    group = models.CharField(_("visitor group"), max_length=24, choices=Group.choices)
    count = models.PositiveIntegerField(_("visitors"))
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    updated_at = models.DateTimeField(default=timezone.now)

    objects = TallyQuerySet.as_manager()

    class Meta:
        verbose_name = _("tally")
        verbose_name_plural = _("tallies")
        constraints = [models.UniqueConstraint(fields=["station", "day", "group"], name="visits_tally_once")]

    def __str__(self):
        return f"{self.station_id} {self.day} {self.group}={self.count}"


class RollupQuerySet(ScopedQuerySet):
    scope_path_field = "station__unit__path"


def _counter():
    # db_default as well: the upserts name only the columns they change and leave the rest to
    # the database's default.
    return models.IntegerField(default=0, db_default=0)


class RollupCounts(models.Model):
    checkins = _counter()
    tallied = _counter()

    class Meta:
        abstract = True


for _column in [*CHECKIN_COLUMNS, *TALLY_COLUMNS, *SERVICE_COLUMNS]:
    RollupCounts.add_to_class(_column, _counter())


class DailyRollup(RollupCounts):
    station = models.ForeignKey(
        "stations.Station", on_delete=models.CASCADE, related_name="+", db_index=False
    )
    day = models.DateField()

    objects = RollupQuerySet.as_manager()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["station", "day"], name="visits_daily_once")]
        indexes = [models.Index(fields=["day"])]

    def __str__(self):
        return f"{self.station_id} {self.day}"


class MonthlyRollup(RollupCounts):
    station = models.ForeignKey(
        "stations.Station", on_delete=models.CASCADE, related_name="+", db_index=False
    )
    month = models.DateField()  # the first day of the month

    objects = RollupQuerySet.as_manager()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["station", "month"], name="visits_monthly_once")]
        indexes = [models.Index(fields=["month"])]

    def __str__(self):
        return f"{self.station_id} {self.month:%Y-%m}"


for _column in HOUR_COLUMNS:
    MonthlyRollup.add_to_class(_column, _counter())


class FeedbackKind(models.TextChoices):
    FACILITY_BROKEN = "facility_broken", _("A facility is broken")
    CLOSED_WHEN_OPEN = "closed_when_open", _("The station was closed when listed open")
    WRONG_HOURS = "wrong_hours", _("The opening hours are wrong")
    SUGGESTION = "suggestion", _("A suggestion")
    PRAISE = "praise", _("Praise")


class FeedbackStatus(models.TextChoices):
    NEW = "new", _("New")
    ACKNOWLEDGED = "acknowledged", _("Acknowledged")
    RESOLVED = "resolved", _("Resolved")
    REJECTED = "rejected", _("Rejected")


OPEN_STATUSES = (FeedbackStatus.NEW, FeedbackStatus.ACKNOWLEDGED)


class FacilityOutcome(models.TextChoices):
    REPAIRED = "repaired", _("Repaired: the facility works again")
    OUT_OF_ORDER = "out_of_order", _("Still out of order: shown so on the station page")
    REMOVED = "removed", _("The station no longer has it")


class FeedbackQuerySet(ScopedQuerySet):
    scope_path_field = "station__unit__path"

    def open(self):
        return self.filter(status__in=OPEN_STATUSES)

    def overdue(self, today=None):
        today = today or timezone.localdate()
        return self.open().filter(due_on__lt=today)


class Feedback(models.Model):
    """A problem report, suggestion or praise from the public, worked through the queue."""

    station = models.ForeignKey("stations.Station", on_delete=models.CASCADE, related_name="feedback")
    kind = models.CharField(_("kind"), max_length=20, choices=FeedbackKind.choices)
    facility = models.ForeignKey(
        "stations.Facility",
        verbose_name=_("facility"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    text = models.TextField(_("text"), blank=True)
    # Personal data: shown masked in lists and exports, whole only to those who act on it.
    contact = models.CharField(_("contact"), max_length=100, blank=True)
    photo = models.CharField(max_length=200, blank=True)  # a path under MEDIA_ROOT
    # The sender's own id for the report (a phone's offline queue): a resend is answered as the
    # first one was and never makes a second report.
    ref = models.CharField(max_length=64, null=True, blank=True, unique=True, editable=False)
    photo_type = models.CharField(max_length=20, blank=True)
    status = models.CharField(
        _("status"), max_length=12, choices=FeedbackStatus.choices, default=FeedbackStatus.NEW
    )
    created_at = models.DateTimeField(_("received"), default=timezone.now)
    due_on = models.DateField(_("due on"))
    acknowledged_at = models.DateTimeField(_("acknowledged at"), null=True, blank=True)
    closed_at = models.DateTimeField(_("closed at"), null=True, blank=True)
    handled_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("handled by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    note = models.TextField(_("staff note"), blank=True)
    facility_outcome = models.CharField(
        _("facility outcome"), max_length=16, choices=FacilityOutcome.choices, blank=True
    )
    revision = revision_field()

    objects = FeedbackQuerySet.as_manager()

    class Meta:
        verbose_name = _("feedback")
        verbose_name_plural = _("feedback")
        ordering = ["-created_at", "-pk"]
        indexes = [models.Index(fields=["status", "due_on"])]

    def __str__(self):
        return f"#{self.pk} {self.get_kind_display()}"

    @property
    def is_open(self) -> bool:
        return self.status in OPEN_STATUSES

    def is_overdue(self, today=None) -> bool:
        return self.is_open and (today or timezone.localdate()) > self.due_on

    @property
    def masked_contact(self) -> str:
        from yizhan.core.masking import mask_contact

        return mask_contact(self.contact)
