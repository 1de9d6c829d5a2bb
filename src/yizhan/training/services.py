"""The verbs of training: courses, sessions, invitations, attendance, results (with the
certificates they grant and withdraw), the results-sheet import, drills and their findings.

Each validates with the `clean_*` functions shared by forms and API, runs in one transaction and
records an audit event. People are `operations.RosterEntry` rows; a finding's rectification is
`operations.rectifications.open_rectification`.
"""

import calendar as pycalendar
import datetime
from decimal import Decimal, InvalidOperation

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from yizhan.audit.services import diff, record, snapshot
from yizhan.core import concurrency
from yizhan.operations.models import OperatingStatus, RosterEntry
from yizhan.orgs.models import Unit, UnitKind
from yizhan.orgs.scoping import scope_for, scoped
from yizhan.training.models import (
    MAX_GRADE,
    Certificate,
    Course,
    Drill,
    DrillKind,
    Enrolment,
    Finding,
    Provider,
    Session,
    Status,
    VenueKind,
)

MAX_VALIDITY_MONTHS = 240
MAX_CAPACITY = 10000
MAX_INVITEES = 5000
COURSE_FIELDS = [
    "title", "title_en", "hours", "pass_mark", "provider_kind", "provider", "certificate",
    "validity_months", "first_responder", "renews", "active",
]  # fmt: skip


def _text(data, name, errors, *, limit, required=False) -> str:
    text = str(data.get(name) if data.get(name) is not None else "").strip()
    if required and not text:
        errors[name] = _("This field is required.")
    elif len(text) > limit:
        errors[name] = _("At most %(n)s characters.") % {"n": limit}
    return text


def _int(data, name, errors, *, low, high, required=True, message=None):
    value = data.get(name)
    if value in (None, ""):
        if required:
            errors[name] = _("This field is required.")
        return None
    try:
        if isinstance(value, bool):
            raise ValueError
        number = int(str(value).strip())
        if not low <= number <= high:
            raise ValueError
    except (TypeError, ValueError):
        errors[name] = message or _("Enter a whole number from %(low)s to %(high)s.") % {
            "low": low,
            "high": high,
        }
        return None
    return number


def _bool(value) -> bool:
    if isinstance(value, str):
        return value.strip().lower() in {"1", "true", "on", "yes", "是"}
    return bool(value)


def _require_on(actor, unit: Unit, perm: str = "change", field: str = "unit") -> None:
    """The actor's role allows `perm` and their subtree holds `unit` (else: as if not there)."""
    if actor is None:
        return
    scope = scope_for(actor)
    if not scope.covers(unit.path):
        raise ValidationError({field: _("No unit with this code in your scope.")})
    if not scope.can(perm):
        raise PermissionDenied


# --- courses --------------------------------------------------------------------------------------


def clean_grade(value, field: str = "grade") -> Decimal:
    try:
        grade = Decimal(str(value).strip())
        if not grade.is_finite() or not 0 <= grade <= MAX_GRADE:
            raise InvalidOperation
        if grade != grade.quantize(Decimal("0.1")):
            raise InvalidOperation
    except (InvalidOperation, ValueError, TypeError):
        raise ValidationError(
            {field: _("Enter a grade from 0 to %(max)s (one decimal at most).") % {"max": MAX_GRADE}}
        ) from None
    return grade


def clean_course(data: dict, *, instance: Course | None = None, user=None) -> dict:
    errors: dict[str, str] = {}
    out: dict = {}
    out["title"] = _text(data, "title", errors, limit=100, required=True)
    out["title_en"] = _text(data, "title_en", errors, limit=200)
    try:
        hours = Decimal(str(data.get("hours")).strip())
        if (
            not hours.is_finite()
            or not Decimal("0.5") <= hours <= 1000
            or hours != hours.quantize(Decimal("0.1"))
        ):
            raise InvalidOperation
        out["hours"] = hours
    except (InvalidOperation, ValueError, TypeError):
        errors["hours"] = _("Enter the hours, from 0.5 to 1000.")
    out["pass_mark"] = _int(data, "pass_mark", errors, low=0, high=MAX_GRADE)
    kind = str(data.get("provider_kind") or "")
    if kind not in Provider.values:
        errors["provider_kind"] = _("Choose in-house or an external body.")
    out["provider_kind"] = kind
    out["provider"] = _text(data, "provider", errors, limit=100, required=kind == Provider.EXTERNAL)
    out["certificate"] = _text(data, "certificate", errors, limit=100)
    validity = data.get("validity_months")
    if out["certificate"]:
        out["validity_months"] = _int(
            data, "validity_months", errors, low=1, high=MAX_VALIDITY_MONTHS,
            message=_("A certificate is valid for 1 to 240 months."),
        )  # fmt: skip
    elif validity not in (None, ""):
        out["validity_months"] = _int(
            data, "validity_months", errors, low=1, high=MAX_VALIDITY_MONTHS,
            message=_("A certificate is valid for 1 to 240 months."),
        )  # fmt: skip
        if "validity_months" not in errors:
            errors["certificate"] = _("Name the certificate this validity is for.")
    else:
        out["validity_months"] = None
    out["first_responder"] = _bool(data.get("first_responder"))
    if out["first_responder"] and not out["certificate"]:
        errors["first_responder"] = _("Only a course that grants a certificate can certify first responders.")
    out["active"] = _bool(data.get("active", True))
    renews = data.get("renews")
    out["renews"] = None
    if renews not in (None, ""):
        code = renews.code if isinstance(renews, Course) else str(renews).strip()
        found = (
            scoped(user, Course).filter(code=code).first()
            if user is not None
            else Course.objects.filter(code=code).first()
        )
        if found is None:
            errors["renews"] = _("No course with this code.")
        elif instance is not None and found.pk == instance.pk:
            errors["renews"] = _("A course cannot renew itself.")
        else:
            out["renews"] = found
    if errors:
        raise ValidationError(errors)
    return out


