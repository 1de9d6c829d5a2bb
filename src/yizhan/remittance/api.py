"""Staff API of the green channel under /api/v1/manage/remittance/: the same service verbs and
the same scoping chokepoint as the back-office pages."""

import datetime
import uuid
from decimal import Decimal

from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404
from django.utils.translation import gettext as _
from ninja import File, Form, Router, Schema, Status
from ninja.files import UploadedFile

from yizhan.core.boundary import Offset
from yizhan.core.masking import mask_account, mask_phone
from yizhan.core.schemas import Conflict
from yizhan.orgs.models import Unit
from yizhan.orgs.scoping import get_for_user, require, scope_for, scoped
from yizhan.remittance import importer, jobs, services
from yizhan.remittance.models import (
    Alias,
    AllowEntry,
    Batch,
    Exclusion,
    Instruction,
    Rule,
)

manage_router = Router(tags=["manage: remittance green channel"])
P = "/remittance"


class BatchOut(Schema):
    id: int
    name: str
    unit_code: str
    deadline: datetime.datetime
    approval_threshold: Decimal
    near_window_hours: int
    screened_at: datetime.datetime | None
    overdue: bool
    # Your subtree's figures, the same as the pages': need_a_look = unclaimed + calling +
    # pending_approval + decided; unfinished = need_a_look - decided.
    counts: dict


class BatchIn(Schema):
    name: str
    deadline: str
    approval_threshold: Decimal | None = None
    near_window_hours: int | None = None


class ProgressOut(Schema):
    """The stages of models.Stage, which add up to need_a_look; unfinished = need_a_look - decided."""

    unit_code: str
    unit_name: str
    need_a_look: int
    unclaimed: int
    calling: int
    pending_approval: int
    decided: int
    unfinished: int


class HitOut(Schema):
    rule_id: int | None
    rule_term: str
    field: str
    start: int
    end: int
    text: str
    matched_term: str  # normalised: the keyword, or the alias of it that matched
    via_alias: bool
    context: str  # a short term's context: place, suffix, end (empty for longer terms)
    exclusion_term: str  # an exclusion around the hit that was weighed and not applied
    explanation: str  # the same, in one sentence in the reader's language


class InstructionOut(Schema):
    id: int
    instruction_id: str
    batch_id: int
    unit_code: str
    created_at: datetime.datetime
    scheduled_date: datetime.date
    payer_name: str
    payer_account: str  # masked
    payer_phone: str  # masked unless you hold the claim
    payee_name: str
    payee_account: str  # masked
    payee_bank: str
    amount: Decimal
    purpose: str
    channel: str
    priority: int
    hits: list[HitOut]
    duplicate_group: int | None
    proposed_keep: bool
    state: str
    stage: str  # unclaimed, calling, pending_approval, decided (models.Stage)
    decision: str
    claimed_by: str | None
    decided_by: str | None
    approved_by: str | None
    # One instruction only (not in the worklist): what you may do now, and why a decision is not possible.
    actions: dict | None = None


class CallbackIn(Schema):
    outcome: str = ""
    phone: str = ""  # the number dialled; or leave it empty and set dialled_on_file
    dialled_on_file: bool = False
    call_back_at: str | None = None
    note: str = ""


class CallbackOut(Schema):
    id: int
    caller: str
    called_at: datetime.datetime
    phone: str  # masked
    outcome: str
    call_back_at: datetime.datetime | None
    note: str


class DecisionIn(Schema):
    decision: str
    note: str = ""


class NoteIn(Schema):
    note: str = ""


class ImportErrorOut(Schema):
    row: int | None
    column: str
    message: str


class ImportOut(Schema):
    rows_read: int
    valid_rows: int
    imported: int
    dry_run: bool
    refused_reason: str
    errors: list[ImportErrorOut]
    hits_by_rule: dict[str, int]
    duplicate_groups: int
    rows_in_groups: int


class ImportJobOut(Schema):
    job: uuid.UUID  # follow it at GET /api/v1/manage/jobs/{job}
    run: int


class RuleOut(Schema):
    id: int
    field: str
    term: str
    category: str
    priority: int
    is_active: bool
    note: str
    revision: int


class RuleIn(Schema):
    field: str
    term: str
    category: str = ""
    priority: int = 50
    is_active: bool = True
    note: str = ""


