"""The one file reader every import shares, fed real hostile files built here: zip bombs, unclosed
rows, entity expansion, oversized parts, too many rows, columns or characters, renamed and
truncated files — and the cells a hand-written reader got wrong (phonetic runs, t="d", serial 59)."""

import contextlib
import io
import time
import zipfile

import pytest
from django.utils import translation

from yizhan.core.filereader import FileRefused, read_table

NS = (
    'xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" '
    'xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships"'
)
REL_NS = "http://schemas.openxmlformats.org/package/2006/relationships"
DOC_REL = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
DATE_STYLES = '<cellXfs count="2"><xf numFmtId="0"/><xf numFmtId="14" applyNumberFormat="1"/></cellXfs>'


@pytest.fixture(autouse=True)
def english():
    with translation.override("en"):
        yield


def workbook(rows: str, *, shared: str | None = None, styles: str | None = None, prolog: str = "") -> bytes:
    """A minimal xlsx whose parts are written by hand, so that each can be made hostile."""
    overrides = '<Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>'
    rels = f'<Relationship Id="rId1" Type="{DOC_REL}/worksheet" Target="worksheets/sheet1.xml"/>'
    if shared is not None:
        rels += f'<Relationship Id="rId2" Type="{DOC_REL}/sharedStrings" Target="sharedStrings.xml"/>'
    if styles is not None:
        rels += f'<Relationship Id="rId3" Type="{DOC_REL}/styles" Target="styles.xml"/>'
    parts = {
        "[Content_Types].xml": '<?xml version="1.0"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
        '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
        f'<Default Extension="xml" ContentType="application/xml"/>{overrides}</Types>',
        "_rels/.rels": f'<?xml version="1.0"?><Relationships xmlns="{REL_NS}"><Relationship Id="rId1" '
        f'Type="{DOC_REL}/officeDocument" Target="xl/workbook.xml"/></Relationships>',
        "xl/workbook.xml": f'<?xml version="1.0"?><workbook {NS}><sheets><sheet name="S" sheetId="1" r:id="rId1"/></sheets></workbook>',
        "xl/_rels/workbook.xml.rels": f'<?xml version="1.0"?><Relationships xmlns="{REL_NS}">{rels}</Relationships>',
        "xl/worksheets/sheet1.xml": f'<?xml version="1.0"?>{prolog}<worksheet {NS}><sheetData>{rows}</sheetData></worksheet>',
    }
    if shared is not None:
        parts["xl/sharedStrings.xml"] = f'<?xml version="1.0"?><sst {NS}>{shared}</sst>'
    if styles is not None:
        parts["xl/styles.xml"] = f'<?xml version="1.0"?><styleSheet {NS}>{styles}</styleSheet>'
    return zipped(parts)


def zipped(parts: dict) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, text in parts.items():
            archive.writestr(name, text.encode() if isinstance(text, str) else text)
    return out.getvalue()


def refusal(name: str, data: bytes, **kwargs) -> FileRefused:
    start = time.perf_counter()
    with pytest.raises(FileRefused) as caught:
        read_table(name, data, **kwargs)
    assert time.perf_counter() - start < 1, "an over-cap file is refused in under a second"
    return caught.value


HEADER = '<row r="1"><c r="A1" t="inlineStr"><is><t>a</t></is></c><c r="B1" t="inlineStr"><is><t>b</t></is></c></row>'


def test_a_zip_bomb_is_refused_from_its_directory_before_inflating():
    # 40 MB of one repeated string in sharedStrings, 40 KB on the wire (ratio ~1000).
    bomb = zipped(
        {
            **dict(zipfile_parts(workbook(HEADER)).items()),
            "xl/sharedStrings.xml": b"<sst>" + b"a" * (40 * 2**20) + b"</sst>",
        }
    )
    assert len(bomb) < 1_000_000
    assert "compressed more than 100 to 1" in refusal("bomb.xlsx", bomb).message


def zipfile_parts(data: bytes) -> dict:
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        return {name: archive.read(name) for name in archive.namelist()}