def _course_snapshot(course: Course) -> dict:
    values = snapshot(course, [f if f != "renews" else "renews_id" for f in COURSE_FIELDS])
    values["hours"] = str(course.hours)
    return values


@transaction.atomic
def create_course(*, actor, owner: Unit, code: str, **data) -> Course:
    _require_on(actor, owner, "admin", "owner")
    errors = {}
    code = str(code or "").strip().upper()
    if not code or len(code) > 32 or not all(c.isalnum() or c in "-_" for c in code) or not code.isascii():
        errors["code"] = _("Use letters, digits, '-' and '_' only.")
    elif Course.objects.filter(code=code).exists():
        errors["code"] = _("A course with this code exists already.")
    try:
        clean = clean_course(data, user=actor)
    except ValidationError as exc:
        errors.update({k: v[0] for k, v in exc.message_dict.items()})
    if errors:
        raise ValidationError(errors)
    course = Course.objects.create(code=code, owner=owner, **clean)
    record(
        "training.course.created", course, actor=actor, unit=owner, changes=diff({}, _course_snapshot(course))
    )
    return course


@transaction.atomic
def update_course(course: Course, *, actor, revision=None, **data) -> Course:
    course = Course.objects.select_for_update().select_related("owner").get(pk=course.pk)
    _require_on(actor, course.owner, "admin", "owner")
    concurrency.check(course, revision, actor=actor)
    current = {f: getattr(course, f) for f in COURSE_FIELDS}
    clean = clean_course({**current, **data}, instance=course, user=actor)
    before = _course_snapshot(course)
    for name, value in clean.items():
        setattr(course, name, value)
    changes = diff(before, _course_snapshot(course))
    if not changes:
        return course
    changes = concurrency.advance(course, changes, actor=actor)
    course.save()
    record("training.course.updated", course, actor=actor, unit=course.owner, changes=changes)
    return course


def add_months(day: datetime.date, months: int) -> datetime.date:
    month = day.month - 1 + months
    year, month = day.year + month // 12, month % 12 + 1
    return datetime.date(year, month, min(day.day, pycalendar.monthrange(year, month)[1]))


def expiry(course: Course, issued_on: datetime.date) -> datetime.date:
    """Valid through the day before the anniversary: issued 2022-11-15 for 36 months, valid to
    2025-11-14."""
    return add_months(issued_on, course.validity_months) - datetime.timedelta(days=1)


# --- sessions -------------------------------------------------------------------------------------


def parse_moment(value, field: str) -> datetime.datetime | None:
    if isinstance(value, datetime.datetime):
        moment = value
    else:
        text = str(value or "").strip()
        if not text:
            return None
        try:
            moment = datetime.datetime.fromisoformat(text.replace(" ", "T"))
        except ValueError:
            raise ValidationError({field: _("Enter a date and time, e.g. 2026-12-01 09:00.")}) from None
    if timezone.is_naive(moment):
        moment = timezone.make_aware(moment, timezone.get_default_timezone())
    return moment


