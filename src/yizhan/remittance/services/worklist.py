"""The work on a batch: claims, callbacks, decisions and their second check, and the one count of
what is left (worklist, progress, the home page)."""

import datetime
from dataclasses import dataclass, field

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Count, Q
from django.utils import timezone
from django.utils.translation import gettext as _

from yizhan.audit.services import diff, record
from yizhan.core.approval import Approval
from yizhan.core.masking import mask_phone
from yizhan.orgs.models import Unit
from yizhan.orgs.scoping import scope_for, scoped
from yizhan.remittance import importer
from yizhan.remittance.duplicates import propose_keep
from yizhan.remittance.models import (
    CLAIM_TTL,
    Batch,
    Callback,
    Decision,
    DuplicateGroup,
    Instruction,
    Stage,
    State,
)
from yizhan.remittance.services.common import _bool, _require_change, _text, _username
from yizhan.remittance.services.intake import _existing_items

# ---------------------------------------------------------------- the work: claim, call, decide, approve


def _work_state(inst: Instruction) -> dict:
    return {
        "state": inst.state,
        "decision": inst.decision,
        "decision_note": inst.decision_note,
        "claimed_by": _username(inst.claimed_by),
        "decided_by": _username(inst.decided_by),
        "approved_by": _username(inst.approved_by),
    }


def _locked(instruction: Instruction) -> Instruction:
    return Instruction.objects.select_for_update().select_related("batch").get(pk=instruction.pk)


@transaction.atomic
def claim(instruction: Instruction, *, actor) -> Instruction:
    """Lock the item for one caller: a conditional UPDATE, so of two people claiming at once exactly
    one wins (PostgreSQL re-checks the condition after the row lock; SQLite serialises writers)."""
    _require_change(actor)
    now = timezone.now()
    before = Instruction.objects.select_related("claimed_by").get(pk=instruction.pk)
    won = (
        Instruction.objects.filter(pk=instruction.pk, state=State.OPEN)
        .filter(Q(claimed_by__isnull=True) | Q(claimed_by=actor) | Q(claimed_at__lt=now - CLAIM_TTL))
        .update(claimed_by=actor, claimed_at=now)
    )
    inst = Instruction.objects.select_related("claimed_by", "batch", "unit").get(pk=instruction.pk)
    if not won:
        if inst.state != State.OPEN:
            raise ValidationError({"state": _("This instruction is no longer open.")})
        raise ValidationError(
            {
                "claimed_by": _("%(user)s is working on this instruction.")
                % {"user": _username(inst.claimed_by)}
            }
        )
    previous = _username(before.claimed_by) if before.claim_active(now) else None
    record(
        "remittance.instruction.claimed",
        inst,
        actor=actor,
        changes={"claimed_by": [previous, actor.get_username()]} if previous != actor.get_username() else {},
    )
    return inst


@transaction.atomic
def release(instruction: Instruction, *, actor) -> Instruction:
    """The holder lets go; an admin may free an item someone else holds."""
    inst = _locked(instruction)
    if inst.claimed_by_id is None:
        return inst
    if inst.claimed_by_id != actor.pk and not scope_for(actor).can("admin"):
        raise PermissionDenied
    holder = _username(inst.claimed_by)
    inst.claimed_by, inst.claimed_at = None, None
    inst.save(update_fields=["claimed_by", "claimed_at"])
    record("remittance.instruction.released", inst, actor=actor, changes={"claimed_by": [holder, None]})
    return inst


def _holds(inst: Instruction, actor) -> bool:
    return inst.claimed_by_id == getattr(actor, "pk", None) and inst.claim_active()


