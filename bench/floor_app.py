"""The least a Flask landing page meeting the A/B issue can do, for bench/landing.py.

It keeps only what every view must do: the signed visitor cookie (the kit's own session
interface), a visitor id for new visitors, the sticky SHA-256 assignment, the "seen" marker,
and the visitor's CSRF token (the kit's own, re-signed every ten minutes) in an HTML page of
the demo's size. It skips everything else the kit does: the exposure row (appended to a list
here), templates, security headers, bot and UTM handling, the database. Its ratio to "hello"
is the ceiling for any page built on Flask that does this much.
"""

from __future__ import annotations

import os
import secrets

from flask import Flask
from flask import session
from flask_wtf.csrf import CSRFProtect

from kit.fastpath import VisitorSessionInterface
from kit.fastpath import csrf_token
from kit.security import drop_malformed_values
from kit.tracking.assignment import choose_variant

app = Flask(__name__)
app.config.update(
    SECRET_KEY=os.environ.get("SECRET_KEY") or secrets.token_hex(32),
    SESSION_COOKIE_HTTPONLY=True,
    SESSION_COOKIE_SAMESITE="Lax",
    SESSION_REFRESH_EACH_REQUEST=False,
)
app.session_interface = VisitorSessionInterface(drop_malformed_values)
CSRFProtect(app)

PAGE_BYTES = 5_700  # the demo page's size
VARIANTS = [("a", 1.0), ("b", 1.0)]
PAGES = {
    name: (f"<!doctype html><h1>Variant {name}</h1><form method=post><input value='", "'>")
    for name, _ in VARIANTS
}
PADDING = "<p>" + "x" * PAGE_BYTES + "</p>"
exposures: list[tuple[str, str]] = []


@app.get("/demo")
def demo() -> str:
    """Assign, mark the exposure in the cookie, and fill the CSRF token into the page."""
    if "vid" not in session:
        session["vid"] = secrets.token_urlsafe(16)
        session.permanent = True
    variant = choose_variant(VARIANTS, "headline-test-1", session["vid"])
    seen = session.get("seen", [])
    if "demo" not in seen:
        exposures.append((session["vid"], variant))
        del exposures[:-1000]
        session["seen"] = [*seen, "demo"]
    head, tail = PAGES[variant]
    return head + csrf_token() + tail + PADDING
