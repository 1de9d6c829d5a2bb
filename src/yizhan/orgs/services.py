"""Verb functions for the org tree, staff and API tokens. Each validates, runs in one
transaction and writes its audit event; views, API and commands only call these."""

import datetime
import secrets

from django.contrib.auth import get_user_model
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import F, Value
from django.db.models.functions import Concat, Substr
from django.utils import timezone
from django.utils.translation import gettext as _

from yizhan.audit.services import diff, record, snapshot
from yizhan.core import concurrency
from yizhan.core.geo import parse_point
from yizhan.orgs.models import KIND_RANK, ApiToken, Membership, Role, Unit, UnitKind, code_validator

UNIT_FIELDS = ["code", "kind", "name", "name_en", "opened_on", "closed_on", "address", "lat", "lng"]


_BANK_PHRASES = {
    # 行 reads háng in bank names, not xíng as pypinyin guesses on its own.
    "支行": [["zhī"], ["háng"]],
    "分行": [["fēn"], ["háng"]],
    "总行": [["zǒng"], ["háng"]],
    "银行": [["yín"], ["háng"]],
    "工行": [["gōng"], ["háng"]],
    "营业室": [["yíng"], ["yè"], ["shì"]],
}
_phrases_loaded = False


def pinyin_initials(text: str) -> str:
    """三峡广场支行 -> sxgczh: what staff type to find a unit on a phone keyboard."""
    global _phrases_loaded
    from pypinyin import Style, lazy_pinyin, load_phrases_dict

    if not _phrases_loaded:
        load_phrases_dict(_BANK_PHRASES)
        _phrases_loaded = True

    letters = lazy_pinyin(text, style=Style.FIRST_LETTER, errors="default")
    return "".join(ch for ch in "".join(letters).lower() if ch.isalnum())[:100]


def _parse_date(value, field: str, errors: dict):
    if value in (None, ""):
        return None
    if isinstance(value, datetime.date):
        return value
    try:
        return datetime.date.fromisoformat(str(value).strip())
    except ValueError:
        errors[field] = _("Enter a valid date (YYYY-MM-DD).")
        return None


def clean_unit(data: dict, *, parent: Unit | None, instance: Unit | None = None) -> dict:
    """The one set of rules for units, shared by forms, API and imports."""
    errors: dict[str, str] = {}
    out: dict = {}
    code = str(data.get("code") or "").strip()
    if not code:
        errors["code"] = _("This field is required.")
    else:
        try:
            code_validator(code)
        except ValidationError as exc:
            errors["code"] = exc.messages[0]
        else:
            clash = Unit.objects.filter(code__iexact=code)
            if instance is not None:
                clash = clash.exclude(pk=instance.pk)
            if clash.exists():
                errors["code"] = _("A unit with this code already exists.")
    out["code"] = code

    kind = data.get("kind")
    if kind not in UnitKind.values:
        errors["kind"] = _("Unknown unit kind.")
    out["kind"] = kind

    name = str(data.get("name") or "").strip()
    if not name:
        errors["name"] = _("This field is required.")
    elif len(name) > 100:
        errors["name"] = _("At most 100 characters.")
    out["name"] = name
    out["name_en"] = str(data.get("name_en") or "").strip()[:200]
    out["address"] = str(data.get("address") or "").strip()
    if len(out["address"]) > 255:
        errors["address"] = _("At most 255 characters.")

    if kind in UnitKind.values:
        if kind == UnitKind.HEAD_OFFICE:
            if parent is not None:
                errors["parent"] = _("The head office cannot have a parent.")
        elif parent is None:
            errors["parent"] = _("This field is required.")
        elif KIND_RANK[kind] <= KIND_RANK[parent.kind]:
            errors["parent"] = _("A %(kind)s cannot sit under a %(parent)s.") % {
                "kind": UnitKind(kind).label,
                "parent": UnitKind(parent.kind).label,
            }
        elif parent.closed_on is not None:
            errors["parent"] = _("The parent unit is closed.")

    lat, lng = data.get("lat"), data.get("lng")
    has_point = lat not in (None, "") or lng not in (None, "")
    out["lat"] = out["lng"] = None
    if has_point:
        try:
            out["lat"], out["lng"] = parse_point(lat, lng, data.get("crs") or "wgs84")
        except ValidationError as exc:
            errors.update({k: v[0] for k, v in exc.message_dict.items()})
    if kind == UnitKind.OUTLET:
        if not out["address"]:
            errors["address"] = _("An outlet needs an address.")
        if not has_point:
            errors.setdefault("lat", _("An outlet needs coordinates."))

    out["opened_on"] = _parse_date(data.get("opened_on"), "opened_on", errors)
    out["closed_on"] = _parse_date(data.get("closed_on"), "closed_on", errors)
    if out["opened_on"] and out["closed_on"] and out["closed_on"] < out["opened_on"]:
        errors["closed_on"] = _("The closing date is before the opening date.")
    if errors:
        raise ValidationError(errors)
    return out


