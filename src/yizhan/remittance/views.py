"""Back-office pages of the green channel. They translate HTTP only; the work is in services."""

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.db.models import Count, Prefetch, Q
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from yizhan.audit.services import events_for
from yizhan.core.forms import apply_errors
from yizhan.jobs.models import Job
from yizhan.orgs.models import Unit
from yizhan.orgs.scoping import get_for_user, scoped, staff_view
from yizhan.remittance import forms, importer, jobs, services
from yizhan.remittance.models import (
    CLAIM_TTL,
    NEED_A_LOOK,
    UNFINISHED,
    Alias,
    AllowEntry,
    Batch,
    Decision,
    DuplicateGroup,
    Exclusion,
    Hit,
    ImportRun,
    Instruction,
    Rule,
    Stage,
)


def _batch(request, pk, perm="read") -> Batch:
    return get_for_user(request.user, Batch.objects.select_related("unit"), perm, pk=pk)


def _scope_unit(request) -> Unit:
    return get_for_user(request.user, Unit, pk=request.scope.unit_id)


@staff_view("read")
def batch_list(request):
    batches = list(scoped(request.user, Batch).select_related("unit").order_by("-created_at", "-pk"))
    counts = services.count_work(request.user, [b.pk for b in batches])
    rows = [(b, counts.get(b.pk, services.WorkCounts())) for b in batches]
    return render(
        request,
        "remittance/batch_list.html",
        {"rows": rows, "can_create": request.scope.can("admin"), "labels": _count_labels()},
    )


def _count_labels() -> dict:
    """The one vocabulary of the counts (models.Stage and its two sums), for the templates."""
    return {
        "need_a_look": NEED_A_LOOK,
        "unfinished": UNFINISHED,
        **{stage.value: stage.label for stage in Stage},
    }


@staff_view("admin")
def batch_create(request):
    form = forms.BatchForm(
        request.POST or None,
        initial={
            "approval_threshold": Batch._meta.get_field("approval_threshold").default,
            "near_window_hours": Batch._meta.get_field("near_window_hours").default,
        },
    )
    if request.method == "POST" and form.is_valid():
        try:
            batch = services.create_batch(actor=request.user, unit=_scope_unit(request), **form.cleaned_data)
        except ValidationError as exc:
            apply_errors(form, exc)
        else:
            messages.success(request, _("Batch created. Import the pending instructions next."))
            return redirect("remittance:import_upload", pk=batch.pk)
    return render(request, "remittance/batch_form.html", {"form": form, "title": _("New batch")})


@staff_view("read")
def batch_edit(request, pk):
    batch = _batch(request, pk)
    services.require_batch_owner(request.user, batch, "admin")
    initial = {
        "name": batch.name,
        "deadline": timezone.localtime(batch.deadline),
        "approval_threshold": batch.approval_threshold,
        "near_window_hours": batch.near_window_hours,
        "revision": batch.revision,
    }
    form = forms.BatchForm(request.POST or None, initial=initial, editing=True)
    if request.method == "POST" and form.is_valid():
        try:
            services.update_batch(batch, actor=request.user, **form.cleaned_data)
        except ValidationError as exc:
            apply_errors(form, exc)
        else:
            messages.success(request, _("Saved."))
            return redirect("remittance:batch_detail", pk=batch.pk)
    return render(request, "remittance/batch_form.html", {"form": form, "title": batch.name, "batch": batch})


@staff_view("read")
def batch_detail(request, pk):
    batch = _batch(request, pk)
    code = (request.GET.get("unit") or "").strip()
    at = get_for_user(request.user, Unit, code=code) if code else _scope_unit(request)
    total, rows = services.progress(batch, request.user, at)
    mine = scoped(request.user, Instruction).filter(batch=batch, unit__path__startswith=at.path)
    # Why they need a look, as parts that add up to the total (an instruction can be both).
    stats = mine.aggregate(
        instructions=Count("pk"),
        hits_only=Count("pk", filter=Q(hit_count__gt=0, dup_group__isnull=True)),
        duplicates_only=Count("pk", filter=Q(hit_count=0, dup_group__isnull=False)),
        both=Count("pk", filter=Q(hit_count__gt=0, dup_group__isnull=False)),
    )
    ancestors = [a for a in at.ancestors() if request.scope.covers(a.path)]
    owner = services.owns_batch(request.user, batch)
    imports = batch.imports.defer("content").select_related("created_by")[:20] if owner else []
    return render(
        request,
        "remittance/batch_detail.html",
        {
            "batch": batch,
            "at": at,
            "ancestors": ancestors,
            "total": total,
            "rows": rows,
            "stats": stats,
            "owner": owner,
            "can_change": request.scope.can("change"),
            "can_admin": request.scope.can("admin"),
            "stale": services.screening_is_stale(batch),
            "imports": imports,
            "labels": _count_labels(),
        },
    )