def clean_callback(data: dict, *, instruction: Instruction) -> dict:
    """The caller states the number dialled (typed, or the one on file explicitly confirmed) and the
    outcome; nothing is assumed, so a log entry always records a call that was made."""
    errors: dict[str, str] = {}
    phone = str(data.get("phone") or "").strip()[:64]
    if not phone:
        if not _bool(data.get("dialled_on_file")):
            errors["phone"] = _(
                "Enter the number you dialled, or confirm that you dialled the number on file."
            )
        elif not instruction.payer_phone:
            errors["dialled_on_file"] = _("There is no number on file; enter the number you dialled.")
        else:
            phone = instruction.payer_phone
    if phone and "phone" not in errors:
        digits = "".join(ch for ch in phone if ch.isdigit())
        if not 5 <= len(digits) <= 20 or len(phone) > 32:
            errors["phone"] = _("Not a phone number.")
    outcome = data.get("outcome")
    if outcome not in Callback.Outcome.values:
        errors["outcome"] = _("Choose what the customer said.")
    now = timezone.now()
    call_back_at = data.get("call_back_at") or None
    if call_back_at is not None and not isinstance(call_back_at, datetime.datetime):
        try:
            call_back_at = importer.parse_datetime(str(call_back_at))
        except ValueError as exc:
            errors["call_back_at"] = str(exc)
            call_back_at = None
    if isinstance(call_back_at, datetime.datetime) and timezone.is_naive(call_back_at):
        call_back_at = timezone.make_aware(call_back_at)
    if outcome == Callback.Outcome.CALL_BACK:
        if call_back_at is None and "call_back_at" not in errors:
            errors["call_back_at"] = _("When should we call back?")
        elif call_back_at is not None and call_back_at <= now:
            errors["call_back_at"] = _("The time to call back must be in the future.")
    elif call_back_at is not None:
        call_back_at = None  # only "call back at …" carries a time
    note = _text(data, "note", errors, limit=500, required=False)
    if errors:
        raise ValidationError(errors)
    return {"phone": phone, "outcome": outcome, "call_back_at": call_back_at, "note": note}


@transaction.atomic
def log_callback(instruction: Instruction, *, actor, **data) -> Callback:
    """Who called whom, when, and what the customer said; renews the caller's claim."""
    _require_change(actor)
    inst = _locked(instruction)
    values = clean_callback(data, instruction=inst)
    if not _holds(inst, actor):
        raise ValidationError({"claimed_by": _("Claim the instruction before you call the customer.")})
    now = timezone.now()
    callback = Callback.objects.create(
        instruction=inst, caller=actor, caller_name=actor.get_username(), called_at=now, **values
    )
    inst.claimed_at = now
    inst.save(update_fields=["claimed_at"])
    record(
        "remittance.callback.logged",
        inst,
        actor=actor,
        changes={
            "outcome": [None, values["outcome"]],
            "phone": [None, mask_phone(values["phone"])],
            "call_back_at": [None, values["call_back_at"]],
            "note": [None, values["note"]],
        },
    )
    return callback


def clean_decision(data: dict) -> dict:
    errors: dict[str, str] = {}
    decision = data.get("decision")
    if decision not in Decision.values:
        errors["decision"] = _("Choose process now, delete as duplicate or leave as scheduled.")
    note = _text(data, "note", errors, limit=500, required=False)
    if errors:
        raise ValidationError(errors)
    return {"decision": decision, "note": note}


def _lock_group(instruction: Instruction) -> list[Instruction]:
    """Lock every member of the instruction's group in pk order (the one order every verb uses)."""
    group_id = Instruction.objects.filter(pk=instruction.pk).values_list("dup_group_id", flat=True).first()
    if group_id is None:
        return []
    return list(Instruction.objects.select_for_update().filter(dup_group_id=group_id).order_by("pk"))


def _group_keeps_one_blocker(inst: Instruction, members: list[Instruction]) -> str | None:
    if inst.dup_group_id is None:
        return _("Only an instruction in a duplicate group can be deleted as a duplicate.")
    others = [
        m
        for m in members
        if m.pk != inst.pk
        and not (m.decision == Decision.DELETE_DUPLICATE and m.state in (State.PENDING, State.DECIDED))
    ]
    if not others:
        return _("Every other instruction of this group is deleted already; one must stay.")
    return None


def _check_group_keeps_one(inst: Instruction, members: list[Instruction]) -> None:
    blocker = _group_keeps_one_blocker(inst, members)
    if blocker:
        raise ValidationError({"decision": blocker})


def _refresh_keep(inst: Instruction) -> None:
    """A decision changes which member of its group should be kept (the one being processed)."""
    if inst.dup_group_id is None:
        return
    items = _existing_items(inst.batch, dup_group_id=inst.dup_group_id)
    keep = items[propose_keep(items, range(len(items)))].key
    DuplicateGroup.objects.filter(pk=inst.dup_group_id).update(keep_id=keep)


