"""Fan one message out to 100,000 opted-in members of the public (Shandong's outlets) through
the outbox backend, then deliver it with real workers (`yizhan qcluster`, 2 worker processes),
SIGKILLing the cluster half-way and starting a new one.

    .venv/bin/python bench/notify.py [--recipients 100000] [--database-url postgres://…]

Without --database-url it runs on a fresh SQLite database in a temporary folder. Consent, mutes,
quiet hours (switched off for the run: it would hold everything at night), caps and the
de-duplication key are all checked as in production. Prints: the time to queue (goal < 10 s),
the delivery rate (goal ≥ 1,000 messages/s), lost and duplicate messages (goal 0), and last the
ratio of the delivery rate to its goal.
"""

import argparse
import os
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
GOAL_QUEUE_S = 10.0
GOAL_RATE = 1000.0


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--recipients", type=int, default=100_000)
    parser.add_argument("--database-url", default="")
    args = parser.parse_args()
    workdir = Path(tempfile.mkdtemp(prefix="yizhan-bench-notify-"))
    env = {
        **os.environ, "YIZHAN_DEBUG": "1", "YIZHAN_VAR_DIR": str(workdir), "YIZHAN_WORKERS": "2",
        "YIZHAN_NOTIFY_QUIET_FROM": "0", "YIZHAN_NOTIFY_QUIET_UNTIL": "0",
        "YIZHAN_NOTIFY_SENDING_LEASE_SECONDS": "3", "PYTHONPATH": str(ROOT / "src"),
    }  # fmt: skip
    env.pop("DATABASE_URL", None)
    if args.database_url:
        env["DATABASE_URL"] = args.database_url
    os.environ.update(env)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "yizhan.settings")
    subprocess.run([BIN / "yizhan", "migrate", "--noinput", "-v0"], env=env, check=True)

    import django

    django.setup()
    from django.utils import timezone

    from yizhan.notify import services
    from yizhan.notify.models import Consent, Message
    from yizhan.orgs.models import Unit

    Message.objects.all().delete()
    Consent.objects.all().delete()
    Unit.objects.filter(code__startswith="BN-").delete()
    root = Unit.objects.create(code="BN-SD", kind="provincial_branch", name="山东省分行", path="", level=1)
    root.path = f"/{root.pk}/"
    root.save()
    outlets = []
    for i in range(100):
        u = Unit.objects.create(code=f"BN-{i:03d}", kind="outlet", name=f"网点{i}", parent=root, path="", level=2,
                                address="济南", lat=36.6, lng=117.0)  # fmt: skip
        u.path = f"{root.path}{u.pk}/"
        u.save(update_fields=["path"])
        outlets.append(u)
    phones = [f"139{n:08d}" for n in range(args.recipients)]
    now = timezone.now()
    Consent.objects.bulk_create(
        [Consent(address=p, topic="pension-day", given_at=now, how="bench", unit=outlets[n % 100]) for n, p in enumerate(phones)],
        batch_size=5000,
    )  # fmt: skip
    recipients = [services.public(p, outlets[n % 100]) for n, p in enumerate(phones)]

    started = time.perf_counter()
    summary = services.notify(recipients, "pension-day", {"outlet": "网点", "date": "12月2日", "window": "10:00-11:00"},
                              key="bench")  # fmt: skip
    queue_s = time.perf_counter() - started
    assert summary.queued == args.recipients, summary
    # notify() kicked delivery on commit; the broker holds those runs for the workers below.
    again = services.notify(recipients[:1000], "pension-day", {"outlet": "网点", "date": "12月2日", "window": "10:00-11:00"},
                            key="bench")  # fmt: skip

    def delivered():
        return Message.objects.filter(state="delivered").count()

    def cluster():
        return subprocess.Popen([BIN / "yizhan", "qcluster"], env=env, start_new_session=True,
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)  # fmt: skip

    worker = cluster()
    t0 = time.perf_counter()
    while delivered() < args.recipients // 2:
        time.sleep(0.05)
    os.killpg(worker.pid, signal.SIGKILL)
    worker.wait()
    killed_at = delivered()
    from django_q.tasks import async_task

    worker = cluster()
    for _n in range(
        2
    ):  # the killed cluster's runs died with it; the scheduler would start one within a minute
        async_task("yizhan.notify.services.deliver_due", save=False)
    while delivered() < args.recipients and time.perf_counter() - t0 < 600:
        time.sleep(0.05)
    elapsed = time.perf_counter() - t0
    os.killpg(worker.pid, signal.SIGTERM)
    try:
        worker.wait(timeout=15)
    except subprocess.TimeoutExpired:
        os.killpg(worker.pid, signal.SIGKILL)
    total = delivered()
    lost = args.recipients - total
    duplicates = Message.objects.count() - args.recipients
    rate = total / elapsed
    print(f"recipients: {args.recipients}, database: {'PostgreSQL' if args.database_url else 'SQLite'}")
    print(
        f"queued in {queue_s:.2f} s (goal < {GOAL_QUEUE_S:.0f} s); the same occasion again: {again.duplicates} duplicates refused"
    )
    print(
        f"delivered {total} in {elapsed:.1f} s with 2 workers, cluster SIGKILLed at {killed_at}: {rate:.0f} messages/s"
    )
    print(f"lost: {lost}, duplicates: {duplicates}")
    print(f"delivery rate / goal {GOAL_RATE:.0f}/s: {rate / GOAL_RATE:.2f}")


if __name__ == "__main__":
    main()
