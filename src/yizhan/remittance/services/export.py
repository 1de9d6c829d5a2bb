"""The final decisions as csv for core banking."""

import hashlib

from django.db import transaction
from django.utils import timezone

from yizhan.audit.services import record
from yizhan.core.tabular import write_csv
from yizhan.orgs.models import Unit
from yizhan.orgs.scoping import scoped
from yizhan.remittance.models import (
    EXPORT_CODES,
    Batch,
    Instruction,
    State,
)
from yizhan.remittance.services.common import _require_change, _scope, _username

# ---------------------------------------------------------------- export for core banking

EXPORT_HEADERS = [
    "instruction_id",
    "decision",
    "amount",
    "currency",
    "branch_code",
    "scheduled_date",
    "decided_by",
    "decided_at",
    "approved_by",
    "approved_at",
    "note",
]


def _iso(value) -> str:
    return timezone.localtime(value).isoformat(timespec="seconds") if value else ""


@transaction.atomic
def export_decisions(batch: Batch, *, actor, scope) -> tuple[str, bytes, int]:
    """The final decisions in the user's subtree as csv for core banking (format in README)."""
    _require_change(actor)
    rows = (
        scoped(scope, Instruction)
        .filter(batch=batch, state=State.DECIDED)
        .select_related("unit", "decided_by", "approved_by")
        .order_by("unit__code", "instruction_id", "pk")
    )
    lines, fresh = [], []
    for inst in rows:
        lines.append(
            [
                inst.instruction_id,
                EXPORT_CODES[inst.decision],
                format(inst.amount, "f"),
                "CNY",
                inst.unit.code,
                inst.scheduled_date.isoformat(),
                _username(inst.decided_by) or "",
                _iso(inst.decided_at),
                _username(inst.approved_by) or "",
                _iso(inst.approved_at),
                inst.decision_note,
            ]
        )
        if inst.exported_at is None:
            fresh.append(inst.pk)
    content = write_csv(EXPORT_HEADERS, lines)
    now = timezone.now()
    Instruction.objects.filter(pk__in=fresh).update(exported_at=now)
    record(
        "remittance.batch.exported",
        batch,
        actor=actor,
        unit=Unit.objects.get(pk=_scope(scope).unit_id) if _scope(scope).unit_id else batch.unit,
        changes={
            "rows": [None, len(lines)],
            "first_export": [None, len(fresh)],
            "sha256": [None, hashlib.sha256(content).hexdigest()],
        },
    )
    stamp = timezone.localtime(now).strftime("%Y%m%d-%H%M")
    return f"remittance-decisions-{batch.pk}-{stamp}.csv", content, len(lines)
