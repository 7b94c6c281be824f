"""``flask kit doctor``: check a deployment's settings and say how to fix each problem.

Each check returns Findings; the command prints them all, so one run lists everything to fix.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from flask import Flask
from sqlalchemy import text

from kit.config import GENERATE_SECRET
from kit.config import MISSING
from kit.config import SECRET_KEY_ADVISED
from kit.config import STRONG
from kit.config import paas
from kit.config import proxy_hops
from kit.config import secret_key_strength
from kit.config import webhook_receivers
from kit.extensions import registry
from kit.models import db
from kit.security import storage_uri

MIN_PASSWORD_LENGTH = 12


@dataclass(frozen=True)
class Finding:
    """One checked setting: fine (``fix`` empty) or a problem with the fix spelled out."""

    what: str
    fix: str = ""

    @property
    def ok(self) -> bool:
        return not self.fix


def diagnose(app: Flask) -> list[Finding]:
    """Run every check against this app's configuration, database and page files."""
    findings: list[Finding] = []
    checks = (
        _secret_key, _admin_password, _https, _origin, _proxy, _database, _pages, _rate_limits,
        _outbound, _demand,
    )  # fmt: skip
    for check in checks:
        findings.extend(check(app))
    return findings


def _secret_key(app: Flask) -> Iterator[Finding]:
    key = app.config.get("SECRET_KEY") or ""
    strength = secret_key_strength(key)
    if strength == MISSING:
        yield Finding("SECRET_KEY is not set", f"set SECRET_KEY to the output of {GENERATE_SECRET}")
    elif strength != STRONG:
        yield Finding(
            f"SECRET_KEY is weak ({len(key)} characters, {len(set(key))} different)",
            f"use at least {SECRET_KEY_ADVISED} random characters: {GENERATE_SECRET}",
        )
    else:
        yield Finding("SECRET_KEY is long and varied")


def _admin_password(app: Flask) -> Iterator[Finding]:
    password = app.config.get("ADMIN_PASSWORD") or ""
    if not password:
        yield Finding(
            "ADMIN_PASSWORD is not set: nobody can open the dashboard",
            f"set ADMIN_PASSWORD to a passphrase of {MIN_PASSWORD_LENGTH} characters or more",
        )
    elif len(password) < MIN_PASSWORD_LENGTH:
        yield Finding(
            f"ADMIN_PASSWORD is short ({len(password)} characters)",
            f"use {MIN_PASSWORD_LENGTH} characters or more, e.g. four random words",
        )
    else:
        yield Finding("ADMIN_PASSWORD is set")


def _https(app: Flask) -> Iterator[Finding]:
    if app.config.get("PREFERRED_URL_SCHEME") != "https":
        yield Finding(
            "PREFERRED_URL_SCHEME is not https: cookies are not marked Secure, links say http://",
            "serve the site over HTTPS (every PaaS does) and set PREFERRED_URL_SCHEME=https",
        )
    else:
        yield Finding("HTTPS: secure cookies and https:// links")


def _origin(app: Flask) -> Iterator[Finding]:
    base = app.config.get("BASE_URL")
    if not base:
        yield Finding(
            "BASE_URL is not set: links in e-mails, share links and canonical URLs follow the "
            "Host header each visitor sends",
            "set BASE_URL to your site's address, e.g. https://waitlist.example.com",
        )
        return
    yield Finding(f"BASE_URL {base} starts every absolute link")
    hosts = app.config.get("TRUSTED_HOSTS")
    if hosts:
        yield Finding(f"only these host names are answered: {', '.join(hosts)}")
    else:
        host = urlsplit(base).hostname
        yield Finding(
            f"TRUSTED_HOSTS is not set: any host name is answered (set TRUSTED_HOSTS={host} to "
            "refuse others)"
        )


def _proxy(app: Flask) -> Iterator[Finding]:
    hops = app.config.get("PROXY_FIX_HOPS") or 0
    detected, why = proxy_hops(os.environ)
    reason = why if hops == detected else "set in the configuration"
    believed = f"from {hops} proxy hop(s)" if hops else "from nobody"
    yield Finding(f"X-Forwarded-For/-Proto are believed {believed}: {reason}")


