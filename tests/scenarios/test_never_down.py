"""Never down, never a lost signup: odd input from visitors, founders and Stripe is refused with
a message or ignored, on SQLite and PostgreSQL alike, and never turns into a 500 or a lost row."""

from __future__ import annotations

import base64
import io
import os
import secrets
import signal
import time
from datetime import date

import pytest
import redis
import requests
import stripe
from itsdangerous import URLSafeSerializer
from sqlalchemy import inspect
from sqlalchemy import select

from kit.models import AdSpend
from kit.models import PreOrder
from kit.models import Signup
from kit.models import db
from kit.waitlist.tokens import confirm_token
from kit.waitlist.tokens import status_token
from kit.waitlist.tokens import unsubscribe_url
from tests.conftest import BROWSER_UA
from tests.conftest import browser
from tests.conftest import form_fields
from tests.conftest import sign_up
from tests.delivery.test_outbox import confirm_by
from tests.delivery.test_outbox import deliver as deliver_outbox
from tests.delivery.test_outbox import link_in
from tests.delivery.test_outbox import smtp  # noqa: F401 - the fixture
from tests.founder.test_dashboard import logged_in
from tests.founder.test_dashboard import text_of
from tests.servers import gunicorn_process
from tests.servers import production_env
from tests.servers import release
from tests.tracking.test_preorders import SECRET
from tests.tracking.test_preorders import SHOP
from tests.tracking.test_preorders import click_checkout
from tests.tracking.test_preorders import deliver
from tests.tracking.test_preorders import paid
from tests.tracking.test_preorders import preorders
from tests.tracking.test_preorders import reference_of
from tests.tracking.test_preorders import shop_app  # noqa: F401 - a fixture
from tests.tracking.test_preorders import signed

REDIS_URL = os.environ.get("TEST_REDIS_URL")

# --- characters a database can't hold --------------------------------------------------------


def signups(app) -> list[Signup]:
    with app.app_context():
        return list(db.session.scalars(select(Signup).order_by(Signup.id)))


def test_a_share_link_with_a_nul_byte_never_costs_a_signup(app):
    """``/plain?ref=%00x`` once put NUL in the cookie, and every later signup of that browser
    failed on PostgreSQL (while the error page said nothing was lost)."""
    visitor = browser(app)
    assert visitor.get("/plain?ref=%00x").status_code == 200
    response = sign_up(visitor, email="ada@example.com")
    assert response.status_code == 302
    assert [s.email for s in signups(app)] == ["ada@example.com"]
    assert signups(app)[0].referred_by_id is None


def test_a_cookie_poisoned_before_the_fix_is_ignored(app):
    """A browser that already carries a NUL share code (from an older release) still signs up."""
    visitor = browser(app)
    visitor.get("/plain")
    with visitor.session_transaction() as session:
        session["ref"] = {"plain": "\x00x"}
        session["mine"] = {"plain": "\x00y"}
    assert sign_up(visitor, email="bo@example.com").status_code == 302
    assert visitor.get("/plain/thanks").status_code == 200
    assert [s.email for s in signups(app)] == ["bo@example.com"]


@pytest.mark.parametrize("query", ["%00", "a%00b", "%ED%A0%80", "%FF"])
def test_the_signup_search_takes_any_text(app, query):
    sign_up(browser(app), email="cy@example.com")
    founder = logged_in(app)
    assert founder.get(f"/admin/plain/signups?q={query}").status_code == 200
    api = app.test_client()
    token = {"Authorization": "Bearer test-api-token"}
    answer = api.get(f"/api/pages/plain/signups?q={query}", headers=token)
    assert answer.status_code == 200


