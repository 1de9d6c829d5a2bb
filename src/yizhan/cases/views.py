"""Staff pages of service cases: list, open, case page with its steps and actions, export."""

from django.contrib import messages
from django.core.exceptions import NON_FIELD_ERRORS, ValidationError
from django.core.paginator import Paginator
from django.http import FileResponse, Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from yizhan.audit.services import events_for
from yizhan.cases import documents, services
from yizhan.cases.forms import (
    CaseFilterForm,
    CaseForm,
    CloseForm,
    DecideForm,
    DocumentForm,
    LinkForm,
    ProposalForm,
    StepForm,
)
from yizhan.cases.models import Case, CaseDocument, CaseType, ProposalState, RuleProposal
from yizhan.core.forms import apply_errors
from yizhan.core.tabular import write_csv
from yizhan.orgs.models import Unit
from yizhan.orgs.scoping import get_for_user, scoped, staff_view
from yizhan.stations.models import Station

CASE_QS = Case.objects.select_related("unit", "station")


def _filtered(request):
    form = CaseFilterForm(request.GET or None)
    filters = form.cleaned_data if form.is_valid() else {}
    unit = Unit.objects.get(pk=request.scope.unit_id)
    if filters.get("unit"):
        unit = get_for_user(request.user, Unit, code=filters["unit"])
    cases = scoped(request.user, CASE_QS).filter(unit__path__startswith=unit.path)
    station = None
    if filters.get("station"):
        station = get_for_user(request.user, Station.objects.select_related("unit"), code=filters["station"])
        cases = cases.filter(station=station)
    status = filters.get("status") or "open"
    if status == "open":
        cases = cases.open().order_by("due_on", "pk")
    elif status == "overdue":
        cases = cases.overdue().order_by("due_on", "pk")
    elif status == "closed":
        cases = cases.filter(status="closed").order_by("-closed_at", "-pk")
    if filters.get("case_type"):
        cases = cases.filter(case_type=filters["case_type"])
    return form, unit, station, status, cases


@staff_view("read")
def case_list(request):
    form, unit, station, status, cases = _filtered(request)
    page = Paginator(cases, 50).get_page(request.GET.get("page"))
    return render(
        request,
        "cases/case_list.html",
        {
            "form": form,
            "unit": unit,
            "status": status,
            "page": page,
            "today": timezone.localdate(),
            "station": station,
            "figures": services.figures(request.user, station.unit if station else unit, station=station),
            "types": CaseType.choices,
        },
    )


