"""Benchmark: import a generated 15,000-row station workbook (xlsx), dry run and commit.

Runs on its own temporary SQLite database (DATABASE_URL is ignored, so no real database is
touched): migrates, builds the full demo org tree (1,429 outlets), writes the workbook with every column
of the import template, then times a dry run and a commit three times each (the commit against a
fresh copy of the database every time) and prints the medians. The goal (issue 3): commit under
10 s on this machine. Then times the refusal of over-cap files by the shared reader
(yizhan.core.filereader; goal under 1 s each): a zip bomb, an upload over the size cap, a
300,000-row csv and a workbook with more rows than the cap. The last lines are the figures: the
slowest refusal, then the commit median as a ratio of its goal.

    .venv/bin/python bench/import_stations.py [--rows 15000] [--runs 3]
"""

import argparse
import io
import os
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "src"))
GOAL_SECONDS = 10.0


def setup_django(var_dir: str) -> None:
    os.environ.pop("DATABASE_URL", None)
    os.environ.setdefault("YIZHAN_DEBUG", "1")
    os.environ["YIZHAN_VAR_DIR"] = var_dir
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "yizhan.settings")
    import django

    django.setup()


def build_database() -> list:
    from django.core.management import call_command
    from django.db import transaction

    from yizhan.core.demo import DemoContext
    from yizhan.orgs import demo as orgs_demo
    from yizhan.orgs.models import Unit

    call_command("migrate", verbosity=0)
    with transaction.atomic():
        orgs_demo.build(DemoContext(log=lambda msg: None))
    return list(Unit.objects.outlets().order_by("code").values_list("code", "lat", "lng", "address"))


def generate_workbook(outlets: list, rows: int, prefix: str = "BENCH") -> bytes:
    import random

    from openpyxl import Workbook

    from yizhan.core.geo import from_wgs84
    from yizhan.stations.imports import export_headers
    from yizhan.stations.models import Facility

    rng = random.Random(15000)
    facilities = list(Facility.objects.all())
    headers = export_headers(facilities)
    themes = ["", "", "little_bee", "new_citizen", "elderly", "medical_priority", "little_bee,elderly"]
    hours = [
        "周一至周五 09:00-17:00；周六至周日 09:30-16:00",
        "周一至周五 09:00-12:00,14:00-17:30",
        "周一至周五 08:30-17:30；周六 09:30-16:00",
        "24小时",
    ]
    book = Workbook(write_only=True)
    sheet = book.create_sheet("驿站")
    sheet.append(headers)
    for i in range(rows):
        code, lat, lng, address = outlets[i % len(outlets)]
        lat += rng.uniform(-0.002, 0.002)
        lng += rng.uniform(-0.002, 0.002)
        crs = "wgs84"
        if i % 3 == 1:
            lat, lng = from_wgs84(lat, lng, "gcj02")
            crs = "gcj02"
        states = []
        for facility in facilities:
            if facility.group == "basic":
                roll = rng.random()
                states.append("有" if roll < 0.9 else ("无" if roll < 0.95 else "故障"))
            else:
                states.append(rng.choice(["", "", "", "有", "无"]))
        sheet.append(
            [
                f"{prefix}-{i:05d}",
                f"测试驿站{i:05d}",
                f"Bench station {i:05d}",
                code,
                address,
                round(lat, 6),
                round(lng, 6),
                crs,
                f"023-{rng.randrange(60000000, 89999999)}",
                f"2023-{rng.randrange(1, 13):02d}-{rng.randrange(1, 29):02d}",
                "运营中",
                "",
                "",
                rng.choice(themes),
                rng.choice([4, 6, 8, 12]),
                "open",
                f"amap=B0FF{rng.randrange(100000, 999999)}",
                rng.choice(hours),
                "是",
                *states,
            ]
        )
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def over_cap_files(data: bytes) -> dict[str, bytes]:
    """Files the reader must refuse at once, each over a different cap."""
    import zipfile

    from django.conf import settings

    limits = settings.YIZHAN_IMPORT_LIMITS
    bomb = io.BytesIO()
    with zipfile.ZipFile(bomb, "w", zipfile.ZIP_DEFLATED) as archive:
        with zipfile.ZipFile(io.BytesIO(data)) as source:
            for name in source.namelist():
                archive.writestr(name, source.read(name))
        archive.writestr("xl/sharedStrings.xml", b"<sst>" + b"a" * (200 * 2**20) + b"</sst>")
    header = "驿站编码,驿站名称,网点编码\n"
    long_csv = (header + "".join(f"BENCH-{i:06d},测试驿站,CQ-SXGC\n" for i in range(300_000))).encode()
    return {
        "zip bomb (200 MB part)": bomb.getvalue(),
        f"upload over {limits['upload_bytes'] // 2**20} MB": b"a" * (limits["upload_bytes"] + 1),
        "300,000-row csv": long_csv,
    }