def test_a_stripe_event_id_with_a_nul_byte_is_taken_once(shop_app):  # noqa: F811
    """Its key is a hash: two ids that differ only in characters a column can't hold (which
    would both be stored as U+FFFD) stay two events."""
    client = shop_app.test_client()
    reference = reference_of(click_checkout(browser(shop_app)))
    first, second = paid(reference), paid(reference)
    first["id"], second["id"] = "evt_X\x00", "evt_X\ud800"
    assert deliver(client, first) == (200, {"received": True, "stored": True})
    assert deliver(client, second) == (200, {"received": True, "stored": True})
    assert deliver(client, first)[1]["duplicate"] is True
    with shop_app.app_context():
        assert db.session.scalars(select(PreOrder.amount)).all() == [4900, 4900]


@pytest.mark.parametrize("where", ["id", "payment_intent"])
def test_a_payment_whose_id_has_a_nul_byte_is_kept_as_not_booked(shop_app, where):  # noqa: F811
    event = paid(None)
    event["data"]["object"][where] += "\x00"
    status, answer = deliver(shop_app.test_client(), event)
    assert status == 200 and answer["stored"] is False and "can't store" in answer["problem"]
    with shop_app.app_context():
        assert db.session.scalar(select(PreOrder.id)) is None


# --- a broken page file ----------------------------------------------------------------------

TYPO = 'title = "Typo page"\nheadline = "H"\nsubheadlin = "a typo"\n'


def test_the_release_step_fails_on_a_broken_page_and_names_the_problem(app, database_url, tmp_path):
    """The deploy stops before anything changes: exit 1, the file, line and key printed."""
    pages = tmp_path / "release-pages"
    pages.mkdir()
    (pages / "typo.toml").write_text(TYPO)
    done = release(production_env(database_url, PAGES_DIR=str(pages)))
    assert done.returncode == 1
    assert "typo.toml:3: subheadlin: unknown key (did you mean 'subheadline'?" in done.stderr
    with app.app_context():
        assert "alembic_version" not in inspect(db.engine).get_table_names()


def test_a_broken_page_file_takes_down_only_its_own_page_across_a_reload(
    app, database_url, pages_dir, tmp_path
):
    """gunicorn reloads (HUP, as a PaaS restart does) with one broken file: that page answers
    503, every other page, signup and the webhook keep working, and the log names the problem."""
    with app.app_context():
        db.drop_all()
    log = tmp_path / "gunicorn.log"
    env = {"PAGES_DIR": str(pages_dir), "STRIPE_WEBHOOK_SECRET": SECRET, "MIN_SUBMIT_SECONDS": "0"}
    with gunicorn_process(database_url, log, **env) as (base, web):
        people = requests.Session()
        people.headers["User-Agent"] = BROWSER_UA
        assert people.get(f"{base}/plain").status_code == 200
        (pages_dir / "typo.toml").write_text(TYPO)
        web.send_signal(signal.SIGHUP)
        deadline = time.monotonic() + 30
        while log.read_text().count("page files have errors") < 2:  # both new workers
            assert time.monotonic() < deadline, log.read_text()
            time.sleep(0.2)
        people.close()  # no kept-alive connection to an old worker: the new ones answer
        broken = people.get(f"{base}/typo")
        assert broken.status_code == 503
        assert "This page is being fixed" in broken.text
        page = people.get(f"{base}/plain")
        assert page.status_code == 200
        fields = form_fields(page.text)
        joined = people.post(f"{base}/plain", data={**fields, "email": "ok@example.com"})
        assert joined.status_code == 200 and "/plain/thanks" in joined.url
        body, header = signed(paid(None))
        hook = requests.post(
            f"{base}/webhooks/stripe", data=body,
            headers={"Stripe-Signature": header, "Content-Type": "application/json"},
        )  # fmt: skip
        assert hook.status_code == 200
        assert "typo.toml:3: subheadlin" in log.read_text()
    assert [s.email for s in signups(app)] == ["ok@example.com"]


# --- what the founder types ------------------------------------------------------------------


