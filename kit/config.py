"""Turn environment variables into Flask settings.

The mapping is a pure function so it can be tested without an app, and so every setting a
founder can type on a PaaS dashboard is listed in one place (the README's table mirrors it).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import timedelta
from typing import Any
from urllib.parse import urlsplit

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
    # The origin of every absolute link (e-mails, share links, canonical): never the Host header.
    "BASE_URL": None,
    # Host headers the app answers (Flask refuses others with 400); None: any.
    "TRUSTED_HOSTS": None,
    # Proxies in front whose X-Forwarded-For/-Proto are believed: 0, or 1 on a PaaS router
    # (see proxy_hops); X-Forwarded-Host only with TRUST_FORWARDED_HOST.
    "PROXY_FIX_HOPS": 0,
    "TRUST_FORWARDED_HOST": False,
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
    # New visitors counted per network address and clock hour (kit/tracking/networks.py); 0: no cap.
    "NEW_VISITORS_PER_ADDRESS": 40,
    # Mail: SMTP (MAIL_URL) or an HTTP API (MAIL_API = postmark | resend, MAIL_API_KEY).
    "MAIL_URL": None,
    "MAIL_API": None,
    "MAIL_API_KEY": None,
    "MAIL_API_URL": None,  # the provider's endpoint; only to point at a test server
    "MAIL_FROM": None,
    "MAIL_FROM_NAME": None,  # the From line's name; else the page's product name
    # Read the buyer's address on the return from Stripe (a restricted key: Checkout Sessions,
    # read); STRIPE_API_URL only to point at a test server.
    "STRIPE_SECRET_KEY": None,
    "STRIPE_API_URL": "https://api.stripe.com",
    "CONFIRM_RESEND_MINUTES": 10,
    # Webhooks (comma-separated URLs; "slack:" prefix for Slack format) and Buttondown sync.
    "WEBHOOK_URLS": None,
    "WEBHOOK_SECRET": None,
    "BUTTONDOWN_API_KEY": None,
    "BUTTONDOWN_API_URL": None,
    # Paid pre-orders: the signing secret of the Stripe webhook endpoint (whsec_...).
    "STRIPE_WEBHOOK_SECRET": None,
    # The founder digest: an address, and "daily" or "weekly" (kit/digest.py).
    "DIGEST_TO": None,
    "DIGEST_EVERY": "daily",
    # The outbox deliverer: a thread per web process; retries back off up to the give-up time.
    "OUTBOX_WORKER": True,
    "OUTBOX_POLL_SECONDS": 5.0,
    "OUTBOX_RETRY_SECONDS": 30.0,
    "OUTBOX_GIVE_UP_HOURS": 48.0,
    # First exposures are written in batches by a thread per web process (kit/exposures.py).
    "EXPOSURE_WRITER": True,
    "FAST_PATH": True,
}

# Environment variable -> (config key, parser). Only these names are read.
_TRUE = {"1", "true", "yes", "on"}


def _bool(value: str) -> bool:
    return value.strip().lower() in _TRUE


def base_url(value: str) -> str:
    """``https://example.com`` (a port is fine, a path is not), without the trailing slash."""
    parts = urlsplit(value.strip())
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ConfigError("write the site's address with its scheme, e.g. https://example.com")
    if parts.path.strip("/") or parts.query or parts.fragment or parts.username:
        raise ConfigError("write only the origin, e.g. https://example.com (no path or query)")
    return f"{parts.scheme}://{parts.netloc.lower()}"


def digest_every(value: str) -> str:
    value = value.strip().lower()
    if value not in ("daily", "weekly"):
        raise ConfigError('use "daily" or "weekly"')
    return value


def header_text(value: str) -> str:
    """Text for a mail header: one line (a line break would start another header)."""
    if any(char in value for char in "\r\n\x0b\x0c\x1c\x1d\x1e\x85\u2028\u2029"):
        raise ConfigError("write it on one line")
    return value.strip()


def _hosts(value: str) -> list[str]:
    return [host.strip().lower() for host in value.split(",") if host.strip()]


WEBHOOK_URL_MAX = 500  # outbox.target


def webhook_receivers(value: str | None) -> list[tuple[str, str]]:
    """(url, format) of each receiver in WEBHOOK_URLS: comma-separated, a ``slack:`` prefix or
    a Slack address meaning Slack's format, JSON otherwise."""
    found = []
    for raw in (value or "").split(","):
        url = raw.strip()
        slack = url.startswith("slack:") or url.startswith("https://hooks.slack.com/")
        url = url.removeprefix("slack:").strip()
        if url:
            found.append((url, "slack" if slack else "json"))
    return found


def webhook_urls(value: str) -> str:
    """Comma-separated receiver URLs, each short enough to be stored with its deliveries."""
    for url, _ in webhook_receivers(value):
        if len(url) > WEBHOOK_URL_MAX:
            raise ConfigError(f"a URL longer than {WEBHOOK_URL_MAX} characters: {url[:60]}…")
    return value


# Variables a PaaS sets in every app container, so the app knows a router stands in front.
PAAS_MARKERS = {
    "DYNO": "Heroku",
    "RENDER": "Render",
    "FLY_APP_NAME": "Fly.io",
    "RAILWAY_ENVIRONMENT": "Railway",
}


def paas(environ: Mapping[str, str]) -> tuple[str, str] | None:
    """(variable, platform) of the PaaS this runs on, by the variable it sets; None if none."""
    return next(((name, p) for name, p in PAAS_MARKERS.items() if environ.get(name)), None)


