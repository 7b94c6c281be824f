"""Every route, every method it takes, odd input of every kind: never a 500.

The routes come from the URL map, so a new one is fuzzed from the day it exists. Each request
starts from one that works (a valid CSRF token and signed render time, a logged-in founder
for /admin, the API token for /api) and changes one thing: NUL and control characters in every
field, query parameter, path part, cookie and header; file parts in place of fields; a huge
value; invalid UTF-8; extreme dates and amounts; JSON nested thousands deep; Host values of
every odd kind. Everything below 500 is an answer (the normal page, or a 4xx with a sentence);
a 500 is a bug. Runs on SQLite and PostgreSQL.
"""

from __future__ import annotations

import io
from collections.abc import Iterator
from dataclasses import dataclass
from dataclasses import field
from typing import Any

import pytest
from flask import Flask
from flask import url_for
from sqlalchemy import select
from werkzeug.test import EnvironBuilder
from werkzeug.test import run_wsgi_app

from kit.founder import share
from kit.founder.auth import ADMIN_COOKIE
from kit.models import AdSpend
from kit.models import ShareLink
from kit.models import Signup
from kit.models import db
from kit.waitlist.tokens import confirm_token
from kit.waitlist.tokens import status_token
from tests.conftest import BROWSER_UA
from tests.conftest import browser
from tests.conftest import form_fields
from tests.conftest import sign_up
from tests.founder.test_dashboard import logged_in
from tests.tracking.test_preorders import SECRET
from tests.tracking.test_preorders import SHOP

# What a request can carry on the wire (a lone surrogate can't be sent: invalid UTF-8 is its
# form, below); headers hold Latin-1 only.
ODD = ["\x00", "a\x00b", "\x01\x1b[2J\x7f", "\u202e\u2028", "%00", "../../etc", "<script>"]
ODD_HEADER = ["\x00", "a\x00b", "\x01\x1b[2J\x7f", "\xff\xfe", "%00", "../../etc", "<script>"]
FIELDS = ["email", "name", "answer", "consent", "password", "source", "campaign", "first_day",
          "last_day", "amount", "currency", "count", "csrf_token", "rendered",
          "leave_this_empty", "List-Unsubscribe"]  # fmt: skip
PARAMS = ["q", "page", "ref", "variant", "utm_source", "utm_campaign", "utm_medium",
          "confirmed", "next", "experiment", "source", "dimension", "referrer",
          "device"]  # fmt: skip
HOSTS = ["a" * 64 + ".example.com", "a..b", ".example.com", "[::1", "exa mple.com",
         "ex\xe4mple", "", "localhost:99999", "localhost:-1", "a/b", "a@b", "a\\b", "xn--",
         "xn--zz"]  # fmt: skip
HEADERS = ["User-Agent", "Referer", "Origin", "X-Forwarded-For", "X-Forwarded-Host",
           "X-Forwarded-Proto", "Authorization", "Stripe-Signature", "Accept-Language",
           "If-None-Match", "Content-Type"]  # fmt: skip
DEEP_JSON = "[" * 5000 + "]" * 5000


@dataclass
class Call:
    """One request: what it changes, and how it is sent."""

    what: str
    path: str
    method: str
    data: Any = None
    query: dict[str, str] = field(default_factory=dict)
    headers: dict[str, str] = field(default_factory=dict)
    content_type: str | None = None
    # The test client files cookies under the request's host: an odd Host goes straight in.
    cookies: bool = True


@pytest.fixture
def fuzz_app(make_app, pages_dir) -> Flask:
    (pages_dir / "shop.toml").write_text(SHOP, encoding="utf-8")
    path = pages_dir / "plain.toml"
    path.write_text(path.read_text() + '\n[embed]\norigins = ["https://parent.example"]\n')
    return make_app(
        RATELIMIT_ENABLED=False, STRIPE_WEBHOOK_SECRET=SECRET, PROXY_FIX_HOPS=1, HOME_PAGE="plain",
        MAIL_URL="smtp://127.0.0.1:9", MAIL_FROM="hi@example.com",
    )  # fmt: skip


