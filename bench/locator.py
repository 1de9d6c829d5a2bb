"""Benchmark: the locator's nearest-station index at national scale.

A generated network of 200,000 stations clustered around 300 cities (plus a rural 8 %), with
the facility catalogue, themes and bank-outlet hours; 5,000 queries, 90 % near a city.

- nearest-10 plain, and nearest-10 with 1–2 facilities plus open-now, through the index;
- the same points in a raw scipy cKDTree (the floor the issue names; the index itself uses
  pykdtree, whose single queries cost less, and grid-cell lists for points asked about before);
- PostGIS `ORDER BY geog <-> point LIMIT 10` on the same points (a temporary database on the
  local PostgreSQL; install `postgresql-15-postgis-3` when the extension is missing);
- index build time and memory from arrays, and the full rebuild from a SQLite database;
- correctness: identical results to a brute-force haversine on 300 random queries;
- mobile stations (issue 17): 10,000 vans with 60 days of visits (a van visits a few sites of its
  city on a few weekdays): nearest-10 with open now with and without them (goal: median ≤ 1.2×),
  and the merged answer against brute force at random moments, visits in progress or not.

Run: .venv/bin/python bench/locator.py [--stations 200000] [--queries 5000]
The last line is the figure: medians and the ratios against cKDTree and PostGIS.
"""

import argparse
import datetime
import gc
import json
import os
import random
import statistics
import sys
import tempfile
import time
import tracemalloc
import zoneinfo
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "src"))

SHANGHAI = zoneinfo.ZoneInfo("Asia/Shanghai")
# A Wednesday late morning: most outlets open, the 24/7 ones and the closed ones mixed in.
QUERY_TIME = datetime.datetime(2026, 6, 17, 11, 30, tzinfo=SHANGHAI)
# Facilities people filter on, with how common they are across the network.
PREVALENCE = {
    "air_conditioning": 0.97,
    "seating": 0.98,
    "drinking_water": 0.96,
    "phone_charging": 0.93,
    "wifi": 0.9,
    "public_education": 0.9,
    "note_checker": 0.88,
    "reading_glasses": 0.8,
    "restroom": 0.45,
    "first_aid_kit": 0.35,
    "wheelchair": 0.2,
    "mother_baby_room": 0.06,
    "tea_stand": 0.15,
    "priority_seats": 0.3,
    "magnifier": 0.25,
    "book_corner": 0.1,
    "sun_sleeves": 0.03,
}
WANTED = [
    "drinking_water",
    "phone_charging",
    "restroom",
    "wifi",
    "air_conditioning",
    "seating",
    "first_aid_kit",
    "wheelchair",
    "mother_baby_room",
    "reading_glasses",
]
DEADLINE_S = 240


