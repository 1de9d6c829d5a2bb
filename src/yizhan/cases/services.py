"""The verbs of service cases: open, edit, do a step, close, attach, link, propose a rule.

Each validates with the `clean_*` functions shared by the forms and the API, runs in one
transaction, and records an audit event (personal data in the diff masked, as in lists).
"""

import datetime
import re
from decimal import Decimal, InvalidOperation

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Count, Q, Sum
from django.utils import timezone
from django.utils.translation import gettext as _

from yizhan.audit.services import record
from yizhan.cases import documents
from yizhan.cases.models import (
    TEMPLATES,
    Case,
    CaseDocument,
    CaseStep,
    CaseType,
    LinkedInstruction,
    Outcome,
    ProposalState,
    RuleProposal,
    Status,
    mask_name,
)
from yizhan.core import concurrency
from yizhan.core.masking import mask_phone
from yizhan.orgs.scoping import require, scope_for, scoped
from yizhan.stations import hours

MAX_AMOUNT = Decimal("1000000000000")  # a trillion yuan: anything above is a typo
PHONE_RE = re.compile(r"^\+?[0-9][0-9 \-]{3,24}$")
EDIT_FIELDS = [
    "title",
    "person_name",
    "person_phone",
    "need",
    "station",
    "amount_protected",
    "police_reference",
]
PERSONAL = {"person_name": mask_name, "person_phone": mask_phone, "need": lambda v: "***" if v else ""}
# Outcomes that end a case before its steps are all done: nothing more is to be done.
EARLY_OUTCOMES = {Outcome.REFERRED, Outcome.WITHDRAWN}


# --- validation -----------------------------------------------------------------------------------


def _text(data: dict, name: str, errors: dict, *, limit: int, required: bool = False) -> str:
    text = str(data.get(name) or "").strip()
    if required and not text:
        errors[name] = _("This field is required.")
    elif len(text) > limit:
        errors[name] = _("At most %(n)s characters (this is %(len)s).") % {"n": limit, "len": len(text)}
    return text


def clean_case_type(value) -> str:
    code = str(value or "").strip()
    if code not in CaseType.values:
        raise ValidationError(
            {
                "case_type": _("Unknown case type: %(value)s. Use one of: %(known)s.")
                % {"value": code[:40] or "—", "known": ", ".join(CaseType.values)}
            }
        )
    return code


def clean_amount(value, field: str = "amount_protected") -> Decimal | None:
    """A positive amount of yuan with at most two decimals, or None when left empty."""
    if value in (None, ""):
        return None
    message = _("Enter a positive amount in yuan, with at most two decimals (for example 38000.00).")
    if isinstance(value, bool):
        raise ValidationError({field: message})
    try:
        amount = Decimal(str(value).strip().replace(",", ""))
    except (InvalidOperation, ValueError):
        raise ValidationError({field: message}) from None
    if not amount.is_finite() or amount <= 0 or amount >= MAX_AMOUNT or amount.as_tuple().exponent < -2:
        raise ValidationError({field: message})
    return amount.quantize(Decimal("0.01"))


def clean_phone(value, field: str = "person_phone") -> str:
    phone = str(value or "").strip()
    if phone and (not PHONE_RE.match(phone) or not 5 <= sum(c.isdigit() for c in phone) <= 20):
        raise ValidationError({field: _("Give a phone number (digits, spaces or hyphens).")})
    return phone


def _station(unit, value, errors: dict):
    from yizhan.stations.models import Station

    if value in (None, ""):
        return None
    if isinstance(value, Station):
        station = value
    else:
        station = Station.objects.filter(code=str(value).strip()[:64]).select_related("unit").first()
    if station is None or not station.unit.path.startswith(unit.path):
        errors["station"] = _("No station with this code in the case's unit.")
        return None
    return station


def clean_case(data: dict, *, unit, partial: bool = False) -> dict:
    """The case's own fields; with `partial`, only the fields given (an edit)."""
    errors: dict = {}
    out: dict = {}

    def wanted(name):
        return not partial or name in data

    if wanted("title"):
        out["title"] = _text(data, "title", errors, limit=200, required=True)
    if wanted("person_name"):
        out["person_name"] = _text(data, "person_name", errors, limit=50)
    if wanted("person_phone"):
        try:
            out["person_phone"] = clean_phone(_text(data, "person_phone", errors, limit=32))
        except ValidationError as exc:
            errors.update({k: v[0] for k, v in exc.message_dict.items()})
    if wanted("need"):
        out["need"] = _text(data, "need", errors, limit=2000)
    if wanted("station"):
        out["station"] = _station(unit, data.get("station"), errors)
    if wanted("amount_protected"):
        try:
            out["amount_protected"] = clean_amount(data.get("amount_protected"))
        except ValidationError as exc:
            errors.update({k: v[0] for k, v in exc.message_dict.items()})
    if wanted("police_reference"):
        out["police_reference"] = _text(data, "police_reference", errors, limit=64)
    if errors:
        raise ValidationError(errors)
    return out