def proxy_hops(environ: Mapping[str, str]) -> tuple[int, str]:
    """How many proxies to believe X-Forwarded-For/-Proto from, and why.

    An explicit PROXY_FIX_HOPS wins; else 1 where a PaaS router is known to stand in front, else
    0: without a proxy those headers come from the visitor and would let anyone pick the client
    address the rate limits count by.
    """
    explicit = environ.get("PROXY_FIX_HOPS", "")
    if explicit.strip():
        return int(explicit), "PROXY_FIX_HOPS is set"
    platform = paas(environ)
    if platform is not None:
        return 1, f"{platform[0]} is set: running on {platform[1]}, behind its router"
    markers = ", ".join(PAAS_MARKERS)
    return 0, f"no proxy known ({markers} unset): client addresses are the sockets' own"


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
    "BASE_URL": ("BASE_URL", base_url),
    "TRUSTED_HOSTS": ("TRUSTED_HOSTS", _hosts),
    "PROXY_FIX_HOPS": ("PROXY_FIX_HOPS", int),
    "TRUST_FORWARDED_HOST": ("TRUST_FORWARDED_HOST", _bool),
    "PREFERRED_URL_SCHEME": ("PREFERRED_URL_SCHEME", str),
    "MIN_VISITORS_FOR_VERDICT": ("MIN_VISITORS_FOR_VERDICT", int),
    "REDIS_URL": ("REDIS_URL", str),
    "RATELIMIT_ENABLED": ("RATELIMIT_ENABLED", _bool),
    "RATELIMIT_STORAGE_URI": ("RATELIMIT_STORAGE_URI", str),
    "RATELIMIT_SIGNUP": ("RATELIMIT_SIGNUP", str),
    "RATELIMIT_LOGIN": ("RATELIMIT_LOGIN", str),
    "RATELIMIT_GOAL": ("RATELIMIT_GOAL", str),
    "NEW_VISITORS_PER_ADDRESS": ("NEW_VISITORS_PER_ADDRESS", int),
    "MAIL_URL": ("MAIL_URL", str),
    "MAIL_API": ("MAIL_API", str),
    "MAIL_API_KEY": ("MAIL_API_KEY", str),
    "MAIL_API_URL": ("MAIL_API_URL", str),
    "MAIL_FROM": ("MAIL_FROM", str),
    "MAIL_FROM_NAME": ("MAIL_FROM_NAME", header_text),
    "CONFIRM_RESEND_MINUTES": ("CONFIRM_RESEND_MINUTES", float),
    "WEBHOOK_URLS": ("WEBHOOK_URLS", webhook_urls),
    "WEBHOOK_SECRET": ("WEBHOOK_SECRET", str),
    "BUTTONDOWN_API_KEY": ("BUTTONDOWN_API_KEY", str),
    "BUTTONDOWN_API_URL": ("BUTTONDOWN_API_URL", str),
    "STRIPE_WEBHOOK_SECRET": ("STRIPE_WEBHOOK_SECRET", str),
    "STRIPE_SECRET_KEY": ("STRIPE_SECRET_KEY", str),
    "STRIPE_API_URL": ("STRIPE_API_URL", base_url),
    "DIGEST_TO": ("DIGEST_TO", str),
    "DIGEST_EVERY": ("DIGEST_EVERY", digest_every),
    "OUTBOX_WORKER": ("OUTBOX_WORKER", _bool),
    "EXPOSURE_WRITER": ("EXPOSURE_WRITER", _bool),
    "FAST_PATH": ("FAST_PATH", _bool),
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
        except ConfigError as error:
            raise ConfigError(f"{name}={raw!r}: {error}") from None
        except ValueError:
            raise ConfigError(f"{name}={raw!r} is not a valid {parse.__name__} value") from None
    hops = proxy_hops(environ)[0]
    if hops:
        config["PROXY_FIX_HOPS"] = hops
    if str(config.get("BASE_URL", "")).startswith("https://"):
        config.setdefault("PREFERRED_URL_SCHEME", "https")
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


# The one rule for the secret key, read by start-up (production_problems) and kit doctor.
SECRET_KEY_REFUSED_BELOW = 16  # production refuses to start with a shorter key
SECRET_KEY_ADVISED = 32  # kit doctor calls a shorter key, or one of few characters, weak
SECRET_KEY_VARIETY = 10  # different characters a random key of that length surely has
GENERATE_SECRET = 'python -c "import secrets; print(secrets.token_hex(32))"'
MISSING, TOO_SHORT, WEAK, STRONG = "missing", "too short", "weak", "strong"


def secret_key_strength(key: str | None) -> str:
    """``MISSING`` (unset or the development key), ``TOO_SHORT`` (production refuses it),
    ``WEAK`` (short or of few different characters: kit doctor says so) or ``STRONG``."""
    if key in (None, "", DEV_SECRET_KEY):
        return MISSING
    if len(key) < SECRET_KEY_REFUSED_BELOW:
        return TOO_SHORT
    if len(key) < SECRET_KEY_ADVISED or len(set(key)) < SECRET_KEY_VARIETY:
        return WEAK
    return STRONG


def production_problems(config: Mapping[str, Any]) -> list[str]:
    """List what stops this configuration from being safe to serve the public."""
    problems = []
    strength = secret_key_strength(config.get("SECRET_KEY"))
    if strength == MISSING:
        problems.append(
            f"SECRET_KEY is not set: set it to a long random value, e.g. {GENERATE_SECRET}"
        )
    elif strength == TOO_SHORT:
        problems.append(
            f"SECRET_KEY is too short: use at least {SECRET_KEY_ADVISED} random characters"
        )
    if (config.get("MAIL_URL") or config.get("MAIL_API")) and not config.get("BASE_URL"):
        problems.append(
            "BASE_URL is not set, so links in e-mails would be built from the Host header a "
            "visitor sends: set BASE_URL to your site's address, e.g. https://example.com"
        )
    return problems
