"""Dashboard logins kept on the server: logout ends them for every copy of the cookie.

Before, the login rode in the visitor's one-year cookie: a copied cookie still opened /admin
after logout, for 12 hours. Now the browser holds a random token in a cookie of its own, and
the database decides.
"""

from __future__ import annotations

from urllib.parse import quote

import pytest
from sqlalchemy import func
from sqlalchemy import select

from kit.models import AdminSession
from kit.models import Exposure
from kit.models import db
from tests.conftest import browser
from tests.conftest import form_fields
from tests.founder.test_dashboard import PASSWORD
from tests.founder.test_dashboard import logged_in


def admin_cookie(client) -> str:
    return client.get_cookie("kit_admin", path="/admin").value


def count(app, model) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(model))


def test_a_copied_admin_cookie_stops_working_at_logout(app):
    founder = logged_in(app)
    thief = browser(app)
    thief.set_cookie("kit_admin", admin_cookie(founder), path="/admin")
    assert thief.get("/admin/").status_code == 200
    founder.post("/admin/logout", data=form_fields(founder.get("/admin/").get_data(as_text=True)))
    assert thief.get("/admin/").status_code == 302
    assert founder.get("/admin/").status_code == 302
    assert count(app, AdminSession) == 0


def test_a_password_change_ends_every_session(make_app):
    app = make_app()
    client = logged_in(app)
    changed = make_app(ADMIN_PASSWORD="a new password for the whole team")
    thief = browser(changed)
    thief.set_cookie("kit_admin", admin_cookie(client), path="/admin")
    assert thief.get("/admin/").status_code == 302


def test_the_login_cookie_is_its_own_short_lived_dashboard_only_cookie(make_app):
    client = browser(make_app(PREFERRED_URL_SCHEME="https"))
    # Over HTTPS Flask-WTF also wants a same-site Referer, as a browser sends.
    https = {"base_url": "https://localhost", "headers": {"Referer": "https://localhost/admin"}}
    data = form_fields(client.get("/admin/login", **https).get_data(as_text=True))
    response = client.post("/admin/login", data={**data, "password": PASSWORD}, **https)
    [login] = [c for c in response.headers.getlist("Set-Cookie") if c.startswith("kit_admin=")]
    attributes = {part.strip().split("=")[0].lower() for part in login.split(";")}
    assert {"httponly", "secure", "samesite", "path"} <= attributes
    assert "SameSite=Strict" in login and "Path=/admin" in login
    assert not {"expires", "max-age"} & attributes  # gone when the browser closes
    with client.session_transaction() as visitor_cookie:
        assert not {"admin", "admin_at"} & set(visitor_cookie)


def test_an_old_admin_marker_in_the_visitor_cookie_opens_nothing(app):
    client = logged_in(app)
    with client.session_transaction() as cookie:
        cookie["admin"] = "anything"
        cookie["admin_at"] = 2**31 - 1
    client.delete_cookie("kit_admin", path="/admin")
    assert client.get("/admin/").status_code == 302


def test_the_csrf_token_changes_at_login(app):
    client = browser(app)
    before = form_fields(client.get("/admin/login").get_data(as_text=True))
    assert client.post("/admin/login", data={**before, "password": PASSWORD}).status_code == 302
    assert client.post("/admin/logout", data=before).status_code == 400
    after = form_fields(client.get("/admin/").get_data(as_text=True))
    assert after["csrf_token"] != before["csrf_token"]
    assert client.post("/admin/logout", data=after).status_code == 302


def test_the_founder_is_counted_again_after_logout(app):
    founder = logged_in(app)
    founder.get("/ab")
    assert count(app, Exposure) == 0
    founder.post("/admin/logout", data=form_fields(founder.get("/admin/").get_data(as_text=True)))
    founder.get("/ab")
    assert count(app, Exposure) == 1


@pytest.mark.parametrize(
    "target",
    ["/admin/\r\nX-Injected: 1", "/admin/%0d%0aX: 1", "/admin/ ab", "/admin\\evil", "//evil/admin"],
)
def test_a_next_that_could_break_the_redirect_is_ignored(app, target):
    client = browser(app)
    data = form_fields(client.get("/admin/login").get_data(as_text=True))
    response = client.post(
        f"/admin/login?next={quote(target)}", data={**data, "password": PASSWORD}
    )
    assert response.status_code == 302
    assert response.headers["Location"] == "/admin/"
    assert "X-Injected" not in response.headers
