"""Benchmark: the first-responder coverage figure and the national expiring-certificates list.

A generated network (15,000 outlets under 31 provinces and their cities, one station each open
Monday–Friday 09:00–17:00 on the statutory calendar, 0.5 % of the outlets closed for a fortnight),
300,000 staff on the roster (1 % on leave for a week), 2 million training results over three years
(40 people a session; one in five a first-responder course whose passes grant a certificate valid
36 months, computed by `services.expiry`), written into a temporary SQLite database with plain SQL.
Then, median of 20 runs each:

1. A province's coverage per unit down one level on a working day (`coverage.coverage`) — goal
   < 200 ms — compared with `coverage.raw_coverage`, the same figure recomputed row by row in
   Python: identical.
2. The national list of valid certificates expiring in the next 30 days (`services.expiring`)
   — goal < 500 ms — compared with a filter over every certificate in Python: identical.

Run: .venv/bin/python bench/training.py [--outlets 15000] [--staff 300000] [--results 2000000]
The last line is the figure.
"""

import argparse
import datetime
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PER_SESSION = 40


def build(args, today):
    import random

    from django.db import connection, transaction

    from yizhan.operations.models import Leave, OperatingStatus, RosterEntry
    from yizhan.orgs.models import Unit
    from yizhan.stations.models import Station
    from yizhan.training import services
    from yizhan.training.models import Certificate, Course, Enrolment, Session

    rng = random.Random(2022)
    now = datetime.datetime.now(datetime.UTC)
    with transaction.atomic():
        root = Unit.objects.create(code="HQ", kind="head_office", name="总行", path="/", level=0)
        root.path = f"/{root.pk}/"
        root.save()
        provinces = [
            Unit(code=f"P{p:02d}", kind="province", name=f"省分行{p}", parent=root, level=1)
            for p in range(31)
        ]
        Unit.objects.bulk_create(provinces)
        for prov in provinces:
            prov.path = f"{root.path}{prov.pk}/"
        Unit.objects.bulk_update(provinces, ["path"])
        cities = [
            Unit(code=f"{p.code}-C{c}", kind="city", name=f"{p.name}二级分行{c}", parent=p, level=2)
            for p in provinces
            for c in range(10)
        ]
        Unit.objects.bulk_create(cities)
        for city in cities:
            city.path = f"{city.parent.path}{city.pk}/"
        Unit.objects.bulk_update(cities, ["path"])
        per_city = args.outlets // len(cities)
        outlets = [
            Unit(code=f"{c.code}-O{o}", kind="outlet", name=f"网点{c.code}-{o}", parent=c, level=3)
            for c in cities
            for o in range(per_city)
        ]
        Unit.objects.bulk_create(outlets, batch_size=5000)
        for outlet in outlets:
            outlet.path = f"{outlet.parent.path}{outlet.pk}/"
        Unit.objects.bulk_update(outlets, ["path"], batch_size=5000)
        week = {d: [["09:00", "17:00"]] for d in ("mon", "tue", "wed", "thu", "fri")}
        Station.objects.bulk_create(
            [
                Station(
                    code=f"S{o.pk}",
                    name=f"驿站{o.pk}",
                    unit=o,
                    address="x",
                    lat=30.0,
                    lng=110.0,
                    opening_hours={"weekly": week, "statutory": True},
                )  # fmt: skip
                for o in outlets
            ],
            batch_size=5000,
        )
        fr = Course.objects.create(
            code="FR", title="应急第一响应人", hours=16, pass_mark=80, provider_kind="external", provider="急救中心",
            certificate="应急第一响应人证书", validity_months=36, first_responder=True, owner=root,
        )  # fmt: skip
        fa = Course.objects.create(
            code="FA", title="急救普及", hours=2, pass_mark=60, provider_kind="in_house", owner=root
        )
    quote = connection.ops.quote_name
    per_outlet = args.staff // len(outlets)
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.executemany(
            f"INSERT INTO {quote(RosterEntry._meta.db_table)} (unit_id, name, employee_no, position, health_desk, "  # noqa: S608
            "on_from, created_at, revision) VALUES (%s, %s, %s, '', 0, %s, %s, 1)",
            [
                (
                    o.pk,
                    f"员工{o.pk}-{i}",
                    f"E{o.pk}-{i}",
                    today - datetime.timedelta(days=rng.randint(0, 2000)),
                    now,
                )
                for o in outlets
                for i in range(per_outlet)
            ],
        )
        cursor.execute(f"SELECT id, unit_id FROM {quote(RosterEntry._meta.db_table)}")  # noqa: S608
        people = cursor.fetchall()
        leaves = []
        for entry_id, _u in rng.sample(people, len(people) // 100):
            start = today - datetime.timedelta(days=rng.randint(0, 20))
            leaves.append((entry_id, start, start + datetime.timedelta(days=6)))
        cursor.executemany(
            f"INSERT INTO {quote(Leave._meta.db_table)} (entry_id, starts_on, ends_on, note) VALUES (%s, %s, %s, '')",  # noqa: S608
            leaves,
        )
        closures = []
        for outlet in rng.sample(outlets, len(outlets) // 200):
            begin = datetime.datetime.combine(today, datetime.time(), datetime.UTC) - datetime.timedelta(
                days=rng.randint(1, 10)
            )
            closures.append(
                (outlet.pk, "closed", begin, begin + datetime.timedelta(days=14), "暂停营业", now)
            )
        cursor.executemany(
            f"INSERT INTO {quote(OperatingStatus._meta.db_table)} (unit_id, state, starts_at, ends_at, "  # noqa: S608
            "self_service_24h, notice, reason, created_at, revision) VALUES (%s, %s, %s, %s, 0, %s, '', %s, 1)",
            closures,
        )
    # Sessions over three years, each for 40 people of one city; results in bulk.
    sessions = args.results // PER_SESSION
    by_city: dict[int, list] = {}
    outlet_city = {o.pk: o.parent_id for o in outlets}
    for entry_id, unit_id in people:
        by_city.setdefault(outlet_city[unit_id], []).append((entry_id, unit_id))
    city_ids = list(by_city)
    day0 = today - datetime.timedelta(days=3 * 365)
    session_rows = []
    for n in range(sessions):
        course = fr if n % 5 == 0 else fa
        day = day0 + datetime.timedelta(days=rng.randint(0, 3 * 365 - 1))
        start = datetime.datetime.combine(day, datetime.time(1), datetime.UTC)
        session_rows.append((course.pk, city_ids[n % len(city_ids)], "external", "礼堂", "", start,
                             start + datetime.timedelta(hours=6), "", PER_SESSION + 10, now, day, course))  # fmt: skip
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.executemany(
            f"INSERT INTO {quote(Session._meta.db_table)} (course_id, unit_id, venue_kind, venue, "  # noqa: S608
            "starts_at, ends_at, trainer, capacity, created_at, revision) VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, 1)",
            [(r[0], r[1], r[2], r[3], r[5], r[6], r[7], r[8], r[9]) for r in session_rows],
        )
        cursor.execute(f"SELECT id FROM {quote(Session._meta.db_table)} ORDER BY id")  # noqa: S608
        session_ids = [r[0] for r in cursor.fetchall()]
    enrol_table, cert_table = quote(Enrolment._meta.db_table), quote(Certificate._meta.db_table)
    for start in range(0, len(session_ids), 5000):
        enrolments, certs = [], []
        for sid, row in zip(
            session_ids[start : start + 5000], session_rows[start : start + 5000], strict=True
        ):
            course, day = row[11], row[10]
            for entry_id, unit_id in rng.sample(by_city[row[1]], min(PER_SESSION, len(by_city[row[1]]))):
                grade = rng.randint(50, 100)
                status = "passed" if grade >= course.pass_mark else "failed"
                enrolments.append((sid, entry_id, unit_id, status, grade, now, now))
                if status == "passed" and course.grants_certificate:
                    certs.append(
                        (
                            entry_id,
                            unit_id,
                            course.pk,
                            sid,
                            entry_id,
                            course.certificate,
                            True,
                            day,
                            services.expiry(course, day),
                        )
                    )
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.executemany(
                f"INSERT INTO {enrol_table} (session_id, entry_id, unit_id, status, grade, marked_at, created_at) "  # noqa: S608
                "VALUES (%s, %s, %s, %s, %s, %s, %s)",
                enrolments,
            )
            cursor.executemany(
                f"INSERT INTO {cert_table} (entry_id, unit_id, course_id, enrolment_id, name, first_responder, "  # noqa: S608
                "issued_on, expires_on, withdrawn_reason) SELECT %s, %s, %s, e.id, %s, %s, %s, %s, '' "
                f"FROM {enrol_table} e WHERE e.session_id = %s AND e.entry_id = %s",
                [(c[0], c[1], c[2], c[5], c[6], c[7], c[8], c[3], c[4]) for c in certs],
            )
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    return provinces


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--outlets", type=int, default=15_000)
    parser.add_argument("--staff", type=int, default=300_000)
    parser.add_argument("--results", type=int, default=2_000_000)
    args = parser.parse_args()
    tmp = tempfile.TemporaryDirectory(prefix="yz-bench-training-")
    env = {
        **os.environ,
        "YIZHAN_VAR_DIR": tmp.name,
        "YIZHAN_SECRET_KEY": "bench-" + "x" * 50,
        "YIZHAN_LOG_LEVEL": "WARNING",
        "DJANGO_SETTINGS_MODULE": "yizhan.settings",
    }
    for name in ("DATABASE_URL", "YIZHAN_DEBUG"):
        env.pop(name, None)
    os.environ.clear()
    os.environ.update(env)
    sys.path.insert(0, str(ROOT / "src"))
    import django

    django.setup()
    from django.core.management import call_command
    from django.utils import timezone

    call_command("migrate", verbosity=0)
    from yizhan.stations import hours
    from yizhan.training import coverage as cov
    from yizhan.training import services
    from yizhan.training.models import Certificate, Enrolment

    today = timezone.localdate()
    print(
        f"generating {args.outlets:,} outlets, {args.staff:,} staff, {args.results:,} results ...", flush=True
    )
    t0 = time.monotonic()
    provinces = build(args, today)
    print(
        f"  written in {time.monotonic() - t0:.0f} s ({Enrolment.objects.count():,} results, "
        f"{Certificate.objects.count():,} certificates)",
        flush=True,
    )
    day = cov.default_day(today)
    while not hours.current_calendar().is_workday(day):
        day -= datetime.timedelta(days=1)
    province = provinces[7]
    root = province.parent

    def timed(fn, runs=20):
        times = []
        for _ in range(runs):
            t = time.perf_counter()
            result = fn()
            times.append(time.perf_counter() - t)
        return statistics.median(times) * 1000, result

    cov_ms, figure = timed(lambda: cov.coverage(province, day))
    shares_ms, shares = timed(lambda: cov.staff_shares(province, day), runs=5)
    t0 = time.monotonic()
    raw = cov.raw_coverage(province, day)
    raw_s = time.monotonic() - t0
    cov_same = cov.as_raw(figure) == raw
    exp_ms, rows = timed(lambda: services.expiring(root, within=30, today=today))
    last = today + datetime.timedelta(days=30)
    raw_rows = sorted(
        (c.expires_on, c.pk)
        for c in Certificate.objects.all().iterator(chunk_size=20000)
        if c.withdrawn_at is None and today <= c.expires_on <= last and c.issued_on <= today
    )
    exp_same = [(r[1], r[0]) for r in rows] == raw_rows
    total = figure["total"]
    print(
        f"  coverage of {province.name} on {day}: {total['covered']:,}/{total['outlets']:,} outlets covered "
        f"({total['share']} %), {len(figure['rows'])} units below; raw recomputation {raw_s:.1f} s, "
        f"{'identical' if cov_same else 'DIFFERENT'}"
    )
    print(
        f"  staff shares of the province: {shares['staff']:,} staff, {shares['trained']:,} trained, "
        f"{shares['certified']:,} certified in {shares_ms:.0f} ms"
    )
    print(
        f"  national expiring in 30 days: {len(rows):,} certificates, {'identical' if exp_same else 'DIFFERENT'}"
    )
    print(
        f"coverage one level down {cov_ms:.1f} ms (goal < 200 ms, {cov_ms / 200:.2f}x); national expiring-in-30-days "
        f"{exp_ms:.1f} ms (goal < 500 ms, {exp_ms / 500:.2f}x); identical: {cov_same and exp_same}"
    )
    if not (cov_same and exp_same):
        sys.exit(1)


if __name__ == "__main__":
    main()
