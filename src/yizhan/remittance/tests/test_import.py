"""Importing real files: encodings, xlsx, exact amounts, every bad input the issue lists with
row-level errors naming the column, all-or-nothing and valid-only, dry runs, the command."""

import datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from django.core.management import CommandError, call_command

from yizhan.audit.models import AuditEvent
from yizhan.remittance import services
from yizhan.remittance.importer import parse_amount, parse_date, parse_datetime
from yizhan.remittance.models import Hit, ImportRun, Instruction

from .conftest import HEADERS, ROWS, csv_bytes

SH = ZoneInfo("Asia/Shanghai")


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("1000.5", Decimal("1000.50")),
        ("1,000.50", Decimal("1000.50")),
        ("¥ 12,345,678.9", Decimal("12345678.90")),
        ("0.01", Decimal("0.01")),
        ("1.230", Decimal("1.23")),
        ("200000", Decimal("200000.00")),
    ],
)
def test_amounts_are_exact_decimals(text, value):
    amount = parse_amount(text)
    assert amount == value and isinstance(amount, Decimal)
    assert str(amount) == str(value)


@pytest.mark.parametrize("text", ["1,000.5.0", "-3", "0", "1.234", "12,34", "abc", "", "1e5", "NaN"])
def test_bad_amounts_are_refused(text):
    with pytest.raises(ValueError):
        parse_amount(text)


def test_dates_and_times():
    assert parse_date("2020/2/3") == datetime.date(2020, 2, 3)
    assert parse_date("2020年2月3日") == datetime.date(2020, 2, 3)
    assert parse_date("20200203") == datetime.date(2020, 2, 3)
    assert parse_date("2020-02-03T00:00:00") == datetime.date(2020, 2, 3)  # an xlsx date cell
    assert parse_datetime("2020-01-25 10:15") == datetime.datetime(2020, 1, 25, 10, 15, tzinfo=SH)
    assert parse_datetime("2020-01-25T02:15:00+00:00") == datetime.datetime(2020, 1, 25, 10, 15, tzinfo=SH)
    for bad in ("2020-02-30", "2021-02-29", "2020-13-01"):
        with pytest.raises(ValueError, match="does not exist"):
            parse_date(bad)
    with pytest.raises(ValueError):
        parse_datetime("2020-01-25 25:00")


def write(tmp_path, name, data: bytes):
    path = tmp_path / name
    path.write_bytes(data)
    return path


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "gbk"])
def test_csv_in_every_encoding_imports_exact_values(tmp_path, hq_batch, encoding):
    path = write(tmp_path, f"pending-{encoding}.csv", csv_bytes(ROWS, encoding=encoding))
    report = services.run_import(hq_batch, actor=None, filename=path.name, data=path.read_bytes())
    assert report.imported == len(ROWS) and not report.errors
    first = Instruction.objects.get(batch=hq_batch, instruction_id="G-001")
    assert first.amount == Decimal("200000.00")
    assert first.payee_name == "福建省紅十字會"  # stored as written; matching folds it
    assert first.unit.code == "FJ-SM-LD"
    assert first.created_at == datetime.datetime(2020, 1, 25, 9, 0, tzinfo=SH)
    assert Instruction.objects.get(batch=hq_batch, instruction_id="G-009").amount == Decimal("12345.67")


def test_xlsx_imports(tmp_path, hq_batch):
    from openpyxl import Workbook

    workbook = Workbook()
    sheet = workbook.active
    sheet.append(HEADERS)
    sheet.append(
        [
            "X-1",
            datetime.datetime(2020, 1, 25, 10, 15),
            datetime.date(2020, 2, 3),
            "张三",
            "6222020000000001",
            "13812345678",
            "三明市红十字会",
            "6222030000000001",
            "中国工商银行",
            1234.56,
            "捐款",
            "网银",
            "FJ-SM-LD",
        ]
    )
    path = tmp_path / "pending.xlsx"
    workbook.save(path)
    report = services.run_import(hq_batch, actor=None, filename=path.name, data=path.read_bytes())
    assert report.imported == 1, [str(e) for e in report.errors]
    inst = Instruction.objects.get(batch=hq_batch, instruction_id="X-1")
    assert inst.amount == Decimal("1234.56")
    assert inst.scheduled_date == datetime.date(2020, 2, 3)
    assert inst.hit_count == 4  # 红十字会, 红十字 and 红会 (its alias) on the payee, 捐款 on the purpose


