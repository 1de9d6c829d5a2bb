"""The one audit helper every service function calls, inside its own transaction, and the one
way every view reads the log back (through the scope)."""

import contextvars
import datetime
import decimal
from contextlib import contextmanager

from django.db import models, transaction

from yizhan.audit.models import AuditEvent
from yizhan.orgs.scoping import scoped

_via = contextvars.ContextVar("yizhan_audit_via", default="web")


@contextmanager
def audit_via(channel: str):
    """Mark the changes made inside as coming from "api", "cli", "import", "system" or "web"."""
    token = _via.set(channel)
    try:
        yield
    finally:
        _via.reset(token)


_SCALARS = (str, int, float, bool, type(None))


def _plain(value):
    # Scalars first and inline: audit diffs are mostly scalars, and bulk imports write thousands.
    kind = type(value)
    if kind in _SCALARS:
        return value
    if kind is list or kind is tuple:
        return [v if type(v) in _SCALARS else _plain(v) for v in value]
    if kind is dict:
        return {str(k): v if type(v) in _SCALARS else _plain(v) for k, v in value.items()}
    if isinstance(value, models.Model):
        return str(value.pk)
    if isinstance(value, datetime.datetime | datetime.date | datetime.time):
        return value.isoformat()
    if isinstance(value, decimal.Decimal):
        return str(value)
    if isinstance(value, list | tuple | set):
        return [_plain(v) for v in value]
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    return value


def snapshot(obj: models.Model, fields: list[str] | None = None) -> dict:
    """The concrete field values of `obj`, JSON-ready, for a later diff."""
    names = fields or [
        f.attname for f in obj._meta.concrete_fields if f.name not in {"created_at", "updated_at"}
    ]
    return {name: _plain(getattr(obj, name)) for name in names}


def diff(before: dict, after: dict) -> dict:
    """{field: [old, new]} for every field whose value changed."""
    keys = list(before) + [k for k in after if k not in before]
    return {k: [before.get(k), after.get(k)] for k in keys if before.get(k) != after.get(k)}


def _event(action: str, obj, *, actor, unit, changes, object_repr, plain: bool = False) -> AuditEvent:
    from yizhan.orgs.models import Unit

    if unit is None:
        unit = getattr(obj, "unit", None) if not isinstance(obj, Unit) else obj
    if unit is None:
        # Events without a unit of their own (the holiday calendar, rules) belong to head office.
        unit = Unit.objects.filter(parent__isnull=True).order_by("pk").first()
    is_model = isinstance(obj, models.Model)
    return AuditEvent(
        actor=actor if actor is not None and getattr(actor, "pk", None) else None,
        actor_name=(actor.get_username() if actor is not None and getattr(actor, "pk", None) else "system"),
        action=action,
        object_type=obj._meta.label_lower if is_model else type(obj).__name__.lower(),
        object_id=str(obj.pk) if is_model else str(obj),
        object_repr=(object_repr or str(obj))[:200],
        unit=unit,
        changes=(changes or {}) if plain else _plain(changes or {}),
        via=_via.get(),
    )


class NotInTransaction(RuntimeError):
    pass


def _require_transaction() -> None:
    """An event must commit or roll back with the change it describes: the caller wraps both in
    transaction.atomic(). The atomic blocks Django's test cases open around each test do not
    count (marked `_from_testcase`, which Django's own durable=True check reads the same way)."""
    blocks = transaction.get_connection().atomic_blocks
    if not any(not getattr(block, "_from_testcase", False) for block in blocks):
        raise NotInTransaction(
            "audit record() outside transaction.atomic(): wrap the change and its event in one"
        )


def record(
    action: str, obj, *, actor=None, unit=None, changes: dict | None = None, object_repr: str | None = None
) -> AuditEvent:
    """Write one audit event. `unit` scopes who may read it; it defaults to the object's unit."""
    _require_transaction()
    event = _event(action, obj, actor=actor, unit=unit, changes=changes, object_repr=object_repr)
    event.save(force_insert=True)
    return event


def record_many(
    events: list[tuple[str, models.Model, dict]], *, actor=None, plain: bool = False
) -> list[AuditEvent]:
    """Write many events by one actor in a few statements (bulk imports): (action, obj, changes)
    each, with the object's own unit, as `record` would write them one by one. `plain=True` says
    the changes are JSON-ready already (built from `snapshot`/`diff` values) and skips the walk
    that converts them, which dominates the cost for thousands of events."""
    _require_transaction()
    return AuditEvent.objects.bulk_create(build_many(events, actor=actor, plain=plain), batch_size=1000)


def build_many(
    events: list[tuple[str, models.Model, dict]], *, actor=None, plain: bool = False
) -> list[AuditEvent]:
    """The unsaved events `record_many` would write, for a bulk writer that inserts them with its
    own plain statements inside its transaction (the station import)."""
    return [
        _event(a, obj, actor=actor, unit=None, changes=c, object_repr=None, plain=plain)
        for a, obj, c in events
    ]


def events_for(user_or_scope, obj: models.Model | None = None):
    """THE way to read the audit log: the events in the user's scope, newest first, optionally only
    those about `obj`. An event stays with the unit its object belonged to when it was written, so
    after a station or unit moves, readers on the other side never see its earlier events."""
    events = scoped(user_or_scope, AuditEvent)
    if obj is not None:
        events = events.filter(object_type=obj._meta.label_lower, object_id=str(obj.pk))
    return events
