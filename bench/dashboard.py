"""How long the per-page dashboard takes with 1 000 000 exposures and 100 000 signups.

    .venv/bin/python bench/dashboard.py [--db sqlite|postgresql|both] [--runs 7]

Seeds one page (pages/demo.toml, its two-variant experiment) with --exposures exposures and
--signups signups spread over 90 days, with UTM sources, referrers, goal clicks, a paid
pre-order from one visitor in 500 and a month of ad spend per paid source, in a fresh
SQLite file or in the PostgreSQL database from --postgres-url / BENCH_DATABASE_URL (a scratch
database: its kit tables are dropped, migrated afresh and dropped again afterwards). Then it
logs into the dashboard with Flask's test client (no network in the way) and times each admin
page --runs times, printing the median and the slowest run. The goal for /admin/<page> is
under 300 ms. For scale it also times the bare landing page in the same run.
"""

from __future__ import annotations

import argparse
import os
import random
import re
import statistics
import sys
import tempfile
import time
from collections import Counter
from datetime import UTC
from datetime import date
from datetime import datetime
from datetime import timedelta
from pathlib import Path

PROJECT_DIR = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(PROJECT_DIR))

from flask_migrate import downgrade  # noqa: E402
from flask_migrate import upgrade  # noqa: E402
from sqlalchemy import insert  # noqa: E402

from kit import create_app  # noqa: E402
from kit import recount  # noqa: E402
from kit.config import normalise_database_url  # noqa: E402
from kit.models import AdSpend  # noqa: E402
from kit.models import DailyExposures  # noqa: E402
from kit.models import Exposure  # noqa: E402
from kit.models import GoalClick  # noqa: E402
from kit.models import PreOrder  # noqa: E402
from kit.models import Signup  # noqa: E402
from kit.models import db  # noqa: E402

PASSWORD = "bench-password"
SOURCES = [None, None, "newsletter", "twitter", "hn", "producthunt"]
REFERRERS = [None, None, "news.ycombinator.com", "t.co", "google.com"]
BATCH = 20_000


