"""Staff API of training, over the same verbs as the pages (`/api/v1/manage/training/…`)."""

import datetime
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.translation import gettext as _
from ninja import File, Router, Schema, Status
from ninja.files import UploadedFile

from yizhan.core.boundary import Offset
from yizhan.core.schemas import Conflict
from yizhan.operations.models import RosterEntry
from yizhan.orgs.models import Unit
from yizhan.orgs.scoping import get_for_user, scope_for, scoped
from yizhan.training import coverage as cov
from yizhan.training import services
from yizhan.training.models import Course, Drill, Session

manage_router = Router(tags=["manage: training"])
P = "/training"
SESSIONS = Session.objects.select_related("course", "unit", "station")


def _unit(request, code: str) -> Unit:
    if code:
        return get_for_user(request.user, Unit, code=code[:40])
    return Unit.objects.get(pk=scope_for(request.user).unit_id)


# --- courses --------------------------------------------------------------------------------------


class CourseOut(Schema):
    id: int
    code: str
    title: str
    title_en: str
    hours: Decimal
    pass_mark: int
    provider_kind: str
    provider: str
    certificate: str
    validity_months: int | None
    first_responder: bool
    renews: str | None
    owner: str
    active: bool
    revision: int


def course_out(c: Course) -> dict:
    return {
        "id": c.pk, "code": c.code, "title": c.title, "title_en": c.title_en, "hours": c.hours,
        "pass_mark": c.pass_mark, "provider_kind": c.provider_kind, "provider": c.provider,
        "certificate": c.certificate, "validity_months": c.validity_months, "first_responder": c.first_responder,
        "renews": c.renews.code if c.renews else None, "owner": c.owner.code, "active": c.active,
        "revision": c.revision,
    }  # fmt: skip


class CourseIn(Schema):
    code: str
    title: str
    title_en: str = ""
    hours: str  # a decimal as text ("16", "2.5")
    pass_mark: int | str
    provider_kind: str
    provider: str = ""
    certificate: str = ""
    validity_months: int | str | None = None
    first_responder: bool = False
    renews: str | None = None
    active: bool = True


class CoursePatch(Schema):
    revision: int
    title: str | None = None
    title_en: str | None = None
    hours: str | None = None
    pass_mark: int | str | None = None
    provider_kind: str | None = None
    provider: str | None = None
    certificate: str | None = None
    validity_months: int | str | None = None
    first_responder: bool | None = None
    renews: str | None = None
    active: bool | None = None


COURSES = Course.objects.select_related("owner", "renews")


@manage_router.get(P + "/courses", response=list[CourseOut], summary="The course catalogue you may use")
def list_courses(request):
    return [course_out(c) for c in scoped(request.user, COURSES)]


@manage_router.post(
    P + "/courses", response={201: CourseOut}, summary="Create a course (admins; owned by your unit)"
)
def create_course(request, payload: CourseIn):
    course = services.create_course(actor=request.user, owner=_unit(request, ""), **payload.dict())
    return Status(201, course_out(COURSES.get(pk=course.pk)))


@manage_router.get(P + "/courses/{course_id}", response=CourseOut, summary="One course")
def get_course(request, course_id: int):
    return course_out(get_for_user(request.user, COURSES, pk=course_id))


@manage_router.patch(
    P + "/courses/{course_id}",
    response={200: CourseOut, 409: Conflict},
    summary="Change a course (with the revision it is based on; stale: 409)",
)
def update_course(request, course_id: int, payload: CoursePatch):
    course = get_for_user(request.user, COURSES, "admin", pk=course_id)
    data = payload.dict(exclude_unset=True)
    revision = data.pop("revision")
    services.update_course(course, actor=request.user, revision=revision, **data)
    return course_out(COURSES.get(pk=course.pk))


# --- sessions -------------------------------------------------------------------------------------


class SessionOut(Schema):
    id: int
    course: str
    unit: str
    venue_kind: str
    outlets: list[str]
    station: str | None
    venue: str
    starts_at: datetime.datetime
    ends_at: datetime.datetime
    trainer: str
    capacity: int
    enrolled: int
    warnings: list[str]
    cancelled_at: datetime.datetime | None
    cancel_reason: str
    revision: int


