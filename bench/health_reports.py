"""Benchmark: daily health-report completeness from the rollups, and report submission over HTTP.

A generated network (15,000 outlets under 31 provinces and their cities, 300,000 staff on the
roster, 1 % of them on leave for a week, 0.5 % of the outlets closed for a fortnight) with 90 days
of reports (about 95 % of those expected, 5 % of them late), written into a temporary SQLite
database with plain SQL; the rollups of each day are written by `health.open_day`, the verb the
morning job runs. Then:

1. A province's completeness per unit down one level, for one day and for a month, from the
   rollups (`health.completeness`), median of 20 runs each — goal < 200 ms — and compared with
   the raw count that applies the same denominator (`health.raw_completeness`): identical.
2. Report submission over HTTP: gunicorn with 2 sync workers and the real middleware, a client
   in a second process keeping 8 POSTs in flight (`/api/v1/manage/operations/health/reports`, the
   province's desk reporting for today), one worker SIGKILLed half-way; requests that got no answer
   are sent again (a report saved twice is a correction, not a second report). Goal ≥ 300/s and
   0 lost: every person acknowledged has exactly one report and the rollups equal the raw count.

Run: .venv/bin/python bench/health_reports.py [--outlets 15000] [--staff 300000] [--days 90]
The last line is the figure.
"""

import argparse
import datetime
import json
import os
import signal
import statistics
import tempfile
import time

import _http


