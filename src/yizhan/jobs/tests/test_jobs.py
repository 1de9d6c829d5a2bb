"""The job lifecycle through the function a worker runs: claim, progress, result, failure with its
reason, retries for a database that went away, the sweeper for a worker that died, and scoping."""

import datetime

import pytest
from django.utils import timezone

from yizhan.jobs import services
from yizhan.jobs.models import Job

FUNCS = "yizhan.jobs.tests.jobfuncs"


@pytest.fixture
def cq(unit):
    return unit("CQ")


def make(users, cq, func, **params):
    return services.enqueue("test", f"{FUNCS}.{func}", actor=users["cq_admin"], unit=cq, params=params)


def test_a_job_runs_once_and_keeps_its_result(db, users, cq):
    job = make(users, cq, "create_units", parent=cq.pk, count=3, prefix="J1")
    services.run(job.pk)
    job.refresh_from_db()
    assert job.state == Job.State.DONE and job.result == {"created": 3} and job.attempts == 1
    assert job.percent == 100 and job.finished_at is not None
    services.run(job.pk)  # a second delivery of the same message does nothing
    job.refresh_from_db()
    assert job.attempts == 1
    from yizhan.orgs.models import Unit

    assert Unit.objects.filter(code__startswith="J1-").count() == 3


def test_a_refused_job_fails_with_its_reason_and_a_crash_hides_internals(db, users, cq):
    refused = make(users, cq, "refuse")
    crashed = make(users, cq, "crash")
    services.run(refused.pk)
    services.run(crashed.pk)
    refused.refresh_from_db()
    crashed.refresh_from_db()
    assert refused.state == Job.State.FAILED and refused.error == "这个文件无法读取。"
    assert crashed.state == Job.State.FAILED and "secret" not in crashed.error and crashed.error


def test_a_locked_database_is_retried_then_succeeds(db, users, cq, django_capture_on_commit_callbacks):
    job = make(users, cq, "flaky")
    services.run(job.pk)
    job.refresh_from_db()
    assert job.state == Job.State.QUEUED and job.attempts == 1  # handed back to the queue
    services.run(job.pk)
    job.refresh_from_db()
    assert job.state == Job.State.DONE and job.result == {"attempts": 2}


def test_the_sweeper_retries_a_dead_workers_job_then_fails_it(db, users, cq):
    job = make(users, cq, "create_units", parent=cq.pk, count=1, prefix="J2")
    past = timezone.now() - datetime.timedelta(seconds=1)
    for attempt in range(1, services.MAX_ATTEMPTS + 1):
        # As if a worker claimed the job and was killed: running, its lease lapsed.
        Job.objects.filter(pk=job.pk).update(state=Job.State.RUNNING, attempts=attempt, lease_until=past)
        outcome = services.sweep()
        job.refresh_from_db()
        if attempt < services.MAX_ATTEMPTS:
            assert outcome["retried"] == 1 and job.state == Job.State.QUEUED
        else:
            assert outcome["failed"] == 1 and job.state == Job.State.FAILED and job.error


def test_a_running_job_with_a_live_lease_is_left_alone(db, users, cq):
    job = make(users, cq, "create_units", parent=cq.pk, count=1, prefix="J3")
    future = timezone.now() + datetime.timedelta(minutes=1)
    Job.objects.filter(pk=job.pk).update(state=Job.State.RUNNING, attempts=1, lease_until=future)
    assert services.sweep() == {"retried": 0, "failed": 0, "redispatched": 0}


def test_an_unknown_function_is_refused_at_once(db, users, cq):
    with pytest.raises(ImportError):
        make(users, cq, "no_such_function")


PEOPLE = {"hq_admin": 200, "cq_admin": 200, "sanxia_manager": 404, "sz_viewer": 404}


@pytest.mark.parametrize("username,status", PEOPLE.items())
def test_job_page_and_api_are_scoped(db, users, cq, client_for, username, status):
    job = make(users, cq, "refuse")
    services.run(job.pk)
    client = client_for(username)
    assert client.get(f"/manage/jobs/{job.pk}/progress").status_code == status
    api = client.get(f"/api/v1/manage/jobs/{job.pk}")
    assert api.status_code == status
    if status == 200:
        assert api.json()["state"] == "failed" and api.json()["error"] == "这个文件无法读取。"
    listing = client.get("/manage/jobs/?state=failed").content.decode()
    assert ("这个文件无法读取" in listing) == (status == 200)


def test_bad_job_ids_are_404_or_422(db, client_for):
    client = client_for("cq_admin")
    assert client.get("/manage/jobs/not-a-uuid/progress").status_code == 404
    assert client.get("/api/v1/manage/jobs/not-a-uuid").status_code == 422
    assert client.get("/api/v1/manage/jobs/00000000-0000-0000-0000-000000000000").status_code == 404
    assert client.get("/api/v1/manage/jobs?state=bogus").status_code == 422
    assert client.get("/api/v1/manage/jobs").status_code == 200


def test_purge_drops_old_finished_jobs_only(db, users, cq):
    old = make(users, cq, "refuse")
    services.run(old.pk)
    Job.objects.filter(pk=old.pk).update(finished_at=timezone.now() - datetime.timedelta(days=31))
    waiting = make(users, cq, "refuse")
    assert services.purge() == 1
    assert list(Job.objects.values_list("pk", flat=True)) == [waiting.pk]
