"""Signups under load while a worker is killed and PostgreSQL restarts: is anything lost?

    .venv/bin/python bench/faults.py [--db sqlite|postgresql|both] [--seconds 40] [--clients 32]

Starts the kit under gunicorn (gunicorn.conf.py, --workers worker processes) on a fresh SQLite
file or on the scratch PostgreSQL database in --postgres-url / BENCH_DATABASE_URL (its kit
tables are dropped and migrated afresh). --clients threads act as visitors: each loads the
demo page and signs up a unique address, over and over, for --seconds. A quarter of the way
in, one worker gets ``kill -9``; half-way (PostgreSQL only, and only with --restart-command,
run as root on the database host) the database restarts. Afterwards it checks that every
address that got the success redirect is stored exactly once, and prints: sent,
acknowledged, stored, lost (must be 0), duplicates (must be 0), errors seen by clients, and
the signup latency (median, p99) and throughput outside the fault windows.
"""

from __future__ import annotations

import argparse
import os
import re
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass
from dataclasses import field
from pathlib import Path

import requests

PROJECT_DIR = Path(__file__).resolve().parent.parent
PYTHON_BIN = Path(sys.executable).parent
FIELDS = re.compile(r'name="(csrf_token|rendered)" type="hidden" value="([^"]*)"')
UA = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/130.0"
DEFAULT_RESTART = "pg_ctlcluster --skip-systemctl-redirect {version} main restart"


@dataclass
class Attempt:
    email: str
    started: float
    seconds: float
    acknowledged: bool
    error: str = ""


@dataclass
class Run:
    attempts: list[Attempt] = field(default_factory=list)
    faults: list[tuple[str, float, float]] = field(default_factory=list)  # name, start, end
    lock: threading.Lock = field(default_factory=threading.Lock)


def free_port() -> int:
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def visitor(base: str, run: Run, stop: float, number: int) -> None:
    """One client thread: load the page, sign up a fresh address, repeat until ``stop``."""
    sequence = 0
    while time.monotonic() < stop:
        sequence += 1
        email = f"load-{number}-{sequence}@example.com"
        session = requests.Session()
        session.headers["User-Agent"] = UA
        started = time.monotonic()
        try:
            page = session.get(f"{base}/demo", timeout=10)
            if page.status_code != 200:  # a person would see the error page and retry later
                attempt = Attempt(email, started, 0, False, f"page HTTP {page.status_code}")
                with run.lock:
                    run.attempts.append(attempt)
                continue
            data = dict(FIELDS.findall(page.text))
            data.update(email=email, name="Load", consent="y")
            posted = time.monotonic()
            response = session.post(f"{base}/demo", data=data, timeout=10, allow_redirects=False)
            acknowledged = response.status_code == 302 and response.headers.get(
                "Location", ""
            ).endswith("/demo/thanks")
            error = "" if acknowledged else f"HTTP {response.status_code}"
            attempt = Attempt(email, posted, time.monotonic() - posted, acknowledged, error)
        except requests.RequestException as failure:
            attempt = Attempt(
                email, started, time.monotonic() - started, False, type(failure).__name__
            )
        with run.lock:
            run.attempts.append(attempt)


def gunicorn(env: dict[str, str], port: int, workers: int) -> subprocess.Popen:
    command = [
        str(PYTHON_BIN / "gunicorn"), "app:app", "-c", "gunicorn.conf.py",
        "--bind", f"127.0.0.1:{port}", "--workers", str(workers),
        "--access-logfile", "/dev/null",
    ]  # fmt: skip
    # The app's log (tracebacks of failed requests) goes to faults-<db>.log, not the terminal.
    log = open(PROJECT_DIR / "instance" / f"faults-{env['BENCH_LABEL']}.log", "w")  # noqa: SIM115
    process = subprocess.Popen(command, cwd=PROJECT_DIR, env=env, stdout=log, stderr=log)
    for _ in range(100):
        try:
            if requests.get(f"http://127.0.0.1:{port}/healthz", timeout=1).ok:
                return process
        except requests.RequestException:
            pass
        time.sleep(0.2)
    process.kill()
    raise SystemExit("gunicorn did not start")


def kill_one_worker(master: int) -> int:
    children = subprocess.run(["pgrep", "-P", str(master)], capture_output=True, text=True)
    victim = int(children.stdout.split()[0])
    os.kill(victim, signal.SIGKILL)
    return victim


