"""Environment variables become settings; production refuses unsafe settings."""

from __future__ import annotations

import pytest

from kit import create_app
from kit.config import ConfigError
from kit.config import from_env


def test_paas_postgres_url_is_fixed_for_sqlalchemy():
    config = from_env({"DATABASE_URL": "postgres://u:p@db.example.com:5432/app"})
    assert config["SQLALCHEMY_DATABASE_URI"] == "postgresql+psycopg://u:p@db.example.com:5432/app"


def test_sqlite_url_is_kept():
    assert from_env({"DATABASE_URL": "sqlite:////tmp/x.db"})["SQLALCHEMY_DATABASE_URI"] == (
        "sqlite:////tmp/x.db"
    )


def test_unknown_and_empty_variables_are_ignored():
    assert from_env({"HOME": "/root", "SECRET_KEY": ""}) == {}


@pytest.mark.parametrize(
    ("name", "value"), [("MIN_SUBMIT_SECONDS", "soon"), ("PROXY_FIX_HOPS", "one")]
)
def test_malformed_number_names_the_variable(name, value):
    with pytest.raises(ConfigError, match=name):
        from_env({name: value})


def test_https_scheme_makes_cookies_secure():
    config = from_env({"PREFERRED_URL_SCHEME": "https"})
    assert config["SESSION_COOKIE_SECURE"] is True


@pytest.mark.parametrize("flag", ["1", "true", "YES", "on"])
def test_boolean_flags(flag):
    assert from_env({"EMAIL_CHECK_DELIVERABILITY": flag})["EMAIL_CHECK_DELIVERABILITY"] is True


@pytest.fixture
def production(monkeypatch, pages_dir):
    """Build the app as gunicorn would: not debug, not testing, not a `flask` command."""
    monkeypatch.delenv("FLASK_RUN_FROM_CLI", raising=False)
    monkeypatch.delenv("SECRET_KEY", raising=False)

    def build(**config):
        return create_app(
            {"PAGES_DIR": str(pages_dir), "SQLALCHEMY_DATABASE_URI": "sqlite://", **config}
        )

    return build


def test_production_without_secret_key_refuses_to_start(production):
    with pytest.raises(ConfigError, match="SECRET_KEY is not set"):
        production()


def test_production_with_short_secret_key_refuses_to_start(production):
    with pytest.raises(ConfigError, match="too short"):
        production(SECRET_KEY="short")


def test_production_with_secret_key_starts(production):
    app = production(SECRET_KEY="a-long-random-secret-value-0123456789")
    assert app.config["SQLALCHEMY_ENGINE_OPTIONS"]["pool_pre_ping"] is True


def test_environment_reaches_the_app(monkeypatch, pages_dir):
    monkeypatch.setenv("HOME_PAGE", "plain")
    monkeypatch.setenv("MIN_SUBMIT_SECONDS", "7.5")
    app = create_app({"TESTING": True, "PAGES_DIR": str(pages_dir)})
    assert app.config["HOME_PAGE"] == "plain"
    assert app.config["MIN_SUBMIT_SECONDS"] == 7.5
