"""`yizhan backup` / `yizhan restore`: a round trip while check-ins arrive through the HTTP stack,
on a SQLite file in WAL mode and on PostgreSQL, each in its own scratch database; plus the refusals."""

import io
import json
import os
import sqlite3
import subprocess
import sys
import uuid
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import pytest
from django.core.management import CommandError, call_command
from django.db import connection

from yizhan.visits.models import CheckIn

SRC = Path(__file__).resolve().parents[3]
YIZHAN = [sys.executable, "-m", "yizhan"]

# Runs as its own process against the scratch database: threads post check-ins through the whole
# HTTP stack (django.test.Client: middleware, view, service, commit) while `yizhan backup` runs in
# another process; every answer 201 is a committed check-in, timed after its commit.
LOAD = r"""
import json, subprocess, sys, threading, time
import django
django.setup()
from django.db import connections
from django.test import Client
from yizhan.orgs.models import Unit
from yizhan.stations.models import Station
from yizhan.visits.models import CheckIn

root = Unit.objects.create(code="B-HQ", kind="head_office", name="总行", path="/")
Unit.objects.filter(pk=root.pk).update(path=f"/{root.pk}/")
outlet = Unit.objects.create(code="B-O", kind="outlet", name="网点", parent=root, level=1,
                             path=f"/{root.pk}/", lat=30, lng=106)
Unit.objects.filter(pk=outlet.pk).update(path=f"/{root.pk}/{outlet.pk}/")
Station.objects.create(code="B-O", name="驿站", unit=outlet, address="x", lat=30, lng=106)
connections.close_all()

stop = threading.Event()
committed, errors = [], []

def worker(i):
    client, n = Client(), 0
    try:
        while not stop.is_set():
            n += 1
            body = json.dumps({"device": f"device-{i}-{n:06d}", "request_id": f"req-{i}-{n:06d}"})
            r = client.post("/api/v1/stations/B-O/checkins", body, content_type="application/json")
            if r.status_code == 201:
                committed.append((time.time(), r.json()["id"]))
            else:
                errors.append((r.status_code, r.content[:200].decode(errors="replace")))
    finally:
        connections.close_all()

threads = [threading.Thread(target=worker, args=(i,)) for i in range(4)]
for t in threads:
    t.start()
while len(committed) < 100 and not errors:
    time.sleep(0.01)
started = time.time()
backup = subprocess.run(sys.argv[1:], capture_output=True, text=True)
finished = time.time()
while len([c for c in committed if c[0] > finished]) < 50 and not errors:
    time.sleep(0.01)  # keep writing after the backup too: the live database must keep all of it
stop.set()
for t in threads:
    t.join()
live = sorted(CheckIn.objects.values_list("pk", flat=True))
print(json.dumps({
    "committed": committed, "errors": errors[:5], "started": started, "finished": finished,
    "backup": [backup.returncode, backup.stdout, backup.stderr[-2000:]], "live": live,
}))
"""

IDS = (
    "import django; django.setup(); import json; from yizhan.visits.models import CheckIn; "
    "print(json.dumps(sorted(CheckIn.objects.values_list('pk', flat=True))))"
)


def run(env, *args, **kwargs):
    return subprocess.run([*args], env=env, capture_output=True, text=True, timeout=300, **kwargs)


def scratch_env(tmp_path, database_url=None) -> dict:
    env = {**os.environ, "YIZHAN_VAR_DIR": str(tmp_path / "var"), "YIZHAN_DEBUG": "1"}
    env["DJANGO_SETTINGS_MODULE"] = "yizhan.settings"
    env["PYTHONPATH"] = str(SRC)
    env["YIZHAN_VISITS_RATE_LIMITS"] = "checkin=1000000000/600"  # all the load comes from one address
    for name in ("YIZHAN_TESTING", "YIZHAN_REDIS_URL", "YIZHAN_CACHE_URL", "DATABASE_URL"):
        env.pop(name, None)
    if database_url:
        env["DATABASE_URL"] = database_url
    return env