def clean_session(data: dict, *, unit: Unit, user) -> dict:
    errors: dict[str, str] = {}
    out: dict = {}
    kind = str(data.get("venue_kind") or "")
    if kind not in VenueKind.values:
        errors["venue_kind"] = _("Choose outlets, a station or an external venue.")
    out["venue_kind"] = kind
    out["venue"] = _text(data, "venue", errors, limit=200, required=kind == VenueKind.EXTERNAL)
    out["trainer"] = _text(data, "trainer", errors, limit=100)
    out["capacity"] = _int(data, "capacity", errors, low=1, high=MAX_CAPACITY)
    for name in ("starts_at", "ends_at"):
        try:
            out[name] = parse_moment(data.get(name), name)
            if out[name] is None:
                errors[name] = _("This field is required.")
        except ValidationError as exc:
            errors.update({k: v[0] for k, v in exc.message_dict.items()})
            out[name] = None
    if out.get("starts_at") and out.get("ends_at") and out["ends_at"] <= out["starts_at"]:
        errors["ends_at"] = _("A session ends after it starts.")
    elif (
        out.get("starts_at")
        and out.get("ends_at")
        and out["ends_at"] - out["starts_at"] > datetime.timedelta(days=14)
    ):
        errors["ends_at"] = _("A session lasts at most 14 days.")
    codes = data.get("outlets") or []
    if isinstance(codes, str):
        codes = codes.replace("，", ",").replace("\n", ",").split(",")
    codes = [str(c).strip() for c in codes if str(c).strip()]
    out["outlets"] = []
    if kind == VenueKind.OUTLETS:
        if not codes:
            errors["outlets"] = _("Name at least one outlet.")
        elif len(codes) > 500:
            errors["outlets"] = _("At most 500 outlets in one session.")
        else:
            found = {
                u.code: u
                for u in scoped(user, Unit).filter(
                    code__in=codes, kind=UnitKind.OUTLET, path__startswith=unit.path
                )
            }
            missing = [c for c in codes if c not in found]
            if missing:
                errors["outlets"] = _(
                    "No outlet with this code under the organising unit in your scope: %(code)s"
                ) % {"code": missing[0][:40]}
            out["outlets"] = list({c: found[c] for c in codes if c in found}.values())
    out["station"] = None
    if kind == VenueKind.STATION:
        from yizhan.stations.models import Station

        code = str(data.get("station") or "").strip()
        station = (
            scoped(user, Station).filter(code=code, unit__path__startswith=unit.path).first()
            if code
            else None
        )
        if station is None:
            errors["station"] = _("No station with this code under the organising unit in your scope.")
        out["station"] = station
    if errors:
        raise ValidationError(errors)
    return out


def session_warnings(session: Session) -> list[str]:
    """Not refused, but worth a second look: a session on a public holiday or a rest day, or at an
    outlet that is closed (or closed by order) when it starts."""
    from yizhan.stations.hours import current_calendar

    warnings = []
    cal = current_calendar()
    day = timezone.localdate(session.starts_at)
    last = timezone.localdate(session.ends_at)
    while day <= last:
        if cal.kind(day) == "off":
            warnings.append(_("%(day)s is a public holiday.") % {"day": day.isoformat()})
        elif not cal.is_workday(day):
            warnings.append(_("%(day)s is not a working day.") % {"day": day.isoformat()})
        day += datetime.timedelta(days=1)
    outlets = list(session.outlets.all()) if session.pk else []
    if session.station_id:
        outlets.append(session.station.unit)
    closed = set(
        OperatingStatus.objects.in_force(session.starts_at)
        .filter(unit__in=outlets, state__in=["closed", "closed_by_order"])
        .values_list("unit_id", flat=True)
    )
    for outlet in outlets:
        if outlet.closed_on is not None or outlet.pk in closed:
            warnings.append(_("%(outlet)s is closed then.") % {"outlet": outlet.name})
    return warnings


SESSION_FIELDS = ["venue_kind", "venue", "trainer", "capacity", "starts_at", "ends_at", "station_id"]


@transaction.atomic
def create_session(*, actor, course: Course, unit: Unit, **data) -> Session:
    _require_on(actor, unit)
    if actor is not None and not scoped(actor, Course).filter(pk=course.pk).exists():
        raise ValidationError({"course": _("No course with this code.")})
    if not course.active:
        raise ValidationError({"course": _("This course is no longer offered.")})
    clean = clean_session(data, unit=unit, user=actor)
    outlets = clean.pop("outlets")
    session = Session.objects.create(
        course=course, unit=unit, created_by=actor if getattr(actor, "pk", None) else None, **clean
    )
    session.outlets.set(outlets)
    changes = diff({}, snapshot(session, SESSION_FIELDS))
    changes["course"] = [None, course.code]
    if outlets:
        changes["outlets"] = [None, [o.code for o in outlets]]
    record("training.session.created", session, actor=actor, unit=unit, changes=changes)
    return session


MARKED = (Status.ATTENDED, Status.ABSENT, Status.PASSED, Status.FAILED)
# Told when a session moves or is cancelled: who may still come (not who declined).
EXPECTED = (Status.INVITED, Status.ACCEPTED)


def _require_not_cancelled(session: Session, field: str = "session") -> None:
    if session.cancelled_at is not None:
        raise ValidationError({field: _("This session is cancelled.")})


def _session_snapshot(session: Session) -> dict:
    values = snapshot(session, SESSION_FIELDS)
    values["outlets"] = sorted(o.code for o in session.outlets.all())
    return values


def _when(session: Session) -> str:
    start, end = timezone.localtime(session.starts_at), timezone.localtime(session.ends_at)
    return (
        f"{start:%Y-%m-%d %H:%M}–{end:%H:%M}"
        if start.date() == end.date()
        else f"{start:%Y-%m-%d %H:%M}–{end:%Y-%m-%d %H:%M}"
    )


def _where(session: Session) -> str:
    if session.station_id:
        return session.station.name
    if session.venue_kind == VenueKind.OUTLETS:
        return "、".join(o.name for o in session.outlets.order_by("path")[:5])
    return session.venue


