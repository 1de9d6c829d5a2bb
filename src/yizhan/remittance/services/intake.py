"""Batches and what goes into them: staging, checking, screening and importing a file, duplicate
groups, re-screening."""

import datetime
import hashlib
from collections import Counter
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection, transaction
from django.db.models import Case, Q, Value, When
from django.utils import timezone
from django.utils.translation import gettext as _

from yizhan.audit.services import diff, record, snapshot
from yizhan.core import bulk, concurrency
from yizhan.core.tabular import write_csv
from yizhan.orgs.models import Unit
from yizhan.orgs.scoping import scoped
from yizhan.remittance import importer
from yizhan.remittance.duplicates import Item, group_duplicates
from yizhan.remittance.models import (
    Batch,
    DuplicateGroup,
    Hit,
    ImportRun,
    Instruction,
)
from yizhan.remittance.screening import (
    Screener,
    normalise,
)
from yizhan.remittance.services.common import _int, _scope, _text
from yizhan.remittance.services.rules import (
    load_screener,
    rule_labels,
    rules_changed_at,
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
    # A report read back from an import job keeps only the first errors and flagged lines, and these
    # counts of them all: (rows with errors, errors).
    counts: tuple | None = None

    KEPT_ERRORS = 500
    KEPT_LINES = 200

    @property
    def error_rows(self) -> int:
        return self.counts[0] if self.counts else len({e.row for e in self.errors})

    @property
    def error_count(self) -> int:
        return self.counts[1] if self.counts else len(self.errors)

    def flagged_lines(self) -> list:
        return [line for line in self.lines if line.rules or line.group][: self.KEPT_LINES]

    def as_dict(self) -> dict:
        """What an import job keeps as its result (JSON): the figures, the first errors and the
        first rows with hits or duplicates — what the preview page shows."""
        return {
            "filename": self.filename,
            "dry_run": self.dry_run,
            "valid_only": self.valid_only,
            "rows_read": self.rows_read,
            "valid_rows": self.valid_rows,
            "error_rows": self.error_rows,
            "error_count": self.error_count,
            "errors": [[e.row, e.column, e.message] for e in self.errors[: self.KEPT_ERRORS]],
            "file_error": self.file_error,
            "imported": self.imported,
            "refused_reason": self.refused_reason,
            "hits_by_rule": [list(pair) for pair in self.hits_by_rule],
            "flagged_rows": self.flagged_rows,
            "groups_by_kind": self.groups_by_kind,
            "groups_total": self.groups_total,
            "rows_in_groups": self.rows_in_groups,
            "lines": [[x.row, x.instruction_id, x.status, x.rules, x.group] for x in self.flagged_lines()],
        }

    @classmethod
    def from_dict(cls, data: dict) -> "ImportReport":
        return cls(
            filename=data["filename"],
            dry_run=data["dry_run"],
            valid_only=data["valid_only"],
            rows_read=data["rows_read"],
            valid_rows=data["valid_rows"],
            errors=[importer.RowError(*e) for e in data["errors"]],
            file_error=data["file_error"],
            imported=data["imported"],
            refused_reason=data["refused_reason"],
            hits_by_rule=[tuple(pair) for pair in data["hits_by_rule"]],
            flagged_rows=data["flagged_rows"],
            groups_by_kind=data["groups_by_kind"],
            groups_total=data["groups_total"],
            rows_in_groups=data["rows_in_groups"],
            lines=[ReportLine(*line) for line in data["lines"]],
            counts=(data["error_rows"], data["error_count"]),
        )

    def summary_lines(self) -> list[str]:
        lines = [
            _("rows read: %(n)d, valid: %(valid)d, with errors: %(bad)d")
            % {"n": self.rows_read, "valid": self.valid_rows, "bad": self.error_rows},
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


def _user(actor):
    """The actor as a row's user (None for the system: the command, the demo)."""
    return actor if getattr(actor, "pk", None) else None


def _new_run(batch: Batch, *, actor, filename: str, data: bytes) -> ImportRun:
    return ImportRun(
        batch=batch,
        filename=(filename or "upload")[:200],
        sha256=hashlib.sha256(data).hexdigest(),
        content=data,
        created_by=_user(actor),
    )


@transaction.atomic
def stage_import(batch: Batch, *, actor, filename: str, data: bytes) -> ImportRun:
    """Keep an uploaded file for its preview; nothing is imported until it is confirmed."""
    run = _new_run(batch, actor=actor, filename=filename, data=data)
    run.save()
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


def _earlier_import(batch: Batch, digest: str) -> ImportRun | None:
    return batch.imports.filter(sha256=digest, status=ImportRun.Status.IMPORTED).first()


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
    progress=None,
) -> ImportReport:
    """Read, check, screen and group a file; write it (all of it, or only its valid rows when
    asked) unless it is a dry run. Returns the report either way. `progress(done, total, phase)`
    is told how far it got (the import job's progress bar)."""
    report = ImportReport(filename=filename, dry_run=dry_run, valid_only=valid_only)
    parsed = importer.parse_file(
        filename, data, units_by_code=units_for_import(batch, scope), progress=progress
    )
    digest = hashlib.sha256(data).hexdigest()
    if batch.pk and not parsed.file_error:
        earlier = _earlier_import(batch, digest)
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
    total = len(parsed.records)
    outcomes = []
    for done, values in enumerate(parsed.records, start=1):
        outcomes.append(screen_record(screener, values))
        if progress and done % 1000 == 0:
            progress(done, total, "screen")
    existing = _existing_items(batch)
    new_items = _new_items(parsed.records)
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
    if progress:
        progress(0, total, "write")
    prepared = prepare_instructions(batch, parsed.records, outcomes, screener=screener)
    _write_import(
        batch,
        actor=actor,
        run=staged or _new_run(batch, actor=actor, filename=filename, data=data),
        parsed=parsed,
        prepared=prepared,
        groups=groups,
        mark=_work_mark(existing),
    )
    if progress:
        progress(total, total, "write")
    report.imported = len(parsed.records)
    for line in report.lines:
        if line.status == _("would import"):
            line.status = _("imported")
    return report


def _new_items(records: list[dict]) -> list[Item]:
    """The file's rows as duplicate-finder items, keyed ("new", index) until they have ids."""
    return [
        Item(
            ("new", i),
            v["instruction_id"],
            v["payer_account"],
            v["payee_account"],
            v["amount"],
            normalise(v.get("purpose", "")),
            v["created_at"],
        )
        for i, v in enumerate(records)
    ]


def _work_mark(items: list[Item]) -> tuple:
    """What the duplicate groups of a batch depend on besides the rows themselves: which rows
    there are and their decisions (the proposal to keep prefers one being processed)."""
    pks = [item.key for item in items]
    decided = sorted((item.key, item.decision) for item in items if item.decision)
    return len(pks), max(pks, default=None), tuple(decided)


def _current_mark(batch: Batch) -> tuple:
    rows = Instruction.objects.filter(batch=batch)
    count, top = rows.count(), rows.order_by("-pk").values_list("pk", flat=True).first()
    decided = rows.exclude(decision="").order_by("pk").values_list("pk", "decision")
    return count, top, tuple(decided)


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
def _write_import(batch, *, actor, run: ImportRun, parsed, prepared, groups, mark) -> None:
    """The import's one write transaction: everything was worked out before it (instruction and
    hit rows converted for the database, duplicate groups), so it holds SQLite's write lock only
    for the plain statements and check-ins wait a moment, not the length of the import."""
    # One import at a time per batch: regrouping renumbers the batch's groups.
    batch = Batch.objects.select_for_update().get(pk=batch.pk)
    if _earlier_import(batch, run.sha256) is not None:
        raise ValidationError({"file": _("This file was imported into this batch a moment ago.")})
    if run.pk is not None:
        staged = ImportRun.objects.select_for_update().get(pk=run.pk)
        if staged.status != ImportRun.Status.PREVIEWED:
            raise ValidationError({"file": _("This upload was already imported or discarded.")})
    run.status = ImportRun.Status.IMPORTED
    run.rows_read = parsed.rows_read
    run.rows_imported = len(parsed.records)
    run.rows_rejected = len({e.row for e in parsed.errors})
    run.save()
    # Someone decided, or another import landed, since the groups were worked out: work them out again.
    stale = _current_mark(batch) != mark
    pk_by_row = write_instructions(prepared, run)
    if stale:
        regroup_batch(batch)
    else:
        new_pks = [pk_by_row[values["row_number"]] for values in parsed.records]
        _write_groups(batch, groups, lambda key: new_pks[key[1]] if isinstance(key, tuple) else key)
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


@dataclass
class PreparedInstructions:
    batch_id: int
    rows: bulk.Prepared  # the instructions, import_run_id still to be set
    hits: bulk.Prepared  # their hits, instruction_id still to be set
    hit_rows: list[int]  # the row number of each hit's instruction


def prepare_instructions(batch, records, outcomes, *, screener: Screener) -> PreparedInstructions:
    """Validated records with their screening outcome and hits, converted for the database and
    ready to be written (`write_instructions`) in a short transaction."""
    fields = [f for f in Instruction._meta.concrete_fields if not f.primary_key]
    defaults = {f.attname: f.get_default() for f in fields}
    rows, hits, hit_rows = [], [], []
    for values, outcome in zip(records, outcomes, strict=True):
        row = dict(defaults)
        row.update({name: values.get(name, "") for name in INSTRUCTION_FIELDS if name != "unit"})
        row.update(
            batch_id=batch.pk,
            import_run_id=None,
            unit_id=values["unit"].pk,
            priority=screener.priority(outcome.hits),
            hit_count=len(outcome.hits),
            flagged=bool(outcome.hits),
            allowed_by_id=outcome.allowed_by,
        )
        rows.append(row)
        for hit in _hit_values(screener, outcome):
            hits.append(hit)
            hit_rows.append(values["row_number"])
    return PreparedInstructions(
        batch.pk, bulk.prepare_insert(Instruction, rows), bulk.prepare_insert(Hit, hits), hit_rows
    )


def write_instructions(prepared: PreparedInstructions, import_run: ImportRun | None = None) -> dict:
    """Insert prepared instructions and their hits; returns row number -> instruction pk."""
    prepared.rows.set_column("import_run_id", import_run.pk if import_run else None)
    bulk.execute(prepared.rows)
    pk_by_row = dict(
        Instruction.objects.filter(batch_id=prepared.batch_id, import_run=import_run).values_list(
            "row_number", "pk"
        )
    )
    if prepared.hits:
        prepared.hits.set_column("instruction_id", [pk_by_row[row] for row in prepared.hit_rows])
        bulk.execute(prepared.hits)
    return pk_by_row


def create_instructions(batch, records, outcomes, *, screener: Screener, import_run=None) -> int:
    """Insert validated records with their screening outcome and hits (the demo's way in)."""
    return len(
        write_instructions(prepare_instructions(batch, records, outcomes, screener=screener), import_run)
    )


def _hit_values(screener: Screener, outcome, instruction_id=None) -> list[dict]:
    return [
        {
            "instruction_id": instruction_id,
            "rule_id": h.rule_id,
            "rule_term": screener.rules[h.rule_id].term[:64],
            "field": h.field,
            "start": h.start,
            "end": h.end,
            "text": h.text[:200],
            "matched_term": h.term[:64],
            "context": h.context,
            "exclusion_term": h.exclusion[:64],
        }
        for h in outcome.hits
    ]


# ---------------------------------------------------------------- grouping and re-screening


def regroup_batch(batch: Batch) -> list[DuplicateGroup]:
    """Recompute the batch's duplicate groups (derived data; decisions stay on the instructions).

    Runs inside the caller's transaction (an import, a change of the window)."""
    groups = group_duplicates(_existing_items(batch), datetime.timedelta(hours=batch.near_window_hours))
    return _write_groups(batch, groups, lambda key: key)


def _write_groups(batch: Batch, groups, pk_of) -> list[DuplicateGroup]:
    """Replace the batch's groups with `groups` (members keyed as `pk_of` turns into pks)."""
    Instruction.objects.filter(batch=batch, dup_group__isnull=False).update(dup_group=None)
    DuplicateGroup.objects.filter(batch=batch).delete()
    created = DuplicateGroup.objects.bulk_create(
        [
            DuplicateGroup(batch=batch, number=n, kind=g.kind, keep_id=pk_of(g.keep), size=len(g.members))
            for n, g in enumerate(groups, start=1)
        ]
    )
    ops = connection.ops
    table = ops.quote_name(Instruction._meta.db_table)
    sql = f"UPDATE {table} SET dup_group_id = %s WHERE id = %s"  # noqa: S608 - the model's own table
    params = [
        (obj.pk, pk_of(key)) for obj, group in zip(created, groups, strict=True) for key in group.members
    ]
    with connection.cursor() as cursor:
        for start in range(0, len(params), bulk.CHUNK):
            cursor.executemany(sql, params[start : start + bulk.CHUNK])
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
    bulk.insert(Hit, [hit for inst, outcome in pairs for hit in _hit_values(screener, outcome, inst.pk)])
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
