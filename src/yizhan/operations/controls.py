"""Controls before, during and after opening (seeds/001, 004): the daily checklist and the
disinfection log.

    publish_checklist(unit, actor=, items=[…])          a new version of a unit's checklist template
    fill_checklist(outlet, actor=, day=, answers={…})   tick items of an outlet's day (who and when)
    add_area(outlet, actor=, name=, kind=, every_hours=)
    log_disinfection(area, actor=, at=None, note="")
    areas_due(outlet)                                   each area's last time and whether it is overdue

An outlet's checklist follows the newest version published by the nearest unit above it (its
province, else head office), or the built-in one; a day's checklist keeps the version it was
first filled from. Disinfection is due every `every_hours` while a contingency plan is active at
the outlet; without one nothing is overdue.
"""

import datetime

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Max
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from yizhan.audit.services import diff, record, snapshot
from yizhan.core import concurrency
from yizhan.operations.models import (
    AreaKind,
    Checklist,
    ChecklistTemplate,
    Disinfection,
    DisinfectionArea,
    Phase,
)
from yizhan.orgs.models import Unit, UnitKind
from yizhan.orgs.scoping import scope_for

ATM_MODES = ["normal", "withdraw_only", "deposit_only"]
ATM_MODE_LABELS = {
    "normal": gettext_lazy("Withdraw and deposit"),
    "withdraw_only": gettext_lazy("Withdraw only"),
    "deposit_only": gettext_lazy("Deposit only"),
}
# The built-in checklist (version 0) until a unit above the outlet publishes its own.
DEFAULT_ITEMS = [
    ("before", gettext_lazy("Staff temperatures taken and recorded"), []),
    ("before", gettext_lazy("Counters, machines and lift buttons disinfected"), []),
    ("before", gettext_lazy("One-metre lines marked at counters and machines"), []),
    ("before", gettext_lazy("Seating spaced apart"), []),
    ("during", gettext_lazy("Customers' temperatures checked at the entrance"), []),
    ("during", gettext_lazy("Incoming cash disinfected before it is paid out again"), []),
    ("during", gettext_lazy("Cash from hospitals kept apart"), []),
    ("during", gettext_lazy("ATM mode as ordered"), ATM_MODES),
    ("after", gettext_lazy("Counters, machines and the station corner disinfected"), []),
    ("after", gettext_lazy("The day's cash disinfected before it is handed in"), []),
]
MAX_ITEMS = 60
BACKFILL_DAYS = 7
MAX_EVERY_HOURS = 24


def default_items() -> list[dict]:
    from django.conf import settings
    from django.utils import translation

    # Stored as filled: in the site's language, whoever (or whichever API client) opens the day.
    with translation.override(settings.LANGUAGE_CODE):
        return [{"phase": p, "text": str(t), "options": list(o)} for p, t, o in DEFAULT_ITEMS]


def _user(actor):
    return actor if getattr(actor, "pk", None) else None


def _require(actor, unit: Unit, perm: str = "change") -> None:
    if actor is None:
        return
    scope = scope_for(actor)
    if not (scope.can(perm) and scope.covers(unit.path)):
        raise PermissionDenied


def option_label(value: str) -> str:
    return str(ATM_MODE_LABELS.get(value, value))


# --- checklist templates -------------------------------------------------------------------------


def clean_items(items) -> list[dict]:
    if not isinstance(items, list) or not items:
        raise ValidationError({"items": _("Give the items: a list, each with its phase and text.")})
    if len(items) > MAX_ITEMS:
        raise ValidationError({"items": _("At most 60 items.")})
    out = []
    for n, item in enumerate(items, start=1):
        if not isinstance(item, dict):
            raise ValidationError({f"items[{n}]": _("Each item has its phase and text.")})
        phase, text = str(item.get("phase") or ""), str(item.get("text") or "").strip()
        options = item.get("options") or []
        if phase not in Phase.values:
            raise ValidationError({f"items[{n}].phase": _("Choose before, during or after.")})
        if not text or len(text) > 200:
            raise ValidationError({f"items[{n}].text": _("Say what is checked, in at most 200 characters.")})
        if not isinstance(options, list) or any(not str(o).strip() or len(str(o)) > 40 for o in options):
            raise ValidationError({f"items[{n}].options": _("Options are a list of short answers.")})
        out.append({"phase": phase, "text": text, "options": [str(o).strip() for o in options]})
    return out


