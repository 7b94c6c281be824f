"""Server CPU of a signup POST against a bare Flask request, under the same gunicorn settings.

    .venv/bin/python bench/signup_cpu.py [--db sqlite|postgresql|both] [--signups 2000]
        [--rounds 5] [--postgres-url postgresql://postgres@127.0.0.1:5432/test_bench]

The kit serves pages/demo.toml in production mode (gunicorn.conf.py, 2 workers x 4 threads;
no mail or webhook set up, rate limits off, MIN_SUBMIT_SECONDS=0). First --signups visitors
each open the page (cookie, CSRF token, signed render time); then, while the server's CPU
time is read before and after, they all send the form from 4 keep-alive connections. The same
number of GETs to bench/hello_app.py gives the bare request's CPU. Prints CPU per request and
the ratio for each of --rounds rounds, then the ratio of the medians (the goal: at most
6x on SQLite, 8x on PostgreSQL).
"""

from __future__ import annotations

import argparse
import http.client
import os
import re
import secrets
import statistics
import sys
import tempfile
import threading
from pathlib import Path
from urllib.parse import urlencode

PROJECT_DIR = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(PROJECT_DIR))

from bench.landing import BROWSER_UA  # noqa: E402
from bench.landing import cpu_by_process  # noqa: E402
from bench.landing import drop_kit_tables  # noqa: E402
from bench.landing import gunicorn  # noqa: E402
from bench.landing import migrate  # noqa: E402

CONNECTIONS = 4
FIELDS = re.compile(r'name="(csrf_token|rendered)" type="hidden" value="([^"]*)"')


def send_all(port: int, requests: list[tuple[str, str, str, dict[str, str]]]) -> int:
    """Send (method, path, body, headers) requests over CONNECTIONS keep-alive connections;
    returns how many did not get the expected answer (302 for a POST, 200 for a GET)."""
    failures = []

    def run(share: list) -> None:
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        for method, path, body, headers in share:
            connection.request(method, path, body=body or None, headers=headers)
            response = connection.getresponse()
            response.read()
            if response.status != (302 if method == "POST" else 200):
                failures.append(response.status)
        connection.close()

    threads = [
        threading.Thread(target=run, args=(requests[n::CONNECTIONS],)) for n in range(CONNECTIONS)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return len(failures)


def measured(port: int, server: int, requests: list) -> float:
    """Server CPU microseconds per request while sending ``requests``."""
    before = sum(cpu_by_process(server).values())
    failures = send_all(port, requests)
    used = sum(cpu_by_process(server).values()) - before
    if failures:
        raise SystemExit(f"{failures} of {len(requests)} requests failed")
    return used / len(requests) * 1e6


def visitors(port: int, count: int) -> list[tuple[str, str, str, dict[str, str]]]:
    """``count`` new visitors open the page; their form posts, ready to send."""
    posts = []
    for n in range(count):
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        # Each visitor from a network of its own, as the cap on new visitors per address counts.
        address = f"10.{n // 65536 % 256}.{n // 256 % 256}.{n % 256}"
        connection.request(
            "GET", "/demo", headers={"User-Agent": BROWSER_UA, "X-Forwarded-For": address}
        )
        response = connection.getresponse()
        html = response.read().decode()
        cookie = (response.getheader("Set-Cookie") or "").split(";")[0]
        connection.close()
        fields = dict(FIELDS.findall(html))
        fields.update(email=f"cpu{n}-{secrets.token_hex(4)}@example.com", consent="y")
        headers = {"User-Agent": BROWSER_UA, "Cookie": cookie, "X-Forwarded-For": address,
                   "Content-Type": "application/x-www-form-urlencoded"}  # fmt: skip
        posts.append(("POST", "/demo", urlencode(fields), headers))
    return posts


def run(label: str, database_url: str, options) -> None:
    """--rounds rounds of (signups, bare requests); each round's figures, then the medians'
    ratio (a bare request's CPU varies by a third from run to run on a shared machine)."""
    migrate(database_url)
    env = {"DATABASE_URL": database_url, "SECRET_KEY": secrets.token_hex(32),
           "ADMIN_PASSWORD": secrets.token_hex(16), "RATELIMIT_ENABLED": "false",
           "MIN_SUBMIT_SECONDS": "0", "PROXY_FIX_HOPS": "1"}  # fmt: skip
    signups, hellos = [], []
    try:
        for _ in range(options.rounds):
            with gunicorn("app:app", options.port, env) as server:
                posts = visitors(options.port, options.signups)
                signups.append(measured(options.port, server, posts))
            get = ("GET", "/", "", {"User-Agent": BROWSER_UA})
            with gunicorn("bench.hello_app:app", options.port + 1, {}) as server:
                hellos.append(measured(options.port + 1, server, [get] * options.signups))
            print(f"{label:<11} signup POST {signups[-1]:6.0f} us, bare request "
                  f"{hellos[-1]:4.0f} us: {signups[-1] / hellos[-1]:.1f}x")  # fmt: skip
    finally:
        if database_url.startswith("postgres"):
            drop_kit_tables(database_url)
    signup, hello = statistics.median(signups), statistics.median(hellos)
    print(f"{label:<11} median of {options.rounds}: signup POST {signup:6.0f} us, bare request "
          f"{hello:4.0f} us: {signup / hello:.1f}x")  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", choices=["sqlite", "postgresql", "both"], default="both")
    parser.add_argument("--signups", type=int, default=2000)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--port", type=int, default=8320)
    parser.add_argument(
        "--postgres-url",
        default=os.environ.get("BENCH_DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/test"),
    )
    options = parser.parse_args()
    if options.db in ("sqlite", "both"):
        with tempfile.TemporaryDirectory() as tmp:
            run("SQLite", f"sqlite:///{tmp}/signup.sqlite3", options)
    if options.db in ("postgresql", "both"):
        drop_kit_tables(options.postgres_url)
        run("PostgreSQL", options.postgres_url, options)


if __name__ == "__main__":
    main()
