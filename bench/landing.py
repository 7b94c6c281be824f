"""Requests per second of the landing page against a bare Flask "hello" app, under gunicorn.

    .venv/bin/python bench/landing.py [--db sqlite|postgresql|both] [--seconds 10]

Both apps run under gunicorn with the project's own gunicorn.conf.py, so with the settings a
deploy gets: WEB_CONCURRENCY=2 workers of GUNICORN_THREADS=4 threads (the gthread worker),
access log on stdout. The kit serves pages/demo.toml (the two-variant experiment) in
production mode: a fresh SQLite file migrated with ``flask db upgrade``, or the PostgreSQL
database in --postgres-url / BENCH_DATABASE_URL (a scratch database: its kit tables are
dropped, migrated afresh and dropped again afterwards).

The load generator is plain Python (no extra tools): --processes processes of --threads
threads, each thread a keep-alive HTTP connection sending GET requests back to back for
--seconds after a short warm-up. A share of them (--new, default 50 %) come from new
visitors without a cookie, each from a network address of its own (X-Forwarded-For, believed
as behind a PaaS router, so the cap on new visitors per address counts but never refuses), so
the kit assigns a variant and writes an exposure row; the rest
carry the cookie of one of 200 returning visitors, whose views write nothing. Both apps get
the very same requests. The client shares the machine's CPUs with the server, like any
single-box benchmark, so compare the ratio, not the absolute numbers, across machines.

The bare app is measured right before and right after the kit, and its two runs are pooled.
With a few keep-alive connections gunicorn can put all of them on one of its two workers and
halve a run: each measurement prints the busiest worker's share of the workers' CPU, and one
above 80 % is reported and measured again (up to three times).
Prints requests/s for each target and the ratio kit/bare (the goal is at least 70 %), and
for scale the ratio of bench/floor_app.py: a Flask page that does only the cookie, the
assignment and the CSRF token, the least any page meeting the goal's requirements does.
"""

from __future__ import annotations

import argparse
import http.client
import multiprocessing
import os
import random
import secrets
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

PROJECT_DIR = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(PROJECT_DIR))

from kit.config import normalise_database_url  # noqa: E402

PYTHON_BIN = Path(sys.executable).parent
BROWSER_UA = (
    "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/130.0.0.0 Safari/537.36"
)
RETURNING_VISITORS = 200
WARM_UP_SECONDS = 2.0


@dataclass
class Result:
    name: str
    requests: int
    errors: int
    seconds: float
    server_cpu: float = 0.0  # CPU seconds gunicorn's processes used while measured

    @property
    def rate(self) -> float:
        return self.requests / self.seconds

    @property
    def cpu_per_request(self) -> float:
        """Server CPU microseconds per answered request: where the time goes, less noisy."""
        return self.server_cpu / max(self.requests, 1) * 1e6


def cpu_by_process(pid: int) -> dict[str, float]:
    """CPU time (user + system) of a process and of each of its children (gunicorn's master
    and workers), by pid, Linux."""
    seconds = {}
    tick = os.sysconf("SC_CLK_TCK")
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue  # the process ended while we looked
        if stat.parent.name == str(pid) or fields[1] == str(pid):
            seconds[stat.parent.name] = (int(fields[11]) + int(fields[12])) / tick
    return seconds


UNBALANCED = 0.8  # one of two workers did more than this share of the work: not a fair run
ATTEMPTS = 3


def busiest_share(before: dict[str, float], after: dict[str, float], master: int) -> float:
    """The share of the workers' CPU the busiest worker used between two readings. With a
    few keep-alive connections gunicorn can put them all on one worker, which halves a run."""
    used = [after[p] - before.get(p, 0.0) for p in after if p != str(master)]
    total = sum(used)
    return max(used) / total if total > 0 else 0.0


def free(port: int) -> bool:
    with socket.socket() as probe:
        return probe.connect_ex(("127.0.0.1", port)) != 0


