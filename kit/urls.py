"""The site's own links: absolute links from ``BASE_URL`` and static files by fingerprint.

Absolute links (in e-mails, share links, canonical and ``og:url``): a request's ``Host`` (and,
behind a proxy, ``X-Forwarded-Host``) is whatever the sender typed, and a link built from it
and mailed to a victim hands the attacker the victim's private token. So with ``BASE_URL`` set
every absolute link starts with it, whatever the request says; without it (development, tests)
links follow the request. Production refuses to send mail without ``BASE_URL``.

Static files: ``asset_url("style.css")`` gives ``/static/style.3f2a9c1b7d.css``; the hash
changes when the file does, so browsers may cache them for a year and a deploy never serves a
stale stylesheet. Plain names still work, briefly cached.
"""

from __future__ import annotations

import hashlib
import re
from pathlib import Path
from typing import Any

from flask import Blueprint
from flask import Response
from flask import current_app
from flask import send_from_directory
from flask import url_for

from kit import fastpath
from kit.pages.schema import Page

STATIC_DIR = Path(__file__).resolve().parent.parent / "static"
YEAR = 365 * 24 * 3600
HASHED_RE = re.compile(r"(?P<stem>.+)\.(?P<hash>[0-9a-f]{10})(?P<suffix>\.[A-Za-z0-9]+)")

bp = Blueprint("assets", __name__)


@fastpath.kept(maxsize=256)
def _digest(path: Path, mtime_ns: int) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()[:10]


def fingerprint(filename: str) -> str | None:
    """Content hash of a file in static/, or None when there is no such file."""
    path = STATIC_DIR / filename
    try:
        mtime = path.stat().st_mtime_ns
    except OSError:
        return None
    return _digest(path, mtime)


@bp.app_template_global()
def asset_url(filename: str, external: bool = False) -> str:
    """URL of a static file with its content hash in the name."""
    digest = fingerprint(filename)
    if digest is not None:
        stem, dot, suffix = filename.rpartition(".")
        filename = f"{stem}.{digest}.{suffix}" if dot else f"{filename}.{digest}"
    if external:
        return absolute_url("assets.static", filename=filename)
    return url_for("assets.static", filename=filename)


@bp.app_template_global()
def image_url(name: str, external: bool = False) -> str:
    """An image from a page file: a URL as given, or a file in static/ under its hashed name."""
    if not name or name.startswith(("https://", "http://")):
        return name
    return asset_url(name, external=external)


@bp.route("/static/<path:filename>", methods=["GET", "HEAD"])
def static(filename: str) -> Response:
    """Serve a static file; a current fingerprinted name is cacheable for a year."""
    match = HASHED_RE.fullmatch(filename)
    if match and fingerprint(match["stem"] + match["suffix"]) == match["hash"]:
        response = send_from_directory(STATIC_DIR, match["stem"] + match["suffix"], max_age=YEAR)
        response.cache_control.immutable = True
        return response
    max_age = 0 if current_app.debug else 3600
    return send_from_directory(STATIC_DIR, filename, max_age=max_age)


@bp.get("/favicon.ico")
def favicon() -> Response:
    """The icon browsers and feed readers fetch from the site root without asking the page."""
    return send_from_directory(STATIC_DIR, "favicon.ico", max_age=7 * 24 * 3600)


def absolute_url(endpoint: str, **values: Any) -> str:
    """``url_for(endpoint, **values)`` as an absolute URL on the site's own origin."""
    base = current_app.config.get("BASE_URL")
    if base:
        return base + url_for(endpoint, **values)
    return url_for(endpoint, _external=True, **values)


def embed_snippet(page: Page) -> str:
    """The one line a founder pastes into their site."""
    src = absolute_url("embed.form", slug=page.slug)
    return (
        f'<iframe src="{src}" title="Join the {page.content.name} waitlist" '
        'style="width:100%;max-width:32rem;height:30rem;border:0" loading="lazy"></iframe>'
    )
