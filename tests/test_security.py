"""Security headers, request size limit and rate limits, as a visitor (or an abuser) meets them."""

from __future__ import annotations

import base64
import hashlib
import os
import re
import secrets
import time
from collections import Counter
from datetime import timedelta

import flask
import pytest
import requests
from flask import url_for
from sqlalchemy import func
from sqlalchemy import select

from kit.config import ConfigError
from kit.config import from_env
from kit.models import Signup
from kit.models import db
from tests.conftest import BROWSER_UA
from tests.conftest import TESTS_DIR
from tests.conftest import browser
from tests.conftest import form_fields
from tests.conftest import sign_up
from tests.servers import gunicorn

REDIS_URL = os.environ.get("TEST_REDIS_URL")


def signup_count(app) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(Signup))


def allowed_styles(response) -> set[str]:
    """The SHA-256 hashes of inline styles the response's policy lets the browser apply."""
    return set(re.findall(r"'sha256-([^']+)'", response.headers["Content-Security-Policy"]))


def sha256_of(css: str) -> str:
    return base64.b64encode(hashlib.sha256(css.encode()).digest()).decode()


@pytest.mark.parametrize("path", ["/plain", "/ab", "/no-such-page", "/healthz", "/favicon.ico"])
def test_every_response_carries_security_headers(client, path):
    with client.get(path) as response:
        headers = response.headers
    policy = headers["Content-Security-Policy"]
    assert "default-src 'self'" in policy
    assert "script-src 'self';" in policy
    assert "frame-ancestors 'none'" in policy
    assert "base-uri 'self'" in policy
    assert "form-action 'self'" in policy
    assert "unsafe-inline" not in policy
    assert headers["X-Content-Type-Options"] == "nosniff"
    assert headers["Referrer-Policy"] == "strict-origin-when-cross-origin"
    assert headers["X-Frame-Options"] == "DENY"
    assert "camera=()" in headers["Permissions-Policy"]
    assert "Strict-Transport-Security" not in headers  # plain HTTP: HSTS would be ignored


@pytest.mark.parametrize(
    "path", ["/plain", "/ab", "/ab?variant=b", "/consent", "/plain/thanks", "/nope"]
)
def test_pages_have_no_inline_script_and_only_styles_the_policy_allows(client, path):
    for _ in range(2):  # the second view may come from the page cache
        response = client.get(path)
        html = response.get_data(as_text=True)
        assert "<script" not in html
        assert " style=" not in html
        for tag, css in re.findall(r"(<style[^>]*>)(.*?)</style>", html, re.DOTALL):
            assert tag == "<style>"
            assert sha256_of(css) in allowed_styles(response)


def test_a_variants_own_theme_is_allowed_and_no_other_inline_style(client, pages_dir):
    (pages_dir / "themed.toml").write_text(
        'title = "T"\nheadline = "H"\n[experiment]\nkey = "colours"\n'
        '[[experiment.variants]]\nname = "a"\n'
        '[[experiment.variants]]\nname = "b"\ntheme = { accent = "#bada55" }\n'
    )
    response = client.get("/themed?variant=b")
    assert ":root{--accent:#bada55;" in response.get_data(as_text=True)
    styles = re.findall(r"<style>(.*?)</style>", response.get_data(as_text=True))
    assert [sha256_of(css) in allowed_styles(response) for css in styles] == [True]
    injected = ":root{--accent:#bada55;--accent-text:#000000}"
    assert sha256_of(injected) not in allowed_styles(response)
    assert "unsafe-inline" not in response.headers["Content-Security-Policy"]


def test_hsts_only_when_the_proxy_says_https(make_app):
    client = browser(make_app(PROXY_FIX_HOPS=1))
    secure = client.get("/plain", headers={"X-Forwarded-Proto": "https"})
    assert secure.headers["Strict-Transport-Security"].startswith("max-age=")
    assert "Strict-Transport-Security" not in client.get("/plain").headers


def test_session_cookie_is_secure_when_served_over_https(make_app):
    client = browser(make_app(PREFERRED_URL_SCHEME="https", PROXY_FIX_HOPS=1))
    cookie = client.get("/plain", headers={"X-Forwarded-Proto": "https"}).headers["Set-Cookie"]
    assert "Secure" in cookie
    assert "HttpOnly" in cookie
    assert "SameSite=Lax" in cookie


def test_oversized_post_gets_a_friendly_413_and_stores_nothing(app, client):
    response = sign_up(client, email="big@example.com", name="x" * 100_000)
    assert response.status_code == 413
    body = response.get_data(as_text=True)
    assert "64 KB at most" in body
    assert "Traceback" not in body
    assert signup_count(app) == 0