@contextmanager
def gunicorn(app: str, port: int, env: dict[str, str]) -> Iterator[int]:
    """Run ``gunicorn app`` with the project's gunicorn.conf.py until the block ends."""
    if not free(port):
        raise SystemExit(f"port {port} is busy; pick another with --port")
    environment = {
        **os.environ,
        "PORT": str(port),
        "WEB_CONCURRENCY": "2",
        "GUNICORN_THREADS": "4",
        **env,
    }
    process = subprocess.Popen(
        [str(PYTHON_BIN / "gunicorn"), "--config", "gunicorn.conf.py", app],
        cwd=PROJECT_DIR,
        env=environment,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        deadline = time.monotonic() + 30
        while free(port):
            if process.poll() is not None or time.monotonic() > deadline:
                raise SystemExit(f"gunicorn {app} did not start:\n{process.stderr.read()[-3000:]}")
            time.sleep(0.1)
        yield process.pid
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def get(port: int, path: str, cookie: str | None = None) -> tuple[int, str, str]:
    """One GET on a fresh connection: status, body and the visitor cookie it set."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    headers = {"User-Agent": BROWSER_UA}
    if cookie:
        headers["Cookie"] = cookie
    connection.request("GET", path, headers=headers)
    response = connection.getresponse()
    body = response.read().decode()
    set_cookie = response.getheader("Set-Cookie") or ""
    connection.close()
    return response.status, body, set_cookie.split(";")[0]


def returning_cookies(port: int, path: str) -> list[str]:
    """Cookies of visitors who have already seen the page (and so have their exposure)."""
    cookies = []
    for _ in range(RETURNING_VISITORS):
        status, _, cookie = get(port, path)
        if status != 200 or not cookie:
            raise SystemExit(f"GET {path} answered {status} without a cookie")
        cookies.append(cookie)
    return cookies


def hammer(port: int, path: str, cookies: list[str], new: float, seconds: float, seed: int):
    """One thread: send requests on a keep-alive connection until time is up."""
    rng = random.Random(seed)
    done = errors = 0
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        headers = {"User-Agent": BROWSER_UA}
        if rng.random() >= new:
            headers["Cookie"] = rng.choice(cookies)
        else:  # a new visitor from a network of its own, as the cap on new visitors counts them
            headers["X-Forwarded-For"] = (
                f"10.{rng.randrange(256)}.{rng.randrange(256)}.{rng.randrange(1, 255)}"
            )
        try:
            connection.request("GET", path, headers=headers)
            response = connection.getresponse()
            response.read()
            if response.status == 200:
                done += 1
            else:
                errors += 1
            if response.getheader("Connection", "").lower() == "close":
                connection.close()
        except (OSError, http.client.HTTPException):
            errors += 1
            connection.close()
    connection.close()
    return done, errors


def client_process(args: tuple) -> tuple[int, int]:
    """One load-generator process: ``threads`` threads hammering for ``seconds``."""
    port, path, cookies, new, seconds, threads, seed = args
    results: list[tuple[int, int]] = []

    def run(index: int) -> None:
        results.append(hammer(port, path, cookies, new, seconds, seed * 1000 + index))

    workers = [threading.Thread(target=run, args=(i,)) for i in range(threads)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    return sum(r[0] for r in results), sum(r[1] for r in results)


def load(name: str, port: int, path: str, cookies: list[str], options, server: int) -> Result:
    """Warm up, then measure requests per second with the configured client pool; a run in
    which one worker did nearly all the work is reported and measured again (3 tries)."""
    with multiprocessing.Pool(options.processes) as pool:
        for attempt, seconds in enumerate([WARM_UP_SECONDS] + [options.seconds] * ATTEMPTS):
            jobs = [
                (port, path, cookies, options.new, seconds, options.threads, seed)
                for seed in range(options.processes)
            ]
            cpu_before = cpu_by_process(server)
            started = time.monotonic()
            counts = pool.map(client_process, jobs)
            elapsed = time.monotonic() - started
            cpu_after = cpu_by_process(server)
            if attempt == 0:
                continue  # the warm-up
            share = busiest_share(cpu_before, cpu_after, server)
            if share <= UNBALANCED:
                break
            print(f"  {name}: one worker did {share:.0%} of the work (unbalanced), again")
    cpu = sum(cpu_after.values()) - sum(cpu_before.values())
    result = Result(name, sum(c[0] for c in counts), sum(c[1] for c in counts), elapsed, cpu)
    print(f"  {name}: busiest worker {share:.0%} of the workers' CPU")
    return result


def migrate(database_url: str) -> None:
    """Create the kit's tables the production way: ``flask db upgrade``."""
    env = {**os.environ, "DATABASE_URL": database_url}
    subprocess.run(
        [str(PYTHON_BIN / "flask"), "--app", "app", "db", "upgrade"],
        cwd=PROJECT_DIR,
        env=env,
        check=True,
        capture_output=True,
    )


def drop_kit_tables(database_url: str) -> None:
    """Empty a scratch database of the kit's tables, so a migration starts from nothing."""
    from sqlalchemy import create_engine
    from sqlalchemy import text

    from kit.models import db

    engine = create_engine(normalise_database_url(database_url))
    db.metadata.drop_all(engine)
    with engine.begin() as connection:
        connection.execute(text("DROP TABLE IF EXISTS alembic_version"))
    engine.dispose()


def exposure_count(database_url: str) -> int:
    from sqlalchemy import create_engine
    from sqlalchemy import text

    engine = create_engine(normalise_database_url(database_url))
    with engine.connect() as connection:
        count = connection.execute(text("SELECT count(*) FROM exposure")).scalar_one()
    engine.dispose()
    return count


def bench_kit(label: str, database_url: str, port: int, options, cookies_for_hello) -> Result:
    env = {
        "DATABASE_URL": database_url,
        "SECRET_KEY": secrets.token_hex(32),
        "ADMIN_PASSWORD": secrets.token_hex(16),
        "HOME_PAGE": "demo",
        "PROXY_FIX_HOPS": "1",  # believe the load's X-Forwarded-For, as on a PaaS
    }
    with gunicorn("app:app", port, env) as server:
        status, body, _ = get(port, "/demo")
        if status != 200 or "Tidyday" not in body:
            raise SystemExit(f"the kit did not serve /demo ({status})")
        cookies = returning_cookies(port, "/demo")
        cookies_for_hello.extend(cookies)
        time.sleep(1)  # the workers' writer threads store those visitors' exposures
        before = exposure_count(database_url)
        result = load(f"kit /demo, {label}", port, "/demo", cookies, options, server)
    written = exposure_count(database_url) - before  # after the workers wrote their queues
    print(f"  {result.name}: {written} exposures written by new visitors, {result.errors} errors")
    return result


def bench_floor(port: int, options) -> Result:
    with gunicorn("bench.floor_app:app", port, {"SECRET_KEY": secrets.token_hex(32)}) as server:
        cookies = returning_cookies(port, "/demo")
        return load("floor (cookie + CSRF only)", port, "/demo", cookies, options, server)


def bench_hello(port: int, options, cookies: list[str]) -> Result:
    with gunicorn("bench.hello_app:app", port, {}) as server:
        return load("bare Flask hello", port, "/", cookies, options, server)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", choices=["sqlite", "postgresql", "both"], default="both")
    parser.add_argument("--seconds", type=float, default=10.0, help="per target (default 10)")
    parser.add_argument("--processes", type=int, default=2, help="client processes (default 2)")
    parser.add_argument("--threads", type=int, default=4, help="threads per process (default 4)")
    parser.add_argument("--new", type=float, default=0.5, help="share of new visitors (0.5)")
    parser.add_argument("--port", type=int, default=8300, help="first of three ports (8300)")
    parser.add_argument(
        "--postgres-url",
        default=os.environ.get("BENCH_DATABASE_URL", ""),
        help="scratch PostgreSQL database (default: $BENCH_DATABASE_URL)",
    )
    options = parser.parse_args()
    backends = ["sqlite", "postgresql"] if options.db == "both" else [options.db]
    if "postgresql" in backends and not options.postgres_url:
        raise SystemExit("PostgreSQL: pass --postgres-url or set BENCH_DATABASE_URL")

    print(
        f"gunicorn gunicorn.conf.py: 2 workers x 4 threads (gthread); client: "
        f"{options.processes} processes x {options.threads} keep-alive connections, "
        f"{options.new:.0%} new visitors, {options.seconds:g} s per target, "
        f"{os.cpu_count()} CPUs shared by client and server"
    )
    rows = []
    with tempfile.TemporaryDirectory() as folder:
        for offset, backend in enumerate(backends, start=1):
            if backend == "sqlite":
                url = f"sqlite:///{Path(folder) / 'bench.sqlite3'}"
            else:
                url = options.postgres_url
                drop_kit_tables(url)
            migrate(url)
            # The baseline runs right before and right after the kit, so other load on the
            # machine weighs on both sides of the ratio alike. It ignores cookies; it gets
            # ones as long as the kit's, so the requests are the same size.
            before = bench_hello(options.port, options, [f"session={'x' * 200}"])
            cookies: list[str] = []
            try:
                kit = bench_kit(backend, url, options.port + offset, options, cookies)
            finally:
                if backend == "postgresql":
                    drop_kit_tables(url)
            floor = bench_floor(options.port + offset, options)
            after = bench_hello(options.port, options, cookies)
            hello = Result(
                "bare Flask hello",
                before.requests + after.requests,
                before.errors + after.errors,
                before.seconds + after.seconds,
                before.server_cpu + after.server_cpu,
            )
            rows.append((backend, hello, kit, floor))

    print()
    print(f"{'database':<11} {'bare hello req/s':>17} {'kit /demo req/s':>16} {'kit/bare':>9}")
    for backend, hello, kit, floor in rows:
        ratio = kit.rate / hello.rate
        verdict = "ok" if ratio >= 0.7 else "below the 70 % goal"
        print(f"{backend:<11} {hello.rate:>17.0f} {kit.rate:>16.0f} {ratio:>8.0%}  {verdict}")
        print(
            f"{'':<11} server CPU per request: hello {hello.cpu_per_request:.0f} us, "
            f"kit {kit.cpu_per_request:.0f} us"
        )
        print(
            f"{'':<11} floor (bench/floor_app.py: cookie, assignment, CSRF token; no database, "
            f"template or headers): {floor.rate:.0f} req/s = {floor.rate / hello.rate:.0%}, "
            f"CPU per request {floor.cpu_per_request:.0f} us"
        )
        print(
            f"{'':<11} kit against the floor: {kit.rate / floor.rate:.0%} of its requests/s, "
            f"{floor.cpu_per_request / kit.cpu_per_request:.0%} of its CPU per request "
            "(the steadier figure: requests/s also move with how the load generator is scheduled)"
        )
        for result in (hello, kit, floor):
            if result.errors:
                print(f"  {result.name}: {result.errors} failed requests")


if __name__ == "__main__":
    main()