def test_spend_days_far_out_are_refused_and_a_stored_one_breaks_no_report(app, runner):
    """9999-12-31 once went in through the form and the CLI, then every report on spend raised
    OverflowError, the delete button included (it is on the sources page)."""
    refused = runner.invoke(
        args=[
            "kit",
            "spend",
            "add",
            "plain",
            "--source",
            "google",
            "--from",
            "9999-12-30",
            "--to",
            "9999-12-31",
            "--amount",
            "5",
        ]
    )
    assert refused.exit_code == 1 and "not a day between 2000 and 2100" in refused.output
    with app.app_context():  # a row stored by an older release
        db.session.add(AdSpend(page="plain", utm_source="google", utm_campaign="",
                               first_day=date(9999, 12, 30), last_day=date(9999, 12, 31),
                               amount=500, currency="USD"))  # fmt: skip
        db.session.commit()
    founder = logged_in(app)
    assert founder.get("/admin/").status_code == 200
    assert founder.get("/admin/plain/sources").status_code == 200
    listed = runner.invoke(args=["kit", "spend", "list", "plain"])
    assert listed.exit_code == 0, listed.output


def test_kit_spend_list_shows_a_stored_escape_sequence_instead_of_running_it(app, runner):
    with app.app_context():  # a row stored before control characters were refused
        db.session.add(AdSpend(page="plain", utm_source="goo\x1b[2Jgle", utm_campaign="",
                               first_day=date(2026, 11, 1), last_day=date(2026, 11, 2),
                               amount=500, currency="USD"))  # fmt: skip
        db.session.commit()
    listed = runner.invoke(args=["kit", "spend", "list", "plain"])
    assert "goo\\x1b[2Jgle" in listed.output and "\x1b" not in listed.output


@pytest.mark.parametrize(
    "option, value, message",
    [
        ("--source", "goo\x1b[2Jgle", "holds a control or invisible character"),
        ("--campaign", "spring\u202e", "holds a control or invisible character"),
        ("--amount", "١٢٠", "is not an amount"),
        ("--from", "２０２６-11-01", "is not a date"),
    ],
)
def test_the_cli_refuses_control_characters_and_foreign_digits(app, runner, option, value, message):
    options = {"--source": "google", "--from": "2026-11-01", "--to": "2026-11-02", "--amount": "5"}
    options[option] = value
    args = ["kit", "spend", "add", "plain", *[w for pair in options.items() for w in pair]]
    result = runner.invoke(args=args)
    assert result.exit_code == 1 and message in result.output
    with app.app_context():
        assert db.session.scalar(select(AdSpend.id)) is None


@pytest.mark.parametrize(
    "key, value, message",
    [
        ("product_name", '"Tidy\\r\\nBcc: everyone@example.com"', "one line of text"),
        ("title", '"Tidy\\u2028day"', "one line of text"),
        ("headline", '"Tidy\\u0000day"', "control character (U+0000)"),
        ("headline", '"Tidy\\u009bday"', "control character (U+009B)"),
        ("logo", '"https://cdn.example.com/logo.svg\\nX: y"', "without spaces, line breaks"),
    ],
)
def test_kit_check_refuses_what_would_break_every_mail_or_row(
    runner, pages_dir, key, value, message
):
    keys = {"title": '"Mail page"', "headline": '"H"', "product_name": '"Mail"'}
    keys.pop(key, None)
    text = "".join(f"{k} = {v}\n" for k, v in keys.items()) + f"{key} = {value}\n"  # last
    (pages_dir / "mail.toml").write_text(text, encoding="utf-8")
    result = runner.invoke(args=["kit", "check"])
    assert result.exit_code == 1
    assert f"mail.toml:{len(keys) + 1}: {key}" in result.output and message in result.output


def test_kit_check_refuses_a_tier_name_longer_than_a_pre_order_stores(runner, pages_dir):
    name = "Pro " + "x" * 61
    page = SHOP.replace('name = "Pro"', f'name = "{name}"')
    (pages_dir / "shop.toml").write_text(page, encoding="utf-8")
    result = runner.invoke(args=["kit", "check"])
    assert result.exit_code == 1
    assert "shop.toml:8: pricing.tiers[0].name: expected a name of 1 to 64 characters" in (
        result.output
    )


# --- requests of an odd shape ----------------------------------------------------------------


