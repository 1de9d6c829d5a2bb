"""Labels for the audit events of outlet operations (yizhan.audit.registry)."""

from django.utils.translation import gettext_lazy as _

from yizhan.audit.registry import register

register(
    {
        "operations.status.scheduled": _("Operating status set"),
        "operations.status.ended": _("Operating status ended"),
        "operations.status.withdrawn": _("Operating status withdrawn"),
        "operations.customers.recorded": _("Customers served recorded"),
        "operations.roster.added": _("Put on the roster"),
        "operations.roster.changed": _("Roster entry changed"),
        "operations.roster.leave": _("Leave recorded"),
        "operations.health.reported": _("Daily health report submitted"),
        "operations.health.corrected": _("Daily health report corrected"),
        "operations.health.exported": _("Health reports exported"),
        "operations.inspection.recorded": _("Spot check recorded"),
        "operations.rectification.opened": _("Rectification opened"),
        "operations.rectification.responded": _("Rectification responded to"),
        "operations.rectification.closed": _("Rectification closed after re-check"),
        "operations.rectification.reopened": _("Rectification re-opened after re-check"),
        "operations.rectification.escalated": _("Overdue rectification escalated"),
    },
    fields={
        "leave": _("leave"),
        "for": _("for"),
        "late": _("late"),
        "reason": _("reason"),
        "failed": _("items failed"),
    },
)