class RulePut(RuleIn):
    revision: int  # the rule's revision the change is based on (from GET); stale: 409


class AliasIn(Schema):
    term_a: str
    term_b: str


class ExclusionIn(Schema):
    term: str
    rule: int | None = None
    field: str = ""
    note: str = ""


class AllowIn(Schema):
    field: str
    value: str
    rule: int | None = None
    reason: str


class RuleSetOut(Schema):
    rules: list[RuleOut]
    aliases: list[dict]
    exclusions: list[dict]
    allow: list[dict]


def batch_out(b: Batch, counts=None) -> dict:
    return {
        "counts": (counts or services.WorkCounts()).as_dict(),
        "id": b.pk,
        "name": b.name,
        "unit_code": b.unit.code,
        "deadline": b.deadline,
        "approval_threshold": b.approval_threshold,
        "near_window_hours": b.near_window_hours,
        "screened_at": b.screened_at,
        "overdue": b.is_overdue,
    }


def instruction_out(inst: Instruction, user) -> dict:
    holds = inst.claimed_by_id == user.pk and inst.claim_active()
    return {
        "id": inst.pk,
        "instruction_id": inst.instruction_id,
        "batch_id": inst.batch_id,
        "unit_code": inst.unit.code,
        "created_at": inst.created_at,
        "scheduled_date": inst.scheduled_date,
        "payer_name": inst.payer_name,
        "payer_account": mask_account(inst.payer_account),
        "payer_phone": inst.payer_phone if holds else mask_phone(inst.payer_phone),
        "payee_name": inst.payee_name,
        "payee_account": mask_account(inst.payee_account),
        "payee_bank": inst.payee_bank,
        "amount": inst.amount,
        "purpose": inst.purpose,
        "channel": inst.channel,
        "priority": inst.priority,
        "hits": [
            {
                "rule_id": h.rule_id,
                "rule_term": h.rule_term,
                "field": h.field,
                "start": h.start,
                "end": h.end,
                "text": h.text,
                "matched_term": h.matched_term,
                "via_alias": h.via_alias,
                "context": h.context,
                "exclusion_term": h.exclusion_term,
                "explanation": h.explanation(),
            }
            for h in inst.hits.all()
        ],
        "duplicate_group": inst.dup_group.number if inst.dup_group_id else None,
        "proposed_keep": bool(inst.dup_group_id and inst.dup_group.keep_id == inst.pk),
        "state": inst.state,
        "stage": inst.stage.value,
        "decision": inst.decision,
        "claimed_by": inst.claimed_by.get_username() if inst.claim_active() else None,
        "decided_by": inst.decided_by.get_username() if inst.decided_by_id else None,
        "approved_by": inst.approved_by.get_username() if inst.approved_by_id else None,
    }


def _instructions(user):
    return (
        scoped(user, Instruction)
        .select_related("unit", "dup_group", "claimed_by", "decided_by", "approved_by")
        .prefetch_related("hits")
    )


def _instruction(request, pk: int, perm: str = "read") -> Instruction:
    return get_for_user(request.user, _instructions(request.user), perm, pk=pk)


def _batch(request, pk: int) -> Batch:
    return get_for_user(request.user, Batch.objects.select_related("unit"), pk=pk)


@manage_router.get(P + "/batches", response=list[BatchOut], summary="Batches you can see")
def list_batches(request):
    batches = list(scoped(request.user, Batch).select_related("unit"))
    counts = services.count_work(request.user, [b.pk for b in batches])
    return [batch_out(b, counts.get(b.pk)) for b in batches]


@manage_router.post(P + "/batches", response={201: BatchOut}, summary="Create a batch at your unit (admin)")
def create_batch(request, payload: BatchIn):
    scope = require(request.user, "admin")
    unit = get_for_user(request.user, Unit, "admin", pk=scope.unit_id)
    data = payload.dict(exclude_none=True)
    return Status(201, batch_out(services.create_batch(actor=request.user, unit=unit, **data)))


@manage_router.get(
    P + "/batches/{int:batch_id}", response=BatchOut, summary="One batch (404 if you cannot see it)"
)
def get_batch(request, batch_id: int):
    batch = _batch(request, batch_id)
    return batch_out(batch, services.count_work(request.user, [batch.pk]).get(batch.pk))


