"""Who the founder is: the admin password, dashboard logins kept in the database, and the
browsers not to count (logged in, or marked "don't count me"), so the founder's own visits
never bend the numbers.

The login lives in its own cookie (``kit_admin``: a random token whose hash is a row of
``admin_session``), not in the visitor's one-year cookie: it lasts the browser session, goes
to /admin only, never with a cross-site request, and logging out deletes the row, so a copied
cookie stops working at once.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from datetime import timedelta

from flask import current_app
from flask import g
from flask import request
from flask import session
from sqlalchemy import delete
from sqlalchemy import select
from werkzeug.security import check_password_hash
from werkzeug.wrappers import Response

from kit import fastpath
from kit.models import AdminSession
from kit.models import aware
from kit.models import db
from kit.models import utcnow

DEV_ADMIN_PASSWORD = "admin"  # only when FLASK_DEBUG is on and ADMIN_PASSWORD is not set
HASH_PREFIXES = ("scrypt:", "pbkdf2:")
ADMIN_COOKIE = "kit_admin"
ADMIN_PATH = "/admin"  # the login cookie is sent to the dashboard only, never to landing pages
# A plain marker, not a secret: a visitor who sets it only stops being counted themselves.
NOT_COUNTED_COOKIE = "kit_not_counted"
NOT_COUNTED_SECONDS = 2 * 365 * 24 * 3600
FOREVER = "1"  # "don't count me", kept after logout
WHILE_LOGGED_IN = "s"  # set at login for the browser session, removed at logout


def admin_password() -> str | None:
    """The configured password (or werkzeug hash); a known one only in debug mode."""
    configured = current_app.config.get("ADMIN_PASSWORD")
    if configured:
        return configured
    return DEV_ADMIN_PASSWORD if current_app.debug else None


def password_matches(typed: str, configured: str) -> bool:
    if configured.startswith(HASH_PREFIXES):
        return check_password_hash(configured, typed)
    return hmac.compare_digest(typed.encode(), configured.encode())


def login_marker(configured: str) -> str:
    """Stored with each login: changing ADMIN_PASSWORD or SECRET_KEY ends every session."""
    key = current_app.config["SECRET_KEY"].encode()
    return hmac.new(key, b"admin:" + configured.encode(), hashlib.sha256).hexdigest()[:32]


def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _current_login() -> AdminSession | None:
    """The login record this browser's admin cookie names, if it is still valid."""
    if "admin_login" in g:
        return g.admin_login
    configured = admin_password()
    token = request.cookies.get(ADMIN_COOKIE)
    login = None
    if configured and token and len(token) <= 100:
        login = db.session.scalar(
            select(AdminSession).where(AdminSession.token_hash == _token_hash(token))
        )
        valid = login is not None and aware(login.expires_at) > utcnow()
        if not valid or not hmac.compare_digest(login.password_marker, login_marker(configured)):
            login = None
    g.admin_login = login
    return login


def is_admin() -> bool:
    return _current_login() is not None


def log_in(response: Response) -> None:
    """Start a dashboard session: a record in the database, its random token in a cookie that
    lasts the browser session, goes to /admin only and never with a cross-site request."""
    token = secrets.token_urlsafe(32)
    now = utcnow()
    hours = current_app.config["ADMIN_SESSION_HOURS"]
    db.session.execute(delete(AdminSession).where(AdminSession.expires_at < now))
    db.session.add(
        AdminSession(
            token_hash=_token_hash(token),
            password_marker=login_marker(admin_password() or ""),
            created_at=now,
            expires_at=now + timedelta(hours=hours),
        )
    )
    db.session.commit()
    response.set_cookie(
        ADMIN_COOKIE, token, path=ADMIN_PATH, httponly=True, samesite="Strict", secure=_secure()
    )
    # A new CSRF token for the new privileges: one read before logging in is no use after.
    session.pop("csrf_token", None)
    if request.cookies.get(NOT_COUNTED_COOKIE) != FOREVER:
        _set_not_counted(response, WHILE_LOGGED_IN)


def log_out(response: Response) -> None:
    """End this browser's session everywhere: the record goes, a copied cookie is worthless."""
    token = request.cookies.get(ADMIN_COOKIE)
    if token:
        db.session.execute(
            delete(AdminSession).where(AdminSession.token_hash == _token_hash(token))
        )
        db.session.commit()
    response.delete_cookie(ADMIN_COOKIE, path=ADMIN_PATH, httponly=True, samesite="Strict")
    if request.cookies.get(NOT_COUNTED_COOKIE) == WHILE_LOGGED_IN:
        response.delete_cookie(NOT_COUNTED_COOKIE, httponly=True, samesite="Lax")


def marked_not_counted() -> bool:
    """The founder marked this browser "don't count me" from the dashboard, for good."""
    return request.cookies.get(NOT_COUNTED_COOKIE) == FOREVER


def is_founder() -> bool:
    """A browser whose page views, clicks and signups stay out of the experiment's numbers:
    marked for good, or logged in to the dashboard (the marker, not the login cookie, which
    landing pages never receive)."""
    return fastpath.current()[1].cookies.get(NOT_COUNTED_COOKIE) in (FOREVER, WHILE_LOGGED_IN)


def mark_not_counted(response: Response, not_counted: bool) -> None:
    """Mark this browser "don't count me" for good, or back to "only while logged in"."""
    _set_not_counted(response, FOREVER if not_counted else WHILE_LOGGED_IN)


def _set_not_counted(response: Response, value: str) -> None:
    lasting = {"max_age": NOT_COUNTED_SECONDS} if value == FOREVER else {}
    response.set_cookie(
        NOT_COUNTED_COOKIE, value, httponly=True, samesite="Lax", secure=_secure(), **lasting
    )


def _secure() -> bool:
    """Cookies marked Secure over HTTPS (as the session cookie is)."""
    return request.is_secure or current_app.config["SESSION_COOKIE_SECURE"]
