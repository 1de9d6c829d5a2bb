"""Benchmark: check-ins sent throughout a 15,000-row update import, on SQLite (issue 10, §4).

Builds a temporary SQLite database (DATABASE_URL is ignored) with the small demo network plus a
generated registry of 15,000 stations (imported through the real import), writes an update
workbook that changes every one of them (name, phone, hours, a facility), starts the app under
gunicorn (4 workers, as the README runs it), and then, while a separate process commits that workbook with the import
service (`import_stations`, as the back office's background job does), keeps check-ins flowing
to /api/v1/stations/{code}/checkins from a few client threads. Reports the import's duration, how
many check-ins were answered and how, and their latency; the goal: 0 errors, p99 under 1 s.

    .venv/bin/python bench/import_contention.py [--rows 15000] [--clients 4]
"""

import argparse
import http.client
import json
import os
import random
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import _http
import checkins  # the check-in benchmark's settings and warm-up
import import_stations  # its workbook generator

GOAL_P99 = 1.0

IMPORT = """
import sys, time
import django
django.setup()
from yizhan.stations.imports import import_stations
data = open(sys.argv[1], "rb").read()
start = time.perf_counter()
result = import_stations("update.xlsx", data, dry_run=False)
assert result.committed, result.errors[:3]
print(f"{time.perf_counter() - start:.2f} {result.updated}", flush=True)
"""


def update_workbook(data: bytes) -> bytes:
    """The same stations with every one changed: a new name suffix, phone, hours and a facility."""
    import io

    from openpyxl import Workbook, load_workbook

    source = load_workbook(io.BytesIO(data), read_only=True)
    book = Workbook(write_only=True)
    sheet = book.create_sheet("驿站")
    for i, row in enumerate(source.worksheets[0].iter_rows(values_only=True)):
        row = list(row)
        if i:
            row[1] = f"{row[1]}（更新）"
            row[8] = f"023-{60000000 + i}"
            row[17] = "周一至周五 08:30-18:00"
            row[19] = "无" if row[19] == "有" else "有"
        sheet.append(row)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def client(port: int, codes: list[str], stop: threading.Event, samples: list, seed: int) -> None:
    rng = random.Random(seed)
    n = 0
    while not stop.is_set():
        n += 1
        ref = f"c{seed}-{n}"
        body = json.dumps({"device": f"dev-{ref}", "request_id": ref, "services": ["water"]})
        start = time.perf_counter()
        try:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
            conn.request(
                "POST",
                f"/api/v1/stations/{rng.choice(codes)}/checkins",
                body=body,
                headers={"Content-Type": "application/json"},
            )
            status = conn.getresponse().status
            conn.close()
        except OSError:
            status = None
        samples.append((start, time.perf_counter() - start, status))
        time.sleep(0.02)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=15_000)
    parser.add_argument("--clients", type=int, default=4)
    args = parser.parse_args()
    memory = "/dev/shm" if os.path.isdir("/dev/shm") else None
    with (
        tempfile.TemporaryDirectory(prefix="yz-bench-contention-") as tmp,
        tempfile.TemporaryDirectory(prefix="yz-bench-cache-", dir=memory) as cache_dir,
    ):
        workdir = Path(tmp)
        t0 = time.perf_counter()
        env = checkins.prepare(workdir, cache_dir)
        os.environ.update(env)
        sys.path.insert(0, str(workdir))
        import django

        django.setup()
        from django.db import connection

        from yizhan.orgs.models import Unit
        from yizhan.stations.imports import import_stations as run_import
        from yizhan.stations.models import Station

        outlets = list(Unit.objects.outlets().order_by("code").values_list("code", "lat", "lng", "address"))
        created = import_stations.generate_workbook(outlets, args.rows)
        result = run_import("create.xlsx", created, dry_run=False)
        assert result.committed and result.created == args.rows, result.errors[:3]
        update = workdir / "update.xlsx"
        update.write_bytes(update_workbook(created))
        codes = list(Station.objects.values_list("code", flat=True))
        connection.close()
        print(
            f"network: {len(codes)} stations, {len(outlets)} outlets, built in {time.perf_counter() - t0:.0f} s"
        )

        port = _http.free_port()
        server = _http.start_gunicorn(env, port)
        try:
            _http.wait_ready(port, "/api/v1/open-data/", server)
            checkins.run(port, server, codes[:50], workdir / "var" / "yizhan.sqlite3", "warm-", 1.0, 4)
            samples: list = []
            stop = threading.Event()
            threads = [
                threading.Thread(target=client, args=(port, codes, stop, samples, i))
                for i in range(args.clients)
            ]
            for thread in threads:
                thread.start()
            time.sleep(1)
            begin = time.perf_counter()
            out = subprocess.run(
                [sys.executable, "-c", IMPORT, str(update)],
                env=env,
                capture_output=True,
                text=True,
                check=False,
            )
            end = time.perf_counter()
            time.sleep(1)
            stop.set()
            for thread in threads:
                thread.join()
        finally:
            _http.stop(server)
        if out.returncode:
            raise SystemExit(f"the import failed:\n{out.stderr[-2000:]}")
        seconds, updated = out.stdout.split()
        during = [(lat, status) for start, lat, status in samples if begin <= start <= end]
        latencies = sorted(lat for lat, _status in during)
        errors = [status for _lat, status in during if status != 201]
        p99 = latencies[int(0.99 * (len(latencies) - 1))] if latencies else float("nan")
        print(
            f"update import: {updated} stations updated in {float(seconds):.1f} s (process {end - begin:.1f} s)"
        )
        print(
            f"check-ins during the import: {len(during)}; answers other than 201: "
            f"{ {s: errors.count(s) for s in set(errors)} or '-' }"
        )
        if latencies:
            print(
                f"latency: median {statistics.median(latencies) * 1000:.0f} ms, "
                f"p99 {p99 * 1000:.0f} ms, max {latencies[-1] * 1000:.0f} ms"
            )
        print(f"load average: {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")
        print(
            f"import_contention: {len(errors)} errors of {len(during)} check-ins (goal 0), "
            f"p99 {p99:.2f} s = {p99 / GOAL_P99:.2f}x the {GOAL_P99:.0f} s goal"
        )


if __name__ == "__main__":
    main()