@manage_router.get(
    P + "/batches/{int:batch_id}/progress",
    response=list[ProgressOut],
    summary="Flagged instructions per unit below `unit` (default: yours), with what is still open",
)
def batch_progress(request, batch_id: int, unit: str = ""):
    batch = _batch(request, batch_id)
    at = (
        get_for_user(request.user, Unit, code=unit)
        if unit
        else get_for_user(request.user, Unit, pk=scope_for(request.user).unit_id)
    )
    total, rows = services.progress(batch, request.user, at)
    return [
        {"unit_code": r.unit.code, "unit_name": r.unit.name, **r.counts.as_dict()} for r in [total, *rows]
    ]


@manage_router.get(
    P + "/batches/{int:batch_id}/worklist",
    response=list[InstructionOut],
    summary="Your subtree's instructions: hits first (by priority), then amount, then age",
)
def worklist(
    request,
    batch_id: int,
    show: str = "flagged",
    state: str = "unfinished",
    unit: str = "",
    limit: int = 50,
    offset: Offset = 0,
):
    batch = _batch(request, batch_id)
    if show not in services.WORKLIST_SHOW:
        raise ValidationError(
            {"show": _("Choose one of: %(values)s.") % {"values": ", ".join(services.WORKLIST_SHOW)}}
        )
    if state not in services.WORKLIST_STAGES and state != "open":
        raise ValidationError(
            {"state": _("Choose one of: %(values)s.") % {"values": ", ".join(services.WORKLIST_STAGES)}}
        )
    at = get_for_user(request.user, Unit, code=unit) if unit else None
    qs = (
        services.worklist(request.user, batch, show=show, stage=state, unit=at)
        .select_related("unit", "dup_group", "claimed_by", "decided_by", "approved_by")
        .prefetch_related("hits")
    )
    limit = max(1, min(limit, 500))
    return [
        instruction_out(i, request.user) for i in qs.worklist_order()[max(offset, 0) : max(offset, 0) + limit]
    ]


@manage_router.get(
    P + "/batches/{int:batch_id}/duplicates", summary="Duplicate groups with members in your subtree"
)
def duplicates(request, batch_id: int):
    batch = _batch(request, batch_id)
    groups: dict[int, dict] = {}
    members = (
        scoped(request.user, Instruction)
        .filter(batch=batch, dup_group__isnull=False)
        .select_related("dup_group")
        .order_by("dup_group__number", "created_at", "pk")
    )
    for inst in members:
        g = groups.setdefault(
            inst.dup_group.number,
            {
                "group": inst.dup_group.number,
                "kind": inst.dup_group.kind,
                "size": inst.dup_group.size,
                "members": [],
            },
        )
        g["members"].append(
            {
                "id": inst.pk,
                "instruction_id": inst.instruction_id,
                "keep": inst.dup_group.keep_id == inst.pk,
                "state": inst.state,
                "decision": inst.decision,
            }
        )
    return list(groups.values())


@manage_router.post(
    P + "/batches/{int:batch_id}/import",
    response={200: ImportOut, 202: ImportJobOut, 422: ImportOut},
    summary="Import a csv/xlsx file into the batch (dry_run: check only; valid_only: skip rows with errors); "
    "422 when nothing is (or would be) imported because of errors; background: 202 with the job to follow",
)
def import_file(
    request,
    batch_id: int,
    file: UploadedFile = File(...),  # noqa: B008 - ninja declares parameters this way
    dry_run: bool = Form(False),  # noqa: B008
    valid_only: bool = Form(False),  # noqa: B008
    background: bool = Form(False),  # noqa: B008
):
    batch = _batch(request, batch_id)
    services.require_batch_owner(request.user, batch)
    if file.size and file.size > importer.max_bytes():
        # Refused before the upload is read into memory; the reader would say the same.
        mb = importer.max_bytes() // 2**20
        raise ValidationError({"file": _("The file is larger than %(mb)s MB; split it.") % {"mb": mb}})
    if background:
        # The file is staged and checked or imported on the queue; its job carries the report.
        run = services.stage_import(
            batch, actor=request.user, filename=file.name or "upload.csv", data=file.read()
        )
        unit = Unit.objects.get(pk=scope_for(request.user).unit_id)
        job = jobs.start_import(request.user, unit, run, dry_run=dry_run, valid_only=valid_only)
        return Status(202, {"job": job.pk, "run": run.pk})
    report = services.run_import(
        batch,
        actor=request.user,
        filename=file.name or "upload.csv",
        data=file.read(),
        dry_run=dry_run,
        valid_only=valid_only,
        scope=request.user,
    )
    return Status(
        422 if report.refused_reason else 200,
        {
            "rows_read": report.rows_read,
            "valid_rows": report.valid_rows,
            "imported": report.imported,
            "dry_run": report.dry_run,
            "refused_reason": report.refused_reason,
            "errors": [
                {"row": e.row, "column": e.column, "message": e.message} for e in report.errors[:1000]
            ],
            "hits_by_rule": dict(report.hits_by_rule),
            "duplicate_groups": report.groups_total,
            "rows_in_groups": report.rows_in_groups,
        },
    )


