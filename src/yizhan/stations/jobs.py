"""Back-office imports: the uploaded file kept for an hour (so that a good dry run can be
committed without uploading again), and long imports run in a background thread whose progress
the page polls from the shared cache."""

import logging
import secrets
import threading
import time
from pathlib import Path

from django.conf import settings
from django.core.cache import caches
from django.db import connection

logger = logging.getLogger(__name__)
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


def _key(job: str) -> str:
    return f"stations:import-job:{job}"


def _spawn(target) -> None:
    threading.Thread(target=target, daemon=True, name="station-import").start()


def _release() -> None:
    """The worker thread's database connection is its own: close it rather than leave it open."""
    connection.close()


def start(user, name: str, data: bytes, *, dry_run: bool, token: str) -> str:
    """Run an import in the background; the job's state lives in the shared cache."""
    from yizhan.orgs.scoping import scope_for
    from yizhan.stations.imports import import_stations

    job = secrets.token_urlsafe(12)
    cache = caches["shared"]
    state = {"user": user.pk, "state": "running", "done": 0, "total": 0, "phase": "validate",
             "dry_run": dry_run, "token": token, "result": None}  # fmt: skip
    cache.set(_key(job), state, UPLOAD_TTL)

    def progress(done, total, phase):
        cache.set(_key(job), {**state, "done": done, "total": total, "phase": phase}, UPLOAD_TTL)

    def run():
        try:
            result = import_stations(
                name, data, actor=user, scope=scope_for(user), dry_run=dry_run, progress=progress
            )
            cache.set(_key(job), {**state, "state": "done", "result": result.as_dict()}, UPLOAD_TTL)
        except Exception:
            logger.exception("station import job %s failed", job)
            cache.set(_key(job), {**state, "state": "failed"}, UPLOAD_TTL)
        finally:
            _release()

    _spawn(run)
    return job


def status(user, job: str) -> dict | None:
    """The job's state, for its owner only."""
    state = caches["shared"].get(_key(job))
    if not state or state.get("user") != user.pk:
        return None
    return state
