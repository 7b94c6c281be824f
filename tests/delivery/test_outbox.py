"""Mail, webhooks and list sync through the outbox, against real local servers."""

from __future__ import annotations

import hashlib
import hmac
import re
import threading
import time
from datetime import timedelta

import pytest
from sqlalchemy import event
from sqlalchemy import select
from sqlalchemy import update

from kit.delivery.outbox import claim
from kit.delivery.outbox import deliver_due
from kit.models import Outbox
from kit.models import Signup
from kit.models import db
from kit.models import utcnow
from tests.conftest import browser
from tests.conftest import sign_up
from tests.founder.test_dashboard import logged_in
from tests.founder.test_dashboard import text_of
from tests.servers import body_text
from tests.servers import receiver
from tests.servers import smtp_server

SECRET = "webhook-secret-for-tests-0123456789"


def deliver(app) -> int:
    with app.app_context():
        return deliver_due()


def outbox_rows(app) -> list[Outbox]:
    with app.app_context():
        return list(db.session.scalars(select(Outbox).order_by(Outbox.id)))


def make_due(app) -> None:
    """Skip the backoff wait: everything pending is due now."""
    with app.app_context():
        db.session.execute(update(Outbox).values(due_at=utcnow() - timedelta(seconds=1)))
        db.session.commit()


def signup_row(app, email) -> Signup:
    with app.app_context():
        return db.session.scalar(select(Signup).where(Signup.email_key == email))


def link_in(message, kind) -> str:
    return re.search(rf"(http://localhost/optin/{kind}/\S+)", body_text(message))[1]


def confirm_by(client, link: str, **options):
    """Open the confirmation link and press its button, as the person does."""
    page = client.get(link).get_data(as_text=True)
    csrf = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page)[1]
    return client.post(link, data={"csrf_token": csrf}, **options)


@pytest.fixture
def smtp():
    with smtp_server() as server:
        yield server


@pytest.fixture
def optin_app(make_app, smtp):
    url, inbox = smtp
    app = make_app(MAIL_URL=url, MAIL_FROM="hello@example.com", CONFIRM_RESEND_MINUTES=10)
    app.inbox = inbox
    return app


# --- double opt-in over real SMTP ---------------------------------------------------------


def test_double_opt_in_mail_link_confirms_the_signup(optin_app):
    visitor = browser(optin_app)
    response = sign_up(visitor, slug="optin", email="ada@example.com", follow=True)
    assert "Check your inbox" in response.get_data(as_text=True)
    assert signup_row(optin_app, "ada@example.com").confirmed_at is None
    assert optin_app.inbox.messages == []  # nothing is sent inside the request

    assert deliver(optin_app) == 1
    [message] = optin_app.inbox.messages
    assert message["To"] == "ada@example.com"
    assert message["List-Unsubscribe"].strip().startswith("<http://localhost/optin/unsubscribe/")
    assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert "html" in {part.get_content_subtype() for part in message.walk()}

    status = confirm_by(browser(optin_app), link_in(message, "confirm"), follow_redirects=True)
    assert "#1</p><p>your place of 1 on the list" in status.get_data(as_text=True)
    assert signup_row(optin_app, "ada@example.com").confirmed_at is not None


def test_confirming_sends_the_welcome_mail_with_the_status_link(optin_app):
    sign_up(browser(optin_app), slug="optin", email="ada@example.com")
    deliver(optin_app)
    [confirmation] = optin_app.inbox.messages
    confirm_by(browser(optin_app), link_in(confirmation, "confirm"))
    assert deliver(optin_app) == 1
    welcome = optin_app.inbox.messages[1]
    assert welcome["Subject"] == "You're on the list: Opt-in page"
    assert "/optin/status/" in body_text(welcome)


def unsubscribe_link(message) -> str:
    return message["List-Unsubscribe"].strip()[1:-1].removeprefix("http://localhost")


def test_one_click_unsubscribe_stops_the_mails_and_keeps_the_place(optin_app):
    """RFC 8058: the mailbox provider POSTs to the header's link, with no cookie and no CSRF
    token. Opening the link (a mail scanner) changes nothing."""
    visitor = browser(optin_app)
    sign_up(visitor, slug="optin", email="ada@example.com")
    deliver(optin_app)
    [confirmation] = optin_app.inbox.messages
    confirm_by(visitor, link_in(confirmation, "confirm"))
    assert deliver(optin_app) == 1  # the welcome mail
    link = unsubscribe_link(optin_app.inbox.messages[1])
    provider = optin_app.test_client()  # no cookie, no session, no token

    assert "Unsubscribe" in provider.get(link).get_data(as_text=True)
    assert signup_row(optin_app, "ada@example.com").unsubscribed_at is None
    response = provider.post(link, data={"List-Unsubscribe": "One-Click"})
    assert response.status_code == 200 and "unsubscribed" in response.get_data(as_text=True)
    assert signup_row(optin_app, "ada@example.com").unsubscribed_at is not None
    assert provider.post(link, data={"List-Unsubscribe": "One-Click"}).status_code == 200

    # Someone enters the address again: its owner would get the status link, but not now.
    sign_up(browser(optin_app), slug="optin", email="ada@example.com")
    assert deliver(optin_app) == 0
    assert len(optin_app.inbox.messages) == 2
    status = link_in(optin_app.inbox.messages[1], "status")
    assert "#1</p><p>your place of 1 " in visitor.get(status).get_data(as_text=True)


