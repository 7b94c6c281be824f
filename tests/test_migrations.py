"""The migrations build exactly the schema the models describe, on SQLite and PostgreSQL."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import requests
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from flask_migrate import upgrade

from kit.models import db

ROOT = Path(__file__).parent.parent


def test_migrations_match_models(app):
    with app.app_context():
        db.drop_all()
        upgrade()
        with db.engine.connect() as connection:
            diff = compare_metadata(MigrationContext.configure(connection), db.metadata)
    assert diff == []


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_release_and_web_commands_serve_the_app(app, database_url, tmp_path):
    """What the Procfile runs: `flask db upgrade`, then gunicorn with only env settings."""
    with app.app_context():
        db.drop_all()
    url = database_url.replace("postgresql+psycopg://", "postgres://")  # as a PaaS hands it out
    port = free_port()
    env = {
        **os.environ,
        "DATABASE_URL": url,
        "SECRET_KEY": "a-long-random-secret-value-0123456789",
        "PORT": str(port),
        "WEB_CONCURRENCY": "1",
    }
    env.pop("FLASK_DEBUG", None)
    bin_dir = Path(sys.executable).parent
    release = subprocess.run(
        [bin_dir / "flask", "--app", "app", "db", "upgrade"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert release.returncode == 0, release.stderr
    web = subprocess.Popen(
        [bin_dir / "gunicorn", "app:app"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                health = requests.get(f"http://127.0.0.1:{port}/healthz", timeout=2)
                break
            except requests.ConnectionError:
                assert web.poll() is None, web.stderr.read()
                assert time.monotonic() < deadline, "gunicorn did not start in 30 s"
                time.sleep(0.2)
        assert health.status_code == 200
        page = requests.get(f"http://127.0.0.1:{port}/", headers={"User-Agent": "Mozilla/5.0"})
        assert page.status_code == 200
        assert "Tidyday" in page.text
    finally:
        web.terminate()
        web.wait(timeout=10)
        web.stderr.close()
