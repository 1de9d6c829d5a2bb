"""Check-ins through the HTTP endpoint: gunicorn with 2 workers on SQLite (WAL), load from a second
process on 127.0.0.1, bounded in time.

    .venv/bin/python bench/checkins.py [--seconds 8] [--runs 3] [--concurrency 16]

Each request posts to /api/v1/stations/{code}/checkins with its own device id and request id. A
request that loses its connection (the worker it reached was killed) is sent again with the same
request id, which the server answers as it did the first time, so every check-in the client
believes in is counted exactly once. After each run the rows in the database are compared with
the distinct request ids answered 201: "zero lost" means they are equal. The last run SIGKILLs one
worker half-way through.

The per-address rate limit stays on (every request pays for it) with its ceiling raised, since
all the load comes from one address. Prints the median sustained rate, then last, its ratio
against the goal of 500 check-ins per second.
"""

import argparse
import json
import multiprocessing
import os
import random
import secrets
import selectors
import signal
import socket
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
GOAL = 500.0
GROUPS = ["sanitation_worker", "courier", "delivery_rider", "traffic_police", "elderly", "other", None]
SERVICES = ["water", "charging", "rest", "wifi", "cooling"]

SETTINGS = """
from yizhan.settings import *  # noqa: F403

# All the load comes from 127.0.0.1: keep the limiter on (its counters: a table in the same
# SQLite, or Redis with YIZHAN_REDIS_URL), raise its ceiling.
YIZHAN_VISITS_RATE_LIMITS = {{"checkin": (10**9, 600)}}
# The shared file cache (background job progress) on a memory filesystem, as before.
CACHES["shared"]["LOCATION"] = {cache_dir!r}
"""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def prepare(workdir: Path, cache_dir: str) -> dict:
    (workdir / "bench_settings.py").write_text(SETTINGS.format(cache_dir=cache_dir))
    env = {
        **os.environ,
        "YIZHAN_VAR_DIR": str(workdir / "var"),
        "YIZHAN_SECRET_KEY": secrets.token_urlsafe(40),
        "YIZHAN_ALLOWED_HOSTS": "127.0.0.1",
        "YIZHAN_SSL_REDIRECT": "0",
        "YIZHAN_DEBUG": "",
        "YIZHAN_LOG_LEVEL": "WARNING",
        "DJANGO_SETTINGS_MODULE": "bench_settings",
        "PYTHONPATH": f"{workdir}{os.pathsep}{ROOT / 'src'}",
    }
    env.pop("DATABASE_URL", None)  # this benchmark is about the embedded SQLite
    for args in (["migrate", "--noinput", "-v0"], ["build_demo", "--small"]):
        subprocess.run([str(BIN / "yizhan"), *args], env=env, check=True, stdout=subprocess.DEVNULL)
    return env


def station_codes(db: Path) -> list[str]:
    with sqlite3.connect(db) as conn:
        return [r[0] for r in conn.execute("SELECT code FROM stations_station ORDER BY code")]


def count_rows(db: Path, prefix: str) -> int:
    with sqlite3.connect(db, timeout=30) as conn:
        return conn.execute(
            "SELECT COUNT(*) FROM visits_checkin WHERE ref LIKE ?", (prefix + "%",)
        ).fetchone()[0]


def rollups_match(db: Path) -> bool:
    with sqlite3.connect(db, timeout=30) as conn:
        raw = dict(conn.execute("SELECT day, COUNT(*) FROM visits_checkin GROUP BY day"))
        rolled = dict(
            conn.execute(
                "SELECT day, SUM(checkins) FROM visits_dailyrollup GROUP BY day HAVING SUM(checkins) > 0"
            )
        )
        monthly = conn.execute("SELECT SUM(checkins) FROM visits_monthlyrollup").fetchone()[0]
    return raw == rolled and monthly == sum(raw.values())


# --- the load generator (a separate process) -------------------------------------------------------


class _Request:
    __slots__ = ("ref", "data", "attempt", "sock", "sent", "answer")

    def __init__(self, ref: str, data: bytes):
        self.ref, self.data, self.attempt = ref, data, 0
        self.sock, self.sent, self.answer = None, 0, b""