def test_signup_limit_answers_with_a_friendly_429(make_app):
    app = make_app(RATELIMIT_SIGNUP="3 per minute")
    client = browser(app)
    for n in range(3):
        assert sign_up(client, email=f"p{n}@example.com").status_code == 302
    limited = sign_up(client, email="p3@example.com")
    assert limited.status_code == 429
    assert 1 <= int(limited.headers["Retry-After"]) <= 61  # the window, rounded up
    body = limited.get_data(as_text=True)
    assert "Too many attempts" in body
    assert "Please wait" in body and "try again" in body
    assert signup_count(app) == 3
    assert client.get("/plain").status_code == 200  # reading the page is never limited


def test_signup_limit_is_per_real_client_address(make_app):
    """Behind the PaaS router every request comes from the router; X-Forwarded-For tells apart."""
    app = make_app(RATELIMIT_SIGNUP="2 per minute", PROXY_FIX_HOPS=1)
    for address in ("203.0.113.7", "198.51.100.23"):
        client = browser(app)
        client.environ_base["HTTP_X_FORWARDED_FOR"] = address
        statuses = [
            sign_up(client, email=f"{address}-{n}@example.com").status_code for n in range(3)
        ]
        assert statuses == [302, 302, 429]
    assert signup_count(app) == 4


def test_goal_redirect_limit(make_app):
    app = make_app(RATELIMIT_GOAL="2 per minute")
    client = browser(app)
    client.get("/ab")
    statuses = [client.get("/go/ab/buy").status_code for _ in range(3)]
    assert statuses[2] == 429
    assert statuses[:2] == [statuses[0]] * 2 and statuses[0] != 429


def test_limits_can_be_switched_off(make_app):
    client = browser(make_app(RATELIMIT_SIGNUP="1 per minute", RATELIMIT_ENABLED=False))
    assert [sign_up(client, email=f"{n}@example.com").status_code for n in range(3)] == [302] * 3


def test_malformed_limit_setting_fails_at_start_with_the_fix(make_app):
    with pytest.raises(ConfigError, match="RATELIMIT_SIGNUP=.*10 per minute"):
        make_app(RATELIMIT_SIGNUP="ten a minute")


def test_rate_limit_settings_from_environment():
    config = from_env(
        {
            "REDIS_URL": "redis://cache:6379/0",
            "RATELIMIT_SIGNUP": "20 per minute",
            "RATELIMIT_ENABLED": "false",
        }
    )
    assert config["REDIS_URL"] == "redis://cache:6379/0"
    assert config["RATELIMIT_SIGNUP"] == "20 per minute"
    assert config["RATELIMIT_ENABLED"] is False


@pytest.mark.skipif(not REDIS_URL, reason="Redis: set TEST_REDIS_URL to run against a real server")
def test_workers_share_counters_through_redis(make_app):
    """Two app instances (two gunicorn workers, or two dynos) count against one limit."""
    settings = {
        "REDIS_URL": REDIS_URL,
        "RATELIMIT_SIGNUP": "3 per minute",
        # A fresh namespace per run, so counters from earlier runs don't leak in.
        "RATELIMIT_KEY_PREFIX": f"test-{secrets.token_hex(8)}",
    }
    first, second = make_app(**settings), make_app(**settings)
    one, two = browser(first), browser(second)
    statuses = [
        sign_up(client, email=f"w{n}@example.com").status_code
        for n, client in enumerate([one, two, one, two])
    ]
    assert statuses == [302, 302, 302, 429]
    assert signup_count(first) == 3


def test_unreachable_redis_never_blocks_a_signup(make_app):
    app = make_app(REDIS_URL="redis://127.0.0.1:9/0", RATELIMIT_SIGNUP="1 per minute")
    client = browser(app)
    assert sign_up(client, email="first@example.com").status_code == 302
    assert sign_up(client, email="second@example.com").status_code == 302
    assert signup_count(app) == 2


def test_status_link_requests_are_limited_so_nobody_floods_an_inbox(make_app):
    app = make_app(RATELIMIT_SIGNUP="2 per minute")
    client = browser(app)
    statuses = []
    for _ in range(3):
        page = client.get("/plain/status").get_data(as_text=True)
        csrf = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page)[1]
        answer = client.post("/plain/status", data={"csrf_token": csrf, "email": "a@example.com"})
        statuses.append(answer.status_code)
    assert statuses == [200, 200, 429]


# --- the visitor cookie, opened once per process ------------------------------------------


def _opened(app, cookie: str):
    with app.test_request_context("/", headers={"Cookie": f"session={cookie}"}):
        return app.session_interface.open_session(app, flask.request)


def test_a_cookie_seen_before_still_expires_after_its_lifetime(make_app):
    app = make_app(PERMANENT_SESSION_LIFETIME=timedelta(seconds=1))
    client = browser(app)
    client.get("/ab")
    cookie = client.get_cookie("session").value
    assert "vid" in _opened(app, cookie)
    time.sleep(2.1)
    assert "vid" not in _opened(app, cookie)


