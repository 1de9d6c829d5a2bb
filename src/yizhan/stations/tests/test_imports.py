"""Imports of good and bad files (xlsx and csv in UTF-8, UTF-8 with BOM and GBK), all-or-nothing
commits, updates by code, exports safe against formula injection, the template, the command."""

import csv
import io

import pytest
from django.core.management import CommandError, call_command
from django.utils import translation
from openpyxl import Workbook, load_workbook

from yizhan.audit.models import AuditEvent
from yizhan.core.filereader import read_table
from yizhan.orgs.scoping import scope_for
from yizhan.stations import imports, services
from yizhan.stations.models import Station, StationFacility

HEADERS = ["驿站编码", "驿站名称", "网点编码", "纬度", "经度", "坐标系", "挂牌日期", "主题", "开放时间", "遵循法定节假日",
           "手机充电", "老花镜"]  # fmt: skip


def row(code="IMP-1", name="导入驿站", unit="CQ-SXGC", lat="", lng="", crs="", signed="2022-05-01", themes="",
        hours="周一至周五 09:00-12:00,14:00-17:30", statutory="是", charging="有", glasses="无"):  # fmt: skip
    return [code, name, unit, lat, lng, crs, signed, themes, hours, statutory, charging, glasses]


def xlsx(rows, headers=HEADERS) -> bytes:
    book = Workbook()
    sheet = book.active
    sheet.append(headers)
    for r in rows:
        sheet.append(r)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def csv_bytes(rows, headers=HEADERS, encoding="utf-8") -> bytes:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(headers)
    writer.writerows(rows)
    return out.getvalue().encode(encoding)


@pytest.fixture(autouse=True)
def english():
    with translation.override("en"):
        yield


def run(name, data, **kwargs):
    kwargs.setdefault("dry_run", False)
    return imports.import_stations(name, data, **kwargs)


def test_good_xlsx_creates_and_converts(db, unit):
    from yizhan.core.geo import from_wgs84

    lat, lng = from_wgs84(29.5600, 106.4600, "gcj02")
    data = xlsx(
        [row(), row(code="IMP-2", lat=lat, lng=lng, crs="高德", themes="little_bee, 新·深圳·人-工行驿站")]
    )
    dry = run("stations.xlsx", data, dry_run=True)
    assert dry.ok and dry.created == 2 and not Station.objects.filter(code__startswith="IMP-").exists()
    version = services.data_version()
    result = run("stations.xlsx", data)
    assert result.committed and result.created == 2
    first = Station.objects.get(code="IMP-1")
    outlet = unit("CQ-SXGC")
    assert (first.lat, first.lng, first.address) == (outlet.lat, outlet.lng, outlet.address)
    assert first.opening_hours["weekly"]["mon"] == [["09:00", "12:00"], ["14:00", "17:30"]]
    assert first.opening_hours["statutory"] is True
    assert StationFacility.objects.get(station=first, facility__code="reading_glasses").state == "no"
    second = Station.objects.get(code="IMP-2")
    assert second.lat == pytest.approx(29.56, abs=1e-6) and second.lng == pytest.approx(106.46, abs=1e-6)
    assert sorted(second.themes.values_list("code", flat=True)) == ["little_bee", "new_citizen"]
    assert services.data_version() != version
    event = AuditEvent.objects.get(action="station.created", object_id=str(first.pk))
    assert event.via == "import" and event.changes["code"] == [None, "IMP-1"]
    assert event.changes["reading_glasses.state"] == [None, "no"]


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "gbk"])
def test_csv_in_each_encoding(db, encoding):
    result = run("stations.csv", csv_bytes([row()], encoding=encoding))
    assert result.ok, result.errors
    assert Station.objects.get(code="IMP-1").name == "导入驿站"


def test_wrong_encoding_is_a_clear_file_error(db):
    data = "驿站编码,驿站名称\n".encode("utf-16")
    result = run("stations.csv", data)
    assert not result.ok and result.errors[0].row == 0
    assert "UTF-8" in result.errors[0].message