def _hits_prefetch():
    return Prefetch("hits", queryset=Hit.objects.order_by("field", "start"))


@staff_view("read")
def worklist(request, pk):
    batch = _batch(request, pk)
    show = request.GET.get("show") if request.GET.get("show") in services.WORKLIST_SHOW else "flagged"
    stage = request.GET.get("state")
    stage = stage if stage in services.WORKLIST_STAGES or stage == "open" else "unfinished"
    code = (request.GET.get("unit") or "").strip()[:32]
    unit = get_for_user(request.user, Unit, code=code) if code else None
    qs = services.worklist(request.user, batch, show=show, stage=stage, unit=unit)
    counts = services.count_work(request.user, [batch.pk], at=unit).get(batch.pk, services.WorkCounts())
    if request.GET.get("mine") == "1":
        qs = qs.filter(claimed_by=request.user, claimed_at__gte=timezone.now() - CLAIM_TTL)
    q = (request.GET.get("q") or "").strip()[:64]
    if q:
        qs = qs.filter(Q(instruction_id=q) | Q(payee_name__icontains=q) | Q(payer_name__icontains=q))
    qs = (
        qs.select_related("unit", "claimed_by", "dup_group")
        .prefetch_related(_hits_prefetch())
        .worklist_order()
    )
    page = Paginator(qs, 50).get_page(request.GET.get("page"))
    return render(
        request,
        "remittance/worklist.html",
        {
            "batch": batch,
            "page": page,
            "show": show,
            "state": stage,
            "counts": counts,
            "labels": _count_labels(),
            "stages": [("unfinished", UNFINISHED), *Stage.choices, ("any", _("any"))],
            "unit_code": code,
            "q": q,
            "mine": request.GET.get("mine") == "1",
            "now": timezone.now(),
            "claim_ttl": CLAIM_TTL,
        },
    )


@staff_view("read")
def duplicates(request, pk):
    batch = _batch(request, pk)
    mine = scoped(request.user, Instruction).filter(batch=batch, dup_group__isnull=False)
    group_ids = list(mine.order_by("dup_group__number").values_list("dup_group", flat=True).distinct())
    page = Paginator(group_ids, 25).get_page(request.GET.get("page"))
    members = (
        mine.filter(dup_group__in=list(page.object_list))
        .select_related("unit", "dup_group")
        .order_by("created_at", "pk")
    )
    by_group: dict[int, list] = {}
    for inst in members:
        by_group.setdefault(inst.dup_group_id, []).append(inst)
    groups = DuplicateGroup.objects.filter(pk__in=list(by_group)).select_related("keep").order_by("number")
    rows = [(g, by_group[g.pk], g.size - len(by_group[g.pk])) for g in groups]
    return render(request, "remittance/duplicates.html", {"batch": batch, "page": page, "rows": rows})


@staff_view("read")
def import_upload(request, pk):
    batch = _batch(request, pk)
    services.require_batch_owner(request.user, batch)
    form = forms.UploadForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        upload = form.cleaned_data["file"]
        if upload.size > importer.max_bytes():
            mb = importer.max_bytes() // 2**20
            form.add_error("file", _("The file is larger than %(mb)s MB; split it.") % {"mb": mb})
        else:
            data = upload.read()
            if len(data) > jobs.SYNC_LIMIT_BYTES:
                # A large file is checked on the queue; the job page follows it and shows the preview.
                run = services.stage_import(batch, actor=request.user, filename=upload.name, data=data)
                return _start_job(request, batch, run, dry_run=True)
            # A file that cannot be read, or is not a list of instructions, is refused here with
            # one message rather than staged as a run full of errors.
            problem = importer.check_file(upload.name, data)
            if problem:
                form.add_error("file", problem)
            else:
                run = services.stage_import(batch, actor=request.user, filename=upload.name, data=data)
                return redirect("remittance:import_preview", pk=batch.pk, run=run.pk)
    return render(
        request,
        "remittance/import_upload.html",
        {"batch": batch, "form": form, "columns": importer.columns_doc()},
    )


