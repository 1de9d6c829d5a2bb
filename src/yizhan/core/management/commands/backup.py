import os
import time
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError
from django.db import DEFAULT_DB_ALIAS, connections

from yizhan.core import backups


class Command(BaseCommand):
    help = (
        "Write a consistent copy of the database to FILE while the server keeps serving "
        "(SQLite: VACUUM INTO; PostgreSQL: pg_dump -Fc), then check it."
    )

    def add_arguments(self, parser):
        parser.add_argument("file", help="where to write the backup")
        parser.add_argument("--force", action="store_true", help="replace FILE if it already exists")
        parser.add_argument("--database", default=DEFAULT_DB_ALIAS)

    def handle(self, *args, file, force, database, **options):
        connection = connections[database]
        vendor = backups.vendor_of(connection)
        target = Path(file).expanduser().absolute()
        if target.exists() and not force:
            raise CommandError(f"{target} already exists; choose another name or pass --force to replace it.")
        if not target.parent.is_dir():
            raise CommandError(f"The folder {target.parent} does not exist.")
        # Written beside the target and renamed at the end: FILE is a whole, checked backup or absent.
        part = target.with_name(f".{target.name}.{os.getpid()}.part")
        part.unlink(missing_ok=True)
        started = time.monotonic()
        try:
            if vendor == "sqlite":
                source = backups.sqlite_path(connection)
                backups.backup_sqlite(connection, part)
                backups.check_sqlite(part)
            else:
                source = connection.settings_dict["NAME"]
                backups.backup_pg(connection, part)
                backups.check_pg(part, backups.pg_env(connection))
            os.replace(part, target)
        finally:
            part.unlink(missing_ok=True)
        size = target.stat().st_size
        self.stdout.write(
            f"Backed up {source} to {target} ({size / 1e6:.1f} MB in {time.monotonic() - started:.1f} s); "
            f"checked. Restore with: yizhan restore {target}"
        )