def session_out(s: Session) -> dict:
    return {
        "id": s.pk, "course": s.course.code, "unit": s.unit.code, "venue_kind": s.venue_kind,
        "outlets": [o.code for o in s.outlets.order_by("path")], "station": s.station.code if s.station else None,
        "venue": s.venue, "starts_at": s.starts_at, "ends_at": s.ends_at, "trainer": s.trainer,
        "capacity": s.capacity, "enrolled": s.enrolments.count(), "warnings": services.session_warnings(s),
        "cancelled_at": s.cancelled_at, "cancel_reason": s.cancel_reason, "revision": s.revision,
    }  # fmt: skip


class SessionIn(Schema):
    course: str
    unit: str
    venue_kind: str
    outlets: list[str] = []
    station: str = ""
    venue: str = ""
    starts_at: str
    ends_at: str
    trainer: str = ""
    capacity: int | str


@manage_router.get(P + "/sessions", response=list[SessionOut], summary="Sessions organised in your subtree")
def list_sessions(request, course: str = "", limit: int = 100, offset: Offset = 0):
    limit = max(1, min(limit, 500))
    sessions = scoped(request.user, SESSIONS).order_by("-starts_at", "pk")
    if course:
        sessions = sessions.filter(course__code=course[:40])
    return [session_out(s) for s in sessions[offset : offset + limit]]


@manage_router.post(
    P + "/sessions",
    response={201: SessionOut},
    summary="Schedule a session (at several outlets at once, a station or elsewhere)",
)
def create_session(request, payload: SessionIn):
    data = payload.dict()
    course = scoped(request.user, Course).filter(code=data.pop("course")[:40]).first()
    if course is None:
        raise ValidationError({"course": _("No course with this code.")})
    unit = scoped(request.user, Unit).filter(code=data.pop("unit")[:40]).first()
    if unit is None:
        raise ValidationError({"unit": _("No unit with this code in your scope.")})
    session = services.create_session(actor=request.user, course=course, unit=unit, **data)
    return Status(201, session_out(SESSIONS.get(pk=session.pk)))


def _session(request, session_id: int, perm: str = "read") -> Session:
    return get_for_user(request.user, SESSIONS, perm, pk=session_id)


@manage_router.get(P + "/sessions/{session_id}", response=SessionOut, summary="One session with its warnings")
def get_session(request, session_id: int):
    return session_out(_session(request, session_id))


class SessionPatch(Schema):
    revision: int
    venue_kind: str | None = None
    outlets: list[str] | None = None
    station: str | None = None
    venue: str | None = None
    starts_at: str | None = None
    ends_at: str | None = None
    trainer: str | None = None
    capacity: int | str | None = None


@manage_router.patch(
    P + "/sessions/{session_id}",
    response=SessionOut,
    summary="Change a session not yet held (those still expected are told when it moves); stale revision: 409",
)
def update_session(request, session_id: int, payload: SessionPatch):
    session = _session(request, session_id, "change")
    data = payload.dict(exclude_unset=True)
    revision = data.pop("revision")
    services.update_session(session, actor=request.user, revision=revision, **data)
    return session_out(SESSIONS.get(pk=session.pk))


class CancelIn(Schema):
    reason: str
    revision: int | None = None


@manage_router.post(
    P + "/sessions/{session_id}/cancel",
    response=SessionOut,
    summary="Cancel a session before attendance is marked, telling those still expected why",
)
def cancel_session(request, session_id: int, payload: CancelIn):
    session = _session(request, session_id, "change")
    services.cancel_session(session, actor=request.user, reason=payload.reason, revision=payload.revision)
    return session_out(SESSIONS.get(pk=session.pk))


class EnrolmentOut(Schema):
    id: int
    entry: int
    name: str
    employee_no: str
    unit: str
    status: str
    grade: Decimal | None


def enrolment_out(e) -> dict:
    return {
        "id": e.pk, "entry": e.entry_id, "name": e.entry.name, "employee_no": e.entry.employee_no,
        "unit": e.unit.code, "status": e.status, "grade": e.grade,
    }  # fmt: skip


@manage_router.get(
    P + "/sessions/{session_id}/enrolments", response=list[EnrolmentOut], summary="Who is enrolled"
)
def list_enrolments(request, session_id: int):
    session = _session(request, session_id)
    return [enrolment_out(e) for e in session.enrolments.select_related("entry", "unit").order_by("pk")]


class InviteIn(Schema):
    unit: str = ""
    position: str = ""
    entries: list[int] = []


@manage_router.post(
    P + "/sessions/{session_id}/invite",
    response=dict,
    summary="Invite a unit's subtree (by job title) or a list of people",
)
def invite(request, session_id: int, payload: InviteIn):
    session = _session(request, session_id, "change")
    unit = None
    if payload.unit and not payload.entries:
        unit = scoped(request.user, Unit).filter(code=payload.unit[:40]).first()
        if unit is None:
            raise ValidationError({"unit": _("No unit with this code in your scope.")})
    n = services.invite(
        session, actor=request.user, unit=unit, position=payload.position, entries=payload.entries
    )
    return {"invited": n}


