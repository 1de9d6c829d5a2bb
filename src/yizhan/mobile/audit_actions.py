"""Labels for the audit events of mobile stations (yizhan.audit.registry)."""

from django.utils.translation import gettext_lazy as _

from yizhan.audit.registry import register
from yizhan.mobile.models import ServiceKind

register(
    {
        "mobile.place_created": _("Visit place added"),
        "mobile.schedule_created": _("Visit schedule added"),
        "mobile.schedule_updated": _("Visit schedule changed"),
        "mobile.schedule_stopped": _("Visit schedule stopped"),
        "mobile.schedule_resumed": _("Visit schedule switched on again"),
        "mobile.visit_cancelled": _("Mobile visit cancelled"),
        "mobile.visit_services": _("Services of a mobile visit recorded"),
        "mobile.case_visit_scheduled": _("Case scheduled as a mobile visit"),
        "case.visit_scheduled": _("Case scheduled as a mobile visit"),
    },
    fields={
        "visit": _("visit"),
        "case": _("service case"),
        "staff": _("staff"),
        **dict(ServiceKind.choices),
    },
)
