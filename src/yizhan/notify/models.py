"""The notification centre's records: message templates (versioned), consent of members of the
public, staff mutes, and one Message per recipient and channel with its delivery state."""

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from yizhan.orgs.scoping import ScopedQuerySet


class MessageQuerySet(ScopedQuerySet):
    scope_path_field = "unit__path"


class ConsentQuerySet(ScopedQuerySet):
    scope_path_field = "unit__path"


class Channel(models.TextChoices):
    INBOX = "inbox", _("In-app inbox")
    SMS = "sms", _("SMS")
    EMAIL = "email", _("E-mail")
    BOT = "bot", _("Group bot (WeCom / DingTalk / Feishu)")


class Template(models.Model):
    """One version of a message. Sending uses the newest active version of a key; a message keeps
    the version it was rendered from, so a later edit never rewrites what was sent."""

    key = models.SlugField(_("key"), max_length=60)
    version = models.PositiveIntegerField(_("version"), default=1)
    name = models.CharField(_("name"), max_length=100)
    text_zh = models.TextField(_("text (Chinese)"))
    text_en = models.TextField(_("text (English)"), blank=True)
    variables = models.JSONField(_("variables"), default=list)
    # Aliyun and Tencent Cloud send only approved templates, with an approved signature.
    sms_template_code = models.CharField(_("SMS template code"), max_length=40, blank=True)
    sms_signature = models.CharField(_("SMS signature"), max_length=20, blank=True)
    # What a member of the public opted in to; staff messages need no consent.
    topic = models.SlugField(_("topic"), max_length=60, blank=True)
    urgent = models.BooleanField(
        _("urgent"), default=False, help_text=_("Sent in quiet hours and to muted staff.")
    )
    active = models.BooleanField(_("active"), default=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["key", "version"], name="notify_template_key_version")]
        ordering = ["key", "-version"]
        verbose_name = _("message template")

    def __str__(self):
        return f"{self.key} v{self.version}"


class Consent(models.Model):
    """A member of the public's opt-in to one kind of message at one address (a phone number)."""

    address = models.CharField(_("phone number"), max_length=40)
    topic = models.SlugField(_("topic"), max_length=60)
    given_at = models.DateTimeField(_("given at"))
    how = models.CharField(_("how it was given"), max_length=200)
    withdrawn_at = models.DateTimeField(_("withdrawn at"), null=True, blank=True)
    withdrawn_how = models.CharField(max_length=200, blank=True)
    unit = models.ForeignKey(
        "orgs.Unit", on_delete=models.PROTECT, related_name="+", verbose_name=_("outlet")
    )

    objects = ConsentQuerySet.as_manager()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["address", "topic"], name="notify_consent_address_topic")
        ]
        verbose_name = _("consent")

    def __str__(self):
        from yizhan.core.masking import mask_phone

        return f"{mask_phone(self.address)} · {self.topic}"