@pytest.mark.parametrize(
    "path, field",
    [("/plain", "email"), ("/embed/plain", "email"), ("/plain/status", "email"),
     ("/admin/login", "password")],
)  # fmt: skip
def test_a_file_where_text_belongs_is_a_400_with_a_sentence(app, path, field):
    visitor = browser(app)
    fields = form_fields(visitor.get(path).get_data(as_text=True))
    answer = visitor.post(
        path, data={**fields, field: (io.BytesIO(b"ada@example.com"), "a.txt")},
        content_type="multipart/form-data", headers={"Origin": "https://parent.example"},
    )  # fmt: skip
    assert answer.status_code == 400
    assert "This form takes no files" in answer.get_data(as_text=True)
    assert signups(app) == []


@pytest.mark.parametrize("host", ["a" * 64 + ".example.com", "a..b", ".example.com"])
def test_a_host_no_link_can_hold_is_a_plain_400(app, host):
    answer = browser(app).get("/plain", headers={"Host": host})
    assert answer.status_code == 400
    assert answer.get_data(as_text=True) == "This site does not answer to that host name."


def test_a_signed_event_nested_thousands_deep_is_refused_not_a_500(shop_app):  # noqa: F811
    body = '{"id": "evt_1", "data": ' + "[" * 5000 + "]" * 5000 + "}"
    header = stripe.WebhookSignature.generate_signature_header(body, SECRET)
    answer = shop_app.test_client().post(
        "/webhooks/stripe", data=body, headers={"Stripe-Signature": header},
        content_type="application/json",
    )  # fmt: skip
    assert answer.status_code == 400
    assert answer.get_json() == {"error": "not a Stripe event"}


def test_a_stale_form_says_so_in_plain_words(app):
    """Not '500 — Something went wrong' and 'The CSRF session token is missing.'"""
    answer = browser(app).post("/plain/status", data={"email": "ada@example.com"})
    assert answer.status_code == 400
    html = answer.get_data(as_text=True)
    assert "<title>400 — We couldn&#39;t read that" in html
    assert "This form has expired — please press the button again." in html
    assert "CSRF" not in html and "500" not in html


# --- Stripe events the kit can't book ---------------------------------------------------------


def test_payments_the_kit_cant_book_are_kept_shown_and_logged(shop_app, caplog):  # noqa: F811
    """An amount of 2^31 minor units (about $1 350 in IDR) or a currency that isn't one used
    to be answered 200 and dropped without a word."""
    client = shop_app.test_client()
    visitor = browser(shop_app)
    reference = reference_of(click_checkout(visitor))
    big = paid(reference, amount=2**31, currency="idr")
    odd = paid(reference, currency="us dollars")
    for event in (big, odd):
        status, answer = deliver(client, event)
        assert status == 200 and answer["stored"] is False
    assert deliver(client, big) == (200, {"received": True, "duplicate": True})
    assert preorders(shop_app) == []
    assert f"{big['id']} not booked: amount out of range" in caplog.text
    founder = logged_in(shop_app)
    overview = text_of(founder.get("/admin/"))
    expected = "2 payments could not be booked: amount out of range (1), not a currency code (1)"
    assert expected in overview
    assert expected in text_of(founder.get("/admin/shop"))
    assert "could not be booked" not in text_of(founder.get("/admin/plain"))


def test_an_event_id_too_long_to_store_is_still_taken_once(shop_app):  # noqa: F811
    event = paid(reference_of(click_checkout(browser(shop_app))))
    event["id"] = "evt_" + "x" * 300
    client = shop_app.test_client()
    assert deliver(client, event)[1]["stored"] is True
    assert deliver(client, event)[1] == {"received": True, "duplicate": True}
    assert len(preorders(shop_app)) == 1


# --- leaks ----------------------------------------------------------------------------------