def _processed_twice_blocker(inst: Instruction) -> str | None:
    """Core banking exported some instructions twice: one instruction id is processed once at most."""
    twin = (
        Instruction.objects.filter(
            batch_id=inst.batch_id,
            instruction_id=inst.instruction_id,
            decision=Decision.PROCESS_NOW,
            state__in=(State.PENDING, State.DECIDED),
        )
        .exclude(pk=inst.pk)
        .exists()
    )
    if twin:
        return _(
            "Another copy of this instruction id is already being processed; delete this one as a duplicate."
        )
    return None


def decision_blocker(
    inst: Instruction, decision: str, members: list[Instruction] | None = None
) -> str | None:
    """Why `decision` cannot be recorded for this open instruction now, or None if it can: the one
    rule behind `decide` and behind the choices the page and the API offer."""
    if decision == Decision.PROCESS_NOW:
        last = inst.callbacks.order_by("-called_at", "-pk").first()
        if last is None or last.outcome != Callback.Outcome.CONFIRMED:
            return _("Processing now needs a callback in which the customer confirmed.")
        return _processed_twice_blocker(inst)
    if decision == Decision.DELETE_DUPLICATE:
        if members is None:
            members = (
                list(Instruction.objects.filter(dup_group_id=inst.dup_group_id)) if inst.dup_group_id else []
            )
        return _group_keeps_one_blocker(inst, members)
    return None


@dataclass
class Actions:
    """What the user may do with one instruction now; the page shows only these, the API lists them."""

    claim: bool = False
    release: bool = False
    call: bool = False
    decisions: list = field(default_factory=list)  # Decision values that can be recorded now
    unavailable: dict = field(default_factory=dict)  # Decision value -> why not (while holding the claim)
    approve: bool = False
    reject: bool = False
    reopen: bool = False

    def as_dict(self) -> dict:
        return {
            "claim": self.claim,
            "release": self.release,
            "call": self.call,
            "decisions": list(self.decisions),
            "unavailable_decisions": dict(self.unavailable),
            "approve": self.approve,
            "reject": self.reject,
            "reopen": self.reopen,
        }


def available_actions(inst: Instruction, actor) -> Actions:
    """The same checks as the verbs (claim, release, log_callback, decide, approve, reject, reopen)."""
    scope = scope_for(actor)
    actions = Actions()
    if not scope.can("change"):
        return actions
    if inst.state == State.OPEN:
        active = inst.claim_active()
        holds = _holds(inst, actor)
        actions.claim = not active
        actions.release = active and (holds or scope.can("admin"))
        actions.call = holds
        if holds:
            for decision in Decision.values:
                blocker = decision_blocker(inst, decision)
                if blocker:
                    actions.unavailable[decision] = blocker
                else:
                    actions.decisions.append(decision)
    elif inst.state == State.PENDING:
        actions.reject = True
        actions.approve = inst.decided_by_id != actor.pk and not (
            inst.decision == Decision.DELETE_DUPLICATE
            and _group_keeps_one_blocker(
                inst, list(Instruction.objects.filter(dup_group_id=inst.dup_group_id))
            )
        )
    elif inst.state == State.DECIDED:
        actions.reopen = scope.can("admin") and inst.exported_at is None
    return actions


# The one maker-checker mechanism (core.approval): the maker is who decided, the checker approves.
INSTRUCTIONS = Approval(
    pending=State.PENDING,
    maker="decided_by",
    checker="approved_by",
    checked_at="approved_at",
    error_field="decision",
)


def needs_approval(inst: Instruction, decision: str) -> bool:
    return decision in (Decision.PROCESS_NOW, Decision.DELETE_DUPLICATE) and INSTRUCTIONS.required(
        inst.amount, inst.batch.approval_threshold
    )


