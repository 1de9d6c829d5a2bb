"""Staff API of service cases, over the same verbs as the pages. Lists mask personal data; one
case shows it whole to the staff of its unit and admins above (as the page does)."""

import datetime
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _
from ninja import File, Form, Router, Schema, Status
from ninja.files import UploadedFile

from yizhan.cases import services
from yizhan.cases.models import Case, CaseType, RuleProposal
from yizhan.core.boundary import Offset
from yizhan.core.schemas import Conflict
from yizhan.orgs.models import Unit
from yizhan.orgs.scoping import get_for_user, scope_for, scoped

manage_router = Router(tags=["manage: service cases"])
P = "/cases"
CASES = Case.objects.select_related("unit", "station")


class StepOut(Schema):
    step: str
    label: str
    due_on: datetime.date
    done_at: datetime.datetime | None
    note: str


class CaseOut(Schema):
    id: int
    unit: str
    station: str | None
    case_type: str
    title: str
    person_name: str
    person_phone: str
    need: str | None  # null where the reader may not see it
    personal_data_masked: bool
    opened_at: datetime.datetime
    due_on: datetime.date
    overdue: bool
    status: str
    outcome: str
    amount_protected: Decimal | None
    police_reference: str
    summary: str
    revision: int
    steps: list[StepOut] | None = None


def case_out(case: Case, *, whole: bool, steps: bool = False) -> dict:
    out = {
        "id": case.pk,
        "unit": case.unit.code,
        "station": case.station.code if case.station else None,
        "case_type": case.case_type,
        "title": case.title,
        "person_name": case.person_name if whole else case.masked_name,
        "person_phone": case.person_phone if whole else case.masked_phone,
        "need": case.need if whole else None,
        "personal_data_masked": not whole,
        "opened_at": case.opened_at,
        "due_on": case.due_on,
        "overdue": case.is_overdue(),
        "status": case.status,
        "outcome": case.outcome,
        "amount_protected": case.amount_protected,
        "police_reference": case.police_reference,
        "summary": case.summary,
        "revision": case.revision,
    }
    if steps:
        out["steps"] = [
            {"step": s.code, "label": s.label, "due_on": s.due_on, "done_at": s.done_at, "note": s.note}
            for s in case.steps.all()
        ]
    return out


def _detail(request, case: Case) -> dict:
    case = CASES.get(pk=case.pk)
    return case_out(case, whole=case.shows_person_to(scope_for(request.user)), steps=True)


def _case(request, case_id: int, perm: str = "read") -> Case:
    return get_for_user(request.user, CASES, perm, pk=case_id)


@manage_router.get(P, response=list[CaseOut], summary="Service cases of your subtree (personal data masked)")
def list_cases(
    request, status: str = "open", case_type: str = "", unit: str = "", limit: int = 100, offset: Offset = 0
):
    """`status`: open (default), overdue, closed or all; `case_type`: one of the types."""
    limit = max(1, min(limit, 500))
    cases = scoped(request.user, CASES)
    if unit:
        cases = cases.filter(unit__path__startswith=get_for_user(request.user, Unit, code=unit).path)
    if status == "open":
        cases = cases.open()
    elif status == "overdue":
        cases = cases.overdue()
    elif status == "closed":
        cases = cases.filter(status="closed")
    elif status != "all":
        raise ValidationError({"status": _("Use open, overdue, closed or all.")})
    if case_type:
        if case_type not in CaseType.values:
            services.clean_case_type(case_type)
        cases = cases.filter(case_type=case_type)
    return [case_out(c, whole=False) for c in cases.order_by("due_on", "pk")[offset : offset + limit]]


class CaseIn(Schema):
    unit: str
    case_type: str
    title: str
    person_name: str = ""
    person_phone: str = ""
    need: str = ""
    station: str | None = None
    amount_protected: str | None = None  # a decimal as text ("38000.00"), never a float
    police_reference: str = ""


@manage_router.post(P, response={201: CaseOut}, summary="Open a service case with the steps of its type")
def open_case(request, payload: CaseIn):
    data = payload.dict()
    unit = scoped(request.user, Unit).filter(code=data.pop("unit")[:40]).first()
    if unit is None:
        raise ValidationError({"unit": _("No unit with this code in your scope.")})
    case = services.open_case(actor=request.user, unit=unit, **data)
    return Status(201, _detail(request, case))


@manage_router.get(
    P + "/figures", response=dict, summary="Cases by type and amounts protected in a unit's subtree"
)
def case_figures(request, unit: str = "", station: str = "", since: datetime.date | None = None):
    """For a unit's subtree (`unit`, by default your own) or for one station's cases (`station`)."""
    from yizhan.stations.models import Station

    if station:
        found = get_for_user(request.user, Station.objects.select_related("unit"), code=station)
        return _figures_out(
            found.unit, services.figures(request.user, found.unit, since=since, station=found)
        )
    target = (
        get_for_user(request.user, Unit, code=unit)
        if unit
        else Unit.objects.get(pk=scope_for(request.user).unit_id)
    )
    return _figures_out(target, services.figures(request.user, target, since=since))


