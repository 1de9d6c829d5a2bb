"""Staff pages of training: the coverage dashboard, courses, sessions with invitations and
results, people's records, expiring certificates and drills. Views translate HTTP only."""

import datetime

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from yizhan.core.forms import apply_errors
from yizhan.core.tabular import write_xlsx
from yizhan.operations.models import RosterEntry
from yizhan.orgs.models import Unit
from yizhan.orgs.scoping import get_for_user, scope_for, scoped, staff_view
from yizhan.training import coverage as cov
from yizhan.training import services
from yizhan.training.forms import (
    BadgeForm,
    CancelSessionForm,
    CourseEditForm,
    CourseForm,
    CoverageForm,
    DrillForm,
    FindingForm,
    ImportForm,
    InviteForm,
    ResultForm,
    SessionEditForm,
    SessionForm,
    split_ids,
)
from yizhan.training.models import Certificate, Course, Drill, Session

SESSIONS = Session.objects.select_related("course", "unit", "station")
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _home_unit(request) -> Unit:
    return Unit.objects.get(pk=request.scope.unit_id)


def _unit_param(request, name="unit") -> Unit:
    code = str(request.GET.get(name) or "").strip()
    return get_for_user(request.user, Unit, code=code) if code else _home_unit(request)


def _xlsx(filename: str, sheets: dict) -> HttpResponse:
    response = HttpResponse(write_xlsx(sheets), content_type=XLSX)
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


def _day(request) -> datetime.date:
    form = CoverageForm(request.GET)
    if form.is_valid() and form.cleaned_data.get("day"):
        return form.cleaned_data["day"]
    return cov.default_day()


# --- dashboard: the coverage figure --------------------------------------------------------------


@staff_view("read")
def dashboard(request):
    unit = _unit_param(request)
    day = _day(request)
    figure = cov.coverage(unit, day)
    shares = cov.staff_shares(unit, day)
    chart = {
        "labels": [r["name"] for r in figure["rows"]],
        "covered": [r["covered"] for r in figure["rows"]],
        "gaps": [r["gaps"] for r in figure["rows"]],
        "names": {"covered": _("covered"), "gaps": _("gaps")},
        "staff": [
            {"name": _("certified"), "value": shares["certified"]},
            {"name": _("trained, not certified"), "value": max(shares["trained"] - shares["certified"], 0)},
            {"name": _("not yet trained"), "value": max(shares["staff"] - shares["trained"], 0)},
        ],
    }
    return render(
        request,
        "training/dashboard.html",
        {
            "unit": unit,
            "figure": figure,
            "shares": shares,
            "chart": chart,
            "expiring": len(services.expiring(unit, within=30)),
            "sessions": scoped(request.user, SESSIONS).order_by("-starts_at")[:5],
            "drills": scoped(request.user, Drill.objects.select_related("unit"))[:5],
        },
    )


@staff_view("read")
def coverage_export(request):
    unit = _unit_param(request)
    figure = cov.coverage(unit, _day(request), gaps=100000)
    rows = ([r["code"], r["name"], r["outlets"], r["covered"], r["gaps"], r["share"]] for r in figure["rows"])
    gaps = ([g["code"], g["name"], g["below"]] for g in figure["gaps"])
    return _xlsx(
        f"coverage-{unit.code}-{figure['day']}.xlsx",
        {
            _("Coverage"): (
                [_("code"), _("unit"), _("outlets open"), _("covered"), _("gaps"), _("share covered (%)")],
                rows,
            ),
            _("Gaps"): ([_("code"), _("outlet"), _("under")], gaps),
        },
    )


# --- courses --------------------------------------------------------------------------------------


@staff_view("read")
def course_list(request):
    scope = scope_for(request.user)
    courses = list(scoped(request.user, Course.objects.select_related("owner", "renews")))
    for c in courses:
        # A course of the units above is used here and edited there.
        c.editable = scope.can("admin") and scope.covers(c.owner.path)
    return render(request, "training/course_list.html", {"courses": courses})


def _course_data(form) -> dict:
    data = dict(form.cleaned_data)
    data.pop("revision", None)
    return data


@staff_view("admin")
def course_create(request):
    form = CourseForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        data = _course_data(form)
        try:
            services.create_course(actor=request.user, owner=_home_unit(request), **data)
        except ValidationError as exc:
            apply_errors(form, exc)
        else:
            messages.success(request, _("Course saved."))
            return redirect("training:course_list")
    return render(
        request,
        "core/form_page.html",
        {"form": form, "title": _("New course"), "cancel_url": reverse("training:course_list")},
    )