def load(port: int, codes: list[str], prefix: str, seconds: float, concurrency: int) -> dict:
    """Keep `concurrency` requests in flight for `seconds`, each on its own connection (as phones
    do), with a selector loop: cheap enough that the client takes little CPU from the server."""
    rng = random.Random(prefix)
    selector = selectors.DefaultSelector()
    created: set[str] = set()
    per_second: list[int] = [0] * (int(seconds) + 2)
    other: dict = {}
    retries = 0
    waiting: list[tuple[float, _Request]] = []  # (when, request) to send again
    in_flight = 0
    counter = 0
    started, cpu = time.monotonic(), time.process_time()
    deadline = started + seconds

    def new_request() -> _Request:
        nonlocal counter
        counter += 1
        ref = f"{prefix}{counter}"
        payload = {
            "device": f"dev-{ref}",
            "request_id": ref,
            "services": rng.sample(SERVICES, rng.randint(0, 2)),
        }
        group = rng.choice(GROUPS)
        if group:
            payload["group"] = group
        body = json.dumps(payload).encode()
        head = (
            f"POST /api/v1/stations/{rng.choice(codes)}/checkins HTTP/1.1\r\nHost: 127.0.0.1\r\n"
            f"Content-Type: application/json\r\nConnection: close\r\nContent-Length: {len(body)}\r\n\r\n"
        )
        return _Request(ref, head.encode() + body)

    def send(request: _Request) -> None:
        nonlocal in_flight
        request.sock = socket.socket()
        request.sock.setblocking(False)
        request.sent, request.answer = 0, b""
        request.sock.connect_ex(("127.0.0.1", port))
        selector.register(request.sock, selectors.EVENT_WRITE, request)
        in_flight += 1

    def finish(request: _Request, status: int | None) -> None:
        nonlocal in_flight, retries
        selector.unregister(request.sock)
        request.sock.close()
        in_flight -= 1
        if status is None or status >= 500:
            # The worker died under it (or refused it): send the same request id again.
            retries += 1
            request.attempt += 1
            if request.attempt < 50:
                waiting.append((time.monotonic() + 0.05 * request.attempt, request))
                return
        if status == 201:
            created.add(request.ref)
            per_second[min(int(time.monotonic() - started), len(per_second) - 1)] += 1
        else:
            other[status] = other.get(status, 0) + 1

    while True:
        now = time.monotonic()
        for item in [w for w in waiting if w[0] <= now]:
            waiting.remove(item)
            send(item[1])
        while now < deadline and in_flight + len(waiting) < concurrency:
            send(new_request())
        if not in_flight and not waiting and now >= deadline:
            break
        for key, mask in selector.select(timeout=0.02):
            request = key.data
            try:
                if mask & selectors.EVENT_WRITE:
                    if request.sock.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR):
                        finish(request, None)
                        continue
                    request.sent += request.sock.send(request.data[request.sent :])
                    if request.sent == len(request.data):
                        selector.modify(request.sock, selectors.EVENT_READ, request)
                else:
                    chunk = request.sock.recv(65536)
                    if chunk:
                        request.answer += chunk
                    else:
                        answer = request.answer
                        finish(request, int(answer[9:12]) if answer.startswith(b"HTTP/1.1 ") else None)
            except OSError:
                finish(request, None)
    return {
        "created": sorted(created),
        "other": other,
        "retries": retries,
        "elapsed": time.monotonic() - started,
        "client_cpu": time.process_time() - cpu,
        "per_second": per_second[: int(seconds) + 1],
    }


def load_process(port, codes, prefix, seconds, concurrency, queue) -> None:
    queue.put(load(port, codes, prefix, seconds, concurrency))


# --- the server --------------------------------------------------------------------------------------


def start_gunicorn(env: dict, port: int, workers: int) -> subprocess.Popen:
    server = subprocess.Popen(
        [
            str(BIN / "gunicorn"),
            "yizhan.wsgi",
            "--workers",
            str(workers),
            "--bind",
            f"127.0.0.1:{port}",
            "--backlog",
            "2048",
            "--timeout",
            "30",
            "--log-level",
            "warning",
            # The application is loaded once in the master: a worker that dies is replaced by a
            # fork that serves at once, instead of one that first imports Django for a second.
            "--preload",
        ],
        env=env,
        cwd=str(ROOT),
    )
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                break
        except OSError:
            time.sleep(0.2)
    else:
        server.kill()
        raise SystemExit("gunicorn did not start")
    return server


def workers_of(master: int) -> list[int]:
    pids = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == master:
            pids.append(int(stat.parent.name))
    return sorted(pids)


