"""The visitor's side: page view, signup, duplicates, bot traps, bad input."""

from __future__ import annotations

import re
import threading
from datetime import UTC
from datetime import datetime
from datetime import timedelta
from email.utils import parsedate_to_datetime

import pytest
from flask import request
from sqlalchemy import func
from sqlalchemy import select

from kit import create_app
from kit.models import Signup
from kit.models import db
from tests.conftest import browser
from tests.conftest import form_fields
from tests.conftest import sign_up


@pytest.fixture(params=[True, False], ids=["fast", "plain"])
def fast_path(request: pytest.FixtureRequest) -> bool:
    """Every test here runs with the fast path on and off (kit/fastpath.py)."""
    return request.param


def signups(app) -> list[Signup]:
    with app.app_context():
        return list(db.session.scalars(select(Signup).order_by(Signup.id)))


def test_page_shows_config_text_escaped(client, pages_dir):
    (pages_dir / "xss.toml").write_text(
        'title = "T"\nheadline = "<script>alert(1)</script>"\nsubheadline = "a & b"\n'
    )
    body = client.get("/xss").get_data(as_text=True)
    assert "<script>alert(1)</script>" not in body
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in body
    assert "a &amp; b" in body


def test_home_serves_configured_page(make_app):
    client = make_app(HOME_PAGE="plain").test_client()
    assert b"A page with no experiment" in client.get("/").data


def test_unknown_page_is_404_page(client):
    response = client.get("/no-such-page")
    assert response.status_code == 404
    assert b"Page not found" in response.data


def test_signup_redirects_to_thanks_with_position(app, client):
    response = sign_up(client, email="Ada@Example.COM", name="Ada", answer="$5")
    assert response.status_code == 302
    assert response.headers["Location"] == "/plain/thanks"
    thanks = client.get("/plain/thanks").get_data(as_text=True)
    assert "#1</p><p>your place of 1 on the list" in thanks
    [row] = signups(app)
    assert (row.email, row.email_key, row.name, row.answer) == (
        "Ada@example.com",
        "ada@example.com",
        "Ada",
        "$5",
    )


def test_control_characters_in_name_are_dropped_and_signup_saved(app, client):
    fields = {"name": "Ada\x00 Love\x1blace", "answer": "a\x00b"}
    response = sign_up(client, email="nul@example.com", **fields)
    assert response.status_code == 302
    [row] = signups(app)
    assert (row.name, row.answer) == ("Ada Lovelace", "ab")


def test_positions_count_up(app):
    for n in range(1, 4):
        client = browser(app)
        sign_up(client, email=f"person{n}@example.com")
        assert f"#{n}</p>" in client.get("/plain/thanks").get_data(as_text=True)


def test_duplicate_signup_keeps_one_row(app, client):
    sign_up(client, email="ada@example.com")
    again = sign_up(client, email="ADA@example.com")
    assert again.headers["Location"] == "/plain/thanks"
    assert 'class="place-number">#1</p>' in client.get("/plain/thanks").get_data(as_text=True)
    assert len(signups(app)) == 1


def test_duplicate_from_another_browser_reveals_nothing(app, client):
    sign_up(client, email="ada@example.com")
    stranger = browser(app)
    response = sign_up(stranger, email="ada@example.com", follow=True)
    body = response.get_data(as_text=True)
    assert "already on the list" in body
    assert "#1" not in body
    assert len(signups(app)) == 1
    # The stranger's own thank-you page has no position either.
    assert "on the list." not in stranger.get("/plain/thanks").get_data(as_text=True)


def test_same_email_on_two_pages_is_two_signups(app, client):
    sign_up(client, "plain", email="ada@example.com")
    sign_up(client, "ab", email="ada@example.com")
    assert len(signups(app)) == 2


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({}, "Please enter your e-mail address."),
        ({"email": "not-an-email"}, "Please enter a valid e-mail address"),
        ({"email": "a@b"}, "Please enter a valid e-mail address"),
        ({"email": "x" * 250 + "@example.com"}, "too long"),
        ({"email": "ok@example.com", "name": "n" * 101}, "under 100 characters"),
        ({"email": "ok@example.com", "answer": "a" * 1001}, "under 1000 characters"),
    ],
)
def test_bad_input_rerenders_form_with_message_and_saves_nothing(app, client, fields, message):
    response = sign_up(client, **fields)
    assert response.status_code == 422
    body = response.get_data(as_text=True)
    assert message in body
    assert 'aria-invalid="true"' in body
    assert signups(app) == []


def test_bad_input_keeps_what_the_visitor_typed(client):
    response = sign_up(client, email="nope", name="Ada Lovelace")
    assert 'value="Ada Lovelace"' in response.get_data(as_text=True)


def test_missing_csrf_token_gives_form_back_with_400(app, client):
    client.get("/plain")
    response = client.post("/plain", data={"email": "ada@example.com", "name": "Ada"})
    assert response.status_code == 400
    body = response.get_data(as_text=True)
    assert "press the button again" in body
    assert 'value="ada@example.com"' in body
    assert signups(app) == []


def test_honeypot_looks_like_success_but_stores_nothing(app, client):
    response = sign_up(client, email="bot@example.com", leave_this_empty="http://spam")
    assert response.status_code == 302
    assert response.headers["Location"] == "/plain/thanks"
    assert signups(app) == []


