"""Labels for the audit events of the green channel (yizhan.audit.registry)."""

from django.utils.translation import gettext_lazy as _

from yizhan.audit.registry import register

register(
    {
        "remittance.batch.created": _("Batch created"),
        "remittance.batch.updated": _("Batch settings changed"),
        "remittance.batch.imported": _("Instructions imported"),
        "remittance.batch.rescreened": _("Batch screened again"),
        "remittance.batch.exported": _("Decisions exported"),
        "remittance.import.staged": _("Import file uploaded for preview"),
        "remittance.import.discarded": _("Import file discarded"),
        "remittance.instruction.claimed": _("Instruction claimed"),
        "remittance.instruction.released": _("Claim released"),
        "remittance.instruction.decided": _("Decision made"),
        "remittance.instruction.approved": _("Decision approved"),
        "remittance.instruction.rejected": _("Decision sent back"),
        "remittance.instruction.reopened": _("Decision reopened"),
        "remittance.rules.rule_created": _("Screening rule created"),
        "remittance.rules.rule_updated": _("Screening rule changed"),
        "remittance.rules.rule_deleted": _("Screening rule deleted"),
        "remittance.rules.alias_created": _("Alias added"),
        "remittance.rules.alias_deleted": _("Alias removed"),
        "remittance.rules.exclusion_created": _("Exclusion added"),
        "remittance.rules.exclusion_deleted": _("Exclusion removed"),
        "remittance.rules.allow_created": _("Allow-list entry added"),
        "remittance.rules.allow_deleted": _("Allow-list entry removed"),
    },
    fields={
        "file": _("file"),
        "bytes": _("bytes"),
        "batch": _("batch"),
        "sha256": _("SHA-256"),
        "rows": _("rows"),
        "rows_imported": _("rows imported"),
        "rows_rejected": _("rows rejected"),
        "first_export": _("exported for the first time"),
        "with_hits": _("with rule hits"),
        "changed": _("changed"),
        "reason": _("reason"),
        "source": _("source"),
        "claimed_by": _("claimed by"),
        "decided_by": _("decided by"),
        "approved_by": _("approved by"),
    },
    values={"source": {"demo": _("demo data")}},
)
# A callback is recorded on its instruction; the diff names the callback's fields.
register({"remittance.callback.logged": _("Callback logged")}, model="remittance.callback")