def test_import_screens_and_groups(green):
    batch, by_id = green
    assert {h.rule_term for h in Hit.objects.filter(instruction=by_id["G-001"])} >= {"红十字会", "捐款"}
    assert by_id["G-001"].flagged and by_id["G-001"].priority == 90
    for trap in ("G-003", "G-004", "G-007"):
        assert by_id[trap].hit_count == 0, trap
        assert not by_id[trap].flagged
    assert by_id["G-009"].hit_count == 0
    assert by_id["G-001"].dup_group_id == by_id["G-002"].dup_group_id is not None
    assert by_id["G-001"].dup_group.keep_id == by_id["G-001"].pk  # the earlier one
    assert by_id["G-005"].dup_group_id == by_id["G-006"].dup_group_id is not None
    assert by_id["G-005"].dup_group.kind == "near"


BAD_ROWS = [
    (
        "B-1",
        "2020-01-25 09:00",
        "张三",
        "6222020000000001",
        "",
        "三明市红十字会",
        "6222030000000001",
        "1,000.5.0",
        "捐款",
        "FJ-SM-LD",
    ),
    (
        "B-2",
        "2020-01-25 09:00",
        "张三",
        "6222020000000001",
        "",
        "三明市红十字会",
        "6222030000000001",
        "-500",
        "捐款",
        "FJ-SM-LD",
    ),
    (
        "B-3",
        "2020-02-30 09:00",
        "张三",
        "6222020000000001",
        "",
        "三明市红十字会",
        "6222030000000001",
        "500",
        "捐款",
        "FJ-SM-LD",
    ),
    (
        "B-4",
        "2020-01-25 09:00",
        "张三",
        "6222020000000001",
        "",
        "三明市红十字会",
        "6222030000000001",
        "500",
        "捐款",
        "NO-SUCH",
    ),
    (
        "B-5",
        "2020-01-25 09:00",
        "张三",
        "6222020000000001",
        "",
        "三明市红十字会",
        "6222030000000001",
        "500",
        "捐款",
        "FJ-SM-LD",
    ),
    (
        "B-5",
        "2020-01-25 09:05",
        "李四",
        "6222020000000002",
        "",
        "三明市慈善总会",
        "6222030000000002",
        "600",
        "捐款",
        "FJ-SM-LD",
    ),
    (
        "B-7",
        "2020-01-25 09:00",
        "王五",
        "6222020000000003",
        "",
        "某公司",
        "6222030000000003",
        "700",
        "货款",
        "FJ-SM-SY",
    ),
]


def test_every_bad_row_is_named_by_row_and_column(hq_batch):
    report = services.run_import(hq_batch, actor=None, filename="bad.csv", data=csv_bytes(BAD_ROWS))
    errors = {(e.row, e.column): e.message for e in report.errors}
    assert set(errors) == {(2, "金额"), (3, "金额"), (4, "创建时间"), (5, "网点代码"), (7, "指令编号")}
    assert "1,000.5.0" in errors[(2, "金额")]
    assert "positive" in errors[(3, "金额")]
    assert "2020-02-30 does not exist" in errors[(4, "创建时间")]
    assert "NO-SUCH" in errors[(5, "网点代码")]
    assert "row 6" in errors[(7, "指令编号")]
    assert report.valid_rows == 2  # rows 6 (the first B-5) and 8
    # All or nothing by default: not a single row written.
    assert report.imported == 0 and report.refused_reason
    assert not Instruction.objects.filter(batch=hq_batch).exists()
    assert not ImportRun.objects.filter(batch=hq_batch).exists()


