"""Whose word the app takes for its own address and the client's: BASE_URL, Host, proxies.

An attacker controls every header of their own request. Links mailed to a victim, canonical
and ``og:url`` come from BASE_URL, not from ``Host``/``X-Forwarded-Host``; ``X-Forwarded-For``
is believed only from a proxy the deployment has (a PaaS router), so rotating it does not
escape the rate limits.
"""

from __future__ import annotations

import re

import pytest

from kit.config import ConfigError
from kit.config import base_url
from kit.config import from_env
from kit.config import production_problems
from kit.config import proxy_hops
from tests.conftest import browser
from tests.conftest import form_fields
from tests.conftest import sign_up
from tests.delivery.test_outbox import deliver
from tests.servers import body_text
from tests.servers import smtp_server

SITE = "https://waitlist.example.com"


@pytest.fixture
def smtp():
    with smtp_server() as server:
        yield server


def ask_for_status_link(client, slug: str, email: str, **request) -> int:
    page = client.get(f"/{slug}/status", **request).get_data(as_text=True)
    data = {**form_fields(page), "email": email}
    return client.post(f"/{slug}/status", data=data, **request).status_code


@pytest.mark.parametrize("hops", [0, 1])
def test_mailed_status_link_points_at_base_url_whatever_the_request_says(make_app, smtp, hops):
    """The attack: ask for the victim's status link with a forged Host / X-Forwarded-Host."""
    url, inbox = smtp
    app = make_app(MAIL_URL=url, MAIL_FROM="hi@example.com", BASE_URL=SITE, PROXY_FIX_HOPS=hops)
    assert sign_up(browser(app), email="victim@example.com").status_code == 302
    attacker = browser(app)
    forged = {"headers": {"X-Forwarded-Host": "evil.example"}, "base_url": "http://evil.example"}
    assert ask_for_status_link(attacker, "plain", "victim@example.com", **forged) == 200
    deliver(app)
    mailed = body_text(inbox.messages[-1])
    assert "evil.example" not in mailed
    assert re.search(rf"{SITE}/plain/status/\S+", mailed)
    assert re.search(rf"{SITE}/plain/remove/\S+", mailed)


def test_canonical_and_og_url_use_base_url(make_app):
    client = browser(make_app(BASE_URL=SITE))
    html = client.get("/plain", base_url="http://evil.example").get_data(as_text=True)
    assert f'<link rel="canonical" href="{SITE}/plain">' in html
    assert f'<meta property="og:url" content="{SITE}/plain">' in html
    assert "evil.example" not in html


def test_without_a_proxy_forwarded_host_is_ignored(app):
    html = (
        browser(app)
        .get("/plain", headers={"X-Forwarded-Host": "evil.example"})
        .get_data(as_text=True)
    )
    assert "evil.example" not in html


def test_behind_a_proxy_forwarded_host_is_ignored_unless_trusted(make_app):
    forged = {"X-Forwarded-Host": "evil.example"}
    plain = browser(make_app(PROXY_FIX_HOPS=1)).get("/plain", headers=forged)
    assert "evil.example" not in plain.get_data(as_text=True)
    trusted = browser(make_app(PROXY_FIX_HOPS=1, TRUST_FORWARDED_HOST=True))
    assert "http://evil.example/plain" in trusted.get("/plain", headers=forged).get_data(
        as_text=True
    )


def test_trusted_hosts_refuse_any_other_host(make_app):
    app = make_app(TRUSTED_HOSTS=["waitlist.example.com"])
    assert browser(app).get("/plain", base_url="http://waitlist.example.com").status_code == 200
    refused = browser(app).get("/plain", base_url="http://evil.example")
    assert refused.status_code == 400
    assert "Traceback" not in refused.get_data(as_text=True)