def rss_bytes() -> int:
    with open("/proc/self/statm") as fh:
        return int(fh.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


def haversine_m(lat1, lng1, lat2, lng2):
    from yizhan.core.geo import EARTH_RADIUS_M

    p1, p2 = np.radians(lat1), np.radians(lat2)
    dp, dl = p2 - p1, np.radians(lng2 - lng1)
    a = np.sin(dp / 2) ** 2 + np.cos(p1) * np.cos(p2) * np.sin(dl / 2) ** 2
    return 2 * EARTH_RADIUS_M * np.arcsin(np.sqrt(a))


# --- the generated network ----------------------------------------------------------------------


def generate(n: int, seed: int = 2023):
    rng = np.random.default_rng(seed)
    n_cities = 300
    # Cities mostly in the populous east and south; sizes follow a Zipf-like law.
    city_lat = np.concatenate([rng.uniform(22, 41, 240), rng.uniform(25, 47, 60)])
    city_lng = np.concatenate([rng.uniform(104, 122, 240), rng.uniform(86, 128, 60)])
    weights = 1.0 / np.arange(1, n_cities + 1) ** 0.9
    weights /= weights.sum()
    spread_km = 4 + 25 * (weights / weights.max()) ** 0.5
    rural = int(n * 0.08)
    city_of = rng.choice(n_cities, size=n - rural, p=weights)
    lat = np.empty(n)
    lng = np.empty(n)
    sd = spread_km[city_of] / 111.0
    lat[: n - rural] = city_lat[city_of] + rng.normal(0, 1, n - rural) * sd
    lng[: n - rural] = city_lng[city_of] + rng.normal(0, 1, n - rural) * sd / np.cos(
        np.radians(city_lat[city_of])
    )
    lat[n - rural :] = rng.uniform(21, 48, rural)
    lng[n - rural :] = rng.uniform(84, 130, rural)
    lat = np.clip(lat, 18.5, 53)
    lng = np.clip(lng, 74, 134)
    return rng, city_lat, city_lng, spread_km, weights, lat, lng


def hours_json(r: random.Random) -> dict:
    roll = r.random()
    if roll < 0.05:
        return {"weekly": {}, "always_open": True, "statutory": False, "exceptions": []}
    if roll < 0.2:
        workday = [["09:00", "12:00"], ["14:00", "17:30"]]
    elif roll < 0.6:
        workday = [["09:00", "17:00"]]
    else:
        workday = [["08:30", "17:30"]]
    weekend = [["09:30", "16:00"]] if r.random() < 0.6 else []
    weekly = dict.fromkeys(("mon", "tue", "wed", "thu", "fri"), workday)
    weekly.update({"sat": weekend, "sun": weekend if r.random() < 0.5 else []})
    return {"weekly": weekly, "always_open": False, "statutory": r.random() < 0.95, "exceptions": []}


def station_rows(n, lat, lng, facility_codes, theme_codes, seed=2023):
    """Everything the database and the index need, as plain Python and numpy."""
    r = random.Random(seed)
    hour_choices = [json.dumps(hours_json(r), separators=(",", ":")) for _ in range(40)]
    rng = np.random.default_rng(seed + 1)
    facility_states = {}  # code -> (yes, no, out of order) boolean arrays; no row = unknown
    from yizhan.stations.catalogue import BASIC_EIGHT

    basic = set(BASIC_EIGHT)
    for code in facility_codes:
        p = PREVALENCE.get(code, 0.02)
        roll = rng.random(n)
        yes = roll < p
        # The basic eight are checked everywhere (a row even when missing); the rest mostly
        # have a row only where the outlet offers it.
        no = ~yes & (roll < p + (1 - p) * (0.7 if code in basic else 0.05))
        broken = yes & (rng.random(n) < 0.01)
        facility_states[code] = (yes, no, broken)
    theme_roll = rng.random(n)
    themes = np.where(theme_roll < 0.04, 0, np.where(theme_roll < 0.1, 1, np.where(theme_roll < 0.13, 2, -1)))
    status = np.where(rng.random(n) < 0.01, "temporarily_closed", "active")
    hours_pick = rng.integers(0, len(hour_choices), n)
    text = {
        "code": [f"B{i:06d}" for i in range(n)],
        "name": [f"第{i % 997}号网点{i // 997}支行驿站" for i in range(n)],
        "name_en": [f"Outlet {i} station" for i in range(n)],
        "address": [f"某某省某某市某某区人民路{i % 400}号" for i in range(n)],
        "phone": [f"0{(i % 900) + 100}-{6000_0000 + i}" for i in range(n)],
        "public_notice": ["暂停开放，装修中" if s == "temporarily_closed" else "" for s in status],
    }
    return {
        "facility_states": facility_states,
        "themes": themes,
        "theme_codes": theme_codes,
        "status": status,
        "hours": [hour_choices[i] for i in hours_pick],
        "text": text,
    }


def index_rows(n, lat, lng, data, catalogue):
    from yizhan.locator.index import BITS_PER_WORD, STATUS_CODES, Rows
    from yizhan.stations import hours

    words = catalogue.words
    yes = np.zeros((n, words), dtype=np.uint64)
    no = np.zeros((n, words), dtype=np.uint64)
    broken = np.zeros((n, words), dtype=np.uint64)
    for position, code in enumerate(catalogue.facilities):
        w, bit = divmod(position, BITS_PER_WORD)
        y, o, b = data["facility_states"][code]
        yes[y, w] |= np.uint64(1 << bit)
        no[o, w] |= np.uint64(1 << bit)
        broken[b, w] |= np.uint64(1 << bit)
    themes = np.where(data["themes"] >= 0, np.left_shift(1, np.maximum(data["themes"], 0)), 0).astype(
        np.uint64
    )
    keys = [(status, "", text) for text, status in zip(data["hours"], data["status"], strict=True)]
    compiled = {key: hours.Schedule.from_station(json.loads(key[2]), key[0], None) for key in set(keys)}
    return Rows(
        ids=np.arange(1, n + 1, dtype=np.int64),
        lat=lat,
        lng=lng,
        yes=yes,
        no=no,
        out_of_order=broken,
        themes=themes,
        status=np.array([STATUS_CODES[s] for s in data["status"]], dtype=np.uint8),
        schedule_keys=keys,
        schedules=compiled,
        text=data["text"],
    )


def mobile_network(m, days, first_day, city_lat, city_lng, spread_km, weights, catalogue, seed=17):
    """m vans, each of one city with 2–4 sites there, visiting one of them on 2–5 weekdays a week
    for `days` days from `first_day` (plus the day before), one visit a day of 3–7 hours between
    08:00 and 19:00. Returns the layer and the visits as plain arrays for the brute force."""
    from yizhan.locator.index import BITS_PER_WORD
    from yizhan.locator.mobile import MobileLayer

    rng = np.random.default_rng(seed)
    city = rng.choice(len(city_lat), size=m, p=weights)
    station, starts, ends, lat, lng = [], [], [], [], []
    midnight = datetime.datetime.combine(first_day, datetime.time(), SHANGHAI)
    for van in range(m):
        sd = spread_km[city[van]] / 111.0
        sites = [
            (
                city_lat[city[van]] + rng.normal() * sd,
                city_lng[city[van]] + rng.normal() * sd / np.cos(np.radians(city_lat[city[van]])),
            )
            for _ in range(int(rng.integers(2, 5)))
        ]
        weekdays = rng.choice(5, size=int(rng.integers(2, 6)), replace=False)
        start_hour = int(rng.integers(8, 13))
        length = int(rng.integers(3, 8))
        for day in range(-1, days):
            date = first_day + datetime.timedelta(days=day)
            if date.weekday() not in weekdays:
                continue
            site = sites[(day + 1) % len(sites)]
            begin = midnight + datetime.timedelta(days=day, hours=start_hour)
            station.append(van)
            starts.append(int(begin.timestamp()))
            ends.append(int((begin + datetime.timedelta(hours=length)).timestamp()))
            lat.append(float(np.clip(site[0], 18.5, 53)))
            lng.append(float(np.clip(site[1], 74, 134)))
    words = catalogue.words
    yes = np.zeros((m, words), dtype=np.uint64)
    for position, code in enumerate(catalogue.facilities):
        w, bit = divmod(position, BITS_PER_WORD)
        yes[rng.random(m) < PREVALENCE.get(code, 0.02), w] |= np.uint64(1 << bit)
    zeros = np.zeros((m, words), dtype=np.uint64)
    n_visits = len(station)
    layer = MobileLayer(
        station_ids=np.arange(10_000_001, 10_000_001 + m),
        yes=yes,
        no=zeros,
        out_of_order=zeros,
        themes=np.zeros(m, dtype=np.uint64),
        texts=[(f"M{i:05d}", f"移动驿站{i}", "", "", "") for i in range(m)],
        visit_ids=np.arange(1, n_visits + 1),
        visit_station=station,
        starts=starts,
        ends=ends,
        lat=lat,
        lng=lng,
        places=[""] * n_visits,
        addresses=[""] * n_visits,
    )
    truth = {
        "station": np.array(station),
        "starts": np.array(starts),
        "ends": np.array(ends),
        "lat": np.array(lat),
        "lng": np.array(lng),
    }
    return layer, truth


def van_points(truth, moment: datetime.datetime):
    """Brute force, apart from the layer's code: per van, the visit of the moment's Beijing day
    that is not over and starts first; (van, lat, lng, open) arrays."""
    t = moment.timestamp()
    day = moment.astimezone(SHANGHAI).date()
    start_of_day = datetime.datetime.combine(day, datetime.time(), SHANGHAI).timestamp()
    today = (truth["starts"] >= start_of_day) & (truth["starts"] < start_of_day + 86400) & (truth["ends"] > t)
    chosen = {}
    for i in np.flatnonzero(today).tolist():
        van = int(truth["station"][i])
        if van not in chosen or truth["starts"][i] < truth["starts"][chosen[van]]:
            chosen[van] = i
    idx = np.array(sorted(chosen.values()), dtype=np.int64)
    vans = truth["station"][idx] if len(idx) else np.zeros(0, dtype=np.int64)
    return vans, truth["lat"][idx], truth["lng"][idx], truth["starts"][idx] <= t


def mobile_part(bare, index, layer, truth, filter_args, at, check, usable, lat, lng, rows):
    """Timings of two fresh indexes over the same stations, `bare` without the layer and `index`
    with it (each with its own caches, so neither profits from the other's cells), queried
    alternately first; then the brute-force check."""
    perf = time.perf_counter_ns
    index.mobile = layer
    for a, b, m in filter_args[:300]:  # warm, as the fixed part was
        for idx in (bare, index):
            idx.nearest(a, b, k=10, open_at=at)
            idx.nearest(a, b, k=10, facilities=m, open_at=at)
    samples = {(False, False): [], (False, True): [], (True, False): [], (True, True): []}
    plain_today = []
    for i, (a, b, m) in enumerate(filter_args):
        for with_vans in (False, True) if i % 2 else (True, False):
            idx = index if with_vans else bare
            t0 = perf()
            idx.nearest(a, b, k=10, open_at=at)
            t1 = perf()
            idx.nearest(a, b, k=10, facilities=m, open_at=at)
            t2 = perf()
            samples[with_vans, False].append((t1 - t0) / 1000)
            samples[with_vans, True].append((t2 - t1) / 1000)
        t0 = perf()
        index.nearest(a, b, k=10, at=at)
        plain_today.append((perf() - t0) / 1000)
    without, with_layer = samples[False, False], samples[True, False]
    without_f, with_f = samples[False, True], samples[True, True]

    # Brute force at random moments of the 60 days (daytime mostly: visits in progress or not).
    rng = np.random.default_rng(2026)
    first = datetime.datetime.fromtimestamp(int(truth["starts"].min()), SHANGHAI)
    mismatches = mobile_hits = 0
    for j in range(check):
        moment = first + datetime.timedelta(
            days=int(rng.integers(1, 58)), hours=int(rng.integers(6, 21)), minutes=int(rng.integers(0, 60))
        )
        a, b, m = filter_args[j]
        if j % 3 == 2:
            a, b = a + float(rng.uniform(-0.01, 0.01)), b + float(rng.uniform(-0.01, 0.01))
        open_now = j % 2 == 0
        filtered = j % 4 in (1, 2)
        radius = 20_000.0 if j % 5 == 0 else None
        hours_open = index.open_rows(np.arange(index.n), moment) if open_now else np.ones(index.n, dtype=bool)
        d_fixed = haversine_m(a, b, lat, lng)
        ok = hours_open.copy()
        if filtered:
            ok &= np.all((usable & m) == m, axis=1)
        vans, v_lat, v_lng, v_open = van_points(truth, moment)
        v_ok = v_open.copy() if open_now else np.ones(len(vans), dtype=bool)
        if filtered and len(vans):
            v_ok &= np.all((layer.usable[vans] & m) == m, axis=1)
        d_vans = haversine_m(a, b, v_lat, v_lng)
        candidates = [(float(d_fixed[i]), ("fixed", int(rows.ids[i]))) for i in np.flatnonzero(ok)]
        candidates += [(float(d_vans[i]), ("mobile", int(vans[i]))) for i in np.flatnonzero(v_ok)]
        if radius is not None:
            candidates = [c for c in candidates if c[0] <= radius]
        want = sorted(candidates)[:10]
        got_rows, got_metres = index.nearest(
            a, b, k=10, radius_m=radius, facilities=m if filtered else None,
            open_at=moment if open_now else None, at=moment,
        )  # fmt: skip
        got = [
            ("mobile", layer.station_of(int(r) - index.n))
            if index.is_mobile(int(r))
            else ("fixed", int(index.ids[r]))
            for r in got_rows
        ]
        mobile_hits += sum(1 for kind, _x in got if kind == "mobile")
        same = got == [w[1] for w in want]
        tie = len(got) == len(want) and np.allclose(got_metres, [w[0] for w in want], rtol=0, atol=1e-6)
        if not (same or tie) or not np.allclose(got_metres, [w[0] for w in want], rtol=0, atol=0.01):
            mismatches += 1
    index.mobile = None
    return {
        "without": summary(without),
        "with": summary(with_layer),
        "without_f": summary(without_f),
        "with_f": summary(with_f),
        "plain_today": summary(plain_today),
        "mismatches": mismatches,
        "mobile_hits": mobile_hits,
    }


def make_queries(rng, count, city_lat, city_lng, spread_km, weights):
    near = int(count * 0.9)
    city = rng.choice(len(city_lat), size=near, p=weights)
    q_lat = np.empty(count)
    q_lng = np.empty(count)
    sd = spread_km[city] / 111.0
    q_lat[:near] = city_lat[city] + rng.normal(0, 1, near) * sd
    q_lng[:near] = city_lng[city] + rng.normal(0, 1, near) * sd / np.cos(np.radians(city_lat[city]))
    q_lat[near:] = rng.uniform(21, 48, count - near)
    q_lng[near:] = rng.uniform(84, 130, count - near)
    order = rng.permutation(count)
    return q_lat[order], q_lng[order]


def summary(samples):
    ordered = sorted(samples)
    return statistics.median(ordered), ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))]


