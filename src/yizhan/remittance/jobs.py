"""Work of the green channel on the queue: large imports (checked, then written, each a job the
page follows) and the scheduled clean-up of lapsed claims."""

from django.core.exceptions import PermissionDenied
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from yizhan.jobs.schedules import Every
from yizhan.remittance.models import CLAIM_TTL, ImportRun, Instruction

KIND = "remittance_import"
# Below this size a file is checked or imported well within a second or two: in the request.
SYNC_LIMIT_BYTES = 150_000


def start_import(user, unit, run: ImportRun, *, dry_run: bool, valid_only: bool = False):
    """Queue the check (`dry_run`) or the import of a staged upload; the file stays in the run."""
    from yizhan.jobs.services import enqueue

    return enqueue(
        KIND,
        "yizhan.remittance.jobs.run_import",
        actor=user,
        unit=unit,
        params={"batch": run.batch_id, "run": run.pk, "dry_run": dry_run, "valid_only": valid_only},
    )


def run_import(job, progress) -> dict:
    """The queue's job for a staged upload: the preview's check, or the import itself. The import
    writes the whole file or nothing in one transaction (services.run_import), so a worker killed
    mid-job leaves the batch as it was and the retry starts again from the staged file."""
    from yizhan.jobs.services import JobError
    from yizhan.remittance import services

    dry_run = job.params["dry_run"]
    run = ImportRun.objects.select_related("batch__unit").filter(pk=job.params["run"]).first()
    if run is not None and run.status == ImportRun.Status.IMPORTED and not dry_run and job.attempts > 1:
        # The worker was stopped after the import's commit and before the job was marked done.
        return {"batch": run.batch_id, "run": run.pk, "dry_run": False, "imported": run.rows_imported}
    if run is None or run.status != ImportRun.Status.PREVIEWED:
        raise JobError(_("This upload was already imported or discarded."))
    user, batch = job.owner, run.batch
    try:
        services.require_batch_owner(user, batch)
    except PermissionDenied:
        raise JobError(_("You may not import into this batch.")) from None
    report = services.run_import(
        batch,
        actor=user,
        filename=run.filename,
        data=bytes(run.content),
        dry_run=dry_run,
        valid_only=job.params.get("valid_only", False),
        scope=user,
        staged=None if dry_run else run,
        progress=progress,
    )
    if report.file_error:
        # As the upload page does with a small file: refused with its reason, not kept.
        services.discard_import(run, actor=user)
        raise JobError(" ".join(e.message if e.row is None else str(e) for e in report.errors[:3]))
    if report.refused_reason and not dry_run:
        raise JobError(report.refused_reason)
    return {"batch": batch.pk, "run": run.pk, **report.as_dict()}


def release_lapsed_claims() -> int:
    """A claim lapses after CLAIM_TTL on its own (`claim_active`); this only clears the stale marks
    so lists stop showing a name. Nothing anyone decided changes, so no audit event."""
    lapsed = timezone.now() - CLAIM_TTL
    return Instruction.objects.filter(claimed_at__lt=lapsed).update(claimed_by=None, claimed_at=None)


SCHEDULES = [
    Every(
        "remittance.release_lapsed_claims",
        "yizhan.remittance.jobs.release_lapsed_claims",
        gettext_lazy("Clear green-channel claims that lapsed"),
        minutes=10,
    ),
]
