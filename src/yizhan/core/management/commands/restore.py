from pathlib import Path

from django.core.management.base import BaseCommand, CommandError
from django.db import DEFAULT_DB_ALIAS, connections

from yizhan.core import backups


class Command(BaseCommand):
    help = (
        "Replace the configured database with a backup made by `yizhan backup` (checked first). "
        "Stop the server first: whatever was written after the backup is lost."
    )

    def add_arguments(self, parser):
        parser.add_argument("file", help="a backup written by `yizhan backup`")
        parser.add_argument("--noinput", "--no-input", action="store_false", dest="interactive")
        parser.add_argument("--database", default=DEFAULT_DB_ALIAS)

    def handle(self, *args, file, interactive, database, **options):
        connection = connections[database]
        vendor = backups.vendor_of(connection)
        source = Path(file).expanduser().absolute()
        if not source.is_file():
            raise CommandError(f"{source} does not exist.")
        target = connection.settings_dict["NAME"]
        if vendor == "sqlite":
            backups.check_sqlite(source)
        else:
            backups.check_pg(source, backups.pg_env(connection))
        if interactive:
            answer = input(
                f"This replaces everything in {target} with {source}.\n"
                "Stop the server first: whatever was written after the backup is lost.\n"
                "Type 'yes' to continue: "
            )
            if answer.strip().lower() != "yes":
                raise CommandError("Restore cancelled; nothing changed.")
        if vendor == "sqlite":
            backups.restore_sqlite(connection, source)
            backups.check_sqlite(backups.sqlite_path(connection))
        else:
            backups.restore_pg(connection, source)
        self.stdout.write(
            f"Restored {source} into {target}. Run `yizhan migrate` (a backup from an older version "
            "gets the newer migrations), then start the server."
        )
