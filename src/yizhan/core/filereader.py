"""The one reader of uploaded spreadsheets (xlsx and csv) that every import shares.

What the internet sends is checked before anything parses it, against the caps in
`settings.YIZHAN_IMPORT_LIMITS` (README, "For developers"):

- the upload's size;
- for xlsx, the zip's central directory: the number of parts, each part's uncompressed size and
  compression ratio, and their total — a zip bomb is refused before a byte of it is inflated
  (both zipfile and calamine also refuse to inflate a part beyond the size it declares);
- every XML part is scanned for `<!DOCTYPE` / `<!ENTITY` (and refused if it is not UTF-8), since
  entity declarations are how XML bombs and external-entity reads get in and no spreadsheet
  writer emits them;
- rows, columns and the length of every cell, with the row and column named.

Workbooks are then read by calamine (Rust; python-calamine), which handles shared strings,
phonetic runs, inline strings, `t="d"` dates, date styles and the 1900/1904 date systems.
Cells come back as stripped text: whole numbers without ".0", dates as ISO dates, date-times as
ISO date-times. CSV is UTF-8 (with or without BOM) or GBK/GB18030.
"""

import csv
import datetime
import io
import posixpath
import zipfile
from dataclasses import dataclass
from xml.etree import ElementTree
from xml.etree.ElementTree import ParseError

from django.conf import settings
from django.utils.translation import gettext as _

XML_PARTS = (".xml", ".rels", ".vml")
_SCAN_CHUNK = 1 << 20
_MARKERS = (b"<!DOCTYPE", b"<!ENTITY")
# A part this small may compress as well as it likes (styles, empty sheets): the ratio cap is for
# parts that could fill memory.
_RATIO_FLOOR_BYTES = 1 << 20


class FileRefused(ValueError):
    """The file cannot be imported as a whole; `row` and `column` say where, when it is one place."""

    def __init__(self, message: str, *, row: int | None = None, column: str = ""):
        super().__init__(message)
        self.message = message
        self.row = row
        self.column = column


@dataclass
class Table:
    headers: list[str]
    rows: list[tuple[int, list[str]]]  # (1-based spreadsheet row number, cells as stripped text)
    encoding: str | None = None  # csv only: "utf-8", "utf-8-sig" or "gbk"


def limits() -> dict:
    return settings.YIZHAN_IMPORT_LIMITS


def column_letter(index: int) -> str:
    letters = ""
    index += 1
    while index:
        index, rest = divmod(index - 1, 26)
        letters = chr(65 + rest) + letters
    return letters


