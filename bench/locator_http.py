"""Benchmark: the nearby API under load, against a no-op JSON endpoint in the same server.

gunicorn with 2 sync workers and the project's real settings and middleware (production mode:
DEBUG off), a SQLite database with a generated national network (200,000 stations by default,
as in bench/locator.py), and the load generator of bench/_http.py in a second process on
127.0.0.1, keeping a fixed number of requests in flight for a bounded time. The no-op endpoint is a Django view that
returns {"ok": true} through the same middleware; its requests/s are the peer. Both query sets run
through both workers before the measured rounds (the steady state: per-station JSON, per-filter
trees and grid cells kept), then 10 interleaved rounds of 3 s per endpoint; medians.

Run: .venv/bin/python bench/locator_http.py [--stations 200000] [--rounds 10] [--seconds 3] [--concurrency 8]
The last line is the figure: nearby requests/s as a share of the no-op's.
"""

import argparse
import os
import random
import statistics
import tempfile
import time

import _http

# --- inside the gunicorn workers: the project's URLs plus the no-op peer -------------------------

if os.environ.get("YIZHAN_BENCH_WSGI") == "1":
    from django.core.wsgi import get_wsgi_application

    application = get_wsgi_application()  # sets Django up before the URLs below are imported
    from django.conf import settings
    from django.http import JsonResponse
    from django.urls import path

    from yizhan import urls

    def noop(request):
        return JsonResponse({"ok": True})

    # The project's URL list with the peer in front, flat: neither pays for a bench-only include.
    urlpatterns = [path("bench/noop", noop), *urls.urlpatterns]
    settings.ROOT_URLCONF = __name__


# --- the bench ------------------------------------------------------------------------------------


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--stations", type=int, default=200_000)
    parser.add_argument("--seconds", type=float, default=3.0, help="per measured round")
    parser.add_argument("--rounds", type=int, default=10, help="rounds per endpoint, interleaved")
    parser.add_argument("--concurrency", type=int, default=8)
    args = parser.parse_args()
    started = time.monotonic()

    tmp = tempfile.TemporaryDirectory(prefix="yz-bench-http-")
    env = _http.production_env(tmp.name, path=[_http.ROOT / "bench"])
    _http.setup_django(env)
    from django.core.management import call_command

    from yizhan.locator import loading
    from yizhan.orgs.models import Unit
    from yizhan.stations.models import Facility, Theme

    call_command("migrate", verbosity=0)
    import locator as bench  # bench/locator.py's network generator

    catalogue, _positions = loading.load_catalogue()
    n = args.stations
    print(f"generating and loading {n:,} stations into SQLite ...", flush=True)
    rng, city_lat, city_lng, spread_km, weights, lat, lng = bench.generate(n)
    data = bench.station_rows(n, lat, lng, catalogue.facilities, catalogue.themes)
    unit = Unit.objects.create(code="BENCH", kind="outlet", name="基准网点", path="/0/", level=0)
    bench.insert_network(
        n,
        lat,
        lng,
        data,
        dict(Facility.objects.values_list("code", "pk")),
        dict(Theme.objects.values_list("code", "pk")),
        unit.pk,
    )
    q_lat, q_lng = bench.make_queries(rng, 2000, city_lat, city_lng, spread_km, weights)
    r = random.Random(11)
    plain = [f"/api/v1/stations/nearby?lat={a:.5f}&lng={b:.5f}" for a, b in zip(q_lat, q_lng, strict=True)]
    filtered = [
        f"{p}&facility={'&facility='.join(r.sample(bench.WANTED, r.choice((1, 2))))}&open_now=true"
        for p in plain
    ]
    queries = {
        name: [("GET", p, None, None) for p in paths]
        for name, paths in (("noop", ["/bench/noop"]), ("nearby", plain), ("filtered", filtered))
    }

    port = _http.free_port()
    server = _http.start_gunicorn(
        {**env, "YIZHAN_BENCH_WSGI": "1"}, port, preload=False, app="locator_http:application"
    )
    try:
        _http.wait_ready(port, "/bench/noop", server)
        # Measure the steady state: each worker loads its index on its first nearby request and
        # keeps per-station JSON, per-minute hours and per-filter trees as queries come; run
        # both query sets through both workers first.
        t0 = time.monotonic()
        for name in ("nearby", "filtered"):
            _http.rate(port, queries[name], seconds=6, concurrency=args.concurrency)
        print(f"workers warmed (index loaded in each) in {time.monotonic() - t0:.1f} s", flush=True)
        results = {"noop": [], "nearby": [], "filtered": []}
        cpu = {"noop": [], "nearby": [], "filtered": []}
        errors = 0
        # Short rounds, interleaved, medians: other work on the machine comes and goes.
        for _round in range(args.rounds):
            for name in ("noop", "nearby", "filtered"):
                rps, failed, used = _http.rate(
                    port, queries[name], seconds=args.seconds, concurrency=args.concurrency, master=server.pid
                )
                results[name].append(rps)
                cpu[name].append(used * 1e6)
                errors += failed
            print(
                "  round: "
                + ", ".join(f"{k} {results[k][-1]:.0f}/s ({cpu[k][-1]:.0f} µs CPU)" for k in results),
                flush=True,
            )
    finally:
        _http.stop(server)
        tmp.cleanup()

    noop, near, filt = (statistics.median(results[k]) for k in ("noop", "nearby", "filtered"))
    c_noop, c_near, c_filt = (statistics.median(cpu[k]) for k in ("noop", "nearby", "filtered"))
    print(f"total bench time {time.monotonic() - started:.0f} s; {errors} failed requests")
    print(
        f"server CPU per request (median): no-op {c_noop:.0f} µs, nearby {c_near:.0f} µs "
        f"({c_noop / c_near * 100:.0f} % of the no-op's capacity), filtered {c_filt:.0f} µs "
        f"({c_noop / c_filt * 100:.0f} %)"
    )
    print(
        f"FIGURE nearby API under gunicorn ({_http.WORKERS} workers, {n:,} stations): {near:.0f} requests/s = "
        f"{near / noop * 100:.0f} % of the no-op JSON endpoint ({noop:.0f} requests/s); with 1–2 facilities "
        f"+ open now {filt:.0f} requests/s = {filt / noop * 100:.0f} % (goal ≥ 85 %; medians of "
        f"{args.rounds} interleaved rounds)"
    )


if __name__ == "__main__":
    main()
