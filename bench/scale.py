"""How the pages a waitlist of a million uses keep up as the list grows: 0, 100 k, 1 M signups.

    .venv/bin/python bench/scale.py [--db sqlite|postgresql|both] [--sizes 0,100000,1000000]
        [--runs 21] [--postgres-url postgresql://postgres@127.0.0.1:5432/test_bench]

For each size it grows the demo page (pages/demo.toml) to that many signups, each with its
exposure, every 20th referred by an earlier one, in a fresh SQLite file or a scratch
PostgreSQL database (its kit tables are dropped, migrated afresh and dropped again), then
times with Flask's test client (no network in the way; median and slowest of --runs):
the thank-you page and the private status page of someone in the middle of the list, a
signup POST, the per-page dashboard and the sources page. It also prints the time of the one
rebuild of the line after the bulk load (what an upgrade from a release without kept places
costs once) and, for each of those page views, how many statements it sent and the plan of
every one that reads the signup or exposure table, marked SCAN where it reads one in full.
Targets: thank-you and status p50 < 10 ms at 1 M on both databases, sources page
< 300 ms, no SCAN.
"""

from __future__ import annotations

import argparse
import os
import re
import statistics
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC
from datetime import datetime
from datetime import timedelta
from functools import partial
from pathlib import Path
from typing import Any

PROJECT_DIR = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(PROJECT_DIR))

from flask_migrate import downgrade  # noqa: E402
from flask_migrate import upgrade  # noqa: E402
from sqlalchemy import event  # noqa: E402
from sqlalchemy import insert  # noqa: E402
from sqlalchemy import select  # noqa: E402
from sqlalchemy import text  # noqa: E402

from kit import create_app  # noqa: E402
from kit import recount  # noqa: E402
from kit.config import normalise_database_url  # noqa: E402
from kit.models import DailyExposures  # noqa: E402
from kit.models import Exposure  # noqa: E402
from kit.models import Signup  # noqa: E402
from kit.models import db  # noqa: E402
from kit.waitlist.tokens import status_token  # noqa: E402

PASSWORD = "bench-password"
BATCH = 20_000
EXPERIMENT = "headline-test-1"
UA = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/130.0"