class ResultIn(Schema):
    entry: int | None = None
    badge: str = ""
    grade: str | float | int | None = None
    status: str = ""


@manage_router.post(
    P + "/sessions/{session_id}/results",
    response=EnrolmentOut,
    summary="A person's result: attended, absent or a grade (by roster entry or staff badge)",
)
def record_result(request, session_id: int, payload: ResultIn):
    session = _session(request, session_id, "change")
    enrolment = services.result_for(session, entry_id=payload.entry, badge=payload.badge)
    if payload.badge and payload.grade is None and not payload.status:
        enrolment = services.scan_badge(session, actor=request.user, badge=payload.badge)
    else:
        grade = None if payload.grade is None else str(payload.grade)
        enrolment = services.record_result(enrolment, actor=request.user, grade=grade, status=payload.status)
    return enrolment_out(enrolment)


@manage_router.delete(
    P + "/sessions/{session_id}/results/{entry_id}",
    response=EnrolmentOut,
    summary="Delete a result; the certificate it granted is withdrawn",
)
def delete_result(request, session_id: int, entry_id: int):
    session = _session(request, session_id, "change")
    enrolment = services.result_for(session, entry_id=entry_id)
    return enrolment_out(services.delete_result(enrolment, actor=request.user))


@manage_router.post(
    P + "/sessions/{session_id}/import",
    response=dict,
    summary="Import a results sheet (xlsx or csv: 工号, 姓名, 成绩, 出勤); all or nothing",
)
def import_results(request, session_id: int, file: File[UploadedFile] = None):
    session = _session(request, session_id, "change")
    if file is None:
        raise ValidationError({"file": _("Choose a file.")})
    n = services.import_results(session, actor=request.user, name=file.name or "", data=file.read())
    return {"imported": n}


class ReplyIn(Schema):
    accept: bool


@manage_router.post(
    P + "/enrolments/{enrolment_id}/reply", response=EnrolmentOut, summary="Accept or decline an invitation"
)
def reply(request, enrolment_id: int, payload: ReplyIn):
    from yizhan.training.models import Enrolment

    qs = Enrolment.objects.select_related("entry", "unit")
    own = qs.filter(pk=enrolment_id, entry__user=request.user).first()
    enrolment = own or get_for_user(request.user, qs, "change", pk=enrolment_id)
    return enrolment_out(services.reply(enrolment, actor=request.user, accept=payload.accept))


# --- people and certificates ----------------------------------------------------------------------


class CertificateOut(Schema):
    id: int
    name: str
    course: str
    issued_on: datetime.date
    expires_on: datetime.date
    valid: bool
    withdrawn: bool


class TrainingOut(Schema):
    session: int
    course: str
    day: datetime.date
    status: str
    grade: Decimal | None


class PersonOut(Schema):
    id: int
    name: str
    unit: str
    employee_no: str
    trainings: list[TrainingOut]
    certificates: list[CertificateOut]


def person_out(entry) -> dict:
    rec = services.person_record(entry)
    return {
        "id": entry.pk, "name": entry.name, "unit": entry.unit.code, "employee_no": entry.employee_no,
        "trainings": [
            {"session": t.session_id, "course": t.session.course.code, "day": timezone.localdate(t.session.starts_at),
             "status": t.status, "grade": t.grade}
            for t in rec["trainings"]
        ],
        "certificates": [
            {"id": c.pk, "name": c.name, "course": c.course.code, "issued_on": c.issued_on, "expires_on": c.expires_on,
             "valid": c.valid_now, "withdrawn": c.withdrawn_at is not None}
            for c in rec["certificates"]
        ],
    }  # fmt: skip


@manage_router.get(
    P + "/people/{entry_id}", response=PersonOut, summary="A person's trainings and certificates"
)
def get_person(request, entry_id: int):
    return person_out(get_for_user(request.user, RosterEntry.objects.select_related("unit"), pk=entry_id))


@manage_router.get(P + "/me", response=PersonOut, summary="Your own trainings and certificates")
def my_record(request):
    from django.http import Http404

    entry = RosterEntry.objects.filter(user=request.user).select_related("unit").first()
    if entry is None:
        raise Http404
    return person_out(entry)


