"""Labels for the audit events of the notification centre (yizhan.audit.registry)."""

from django.utils.translation import gettext_lazy as _

from yizhan.audit.registry import register

register(
    {
        "notify.template_saved": _("Message template saved"),
        "notify.consent_given": _("Consent to messages recorded"),
        "notify.consent_withdrawn": _("Consent to messages withdrawn"),
        "notify.broadcast_proposed": _("Message to staff written"),
        "notify.broadcast_approved": _("Message to staff approved"),
        "notify.broadcast_rejected": _("Message to staff rejected"),
        "notify.campaign_proposed": _("Pension-day campaign prepared"),
        "notify.campaign_approved": _("Pension-day campaign approved"),
        "notify.campaign_rejected": _("Pension-day campaign rejected"),
    },
    fields={
        "withdrawn": _("withdrawn"),
        "how": _("how it was given"),
        "days": _("days"),
        "recipients": _("recipients"),
    },
)
