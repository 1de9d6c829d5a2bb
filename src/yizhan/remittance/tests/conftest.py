"""Fixtures for the green channel: a batch imported from a real csv through the import service,
with instructions in Sanming, Chongqing, Shenzhen and Shandong, hits, duplicates and traps."""

import csv
import datetime
import io

import pytest
from django.utils import timezone

from yizhan.remittance import services
from yizhan.remittance.importer import COLUMNS

HEADERS = [c.header for c in COLUMNS]

# instruction id, created at, payer, payer account, phone, payee, payee account, amount, purpose, branch
ROWS = [
    (
        "G-001",
        "2020-01-25 09:00",
        "张三",
        "6222020000000001",
        "13812345678",
        "福建省紅十字會",
        "6222030000000001",
        "200,000.00",
        "抗疫捐款",
        "FJ-SM-LD",
    ),
    (
        "G-002",
        "2020-01-25 10:00",
        "张三",
        "6222020000000001",
        "13812345678",
        "福建省红十字会",
        "6222030000000001",
        "200000",
        "抗疫捐款",
        "FJ-SM-LD",
    ),
    (
        "G-003",
        "2020-01-25 11:00",
        "李四",
        "6222020000000003",
        "13900000003",
        "三明市红十字路农贸市场",
        "6222030000000003",
        "3000",
        "摊位租金",
        "FJ-SM-SY",
    ),
    (
        "G-004",
        "2020-01-25 12:00",
        "三明市第一医院",
        "6222024100000012345",
        "05988888888",
        "王五",
        "6222030000000004",
        "8000",
        "1月工资",
        "FJ-SM-SY",
    ),
    (
        "G-005",
        "2020-01-26 09:00",
        "重庆某药业有限公司",
        "6222020000000005",
        "13700000005",
        "重庆市卫健委",
        "6222030000000005",
        "30000",
        "采购医疗物资",
        "CQ-SXGC",
    ),
    (
        "G-006",
        "2020-01-26 11:00",
        "重庆某药业有限公司",
        "6222020000000005",
        "13700000005",
        "重庆市卫生健康委员会",
        "6222030000000005",
        "30000.00",
        "防疫物资",
        "CQ-SXGC",
    ),
    (
        "G-007",
        "2020-01-26 12:00",
        "赵六",
        "6222020000000007",
        "13600000007",
        "李红会计师事务所",
        "6222030000000007",
        "5000",
        "审计费",
        "CQ-JXDL",
    ),
    (
        "G-008",
        "2020-01-27 09:00",
        "孙七",
        "6222020000000008",
        "13500000008",
        "深圳市慈善总会",
        "6222030000000008",
        "1000",
        "捐款",
        "SZ-FT",
    ),
    (
        "G-009",
        "2020-01-27 10:00",
        "周八",
        "6222020000000009",
        "13400000009",
        "济南某商贸有限公司",
        "6222030000000009",
        "12345.67",
        "货款",
        "SD-JN-001",
    ),
    (
        "G-010",
        "2020-01-27 11:00",
        "吴九",
        "6222020000000010",
        "13300000010",
        "清流县医院",
        "6222030000000010",
        "60000",
        "设备款",
        "FJ-SM-QL",
    ),
]


def csv_bytes(rows, *, encoding="utf-8", headers=HEADERS) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(headers)
    for iid, created, payer, payer_acct, phone, payee, payee_acct, amount, purpose, branch in rows:
        writer.writerow(
            [
                iid,
                created,
                "2020-02-03",
                payer,
                payer_acct,
                phone,
                payee,
                payee_acct,
                "中国工商银行",
                amount,
                purpose,
                "手机银行",
                branch,
            ]
        )
    data = out.getvalue()
    if encoding == "utf-8-sig":
        return ("\ufeff" + data).encode("utf-8")
    return data.encode(encoding)


@pytest.fixture(autouse=True)
def _english():
    """Messages are asserted in English (the msgids); the Chinese catalogue is checked by core's i18n test."""
    from django.utils import translation

    with translation.override("en"):
        yield


@pytest.fixture
def client_for(client_for):
    """The project's client_for, with the pages in English so that assertions read the msgids."""
    from django.conf import settings

    def make(username):
        client = client_for(username)
        client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
        return client

    return make


@pytest.fixture
def hq_batch(db, unit):
    deadline = timezone.now() + datetime.timedelta(days=1)
    return services.create_batch(actor=None, unit=unit("HQ"), name="春节测试批次", deadline=deadline)


@pytest.fixture
def green(hq_batch):
    """The batch with ROWS imported; instructions by instruction id."""
    report = services.run_import(hq_batch, actor=None, filename="pending.csv", data=csv_bytes(ROWS))
    assert report.imported == len(ROWS), report.errors
    from yizhan.remittance.models import Instruction

    hq_batch.refresh_from_db()
    return hq_batch, {i.instruction_id: i for i in Instruction.objects.filter(batch=hq_batch)}