def test_the_platforms_health_check_gets_through_trusted_hosts(make_app):
    """Railway calls /healthz as healthcheck.railway.app, Fly by a machine's address: the
    health check answers; every other path still refuses a foreign host."""
    app = make_app(TRUSTED_HOSTS=[".example.com", "waitlist.example.com"])
    for host in ("http://healthcheck.railway.app", "http://172.19.0.2:8080"):
        assert app.test_client().get("/healthz", base_url=host).status_code == 200, host
        assert app.test_client().get("/plain", base_url=host).status_code == 400, host
        assert app.test_client().get("/healthz/x", base_url=host).status_code == 400, host


def test_rotating_x_forwarded_for_does_not_escape_the_limit_without_a_proxy(make_app):
    app = make_app(RATELIMIT_SIGNUP="2 per minute")
    statuses = []
    for n in range(4):
        client = browser(app)
        client.environ_base["HTTP_X_FORWARDED_FOR"] = f"203.0.113.{n}"
        statuses.append(sign_up(client, email=f"r{n}@example.com").status_code)
    assert statuses == [302, 302, 429, 429]


def test_rotating_x_forwarded_for_does_not_escape_the_login_limit(make_app):
    app = make_app(RATELIMIT_LOGIN="3 per minute")
    statuses = []
    for n in range(5):
        client = browser(app)
        client.environ_base["HTTP_X_FORWARDED_FOR"] = f"198.51.100.{n}"
        data = form_fields(client.get("/admin/login").get_data(as_text=True))
        statuses.append(client.post("/admin/login", data={**data, "password": "x"}).status_code)
    assert statuses == [403, 403, 403, 429, 429]


# --- settings, pure ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("environ", "hops", "why"),
    [
        ({}, 0, "no proxy known"),
        ({"DYNO": "web.1"}, 1, "Heroku"),
        ({"RENDER": "true"}, 1, "Render"),
        ({"FLY_APP_NAME": "waitlist"}, 1, "Fly.io"),
        ({"RAILWAY_ENVIRONMENT": "production"}, 1, "Railway"),
        ({"DYNO": "web.1", "PROXY_FIX_HOPS": "0"}, 0, "PROXY_FIX_HOPS is set"),
        ({"PROXY_FIX_HOPS": "2"}, 2, "PROXY_FIX_HOPS is set"),
    ],
)
def test_proxy_trust_follows_the_platform_or_the_setting(environ, hops, why):
    assert proxy_hops(environ)[0] == hops
    assert why in proxy_hops(environ)[1]
    assert from_env(environ).get("PROXY_FIX_HOPS", 0) == hops


@pytest.mark.parametrize(
    ("raw", "origin"),
    [
        ("https://Waitlist.Example.com/", "https://waitlist.example.com"),
        ("http://127.0.0.1:8000", "http://127.0.0.1:8000"),
    ],
)
def test_base_url_is_an_origin(raw, origin):
    assert base_url(raw) == origin
    assert from_env({"BASE_URL": raw})["BASE_URL"] == origin


@pytest.mark.parametrize("raw", ["waitlist.example.com", "ftp://x.example", "https://x.example/a"])
def test_a_base_url_that_is_not_an_origin_fails_with_the_fix(raw):
    with pytest.raises(ConfigError, match="e.g. https://example.com"):
        from_env({"BASE_URL": raw})


def test_https_base_url_makes_links_and_cookies_https():
    config = from_env({"BASE_URL": SITE})
    assert config["PREFERRED_URL_SCHEME"] == "https"
    assert config["SESSION_COOKIE_SECURE"] is True


def test_trusted_hosts_from_a_comma_separated_list():
    hosts = from_env({"TRUSTED_HOSTS": "Example.com, www.example.com,"})["TRUSTED_HOSTS"]
    assert hosts == ["example.com", "www.example.com"]


def test_production_refuses_mail_without_base_url():
    config = {"SECRET_KEY": "x" * 40, "MAIL_URL": "smtp://mail.example.com"}
    [problem] = production_problems(config)
    assert "BASE_URL is not set" in problem and "Host header" in problem
    assert production_problems({**config, "BASE_URL": SITE}) == []
