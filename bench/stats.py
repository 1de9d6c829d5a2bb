"""Statistics from rollups: 10 million check-ins over a year across the demo network (1,429
stations), and a province's visits by month and group, answered from the monthly rollups and,
as the peer, by a raw GROUP BY over the check-in table. Both answers must be identical.

    .venv/bin/python bench/stats.py [--rows 10000000] [--repeat 15]

Works in a temporary SQLite file. The org tree and stations come from the demo; the check-ins
are generated in SQL (a recursive counter joined to small lookup tables, station by station so
the (station, day) index grows at its end); the rollups are then computed from them with
`yizhan.visits.rollups.rebuild`, the same code the demo uses. Prints the medians, then last the
rollup answer's speed as a ratio against the raw GROUP BY.
"""

import argparse
import datetime
import os
import secrets
import statistics
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
YEAR = 2025
PROVINCE = "SD"  # Shandong: 880 of the 1,429 demo stations
GOAL_MS = 200.0


def setup_django(workdir: Path) -> None:
    os.environ.update(
        {
            "YIZHAN_VAR_DIR": str(workdir),
            "YIZHAN_SECRET_KEY": secrets.token_urlsafe(40),
            "YIZHAN_DEBUG": "",
            "YIZHAN_SSL_REDIRECT": "0",
            "DJANGO_SETTINGS_MODULE": "yizhan.settings",
        }
    )
    os.environ.pop("DATABASE_URL", None)
    sys.path.insert(0, str(ROOT / "src"))
    import django

    django.setup()


def build_network() -> None:
    from django.core.management import call_command
    from django.db import transaction

    from yizhan.core.demo import DemoContext
    from yizhan.orgs import demo as orgs_demo
    from yizhan.stations import demo as stations_demo

    call_command("migrate", verbosity=0)
    ctx = DemoContext(log=lambda msg: None)
    with transaction.atomic():
        orgs_demo.build(ctx)
        stations_demo.build(ctx)


def generate(rows: int) -> None:
    """`rows` check-ins spread over the stations and the days of YEAR, in one INSERT … SELECT."""
    from django.db import connection, transaction

    from yizhan.visits.models import GROUP_CODES

    groups = [*GROUP_CODES, ""]
    first = datetime.date(YEAR, 1, 1)
    days = [(first + datetime.timedelta(days=i)).isoformat() for i in range(365)]
    with connection.cursor() as c:
        # A big page cache while writing ten million rows; set outside any transaction.
        c.execute("PRAGMA cache_size = -262144")
        c.execute("PRAGMA temp_store = MEMORY")
    with transaction.atomic(), connection.cursor() as c:
        c.execute("CREATE TEMP TABLE b_station (idx INTEGER PRIMARY KEY, id INTEGER)")
        c.execute(
            "INSERT INTO b_station (idx, id) SELECT ROW_NUMBER() OVER (ORDER BY id) - 1, id FROM stations_station"
        )
        c.execute("SELECT COUNT(*) FROM b_station")
        n_stations = c.fetchone()[0]
        c.execute("CREATE TEMP TABLE b_day (idx INTEGER PRIMARY KEY, day TEXT)")
        c.executemany("INSERT INTO b_day VALUES (%s, %s)", list(enumerate(days)))
        # Local hours 08–23; `at` is stored in UTC (Shanghai is UTC+8 all year).
        c.execute("CREATE TEMP TABLE b_hour (idx INTEGER PRIMARY KEY, hour INTEGER, utc TEXT)")
        c.executemany(
            "INSERT INTO b_hour VALUES (%s, %s, %s)", [(i, 8 + i, f" {i:02d}:30:00") for i in range(16)]
        )
        c.execute("CREATE TEMP TABLE b_group (idx INTEGER PRIMARY KEY, code TEXT)")
        c.executemany("INSERT INTO b_group VALUES (%s, %s)", list(enumerate(groups)))
        c.execute(
            f"""
            INSERT INTO visits_checkin (station_id, at, day, hour, "group", services, ref)
            WITH RECURSIVE n(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM n WHERE i + 1 < {int(rows)})
            SELECT s.id, d.day || h.utc, d.day, h.hour, g.code, r.y / 16 % 256, NULL
            FROM (SELECT i, abs(random()) AS x, abs(random()) AS y FROM n) AS r
            JOIN b_station s ON s.idx = (r.i * {n_stations}) / {int(rows)}
            JOIN b_day d ON d.idx = r.x % 365
            JOIN b_hour h ON h.idx = (r.x / 365) % 16
            JOIN b_group g ON g.idx = r.y % {len(groups)}
            """  # noqa: S608
        )