def test_a_forged_unsubscribe_link_changes_nothing(optin_app):
    sign_up(browser(optin_app), slug="optin", email="ada@example.com")
    deliver(optin_app)
    link = unsubscribe_link(optin_app.inbox.messages[0])
    forged = link[:-3] + ("xyz" if not link.endswith("xyz") else "abc")
    client = optin_app.test_client()
    assert "not valid" in client.get(forged).get_data(as_text=True)
    assert client.post(forged, data={"List-Unsubscribe": "One-Click"}).status_code == 200
    assert signup_row(optin_app, "ada@example.com").unsubscribed_at is None


def test_new_and_repeated_double_opt_in_signups_look_the_same(optin_app):
    first = sign_up(browser(optin_app), slug="optin", email="ada@example.com", follow=True)
    again = sign_up(browser(optin_app), slug="optin", email="ada@example.com", follow=True)
    main = [re.search(r"<main.*</main>", r.get_data(as_text=True), re.S)[0] for r in (first, again)]
    assert main[0] == main[1]
    assert deliver(optin_app) == 1  # resent at most once per CONFIRM_RESEND_MINUTES


def test_confirmation_is_resent_after_the_interval(optin_app):
    sign_up(browser(optin_app), slug="optin", email="ada@example.com")
    deliver(optin_app)
    with optin_app.app_context():
        db.session.execute(update(Signup).values(confirm_sent_at=utcnow() - timedelta(minutes=11)))
        db.session.commit()
    sign_up(browser(optin_app), slug="optin", email="ada@example.com")
    deliver(optin_app)
    assert len(optin_app.inbox.messages) == 2


def test_unconfirmed_signups_do_not_count_and_referrals_wait_for_confirmation(optin_app):
    ada = browser(optin_app)
    sign_up(ada, slug="optin", email="ada@example.com")
    deliver(optin_app)
    confirm_by(browser(optin_app), link_in(optin_app.inbox.messages[0], "confirm"))
    code = signup_row(optin_app, "ada@example.com").share_code

    friend = browser(optin_app)
    friend.get(f"/optin?ref={code}")
    sign_up(friend, slug="optin", email="bob@example.com")
    deliver(optin_app)
    assert signup_row(optin_app, "ada@example.com").referrals == 0  # a fake address buys nothing
    confirm = link_in(optin_app.inbox.messages[-1], "confirm")
    confirm_by(browser(optin_app), confirm)
    assert browser(optin_app).get(confirm).status_code == 302  # a second click credits nothing
    assert signup_row(optin_app, "ada@example.com").referrals == 1


def test_forged_or_expired_confirmation_links_explain_what_to_do(optin_app, monkeypatch):
    response = browser(optin_app).get("/optin/confirm/not-a-token")
    assert response.status_code == 400
    assert "not valid" in response.get_data(as_text=True)
    sign_up(browser(optin_app), slug="optin", email="ada@example.com")
    deliver(optin_app)
    link = link_in(optin_app.inbox.messages[0], "confirm")
    real_time = time.time
    monkeypatch.setattr("itsdangerous.timed.time.time", lambda: real_time() + 15 * 86400)
    expired = browser(optin_app).get(link)
    assert expired.status_code == 400
    assert "expired" in expired.get_data(as_text=True)


def test_status_link_is_mailed_to_a_new_device(optin_app):
    sign_up(browser(optin_app), slug="optin", email="ada@example.com")
    deliver(optin_app)
    confirm_by(browser(optin_app), link_in(optin_app.inbox.messages[0], "confirm"))
    phone = browser(optin_app)
    page = phone.get("/optin/status").get_data(as_text=True)
    csrf = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page)[1]
    phone.post("/optin/status", data={"csrf_token": csrf, "email": "ADA@example.com"})
    deliver(optin_app)
    status = link_in(optin_app.inbox.messages[-1], "status")
    assert "on the list" in phone.get(status).get_data(as_text=True)


