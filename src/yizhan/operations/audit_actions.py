"""Labels for the audit events of outlet operations (yizhan.audit.registry)."""

from django.utils.translation import gettext_lazy as _

from yizhan.audit.registry import register

register(
    {
        "operations.status.scheduled": _("Operating status set"),
        "operations.status.ended": _("Operating status ended"),
        "operations.status.withdrawn": _("Operating status withdrawn"),
        "operations.customers.recorded": _("Customers served recorded"),
    }
)