def _tell_expected(session: Session, template: str, context: dict, key: str) -> int:
    """Queue a message to everyone still expected who has a login; returns how many."""
    from yizhan.notify.services import Recipient, notify

    people = session.enrolments.filter(status__in=EXPECTED, entry__user__is_active=True).select_related(
        "entry__user"
    )
    recipients = [Recipient(unit_id=e.unit_id, user=e.entry.user) for e in people]
    if not recipients:
        return 0
    summary = notify(recipients, template, context, key=key)
    return summary.queued + summary.held


def session_values(session: Session) -> dict:
    """A session's fields as `clean_session` takes them (its station and outlets by code): what
    a change starts from, and what the edit form shows."""
    values = {f: getattr(session, f) for f in SESSION_FIELDS if f != "station_id"}
    values["station"] = session.station.code if session.station_id else ""
    values["outlets"] = [o.code for o in session.outlets.order_by("path")]
    return values


@transaction.atomic
def update_session(session: Session, *, actor, revision=None, **data) -> Session:
    """Change a session not yet held: its times, venue, trainer or capacity (never below the people
    enrolled). Those still expected are told when it moves or changes venue."""
    session = _session_locked(session)
    _require_on(actor, session.unit)
    concurrency.check(session, revision, actor=actor)
    _require_not_cancelled(session)
    if session.enrolments.filter(status__in=MARKED).exists():
        raise ValidationError(
            {"session": _("Attendance is marked already: the session can no longer change.")}
        )
    current = session_values(session)
    data = {k: v for k, v in data.items() if k in current}
    clean = clean_session({**current, **data}, unit=session.unit, user=actor)
    enrolled = session.enrolments.count()
    if clean["capacity"] < enrolled:
        raise ValidationError(
            {"capacity": _("%(n)s people are enrolled: the capacity cannot be lower.") % {"n": enrolled}}
        )
    before = _session_snapshot(session)
    was_when, was_where = _when(session), _where(session)
    outlets = clean.pop("outlets")
    for name, value in clean.items():
        setattr(session, name, value)
    session.outlets.set(outlets)
    changes = diff(before, _session_snapshot(session))
    if not changes:
        return session
    changes = concurrency.advance(session, changes, actor=actor)
    session.save()
    now_when, now_where = _when(session), _where(session)
    if (was_when, was_where) != (now_when, now_where):
        told = _tell_expected(
            session, "training-session-moved",
            {"course": session.course.title, "was": was_when, "now": now_when, "where": now_where or "—"},
            key=f"session-{session.pk}-r{session.revision}",
        )  # fmt: skip
        changes["notified"] = [None, told]
    record("training.session.updated", session, actor=actor, unit=session.unit, changes=changes)
    return session


@transaction.atomic
def cancel_session(session: Session, *, actor, reason: str, revision=None) -> Session:
    """Call a session off before anyone's attendance is marked, with a reason the people still
    expected are told. Invitations stay, for the record; nothing more can be done with them."""
    session = _session_locked(session)
    _require_on(actor, session.unit)
    concurrency.check(session, revision, actor=actor)
    _require_not_cancelled(session)
    errors: dict = {}
    reason = _text({"reason": reason}, "reason", errors, limit=200, required=True)
    if errors:
        raise ValidationError(errors)
    if session.enrolments.filter(status__in=MARKED).exists():
        raise ValidationError(
            {"session": _("Attendance is marked already: the session can no longer be cancelled.")}
        )
    session.cancelled_at, session.cancel_reason = timezone.now(), reason
    changes = concurrency.advance(session, {"cancel_reason": ["", reason]}, actor=actor)
    session.save()
    told = _tell_expected(
        session, "training-session-cancelled",
        {"course": session.course.title, "when": _when(session), "reason": reason},
        key=f"session-{session.pk}-cancelled",
    )  # fmt: skip
    changes["notified"] = [None, told]
    record("training.session.cancelled", session, actor=actor, unit=session.unit, changes=changes)
    return session


# --- invitations, attendance, results -------------------------------------------------------------


def _session_locked(session: Session) -> Session:
    return Session.objects.select_for_update().select_related("course", "unit").get(pk=session.pk)


