"""One client can't make its own sample: new visitors are counted up to a cap per network.

200 cookieless GETs in 0.7 s used to add 200 visitors under any ``utm_source``, moving cost
per visitor and conversion. Now each network address (an IPv4 address, an IPv6 /64) counts at
most NEW_VISITORS_PER_ADDRESS new visitors per clock hour; the rest are served the page as
usual and not counted.
"""

from __future__ import annotations

import time

import pytest
from sqlalchemy import select

from kit.models import RateLimit
from kit.models import Signup
from kit.models import db
from kit.reports.sources import by_dimension
from kit.security import network_of
from kit.tracking import networks
from tests.conftest import browser
from tests.conftest import sign_up
from tests.tracking.test_tracking import rows
from tests.visitor.test_embed import fields_of

CAP = 5
BEARER = {"Authorization": "Bearer test-api-token"}


@pytest.fixture(params=[True, False], ids=["writer", "now"])
def capped(make_app, request: pytest.FixtureRequest):
    """An app with a cap of 5, its page views written behind the request or at once."""
    return make_app(
        NEW_VISITORS_PER_ADDRESS=CAP, EXPOSURE_WRITER=request.param, RATELIMIT_ENABLED=False,
        PROXY_FIX_HOPS=1,
    )  # fmt: skip


def from_address(app, address: str):
    """A new browser at ``address`` (the proxy in front says so in X-Forwarded-For)."""
    client = browser(app)
    client.environ_base["HTTP_X_FORWARDED_FOR"] = address
    return client


def visitors(app, slug: str = "plain") -> int:
    app.extensions["exposures"].flush()
    answer = app.test_client().get(f"/api/pages/{slug}", headers=BEARER).get_json()
    return sum(arm["visitors"] for arm in answer["results"]["arms"])


def test_a_script_dropping_its_cookie_adds_no_more_than_the_cap(capped):
    for _ in range(40):  # a new cookie each time, the same address
        answer = from_address(capped, "203.0.113.9").get("/plain?utm_source=fake")
        assert answer.status_code == 200 and "Plain page" in answer.get_data(as_text=True)
    assert visitors(capped) == CAP
    with capped.app_context():
        page = capped.extensions["pages"].pages["plain"]
        [row] = by_dimension(page, "", "utm_source")
    assert (row.value, row.visitors) == ("fake", CAP)
    for n in range(3):  # people elsewhere are counted as ever
        from_address(capped, f"198.51.100.{n + 1}").get("/plain")
    assert visitors(capped) == CAP + 3


def test_an_ipv6_client_counts_by_its_64_however_many_addresses_it_uses(capped):
    for n in range(10):
        from_address(capped, f"2001:db8:aa:bb::{n + 1:x}").get("/plain")
    from_address(capped, "2001:db8:aa:cc::1").get("/plain")  # another /64: another network
    assert visitors(capped) == CAP + 1
    assert network_of("2001:db8:aa:bb:1:2:3:4") == "2001:db8:aa:bb::/64"
    assert network_of("::ffff:203.0.113.9") == "203.0.113.9"
    # a port some proxies add to X-Forwarded-For is no new network
    assert network_of("203.0.113.9:1234") == "203.0.113.9"
    assert network_of("[2001:db8:aa:bb::9]:443") == "2001:db8:aa:bb::/64"


def test_a_visitor_over_the_cap_signs_up_all_the_same_unattributed(capped):
    for _ in range(CAP):
        from_address(capped, "203.0.113.9").get("/plain")
    assert visitors(capped) == CAP  # written (a tenth of a second behind the views)
    late = from_address(capped, "203.0.113.9")
    answer = sign_up(late, email="late@example.com")
    assert answer.status_code == 302 and answer.location.endswith("/plain/thanks")
    [signup] = rows(capped, Signup)
    assert (signup.email, signup.experiment, signup.exposure_id) == ("late@example.com", None, None)
    assert visitors(capped) == CAP


def test_the_cap_is_per_clock_hour(capped, monkeypatch):
    for _ in range(CAP + 2):
        from_address(capped, "203.0.113.9").get("/plain")
    assert visitors(capped) == CAP
    later = time.time() + networks.HOUR
    monkeypatch.setattr(networks.time, "time", lambda: later)
    from_address(capped, "203.0.113.9").get("/plain")
    assert visitors(capped) == CAP + 1


def test_the_address_is_never_stored(capped):
    from_address(capped, "203.0.113.9").get("/plain")
    from_address(capped, "2001:db8:aa:bb::1").get("/plain")
    visitors(capped)
    with capped.app_context():
        keys = db.session.scalars(select(RateLimit.key)).all()
    assert len(keys) == 2
    assert not any("203.0.113" in key or "2001:db8" in key for key in keys)


def test_a_forged_forwarded_for_counts_as_the_real_client_without_a_proxy(make_app):
    """Without a proxy in front (PROXY_FIX_HOPS=0) X-Forwarded-For is the client's own text:
    a new address in every request must not escape the cap."""
    app = make_app(NEW_VISITORS_PER_ADDRESS=CAP, RATELIMIT_ENABLED=False)
    for n in range(10):
        from_address(app, f"198.51.100.{n + 1}").get("/plain")
    assert visitors(app) == CAP


def test_no_cap_when_it_is_zero(make_app):
    app = make_app(NEW_VISITORS_PER_ADDRESS=0)
    for _ in range(12):
        browser(app).get("/plain")
    assert visitors(app) == 12


def test_the_embedded_form_over_the_cap_takes_the_signup_unattributed(make_app, pages_dir):
    path = pages_dir / "plain.toml"
    path.write_text(path.read_text() + '\n[embed]\norigins = ["https://mysite.carrd.co"]\n')
    app = make_app(NEW_VISITORS_PER_ADDRESS=1, RATELIMIT_ENABLED=False)
    for email in ("first@example.com", "second@example.com"):
        client = browser(app)
        html = client.get("/embed/plain").get_data(as_text=True)
        data = {**fields_of(html), "email": email}
        sent = client.post("/embed/plain", data=data, headers={"Origin": "http://localhost"})
        assert sent.status_code == 302
    with app.app_context():
        signups = db.session.scalars(select(Signup).order_by(Signup.id)).all()
        assert [(s.email, s.exposure_id is not None) for s in signups] == [
            ("first@example.com", True), ("second@example.com", False),
        ]  # fmt: skip


def test_a_script_keeping_only_the_cookies_shown_b_converts_at_most_the_cap(capped):
    """The issue's scenario: a script signs up once with each cookie that was shown b; b went
    from 1 to 7 conversions in 13 seconds. Now one address's share of the sample is bounded."""
    shown_b = []
    for _ in range(30):
        script = from_address(capped, "203.0.113.9")
        if "Headline B" in script.get("/ab").get_data(as_text=True):
            shown_b.append(script)
    assert len(shown_b) > CAP  # more than the cap was shown b; most were never counted
    for n, script in enumerate(shown_b):
        assert sign_up(script, "ab", email=f"bot{n}@example.com").status_code == 302
    capped.extensions["exposures"].flush()
    answer = capped.test_client().get("/api/pages/ab", headers=BEARER).get_json()
    arms = {arm["name"]: arm for arm in answer["results"]["arms"]}
    assert sum(arm["visitors"] for arm in arms.values()) == CAP
    assert arms["b"]["conversions"] <= arms["b"]["visitors"] <= CAP
    assert len(rows(capped, Signup)) == len(shown_b)  # on the list all the same
