"""Jobs in the API: follow an import (or any job) started in the back office or through the API."""

import datetime
import uuid

from ninja import Router, Schema

from yizhan.core.schemas import Message
from yizhan.jobs.models import Job
from yizhan.jobs.services import kind_label
from yizhan.orgs.scoping import get_for_user, scoped

manage_router = Router(tags=["manage: jobs"])


class JobOut(Schema):
    id: uuid.UUID
    kind: str
    kind_label: str
    state: str
    state_label: str
    phase: str
    done: int
    total: int
    percent: int
    attempts: int
    error: str
    result: dict | None
    created_at: datetime.datetime
    finished_at: datetime.datetime | None


def _out(job: Job) -> dict:
    return {
        "id": job.pk,
        "kind": job.kind,
        "kind_label": kind_label(job.kind),
        "state": job.state,
        "state_label": str(job.get_state_display()),
        "phase": job.phase,
        "done": job.done,
        "total": job.total,
        "percent": job.percent,
        "attempts": job.attempts,
        "error": job.error,
        "result": job.result,
        "created_at": job.created_at,
        "finished_at": job.finished_at,
    }


@manage_router.get("/jobs", response=list[JobOut])
def list_jobs(request, state: Job.State | None = None, limit: int = 50):
    jobs = scoped(request.user, Job)
    if state:
        jobs = jobs.filter(state=state)
    return [_out(job) for job in jobs[: max(1, min(limit, 200))]]


@manage_router.get("/jobs/{job_id}", response={200: JobOut, 404: Message})
def get_job(request, job_id: uuid.UUID):
    """A job's state and progress; `result` once it is done, `error` (the reason) once it failed."""
    return _out(get_for_user(request.user, Job, "read", pk=job_id))


class ScheduleOut(Schema):
    name: str
    label: str
    when: str
    next_run: datetime.datetime | None


@manage_router.get("/schedules", response={200: list[ScheduleOut], 403: Message})
def list_schedules(request):
    """The scheduled work declared in code, with its next run (admins)."""
    from yizhan.jobs.schedules import listing
    from yizhan.orgs.scoping import require

    require(request.user, "admin")
    return [{"name": i["spec"].name, "label": str(i["spec"].label), "when": i["spec"].when(),
             "next_run": i["next_run"]} for i in listing()]  # fmt: skip