def test_valid_rows_only_when_the_user_chooses(hq_batch):
    report = services.run_import(
        hq_batch, actor=None, filename="bad.csv", data=csv_bytes(BAD_ROWS), valid_only=True
    )
    assert report.imported == 2
    assert sorted(Instruction.objects.filter(batch=hq_batch).values_list("instruction_id", flat=True)) == [
        "B-5",
        "B-7",
    ]
    run = ImportRun.objects.get(batch=hq_batch)
    assert (run.rows_read, run.rows_imported, run.rows_rejected) == (7, 2, 5)
    lines = {line.row: line for line in report.lines}
    assert lines[6].status == "imported" and lines[2].status == "error"


def test_branch_outside_the_importers_subtree_is_unknown(hq_batch, users):
    rows = [ROWS[0], ROWS[7]]  # Sanming and Shenzhen
    report = services.run_import(
        hq_batch,
        actor=users["sd_admin"],
        filename="x.csv",
        data=csv_bytes(rows),
        dry_run=True,
        scope=users["sm_manager"],
    )
    assert [(e.row, e.column) for e in report.errors] == [(3, "网点代码")]


def test_missing_columns_are_named(hq_batch):
    headers = [h for h in HEADERS if h not in ("金额", "网点代码")]
    data = ",".join(headers).encode() + b"\nX,2020-01-25,2020-02-03\n"
    report = services.run_import(hq_batch, actor=None, filename="x.csv", data=data)
    assert report.file_error
    assert sorted(e.column for e in report.errors) == ["网点代码", "金额"]
    assert all(e.row is None for e in report.errors)
    assert report.imported == 0


def test_english_headers_in_any_order_are_accepted(hq_batch):
    data = (
        "amount,branch_code,instruction_id,created_at,scheduled_date,payer_name,payer_account,payee_name,"
        "payee_account,payee_bank,purpose,channel\n"
        "88.80,FJ-SM-LD,E-1,2020-01-25 09:00,2020-02-03,张三,6222020000000001,三明市红会,6222030000000001,,捐款,\n"
    ).encode()
    report = services.run_import(hq_batch, actor=None, filename="x.csv", data=data)
    assert report.imported == 1, [str(e) for e in report.errors]


@pytest.mark.parametrize(
    ("name", "data", "fragment"),
    [
        ("empty.csv", b"", "empty"),
        ("blank.csv", b"\n\n  \n", "empty"),
        ("header-only.csv", ",".join(HEADERS).encode("utf-8") + b"\n", "no rows"),
        ("latin1.csv", "指令编号".encode("utf-16"), "neither UTF-8 nor GBK"),
        ("not-a-workbook.xlsx", b"PK\x03\x04 broken", "xlsx"),
        ("pending.pdf", b"%PDF-1.4", ".xlsx or .csv"),
    ],
)
def test_files_that_cannot_be_read(hq_batch, name, data, fragment):
    report = services.run_import(hq_batch, actor=None, filename=name, data=data)
    assert report.file_error and report.imported == 0
    assert fragment in report.errors[0].message
    assert not Instruction.objects.filter(batch=hq_batch).exists()


def test_a_file_is_not_imported_twice(hq_batch):
    data = csv_bytes(ROWS[:2])
    assert services.run_import(hq_batch, actor=None, filename="a.csv", data=data).imported == 2
    again = services.run_import(hq_batch, actor=None, filename="a.csv", data=data, valid_only=True)
    assert again.imported == 0 and "already imported" in again.errors[0].message
    assert Instruction.objects.filter(batch=hq_batch).count() == 2


def test_same_instruction_id_in_a_later_file_is_an_exact_duplicate(hq_batch):
    services.run_import(hq_batch, actor=None, filename="a.csv", data=csv_bytes(ROWS[:1]))
    report = services.run_import(hq_batch, actor=None, filename="b.csv", data=csv_bytes([ROWS[0], ROWS[8]]))
    assert report.imported == 2
    copies = Instruction.objects.filter(batch=hq_batch, instruction_id="G-001").order_by("pk")
    assert copies.count() == 2
    group = copies[0].dup_group
    assert group.kind == "same_id" and group.keep_id == copies[0].pk
    assert report.groups_total == 1 and report.rows_in_groups == 1