def test_too_fast_submit_asks_to_press_again_and_keeps_values(make_app):
    app = make_app(MIN_SUBMIT_SECONDS=60)
    client = browser(app)
    response = sign_up(client, email="fast@example.com")
    assert response.status_code == 422
    body = response.get_data(as_text=True)
    assert "press the button once more" in body
    assert 'value="fast@example.com"' in body
    assert signups(app) == []


def test_submit_after_minimum_time_is_accepted(make_app, monkeypatch):
    app = make_app(MIN_SUBMIT_SECONDS=2)
    client = browser(app)
    page = client.get("/plain").get_data(as_text=True)
    import time as real_time

    later = real_time.time() + 3
    monkeypatch.setattr("itsdangerous.timed.time.time", lambda: later, raising=False)
    monkeypatch.setattr("kit.visitor.forms.time.time", lambda: later)
    data = {**form_fields(page), "email": "patient@example.com"}
    assert client.post("/plain", data=data).status_code == 302
    assert len(signups(app)) == 1


def test_forged_render_time_counts_as_too_fast(make_app):
    app = make_app(MIN_SUBMIT_SECONDS=2)
    client = browser(app)
    response = sign_up(client, email="x@example.com", rendered="plain.AAAAAA.forged")
    assert response.status_code == 422
    assert signups(app) == []


def test_consent_is_required_and_stored_with_its_text(app, client):
    refused = sign_up(client, "consent", email="ada@example.com")
    assert refused.status_code == 422
    assert "Please tick the box" in refused.get_data(as_text=True)
    sign_up(client, "consent", email="ada@example.com", consent="y")
    [row] = signups(app)
    assert row.consent_text == "I agree to receive e-mails about this product."
    assert row.consented_at is not None


def test_fields_a_page_does_not_ask_for_are_ignored(app, client):
    sign_up(client, "consent", email="ada@example.com", consent="y", name="Ada", answer="x")
    [row] = signups(app)
    assert (row.name, row.answer) == (None, None)


def test_thanks_without_signup_shows_no_position(client):
    body = client.get("/plain/thanks").get_data(as_text=True)
    assert "You are" not in body


def test_healthz_reports_database(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json == {"status": "ok"}


def test_signup_count_survives_app_restart(make_app, client):
    sign_up(client, email="ada@example.com")
    fresh = make_app()
    with fresh.app_context():
        assert db.session.scalar(select(func.count()).select_from(Signup)) == 1


def test_visitor_cookie_is_first_party_httponly_lax_and_lasts_a_year(client):
    cookie = client.get("/ab").headers["Set-Cookie"]
    assert "HttpOnly" in cookie
    assert "SameSite=Lax" in cookie
    expires = re.search(r"Expires=([^;]+)", cookie)[1]
    lifetime = parsedate_to_datetime(expires) - datetime.now(UTC)
    assert timedelta(days=360) < lifetime < timedelta(days=370)
    assert "Domain=" not in cookie


def test_cookie_is_secure_when_served_over_https(make_app):
    client = browser(make_app(PREFERRED_URL_SCHEME="https"))
    assert "Secure" in client.get("/ab").headers["Set-Cookie"]


def test_fifty_simultaneous_signups_of_one_address_keep_one_row_and_show_no_error(make_app):
    """Fifty browsers press the button at the same moment with the same address."""
    app = make_app(RATELIMIT_ENABLED=False)  # all fifty come from one test address
    browsers = [browser(app) for _ in range(50)]
    forms = [form_fields(b.get("/plain").get_data(as_text=True)) for b in browsers]
    start = threading.Barrier(len(browsers))
    answers: list[tuple[int, str]] = []

    def press(client, fields) -> None:
        start.wait()
        response = client.post("/plain", data={**fields, "email": "race@example.com"})
        answers.append((response.status_code, response.headers.get("Location", "")))

    threads = [
        threading.Thread(target=press, args=pair) for pair in zip(browsers, forms, strict=True)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(answers) == 50
    assert {status for status, _ in answers} == {302}
    locations = sorted(location for _, location in answers)
    assert locations.count("/plain/thanks") == 1
    assert locations.count("/plain/already") == 49
    [row] = signups(app)
    assert row.email == "race@example.com"


def test_unreachable_database_still_shows_the_page_and_refuses_signups_with_a_503(pages_dir):
    app = create_app(
        {
            "TESTING": True,
            "SECRET_KEY": "test-secret-key-that-is-long-enough",
            "SQLALCHEMY_DATABASE_URI": "postgresql+psycopg://nobody@127.0.0.1:9/none",
            "PAGES_DIR": str(pages_dir),
            "OUTBOX_WORKER": False,
            "MIN_SUBMIT_SECONDS": 0,
        }
    )
    try:
        client = browser(app)
        assert client.get("/plain").status_code == 200  # the visit waits in the writer's queue
        response = sign_up(client, email="ada@example.com")
    finally:
        app.extensions["exposures"].stop()
    assert response.status_code == 503
    assert response.headers["Retry-After"] == "5"
    text = response.get_data(as_text=True)
    assert "nothing was saved" in text and "Traceback" not in text
    assert browser(app).get("/healthz").status_code == 503


def test_connection_dying_before_the_request_ends_is_not_a_500(app, client):
    """PostgreSQL restarting between a view's query and the end of its request (seen in
    bench/faults.py): the answer stands, the dead connection is dropped, the next view works."""

    @app.after_request
    def connection_dies(response):
        if request.path == "/healthz":
            db.session.connection().connection.dbapi_connection.close()
        return response

    assert client.get("/healthz").status_code == 200
    assert sign_up(client, email="after@example.com").status_code == 302
    assert [row.email for row in signups(app)] == ["after@example.com"]