@transaction.atomic
def invite(session: Session, *, actor, unit: Unit | None = None, position: str = "", entries=None) -> int:
    """Invite people on the roster: those of a unit's subtree (with a job title, optionally), or a
    list of roster entries (ids). Everyone must be under the organising unit and in the actor's
    scope; people already enrolled are left as they are. Returns how many were invited."""
    session = _session_locked(session)
    _require_on(actor, session.unit)
    _require_not_cancelled(session, "entries")
    today = timezone.localdate(session.starts_at)
    if entries:
        try:
            ids = sorted({int(e.pk if isinstance(e, RosterEntry) else e) for e in entries})
            if ids[0] < 1 or ids[-1] >= 2**63:
                raise ValueError
        except (TypeError, ValueError):
            raise ValidationError({"entries": _("Give roster entries by their numbers.")}) from None
        people = list(RosterEntry.objects.filter(pk__in=ids).select_related("unit"))
        outside = set(ids) - {p.pk for p in people}
        scope = scope_for(actor) if actor is not None else None
        for p in people:
            if not p.unit.path.startswith(session.unit.path) or (scope and not scope.covers(p.unit.path)):
                outside.add(p.pk)
        if outside:
            raise ValidationError(
                {"entries": _("Not on the roster of the organising unit in your scope: %(ids)s")
                 % {"ids": ", ".join(str(i) for i in sorted(outside)[:10])}}
            )  # fmt: skip
    elif unit is not None:
        if not unit.path.startswith(session.unit.path):
            raise ValidationError({"unit": _("Invite people under the organising unit.")})
        _require_on(actor, unit)
        people = RosterEntry.objects.on(today).filter(unit__path__startswith=unit.path)
        position = str(position or "").strip()
        if position:
            people = people.filter(position=position)
        people = list(people)
    else:
        raise ValidationError({"entries": _("Name a unit or list the people to invite.")})
    if len(people) > MAX_INVITEES:
        raise ValidationError({"entries": _("At most 5000 people at once.")})
    already = set(session.enrolments.values_list("entry_id", flat=True))
    new = [p for p in people if p.pk not in already]
    if len(already) + len(new) > session.capacity:
        raise ValidationError(
            {
                "entries": _("The session has %(free)s places left.")
                % {"free": max(session.capacity - len(already), 0)}
            }
        )
    Enrolment.objects.bulk_create([Enrolment(session=session, entry=p, unit_id=p.unit_id) for p in new])
    if new:
        record(
            "training.invited", session, actor=actor, unit=session.unit, changes={"invited": [None, len(new)]}
        )
    return len(new)


def _enrolment_locked(enrolment: Enrolment) -> Enrolment:
    return (
        Enrolment.objects.select_for_update()
        .select_related("session__course", "session__unit", "entry")
        .get(pk=enrolment.pk)
    )


def _save_status(enrolment: Enrolment, before: dict, actor, action: str) -> Enrolment:
    enrolment.marked_at = timezone.now()
    enrolment.save()
    after = snapshot(enrolment, ["status", "grade"])
    after["grade"] = str(enrolment.grade) if enrolment.grade is not None else None
    changes = diff(before, after)
    if changes:
        changes["for"] = [None, enrolment.entry.name]
        record(action, enrolment, actor=actor, unit=enrolment.unit, changes=changes)
    return enrolment


def _before(enrolment: Enrolment) -> dict:
    return {
        "status": enrolment.status,
        "grade": str(enrolment.grade) if enrolment.grade is not None else None,
    }


@transaction.atomic
def reply(enrolment: Enrolment, *, actor, accept: bool) -> Enrolment:
    """The person (their own login) or someone who may change their unit accepts or declines."""
    enrolment = _enrolment_locked(enrolment)
    if not (actor is None or enrolment.entry.user_id == actor.pk):
        _require_on(actor, enrolment.unit)
    _require_not_cancelled(enrolment.session, "status")
    if enrolment.status not in (Status.INVITED, Status.ACCEPTED, Status.DECLINED):
        raise ValidationError({"status": _("Attendance is marked already.")})
    before = _before(enrolment)
    enrolment.status = Status.ACCEPTED if accept else Status.DECLINED
    return _save_status(enrolment, before, actor, "training.replied")


def _withdraw(enrolment: Enrolment, reason: str) -> None:
    cert = Certificate.objects.filter(enrolment=enrolment, withdrawn_at__isnull=True).first()
    if cert is not None:
        cert.withdrawn_at, cert.withdrawn_reason = timezone.now(), reason
        cert.save(update_fields=["withdrawn_at", "withdrawn_reason"])


def _grant(enrolment: Enrolment) -> Certificate | None:
    course = enrolment.session.course
    if not course.grants_certificate:
        return None
    issued = timezone.localdate(enrolment.session.ends_at)
    cert, _created = Certificate.objects.update_or_create(
        enrolment=enrolment,
        defaults={
            "entry": enrolment.entry, "unit_id": enrolment.unit_id, "course": course, "name": course.certificate,
            "first_responder": course.first_responder, "issued_on": issued, "expires_on": expiry(course, issued),
            "withdrawn_at": None, "withdrawn_reason": "",
        },
    )  # fmt: skip
    return cert


def clean_result(session: Session, data: dict) -> tuple[str, Decimal | None]:
    """(status, grade) from a grade or an attendance word; the grade decides passed / failed."""
    grade = data.get("grade")
    status = str(data.get("status") or "").strip()
    if grade not in (None, ""):
        grade = clean_grade(grade)
        return (Status.PASSED if grade >= session.course.pass_mark else Status.FAILED), grade
    if status in (Status.ATTENDED, Status.ABSENT):
        return status, None
    if status:
        raise ValidationError({"status": _("Mark attended or absent, or give a grade.")})
    raise ValidationError({"grade": _("Give a grade, or mark attended or absent.")})


