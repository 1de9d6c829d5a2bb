"""Reading a core-banking export of pending instructions: columns, parsing and row-level errors.

The one set of rules (`clean_instruction_row`) is shared by the back-office upload, the API and
`yizhan import_remittances`.
"""

import datetime
import re
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from zoneinfo import ZoneInfo

from django.conf import settings
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from yizhan.core.boundary import ANSWER_TEXT_LIMIT, clip
from yizhan.core.filereader import FileRefused, limits, read_table
from yizhan.remittance.screening import compact_account


@dataclass(frozen=True)
class Column:
    field: str
    header: str  # the Chinese header core banking writes
    label: str  # lazily translated, for the upload page and the documentation
    required: bool = True  # the column must be present
    blank_ok: bool = False  # the cell may be empty
    aliases: tuple[str, ...] = ()


COLUMNS = [
    Column(
        "instruction_id", "指令编号", gettext_lazy("instruction id"), aliases=("指令号", "instruction_id")
    ),
    Column("created_at", "创建时间", gettext_lazy("created at"), aliases=("created_at", "提交时间")),
    Column(
        "scheduled_date",
        "预约日期",
        gettext_lazy("scheduled date"),
        aliases=("scheduled_date", "预约执行日期"),
    ),
    Column("payer_name", "付款人名称", gettext_lazy("payer name"), aliases=("payer_name", "付款人")),
    Column(
        "payer_account", "付款人账号", gettext_lazy("payer account"), aliases=("payer_account", "付款账号")
    ),
    Column(
        "payer_phone",
        "付款人电话",
        gettext_lazy("payer phone"),
        required=False,
        blank_ok=True,
        aliases=("payer_phone", "联系电话"),
    ),
    Column("payee_name", "收款人名称", gettext_lazy("payee name"), aliases=("payee_name", "收款人")),
    Column(
        "payee_account", "收款人账号", gettext_lazy("payee account"), aliases=("payee_account", "收款账号")
    ),
    Column(
        "payee_bank",
        "收款行",
        gettext_lazy("payee bank"),
        blank_ok=True,
        aliases=("payee_bank", "收款人开户行"),
    ),
    Column("amount", "金额", gettext_lazy("amount (CNY)"), aliases=("amount", "金额（元）", "金额(元)")),
    Column(
        "purpose",
        "用途",
        gettext_lazy("purpose / remark"),
        blank_ok=True,
        aliases=("purpose", "附言", "用途/附言"),
    ),
    Column("channel", "渠道", gettext_lazy("channel"), blank_ok=True, aliases=("channel",)),
    Column("branch_code", "网点代码", gettext_lazy("branch code"), aliases=("branch_code", "机构代码")),
]
COLUMN_BY_FIELD = {c.field: c for c in COLUMNS}
MAX_ROWS = 200_000
MAX_AMOUNT = Decimal("9999999999999.99")
LENGTHS = {
    "instruction_id": 64,
    "payer_name": 200,
    "payer_account": 40,
    "payer_phone": 32,
    "payee_name": 200,
    "payee_account": 40,
    "payee_bank": 200,
    "purpose": 255,
    "channel": 32,
}
HEADER_ROW = None  # errors about the file as a whole or its header carry no row number


@dataclass
class RowError:
    row: int | None
    column: str  # the header as the user knows it ("" for the file as a whole)
    message: str

    def __post_init__(self):
        # A header or cell is shown back cut short (a 5 MB header once came back whole).
        self.column, self.message = clip(self.column), clip(self.message, ANSWER_TEXT_LIMIT)

    def __str__(self):
        where = _("header") if self.row is None else _("row %(row)s") % {"row": self.row}
        if self.column:
            return f"{where}, {self.column}: {self.message}"
        return f"{where}: {self.message}"


@dataclass
class Parsed:
    records: list[dict] = field(default_factory=list)
    errors: list[RowError] = field(default_factory=list)
    rows_read: int = 0
    file_error: bool = False  # nothing in the file can be imported at all
    headers: dict[str, str] = field(default_factory=dict)  # field -> the header used in the file
    row_ids: dict[int, str] = field(default_factory=dict)  # row -> instruction id as written, for reports


_AMOUNT_RE = re.compile(r"^(?:\d{1,3}(?:,\d{3})+|\d+)(?:\.\d+)?$")
_TZ = ZoneInfo(settings.TIME_ZONE)