def _staged(request, pk, run) -> tuple[Batch, ImportRun]:
    batch = _batch(request, pk)
    services.require_batch_owner(request.user, batch)
    return batch, get_object_or_404(batch.imports, pk=run)


@staff_view("read")
def import_preview(request, pk, run):
    batch, staged = _staged(request, pk, run)
    if staged.status != ImportRun.Status.PREVIEWED:
        messages.info(request, _("This upload was already imported or discarded."))
        return redirect("remittance:batch_detail", pk=batch.pk)
    data = bytes(staged.content)
    if request.method == "POST":
        if request.POST.get("discard"):
            services.discard_import(staged, actor=request.user)
            messages.info(request, _("Upload discarded; nothing was imported."))
            return redirect("remittance:batch_detail", pk=batch.pk)
        form = forms.ConfirmImportForm(request.POST)
        if form.is_valid() and len(data) > jobs.SYNC_LIMIT_BYTES:
            return _start_job(
                request, batch, staged, dry_run=False, valid_only=form.cleaned_data["mode"] == "valid_only"
            )
        if form.is_valid():
            try:
                report = services.run_import(
                    batch,
                    actor=request.user,
                    filename=staged.filename,
                    data=data,
                    valid_only=form.cleaned_data["mode"] == "valid_only",
                    scope=request.user,
                    staged=staged,
                )
            except ValidationError as exc:
                messages.error(request, " ".join(exc.messages))
                return redirect("remittance:batch_detail", pk=batch.pk)
            if report.imported:
                messages.success(
                    request, _("%(n)d instructions imported and screened.") % {"n": report.imported}
                )
                return redirect("remittance:batch_detail", pk=batch.pk)
            messages.error(request, report.refused_reason)
    if len(data) > jobs.SYNC_LIMIT_BYTES:
        # A large file is checked on the queue: the newest job of this upload that did not fail.
        latest = _run_jobs(staged).exclude(state=Job.State.FAILED).first()
        if latest is None:
            return _start_job(request, batch, staged, dry_run=True)
        return redirect("remittance:import_job", pk=batch.pk, job=latest.pk)
    report = services.run_import(
        batch, actor=request.user, filename=staged.filename, data=data, dry_run=True, scope=request.user
    )
    return render(
        request,
        "remittance/import_preview.html",
        {
            "batch": batch,
            "run": staged,
            "report": report,
        },
    )


def _run_jobs(run: ImportRun):
    return Job.objects.filter(kind=jobs.KIND, params__run=run.pk)


def _start_job(request, batch, run, *, dry_run, valid_only=False):
    unit = Unit.objects.get(pk=request.scope.unit_id)
    job = jobs.start_import(request.user, unit, run, dry_run=dry_run, valid_only=valid_only)
    return redirect("remittance:import_job", pk=batch.pk, job=job.pk)


@staff_view("read")
def import_job(request, pk, job):
    """A large upload's job: its progress, then the preview (a check) or the outcome (an import)."""
    batch = _batch(request, pk)
    services.require_batch_owner(request.user, batch)
    job = get_for_user(request.user, Job, "read", pk=job, kind=jobs.KIND)
    if job.params.get("batch") != batch.pk:
        raise Http404
    run = get_object_or_404(batch.imports.defer("content"), pk=job.params["run"])
    report = None
    if job.state == Job.State.DONE and "rows_read" in (job.result or {}):
        report = services.ImportReport.from_dict(job.result)
    return render(
        request,
        "remittance/import_job.html",
        {"batch": batch, "run": run, "job": job, "report": report, "dry_run": job.params["dry_run"]},
    )