def _figures_out(target, data: dict) -> dict:
    return {
        "unit": target.code,
        "opened": data["opened"],
        "closed": data["closed"],
        "open": data["open"],
        "overdue": data["overdue"],
        "amount_protected": str(data["amount_protected"]),
        "by_type": [
            {k: (str(v) if k == "amount" else v) for k, v in row.items() if k != "label"}
            for row in data["by_type"]
        ],
    }


@manage_router.get(P + "/{case_id}", response=CaseOut, summary="One service case with its steps")
def get_case(request, case_id: int):
    return _detail(request, _case(request, case_id))


class CasePatch(Schema):
    revision: int  # the case's revision the change is based on (from GET); stale: 409
    title: str | None = None
    person_name: str | None = None
    person_phone: str | None = None
    need: str | None = None
    station: str | None = None
    amount_protected: str | None = None
    police_reference: str | None = None


@manage_router.patch(
    P + "/{case_id}",
    response={200: CaseOut, 409: Conflict},
    summary="Change some fields of a case (with the revision it is based on; stale: 409)",
)
def update_case(request, case_id: int, payload: CasePatch):
    case = _case(request, case_id, "change")
    data = payload.dict(exclude_unset=True)
    revision = data.pop("revision")
    services.update_case(case, actor=request.user, revision=revision, **data)
    return _detail(request, case)


class StepIn(Schema):
    revision: int | None = None  # when given, a stale one is 409
    note: str = ""


@manage_router.post(
    P + "/{case_id}/steps/{step}",
    response={200: CaseOut, 409: Conflict},
    summary="Mark a step done (steps are done in their order)",
)
def complete_step(request, case_id: int, step: str, payload: StepIn):
    case = _case(request, case_id, "change")
    services.complete_step(case, actor=request.user, step=step, **payload.dict())
    return _detail(request, case)


class CloseIn(Schema):
    revision: int | None = None
    outcome: str
    summary: str
    amount_protected: str | None = None
    police_reference: str = ""


@manage_router.post(
    P + "/{case_id}/close",
    response={200: CaseOut, 409: Conflict},
    summary="Close a case with its outcome and summary",
)
def close_case(request, case_id: int, payload: CloseIn):
    case = _case(request, case_id, "change")
    services.close_case(case, actor=request.user, **payload.dict())
    return _detail(request, case)


class DocumentOut(Schema):
    id: int
    kind: str
    content_type: str
    size: int
    title: str


@manage_router.post(
    P + "/{case_id}/documents",
    response={201: DocumentOut},
    summary="Attach a photo (JPEG, PNG, WebP: re-encoded) or a PDF, judged by its bytes",
)
def add_document(request, case_id: int, file: File[UploadedFile] = None, title: Form[str] = ""):
    case = _case(request, case_id, "change")
    doc = services.add_document(case, actor=request.user, upload=file, title=title)
    return Status(
        201,
        {
            "id": doc.pk,
            "kind": doc.kind,
            "content_type": doc.content_type,
            "size": doc.size,
            "title": doc.title,
        },
    )


class LinkIn(Schema):
    instruction: int  # the green channel's instruction number (its id in /manage/remittance/i/{id}/)


@manage_router.post(
    P + "/{case_id}/instructions",
    response={201: dict},
    summary="Link a remittance instruction to a fraud case",
)
def link_instruction(request, case_id: int, payload: LinkIn):
    case = _case(request, case_id, "change")
    link = services.link_instruction(case, actor=request.user, instruction=payload.instruction)
    return Status(201, {"case": case.pk, "instruction": link.instruction_id})


class ProposalIn(Schema):
    field: str  # payee_name or purpose
    term: str
    note: str = ""


class ProposalOut(Schema):
    id: int
    case: int
    field: str
    term: str
    state: str
    rule: int | None


def proposal_out(p: RuleProposal) -> dict:
    return {
        "id": p.pk,
        "case": p.case_id,
        "field": p.field,
        "term": p.term,
        "state": p.state,
        "rule": p.rule_id,
    }


@manage_router.post(
    P + "/{case_id}/proposals",
    response={201: ProposalOut},
    summary="Propose a screening rule from a fraud case",
)
def propose_rule(request, case_id: int, payload: ProposalIn):
    case = _case(request, case_id, "change")
    return Status(201, proposal_out(services.propose_rule(case, actor=request.user, **payload.dict())))


class DecideIn(Schema):
    accept: bool


@manage_router.post(
    P + "/proposals/{proposal_id}/decide",
    response=ProposalOut,
    summary="Accept or decline a proposed rule (head office)",
)
def decide_proposal(request, proposal_id: int, payload: DecideIn):
    proposal = get_for_user(request.user, RuleProposal.objects.select_related("case"), "read", pk=proposal_id)
    return proposal_out(services.decide_proposal(proposal, actor=request.user, accept=payload.accept))