@transaction.atomic
def decide(instruction: Instruction, *, actor, **data) -> Instruction:
    """Process now, delete as duplicate or leave as scheduled; above the batch's threshold the first
    two wait for a second person (maker-checker)."""
    _require_change(actor)
    values = clean_decision(data)
    members = _lock_group(instruction) if values["decision"] == Decision.DELETE_DUPLICATE else []
    inst = _locked(instruction)
    if inst.state != State.OPEN:
        raise ValidationError({"decision": _("This instruction has a decision already.")})
    if not _holds(inst, actor):
        raise ValidationError({"claimed_by": _("Claim the instruction before you decide.")})
    blocker = decision_blocker(inst, values["decision"], members)
    if blocker:
        raise ValidationError({"decision": blocker})
    before = _work_state(inst)
    now = timezone.now()
    inst.decision = values["decision"]
    inst.decision_note = values["note"]
    inst.decided_by, inst.decided_at = actor, now
    inst.approved_by, inst.approved_at = None, None
    inst.state = State.PENDING if needs_approval(inst, values["decision"]) else State.DECIDED
    inst.claimed_by, inst.claimed_at = None, None
    inst.save()
    _refresh_keep(inst)
    record("remittance.instruction.decided", inst, actor=actor, changes=diff(before, _work_state(inst)))
    return inst


@transaction.atomic
def approve(instruction: Instruction, *, actor) -> Instruction:
    """The checker confirms a decision above the threshold; the maker may not check their own."""
    _require_change(actor)
    current = Instruction.objects.filter(pk=instruction.pk).values_list("decision", flat=True).first()
    # Group members are locked before the instruction, in the one order every verb uses.
    members = _lock_group(instruction) if current == Decision.DELETE_DUPLICATE else []

    def keeps_one(inst: Instruction) -> None:
        if inst.decision == Decision.DELETE_DUPLICATE:
            _check_group_keeps_one(inst, members)

    return INSTRUCTIONS.approve(
        instruction,
        actor=actor,
        to=State.DECIDED,
        action="remittance.instruction.approved",
        own=_("You made this decision; a second person must approve it."),
        check=keeps_one,
        snapshot=_work_state,
    )


@transaction.atomic
def reject(instruction: Instruction, *, actor, note: str = "") -> Instruction:
    """Send a decision awaiting approval back to the worklist (the maker may withdraw it too)."""
    _require_change(actor)
    errors: dict[str, str] = {}
    note = _text({"note": note}, "note", errors, limit=500, required=False)
    if errors:
        raise ValidationError(errors)
    inst = _locked(instruction)
    if inst.state != State.PENDING:
        raise ValidationError({"decision": _("This instruction is not awaiting approval.")})
    before = _work_state(inst)
    _clear_decision(inst)
    inst.save()
    _refresh_keep(inst)
    record(
        "remittance.instruction.rejected",
        inst,
        actor=actor,
        changes={**diff(before, _work_state(inst)), "reason": [None, note]},
    )
    return inst


def _clear_decision(inst: Instruction) -> None:
    inst.state = State.OPEN
    inst.decision, inst.decision_note = "", ""
    inst.decided_by, inst.decided_at = None, None
    inst.approved_by, inst.approved_at = None, None


@transaction.atomic
def reopen(instruction: Instruction, *, actor, note: str = "") -> Instruction:
    """An admin takes back a final decision that has not gone to core banking yet."""
    if actor is not None and not scope_for(actor).can("admin"):
        raise PermissionDenied
    errors: dict[str, str] = {}
    note = _text({"note": note}, "note", errors, limit=500)
    if errors:
        raise ValidationError(errors)
    inst = _locked(instruction)
    if inst.state != State.DECIDED:
        raise ValidationError({"decision": _("Only a final decision can be reopened.")})
    if inst.exported_at is not None:
        raise ValidationError({"decision": _("This decision has gone to core banking already.")})
    before = _work_state(inst)
    _clear_decision(inst)
    inst.save()
    _refresh_keep(inst)
    record(
        "remittance.instruction.reopened",
        inst,
        actor=actor,
        changes={**diff(before, _work_state(inst)), "reason": [None, note]},
    )
    return inst


