"""Events at stations, their occurrences (one per station and time), sign-ups and scans,
campaigns that group events, and exclusive products for a group shown at its stations.

Capacity is kept on the occurrence as `taken`: the people confirmed plus those holding an offer
from the waiting list. Every verb that changes it locks the occurrence row first (SQLite
serialises writers anyway), so the confirmed never exceed the capacity, also under a rush.
"""

import secrets

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from yizhan.core.concurrency import revision_field
from yizhan.core.lang import localised
from yizhan.core.masking import mask_phone
from yizhan.orgs.scoping import ScopedQuerySet
from yizhan.visits.models import Group


class Kind(models.TextChoices):
    HONOUR = "honour", _("Honour")
    LECTURE = "lecture", _("Lecture")
    FINANCIAL_EDUCATION = "financial_education", _("Financial education")
    ANTI_FRAUD = "anti_fraud", _("Anti-fraud")
    PRODUCT = "product", _("Product presentation")
    SERVICE_DAY = "service_day", _("On-site service day")
    VOLUNTEERING = "volunteering", _("Staff volunteering")
    OTHER = "other", pgettext_lazy("event kind", "Other")


# Who an event is for: the visit groups, and two the campaigns name that check-ins do not ask.
TARGET_GROUPS = [
    *[(code, label) for code, label in Group.choices if code != Group.OTHER],
    ("new_citizen", _("New citizens")),
    ("student", _("Students")),
]
TARGET_GROUP_CODES = [code for code, _label in TARGET_GROUPS]
# The check-in groups a target group's reach is counted from (new citizens: the workers who
# came to the city for the jobs the Shenzhen stations name; students are not asked at check-in).
REACH_GROUPS = {
    **{code: [code] for code in Group.values if code != Group.OTHER},
    "new_citizen": [Group.COURIER, Group.DELIVERY_RIDER, Group.CONSTRUCTION],
    "student": [],
}


def group_label(code: str) -> str:
    return str(dict(TARGET_GROUPS).get(code, code))


def _token() -> str:
    return secrets.token_urlsafe(18)


def _code() -> str:
    # 8 characters without the ones people misread (0/O, 1/I/L): typed at the door.
    alphabet = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"
    return "".join(secrets.choice(alphabet) for _ in range(8))


class CampaignQuerySet(ScopedQuerySet):
    scope_path_field = "unit__path"


class Campaign(models.Model):
    """A named campaign (新市民金融服务宣传月): a target group, a period, participating units."""

    unit = models.ForeignKey(
        "orgs.Unit", verbose_name=_("organising unit"), on_delete=models.PROTECT, related_name="+"
    )
    name = models.CharField(_("name"), max_length=120)
    target_group = models.CharField(_("target group"), max_length=24, choices=TARGET_GROUPS)
    starts_on = models.DateField(_("starts on"))
    ends_on = models.DateField(_("ends on"))
    # None chosen: the organising unit's whole subtree takes part.
    units = models.ManyToManyField(
        "orgs.Unit", verbose_name=_("participating units"), blank=True, related_name="+"
    )
    partners = models.CharField(_("co-organisers"), max_length=300, blank=True)
    description = models.TextField(_("description"), blank=True)
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    revision = revision_field()

    objects = CampaignQuerySet.as_manager()

    class Meta:
        ordering = ["-starts_on", "pk"]
        verbose_name = _("campaign")

    def __str__(self):
        return self.name


class EventQuerySet(ScopedQuerySet):
    scope_path_field = "unit__path"


