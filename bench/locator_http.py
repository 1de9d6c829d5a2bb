"""Benchmark: the nearby API under load, against a no-op JSON endpoint in the same server.

gunicorn with 2 sync workers and the project's real settings and middleware (production mode:
DEBUG off), a SQLite database with a generated national network (200,000 stations by default,
as in bench/locator.py), and a load generator in a second process on 127.0.0.1 that keeps a
fixed number of requests in flight for a bounded time. The no-op endpoint is a Django view that
returns {"ok": true} through the same middleware; its requests/s are the peer. Both query sets run
through both workers before the measured rounds (the steady state: per-station JSON, per-filter
trees and grid cells kept), then 10 interleaved rounds of 3 s per endpoint; medians.

Run: .venv/bin/python bench/locator_http.py [--stations 200000] [--rounds 10] [--seconds 3] [--concurrency 8]
The last line is the figure: nearby requests/s as a share of the no-op's.
"""

import argparse
import importlib.util
import json
import os
import random
import selectors
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent

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


# --- the load generator (a second process) --------------------------------------------------------


def _load(host, port, paths, seconds, concurrency):
    """Keep `concurrency` GETs in flight, each on its own connection (sync gunicorn workers close
    every connection), with a selector loop: it leaves the CPU to the server."""
    selector = selectors.DefaultSelector()
    ok = errors = 0
    in_flight = 0
    i = random.randrange(len(paths))
    started = time.monotonic()
    deadline = started + seconds

    def send():
        nonlocal i, in_flight
        path = paths[i % len(paths)]
        i += 1
        sock = socket.socket()
        sock.setblocking(False)
        sock.connect_ex((host, port))
        data = f"GET {path} HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\r\n".encode()
        selector.register(sock, selectors.EVENT_WRITE, [data, 0, []])
        in_flight += 1

    def finish(sock, good):
        nonlocal ok, errors, in_flight
        selector.unregister(sock)
        sock.close()
        in_flight -= 1
        if good:
            ok += 1
        else:
            errors += 1

    while True:
        now = time.monotonic()
        while now < deadline and in_flight < concurrency:
            send()
        if not in_flight:
            break
        for key, mask in selector.select(timeout=0.05):
            sock, state = key.fileobj, key.data
            try:
                if mask & selectors.EVENT_WRITE:
                    if sock.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR):
                        finish(sock, False)
                        continue
                    state[1] += sock.send(state[0][state[1] :])
                    if state[1] == len(state[0]):
                        selector.modify(sock, selectors.EVENT_READ, state)
                else:
                    chunk = sock.recv(65536)
                    if chunk:
                        state[2].append(chunk)
                    else:
                        finish(sock, b"".join(state[2][:1])[:12] in (b"HTTP/1.1 200", b"HTTP/1.0 200"))
            except OSError:
                finish(sock, False)
    return ok / (time.monotonic() - started), errors


def client_main(argv):
    host, port, seconds, concurrency, paths_file = argv
    paths = json.loads(Path(paths_file).read_text())
    rps, errors = _load(host, int(port), paths, float(seconds), int(concurrency))
    print(json.dumps({"rps": rps, "errors": errors}))


def run_client(port, paths_file, seconds, concurrency) -> tuple[float, int]:
    out = subprocess.run(
        [
            sys.executable,
            __file__,
            "--client",
            "127.0.0.1",
            str(port),
            str(seconds),
            str(concurrency),
            paths_file,
        ],
        capture_output=True,
        text=True,
        timeout=seconds + 60,
        check=True,
    )
    result = json.loads(out.stdout.strip().splitlines()[-1])
    return result["rps"], result["errors"]


# --- the bench ------------------------------------------------------------------------------------


def load_bench_module():
    spec = importlib.util.spec_from_file_location("locator_bench", ROOT / "bench" / "locator.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_ready(port, path, timeout=60.0) -> None:
    import urllib.request

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=30) as response:  # noqa: S310
                if response.status == 200:
                    return
        except OSError:
            time.sleep(0.2)
    raise RuntimeError("gunicorn did not answer in time")


