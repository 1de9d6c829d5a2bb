"""Reading and writing spreadsheets (xlsx and csv) for imports and exports.

Imports read csv as UTF-8 (with or without BOM) or GBK; exports are guarded against
spreadsheet formula injection.
"""

import csv
import io
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

from django.utils.translation import gettext as _


class TableError(ValueError):
    """The file as a whole cannot be read (encoding, format, emptiness)."""


@dataclass
class Table:
    headers: list[str]
    rows: Iterator[tuple[int, list[str]]]  # (1-based spreadsheet row number, cells as text)
    encoding: str | None = None


def decode_csv_bytes(data: bytes) -> tuple[str, str]:
    """UTF-8 (BOM or not) first; GBK (GB18030, its superset) second; anything else is refused."""
    if data.startswith(b"\xef\xbb\xbf"):
        try:
            return data[3:].decode("utf-8"), "utf-8-sig"
        except UnicodeDecodeError as exc:  # a UTF-8 mark on bytes that are not
            raise TableError(
                _("The file is neither UTF-8 nor GBK text; save it as UTF-8 CSV or as xlsx.")
            ) from exc
    try:
        return data.decode("utf-8"), "utf-8"
    except UnicodeDecodeError:
        pass
    try:
        return data.decode("gb18030"), "gbk"
    except UnicodeDecodeError as exc:
        raise TableError(
            _("The file is neither UTF-8 nor GBK text; save it as UTF-8 CSV or as xlsx.")
        ) from exc


def _cell_text(value) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if hasattr(value, "isoformat"):
        return value.isoformat()
    return str(value).strip()


def read_table(name: str, data: bytes) -> Table:
    """Open an uploaded file by its extension; headers are the first non-empty row."""
    lower = name.lower()
    if not data:
        raise TableError(_("The file is empty."))
    if lower.endswith(".xlsx"):
        return _read_xlsx(data)
    if lower.endswith(".csv") or lower.endswith(".txt"):
        return _read_csv(data)
    raise TableError(_("Unsupported file type; upload .xlsx or .csv."))


def _read_csv(data: bytes) -> Table:
    text, encoding = decode_csv_bytes(data)
    if "\x00" in text:
        raise TableError(_("The file is neither UTF-8 nor GBK text; save it as UTF-8 CSV or as xlsx."))
    # The csv module refuses a cell over 128 KB with csv.Error, as a 500 in the middle of the
    # rows; the upload's size is bounded, and the importers check each cell and header themselves.
    csv.field_size_limit(max(csv.field_size_limit(), len(text) + 1))
    reader = csv.reader(io.StringIO(text, newline=""))
    headers: list[str] | None = None
    line = 0
    for row in reader:
        line += 1
        if any(cell.strip() for cell in row):
            headers = [cell.strip() for cell in row]
            break
    if headers is None:
        raise TableError(_("The file is empty."))

    def rows():
        number = line
        for row in reader:
            number += 1
            if any(cell.strip() for cell in row):
                yield number, [cell.strip() for cell in row]

    return Table(headers=headers, rows=rows(), encoding=encoding)


def _read_xlsx(data: bytes) -> Table:
    from openpyxl import load_workbook

    try:
        workbook = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises many types for a broken zip or xml
        raise TableError(_("This is not a readable xlsx workbook.")) from exc
    sheet = workbook.worksheets[0]
    iterator = sheet.iter_rows(values_only=True)
    headers = None
    number = 0
    for row in iterator:
        number += 1
        cells = [_cell_text(v) for v in row]
        if any(cells):
            headers = cells
            break
    if headers is None:
        workbook.close()
        raise TableError(_("The file is empty."))
    while headers and not headers[-1]:
        headers.pop()

    def rows():
        n = number
        try:
            for row in iterator:
                n += 1
                cells = [_cell_text(v) for v in row]
                if any(cells):
                    yield n, cells
        finally:
            workbook.close()

    return Table(headers=headers, rows=rows(), encoding=None)


FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r", "\n")


def safe_cell(value):
    """Text that a spreadsheet would run as a formula gets a leading apostrophe; numbers pass as numbers."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return value
    if isinstance(value, int | float):
        return value
    text = str(value)
    if text.startswith(FORMULA_PREFIXES):
        return "'" + text
    return text


def write_csv(headers: list[str], rows: Iterable[Iterable]) -> bytes:
    """UTF-8 with BOM, so that Excel on a Chinese Windows opens it without mojibake."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow([safe_cell(h) for h in headers])
    for row in rows:
        writer.writerow([safe_cell(v) for v in row])
    return ("\ufeff" + out.getvalue()).encode("utf-8")


def write_xlsx(sheets: dict[str, tuple[list[str], Iterable[Iterable]]]) -> bytes:
    """One or more sheets, each (headers, rows); written in write-only mode to stream large exports."""
    from openpyxl import Workbook

    workbook = Workbook(write_only=True)
    for title, (headers, rows) in sheets.items():
        sheet = workbook.create_sheet(title=title[:31])
        sheet.append([safe_cell(h) for h in headers])
        for row in rows:
            sheet.append([safe_cell(v) for v in row])
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()
