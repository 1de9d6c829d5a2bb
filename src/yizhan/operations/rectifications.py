"""THE rectification mechanism (整改), and the spot checks and inspections that use it.

Any app that finds something an outlet must put right calls

    rectifications.open_rectification(source, unit=outlet, actor=user, title="…", working_days=5)

with its own model instance as `source` (an inspection here; a drill's finding or a supplies
alert elsewhere). The deadline is `working_days` after the day it is opened, from the statutory
calendar (`stations.hours.add_working_days`: holidays skipped, make-up workdays counted). Then:

    respond(r, actor=outlet_staff, text="…")          open → responded
    recheck(r, actor=checker, passed=True,  note="…")  responded → closed
    recheck(r, actor=checker, passed=False, note="…")  responded → open, with a new deadline
    escalate_overdue()                                 the daily job: overdue ones climb the tree

The outlet's staff (change role on the outlet) respond; re-checks are for staff above the outlet
(whoever checks may not be whoever is checked). An open rectification past its deadline is
escalated one level up (to the outlet's parent) on its first overdue day and one more every
`ESCALATE_EVERY` working days, up to head office; each level's admins are told once.
`for_source(obj)` lists an object's rectifications.
"""

import datetime

from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from yizhan.audit.services import diff, record, snapshot
from yizhan.core import concurrency
from yizhan.operations.models import Inspection, InspectionKind, Rectification, RectificationStatus
from yizhan.orgs.models import Membership, Role, Unit, UnitKind
from yizhan.orgs.scoping import scope_for

DEFAULT_WORKING_DAYS = 5
MAX_WORKING_DAYS = 60
ESCALATE_EVERY = 3
FIELDS = [
    "status",
    "due_on",
    "response",
    "responded_at",
    "recheck_note",
    "rechecked_at",
    "rechecks",
    "closed_at",
    "escalated_to_id",
]

# The default checklist of a spot check (seeds/001, 004): what the province looked at.
CHECKLIST = [
    gettext_lazy("One-metre lines marked and kept"),
    gettext_lazy("Seating spaced apart"),
    gettext_lazy("Temperature checks at the entrance"),
    gettext_lazy("Staff wear masks"),
    gettext_lazy("Counters and machines disinfected, sign shown"),
    gettext_lazy("Incoming cash disinfected; hospital cash kept apart"),
    gettext_lazy("Station facilities in working order"),
    gettext_lazy("Public notice of the operating status posted"),
]


def _calendar():
    from yizhan.stations import hours

    return hours.current_calendar()


def clean_working_days(value, field: str = "working_days") -> int:
    try:
        n = int(str(value).strip())
        if not 1 <= n <= MAX_WORKING_DAYS:
            raise ValueError
    except (TypeError, ValueError):
        raise ValidationError({field: _("Enter a whole number of working days from 1 to 60.")}) from None
    return n


def deadline(opened_on: datetime.date, working_days: int) -> datetime.date:
    from yizhan.stations.hours import add_working_days

    return add_working_days(opened_on, working_days, _calendar())


def _require_above(actor, unit: Unit) -> None:
    """Checks and re-checks are for staff above the outlet, with the change role."""
    if actor is None:
        return
    scope = scope_for(actor)
    if not (scope.can("change") and scope.covers(unit.path) and scope.unit_id != unit.pk):
        raise PermissionDenied


def _require_outlet_staff(actor, unit: Unit) -> None:
    if actor is None:
        return
    scope = scope_for(actor)
    if not (scope.can("change") and scope.covers(unit.path)):
        raise PermissionDenied


@transaction.atomic
def open_rectification(
    source,
    *,
    unit: Unit,
    actor,
    title: str,
    detail: str = "",
    working_days=DEFAULT_WORKING_DAYS,
    opened_on: datetime.date | None = None,
) -> Rectification:
    """A finding `unit` must put right within `working_days` working days."""
    errors = {}
    title = str(title or "").strip()
    if not title:
        errors["title"] = _("Say what must be put right.")
    elif len(title) > 200:
        errors["title"] = _("At most 200 characters.")
    if len(str(detail or "")) > 4000:
        errors["detail"] = _("At most 4000 characters.")
    try:
        working_days = clean_working_days(working_days)
    except ValidationError as exc:
        errors.update({k: v[0] for k, v in exc.message_dict.items()})
    if errors:
        raise ValidationError(errors)
    opened_on = opened_on or timezone.localdate()
    rect = Rectification.objects.create(
        unit=unit,
        source_type=ContentType.objects.get_for_model(source),
        source_id=source.pk,
        title=title,
        detail=str(detail or "").strip(),
        opened_on=opened_on,
        due_on=deadline(opened_on, working_days),
        created_by=actor if getattr(actor, "pk", None) else None,
    )
    record(
        "operations.rectification.opened",
        rect,
        actor=actor,
        changes=diff({}, snapshot(rect, ["title", "opened_on", "due_on", "status"])),
    )
    _tell(unit, [Role.MANAGER, Role.ADMIN], "rectification-opened", rect, key=f"rect-open-{rect.pk}")
    return rect