def test_smtp_down_loses_nothing(make_app):
    app = make_app(MAIL_URL="smtp://127.0.0.1:9", MAIL_FROM="hello@example.com")
    sign_up(browser(app), email="ada@example.com")  # plain page: a welcome mail
    assert deliver(app) == 0
    [row] = outbox_rows(app)
    assert (row.status, row.attempts) == ("pending", 1)
    assert "SMTP" in row.last_error
    with smtp_server() as (url, inbox):
        app.config["MAIL_URL"] = url
        make_due(app)
        assert deliver(app) == 1
        assert "status page" in body_text(inbox.messages[0])
    [row] = outbox_rows(app)
    assert (row.status, row.target, row.payload) == ("done", "a**@example.com", "{}")


# --- webhooks -----------------------------------------------------------------------------


def test_webhook_is_signed_and_delivered_once_after_the_receiver_comes_back(make_app):
    with receiver() as hook:
        url = hook.url
        app = make_app(WEBHOOK_URLS=url + "/hook", WEBHOOK_SECRET=SECRET)
        hook.stop()  # the receiver is down when the signup happens
        assert sign_up(browser(app), email="ada@example.com").status_code == 302
        assert signup_row(app, "ada@example.com") is not None
        assert deliver(app) == 0
        [row] = outbox_rows(app)
        assert row.status == "pending" and row.due_at is not None
        hook.start()  # back, same port
        make_due(app)
        assert deliver(app) == 1
        assert deliver(app) == 0
        make_due(app)
        assert deliver(app) == 0
    [request] = hook.requests
    headers = request["headers"]
    timestamp, signature = re.fullmatch(
        r"t=(\d+),v1=([0-9a-f]+)", headers["X-Waitlist-Signature"]
    ).groups()
    expected = hmac.new(SECRET.encode(), f"{timestamp}.{request['body']}".encode(), hashlib.sha256)
    assert hmac.compare_digest(signature, expected.hexdigest())
    event = request["json"]
    assert event["type"] == "signup.created" and headers["X-Waitlist-Event"] == "signup.created"
    assert event["page"] == "plain"
    assert event["data"]["email"] == "ada@example.com"
    assert headers["X-Waitlist-Delivery"] == str(row.id)


def test_webhook_gives_up_after_the_configured_time_and_the_dashboard_says_so(make_app):
    app = make_app(WEBHOOK_URLS="http://127.0.0.1:9/hook", OUTBOX_GIVE_UP_HOURS=0)
    sign_up(browser(app), email="ada@example.com")
    deliver(app)
    [row] = outbox_rows(app)
    assert row.status == "failed"
    text = text_of(logged_in(app).get("/admin/"))
    assert "Deliveries that failed" in text
    assert "webhook: signup.created http://127.0.0.1:9/hook" in text


def test_slack_format_and_deleted_event(make_app):
    with receiver() as hook:
        app = make_app(WEBHOOK_URLS=f"slack:{hook.url}/slack")
        ada = browser(app)
        sign_up(ada, email="ada@example.com")
        page = ada.get("/plain/thanks").get_data(as_text=True)
        token = re.search(r"/plain/status/([^\"/]+)", page)[1]
        form = ada.get(f"/plain/remove/{token}").get_data(as_text=True)
        csrf = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', form)[1]
        ada.post(f"/plain/remove/{token}", data={"csrf_token": csrf})
        deliver(app)
    texts = [request["json"]["text"] for request in hook.requests]
    assert texts == [
        "New signup on *plain*: ada@example.com",
        "Signup removed on *plain*: ada@example.com",
    ]
    assert all(row.payload == "{}" for row in outbox_rows(app))  # no personal data left behind


def test_buttondown_gets_confirmed_signups_and_removals(make_app):
    with receiver(status=201) as api:
        app = make_app(BUTTONDOWN_API_KEY="bd-key", BUTTONDOWN_API_URL=api.url + "/v1")
        sign_up(browser(app), email="ada@example.com")
        deliver(app)
        admin = logged_in(app)  # the founder deletes the signup from the dashboard
        listing = admin.get("/admin/plain/signups").get_data(as_text=True)
        action = re.search(r'action="(/admin/plain/signups/\d+/delete)"', listing)[1]
        csrf = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', listing)[1]
        assert admin.post(action, data={"csrf_token": csrf}).status_code == 302
        deliver(app)
    assert [(r["method"], r["path"]) for r in api.requests] == [
        ("POST", "/v1/subscribers"),
        ("DELETE", "/v1/subscribers/ada%40example.com"),
    ]
    assert api.requests[0]["headers"]["Authorization"] == "Token bd-key"
    assert api.requests[0]["json"] == {"email_address": "ada@example.com", "tags": ["plain"]}