def _arguments(app: Flask) -> dict[str, str]:
    """A working value for every kind of path argument, from a real signup and spend entry."""
    sign_up(browser(app), email="ada@example.com")
    founder = logged_in(app)
    page = founder.get("/admin/plain/sources").get_data(as_text=True)
    founder.post("/admin/plain/spend", data={
        "csrf_token": form_fields(page)["csrf_token"], "source": "newsletter", "currency": "USD",
        "first_day": "2026-11-01", "last_day": "2026-11-02", "amount": "5",
    })  # fmt: skip
    founder.post("/admin/share", data={"csrf_token": form_fields(page)["csrf_token"],
                                       "page": "plain"})  # fmt: skip
    with app.test_request_context():
        entry = db.session.scalar(select(Signup))
        spend_id = db.session.scalar(select(AdSpend.id))
        link = db.session.scalar(select(ShareLink))
        return {
            "slug": "plain", "token": status_token(entry), "confirm": confirm_token(entry),
            "name": "nope", "tier": "pro", "filename": "app.css",
            "signup_id": str(entry.id), "spend_id": str(spend_id),
            "public_id": link.public_id, "report": share.key_of(link),
        }  # fmt: skip


def _paths(app: Flask, args: dict[str, str]) -> list[tuple[str, str, str]]:
    """(endpoint, method, path) of every route of the URL map, its arguments filled. A list,
    built before any request: a request context left open would share ``g`` with them all."""
    paths = []
    with app.test_request_context():
        for rule in app.url_map.iter_rules():
            values = {name: args[name] for name in rule.arguments}
            if rule.endpoint == "subscriber.confirm":
                values["token"] = args["confirm"]
            if rule.endpoint == "proof.show":
                values["token"] = args["report"]  # a shared report's key
            if rule.endpoint in ("checkout.checkout", "checkout.paid"):
                values["slug"] = "shop"  # the page that takes pre-orders
            if rule.endpoint == "assets.static":
                values["filename"] = "favicon.svg"
            if rule.endpoint == "admin.mail_preview":
                values["name"] = "welcome"
            for method in sorted(rule.methods - {"OPTIONS"}):
                paths.append((rule.endpoint, method, url_for(rule.endpoint, **values)))
    return paths


def _calls(endpoint: str, method: str, path: str) -> Iterator[Call]:
    """The working request, then each odd variation of it."""
    yield Call("as it is", path, method)
    parts = path.split("/")
    for i, part in enumerate(parts):
        for number in ("2147483648", "9" * 30) if part.isdigit() else ():  # past any integer
            yield Call(f"path part {i} = {number}", "/".join([*parts[:i], number, *parts[i + 1 :]]),
                       method)  # fmt: skip
    for odd in ODD:
        parts = path.split("/")
        for i in range(1, len(parts)):
            if parts[i]:
                bent = "/".join([*parts[:i], parts[i] + odd.replace("/", ""), *parts[i + 1 :]])
                yield Call(f"path part {i} + {odd!r}", bent, method)
                if method == "POST":  # no CSRF token either: the error handler meets the path
                    yield Call(f"path part {i} + {odd!r}, no token", bent, method,
                               data={"csrf_token": ""})  # fmt: skip
        yield Call(f"every query parameter {odd!r}", path, method, query=dict.fromkeys(PARAMS, odd))
        if method == "POST":
            yield Call(f"every field {odd!r}", path, method, data=dict.fromkeys(FIELDS, odd))
    for odd in ODD_HEADER:
        for header in HEADERS:
            yield Call(f"{header}: {odd!r}", path, method, headers={header: odd})
        yield Call(f"Cookie {odd!r}", path, method,
                   headers={"Cookie": f"session={odd}; {ADMIN_COOKIE}={odd}"})  # fmt: skip
    for host in HOSTS:
        yield Call(f"Host {host!r}", path, method, headers={"Host": host}, cookies=False)
        yield Call(f"X-Forwarded-Host {host!r}", path, method, headers={"X-Forwarded-Host": host},
                   cookies=False)  # fmt: skip
    yield Call("User-Agent of 100 KB", path, method, headers={"User-Agent": "M" * 100_000})
    yield Call("invalid UTF-8 query", f"{path}?q=%FF%FE&ref=%C3%28&utm_source=%ED%A0%80", method)
    if method != "POST":
        return
    for name in FIELDS:
        yield Call(f"{name} as a file", path, method, content_type="multipart/form-data",
                   data={name: (io.BytesIO(b"ada@example.com"), "a.txt")})  # fmt: skip
    yield Call("a field of 100 KB", path, method, data={"email": "a" * 100_000})
    yield Call("invalid UTF-8 form", path, method, data=b"email=%FF%FE&name=%C3%28",
               content_type="application/x-www-form-urlencoded")  # fmt: skip
    yield Call("extreme dates and amounts", path, method, data={
        "first_day": "9999-12-31", "last_day": "0001-01-01", "amount": "1e309",
        "currency": "\x00\x00\x00", "email": "a@" + "b" * 300 + ".com", "spend_id": "-1",
    })  # fmt: skip
    yield Call(
        "negative and huge amounts",
        path,
        method,
        data={"amount": "-5", "first_day": "2026-13-45", "last_day": "99999-01-01"},
    )
    yield Call("JSON nested 5 000 deep", path, method, data=DEEP_JSON,
               content_type="application/json")  # fmt: skip
    yield Call("JSON that isn't an object", path, method, data='"x"',
               content_type="application/json")  # fmt: skip
    yield Call("unnamed multipart part", path, method, content_type="multipart/form-data",
               data=b'--b\r\nContent-Disposition: form-data\r\n\r\nx\r\n--b--\r\n',
               headers={"Content-Type": "multipart/form-data; boundary=b"})  # fmt: skip