def _apply_result(enrolment: Enrolment, status: str, grade, actor) -> Enrolment:
    before = _before(enrolment)
    enrolment.status, enrolment.grade = status, grade
    if status == Status.PASSED:
        _grant(enrolment)
    else:
        _withdraw(enrolment, _("Result changed to %(status)s") % {"status": enrolment.get_status_display()})
    return _save_status(enrolment, before, actor, "training.result")


@transaction.atomic
def record_result(enrolment: Enrolment, *, actor, grade=None, status: str = "") -> Enrolment:
    """Attended, absent, or a grade (passed / failed against the course's pass mark). Passing
    grants the course's certificate; anything else withdraws what an earlier pass granted."""
    enrolment = _enrolment_locked(enrolment)
    _require_on(actor, enrolment.session.unit)
    _require_not_cancelled(enrolment.session, "status")
    if timezone.localdate(enrolment.session.starts_at) > timezone.localdate():
        raise ValidationError({"status": _("The session has not taken place yet.")})
    status, grade = clean_result(enrolment.session, {"grade": grade, "status": status})
    return _apply_result(enrolment, status, grade, actor)


@transaction.atomic
def delete_result(enrolment: Enrolment, *, actor) -> Enrolment:
    """Back to "accepted" with no grade; the certificate it granted is withdrawn."""
    enrolment = _enrolment_locked(enrolment)
    _require_on(actor, enrolment.session.unit)
    if enrolment.status not in (Status.ATTENDED, Status.ABSENT, Status.PASSED, Status.FAILED):
        raise ValidationError({"status": _("There is no result to delete.")})
    before = _before(enrolment)
    enrolment.status, enrolment.grade = Status.ACCEPTED, None
    _withdraw(enrolment, _("Result deleted"))
    return _save_status(enrolment, before, actor, "training.result_deleted")


def result_for(session: Session, *, entry_id=None, badge: str = "") -> Enrolment:
    """The enrolment of a person in a session, by roster entry or staff badge; someone not enrolled
    is refused, never added on the fly."""
    enrolments = session.enrolments.select_related("entry")
    if badge:
        badge = str(badge).strip()[:64]
        found = enrolments.filter(entry__employee_no=badge).first()
        field = "badge"
    else:
        try:
            number = int(entry_id)
            found = enrolments.filter(entry_id=number).first() if 0 < number < 2**63 else None
        except (TypeError, ValueError):
            found = None
        field = "entry"
    if found is None:
        raise ValidationError({field: _("This person is not enrolled in this session.")})
    return found


@transaction.atomic
def scan_badge(session: Session, *, actor, badge: str) -> Enrolment:
    """A staff badge scanned at the door: the person attended."""
    enrolment = result_for(session, badge=badge)
    if enrolment.status in (Status.PASSED, Status.FAILED, Status.ATTENDED):
        return enrolment
    return record_result(enrolment, actor=actor, status=Status.ATTENDED)


# The results sheet: one row per person, Chinese headers.
SHEET_NUMBER, SHEET_NAME, SHEET_GRADE, SHEET_ATTENDANCE = "工号", "姓名", "成绩", "出勤"
ABSENT_WORDS = {"缺席", "缺勤", "absent", "否"}