@staff_view("read")
def import_report(request, pk, run):
    batch, staged = _staged(request, pk, run)
    report = services.run_import(
        batch,
        actor=request.user,
        filename=staged.filename,
        data=bytes(staged.content),
        dry_run=True,
        scope=request.user,
    )
    response = HttpResponse(report.report_csv(), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="import-report-{staged.pk}.csv"'
    return response


@require_POST
@staff_view("read")
def rescreen(request, pk):
    batch = _batch(request, pk)
    services.require_batch_owner(request.user, batch)
    result = services.rescreen_batch(batch, actor=request.user)
    messages.success(
        request, _("Screened again: %(n)d instructions with hits.") % {"n": result["with_hits"][1]}
    )
    return redirect("remittance:batch_detail", pk=batch.pk)


@require_POST
@staff_view("change")
def export(request, pk):
    batch = _batch(request, pk)
    filename, content, _count = services.export_decisions(batch, actor=request.user, scope=request.user)
    response = HttpResponse(content, content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


# ---------------------------------------------------------------- one instruction


def _instruction(request, pk, perm="read") -> Instruction:
    return get_for_user(
        request.user,
        Instruction.objects.select_related(
            "batch", "unit", "claimed_by", "decided_by", "approved_by", "dup_group", "allowed_by"
        ).prefetch_related(_hits_prefetch()),
        perm,
        pk=pk,
    )


@staff_view("read")
def instruction_detail(request, pk):
    return _detail_response(request, pk, {})


def _detail_response(request, pk, forms_with_errors: dict, status: int = 200):
    inst = _instruction(request, pk)
    holds = inst.claimed_by_id == request.user.pk and inst.claim_active()
    group = []
    if inst.dup_group_id:
        group = list(
            scoped(request.user, Instruction)
            .filter(dup_group_id=inst.dup_group_id)
            .select_related("unit")
            .order_by("created_at", "pk")
        )
    hits = list(inst.hits.all())
    rules = {r.pk: r for r in Rule.objects.filter(pk__in=[h.rule_id for h in hits if h.rule_id])}
    events = events_for(request.user, inst)[:20]
    actions = services.available_actions(inst, request.user)
    if "decision" in forms_with_errors:  # re-shown after an error: still only what is possible
        forms_with_errors["decision"].fields["decision"].choices = (
            forms.DecisionForm(allowed=actions.decisions).fields["decision"].choices
        )
    return render(
        request,
        "remittance/instruction_detail.html",
        {
            "inst": inst,
            "batch": inst.batch,
            "holds": holds,
            "actions": actions,
            "unavailable": [(Decision(d).label, why) for d, why in actions.unavailable.items()],
            "claim_active": inst.claim_active(),
            "can_change": request.scope.can("change"),
            "can_admin": request.scope.can("admin"),
            "hits": [(h, rules.get(h.rule_id)) for h in hits],
            "group": group,
            "group_hidden": (inst.dup_group.size - len(group)) if inst.dup_group_id else 0,
            "callbacks": inst.callbacks.all(),
            "callback_form": forms_with_errors.get("callback") or forms.CallbackForm(instruction=inst),
            "decision_form": forms_with_errors.get("decision")
            or forms.DecisionForm(instruction=inst, allowed=actions.decisions),
            "note_form": forms_with_errors.get("note") or forms.NoteForm(),
            "needs_approval_above": inst.batch.approval_threshold,
            "events": events,
        },
        status=status,
    )


def _act(request, pk, verb, *, form_class=None, form_key=None, success=""):
    """POST an action on one instruction: a service call, its errors shown on the detail page."""
    inst = _instruction(request, pk, "change")
    data = {}
    if form_class is not None:
        form = form_class(request.POST, instruction=inst)
        if not form.is_valid():
            return _rerender(request, pk, form_key, form)
        data = form.cleaned_data
    try:
        verb(inst, actor=request.user, **data)
    except ValidationError as exc:
        if form_class is not None:
            apply_errors(form, exc)
            return _rerender(request, pk, form_key, form)
        messages.error(request, " ".join(exc.messages))
    else:
        if success:
            messages.success(request, success)
    return redirect("remittance:instruction_detail", pk=pk)


def _rerender(request, pk, key, form):
    return _detail_response(request, pk, {key: form}, status=400)


@require_POST
@staff_view("read")
def claim(request, pk):
    return _act(request, pk, services.claim, success=_("It is yours: call the customer."))


@require_POST
@staff_view("read")
def release(request, pk):
    return _act(request, pk, services.release, success=_("Released."))


@require_POST
@staff_view("read")
def callback(request, pk):
    return _act(
        request,
        pk,
        services.log_callback,
        form_class=forms.CallbackForm,
        form_key="callback",
        success=_("Call logged."),
    )


@require_POST
@staff_view("read")
def decide(request, pk):
    return _act(
        request,
        pk,
        services.decide,
        form_class=forms.DecisionForm,
        form_key="decision",
        success=_("Decision recorded."),
    )


@require_POST
@staff_view("read")
def approve(request, pk):
    return _act(request, pk, services.approve, success=_("Approved."))


@require_POST
@staff_view("read")
def reject(request, pk):
    return _act(
        request,
        pk,
        services.reject,
        form_class=forms.NoteForm,
        form_key="note",
        success=_("Sent back to the worklist."),
    )


@require_POST
@staff_view("read")
def reopen(request, pk):
    return _act(
        request, pk, services.reopen, form_class=forms.NoteForm, form_key="note", success=_("Reopened.")
    )


# ---------------------------------------------------------------- rules (head office)


@staff_view("read")
def rules(request):
    editable = request.scope.can("hq_admin")
    return render(
        request,
        "remittance/rules.html",
        {
            "rules": Rule.objects.annotate(n_exclusions=Count("exclusions")).order_by(
                "-priority", "field", "term"
            ),
            "aliases": Alias.objects.all(),
            "exclusions": Exclusion.objects.select_related("rule"),
            "allow": AllowEntry.objects.select_related("rule"),
            "editable": editable,
            "alias_form": forms.AliasForm() if editable else None,
            "exclusion_form": forms.ExclusionForm() if editable else None,
            "allow_form": forms.AllowForm() if editable else None,
        },
    )


@staff_view("hq_admin")
def rule_edit(request, rule_pk=None):
    rule = get_object_or_404(Rule, pk=rule_pk) if rule_pk else None
    initial = {"priority": 50, "is_active": True}
    if rule is not None:
        initial = {f: getattr(rule, f) for f in [*services.RULE_FIELDS, "revision"]}
    form = forms.RuleForm(request.POST or None, initial=initial, editing=rule is not None)
    if request.method == "POST" and form.is_valid():
        try:
            services.save_rule(actor=request.user, instance=rule, **form.cleaned_data)
        except ValidationError as exc:
            apply_errors(form, exc)
        else:
            messages.success(request, _("Saved. Re-screen open batches to apply it."))
            return redirect("remittance:rules")
    return render(request, "remittance/rule_form.html", {"form": form, "rule": rule})


@require_POST
@staff_view("hq_admin")
def rule_delete(request, rule_pk):
    services.delete_rule(get_object_or_404(Rule, pk=rule_pk), actor=request.user)
    messages.success(request, _("Rule deleted."))
    return redirect("remittance:rules")


RULE_PARTS = {
    "aliases": (forms.AliasForm, services.create_alias, services.delete_alias, Alias),
    "exclusions": (forms.ExclusionForm, services.create_exclusion, services.delete_exclusion, Exclusion),
    "allow": (forms.AllowForm, services.create_allow_entry, services.delete_allow_entry, AllowEntry),
}


@require_POST
@staff_view("hq_admin")
def rule_part_create(request, part):
    if part not in RULE_PARTS:
        raise Http404
    form_class, create, _delete, _model = RULE_PARTS[part]
    form = form_class(request.POST)
    if form.is_valid():
        try:
            create(actor=request.user, **form.cleaned_data)
        except ValidationError as exc:
            apply_errors(form, exc)
        else:
            messages.success(request, _("Saved. Re-screen open batches to apply it."))
            return redirect("remittance:rules")
    for name, errors in form.errors.items():
        label = form.fields[name].label if name in form.fields else ""
        messages.error(request, f"{label}: {' '.join(errors)}" if label else " ".join(errors))
    return redirect("remittance:rules")


@require_POST
@staff_view("hq_admin")
def rule_part_delete(request, part, item_pk):
    if part not in RULE_PARTS:
        raise Http404
    _form, _create, delete, model = RULE_PARTS[part]
    delete(get_object_or_404(model, pk=item_pk), actor=request.user)
    messages.success(request, _("Deleted."))
    return redirect("remittance:rules")