@transaction.atomic
def create_unit(*, actor, parent: Unit | None, **data) -> Unit:
    values = clean_unit(data, parent=parent)
    unit = Unit(parent=parent, pinyin=pinyin_initials(values["name"]), **values)
    unit.path = "/"
    unit.level = 0 if parent is None else parent.level + 1
    try:
        with transaction.atomic():
            unit.save()
    except IntegrityError as exc:  # a concurrent insert of the same code
        raise ValidationError({"code": _("A unit with this code already exists.")}) from exc
    unit.path = f"{parent.path if parent else '/'}{unit.pk}/"
    unit.save(update_fields=["path"])
    record("unit.created", unit, actor=actor, changes=diff({}, snapshot(unit, UNIT_FIELDS)))
    return unit


@transaction.atomic
def update_unit(unit: Unit, *, actor, revision=None, **data) -> Unit:
    """Change a unit's fields; `revision` is the one the edit was based on (stale: StaleEdit)."""
    unit = Unit.objects.select_for_update().get(pk=unit.pk)
    concurrency.check(unit, revision, actor=actor)
    before = snapshot(unit, UNIT_FIELDS)
    merged = {**before, "crs": "wgs84", **data}
    values = clean_unit(merged, parent=unit.parent, instance=unit)
    if values["kind"] != unit.kind and unit.children.exists():
        bad = [c for c in unit.children.all() if KIND_RANK[c.kind] <= KIND_RANK[values["kind"]]]
        if bad:
            raise ValidationError({"kind": _("The unit's children cannot sit under this kind.")})
    for key, value in values.items():
        setattr(unit, key, value)
    unit.pinyin = pinyin_initials(unit.name)
    changes = diff(before, snapshot(unit, UNIT_FIELDS))
    if not changes:
        return unit
    concurrency.advance(unit, changes, actor=actor)
    unit.updated_at = timezone.now()
    unit.save()
    record("unit.updated", unit, actor=actor, changes=changes)
    return unit


@transaction.atomic
def move_unit(unit: Unit, new_parent: Unit, *, actor) -> Unit:
    """Re-parent a unit and re-path its whole subtree in one statement, inside one transaction."""
    unit = Unit.objects.select_for_update().get(pk=unit.pk)
    new_parent = Unit.objects.get(pk=new_parent.pk)
    if new_parent.pk == unit.pk or new_parent.path.startswith(unit.path):
        raise ValidationError({"parent": _("A unit cannot move under itself or one of its own descendants.")})
    if unit.parent_id is None:
        raise ValidationError({"parent": _("The head office cannot be moved.")})
    if KIND_RANK[unit.kind] <= KIND_RANK[new_parent.kind]:
        raise ValidationError(
            {
                "parent": _("A %(kind)s cannot sit under a %(parent)s.")
                % {"kind": UnitKind(unit.kind).label, "parent": UnitKind(new_parent.kind).label}
            }
        )
    if new_parent.closed_on is not None:
        raise ValidationError({"parent": _("The parent unit is closed.")})
    if unit.parent_id == new_parent.pk:
        return unit
    old_parent = unit.parent
    old_path = unit.path
    new_path = f"{new_parent.path}{unit.pk}/"
    delta = new_parent.level + 1 - unit.level
    Unit.objects.filter(path__startswith=old_path).update(
        path=Concat(Value(new_path), Substr("path", len(old_path) + 1)),
        level=F("level") + delta,
        updated_at=timezone.now(),
    )
    Unit.objects.filter(pk=unit.pk).update(parent=new_parent)
    unit.refresh_from_db()
    record(
        "unit.moved",
        unit,
        actor=actor,
        changes={"parent": [str(old_parent.code), str(new_parent.code)], "path": [old_path, new_path]},
    )
    return unit


def clean_role(role) -> str:
    if role not in Role.values:
        raise ValidationError({"role": _("Unknown role; use viewer, manager or admin.")})
    return role