@transaction.atomic
def publish_checklist(unit: Unit, *, actor, items) -> ChecklistTemplate:
    """A new version of `unit`'s checklist template (head office or a province); days already
    filled keep theirs."""
    _require(actor, unit, "admin")
    if unit.kind not in (UnitKind.HEAD_OFFICE, UnitKind.PROVINCE):
        raise ValidationError(
            {"unit": _("Checklist templates are kept by head office or a provincial branch.")}
        )
    items = clean_items(items)
    Unit.objects.select_for_update().get(pk=unit.pk)  # two publishers: one version each
    version = (ChecklistTemplate.objects.filter(unit=unit).aggregate(v=Max("version"))["v"] or 0) + 1
    template = ChecklistTemplate.objects.create(
        unit=unit, version=version, items=items, created_by=_user(actor)
    )
    record(
        "operations.checklist.published",
        template,
        actor=actor,
        changes={"version": [None, version], "items": [None, len(items)]},
    )
    return template


def template_for(outlet: Unit) -> ChecklistTemplate | None:
    """The newest version of the nearest unit above (or at) the outlet that keeps one."""
    chain = outlet.ancestor_ids()
    found = ChecklistTemplate.objects.filter(unit_id__in=chain).select_related("unit")
    return max(found, key=lambda t: (chain.index(t.unit_id), t.version), default=None)


# --- a day's checklist ---------------------------------------------------------------------------


def clean_day(value, field: str = "day") -> datetime.date:
    if isinstance(value, datetime.date):
        day = value
    else:
        try:
            day = datetime.date.fromisoformat(str(value or "").strip())
        except ValueError:
            raise ValidationError({field: _("Enter a valid date (YYYY-MM-DD).")}) from None
    today = timezone.localdate()
    if day > today:
        raise ValidationError({field: _("A checklist cannot be filled for a day in the future.")})
    if day < today - datetime.timedelta(days=BACKFILL_DAYS):
        raise ValidationError({field: _("A checklist can be filled for the last 7 days only.")})
    return day


def checklist_for(outlet: Unit, day: datetime.date) -> Checklist:
    """The day's checklist, or an unsaved one from the current template."""
    found = Checklist.objects.filter(unit=outlet, day=day).first()
    if found is not None:
        return found
    template = template_for(outlet)
    items = template.items if template is not None else default_items()
    return Checklist(
        unit=outlet,
        day=day,
        template=template,
        version=template.version if template else 0,
        items=[{**item, "done": False, "value": "", "by": "", "at": None} for item in items],
    )


@transaction.atomic
def fill_checklist(outlet: Unit, *, actor, day, answers: dict, revision=None) -> Checklist:
    """Tick items of the outlet's checklist for `day` (today or the last 7 days): `answers` maps
    an item's number (from 1) to true/false, or to one of its options. Each ticked item keeps
    who ticked it and when; items not mentioned stay as they were."""
    if outlet.kind != UnitKind.OUTLET:
        raise ValidationError({"outlet": _("Checklists are filled by outlets.")})
    _require(actor, outlet)
    day = clean_day(day)
    if not isinstance(answers, dict):
        raise ValidationError({"answers": _("Give the answers by item number.")})
    Unit.objects.select_for_update().get(pk=outlet.pk)
    checklist = checklist_for(outlet, day)
    created = checklist.pk is None
    if not created:
        concurrency.check(checklist, revision, actor=actor)
    items = [dict(item) for item in checklist.items]
    now = timezone.localtime().isoformat(timespec="seconds")  # Beijing time, as pages show it
    who = actor.get_username() if _user(actor) else ""
    changed = {}
    for key, value in answers.items():
        n = int(key) if str(key).isdigit() else 0
        if not 1 <= n <= len(items):
            raise ValidationError({f"answers[{key}]": _("There is no item of that number.")})
        item = items[n - 1]
        if item["options"]:
            value = str(value or "").strip()
            if value and value not in item["options"]:
                raise ValidationError({f"answers[{key}]": _("Choose one of the item's answers.")})
            done = bool(value)
        elif isinstance(value, bool) or value in ("true", "false", "on", "", None, 0, 1):
            done, value = value in (True, "true", "on", 1), ""
        else:
            raise ValidationError({f"answers[{key}]": _("Answer true or false.")})
        if done == item["done"] and value == item.get("value", ""):
            continue
        changed[item["text"][:60]] = [item.get("value") or item["done"], value or done]
        item.update({"done": done, "value": value, "by": who if done else "", "at": now if done else None})
    checklist.items = items
    checklist.updated_at = timezone.now()
    if created:
        checklist.save()
        record(
            "operations.checklist.filled",
            checklist,
            actor=actor,
            changes={"day": [None, day.isoformat()], **changed},
        )
        return checklist
    if not changed:
        return checklist
    changes = concurrency.advance(checklist, changed)
    checklist.save()
    record("operations.checklist.filled", checklist, actor=actor, changes=changes)
    return checklist