def test_dry_run_writes_nothing_but_reports_everything(hq_batch):
    before = AuditEvent.objects.count()
    report = services.run_import(hq_batch, actor=None, filename="a.csv", data=csv_bytes(ROWS), dry_run=True)
    assert report.valid_rows == len(ROWS) and report.imported == 0
    assert dict(report.hits_by_rule)["红十字会（payee）"] == 2
    assert report.groups_total == 2
    assert not Instruction.objects.filter(batch=hq_batch).exists()
    assert AuditEvent.objects.count() == before


def test_import_is_audited(green):
    batch, _ = green
    event = AuditEvent.objects.filter(action="remittance.batch.imported", object_id=str(batch.pk)).get()
    assert event.changes["rows_imported"] == [None, len(ROWS)]


def test_command_dry_run_report_and_summary(tmp_path, hq_batch, capsys):
    path = write(tmp_path, "pending.csv", csv_bytes(ROWS, encoding="gbk"))
    out = tmp_path / "report.csv"
    call_command("import_remittances", str(path), batch=hq_batch.pk, dry_run=True, report=str(out))
    stdout = capsys.readouterr().out
    assert "10" in stdout.splitlines()[0]
    assert "红十字会（收款人）: 2" in stdout
    assert "重复组：2 个" in stdout.splitlines()[-1]  # the command speaks Chinese, the default language
    assert not Instruction.objects.filter(batch=hq_batch).exists()
    text = out.read_bytes().decode("utf-8-sig")
    header, *lines = text.strip().splitlines()
    assert header.split(",")[:3] == ["行号", "指令编号", "结果"]
    assert len(lines) == len(ROWS)
    first = next(line for line in lines if "G-001" in line)
    assert "红十字会（收款人）「紅十字會」[3:7]" in first and "G1" in first


def test_command_refuses_a_file_with_errors_then_imports_valid_rows(tmp_path, hq_batch, capsys):
    path = write(tmp_path, "bad.csv", csv_bytes(BAD_ROWS))
    with pytest.raises(CommandError, match="nothing imported"):
        call_command("import_remittances", str(path), batch=hq_batch.pk)
    err = capsys.readouterr().err
    assert "2" in err and "金额" in err and "网点代码" in err
    assert not Instruction.objects.filter(batch=hq_batch).exists()
    call_command("import_remittances", str(path), batch=hq_batch.pk, valid_only=True)
    assert Instruction.objects.filter(batch=hq_batch).count() == 2
    event = AuditEvent.objects.filter(action="remittance.batch.imported").latest("pk")
    assert event.via == "cli"


def test_command_new_batch_is_not_kept_when_the_file_is_refused(tmp_path, db):
    from yizhan.remittance.models import Batch

    path = write(tmp_path, "bad.csv", csv_bytes(BAD_ROWS))
    with pytest.raises(CommandError):
        call_command("import_remittances", str(path), new_batch="元旦", deadline="2021-01-03 23:59")
    assert not Batch.objects.filter(name="元旦").exists()


def test_command_as_user_imports_only_its_subtree(tmp_path, db):
    from yizhan.remittance.models import Batch

    path = write(tmp_path, "all.csv", csv_bytes(ROWS))
    with pytest.raises(CommandError):
        call_command(
            "import_remittances", str(path), new_batch="元旦", deadline="2021-01-03 23:59", user="sm_manager"
        )
    call_command(
        "import_remittances",
        str(path),
        new_batch="元旦",
        deadline="2021-01-03 23:59",
        user="sm_manager",
        valid_only=True,
    )
    batch = Batch.objects.get(name="元旦")
    assert batch.unit.code == "FJ-SM"
    codes = set(Instruction.objects.filter(batch=batch).values_list("unit__code", flat=True))
    assert codes == {"FJ-SM-LD", "FJ-SM-SY", "FJ-SM-QL"}


def test_command_refuses_unknown_user_and_file(tmp_path, hq_batch):
    path = write(tmp_path, "a.csv", csv_bytes(ROWS))
    with pytest.raises(CommandError):
        call_command("import_remittances", str(path), batch=hq_batch.pk, user="nobody")
    with pytest.raises(CommandError):
        call_command("import_remittances", str(path), batch=hq_batch.pk, user="sz_viewer")  # read-only
    with pytest.raises(CommandError):
        call_command("import_remittances", str(tmp_path / "missing.csv"), batch=hq_batch.pk)
