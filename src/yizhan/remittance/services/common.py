"""Small helpers the green channel's service modules share."""

from django.core.exceptions import PermissionDenied
from django.utils.translation import gettext as _

from yizhan.orgs.scoping import Scope, scope_for


def _scope(user_or_scope) -> Scope:
    return user_or_scope if isinstance(user_or_scope, Scope) else scope_for(user_or_scope)


def _text(data: dict, name: str, errors: dict, *, limit: int, required: bool = True) -> str:
    value = str(data.get(name) or "").strip()
    if required and not value:
        errors[name] = _("This field is required.")
    elif len(value) > limit:
        errors[name] = _("At most %(n)d characters.") % {"n": limit}
    return value


def _int(data: dict, name: str, errors: dict, *, low: int, high: int, default: int) -> int:
    raw = data.get(name)
    if raw in (None, ""):
        return default
    try:
        value = int(str(raw).strip())
    except (TypeError, ValueError):
        errors[name] = _("Enter a whole number.")
        return default
    if not low <= value <= high:
        errors[name] = _("Enter a number from %(low)d to %(high)d.") % {"low": low, "high": high}
    return value


def _bool(value) -> bool:
    if isinstance(value, str):
        return value.strip().lower() in {"1", "true", "on", "yes"}
    return bool(value)


def _username(user) -> str | None:
    return user.get_username() if user is not None else None


def _require_change(actor) -> None:
    if actor is not None and not scope_for(actor).can("change"):
        raise PermissionDenied
