"""A buyer who paid through the pre-order button comes back from Stripe to a page of the kit:
thanks, and the signup form filled in with the address they paid with (read from Stripe's API
with a restricted key), so one press puts them on the list with their share link."""

from __future__ import annotations

import json
import re
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler
from http.server import ThreadingHTTPServer
from urllib.parse import parse_qs
from urllib.parse import urlsplit

from sqlalchemy import select

from kit.models import Signup
from kit.models import db
from tests.conftest import browser
from tests.conftest import form_fields
from tests.tracking.test_preorders import SHOP

KEY = "rk_test_restricted_key"


@contextmanager
def stripe_api(sessions: dict[str, dict]) -> Iterator[tuple[str, list[dict]]]:
    """Stripe's API as far as the page asks it: GET /v1/checkout/sessions/<id>."""
    asked: list[dict] = []

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802 - the http.server name
            asked.append({"path": self.path, "auth": self.headers.get("Authorization")})
            session = sessions.get(self.path.rsplit("/", 1)[-1])
            body = json.dumps(session or {"error": {"type": "invalid_request_error"}}).encode()
            self.send_response(200 if session else 404)
            self.send_header("Content-Type", "application/json")
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", asked
    finally:
        server.shutdown()
        server.server_close()


def pre_order(visitor) -> str:
    """The visitor presses the Pro tier's button; the reference the kit signed for Stripe."""
    visitor.get("/shop")
    answer = visitor.get("/checkout/shop/pro")
    return parse_qs(urlsplit(answer.headers["Location"]).query)["client_reference_id"][0]


def test_a_buyer_comes_back_to_thanks_and_joins_with_the_address_they_paid_with(
    make_app, pages_dir
):
    (pages_dir / "shop.toml").write_text(SHOP, encoding="utf-8")
    visitor = None
    with stripe_api({}) as (url, asked):
        app = make_app(STRIPE_SECRET_KEY=KEY, STRIPE_API_URL=url)
        visitor = browser(app)
        ref = pre_order(visitor)
        sessions = {"cs_test_a1": {"client_reference_id": ref, "payment_status": "paid",
                                   "customer_details": {"email": "buyer@example.com"}}}  # fmt: skip
        with stripe_api(sessions) as (url, asked):
            app.config["STRIPE_API_URL"] = url
            back = visitor.get("/shop/paid?session_id=cs_test_a1")
            html = back.get_data(as_text=True)
            assert back.status_code == 200 and "Thank you for your pre-order!" in html
            assert 'value="buyer@example.com"' in html  # filled in: one press to join
            assert back.headers["Cache-Control"] == "no-store"
            assert asked[-1]["path"] == "/v1/checkout/sessions/cs_test_a1"
            assert asked[-1]["auth"].startswith("Basic ")  # the key, as Stripe reads it
            filled = re.search(r'name="email"[^>]*value="([^"]*)"', html)[1]
            joined = visitor.post("/shop", data={**form_fields(html), "email": filled})
            errors = re.findall(r'class="error"[^>]*>([^<]+)<', joined.get_data(as_text=True))
            assert joined.status_code == 302, errors
            assert joined.headers["Location"] == "/shop/thanks"
    thanks = visitor.get("/shop/thanks").get_data(as_text=True)
    assert "Your share link" in thanks
    with app.app_context():
        person = db.session.scalar(select(Signup))
        assert person.email == "buyer@example.com" and person.variant in ("a", "b")


def test_a_buyer_joins_with_one_quick_press_while_the_form_alone_still_asks_bots_to_wait(
    make_app, pages_dir
):
    """The address is filled in, so a buyer presses at once: paying proved them a person. The
    same page without a payment Stripe confirms keeps the usual wait against bots."""
    (pages_dir / "shop.toml").write_text(SHOP, encoding="utf-8")
    app = make_app(STRIPE_SECRET_KEY=KEY, MIN_SUBMIT_SECONDS=2)
    buyer, stranger = browser(app), browser(app)
    sessions = {"cs_test_q1": {"client_reference_id": pre_order(buyer), "payment_status": "paid",
                               "customer_details": {"email": "quick@example.com"}}}  # fmt: skip
    with stripe_api(sessions) as (url, _):
        app.config["STRIPE_API_URL"] = url
        for visitor, email in [(buyer, "quick@example.com"), (stranger, "bot@example.com")]:
            html = visitor.get("/shop/paid?session_id=cs_test_q1").get_data(as_text=True)
            sent = visitor.post("/shop", data={**form_fields(html), "email": email})
            if visitor is buyer:
                assert sent.status_code == 302 and sent.headers["Location"] == "/shop/thanks"
            else:
                assert sent.status_code == 422
                assert "press the button once more" in sent.get_data(as_text=True)
    with app.app_context():
        assert db.session.scalars(select(Signup.email)).all() == ["quick@example.com"]


