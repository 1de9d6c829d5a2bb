"""Optimistic concurrency for every staff edit: a stale save is refused, never silently merged.

Each editable model has an integer `revision` (`revision_field()`; not "version", which
standards already use for their edition). A form carries the revision it was shown with (a hidden
`revision` field, `yizhan.core.forms.RevisionField`); an API PATCH/PUT body carries `revision`.
The service's edit verb, inside its transaction:

    obj = Model.objects.select_for_update().get(pk=obj.pk)
    concurrency.check(obj, revision)           # StaleEdit unless it is the row's own revision
    ...validate, compute `changes`; nothing changed -> return without a new revision...
    concurrency.advance(obj, changes)          # UPDATE … SET revision = revision + 1
                                               #   WHERE id = ? AND revision = ?  (0 rows: stale)
    obj.save(); record(..., changes=changes)   # the audit diff holds "revision": [n, n + 1]

`StaleEdit` is a ValidationError (non-field), so a form view that already shows a service's
errors re-shows the form with the user's input and the list of what changed meanwhile, taken
from the audit log; the API answers 409 with the changed fields. `revision=None` (internal
callers, imports, the command line) skips the check but still advances the revision.
"""

import datetime

from django.core.exceptions import NON_FIELD_ERRORS, FieldDoesNotExist, ValidationError
from django.db import models
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

# How much of each old/new value a conflict message shows: values can be long (notices, hours).
VALUE_PREVIEW = 60
MAX_LISTED = 20


FIELD = "revision"


def revision_field():
    """The column every editable model declares as `revision`."""
    return models.PositiveIntegerField(
        gettext_lazy("revision"),
        default=1,
        editable=False,
        help_text=gettext_lazy(
            "Goes up by one with every saved change; an edit names the one it was based on."
        ),
    )


def clean_revision(value, field: str = FIELD) -> int | None:
    if value in (None, ""):
        return None
    try:
        number = int(str(value).strip())
    except (TypeError, ValueError):
        number = -1
    if number < 0 or number > 2**31:
        raise ValidationError({field: _("Enter the revision the change is based on (a whole number).")})
    return number


class StaleEdit(ValidationError):
    """The edit was based on `based_on`, but the row is at `current`: `changes` happened since."""

    def __init__(self, obj, based_on: int, current: int, changes: list[dict]):
        self.obj, self.based_on, self.current, self.changes = obj, based_on, current, changes
        self.headline = _(
            "Someone else changed this while you were editing it (you started from revision "
            "%(based_on)s, it is now at %(current)s); nothing was saved."
        ) % {"based_on": based_on, "current": current}
        lines = [self.headline, *(_describe(obj, c) for c in changes)]
        lines.append(_("Your input is still in the form: check it against these changes and save again."))
        super().__init__({NON_FIELD_ERRORS: lines})

    @property
    def fields(self) -> list[str]:
        return list(dict.fromkeys(c["field"] for c in self.changes))

    def as_json(self) -> dict:
        """The 409 body of the API."""
        return {
            "detail": self.headline,
            "revision": self.current,
            "based_on": self.based_on,
            "fields": self.fields,
            "changes": self.changes,
        }


def _preview(value) -> str:
    if value is None or value == "":
        return "∅"
    text = str(value)
    return text if len(text) <= VALUE_PREVIEW else text[: VALUE_PREVIEW - 1] + "…"


def _label(obj, field: str) -> str:
    name = field[:-3] if field.endswith("_id") else field
    try:
        return str(obj._meta.get_field(name).verbose_name)
    except FieldDoesNotExist:
        return field


def _describe(obj, change: dict) -> str:
    when = change["at"]
    if isinstance(when, str):
        when = datetime.datetime.fromisoformat(when)
    return _("%(field)s: %(old)s → %(new)s (%(who)s, %(when)s)") % {
        "field": _label(obj, change["field"]),
        "old": _preview(change["old"]),
        "new": _preview(change["new"]),
        "who": change["by"],
        "when": timezone.localtime(when).strftime("%Y-%m-%d %H:%M"),
    }


def changes_since(audit_obj, based_on: int, *, actor=None) -> list[dict]:
    """What the audit log says changed on `audit_obj` after revision `based_on`, oldest first:
    [{field, old, new, by, at, revision}]. Read through the scoping chokepoint when an actor is known."""
    from yizhan.audit.models import AuditEvent
    from yizhan.orgs.scoping import scoped

    events = AuditEvent.objects.all()
    if actor is not None and getattr(actor, "pk", None):
        events = scoped(actor, AuditEvent)
    events = events.filter(object_type=audit_obj._meta.label_lower, object_id=str(audit_obj.pk)).order_by(
        "-created_at", "-pk"
    )[:200]
    found: list[dict] = []
    for event in events:
        step = (event.changes or {}).get(FIELD)
        if not (isinstance(step, list) and len(step) == 2 and isinstance(step[1], int)):
            continue
        if step[1] <= based_on:
            break
        for field, pair in reversed(list(event.changes.items())):
            if field == FIELD or not isinstance(pair, list) or len(pair) != 2:
                continue
            found.append(
                {
                    "field": field,
                    "old": pair[0],
                    "new": pair[1],
                    "by": event.actor_name,
                    "at": event.created_at.isoformat(),
                    "revision": step[1],
                }
            )
    found.reverse()
    return found[-MAX_LISTED:]


def check(obj, based_on, *, audit_obj=None, actor=None) -> None:
    """Refuse an edit based on another revision than the row's (`obj` freshly read, ideally locked).
    `audit_obj` is the object its audit events are recorded on, when that is not `obj` itself."""
    based_on = clean_revision(based_on)
    if based_on is None or based_on == obj.revision:
        return
    raise StaleEdit(obj, based_on, obj.revision, changes_since(audit_obj or obj, based_on, actor=actor))


def advance(obj, changes: dict, *, audit_obj=None, actor=None) -> dict:
    """Take the next revision in the caller's transaction, guarded by the revision read; adds
    "revision": [n, n + 1] to `changes` (the audit diff) and returns it."""
    model = type(obj)
    rows = model._base_manager.filter(pk=obj.pk, revision=obj.revision)
    if not rows.update(revision=F(FIELD) + 1):  # written since it was read: the caller did not lock it
        current = model._base_manager.filter(pk=obj.pk).values_list(FIELD, flat=True).first() or 0
        raise StaleEdit(
            obj, obj.revision, current, changes_since(audit_obj or obj, obj.revision, actor=actor)
        )
    changes[FIELD] = [obj.revision, obj.revision + 1]
    obj.revision += 1
    return changes