@staff_view("read")
def course_edit(request, pk: int):
    course = get_for_user(request.user, Course.objects.select_related("owner", "renews"), "admin", pk=pk)
    if not scope_for(request.user).covers(course.owner.path):
        raise PermissionDenied  # a course of the units above: used here, kept there
    initial = {f: getattr(course, f) for f in services.COURSE_FIELDS}
    initial["renews"] = course.renews.code if course.renews else ""
    initial["revision"] = course.revision
    form = CourseEditForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        data = _course_data(form)
        try:
            services.update_course(course, actor=request.user, revision=form.cleaned_data["revision"], **data)
        except ValidationError as exc:
            apply_errors(form, exc)
        else:
            messages.success(request, _("Course saved."))
            return redirect("training:course_list")
    return render(
        request,
        "core/form_page.html",
        {"form": form, "title": course.display_title, "cancel_url": reverse("training:course_list")},
    )


# --- sessions -------------------------------------------------------------------------------------


@staff_view("read")
def session_list(request):
    sessions = scoped(request.user, SESSIONS).order_by("-starts_at", "pk")
    code = str(request.GET.get("course") or "").strip()
    if code:
        sessions = sessions.filter(course__code=code)
    page = Paginator(sessions, 50).get_page(request.GET.get("page"))
    return render(request, "training/session_list.html", {"page": page})


@staff_view("change")
def session_create(request):
    form = SessionForm(request.POST or None, initial={"unit": _home_unit(request).code, "capacity": 30})
    if request.method == "POST" and form.is_valid():
        data = dict(form.cleaned_data)
        try:
            course = scoped(request.user, Course).filter(code=data.pop("course").strip()).first()
            unit = scoped(request.user, Unit).filter(code=data.pop("unit").strip()).first()
            if course is None:
                raise ValidationError({"course": _("No course with this code.")})
            if unit is None:
                raise ValidationError({"unit": _("No unit with this code in your scope.")})
            session = services.create_session(actor=request.user, course=course, unit=unit, **data)
        except ValidationError as exc:
            apply_errors(form, exc)
        else:
            for warning in services.session_warnings(session):
                messages.warning(request, warning)
            messages.success(request, _("Session scheduled."))
            return redirect("training:session_detail", pk=session.pk)
    return render(
        request,
        "core/form_page.html",
        {"form": form, "title": _("Schedule a session"), "cancel_url": reverse("training:session_list")},
    )


def _session(request, pk: int, perm: str = "read") -> Session:
    return get_for_user(request.user, SESSIONS, perm, pk=pk)


@staff_view("read")
def session_detail(request, pk: int, forms=None):
    session = _session(request, pk)
    enrolments = session.enrolments.select_related("entry", "unit").order_by("unit__path", "entry__name")
    forms = forms or {}
    return render(
        request,
        "training/session_detail.html",
        {
            "session": session,
            "outlets": session.outlets.order_by("path"),
            "warnings": services.session_warnings(session),
            "enrolments": enrolments,
            "counts": {
                s: sum(1 for e in enrolments if e.status == s)
                for s in ("invited", "accepted", "passed", "failed", "absent")
            },
            "invite_form": forms.get("invite") or InviteForm(initial={"unit": session.unit.code}),
            "badge_form": forms.get("badge") or BadgeForm(),
            "import_form": forms.get("import") or ImportForm(),
            "result_form": forms.get("result"),
            "held": timezone.localdate(session.starts_at) <= timezone.localdate(),
            "cancel_form": forms.get("cancel") or CancelSessionForm(initial={"revision": session.revision}),
            "marked": any(e.status in services.MARKED for e in enrolments),
        },
        status=400 if forms else 200,
    )


@staff_view("change")
def session_edit(request, pk: int):
    session = _session(request, pk, "change")
    initial = services.session_values(session)
    initial.update(
        outlets=", ".join(initial["outlets"]),
        starts_at=f"{timezone.localtime(session.starts_at):%Y-%m-%d %H:%M}",
        ends_at=f"{timezone.localtime(session.ends_at):%Y-%m-%d %H:%M}",
        revision=session.revision,
    )
    form = SessionEditForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        data = dict(form.cleaned_data)
        revision = data.pop("revision")
        try:
            session = services.update_session(session, actor=request.user, revision=revision, **data)
        except ValidationError as exc:
            apply_errors(form, exc)
        else:
            for warning in services.session_warnings(session):
                messages.warning(request, warning)
            messages.success(request, _("Session saved."))
            return redirect("training:session_detail", pk=session.pk)
    return render(
        request,
        "core/form_page.html",
        {
            "form": form,
            "title": _("Change the session"),
            "cancel_url": reverse("training:session_detail", args=[session.pk]),
        },
    )


