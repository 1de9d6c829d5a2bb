"""Labels for the audit events of planning (yizhan.audit.registry)."""

from django.utils.translation import gettext_lazy as _

from yizhan.audit.registry import register

register(
    {
        "demand_site.created": _("Worker site marked"),
        "demand_site.deleted": _("Worker site removed"),
    },
)