def _send(client, call: Call, base_form: dict[str, str]) -> int:
    """Send the call; its status code."""
    data = call.data
    if call.method == "POST" and (data is None or isinstance(data, dict)):
        data = {**base_form, **(data or {})}
    kwargs: dict[str, Any] = {"method": call.method, "headers": call.headers}
    if data is not None and call.method == "POST":
        kwargs["data"] = data
    if call.content_type and "Content-Type" not in call.headers:
        kwargs["content_type"] = call.content_type
    if call.query:
        kwargs["query_string"] = call.query
    if call.cookies:
        answer = client.open(call.path, **kwargs)
        answer.close()
        return answer.status_code
    # Straight to the app: the test client can't file cookies under an odd host.
    kwargs["headers"] = {"User-Agent": BROWSER_UA, **call.headers}
    builder = EnvironBuilder(call.path, **kwargs)
    try:
        body, status, _ = run_wsgi_app(client.application, builder.get_environ(), buffered=True)
    finally:
        builder.close()
    getattr(body, "close", lambda: None)()
    return int(status.split()[0])


def test_no_route_answers_500_to_odd_input(fuzz_app):
    app = fuzz_app
    args = _arguments(app)
    visitor, founder = browser(app), None
    api = {"Authorization": "Bearer test-api-token", "User-Agent": BROWSER_UA}
    failures, sent = [], 0
    for endpoint, method, path in _paths(app, args):
        if path.startswith("/admin"):
            founder = logged_in(app)  # a fuzzed logout or login must not end the others' session
        client = founder if path.startswith("/admin") else visitor
        # The form's hidden fields from a page of the same side that has the form.
        page = client.get("/admin/plain/sources" if path.startswith("/admin") else "/plain")
        html = page.get_data(as_text=True)
        base_form = {
            **form_fields(html), "email": "fuzz@example.com",
            "password": "wrong", "source": "google", "first_day": "2026-11-01",
            "last_day": "2026-11-02", "amount": "5", "currency": "USD",
        }  # fmt: skip
        for call in _calls(endpoint, method, path):
            if path.startswith("/api/") and "Authorization" not in call.headers:
                call.headers = {**api, **call.headers}
            if endpoint == "embed.signup" and "Origin" not in call.headers:
                call.headers = {"Origin": "https://parent.example", **call.headers}
            try:
                status, problem = _send(client, call, base_form), ""
            except Exception as error:  # noqa: BLE001 - TESTING lets the app's errors through:
                status, problem = 500, f"{type(error).__name__}: {error}"  # a 500 in production
            sent += 1
            if call.what == "as it is" and endpoint in ("landing.signup", "admin.add_spend"):
                assert status == 302, (endpoint, status)  # the base request is a real success
            if status >= 500:
                failures.append(f"{method} {endpoint} [{call.what}] -> {status} {problem[:200]}")
    assert sent > 5000, sent  # every route, method and variation went out
    assert failures == [], "\n".join(failures[:40])


def test_the_fuzz_reaches_the_views_it_means_to(fuzz_app):
    """The working request of each route is a real success, not a refusal: the variations
    start from something the view accepts, so they test its code, not only the guards."""
    app = fuzz_app
    args = _arguments(app)
    visitor, founder = browser(app), logged_in(app)
    for endpoint, method, path in _paths(app, args):
        if method != "GET" or path.startswith("/api/"):
            continue
        client = founder if path.startswith("/admin") else visitor
        answer = client.get(path)
        status = answer.status_code
        answer.close()
        # Only the goal link names a goal the page lacks (plain has none): a 404 is its answer.
        assert status in ((404,) if endpoint == "landing.goal" else (200, 302)), (endpoint, status)
