"""The results sheet: all or nothing, row and column named."""

import io

import pytest
from openpyxl import Workbook

from yizhan.training import services
from yizhan.training.models import Certificate, Enrolment

pytestmark = pytest.mark.django_db


def xlsx(rows, headers=("工号", "姓名", "成绩", "出勤")) -> bytes:
    wb = Workbook()
    ws = wb.active
    ws.append(list(headers))
    for row in rows:
        ws.append(list(row))
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


def test_a_good_sheet_records_every_result_and_grants_certificates(users, held_session, cq_people):
    data = xlsx([("CQ001", "王伟", 95, ""), ("CQ002", "李娜", 60, ""), ("CQ003", "", "", "缺席")])
    assert services.import_results(held_session, actor=users["cq_admin"], name="成绩.xlsx", data=data) == 3
    status = dict(Enrolment.objects.filter(session=held_session).values_list("entry__employee_no", "status"))
    assert (status["CQ001"], status["CQ002"], status["CQ003"], status["CQ004"]) == (
        "passed",
        "failed",
        "absent",
        "invited",
    )
    assert list(
        Certificate.objects.filter(enrolment__session=held_session).values_list(
            "entry__employee_no", flat=True
        )
    ) == ["CQ001"]


@pytest.mark.parametrize(
    ("rows", "where"),
    [
        ([("CQ001", "", 90, ""), ("NOPE1", "", 90, "")], "Row 3, column 工号"),  # unknown staff
        ([("CQ001", "", 90, ""), ("CQ001", "", 80, "")], "Row 3, column 工号"),  # duplicate row
        ([("CQ001", "", 90, ""), ("CQ002", "", "abc", "")], "Row 3, column 成绩"),
        ([("CQ001", "", 90, ""), ("CQ002", "", 120, "")], "Row 3, column 成绩"),
        ([("CQ001", "", 90, ""), ("CQ002", "张三", 80, "")], "Row 3, column 姓名"),
        ([("CQ001", "", 90, ""), ("", "", 80, "")], "Row 3, column 工号"),
    ],
)
def test_a_bad_row_refuses_the_whole_sheet_naming_row_and_column(users, held_session, rows, where):
    from django.utils import translation

    with translation.override("en"), pytest.raises(Exception) as exc:
        services.import_results(held_session, actor=users["cq_admin"], name="x.xlsx", data=xlsx(rows))
    message = exc.value.message_dict["file"][0]
    assert message.startswith(where)
    assert not Enrolment.objects.filter(session=held_session).exclude(status="invited").exists()


def test_someone_on_the_roster_but_not_enrolled_is_named(users, held_session, unit):
    import datetime

    from yizhan.operations.models import RosterEntry

    RosterEntry.objects.create(
        unit=unit("CQ-SXGC"), name="赵强", employee_no="CQ009", on_from=datetime.date(2020, 1, 1)
    )
    with pytest.raises(Exception) as exc:
        services.import_results(
            held_session, actor=users["cq_admin"], name="x.xlsx", data=xlsx([("CQ009", "", 90, "")])
        )
    assert "CQ009" in exc.value.message_dict["file"][0]


@pytest.mark.parametrize(
    ("name", "data"),
    [
        ("x.xlsx", b"PK\x03\x04garbage"),
        ("x.txt", b"abc"),
        ("x.csv", b""),
        ("x.csv", "姓名,成绩\n王伟,90\n".encode()),
    ],
)
def test_an_unreadable_or_wrong_file_is_refused_cleanly(users, held_session, name, data):
    with pytest.raises(Exception) as exc:
        services.import_results(held_session, actor=users["cq_admin"], name=name, data=data)
    assert "file" in exc.value.message_dict


def test_a_csv_sheet_works_too(users, held_session):
    data = "工号,成绩\nCQ001,88\n".encode("gbk")
    assert services.import_results(held_session, actor=users["cq_admin"], name="成绩.csv", data=data) == 1
