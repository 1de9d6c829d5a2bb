"""Consistent backups of the live database, and restoring them (`yizhan backup` / `yizhan restore`).

SQLite: `VACUUM INTO` reads the database in one read transaction, WAL included, so it copies a
consistent snapshot while check-ins keep arriving (writers do not wait for it). The sqlite3
shell's `.backup` starts over whenever another connection writes, so under steady check-ins it
never finishes; a plain file copy misses whatever still sits in the -wal file.
PostgreSQL: `pg_dump -Fc` reads one snapshot; `pg_restore --clean --if-exists --single-transaction`
puts it back all or nothing.
"""

import os
import shutil
import sqlite3
import subprocess
from pathlib import Path

from django.core.management.base import CommandError


def vendor_of(connection) -> str:
    if connection.vendor not in ("sqlite", "postgresql"):
        raise CommandError(f"Backups support SQLite and PostgreSQL, not {connection.vendor}.")
    return connection.vendor


# --- SQLite ----------------------------------------------------------------------------------------


def sqlite_path(connection) -> Path:
    name = str(connection.settings_dict["NAME"])
    if name == ":memory:" or name.startswith("file:"):
        raise CommandError("This SQLite database lives in memory; there is no file to back up or restore.")
    return Path(name)


def check_sqlite(path: Path) -> None:
    """Refuse `path` unless it is an intact SQLite database of this system."""
    try:
        with sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True) as conn:
            result = conn.execute("PRAGMA integrity_check").fetchall()
            migrations = conn.execute(
                "SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = 'django_migrations'"
            ).fetchone()[0]
        conn.close()
    except sqlite3.DatabaseError as exc:
        raise CommandError(f"{path} is not a readable SQLite database ({exc}).") from exc
    if result != [("ok",)]:
        problems = "; ".join(row[0] for row in result[:5])
        raise CommandError(f"{path} fails SQLite's integrity check: {problems}")
    if not migrations:
        raise CommandError(
            f"{path} is a SQLite database, but not one of Yizhan (no django_migrations table)."
        )


def backup_sqlite(connection, target: Path) -> None:
    connection.ensure_connection()
    with connection.cursor() as cursor:
        cursor.execute("VACUUM INTO %s", [str(target)])


def restore_sqlite(connection, source: Path) -> None:
    """Copy `source` into the live file with SQLite's backup API: one step under the write lock,
    so every other connection sees the old database or the new one, never a mixture (replacing
    the file instead would leave running processes writing to the old one and a stale -wal)."""
    live = sqlite_path(connection)
    connection.close()
    src = sqlite3.connect(f"{source.resolve().as_uri()}?mode=ro", uri=True)
    dst = sqlite3.connect(live, timeout=30)
    try:
        src.backup(dst)  # pages=-1: all in one step
    finally:
        dst.close()
        src.close()


# --- PostgreSQL ------------------------------------------------------------------------------------


def pg_env(connection) -> dict:
    """libpq's environment for the configured connection (the password never on a command line)."""
    s = connection.settings_dict
    env = {**os.environ, "PGDATABASE": str(s["NAME"])}
    for key, var in (("HOST", "PGHOST"), ("PORT", "PGPORT"), ("USER", "PGUSER"), ("PASSWORD", "PGPASSWORD")):
        if s.get(key):
            env[var] = str(s[key])
    for option, var in (
        ("sslmode", "PGSSLMODE"),
        ("sslrootcert", "PGSSLROOTCERT"),
        ("passfile", "PGPASSFILE"),
    ):
        if s.get("OPTIONS", {}).get(option):
            env[var] = str(s["OPTIONS"][option])
    return env


def pg_tool(name: str) -> str:
    path = shutil.which(name)
    if not path:
        raise CommandError(
            f"{name} was not found on PATH: install the PostgreSQL client tools (Debian: postgresql-client), "
            "the server's major version or newer."
        )
    return path


def run_pg(args: list[str], env: dict) -> subprocess.CompletedProcess:
    result = subprocess.run(args, env=env, capture_output=True, text=True)  # noqa: S603 (fixed tools)
    if result.returncode != 0:
        raise CommandError(f"{Path(args[0]).name} failed: {result.stderr.strip()[-2000:]}")
    return result


def check_pg(path: Path, env: dict) -> None:
    try:
        listing = run_pg([pg_tool("pg_restore"), "--list", str(path)], env).stdout
    except CommandError as exc:
        raise CommandError(f"{path} is not a readable pg_dump archive: {exc}") from exc
    if "django_migrations" not in listing:
        raise CommandError(
            f"{path} is a pg_dump archive, but not one of Yizhan (no django_migrations table)."
        )


def backup_pg(connection, target: Path) -> None:
    run_pg([pg_tool("pg_dump"), "--format=custom", "--no-password", f"--file={target}"], pg_env(connection))


def restore_pg(connection, source: Path) -> None:
    connection.close()
    run_pg(
        [
            pg_tool("pg_restore"),
            "--clean",
            "--if-exists",
            "--no-owner",
            "--single-transaction",
            "--exit-on-error",
            "--no-password",
            f"--dbname={connection.settings_dict['NAME']}",
            str(source),
        ],
        pg_env(connection),
    )
