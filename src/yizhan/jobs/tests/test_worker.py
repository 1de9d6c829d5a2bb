"""A real worker (`yizhan qcluster`, a separate process) against the test database: a job queued
in the web process runs there; a worker SIGKILLed mid-job loses nothing — its transaction dies
with it, the sweeper hands the job on, and a new worker completes it exactly once.

PostgreSQL only: SQLite's test database lives in this process's memory, out of a worker's reach.
"""

import os
import signal
import subprocess
import sys
import time

import pytest
from django.db import connection

from yizhan.jobs import services
from yizhan.jobs.models import Job

pytestmark = pytest.mark.skipif(
    connection.vendor != "postgresql", reason="a worker process needs a shared database"
)


def start_worker():
    settings = connection.settings_dict
    url = f"postgres://{settings['USER'] or 'postgres'}@{settings['HOST'] or '127.0.0.1'}:{settings['PORT'] or 5432}/{settings['NAME']}"
    env = {**os.environ, "DATABASE_URL": url, "YIZHAN_DEBUG": "1", "YIZHAN_WORKERS": "1"}
    env.pop("YIZHAN_TESTING", None)
    return subprocess.Popen(
        [sys.executable, "-m", "yizhan", "qcluster"], env=env, start_new_session=True,
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip


def stop(worker, sig=signal.SIGTERM):
    try:
        os.killpg(worker.pid, sig)
    except ProcessLookupError:
        return
    try:
        worker.wait(timeout=15)
    except subprocess.TimeoutExpired:
        os.killpg(worker.pid, signal.SIGKILL)
        worker.wait()


def wait_for(predicate, timeout=30.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.1)
    return False


def state(job):
    job.refresh_from_db()
    return job.state


@pytest.mark.django_db(transaction=True)
def test_a_killed_worker_loses_nothing_and_the_job_completes_once(django_user_model):
    from yizhan.orgs.models import Unit

    root = Unit.objects.create(code="W-HQ", kind="head_office", name="任务测试总行", path="", level=0)
    root.path = f"/{root.pk}/"
    root.save()
    owner = django_user_model.objects.create_user("worker_owner", password="x-long-password-1")
    job = services.enqueue(
        "test", "yizhan.jobs.tests.jobfuncs.create_units", actor=owner, unit=root,
        params={"parent": root.pk, "count": 40, "pause": 0.1, "prefix": "WJ"},
    )  # fmt: skip
    worker = start_worker()
    try:
        assert wait_for(lambda: state(job) == Job.State.RUNNING), "the worker never picked the job up"
        assert wait_for(lambda: Job.objects.get(pk=job.pk).done >= 5), "no progress shown"
        stop(worker, signal.SIGKILL)  # mid-transaction
    finally:
        stop(worker)
    assert Unit.objects.filter(code__startswith="WJ-").count() == 0  # nothing half-written
    assert state(job) == Job.State.RUNNING
    Job.objects.filter(pk=job.pk).update(lease_until=job.started_at)  # as if the lease had lapsed
    assert services.sweep()["retried"] == 1
    worker = start_worker()
    try:
        assert wait_for(lambda: state(job) == Job.State.DONE, timeout=60), job.error
    finally:
        stop(worker)
    job.refresh_from_db()
    assert job.attempts == 2 and job.result == {"created": 40}
    assert Unit.objects.filter(code__startswith="WJ-").count() == 40