def round_trip(env, backup_file: Path):
    migrated = run(env, *YIZHAN, "migrate", "--noinput", "-v0")
    assert migrated.returncode == 0, migrated.stderr[-2000:]
    backup_file.write_bytes(b"an older backup")  # replaced, since --force says so
    load = run(env, sys.executable, "-c", LOAD, *YIZHAN, "backup", str(backup_file), "--force")
    assert load.returncode == 0, load.stderr[-3000:]
    result = json.loads(load.stdout.strip().splitlines()[-1])
    rc, out, err = result["backup"]
    assert rc == 0, err
    assert "Backed up" in out and backup_file.is_file()
    assert result["errors"] == []  # no check-in failed or waited out while the backup ran
    committed = {pk: at for at, pk in result["committed"]}
    before = {pk for pk, at in committed.items() if at < result["started"]}
    after = {pk for pk, at in committed.items() if at > result["finished"]}
    assert len(before) >= 100 and len(after) >= 50
    # Nothing committed is lost from the live database while the backup runs.
    assert set(result["live"]) == set(committed)

    # The server stopped, the backup restored over the live database.
    restored = run(env, *YIZHAN, "restore", str(backup_file), "--noinput")
    assert restored.returncode == 0, restored.stderr[-2000:]
    assert "Restored" in restored.stdout
    ids = set(json.loads(run(env, sys.executable, "-c", IDS).stdout))
    assert before <= ids  # every check-in committed before the backup started is in it
    assert ids <= set(committed)  # and nothing that was never committed
    assert not (after & ids)  # and nothing from after it ended: this really is the backup's content
    return len(before), len(ids)


@pytest.mark.own_sqlite
def test_round_trip_under_load_on_sqlite(tmp_path):
    env = scratch_env(tmp_path)
    backup_file = tmp_path / "yizhan-backup.sqlite3"
    round_trip(env, backup_file)
    mode = run(
        env,
        sys.executable,
        "-c",
        "import sqlite3, sys; print(sqlite3.connect(sys.argv[1])"
        ".execute('pragma journal_mode').fetchone()[0])",
        str(tmp_path / "var" / "yizhan.sqlite3"),
    )
    assert mode.stdout.strip() == "wal"


@pytest.fixture
def scratch_postgres():
    url = os.environ.get("DATABASE_URL", "")
    if not url.startswith("postgres"):
        pytest.skip("set DATABASE_URL=postgres://… (the PostgreSQL run of the suite)")
    import psycopg

    parts = urlsplit(url)
    name = f"{parts.path.lstrip('/')}_backup_{uuid.uuid4().hex[:8]}"
    admin = urlunsplit(parts._replace(path="/postgres"))
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    yield urlunsplit(parts._replace(path=f"/{name}"))
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def test_round_trip_under_load_on_postgresql(tmp_path, scratch_postgres):
    env = scratch_env(tmp_path, scratch_postgres)
    round_trip(env, tmp_path / "yizhan.dump")


# --- refusals (in this process: each is decided before the database is touched) ------------------


def test_backup_refuses_to_overwrite_an_existing_file_without_force(tmp_path):
    target = tmp_path / "yizhan-backup"
    target.write_bytes(b"last night's backup")
    with pytest.raises(CommandError, match="--force"):
        call_command("backup", str(target))
    assert target.read_bytes() == b"last night's backup"
    with pytest.raises(CommandError, match="does not exist"):
        call_command("backup", str(tmp_path / "no-such-folder" / "b"))


def ours_sqlite(path: Path) -> bytes:
    with sqlite3.connect(path) as db:  # enough to pass for one of ours
        db.execute("CREATE TABLE django_migrations (id integer primary key, app text, name text)")
        db.executemany("INSERT INTO django_migrations (app, name) VALUES (?, ?)", [("x", "y" * 500)] * 200)
    db.close()
    return path.read_bytes()


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (None, "does not exist"),
        (b"not a database at all" * 100, "not a readable"),
        ("half", "not a readable"),  # a backup cut short
    ],
)
def test_restore_refuses_a_file_that_is_not_a_whole_backup(tmp_path, content, message):
    source = tmp_path / "backup"
    if content == "half":
        whole = ours_sqlite(tmp_path / "whole.sqlite3")
        content = whole[: len(whole) // 2]
    if content is not None:
        source.write_bytes(content)
    with pytest.raises(CommandError, match=message):
        call_command("restore", str(source), interactive=False)


def test_restore_asks_first_and_a_no_changes_nothing(db, tmp_path, monkeypatch):
    source = tmp_path / "backup"
    if connection.vendor == "sqlite":
        ours_sqlite(source)
    else:
        call_command("backup", str(source), stdout=io.StringIO())
    before = CheckIn.objects.count()
    monkeypatch.setattr("builtins.input", lambda prompt: "no")  # the operator at the keyboard
    with pytest.raises(CommandError, match="cancelled"):
        call_command("restore", str(source))
    assert CheckIn.objects.count() == before