# --- PostGIS ------------------------------------------------------------------------------------


def postgis_times(lat, lng, usable_word, q_lat, q_lng, filters, deadline):
    """(plain samples, facility-filtered samples) in µs, or (None, reason)."""
    try:
        import psycopg
    except ImportError:
        return None, "psycopg missing"
    url = os.environ.get("BENCH_POSTGRES", "postgresql://postgres@127.0.0.1:5432/postgres")
    dbname = f"yz_bench_postgis_{os.getpid()}"
    try:
        admin = psycopg.connect(url, autocommit=True, connect_timeout=5)
    except Exception as exc:
        return None, f"PostgreSQL unreachable ({exc.__class__.__name__})"
    try:
        admin.execute(f"CREATE DATABASE {dbname}")
        try:
            conn = psycopg.connect(url.rsplit("/", 1)[0] + "/" + dbname, autocommit=True)
            try:
                conn.execute("CREATE EXTENSION postgis")
            except Exception:
                return None, "PostGIS extension missing (apt-get install postgresql-15-postgis-3)"
            conn.execute(
                "CREATE TABLE pts (id integer PRIMARY KEY, fac bigint NOT NULL, geog geography(Point, 4326))"
            )
            with conn.cursor().copy("COPY pts (id, fac, geog) FROM STDIN") as copy:
                for i in range(len(lat)):
                    copy.write_row((i, int(usable_word[i]), f"SRID=4326;POINT({lng[i]} {lat[i]})"))
            conn.execute("CREATE INDEX pts_geog ON pts USING gist (geog)")
            conn.execute("ANALYZE pts")
            plain_sql = "SELECT id FROM pts ORDER BY geog <-> ST_SetSRID(ST_MakePoint(%s, %s), 4326)::geography LIMIT 10"
            filt_sql = (
                "SELECT id FROM pts WHERE fac & %s = %s "
                "ORDER BY geog <-> ST_SetSRID(ST_MakePoint(%s, %s), 4326)::geography LIMIT 10"
            )
            cur = conn.cursor()
            for i in range(50):  # warm the cache and the prepared statements
                cur.execute(plain_sql, (float(q_lng[i]), float(q_lat[i])), prepare=True)
                cur.fetchall()
            plain, filtered = [], []
            perf = time.perf_counter_ns
            for i in range(len(q_lat)):
                if time.monotonic() > deadline:
                    break
                t0 = perf()
                cur.execute(plain_sql, (float(q_lng[i]), float(q_lat[i])), prepare=True)
                cur.fetchall()
                plain.append((perf() - t0) / 1000.0)
                mask = filters[i]
                t0 = perf()
                cur.execute(filt_sql, (mask, mask, float(q_lng[i]), float(q_lat[i])), prepare=True)
                cur.fetchall()
                filtered.append((perf() - t0) / 1000.0)
            conn.close()
            return plain, filtered
        finally:
            admin.execute(f"DROP DATABASE IF EXISTS {dbname} WITH (FORCE)")
    finally:
        admin.close()


