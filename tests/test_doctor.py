"""`flask kit doctor` lists every deployment problem with its fix, and passes a sound setup."""

from __future__ import annotations

import os

import pytest
from flask_migrate import upgrade

from kit import create_app
from kit.models import db

SOUND = {
    "PREFERRED_URL_SCHEME": "https",
    "SECRET_KEY": "b3f1c0a9e8d7c6b5a4f3e2d1c0b9a8f7e6d5c4b3",
    "MAIL_URL": "smtp://mail.example.com:587",  # tests/pages/optin.toml asks for confirmation
    "MAIL_FROM": "hello@example.com",
    "BASE_URL": "https://waitlist.example.com",
}


def migrate(app) -> None:
    with app.app_context():
        db.drop_all()
        upgrade()


def doctor(app):
    return app.test_cli_runner().invoke(args=["kit", "doctor"])


def test_sound_deployment_passes(make_app):
    app = make_app(**SOUND)
    migrate(app)
    result = doctor(app)
    assert result.exit_code == 0, result.output
    assert "PROBLEM" not in result.output
    assert "ok       database schema is up to date" in result.output
    assert "no problems found" in result.output


def test_every_problem_is_listed_with_its_fix(make_app):
    app = make_app(SECRET_KEY="dev-only-not-secret", ADMIN_PASSWORD=None)
    result = doctor(app)
    assert result.exit_code == 1
    output = result.output
    assert "PROBLEM  SECRET_KEY is not set" in output
    assert "secrets.token_hex(32)" in output
    assert "PROBLEM  ADMIN_PASSWORD is not set" in output
    assert "PROBLEM  PREFERRED_URL_SCHEME is not https" in output
    assert "set PREFERRED_URL_SCHEME=https" in output
    # The test tables come from create_all, not from migrations: not at head.
    assert "PROBLEM  database schema is at revision none" in output
    assert "flask --app app kit release" in output
    assert "PROBLEM  pages optin ask for e-mail confirmation, but no mail is set up" in output
    assert "PROBLEM  BASE_URL is not set" in output
    assert "6 problem(s) to fix" in output
    assert "Traceback" not in output


@pytest.mark.parametrize(
    ("settings", "expected"),
    [
        ({"SECRET_KEY": "short-secret-key"}, "SECRET_KEY is weak (16 characters"),
        ({"SECRET_KEY": "a" * 40}, "SECRET_KEY is weak (40 characters, 1 different)"),
        ({"ADMIN_PASSWORD": "hunter2"}, "ADMIN_PASSWORD is short (7 characters)"),
        (
            {"WEBHOOK_URLS": "http://hooks.example.com/x", "WEBHOOK_SECRET": "s" * 8 + "t" * 8},
            "webhook http://hooks.example.com/x is not https",
        ),
        ({"WEBHOOK_URLS": "https://hooks.example.com/x"}, "WEBHOOK_SECRET is missing or short"),
        ({"MAIL_FROM": None}, "no sender address for mail"),
        ({"MAIL_API": "postmark"}, "MAIL_API is set without MAIL_API_KEY"),
        (
            {"MAIL_URL": None, "MAIL_FROM": None},
            "pages optin ask for e-mail confirmation, but no mail is set up",
        ),
        ({"RATELIMIT_ENABLED": False}, "rate limits are switched off"),
        ({"BASE_URL": None}, "BASE_URL is not set"),
        ({"RATELIMIT_STORAGE_URI": "memory://"}, "rate limits count in memory, per worker"),
        (
            {"REDIS_URL": "redis://127.0.0.1:9/0"},
            "rate-limit storage Redis at 127.0.0.1 is unreachable",
        ),
    ],
)
def test_weak_settings_are_problems(make_app, settings, expected):
    app = make_app(**{**SOUND, **settings})
    migrate(app)
    result = doctor(app)
    assert result.exit_code == 1
    assert f"PROBLEM  {expected}" in result.output
    assert "1 problem(s) to fix" in result.output