def _masked(changes: dict) -> dict:
    return {
        k: [PERSONAL[k](v[0]) or None, PERSONAL[k](v[1]) or None] if k in PERSONAL else v
        for k, v in changes.items()
    }


def _value(value):
    return getattr(value, "code", value)


# --- deadlines ------------------------------------------------------------------------------------


def step_deadlines(
    case_type: str, opened_on: datetime.date, calendar=None
) -> list[tuple[str, datetime.date]]:
    """Each step's due date: its working days after the day the case was opened (the shared
    working-day helper: holidays skipped, make-up workdays counted)."""
    return [
        (step.code, hours.add_working_days(opened_on, step.days, calendar) if step.days else opened_on)
        for step in TEMPLATES[case_type]
    ]


# --- verbs ----------------------------------------------------------------------------------------


def _require_change_on(actor, unit) -> None:
    scope = require(actor, "change")
    if not scope.covers(unit.path):
        raise ValidationError({"unit": _("No unit with this code in your scope.")})


def open_case(*, actor, unit, case_type, opened_at: datetime.datetime | None = None, **data) -> Case:
    """A new case at `unit`, with the steps of its type and their deadlines."""
    _require_change_on(actor, unit)
    errors = {}
    try:
        case_type = clean_case_type(case_type)
    except ValidationError as exc:
        errors.update({k: v[0] for k, v in exc.message_dict.items()})
    try:
        values = clean_case(data, unit=unit)
    except ValidationError as exc:
        errors.update({k: v[0] for k, v in exc.message_dict.items()})
    if errors:
        raise ValidationError(errors)
    opened_at = opened_at or timezone.now()
    deadlines = step_deadlines(case_type, timezone.localtime(opened_at).date())
    with transaction.atomic():
        case = Case.objects.create(
            unit=unit,
            case_type=case_type,
            opened_at=opened_at,
            due_on=deadlines[-1][1],
            created_by=actor,
            **values,
        )
        CaseStep.objects.bulk_create(
            CaseStep(case=case, position=i, code=code, due_on=due) for i, (code, due) in enumerate(deadlines)
        )
        changes = {k: [None, _value(v)] for k, v in values.items() if v not in (None, "")}
        changes.update({"case_type": [None, case_type], "due_on": [None, case.due_on]})
        record("case.opened", case, actor=actor, unit=unit, changes=_masked(changes))
    return case


def _locked(case: Case) -> Case:
    return Case.objects.select_for_update().select_related("unit").get(pk=case.pk)


def update_case(case: Case, *, actor, revision=None, **data) -> Case:
    unknown = set(data) - set(EDIT_FIELDS)
    if unknown:
        raise ValidationError({sorted(unknown)[0]: _("This field cannot be changed here.")})
    with transaction.atomic():
        case = _locked(case)
        _require_change_on(actor, case.unit)
        concurrency.check(case, revision, actor=actor)
        values = clean_case(data, unit=case.unit, partial=True)
        changes = {}
        for name, value in values.items():
            old = getattr(case, name)
            if old != value:
                changes[name] = [_value(old), _value(value)]
                setattr(case, name, value)
        if not changes:
            return case
        concurrency.advance(case, changes, actor=actor)
        case.save()
        record("case.updated", case, actor=actor, unit=case.unit, changes=_masked(changes))
    return case


