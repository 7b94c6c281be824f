"""Who the founder is: the admin password, the login kept in the session, and the browsers
the founder asked not to count ("don't count me"), so their own visits never bend the numbers.
"""

from __future__ import annotations

import hashlib
import hmac
import time

from flask import current_app
from flask import request
from flask import session
from werkzeug.security import check_password_hash
from werkzeug.wrappers import Response

DEV_ADMIN_PASSWORD = "admin"  # only when FLASK_DEBUG is on and ADMIN_PASSWORD is not set
HASH_PREFIXES = ("scrypt:", "pbkdf2:")
# A plain marker, not a secret: a visitor who sets it only stops being counted themselves.
NOT_COUNTED_COOKIE = "kit_not_counted"
NOT_COUNTED_SECONDS = 2 * 365 * 24 * 3600


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
    """Kept in the session: changing ADMIN_PASSWORD or SECRET_KEY logs every admin out."""
    key = current_app.config["SECRET_KEY"].encode()
    return hmac.new(key, b"admin:" + configured.encode(), hashlib.sha256).hexdigest()[:32]


def is_admin() -> bool:
    configured = admin_password()
    if configured is None or not isinstance(session.get("admin"), str):
        return False
    fresh = (
        time.time() - session.get("admin_at", 0) < current_app.config["ADMIN_SESSION_HOURS"] * 3600
    )
    return fresh and hmac.compare_digest(session["admin"], login_marker(configured))


def marked_not_counted() -> bool:
    """The founder marked this browser from the dashboard: its visits are never counted."""
    return request.cookies.get(NOT_COUNTED_COOKIE) == "1"


def is_founder() -> bool:
    """A browser whose page views, clicks and signups stay out of the experiment's numbers."""
    return marked_not_counted() or ("admin" in session and is_admin())


def mark_not_counted(response: Response, not_counted: bool) -> None:
    """Set or clear the "don't count me" marker on this browser."""
    if not_counted:
        response.set_cookie(
            NOT_COUNTED_COOKIE,
            "1",
            max_age=NOT_COUNTED_SECONDS,
            httponly=True,
            samesite="Lax",
            secure=request.is_secure,
        )
    else:
        response.delete_cookie(NOT_COUNTED_COOKIE, httponly=True, samesite="Lax")
