"""An import never locks out check-ins (issue 10, §4): everything is worked out before the write
transaction, which then runs a fixed handful of plain statements, so the write lock is held only
briefly whatever the file's length; a check-in during that transaction neither waits nor fails;
and a station changed meanwhile makes the import refuse rather than put the change back."""

import threading
import time

import pytest
from django.db import connection, connections
from django.utils import translation

from yizhan.stations import imports, services
from yizhan.stations.models import Station

from .test_imports import csv_bytes, row


@pytest.fixture(autouse=True)
def english():
    with translation.override("en"):
        yield


def _file(n: int, name: str, outlet: str = "CQ-SXGC") -> bytes:
    return csv_bytes([row(code=f"LOCK-{i:04d}", name=f"{name}{i}", unit=outlet) for i in range(n)])


def _statements_inside_the_write(data: bytes) -> list[str]:
    """The SQL the import runs inside its own atomic block (a savepoint within the test's)."""
    log: list[str] = []
    depth = {"n": 0, "import": None}

    def spy(execute, sql, params, many, context):
        text = sql.upper()
        if text.startswith("SAVEPOINT"):
            depth["n"] += 1
        elif text.startswith("RELEASE SAVEPOINT") or text.startswith("ROLLBACK TO SAVEPOINT"):
            depth["n"] -= 1
        elif depth["n"]:
            log.append(sql)
        return execute(sql, params, many, context)

    with connection.execute_wrapper(spy):
        result = imports.import_stations("u.csv", data, dry_run=False)
    assert result.committed, result.errors[:3]
    return log


def test_the_write_transaction_runs_plain_statements_whatever_the_length(db):
    imports.import_stations("c.csv", _file(900, "锁测试"), dry_run=False)
    short = _statements_inside_the_write(_file(200, "更新一"))
    long = _statements_inside_the_write(_file(900, "更新二"))
    # bulk_update's CASE WHEN per 500 rows held SQLite's lock for most of a 15,000-row import.
    assert not any("CASE WHEN" in sql.upper() and "UPDATE" in sql.upper()[:10] for sql in long)
    assert len(long) == len(short), [s[:60] for s in long]
    assert Station.objects.filter(code="LOCK-0899", name="更新二899").exists()


def test_a_station_changed_meanwhile_refuses_the_import(db, monkeypatch):
    imports.import_stations("c.csv", _file(3, "原名"), dry_run=False)
    prepare = imports._prepare

    def someone_edits_in_between(*args, **kwargs):
        write = prepare(*args, **kwargs)
        station = Station.objects.get(code="LOCK-0001")
        services.update_station(station, actor=None, name="同事改的")
        return write

    monkeypatch.setattr(imports, "_prepare", someone_edits_in_between)
    result = imports.import_stations("u.csv", _file(3, "导入改的"), dry_run=False)
    assert not result.committed and "LOCK-0001" in result.errors[0].message
    assert Station.objects.get(code="LOCK-0001").name == "同事改的"
    assert Station.objects.get(code="LOCK-0000").name == "原名0"  # all or nothing


@pytest.mark.skipif(
    connection.vendor != "postgresql",
    reason="SQLite's shared-cache test database fails a second writer at once; "
    "bench/import_contention.py measures SQLite under gunicorn",
)
@pytest.mark.django_db(transaction=True)
def test_checkins_during_the_write_transaction_neither_wait_nor_fail(monkeypatch):
    from yizhan.conftest import build_small_demo
    from yizhan.visits.services import record_checkin

    if not Station.objects.filter(code="CQ-SXGC").exists():  # an earlier transactional test flushed it
        build_small_demo()
    imports.import_stations("c.csv", _file(300, "并发"), dry_run=False)
    inside, release = threading.Event(), threading.Event()
    write = imports._write

    def hold_the_transaction(*args, **kwargs):
        stale = write(*args, **kwargs)
        inside.set()  # every row is written and locked; the commit waits for the check-ins
        release.wait(10)
        return stale

    monkeypatch.setattr(imports, "_write", hold_the_transaction)
    outcome = {}

    def run_import():
        try:
            outcome["result"] = imports.import_stations("u.csv", _file(300, "并发更新"), dry_run=False)
        finally:
            connections.close_all()

    worker = threading.Thread(target=run_import)
    worker.start()
    assert inside.wait(30)
    timings = []
    try:
        for code in ("LOCK-0000", "LOCK-0150", "LOCK-0299", "CQ-SXGC"):
            start = time.perf_counter()
            result = record_checkin(Station.objects.get(code=code), device=f"d-{code}")
            timings.append(time.perf_counter() - start)
            assert result.counted
    finally:
        release.set()
        worker.join(30)
    assert outcome["result"].committed
    assert max(timings) < 1, timings  # not queued behind the import's locks
    assert Station.objects.get(code="LOCK-0150").name == "并发更新150"
