"""Labels for the audit events of service cases (yizhan.audit.registry)."""

from django.utils.translation import gettext_lazy as _

from yizhan.audit.registry import register
from yizhan.cases.models import TEMPLATES
from yizhan.remittance.models import Field as RuleField

register(
    {
        "case.opened": _("Case opened"),
        "case.updated": _("Case details changed"),
        "case.step_done": _("Case step done"),
        "case.closed": _("Case closed"),
        "case.document_added": _("Photo or document attached"),
        "case.instruction_linked": _("Remittance instruction linked"),
        "case.rule_proposed": _("Screening rule proposed"),
        "case.rule_accepted": _("Proposed screening rule accepted"),
        "case.rule_declined": _("Proposed screening rule declined"),
        "case.escalated": _("Overdue case escalated"),
    },
    fields={
        "step": _("step"),
        "document": _("document"),
        "size": _("size (bytes)"),
        "instruction": _("instruction"),
        "term": _("keyword"),
        "field": _("field"),
        "level": _("escalation level"),
        "notified": _("notified"),
        "note": _("note"),
    },
    values={
        "step": {s.code: s.label for steps in TEMPLATES.values() for s in steps},
        "field": dict(RuleField.choices),
    },
)