@manage_router.post(
    P + "/batches/{int:batch_id}/rescreen", summary="Screen the batch again with the current rules"
)
def rescreen(request, batch_id: int):
    batch = _batch(request, batch_id)
    services.require_batch_owner(request.user, batch)
    return services.rescreen_batch(batch, actor=request.user)


@manage_router.post(
    P + "/batches/{int:batch_id}/export",
    summary="Final decisions in your subtree as csv for core banking (format in README)",
)
def export(request, batch_id: int):
    batch = _batch(request, batch_id)
    filename, content, _count = services.export_decisions(batch, actor=request.user, scope=request.user)
    response = HttpResponse(content, content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


@manage_router.get(P + "/instructions/{int:pk}", response=InstructionOut, summary="One instruction")
def get_instruction(request, pk: int):
    return _one_out(request, pk)


@manage_router.get(P + "/instructions/{int:pk}/callbacks", response=list[CallbackOut], summary="Its call log")
def list_callbacks(request, pk: int):
    inst = _instruction(request, pk)
    return [
        {
            "id": c.pk,
            "caller": c.caller_name,
            "called_at": c.called_at,
            "phone": c.phone_masked,
            "outcome": c.outcome,
            "call_back_at": c.call_back_at,
            "note": c.note,
        }
        for c in inst.callbacks.all()
    ]


def _one_out(request, pk: int) -> dict:
    inst = _instruction(request, pk)
    return {
        **instruction_out(inst, request.user),
        "actions": services.available_actions(inst, request.user).as_dict(),
    }


def _verb(request, pk, verb, **data):
    inst = _instruction(request, pk, "change")
    verb(inst, actor=request.user, **data)
    return _one_out(request, pk)


@manage_router.post(
    P + "/instructions/{int:pk}/claim", response=InstructionOut, summary="Claim it (422 if someone else has)"
)
def claim(request, pk: int):
    return _verb(request, pk, services.claim)


@manage_router.post(
    P + "/instructions/{int:pk}/release", response=InstructionOut, summary="Release your claim"
)
def release(request, pk: int):
    return _verb(request, pk, services.release)


@manage_router.post(
    P + "/instructions/{int:pk}/callbacks", response={201: CallbackOut}, summary="Log a call (hold the claim)"
)
def log_callback(request, pk: int, payload: CallbackIn):
    inst = _instruction(request, pk, "change")
    c = services.log_callback(inst, actor=request.user, **payload.dict())
    return Status(
        201,
        {
            "id": c.pk,
            "caller": c.caller_name,
            "called_at": c.called_at,
            "phone": c.phone_masked,
            "outcome": c.outcome,
            "call_back_at": c.call_back_at,
            "note": c.note,
        },
    )


@manage_router.post(
    P + "/instructions/{int:pk}/decision", response=InstructionOut, summary="Decide (hold the claim)"
)
def decide(request, pk: int, payload: DecisionIn):
    return _verb(request, pk, services.decide, **payload.dict())


@manage_router.post(
    P + "/instructions/{int:pk}/approve", response=InstructionOut, summary="Approve someone else's decision"
)
def approve(request, pk: int):
    return _verb(request, pk, services.approve)


@manage_router.post(
    P + "/instructions/{int:pk}/reject", response=InstructionOut, summary="Send a decision back"
)
def reject(request, pk: int, payload: NoteIn):
    return _verb(request, pk, services.reject, note=payload.note)


@manage_router.post(
    P + "/instructions/{int:pk}/reopen", response=InstructionOut, summary="Reopen a decision (admin)"
)
def reopen(request, pk: int, payload: NoteIn):
    return _verb(request, pk, services.reopen, note=payload.note)


def _rule_out(r: Rule) -> dict:
    return {
        "id": r.pk,
        "field": r.field,
        "term": r.term,
        "category": r.category,
        "priority": r.priority,
        "is_active": r.is_active,
        "note": r.note,
        "revision": r.revision,
    }


def _hq(request):
    if not scope_for(request.user).can("hq_admin"):
        raise PermissionDenied


@manage_router.get(P + "/rules", response=RuleSetOut, summary="Rules, aliases, exclusions and allow-list")
def list_rules(request):
    can_see_accounts = scope_for(request.user).can("hq_admin")
    return {
        "rules": [_rule_out(r) for r in Rule.objects.all()],
        "aliases": [{"id": a.pk, "term_a": a.term_a, "term_b": a.term_b} for a in Alias.objects.all()],
        "exclusions": [
            {"id": x.pk, "term": x.term, "rule": x.rule_id, "field": x.field, "note": x.note}
            for x in Exclusion.objects.all()
        ],
        "allow": [
            {
                "id": e.pk,
                "field": e.field,
                "value": e.value
                if can_see_accounts or not e.field.endswith("account")
                else mask_account(e.value),
                "rule": e.rule_id,
                "reason": e.reason,
            }
            for e in AllowEntry.objects.filter(is_active=True)
        ],
    }


@manage_router.post(P + "/rules", response={201: RuleOut}, summary="New rule (head-office admin)")
def create_rule(request, payload: RuleIn):
    _hq(request)
    return Status(201, _rule_out(services.save_rule(actor=request.user, **payload.dict())))


@manage_router.put(
    P + "/rules/{int:rule_id}",
    response={200: RuleOut, 409: Conflict},
    summary="Change a rule (head-office admin; with the revision it is based on, stale: 409)",
)
def update_rule(request, rule_id: int, payload: RulePut):
    _hq(request)
    rule = get_object_or_404(Rule, pk=rule_id)
    return _rule_out(services.save_rule(actor=request.user, instance=rule, **payload.dict()))


@manage_router.delete(
    P + "/rules/{int:rule_id}", response={204: None}, summary="Delete a rule (head-office admin)"
)
def delete_rule(request, rule_id: int):
    _hq(request)
    services.delete_rule(get_object_or_404(Rule, pk=rule_id), actor=request.user)
    return Status(204, None)


@manage_router.post(P + "/rules/aliases", response={201: dict}, summary="New alias pair (head-office admin)")
def create_alias(request, payload: AliasIn):
    _hq(request)
    a = services.create_alias(actor=request.user, **payload.dict())
    return Status(201, {"id": a.pk, "term_a": a.term_a, "term_b": a.term_b})


@manage_router.post(
    P + "/rules/exclusions", response={201: dict}, summary="New exclusion context (head-office admin)"
)
def create_exclusion(request, payload: ExclusionIn):
    _hq(request)
    x = services.create_exclusion(actor=request.user, **payload.dict())
    return Status(201, {"id": x.pk, "term": x.term, "rule": x.rule_id, "field": x.field})


@manage_router.post(
    P + "/rules/allow", response={201: dict}, summary="New allow-list entry (head-office admin)"
)
def create_allow(request, payload: AllowIn):
    _hq(request)
    e = services.create_allow_entry(actor=request.user, **payload.dict())
    return Status(201, {"id": e.pk, "field": e.field, "value": e.value, "rule": e.rule_id})


PARTS = {
    "aliases": (Alias, services.delete_alias),
    "exclusions": (Exclusion, services.delete_exclusion),
    "allow": (AllowEntry, services.delete_allow_entry),
}


@manage_router.delete(
    P + "/rules/{part}/{int:item_id}",
    response={204: None},
    summary="Delete an alias, exclusion or allow-list entry (head-office admin)",
)
def delete_part(request, part: str, item_id: int):
    _hq(request)
    if part not in PARTS:
        raise Http404
    model, delete = PARTS[part]
    delete(get_object_or_404(model, pk=item_id), actor=request.user)
    return Status(204, None)