def parse_amount(text: str) -> Decimal:
    """CNY as an exact Decimal: "1,000.50" and "1000.5" are fine; "1,000.5.0", "-3", "1.234" are not."""
    raw = (text or "").strip().replace("，", ",")
    for prefix in ("¥", "￥", "CNY", "RMB"):
        if raw.upper().startswith(prefix):
            raw = raw[len(prefix) :].strip()
    if not raw:
        raise ValueError(_("This field is required."))
    if raw.startswith("-") or raw.startswith("(") or raw.startswith("−"):
        raise ValueError(_("The amount must be positive."))
    if not _AMOUNT_RE.match(raw):
        raise ValueError(
            _("“%(value)s” is not an amount; write it like 1000.50 or 1,000.50.") % {"value": text}
        )
    try:
        amount = Decimal(raw.replace(",", ""))
    except InvalidOperation as exc:  # the pattern already guarantees a number; belt and braces
        raise ValueError(_("“%(value)s” is not an amount.") % {"value": text}) from exc
    if amount.as_tuple().exponent < -2 and amount != amount.quantize(Decimal("0.01")):
        raise ValueError(_("At most two decimal places (fen)."))
    if amount <= 0:
        raise ValueError(_("The amount must be positive."))
    if amount > MAX_AMOUNT:
        raise ValueError(_("The amount is too large."))
    return amount.quantize(Decimal("0.01"))


_DATE_RE = re.compile(r"^(\d{4})[-/.年](\d{1,2})[-/.月](\d{1,2})日?$")
_COMPACT_DATE_RE = re.compile(r"^(\d{4})(\d{2})(\d{2})$")
_TIME_RE = re.compile(r"^(\d{1,2}):(\d{2})(?::(\d{2})(?:\.\d+)?)?$")


def _date_parts(text: str) -> tuple[int, int, int]:
    match = _DATE_RE.match(text) or _COMPACT_DATE_RE.match(text)
    if not match:
        raise ValueError(_("Enter a date like 2020-01-28."))
    return int(match[1]), int(match[2]), int(match[3])


def _make_date(year, month, day) -> datetime.date:
    try:
        return datetime.date(year, month, day)
    except ValueError as exc:
        raise ValueError(
            _("%(year)04d-%(month)02d-%(day)02d does not exist.") % {"year": year, "month": month, "day": day}
        ) from exc


def parse_date(text: str) -> datetime.date:
    """2020-01-28, 2020/1/28, 2020年1月28日, 20200128, or a spreadsheet date at midnight."""
    raw = (text or "").strip()
    if not raw:
        raise ValueError(_("This field is required."))
    if "T" in raw or " " in raw:
        day_part, _sep, time_part = raw.replace("T", " ").partition(" ")
        if time_part.strip() not in ("00:00:00", "00:00", ""):
            raise ValueError(_("Enter a date like 2020-01-28."))
        raw = day_part
    return _make_date(*_date_parts(raw))


def parse_datetime(text: str) -> datetime.datetime:
    """2020-01-24 10:15[:00] (Beijing time unless an offset is given), 2020/1/24 10:15, ISO 8601."""
    raw = (text or "").strip()
    if not raw:
        raise ValueError(_("This field is required."))
    if "T" in raw:
        try:
            value = datetime.datetime.fromisoformat(raw)
        except ValueError:
            value = None
        if value is not None:
            return value if value.tzinfo else value.replace(tzinfo=_TZ)
        raw = raw.replace("T", " ")
    day_part, _sep, time_part = raw.partition(" ")
    year, month, day = _date_parts(day_part)
    date = _make_date(year, month, day)
    hour = minute = second = 0
    if time_part.strip():
        match = _TIME_RE.match(time_part.strip())
        if not match:
            raise ValueError(_("Enter a time like 2020-01-24 10:15."))
        hour, minute, second = int(match[1]), int(match[2]), int(match[3] or 0)
        if hour > 23 or minute > 59 or second > 59:
            raise ValueError(_("This time does not exist."))
    return datetime.datetime(date.year, date.month, date.day, hour, minute, second, tzinfo=_TZ)


def clean_instruction_row(raw: dict[str, str], *, units_by_code: dict) -> tuple[dict, dict[str, str]]:
    """(values, {field: message}) for one row; `units_by_code` maps upper-cased codes the importer may use."""
    values: dict = {}
    errors: dict[str, str] = {}
    for column in COLUMNS:
        text = (raw.get(column.field) or "").strip()
        if not text and not column.blank_ok:
            errors[column.field] = _("This field is required.")
            continue
        limit = LENGTHS.get(column.field)
        if limit and len(text) > limit:
            errors[column.field] = _("At most %(n)d characters.") % {"n": limit}
            continue
        values[column.field] = text
    for name in ("payer_account", "payee_account"):
        if name in values:
            compact = compact_account(values[name])
            if not compact or len(compact) < 6:
                errors[name] = _("Not an account number.")
            else:
                values[name] = compact
    if values.get("payer_phone"):
        digits = "".join(ch for ch in values["payer_phone"] if ch.isdigit())
        if not 5 <= len(digits) <= 20:
            errors["payer_phone"] = _("Not a phone number.")
    for name, parser in (
        ("amount", parse_amount),
        ("scheduled_date", parse_date),
        ("created_at", parse_datetime),
    ):
        if name in values:
            try:
                values[name] = parser(values[name])
            except ValueError as exc:
                errors[name] = str(exc)
    if "branch_code" in values:
        unit = units_by_code.get(values["branch_code"].upper())
        if unit is None:
            errors["branch_code"] = _("Unknown branch code “%(code)s” (or not in your part of the tree).") % {
                "code": values["branch_code"]
            }
        else:
            values["unit"] = unit
    return values, errors