def test_opening_a_confirmation_link_confirms_nothing(make_app, smtp):  # noqa: F811
    """Mail scanners open (GET, HEAD) every link in a mail: only the button's POST confirms."""
    url, inbox = smtp
    app = make_app(MAIL_URL=url, MAIL_FROM="hi@example.com")
    sign_up(browser(app), slug="optin", email="ada@example.com")
    deliver_outbox(app)
    link = link_in(inbox.messages[0], "confirm")
    scanner = app.test_client()
    assert scanner.head(link).status_code == 200
    page = scanner.get(link)
    assert page.status_code == 200 and "Confirm my address" in page.get_data(as_text=True)
    assert signups(app)[0].confirmed_at is None
    status = confirm_by(browser(app), link, follow_redirects=True)
    assert "#1" in status.get_data(as_text=True)
    assert signups(app)[0].confirmed_at is not None


def test_no_link_tells_how_many_signed_up(app):
    """Tokens once began with the row id in base64 ("NTE." = 51): no token holds it now."""
    for n in range(3):
        sign_up(browser(app), email=f"p{n}@example.com")
    with app.test_request_context():
        for entry in signups(app):
            for token in (status_token(entry), confirm_token(entry), unsubscribe_url(entry)):
                payload = token.rsplit("/", 1)[-1].split(".")[0]
                decoded = base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4))
                assert str(entry.id).encode() not in decoded.replace(entry.share_code.encode(), b"")


def test_a_status_link_mailed_before_keeps_working(app):
    """Links sent before tokens carried share codes named the row id: they still open."""
    sign_up(browser(app), email="ada@example.com")
    [entry] = signups(app)
    with app.app_context():
        old = URLSafeSerializer(app.config["SECRET_KEY"], salt="waitlist-status").dumps(entry.id)
    opened = browser(app).get(f"/plain/status/{old}")
    assert opened.status_code == 200 and "#1" in opened.get_data(as_text=True)
    assert browser(app).get("/plain/status/MQ.forged").status_code == 404


@pytest.mark.skipif(not REDIS_URL, reason="Redis: set TEST_REDIS_URL to run against a server")
def test_no_client_address_becomes_a_redis_key(make_app):
    prefix = f"test-{secrets.token_hex(8)}"
    app = make_app(REDIS_URL=REDIS_URL, RATELIMIT_KEY_PREFIX=prefix, PROXY_FIX_HOPS=1)
    visitor = browser(app)
    visitor.environ_base["HTTP_X_FORWARDED_FOR"] = "203.0.113.77"
    assert sign_up(visitor, email="ada@example.com").status_code == 302
    keys = [key.decode() for key in redis.Redis.from_url(REDIS_URL).keys(f"*{prefix}*")]
    assert keys and not any("203.0.113.77" in key for key in keys), keys


def test_an_unreadable_entry_in_the_pages_folder_takes_down_nothing(
    make_app, pages_dir, monkeypatch
):
    """An editor's lock file (``.#plain.toml``, a link to nowhere), a dangling link or a folder
    named like a page once stopped every worker from booting."""
    monkeypatch.delenv("FLASK_RUN_FROM_CLI", raising=False)
    (pages_dir / ".#plain.toml").symlink_to("nowhere")
    (pages_dir / "dangling.toml").symlink_to("nowhere")
    (pages_dir / "folder.toml").mkdir()
    app = make_app(TESTING=False)
    visitor = browser(app)
    assert visitor.get("/plain").status_code == 200
    assert visitor.get("/dangling").status_code == 503
    assert visitor.get("/folder").status_code == 503
    checked = app.test_cli_runner().invoke(args=["kit", "check"])
    assert checked.exit_code == 1 and "dangling.toml: can't be read" in checked.output
    assert ".#plain.toml" not in checked.output


@pytest.mark.parametrize("what", ["signups", "spend"])
def test_deleting_an_id_past_any_integer_is_a_404(app, what):
    founder = logged_in(app)
    page = founder.get("/admin/plain/signups").get_data(as_text=True)
    csrf = form_fields(page)["csrf_token"]
    for number in (2**31, 2**63, 10**30):
        answer = founder.post(f"/admin/plain/{what}/{number}/delete", data={"csrf_token": csrf})
        assert answer.status_code == 404
