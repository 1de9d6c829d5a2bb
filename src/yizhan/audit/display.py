"""Audit events as the reader sees them: every history view formats its events here.

Action codes become their registered labels, diff keys the model field's verbose name (or the
label the app registered), values their choice label, 是/否, a referenced object's name, or a
date and time in Beijing time; the channel and the "system" actor are translated. Nothing here
queries per event: the objects that diffs refer to are fetched once per model for the page.
"""

import datetime
import re
from dataclasses import dataclass, field

from django.apps import apps
from django.contrib.auth import get_user_model
from django.core.exceptions import FieldDoesNotExist
from django.db import models
from django.utils import formats, timezone
from django.utils.functional import Promise
from django.utils.translation import gettext as _

from yizhan.audit import registry

LIST_LIMIT = 10  # list values show their first items and how many more
TEXT_LIMIT = 200  # never echo an unbounded value
# Only what the audit writer stores (isoformat of an aware UTC time, with "T"): a time someone
# typed as text ("2020-01-24 10:15", Beijing time) is shown as typed, never shifted.
_ISO_DATETIME = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})?$")
_ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


@dataclass
class Change:
    label: str
    old: str
    new: str
    data: bool = False  # the values are stored text (names, notes, codes), shown as they are


@dataclass
class EventRow:
    event: object
    time: datetime.datetime
    actor: str
    channel: str
    action: str
    action_code: str  # for links and filters; never shown to the reader
    object_type: str
    object_label: str
    is_system: bool = False
    changes: list[Change] = field(default_factory=list)


def _model(label: str | None):
    if not label or "." not in label:
        return None
    try:
        return apps.get_model(label)
    except (LookupError, ValueError):
        return None


def _field(models_: list, name: str):
    """The model field a diff key names, by name or attname ("unit_id"), in the first model
    that has it."""
    for model in models_:
        try:
            return model._meta.get_field(name)
        except FieldDoesNotExist:
            continue
    return None


def _translated(f) -> str | None:
    """The field's verbose name when someone wrote one (a lazy translation), else None: Django's
    default, the name with spaces, is English."""
    name = getattr(f, "verbose_name", None)
    return str(name) if isinstance(name, Promise) else None


def model_label(object_type: str) -> str:
    model = _model(object_type)
    return str(model._meta.verbose_name) if model is not None else ""


def _clip(text: str) -> str:
    return text if len(text) <= TEXT_LIMIT else text[: TEXT_LIMIT - 1] + "…"


def _datetime_text(value) -> str | None:
    if isinstance(value, datetime.datetime):
        moment = value
    elif isinstance(value, str) and _ISO_DATETIME.match(value):
        try:
            moment = datetime.datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            return None
    else:
        return None
    if timezone.is_naive(moment):
        moment = timezone.make_aware(moment, datetime.UTC)
    return formats.date_format(timezone.localtime(moment), "Y-m-d H:i")