class Event(models.Model):
    """What happens (a title, a kind, who it is for); its occurrences say where and when."""

    unit = models.ForeignKey(
        "orgs.Unit", verbose_name=_("organising unit"), on_delete=models.PROTECT, related_name="+"
    )
    campaign = models.ForeignKey(
        Campaign,
        verbose_name=_("campaign"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="events",
    )
    title = models.CharField(_("title"), max_length=120)
    kind = models.CharField(_("kind"), max_length=24, choices=Kind.choices)
    target_groups = models.JSONField(_("target groups"), default=list, blank=True)
    description = models.TextField(_("description"), blank=True)
    speakers = models.CharField(_("speakers"), max_length=300, blank=True)
    partners = models.CharField(_("co-organisers"), max_length=300, blank=True)
    capacity = models.PositiveIntegerField(_("places per occurrence"), default=30)
    max_party = models.PositiveSmallIntegerField(_("most people per sign-up"), default=4)
    signup_opens = models.DateTimeField(_("sign-up opens"), null=True, blank=True)
    signup_closes = models.DateTimeField(_("sign-up closes"), null=True, blank=True)
    public = models.BooleanField(
        _("public"), default=True, help_text=_("Off: by invitation only (the link).")
    )
    invite_token = models.CharField(max_length=32, default=_token, editable=False)
    offer_hours = models.PositiveSmallIntegerField(_("hours to accept a freed place"), default=24)
    # After the event: what happened, for the branch's reporting.
    report_note = models.TextField(_("what happened"), blank=True)
    report_people = models.PositiveIntegerField(_("people reached (reported)"), null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    revision = revision_field()

    objects = EventQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-pk"]
        verbose_name = _("event")

    def __str__(self):
        return self.title

    @property
    def target_group_labels(self) -> list[str]:
        return [group_label(code) for code in self.target_groups]


class OccurrenceQuerySet(ScopedQuerySet):
    # Station staff handle the occurrences at their stations; the organiser covers them all (an
    # occurrence is always at a station inside its event's unit).
    scope_path_field = "station__unit__path"

    def upcoming(self, now=None):
        return self.filter(ends_at__gte=now or timezone.now(), cancelled=False)

    def listed(self, now=None):
        return self.upcoming(now).filter(
            event__public=True, station__status__in=["active", "temporarily_closed"]
        )


class Occurrence(models.Model):
    """One event at one station at one time (pretix's sub-event)."""

    event = models.ForeignKey(Event, on_delete=models.CASCADE, related_name="occurrences")
    station = models.ForeignKey(
        "stations.Station", verbose_name=_("station"), on_delete=models.PROTECT, related_name="+"
    )
    starts_at = models.DateTimeField(_("starts at"))
    ends_at = models.DateTimeField(_("ends at"))
    capacity = models.PositiveIntegerField(_("capacity"))
    taken = models.PositiveIntegerField(_("places taken"), default=0)  # confirmed + offered
    cancelled = models.BooleanField(_("cancelled"), default=False)
    revision = revision_field()

    objects = OccurrenceQuerySet.as_manager()

    class Meta:
        ordering = ["starts_at", "pk"]
        verbose_name = _("occurrence")
        indexes = [models.Index(fields=["station", "ends_at"])]

    def __str__(self):
        return f"{self.event.title} · {self.station.name}"

    @property
    def left(self) -> int:
        return max(self.capacity - self.taken, 0)


class State(models.TextChoices):
    CONFIRMED = "confirmed", _("Confirmed")
    WAITLISTED = "waitlisted", _("On the waiting list")
    OFFERED = "offered", _("Place offered")
    ATTENDED = "attended", _("Attended")
    NO_SHOW = "no_show", _("Did not come")
    CANCELLED = "cancelled", _("Cancelled")
    EXPIRED = "expired", _("Offer expired")


# Hold a place (count in `taken`); the rest do not.
HOLDING = (State.CONFIRMED, State.OFFERED, State.ATTENDED, State.NO_SHOW)
ACTIVE = (State.CONFIRMED, State.WAITLISTED, State.OFFERED, State.ATTENDED, State.NO_SHOW)


class Source(models.TextChoices):
    PUBLIC = "public", _("Signed up")
    WALK_IN = "walk_in", _("Walk-in")
    STAFF = "staff", _("Staff participant")


class RegistrationQuerySet(ScopedQuerySet):
    scope_path_field = "occurrence__station__unit__path"


class Registration(models.Model):
    """A sign-up (or a walk-in, or a staff volunteer): the participant of CiviCRM."""

    occurrence = models.ForeignKey(Occurrence, on_delete=models.CASCADE, related_name="registrations")
    code = models.CharField(_("confirmation code"), max_length=12, unique=True, default=_code)
    token = models.CharField(max_length=32, unique=True, default=_token, editable=False)
    name = models.CharField(_("name or nickname"), max_length=40)
    phone = models.CharField(_("phone"), max_length=11, blank=True)
    party = models.PositiveSmallIntegerField(_("people"), default=1)
    state = models.CharField(_("state"), max_length=12, choices=State.choices)
    source = models.CharField(_("source"), max_length=8, choices=Source.choices, default=Source.PUBLIC)
    group = models.CharField(_("group"), max_length=24, blank=True, choices=TARGET_GROUPS)
    affiliation = models.CharField(_("organisation"), max_length=80, blank=True)
    hours = models.DecimalField(_("hours"), max_digits=5, decimal_places=1, null=True, blank=True)
    offered_until = models.DateTimeField(_("offer open until"), null=True, blank=True)
    attended_at = models.DateTimeField(_("attended at"), null=True, blank=True)
    by_scan = models.BooleanField(default=False)  # attendance from a scan: paper marking leaves it
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    objects = RegistrationQuerySet.as_manager()

    class Meta:
        ordering = ["pk"]
        verbose_name = _("participant")
        constraints = [
            # One active sign-up per phone and occurrence: the rush may not enrol a number twice.
            models.UniqueConstraint(
                fields=["occurrence", "phone"],
                condition=~Q(phone="")
                & Q(state__in=["confirmed", "waitlisted", "offered", "attended", "no_show"]),
                name="events_one_signup_per_phone",
            )
        ]
        indexes = [
            models.Index(fields=["occurrence", "state"]),
            models.Index(fields=["state", "offered_until"]),
        ]

    def __str__(self):
        return f"{self.code} · {self.name}"

    @property
    def masked_phone(self) -> str:
        return mask_phone(self.phone)


class Scan(models.Model):
    """A ticket scan at the door. The scanner's nonce makes a re-uploaded scan count once."""

    occurrence = models.ForeignKey(Occurrence, on_delete=models.CASCADE, related_name="scans")
    registration = models.ForeignKey(Registration, null=True, on_delete=models.CASCADE, related_name="scans")
    nonce = models.CharField(max_length=64, unique=True)
    result = models.CharField(max_length=12)  # "attended" or the refusal's field error kind
    at = models.DateTimeField(default=timezone.now)
    by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")

    def __str__(self):
        return self.nonce


class MessageLog(models.Model):
    """A message staff sent to an event's participants, for the campaign's reach."""

    event = models.ForeignKey(Event, on_delete=models.CASCADE, related_name="messages")
    states = models.JSONField(default=list)
    text = models.CharField(max_length=300)
    recipients = models.PositiveIntegerField(default=0)
    queued = models.PositiveIntegerField(default=0)
    refused = models.PositiveIntegerField(default=0)
    at = models.DateTimeField(default=timezone.now)
    by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")

    def __str__(self):
        return self.text


class OfferQuerySet(ScopedQuerySet):
    scope_path_field = "unit__path"

    def current(self, day=None):
        day = day or timezone.localdate()
        return self.filter(valid_from__lte=day, valid_until__gte=day)


class Offer(models.Model):
    """An exclusive product for a group (专属产品), kept by head office or a province. Collects
    no personal data: it is shown, nothing more."""

    unit = models.ForeignKey("orgs.Unit", verbose_name=_("unit"), on_delete=models.PROTECT, related_name="+")
    group = models.CharField(_("group"), max_length=24, choices=TARGET_GROUPS)
    theme = models.ForeignKey(
        "stations.Theme",
        verbose_name=_("station theme"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    title = models.CharField(_("title (Chinese)"), max_length=120)
    title_en = models.CharField(_("title (English)"), max_length=200, blank=True)
    text = models.TextField(_("what it offers (Chinese)"))
    text_en = models.TextField(_("what it offers (English)"), blank=True)
    valid_from = models.DateField(_("valid from"))
    valid_until = models.DateField(_("valid until"))
    revision = revision_field()

    objects = OfferQuerySet.as_manager()

    class Meta:
        ordering = ["-valid_from", "pk"]
        verbose_name = _("group offer")

    def __str__(self):
        return self.title

    @property
    def display_title(self) -> str:
        return localised(self.title, self.title_en)

    @property
    def display_text(self) -> str:
        return localised(self.text, self.text_en)


class Topic(models.TextChoices):
    """What a consumer-protection ambassador passes on (the subjects of the couriers' training)."""

    ANTI_FRAUD = "anti_fraud", _("Telecom and online fraud")
    CONSUMER_RIGHTS = "consumer_rights", _("Consumer rights")
    PAYMENTS = "payments", _("Safe payments")
    SAVINGS = "savings", _("Savings, loans and insurance")
    CASH = "cash", _("Cash and counterfeit notes")
    OTHER = "other", pgettext_lazy("ambassador topic", "Other")


class AmbassadorQuerySet(ScopedQuerySet):
    scope_path_field = "unit__path"


class Ambassador(models.Model):
    """A courier (or anyone the campaign enrols) made a consumer-protection ambassador
    (消保宣传使者) of a campaign, by the unit whose station trained them."""

    campaign = models.ForeignKey(Campaign, on_delete=models.CASCADE, related_name="ambassadors")
    unit = models.ForeignKey(
        "orgs.Unit", verbose_name=_("enrolled by"), on_delete=models.PROTECT, related_name="+"
    )
    name = models.CharField(_("name"), max_length=40)
    affiliation = models.CharField(_("organisation"), max_length=80, blank=True)
    enrolled_on = models.DateField(_("enrolled on"))
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    objects = AmbassadorQuerySet.as_manager()

    class Meta:
        ordering = ["enrolled_on", "pk"]
        verbose_name = _("ambassador")

    def __str__(self):
        return self.name


class Outreach(models.Model):
    """What an ambassador passed on: on which day, on which topic, to how many people."""

    ambassador = models.ForeignKey(Ambassador, on_delete=models.CASCADE, related_name="outreach")
    day = models.DateField(_("day"))
    topic = models.CharField(_("topic"), max_length=20, choices=Topic.choices)
    people = models.PositiveIntegerField(_("people reached"))
    note = models.CharField(_("note"), max_length=200, blank=True)
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")

    class Meta:
        ordering = ["day", "pk"]
        verbose_name = _("passed on")

    def __str__(self):
        return f"{self.ambassador} · {self.day} · {self.people}"


class EventPhoto(models.Model):
    """A photo of the after-event record: re-encoded by `yizhan.visits.photos` (only pixels, no
    metadata), stored under MEDIA_ROOT with a random name, served only to staff in scope."""

    event = models.ForeignKey(Event, on_delete=models.CASCADE, related_name="photos")
    path = models.CharField(max_length=200)
    caption = models.CharField(_("caption"), max_length=120, blank=True)
    added_at = models.DateTimeField(default=timezone.now, editable=False)
    by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")

    class Meta:
        ordering = ["added_at", "pk"]
        verbose_name = _("photo")

    def __str__(self):
        return self.caption or self.path