class ExpiringOut(Schema):
    id: int
    expires_on: datetime.date
    certificate: str
    person: str
    employee_no: str
    unit: str


@manage_router.get(
    P + "/certificates/expiring",
    response=list[ExpiringOut],
    summary="Valid certificates expiring soon, soonest first",
)
def list_expiring(request, unit: str = "", within: int = 30, limit: int = 1000, offset: Offset = 0):
    if not 1 <= within <= 366:
        raise ValidationError({"within": _("Give 1 to 366 days.")})
    limit = max(1, min(limit, 10000))
    rows = services.expiring(_unit(request, unit), within=within, limit=offset + limit)[offset:]
    return [
        {
            "id": r[0],
            "expires_on": r[1],
            "certificate": r[2],
            "person": r[3],
            "employee_no": r[4],
            "unit": r[5],
        }
        for r in rows
    ]


@manage_router.get(
    P + "/coverage", response=dict, summary="First responders on duty: per unit below, gaps ranked"
)
def coverage(request, unit: str = "", day: datetime.date | None = None):
    target = _unit(request, unit)
    figure = cov.coverage(target, day or cov.default_day())
    shares = cov.staff_shares(target, figure["day"])
    return {
        "unit": target.code, "day": figure["day"].isoformat(), "total": figure["total"],
        "rows": [{k: v for k, v in r.items() if k != "name_en"} for r in figure["rows"]],
        "gaps": figure["gaps"], "gap_count": figure["gap_count"], "staff": shares,
    }  # fmt: skip


# --- drills ---------------------------------------------------------------------------------------


class FindingOut(Schema):
    id: int
    title: str
    rectification: int | None
    status: str | None
    due_on: datetime.date | None


class DrillOut(Schema):
    id: int
    outlet: str
    kind: str
    held_at: datetime.datetime
    scenario: str
    times: list[dict]
    participants: list[int]
    summary: str
    exercises_plan: bool
    findings: list[FindingOut]


def drill_out(d: Drill) -> dict:
    return {
        "id": d.pk, "outlet": d.unit.code, "kind": d.kind, "held_at": d.held_at, "scenario": d.scenario,
        "times": d.times, "participants": sorted(d.participants.values_list("pk", flat=True)), "summary": d.summary,
        "exercises_plan": d.plan_id is not None,
        "findings": [
            {"id": f.pk, "title": f.title, "rectification": f.rectification_id,
             "status": f.rectification.status if f.rectification else None,
             "due_on": f.rectification.due_on if f.rectification else None}
            for f in d.findings.select_related("rectification")
        ],
    }  # fmt: skip


class FindingIn(Schema):
    title: str
    detail: str = ""


class DrillIn(Schema):
    outlet: str
    kind: str
    held_at: str
    scenario: str
    times: list[dict] = []
    participants: list[int] = []
    summary: str = ""
    exercises_plan: bool = False
    findings: list[FindingIn] = []
    working_days: int | str = 5


DRILLS = Drill.objects.select_related("unit")


@manage_router.get(P + "/drills", response=list[DrillOut], summary="Drills in your subtree")
def list_drills(request, limit: int = 100, offset: Offset = 0):
    limit = max(1, min(limit, 500))
    return [drill_out(d) for d in scoped(request.user, DRILLS)[offset : offset + limit]]


@manage_router.post(
    P + "/drills", response={201: DrillOut}, summary="Record a drill; each finding opens a rectification"
)
def create_drill(request, payload: DrillIn):
    data = payload.dict()
    outlet = scoped(request.user, Unit).filter(code=data.pop("outlet")[:40]).first()
    if outlet is None:
        raise ValidationError({"outlet": _("No unit with this code in your scope.")})
    drill = services.record_drill(actor=request.user, unit=outlet, **data)
    return Status(201, drill_out(DRILLS.get(pk=drill.pk)))


@manage_router.get(P + "/drills/{drill_id}", response=DrillOut, summary="One drill with its findings")
def get_drill(request, drill_id: int):
    return drill_out(get_for_user(request.user, DRILLS, pk=drill_id))


class FindingAdd(FindingIn):
    working_days: int | str = 5


@manage_router.post(
    P + "/drills/{drill_id}/findings",
    response={201: DrillOut},
    summary="Add a finding (opens a rectification)",
)
def add_finding(request, drill_id: int, payload: FindingAdd):
    drill = get_for_user(request.user, DRILLS, "change", pk=drill_id)
    services.add_finding(drill, actor=request.user, **payload.dict())
    return Status(201, drill_out(DRILLS.get(pk=drill.pk)))