def test_postmark_api_gets_the_message(make_app):
    with receiver() as api:
        app = make_app(
            MAIL_API="postmark",
            MAIL_API_KEY="pm-token",
            MAIL_API_URL=api.url + "/email",
            MAIL_FROM="hello@example.com",
        )
        sign_up(browser(app), email="ada@example.com")
        assert deliver(app) == 1
    [request] = api.requests
    assert request["headers"]["X-Postmark-Server-Token"] == "pm-token"
    body = request["json"]
    assert (body["From"], body["To"]) == ("Plain page <hello@example.com>", "ada@example.com")
    assert "status page" in body["TextBody"] and "<a href=" in body["HtmlBody"]
    assert body["Headers"][0]["Name"] == "List-Unsubscribe"


# --- the deliverer ------------------------------------------------------------------------


def test_background_deliverer_sends_right_after_the_signup(make_app):
    with receiver() as hook:
        app = make_app(OUTBOX_WORKER=True, OUTBOX_POLL_SECONDS=30, WEBHOOK_URLS=hook.url)
        started = time.monotonic()
        try:
            sign_up(browser(app), email="ada@example.com")
            while not hook.requests and time.monotonic() - started < 10:
                time.sleep(0.05)
        finally:
            app.extensions["outbox"].stop()  # it must not touch the next test's rows
        assert len(hook.requests) == 1  # woken by the signup, not by the 30 s poll
        assert time.monotonic() - started < 10


def test_parallel_deliverers_never_claim_the_same_row(make_app):
    app = make_app(WEBHOOK_URLS="http://127.0.0.1:9/hook")
    for n in range(30):
        sign_up(browser(app), email=f"p{n}@example.com")
    claimed: list[list[int]] = []
    start = threading.Barrier(4)

    def worker() -> None:
        with app.app_context():
            start.wait()
            got = []
            while batch := claim(limit=3):
                got.extend(batch)
            claimed.append(got)

    threads = [threading.Thread(target=worker) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    every = [row_id for got in claimed for row_id in got]
    assert sorted(every) == [row.id for row in outbox_rows(app)]  # each row exactly once


def test_kit_deliver_sends_the_queue_for_cron(make_app):
    with receiver() as hook:
        app = make_app(WEBHOOK_URLS=hook.url)
        sign_up(browser(app), email="ada@example.com")
        result = app.test_cli_runner().invoke(args=["kit", "deliver"])
        assert result.exit_code == 0, result.output
        assert "delivered 1; 0 waiting" in result.output
    assert len(hook.requests) == 1


def test_a_broken_row_is_retried_later_and_does_not_stall_the_others(make_app):
    with receiver() as hook:
        app = make_app(WEBHOOK_URLS=hook.url)
        with app.app_context():
            db.session.add(Outbox(kind="webhook", event="x", target=hook.url, payload="not json"))
            db.session.commit()
        sign_up(browser(app), email="ada@example.com")
        assert deliver(app) == 1
    broken, sent = outbox_rows(app)
    assert (broken.status, broken.attempts) == ("pending", 1)
    assert "JSONDecodeError" in broken.last_error
    assert sent.status == "done" and len(hook.requests) == 1


# --- a signup does only the work that is configured ----------------------------------------


def test_a_signup_with_nothing_to_send_wakes_no_deliverer(make_app):
    app = make_app(OUTBOX_WORKER=True, OUTBOX_POLL_SECONDS=3600)
    woken = []
    app.extensions["outbox"].wake = lambda: woken.append(1)
    assert sign_up(browser(app), email="quiet@example.com").status_code == 302
    assert woken == []
    with_mail = make_app(OUTBOX_WORKER=True, OUTBOX_POLL_SECONDS=3600, MAIL_URL="smtp://x:25",
                         MAIL_FROM="hi@example.com")  # fmt: skip
    with_mail.extensions["outbox"].wake = lambda: woken.append(1)
    assert sign_up(browser(with_mail), email="mailed@example.com").status_code == 302
    assert woken == [1]
    for started in (app, with_mail):
        started.extensions["outbox"].stop()  # it must not take a later test's rows


def test_an_idle_deliverer_writes_nothing(app):
    """With nothing due, a pass only reads: on SQLite it never takes the write lock."""
    statements = []

    def record(conn, cursor, statement, *args):
        statements.append(statement.split()[0].upper())

    with app.app_context():
        event.listen(db.engine, "before_cursor_execute", record)
        try:
            assert claim() == []
        finally:
            event.remove(db.engine, "before_cursor_execute", record)
    assert statements and "UPDATE" not in statements