def complete_step(case: Case, *, actor, step, note: str = "", revision=None, now=None) -> CaseStep:
    """Mark a step done; the steps of a case are done in their order. (`now`: the demo's past.)"""
    with transaction.atomic():
        case = _locked(case)
        _require_change_on(actor, case.unit)
        concurrency.check(case, revision, actor=actor)
        if not case.is_open:
            raise ValidationError({"step": _("The case is closed; its steps cannot change.")})
        errors: dict = {}
        note = _text({"note": note}, "note", errors, limit=500)
        if errors:
            raise ValidationError(errors)
        steps = list(case.steps.order_by("position"))
        target = next((s for s in steps if s.code == str(step or "").strip()), None)
        if target is None:
            raise ValidationError(
                {
                    "step": _("Unknown step: %(value)s. This case's steps: %(known)s.")
                    % {"value": str(step or "")[:40] or "—", "known": ", ".join(s.code for s in steps)}
                }
            )
        if target.done_at:
            raise ValidationError({"step": _("“%(step)s” is done already.") % {"step": target.label}})
        pending = next((s for s in steps if s.position < target.position and not s.done_at), None)
        if pending is not None:
            raise ValidationError(
                {
                    "step": _("Steps are done in order: first “%(first)s”, then “%(step)s”.")
                    % {"first": pending.label, "step": target.label}
                }
            )
        target.done_at, target.done_by, target.note = now or timezone.now(), actor, note
        target.save(update_fields=["done_at", "done_by", "note"])
        changes = concurrency.advance(case, {"step": [None, target.code]}, actor=actor)
        if note:
            changes["note"] = [None, note]
        record("case.step_done", case, actor=actor, unit=case.unit, changes=changes)
    return target


def clean_closure(case: Case, data: dict) -> dict:
    errors: dict = {}
    outcome = str(data.get("outcome") or "").strip()
    if outcome not in Outcome.values:
        errors["outcome"] = _("Choose the outcome.")
    summary = _text(data, "summary", errors, limit=4000, required=True)
    amount = case.amount_protected
    if data.get("amount_protected") not in (None, ""):
        try:
            amount = clean_amount(data.get("amount_protected"))
        except ValidationError as exc:
            errors.update({k: v[0] for k, v in exc.message_dict.items()})
    police = _text(data, "police_reference", errors, limit=64) or case.police_reference
    if outcome == Outcome.PROTECTED and case.case_type != CaseType.FRAUD:
        errors["outcome"] = _("Only a fraud case can end with the money kept.")
    if outcome == Outcome.PROTECTED and amount is None and "amount_protected" not in errors:
        errors["amount_protected"] = _("Give the amount protected.")
    if outcome and outcome not in EARLY_OUTCOMES and "outcome" not in errors:
        pending = case.steps.filter(done_at__isnull=True).order_by("position").first()
        if pending is not None:
            errors["outcome"] = _(
                "“%(step)s” is not done yet; do it first or close as referred or withdrawn."
            ) % {"step": pending.label}
    if errors:
        raise ValidationError(errors)
    return {"outcome": outcome, "summary": summary, "amount_protected": amount, "police_reference": police}


def close_case(case: Case, *, actor, revision=None, now=None, **data) -> Case:
    with transaction.atomic():
        case = _locked(case)
        _require_change_on(actor, case.unit)
        concurrency.check(case, revision, actor=actor)
        if not case.is_open:
            raise ValidationError({"status": _("The case is closed already.")})
        values = clean_closure(case, data)
        changes = {"status": [case.status, Status.CLOSED]}
        for name, value in values.items():
            if getattr(case, name) != value:
                changes[name] = [getattr(case, name), value]
                setattr(case, name, value)
        case.status, case.closed_at, case.closed_by = Status.CLOSED, now or timezone.now(), actor
        concurrency.advance(case, changes, actor=actor)
        case.save()
        record("case.closed", case, actor=actor, unit=case.unit, changes=changes)
    return case


def add_document(case: Case, *, actor, upload, title: str = "") -> CaseDocument:
    """A photo or PDF: its bytes decide what it is, never its name; removed again if the write fails."""
    _require_change_on(actor, case.unit)
    errors: dict = {}
    title = _text({"title": title}, "title", errors, limit=100)
    if errors:
        raise ValidationError(errors)
    kind, content_type, data = documents.clean_document(upload)
    path = documents.store(data, kind)
    try:
        with transaction.atomic():
            doc = CaseDocument.objects.create(
                case=case,
                kind=kind,
                path=path,
                content_type=content_type,
                size=len(data),
                title=title,
                uploaded_by=actor,
            )
            record(
                "case.document_added",
                case,
                actor=actor,
                unit=case.unit,
                changes={
                    "document": [None, f"{doc.get_kind_display()} {title}".strip()],
                    "size": [None, len(data)],
                },
            )
    except Exception:
        documents.delete(path)
        raise
    return doc