class _Formatter:
    """One page of events: refs are collected first, fetched once per model, then shown."""

    def __init__(self, events):
        self.events = list(events)
        self.refs: dict = {}  # (model, "pk"|"code") -> {key: text}
        self._terms: dict | None = None

    # -- keys ---------------------------------------------------------------------------------

    def terms(self) -> dict:
        if self._terms is None:
            self._terms = registry.terms()
        return self._terms

    def key_label(self, models_: list, key: str) -> tuple[str, object]:
        """(label, the model field the value belongs to or None) for a diff key."""
        parts = key.split(".")
        labels, last_field = [], None
        for part in parts:
            found = _field(models_, part)
            label = (found is not None and _translated(found)) or registry.field_label(part) or None
            if label is None and _ISO_DATE.match(part):
                label = part
            if label is None:
                term = self.terms().get(part)
                label = str(term) if term is not None else None
            if label is None:
                label = str(found.verbose_name) if found is not None else part
            labels.append(label)
            last_field = found
        return " · ".join(labels), last_field

    # -- values -------------------------------------------------------------------------------

    def _ref_kind(self, f, key: str, value):
        """How a value of a relation is looked up: by primary key under its attname ("unit_id"),
        by a `code` field under its name ("unit": "CQ"); None for anything else (a count)."""
        related = f.related_model
        if isinstance(value, bool) or value is None or value == "":
            return None
        if key.endswith("_id"):
            return (related, "pk") if str(value).isdigit() else None
        if isinstance(value, str):
            try:
                related._meta.get_field("code")
            except FieldDoesNotExist:
                return None
            return related, "code"
        return None

    def collect(self, f, key: str, value) -> None:
        if f is None or not f.is_relation or f.related_model is None:
            return
        for item in value[:LIST_LIMIT] if isinstance(value, list) else [value]:
            kind = self._ref_kind(f, key, item)
            if kind is not None:
                self.refs.setdefault(kind, {})[str(item)] = None

    def fetch(self) -> None:
        user_model = get_user_model()
        for (model, how), wanted in self.refs.items():
            lookup = "pk__in" if how == "pk" else "code__in"
            keys = [k for k in wanted if how == "code" or k.isdigit()]
            for obj in model._default_manager.filter(**{lookup: keys}):
                key = str(obj.pk if how == "pk" else obj.code)
                if model is user_model:
                    wanted[key] = obj.get_username()
                else:
                    wanted[key] = str(getattr(obj, "display_name", None) or obj)

    def value_text(self, f, key: str, value) -> str:
        last_key = key.split(".")[-1]
        if value is None or value == "" or value == []:
            return "—"
        custom = registry.formatter(last_key)
        if custom is not None:
            return _clip(str(custom(value)))
        if isinstance(value, list):
            shown = [self.value_text(f, key, v) for v in value[:LIST_LIMIT]]
            more = len(value) - len(shown)
            text = "、".join(shown)
            if more > 0:
                text += _(" and %(n)s more") % {"n": more}
            return _clip(text)
        if isinstance(value, dict):
            return _clip("；".join(f"{k}: {self.value_text(None, k, v)}" for k, v in value.items()))
        if isinstance(value, bool):
            return _("yes") if value else _("no")
        labelled = registry.value_label(last_key, value)
        if labelled is not None:
            return labelled
        if f is not None:
            if f.is_relation and f.related_model is not None:
                kind = self._ref_kind(f, key, value)
                if kind is not None:
                    name = self.refs.get(kind, {}).get(str(value))
                    if name:
                        return _clip(name)
                return _clip(str(value))
            choices = dict(f.flatchoices) if f.choices else None
            if choices and value in choices:
                return str(choices[value])
            if isinstance(f, models.BooleanField) and value in (0, 1, "True", "False"):
                return _("yes") if value in (1, "True") else _("no")
        when = _datetime_text(value)
        if when is not None:
            return when
        return _clip(str(value))

    def is_data(self, f, key: str, value) -> bool:
        """Whether the shown value is stored text (a name, a note, a code) rather than words this
        formatter chose: pages mark it translate="no", and checks for English leave it alone."""
        last_key = key.split(".")[-1]
        if registry.formatter(last_key) is not None:
            return False
        if isinstance(value, list):
            return any(self.is_data(f, key, v) for v in value)
        if isinstance(value, dict):
            return True
        if not isinstance(value, str) or value == "":
            return False
        if registry.value_label(last_key, value) is not None:
            return False
        if f is not None and not f.is_relation and f.choices and value in dict(f.flatchoices):
            return False
        return _datetime_text(value) is None

    # -- events -------------------------------------------------------------------------------

    def rows(self) -> list[EventRow]:
        prepared = []
        for event in self.events:
            declared = registry.action(event.action)
            models_ = [
                m for m in (_model(declared.model if declared else None), _model(event.object_type)) if m
            ]
            items = []
            for key, pair in (event.changes or {}).items():
                old, new = (pair + [None, None])[:2] if isinstance(pair, list) else (None, pair)
                label, f = self.key_label(models_, key)
                self.collect(f, key, old)
                self.collect(f, key, new)
                items.append((key, label, f, old, new))
            prepared.append((event, items))
        self.fetch()
        out = []
        for event, items in prepared:
            system = event.actor_id is None and event.actor_name in ("", "system")
            out.append(
                EventRow(
                    event=event,
                    time=event.created_at,
                    actor=_("system") if system else event.actor_name,
                    channel=str(registry.CHANNELS.get(event.via, event.via and _("other channel"))),
                    action=str(registry.action_label(event.action)),
                    action_code=event.action,
                    object_type=model_label(event.object_type),
                    object_label=event.object_repr,
                    is_system=system,
                    changes=[
                        Change(
                            label,
                            self.value_text(f, key, old),
                            self.value_text(f, key, new),
                            self.is_data(f, key, old) or self.is_data(f, key, new),
                        )
                        for key, label, f, old, new in items
                    ],
                )
            )
        return out


def format_events(events) -> list[EventRow]:
    """The events (any iterable of AuditEvent) ready to show, in the active language and time zone."""
    return _Formatter(events).rows()
