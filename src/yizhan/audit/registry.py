"""What the audit log may say about an event, declared by the app that records it.

Each app has an ``audit_actions.py`` (found by `yizhan.audit.apps.AuditConfig.ready`) that calls
`register` with a translated label for every action code it records, and with labels for the
keys of its change diffs that are not model fields. The formatter (`yizhan.audit.display`) reads
only this registry and the models' own field metadata, so that every history view shows the
same words in the reader's language; an action nobody registered reads "Other change", never
its code (a test holds every action recorded in the code base to a label).
"""

from collections.abc import Callable
from dataclasses import dataclass

from django.utils.translation import gettext_lazy as _


@dataclass(frozen=True)
class Action:
    label: str  # a lazy translation
    model: str | None = None  # "app_label.model" whose fields the diff names, if not the object's


_actions: dict[str, Action] = {}
_fields: dict[str, str] = {}
_values: dict[str, dict] = {}
_formatters: dict[str, Callable] = {}
_terms: list[Callable[[], dict]] = []

CHANNELS = {
    "web": _("web"),
    "api": _("API"),
    "cli": _("command line"),
    "import": _("import"),
    "system": _("system"),
}
UNKNOWN_ACTION = _("Other change")


def register(
    actions: dict | None = None,
    *,
    model: str | None = None,
    fields: dict | None = None,
    values: dict | None = None,
    formatters: dict | None = None,
    terms: Callable[[], dict] | None = None,
) -> None:
    """Declare labels for the audit log.

    actions: {code: label}; `model` names the model whose fields the diffs of these actions
    list when it is not the object's own (a facility state recorded on its station).
    fields: {change key: label} for keys that are not a model field's name ("rows", "sha256").
    values: {change key: {value: label}} for coded values of such keys.
    formatters: {change key: function(value) -> str} for structured values (opening hours).
    terms: a function returning {code: label} for codes used inside dotted keys
    ("drinking_water.state", "2026-12-01.elderly"); called at most once per page.
    """
    for code, label in (actions or {}).items():
        _actions[code] = Action(label, model)
    _fields.update(fields or {})
    for key, mapping in (values or {}).items():
        _values.setdefault(key, {}).update(mapping)
    _formatters.update(formatters or {})
    if terms is not None:
        _terms.append(terms)


def action(code: str) -> Action | None:
    return _actions.get(code)


def action_label(code: str) -> str:
    found = _actions.get(code)
    return found.label if found else UNKNOWN_ACTION


def registered_actions() -> dict[str, Action]:
    return dict(_actions)


def field_label(key: str) -> str | None:
    label = _fields.get(key)
    return None if label is None else str(label)


def value_label(key: str, value) -> str | None:
    mapping = _values.get(key)
    if mapping is None:
        return None
    label = mapping.get(value)
    return None if label is None else str(label)


def formatter(key: str) -> Callable | None:
    return _formatters.get(key)


def terms() -> dict:
    out: dict = {}
    for provider in _terms:
        out.update(provider())
    return out