def build(args, today):
    """The network, roster, leave, closures and reports, with plain SQL; returns the province."""
    import random

    from django.db import connection, transaction

    from yizhan.operations.models import HealthReport, Leave, OperatingStatus, RosterEntry
    from yizhan.orgs.models import Unit

    rng = random.Random(2021)
    now = datetime.datetime.now(datetime.UTC)
    days = [today - datetime.timedelta(days=i) for i in range(args.days)]
    first_day = days[-1]
    with transaction.atomic():
        root = Unit.objects.create(code="HQ", kind="head_office", name="总行", path="/", level=0)
        root.path = f"/{root.pk}/"
        root.save()
        provinces, cities, outlets = [], [], []
        for p in range(31):
            prov = Unit(code=f"P{p:02d}", kind="province", name=f"省分行{p}", parent=root, level=1)
            provinces.append(prov)
        Unit.objects.bulk_create(provinces)
        for prov in provinces:
            prov.path = f"{root.path}{prov.pk}/"
        Unit.objects.bulk_update(provinces, ["path"])
        for prov in provinces:
            for c in range(10):
                cities.append(
                    Unit(
                        code=f"{prov.code}-C{c}",
                        kind="city",
                        name=f"{prov.name}二级分行{c}",
                        parent=prov,
                        level=2,
                    )
                )
        Unit.objects.bulk_create(cities)
        for city in cities:
            city.path = f"{city.parent.path}{city.pk}/"
        Unit.objects.bulk_update(cities, ["path"])
        per_city = args.outlets // len(cities)
        for city in cities:
            for o in range(per_city):
                outlets.append(
                    Unit(
                        code=f"{city.code}-O{o}",
                        kind="outlet",
                        name=f"网点{city.code}-{o}",
                        parent=city,
                        level=3,
                    )
                )
        Unit.objects.bulk_create(outlets, batch_size=5000)
        for outlet in outlets:
            outlet.path = f"{outlet.parent.path}{outlet.pk}/"
        Unit.objects.bulk_update(outlets, ["path"], batch_size=5000)
    per_outlet = args.staff // len(outlets)
    quote = connection.ops.quote_name
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.executemany(
            f"INSERT INTO {quote(RosterEntry._meta.db_table)} (unit_id, name, employee_no, position, health_desk, "  # noqa: S608
            "on_from, created_at, revision) VALUES (%s, %s, '', '', %s, %s, %s, 1)",
            [
                (o.pk, f"员工{o.pk}-{i}", False, first_day - datetime.timedelta(days=30), now)
                for o in outlets
                for i in range(per_outlet)
            ],
        )
        cursor.execute(f"SELECT id FROM {quote(RosterEntry._meta.db_table)}")  # noqa: S608
        entry_ids = [r[0] for r in cursor.fetchall()]
        leaves = []
        for entry_id in rng.sample(entry_ids, len(entry_ids) // 100):
            start = rng.choice(days)
            leaves.append((entry_id, start, start + datetime.timedelta(days=6)))
        cursor.executemany(
            f"INSERT INTO {quote(Leave._meta.db_table)} (entry_id, starts_on, ends_on, note) VALUES (%s, %s, %s, '')",  # noqa: S608
            leaves,
        )
        closures = []
        for outlet in rng.sample(outlets, len(outlets) // 200):
            start = rng.choice(days)
            begin = datetime.datetime.combine(start, datetime.time(), datetime.UTC) - datetime.timedelta(
                hours=8
            )
            closures.append((outlet.pk, "closed", begin, begin + datetime.timedelta(days=14), "封控", now))
        cursor.executemany(
            f"INSERT INTO {quote(OperatingStatus._meta.db_table)} (unit_id, state, starts_at, ends_at, "  # noqa: S608
            "self_service_24h, notice, reason, created_at, revision) VALUES (%s, %s, %s, %s, 0, %s, '', %s, 1)",
            closures,
        )
    # Reports: ~95 % of the people each day (yesterday and before), 5 % of them late, in one
    # INSERT … SELECT per day, committed day by day (the WAL is checkpointed as it goes); some
    # land on days people were not expected (kept, not counted).
    table = quote(HealthReport._meta.db_table)
    roster = quote(RosterEntry._meta.db_table)
    from yizhan.stations import hours

    calendar = hours.load_calendar()
    for n, day in enumerate(days[1:], start=1):
        if not calendar.is_workday(day):
            continue
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(
                f"INSERT INTO {table} (entry_id, unit_id, day, temperature, symptoms, travelled, travel_note, "  # noqa: S608
                "isolation, late, counted, submitted_at, backfill_reason) "
                f"SELECT id, unit_id, %s, 36.5, '[]', 0, '', 'none', ((id * 7 + %s) %% 20 = 0), 0, %s, '' "
                f"FROM {roster} WHERE (id * 13 + %s) %% 20 <> 0",
                [day, n, now, n * 3],
            )
    return days, provinces, outlets


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--outlets", type=int, default=15_000)
    parser.add_argument("--staff", type=int, default=300_000)
    parser.add_argument("--days", type=int, default=90)
    parser.add_argument("--submissions", type=int, default=6000)
    parser.add_argument("--concurrency", type=int, default=8)
    args = parser.parse_args()
    started = time.monotonic()

    tmp = tempfile.TemporaryDirectory(prefix="yz-bench-health-")
    env = _http.production_env(tmp.name)
    _http.setup_django(env)
    from django.core.management import call_command
    from django.utils import timezone

    from yizhan.operations import health
    from yizhan.operations.models import HealthDay, HealthReport, RosterEntry
    from yizhan.orgs.models import Membership
    from yizhan.orgs.services import create_api_token

    call_command("migrate", verbosity=0)
    today = timezone.localdate()
    from yizhan.stations.models import HolidayDate

    if not health._calendar().is_workday(today):  # the submissions should count
        HolidayDate.objects.update_or_create(date=today, defaults={"kind": "work", "name": "基准调休"})
    print(
        f"generating {args.outlets:,} outlets, {args.staff:,} staff, {args.days} days of reports ...",
        flush=True,
    )
    t0 = time.monotonic()
    days, provinces, _outlets = build(args, today)
    print(
        f"  written in {time.monotonic() - t0:.0f} s ({HealthReport.objects.count():,} reports)", flush=True
    )
    t0 = time.monotonic()
    for day in days:
        health.open_day(day)
    print(
        f"  rollups of {len(days)} days in {time.monotonic() - t0:.0f} s ({HealthDay.objects.count():,} rows)",
        flush=True,
    )

    province = provinces[7]
    calendar = health._calendar()
    day = next(d for d in days[1:] if calendar.is_workday(d))  # a day people were expected
    month_start, month_end = days[min(32, len(days) - 1)], days[3]

    def timed(fn, runs=20):
        times = []
        for _ in range(runs):
            t = time.perf_counter()
            result = fn()
            times.append(time.perf_counter() - t)
        return statistics.median(times) * 1000, result

    day_ms, day_rows = timed(lambda: health.completeness(province, day, day))
    month_ms, month_rows = timed(lambda: health.completeness(province, month_start, month_end))
    t0 = time.monotonic()
    raw_day = health.raw_completeness(province, day, day)
    raw_month = health.raw_completeness(province, month_start, month_end)
    raw_s = time.monotonic() - t0
    mismatches = sum(
        (r["expected"], r["on_time"], r["late"]) != raw[r["unit"].pk]
        for rows, raw in ((day_rows, raw_day), (month_rows, raw_month))
        for r in rows
    )
    print(
        f"province {province.code} per unit down one level: one day {day_ms:.1f} ms, a month (30 days) "
        f"{month_ms:.1f} ms (medians of 20); the raw count took {raw_s:.1f} s; mismatches: {mismatches}",
        flush=True,
    )
    print(f"  {day_rows[0]['expected']:,} expected that day, {day_rows[0]['missing']:,} missing", flush=True)

    # --- HTTP submission ---------------------------------------------------------------------
    from django.contrib.auth import get_user_model

    desk_user = get_user_model().objects.create_user("bench_desk", password="x-long-password-1")
    Membership.objects.create(user=desk_user, unit=province, role="viewer")
    RosterEntry.objects.create(
        unit=province, name="基准专员", user=desk_user, health_desk=True, on_from=days[-1]
    )
    _token, raw_token = create_api_token(user=desk_user, name="bench")
    health.open_day(today)
    people = list(
        RosterEntry.objects.filter(unit__path__startswith=province.path, unit__kind="outlet")
        .order_by("pk")
        .values_list("pk", flat=True)[: args.submissions]
    )
    bodies = [json.dumps({"entry": pk, "temperature": 36.4 + (pk % 5) / 10}) for pk in people]
    path, headers = "/api/v1/manage/operations/health/reports", {"Authorization": f"Bearer {raw_token}"}
    requests = [("POST", path, headers, body) for body in bodies]
    port = _http.free_port()
    server = _http.start_gunicorn(env, port)  # --preload, as the README runs it
    try:
        _http.wait_ready(port, "/api/v1/open-data/", server)
        cpu_before = _http.worker_cpu_seconds(server.pid)
        client = _http.Load(port, requests, concurrency=args.concurrency)
        # Half-way through, one worker dies without a chance to clean up.
        time.sleep(2.0)
        workers = _http.worker_pids(server.pid)
        if killed := bool(workers):
            os.kill(workers[0], signal.SIGKILL)
        result = client.result()
        server_ms = (_http.worker_cpu_seconds(server.pid) - cpu_before) * 1000 / len(bodies)
        status = dict(enumerate(result["statuses"]))
        rate = len(bodies) / result["elapsed"]
        unanswered = [i for i, code in status.items() if code != 201]
        if unanswered:
            second = _http.load(port, [requests[i] for i in unanswered], concurrency=2)["statuses"]
            status.update(zip(unanswered, second, strict=True))
        resent = len(unanswered)
    finally:
        _http.stop(server)
    acknowledged = {people[i] for i, code in status.items() if code == 201}
    stored = set(
        HealthReport.objects.filter(day=today, entry_id__in=people).values_list("entry_id", flat=True)
    )
    lost = len(acknowledged - stored)
    per_entry = (
        HealthReport.objects.filter(day=today, entry_id__in=people).values("entry_id").distinct().count()
    )
    row = HealthDay.objects.get(unit=province, day=today)
    raw_today = health.raw_completeness(province, today, today)[province.pk]
    rollup_ok = (row.expected, row.on_time, row.late) == raw_today
    print(
        f"submission: {len(bodies):,} reports in {result['elapsed']:.1f} s = {rate:.0f}/s with {args.concurrency} in "
        f"flight ({_http.WORKERS} workers{', one SIGKILLed' if killed else ''}; server CPU {server_ms:.2f} ms per report, "
        f"the replacement's start included); "
        f"{resent} resent after no answer; "
        f"acknowledged {len(acknowledged):,}, stored {per_entry:,}, lost {lost}; rollups = raw count: {rollup_ok}",
        flush=True,
    )
    print(f"total bench time {time.monotonic() - started:.0f} s")
    print(
        f"FIGURE health reports ({args.outlets:,} outlets, {args.staff:,} staff, {args.days} days): a province's "
        f"completeness per unit down one level {day_ms:.1f} ms for a day and {month_ms:.1f} ms for {(month_end - month_start).days + 1} days = "
        f"{max(day_ms, month_ms) / 200:.2f}× the 200 ms goal, {mismatches} mismatches with the raw count; "
        f"HTTP submission {rate:.0f}/s = {rate / 300:.2f}× the 300/s goal, {lost} lost under a SIGKILLed worker"
    )


if __name__ == "__main__":
    main()