@transaction.atomic
def create_staff(
    *, actor, username: str, password: str, unit: Unit, role: str, full_name: str = "", email: str = ""
):
    User = get_user_model()
    errors = {}
    username = (username or "").strip()
    if not username:
        errors["username"] = _("This field is required.")
    elif len(username) > 150 or not all(ch.isalnum() or ch in "@.+-_" for ch in username):
        errors["username"] = _("Use at most 150 letters, digits and @ . + - _ only.")
    elif User.objects.filter(username__iexact=username).exists():
        errors["username"] = _("This username is taken.")
    try:
        clean_role(role)
    except ValidationError as exc:
        errors.update({k: v[0] for k, v in exc.message_dict.items()})
    if not password:
        errors["password"] = _("This field is required.")
    else:
        try:
            validate_password(password, User(username=username))
        except ValidationError as exc:
            errors["password"] = " ".join(exc.messages)
    if errors:
        raise ValidationError(errors)
    user = User.objects.create_user(
        username=username, password=password, email=email or "", first_name=(full_name or "")[:150]
    )
    Membership.objects.create(user=user, unit=unit, role=role)
    record(
        "staff.created",
        user,
        actor=actor,
        unit=unit,
        changes={"username": [None, username], "unit": [None, unit.code], "role": [None, role]},
    )
    return user


@transaction.atomic
def set_membership(*, actor, user, unit: Unit, role: str, is_active: bool | None = None, revision=None):
    """A staff member's unit, role and active flag; `revision` is the membership's the edit was
    based on (its audit events are on the user)."""
    clean_role(role)
    if actor is not None and user.pk == actor.pk:
        raise ValidationError({"role": _("You cannot change your own membership.")})
    membership = Membership.objects.select_for_update().filter(user=user).first()
    if membership is not None:
        concurrency.check(membership, revision, audit_obj=user, actor=actor)
    before = {
        "unit": membership.unit.code if membership else None,
        "role": membership.role if membership else None,
        "is_active": user.is_active,
    }
    after = {"unit": unit.code, "role": role, "is_active": user.is_active if is_active is None else is_active}
    changes = diff(before, after)
    if not changes:
        return membership
    if membership is None:
        membership = Membership(user=user)
    else:
        concurrency.advance(membership, changes, audit_obj=user, actor=actor)
    membership.unit, membership.role = unit, role
    membership.save()
    if is_active is not None and user.is_active != is_active:
        user.is_active = is_active
        user.save(update_fields=["is_active"])
    record("staff.updated", user, actor=actor, unit=unit, changes=changes)
    return membership


TOKEN_PREFIX = "yz_"


@transaction.atomic
def create_api_token(*, user, name: str, actor=None) -> tuple[ApiToken, str]:
    """Returns the token row and the raw token, which is shown once and never stored."""
    name = (name or "").strip()
    if not name:
        raise ValidationError({"name": _("This field is required.")})
    if len(name) > 100:
        raise ValidationError({"name": _("At most 100 characters.")})
    raw = TOKEN_PREFIX + secrets.token_urlsafe(32)
    token = ApiToken.objects.create(user=user, name=name, prefix=raw[:10], digest=ApiToken.hash(raw))
    membership = getattr(user, "membership", None)
    record(
        "api_token.created",
        token,
        actor=actor or user,
        unit=membership.unit if membership else None,
        changes={"name": [None, name]},
    )
    return token, raw


@transaction.atomic
def revoke_api_token(token: ApiToken, *, actor) -> ApiToken:
    token = ApiToken.objects.select_for_update().get(pk=token.pk)
    if token.revoked_at is None:
        token.revoked_at = timezone.now()
        token.save(update_fields=["revoked_at"])
        membership = getattr(token.user, "membership", None)
        record(
            "api_token.revoked",
            token,
            actor=actor,
            unit=membership.unit if membership else None,
            changes={"revoked_at": [None, token.revoked_at]},
        )
    return token


def user_for_token(raw: str):
    """The active user behind a bearer token, or None."""
    if not raw or not raw.startswith(TOKEN_PREFIX) or len(raw) > 100:
        return None
    token = (
        # The membership and its unit come in the same statement: scope_for() needs no second one.
        ApiToken.objects.select_related("user__membership__unit")
        .filter(digest=ApiToken.hash(raw), revoked_at__isnull=True, user__is_active=True)
        .first()
    )
    if token is None:
        return None
    now = timezone.now()
    # Recording every use would turn each read into a write; once a minute is enough to audit use.
    if token.last_used_at is None or now - token.last_used_at > datetime.timedelta(minutes=1):
        ApiToken.objects.filter(pk=token.pk).update(last_used_at=now)
    return token.user