def test_missing_and_unknown_columns(db):
    headers = ["驿站编码", "网点编码", "颜色"]
    result = run("stations.csv", csv_bytes([["IMP-1", "CQ-SXGC", "红"]], headers=headers))
    problems = {(e.column, e.message) for e in result.errors}
    assert ("驿站名称", "Missing column.") in problems
    assert any(column == "颜色" and "Unknown column" in message for column, message in problems)
    assert not Station.objects.filter(code="IMP-1").exists()


def test_bad_rows_name_row_and_column_and_nothing_is_written(db):
    rows = [
        row(),  # good
        row(code="IMP-2", unit="NO-SUCH"),
        row(code="IMP-3", lat="48.8", lng="2.3"),
        row(code="IMP-4", signed="2022-02-30"),
        row(code="IMP-5", hours="周一 13:00-12:00"),
        row(code="IMP-6", hours="周一 09:00-12:00,11:00-14:00"),
        row(code="IMP-7", charging="maybe"),
        row(code="IMP-8", themes="unicorns"),
        row(code="IMP-1"),  # the same code again
        row(code="CQ-JXDL"),  # an existing station: an update, and a good one
    ]
    before = Station.objects.count(), AuditEvent.objects.count()
    result = run("stations.xlsx", xlsx(rows))
    found = {(e.row, e.column) for e in result.errors}
    assert found == {
        (3, "网点编码"),
        (4, "经度"),
        (5, "挂牌日期"),
        (6, "开放时间"),
        (7, "开放时间"),
        (8, "手机充电"),
        (9, "主题"),
        (10, "驿站编码"),
    }, result.errors
    by_row = {e.row: e.message for e in result.errors}
    assert "outside China" in by_row[4] and "ends before it starts" in by_row[6] and "overlap" in by_row[7]
    assert "row 2" in by_row[10]
    assert not result.committed
    assert (Station.objects.count(), AuditEvent.objects.count()) == before


def test_reimport_updates_by_code_and_keeps_blank_cells(db):
    run("stations.xlsx", xlsx([row(themes="elderly")]))
    station = Station.objects.get(code="IMP-1")
    update = xlsx(
        [row(name="改名驿站", signed="", themes="", hours="", statutory="", charging="故障", glasses="")]
    )
    result = run("stations.xlsx", update)
    assert result.updated == 1 and result.created == 0
    station.refresh_from_db()
    assert station.name == "改名驿站"
    assert station.sign_installed_on.isoformat() == "2022-05-01"  # blank kept the value
    assert list(station.themes.values_list("code", flat=True)) == ["elderly"]
    charging = StationFacility.objects.get(station=station, facility__code="phone_charging")
    assert charging.state == "yes" and charging.out_of_order
    assert StationFacility.objects.get(station=station, facility__code="reading_glasses").state == "no"
    event = AuditEvent.objects.filter(action="station.updated", object_id=str(station.pk)).latest("pk")
    assert event.changes["name"] == ["导入驿站", "改名驿站"]
    assert event.changes["phone_charging.out_of_order"] == [False, True]
    again = run("stations.xlsx", update)
    assert again.unchanged == 1 and again.updated == 0


def test_scope_refuses_outlets_and_stations_outside(db, users):
    scope = scope_for(users["cq_admin"])
    rows = [row(code="IMP-SZ", unit="SZ-FT-001"), row(code="SZ-MLYC", unit="CQ-SXGC")]
    result = run("stations.xlsx", xlsx(rows), actor=users["cq_admin"], scope=scope)
    assert {(e.row, e.column) for e in result.errors} == {(2, "网点编码"), (3, "驿站编码")}
    assert Station.objects.get(code="SZ-MLYC").unit.code == "SZ-MLYC"


def test_fifty_thousand_rows_of_junk(db):
    junk = [[f"bad code {i}", "", "??", "x", "y", "mars", "yesterday", "", "sometimes", "maybe", "?!", "蓝"]
            for i in range(50_000)]  # fmt: skip
    result = run("junk.csv", csv_bytes(junk))
    assert not result.ok and not result.committed
    assert result.error_count > 50_000
    assert len(result.errors) == imports.MAX_ERRORS
    first = [e for e in result.errors if e.row == 2]
    assert {e.column for e in first} >= {
        "驿站编码",
        "驿站名称",
        "网点编码",
        "坐标系",
        "挂牌日期",
        "开放时间",
        "遵循法定节假日",
    }
    assert Station.objects.filter(code__startswith="bad").count() == 0