@require_POST
@staff_view("read")
def session_cancel(request, pk: int):
    session = _session(request, pk, "change")
    form = CancelSessionForm(request.POST)
    if form.is_valid():
        try:
            services.cancel_session(
                session,
                actor=request.user,
                reason=form.cleaned_data["reason"],
                revision=form.cleaned_data["revision"],
            )
        except ValidationError as exc:
            apply_errors(form, exc)
        else:
            messages.success(request, _("Session cancelled; those still expected are told."))
            return redirect("training:session_detail", pk=session.pk)
    return session_detail(request, pk, forms={"cancel": form})


@require_POST
@staff_view("read")
def session_invite(request, pk: int):
    session = _session(request, pk, "change")
    form = InviteForm(request.POST)
    if form.is_valid():
        data = form.cleaned_data
        try:
            unit = None
            if data["unit"] and not data["entries"]:
                unit = scoped(request.user, Unit).filter(code=data["unit"].strip()).first()
                if unit is None:
                    raise ValidationError({"unit": _("No unit with this code in your scope.")})
            n = services.invite(
                session,
                actor=request.user,
                unit=unit,
                position=data["position"],
                entries=split_ids(data["entries"]),
            )
        except ValidationError as exc:
            apply_errors(form, exc)
        else:
            messages.success(request, _("%(n)s invited.") % {"n": n})
            return redirect("training:session_detail", pk=pk)
    return session_detail(request, pk, forms={"invite": form})


@require_POST
@staff_view("read")
def session_result(request, pk: int):
    session = _session(request, pk, "change")
    form = ResultForm(request.POST)
    if form.is_valid():
        data = form.cleaned_data
        try:
            enrolment = session.enrolments.filter(pk=data["enrolment"]).first()
            if enrolment is None:
                raise ValidationError({"grade": _("This person is not enrolled in this session.")})
            if request.POST.get("delete"):
                services.delete_result(enrolment, actor=request.user)
            else:
                services.record_result(
                    enrolment, actor=request.user, grade=data["grade"], status=data["status"]
                )
        except ValidationError as exc:
            apply_errors(form, exc)
        else:
            messages.success(request, _("Result saved."))
            return redirect("training:session_detail", pk=pk)
    return session_detail(request, pk, forms={"result": form})


@require_POST
@staff_view("read")
def session_badge(request, pk: int):
    session = _session(request, pk, "change")
    form = BadgeForm(request.POST)
    if form.is_valid():
        try:
            enrolment = services.scan_badge(session, actor=request.user, badge=form.cleaned_data["badge"])
        except ValidationError as exc:
            apply_errors(form, exc)
        else:
            messages.success(request, _("%(name)s: attended.") % {"name": enrolment.entry.name})
            return redirect("training:session_detail", pk=pk)
    return session_detail(request, pk, forms={"badge": form})


@require_POST
@staff_view("read")
def session_import(request, pk: int):
    session = _session(request, pk, "change")
    form = ImportForm(request.POST, request.FILES)
    if form.is_valid():
        upload = form.cleaned_data["file"]
        try:
            n = services.import_results(session, actor=request.user, name=upload.name, data=upload.read())
        except ValidationError as exc:
            apply_errors(form, exc)
        else:
            messages.success(request, _("%(n)s results imported.") % {"n": n})
            return redirect("training:session_detail", pk=pk)
    return session_detail(request, pk, forms={"import": form})


@staff_view("read")
def session_export(request, pk: int):
    session = _session(request, pk)
    rows = (
        [
            e.entry.employee_no,
            e.entry.name,
            e.unit.name,
            e.get_status_display(),
            e.grade if e.grade is not None else "",
        ]
        for e in session.enrolments.select_related("entry", "unit").order_by("unit__path", "entry__name")
    )
    headers = [services.SHEET_NUMBER, services.SHEET_NAME, "网点", "状态", services.SHEET_GRADE]
    return _xlsx(f"session-{session.pk}.xlsx", {_("Results"): (headers, rows)})


# --- people ---------------------------------------------------------------------------------------


