"""Check-ins through the HTTP endpoint: gunicorn with 4 workers (the README's command) on SQLite (WAL), load from a second
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
import os
import random
import signal
import sqlite3
import statistics
import subprocess
import tempfile
import time
from pathlib import Path

import _http

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


def prepare(workdir: Path, cache_dir: str) -> dict:
    (workdir / "bench_settings.py").write_text(SETTINGS.format(cache_dir=cache_dir))
    # SQLite whatever DATABASE_URL says: this benchmark is about the embedded SQLite.
    env = _http.production_env(workdir / "var", "bench_settings", path=[workdir])
    for args in (["migrate", "--noinput", "-v0"], ["build_demo", "--small"]):
        subprocess.run([str(_http.BIN / "yizhan"), *args], env=env, check=True, stdout=subprocess.DEVNULL)
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


# --- the load -------------------------------------------------------------------------------------


def checkins(codes: list[str], prefix: str, count: int) -> list[tuple]:
    """`count` check-ins, each with its own device and request id (`prefix` and a number)."""
    rng = random.Random(prefix)
    requests = []
    for n in range(1, count + 1):
        ref = f"{prefix}{n}"
        payload = {
            "device": f"dev-{ref}",
            "request_id": ref,
            "services": rng.sample(SERVICES, rng.randint(0, 2)),
        }
        if group := rng.choice(GROUPS):
            payload["group"] = group
        requests.append(("POST", f"/api/v1/stations/{rng.choice(codes)}/checkins", None, json.dumps(payload)))
    return requests


def run(port, server, codes, db, prefix, seconds, concurrency, kill_at=None) -> dict:
    """`concurrency` check-ins in flight for `seconds`, each on its own connection (as phones do); one
    that loses its connection or gets a 5xx is sent again with the same request id (up to 50 times)."""
    # More check-ins than the two cores can answer in the time: none is sent twice but by a retry.
    requests = checkins(codes, prefix, int(seconds * 2500) + 500)
    cpu_before = _http.worker_cpu_seconds(server.pid)
    client = _http.Load(port, requests, seconds=seconds, concurrency=concurrency, retries=50)
    killed = None
    if kill_at is not None:
        time.sleep(kill_at)
        killed = _http.worker_pids(server.pid)[0]
        os.kill(killed, signal.SIGKILL)
    result = client.result()
    if result["sent"] > len(requests):
        raise SystemExit(f"the client ran out of check-ins ({len(requests)}): prepare more")
    result["server_cpu"] = _http.worker_cpu_seconds(server.pid) - cpu_before
    result["other"] = {k: v for k, v in result["counts"].items() if k != 201}
    result.update(rows=count_rows(db, prefix), answered=result["counts"].get(201, 0), killed=killed)
    result["rate"] = result["answered"] / result["elapsed"]
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=8.0, help="length of each run")
    parser.add_argument("--runs", type=int, default=3, help="runs without a kill (the median is reported)")
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument(
        "--workers", type=int, default=_http.WORKERS, help="gunicorn workers (the README runs 4)"
    )
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
        port = _http.free_port()
        server = _http.start_gunicorn(env, port, args.workers)
        try:
            _http.wait_ready(port, "/api/v1/open-data/", server, args.workers)
            run(port, server, codes, db, "warm-", 1.0, 4)  # imports and connections warm up
            rates, costs, ok = [], [], True
            for i in range(args.runs):
                r = run(port, server, codes, db, f"r{i}-", args.seconds, args.concurrency)
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
            _http.stop(server)
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