def _tell(unit: Unit, roles, template: str, rect: Rectification, *, key: str) -> int:
    from yizhan.notify.services import notify, staff

    members = Membership.objects.filter(unit=unit, role__in=roles, user__is_active=True).select_related(
        "user"
    )
    users = [m.user for m in members]
    if not users:
        return 0
    context = {"outlet": rect.unit.name, "title": rect.title, "due_on": rect.due_on.isoformat()}
    summary = notify(staff(users, unit), template, context, key=key)
    return summary.queued + summary.held


def _locked(rect: Rectification, revision, actor) -> Rectification:
    rect = Rectification.objects.select_for_update().select_related("unit").get(pk=rect.pk)
    concurrency.check(rect, revision, actor=actor)
    return rect


def _save(rect, before, action, actor) -> Rectification:
    changes = concurrency.advance(rect, diff(before, snapshot(rect, FIELDS)))
    rect.save()
    record(action, rect, actor=actor, changes=changes)
    return rect


@transaction.atomic
def respond(rect: Rectification, *, actor, text: str, revision=None) -> Rectification:
    """The outlet says what it did."""
    rect = _locked(rect, revision, actor)
    _require_outlet_staff(actor, rect.unit)
    text = str(text or "").strip()
    if rect.status != RectificationStatus.OPEN:
        raise ValidationError({"status": _("Only an open rectification can be responded to.")})
    if not text:
        raise ValidationError({"text": _("Say what was done.")})
    if len(text) > 4000:
        raise ValidationError({"text": _("At most 4000 characters.")})
    before = snapshot(rect, FIELDS)
    rect.status, rect.response, rect.responded_at = RectificationStatus.RESPONDED, text, timezone.now()
    return _save(rect, before, "operations.rectification.responded", actor)


@transaction.atomic
def recheck(
    rect: Rectification,
    *,
    actor,
    passed: bool,
    note: str = "",
    working_days=DEFAULT_WORKING_DAYS,
    revision=None,
):
    """Re-check what the outlet did: passed closes it; not passed opens it again with a new deadline."""
    rect = _locked(rect, revision, actor)
    _require_above(actor, rect.unit)
    if rect.status != RectificationStatus.RESPONDED:
        raise ValidationError({"status": _("Only a responded rectification can be re-checked.")})
    note = str(note or "").strip()
    if not passed and not note:
        raise ValidationError({"note": _("Say what is still wrong.")})
    before = snapshot(rect, FIELDS)
    rect.recheck_note, rect.rechecked_at = note[:4000], timezone.now()
    if passed:
        rect.status, rect.closed_at = RectificationStatus.CLOSED, timezone.now()
        action = "operations.rectification.closed"
    else:
        rect.status, rect.rechecks = RectificationStatus.OPEN, rect.rechecks + 1
        rect.due_on = deadline(timezone.localdate(), clean_working_days(working_days))
        rect.escalated_to = None
        action = "operations.rectification.reopened"
    return _save(rect, before, action, actor)


def escalation_target(rect: Rectification, today: datetime.date) -> Unit | None:
    """The unit an overdue rectification has climbed to by `today`: the outlet's parent on the
    first overdue day, one level more every ESCALATE_EVERY working days, head office at most."""
    if not rect.is_overdue(today):
        return None
    calendar = _calendar()
    span = min((today - rect.due_on).days, 400)
    late_days = sum(calendar.is_workday(rect.due_on + datetime.timedelta(days=i)) for i in range(1, span + 1))
    levels = 1 + max(late_days - 1, 0) // ESCALATE_EVERY
    chain = rect.unit.ancestor_ids()[:-1]  # root first, the outlet's parent last
    if not chain:
        return None
    return Unit.objects.get(pk=chain[max(len(chain) - levels, 0)])


