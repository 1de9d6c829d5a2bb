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
        "operations.plan.template_saved": _("Contingency plan template saved"),
        "operations.plan.filled": _("Outlet contingency plan filled"),
        "operations.plan.activated": _("Contingency plan activated"),
        "operations.plan.deactivated": _("Contingency plan deactivated"),
        "operations.plan.task_done": _("Plan measure done"),
        "operations.checklist.published": _("Checklist template published"),
        "operations.checklist.filled": _("Opening checklist filled"),
        "operations.disinfection.area_added": _("Disinfection area added"),
        "operations.disinfection.area_changed": _("Disinfection area changed"),
        "operations.disinfection.logged": _("Disinfection recorded"),
    },
    fields={
        "leave": _("leave"),
        "for": _("for"),
        "late": _("late"),
        "reason": _("reason"),
        "failed": _("items failed"),
        "plan": _("plan"),
        "outlets": _("outlets"),
        "measures": _("measures"),
        "backup_staff": _("backup staff"),
        "restored": _("statuses restored"),
        "items": _("items"),
        "version": _("version"),
        "at": _("disinfected at"),
    },
)
