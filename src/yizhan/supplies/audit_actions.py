"""Labels for the audit events of supplies (yizhan.audit.registry)."""

from django.utils.translation import gettext_lazy as _

from yizhan.audit.registry import register

register(
    {
        "supplies.item.created": _("Item added to the catalogue"),
        "supplies.item.updated": _("Item changed"),
        "supplies.entry.posted": _("Stock movement posted"),
        "supplies.transfer.sent": _("Transfer sent"),
        "supplies.transfer.received": _("Transfer received"),
        "supplies.transfer.cancelled": _("Transfer cancelled"),
        "supplies.transfer.returned": _("Transfer returned"),
        "supplies.level.set": _("Stock level set"),
        "supplies.level.snoozed": _("Stock alerts snoozed"),
        "supplies.requisition.requested": _("Stock requested"),
        "supplies.requisition.approved": _("Requisition approved"),
        "supplies.requisition.rejected": _("Requisition rejected"),
    },
    fields={
        "balance": _("balance"),
        "differences": _("differences"),
        "items": _("items"),
        "to_unit": _("to"),
        "snoozed_until": _("alerts snoozed until"),
    },
)
