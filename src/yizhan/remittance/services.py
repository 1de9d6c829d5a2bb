"""Verb functions of the remittance green channel. Each validates (one `clean_*` shared by forms,
API and imports), runs in one transaction and writes its audit event; views, API and the command
only call these."""

import datetime
import hashlib
from collections import Counter
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from functools import partial

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection, models, transaction
from django.db.models import Case, Count, Q, Value, When
from django.utils import timezone
from django.utils.translation import gettext as _

from yizhan.audit.models import AuditEvent
from yizhan.audit.services import diff, record, snapshot
from yizhan.core import concurrency
from yizhan.core.masking import mask_phone
from yizhan.core.tabular import write_csv
from yizhan.orgs.models import Unit
from yizhan.orgs.scoping import Scope, scope_for, scoped
from yizhan.remittance import importer
from yizhan.remittance.duplicates import Item, group_duplicates, propose_keep
from yizhan.remittance.models import (
    CLAIM_TTL,
    EXPORT_CODES,
    Alias,
    AllowEntry,
    AllowField,
    Batch,
    Callback,
    Decision,
    DuplicateGroup,
    Exclusion,
    Field,
    Hit,
    ImportRun,
    Instruction,
    Rule,
    State,
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

RULES_ACTION_PREFIX = "remittance.rules."


def _scope(user_or_scope) -> Scope:
    return user_or_scope if isinstance(user_or_scope, Scope) else scope_for(user_or_scope)


def _require_hq(actor) -> None:
    """Rules are head office's: a user must be a head-office admin; None is the system (CLI, demo)."""
    if actor is not None and not scope_for(actor).can("hq_admin"):
        raise PermissionDenied


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


# ---------------------------------------------------------------- batches

BATCH_FIELDS = ["name", "deadline", "approval_threshold", "near_window_hours"]


def clean_batch(data: dict) -> dict:
    errors: dict[str, str] = {}
    out = {"name": _text(data, "name", errors, limit=100)}
    deadline = data.get("deadline")
    if deadline in (None, ""):
        errors["deadline"] = _("This field is required.")
    elif isinstance(deadline, datetime.datetime):
        out["deadline"] = deadline if timezone.is_aware(deadline) else timezone.make_aware(deadline)
    else:
        try:
            out["deadline"] = importer.parse_datetime(str(deadline))
        except ValueError as exc:
            errors["deadline"] = str(exc)
    threshold = data.get("approval_threshold")
    if threshold in (None, ""):
        out["approval_threshold"] = Batch._meta.get_field("approval_threshold").default
    else:
        try:
            value = Decimal(str(threshold).replace(",", "").strip())
        except InvalidOperation:
            errors["approval_threshold"] = _("Enter an amount like 50000.00.")
        else:
            if not value.is_finite() or value < 0 or value > importer.MAX_AMOUNT:
                errors["approval_threshold"] = _("Enter an amount of 0 or more.")
            else:
                out["approval_threshold"] = value.quantize(Decimal("0.01"))
    out["near_window_hours"] = _int(
        data,
        "near_window_hours",
        errors,
        low=0,
        high=24 * 30,
        default=Batch._meta.get_field("near_window_hours").default,
    )
    if errors:
        raise ValidationError(errors)
    return out


@transaction.atomic
def create_batch(*, actor, unit: Unit, **data) -> Batch:
    values = clean_batch(data)
    batch = Batch.objects.create(
        unit=unit, created_by=actor if getattr(actor, "pk", None) else None, **values
    )
    record("remittance.batch.created", batch, actor=actor, changes=diff({}, snapshot(batch, BATCH_FIELDS)))
    return batch


@transaction.atomic
def update_batch(batch: Batch, *, actor, revision: int | None = None, **data) -> Batch:
    """Change a batch's settings (`revision`: the one the edit was based on)."""
    batch = Batch.objects.select_for_update().get(pk=batch.pk)
    concurrency.check(batch, revision, actor=actor)
    before = snapshot(batch, BATCH_FIELDS)
    values = clean_batch({**{k: getattr(batch, k) for k in BATCH_FIELDS}, **data})
    for key, value in values.items():
        setattr(batch, key, value)
    changes = diff(before, snapshot(batch, BATCH_FIELDS))
    if not changes:
        return batch
    concurrency.advance(batch, changes, actor=actor)
    batch.save()
    record("remittance.batch.updated", batch, actor=actor, changes=changes)
    if "near_window_hours" in changes:
        regroup_batch(batch)
    return batch


def owns_batch(user_or_scope, batch: Batch) -> bool:
    """Importing, re-screening and settings belong to the batch's own unit and those above it."""
    return _scope(user_or_scope).covers(batch.unit.path)


def require_batch_owner(user_or_scope, batch: Batch, perm: str = "change") -> None:
    scope = _scope(user_or_scope)
    if not (scope.can(perm) and owns_batch(scope, batch)):
        raise PermissionDenied


# ---------------------------------------------------------------- import


def rule_labels() -> dict[int, str]:
    return {r.pk: f"{r.term}（{r.get_field_display()}）" for r in Rule.objects.all()}


@dataclass
class ReportLine:
    row: int | None
    instruction_id: str
    status: str
    rules: str = ""
    group: str = ""
    errors: str = ""


@dataclass
class ImportReport:
    filename: str
    dry_run: bool
    valid_only: bool
    rows_read: int = 0
    valid_rows: int = 0
    errors: list = field(default_factory=list)  # importer.RowError
    file_error: bool = False
    imported: int = 0
    refused_reason: str = ""
    hits_by_rule: list = field(default_factory=list)  # [(label, instructions hit)]
    flagged_rows: int = 0
    groups_by_kind: dict = field(default_factory=dict)  # {kind label: groups}
    groups_total: int = 0
    rows_in_groups: int = 0
    lines: list = field(default_factory=list)  # ReportLine, by row

    def summary_lines(self) -> list[str]:
        lines = [
            _("rows read: %(n)d, valid: %(valid)d, with errors: %(bad)d")
            % {"n": self.rows_read, "valid": self.valid_rows, "bad": len({e.row for e in self.errors})},
        ]
        if self.dry_run:
            lines.append(_("dry run: nothing was written"))
        elif self.refused_reason:
            lines.append(self.refused_reason)
        else:
            lines.append(_("imported: %(n)d") % {"n": self.imported})
        lines.append(_("rows with hits: %(n)d") % {"n": self.flagged_rows})
        lines.append(_("hits by rule:"))
        lines.extend(f"  {label}: {count}" for label, count in self.hits_by_rule)
        kinds = ", ".join(f"{k}: {n}" for k, n in self.groups_by_kind.items())
        lines.append(
            _("duplicate groups: %(n)d (%(kinds)s), rows of this file in them: %(rows)d")
            % {"n": self.groups_total, "kinds": kinds or "-", "rows": self.rows_in_groups}
        )
        return lines

    def report_csv(self) -> bytes:
        headers = [
            _("row"),
            _("instruction id"),
            _("result"),
            _("rules hit"),
            _("duplicate group"),
            _("errors"),
        ]
        return write_csv(
            headers,
            (
                [line.row or "", line.instruction_id, line.status, line.rules, line.group, line.errors]
                for line in self.lines
            ),
        )


def units_for_import(batch: Batch, user_or_scope=None) -> dict:
    """Upper-cased unit code -> unit, for the codes the importer may use: the batch's subtree,
    narrowed to the importer's own subtree."""
    units = Unit.objects.filter(path__startswith=batch.unit.path)
    if user_or_scope is not None:
        units = scoped(user_or_scope, units)
    return {u.code.upper(): u for u in units.only("pk", "code", "path", "name")}


def screen_record(screener: Screener, values: dict):
    return screener.screen(
        values["payee_name"],
        values.get("purpose", ""),
        payer_name=values["payer_name"],
        payer_account=values["payer_account"],
        payee_account=values["payee_account"],
    )


def _existing_items(batch: Batch, **filters) -> list[Item]:
    if batch.pk is None:
        return []
    rows = (
        Instruction.objects.filter(batch=batch, **filters)
        .order_by("pk")
        .values_list(
            "pk",
            "instruction_id",
            "payer_account",
            "payee_account",
            "amount",
            "purpose",
            "created_at",
            "decision",
        )
    )
    return [Item(pk, iid, pa, pe, amt, normalise(pu), ca, dec) for pk, iid, pa, pe, amt, pu, ca, dec in rows]


def _kind_label(kind: str) -> str:
    return str(DuplicateGroup.Kind(kind).label)


@transaction.atomic
def stage_import(batch: Batch, *, actor, filename: str, data: bytes) -> ImportRun:
    """Keep an uploaded file for its preview; nothing is imported until it is confirmed."""
    run = ImportRun.objects.create(
        batch=batch,
        filename=(filename or "upload")[:200],
        sha256=hashlib.sha256(data).hexdigest(),
        content=data,
        created_by=actor if getattr(actor, "pk", None) else None,
    )
    record(
        "remittance.import.staged",
        run,
        actor=actor,
        unit=batch.unit,
        changes={"file": [None, run.filename], "bytes": [None, len(data)], "batch": [None, batch.pk]},
    )
    return run


@transaction.atomic
def discard_import(run: ImportRun, *, actor) -> None:
    run = ImportRun.objects.select_for_update().get(pk=run.pk)
    if run.status != ImportRun.Status.PREVIEWED:
        return
    run.status = ImportRun.Status.DISCARDED
    run.content = b""
    run.save(update_fields=["status", "content"])
    record(
        "remittance.import.discarded",
        run,
        actor=actor,
        unit=run.batch.unit,
        changes={"status": [ImportRun.Status.PREVIEWED, ImportRun.Status.DISCARDED]},
    )


def run_import(
    batch: Batch,
    *,
    actor,
    filename: str,
    data: bytes,
    dry_run: bool = False,
    valid_only: bool = False,
    scope=None,
    staged: ImportRun | None = None,
) -> ImportReport:
    """Read, check, screen and group a file; write it (all of it, or only its valid rows when
    asked) unless it is a dry run. Returns the report either way."""
    report = ImportReport(filename=filename, dry_run=dry_run, valid_only=valid_only)
    parsed = importer.parse_file(filename, data, units_by_code=units_for_import(batch, scope))
    digest = hashlib.sha256(data).hexdigest()
    if batch.pk and not parsed.file_error:
        earlier = batch.imports.filter(sha256=digest, status=ImportRun.Status.IMPORTED).first()
        if earlier is not None:
            parsed.errors.insert(
                0,
                importer.RowError(
                    importer.HEADER_ROW,
                    "",
                    _("This file was already imported into this batch on %(when)s.")
                    % {"when": timezone.localtime(earlier.created_at).strftime("%Y-%m-%d %H:%M")},
                ),
            )
            parsed.file_error = True
    report.rows_read = parsed.rows_read
    report.valid_rows = len(parsed.records)
    report.errors = parsed.errors
    report.file_error = parsed.file_error

    screener = load_screener()
    outcomes = [screen_record(screener, values) for values in parsed.records]
    existing = _existing_items(batch)
    new_items = [
        Item(
            ("new", i),
            v["instruction_id"],
            v["payer_account"],
            v["payee_account"],
            v["amount"],
            normalise(v.get("purpose", "")),
            v["created_at"],
        )
        for i, v in enumerate(parsed.records)
    ]
    window = datetime.timedelta(hours=batch.near_window_hours)
    groups = group_duplicates(existing + new_items, window)
    _fill_report(report, parsed, outcomes, groups, existing + new_items)

    if parsed.file_error:
        report.refused_reason = _("nothing imported: the file cannot be read as a whole")
        return report
    if parsed.errors and not valid_only:
        report.refused_reason = _(
            "nothing imported: the file has errors; fix them, or choose to import the valid rows only"
        )
        return report
    if not parsed.records:
        report.refused_reason = _("nothing imported: no valid rows")
        return report
    if dry_run:
        return report
    _write_import(
        batch,
        actor=actor,
        filename=filename,
        data=data,
        parsed=parsed,
        outcomes=outcomes,
        screener=screener,
        staged=staged,
    )
    report.imported = len(parsed.records)
    for line in report.lines:
        if line.status == _("would import"):
            line.status = _("imported")
    return report


def _fill_report(report: ImportReport, parsed, outcomes, groups, items: list[Item]) -> None:
    labels = rule_labels()
    by_rule: Counter = Counter()
    row_rules: dict[int, str] = {}
    for values, outcome in zip(parsed.records, outcomes, strict=True):
        rules = sorted({h.rule_id for h in outcome.hits})
        by_rule.update(rules)
        if rules:
            report.flagged_rows += 1
            row_rules[values["row_number"]] = "; ".join(
                f"{labels.get(h.rule_id, h.rule_id)}「{h.text}」[{h.start}:{h.end}]" for h in outcome.hits
            )
    report.hits_by_rule = [(labels.get(rule_id, str(rule_id)), n) for rule_id, n in by_rule.most_common()]
    # The summary speaks of this file: groups with at least one of its rows (they may also hold
    # instructions imported earlier into the batch).
    touched = [g for g in groups if any(isinstance(key, tuple) for key in g.members)]
    report.groups_total = len(touched)
    report.groups_by_kind = dict(Counter(_kind_label(g.kind) for g in touched).most_common())
    report.rows_in_groups = sum(isinstance(key, tuple) for g in touched for key in g.members)
    ids = {item.key: item.instruction_id for item in items}
    row_group: dict[int, str] = {}
    for number, group in enumerate(groups, start=1):
        for key in group.members:
            if isinstance(key, tuple):  # a row of this file (saved instructions are keyed by pk)
                if key == group.keep:
                    keep_text = _("proposed to keep")
                else:
                    keep_text = _("duplicate of %(id)s") % {"id": ids[group.keep]}
                row = parsed.records[key[1]]["row_number"]
                row_group[row] = f"G{number} · {_kind_label(group.kind)} · {keep_text}"
    errors_by_row: dict = {}
    for error in parsed.errors:
        errors_by_row.setdefault(error.row, []).append(error)
    lines = []
    for values in parsed.records:
        row = values["row_number"]
        lines.append(
            ReportLine(
                row,
                values["instruction_id"],
                _("would import"),
                row_rules.get(row, ""),
                row_group.get(row, ""),
            )
        )
    for row, errors in errors_by_row.items():
        lines.append(
            ReportLine(
                row,
                parsed.row_ids.get(row, "") if row is not None else "",
                _("error"),
                errors="; ".join(f"{e.column}: {e.message}" if e.column else e.message for e in errors),
            )
        )
    report.lines = sorted(lines, key=lambda line: (line.row is not None, line.row or 0))


@transaction.atomic
def _write_import(batch, *, actor, filename, data, parsed, outcomes, screener, staged) -> None:
    # One import at a time per batch: regrouping renumbers the batch's groups.
    batch = Batch.objects.select_for_update().get(pk=batch.pk)
    digest = hashlib.sha256(data).hexdigest()
    if batch.imports.filter(sha256=digest, status=ImportRun.Status.IMPORTED).exists():
        raise ValidationError({"file": _("This file was imported into this batch a moment ago.")})
    if staged is not None:
        run = ImportRun.objects.select_for_update().get(pk=staged.pk)
        if run.status != ImportRun.Status.PREVIEWED:
            raise ValidationError({"file": _("This upload was already imported or discarded.")})
    else:
        run = ImportRun(
            batch=batch,
            filename=(filename or "upload")[:200],
            sha256=digest,
            created_by=actor if getattr(actor, "pk", None) else None,
        )
    run.content = data
    run.status = ImportRun.Status.IMPORTED
    run.rows_read = parsed.rows_read
    run.rows_imported = len(parsed.records)
    run.rows_rejected = len({e.row for e in parsed.errors})
    run.save()
    create_instructions(batch, parsed.records, outcomes, screener=screener, import_run=run)
    regroup_batch(batch)
    if batch.screened_at is None:
        batch.screened_at = timezone.now()
        batch.save(update_fields=["screened_at"])
    record(
        "remittance.batch.imported",
        batch,
        actor=actor,
        changes={
            "file": [None, run.filename],
            "sha256": [None, run.sha256],
            "rows_imported": [None, run.rows_imported],
            "rows_rejected": [None, run.rows_rejected],
        },
    )


INSTRUCTION_FIELDS = [
    "instruction_id",
    "created_at",
    "scheduled_date",
    "payer_name",
    "payer_account",
    "payer_phone",
    "payee_name",
    "payee_account",
    "payee_bank",
    "amount",
    "purpose",
    "channel",
    "unit",
    "row_number",
]


def create_instructions(batch, records, outcomes, *, screener: Screener, import_run=None) -> int:
    """Insert validated records with their screening outcome and hits (the import and the demo share this).

    One executemany instead of bulk_create: for 50,000 rows, bulk_create spends four fifths of its
    ~12 s building model instances and preparing values one field at a time; here only dates and
    amounts need the backend's adapters.
    """
    fields = [f for f in Instruction._meta.concrete_fields if not f.primary_key]
    ops = connection.ops
    adapters = []
    for f in fields:
        if isinstance(f, models.DateTimeField):
            adapters.append(ops.adapt_datetimefield_value)
        elif isinstance(f, models.DateField):
            adapters.append(ops.adapt_datefield_value)
        elif isinstance(f, models.DecimalField):
            adapters.append(
                partial(
                    ops.adapt_decimalfield_value, max_digits=f.max_digits, decimal_places=f.decimal_places
                )
            )
        else:
            adapters.append(None)
    defaults = {f.attname: f.get_default() for f in fields}
    rows = []
    for values, outcome in zip(records, outcomes, strict=True):
        row = dict(defaults)
        row.update({name: values.get(name, "") for name in INSTRUCTION_FIELDS if name != "unit"})
        row.update(
            batch_id=batch.pk,
            import_run_id=import_run.pk if import_run else None,
            unit_id=values["unit"].pk,
            priority=screener.priority(outcome.hits),
            hit_count=len(outcome.hits),
            flagged=bool(outcome.hits),
            allowed_by_id=outcome.allowed_by,
        )
        rows.append(
            tuple(
                adapt(row[f.attname]) if adapt else row[f.attname]
                for f, adapt in zip(fields, adapters, strict=True)
            )
        )
    columns = ", ".join(ops.quote_name(f.column) for f in fields)
    placeholders = ", ".join(["%s"] * len(fields))
    # Table and column names come from the model; every value is a parameter.
    sql = f"INSERT INTO {ops.quote_name(Instruction._meta.db_table)} ({columns}) VALUES ({placeholders})"  # noqa: S608
    with connection.cursor() as cursor:
        cursor.executemany(sql, rows)
    with_hits = {
        values["row_number"]: outcome
        for values, outcome in zip(records, outcomes, strict=True)
        if outcome.hits
    }
    if with_hits:
        pks = dict(
            Instruction.objects.filter(batch=batch, import_run=import_run).values_list("row_number", "pk")
        )
        pairs = [(Instruction(pk=pks[number]), outcome) for number, outcome in with_hits.items()]
        Hit.objects.bulk_create(_hit_rows(screener, pairs), batch_size=2000)
    return len(rows)


def _hit_rows(screener: Screener, pairs) -> list[Hit]:
    return [
        Hit(
            instruction=obj,
            rule_id=h.rule_id,
            rule_term=screener.rules[h.rule_id].term[:64],
            field=h.field,
            start=h.start,
            end=h.end,
            text=h.text[:200],
        )
        for obj, outcome in pairs
        for h in outcome.hits
    ]


# ---------------------------------------------------------------- grouping and re-screening


def regroup_batch(batch: Batch) -> list[DuplicateGroup]:
    """Recompute the batch's duplicate groups (derived data; decisions stay on the instructions).

    Runs inside the caller's transaction (an import, a change of the window)."""
    items = _existing_items(batch)
    groups = group_duplicates(items, datetime.timedelta(hours=batch.near_window_hours))
    Instruction.objects.filter(batch=batch, dup_group__isnull=False).update(dup_group=None)
    DuplicateGroup.objects.filter(batch=batch).delete()
    created = DuplicateGroup.objects.bulk_create(
        [
            DuplicateGroup(batch=batch, number=n, kind=g.kind, keep_id=g.keep, size=len(g.members))
            for n, g in enumerate(groups, start=1)
        ]
    )
    for obj, group in zip(created, groups, strict=True):
        Instruction.objects.filter(pk__in=group.members).update(dup_group=obj)
    _refresh_flags(batch)
    return created


def _refresh_flags(batch: Batch) -> None:
    Instruction.objects.filter(batch=batch).update(
        flagged=Case(
            When(Q(hit_count__gt=0) | Q(dup_group__isnull=False), then=Value(True)),
            default=Value(False),
        )
    )


@transaction.atomic
def rescreen_batch(batch: Batch, *, actor) -> dict:
    """Screen every instruction of the batch again with the current rules; decisions are kept."""
    screener = load_screener()
    batch = Batch.objects.select_for_update().get(pk=batch.pk)
    Hit.objects.filter(instruction__batch=batch).delete()
    changed, pairs = [], []
    flagged_before = Instruction.objects.filter(batch=batch, hit_count__gt=0).count()
    rows = Instruction.objects.filter(batch=batch).only(
        "pk",
        "payee_name",
        "purpose",
        "payer_name",
        "payer_account",
        "payee_account",
        "priority",
        "hit_count",
        "allowed_by",
    )
    for inst in rows.iterator(chunk_size=5000):
        outcome = screen_record(
            screener,
            {
                "payee_name": inst.payee_name,
                "purpose": inst.purpose,
                "payer_name": inst.payer_name,
                "payer_account": inst.payer_account,
                "payee_account": inst.payee_account,
            },
        )
        new = (screener.priority(outcome.hits), len(outcome.hits), outcome.allowed_by)
        if new != (inst.priority, inst.hit_count, inst.allowed_by_id):
            inst.priority, inst.hit_count, inst.allowed_by_id = new
            changed.append(inst)
        if outcome.hits:
            pairs.append((inst, outcome))
    Hit.objects.bulk_create(_hit_rows(screener, pairs), batch_size=2000)
    Instruction.objects.bulk_update(changed, ["priority", "hit_count", "allowed_by"], batch_size=1000)
    _refresh_flags(batch)
    batch.screened_at = timezone.now()
    batch.save(update_fields=["screened_at"])
    result = {"with_hits": [flagged_before, len(pairs)], "changed": [None, len(changed)]}
    record("remittance.batch.rescreened", batch, actor=actor, changes=result)
    return result


def screening_is_stale(batch: Batch) -> bool:
    changed = rules_changed_at()
    return bool(batch.screened_at and changed and changed > batch.screened_at)


# ---------------------------------------------------------------- the work: claim, call, decide, approve


def _username(user) -> str | None:
    return user.get_username() if user is not None else None


def _work_state(inst: Instruction) -> dict:
    return {
        "state": inst.state,
        "decision": inst.decision,
        "decision_note": inst.decision_note,
        "claimed_by": _username(inst.claimed_by),
        "decided_by": _username(inst.decided_by),
        "approved_by": _username(inst.approved_by),
    }


def _locked(instruction: Instruction) -> Instruction:
    return Instruction.objects.select_for_update().select_related("batch").get(pk=instruction.pk)


def _require_change(actor) -> None:
    if actor is not None and not scope_for(actor).can("change"):
        raise PermissionDenied


@transaction.atomic
def claim(instruction: Instruction, *, actor) -> Instruction:
    """Lock the item for one caller: a conditional UPDATE, so of two people claiming at once exactly
    one wins (PostgreSQL re-checks the condition after the row lock; SQLite serialises writers)."""
    _require_change(actor)
    now = timezone.now()
    before = Instruction.objects.select_related("claimed_by").get(pk=instruction.pk)
    won = (
        Instruction.objects.filter(pk=instruction.pk, state=State.OPEN)
        .filter(Q(claimed_by__isnull=True) | Q(claimed_by=actor) | Q(claimed_at__lt=now - CLAIM_TTL))
        .update(claimed_by=actor, claimed_at=now)
    )
    inst = Instruction.objects.select_related("claimed_by", "batch", "unit").get(pk=instruction.pk)
    if not won:
        if inst.state != State.OPEN:
            raise ValidationError({"state": _("This instruction is no longer open.")})
        raise ValidationError(
            {
                "claimed_by": _("%(user)s is working on this instruction.")
                % {"user": _username(inst.claimed_by)}
            }
        )
    previous = _username(before.claimed_by) if before.claim_active(now) else None
    record(
        "remittance.instruction.claimed",
        inst,
        actor=actor,
        changes={"claimed_by": [previous, actor.get_username()]} if previous != actor.get_username() else {},
    )
    return inst


@transaction.atomic
def release(instruction: Instruction, *, actor) -> Instruction:
    """The holder lets go; an admin may free an item someone else holds."""
    inst = _locked(instruction)
    if inst.claimed_by_id is None:
        return inst
    if inst.claimed_by_id != actor.pk and not scope_for(actor).can("admin"):
        raise PermissionDenied
    holder = _username(inst.claimed_by)
    inst.claimed_by, inst.claimed_at = None, None
    inst.save(update_fields=["claimed_by", "claimed_at"])
    record("remittance.instruction.released", inst, actor=actor, changes={"claimed_by": [holder, None]})
    return inst


def _holds(inst: Instruction, actor) -> bool:
    return inst.claimed_by_id == getattr(actor, "pk", None) and inst.claim_active()


def clean_callback(data: dict, *, instruction: Instruction) -> dict:
    errors: dict[str, str] = {}
    phone = str(data.get("phone") or "").strip() or instruction.payer_phone
    digits = "".join(ch for ch in phone if ch.isdigit())
    if not phone:
        errors["phone"] = _("This field is required.")
    elif not 5 <= len(digits) <= 20 or len(phone) > 32:
        errors["phone"] = _("Not a phone number.")
    outcome = data.get("outcome")
    if outcome not in Callback.Outcome.values:
        errors["outcome"] = _("Choose an outcome.")
    now = timezone.now()
    call_back_at = data.get("call_back_at") or None
    if call_back_at is not None and not isinstance(call_back_at, datetime.datetime):
        try:
            call_back_at = importer.parse_datetime(str(call_back_at))
        except ValueError as exc:
            errors["call_back_at"] = str(exc)
            call_back_at = None
    if isinstance(call_back_at, datetime.datetime) and timezone.is_naive(call_back_at):
        call_back_at = timezone.make_aware(call_back_at)
    if outcome == Callback.Outcome.CALL_BACK:
        if call_back_at is None and "call_back_at" not in errors:
            errors["call_back_at"] = _("When should we call back?")
        elif call_back_at is not None and call_back_at <= now:
            errors["call_back_at"] = _("The time to call back must be in the future.")
    elif call_back_at is not None:
        call_back_at = None  # only "call back at …" carries a time
    note = _text(data, "note", errors, limit=500, required=False)
    if errors:
        raise ValidationError(errors)
    return {"phone": phone, "outcome": outcome, "call_back_at": call_back_at, "note": note}


@transaction.atomic
def log_callback(instruction: Instruction, *, actor, **data) -> Callback:
    """Who called whom, when, and what the customer said; renews the caller's claim."""
    _require_change(actor)
    inst = _locked(instruction)
    values = clean_callback(data, instruction=inst)
    if not _holds(inst, actor):
        raise ValidationError({"claimed_by": _("Claim the instruction before you call the customer.")})
    now = timezone.now()
    callback = Callback.objects.create(
        instruction=inst, caller=actor, caller_name=actor.get_username(), called_at=now, **values
    )
    inst.claimed_at = now
    inst.save(update_fields=["claimed_at"])
    record(
        "remittance.callback.logged",
        inst,
        actor=actor,
        changes={
            "outcome": [None, values["outcome"]],
            "phone": [None, mask_phone(values["phone"])],
            "call_back_at": [None, values["call_back_at"]],
            "note": [None, values["note"]],
        },
    )
    return callback


def clean_decision(data: dict) -> dict:
    errors: dict[str, str] = {}
    decision = data.get("decision")
    if decision not in Decision.values:
        errors["decision"] = _("Choose process now, delete as duplicate or leave as scheduled.")
    note = _text(data, "note", errors, limit=500, required=False)
    if errors:
        raise ValidationError(errors)
    return {"decision": decision, "note": note}


def _lock_group(instruction: Instruction) -> list[Instruction]:
    """Lock every member of the instruction's group in pk order (the one order every verb uses)."""
    group_id = Instruction.objects.filter(pk=instruction.pk).values_list("dup_group_id", flat=True).first()
    if group_id is None:
        return []
    return list(Instruction.objects.select_for_update().filter(dup_group_id=group_id).order_by("pk"))


def _check_group_keeps_one(inst: Instruction, members: list[Instruction]) -> None:
    if inst.dup_group_id is None:
        raise ValidationError(
            {"decision": _("Only an instruction in a duplicate group can be deleted as a duplicate.")}
        )
    others = [
        m
        for m in members
        if m.pk != inst.pk
        and not (m.decision == Decision.DELETE_DUPLICATE and m.state in (State.PENDING, State.DECIDED))
    ]
    if not others:
        raise ValidationError(
            {"decision": _("Every other instruction of this group is deleted already; one must stay.")}
        )


def _refresh_keep(inst: Instruction) -> None:
    """A decision changes which member of its group should be kept (the one being processed)."""
    if inst.dup_group_id is None:
        return
    items = _existing_items(inst.batch, dup_group_id=inst.dup_group_id)
    keep = items[propose_keep(items, range(len(items)))].key
    DuplicateGroup.objects.filter(pk=inst.dup_group_id).update(keep_id=keep)


def _check_not_processed_twice(inst: Instruction) -> None:
    """Core banking exported some instructions twice: one instruction id is processed once at most."""
    twin = (
        Instruction.objects.filter(
            batch_id=inst.batch_id,
            instruction_id=inst.instruction_id,
            decision=Decision.PROCESS_NOW,
            state__in=(State.PENDING, State.DECIDED),
        )
        .exclude(pk=inst.pk)
        .exists()
    )
    if twin:
        raise ValidationError(
            {
                "decision": _(
                    "Another copy of this instruction id is already being processed; delete this one as a duplicate."
                )
            }
        )


def needs_approval(inst: Instruction, decision: str) -> bool:
    return (
        decision in (Decision.PROCESS_NOW, Decision.DELETE_DUPLICATE)
        and inst.amount > inst.batch.approval_threshold
    )


@transaction.atomic
def decide(instruction: Instruction, *, actor, **data) -> Instruction:
    """Process now, delete as duplicate or leave as scheduled; above the batch's threshold the first
    two wait for a second person (maker-checker)."""
    _require_change(actor)
    values = clean_decision(data)
    members = _lock_group(instruction) if values["decision"] == Decision.DELETE_DUPLICATE else []
    inst = _locked(instruction)
    if inst.state != State.OPEN:
        raise ValidationError({"decision": _("This instruction has a decision already.")})
    if not _holds(inst, actor):
        raise ValidationError({"claimed_by": _("Claim the instruction before you decide.")})
    if values["decision"] == Decision.PROCESS_NOW:
        last = inst.callbacks.order_by("-called_at", "-pk").first()
        if last is None or last.outcome != Callback.Outcome.CONFIRMED:
            raise ValidationError(
                {"decision": _("Processing now needs a callback in which the customer confirmed.")}
            )
        _check_not_processed_twice(inst)
    if values["decision"] == Decision.DELETE_DUPLICATE:
        _check_group_keeps_one(inst, members)
    before = _work_state(inst)
    now = timezone.now()
    inst.decision = values["decision"]
    inst.decision_note = values["note"]
    inst.decided_by, inst.decided_at = actor, now
    inst.approved_by, inst.approved_at = None, None
    inst.state = State.PENDING if needs_approval(inst, values["decision"]) else State.DECIDED
    inst.claimed_by, inst.claimed_at = None, None
    inst.save()
    _refresh_keep(inst)
    record("remittance.instruction.decided", inst, actor=actor, changes=diff(before, _work_state(inst)))
    return inst


@transaction.atomic
def approve(instruction: Instruction, *, actor) -> Instruction:
    """The checker confirms a decision above the threshold; the maker may not check their own."""
    _require_change(actor)
    current = Instruction.objects.filter(pk=instruction.pk).values_list("decision", flat=True).first()
    members = _lock_group(instruction) if current == Decision.DELETE_DUPLICATE else []
    inst = _locked(instruction)
    if inst.state != State.PENDING:
        raise ValidationError({"decision": _("This instruction is not awaiting approval.")})
    if inst.decided_by_id == actor.pk:
        raise ValidationError({"approved_by": _("You made this decision; a second person must approve it.")})
    if inst.decision == Decision.DELETE_DUPLICATE:
        _check_group_keeps_one(inst, members)
    before = _work_state(inst)
    inst.state = State.DECIDED
    inst.approved_by, inst.approved_at = actor, timezone.now()
    inst.save(update_fields=["state", "approved_by", "approved_at"])
    record("remittance.instruction.approved", inst, actor=actor, changes=diff(before, _work_state(inst)))
    return inst


@transaction.atomic
def reject(instruction: Instruction, *, actor, note: str = "") -> Instruction:
    """Send a decision awaiting approval back to the worklist (the maker may withdraw it too)."""
    _require_change(actor)
    errors: dict[str, str] = {}
    note = _text({"note": note}, "note", errors, limit=500, required=False)
    if errors:
        raise ValidationError(errors)
    inst = _locked(instruction)
    if inst.state != State.PENDING:
        raise ValidationError({"decision": _("This instruction is not awaiting approval.")})
    before = _work_state(inst)
    _clear_decision(inst)
    inst.save()
    _refresh_keep(inst)
    record(
        "remittance.instruction.rejected",
        inst,
        actor=actor,
        changes={**diff(before, _work_state(inst)), "reason": [None, note]},
    )
    return inst


def _clear_decision(inst: Instruction) -> None:
    inst.state = State.OPEN
    inst.decision, inst.decision_note = "", ""
    inst.decided_by, inst.decided_at = None, None
    inst.approved_by, inst.approved_at = None, None


@transaction.atomic
def reopen(instruction: Instruction, *, actor, note: str = "") -> Instruction:
    """An admin takes back a final decision that has not gone to core banking yet."""
    if actor is not None and not scope_for(actor).can("admin"):
        raise PermissionDenied
    errors: dict[str, str] = {}
    note = _text({"note": note}, "note", errors, limit=500)
    if errors:
        raise ValidationError(errors)
    inst = _locked(instruction)
    if inst.state != State.DECIDED:
        raise ValidationError({"decision": _("Only a final decision can be reopened.")})
    if inst.exported_at is not None:
        raise ValidationError({"decision": _("This decision has gone to core banking already.")})
    before = _work_state(inst)
    _clear_decision(inst)
    inst.save()
    _refresh_keep(inst)
    record(
        "remittance.instruction.reopened",
        inst,
        actor=actor,
        changes={**diff(before, _work_state(inst)), "reason": [None, note]},
    )
    return inst


# ---------------------------------------------------------------- export and progress

EXPORT_HEADERS = [
    "instruction_id",
    "decision",
    "amount",
    "currency",
    "branch_code",
    "scheduled_date",
    "decided_by",
    "decided_at",
    "approved_by",
    "approved_at",
    "note",
]


def _iso(value) -> str:
    return timezone.localtime(value).isoformat(timespec="seconds") if value else ""


@transaction.atomic
def export_decisions(batch: Batch, *, actor, scope) -> tuple[str, bytes, int]:
    """The final decisions in the user's subtree as csv for core banking (format in README)."""
    _require_change(actor)
    rows = (
        scoped(scope, Instruction)
        .filter(batch=batch, state=State.DECIDED)
        .select_related("unit", "decided_by", "approved_by")
        .order_by("unit__code", "instruction_id", "pk")
    )
    lines, fresh = [], []
    for inst in rows:
        lines.append(
            [
                inst.instruction_id,
                EXPORT_CODES[inst.decision],
                format(inst.amount, "f"),
                "CNY",
                inst.unit.code,
                inst.scheduled_date.isoformat(),
                _username(inst.decided_by) or "",
                _iso(inst.decided_at),
                _username(inst.approved_by) or "",
                _iso(inst.approved_at),
                inst.decision_note,
            ]
        )
        if inst.exported_at is None:
            fresh.append(inst.pk)
    content = write_csv(EXPORT_HEADERS, lines)
    now = timezone.now()
    Instruction.objects.filter(pk__in=fresh).update(exported_at=now)
    record(
        "remittance.batch.exported",
        batch,
        actor=actor,
        unit=Unit.objects.get(pk=_scope(scope).unit_id) if _scope(scope).unit_id else batch.unit,
        changes={
            "rows": [None, len(lines)],
            "first_export": [None, len(fresh)],
            "sha256": [None, hashlib.sha256(content).hexdigest()],
        },
    )
    stamp = timezone.localtime(now).strftime("%Y%m%d-%H%M")
    return f"remittance-decisions-{batch.pk}-{stamp}.csv", content, len(lines)


@dataclass
class ProgressRow:
    unit: Unit
    total: int = 0
    open: int = 0
    claimed: int = 0
    pending: int = 0
    decided: int = 0
    has_children: bool = False

    @property
    def outstanding(self) -> int:
        return self.open + self.pending


def progress(batch: Batch, scope, at: Unit) -> tuple[ProgressRow, list[ProgressRow]]:
    """Flagged instructions per unit directly below `at` (each with its whole subtree): what is still
    open, being called, waiting for approval and done."""
    qs = scoped(scope, Instruction).filter(batch=batch, flagged=True, unit__path__startswith=at.path)
    now = timezone.now()
    by_path: dict[str, Counter] = {}
    for path, state, n in qs.values_list("unit__path", "state").annotate(n=Count("pk")).order_by():
        by_path.setdefault(path, Counter())[state] += n
    claimed = dict(
        qs.filter(state=State.OPEN, claimed_by__isnull=False, claimed_at__gte=now - CLAIM_TTL)
        .values_list("unit__path")
        .annotate(n=Count("pk"))
        .order_by()
    )
    children = list(at.children.order_by("code").annotate(n_children=Count("children")))
    total = ProgressRow(at, has_children=bool(children))
    rows = {child.path: ProgressRow(child, has_children=child.n_children > 0) for child in children}
    for path, counts in by_path.items():
        targets = [total] + [row for p, row in rows.items() if path.startswith(p)]
        for row in targets:
            row.open += counts[State.OPEN]
            row.pending += counts[State.PENDING]
            row.decided += counts[State.DECIDED]
            row.total += sum(counts.values())
            row.claimed += claimed.get(path, 0)
    return total, [row for row in rows.values() if row.total]