def _database(app: Flask) -> Iterator[Finding]:
    url = db.engine.url.render_as_string(hide_password=True)
    running_on = paas(os.environ)
    if db.engine.url.get_backend_name() == "sqlite":
        if running_on is not None:
            platform = running_on[1]
            yield Finding(
                f"DATABASE_URL is not set on {platform}: SQLite on the app's disk is wiped at "
                "every deploy or restart, and the signups with it",
                f"attach a PostgreSQL database to the app ({platform} then sets DATABASE_URL)",
            )
        path = db.engine.url.database
        if path and path != ":memory:" and not Path(path).exists():
            # Connecting would create the file: the doctor only looks.
            yield Finding(
                f"database file {path} does not exist yet",
                "run `flask --app app kit release` to create it (the Procfile's release step)",
            )
            return
    try:
        with db.engine.connect() as connection:
            connection.execute(text("SELECT 1"))
            current = set(MigrationContext.configure(connection).get_current_heads())
    except Exception as error:  # noqa: BLE001 - any failure to connect is the finding
        reason = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
        yield Finding(
            f"database {url} is unreachable ({reason})",
            "check DATABASE_URL (the PaaS sets it when a database is attached) and that the "
            "database server is running",
        )
        return
    yield Finding(f"database {url} is reachable")
    config = app.extensions["migrate"].migrate.get_config()
    heads = set(ScriptDirectory.from_config(config).get_heads())
    if current != heads:
        have = ", ".join(sorted(current)) or "none"
        yield Finding(
            f"database schema is at revision {have}, the code needs {', '.join(sorted(heads))}",
            "run `flask --app app kit release` (the Procfile's release step does it on deploy)",
        )
    else:
        yield Finding("database schema is up to date")


def _pages(app: Flask) -> Iterator[Finding]:
    errors = registry(app).errors
    if errors:
        yield Finding(
            f"{len(errors)} problem(s) in page files (their pages answer 503), first: {errors[0]}",
            "run `flask --app app kit check` to list them all, then fix the files",
        )
    else:
        yield Finding("page files are valid")


def _rate_limits(app: Flask) -> Iterator[Finding]:
    uri = storage_uri(app.config)
    if not app.config.get("RATELIMIT_ENABLED", True):
        yield Finding(
            "rate limits are switched off (RATELIMIT_ENABLED=false)",
            "unset RATELIMIT_ENABLED so signup and login are protected against floods",
        )
        return
    if uri.startswith("memory://"):
        yield Finding(
            "rate limits count in memory, per worker: 2 workers let twice the limit through",
            "unset RATELIMIT_STORAGE_URI (counters then live in the database) or set REDIS_URL",
        )
        return
    if not uri.startswith(("redis://", "rediss://")):
        yield Finding("rate limits count in the database, shared by every worker and instance")
        return
    limiter = app.extensions.get("rate_limiter")
    storage = getattr(limiter, "storage", None)
    try:
        reachable = bool(storage is not None and storage.check())
    except Exception:  # noqa: BLE001 - a broken Redis is the finding
        reachable = False
    host = urlsplit(uri).hostname or uri
    if reachable:
        yield Finding(f"rate-limit storage Redis at {host} is reachable")
    else:
        yield Finding(
            f"rate-limit storage Redis at {host} is unreachable: limits are not enforced",
            "check REDIS_URL (or RATELIMIT_STORAGE_URI) and that Redis is running",
        )