def link_instruction(case: Case, *, actor, instruction) -> LinkedInstruction:
    """Tie a green-channel instruction in the actor's scope to a fraud case."""
    from yizhan.remittance.models import Instruction

    _require_change_on(actor, case.unit)
    if case.case_type != CaseType.FRAUD:
        raise ValidationError({"instruction": _("Only a fraud case links remittance instructions.")})
    try:
        pk = int(getattr(instruction, "pk", instruction))
    except (TypeError, ValueError):
        pk = None
    found = scoped(actor, Instruction).filter(pk=pk).first() if pk and 0 < pk < 2**63 else None
    if found is None:
        raise ValidationError({"instruction": _("No remittance instruction with this number in your scope.")})
    with transaction.atomic():
        link, created = LinkedInstruction.objects.get_or_create(
            case=case, instruction=found, defaults={"linked_by": actor}
        )
        if not created:
            raise ValidationError({"instruction": _("This instruction is linked to the case already.")})
        record(
            "case.instruction_linked",
            case,
            actor=actor,
            unit=case.unit,
            changes={"instruction": [None, found.instruction_id]},
        )
    return link


def propose_rule(case: Case, *, actor, field, term, note: str = "") -> RuleProposal:
    """A keyword the fraudsters used (a payee, a purpose), checked as the green channel checks a
    rule, waiting for a head-office admin to accept it."""
    from yizhan.remittance.services import clean_rule

    _require_change_on(actor, case.unit)
    if case.case_type != CaseType.FRAUD:
        raise ValidationError({"term": _("Only a fraud case proposes screening rules.")})
    values = clean_rule({"field": field, "term": term, "note": note})
    if RuleProposal.objects.filter(
        field=values["field"], term=values["term"], state=ProposalState.PROPOSED
    ).exists():
        raise ValidationError({"term": _("This keyword is proposed already and awaits a decision.")})
    with transaction.atomic():
        proposal = RuleProposal.objects.create(
            case=case, field=values["field"], term=values["term"], note=values["note"], proposed_by=actor
        )
        record(
            "case.rule_proposed",
            case,
            actor=actor,
            unit=case.unit,
            changes={"field": [None, values["field"]], "term": [None, values["term"]]},
        )
    return proposal


def decide_proposal(proposal: RuleProposal, *, actor, accept: bool) -> RuleProposal:
    """A head-office admin accepts (the rule is created in the green channel) or declines."""
    from yizhan.remittance.services import save_rule

    if not scope_for(actor).can("hq_admin"):
        raise PermissionDenied
    with transaction.atomic():
        proposal = RuleProposal.objects.select_for_update().select_related("case__unit").get(pk=proposal.pk)
        if proposal.state != ProposalState.PROPOSED:
            raise ValidationError({"state": _("This proposal has been decided already.")})
        if accept:
            proposal.rule = save_rule(
                actor=actor,
                field=proposal.field,
                term=proposal.term,
                category=_("anti-fraud"),
                note=(proposal.note or _("Proposed by service case #%(n)s") % {"n": proposal.case_id})[:200],
            )
        proposal.state = ProposalState.ACCEPTED if accept else ProposalState.DECLINED
        proposal.decided_at, proposal.decided_by = timezone.now(), actor
        proposal.save()
        record(
            "case.rule_accepted" if accept else "case.rule_declined",
            proposal.case,
            actor=actor,
            unit=proposal.case.unit,
            changes={
                "term": [proposal.term, proposal.term],
                "state": [ProposalState.PROPOSED, proposal.state],
            },
        )
    return proposal


# --- figures --------------------------------------------------------------------------------------


def figures(user_or_scope, unit, *, since: datetime.date | None = None, station=None) -> dict:
    """The "我为群众办实事" figures: cases in the unit's subtree (or of one station) by type
    (opened, closed), and amounts protected."""
    cases = scoped(user_or_scope, Case).filter(unit__path__startswith=unit.path)
    if station is not None:
        cases = cases.filter(station=station)
    if since is not None:
        cases = cases.filter(opened_at__date__gte=since)
    rows = {
        r["case_type"]: r
        for r in cases.values("case_type")
        .annotate(
            opened=Count("pk"),
            closed=Count("pk", filter=Q(status=Status.CLOSED)),
            amount=Sum("amount_protected", filter=Q(status=Status.CLOSED, outcome=Outcome.PROTECTED)),
        )
        .order_by()
    }
    by_type = [
        {
            "case_type": code,
            "label": label,
            "opened": rows.get(code, {}).get("opened", 0),
            "closed": rows.get(code, {}).get("closed", 0),
            "amount": rows.get(code, {}).get("amount") or Decimal("0.00"),
        }
        for code, label in CaseType.choices
    ]
    return {
        "by_type": by_type,
        "opened": sum(r["opened"] for r in by_type),
        "closed": sum(r["closed"] for r in by_type),
        "open": cases.open().count(),
        "overdue": cases.overdue().count(),
        "amount_protected": sum((r["amount"] for r in by_type), Decimal("0.00")),
    }