@staff_view("read")
def person(request, pk: int):
    entry = get_for_user(request.user, RosterEntry.objects.select_related("unit"), pk=pk)
    context = services.person_record(entry)
    # Only the sessions the reader may open are links (one organised above them is not theirs).
    context["visible"] = set(
        scoped(request.user, Session)
        .filter(pk__in=[t.session_id for t in context["trainings"]])
        .values_list("pk", flat=True)
    )
    return render(request, "training/person.html", context)


def my_record(request):
    """A staff member's own trainings and certificates (any login on the roster)."""
    if not request.user.is_authenticated:
        from django.contrib.auth.views import redirect_to_login

        return redirect_to_login(request.get_full_path())
    entries = list(RosterEntry.objects.filter(user=request.user).select_related("unit"))
    if not entries:
        raise Http404
    context = services.person_record(entries[0])
    context["own"] = True
    return render(request, "training/person.html", context)


@staff_view("read")
def people(request):
    unit = _unit_param(request)
    entries = scoped(request.user, RosterEntry.objects.select_related("unit")).filter(
        unit__path__startswith=unit.path
    )
    q = str(request.GET.get("q") or "").strip()[:60]
    if q:
        entries = entries.filter(name__contains=q) | entries.filter(employee_no=q)
    page = Paginator(entries.order_by("unit__path", "name"), 100).get_page(request.GET.get("page"))
    today = timezone.localdate()
    certified = set(
        Certificate.objects.valid_on(today)
        .filter(entry__in=[e.pk for e in page])
        .values_list("entry_id", flat=True)
    )
    return render(
        request, "training/people.html", {"unit": unit, "page": page, "certified": certified, "q": q}
    )


# --- expiring certificates ------------------------------------------------------------------------


def _within(request) -> int:
    try:
        return max(1, min(int(request.GET.get("within") or 30), 366))
    except ValueError:
        return 30


@staff_view("read")
def expiring(request):
    unit = _unit_param(request)
    within = _within(request)
    rows = services.expiring(unit, within=within, limit=500)
    return render(request, "training/expiring.html", {"unit": unit, "rows": rows, "within": within})


@staff_view("read")
def expiring_export(request):
    unit = _unit_param(request)
    rows = services.expiring(unit, within=_within(request))
    return _xlsx(
        f"expiring-{unit.code}.xlsx",
        {
            _("Expiring"): (
                ["到期日", "证书", "姓名", "工号", "单位"],
                ([r[1], r[2], r[3], r[4], r[5]] for r in rows),
            )
        },
    )


# --- drills ---------------------------------------------------------------------------------------


@staff_view("read")
def drill_list(request):
    drills = scoped(request.user, Drill.objects.select_related("unit")).prefetch_related(
        "findings__rectification"
    )
    page = Paginator(drills, 50).get_page(request.GET.get("page"))
    return render(request, "training/drill_list.html", {"page": page})


@staff_view("change")
def drill_create(request):
    form = DrillForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        data = dict(form.cleaned_data)
        try:
            outlet = scoped(request.user, Unit).filter(code=data.pop("outlet").strip()).first()
            if outlet is None:
                raise ValidationError({"outlet": _("No unit with this code in your scope.")})
            drill = services.record_drill(
                actor=request.user, unit=outlet, participants=split_ids(data.pop("participants")), **data
            )
        except ValidationError as exc:
            apply_errors(form, exc)
        else:
            messages.success(request, _("Drill recorded."))
            return redirect("training:drill_detail", pk=drill.pk)
    return render(
        request,
        "core/form_page.html",
        {"form": form, "title": _("Record a drill"), "cancel_url": reverse("training:drill_list")},
    )


@staff_view("read")
def drill_detail(request, pk: int, finding_form=None):
    drill = get_for_user(request.user, Drill.objects.select_related("unit", "plan__template"), pk=pk)
    findings = list(drill.findings.select_related("rectification"))
    return render(
        request,
        "training/drill_detail.html",
        {
            "drill": drill,
            "findings": findings,
            "participants": drill.participants.order_by("name"),
            "finding_form": finding_form or FindingForm(),
            "today": timezone.localdate(),
        },
        status=400 if finding_form else 200,
    )


@require_POST
@staff_view("read")
def drill_finding(request, pk: int):
    drill = get_for_user(request.user, Drill.objects.select_related("unit"), "change", pk=pk)
    form = FindingForm(request.POST)
    if form.is_valid():
        try:
            services.add_finding(drill, actor=request.user, **form.cleaned_data)
        except ValidationError as exc:
            apply_errors(form, exc)
        else:
            messages.success(request, _("Finding recorded; its rectification is open."))
            return redirect("training:drill_detail", pk=pk)
    return drill_detail(request, pk, finding_form=form)