def test_an_oversized_part_is_refused(settings):
    settings.YIZHAN_IMPORT_LIMITS = {**settings.YIZHAN_IMPORT_LIMITS, "member_bytes": 2**20}
    strings = "".join(f"<si><t>{i:07d}</t></si>" for i in range(60_000))  # ~1.3 MB, compresses ~5:1
    data = workbook(HEADER, shared=strings)
    assert "unpacks to more than 1 MB" in refusal("big.xlsx", data).message
    settings.YIZHAN_IMPORT_LIMITS = {
        **settings.YIZHAN_IMPORT_LIMITS,
        "member_bytes": 256 * 2**20,
        "total_bytes": 2**20,
    }
    assert "unpacks to more than 1 MB" in refusal("big.xlsx", data).message


def test_many_unclosed_rows_do_not_hang():
    # 8,000 <row> tags never closed, 2.5 KB compressed: the old regex reader took 25 s.
    rows = HEADER + '<row r="2"><c r="A2"><v>1</v></c>' * 8000
    data = workbook(rows)
    start = time.perf_counter()
    with contextlib.suppress(FileRefused):
        read_table("rows.xlsx", data)
    assert time.perf_counter() - start < 1


@pytest.mark.parametrize("where", ["sheet", "shared"])
def test_entity_declarations_are_refused_even_behind_a_long_comment(where):
    doctype = (
        "<!--" + "x" * 5000 + "-->"
        '<!DOCTYPE w [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;">]>'
    )
    if where == "sheet":
        data = workbook('<row r="1"><c r="A1" t="inlineStr"><is><t>&b;</t></is></c></row>', prolog=doctype)
    else:
        parts = zipfile_parts(
            workbook('<row r="1"><c r="A1" t="s"><v>0</v></c></row>', shared="<si><t>x</t></si>")
        )
        parts["xl/sharedStrings.xml"] = f'<?xml version="1.0"?>{doctype}<sst {NS}><si><t>&b;</t></si></sst>'
        data = zipped(parts)
    assert "DOCTYPE" in refusal("entities.xlsx", data).message


def test_a_utf16_part_is_refused():
    parts = zipfile_parts(workbook(HEADER))
    parts["xl/worksheets/sheet1.xml"] = parts["xl/worksheets/sheet1.xml"].decode().encode("utf-16")
    assert "not a readable xlsx" in refusal("u16.xlsx", zipped(parts)).message


def test_phonetic_runs_do_not_reorder_text():
    shared = '<si><r><t>東京</t></r><rPh sb="0" eb="2"><t>トウキョウ</t></rPh><r><t>都</t></r></si><si><t>h</t></si>'
    data = workbook(
        '<row r="1"><c r="A1" t="s"><v>1</v></c></row><row r="2"><c r="A2" t="s"><v>0</v></c></row>',
        shared=shared,
    )
    assert read_table("p.xlsx", data).rows == [(2, ["東京都"])]


def test_dates_typed_and_serial_including_the_1900_leap_bug():
    rows = (
        '<row r="1"><c r="A1" t="inlineStr"><is><t>d</t></is></c></row>'
        '<row r="2"><c r="A2" t="d"><v>2026-12-01</v></c><c r="B2" t="d"><v>2026-12-01T10:15:00</v></c></row>'
        '<row r="3"><c r="A3" s="1"><v>59</v></c><c r="B3" s="1"><v>61</v></c></row>'
        '<row r="4"><c r="A4" s="1"><v>45992</v></c><c r="B4"><v>45992</v></c></row>'
    )
    table = read_table("d.xlsx", workbook(rows, styles=DATE_STYLES))
    assert table.rows == [
        (2, ["2026-12-01", "2026-12-01T10:15:00"]),
        # Excel's phantom 1900-02-29 is serial 60: 59 is the 28th and 61 the 1st of March.
        (3, ["1900-02-28", "1900-03-01"]),
        (4, ["2025-12-01", "45992"]),  # a plain number stays a number
    ]


def test_row_numbers_follow_the_sheet_with_blank_rows_and_columns():
    rows = (
        '<row r="3"><c r="B3" t="inlineStr"><is><t>a</t></is></c><c r="C3" t="inlineStr"><is><t>b</t></is></c></row>'
        '<row r="5"><c r="C5"><v>2</v></c></row>'
    )
    table = read_table("gaps.xlsx", workbook(rows))
    assert table.headers == ["", "a", "b"]
    assert table.rows == [(5, ["", "", "2"])]


