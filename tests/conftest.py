"""Fixtures: a fresh app and fresh tables per test, on SQLite and (when configured) PostgreSQL."""

from __future__ import annotations

import os
import re
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import text

from kit import create_app
from kit.config import normalise_database_url
from kit.models import db
from kit.urls import STATIC_DIR

TESTS_DIR = Path(__file__).parent
BROWSER_UA = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/130.0"
MOBILE_UA = "Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) Mobile/15E148 Safari/604.1"
POSTGRES_URL = os.environ.get("TEST_DATABASE_URL")
BACKENDS = [
    "sqlite",
    pytest.param(
        "postgresql",
        marks=pytest.mark.skipif(
            not POSTGRES_URL, reason="PostgreSQL: set TEST_DATABASE_URL to run on a real server"
        ),
    ),
]


@pytest.fixture(params=BACKENDS)
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """The database each test runs on: a file SQLite database, then the real PostgreSQL."""
    if request.param == "postgresql":
        return normalise_database_url(POSTGRES_URL)
    return f"sqlite:///{tmp_path / 'test.sqlite3'}"


@pytest.fixture
def pages_dir(tmp_path: Path) -> Path:
    """A writable copy of the test page files (tests may edit them)."""
    target = tmp_path / "pages"
    shutil.copytree(TESTS_DIR / "pages", target)
    return target


@pytest.fixture
def fast_path() -> bool:
    """The FAST_PATH setting of the apps a test builds; page tests override it to run both ways."""
    return True


@pytest.fixture
def make_app(database_url: str, pages_dir: Path, fast_path: bool):
    """Build apps on the test database with fresh tables; extra config per call."""
    built: list[Flask] = []

    def make(**config) -> Flask:
        settings = {
            "TESTING": True,
            "OUTBOX_WORKER": False,
            "EXPOSURE_WRITER": False,
            "SECRET_KEY": "test-secret-key-that-is-long-enough",
            "SQLALCHEMY_DATABASE_URI": database_url,
            "PAGES_DIR": str(pages_dir),
            "MIN_SUBMIT_SECONDS": 0,
            "ADMIN_PASSWORD": "correct horse battery staple",
            "API_TOKEN": "test-api-token",
            "FAST_PATH": fast_path,
            # Every test browser comes from 127.0.0.1: the cap has tests of its own.
            "NEW_VISITORS_PER_ADDRESS": 0,
        }
        settings.update(config)
        app = create_app(settings)
        if not built:
            with app.app_context():
                _reset(app)
        built.append(app)
        return app

    yield make
    for app in built:
        app.extensions["exposures"].stop()  # a writer thread must not touch the next test's rows
    for index, app in enumerate(built):
        with app.app_context():
            db.session.remove()
            if index == 0:
                _reset(app, create=False)
            db.engine.dispose()


def _reset(app: Flask, create: bool = True) -> None:
    db.drop_all()
    with db.engine.begin() as connection:
        connection.execute(text("DROP TABLE IF EXISTS alembic_version"))
    if create:
        db.create_all()


@pytest.fixture(autouse=True)
def _no_card_left_behind() -> Iterator[None]:
    """`kit new` and `kit card` draw pictures into static/: a test leaves none of its own."""
    drawn = ("*-card.png", "*-hero.svg")
    before = {path for pattern in drawn for path in STATIC_DIR.glob(pattern)}
    yield
    for path in {path for pattern in drawn for path in STATIC_DIR.glob(pattern)} - before:
        path.unlink(missing_ok=True)


@pytest.fixture
def app(make_app) -> Flask:
    return make_app()


def browser(app: Flask, user_agent: str = BROWSER_UA) -> FlaskClient:
    """A test client that presents itself as a real browser (bots are treated differently)."""
    client = app.test_client()
    client.environ_base["HTTP_USER_AGENT"] = user_agent
    return client


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return browser(app)


@pytest.fixture
def runner(app: Flask):
    return app.test_cli_runner()


def form_fields(html: str) -> dict[str, str]:
    """The hidden fields (CSRF token, signed render time) of the first form in a page."""
    return dict(re.findall(r'name="(csrf_token|rendered)" type="hidden" value="([^"]*)"', html))


def sign_up(client: FlaskClient, slug: str = "plain", follow: bool = False, **fields):
    """Load the page as a browser would, then submit its form with ``fields``."""
    page = client.get(f"/{slug}")
    data = form_fields(page.get_data(as_text=True))
    data.update(fields)
    return client.post(f"/{slug}", data=data, follow_redirects=follow)


def pytest_terminal_summary(terminalreporter, exitstatus, config) -> None:
    """In CI every service is provided, so a skipped test means something is missing: fail."""
    skipped = terminalreporter.stats.get("skipped", [])
    if os.environ.get("CI") and skipped:
        terminalreporter.write_line(
            f"CI: {len(skipped)} test(s) skipped; CI provides every service, so this fails.",
            red=True,
        )
        terminalreporter._session.exitstatus = 1
