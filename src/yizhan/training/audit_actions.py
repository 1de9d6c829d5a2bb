"""Labels for the audit events of training (yizhan.audit.registry)."""

from django.utils.translation import gettext_lazy as _

from yizhan.audit.registry import register

register(
    {
        "training.course.created": _("Course created"),
        "training.course.updated": _("Course changed"),
        "training.session.created": _("Training session scheduled"),
        "training.session.updated": _("Training session changed"),
        "training.session.cancelled": _("Training session cancelled"),
        "training.invited": _("People invited to a training session"),
        "training.replied": _("Training invitation answered"),
        "training.result": _("Training result recorded"),
        "training.result_deleted": _("Training result deleted"),
        "training.results_imported": _("Results sheet imported"),
        "training.certificate.reminded": _("Expiring certificate reminded"),
        "training.drill.recorded": _("Drill recorded"),
        "training.drill.finding": _("Drill finding recorded"),
    },
    fields={
        "invited": _("invited"),
        "for": _("for"),
        "rows": _("rows"),
        "notified": _("notified"),
        "participants": _("participants"),
        "finding": _("finding"),
        "course": _("course"),
        "outlets": _("outlets"),
        "cancel_reason": _("reason for cancelling"),
    },
)
