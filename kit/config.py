"""Turn environment variables into Flask settings.

The mapping is a pure function so it can be tested without an app, and so every setting a
founder can type on a PaaS dashboard is listed in one place (the README's table mirrors it).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import timedelta
from typing import Any

DEV_SECRET_KEY = "dev-only-not-secret"

DEFAULTS: dict[str, Any] = {
    "SECRET_KEY": DEV_SECRET_KEY,
    "SQLALCHEMY_DATABASE_URI": None,  # filled by create_app: SQLite in the instance folder
    "SQLALCHEMY_ENGINE_OPTIONS": {"pool_pre_ping": True},
    "ADMIN_PASSWORD": None,
    "API_TOKEN": None,
    "ADMIN_SESSION_HOURS": 12,  # an admin login lasts this long, then asks again
    "HOME_PAGE": "demo",
    "PAGES_DIR": None,  # filled by create_app: <project>/pages
    "MIN_SUBMIT_SECONDS": 2.0,
    "EMAIL_CHECK_DELIVERABILITY": False,
    "PROXY_FIX_HOPS": 1,
    "PREFERRED_URL_SCHEME": "http",
    "SESSION_COOKIE_HTTPONLY": True,
    "SESSION_COOKIE_SAMESITE": "Lax",
    "SESSION_COOKIE_SECURE": False,
    # The session cookie also carries the anonymous visitor id, so it lives about a year.
    "PERMANENT_SESSION_LIFETIME": timedelta(days=365),
    # Re-sign the cookie only when it changes: a returning visitor's view costs no signing.
    "SESSION_REFRESH_EACH_REQUEST": False,
    "MIN_VISITORS_FOR_VERDICT": 100,
    "MAX_CONTENT_LENGTH": 64 * 1024,
    "WTF_CSRF_TIME_LIMIT": 6 * 3600,
    # Rate limits per client address (Flask-Limiter notation). Counters live in memory per
    # worker unless REDIS_URL (or RATELIMIT_STORAGE_URI) points every worker at one Redis.
    "REDIS_URL": None,
    "RATELIMIT_ENABLED": True,
    "RATELIMIT_STORAGE_URI": None,
    "RATELIMIT_SIGNUP": "10 per minute",
    "RATELIMIT_LOGIN": "5 per minute; 30 per hour",
    "RATELIMIT_GOAL": "60 per minute",
    # Mail: SMTP (MAIL_URL) or an HTTP API (MAIL_API = postmark | resend, MAIL_API_KEY).
    "MAIL_URL": None,
    "MAIL_API": None,
    "MAIL_API_KEY": None,
    "MAIL_API_URL": None,  # the provider's endpoint; only to point at a test server
    "MAIL_FROM": None,
    "CONFIRM_RESEND_MINUTES": 10,
    # Webhooks (comma-separated URLs; "slack:" prefix for Slack format) and Buttondown sync.
    "WEBHOOK_URLS": None,
    "WEBHOOK_SECRET": None,
    "BUTTONDOWN_API_KEY": None,
    "BUTTONDOWN_API_URL": None,
    # The outbox deliverer: a thread per web process; retries back off up to the give-up time.
    "OUTBOX_WORKER": True,
    "OUTBOX_POLL_SECONDS": 5.0,
    "OUTBOX_RETRY_SECONDS": 30.0,
    "OUTBOX_GIVE_UP_HOURS": 48.0,
    # First exposures are written in batches by a thread per web process (kit/exposures.py).
    "EXPOSURE_WRITER": True,
}

# Environment variable -> (config key, parser). Only these names are read.
_TRUE = {"1", "true", "yes", "on"}


def _bool(value: str) -> bool:
    return value.strip().lower() in _TRUE


ENVIRONMENT: dict[str, tuple[str, Any]] = {
    "SECRET_KEY": ("SECRET_KEY", str),
    "DATABASE_URL": ("SQLALCHEMY_DATABASE_URI", str),
    "ADMIN_PASSWORD": ("ADMIN_PASSWORD", str),
    "API_TOKEN": ("API_TOKEN", str),
    "ADMIN_SESSION_HOURS": ("ADMIN_SESSION_HOURS", float),
    "HOME_PAGE": ("HOME_PAGE", str),
    "PAGES_DIR": ("PAGES_DIR", str),
    "MIN_SUBMIT_SECONDS": ("MIN_SUBMIT_SECONDS", float),
    "EMAIL_CHECK_DELIVERABILITY": ("EMAIL_CHECK_DELIVERABILITY", _bool),
    "PROXY_FIX_HOPS": ("PROXY_FIX_HOPS", int),
    "PREFERRED_URL_SCHEME": ("PREFERRED_URL_SCHEME", str),
    "MIN_VISITORS_FOR_VERDICT": ("MIN_VISITORS_FOR_VERDICT", int),
    "REDIS_URL": ("REDIS_URL", str),
    "RATELIMIT_ENABLED": ("RATELIMIT_ENABLED", _bool),
    "RATELIMIT_STORAGE_URI": ("RATELIMIT_STORAGE_URI", str),
    "RATELIMIT_SIGNUP": ("RATELIMIT_SIGNUP", str),
    "RATELIMIT_LOGIN": ("RATELIMIT_LOGIN", str),
    "RATELIMIT_GOAL": ("RATELIMIT_GOAL", str),
    "MAIL_URL": ("MAIL_URL", str),
    "MAIL_API": ("MAIL_API", str),
    "MAIL_API_KEY": ("MAIL_API_KEY", str),
    "MAIL_API_URL": ("MAIL_API_URL", str),
    "MAIL_FROM": ("MAIL_FROM", str),
    "CONFIRM_RESEND_MINUTES": ("CONFIRM_RESEND_MINUTES", float),
    "WEBHOOK_URLS": ("WEBHOOK_URLS", str),
    "WEBHOOK_SECRET": ("WEBHOOK_SECRET", str),
    "BUTTONDOWN_API_KEY": ("BUTTONDOWN_API_KEY", str),
    "BUTTONDOWN_API_URL": ("BUTTONDOWN_API_URL", str),
    "OUTBOX_WORKER": ("OUTBOX_WORKER", _bool),
    "EXPOSURE_WRITER": ("EXPOSURE_WRITER", _bool),
    "OUTBOX_POLL_SECONDS": ("OUTBOX_POLL_SECONDS", float),
    "OUTBOX_RETRY_SECONDS": ("OUTBOX_RETRY_SECONDS", float),
    "OUTBOX_GIVE_UP_HOURS": ("OUTBOX_GIVE_UP_HOURS", float),
}


class ConfigError(ValueError):
    """A setting from the environment is missing or malformed; the message says how to fix it."""


def from_env(environ: Mapping[str, str]) -> dict[str, Any]:
    """Read the known environment variables into config keys, failing clearly on bad values."""
    config: dict[str, Any] = {}
    for name, (key, parse) in ENVIRONMENT.items():
        raw = environ.get(name)
        if raw is None or raw == "":
            continue
        try:
            config[key] = parse(raw)
        except ValueError:
            raise ConfigError(f"{name}={raw!r} is not a valid {parse.__name__} value") from None
    if "SQLALCHEMY_DATABASE_URI" in config:
        config["SQLALCHEMY_DATABASE_URI"] = normalise_database_url(
            config["SQLALCHEMY_DATABASE_URI"]
        )
    if config.get("PREFERRED_URL_SCHEME") == "https":
        config["SESSION_COOKIE_SECURE"] = True
    return config


def normalise_database_url(url: str) -> str:
    """Accept the ``postgres://`` URLs PaaS platforms hand out and use the psycopg 3 driver."""
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix) :]
    return url


def production_problems(config: Mapping[str, Any]) -> list[str]:
    """List what stops this configuration from being safe to serve the public."""
    problems = []
    if config.get("SECRET_KEY") in (None, "", DEV_SECRET_KEY):
        problems.append(
            "SECRET_KEY is not set: set it to a long random value, e.g. "
            'python -c "import secrets; print(secrets.token_hex(32))"'
        )
    elif len(config["SECRET_KEY"]) < 16:
        problems.append("SECRET_KEY is too short: use at least 32 random characters")
    return problems