@dataclass
class WorkCounts:
    """Instructions that need a look, by stage (models.Stage): the figures of every count page."""

    unclaimed: int = 0
    calling: int = 0
    pending: int = 0
    decided: int = 0

    @property
    def total(self) -> int:  # NEED_A_LOOK
        return self.unclaimed + self.calling + self.pending + self.decided

    @property
    def unfinished(self) -> int:  # UNFINISHED
        return self.unclaimed + self.calling + self.pending

    @property
    def outstanding(self) -> int:
        return self.unfinished

    def add(self, other: "WorkCounts") -> None:
        self.unclaimed += other.unclaimed
        self.calling += other.calling
        self.pending += other.pending
        self.decided += other.decided

    def as_dict(self) -> dict:
        return {
            "need_a_look": self.total,
            "unclaimed": self.unclaimed,
            "calling": self.calling,
            "pending_approval": self.pending,
            "decided": self.decided,
            "unfinished": self.unfinished,
        }


def stage_q(stage: str, now=None) -> Q:
    """The filter of one stage (models.Stage), or of `unfinished`; the worklist and the counts share it."""
    live = Q(claimed_by__isnull=False, claimed_at__gte=(now or timezone.now()) - CLAIM_TTL)
    if stage == Stage.UNCLAIMED:
        return Q(state=State.OPEN) & ~live
    if stage == Stage.CALLING:
        return Q(state=State.OPEN) & live
    if stage == Stage.PENDING:
        return Q(state=State.PENDING)
    if stage == Stage.DECIDED:
        return Q(state=State.DECIDED)
    if stage == "unfinished":
        return ~Q(state=State.DECIDED)
    raise ValueError(stage)


def count_work(scope, batches, *, by: str = "batch", at: Unit | None = None) -> dict:
    """The one count of the green channel: flagged instructions of the user's subtree (optionally
    below `at`) by stage, grouped by batch id (`by="batch"`) or by unit path (`by="unit__path"`)."""
    qs = scoped(scope, Instruction).filter(batch__in=batches, flagged=True)
    if at is not None:
        qs = qs.filter(unit__path__startswith=at.path)
    now = timezone.now()
    rows = (
        qs.values(by)
        .annotate(
            unclaimed=Count("pk", filter=stage_q(Stage.UNCLAIMED, now)),
            calling=Count("pk", filter=stage_q(Stage.CALLING, now)),
            pending=Count("pk", filter=stage_q(Stage.PENDING, now)),
            decided=Count("pk", filter=stage_q(Stage.DECIDED, now)),
        )
        .order_by()
    )
    return {
        row[by]: WorkCounts(row["unclaimed"], row["calling"], row["pending"], row["decided"]) for row in rows
    }


WORKLIST_SHOW = ("flagged", "hits", "duplicates", "all")
WORKLIST_STAGES = ("unfinished", *Stage.values, "any")


def worklist(
    scope, batch: Batch, *, show: str = "flagged", stage: str = "unfinished", unit: Unit | None = None
):
    """The instructions the worklist shows (page and API): by default what needs a look and is
    unfinished, so its length is the UNFINISHED figure of the batch list, home page and progress."""
    qs = scoped(scope, Instruction).filter(batch=batch)
    if show == "flagged":
        qs = qs.filter(flagged=True)
    elif show == "hits":
        qs = qs.filter(hit_count__gt=0)
    elif show == "duplicates":
        qs = qs.filter(dup_group__isnull=False)
    if stage == "open":  # the state of the model, as earlier links said it
        qs = qs.filter(state=State.OPEN)
    elif stage in WORKLIST_STAGES and stage != "any":
        qs = qs.filter(stage_q(stage))
    if unit is not None:
        qs = qs.filter(unit__path__startswith=unit.path)
    return qs


@dataclass
class ProgressRow:
    unit: Unit
    counts: WorkCounts = field(default_factory=WorkCounts)
    has_children: bool = False


def progress(batch: Batch, scope, at: Unit) -> tuple[ProgressRow, list[ProgressRow]]:
    """Flagged instructions per unit directly below `at` (each with its whole subtree) by stage."""
    by_path = count_work(scope, [batch.pk], by="unit__path", at=at)
    children = list(at.children.order_by("code").annotate(n_children=Count("children")))
    total = ProgressRow(at, has_children=bool(children))
    rows = {child.path: ProgressRow(child, has_children=child.n_children > 0) for child in children}
    for path, counts in by_path.items():
        total.counts.add(counts)
        for p, row in rows.items():
            if path.startswith(p):
                row.counts.add(counts)
    return total, [row for row in rows.values() if row.counts.total]