# --- the database rebuild -----------------------------------------------------------------------


def insert_network(n, lat, lng, data, facility_ids, theme_ids, unit_id) -> int:
    """Write the generated network into the (temporary) database with plain SQL; returns the
    number of facility-state rows."""
    from django.db import connection, transaction

    from yizhan.stations.services import bump

    # Loaded a day ago, as a running network's stations were: only later writes are "changed".
    now = (datetime.datetime.now(datetime.UTC) - datetime.timedelta(days=1)).strftime("%Y-%m-%d %H:%M:%S")
    text = data["text"]
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.executemany(
            "INSERT INTO stations_station (id, code, name, name_en, address, lat, lng, phone, status, "
            "public_notice, access_policy, external_ids, opening_hours, verification_source, created_at, "
            "updated_at, unit_id, revision, operating_windows, kind) "
            "VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, 'open', '{}', %s, '', %s, %s, %s, 1, '[]', 'fixed')",
            [
                (
                    i + 1,
                    text["code"][i],
                    text["name"][i],
                    text["name_en"][i],
                    text["address"][i],
                    float(lat[i]),
                    float(lng[i]),
                    text["phone"][i],
                    data["status"][i],
                    text["public_notice"][i],
                    data["hours"][i],
                    now,
                    now,
                    unit_id,
                )
                for i in range(n)
            ],
        )
        for code, (yes, no, broken) in data["facility_states"].items():
            fid = facility_ids[code]
            rows = [(int(i) + 1, fid, "yes", bool(broken[i])) for i in np.flatnonzero(yes)]
            rows += [(int(i) + 1, fid, "no", False) for i in np.flatnonzero(no)]
            cursor.executemany(
                "INSERT INTO stations_stationfacility (station_id, facility_id, state, out_of_order, note, "
                f"updated_at) VALUES (%s, %s, %s, %s, '', '{now}')",
                rows,
            )
        theme_rows = [
            (int(i) + 1, theme_ids[data["theme_codes"][t]]) for i, t in enumerate(data["themes"]) if t >= 0
        ]
        cursor.executemany(
            "INSERT INTO stations_station_themes (station_id, theme_id) VALUES (%s, %s)", theme_rows
        )
        cursor.execute("SELECT COUNT(*) FROM stations_stationfacility")
        facility_rows = cursor.fetchone()[0]
        bump()
    connection.close()
    return facility_rows


