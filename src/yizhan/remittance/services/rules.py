"""Screening rules, aliases, exclusions and the allow-list (head office's), and the screener built from them."""

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from yizhan.audit.models import AuditEvent
from yizhan.audit.services import diff, record, snapshot
from yizhan.core import concurrency
from yizhan.orgs.scoping import scope_for
from yizhan.remittance.models import (
    Alias,
    AllowEntry,
    AllowField,
    Exclusion,
    Field,
    Rule,
)
from yizhan.remittance.screening import (
    AllowSpec,
    ExclusionSpec,
    RuleSpec,
    Screener,
    alias_classes,
    compact_account,
    expand,
    normalise,
)
from yizhan.remittance.services.common import _bool, _int, _text

RULES_ACTION_PREFIX = "remittance.rules."


def _require_hq(actor) -> None:
    """Rules are head office's: a user must be a head-office admin; None is the system (CLI, demo)."""
    if actor is not None and not scope_for(actor).can("hq_admin"):
        raise PermissionDenied


# ---------------------------------------------------------------- screening rules (head office)

RULE_FIELDS = ["field", "term", "category", "priority", "is_active", "note"]


def clean_rule(data: dict, *, instance: Rule | None = None) -> dict:
    errors: dict[str, str] = {}
    out = {
        "field": data.get("field"),
        "term": _text(data, "term", errors, limit=64),
        "category": _text(data, "category", errors, limit=32, required=False),
        "priority": _int(data, "priority", errors, low=1, high=100, default=50),
        "is_active": _bool(data.get("is_active", True)),
        "note": _text(data, "note", errors, limit=200, required=False),
    }
    if out["field"] not in Field.values:
        errors["field"] = _("Choose payee or purpose.")
    if out["term"] and "term" not in errors:
        norm = normalise(out["term"])
        if not norm:
            errors["term"] = _("The keyword has no letters or digits.")
        elif "field" not in errors:
            # 紅十字會 and 红十字会 are one keyword once normalised: one rule each.
            others = Rule.objects.filter(field=out["field"])
            if instance is not None:
                others = others.exclude(pk=instance.pk)
            if any(normalise(term) == norm for term in others.values_list("term", flat=True)):
                errors["term"] = _("This keyword already has a rule on this field.")
    if errors:
        raise ValidationError(errors)
    return out


@transaction.atomic
def save_rule(*, actor, instance: Rule | None = None, revision: int | None = None, **data) -> Rule:
    """Create a rule, or change one (`revision`: the one the edit was based on)."""
    _require_hq(actor)
    if instance is not None:
        instance = Rule.objects.select_for_update().get(pk=instance.pk)
        concurrency.check(instance, revision, actor=actor)
        data = {**snapshot(instance, RULE_FIELDS), **data}
    values = clean_rule(data, instance=instance)
    before = snapshot(instance, RULE_FIELDS) if instance else {}
    rule = instance or Rule()
    for key, value in values.items():
        setattr(rule, key, value)
    changes = diff(before, snapshot(rule, RULE_FIELDS))
    if instance is not None and not changes:
        return rule
    if instance is not None:
        concurrency.advance(rule, changes, actor=actor)
    rule.updated_at = timezone.now()
    rule.save()
    record(
        RULES_ACTION_PREFIX + ("rule_updated" if instance else "rule_created"),
        rule,
        actor=actor,
        changes=changes,
    )
    return rule


@transaction.atomic
def delete_rule(rule: Rule, *, actor) -> None:
    _require_hq(actor)
    before = snapshot(rule, RULE_FIELDS)
    record(RULES_ACTION_PREFIX + "rule_deleted", rule, actor=actor, changes=diff(before, {}))
    rule.delete()


def clean_alias(data: dict) -> dict:
    errors: dict[str, str] = {}
    a = _text(data, "term_a", errors, limit=64)
    b = _text(data, "term_b", errors, limit=64)
    for name, value in (("term_a", a), ("term_b", b)):
        if value and name not in errors and not normalise(value):
            errors[name] = _("The term has no letters or digits.")
    if not errors and normalise(a) == normalise(b):
        errors["term_b"] = _("The two terms are the same once normalised.")
    if not errors and Alias.objects.filter(Q(term_a=a, term_b=b) | Q(term_a=b, term_b=a)).exists():
        errors["term_b"] = _("This alias exists already.")
    if errors:
        raise ValidationError(errors)
    return {"term_a": a, "term_b": b}


@transaction.atomic
def create_alias(*, actor, **data) -> Alias:
    _require_hq(actor)
    alias = Alias.objects.create(**clean_alias(data))
    record(RULES_ACTION_PREFIX + "alias_created", alias, actor=actor, changes=diff({}, snapshot(alias)))
    return alias