def cpu_seconds(pids: list[int]) -> float:
    """User + system CPU time of the processes (the server's share of the machine)."""
    total = 0
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += int(fields[11]) + int(fields[12])
    return total / os.sysconf("SC_CLK_TCK")


def run(env, port, server, codes, db, prefix, seconds, concurrency, kill_at=None) -> dict:
    pids = [server.pid, *workers_of(server.pid)]
    cpu_before = cpu_seconds(pids)
    queue = multiprocessing.Queue()
    client = multiprocessing.Process(
        target=load_process, args=(port, codes, prefix, seconds, concurrency, queue)
    )
    client.start()
    killed = None
    if kill_at is not None:
        time.sleep(kill_at)
        killed = workers_of(server.pid)[0]
        os.kill(killed, signal.SIGKILL)
    result = queue.get(timeout=seconds + 120)
    client.join()
    result["server_cpu"] = cpu_seconds(pids) - cpu_before
    rows = count_rows(db, prefix)
    result.update(rows=rows, answered=len(result["created"]), killed=killed)
    result["rate"] = result["answered"] / result["elapsed"]
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=8.0, help="length of each run")
    parser.add_argument("--runs", type=int, default=3, help="runs without a kill (the median is reported)")
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--workers", type=int, default=2, help="gunicorn workers (the goal is set for 2)")
    args = parser.parse_args()

    memory = "/dev/shm" if os.path.isdir("/dev/shm") else None
    with (
        tempfile.TemporaryDirectory(prefix="yz-bench-checkins-") as tmp,
        tempfile.TemporaryDirectory(prefix="yz-bench-cache-", dir=memory) as cache_dir,
    ):
        workdir = Path(tmp)
        print(f"building a small demo network in {workdir}; limiter cache in {cache_dir}", flush=True)
        env = prepare(workdir, cache_dir)
        db = workdir / "var" / "yizhan.sqlite3"
        codes = station_codes(db)
        port = free_port()
        server = start_gunicorn(env, port, args.workers)
        try:
            run(env, port, server, codes, db, "warm-", 1.0, 4)  # imports and connections warm up
            rates, costs, ok = [], [], True
            for i in range(args.runs):
                r = run(env, port, server, codes, db, f"r{i}-", args.seconds, args.concurrency)
                lost = r["answered"] - r["rows"]
                ok &= lost == 0
                rates.append(r["rate"])
                server_ms = 1000 * r["server_cpu"] / max(r["answered"], 1)
                client_ms = 1000 * r["client_cpu"] / max(r["answered"], 1)
                costs.append(server_ms)
                print(
                    f"run {i + 1}: {r['answered']} check-ins answered 201 in {r['elapsed']:.1f} s = {r['rate']:.0f}/s; "
                    f"rows in the database {r['rows']} (lost {lost}); other answers {r['other'] or '-'}; "
                    f"retries {r['retries']}; CPU per check-in: server {server_ms:.2f} ms, client {client_ms:.2f} ms; "
                    f"machine load {os.getloadavg()[0]:.1f}",
                    flush=True,
                )
            r = run(
                env,
                port,
                server,
                codes,
                db,
                "kill-",
                args.seconds,
                args.concurrency,
                kill_at=args.seconds / 2,
            )
            lost = r["answered"] - r["rows"]
            ok &= lost == 0
            print(
                f"with worker {r['killed']} SIGKILLed at {args.seconds / 2:.0f} s: {r['answered']} answered 201 in "
                f"{r['elapsed']:.1f} s = {r['rate']:.0f}/s; rows in the database {r['rows']} (lost {lost}); "
                f"connections retried {r['retries']}; other answers {r['other'] or '-'}; "
                f"201s per second {r['per_second']}",
                flush=True,
            )
            match = rollups_match(db)
            ok &= match
            print(f"daily and monthly rollups equal a recount of the raw check-ins: {match}")
        finally:
            server.send_signal(signal.SIGTERM)
            server.wait(timeout=30)
        median = statistics.median(rates)
        print(f"zero lost in every run: {ok}")
        print(
            f"server CPU per check-in (median) {statistics.median(costs):.2f} ms: two cores to themselves would serve "
            f"about {2000 / statistics.median(costs):.0f}/s"
        )
        print(
            f"median sustained rate {median:.0f} check-ins/s; ratio against the 500/s goal: {median / GOAL:.2f}"
        )
        if not ok:
            raise SystemExit(1)


if __name__ == "__main__":
    main()
