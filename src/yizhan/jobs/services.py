"""The job lifecycle, one place for every app: `enqueue()` a job → a worker claims it → it reports
progress → done, or failed with its reason. A worker that dies mid-job stops renewing the job's
lease; the sweeper (scheduled every minute) hands the job to another worker, up to MAX_ATTEMPTS,
then marks it failed. A job function is idempotent and all-or-nothing, so running it again after
a crash is safe; a second delivery of the same job does nothing (the claim is a conditional UPDATE).

A job function takes `(job, progress)` and returns a JSON-able result; `progress(done, total, phase)`
costs nothing (a thread writes the latest values about once a second), so call it freely.
"""

import logging
import threading
import time
from datetime import timedelta
from pathlib import Path

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import DatabaseError, InterfaceError, OperationalError, connection
from django.db.models import F
from django.utils import timezone
from django.utils.module_loading import import_string
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from yizhan.jobs.models import Job

logger = logging.getLogger(__name__)

LEASE = timedelta(seconds=120)
HEARTBEAT_SECONDS = 15
MAX_ATTEMPTS = 3
PROGRESS_EVERY_SECONDS = 1

# Job kinds and how people call them; apps register theirs in AppConfig.ready().
KINDS: dict[str, str] = {}


def register_kind(kind: str, label) -> None:
    KINDS[kind] = label


def kind_label(kind: str) -> str:
    return str(KINDS.get(kind, gettext_lazy("Background job")))


class JobError(Exception):
    """A failure whose message is meant for the person who started the job."""


def _files() -> Path:
    folder = Path(settings.VAR_DIR) / "job-files"
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def enqueue(
    kind: str, func: str, *, actor, unit, params: dict | None = None, data: bytes | None = None
) -> Job:
    """Create the job (and keep its input file) and hand it to the queue once the row is committed."""
    from django.db import transaction

    import_string(func)  # fail now, in the request, on a typo, not later in a worker
    with transaction.atomic():
        job = Job.objects.create(kind=kind, func=func, params=params or {}, owner=actor, unit=unit)
        if data is not None:
            (_files() / f"{job.pk}.bin").write_bytes(data)
        transaction.on_commit(lambda: dispatch(job.pk))
    return job


def dispatch(job_id) -> None:
    """Put the job on the broker. Harmless to repeat: only one delivery can claim the job."""
    from django_q.tasks import async_task

    Job.objects.filter(pk=job_id, state=Job.State.QUEUED).update(lease_until=timezone.now() + LEASE)
    async_task("yizhan.jobs.services.run", str(job_id), task_name=f"job-{job_id}", save=False)


def job_data(job: Job) -> bytes:
    path = _files() / f"{job.pk}.bin"
    if not path.exists():
        raise JobError(_("The uploaded file is no longer there; upload it again."))
    return path.read_bytes()


class _Heartbeat(threading.Thread):
    """Beside the job, on its own database connection: writes the job's progress about once a
    second and renews its lease. Its own connection, because the job's work usually sits in one
    transaction whose writes (progress included) nobody would see before the end."""

    def __init__(self, job_id):
        super().__init__(daemon=True, name=f"job-heartbeat-{job_id}")
        self.job_id = job_id
        self.stopped = threading.Event()
        self.progress = None  # (done, total, phase), set by the job through __call__
        self.written = None
        self.renewed = time.monotonic()

    def __call__(self, done: int, total: int, phase: str = "") -> None:
        self.progress = (done, total, phase[:20])

    def run(self):
        try:
            while not self.stopped.wait(PROGRESS_EVERY_SECONDS):
                self.beat()
        finally:
            connection.close()

    def beat(self):
        values = {}
        if self.progress is not None and self.progress != self.written:
            values = dict(zip(("done", "total", "phase"), self.progress, strict=True))
        if not values and time.monotonic() - self.renewed < HEARTBEAT_SECONDS:
            return
        try:
            Job.objects.filter(pk=self.job_id, state=Job.State.RUNNING).update(
                lease_until=timezone.now() + LEASE, **values
            )
        except DatabaseError:
            logger.warning("could not write the heartbeat of job %s", self.job_id, exc_info=True)
            return
        self.written, self.renewed = self.progress, time.monotonic()


def run(job_id) -> None:
    """The worker's entry point for every job (django-q closes stale connections around it)."""
    now = timezone.now()
    claimed = Job.objects.filter(pk=job_id, state=Job.State.QUEUED).update(
        state=Job.State.RUNNING, attempts=F("attempts") + 1, started_at=now, lease_until=now + LEASE
    )
    if not claimed:
        return  # finished, failed, or running in another worker
    job = Job.objects.select_related("owner", "unit").get(pk=job_id)
    heartbeat = _Heartbeat(job.pk)
    heartbeat.start()
    try:
        result = import_string(job.func)(job, heartbeat)
    except (JobError, ValidationError) as exc:
        _fail(job, "; ".join(exc.messages) if isinstance(exc, ValidationError) else str(exc))
    except (OperationalError, InterfaceError):
        # The database went away or stayed locked: worth another try, from the start.
        logger.warning("job %s hit a database error (attempt %s)", job.pk, job.attempts, exc_info=True)
        if job.attempts < MAX_ATTEMPTS:
            Job.objects.filter(pk=job.pk, state=Job.State.RUNNING).update(state=Job.State.QUEUED)
            dispatch(job.pk)
        else:
            _fail(
                job, _("The database was unavailable; the job was tried %(n)s times.") % {"n": job.attempts}
            )
    except Exception:
        logger.exception("job %s failed", job.pk)
        _fail(
            job,
            _("The job stopped on an unexpected error; nothing was changed. Try again, or contact support."),
        )
    else:
        Job.objects.filter(pk=job.pk).update(
            state=Job.State.DONE, result=result, finished_at=timezone.now(), lease_until=None, done=F("total")
        )
        _drop_file(job)
    finally:
        heartbeat.stopped.set()


def _fail(job: Job, reason: str) -> None:
    Job.objects.filter(pk=job.pk).update(
        state=Job.State.FAILED, error=reason[:2000], finished_at=timezone.now(), lease_until=None
    )
    _drop_file(job)


def _drop_file(job: Job) -> None:
    (_files() / f"{job.pk}.bin").unlink(missing_ok=True)


def sweep() -> dict:
    """Scheduled every minute: jobs whose worker stopped renewing the lease are retried or failed;
    jobs still waiting after a lease are put on the broker again (a lost message)."""
    now = timezone.now()
    retried = failed = redispatched = 0
    for job in Job.objects.filter(state=Job.State.RUNNING, lease_until__lt=now):
        if job.attempts < MAX_ATTEMPTS:
            if Job.objects.filter(pk=job.pk, state=Job.State.RUNNING, lease_until=job.lease_until).update(
                state=Job.State.QUEUED
            ):
                dispatch(job.pk)
                retried += 1
        else:
            _fail(
                job,
                _("The worker stopped during the job %(n)s times; nothing was changed.")
                % {"n": job.attempts},
            )
            failed += 1
    for job_id in Job.objects.filter(state=Job.State.QUEUED, lease_until__lt=now).values_list(
        "pk", flat=True
    ):
        dispatch(job_id)
        redispatched += 1
    return {"retried": retried, "failed": failed, "redispatched": redispatched}


def purge(days: int = 30) -> int:
    """Scheduled daily: finished jobs older than `days` go (their results were shown long ago)."""
    cutoff = timezone.now() - timedelta(days=days)
    deleted, _rows = Job.objects.filter(finished_at__lt=cutoff).delete()
    return deleted
