"""What the HTTP benchmarks share: the server (gunicorn with the production settings), its CPU from
/proc, and one load generator.

The load generator runs in its own process (`python bench/_http.py FILE`, started by `Load`): a
fresh interpreter without Django, so that it takes as little of the two cores from the server as
it can. It drives raw non-blocking sockets from one selector loop, each request on its own
connection (`Connection: close`: gunicorn's sync workers close every connection anyway, and phones
do not share one). Two ways to drive it:

- `seconds=None`: every prepared request once, `concurrency` in flight; the result has the final
  status of each (0: no answer) — a bench can send the unanswered ones again;
- `seconds=S`: round the list for S seconds, `concurrency` in flight, then let those in flight
  finish; the result has the counts by status and the 2xx answers completed in each second.

With `retries=n` a request that got no answer or a 5xx is sent again (the same bytes: a request id
in it stays the same) up to n times, 50 ms × the attempt later, holding its place in flight.
"""

import json
import os
import random
import selectors
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
# As the README's production command runs it. Sync workers wait on each commit (SQLite's write
# lock, PostgreSQL's WAL flush); four on two cores keep the cores busy through those waits.
WORKERS = 4


# --- the server ------------------------------------------------------------------------------------


def production_env(var_dir, settings: str = "yizhan.settings", path=()) -> dict:
    """The environment of a production deployment on 127.0.0.1 (DEBUG off, no TLS redirect) with its
    data in `var_dir`; SQLite, whatever DATABASE_URL the caller has. `path`: folders to import
    from ahead of src/ (a bench's own settings module)."""
    env = {
        **os.environ,
        "YIZHAN_VAR_DIR": str(var_dir),
        "YIZHAN_SECRET_KEY": "bench-" + "x" * 50,
        "YIZHAN_ALLOWED_HOSTS": "127.0.0.1",
        "YIZHAN_SSL_REDIRECT": "0",
        "YIZHAN_LOG_LEVEL": "WARNING",
        "DJANGO_SETTINGS_MODULE": settings,
        "PYTHONPATH": os.pathsep.join([*map(str, path), str(ROOT / "src")]),
    }
    for name in ("DATABASE_URL", "YIZHAN_DEBUG"):
        env.pop(name, None)
    return env


def setup_django(env: dict) -> None:
    """Django in this process, with the environment the server gets."""
    os.environ.clear()
    os.environ.update(env)
    sys.path[:0] = env["PYTHONPATH"].split(os.pathsep)
    import django

    django.setup()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_gunicorn(
    env: dict,
    port: int,
    workers: int = WORKERS,
    preload: bool = True,
    app: str = "yizhan.wsgi",
    timeout: int = 30,
) -> subprocess.Popen:
    """gunicorn with sync workers on 127.0.0.1:`port`. With `preload` the application is loaded once
    in the master: a worker that dies is replaced by a fork that serves at once, instead of one that
    first imports Django for a second."""
    command = [str(BIN / "gunicorn"), app, "--workers", str(workers), "--bind", f"127.0.0.1:{port}"]
    command += ["--timeout", str(timeout), "--log-level", "warning", *(["--preload"] if preload else [])]
    return subprocess.Popen(command, env=env, cwd=str(ROOT), stdout=subprocess.DEVNULL)


def wait_ready(port: int, path: str, server: subprocess.Popen | None = None, workers: int = WORKERS) -> None:
    """Until GET `path` answers 200 and, given the server, `workers` workers are up (the master
    listens before it forks them)."""
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if server is not None and server.poll() is not None:
            raise SystemExit(f"gunicorn exited with {server.returncode}")
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=30) as response:  # noqa: S310
                if response.status == 200 and (server is None or len(worker_pids(server.pid)) >= workers):
                    return
        except OSError:
            pass
        time.sleep(0.1)
    raise SystemExit("gunicorn did not answer in time")


def stop(server: subprocess.Popen) -> None:
    server.terminate()
    try:
        server.wait(timeout=30)
    except subprocess.TimeoutExpired:
        server.kill()


def _stat(pid) -> list[str]:
    # After the command's closing parenthesis: state, ppid, …; utime, stime, cutime, cstime at 11–14.
    return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()


def worker_pids(master: int) -> list[int]:
    pids = []
    for entry in os.listdir("/proc"):
        try:
            if entry.isdigit() and int(_stat(entry)[1]) == master:
                pids.append(int(entry))
        except OSError:
            continue
    return sorted(pids)


def worker_cpu_seconds(master: int) -> float:
    """User + system CPU of the master's workers: the live ones, and those it has reaped (a killed
    worker's time moves to the master's cutime/cstime), so a difference spans a kill."""
    fields = _stat(master)
    ticks = int(fields[13]) + int(fields[14])
    for pid in worker_pids(master):
        try:
            fields = _stat(pid)
        except OSError:
            continue
        ticks += int(fields[11]) + int(fields[12])
    return ticks / os.sysconf("SC_CLK_TCK")


# --- the load generator ----------------------------------------------------------------------------


