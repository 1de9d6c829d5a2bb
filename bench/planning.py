"""Benchmark: which outlets to equip next (maximal covering location), and the uncovered-demand map.

A generated province: 40 cities, 200,000 demand points (hot spots of searches and worker sites
around each city, rounded to 0.001° as the locator keeps searches, weights 1–30), 15,000
candidate outlets without a station, 20,000 stations; radius 1 km, K = 200.

1. The covering problem built from the positions, the greedy answer, and the exact answer by
   HiGHS from the greedy start (goal: < 60 s on 2 cores, the gap to optimal printed).
2. The uncovered-demand map of the province: each point's nearest station, the demand with none
   within 1 km summed in ~1 km cells (goal: < 1 s).

Run: .venv/bin/python bench/planning.py [--demand 200000] [--candidates 15000] [--k 200]
The last line is the figure: the exact answer's covered demand as a ratio of the greedy's.
"""

import argparse
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "src"))

from yizhan.planning import solver  # noqa: E402  (needs no Django)


def generate(demand: int, candidates: int, stations: int, seed: int = 18):
    r = np.random.default_rng(seed)
    cities = np.column_stack((r.uniform(34.5, 38.0, 40), r.uniform(115.5, 122.5, 40)))
    size = r.pareto(1.5, 40) + 1  # a few large cities, many small ones
    share = size / size.sum()

    def around(n, spread_km, hot=None):
        city = r.choice(40, n, p=share)
        centre = cities[city]
        if hot is not None:  # hot spots inside each city: where couriers wait, markets, hubs
            spot = r.integers(0, hot, n)
            offset = np.column_stack((np.sin(spot * 12.9898 + city), np.cos(spot * 78.233 + city))) * 0.08
            centre = centre + offset
        km = r.normal(0, spread_km, (n, 2))
        lat = centre[:, 0] + km[:, 0] / 111.0
        lng = centre[:, 1] + km[:, 1] / (111.0 * np.cos(np.radians(centre[:, 0])))
        return lat, lng

    d_lat, d_lng = around(demand, 0.6, hot=60)
    d_lat, d_lng = np.round(d_lat, 3), np.round(d_lng, 3)
    weight = r.integers(1, 31, demand).astype(float)
    c_lat, c_lng = around(candidates, 6.0)
    s_lat, s_lng = around(stations, 5.0)
    return (d_lat, d_lng, weight), (c_lat, c_lng), (s_lat, s_lng)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--demand", type=int, default=200_000)
    parser.add_argument("--candidates", type=int, default=15_000)
    parser.add_argument("--stations", type=int, default=20_000)
    parser.add_argument("--k", type=int, default=200)
    parser.add_argument("--radius", type=float, default=1000.0)
    parser.add_argument("--time-limit", type=float, default=55.0)
    args = parser.parse_args()
    (d_lat, d_lng, weight), (c_lat, c_lng), (s_lat, s_lng) = generate(
        args.demand, args.candidates, args.stations
    )

    # --- the uncovered-demand map -----------------------------------------------------------
    from yizhan.planning.services import summarise  # imports Django models: set it up lightly

    t0 = time.perf_counter()
    points = solver.unit_vectors(d_lat, d_lng)
    nearest = solver.nearest_distance_m(points, solver.unit_vectors(s_lat, s_lng))
    gaps = summarise(d_lat, d_lng, weight, nearest, int(args.radius), limit=200)
    map_s = time.perf_counter() - t0
    print(
        f"uncovered-demand map: {args.demand:,} points against {args.stations:,} stations in {map_s * 1000:.0f} ms; "
        f"{gaps.uncovered:,.0f} of {gaps.total:,.0f} weight without a station within {args.radius:.0f} m, "
        f"{len(gaps.cells)} heaviest cells listed (goal < 1 s)",
        flush=True,
    )

    # --- the plan ---------------------------------------------------------------------------
    out = nearest > args.radius
    t0 = time.perf_counter()
    problem = solver.build(points[out], weight[out], solver.unit_vectors(c_lat, c_lng), args.radius)
    build_s = time.perf_counter() - t0
    greedy = solver.greedy(problem, args.k)
    exact = solver.exact(problem, args.k, start=greedy, time_limit=args.time_limit)
    total_s = build_s + greedy.seconds + exact.seconds
    coverable = float(problem.weights.sum())
    print(
        f"covering problem: {int(out.sum()):,} uncovered points -> {len(problem.groups):,} distinct coverage sets "
        f"over {args.candidates:,} candidates, built in {build_s:.2f} s",
        flush=True,
    )
    print(
        f"greedy: {greedy.covered:,.0f} covered ({greedy.covered / coverable * 100:.2f} % of the coverable "
        f"{coverable:,.0f}) in {greedy.seconds:.2f} s",
        flush=True,
    )
    print(
        f"exact (HiGHS, {exact.status}): {exact.covered:,.0f} covered, bound {exact.bound:,.0f}, gap to optimal "
        f"{exact.gap * 100:.4f} %, in {exact.seconds:.1f} s; all together {total_s:.1f} s (goal < 60 s)",
        flush=True,
    )
    print(
        f"FIGURE planning K={args.k}: exact covers {exact.covered / greedy.covered:.4f}× the greedy answer's demand "
        f"(gap to optimal {exact.gap * 100:.4f} %, {total_s:.1f} s); uncovered-demand map {map_s * 1000:.0f} ms"
    )


if __name__ == "__main__":
    import os

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "yizhan.settings")
    os.environ.setdefault("YIZHAN_DEBUG", "1")
    import django

    django.setup()
    main()
