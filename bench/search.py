"""Benchmark: the landmark search, in-process and as the full search page over HTTP.

A generated gazetteer (50,000 places by default: Chinese names built from common characters and
place-type suffixes, each with an alias and its pinyin) around the cities of bench/locator.py,
in SQLite with a generated station network (50,000 stations by default).

1. In-process: `Gazetteer.search` on 5,000 queries — exact names, aliases, pinyin initials, one
   wrong character, the start of a name — median and p99 (goal: median < 5 ms).
2. The search page in-process: rendered (nothing kept) against kept (`locator.pagecache`).
3. HTTP: gunicorn with 4 workers (the README's command), production settings and the real middleware (the server of
   bench/locator_http.py); the full search page `/?q=<landmark>` (the landmark found, the 20
   stations nearest to it listed) against the nearby API on the same server, 8 requests in
   flight, interleaved rounds, medians (goal ≥ 80 %). A warm-up sends each of the 2,000 search
   paths 4 times per worker (16) so that every worker meets nearly every one, and the rounds measure the pages each worker
   keeps (rendered again when a badge could change): the steady state of a working set of 2,000
   landmarks. The first rendering of a page is the in-process "rendered" figure of step 2.

Run: .venv/bin/python bench/search.py [--places 50000] [--stations 50000] [--rounds 6] [--seconds 3]
The last line is the figure: the search page's requests/s as a share of the nearby API's.
"""

import argparse
import random
import statistics
import tempfile
import time
from urllib.parse import quote

import _http

CHARS = (
    "东南西北中新华民建国和平安康宁长江河山湖海天明光金银龙凤春秋文化德兴盛发达通利"
    "祥福寿永嘉定远胜鸿泰丰裕昌隆宏大小上下前后左右红黄青白绿松柏桂兰梅竹石林森园"
)
SUFFIXES = [
    "广场",
    "大厦",
    "医院",
    "地铁站",
    "市场",
    "物流园",
    "公园",
    "小区",
    "路口",
    "商场",
    "汽车站",
    "步行街",
]
KINDS = {"医院": "hospital", "地铁站": "metro", "市场": "market", "物流园": "logistics", "汽车站": "station"}


def make_places(n: int, city_lat, city_lng, seed: int = 7) -> list[tuple]:
    """(name, alias, kind, lat, lng) with distinct names."""
    r = random.Random(seed)
    seen: set[str] = set()
    out = []
    while len(out) < n:
        stem = "".join(r.choice(CHARS) for _ in range(r.choice((2, 2, 3))))
        suffix = r.choice(SUFFIXES)
        name = stem + suffix
        if name in seen:
            continue
        seen.add(name)
        city = r.randrange(len(city_lat))
        lat = float(city_lat[city]) + r.gauss(0, 0.05)
        lng = float(city_lng[city]) + r.gauss(0, 0.05)
        out.append((name, stem + "片区", KINDS.get(suffix, "landmark"), lat, lng))
    return out