def worker_cpu_seconds(master_pid: int) -> float:
    """User + system CPU of the gunicorn workers (children of the master), from /proc."""
    ticks = os.sysconf("SC_CLK_TCK")
    total = 0
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            fields = Path(f"/proc/{entry}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == master_pid:  # fields[1] is the parent pid
            total += int(fields[11]) + int(fields[12])  # utime, stime
    return total / ticks


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--stations", type=int, default=200_000)
    parser.add_argument("--seconds", type=float, default=3.0, help="per measured round")
    parser.add_argument("--rounds", type=int, default=10, help="rounds per endpoint, interleaved")
    parser.add_argument("--concurrency", type=int, default=8)
    args = parser.parse_args()
    started = time.monotonic()

    tmp = tempfile.TemporaryDirectory(prefix="yz-bench-http-")
    env = {
        **os.environ,
        "YIZHAN_VAR_DIR": tmp.name,
        "YIZHAN_SECRET_KEY": "bench-" + "x" * 50,
        "YIZHAN_ALLOWED_HOSTS": "127.0.0.1",
        "YIZHAN_SSL_REDIRECT": "0",
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

    from yizhan.locator import loading
    from yizhan.orgs.models import Unit
    from yizhan.stations.models import Facility, Theme

    call_command("migrate", verbosity=0)
    bench = load_bench_module()
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
    files = {}
    for name, paths in (("noop", ["/bench/noop"]), ("nearby", plain), ("filtered", filtered)):
        files[name] = str(Path(tmp.name) / f"{name}.json")
        Path(files[name]).write_text(json.dumps(paths))

    port = free_port()
    server = subprocess.Popen(
        [
            str(BIN / "gunicorn"),
            "--workers",
            "2",
            "--bind",
            f"127.0.0.1:{port}",
            "--pythonpath",
            f"{ROOT / 'src'},{ROOT / 'bench'}",
            "--log-level",
            "warning",
            "locator_http:application",
        ],
        env={**env, "YIZHAN_BENCH_WSGI": "1"},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        try:
            wait_ready(port, "/bench/noop")
        except RuntimeError:
            server.terminate()
            print(server.communicate(timeout=20)[1][:4000], file=sys.stderr)
            raise
        # Measure the steady state: each worker loads its index on its first nearby request and
        # keeps per-station JSON, per-minute hours and per-filter trees as queries come; run
        # both query sets through both workers first.
        t0 = time.monotonic()
        for name in ("nearby", "filtered"):
            run_client(port, files[name], 6, args.concurrency)
        print(f"workers warmed (index loaded in each) in {time.monotonic() - t0:.1f} s", flush=True)
        results = {"noop": [], "nearby": [], "filtered": []}
        cpu = {"noop": [], "nearby": [], "filtered": []}
        errors = 0
        # Short rounds, interleaved, medians: other work on the machine comes and goes.
        for _round in range(args.rounds):
            for name in ("noop", "nearby", "filtered"):
                before = worker_cpu_seconds(server.pid)
                rps, failed = run_client(port, files[name], args.seconds, args.concurrency)
                used = worker_cpu_seconds(server.pid) - before
                results[name].append(rps)
                cpu[name].append(used / max(rps * args.seconds, 1) * 1e6)
                errors += failed
            print(
                "  round: "
                + ", ".join(f"{k} {results[k][-1]:.0f}/s ({cpu[k][-1]:.0f} µs CPU)" for k in results),
                flush=True,
            )
    finally:
        server.send_signal(signal.SIGTERM)
        try:
            server.wait(timeout=20)
        except subprocess.TimeoutExpired:
            server.kill()
        tmp.cleanup()
    import statistics

    noop, near, filt = (statistics.median(results[k]) for k in ("noop", "nearby", "filtered"))
    c_noop, c_near, c_filt = (statistics.median(cpu[k]) for k in ("noop", "nearby", "filtered"))
    print(f"total bench time {time.monotonic() - started:.0f} s; {errors} failed requests")
    print(
        f"server CPU per request (median): no-op {c_noop:.0f} µs, nearby {c_near:.0f} µs "
        f"({c_noop / c_near * 100:.0f} % of the no-op's capacity), filtered {c_filt:.0f} µs "
        f"({c_noop / c_filt * 100:.0f} %)"
    )
    print(
        f"FIGURE nearby API under gunicorn (2 workers, {n:,} stations): {near:.0f} requests/s = "
        f"{near / noop * 100:.0f} % of the no-op JSON endpoint ({noop:.0f} requests/s); with 1–2 facilities "
        f"+ open now {filt:.0f} requests/s = {filt / noop * 100:.0f} % (goal ≥ 85 %; medians of "
        f"{args.rounds} interleaved rounds)"
    )


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "--client":
        client_main(sys.argv[2:])
    else:
        main()
