import time
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError


class Command(BaseCommand):
    help = (
        "Import stations from an xlsx or csv file (Chinese headers, see the template in the back office). "
        "A code already in the registry updates that station. With --dry-run nothing is written."
    )

    def add_arguments(self, parser):
        parser.add_argument("file")
        parser.add_argument(
            "--dry-run", action="store_true", help="Check every row and report; write nothing."
        )
        parser.add_argument(
            "--user",
            help="Act as this staff user, within their part of the network (default: the whole network, "
            "recorded as 'system').",
        )

    def handle(self, *args, file, dry_run=False, user=None, **options):
        from django.contrib.auth import get_user_model

        from yizhan.orgs.scoping import scope_for
        from yizhan.stations.imports import import_stations

        path = Path(file)
        if not path.is_file():
            raise CommandError(f"No such file: {file}")
        actor = scope = None
        if user:
            actor = get_user_model().objects.filter(username=user).first()
            scope = scope_for(actor) if actor else None
            if scope is None or not scope.can("change"):
                raise CommandError(f"{user} is not a staff user who may change stations.")
        bar = ProgressBar(self.stderr)
        result = import_stations(
            path.name, path.read_bytes(), actor=actor, scope=scope, dry_run=dry_run, progress=bar
        )
        bar.finish()
        for error in result.errors[:200]:
            where = f"row {error.row}" if error.row else "file"
            column = f", {error.column}" if error.column else ""
            self.stderr.write(f"{where}{column}: {error.message}")
        if result.error_count > 200:
            self.stderr.write(f"… and {result.error_count - 200} more errors")
        summary = (
            f"{result.rows} rows: {result.created} to create, {result.updated} to update, "
            f"{result.unchanged} unchanged, {result.error_count} errors"
        )
        if not result.ok:
            raise CommandError(f"{summary}. Nothing was written.")
        if dry_run:
            self.stdout.write(f"{summary}. Dry run: nothing was written.")
        else:
            self.stdout.write(f"{summary}. Committed.")


class ProgressBar:
    """A text bar on stderr, shown once an import has run for more than a second."""

    def __init__(self, stream, width: int = 30):
        self.stream, self.width = stream, width
        self.started = time.monotonic()
        self.shown = False

    def __call__(self, done: int, total: int, phase: str) -> None:
        if time.monotonic() - self.started < 1 and not self.shown:
            return
        self.shown = True
        filled = int(self.width * done / total) if total else self.width
        label = {"validate": "checking", "write": "writing"}.get(phase, phase)
        self.stream.write(
            f"\r[{'#' * filled}{' ' * (self.width - filled)}] {done}/{total} {label}", ending=""
        )
        self.stream.flush()

    def finish(self) -> None:
        if self.shown:
            self.stream.write("")
