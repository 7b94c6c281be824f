"""Does a worker's memory level off under a stream of new visitors? RSS per worker over time.

    .venv/bin/python bench/memory.py [--minutes 5] [--every 15]

Serves pages/demo.toml under gunicorn (the project's gunicorn.conf.py: 2 workers x 4 threads)
on a fresh SQLite file and sends only new visitors (no cookie: a new visitor id, a new CSRF
token, a new signed cookie, an exposure) from 2 processes x 4 keep-alive connections for
--minutes, printing every worker's resident memory every --every seconds. Every per-process
cache is bounded (opened cookies, signed CSRF tokens, rendered pages, bot checks, the exposure
queue), so the last two minutes should be flat; the script prints the growth over them.
"""

from __future__ import annotations

import argparse
import multiprocessing
import secrets
import sys
import tempfile
import time
from pathlib import Path

PROJECT_DIR = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(PROJECT_DIR))

from bench.landing import client_process  # noqa: E402
from bench.landing import gunicorn  # noqa: E402
from bench.landing import migrate  # noqa: E402


def worker_rss(master: int) -> dict[str, float]:
    """Resident memory in MiB of each of gunicorn's workers (children of ``master``)."""
    rss = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
            if fields[1] != str(master):
                continue
            status = (stat.parent / "status").read_text()
        except OSError:
            continue
        kilobytes = next(line for line in status.splitlines() if line.startswith("VmRSS:"))
        rss[stat.parent.name] = int(kilobytes.split()[1]) / 1024
    return rss


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--minutes", type=float, default=5.0)
    parser.add_argument("--every", type=float, default=15.0)
    parser.add_argument("--port", type=int, default=8310)
    options = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        database_url = f"sqlite:///{tmp}/memory.sqlite3"
        migrate(database_url)
        env = {
            "DATABASE_URL": database_url,
            "SECRET_KEY": secrets.token_hex(32),
            "ADMIN_PASSWORD": secrets.token_hex(16),
            "PROXY_FIX_HOPS": "1",  # the load's new visitors each come from their own network
        }
        with gunicorn("app:app", options.port, env) as master:
            samples: list[tuple[float, dict[str, float]]] = []
            started = time.monotonic()
            end = started + options.minutes * 60
            with multiprocessing.Pool(2) as pool:
                while time.monotonic() < end:
                    jobs = [(options.port, "/demo", [""], 1.0, options.every, 4, seed)
                            for seed in range(2)]  # fmt: skip
                    served = sum(done for done, _ in pool.map(client_process, jobs))
                    rss = worker_rss(master)
                    elapsed = time.monotonic() - started
                    samples.append((elapsed, rss))
                    shown = "  ".join(f"{mib:6.1f}" for _, mib in sorted(rss.items()))
                    print(f"  {elapsed:6.0f} s  {served:6,} new visitors  RSS MiB: {shown}")
    last = [(t, rss) for t, rss in samples if t >= samples[-1][0] - 120]
    first, final = last[0][1], last[-1][1]
    growth = {pid: final[pid] - first.get(pid, final[pid]) for pid in final}
    print("growth over the last two minutes, MiB per worker: "
          + ", ".join(f"{mib:+.1f}" for mib in growth.values()))  # fmt: skip


if __name__ == "__main__":
    main()
