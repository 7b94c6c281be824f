"""Does the server's timing tell who is on a double opt-in list? Median gap, listed vs new.

    .venv/bin/python bench/membership.py [--db sqlite|postgresql|both] [--samples 200]
        [--postgres-url postgresql://postgres@127.0.0.1:5432/test_bench]

For the signup form and the status-link request of tests/pages/optin.toml, --samples new
addresses and --samples addresses already on the list (confirmed, not mailed lately) are sent
in alternating order, each from a new browser through Flask's test client, with mail,
webhooks, Slack and Buttondown configured; it prints the median time of each POST and the
gap. The goal is a gap under 0.5 ms; tests/scenarios/test_membership.py asserts under 1 ms
with the same code. A scratch PostgreSQL database: its tables are dropped.
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
from pathlib import Path

PROJECT_DIR = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(PROJECT_DIR))

from kit import create_app  # noqa: E402
from kit.config import normalise_database_url  # noqa: E402
from kit.models import db  # noqa: E402
from tests.scenarios.test_membership import median_gap_ms  # noqa: E402
from tests.scenarios.test_membership import members  # noqa: E402


def run(database_url: str, pages: Path, samples: int) -> None:
    app = create_app(
        {
            "TESTING": True,
            "SECRET_KEY": "bench-secret-key-that-is-long-enough",
            "SQLALCHEMY_DATABASE_URI": database_url,
            "PAGES_DIR": str(pages),
            "OUTBOX_WORKER": False,
            "EXPOSURE_WRITER": False,
            "MIN_SUBMIT_SECONDS": 0,
            "RATELIMIT_ENABLED": False,
            # Every visitor here is 127.0.0.1: the cap on new visitors counts them, never refuses.
            "NEW_VISITORS_PER_ADDRESS": 10**9,
            "MAIL_URL": "smtp://127.0.0.1:9",  # mail is only queued here
            "MAIL_FROM": "bench@example.com",
            # Every receiver, as tests/scenarios/test_membership.py sets them (nothing is sent).
            "WEBHOOK_URLS": "https://hooks.example.com/in,slack:https://hooks.slack.com/x",
            "BUTTONDOWN_API_KEY": "bench-key",
        }
    )
    with app.app_context():
        db.drop_all()
        db.create_all()
    try:
        listed = members(app, 2 * samples)
        for what, path, known in (
            ("signup", "/optin", listed[:samples]),
            ("status link", "/optin/status", listed[samples:]),
        ):
            strangers = [f"{what[:6]}-new{n}@example.com" for n in range(samples)]
            gap = median_gap_ms(app, path, strangers, known)
            print(f"  {what:<12} listed minus new, median of {samples}: {gap:+.3f} ms")
    finally:
        with app.app_context():
            db.drop_all()
            db.engine.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", choices=["sqlite", "postgresql", "both"], default="both")
    parser.add_argument("--samples", type=int, default=200)
    parser.add_argument(
        "--postgres-url",
        default=os.environ.get("BENCH_DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/test"),
    )
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        pages = Path(tmp) / "pages"
        shutil.copytree(PROJECT_DIR / "tests" / "pages", pages)
        if args.db in ("sqlite", "both"):
            print("SQLite")
            run(f"sqlite:///{tmp}/bench.sqlite3", pages, args.samples)
        if args.db in ("postgresql", "both"):
            print("PostgreSQL")
            run(normalise_database_url(args.postgres_url), pages, args.samples)


if __name__ == "__main__":
    main()