def run_once(label: str, database_url: str, args: argparse.Namespace, restart: str | None) -> None:
    env = {
        **os.environ,
        "DATABASE_URL": database_url,
        "SECRET_KEY": "faults-bench-secret-key-0123456789abcdef",
        "RATELIMIT_ENABLED": "false",
        "MIN_SUBMIT_SECONDS": "0",
        "PROXY_FIX_HOPS": "0",
        "NEW_VISITORS_PER_ADDRESS": str(10**9),  # every client is 127.0.0.1: counted, never refused
        "FLASK_APP": "app",
        "BENCH_LABEL": label.lower(),
    }
    (PROJECT_DIR / "instance").mkdir(exist_ok=True)
    flask = [str(PYTHON_BIN / "flask")]
    subprocess.run([*flask, "db", "downgrade", "base"], cwd=PROJECT_DIR, env=env, check=False,
                   capture_output=True)  # fmt: skip
    subprocess.run([*flask, "db", "upgrade"], cwd=PROJECT_DIR, env=env, check=True,
                   capture_output=True)  # fmt: skip
    port = free_port()
    server = gunicorn(env, port, args.workers)
    base = f"http://127.0.0.1:{port}"
    run = Run()
    began = time.monotonic()
    stop = began + args.seconds
    clients = [
        threading.Thread(target=visitor, args=(base, run, stop, n), daemon=True)
        for n in range(args.clients)
    ]
    for client in clients:
        client.start()
    try:
        time.sleep(args.seconds / 4)
        at = time.monotonic()
        victim = kill_one_worker(server.pid)
        run.faults.append((f"kill -9 worker {victim}", at, at + 3))
        if restart:
            time.sleep(args.seconds / 4)
            at = time.monotonic()
            subprocess.run(restart, shell=True, check=True, capture_output=True)
            run.faults.append(("PostgreSQL restart", at, time.monotonic() + 3))
        for client in clients:
            client.join()
        healthy = requests.get(f"{base}/healthz", timeout=5).status_code == 200
        page_ok = requests.get(f"{base}/demo", headers={"User-Agent": UA}, timeout=5).ok
    finally:
        server.send_signal(signal.SIGTERM)
        server.wait(timeout=30)
    report(label, run, began, stop, database_url, env, healthy and page_ok)
    subprocess.run([*flask, "db", "downgrade", "base"], cwd=PROJECT_DIR, env=env, check=False,
                   capture_output=True)  # fmt: skip


def stored_emails(database_url: str) -> list[str]:
    sys.path.insert(0, str(PROJECT_DIR))
    from sqlalchemy import create_engine
    from sqlalchemy import text

    from kit.config import normalise_database_url

    engine = create_engine(normalise_database_url(database_url))
    with engine.connect() as connection:
        rows = connection.execute(text("SELECT email FROM signup WHERE email LIKE 'load-%'"))
        emails = [row[0] for row in rows]
    engine.dispose()
    return emails


def report(label, run, began, stop, database_url, env, serving) -> None:
    stored = stored_emails(database_url)
    stored_set = set(stored)
    acknowledged = [a for a in run.attempts if a.acknowledged]
    lost = [a.email for a in acknowledged if a.email not in stored_set]
    duplicates = len(stored) - len(stored_set)
    calm = [
        a
        for a in acknowledged
        if not any(start - 1 <= a.started <= end for _, start, end in run.faults)
    ]
    latencies = sorted(a.seconds * 1000 for a in calm)
    p99 = latencies[min(len(latencies) - 1, int(len(latencies) * 0.99))] if latencies else 0
    calm_seconds = (stop - began) - sum(end - start + 1 for _, start, end in run.faults)
    errors: dict[str, int] = {}
    for attempt in run.attempts:
        if attempt.error:
            errors[attempt.error] = errors.get(attempt.error, 0) + 1
    print(f"\n{label}")
    for name, start, _ in run.faults:
        print(f"  fault: {name} at {start - began:.1f} s")
    print(f"  sent {len(run.attempts)}, acknowledged {len(acknowledged)}, stored {len(stored)}, "
          f"lost {len(lost)}, duplicates {duplicates}")  # fmt: skip
    print(f"  client-side failures (not acknowledged, so not promised): {errors or 'none'}")
    if latencies:
        print(f"  signup POST outside fault windows: median {statistics.median(latencies):.1f} ms, "
              f"p99 {p99:.1f} ms, {len(calm) / calm_seconds:.0f} signups/s")  # fmt: skip
    print(f"  serving again after the faults: {'yes' if serving else 'NO'}")
    if lost or duplicates or not serving:
        raise SystemExit(f"{label}: FAILED (lost {len(lost)}, duplicates {duplicates})")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", choices=["sqlite", "postgresql", "both"], default="both")
    parser.add_argument("--seconds", type=float, default=40)
    parser.add_argument("--clients", type=int, default=32)
    parser.add_argument("--workers", type=int, default=3)
    parser.add_argument(
        "--postgres-url",
        default=os.environ.get("BENCH_DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/test"),
    )
    parser.add_argument(
        "--restart-command",
        default=None,
        help=f"how to restart PostgreSQL (e.g. '{DEFAULT_RESTART}'); "
        "default: the local cluster when run as root",
    )
    args = parser.parse_args()
    if args.db in ("sqlite", "both"):
        with tempfile.TemporaryDirectory() as folder:
            run_once("SQLite", f"sqlite:///{folder}/faults.sqlite3", args, None)
    if args.db in ("postgresql", "both"):
        restart = args.restart_command
        if restart is None and os.geteuid() == 0 and Path("/etc/postgresql").is_dir():
            version = sorted(os.listdir("/etc/postgresql"))[-1]
            restart = DEFAULT_RESTART.format(version=version)
        run_once("PostgreSQL", args.postgres_url, args, restart)


if __name__ == "__main__":
    main()