def grow(start: int, stop: int) -> None:
    """Add signups number ``start`` to ``stop`` (and their exposures) to the demo page."""
    first = datetime.now(UTC) - timedelta(days=90)
    for low in range(start, stop, BATCH):
        high = min(stop, low + BATCH)
        exposures, signups, days = [], [], {}
        for n in range(low, high):
            variant = "a" if n % 2 else "b"
            seen = first + timedelta(seconds=n * 7)
            days[variant, seen.date()] = days.get((variant, seen.date()), 0) + 1
            exposures.append(
                {"page": "demo", "experiment": EXPERIMENT, "variant": variant,
                 "visitor_key": f"{n:032x}", "first_seen": seen,
                 "utm_source": ("newsletter", "hn", None)[n % 3], "device": "desktop"}
            )  # fmt: skip
            signups.append(
                {"page": "demo", "email": f"p{n}@example.com", "email_key": f"p{n}@example.com",
                 "experiment": EXPERIMENT, "variant": variant, "visitor_key": f"{n:032x}",
                 "created_at": seen, "confirmed_at": seen, "share_code": f"s{n}"}
            )  # fmt: skip
        ids = dict(
            db.session.execute(
                insert(Exposure).returning(Exposure.visitor_key, Exposure.id), exposures
            ).all()
        )
        for row in signups:
            row["exposure_id"] = ids.get(row["visitor_key"])
        db.session.execute(insert(Signup), signups)
        for (variant, day), count in days.items():
            _add_daily(variant, day, count)
        db.session.commit()
        if db.engine.dialect.name == "postgresql":
            # Fresh statistics, or the foreign-key checks keep the plan they made for an empty
            # exposure table (a full scan per row: 120 signups/s by the 140 000th).
            db.session.execute(text("ANALYZE exposure, signup"))
            db.session.commit()
    # Every 20th person was referred by someone who joined earlier.
    db.session.execute(
        text(
            "UPDATE signup SET referrals = referrals + 1 WHERE page = 'demo' AND id IN "
            "(SELECT id FROM signup WHERE page = 'demo' ORDER BY id LIMIT :n)"
        ),
        {"n": (stop - start) // 20},
    )
    db.session.commit()
    recount.conversions()  # what the app records with each confirmed signup


def _add_daily(variant: str, day, count: int) -> None:
    row = db.session.scalar(
        select(DailyExposures).where(
            DailyExposures.page == "demo",
            DailyExposures.experiment == EXPERIMENT,
            DailyExposures.variant == variant,
            DailyExposures.day == day,
        )
    )
    if row is None:
        db.session.add(DailyExposures(page="demo", experiment=EXPERIMENT, variant=variant,
                                      day=day, visitors=count))  # fmt: skip
    else:
        row.visitors += count


def analyse_tables() -> None:
    if db.engine.dialect.name == "postgresql":
        with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
            connection.exec_driver_sql("VACUUM ANALYZE")
    else:
        db.session.execute(text("ANALYZE"))
        db.session.commit()


def timed(call, runs: int) -> str:
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        call()
        times.append((time.perf_counter() - started) * 1000)
    return f"median {statistics.median(times):8.1f} ms, slowest {max(times):8.1f} ms"


def sign_up(app, emails) -> None:
    """A new visitor opens the demo page and joins (its form asks for consent)."""
    client = app.test_client()
    client.environ_base["HTTP_USER_AGENT"] = UA
    html = client.get("/demo").get_data(as_text=True)
    fields = dict(re.findall(r'name="(csrf_token|rendered)" type="hidden" value="([^"]*)"', html))
    fields.update(email=next(emails), consent="y")
    assert client.post("/demo", data=fields).status_code == 302


TABLES = ("signup", "exposure")  # a page view must never read either in full
SCAN = {"sqlite": re.compile(r"\bSCAN (signup|exposure)\b"),
        "postgresql": re.compile(r"Seq Scan on (signup|exposure)\b")}  # fmt: skip


@contextmanager
def statements() -> Iterator[list[tuple[str, Any]]]:
    """Every statement the app sends to the database inside the block, with its parameters."""
    sent: list[tuple[str, Any]] = []

    def record(conn, cursor, statement, parameters, context, executemany) -> None:
        if not executemany:
            sent.append((statement, parameters))

    event.listen(db.engine, "before_cursor_execute", record)
    try:
        yield sent
    finally:
        event.remove(db.engine, "before_cursor_execute", record)


def plans(app, call) -> tuple[int, list[str]]:
    """Run ``call`` (one page view) once; return how many statements it sent and the plans
    (EXPLAIN, not run) of those that read the signup or exposure table, each flagged SCAN
    when it reads one of them in full."""
    with app.app_context():
        with statements() as sent:
            call()
        dialect = db.engine.dialect.name
        explain = "EXPLAIN QUERY PLAN " if dialect == "sqlite" else "EXPLAIN "
        out = []
        with db.engine.connect() as connection:
            for statement, parameters in sent:
                words = re.findall(r"\b(?:FROM|JOIN|UPDATE) (\w+)", statement)
                if not set(words) & set(TABLES) or statement.lstrip().startswith("INSERT"):
                    continue
                rows = connection.exec_driver_sql(explain + statement, parameters).all()
                plan = " | ".join(str(row[-1]).strip() for row in rows)
                flag = "SCAN " if SCAN[dialect].search(plan) else "ok   "
                out.append(f"{flag}{' '.join(statement.split())[:70]}...\n          {plan[:300]}")
    return len(sent), out


def show_plans(app, call) -> None:
    count, lines = plans(app, call)
    print(f"      {count} statements; those reading signup or exposure:")
    for plan in lines:
        print(f"        {plan}")


def run(database_url: str, sizes: list[int], runs: int) -> None:
    app = create_app(
        {
            "SQLALCHEMY_DATABASE_URI": database_url,
            "ADMIN_PASSWORD": PASSWORD,
            "SECRET_KEY": "bench-secret-key-that-is-long-enough",
            "TESTING": True,
            "OUTBOX_WORKER": False,
            "EXPOSURE_WRITER": False,
            "MIN_SUBMIT_SECONDS": 0,
            "RATELIMIT_ENABLED": False,
            # Every visitor here is 127.0.0.1: the cap on new visitors counts them, never refuses.
            "NEW_VISITORS_PER_ADDRESS": 10**9,
        }
    )
    with app.app_context():
        db.drop_all()
        with db.engine.begin() as connection:
            connection.exec_driver_sql("DROP TABLE IF EXISTS alembic_version")
        upgrade()
    admin = app.test_client()
    login = admin.get("/admin/login").get_data(as_text=True)
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', login)[1]
    admin.post("/admin/login", data={"csrf_token": token, "password": PASSWORD})
    have = 0
    try:
        for size in sizes:
            with app.app_context():
                grow(have, size)
                analyse_tables()
                page = app.extensions["pages"].pages["demo"]
                # The bulk load bypassed the app, as rows from before an upgrade do: number
                # them the way the first use after an upgrade does.
                started = time.perf_counter()
                recount.lines([page])
                build = (time.perf_counter() - started) * 1000
                analyse_tables()
            have = size
            print(f"  {size:>9,} signups (the new ones numbered in {build:,.0f} ms)")
            if size:
                with app.app_context():
                    middle = db.session.scalar(
                        select(Signup).where(Signup.page == "demo", Signup.line_seq == size // 2)
                    )
                    status = f"/demo/status/{status_token(middle)}"
                visitor = app.test_client()
                visitor.environ_base["HTTP_USER_AGENT"] = UA
                with visitor.session_transaction() as cookie:
                    cookie["mine"] = {"demo": middle.share_code}
                for label, url in (("thank-you", "/demo/thanks"), ("status", status)):
                    print(f"    {label:<10} {timed(partial(visitor.get, url), runs)}")
                    show_plans(app, partial(visitor.get, url))
            emails = (f"bench{size}-{n}@example.com" for n in range(runs + 1))
            poster = partial(sign_up, app, emails)
            print(f"    {'signup':<10} {timed(poster, runs)}  (page view + POST)")
            if size:
                show_plans(app, poster)
            for label, url in (("dashboard", "/admin/demo"), ("sources", "/admin/demo/sources")):
                print(f"    {label:<10} {timed(partial(admin.get, url), max(3, runs // 4))}")
                if size:
                    show_plans(app, partial(admin.get, url))
    finally:
        with app.app_context():
            downgrade(revision="base")
            db.drop_all()
            db.engine.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", choices=["sqlite", "postgresql", "both"], default="both")
    parser.add_argument("--sizes", default="0,100000,1000000")
    parser.add_argument("--runs", type=int, default=21)
    parser.add_argument(
        "--postgres-url",
        default=os.environ.get("BENCH_DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/test"),
    )
    args = parser.parse_args()
    sizes = [int(size) for size in args.sizes.split(",")]
    if args.db in ("sqlite", "both"):
        with tempfile.TemporaryDirectory() as tmp:
            print("SQLite")
            run(f"sqlite:///{tmp}/bench.sqlite3", sizes, args.runs)
    if args.db in ("postgresql", "both"):
        print("PostgreSQL")
        run(normalise_database_url(args.postgres_url), sizes, args.runs)


if __name__ == "__main__":
    main()