@transaction.atomic
def delete_alias(alias: Alias, *, actor) -> None:
    _require_hq(actor)
    record(RULES_ACTION_PREFIX + "alias_deleted", alias, actor=actor, changes=diff(snapshot(alias), {}))
    alias.delete()


def clean_exclusion(data: dict) -> dict:
    errors: dict[str, str] = {}
    term = _text(data, "term", errors, limit=64)
    rule = data.get("rule") or None
    if rule is not None and not isinstance(rule, Rule):
        rule = Rule.objects.filter(pk=str(rule)).first() if str(rule).isdigit() else None
        if rule is None:
            errors["rule"] = _("No such rule.")
    fld = data.get("field") or ""
    if fld and fld not in Field.values:
        errors["field"] = _("Choose payee or purpose, or leave it empty for both.")
    if term and "term" not in errors:
        norm = normalise(term)
        if not norm:
            errors["term"] = _("The term has no letters or digits.")
        elif rule is not None:
            classes = alias_classes(Alias.objects.values_list("term_a", "term_b"))
            if not any(t in norm for t in expand(rule.term, classes)):
                errors["term"] = _(
                    "This context does not contain the rule's keyword, so it could never apply."
                )
    if errors:
        raise ValidationError(errors)
    return {
        "term": term,
        "rule": rule,
        "field": fld,
        "note": _text(data, "note", errors, limit=200, required=False),
    }


@transaction.atomic
def create_exclusion(*, actor, **data) -> Exclusion:
    _require_hq(actor)
    exclusion = Exclusion.objects.create(**clean_exclusion(data))
    record(
        RULES_ACTION_PREFIX + "exclusion_created",
        exclusion,
        actor=actor,
        changes=diff({}, snapshot(exclusion, ["term", "rule_id", "field", "note"])),
    )
    return exclusion


@transaction.atomic
def delete_exclusion(exclusion: Exclusion, *, actor) -> None:
    _require_hq(actor)
    record(
        RULES_ACTION_PREFIX + "exclusion_deleted",
        exclusion,
        actor=actor,
        changes=diff(snapshot(exclusion, ["term", "rule_id", "field", "note"]), {}),
    )
    exclusion.delete()


def clean_allow_entry(data: dict) -> dict:
    errors: dict[str, str] = {}
    fld = data.get("field")
    if fld not in AllowField.values:
        errors["field"] = _("Choose which field the entry matches.")
    value = _text(data, "value", errors, limit=200)
    if value and "value" not in errors and fld in AllowField.values:
        if fld.endswith("account"):
            value = compact_account(value)
            if len(value) < 6:
                errors["value"] = _("Not an account number.")
        elif not normalise(value):
            errors["value"] = _("The name has no letters or digits.")
    rule = data.get("rule") or None
    if rule is not None and not isinstance(rule, Rule):
        rule = Rule.objects.filter(pk=str(rule)).first() if str(rule).isdigit() else None
        if rule is None:
            errors["rule"] = _("No such rule.")
    reason = _text(data, "reason", errors, limit=200)
    if errors:
        raise ValidationError(errors)
    return {
        "field": fld,
        "value": value,
        "rule": rule,
        "reason": reason,
        "is_active": _bool(data.get("is_active", True)),
    }


@transaction.atomic
def create_allow_entry(*, actor, **data) -> AllowEntry:
    _require_hq(actor)
    entry = AllowEntry.objects.create(**clean_allow_entry(data))
    record(RULES_ACTION_PREFIX + "allow_created", entry, actor=actor, changes=diff({}, snapshot(entry)))
    return entry


@transaction.atomic
def delete_allow_entry(entry: AllowEntry, *, actor) -> None:
    _require_hq(actor)
    record(RULES_ACTION_PREFIX + "allow_deleted", entry, actor=actor, changes=diff(snapshot(entry), {}))
    entry.delete()


def load_screener() -> Screener:
    rules = [RuleSpec(r.pk, r.field, r.term, r.priority) for r in Rule.objects.filter(is_active=True)]
    return Screener(
        rules,
        aliases=list(Alias.objects.values_list("term_a", "term_b")),
        exclusions=[ExclusionSpec(e.term, e.rule_id, e.field) for e in Exclusion.objects.all()],
        allow=[
            AllowSpec(a.pk, a.field, a.value, a.rule_id) for a in AllowEntry.objects.filter(is_active=True)
        ],
    )


def rules_changed_at():
    """When the rules, aliases, exclusions or allow-list last changed (from the audit log)."""
    return (
        AuditEvent.objects.filter(action__startswith=RULES_ACTION_PREFIX)
        .order_by("-created_at")
        .values_list("created_at", flat=True)
        .first()
    )


def rule_labels() -> dict[int, str]:
    return {r.pk: f"{r.term}（{r.get_field_display()}）" for r in Rule.objects.all()}
