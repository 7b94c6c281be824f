"""The fast path's rule (kit/fastpath.py): a page rendered once and reused is exactly
the page every kind of visitor would get if it were rendered for them, and the switch turns it
off."""

from __future__ import annotations

import re
import secrets

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from kit.models import Signup
from kit.models import db
from tests.conftest import BROWSER_UA
from tests.conftest import MOBILE_UA
from tests.conftest import browser
from tests.conftest import form_fields
from tests.conftest import sign_up

PASSWORD = "correct horse battery staple"
TOKENS = re.compile(r'(name="(?:csrf_token|rendered)" type="hidden" value=")[^"]*"')
COOKIES = (("session", "/"), ("kit_not_counted", "/"), ("kit_admin", "/admin"))
PATHS = ("/ab", "/plain", "/consent", "/ab?variant=b")


def without_tokens(html: str) -> str:
    return TOKENS.sub(lambda m: m.group(1) + 'TOKEN"', html)


def twin(visitor: FlaskClient, app: Flask) -> FlaskClient:
    """A client of ``app`` holding the very cookies ``visitor`` holds now."""
    copy = browser(app, visitor.environ_base["HTTP_USER_AGENT"])
    for name, path in COOKIES:
        cookie = visitor.get_cookie(name, path=path)
        if cookie is not None:
            copy.set_cookie(name, cookie.value, path=path)
    return copy


def visitor_with_id(app: Flask, user_agent: str = BROWSER_UA) -> FlaskClient:
    """A browser on its first view, already holding its random visitor id (a twin without one
    would be given another id, and perhaps another variant)."""
    client = browser(app, user_agent)
    serializer = app.session_interface.get_signing_serializer(app)
    client.set_cookie("session", serializer.dumps({"vid": secrets.token_urlsafe(16)}))
    return client


def log_in(client: FlaskClient) -> None:
    data = form_fields(client.get("/admin/login").get_data(as_text=True))
    assert client.post("/admin/login", data={**data, "password": PASSWORD}).status_code == 302


def share_code(app: Flask, email: str) -> str:
    with app.app_context():
        return db.session.scalar(select(Signup.share_code).where(Signup.email == email))


# Each scenario makes a visitor of the fast app and names the page it then opens, and what it
# must see there (the founder's banner, a flash) when that differs from everyone else's page.
def new_visitor(app, path):
    return visitor_with_id(app), path, None


def mobile_visitor(app, path):
    return visitor_with_id(app, MOBILE_UA), path, None


def link_preview_bot(app, path):
    return browser(app, "Twitterbot/1.0"), path, None


def from_a_campaign(app, path):
    return visitor_with_id(app), f"{path}{'&' if '?' in path else '?'}utm_source=news", None


def invited_by_a_friend(app, path):
    sign_up(browser(app), email="friend@example.com", consent="y")
    code = share_code(app, "friend@example.com")
    return visitor_with_id(app), f"{path}{'&' if '?' in path else '?'}ref={code}", None


def already_signed_up(app, path):
    visitor = visitor_with_id(app)
    assert sign_up(visitor, email="me@example.com", consent="y").status_code == 302
    return visitor, path, None


def sent_the_form_wrong(app, path):
    visitor = visitor_with_id(app)
    assert sign_up(visitor, email="not an address").status_code == 422
    return visitor, path, None


def founder_logged_in(app, path):
    founder = visitor_with_id(app)
    log_in(founder)
    return founder, path, "not counted"


def founder_just_logged_out(app, path):
    founder = visitor_with_id(app)
    log_in(founder)
    data = form_fields(founder.get("/admin/").get_data(as_text=True))
    assert founder.post("/admin/logout", data=data).status_code == 302
    return founder, path, "You are logged out."


SCENARIOS = [
    new_visitor,
    mobile_visitor,
    link_preview_bot,
    from_a_campaign,
    invited_by_a_friend,
    already_signed_up,
    sent_the_form_wrong,
    founder_logged_in,
    founder_just_logged_out,
]


@pytest.mark.parametrize("path", PATHS)
@pytest.mark.parametrize("scenario", SCENARIOS, ids=lambda s: s.__name__)
def test_every_visitor_gets_the_page_rendered_for_them(make_app, scenario, path):
    fast = make_app()
    plain = make_app(FAST_PATH=False)
    for _ in range(2):  # another visitor's view has already put the page in the cache
        browser(fast).get(path)
    visitor, path, must_show = scenario(fast, path)
    expected = twin(visitor, plain).get(path)
    served = [twin(visitor, fast).get(path) for _ in range(2)]
    assert expected.status_code == 200
    expected_html = without_tokens(expected.get_data(as_text=True))
    for response in served:
        assert response.status_code == 200
        assert without_tokens(response.get_data(as_text=True)) == expected_html
    if must_show is not None:
        assert must_show in expected_html


def test_under_another_host_the_page_links_to_that_host(make_app):
    fast = make_app()
    here = browser(fast).get("/plain").get_data(as_text=True)
    there = browser(fast).get("/plain", base_url="https://waitlist.example").get_data(as_text=True)
    assert 'href="http://localhost/plain"' in here
    assert 'href="https://waitlist.example/plain"' in there


@pytest.mark.parametrize("fast_path", [True, False], ids=["fast", "plain"])
def test_every_view_gets_its_own_tokens_and_they_work(make_app, fast_path):
    app = make_app(FAST_PATH=fast_path)
    first, second = browser(app), browser(app)
    pages = [c.get("/plain").get_data(as_text=True) for c in (first, second, first)]
    tokens = [form_fields(page)["csrf_token"] for page in pages]
    assert tokens[0] != tokens[1]
    for client, page, email in [
        (first, pages[2], "one@example.com"),
        (second, pages[1], "two@example.com"),
    ]:
        data = {**form_fields(page), "email": email}
        assert client.post("/plain", data=data).status_code == 302
    with app.app_context():
        assert db.session.scalar(select(db.func.count()).select_from(Signup)) == 2


def test_switched_off_nothing_is_kept_between_requests(make_app):
    """FAST_PATH=false: no page HTML kept, no checked cookie kept; the page still works."""
    app = make_app(FAST_PATH=False)
    visitor = browser(app, BROWSER_UA)
    for _ in range(3):
        assert visitor.get("/ab").status_code == 200
    assert app.extensions.get("fresh_pages", {}) == {}
    assert app.session_interface.opened == {}
    assert sign_up(visitor, "ab", email="a@example.com").status_code == 302


def test_switched_on_a_page_is_rendered_once(make_app):
    app = make_app()
    for _ in range(3):
        assert browser(app).get("/plain").status_code == 200
    assert len(app.extensions["fresh_pages"]) == 1