def sqlite_rebuild(n, lat, lng, data, facility_ids, theme_ids, unit_id):
    """Load the generated network into the (temporary) SQLite database, then time a full
    `full_load()` as a worker does when it starts."""
    from yizhan.locator import loading

    facility_rows = insert_network(n, lat, lng, data, facility_ids, theme_ids, unit_id)
    gc.collect()
    t0 = time.perf_counter()
    index = loading.full_load(1)
    return time.perf_counter() - t0, index, facility_rows


def patch_after_write(index):
    """One station write through the registry's verb, then the refresh a worker does on its next
    request: the patch (the default path) and, for comparison, nothing but the version check."""
    from yizhan.locator import loading
    from yizhan.stations.models import Station
    from yizhan.stations.services import data_version, set_facility_state

    station = Station.objects.get(pk=int(index.ids[index.n // 2]))
    set_facility_state(station, "mother_baby_room", actor=None, state="yes")
    t0 = time.perf_counter()
    version = data_version()
    check_s = time.perf_counter() - t0
    t0 = time.perf_counter()
    patched = loading.refreshed(index, version)
    patch_s = time.perf_counter() - t0
    row = int(np.searchsorted(patched.ids, station.pk))
    seen = "mother_baby_room" in patched.usable_facilities(row)
    return check_s, patch_s, seen, patched.tree is index.tree


# --- main ---------------------------------------------------------------------------------------


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--stations", type=int, default=200_000)
    parser.add_argument("--queries", type=int, default=5_000)
    parser.add_argument("--check", type=int, default=300, help="queries checked against brute force")
    parser.add_argument("--mobile", type=int, default=10_000, help="mobile stations (0: none)")
    args = parser.parse_args()
    started = time.monotonic()
    deadline = started + DEADLINE_S

    tmp = tempfile.TemporaryDirectory(prefix="yz-bench-locator-")
    os.environ.update(YIZHAN_VAR_DIR=tmp.name, YIZHAN_DEBUG="1")
    os.environ.pop("DATABASE_URL", None)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "yizhan.settings")
    import django

    django.setup()
    from django.core.management import call_command
    from scipy.spatial import cKDTree

    from yizhan.locator import loading
    from yizhan.locator.index import StationIndex, unit_vectors
    from yizhan.orgs.models import Unit
    from yizhan.stations import hours
    from yizhan.stations.models import Facility, Theme

    call_command("migrate", verbosity=0)
    facility_ids = dict(Facility.objects.values_list("code", "pk"))
    theme_ids = dict(Theme.objects.values_list("code", "pk"))
    catalogue, _positions = loading.load_catalogue()
    n = args.stations
    print(f"generating {n:,} stations around 300 cities ...", flush=True)
    rng, city_lat, city_lng, spread_km, weights, lat, lng = generate(n)
    data = station_rows(n, lat, lng, catalogue.facilities, catalogue.themes)
    rows = index_rows(n, lat, lng, data, catalogue)
    calendar = hours.load_calendar()

    # Build from rows already in memory: the best of three for time (tracemalloc off, it slows
    # every allocation), then memory on one more build.
    times = []
    for _ in range(3):
        gc.collect()
        t0 = time.perf_counter()
        index = StationIndex.build(rows, catalogue=catalogue, calendar=calendar, version=1)
        times.append(time.perf_counter() - t0)
        del index
    build_s = min(times)
    gc.collect()
    rss0 = rss_bytes()
    tracemalloc.start()
    index = StationIndex.build(rows, catalogue=catalogue, calendar=calendar, version=1)
    traced, _peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    rss_delta = rss_bytes() - rss0
    memory = max(traced, rss_delta)
    print(
        f"index build from loaded rows: {build_s * 1000:.0f} ms; memory {traced / 2**20:.1f} MB traced, "
        f"RSS +{rss_delta / 2**20:.1f} MB, {index.nbytes / 2**20:.1f} MB of arrays and text "
        f"({len(index.schedules)} distinct schedules)"
    )

    # Queries.
    q_lat, q_lng = make_queries(rng, args.queries, city_lat, city_lng, spread_km, weights)
    q_xyz = unit_vectors(q_lat, q_lng)
    r = random.Random(7)
    filter_masks = [catalogue.facility_mask(r.sample(WANTED, r.choice((1, 2)))) for _ in range(args.queries)]
    raw_tree = cKDTree(unit_vectors(lat, lng))
    at = QUERY_TIME
    plain_args = [(float(a), float(b)) for a, b in zip(q_lat, q_lng, strict=True)]
    filtered_args = [(a, b, m) for (a, b), m in zip(plain_args, filter_masks, strict=True)]

    # A serving process is warm: one pass over a sample first, then the measured pass.
    for a, b, m in filtered_args[:300]:
        index.nearest(a, b, k=10)
        index.nearest(a, b, k=10, facilities=m, open_at=at)
    # The raw floor for the filtered query: the same tree and a boolean array per filter with
    # facilities and open-now precomputed for free; k grown until ten pass.
    usable = index.usable
    open_all = index.open_rows(np.arange(n), at)
    raw_pass = {}
    for m in filter_masks:
        if m.tobytes() not in raw_pass:
            raw_pass[m.tobytes()] = np.all((usable & m) == m, axis=1) & open_all

    def raw_filtered(i, key):
        k = 40
        while True:
            _d, found = raw_tree.query(q_xyz[i], k=k)
            ok = found[raw_pass[key][found]]
            if len(ok) >= 10 or k >= n:
                return ok[:10]
            k = min(n, k * 4)

    # Interleaved, query by query, so that whatever else runs on the machine weighs on all four.
    raw_plain, ours_plain, ours_filtered, raw_filt = [], [], [], []
    perf = time.perf_counter_ns
    for i, (a, b, m) in enumerate(filtered_args):
        key = m.tobytes()
        t0 = perf()
        raw_tree.query(q_xyz[i], k=10)
        t1 = perf()
        index.nearest(a, b, k=10)
        t2 = perf()
        index.nearest(a, b, k=10, facilities=m, open_at=at)
        t3 = perf()
        raw_filtered(i, key)
        t4 = perf()
        raw_plain.append((t1 - t0) / 1000)
        ours_plain.append((t2 - t1) / 1000)
        ours_filtered.append((t3 - t2) / 1000)
        raw_filt.append((t4 - t3) / 1000)

    # A point asked about before (a depot, a street corner): the index keeps its grid cell's
    # candidates from the cell's second query on. Second visits of 1,000 points, then third.
    repeat = plain_args[:1000]
    for a, b in repeat:
        index.nearest(a, b, k=10)
    ours_repeat = []
    for a, b in repeat:
        t0 = perf()
        index.nearest(a, b, k=10)
        ours_repeat.append((perf() - t0) / 1000)
    oc_med, oc_p99 = summary(ours_repeat)

    (rp_med, rp_p99), (op_med, op_p99) = summary(raw_plain), summary(ours_plain)
    (rf_med, rf_p99), (of_med, of_p99) = summary(raw_filt), summary(ours_filtered)
    print(f"raw cKDTree nearest-10:               median {rp_med:7.1f} µs  p99 {rp_p99:7.1f} µs")
    print(f"raw cKDTree, filter precomputed:      median {rf_med:7.1f} µs  p99 {rf_p99:7.1f} µs")
    print(f"index nearest-10 plain:               median {op_med:7.1f} µs  p99 {op_p99:7.1f} µs")
    print(f"index 1–2 facilities + open now:      median {of_med:7.1f} µs  p99 {of_p99:7.1f} µs")
    print(
        f"index nearest-10, a point asked before: median {oc_med:5.1f} µs  p99 {oc_p99:7.1f} µs (cell lists)"
    )

    # Correctness against brute force: plain, and with facilities + open now, a third with a radius.
    mismatches = 0
    check = min(args.check, args.queries)
    check_rng = np.random.default_rng(99)
    for j in range(check):
        if j % 3 == 2:
            a, b = float(check_rng.uniform(21, 45)), float(check_rng.uniform(100, 122))
        else:  # a point asked before, or one near it: answered from the cell lists
            a, b = plain_args[j]
            if j % 3 == 1:
                a, b = (
                    a + float(check_rng.uniform(-0.002, 0.002)),
                    b + float(check_rng.uniform(-0.002, 0.002)),
                )
        d = haversine_m(a, b, lat, lng)
        mask = filter_masks[j]
        radius = 20_000.0 if j % 4 == 0 else None
        for filtered in (False, True):
            ok = np.all((usable & mask) == mask, axis=1) & open_all if filtered else np.ones(n, dtype=bool)
            if radius is not None:
                ok &= d <= radius
            candidates = np.flatnonzero(ok)
            expected = candidates[np.argsort(d[candidates], kind="stable")[:10]]
            got, got_d = index.nearest(
                a,
                b,
                k=10,
                radius_m=radius,
                facilities=mask if filtered else None,
                open_at=at if filtered else None,
            )
            same = list(index.ids[got]) == list(rows.ids[expected])
            # Ties in distance may come back in either order; anything else is a mismatch.
            tie = len(got) == len(expected) and np.allclose(d[got], d[expected], rtol=0, atol=1e-6)
            if not (same or tie) or not np.allclose(got_d, d[got], rtol=0, atol=0.01):
                mismatches += 1
    print(
        f"correctness: {check} queries × (plain, filtered) against brute-force haversine: {mismatches} mismatches"
    )

    # Mobile stations: the same points, with and without 10,000 vans' 60 days of visits.
    mobile_text = "no mobile stations"
    if args.mobile:
        t0 = time.perf_counter()
        layer, truth = mobile_network(
            args.mobile, 60, QUERY_TIME.date() - datetime.timedelta(days=20),
            city_lat, city_lng, spread_km, weights, catalogue,
        )  # fmt: skip
        layer_s = time.perf_counter() - t0
        t0 = time.perf_counter()
        layer.snapshot(at)
        snapshot_ms = (time.perf_counter() - t0) * 1000
        bare = StationIndex.build(rows, catalogue=catalogue, calendar=calendar, version=1)
        twin = StationIndex.build(rows, catalogue=catalogue, calendar=calendar, version=1)
        found = mobile_part(bare, twin, layer, truth, filtered_args, at, check, usable, lat, lng, rows)
        del bare, twin
        (wo, wo99), (wi, wi99) = found["without"], found["with"]
        (wof, _), (wif, _) = found["without_f"], found["with_f"]
        print(
            f"mobile layer: {args.mobile:,} vans, {layer.n_visits:,} visits over 60 days, built in "
            f"{layer_s:.1f} s (generation included); a minute's snapshot {snapshot_ms:.1f} ms"
        )
        print(f"open now, without vans:               median {wo:7.1f} µs  p99 {wo99:7.1f} µs")
        print(
            f"open now, with vans:                  median {wi:7.1f} µs  p99 {wi99:7.1f} µs  = {wi / wo:.2f}×"
        )
        print(f"1–2 facilities + open now, w/o / with: median {wof:6.1f} / {wif:.1f} µs = {wif / wof:.2f}×")
        print(f"nearest-10 with vans there later today: median {found['plain_today'][0]:5.1f} µs")
        print(
            f"mobile correctness: {check} queries at random moments against brute force: "
            f"{found['mismatches']} mismatches ({found['mobile_hits']} van results among them)"
        )
        mobile_text = (
            f"with {args.mobile:,} mobile stations open now {wi:.1f} µs = {wi / wo:.2f}× without ({wo:.1f} µs; "
            f"goal ≤ 1.2×), filtered {wif / wof:.2f}×, {found['mismatches']} mismatches in {check}"
        )

    # PostGIS on the same points.
    pg_plain, pg_detail = postgis_times(
        lat, lng, usable[:, 0], q_lat, q_lng, [int(m[0]) for m in filter_masks], deadline
    )
    if pg_plain is None:
        print(f"PostGIS: unavailable — {pg_detail}")
        pg_text = "PostGIS ratio unavailable"
    else:
        (pp_med, pp_p99), (pf_med, pf_p99) = summary(pg_plain), summary(pg_detail)
        print(f"PostGIS KNN nearest-10:               median {pp_med:7.1f} µs  p99 {pp_p99:7.1f} µs")
        print(
            f"PostGIS KNN + facility bitmask:       median {pf_med:7.1f} µs  p99 {pf_p99:7.1f} µs (no hours)"
        )
        pg_text = f"{pp_med / op_med:.1f}× faster than PostGIS plain, {pf_med / of_med:.1f}× filtered"

    # The database side: a full load, and the patch a worker applies after one station write.
    unit = Unit.objects.create(code="BENCH", kind="outlet", name="基准网点", path="/0/", level=0)
    db_s, db_index, facility_rows = sqlite_rebuild(n, lat, lng, data, facility_ids, theme_ids, unit.pk)
    same = db_index.n == index.n and np.array_equal(db_index.usable, index.usable)
    print(
        f"full load from SQLite ({n:,} stations, {facility_rows:,} facility rows): {db_s * 1000:.0f} ms"
        f"{'' if same else '  (MISMATCH against the in-memory build!)'}"
    )
    check_s, patch_s, seen, tree_reused = patch_after_write(db_index)
    print(
        f"after one station write: version check {check_s * 1e6:.0f} µs, patch {patch_s * 1000:.1f} ms "
        f"(change {'visible' if seen else 'MISSING'}, tree {'reused' if tree_reused else 'rebuilt'})"
    )
    print(f"total bench time {time.monotonic() - started:.0f} s")
    print(
        f"goals: median ≤ 2× raw cKDTree ({op_med / rp_med:.2f}× plain, {of_med / rp_med:.2f}× filtered, "
        f"{of_med / rf_med:.2f}× the precomputed-filter floor); ≥ 10× faster than PostGIS; "
        f"build ≤ 1 s ({build_s:.2f} s); memory ≤ 100 MB ({memory / 2**20:.0f} MB)"
    )
    print(
        f"FIGURE locator nearest-10 over {n:,} stations: median {op_med:.1f} µs plain = {op_med / rp_med:.2f}× raw "
        f"cKDTree ({rp_med:.1f} µs); {of_med:.1f} µs with 1–2 facilities + open now = {of_med / rp_med:.2f}× raw "
        f"cKDTree; a point asked before {oc_med:.1f} µs; {pg_text}; build {build_s * 1000:.0f} ms, "
        f"{memory / 2**20:.0f} MB; "
        f"{mismatches} mismatches in {check * 2}; {mobile_text}"
    )
    tmp.cleanup()


if __name__ == "__main__":
    main()
