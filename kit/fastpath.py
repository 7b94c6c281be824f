"""The fast path: every speed trick of the request path, in one place, behind one switch.

THE RULE. A fresh landing page (an empty form, no flash message, not the founder's browser)
is rendered once per page, variant, preview and site address, and that HTML is served to
every visitor; only its two slots, the CSRF token and the signed render time, are filled per
request. So nothing that differs between visitors (a flash, the founder's banner, a referral
code, an address, a place in line) may be rendered into a page served by ``page()`` unless
``page()`` is told the view is ``personal``. tests/scenarios/test_fast_path.py serves pages to
many kinds of visitor with the switch on and off and requires the same HTML.

The tricks, each bounded (a full cache is emptied, never grown):
- ``page``: the rendered page kept split around its slots;
- ``kept``: a pure function's answers kept per arguments (the SQL statements every signup,
  click and counter sends, built once per database kind; a user agent's bot and device
  verdicts; the security headers a response lacks; a static file's fingerprint);
- ``kept_while``: an answer kept while the page it depends on is loaded (the phase a test's
  content counts in: the database is asked again only when the page file changes);
- ``as_written``, ``as_saved``: a row just written is told to the ORM as written instead of
  being read back;
- ``VisitorSessionInterface``: a returning visitor sends the same signed cookie on every view,
  so its checked values are kept for the cookie's lifetime (no signature check, no decoding);
  cookies are signed by a serializer built once per key that tries zlib only where it can gain
  (``CompactSerializer``);
- ``csrf_token``: the visitor's CSRF token re-signed at most every ten minutes;
- ``signed_render_time``: the form's signed render time, signed once per second and page.

``FAST_PATH = False`` (a setting) turns all of them off: each page is rendered with
``render_template``, each cookie is checked and each token signed on every request, by
Flask's and Flask-WTF's own code; each statement is built and each answer computed afresh,
each row read back; Flask-Limiter keeps its own hooks.

Reaching into an extension's internals happens here and nowhere else (the end of the file).
Nothing here imports the kit's own modules, so every layer may use it.
"""

from __future__ import annotations

import hashlib
import os
import re
import secrets
import time
import zlib
from collections.abc import Callable
from functools import lru_cache
from functools import partial
from functools import wraps
from typing import TYPE_CHECKING
from typing import Any
from typing import ParamSpec
from typing import TypeVar

from flask import Flask
from flask import Request
from flask import current_app
from flask import g
from flask import request
from flask.globals import _cv_app
from flask.globals import _cv_request
from flask.sessions import SecureCookieSession
from flask.sessions import SecureCookieSessionInterface
from flask_wtf.csrf import generate_csrf
from itsdangerous import BadSignature
from itsdangerous import TimestampSigner
from itsdangerous import URLSafeTimedSerializer
from itsdangerous.encoding import base64_encode
from itsdangerous.url_safe import URLSafeSerializerMixin
from sqlalchemy import Row
from sqlalchemy.orm import Session
from sqlalchemy.orm import make_transient_to_detached
from sqlalchemy.orm import object_session
from sqlalchemy.orm.attributes import set_committed_value

if TYPE_CHECKING:
    from flask_limiter import Limiter
    from flask_sqlalchemy import SQLAlchemy

    from kit.pages.schema import Page

P = ParamSpec("P")
R = TypeVar("R")
T = TypeVar("T")


def enabled() -> bool:
    """The switch: the ``FAST_PATH`` setting (on unless turned off; on outside an app, where
    only the writer thread and commands build statements). Asked a dozen times per page view,
    so it reads the app context's variable rather than ``current_app`` (Flask's
    ``flask.globals._cv_app``, checked against Flask 3.1)."""
    context = _cv_app.get(None)
    return context is None or context.app.config.get("FAST_PATH", True)


def current() -> tuple[Flask, Request, SecureCookieSession]:
    """This request's app, request and session themselves, not their proxies: each access
    through ``current_app``, ``request`` or ``session`` costs about a microsecond, and a page
    view makes dozens. The same objects whatever the switch says (Flask's
    ``flask.globals._cv_request``, checked against Flask 3.1)."""
    context = _cv_request.get()
    return context.app, context.request, context.session


# --- answers kept ------------------------------------------------------------------------


