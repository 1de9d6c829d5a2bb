"""2,000 simultaneous sign-ups over HTTP for one occurrence of 100 places: gunicorn with 2 workers,
the load from a second process on 127.0.0.1, on SQLite (WAL) and on PostgreSQL.

    .venv/bin/python bench/signups.py [--signups 2000] [--places 100] [--concurrency 64]
                                      [--database postgres://postgres@127.0.0.1:5432/yizhan_bench]

Every request is a public sign-up (POST /api/v1/events/occurrences/{id}/signups) with its own
phone number. Afterwards the database must hold exactly `places` confirmed, the rest waitlisted,
none oversold and none lost (every 201 answered is a row). The per-address rate limit stays on
(every request pays for it) with its ceiling raised, since all the load comes from one address.
Prints each database's counts and rate, then last the slower rate as a ratio against the goal of
300 sign-ups per second.
"""

import argparse
import json
import multiprocessing
import os
import secrets
import selectors
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from checkins import BIN, ROOT, cpu_seconds, free_port, start_gunicorn, workers_of  # noqa: E402

GOAL = 300.0

SETTINGS = """
from yizhan.settings import *  # noqa: F403

YIZHAN_EVENTS_RATE_LIMITS = {"signup": (10**9, 600), "ticket": (10**9, 600)}
"""

SETUP = """
import datetime, json
from django.contrib.auth import get_user_model
from django.utils import timezone
from yizhan.events import services
from yizhan.orgs.models import Membership, Unit
from yizhan.stations.models import Station
root = Unit.objects.create(code="B-HQ", kind="head_office", name="压测总行", path="/", level=0)
root.path = f"/{{root.pk}}/"; root.save()
admin = get_user_model().objects.create_user("bench_admin", password="x-long-password-1")
Membership.objects.create(user=admin, unit=root, role="admin")
station = Station.objects.create(code="B-S1", name="压测驿站", unit=root, address="压测路1号", lat=29.5, lng=106.5)
event = services.create_event(actor=admin, unit=root, title="压测讲座", kind="lecture", capacity={places}, max_party=1)
start = timezone.now() + datetime.timedelta(days=1)
(occ,) = services.add_occurrences(event, actor=admin, stations=["B-S1"], starts_at=start, ends_at=start + datetime.timedelta(hours=1))
print(json.dumps({{"occurrence": occ.pk}}))
"""

COUNT = """
import json
from django.db.models import Sum
from yizhan.events.models import Occurrence, Registration
occ = Occurrence.objects.get(pk={pk})
by = dict(Registration.objects.filter(occurrence=occ).values_list("state").annotate(n=Sum("party")))
print(json.dumps({{"confirmed": by.get("confirmed", 0), "waitlisted": by.get("waitlisted", 0),
                  "rows": Registration.objects.filter(occurrence=occ).count(), "taken": occ.taken, "capacity": occ.capacity}}))
"""


def django(env: dict, code: str) -> dict:
    done = subprocess.run(
        [str(BIN / "yizhan"), "shell", "-c", code], env=env, capture_output=True, text=True, check=True
    )
    return json.loads(done.stdout.strip().splitlines()[-1])


def prepare(workdir: Path, database: str | None, places: int) -> tuple[dict, int]:
    (workdir / "bench_settings.py").write_text(SETTINGS)
    env = {**os.environ, "YIZHAN_VAR_DIR": str(workdir / "var"), "YIZHAN_SECRET_KEY": secrets.token_urlsafe(40),
           "YIZHAN_ALLOWED_HOSTS": "127.0.0.1", "YIZHAN_SSL_REDIRECT": "0", "YIZHAN_DEBUG": "",
           "YIZHAN_LOG_LEVEL": "WARNING", "DJANGO_SETTINGS_MODULE": "bench_settings",
           "PYTHONPATH": f"{workdir}{os.pathsep}{ROOT / 'src'}"}  # fmt: skip
    env.pop("DATABASE_URL", None)
    if database:
        env["DATABASE_URL"] = database
        base, name = database.rsplit("/", 1)
        for sql in (f"DROP DATABASE IF EXISTS {name}", f"CREATE DATABASE {name}"):
            subprocess.run(["psql", f"{base}/postgres", "-qc", sql], check=True, capture_output=True)
    subprocess.run(
        [str(BIN / "yizhan"), "migrate", "--noinput", "-v0"], env=env, check=True, stdout=subprocess.DEVNULL
    )
    return env, django(env, SETUP.format(places=places))["occurrence"]