def read_table(name: str, data: bytes, *, max_rows: int | None = None) -> Table:
    """Headers (the first non-empty row) and every later non-empty row of the file's first sheet.
    Raises `FileRefused` naming the cap, or the reason, when the file cannot be imported."""
    caps = limits()
    max_rows = min(max_rows or caps["rows"], caps["rows"])
    if not data:
        raise FileRefused(_("The file is empty."))
    if len(data) > caps["upload_bytes"]:
        raise FileRefused(
            _("The file is larger than %(mb)s MB; split it.") % {"mb": caps["upload_bytes"] // 2**20}
        )
    lower = (name or "").lower()
    is_zip = data.startswith(b"PK\x03\x04")
    if lower.endswith(".xlsx") or (is_zip and lower.endswith(".csv")):
        cells = _xlsx_rows(data, caps, max_rows)
        encoding = None
    elif lower.endswith(".csv"):
        text, encoding = decode_csv_bytes(data)
        cells = _csv_rows(text, caps["cell_chars"])
    else:
        raise FileRefused(_("Unsupported file type; upload .xlsx or .csv."))
    return _table(
        cells,
        encoding,
        max_rows=max_rows,
        max_columns=caps["columns"],
        max_chars=caps["cell_chars"],
        text_cells=encoding is not None,
    )


def decode_csv_bytes(data: bytes) -> tuple[str, str]:
    """UTF-8 (BOM or not) first; GBK (GB18030, its superset) second; anything else is refused."""
    unreadable = _("The file is neither UTF-8 nor GBK text; save it as UTF-8 CSV or as xlsx.")
    if data.startswith(b"\xef\xbb\xbf"):
        data, encoding = data[3:], "utf-8-sig"
    else:
        encoding = "utf-8"
    if b"\x00" in data:  # UTF-16, or a binary file renamed .csv
        raise FileRefused(unreadable)
    try:
        return data.decode("utf-8"), encoding
    except UnicodeDecodeError:
        if encoding == "utf-8-sig":
            raise FileRefused(unreadable) from None
    try:
        return data.decode("gb18030"), "gbk"
    except UnicodeDecodeError as exc:
        raise FileRefused(unreadable) from exc


def _csv_rows(text: str, max_chars: int):
    """(row number, raw cells) for every record; the csv module is C and refuses nothing."""
    reader = csv.reader(io.StringIO(text, newline=""))
    try:
        yield from enumerate(reader, start=1)
    except csv.Error as exc:
        if "field larger than field limit" in str(exc):  # a cell beyond the module's 128 KB
            raise FileRefused(
                _("A cell is longer than %(n)s characters.") % {"n": max_chars}, row=reader.line_num
            ) from exc
        raise FileRefused(_("This is not a readable CSV file."), row=reader.line_num) from exc


def _table(cells, encoding, *, max_rows: int, max_columns: int, max_chars: int, text_cells: bool) -> Table:
    headers = None
    rows: list[tuple[int, list[str]]] = []
    for number, raw in cells:
        if len(raw) > max_columns:
            # Trailing blank cells (a styled but empty column) are not columns.
            while raw and (raw[-1] == "" or raw[-1] is None):
                raw = raw[:-1]
            if len(raw) > max_columns:
                raise FileRefused(
                    _("More than %(n)s columns; remove the columns the import does not use.")
                    % {"n": max_columns},
                    row=number,
                    column=column_letter(max_columns),
                )
        # csv cells are text already: strip them without the per-type conversion (twice as fast).
        row = [value.strip() for value in raw] if text_cells else [_text(value) for value in raw]
        if row and max(map(len, row)) > max_chars:
            index = next(i for i, text in enumerate(row) if len(text) > max_chars)
            raise FileRefused(
                _("A cell is longer than %(n)s characters.") % {"n": max_chars},
                row=number,
                column=column_letter(index),
            )
        if not any(row):
            continue
        if headers is None:
            while row and not row[-1]:
                row.pop()
            headers = row
            continue
        if len(rows) >= max_rows:
            raise FileRefused(_("More than %(n)s rows; split the file.") % {"n": max_rows}, row=number)
        rows.append((number, row))
    if headers is None:
        raise FileRefused(_("The file is empty."))
    return Table(headers=headers, rows=rows, encoding=encoding)


def _text(value) -> str:
    kind = type(value)
    if kind is str:
        return value.strip()
    if kind is float:
        return str(int(value)) if value.is_integer() else repr(value)
    if value is None:
        return ""
    if kind is datetime.datetime and not (value.hour or value.minute or value.second or value.microsecond):
        return value.date().isoformat()
    if hasattr(value, "isoformat"):
        return value.isoformat()
    return str(value).strip()


# --- xlsx -------------------------------------------------------------------------------------


def _xlsx_rows(data: bytes, caps: dict, max_rows: int):
    unreadable = _("This is not a readable xlsx workbook.")
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
        parts = archive.infolist()
    except (zipfile.BadZipFile, ValueError, OSError) as exc:
        raise FileRefused(unreadable) from exc
    _check_parts(parts, caps)
    try:
        for part in parts:
            if part.filename.lower().endswith(XML_PARTS):
                _scan_xml(archive, part)
        # No part declares entities now, so the two small index parts can be parsed safely.
        sheet_part = _first_sheet_part(archive)
        # Counting <row tags is a byte scan: a sheet longer than the cap is refused before
        # calamine spends seconds loading it. (Empty rows Excel keeps for their style count too.)
        if sheet_part and _count_rows(archive, sheet_part) > max_rows + 1:
            raise FileRefused(_("More than %(n)s rows; split the file.") % {"n": max_rows}, row=max_rows + 2)
    except FileRefused:
        raise
    except (zipfile.BadZipFile, NotImplementedError, ValueError, OSError, EOFError, ParseError) as exc:
        raise FileRefused(unreadable) from exc

    from python_calamine import CalamineWorkbook

    try:
        sheet = CalamineWorkbook.from_filelike(io.BytesIO(data)).get_sheet_by_index(0)
    except Exception as exc:  # calamine raises its own error types for every broken part
        raise FileRefused(unreadable) from exc
    # The sheet's extent is known before any cell reaches Python: refuse a long sheet at once.
    # (+1 for the header; blank rows between are rare enough not to matter to the cap.)
    if sheet.height > max_rows + 1:
        raise FileRefused(_("More than %(n)s rows; split the file.") % {"n": max_rows}, row=max_rows + 2)
    # iter_rows starts at the sheet's first row but at its first used column.
    first_column = sheet.start[1] if sheet.start else 0
    pad = [""] * first_column
    for index, row in enumerate(sheet.iter_rows()):
        yield index + 1, (pad + row if first_column else row)


MAIN = "{http://schemas.openxmlformats.org/spreadsheetml/2006/main}"
REL = "{http://schemas.openxmlformats.org/officeDocument/2006/relationships}"


def _first_sheet_part(archive: zipfile.ZipFile) -> str | None:
    """The zip path of the workbook's first sheet (the one imported), or None if not found."""
    try:
        book = ElementTree.fromstring(archive.read("xl/workbook.xml"))  # noqa: S314 - entities refused above
        rels = ElementTree.fromstring(archive.read("xl/_rels/workbook.xml.rels"))  # noqa: S314
    except KeyError:
        return None
    sheet = book.find(f"{MAIN}sheets/{MAIN}sheet")
    if sheet is None:
        return None
    for rel in rels:
        if rel.get("Id") == sheet.get(f"{REL}id"):
            target = rel.get("Target") or ""
            return target.lstrip("/") if target.startswith("/") else posixpath.normpath("xl/" + target)
    return None


def _count_rows(archive: zipfile.ZipFile, name: str) -> int:
    try:
        part = archive.getinfo(name)
    except KeyError:
        return 0
    count, tail = 0, b""
    with archive.open(part) as stream:
        while chunk := stream.read(_SCAN_CHUNK):
            window = tail + chunk
            count += window.count(b"<row ") + window.count(b"<row>")
            tail = window[-4:]  # shorter than a tag: a tag split between chunks is counted once
    return count


def _check_parts(parts: list[zipfile.ZipInfo], caps: dict) -> None:
    if len(parts) > caps["members"]:
        raise FileRefused(_("The workbook has more than %(n)s parts.") % {"n": caps["members"]})
    total = 0
    too_large = _("The workbook unpacks to more than %(mb)s MB; split the file.")
    for part in parts:
        size = part.file_size
        total += size
        if size > caps["member_bytes"]:
            raise FileRefused(too_large % {"mb": caps["member_bytes"] // 2**20})
        if size > _RATIO_FLOOR_BYTES and size > caps["ratio"] * max(part.compress_size, 1):
            raise FileRefused(
                _(
                    "A part of the workbook is compressed more than %(ratio)s to 1; this is not a normal workbook."
                )
                % {"ratio": caps["ratio"]}
            )
    if total > caps["total_bytes"]:
        raise FileRefused(too_large % {"mb": caps["total_bytes"] // 2**20})


def _scan_xml(archive: zipfile.ZipFile, part: zipfile.ZipInfo) -> None:
    """Refuse a part that declares a DOCTYPE or entities anywhere (a comment in front no longer
    hides it), or that is not UTF-8 (a UTF-16 part would hide the markers from a byte scan)."""
    refused = _("The workbook declares XML entities (DOCTYPE), which spreadsheets never need; save it again.")
    tail = b""
    with archive.open(part) as stream:
        first = True
        while chunk := stream.read(_SCAN_CHUNK):
            if first:
                first = False
                if chunk.startswith((b"\xff\xfe", b"\xfe\xff")) or b"\x00" in chunk[:64]:
                    raise FileRefused(_("This is not a readable xlsx workbook."))
            window = tail + chunk
            if any(marker in window for marker in _MARKERS):
                raise FileRefused(refused)
            tail = window[-16:]