def bare_app(pages_dir, database_uri: str):
    """An app on a database nobody has touched (make_app would create its tables)."""
    return create_app(
        {
            **SOUND,
            "TESTING": True,
            "ADMIN_PASSWORD": "correct horse battery staple",
            "SQLALCHEMY_DATABASE_URI": database_uri,
            "PAGES_DIR": str(pages_dir),
        }
    )


def test_unreachable_database_is_a_problem_not_a_crash(pages_dir):
    app = bare_app(pages_dir, "postgresql+psycopg://nobody@127.0.0.1:9/none")
    result = doctor(app)
    with app.app_context():
        db.engine.dispose()
    assert result.exit_code == 1
    assert "is unreachable" in result.output
    assert "check DATABASE_URL" in result.output


def test_doctor_creates_no_files(tmp_path, pages_dir):
    """Looking must not create the SQLite file (or its folder) it reports as missing."""
    folder = tmp_path / "instance"
    app = bare_app(pages_dir, f"sqlite:///{folder}/waitlist.sqlite3")
    result = doctor(app)
    assert f"PROBLEM  database file {folder}/waitlist.sqlite3 does not exist yet" in result.output
    assert "kit release" in result.output
    assert not folder.exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["pages"]


def test_sqlite_on_a_paas_is_a_problem(make_app, monkeypatch):
    monkeypatch.setenv("DYNO", "web.1")
    app = make_app(**SOUND, PROXY_FIX_HOPS=1)
    migrate(app)
    output = doctor(app).output
    if app.config["SQLALCHEMY_DATABASE_URI"].startswith("sqlite"):
        assert "PROBLEM  DATABASE_URL is not set on Heroku" in output
        assert "attach a PostgreSQL database" in output
    else:
        assert "DATABASE_URL is not set" not in output
    assert "believed from 1 proxy hop(s): DYNO is set: running on Heroku" in output


def test_origin_and_proxy_decisions_are_shown(make_app):
    app = make_app(**SOUND, TRUSTED_HOSTS=["waitlist.example.com"])
    migrate(app)
    output = doctor(app).output
    assert "ok       BASE_URL https://waitlist.example.com starts every absolute link" in output
    assert "only these host names are answered: waitlist.example.com" in output
    assert "believed from nobody: no proxy known" in output


@pytest.mark.skipif(
    not os.environ.get("TEST_REDIS_URL"), reason="Redis: set TEST_REDIS_URL to run against a server"
)
def test_reachable_redis_is_reported(make_app):
    app = make_app(**SOUND, REDIS_URL=os.environ["TEST_REDIS_URL"])
    migrate(app)
    result = doctor(app)
    assert result.exit_code == 0, result.output
    assert "ok       rate-limit storage Redis at 127.0.0.1 is reachable" in result.output


def test_pre_orders_without_a_stripe_secret_and_a_digest_without_mail_are_problems(
    make_app, pages_dir
):
    (pages_dir / "shop.toml").write_text(
        'title = "Shop"\nheadline = "H"\n[[pricing.tiers]]\nname = "Pro"\nprice = "$9"\n'
        'checkout_url = "https://buy.stripe.com/test_1"\n',
        encoding="utf-8",
    )
    app = make_app(**{**SOUND, "MAIL_URL": None, "MAIL_FROM": None, "DIGEST_TO": "me@example.com"})
    migrate(app)
    output = doctor(app).output
    assert "PROBLEM  pages shop take pre-orders, but no Stripe webhook secret is set" in output
    assert "STRIPE_WEBHOOK_SECRET to its signing secret" in output
    assert "PROBLEM  DIGEST_TO is set but no mail is set up" in output
    app = make_app(**SOUND, STRIPE_WEBHOOK_SECRET="whsec_abc", DIGEST_TO="me@example.com")
    output = doctor(app).output
    assert "ok       pre-orders on shop are counted from Stripe's webhook" in output
    assert "PROBLEM  pages shop send buyers to Stripe test-mode links" in output
    assert "ok       a daily digest goes to me@example.com" in output