def _client(port: int, pk: int, n: int, concurrency: int, out) -> None:
    """The load: `n` sign-ups, `concurrency` in flight, each on its own connection (as phones do),
    driven by one selector loop (as bench/checkins.py's), so that the client takes little of the
    two cores from the server. A refused connection or a 5xx is sent again (at most 5 times)."""
    selector = selectors.DefaultSelector()
    statuses: list[int] = []
    attempts: dict[int, int] = {}
    pending = list(range(n - 1, -1, -1))  # popped from the end: 0, 1, 2, …
    in_flight = 0

    def send(i: int) -> None:
        nonlocal in_flight
        body = json.dumps({"name": f"访客{i}", "phone": f"139{i:08d}"}).encode()
        head = (
            f"POST /api/v1/events/occurrences/{pk}/signups HTTP/1.1\r\nHost: 127.0.0.1\r\n"
            f"Content-Type: application/json\r\nConnection: close\r\nContent-Length: {len(body)}\r\n\r\n"
        )
        sock = socket.socket()
        sock.setblocking(False)
        sock.connect_ex(("127.0.0.1", port))
        selector.register(sock, selectors.EVENT_WRITE, [i, head.encode() + body, b""])
        in_flight += 1

    def finish(sock, i: int, status: int | None) -> None:
        nonlocal in_flight
        selector.unregister(sock)
        sock.close()
        in_flight -= 1
        if (status is None or status >= 500) and attempts.get(i, 0) < 5:
            attempts[i] = attempts.get(i, 0) + 1
            time.sleep(0.01)
            pending.append(i)
            return
        statuses.append(status or 0)

    started, cpu = time.monotonic(), time.process_time()
    while pending or in_flight:
        while pending and in_flight < concurrency:
            send(pending.pop())
        for key, mask in selector.select(timeout=0.05):
            sock, state = key.fileobj, key.data
            try:
                if mask & selectors.EVENT_WRITE:
                    if sock.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR):
                        finish(sock, state[0], None)
                        continue
                    sent = sock.send(state[1])
                    state[1] = state[1][sent:]
                    if not state[1]:
                        selector.modify(sock, selectors.EVENT_READ, state)
                else:
                    chunk = sock.recv(65536)
                    if chunk:
                        state[2] += chunk
                    else:
                        answer = state[2]
                        finish(sock, state[0], int(answer[9:12]) if answer.startswith(b"HTTP/1.1 ") else None)
            except OSError:
                finish(sock, state[0], None)
    out.put(
        {
            "seconds": time.monotonic() - started,
            "client_cpu": round(time.process_time() - cpu, 2),
            "statuses": {str(s): statuses.count(s) for s in set(statuses)},
        }
    )


def run(database: str | None, signups: int, places: int, concurrency: int) -> dict:
    with tempfile.TemporaryDirectory() as tmp:
        env, pk = prepare(Path(tmp), database, places)
        port = free_port()
        server = start_gunicorn(env, port, 2)
        try:
            # The master listens before it forks its workers: wait until both are there.
            deadline = time.monotonic() + 20
            while len(workers := workers_of(server.pid)) < 2 and time.monotonic() < deadline:
                time.sleep(0.1)
            server_cpu = cpu_seconds(workers)
            queue = multiprocessing.Queue()
            client = multiprocessing.Process(target=_client, args=(port, pk, signups, concurrency, queue))
            client.start()
            result = queue.get(timeout=600)
            client.join()
            server_cpu = cpu_seconds(workers) - server_cpu
        finally:
            server.terminate()
            server.wait(timeout=30)
        counts = django(env, COUNT.format(pk=pk))
    rate = signups / result["seconds"]
    ok = (counts["confirmed"] == places and counts["waitlisted"] == signups - places
          and counts["rows"] == result["statuses"].get("201", 0) == signups and counts["taken"] == places)  # fmt: skip
    return {"database": "PostgreSQL" if database else "SQLite", **counts, "answers": result["statuses"],
            "seconds": round(result["seconds"], 2), "rate": round(rate, 1), "oversold": max(counts["confirmed"] - places, 0),
            # CPU per sign-up in the gunicorn workers: what a sign-up costs, whatever else runs.
            "server_cpu_ms": round(server_cpu / signups * 1000, 2), "client_cpu_s": result["client_cpu"],
            "load": round(os.getloadavg()[0], 1), "ok": ok}  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--signups", type=int, default=2000)
    parser.add_argument("--places", type=int, default=100)
    parser.add_argument("--concurrency", type=int, default=64)
    parser.add_argument("--runs", type=int, default=1)
    parser.add_argument(
        "--database",
        default=os.environ.get("BENCH_PG", "postgres://postgres@127.0.0.1:5432/yizhan_events_bench"),
    )
    parser.add_argument("--sqlite-only", action="store_true")
    args = parser.parse_args()
    rates = {}
    for database in [None] if args.sqlite_only else [None, args.database]:
        got = []
        for _ in range(args.runs):
            result = run(database, args.signups, args.places, args.concurrency)
            print(json.dumps(result, ensure_ascii=False), flush=True)
            if not result["ok"]:
                raise SystemExit(f"{result['database']}: the counts do not add up")
            got.append(result["rate"])
        rates[result["database"]] = statistics.median(got)
    slowest = min(rates.values())
    for name, rate in rates.items():
        print(f"{name}: median {rate:.0f} sign-ups/s, exactly {args.places} confirmed, 0 oversold")
    print(f"slower of the two: {slowest:.0f} sign-ups/s = {slowest / GOAL:.2f}x the {GOAL:.0f}/s goal")


if __name__ == "__main__":
    main()