def _outbound(app: Flask) -> Iterator[Finding]:
    """Webhook and mail settings, checked only when the deployment uses them."""
    config = app.config
    urls = [url for url, _ in webhook_receivers(config.get("WEBHOOK_URLS"))]
    for url in urls:
        if urlsplit(url).scheme != "https":
            yield Finding(
                f"webhook {url} is not https: signups would travel unencrypted",
                "use the receiver's https:// address in WEBHOOK_URLS",
            )
    if urls:
        secret = config.get("WEBHOOK_SECRET") or ""
        if len(secret) < 16:
            yield Finding(
                "WEBHOOK_SECRET is missing or short: the receiver can't verify our signature",
                f"set WEBHOOK_SECRET to {GENERATE_SECRET} and give the same value to the receiver",
            )
        else:
            yield Finding(f"{len(urls)} webhook(s), signed")
    double_opt_in = sorted(page.slug for page in registry(app).all() if page.waitlist.double_opt_in)
    if config.get("MAIL_API") and config["MAIL_API"] not in ("postmark", "resend"):
        yield Finding(
            f"MAIL_API={config['MAIL_API']!r} is not a known e-mail API",
            "set MAIL_API to postmark or resend (or use MAIL_URL for SMTP)",
        )
    elif config.get("MAIL_API") and not config.get("MAIL_API_KEY"):
        yield Finding("MAIL_API is set without MAIL_API_KEY", "set MAIL_API_KEY to your API token")
    elif config.get("MAIL_URL") or config.get("MAIL_API"):
        if not config.get("MAIL_FROM"):
            yield Finding(
                "no sender address for mail",
                "set MAIL_FROM to an address on a domain you control (verified with the provider)",
            )
        else:
            yield Finding(f"mail goes out via {config.get('MAIL_API') or 'SMTP'}")
    elif double_opt_in:
        yield Finding(
            f"pages {', '.join(double_opt_in)} ask for e-mail confirmation, but no mail is set up",
            "set MAIL_URL (SMTP) or MAIL_API with MAIL_API_KEY, and MAIL_FROM",
        )


TEST_LINK = "https://buy.stripe.com/test_"


def _demand(app: Flask) -> Iterator[Finding]:
    """Paid pre-orders and the digest, checked only when a page or a setting uses them."""
    config = app.config
    pages = {page.slug: page for page in registry(app).all()}
    checkouts = sorted(slug for slug, page in pages.items() if page.checkouts)
    secret = config.get("STRIPE_WEBHOOK_SECRET") or ""
    if checkouts and not secret.startswith("whsec_"):
        yield Finding(
            f"pages {', '.join(checkouts)} take pre-orders, but no Stripe webhook secret is set: "
            "payments would not be counted",
            "add the endpoint <BASE_URL>/webhooks/stripe in Stripe (events "
            "checkout.session.completed, checkout.session.async_payment_succeeded, "
            "charge.refunded, charge.dispute.closed) and set STRIPE_WEBHOOK_SECRET to its "
            "signing secret (whsec_...)",
        )
    elif checkouts:
        yield Finding(f"pre-orders on {', '.join(checkouts)} are counted from Stripe's webhook")
    testing = sorted(
        slug
        for slug, page in pages.items()
        if any(tier.checkout_url.startswith(TEST_LINK) for tier in page.tiers)
    )
    if testing:
        yield Finding(
            f"pages {', '.join(testing)} send buyers to Stripe test-mode links ({TEST_LINK}...): "
            "nobody can pay, and test payments are kept apart, never counted",
            "create the Payment Links in live mode and put them in the page files",
        )
    unpriced = sorted({
        f"{slug} ({tier.name}: {tier.price!r})"
        for slug, page in pages.items()
        for tier in page.tiers
        if tier.checkout_url and tier.charge is None
    })  # fmt: skip
    if unpriced:
        yield Finding(
            f"the kit can't read one amount and currency from the price of pre-order tiers "
            f"{', '.join(unpriced)}: a payment of any amount made with their reference counts",
            'set checkout_amount = "49 USD" (what the Payment Link charges) in those tiers',
        )
    if config.get("DIGEST_TO") and not (config.get("MAIL_URL") or config.get("MAIL_API")):
        yield Finding(
            "DIGEST_TO is set but no mail is set up: no digest goes out",
            "set MAIL_URL (SMTP) or MAIL_API with MAIL_API_KEY, and MAIL_FROM",
        )
    elif config.get("DIGEST_TO"):
        yield Finding(f"a {config['DIGEST_EVERY']} digest goes to {config['DIGEST_TO']}")
