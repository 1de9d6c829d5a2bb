"""Back-office imports: the uploaded file kept for an hour (so that a good dry run can be
committed without uploading again), and imports run as jobs on the queue: long station imports and
every holiday-year import."""

import secrets
import time
from pathlib import Path

from django.conf import settings

UPLOAD_TTL = 3600
# Below this size an import finishes well within a second or two: answer in the same request.
SYNC_LIMIT_BYTES = 150_000


def _folder() -> Path:
    # Beside, not inside, MEDIA_ROOT: the debug server serves that folder without access checks.
    folder = Path(settings.VAR_DIR) / "station-imports"
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def _suffix(name: str) -> str:
    return ".xlsx" if name.lower().endswith(".xlsx") else ".csv"


def save_upload(user, name: str, data: bytes) -> str:
    """Keep an upload for its owner; returns the token that names it."""
    for old in _folder().glob("*"):
        if old.stat().st_mtime < time.time() - UPLOAD_TTL:
            old.unlink(missing_ok=True)
    token = secrets.token_urlsafe(12)
    (_folder() / f"{user.pk}-{token}{_suffix(name)}").write_bytes(data)
    return token


def load_upload(user, token: str) -> tuple[str, bytes] | None:
    if not token or not all(ch.isalnum() or ch in "-_" for ch in token):
        return None
    for path in _folder().glob(f"{user.pk}-{token}.*"):
        if path.stat().st_mtime >= time.time() - UPLOAD_TTL:
            return path.name, path.read_bytes()
    return None


def run_import(job, progress) -> dict:
    """The queue's job for a large station import (see yizhan.jobs); all-or-nothing, so a retry
    after a killed worker starts from a registry that is either untouched or wholly imported."""
    from yizhan.jobs.services import job_data
    from yizhan.orgs.scoping import scope_for
    from yizhan.stations.imports import import_stations

    user = job.owner
    result = import_stations(
        job.params["filename"],
        job_data(job),
        actor=user,
        scope=scope_for(user),
        dry_run=job.params["dry_run"],
        progress=progress,
    )
    return {**result.as_dict(), "token": job.params.get("token", "")}


def start(user, unit, name: str, data: bytes, *, dry_run: bool, token: str):
    from yizhan.jobs.services import enqueue

    return enqueue(
        "station_import",
        "yizhan.stations.jobs.run_import",
        actor=user,
        unit=unit,
        params={"filename": name[:200], "dry_run": dry_run, "token": token},
        data=data,
    )


def validation_problems(exc) -> list[str]:
    """A ValidationError as lines for a person ("row 3: date: …"), as the holiday page lists them."""
    if hasattr(exc, "error_dict"):
        return [f"{key}: {texts[0]}" for key, texts in exc.message_dict.items()]
    return list(exc.messages)


def run_holiday_import(job, progress) -> dict:
    """The queue's job for a year's arrangement, from an uploaded file or the installed
    chinesecalendar. `import_holiday_year` replaces the year in one transaction: a killed worker
    leaves the year as it was, and the retry starts again from the kept file."""
    from django.core.exceptions import ValidationError
    from django.utils.translation import gettext as _

    from yizhan.jobs.services import JobError, job_data
    from yizhan.orgs.scoping import scope_for
    from yizhan.stations import services

    user, year = job.owner, job.params["year"]
    if user is None or not scope_for(user).can("hq_admin"):
        raise JobError(_("Only head-office admins may import the holiday calendar."))
    progress(0, 1, "write")
    try:
        if job.params["source"] == "package":
            calendar_year = services.import_holiday_year_from_package(year, actor=user)
        else:
            rows = services.holiday_rows(job.params["filename"], job_data(job))
            calendar_year = services.import_holiday_year(year, rows, actor=user)
    except ValidationError as exc:
        raise JobError("; ".join(validation_problems(exc)[:50])) from None
    days = services.HolidayDate.objects.filter(date__year=year)
    return {
        "year": calendar_year.year,
        "off": days.filter(kind="off").count(),
        "work": days.filter(kind="work").count(),
    }


def start_holiday_import(user, unit, year: int, *, name: str = "", data: bytes | None = None):
    """Queue a year's import: from the uploaded `data`, or (none) from chinesecalendar."""
    from yizhan.jobs.services import enqueue

    return enqueue(
        "holiday_import",
        "yizhan.stations.jobs.run_holiday_import",
        actor=user,
        unit=unit,
        params={"year": year, "source": "file" if data is not None else "package", "filename": name[:200]},
        data=data,
    )