def seed(exposures: int, signups: int, days: int = 90) -> None:
    """Bulk-insert the rows in batches (executemany), like months of real traffic."""
    rng = random.Random(1)
    start = datetime.now(UTC) - timedelta(days=days)
    signup_every = exposures // signups
    exposure_rows, signup_rows, click_rows, preorder_rows = [], [], [], []
    daily: Counter = Counter()
    for n in range(exposures):
        variant = "a" if n % 2 else "b"
        seen = start + timedelta(seconds=n * days * 86400 // exposures)
        daily[variant, seen.date()] += 1
        exposure_rows.append(
            {
                "page": "demo",
                "experiment": "headline-test-1",
                "variant": variant,
                "visitor_key": f"{n:032x}",
                "first_seen": seen,
                "utm_source": rng.choice(SOURCES),
                "referrer_host": rng.choice(REFERRERS),
                "device": "mobile" if rng.random() < 0.4 else "desktop",
            }
        )
        if n % signup_every == 0 and len(signup_rows) < signups:
            signup_rows.append(
                {
                    "page": "demo",
                    "email": f"person{n}@example.com",
                    "email_key": f"person{n}@example.com",
                    "experiment": "headline-test-1",
                    "variant": variant,
                    "exposure_id": n + 1,
                    "created_at": seen + timedelta(minutes=3),
                    "confirmed_at": seen + timedelta(minutes=3),
                }
            )
        if n % 37 == 0:
            click_rows.append(
                {
                    "page": "demo",
                    "experiment": "headline-test-1",
                    "variant": variant,
                    "goal": "buy-team" if n % 2 else "buy-personal",
                    "visitor_key": f"{n:032x}",
                    "created_at": seen,
                }
            )
        if n % 500 == 0:  # one visitor in 500 pays for a pre-order (one in ten refunded)
            preorder_rows.append(
                {
                    "checkout_session": f"cs_{n}", "payment_intent": f"pi_{n}", "page": "demo",
                    "experiment": "headline-test-1", "variant": variant, "tier": "Team",
                    "visitor_key": f"{n:032x}", "amount": 4900, "currency": "USD",
                    "refunded": 4900 if n % 5000 == 0 else 0, "created_at": seen,
                    "utm_source": exposure_rows[-1]["utm_source"],
                }
            )  # fmt: skip
        if len(exposure_rows) == BATCH:
            _flush(Exposure, exposure_rows)
    counters = [
        {"page": "demo", "experiment": "headline-test-1", "variant": v, "day": d, "visitors": n}
        for (v, d), n in daily.items()
    ]
    for model, rows in (
        (Exposure, exposure_rows),
        (DailyExposures, counters),
        (Signup, signup_rows),
        (GoalClick, click_rows),
        (PreOrder, preorder_rows),
        (AdSpend, _spend(start.date(), days)),
    ):
        _flush(model, rows)
    db.session.commit()
    recount.conversions()  # what the app records with each confirmed signup
    if db.engine.dialect.name == "postgresql":
        with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
            connection.exec_driver_sql("VACUUM ANALYZE")
    else:
        db.session.execute(db.text("ANALYZE"))
        db.session.commit()


def _spend(first: date, days: int) -> list[dict]:
    """A month of ads per paid source, each month its own entry."""
    return [
        {
            "page": "demo",
            "utm_source": source,
            "utm_campaign": "",
            "amount": 30_000,
            "currency": "USD",
            "first_day": first + timedelta(days=month * 30),
            "last_day": first + timedelta(days=month * 30 + 29),
        }  # fmt: skip
        for source in ("twitter", "producthunt")
        for month in range(days // 30)
    ]


def _flush(model: type, rows: list[dict]) -> None:
    for start in range(0, len(rows), BATCH):
        db.session.execute(insert(model), rows[start : start + BATCH])
    rows.clear()


def timed(client, url: str, runs: int) -> tuple[float, float]:
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        response = client.get(url)
        times.append((time.perf_counter() - started) * 1000)
        assert response.status_code == 200, (url, response.status_code)
    return statistics.median(times), max(times)


def run(database_url: str, exposures: int, signups: int, runs: int) -> None:
    app = create_app(
        {
            "SQLALCHEMY_DATABASE_URI": database_url,
            "ADMIN_PASSWORD": PASSWORD,
            "SECRET_KEY": "bench-secret-key-long-enough-xxxxxxxx",
            "PAGES_DIR": str(PROJECT_DIR / "pages"),
            "RATELIMIT_ENABLED": False,
        }
    )
    with app.app_context():
        upgrade(directory=str(PROJECT_DIR / "migrations"))
        try:
            started = time.perf_counter()
            seed(exposures, signups)
            print(
                f"  seeded {exposures:,} exposures, {signups:,} signups "
                f"in {time.perf_counter() - started:.0f} s"
            )
            client = app.test_client()
            client.environ_base["HTTP_USER_AGENT"] = "Mozilla/5.0 (X11; Linux x86_64) Chrome/130"
            page = client.get("/admin/login").get_data(as_text=True)
            token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page).group(1)
            client.post("/admin/login", data={"csrf_token": token, "password": PASSWORD})
            for label, url in [
                ("landing page (for scale)", "/demo"),
                ("per-page dashboard", "/admin/demo"),
                ("overview", "/admin/"),
                ("sources", "/admin/demo/sources"),
                ("signups list, page 1", "/admin/demo/signups"),
                ("signups search", "/admin/demo/signups?q=person12"),
            ]:
                median, worst = timed(client, url, runs)
                goal = "  (goal < 300 ms)" if url == "/admin/demo" else ""
                print(f"  {label:<26} median {median:7.1f} ms   slowest {worst:7.1f} ms{goal}")
        finally:
            # This app's threads must not poll a database the next run has dropped.
            app.extensions["outbox"].stop()
            app.extensions["exposures"].stop()
            db.session.remove()
            downgrade(directory=str(PROJECT_DIR / "migrations"), revision="base")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", choices=["sqlite", "postgresql", "both"], default="both")
    parser.add_argument("--exposures", type=int, default=1_000_000)
    parser.add_argument("--signups", type=int, default=100_000)
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument(
        "--postgres-url",
        default=os.environ.get("BENCH_DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/test"),
    )
    args = parser.parse_args()
    if args.db in ("sqlite", "both"):
        with tempfile.TemporaryDirectory() as folder:
            print("SQLite")
            run(f"sqlite:///{folder}/bench.sqlite3", args.exposures, args.signups, args.runs)
    if args.db in ("postgresql", "both"):
        print("PostgreSQL")
        run(normalise_database_url(args.postgres_url), args.exposures, args.signups, args.runs)


if __name__ == "__main__":
    main()