def kept(maxsize: int) -> Callable[[Callable[P, R]], Callable[P, R]]:
    """Keep a pure function's answers per arguments while the switch is on (at most
    ``maxsize``, least recently used dropped); with it off, every call computes afresh."""

    def decorate(function: Callable[P, R]) -> Callable[P, R]:
        cached = lru_cache(maxsize=maxsize)(function)

        @wraps(function)
        def answer(*args: P.args, **kwargs: P.kwargs) -> R:
            if enabled():
                return cached(*args, **kwargs)
            return function(*args, **kwargs)

        return answer

    return decorate


def kept_while(thing: object, name: str, compute: Callable[[], T]) -> T:
    """``compute()``, kept by the app under ``name`` while ``thing`` is the very same object
    (a loaded page's experiment: a new object when its file changes). With the switch off,
    every call computes afresh."""
    if not enabled():
        return compute()
    known = current_app.extensions.setdefault("kit.kept_while", {})
    found = known.get(name)
    if found is not None and found[0] is thing:
        return found[1]
    value = compute()
    known[name] = (thing, value)
    return value


# --- rows the ORM is told about instead of reading them -------------------------------------


def as_written(
    entry: T, filled: Row, session: Session, read_back: Callable[[], T | None]
) -> T | None:
    """A row just INSERTed, as a row of ``session`` without reading it back: ``entry``'s values
    plus what the INSERT filled in (``filled``, from its RETURNING). Off: ``read_back()``."""
    if not enabled():
        return read_back()
    for column in type(entry).__table__.columns:
        setattr(entry, column.key, getattr(entry, column.key))  # unset: None, as written
    for key, value in filled._mapping.items():
        setattr(entry, key, value)
    make_transient_to_detached(entry)
    session.add(entry)
    return entry


def as_saved(entry: Any, **values: Any) -> None:
    """Columns just written by an UPDATE of the entry's row: held as saved, so the session has
    nothing to flush. Off: expired, so the next read loads them."""
    if not enabled():
        object_session(entry).expire(entry, list(values))
        return
    for key, value in values.items():
        set_committed_value(entry, key, value)


# --- the page -------------------------------------------------------------------------------

# Stand-ins for the per-request values; the random part keeps page text from ever matching.
_SLOT = f"slot-{secrets.token_hex(16)}"
CSRF_SLOT = f"{_SLOT}:csrf"
RENDERED_SLOT = f"{_SLOT}:rendered"
PAGES_KEPT = 256


def page(landing: Page, key: tuple, render: Callable[[bool], str], personal: bool) -> str:
    """The fresh ``landing`` page for ``key`` (its variant, say) and this site address.

    ``render(slots)`` renders it, with the slot stand-ins in its form when ``slots`` is true
    and with this request's values when not; that is what a ``personal`` view, a developer's
    (templates may change) and a visitor with a flash message get, and everyone when the
    switch is off.
    """
    app, here, visitor = current()
    if personal or not enabled() or app.debug or visitor.get("_flashes"):
        return render(False)
    cache = app.extensions.setdefault("fresh_pages", {})
    full_key = (id(landing), *key, here.scheme, here.host, here.root_path)
    cached = cache.get(full_key)
    if cached is None or cached[0] is not landing:
        if len(cache) >= PAGES_KEPT:
            cache.clear()  # many Host names (or a flood of them): start over, stay small
        # The page is kept with its HTML so its id() cannot be reused by another page.
        # The HTML is kept split around its slots: text, slot, text, slot, ..., text.
        cached = cache[full_key] = (landing, re.split(f"({_SLOT}:[a-z]+)", render(True)))
    parts = cached[1]
    values = {RENDERED_SLOT: signed_render_time(landing.slug)}
    if CSRF_SLOT in parts:
        values[CSRF_SLOT] = csrf_token()
    return "".join([values[part] if i % 2 else part for i, part in enumerate(parts)])


# --- the signed render time -------------------------------------------------------------------

_SIGNED_AT: dict[tuple[str, str, int], str] = {}


def render_time_signer() -> TimestampSigner:
    """Signs the page slug with the time the form was shown (checked when it is sent)."""
    return TimestampSigner(current_app.config["SECRET_KEY"], salt="signup-form-rendered")


