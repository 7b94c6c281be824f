"""Abuse protection and browser hardening: security headers, rate limits, friendly 413/429 pages.

Everything here is bound to one app by ``init_app(app)``, called by ``create_app`` after the
blueprints are registered (the rate limits are attached to their views by endpoint name).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import ipaddress
import math
import re
import time
from typing import Any

from flask import Flask
from flask import abort
from flask import current_app
from flask import g
from flask import request
from flask_limiter import Limiter
from flask_limiter import RateLimitExceeded
from flask_limiter.util import get_remote_address
from limits import parse_many
from werkzeug.exceptions import BadHost
from werkzeug.exceptions import RequestEntityTooLarge
from werkzeug.wrappers import Response

from kit import fastpath
from kit import ratelimit_storage
from kit.config import ConfigError
from kit.errors import error_page
from kit.extensions import registry
from kit.language import text
from kit.models import is_share_code
from kit.tracking.traffic import ARRIVAL

# Endpoint -> (config key of its limit, HTTP methods it applies to). Views that don't exist in
# this app (the dashboard before it is written, say) are skipped.
LIMITED_ENDPOINTS: dict[str, tuple[str, list[str]]] = {
    "landing.signup": ("RATELIMIT_SIGNUP", ["POST"]),
    "embed.signup": ("RATELIMIT_SIGNUP", ["POST"]),
    "subscriber.request_link": ("RATELIMIT_SIGNUP", ["POST"]),  # it sends mail: no inbox bombing
    "landing.goal": ("RATELIMIT_GOAL", ["GET"]),
    "checkout.checkout": ("RATELIMIT_GOAL", ["GET"]),
    "checkout.paid": ("RATELIMIT_GOAL", ["GET"]),  # each view may ask Stripe's API
    "admin.login": ("RATELIMIT_LOGIN", ["POST"]),
}

PERMISSIONS_POLICY = "camera=(), microphone=(), geolocation=(), payment=(), usb=()"
HSTS = "max-age=31536000"


def _is_visitor_id(value: Any) -> bool:
    return isinstance(value, str) and 0 < len(value) <= 64 and value.isascii()


def _is_str_list(value: Any) -> bool:
    return isinstance(value, list) and all(isinstance(item, str) for item in value)


def _is_share_code_map(value: Any) -> bool:
    # Page -> a share code: the browser's own signup's (never a row id: ids tell list size),
    # or the one of the share link it came through.
    return isinstance(value, dict) and all(
        isinstance(k, str) and is_share_code(v) for k, v in value.items()
    )


def _is_arrival_map(value: Any) -> bool:
    # Page and experiment -> where that visit came from (kit/visitor/visit.py).
    return isinstance(value, dict) and all(
        isinstance(k, str) and isinstance(v, list) and len(v) == len(ARRIVAL)
        and all(item is None or (isinstance(item, str) and len(item) <= 255) for item in v)
        for k, v in value.items()
    )  # fmt: skip


# The shape of each value the visitor's signed cookie carries (see kit/waitlist.py). A cookie
# from an older release, or of another shape, loses only the odd value, never breaks a visit.
SESSION_SHAPES = {
    "vid": _is_visitor_id,
    "seen": _is_str_list,
    "mine": _is_share_code_map,
    "ref": _is_share_code_map,
    "came": _is_arrival_map,
    # Retired: the admin login moved to its own cookie (kit/auth.py); old values are dropped.
    "admin": lambda value: False,
    "admin_at": lambda value: False,
}


def init_app(app: Flask) -> None:
    """Add security headers to every response and rate limits to signup, login and goal links."""
    # First in line, ahead of CSRFProtect: its token lookup and Flask-WTF's form wrapper trip
    # over bodies no browser form sends (JSON that isn't an object, unnamed multipart parts).
    app.before_request_funcs.setdefault(None, []).insert(0, _refuse_unreadable_forms)
    app.before_request_funcs[None].insert(0, _refuse_unreadable_host)
    app.after_request(_security_headers)
    app.register_error_handler(RequestEntityTooLarge, _too_large)
    _init_limiter(app)
    trusted = app.config.get("TRUSTED_HOSTS")
    if trusted:
        app.wsgi_app = HealthCheckHost(app.wsgi_app, trusted[0].lstrip("."))  # type: ignore[method-assign]


class HealthCheckHost:
    """A platform's health check may ask for /healthz by an internal name (Railway's
    healthcheck.railway.app, a machine's address): TRUSTED_HOSTS must not turn it away. That
    one path is answered as the first trusted host; it returns no link to be misled."""

    def __init__(self, wsgi_app: Any, host: str) -> None:
        self.wsgi_app, self.host = wsgi_app, host

    def __call__(self, environ: dict, start_response: Any) -> Any:
        if environ.get("PATH_INFO") == "/healthz":
            environ = {**environ, "HTTP_HOST": self.host}
        return self.wsgi_app(environ, start_response)


# A host of plain labels (letters, digits, dashes; 1 to 63 each; no punycode "xn--"), with an
# optional port: Werkzeug always reads it back, so only other hosts pay for the full check.
PLAIN_HOST = re.compile(r"(?!.*xn--)[a-z0-9-]{1,63}(\.[a-z0-9-]{1,63})*(:[0-9]{1,5})?", re.I)


def _refuse_unreadable_host() -> None:
    """A Host no URL can be made of ("xn--zz", a label over 63 characters): Werkzeug fails to
    read it back wherever the request's own address is asked for, so refuse it at once (the
    plain 400 a foreign host gets, kit/__init__.py)."""
    if PLAIN_HOST.fullmatch(request.host):
        return  # every page view: reading the URL back costs about 15 us, this about 1
    try:
        request.host_url  # noqa: B018 - reading it is the check
    except UnicodeError:
        raise BadHost() from None


FORM_TYPES = {"", "application/x-www-form-urlencoded", "multipart/form-data"}
WRITE_METHODS = {"POST", "PUT", "PATCH", "DELETE"}


def _refuse_unreadable_forms() -> None:
    """Answer 415/400 to a write that isn't a readable HTML form, or that carries a file (the
    JSON API and the signed Stripe webhook excepted)."""
    if request.method not in WRITE_METHODS or request.path.startswith(("/api/", "/webhooks/")):
        return
    if request.mimetype not in FORM_TYPES:
        abort(415, text("error.form_only"))
    if any(not key for key in request.form):
        abort(400, text("error.form_unreadable"))
    if request.files:
        # No form of the kit takes a file: a file part where text belongs is not a form's.
        abort(400, text("error.no_files"))


def drop_malformed_values(values: dict[str, Any]) -> None:
    """Forget the values of the visitor's cookie that don't have the shape the kit wrote."""
    for key, valid in SESSION_SHAPES.items():
        if key in values and not valid(values[key]):
            del values[key]


def content_security_policy(
    inline_styles: tuple[str, ...], frame_ancestors: tuple[str, ...] = ()
) -> str:
    """The policy: only our own files, no inline script at all, and only the inline styles the
    pages' themes write (``Theme.css``), allowed by their SHA-256. A hash instead of a nonce
    keeps every response of a page the same, so the page is rendered once, not per view.
    No site may frame a page, except the ``frame_ancestors`` an embedded form lists."""
    hashes = "".join(
        f" 'sha256-{base64.b64encode(hashlib.sha256(css.encode()).digest()).decode()}'"
        for css in inline_styles
    )
    ancestors = " ".join(frame_ancestors) or "'none'"
    return (
        "default-src 'self'; script-src 'self'; "
        f"style-src 'self'{hashes}; img-src 'self' https: data:; "
        f"frame-ancestors {ancestors}; base-uri 'self'; form-action 'self'"
    )


STATIC_HEADERS = (
    ("X-Content-Type-Options", "nosniff"),
    ("Referrer-Policy", "strict-origin-when-cross-origin"),
    ("X-Frame-Options", "DENY"),
    ("Permissions-Policy", PERMISSIONS_POLICY),
)


# Pages that show a person's data (place, share code, status token, e-mail): never cached.
PRIVATE_BLUEPRINTS = {"subscriber", "admin", "api", "proof"}  # proof: revoked means gone
PRIVATE_ENDPOINTS = {"landing.thanks", "landing.signup", "checkout.paid"}


def _security_headers(response: Response) -> Response:
    app, here, _ = fastpath.current()
    headers = response.headers
    endpoint = here.endpoint or ""
    if endpoint.partition(".")[0] in PRIVATE_BLUEPRINTS or endpoint in PRIVATE_ENDPOINTS:
        headers["Cache-Control"] = "no-store"
    present = frozenset(name.lower() for name, _ in headers.items())
    framers = g.get("frame_ancestors", ())  # an embedded form's sites (kit/embed.py)
    # here.is_secure reflects X-Forwarded-Proto once ProxyFix has run: HTTPS at the edge.
    styles = registry(app).inline_styles
    headers.extend(missing_headers(present, framers, styles, here.is_secure))
    return response


@fastpath.kept(maxsize=64)
def missing_headers(
    present: frozenset[str], framers: tuple[str, ...], styles: tuple[str, ...], secure: bool
) -> tuple[tuple[str, str], ...]:
    """The security headers a response with headers ``present`` lacks."""
    if framers:
        present |= {"x-frame-options"}  # it has no list of sites: the CSP's says who may frame
    missing = [(name, value) for name, value in STATIC_HEADERS if name.lower() not in present]
    if "content-security-policy" not in present:
        missing.append(("Content-Security-Policy", content_security_policy(styles, framers)))
    if secure and "strict-transport-security" not in present:
        missing.append(("Strict-Transport-Security", HSTS))
    return tuple(missing)


def _too_large(error: RequestEntityTooLarge) -> tuple[str, int]:
    limit = current_app.config.get("MAX_CONTENT_LENGTH") or 0
    return error_page(413, text("error.too_large", size=limit // 1024))


def storage_uri(config: dict[str, Any]) -> str:
    """Where rate-limit counters live: RATELIMIT_STORAGE_URI, else REDIS_URL, else the app's
    database (shared by every worker and instance; ``kit/ratelimit_storage.py``)."""
    default = f"{ratelimit_storage.SCHEME}://"
    return config.get("RATELIMIT_STORAGE_URI") or config.get("REDIS_URL") or default


def _init_limiter(app: Flask) -> None:
    """One Limiter per app (its storage is per instance), limits attached by endpoint name."""
    uri = storage_uri(app.config)
    app.config["RATELIMIT_STORAGE_URI"] = uri
    if uri.startswith(("redis://", "rediss://")):
        # Short timeouts: a slow Redis must not hold up a signup (errors are swallowed below).
        options = {"socket_connect_timeout": 1, "socket_timeout": 1}
        app.config["RATELIMIT_STORAGE_OPTIONS"] = {
            **options,
            **app.config.get("RATELIMIT_STORAGE_OPTIONS", {}),
        }
    # Counting is protection, not a feature: if the storage fails, serve the visitor anyway.
    app.config.setdefault("RATELIMIT_SWALLOW_ERRORS", True)
    limiter = Limiter(network_key, app=app)
    fastpath.trim_limiter(app, limiter)  # the views below check their own limits
    app.extensions["rate_limiter"] = limiter
    for endpoint, (key, methods) in LIMITED_ENDPOINTS.items():
        view = app.view_functions.get(endpoint)
        if view is None:
            continue
        try:
            parse_many(app.config[key])
        except ValueError:
            raise ConfigError(
                f"{key}={app.config[key]!r} is not a rate limit; write e.g. '10 per minute' "
                "or '5 per minute; 30 per hour'"
            ) from None
        # The wrapped view does the counting, so it replaces the registered one.
        app.view_functions[endpoint] = limiter.limit(_configured(key), methods=methods)(view)
    app.register_error_handler(RateLimitExceeded, _too_many_requests)


def network_key() -> str:
    """Whom a limit (and the cap on new visitors) counts: an HMAC of the client's network
    under SECRET_KEY, so no IP address is written to Redis or to the database. The network is
    an IPv4 address, or the /64 of an IPv6 one (a device is given a whole /64 and may use any
    address in it). request.remote_addr is the real client address: ProxyFix has applied
    X-Forwarded-For."""
    secret = current_app.config["SECRET_KEY"].encode()
    return hmac.new(
        secret, network_of(get_remote_address() or "").encode(), hashlib.sha256
    ).hexdigest()[:32]


def network_of(address: str) -> str:
    """ "2001:db8:1:2:a:b:c:d" -> "2001:db8:1:2::/64"; an IPv4 address (or anything else) as it
    is. A port some proxies add ("203.0.113.7:1234", "[2001:db8::1]:443") is not part of it."""
    host = address.strip()
    if host.startswith("[") and "]" in host:
        host = host[1 : host.index("]")]
    elif host.count(":") == 1:
        host = host.partition(":")[0]
    try:
        parsed = ipaddress.ip_address(host)
    except ValueError:
        return address
    if isinstance(parsed, ipaddress.IPv6Address):
        if parsed.ipv4_mapped is not None:
            return str(parsed.ipv4_mapped)
        return str(ipaddress.ip_network(f"{parsed}/64", strict=False))
    return str(parsed)


def _configured(key: str):
    def limit() -> str:
        return current_app.config[key]

    return limit


def _too_many_requests(error: RateLimitExceeded) -> Any:
    """A friendly page (or JSON for the API) that says how long to wait, with Retry-After."""
    limiter: Limiter = current_app.extensions["rate_limiter"]
    current = limiter.current_limit
    reset_at = current.reset_at if current is not None else time.time() + 60
    wait = max(1, round(reset_at - time.time()))
    if request.path.startswith("/api/"):
        body: Any = {"error": "too many requests", "retry_after": wait}
    else:
        body = error_page(429, text("error.too_many", count=math.ceil(wait / 60)))[0]
    return body, 429, {"Retry-After": str(wait)}