def phases(checklist: Checklist) -> list[dict]:
    """The items by phase, numbered from 1, for pages."""
    out = []
    for value, label in Phase.choices:
        rows = [
            {"n": n, **item, "choices": [(o, option_label(o)) for o in item["options"]]}
            for n, item in enumerate(checklist.items, start=1)
            if item["phase"] == value
        ]
        if rows:
            out.append(
                {"phase": value, "label": label, "items": rows, "missing": sum(not r["done"] for r in rows)}
            )
    return out


# --- disinfection --------------------------------------------------------------------------------


def clean_area(data: dict) -> dict:
    errors = {}
    name = str(data.get("name") or "").strip()
    if not name or len(name) > 60:
        errors["name"] = _("Name the area, in at most 60 characters.")
    kind = str(data.get("kind") or AreaKind.OTHER)
    if kind not in AreaKind.values:
        errors["kind"] = _("Choose counters, self_service, station, lift, doors or other.")
    try:
        every = int(str(data.get("every_hours", 4)).strip())
        if not 1 <= every <= MAX_EVERY_HOURS:
            raise ValueError
    except (TypeError, ValueError):
        errors["every_hours"] = _("Enter a whole number of hours from 1 to 24.")
        every = 4
    if errors:
        raise ValidationError(errors)
    return {"name": name, "kind": kind, "every_hours": every}


@transaction.atomic
def add_area(outlet: Unit, *, actor, **fields) -> DisinfectionArea:
    if outlet.kind != UnitKind.OUTLET:
        raise ValidationError({"outlet": _("Disinfection areas belong to outlets.")})
    _require(actor, outlet)
    clean = clean_area(fields)
    if DisinfectionArea.objects.filter(unit=outlet, name=clean["name"]).exists():
        raise ValidationError({"name": _("This outlet already has an area of that name.")})
    area = DisinfectionArea.objects.create(unit=outlet, **clean)
    record(
        "operations.disinfection.area_added", area, actor=actor, changes=diff({}, snapshot(area, list(clean)))
    )
    return area


@transaction.atomic
def update_area(area: DisinfectionArea, *, actor, revision=None, **fields) -> DisinfectionArea:
    area = DisinfectionArea.objects.select_for_update().select_related("unit").get(pk=area.pk)
    _require(actor, area.unit)
    concurrency.check(area, revision, actor=actor)
    clean = clean_area(fields)
    if DisinfectionArea.objects.filter(unit=area.unit, name=clean["name"]).exclude(pk=area.pk).exists():
        raise ValidationError({"name": _("This outlet already has an area of that name.")})
    before = snapshot(area, list(clean))
    for k, v in clean.items():
        setattr(area, k, v)
    changes = concurrency.advance(area, diff(before, snapshot(area, list(clean))))
    area.save()
    record("operations.disinfection.area_changed", area, actor=actor, changes=changes)
    return area


@transaction.atomic
def log_disinfection(area: DisinfectionArea, *, actor, at=None, note: str = "") -> Disinfection:
    """Record that an area was disinfected (now, or earlier today)."""
    from yizhan.operations.services import parse_moment

    _require(actor, area.unit)
    now = timezone.now()
    at = parse_moment(at, "at") or now
    if at > now + datetime.timedelta(minutes=5):
        raise ValidationError({"at": _("A disinfection cannot be recorded ahead of time.")})
    if at < now - datetime.timedelta(hours=24):
        raise ValidationError({"at": _("A disinfection can be recorded for the last 24 hours only.")})
    note = str(note or "").strip()
    if len(note) > 200:
        raise ValidationError({"note": _("At most 200 characters.")})
    row = Disinfection.objects.create(area=area, unit_id=area.unit_id, at=at, by=_user(actor), note=note)
    record(
        "operations.disinfection.logged",
        area,
        actor=actor,
        changes={"at": [None, timezone.localtime(at).strftime("%Y-%m-%d %H:%M")]},
    )
    return row


def areas_due(outlet: Unit, now=None) -> list[dict]:
    """Each area of the outlet with its last disinfection and, while a plan is active there,
    when the next is due and whether it is overdue."""
    from yizhan.operations.plans import active_for

    now = now or timezone.now()
    active = active_for(outlet)
    since = active.activation.activated_at if active else None
    areas = list(DisinfectionArea.objects.filter(unit=outlet).order_by("name"))
    last = dict(
        Disinfection.objects.filter(area__in=areas)
        .values("area_id")
        .annotate(at=Max("at"))
        .values_list("area_id", "at")
    )
    out = []
    for area in areas:
        at = last.get(area.pk)
        due = None
        if since is not None:
            # Due `every_hours` after the last one since the plan was activated (or after that).
            due = (at if at and at >= since else since) + datetime.timedelta(hours=area.every_hours)
        out.append({"area": area, "last": at, "due": due, "overdue": due is not None and due < now})
    return out