def test_one_requests_changes_never_reach_another_sent_the_same_cookie(app):
    client = browser(app)
    client.get("/plain")
    cookie = client.get_cookie("session").value
    first = _opened(app, cookie)
    first["seen"].append("ab:headline-1")
    first["mine"] = {"plain": 1}
    second = _opened(app, cookie)
    assert second["seen"] == ["plain:"] and "mine" not in second


def test_forged_cookie_is_refused_however_often_it_comes(app):
    client = browser(app)
    client.get("/plain")
    good = client.get_cookie("session").value
    payload, signature = good.rsplit(".", 1)
    forged = f"{payload}.{'A' * len(signature)}"
    for _ in range(2):
        assert "vid" in _opened(app, good)
        assert "vid" not in _opened(app, forged)


# --- limits shared by every worker, without Redis --------------------------------------------


def _signup_attempt(base: str, n: int) -> int:
    """A new browser on a new connection: load the page, send its form once."""
    with requests.Session() as visitor:
        visitor.headers["User-Agent"] = BROWSER_UA
        page = visitor.get(f"{base}/plain").text
        data = {**form_fields(page), "email": f"w{n}@example.com"}
        return visitor.post(f"{base}/plain", data=data, allow_redirects=False).status_code


def test_limits_hold_across_gunicorn_workers_without_redis(app, database_url, tmp_path):
    """Two workers, "10 per minute", 22 signups from one address: at most 10 get through
    (with counters per worker, 18 of 22 did)."""
    with app.app_context():
        db.drop_all()
    env = {
        "WEB_CONCURRENCY": "2",
        "RATELIMIT_SIGNUP": "10 per minute",
        "MIN_SUBMIT_SECONDS": "0",
        "PAGES_DIR": str(TESTS_DIR / "pages"),
        "REDIS_URL": "",  # none: the counters must live in the database
    }
    with gunicorn(database_url, tmp_path / "gunicorn.log", **env) as base:
        statuses = Counter(_signup_attempt(base, n) for n in range(22))
    assert statuses[302] == 10 and statuses[429] == 12, statuses


# --- nothing personal kept by caches or logs ----------------------------------------------


def test_pages_with_a_persons_data_are_never_cached(app):
    visitor = browser(app)
    assert sign_up(visitor, email="ada@example.com").status_code == 302
    thanks = visitor.get("/plain/thanks")
    token = re.search(r"/plain/status/([^\"/]+)", thanks.get_data(as_text=True))[1]
    private = [
        thanks,
        visitor.get(f"/plain/status/{token}"),
        visitor.get(f"/plain/status/{token}/data.json"),
        visitor.get(f"/plain/remove/{token}"),
        visitor.get("/plain/status"),
        visitor.post("/plain", data={"email": "not an address"}),  # the form back, with input
    ]
    for response in private:
        assert response.headers["Cache-Control"] == "no-store", response.request.path
    assert "no-store" not in visitor.get("/plain").headers.get("Cache-Control", "")


def test_access_log_holds_no_token_of_any_token_route(app, database_url, tmp_path):
    """What gunicorn writes per request: path, Referer and redirect target, tokens cut out.
    The routes come from the URL map, so a new route with a <token> cannot be missed."""
    token_rules = [rule for rule in app.url_map.iter_rules() if "token" in rule.arguments]
    assert len(token_rules) >= 6  # status, its data.json, confirm, remove, unsubscribe, proof
    with app.app_context():
        db.drop_all()
    log = tmp_path / "gunicorn.log"
    env = {"PAGES_DIR": str(TESTS_DIR / "pages"), "WEB_CONCURRENCY": "1"}
    secrets_seen = []
    with gunicorn(database_url, log, **env) as base, app.test_request_context():
        for n, rule in enumerate(token_rules):
            secret = f"SeCrEt{n}.abc"
            secrets_seen.append(secret)
            path = url_for(rule.endpoint, slug="plain", token=secret)
            requests.get(f"{base}{path}", timeout=5)
            requests.get(f"{base}/healthz", headers={"Referer": f"{base}{path}"}, timeout=5)
            # The same route, percent-encoded as a client may send it (the app decodes it).
            segments = path.split("?")[0].split("/")
            route = segments[segments.index(secret) - 1]
            encoded = path.replace(f"/{route}/", f"/%{ord(route[0]):02X}{route[1:]}%2F", 1)
            sent = requests.Request("GET", f"{base}{encoded}").prepare()
            sent.url = f"{base}{encoded}"  # as it is: requests would not re-encode it anyway
            requests.Session().send(sent, timeout=5)
    text = log.read_text()
    assert "/plain/status/[token]/data.json" in text and "/plain/remove/[token]" in text
    assert "/plain/unsubscribe/[token]" in text and "/proof/[token]" in text
    assert not any(secret in text for secret in secrets_seen), text
