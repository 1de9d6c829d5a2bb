"""Latency from enqueue to start on the database broker: a real `yizhan qcluster` (2 workers) on a
fresh SQLite database (or --database-url), jobs enqueued one at a time through
`yizhan.jobs.services.enqueue`, each timed from the committed enqueue to the moment its worker
claimed it (`Job.started_at`).

    .venv/bin/python bench/jobs.py [--jobs 40] [--database-url postgres://…]

Prints the median and p90 latency, then last the median's ratio to the goal of 1 s.
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


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--jobs", type=int, default=40)
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
    from yizhan.jobs import services
    from yizhan.jobs.models import Job
    from yizhan.orgs.models import Unit

    root = Unit.objects.filter(parent__isnull=True).first() or Unit.objects.create(
        code="BJ-HQ", kind="head_office", name="总行", path="/", level=0
    )
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


if __name__ == "__main__":
    main()
