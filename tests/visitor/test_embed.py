"""The embeddable form (/embed/<page>): framed only by the sites the page file lists, signing
up without cookies, counted on the page's dashboard as the embedded form with its sources."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from kit.models import Exposure
from kit.models import Signup
from kit.models import db
from kit.tracking.assignment import EMBED
from kit.visitor import embed
from tests.conftest import BROWSER_UA
from tests.founder.test_dashboard import logged_in
from tests.founder.test_dashboard import text_of

PARENT = "https://mysite.carrd.co"


@pytest.fixture
def app(make_app, pages_dir):
    path = pages_dir / "plain.toml"
    path.write_text(path.read_text() + f'\n[embed]\norigins = ["{PARENT}"]\n')
    return make_app()


def framed(app, query: str = ""):
    """The parent site's page loads the frame: a fresh client (no cookies reach a frame)."""
    client = app.test_client()
    client.environ_base["HTTP_USER_AGENT"] = BROWSER_UA
    response = client.get(f"/embed/plain{query}", headers={"Referer": f"{PARENT}/pricing"})
    return client, response


def fields_of(html: str) -> dict[str, str]:
    return dict(re.findall(r'name="(visit|rendered)" type="hidden" value="([^"]*)"', html)
                + re.findall(r'type="hidden" name="(visit)" value="([^"]*)"', html))  # fmt: skip


def test_only_the_listed_sites_may_frame_the_form(app):
    _, response = framed(app)
    assert response.status_code == 200
    policy = response.headers["Content-Security-Policy"]
    assert f"frame-ancestors {PARENT};" in policy
    assert "X-Frame-Options" not in response.headers
    assert response.headers["Cache-Control"] == "no-store"
    html = response.get_data(as_text=True)
    assert 'name="csrf_token"' not in html and 'name="visit"' in html
    landing = app.test_client().get("/plain")
    assert "frame-ancestors 'none'" in landing.headers["Content-Security-Policy"]
    assert landing.headers["X-Frame-Options"] == "DENY"


def test_a_page_that_lists_no_sites_cannot_be_embedded(make_app):
    response = make_app().test_client().get("/embed/plain")
    assert response.status_code == 404
    assert "not set up for embedding" in response.get_data(as_text=True)


@pytest.mark.parametrize("origin", [None, "https://evil.example", "null", PARENT])
def test_a_post_from_anywhere_but_the_frame_itself_is_refused(app, origin):
    """The frame's own document posts with this site's Origin; a forged post cannot."""
    client, response = framed(app)
    headers = {"Origin": origin} if origin else {}
    data = {**fields_of(response.get_data(as_text=True)), "email": "forged@example.com"}
    refused = client.post("/embed/plain", data=data, headers=headers)
    assert refused.status_code == 403
    with app.app_context():
        assert db.session.scalars(select(Signup)).all() == []


def test_a_signup_through_the_frame_counts_for_the_embedded_form_and_its_parent(app):
    client, response = framed(app, "?utm_source=carrd&utm_campaign=launch")
    data = {**fields_of(response.get_data(as_text=True)), "email": "framed@example.com"}
    sent = client.post("/embed/plain", data=data, headers={"Origin": "http://localhost"})
    assert sent.status_code == 302 and sent.location.endswith("/embed/plain/thanks")
    thanks = client.get(sent.location)
    assert "You're on the Plain page list" in text_of(thanks)
    assert "frame-ancestors https://mysite.carrd.co;" in thanks.headers["Content-Security-Policy"]
    with app.app_context():
        [signup] = db.session.scalars(select(Signup)).all()
        [exposure] = db.session.scalars(select(Exposure)).all()
        assert (signup.email, signup.experiment, signup.exposure_id) == (
            "framed@example.com", EMBED, exposure.id,
        )  # fmt: skip
        assert (exposure.referrer_host, exposure.utm_source, exposure.utm_campaign) == (
            "mysite.carrd.co", "carrd", "launch",
        )  # fmt: skip

    admin = logged_in(app)
    page = text_of(admin.get("/admin/plain", query_string={"experiment": EMBED}))
    status = r"Experiment embedded form ?, the views and signups of the form embedded"
    assert re.search(status, page)
    assert re.search(r"all visitors \S* 1 1 1", page), page
    sources = text_of(admin.get("/admin/plain/sources", query_string={"experiment": EMBED}))
    assert "mysite.carrd.co" in sources and "carrd" in sources
    snippet = text_of(admin.get("/admin/plain"))
    assert '<iframe src="http://localhost/embed/plain" title="Join the Plain page waitlist"' in (
        snippet
    )


def test_a_form_error_in_the_frame_keeps_the_visit(app):
    client, response = framed(app)
    data = {**fields_of(response.get_data(as_text=True)), "email": "not an address"}
    again = client.post("/embed/plain", data=data, headers={"Origin": "http://localhost"})
    assert again.status_code == 422
    html = again.get_data(as_text=True)
    assert "valid e-mail address" in html and data["visit"] in html


def test_embed_origins_must_be_plain_site_origins(make_app, pages_dir):
    path = pages_dir / "plain.toml"
    path.write_text(path.read_text() + '\n[embed]\norigins = ["*", "https://x.com/path"]\n')
    result = make_app().test_cli_runner().invoke(args=["kit", "check"])
    assert "embed.origins[0]: expected a site origin" in result.output
    assert "embed.origins[1]: expected a site origin" in result.output


def embedded_signups(app) -> list[tuple[str, str | None, int | None]]:
    with app.app_context():
        rows = db.session.scalars(select(Signup).order_by(Signup.id)).all()
        return [(s.email, s.experiment, s.exposure_id) for s in rows]


def test_a_script_posting_a_signed_visit_is_not_counted(app):
    """The page view came from a browser; the post from curl: on the list, not a conversion."""
    client, response = framed(app)
    data = {**fields_of(response.get_data(as_text=True)), "email": "script@example.com"}
    curl = {"Origin": "http://localhost", "User-Agent": "curl/8.5.0"}
    assert client.post("/embed/plain", data=data, headers=curl).status_code == 302
    assert embedded_signups(app) == [("script@example.com", None, None)]


def test_the_founders_own_framed_views_and_signups_are_not_counted(app):
    founder = logged_in(app)
    response = founder.get("/embed/plain", headers={"Referer": f"{PARENT}/pricing"})
    data = {**fields_of(response.get_data(as_text=True)), "email": "me@example.com"}
    founder.post("/embed/plain", data=data, headers={"Origin": "http://localhost"})
    assert embedded_signups(app) == [("me@example.com", None, None)]
    with app.app_context():
        assert db.session.scalars(select(Exposure)).all() == []


def test_a_visit_token_works_on_its_own_page_only_and_until_it_expires(app, pages_dir, monkeypatch):
    other = pages_dir / "other.toml"
    other.write_text((pages_dir / "plain.toml").read_text().replace("Plain page", "Other page"))
    client, response = framed(app)
    data = {**fields_of(response.get_data(as_text=True)), "email": "elsewhere@example.com"}
    client.post("/embed/other", data=data, headers={"Origin": "http://localhost"})
    monkeypatch.setattr(embed, "VISIT_MAX_AGE", -1)  # every token is past its age now
    data = {**data, "email": "late@example.com"}
    client.post("/embed/plain", data=data, headers={"Origin": "http://localhost"})
    assert embedded_signups(app) == [
        ("elsewhere@example.com", None, None),
        ("late@example.com", None, None),
    ]