def signed_render_time(slug: str) -> str:
    """The signed render time for a fresh form: the same string all second, so signed once."""
    if not enabled():
        return render_time_signer().sign(slug).decode()
    key = (current_app.config["SECRET_KEY"], slug, int(time.time()))
    signed = _SIGNED_AT.get(key)
    if signed is None:
        if len(_SIGNED_AT) > 64:
            _SIGNED_AT.clear()
        signed = _SIGNED_AT[key] = render_time_signer().sign(slug).decode()
    return signed


# --- the CSRF token ---------------------------------------------------------------------------

_SIGNED_CSRF: dict[str, tuple[float, str]] = {}
CSRF_KEPT = 10_000
CSRF_REUSE_SECONDS = 600


def csrf_token() -> str:
    """The visitor's signed CSRF token, re-signed at most every ten minutes.

    The same token Flask-WTF's ``generate_csrf`` makes (and its ``validate_csrf`` checks), from
    a serializer built once and without zlib. A token signed a few minutes ago is as good as a
    fresh one (it is accepted for WTF_CSRF_TIME_LIMIT, six hours).
    """
    if not enabled():
        return generate_csrf()
    app, _, visitor = current()
    config = app.config
    raw = visitor.get("csrf_token")
    cached = _SIGNED_CSRF.get(raw) if isinstance(raw, str) else None
    limit = config.get("WTF_CSRF_TIME_LIMIT") or CSRF_REUSE_SECONDS * 10
    if cached is not None and time.time() - cached[0] < min(CSRF_REUSE_SECONDS, limit / 10):
        return cached[1]
    if not isinstance(raw, str):
        raw = visitor["csrf_token"] = hashlib.sha1(os.urandom(64)).hexdigest()
    secret = config.get("WTF_CSRF_SECRET_KEY") or config["SECRET_KEY"]
    token = g.csrf_token = _csrf_serializer(secret).dumps(raw)  # g: Flask-WTF's forms look here
    if len(_SIGNED_CSRF) >= CSRF_KEPT:
        _SIGNED_CSRF.clear()  # many visitors in ten minutes simply re-sign
    _SIGNED_CSRF[raw] = (time.time(), token)
    return token


@lru_cache(maxsize=4)
def _csrf_serializer(secret: str | bytes) -> CompactSerializer:
    """Flask-WTF's token serializer (same salt), built once per key."""
    return CompactSerializer(secret, salt="wtf-csrf-token")


# --- the visitor's cookie ---------------------------------------------------------------------

COMPRESS_ABOVE = 400  # bytes of JSON; below this zlib rarely shortens a cookie or token
COOKIES_KEPT = 10_000


class CompactSerializer(URLSafeTimedSerializer):
    """itsdangerous' signed URL-safe serializer, trying zlib only on payloads that can gain.

    Setting zlib up costs more than the rest of signing (about 35 us), and a new visitor's
    cookie or CSRF token (random ids) never shrinks. Plain and compressed payloads are read
    alike, so cookies and tokens signed either way stay valid.
    """

    def dump_payload(self, obj: Any) -> bytes:
        # The JSON itself, from the serializer below the URL-safe mixin (which compresses).
        json = super(URLSafeSerializerMixin, self).dump_payload(obj)
        if len(json) > COMPRESS_ABOVE:
            compressed = zlib.compress(json)
            if len(compressed) < len(json) - 1:
                return b"." + base64_encode(compressed)
        return base64_encode(json)