class Mute(models.Model):
    """A staff member's choice not to receive non-urgent messages of one template key."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    key = models.SlugField(max_length=60)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["user", "key"], name="notify_mute_user_key")]

    def __str__(self):
        return f"{self.user_id} · {self.key}"


class Message(models.Model):
    class State(models.TextChoices):
        HELD = "held", _("Held (quiet hours or a cap)")
        QUEUED = "queued", _("Queued")
        SENDING = "sending", _("Sending")
        SENT = "sent", _("Sent")
        DELIVERED = "delivered", _("Delivered")
        FAILED_TEMP = "failed_temp", _("Failed, will retry")
        FAILED = "failed", _("Failed")
        REFUSED = "refused", _("Not sent")

    template = models.ForeignKey(Template, on_delete=models.PROTECT, related_name="+")
    channel = models.CharField(_("channel"), max_length=10, choices=Channel.choices)
    user = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.CASCADE, related_name="+")
    address = models.CharField(_("address"), max_length=200, blank=True)
    # The unit the message is about or was sent for: what scopes it in the outbox.
    unit = models.ForeignKey("orgs.Unit", on_delete=models.PROTECT, related_name="+")
    text = models.TextField(_("text"))
    context = models.JSONField(default=dict)
    # A retried job that sends the same thing again finds its key taken: nothing is sent twice.
    dedup_key = models.CharField(max_length=200)
    state = models.CharField(_("state"), max_length=12, choices=State.choices, default=State.QUEUED)
    reason = models.CharField(_("reason"), max_length=300, blank=True)
    not_before = models.DateTimeField(null=True, blank=True)
    attempts = models.PositiveSmallIntegerField(default=0)
    provider_id = models.CharField(_("provider's message id"), max_length=100, blank=True)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    sent_at = models.DateTimeField(_("sent"), null=True, blank=True)
    delivered_at = models.DateTimeField(null=True, blank=True)
    read_at = models.DateTimeField(null=True, blank=True)
    # Which delivery run holds the message while it is being sent.
    claim = models.CharField(max_length=32, blank=True)

    objects = MessageQuerySet.as_manager()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["dedup_key"], name="notify_message_dedup")]
        indexes = [
            models.Index(fields=["state", "not_before"]),
            models.Index(fields=["user", "channel", "read_at"]),
            models.Index(fields=["address", "channel", "sent_at"]),
        ]
        ordering = ["-created_at", "-pk"]
        verbose_name = _("message")

    def __str__(self):
        return f"{self.channel} {self.pk} {self.state}"


class BroadcastQuerySet(ScopedQuerySet):
    scope_path_field = "unit__path"


class Broadcast(models.Model):
    """A message staff send to an audience chosen by the org tree: everyone of the chosen roles in a
    unit's subtree. Above YIZHAN_NOTIFY_APPROVAL_ABOVE recipients a second person approves it."""

    class State(models.TextChoices):
        PENDING = "pending", _("Awaiting approval")
        SENT = "sent", _("Sent")
        REJECTED = "rejected", _("Rejected")

    unit = models.ForeignKey("orgs.Unit", on_delete=models.PROTECT, related_name="+", verbose_name=_("unit"))
    roles = models.JSONField(_("roles"), default=list)
    template = models.ForeignKey(
        Template, on_delete=models.PROTECT, related_name="+", verbose_name=_("template")
    )
    context = models.JSONField(default=dict)
    recipients = models.PositiveIntegerField(_("recipients"))
    state = models.CharField(_("state"), max_length=10, choices=State.choices)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.PROTECT, related_name="+"
    )
    decided_at = models.DateTimeField(null=True, blank=True)

    objects = BroadcastQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("broadcast")

    def __str__(self):
        return f"{self.template.key} → {self.unit} ({self.recipients})"


class CampaignQuerySet(ScopedQuerySet):
    scope_path_field = "unit__path"


class Campaign(models.Model):
    """The pension-day diversion (and any campaign like it): one message to the opted-in members of
    the public of chosen outlets, staggered over working days so that no outlet gets more people a
    day than it can serve. `plan` is the schedule shown before sending, kept as it was approved:
    [{"day": "2026-07-16", "outlet": unit id, "consents": [consent ids]}]."""

    class State(models.TextChoices):
        PENDING = "pending", _("Awaiting approval")
        SENT = "sent", _("Scheduled")
        REJECTED = "rejected", _("Rejected")

    # The lowest unit above every chosen outlet: who can see and approve it.
    unit = models.ForeignKey("orgs.Unit", on_delete=models.PROTECT, related_name="+", verbose_name=_("unit"))
    template = models.ForeignKey(
        Template, on_delete=models.PROTECT, related_name="+", verbose_name=_("template")
    )
    window = models.CharField(_("time of day"), max_length=40, blank=True)
    plan = models.JSONField(default=list)
    recipients = models.PositiveIntegerField(_("recipients"))
    state = models.CharField(_("state"), max_length=10, choices=State.choices)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.PROTECT, related_name="+"
    )
    decided_at = models.DateTimeField(null=True, blank=True)

    objects = CampaignQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-pk"]
        verbose_name = _("invitation campaign")

    def __str__(self):
        return f"{self.template.key} ({self.recipients})"