def import_results(session: Session, *, actor, name: str, data: bytes) -> int:
    """A results sheet (xlsx / csv through the one safe reader): 工号, 姓名 (checked when given),
    成绩 and/or 出勤 (缺席 for absent). All or nothing: any bad row refuses the whole file, naming
    the row and the column."""
    from yizhan.core.filereader import FileRefused, read_table

    session = Session.objects.select_related("course", "unit").get(pk=session.pk)
    _require_on(actor, session.unit)
    _require_not_cancelled(session, "file")
    if timezone.localdate(session.starts_at) > timezone.localdate():
        raise ValidationError({"file": _("The session has not taken place yet.")})
    try:
        table = read_table(name, data, max_rows=MAX_CAPACITY)
    except FileRefused as exc:
        where = (
            _(" (row %(row)s, column %(column)s)") % {"row": exc.row, "column": exc.column} if exc.row else ""
        )
        raise ValidationError({"file": exc.message + where}) from None
    headers = [h.strip() for h in table.headers]
    if SHEET_NUMBER not in headers or (SHEET_GRADE not in headers and SHEET_ATTENDANCE not in headers):
        raise ValidationError(
            {"file": _("The sheet needs the columns 工号 and 成绩 (or 出勤); found: %(found)s")
             % {"found": "、".join(h for h in headers if h)[:200]}}
        )  # fmt: skip
    col = {h: i for i, h in enumerate(headers) if h}
    enrolled = {
        e.entry.employee_no: e for e in session.enrolments.select_related("entry") if e.entry.employee_no
    }
    known = set(
        RosterEntry.objects.filter(unit__path__startswith=session.unit.path)
        .exclude(employee_no="")
        .values_list("employee_no", flat=True)
    )
    errors, seen, results = [], {}, []

    def cell(cells, header):
        i = col.get(header)
        return cells[i].strip() if i is not None and i < len(cells) else ""

    for row, cells in table.rows:
        number = cell(cells, SHEET_NUMBER)
        where = {"row": row, "column": SHEET_NUMBER}
        if not number:
            errors.append(_("Row %(row)s, column %(column)s: the staff number is missing.") % where)
            continue
        if number in seen:
            errors.append(
                _("Row %(row)s, column %(column)s: %(number)s is already on row %(first)s.")
                % {**where, "number": number[:40], "first": seen[number]}
            )
            continue
        seen[number] = row
        enrolment = enrolled.get(number)
        if enrolment is None:
            message = (
                _("Row %(row)s, column %(column)s: %(number)s is not enrolled in this session.")
                if number in known
                else _(
                    "Row %(row)s, column %(column)s: no one on the roster has the staff number %(number)s."
                )
            )
            errors.append(message % {**where, "number": number[:40]})
            continue
        given_name = cell(cells, SHEET_NAME)
        if given_name and given_name != enrolment.entry.name:
            errors.append(
                _("Row %(row)s, column %(column)s: %(number)s is %(name)s on the roster.")
                % {"row": row, "column": SHEET_NAME, "number": number[:40], "name": enrolment.entry.name}
            )
            continue
        grade, attendance = cell(cells, SHEET_GRADE), cell(cells, SHEET_ATTENDANCE)
        try:
            if attendance.lower() in ABSENT_WORDS:
                if grade:
                    raise ValidationError({"grade": _("An absent person has no grade.")})
                status, value = clean_result(session, {"status": Status.ABSENT})
            else:
                status, value = clean_result(session, {"grade": grade, "status": Status.ATTENDED})
        except ValidationError as exc:
            column = SHEET_GRADE if "grade" in exc.message_dict else SHEET_ATTENDANCE
            errors.append(
                _("Row %(row)s, column %(column)s: %(message)s")
                % {"row": row, "column": column, "message": next(iter(exc.message_dict.values()))[0]}
            )
            continue
        results.append((enrolment, status, value))
    if errors:
        more = _(" … and %(n)s more.") % {"n": len(errors) - 5} if len(errors) > 5 else ""
        raise ValidationError({"file": " ".join(errors[:5]) + more})
    if not results:
        raise ValidationError({"file": _("The sheet has no rows.")})
    from yizhan.audit.services import audit_via

    with audit_via("import"), transaction.atomic():
        for enrolment, status, value in results:
            _apply_result(_enrolment_locked(enrolment), status, value, actor)
        record(
            "training.results_imported",
            session,
            actor=actor,
            unit=session.unit,
            changes={"rows": [None, len(results)]},
        )
    return len(results)


# --- people's records and expiring certificates ---------------------------------------------------


def person_record(entry: RosterEntry, today: datetime.date | None = None) -> dict:
    today = today or timezone.localdate()
    trainings = list(
        Enrolment.objects.filter(entry=entry)
        .select_related("session__course")
        .order_by("-session__starts_at")
    )
    certificates = list(
        Certificate.objects.filter(entry=entry).select_related("course").order_by("-issued_on")
    )
    for cert in certificates:
        cert.valid_now = cert.is_valid(today)
    return {"entry": entry, "trainings": trainings, "certificates": certificates, "today": today}


def expiring(unit: Unit, *, within: int = 30, today: datetime.date | None = None, limit: int | None = None):
    """Valid certificates of the subtree's people that expire in the next `within` days, soonest
    first: (certificate id, expires on, certificate, person, staff number, unit name)."""
    today = today or timezone.localdate()
    rows = (
        Certificate.objects.filter(withdrawn_at__isnull=True, expires_on__gte=today)
        .filter(expires_on__lte=today + datetime.timedelta(days=within), issued_on__lte=today)
        .order_by("expires_on", "pk")
    )
    if unit.parent_id is not None:
        rows = rows.filter(unit__path__startswith=unit.path)
    rows = rows.values_list(
        "pk", "expires_on", "name", "entry__name", "entry__employee_no", "unit__name", "entry_id"
    )
    return list(rows[:limit] if limit else rows)


def next_renewal_session(cert: Certificate, unit: Unit, after: datetime.datetime):
    """The next session, organised at or above the person's unit, of the course or of a course that
    renews it."""
    ids = [unit.path[: i + 1] for i, ch in enumerate(unit.path) if ch == "/" and i > 0]
    return (
        Session.objects.filter(Q(course_id=cert.course_id) | Q(course__renews_id=cert.course_id))
        .filter(starts_at__gt=after, unit__path__in=ids, cancelled_at__isnull=True)
        .select_related("course")
        .order_by("starts_at")
        .first()
    )


# --- drills ---------------------------------------------------------------------------------------


