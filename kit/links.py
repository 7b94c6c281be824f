"""Absolute links — in e-mails, share links, canonical and ``og:url`` — built from ``BASE_URL``.

A request's ``Host`` (and, behind a proxy, ``X-Forwarded-Host``) is whatever the sender typed:
a link built from it and mailed to a victim hands the attacker the victim's private token. So
with ``BASE_URL`` set every absolute link starts with it, whatever the request says; without
it (development, tests) links follow the request. Production refuses to send mail without
``BASE_URL`` (``config.production_problems``).
"""

from __future__ import annotations

from typing import Any

from flask import current_app
from flask import url_for


def absolute_url(endpoint: str, **values: Any) -> str:
    """``url_for(endpoint, **values)`` as an absolute URL on the site's own origin."""
    base = current_app.config.get("BASE_URL")
    if base:
        return base + url_for(endpoint, **values)
    return url_for(endpoint, _external=True, **values)