def queries(places: list[tuple], count: int, seed: int = 13) -> list[tuple[str, str]]:
    """(kind, text): exact names, aliases, initials, a one-character typo, a name's start."""
    from pypinyin import Style, lazy_pinyin

    r = random.Random(seed)
    out = []
    for i in range(count):
        name, alias, *_rest = r.choice(places)
        kind = ("name", "alias", "initials", "typo", "prefix")[i % 5]
        if kind == "name":
            text = name
        elif kind == "alias":
            text = alias
        elif kind == "initials":
            text = "".join(lazy_pinyin(name, style=Style.FIRST_LETTER))
        elif kind == "typo":
            j = r.randrange(len(name))
            text = name[:j] + r.choice(CHARS.replace(name[j], "")) + name[j + 1 :]
        else:
            text = name[:3]
        out.append((kind, text))
    return out


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--places", type=int, default=50_000)
    parser.add_argument("--stations", type=int, default=50_000)
    parser.add_argument("--queries", type=int, default=5_000)
    parser.add_argument("--seconds", type=float, default=3.0)
    parser.add_argument("--rounds", type=int, default=6)
    parser.add_argument("--concurrency", type=int, default=8)
    args = parser.parse_args()
    started = time.monotonic()

    tmp = tempfile.TemporaryDirectory(prefix="yz-bench-search-")
    env = _http.production_env(tmp.name, path=[_http.ROOT / "bench"])
    _http.setup_django(env)
    from django.core.management import call_command

    from yizhan.locator import gazetteer, loading
    from yizhan.locator.models import Place
    from yizhan.locator.places import pinyin_keys
    from yizhan.orgs.models import Unit
    from yizhan.stations.models import Facility, Theme
    from yizhan.stations.services import bump

    call_command("migrate", verbosity=0)
    call_command("collectstatic", "--noinput", verbosity=0)  # pages name their hashed static files
    import locator  # bench/locator.py's network generator

    catalogue, _positions = loading.load_catalogue()
    n = args.stations
    print(f"generating {n:,} stations and {args.places:,} places into SQLite ...", flush=True)
    rng, city_lat, city_lng, spread_km, weights, lat, lng = locator.generate(n)
    data = locator.station_rows(n, lat, lng, catalogue.facilities, catalogue.themes)
    root = Unit.objects.create(code="BENCH", kind="head_office", name="基准总行", path="/1/", level=0)
    city = Unit.objects.create(
        code="BENCH-C", kind="city", name="基准分行", parent=root, path="/1/2/", level=1
    )
    locator.insert_network(
        n,
        lat,
        lng,
        data,
        dict(Facility.objects.values_list("code", "pk")),
        dict(Theme.objects.values_list("code", "pk")),
        city.pk,
    )
    generated = make_places(args.places, city_lat, city_lng)
    t0 = time.monotonic()
    Place.objects.bulk_create(
        [
            Place(
                unit=city,
                name=name,
                aliases=alias,
                kind=kind,
                lat=la,
                lng=ln,
                pinyin=pinyin_keys([name, alias]),
            )
            for name, alias, kind, la, ln in generated
        ],
        batch_size=2000,
    )
    bump("places")
    print(f"places with their pinyin written in {time.monotonic() - t0:.1f} s", flush=True)

    # --- in-process ---------------------------------------------------------------------------
    t0 = time.monotonic()
    index = gazetteer.load()
    build_ms = (time.monotonic() - t0) * 1000
    asked = queries(generated, args.queries)
    for _kind, text in asked[:200]:  # warm the caches a process has after its first requests
        index.search(text)
    times: dict[str, list[float]] = {}
    found = 0
    expected = {text: None for _k, text in asked}
    for kind, text in asked:
        t = time.perf_counter()
        hits = index.search(text)
        times.setdefault(kind, []).append((time.perf_counter() - t) * 1000)
        found += bool(hits)
    del expected
    every = sorted(t for ts in times.values() for t in ts)
    median = statistics.median(every)
    p99 = every[int(len(every) * 0.99)]
    print(
        f"in-process: {len(index):,} places, {len(index.keys):,} keys, index built in {build_ms:.0f} ms; "
        f"{args.queries:,} searches, {found / len(asked) * 100:.0f} % found something; median "
        f"{median:.2f} ms, p99 {p99:.2f} ms; by kind: "
        + ", ".join(f"{k} {statistics.median(v):.2f} ms" for k, v in times.items()),
        flush=True,
    )

    # --- over HTTP ------------------------------------------------------------------------------
    r = random.Random(5)
    picked = r.sample(generated, 2000)
    search_paths = [f"/?q={quote(name)}" for name, *_rest in picked]

    # The page in-process: rendered (nothing kept) against kept (locator.pagecache), 300 searches.
    from django.test import Client

    from yizhan.locator import pagecache

    client = Client(HTTP_HOST="127.0.0.1")
    for path in search_paths[:50]:
        client.get(path)
    rendered, kept = [], []
    for path in search_paths[:300]:
        pagecache.forget()
        t = time.perf_counter()
        client.get(path)
        rendered.append((time.perf_counter() - t) * 1000)
        t = time.perf_counter()
        client.get(path)
        kept.append((time.perf_counter() - t) * 1000)
    print(
        f"search page in-process (middleware included): rendered median {statistics.median(rendered):.2f} ms, "
        f"kept {statistics.median(kept):.3f} ms",
        flush=True,
    )
    q_lat, q_lng = locator.make_queries(rng, 2000, city_lat, city_lng, spread_km, weights)
    nearby_paths = [
        f"/api/v1/stations/nearby?lat={a:.5f}&lng={b:.5f}" for a, b in zip(q_lat, q_lng, strict=True)
    ]
    gets = {"search": search_paths, "nearby": nearby_paths}
    gets = {name: [("GET", p, None, None) for p in paths] for name, paths in gets.items()}
    port = _http.free_port()
    # The server of bench/locator_http.py: the project's URLs with its no-op peer in front.
    server = _http.start_gunicorn(
        {**env, "YIZHAN_BENCH_WSGI": "1"}, port, preload=False, app="locator_http:application"
    )
    results: dict[str, list[float]] = {"search": [], "nearby": []}
    cpu: dict[str, list[float]] = {"search": [], "nearby": []}
    errors = 0
    try:
        _http.wait_ready(port, "/bench/noop", server)
        # The steady state, as bench/locator_http.py measures the index's per-process caches filled:
        # every search path sent 4× per worker, so that each worker has met (and kept) it with a
        # chance of 1 - (1 - 1/W)^(4W) ≈ 0.99 (a path a worker never met is rendered in a round: ~15 ms, not ~1).
        _http.rate(port, gets["nearby"], seconds=6, concurrency=args.concurrency)
        warm_up = gets["search"] * 4 * _http.WORKERS
        warm = _http.load(port, warm_up, concurrency=args.concurrency)
        print(f"  warm-up: {len(warm_up):,} search pages in {warm['elapsed']:.0f} s", flush=True)
        for _round in range(args.rounds):
            for name in ("search", "nearby"):
                rps, failed, used = _http.rate(
                    port, gets[name], seconds=args.seconds, concurrency=args.concurrency, master=server.pid
                )
                results[name].append(rps)
                cpu[name].append(used * 1000)
                errors += failed
            print(
                "  round: "
                + ", ".join(f"{k} {v[-1]:.0f}/s ({cpu[k][-1]:.2f} ms CPU)" for k, v in results.items()),
                flush=True,
            )
    finally:
        _http.stop(server)
        tmp.cleanup()
    search, near = statistics.median(results["search"]), statistics.median(results["nearby"])
    c_search, c_near = statistics.median(cpu["search"]), statistics.median(cpu["nearby"])
    print(f"total bench time {time.monotonic() - started:.0f} s; {errors} failed requests")
    print(
        f"server CPU per request (median): search page {c_search:.2f} ms, nearby {c_near:.2f} ms "
        f"({c_near / c_search * 100:.0f} % of the nearby API's capacity)"
    )
    print(
        f"FIGURE landmark search: in-process median {median:.2f} ms (goal < 5 ms) over {len(index):,} places; "
        f"the full search page over HTTP {search:.0f} requests/s = {search / near * 100:.0f} % of the nearby "
        f"API's {near:.0f} requests/s (goal ≥ 80 %; gunicorn, {_http.WORKERS} workers, medians of {args.rounds} rounds)"
    )


if __name__ == "__main__":
    main()