def clean_times(value) -> list[dict]:
    if value in (None, ""):
        return []
    if isinstance(value, str):
        items = []
        for line in [ln for ln in value.replace("；", "\n").splitlines() if ln.strip()]:
            label, _sep, seconds = line.rpartition(" ")
            items.append({"label": label.strip(), "seconds": seconds.strip().rstrip("秒s")})
        value = items
    if not isinstance(value, list) or len(value) > 30:
        raise ValidationError({"times": _("Give at most 30 timed steps, each a label and seconds.")})
    out = []
    for n, item in enumerate(value, start=1):
        label = str(item.get("label") or "").strip() if isinstance(item, dict) else ""
        try:
            seconds = int(str(item.get("seconds")).strip()) if isinstance(item, dict) else -1
            if not 0 <= seconds <= 86400:
                raise ValueError
        except (TypeError, ValueError):
            seconds = None
        if not label or len(label) > 100 or seconds is None:
            raise ValidationError(
                {
                    "times": _(
                        "Step %(n)s: give a label (at most 100 characters) and seconds from 0 to 86400."
                    )
                    % {"n": n}
                }
            )
        out.append({"label": label, "seconds": seconds})
    return out


def clean_drill(data: dict) -> dict:
    errors: dict[str, str] = {}
    out: dict = {}
    kind = str(data.get("kind") or "")
    if kind not in DrillKind.values:
        errors["kind"] = _("Choose the kind of drill.")
    out["kind"] = kind
    out["scenario"] = _text(data, "scenario", errors, limit=4000, required=True)
    out["summary"] = _text(data, "summary", errors, limit=4000)
    try:
        out["held_at"] = parse_moment(data.get("held_at"), "held_at")
        if out["held_at"] is None:
            errors["held_at"] = _("This field is required.")
        elif out["held_at"] > timezone.now() + datetime.timedelta(minutes=5):
            errors["held_at"] = _("Record a drill once it has been held.")
    except ValidationError as exc:
        errors.update({k: v[0] for k, v in exc.message_dict.items()})
    try:
        out["times"] = clean_times(data.get("times"))
    except ValidationError as exc:
        errors.update({k: v[0] for k, v in exc.message_dict.items()})
    if errors:
        raise ValidationError(errors)
    return out


@transaction.atomic
def record_drill(
    *, actor, unit: Unit, participants=(), findings=(), working_days=5, opened_on=None,
    exercises_plan=False, **data,
) -> Drill:  # fmt: skip
    """A drill held at an outlet; each finding becomes a rectification due in working days. With
    exercises_plan, the drill is recorded against the outlet's contingency plan."""
    from yizhan.operations.models import OutletPlan

    if unit.kind != UnitKind.OUTLET:
        raise ValidationError({"outlet": _("Drills are held at outlets.")})
    _require_on(actor, unit, field="outlet")
    clean = clean_drill(data)
    if exercises_plan:
        clean["plan"] = OutletPlan.objects.filter(unit=unit).first()
        if clean["plan"] is None:
            raise ValidationError(
                {"exercises_plan": _("This outlet has no contingency plan yet: fill it in first.")}
            )
    try:
        ids = sorted({int(p.pk if isinstance(p, RosterEntry) else p) for p in participants or ()})
        if ids and (ids[0] < 1 or ids[-1] >= 2**63):
            raise ValueError
    except (TypeError, ValueError):
        raise ValidationError({"participants": _("Give roster entries by their numbers.")}) from None
    people = list(RosterEntry.objects.filter(pk__in=ids, unit__path__startswith=unit.path))
    if len(people) != len(ids):
        raise ValidationError({"participants": _("Participants must be on the outlet's roster.")})
    drill = Drill.objects.create(unit=unit, created_by=actor if getattr(actor, "pk", None) else None, **clean)
    drill.participants.set(people)
    record(
        "training.drill.recorded", drill, actor=actor, unit=unit,
        changes={"kind": [None, drill.kind], "participants": [None, len(people)],
                 **({"plan": [None, str(drill.plan)]} if drill.plan else {})},
    )  # fmt: skip
    for item in findings or ():
        item = item if isinstance(item, dict) else {"title": item}
        add_finding(drill, actor=actor, working_days=working_days, opened_on=opened_on, **item)
    return drill


@transaction.atomic
def add_finding(
    drill: Drill, *, actor, title: str, detail: str = "", working_days=5, opened_on=None
) -> Finding:
    """A finding, and its rectification through the operations mechanism (deadline in working
    days, respond, re-check, escalation)."""
    from yizhan.operations import rectifications

    _require_on(actor, drill.unit, field="outlet")
    errors = {}
    title = _text({"title": title}, "title", errors, limit=200, required=True)
    detail = _text({"detail": detail}, "detail", errors, limit=4000)
    if errors:
        raise ValidationError(errors)
    finding = Finding.objects.create(drill=drill, title=title, detail=detail)
    finding.rectification = rectifications.open_rectification(
        finding,
        unit=drill.unit,
        actor=actor,
        title=title,
        detail=detail,
        working_days=working_days,
        opened_on=opened_on,
    )
    finding.save(update_fields=["rectification"])
    record("training.drill.finding", drill, actor=actor, unit=drill.unit, changes={"finding": [None, title]})
    return finding