def test_not_a_workbook(db):
    assert "xlsx" in run("stations.xlsx", b"PK\x03\x04 broken").errors[0].message
    assert run("stations.pdf", b"%PDF").errors[0].row == 0
    assert "empty" in run("stations.csv", b"").errors[0].message


def test_export_round_trip_and_formula_injection(db, users):
    station = Station.objects.get(code="CQ-SXGC")
    services.update_station(
        station, actor=None, public_notice='=HYPERLINK("http://evil","x")', name="+SUM(1)"
    )
    stations = Station.objects.filter(unit__path__startswith=station.unit.path[:3])
    data = imports.export_stations(Station.objects.filter(code__startswith="CQ-"), "xlsx")
    book = load_workbook(io.BytesIO(data), read_only=True)
    cells = {c for r in book.active.iter_rows(values_only=True) for c in r if isinstance(c, str)}
    assert '\'=HYPERLINK("http://evil","x")' in cells and "'+SUM(1)" in cells
    assert not any(c.startswith(("=", "+", "@")) for c in cells)
    text = imports.export_stations(Station.objects.filter(code="CQ-SXGC"), "csv").decode("utf-8-sig")
    assert "'+SUM(1)" in text and ",=" not in text
    # An export re-imports unchanged (the formula guard aside, which a user would see and keep).
    clean = Station.objects.filter(code__startswith="CQ-").exclude(code="CQ-SXGC")
    result = run("export.xlsx", imports.export_stations(clean, "xlsx"), dry_run=True)
    assert result.ok and result.unchanged == clean.count() == result.rows
    assert stations.exists()


def test_templates_import_cleanly(db):
    for fmt in ("xlsx", "csv"):
        result = run(f"template.{fmt}", imports.template_file(fmt), dry_run=True)
        assert result.ok and result.created == 1, result.errors


def test_reader_matches_dates_numbers_and_shared_strings(db):
    import datetime

    book = Workbook()
    sheet = book.active
    sheet.append(["a", "b", "c", "d", "e"])
    sheet.append([datetime.date(2023, 5, 18), 12, 3.5, True, "=1+1"])
    sheet.append([datetime.datetime(2023, 5, 18, 9, 30), None, "  x & <y> ", "中文", None])
    out = io.BytesIO()
    book.save(out)  # the normal (not write-only) writer uses shared strings
    table = read_table("x.xlsx", out.getvalue())
    assert table.headers == ["a", "b", "c", "d", "e"]
    assert list(table.rows) == [
        (2, ["2023-05-18", "12", "3.5", "True", ""]),
        (3, ["2023-05-18T09:30:00", "", "x & <y>", "中文", ""]),
    ]


def test_progress_is_reported(db):
    calls = []
    rows = [row(code=f"IMP-{i}") for i in range(1200)]
    result = run(
        "many.csv", csv_bytes(rows), progress=lambda done, total, phase: calls.append((phase, done, total))
    )
    assert result.created == 1200
    assert ("validate", 500, 1200) in calls and ("write", 1200, 1200) in calls


def test_command_dry_run_commit_and_errors(db, tmp_path, capsys):
    good = tmp_path / "good.xlsx"
    good.write_bytes(xlsx([row()]))
    call_command("import_stations", str(good), "--dry-run")
    assert "Dry run" in capsys.readouterr().out and not Station.objects.filter(code="IMP-1").exists()
    call_command("import_stations", str(good))
    assert Station.objects.filter(code="IMP-1").exists()
    bad = tmp_path / "bad.csv"
    bad.write_bytes(csv_bytes([row(code="IMP-9", unit="NOPE")]))
    with pytest.raises(CommandError, match="Nothing was written"):
        call_command("import_stations", str(bad))
    assert "row 2, 网点编码" in capsys.readouterr().err
    with pytest.raises(CommandError):
        call_command("import_stations", str(good), "--user", "sz_viewer")