def long_workbook(rows: int) -> bytes:
    """Three columns, more rows than the station import's cap."""
    from openpyxl import Workbook

    book = Workbook(write_only=True)
    sheet = book.create_sheet("驿站")
    sheet.append(["驿站编码", "驿站名称", "网点编码"])
    for i in range(rows):
        sheet.append([f"LONG-{i:06d}", "测试驿站", "CQ-SXGC"])
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def time_refusals(data: bytes, xlsx_over_rows: bytes) -> list[tuple[str, float, str]]:
    from yizhan.stations.imports import import_stations

    files = {**over_cap_files(data), "workbook over the row cap": xlsx_over_rows}
    out = []
    for label, content in files.items():
        name = "bench.csv" if "csv" in label else "bench.xlsx"
        start = time.perf_counter()
        result = import_stations(name, content, dry_run=True)
        out.append((label, time.perf_counter() - start, result.errors[0].message))
        assert not result.ok
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=15_000)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()

    tmp = tempfile.mkdtemp(prefix="yizhan-bench-import-")
    try:
        setup_django(tmp)
        from django.db import connection

        from yizhan.stations.imports import import_stations

        t0 = time.perf_counter()
        outlets = build_database()
        print(f"database: {len(outlets)} outlets in {time.perf_counter() - t0:.1f} s")
        data = generate_workbook(outlets, args.rows)
        print(f"workbook: {args.rows} rows, {len(data) / 1e6:.1f} MB")

        db_file = Path(connection.settings_dict["NAME"])
        pristine = Path(tmp) / "pristine.sqlite3"
        connection.close()
        shutil.copy(db_file, pristine)

        dry, commit, cpu = [], [], []
        for run in range(args.runs):
            start = time.perf_counter()
            result = import_stations("bench.xlsx", data, dry_run=True)
            dry.append(time.perf_counter() - start)
            assert result.ok and result.created == args.rows, result.errors[:3]
            print(f"dry run {run + 1}: {dry[-1]:.2f} s")
        for run in range(args.runs):
            connection.close()
            for suffix in ("-wal", "-shm"):
                Path(f"{db_file}{suffix}").unlink(missing_ok=True)
            shutil.copy(pristine, db_file)
            marks: dict[str, float] = {}

            def progress(done, total, phase, marks=marks):
                marks.setdefault(phase, time.perf_counter())

            start, cpu_start = time.perf_counter(), time.process_time()
            result = import_stations("bench.xlsx", data, dry_run=False, progress=progress)
            commit.append(time.perf_counter() - start)
            cpu.append(time.process_time() - cpu_start)
            assert result.committed and result.created == args.rows, result.errors[:3]
            print(
                f"commit {run + 1}: {commit[-1]:.2f} s, {cpu[-1]:.2f} s of CPU (read and validate "
                f"{marks.get('write', start) - start:.2f} s, write {start + commit[-1] - marks.get('write', start):.2f} s)"
            )
        print(
            f"rows: {args.rows}; dry run median {statistics.median(dry):.2f} s; commit CPU median {statistics.median(cpu):.2f} s"
        )
        from yizhan.stations.imports import MAX_ROWS

        refusals = time_refusals(data, long_workbook(MAX_ROWS + 1))
        for label, seconds, message in refusals:
            print(f"refused {label} in {seconds:.2f} s: {message}")
        print(f"load average while running: {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")
        slowest = max(refusals, key=lambda r: r[1])
        print(f"over-cap refusal: slowest {slowest[1]:.2f} s ({slowest[0]}); goal under 1 s")
        median = statistics.median(commit)
        print(
            f"import_stations commit median {median:.2f} s for {args.rows} rows = "
            f"{median / GOAL_SECONDS:.2f}x the {GOAL_SECONDS:.0f} s goal"
        )
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