def test_too_many_rows_are_refused_at_once(settings):
    settings.YIZHAN_IMPORT_LIMITS = {**settings.YIZHAN_IMPORT_LIMITS, "rows": 1000}
    text = "a,b\n" + "1,2\n" * 300_000
    refused = refusal("long.csv", text.encode())
    assert "More than 1000 rows" in refused.message and refused.row == 1002
    rows = HEADER + "".join(f'<row r="{i}"><c r="A{i}"><v>{i}</v></c></row>' for i in range(2, 1200))
    assert "More than 1000 rows" in refusal("long.xlsx", workbook(rows)).message
    # An importer may ask for fewer.
    assert "More than 10 rows" in refusal("long.csv", ("a,b\n" + "1,2\n" * 11).encode(), max_rows=10).message
    assert len(read_table("ok.csv", ("a,b\n" + "1,2\n" * 10).encode(), max_rows=10).rows) == 10


def test_too_many_columns_and_too_long_cells_name_the_row_and_column(settings):
    settings.YIZHAN_IMPORT_LIMITS = {**settings.YIZHAN_IMPORT_LIMITS, "columns": 10, "cell_chars": 50}
    wide = refusal("wide.csv", (",".join("h" * 11) + "\n").encode())
    assert "More than 10 columns" in wide.message and (wide.row, wide.column) == (1, "K")
    # Trailing blank cells are not columns.
    assert read_table("blank-tail.csv", ("a,b" + "," * 30 + "\n1,2\n").encode()).headers == ["a", "b"]
    long = refusal("long-cell.csv", ("a,b\n1,2\n3," + "x" * 51 + "\n").encode())
    assert "longer than 50 characters" in long.message and (long.row, long.column) == (3, "B")
    cell = '<c r="B2" t="inlineStr"><is><t>' + "y" * 51 + "</t></is></c>"
    long = refusal("long-cell.xlsx", workbook(HEADER + f'<row r="2"><c r="A2"><v>1</v></c>{cell}</row>'))
    assert (long.row, long.column) == (2, "B")


def test_an_oversized_upload_is_refused_before_reading(settings):
    settings.YIZHAN_IMPORT_LIMITS = {**settings.YIZHAN_IMPORT_LIMITS, "upload_bytes": 2**20}
    assert "larger than 1 MB" in refusal("big.csv", b"a\n" * 2**20).message


@pytest.mark.parametrize(
    ("name", "data", "fragment"),
    [
        ("renamed.xlsx", "驿站编码,驿站名称\n".encode(), "not a readable xlsx"),
        ("truncated.xlsx", workbook(HEADER)[:-200], "not a readable xlsx"),
        ("half.xlsx", workbook(HEADER)[:300], "not a readable xlsx"),
        ("notes.txt", b"hello", ".xlsx or .csv"),
        ("old.xls", b"\xd0\xcf\x11\xe0", ".xlsx or .csv"),
        ("utf16.csv", "a,b\n".encode("utf-16"), "neither UTF-8 nor GBK"),
        ("zip.csv", b"PK\x03\x04 broken", "not a readable xlsx"),
        ("empty.csv", b"", "empty"),
        ("blank.csv", b"\n , \n", "empty"),
    ],
)
def test_files_that_are_not_spreadsheets(name, data, fragment):
    assert fragment in refusal(name, data).message


@pytest.mark.parametrize(
    ("data", "encoding"),
    [
        ("编码,名称\nA-1,三峡广场\n".encode(), "utf-8"),
        ("\ufeff编码,名称\nA-1,三峡广场\n".encode(), "utf-8-sig"),
        ("编码,名称\nA-1,三峡广场\n".encode("gbk"), "gbk"),
        ("编码,名称\nA-1,𠀀三峡\n".encode("gb18030"), "gbk"),
    ],
)
def test_csv_encodings(data, encoding):
    table = read_table("x.csv", data)
    assert table.encoding == encoding and table.headers == ["编码", "名称"]
    assert table.rows[0][0] == 2 and table.rows[0][1][0] == "A-1"