def NOT_INSTRUCTIONS() -> str:  # noqa: N802 - a message, translated when asked for
    return _(
        "The first row has none of the expected headers (指令编号, 金额, 网点代码 …): "
        "this is not an export of pending instructions."
    )


def _match_headers(headers: list[str]) -> tuple[dict[str, int], list[RowError]]:
    def key(text):
        return "".join(text.split()).lower()

    wanted = {}
    for column in COLUMNS:
        for name in (column.header, column.field, *column.aliases):
            wanted.setdefault(key(name), column.field)
    positions: dict[str, int] = {}
    errors = []
    for index, header in enumerate(headers):
        name = wanted.get(key(header))
        if name is None:
            continue
        if name in positions:
            errors.append(RowError(HEADER_ROW, header, _("This column appears twice.")))
            continue
        positions[name] = index
    if not positions:
        # Not one expected header: not a list of instructions at all, so one message, not twelve.
        return positions, [RowError(HEADER_ROW, "", NOT_INSTRUCTIONS())]
    for column in COLUMNS:
        if column.required and column.field not in positions:
            errors.append(RowError(HEADER_ROW, column.header, _("Missing column.")))
    return positions, errors


def parse_file(filename: str, data: bytes, *, units_by_code: dict, progress=None) -> Parsed:
    """Every row checked; the good ones as records, the rest as errors naming row and column.
    `progress(done, total, phase)` hears about every 1,000 rows."""
    result = Parsed()
    try:
        table = read_table(filename, data, max_rows=MAX_ROWS)
    except FileRefused as exc:
        result.errors.append(RowError(exc.row, exc.column, exc.message))
        result.file_error = True
        return result
    positions, header_errors = _match_headers(table.headers)
    result.headers = {f: table.headers[i] for f, i in positions.items()}
    if header_errors:
        result.errors.extend(header_errors)
        result.file_error = True
        return result
    seen_ids: dict[str, int] = {}
    total = len(table.rows)
    for number, cells in table.rows:
        result.rows_read += 1
        if progress and result.rows_read % 1000 == 0:
            progress(result.rows_read, total, "check")
        raw = {name: (cells[i] if i < len(cells) else "") for name, i in positions.items()}
        result.row_ids[number] = raw["instruction_id"][:64]
        values, errors = clean_instruction_row(raw, units_by_code=units_by_code)
        instruction_id = values.get("instruction_id")
        if instruction_id and "instruction_id" not in errors:
            first = seen_ids.get(instruction_id)
            if first is not None:
                errors["instruction_id"] = _(
                    "Instruction id “%(id)s” appears twice in this file (first at row %(row)d)."
                ) % {
                    "id": instruction_id,
                    "row": first,
                }
            else:
                seen_ids[instruction_id] = number
        if errors:
            for name, message in errors.items():
                result.errors.append(
                    RowError(number, result.headers.get(name, COLUMN_BY_FIELD[name].header), message)
                )
        else:
            values["row_number"] = number
            result.records.append(values)
    if result.rows_read == 0:
        result.errors.append(RowError(HEADER_ROW, "", _("The file has a header but no rows.")))
        result.file_error = True
    return result


def check_file(filename: str, data: bytes) -> str:
    """The reason an upload cannot be imported at all ("" if it can be read), for the upload
    page to refuse it before it is staged."""
    try:
        table = read_table(filename, data, max_rows=MAX_ROWS)
    except FileRefused as exc:
        return str(RowError(exc.row, exc.column, exc.message)) if exc.row else exc.message
    positions, _errors = _match_headers(table.headers)
    return "" if positions else NOT_INSTRUCTIONS()


def max_bytes() -> int:
    return limits()["upload_bytes"]


def columns_doc() -> list[tuple[str, str, str]]:
    """(header, meaning, whether it is required) for the upload page."""
    rows = []
    for c in COLUMNS:
        if not c.required:
            need = _("optional column")
        elif c.blank_ok:
            need = _("column required, cells may be empty")
        else:
            need = _("required")
        rows.append((c.header, str(c.label), need))
    return rows