def test_no_address_is_shown_for_another_page_an_unpaid_or_forged_session(make_app, pages_dir):
    (pages_dir / "shop.toml").write_text(SHOP, encoding="utf-8")
    app = make_app(STRIPE_SECRET_KEY=KEY)
    ref = pre_order(browser(app))
    sessions = {
        "cs_test_unpaid": {"client_reference_id": ref, "payment_status": "unpaid",
                           "customer_details": {"email": "a@example.com"}},
        "cs_test_forged": {"client_reference_id": ref[:-1] + "0", "payment_status": "paid",
                           "customer_details": {"email": "b@example.com"}},
        "cs_test_noref": {"payment_status": "paid", "customer_details": {"email": "c@example.com"}},
    }  # fmt: skip
    with stripe_api(sessions) as (url, asked):
        app.config["STRIPE_API_URL"] = url
        for session in [*sessions, "cs_test_unknown"]:
            html = browser(app).get(f"/shop/paid?session_id={session}").get_data(as_text=True)
            assert 'type="email" value=""' in html and "Thank you for your pre-order!" in html
        other = browser(app).get(f"/plain/paid?session_id={next(iter(sessions))}")
        assert "a@example.com" not in other.get_data(as_text=True)  # not this page's payment
        for odd in ["../../v1/customers", "cs_test_" + "x" * 500, "cs_test_a/b", "", "cs_live_é"]:
            assert (
                browser(app).get("/shop/paid", query_string={"session_id": odd}).status_code == 200
            )
        assert all(a["path"].startswith("/v1/checkout/sessions/cs_test_") for a in asked)
        assert not any("/v1/customers" in a["path"] for a in asked)


def test_without_a_stripe_key_or_with_stripe_away_the_form_is_there_empty(make_app, pages_dir):
    (pages_dir / "shop.toml").write_text(SHOP, encoding="utf-8")
    without = make_app().test_client().get("/shop/paid?session_id=cs_test_1")
    assert without.status_code == 200 and 'name="email"' in without.get_data(as_text=True)
    away = make_app(STRIPE_SECRET_KEY=KEY, STRIPE_API_URL="http://127.0.0.1:9")
    answer = browser(away).get("/shop/paid?session_id=cs_test_1")
    assert answer.status_code == 200 and 'value=""' in answer.get_data(as_text=True)


def test_the_address_shows_only_in_the_browser_that_paid_and_never_breaks_the_page(
    make_app, pages_dir
):
    (pages_dir / "shop.toml").write_text(SHOP, encoding="utf-8")
    app = make_app(STRIPE_SECRET_KEY=KEY)
    buyer = browser(app)
    ref = pre_order(buyer)
    sessions = {"cs_test_b1": {"client_reference_id": ref, "payment_status": "paid",
                               "customer_details": {"email": "buyer@example.com"}},
                "cs_test_list": ["not", "a", "session"]}  # fmt: skip
    with stripe_api(sessions) as (url, _):
        app.config["STRIPE_API_URL"] = url
        assert "buyer@example.com" in buyer.get("/shop/paid?session_id=cs_test_b1").get_data(
            as_text=True)  # fmt: skip
        stranger = browser(app)  # the link alone, in another browser
        stranger.get("/shop")
        other = stranger.get("/shop/paid?session_id=cs_test_b1").get_data(as_text=True)
        assert "buyer@example.com" not in other
        assert buyer.get("/shop/paid?session_id=cs_test_list").status_code == 200
    assert browser(app).get("/plain/paid?session_id=cs_test_b1").status_code == 404  # no tier
