"""Jobs on the database broker, with a real `yizhan qcluster` (2 workers) on a fresh SQLite database
(or --database-url):

1. Latency from enqueue to start: jobs enqueued one at a time through `yizhan.jobs.services.enqueue`,
   each timed from the committed enqueue to the moment its worker claimed it (`Job.started_at`).
   Goal (issue 12): median < 1 s.
2. The station import bench's commit, run as a job: the 15,000-row workbook of
   `bench/import_stations.py` (every template column, new stations) imported through the back
   office's job (`yizhan.stations.jobs.start`), timed from the enqueue to the job's end, --imports
   times (each with its own station codes). Goal: the import bench's, commit under 10 s.

    .venv/bin/python bench/jobs.py [--jobs 40] [--imports 3] [--rows 15000] [--database-url postgres://…]

Prints the latency's median and p90 and its ratio to 1 s, then the import job's figures, and last
the import job's median as a ratio of the import bench's 10 s goal.
"""

import argparse
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
GOAL_S = 1.0
IMPORT_GOAL_S = 10.0  # bench/import_stations.py: commit under 10 s


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--jobs", type=int, default=40)
    parser.add_argument("--imports", type=int, default=3)
    parser.add_argument("--rows", type=int, default=15_000)
    parser.add_argument("--database-url", default="")
    args = parser.parse_args()
    workdir = Path(tempfile.mkdtemp(prefix="yizhan-bench-jobs-"))
    env = {**os.environ, "YIZHAN_DEBUG": "1", "YIZHAN_VAR_DIR": str(workdir), "YIZHAN_WORKERS": "2",
           "PYTHONPATH": str(ROOT / "src"), "DJANGO_SETTINGS_MODULE": "yizhan.settings"}  # fmt: skip
    env.pop("DATABASE_URL", None)
    if args.database_url:
        env["DATABASE_URL"] = args.database_url
    os.environ.update(env)
    subprocess.run([BIN / "yizhan", "migrate", "--noinput", "-v0"], env=env, check=True)

    import django

    django.setup()
    from django.contrib.auth import get_user_model
    from django.db import transaction

    from yizhan.core.demo import DemoContext
    from yizhan.jobs import services
    from yizhan.jobs.models import Job
    from yizhan.orgs import demo as orgs_demo
    from yizhan.orgs.models import Unit

    if not Unit.objects.exists():
        with transaction.atomic():
            orgs_demo.build(DemoContext(log=lambda msg: None))
    root = Unit.objects.get(parent__isnull=True)
    admin = get_user_model().objects.get(username="hq_admin")
    sys.path.insert(0, str(ROOT / "bench"))
    from import_stations import generate_workbook

    outlets = list(Unit.objects.outlets().order_by("code").values_list("code", "lat", "lng", "address"))
    workbooks = [generate_workbook(outlets, args.rows, prefix=f"JOB{n}") for n in range(args.imports)]
    imports = []
    worker = subprocess.Popen([BIN / "yizhan", "qcluster"], env=env, start_new_session=True,
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)  # fmt: skip
    try:
        time.sleep(3)  # the cluster's start-up is not what is measured
        latencies = []
        for n in range(args.jobs):
            job = services.enqueue(
                "bench", "yizhan.jobs.tests.jobfuncs.noop", actor=None, unit=root, params={"n": n}
            )
            queued_at = job.created_at
            deadline = time.monotonic() + 30
            while time.monotonic() < deadline:
                started = Job.objects.filter(pk=job.pk).values_list("started_at", flat=True).first()
                if started:
                    latencies.append((started - queued_at).total_seconds())
                    break
                time.sleep(0.01)
            else:
                raise SystemExit(f"job {n} never started")
        from yizhan.stations import jobs as station_jobs

        for n, data in enumerate(workbooks):
            started = time.perf_counter()
            job = station_jobs.start(admin, root, "bench.xlsx", data, dry_run=False, token="")
            while not Job.objects.get(pk=job.pk).is_finished:
                if time.perf_counter() - started > 300:
                    raise SystemExit(f"import {n} did not finish in 5 minutes")
                time.sleep(0.05)
            job.refresh_from_db()
            seconds = time.perf_counter() - started
            if job.state != Job.State.DONE or job.result["created"] != args.rows:
                raise SystemExit(f"import {n}: {job.state} {job.error or job.result}")
            imports.append(seconds)
            run = (job.finished_at - job.started_at).total_seconds()
            print(
                f"station import job {n + 1}: {seconds:.2f} s from enqueue to done ({run:.2f} s in the worker)"
            )
    finally:
        os.killpg(worker.pid, signal.SIGTERM)
        try:
            worker.wait(timeout=15)
        except subprocess.TimeoutExpired:
            os.killpg(worker.pid, signal.SIGKILL)
    median = statistics.median(latencies)
    p90 = statistics.quantiles(latencies, n=10)[-1]
    print(f"{len(latencies)} jobs on the {'PostgreSQL' if args.database_url else 'SQLite'} broker: "
          f"median {median * 1000:.0f} ms, p90 {p90 * 1000:.0f} ms from enqueue to start")  # fmt: skip
    print(f"median / goal {GOAL_S:.0f} s: {median / GOAL_S:.2f}")
    if imports:
        print(f"load average: {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")
        job_median = statistics.median(imports)
        print(
            f"station import ({args.rows} rows) as a job: median {job_median:.2f} s from enqueue to done = "
            f"{job_median / IMPORT_GOAL_S:.2f}x the import bench's {IMPORT_GOAL_S:.0f} s goal"
        )


if __name__ == "__main__":
    main()
