"""A worker SIGKILLed in the middle of a remittance import's write transaction leaves nothing
half-written: the batch keeps exactly what it had, the upload stays staged, and after the sweeper
hands the job on, a new worker imports the file exactly once.

To kill the worker at a known point, the test holds a row lock on an instruction already in the
batch: the import inserts its thousands of instructions and hits, then waits for that lock (it
refreshes the batch's flags), and is killed there. PostgreSQL only, like jobs/tests/test_worker.py.
"""

import datetime
import signal

import pytest
from django.db import connection
from django.utils import timezone

from yizhan.jobs import services as job_services
from yizhan.jobs.models import Job
from yizhan.jobs.tests.test_worker import start_worker, state, stop, wait_for

from .conftest import HEADERS

pytestmark = pytest.mark.skipif(
    connection.vendor != "postgresql", reason="a worker process needs a shared database"
)

ROWS = 5000


def rows_csv(prefix: str, count: int, branch: str, start: int = 0) -> bytes:
    lines = [",".join(HEADERS)]
    for i in range(start, start + count):
        payee = "三明市红十字会" if i % 50 == 0 else f"某某商贸有限公司{i % 97}"
        lines.append(
            f"{prefix}{i:06d},2020-01-25 09:{i % 60:02d},2020-02-03,张三,62220200{i:08d},13812345678,"
            f"{payee},62220300{i:08d},中国工商银行,{100 + i}.00,货款,手机银行,{branch}"
        )
    return "\n".join(lines).encode()


def _import_backends() -> list[int]:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()"
            " AND wait_event_type = 'Lock'"
        )
        return [pid for (pid,) in cursor.fetchall()]


def _alive(pid: int) -> bool:
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM pg_stat_activity WHERE pid = %s", [pid])
        return cursor.fetchone()[0] > 0


@pytest.mark.django_db(transaction=True)
def test_a_worker_killed_mid_import_leaves_the_batch_as_it_was(django_user_model):
    import psycopg

    from yizhan.orgs.models import Membership, Unit
    from yizhan.remittance import jobs, services
    from yizhan.remittance.models import Hit, ImportRun, Instruction

    # transactional_db flushes the database afterwards: this test builds what it needs.
    root = Unit.objects.create(code="K-HQ", kind="head_office", name="中断测试总行", path="/", level=0)
    root.path = f"/{root.pk}/"
    root.save()
    outlet = Unit.objects.create(
        code="K-OUT", kind="outlet", name="中断测试网点", parent=root, path="", level=1
    )
    outlet.path = f"{root.path}{outlet.pk}/"
    outlet.save()
    owner = django_user_model.objects.create_user("kill_owner", password="x-long-password-1")
    Membership.objects.create(user=owner, unit=root, role="admin")
    batch = services.create_batch(
        actor=None, unit=root, name="中断", deadline=timezone.now() + datetime.timedelta(days=1)
    )
    first = services.run_import(
        batch, actor=None, filename="a.csv", data=rows_csv("A", 3, "K-OUT", start=ROWS)
    )
    assert first.imported == 3, first.errors
    run = services.stage_import(batch, actor=owner, filename="b.csv", data=rows_csv("B", ROWS, "K-OUT"))
    job = jobs.start_import(owner, root, run, dry_run=False)

    settings = connection.settings_dict
    locker = psycopg.connect(
        host=settings["HOST"] or "127.0.0.1", port=settings["PORT"] or 5432,
        user=settings["USER"] or "postgres", dbname=settings["NAME"],
    )  # fmt: skip
    locked = Instruction.objects.filter(batch=batch).values_list("pk", flat=True).first()
    worker = start_worker()
    try:
        locker.execute("SELECT id FROM remittance_instruction WHERE id = %s FOR UPDATE", [locked])
        assert wait_for(lambda: state(job) == Job.State.RUNNING), "the worker never picked the job up"
        assert wait_for(lambda: _import_backends(), timeout=120), "the import never reached its write"
        (backend,) = _import_backends()
        stop(worker, signal.SIGKILL)  # inside the write transaction, its rows inserted
    finally:
        stop(worker)
        locker.rollback()
        locker.close()
    # The server notices the dead client once it stops waiting, and rolls its transaction back.
    assert wait_for(lambda: not _alive(backend), timeout=30)
    assert Instruction.objects.filter(batch=batch).count() == 3  # nothing half-written
    assert not Hit.objects.filter(instruction__import_run=run).exists()
    run.refresh_from_db()
    assert run.status == ImportRun.Status.PREVIEWED
    assert state(job) == Job.State.RUNNING

    Job.objects.filter(pk=job.pk).update(lease_until=job.started_at)  # as if the lease had lapsed
    assert job_services.sweep()["retried"] == 1
    worker = start_worker()
    try:
        assert wait_for(lambda: state(job) == Job.State.DONE, timeout=120), job.error
    finally:
        stop(worker)
    job.refresh_from_db()
    assert job.attempts == 2 and job.result["imported"] == ROWS
    assert Instruction.objects.filter(batch=batch).count() == 3 + ROWS
    run.refresh_from_db()
    assert run.status == ImportRun.Status.IMPORTED and run.rows_imported == ROWS