class Load:
    """The load generator in its own process, started at once; `result()` waits for it.

    `requests`: (method, path, headers, body) with body a str (sent as application/json unless the
    headers name a Content-Type) or None."""

    def __init__(self, port, requests, *, concurrency: int, seconds: float | None = None, retries: int = 0):
        spec = {"port": port, "requests": requests, "concurrency": concurrency}
        spec.update(seconds=seconds, retries=retries)
        with tempfile.NamedTemporaryFile("w", suffix=".json", prefix="yz-load-", delete=False) as f:
            json.dump(spec, f, ensure_ascii=False)
        self.file = Path(f.name)
        self.timeout = (seconds or 600) + 120
        self.process = subprocess.Popen([sys.executable, __file__, f.name], stdout=subprocess.PIPE, text=True)

    def result(self) -> dict:
        """statuses (each request's, when sent once), counts {status: n}, per_second (2xx answers
        completed in each second), retries, sent (requests started, not counting retries), elapsed
        and client_cpu (seconds)."""
        try:
            out, _err = self.process.communicate(timeout=self.timeout)
        finally:
            self.file.unlink()
        if self.process.returncode:
            raise SystemExit(f"the load generator failed ({self.process.returncode})")
        result = json.loads(out)
        result["counts"] = {int(k): v for k, v in result["counts"].items()}
        return result


def load(port, requests, **options) -> dict:
    return Load(port, requests, **options).result()


def rate(port, requests, *, seconds: float, concurrency: int, master: int | None = None) -> tuple:
    """One timed run from a random point of the list (a cyclic list read from its start every time
    would favour what its head keeps warm): (2xx answers per second, other answers, and given
    the gunicorn master, its workers' CPU seconds per 2xx answer)."""
    start = random.randrange(len(requests))
    before = worker_cpu_seconds(master) if master else 0.0
    got = load(port, requests[start:] + requests[:start], seconds=seconds, concurrency=concurrency)
    used = worker_cpu_seconds(master) - before if master else 0.0
    ok = sum(v for k, v in got["counts"].items() if 200 <= k < 300)
    return ok / got["elapsed"], sum(got["counts"].values()) - ok, used / max(ok, 1)


def _wire(method: str, path: str, headers: dict | None, body: str | None) -> bytes:
    head = {"Host": "127.0.0.1", "Connection": "close", **(headers or {})}
    data = b"" if body is None else body.encode()
    if body is not None:
        head.setdefault("Content-Type", "application/json")
        head["Content-Length"] = str(len(data))
    lines = "".join(f"{k}: {v}\r\n" for k, v in head.items())
    return f"{method} {path} HTTP/1.1\r\n{lines}\r\n".encode() + data


def _run(port: int, requests: list, concurrency: int, seconds: float | None, retries: int) -> dict:
    wire = [_wire(*r) for r in requests]
    n = len(wire)
    selector = selectors.DefaultSelector()
    statuses = [0] * n
    counts: dict[int, int] = {}
    per_second: list[int] = []
    waiting: list[tuple[float, int, int]] = []  # (when, request, attempt) to send again
    in_flight = sent = retried = 0
    started, cpu = time.monotonic(), time.process_time()
    deadline = started + seconds if seconds is not None else None

    def more(now: float) -> bool:
        return now < deadline if deadline is not None else sent < n

    def send(i: int, attempt: int) -> None:
        nonlocal in_flight
        sock = socket.socket()
        sock.setblocking(False)
        sock.connect_ex(("127.0.0.1", port))
        # request, attempt, bytes to send, bytes sent, the answer's first bytes
        selector.register(sock, selectors.EVENT_WRITE, [i, attempt, wire[i % n], 0, b""])
        in_flight += 1

    def finish(sock, state, status: int) -> None:
        nonlocal in_flight, retried
        selector.unregister(sock)
        sock.close()
        in_flight -= 1
        i, attempt = state[0], state[1]
        if (status == 0 or status >= 500) and attempt < retries:
            retried += 1
            waiting.append((time.monotonic() + 0.05 * (attempt + 1), i, attempt + 1))
            return
        counts[status] = counts.get(status, 0) + 1
        if deadline is None:
            statuses[i] = status
        if 200 <= status < 300:
            second = int(time.monotonic() - started)
            per_second.extend([0] * (second + 1 - len(per_second)))
            per_second[second] += 1

    while True:
        now = time.monotonic()
        if waiting:
            due = [w for w in waiting if w[0] <= now]
            for w in due:
                waiting.remove(w)
                send(w[1], w[2])
        while in_flight + len(waiting) < concurrency and more(now):
            send(sent, 0)
            sent += 1
        if not in_flight and not waiting and not more(now):
            break
        for key, mask in selector.select(timeout=0.02):
            sock, state = key.fileobj, key.data
            try:
                if mask & selectors.EVENT_WRITE:
                    if sock.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR):
                        finish(sock, state, 0)
                        continue
                    state[3] += sock.send(state[2][state[3] :])
                    if state[3] == len(state[2]):
                        selector.modify(sock, selectors.EVENT_READ, state)
                else:
                    chunk = sock.recv(65536)
                    if chunk:
                        if len(state[4]) < 12:
                            state[4] += chunk[:12]
                    else:
                        head = state[4]
                        finish(sock, state, int(head[9:12]) if head.startswith(b"HTTP/1.") else 0)
            except (OSError, ValueError):
                finish(sock, state, 0)
    return {
        "statuses": statuses if deadline is None else None,
        "counts": counts,
        "per_second": per_second,
        "retries": retried,
        "sent": sent,
        "elapsed": time.monotonic() - started,
        "client_cpu": time.process_time() - cpu,
    }


if __name__ == "__main__":
    spec = json.loads(Path(sys.argv[1]).read_text())
    print(
        json.dumps(
            _run(spec["port"], spec["requests"], spec["concurrency"], spec["seconds"], spec["retries"])
        )
    )