def escalate_overdue(today: datetime.date | None = None) -> int:
    """The daily job: move overdue rectifications up the tree and tell each level's admins once."""
    today = today or timezone.localdate()
    moved = 0
    for rect in Rectification.objects.overdue(today).select_related("unit", "escalated_to"):
        target = escalation_target(rect, today)
        if target is None or target.pk == rect.escalated_to_id:
            continue
        with transaction.atomic():
            locked = Rectification.objects.select_for_update().get(pk=rect.pk)
            before = snapshot(locked, FIELDS)
            locked.escalated_to = target
            _save(locked, before, "operations.rectification.escalated", None)
            _tell(target, [Role.ADMIN], "rectification-overdue", locked, key=f"rect-up-{rect.pk}-{target.pk}")
        moved += 1
    return moved


def for_source(obj):
    return Rectification.objects.filter(source_type=ContentType.objects.get_for_model(obj), source_id=obj.pk)


def overdue_below(unit: Unit, today: datetime.date) -> list[dict]:
    """Overdue rectifications per unit directly below `unit` (head office sees which province)."""
    children = list(Unit.objects.filter(parent=unit).order_by("path"))
    overdue = list(
        Rectification.objects.overdue(today)
        .filter(unit__path__startswith=unit.path)
        .values_list("unit__path", flat=True)
    )
    rows = [{"unit": c, "overdue": sum(p.startswith(c.path) for p in overdue)} for c in children]
    return sorted((r for r in rows if r["overdue"]), key=lambda r: -r["overdue"])


# --- inspections ------------------------------------------------------------------------------


def clean_inspection(data: dict) -> dict:
    errors: dict[str, str] = {}
    kind = str(data.get("kind") or "")
    if kind not in InspectionKind.values:
        errors["kind"] = _("Choose a spot check by video or an on-site check.")
    items = data.get("items")
    if items is None:
        items = [{"item": str(label), "ok": True, "note": ""} for label in CHECKLIST]
    clean_items = []
    if not isinstance(items, list) or not items:
        errors["items"] = _("Give the checklist: a list of items, each with ok true or false.")
    else:
        for n, item in enumerate(items, start=1):
            if not isinstance(item, dict) or not str(item.get("item") or "").strip():
                errors[f"items[{n}]"] = _("Each item needs its text.")
                continue
            note = str(item.get("note") or "").strip()
            if len(note) > 1000 or len(str(item["item"])) > 200:
                errors[f"items[{n}]"] = _("An item has at most 200 characters and its note 1000.")
                continue
            clean_items.append({"item": str(item["item"]).strip(), "ok": bool(item.get("ok")), "note": note})
    findings = str(data.get("findings") or "").strip()
    if len(findings) > 4000:
        errors["findings"] = _("At most 4000 characters.")
    try:
        given = data.get("working_days")
        working_days = clean_working_days(DEFAULT_WORKING_DAYS if given in (None, "") else given)
    except ValidationError as exc:
        errors.update({k: v[0] for k, v in exc.message_dict.items()})
        working_days = DEFAULT_WORKING_DAYS
    if errors:
        raise ValidationError(errors)
    return {"kind": kind, "items": clean_items, "findings": findings, "working_days": working_days}


@transaction.atomic
def record_inspection(unit: Unit, *, actor, checked_at=None, opened_on=None, **fields) -> Inspection:
    """Record a spot check of an outlet; every failed item becomes a rectification."""
    if unit.kind != UnitKind.OUTLET:
        raise ValidationError({"outlet": _("Spot checks are of outlets.")})
    _require_above(actor, unit)
    clean = clean_inspection(fields)
    working_days = clean.pop("working_days")
    inspection = Inspection.objects.create(
        unit=unit,
        inspector=actor if getattr(actor, "pk", None) else None,
        checked_at=checked_at or timezone.now(),
        **clean,
    )
    record(
        "operations.inspection.recorded",
        inspection,
        actor=actor,
        changes={"kind": [None, inspection.kind], "failed": [None, inspection.failed]},
    )
    for item in inspection.items:
        if not item["ok"]:
            open_rectification(
                inspection,
                unit=unit,
                actor=actor,
                title=item["item"],
                detail=item["note"],
                working_days=working_days,
                opened_on=opened_on,
            )
    return inspection