class VisitorSessionInterface(SecureCookieSessionInterface):
    """The signed session cookie, minus values of a shape the kit didn't write; bots and
    previews get no cookie at all."""

    def __init__(self, drop_malformed_values: Callable[[dict[str, Any]], None]) -> None:
        self.drop_malformed_values = drop_malformed_values
        self.serializers: dict[tuple, URLSafeTimedSerializer] = {}
        # Cookies already checked: (serializer, cookie) -> (signed at, values).
        self.opened: dict[tuple, tuple[float, dict[str, Any]]] = {}

    def get_signing_serializer(self, app: Flask) -> URLSafeTimedSerializer | None:
        """A ``CompactSerializer`` built once per key (Flask builds one per request)."""
        if not app.secret_key or not app.config.get("FAST_PATH", True):
            return super().get_signing_serializer(app)
        keys = (*(app.config["SECRET_KEY_FALLBACKS"] or ()), app.secret_key)  # current last
        if keys not in self.serializers:
            self.serializers[keys] = CompactSerializer(
                list(keys),
                salt=self.salt,
                serializer=self.serializer,
                signer_kwargs={
                    "key_derivation": self.key_derivation,
                    "digest_method": self.digest_method,
                },
            )
        return self.serializers[keys]

    def open_session(self, app: Flask, request: Request) -> SecureCookieSession | None:
        """The visitor's cookie, its values checked once per process for its lifetime."""
        serializer = self.get_signing_serializer(app)
        if serializer is None:
            return None
        cookie = request.cookies.get(self.get_cookie_name(app))
        if not cookie:
            return self.session_class()
        max_age = app.permanent_session_lifetime.total_seconds()
        fast = app.config.get("FAST_PATH", True)
        known = self.opened.get((serializer, cookie)) if fast else None
        if known is None or time.time() - known[0] > max_age:
            try:
                values, signed_at = serializer.loads(
                    cookie, max_age=int(max_age), return_timestamp=True
                )
            except BadSignature:
                return self.session_class()
            self.drop_malformed_values(values)
            if not fast:
                return self.session_class(values)
            if len(self.opened) >= COOKIES_KEPT:
                self.opened.clear()
            known = self.opened[(serializer, cookie)] = (signed_at.timestamp(), values)
        # The session is the visitor's to change; the kept values must stay as checked.
        return self.session_class(
            {k: v.copy() if isinstance(v, dict | list) else v for k, v in known[1].items()}
        )

    def should_set_cookie(self, app: Flask, session: Any) -> bool:
        if g.get("no_cookie"):
            return False
        return super().should_set_cookie(app, session)


# --- Reaching into extensions: only here ------------------------------------------------------


def init_database(
    app: Flask, db: SQLAlchemy, teardown: Callable[[BaseException | None], None]
) -> None:
    """Swap Flask-SQLAlchemy's session teardown for ``teardown``. Its own removes the session
    with no way to catch a connection that died after the view used it, which turned a finished
    answer into a 500 (a rule, not a trick: done whatever the switch says). Internals:
    ``SQLAlchemy._teardown_session``, checked against Flask-SQLAlchemy 3.1.1."""
    app.teardown_appcontext_funcs.remove(db._teardown_session)
    app.teardown_appcontext(teardown)


def trim_csrf(app: Flask) -> None:
    """Run Flask-WTF's app-wide CSRF check only for the methods it checks (POST...). For a GET
    its hook first looks up whether the view is exempt (about 40 us), then returns anyway.
    Internals: the ``csrf_protect`` closure ``CSRFProtect.init_app`` registers in
    ``app.before_request_funcs[None]``, checked against Flask-WTF 1.3.0."""
    if not app.config.get("FAST_PATH", True):
        return
    methods = frozenset(app.config["WTF_CSRF_METHODS"])
    hooks = app.before_request_funcs[None]
    for index, hook in enumerate(hooks):
        if hook.__qualname__ == "CSRFProtect.init_app.<locals>.csrf_protect":

            def csrf_protect(check: Callable[[], None] = hook) -> None:
                if request.method in methods:
                    check()

            hooks[index] = csrf_protect


def trim_limiter(app: Flask, limiter: Limiter) -> None:
    """Take Flask-Limiter's app-wide hooks off every request. The kit's limited views check
    their own limits (their decorators); the before-request hook would otherwise run on every
    page view and static file, and the after-request and teardown hooks serve only features
    the kit doesn't use (rate-limit headers, conditional deductions). Internals: the hooks
    ``Limiter.init_app`` registers (bound methods of the limiter, or partials holding it),
    checked against Flask-Limiter 4.1.1."""
    if not app.config.get("FAST_PATH", True):
        return
    for hooks in (app.before_request_funcs, app.after_request_funcs, app.teardown_request_funcs):
        hooks[None] = [hook for hook in hooks.get(None, []) if not _limiter_hook(hook, limiter)]


def _limiter_hook(hook: Any, limiter: Limiter) -> bool:
    return getattr(hook, "__self__", None) is limiter or (
        isinstance(hook, partial) and limiter in hook.args
    )