def rollup_answer(province) -> dict:
    from yizhan.visits.stats import province_by_month_and_group

    return province_by_month_and_group(province, YEAR)


def raw_answer(province) -> dict:
    """The peer: the same question as a GROUP BY over every check-in of the province's year."""
    from django.db import connection

    with connection.cursor() as c:
        c.execute(
            """
            SELECT CAST(strftime('%%m', ci.day) AS INTEGER), ci."group", COUNT(*)
            FROM visits_checkin ci
            JOIN stations_station s ON s.id = ci.station_id
            JOIN orgs_unit u ON u.id = s.unit_id
            WHERE u.path LIKE %s AND ci.day BETWEEN %s AND %s
            GROUP BY 1, 2
            """,
            [province.path + "%", f"{YEAR}-01-01", f"{YEAR}-12-31"],
        )
        return {(month, group): n for month, group, n in c.fetchall()}


def timed(fn, *args) -> tuple[float, object]:
    started = time.perf_counter()
    result = fn(*args)
    return (time.perf_counter() - started) * 1000, result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=10_000_000)
    parser.add_argument("--repeat", type=int, default=15, help="timed runs of the rollup query")
    parser.add_argument("--raw-repeat", type=int, default=3, help="timed runs of the raw GROUP BY")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="yz-bench-stats-") as tmp:
        setup_django(Path(tmp))
        from django.db import connection, transaction

        from yizhan.orgs.models import Unit
        from yizhan.stations.models import Station
        from yizhan.visits import rollups
        from yizhan.visits.models import CheckIn

        t0 = time.perf_counter()
        build_network()
        print(f"demo network: {time.perf_counter() - t0:.1f} s", flush=True)
        t0 = time.perf_counter()
        generate(args.rows)
        print(
            f"{CheckIn.objects.count():,} check-ins generated in {time.perf_counter() - t0:.1f} s", flush=True
        )
        t0 = time.perf_counter()
        with transaction.atomic():
            rollups.rebuild()
        print(f"rollups computed from them in {time.perf_counter() - t0:.1f} s", flush=True)
        with connection.cursor() as c:
            c.execute("ANALYZE")
        connection.close()  # the timed queries start from a fresh connection and a cold statement cache

        province = Unit.objects.get(code=PROVINCE)
        rollup_ms, raw_ms = [], []
        answer = None
        for _ in range(args.repeat):
            ms, answer = timed(rollup_answer, province)
            rollup_ms.append(ms)
        peer = None
        for _ in range(args.raw_repeat):
            ms, peer = timed(raw_answer, province)
            raw_ms.append(ms)
        identical = answer == peer
        total = sum(peer.values())
        print(
            f"{province.name} ({Station.objects.subtree(province).count()} stations): "
            f"{total:,} check-ins in {YEAR}, {len(peer)} (month, group) cells"
        )
        by_group = Counter()
        for (_month, group), n in answer.items():
            by_group[group or "not said"] += n
        print("by group:", dict(by_group.most_common()))
        print(f"raw GROUP BY (peer): median {statistics.median(raw_ms):.0f} ms over {len(raw_ms)} runs")
        print(
            f"rollups: median {statistics.median(rollup_ms):.1f} ms over {len(rollup_ms)} runs "
            f"(goal < {GOAL_MS:.0f} ms: {statistics.median(rollup_ms) < GOAL_MS}); answers identical: {identical}"
        )
        print(
            f"rollups {statistics.median(rollup_ms):.1f} ms vs raw GROUP BY {statistics.median(raw_ms):.0f} ms: "
            f"{statistics.median(raw_ms) / statistics.median(rollup_ms):.0f}x faster"
        )
        if not identical:
            raise SystemExit(1)


if __name__ == "__main__":
    main()