@staff_view("read")
def case_export(request):
    """The list as CSV, personal data masked for everyone (an export travels)."""
    _form, unit, _station, _status, cases = _filtered(request)
    headers = [
        _("number"), _("unit"), _("case type"), _("title"), _("person"), _("phone"), _("opened at"),
        _("due on"), _("status"), _("outcome"), _("amount protected (CNY)"), _("police reference"),
    ]  # fmt: skip
    rows = (
        [
            c.pk,
            c.unit.name,
            c.get_case_type_display(),
            c.title,
            c.masked_name,
            c.masked_phone,
            timezone.localtime(c.opened_at).strftime("%Y-%m-%d %H:%M"),
            c.due_on.isoformat(),
            c.get_status_display(),
            c.get_outcome_display(),
            f"{c.amount_protected:.2f}" if c.amount_protected is not None else "",
            c.police_reference,
        ]  # fmt: skip
        for c in cases.iterator()
    )
    response = HttpResponse(write_csv(headers, rows), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="cases-{unit.code}.csv"'
    return response


@staff_view("change")
def case_create(request):
    initial = {"unit": Unit.objects.get(pk=request.scope.unit_id).code}
    if request.GET.get("case_type") in CaseType.values:
        initial["case_type"] = request.GET["case_type"]
    form = CaseForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        data = dict(form.cleaned_data)
        unit = scoped(request.user, Unit).filter(code=data.pop("unit")).first()
        try:
            if unit is None:
                raise ValidationError({"unit": _("No unit with this code in your scope.")})
            case = services.open_case(actor=request.user, unit=unit, **data)
        except ValidationError as exc:
            apply_errors(form, exc)
        else:
            messages.success(request, _("Case opened."))
            return redirect("cases:case_detail", pk=case.pk)
    return render(
        request,
        "core/form_page.html",
        {"form": form, "title": _("Open a service case"), "cancel_url": reverse("cases:case_list")},
    )


@staff_view("read")
def case_edit(request, pk):
    case = get_for_user(request.user, CASE_QS, "change", pk=pk)
    initial = {
        "title": case.title,
        "person_name": case.person_name,
        "person_phone": case.person_phone,
        "need": case.need,
        "station": case.station.code if case.station else "",
        "amount_protected": case.amount_protected if case.amount_protected is not None else "",
        "police_reference": case.police_reference,
        "revision": case.revision,
    }
    form = CaseForm(request.POST or None, initial=initial, editing=True)
    if request.method == "POST" and form.is_valid():
        data = dict(form.cleaned_data)
        revision = data.pop("revision")
        try:
            services.update_case(case, actor=request.user, revision=revision, **data)
        except ValidationError as exc:
            apply_errors(form, exc)
        else:
            messages.success(request, _("Saved."))
            return redirect("cases:case_detail", pk=case.pk)
    return render(
        request,
        "core/form_page.html",
        {
            "form": form,
            "title": _("Edit case #%(n)s") % {"n": case.pk},
            "cancel_url": reverse("cases:case_detail", args=[case.pk]),
        },
    )


@staff_view("read")
def case_detail(request, pk):
    case = get_for_user(request.user, CASE_QS, pk=pk)
    steps = list(case.steps.select_related("done_by"))
    next_step = next((s for s in steps if not s.done_at), None)
    whole = case.shows_person_to(request.scope)
    can_change = request.scope.can("change")
    return render(
        request,
        "cases/case_detail.html",
        {
            "case": case,
            "today": timezone.localdate(),
            "steps": steps,
            "next_step": next_step,
            "person_name": case.person_name if whole else case.masked_name,
            "person_phone": case.person_phone if whole else case.masked_phone,
            "need": case.need if whole else "",
            "whole": whole,
            "can_change": can_change,
            "step_form": StepForm(
                initial={"step": next_step.code if next_step else "", "revision": case.revision}
            ),
            "close_form": CloseForm(initial={"revision": case.revision}),
            "document_form": DocumentForm(),
            "link_form": LinkForm(),
            "proposal_form": ProposalForm(),
            "documents": case.documents.all(),
            "links": case.instruction_links.select_related("instruction"),
            "proposals": case.rule_proposals.select_related("rule"),
            "proposed": ProposalState.PROPOSED,
            "events": events_for(request.user, case).order_by("created_at"),
        },
    )


def _errors_to_messages(request, exc_or_form) -> None:
    errors = exc_or_form.errors if hasattr(exc_or_form, "is_bound") else exc_or_form.message_dict
    for field, items in errors.items():
        for message in items:
            messages.error(request, message if field == NON_FIELD_ERRORS else f"{_label(field)}: {message}")


def _label(field: str) -> str:
    try:
        return str(Case._meta.get_field(field).verbose_name)
    except Exception:  # a form-only field (file, instruction, step)
        return {
            "file": _("photo or PDF"),
            "instruction": _("instruction number"),
            "step": _("step"),
            "term": _("keyword"),
            "field": _("field"),
            "note": _("note"),
        }.get(field, field)


def _action(request, pk, form_class, verb, done: str):
    case = get_for_user(request.user, CASE_QS, "change", pk=pk)
    form = form_class(request.POST, request.FILES)
    if not form.is_valid():
        _errors_to_messages(request, form)
    else:
        try:
            verb(case, form.cleaned_data)
        except ValidationError as exc:
            _errors_to_messages(request, exc)
        else:
            messages.success(request, done)
    return redirect("cases:case_detail", pk=case.pk)


@require_POST
@staff_view("read")
def case_step(request, pk):
    return _action(
        request,
        pk,
        StepForm,
        lambda case, d: services.complete_step(case, actor=request.user, **d),
        _("Step done."),
    )


@require_POST
@staff_view("read")
def case_close(request, pk):
    return _action(
        request,
        pk,
        CloseForm,
        lambda case, d: services.close_case(case, actor=request.user, **d),
        _("Case closed."),
    )


@require_POST
@staff_view("read")
def case_document_add(request, pk):
    return _action(
        request,
        pk,
        DocumentForm,
        lambda case, d: services.add_document(case, actor=request.user, upload=d["file"], title=d["title"]),
        _("Attached."),
    )


@require_POST
@staff_view("read")
def case_link(request, pk):
    return _action(
        request,
        pk,
        LinkForm,
        lambda case, d: services.link_instruction(case, actor=request.user, instruction=d["instruction"]),
        _("Instruction linked."),
    )


@require_POST
@staff_view("read")
def case_propose(request, pk):
    return _action(
        request,
        pk,
        ProposalForm,
        lambda case, d: services.propose_rule(case, actor=request.user, **d),
        _("Screening rule proposed; a head-office admin decides."),
    )


@require_POST
@staff_view("hq_admin")
def proposal_decide(request, pk):
    proposal = get_for_user(request.user, RuleProposal.objects.select_related("case"), "admin", pk=pk)
    form = DecideForm(request.POST)
    if not form.is_valid():
        _errors_to_messages(request, form)
    else:
        try:
            services.decide_proposal(
                proposal, actor=request.user, accept=form.cleaned_data["accept"] == "yes"
            )
        except ValidationError as exc:
            _errors_to_messages(request, exc)
        else:
            messages.success(request, _("Decided."))
    return redirect("cases:case_detail", pk=proposal.case_id)


@staff_view("read")
def case_document(request, pk, doc):
    case = get_for_user(request.user, Case, pk=pk)
    document = CaseDocument.objects.filter(case=case, pk=doc).first()
    if document is None:
        raise Http404
    try:
        handle = documents.open_document(document.path)
    except FileNotFoundError as exc:
        raise Http404 from exc
    response = FileResponse(handle, content_type=document.content_type)
    response["X-Content-Type-Options"] = "nosniff"
    response["Content-Security-Policy"] = "default-src 'none'"
    if document.kind == "pdf":
        response["Content-Disposition"] = f'attachment; filename="case-{case.pk}-{document.pk}.pdf"'
    return response
