"""Nothing tells a stranger who is on a double opt-in list: not the answer, the cookie, the
page, the mail count, nor the time the server takes.

Before: a new address got a cookie holding its row id (``"mine":{"dbl":59}``), an existing
one none; answers differed by ~1.8 ms (signup) and ~2.5 ms (status link); ten status-link
requests sent ten mails.
"""

from __future__ import annotations

import json
import statistics
import time

from flask import Flask
from sqlalchemy import func
from sqlalchemy import insert
from sqlalchemy import select

from kit.models import Outbox
from kit.models import Signup
from kit.models import db
from kit.models import utcnow
from tests.conftest import browser
from tests.conftest import form_fields
from tests.delivery.test_outbox import deliver
from tests.servers import smtp_server

SAMPLES = 200
TARGET_MS = 0.5  # the goal; the test allows twice that, bench/membership.py prints the figure


def members(app: Flask, count: int, slug: str = "optin", prefix: str = "m") -> list[str]:
    """``count`` confirmed people on the list, none mailed lately."""
    emails = [f"{prefix}{n}@example.com" for n in range(count)]
    rows = [
        {"page": slug, "email": e, "email_key": e, "confirmed_at": utcnow(), "share_code": e[:16]}
        for e in emails
    ]
    with app.app_context():
        db.session.execute(insert(Signup), rows)
        db.session.commit()
    return emails


def submit(app: Flask, path: str, email: str) -> tuple[float, object]:
    """A new browser loads ``path`` and sends its form; returns (seconds for the POST, answer)."""
    client = browser(app)
    data = {**form_fields(client.get(path).get_data(as_text=True)), "email": email}
    start = time.perf_counter()
    response = client.post(path, data=data)
    return time.perf_counter() - start, (client, response)


def cookie_shape(client, app: Flask) -> dict[str, str]:
    """The visitor cookie's keys and the type of each value (what a stranger could compare)."""
    with client.session_transaction() as values:
        return {key: type(value).__name__ for key, value in values.items()}


def median_gap_ms(app: Flask, path: str, strangers: list[str], known: list[str]) -> float:
    """Median time for addresses on the list minus for new ones, pairs in alternating order."""
    times: dict[str, list[float]] = {"new": [], "known": []}
    for n, (new, old) in enumerate(zip(strangers, known, strict=True)):
        pair = [("new", new), ("known", old)]
        for kind, email in pair if n % 2 else reversed(pair):
            times[kind].append(submit(app, path, email)[0] * 1000)
    return statistics.median(times["known"]) - statistics.median(times["new"])


def mail_app(make_app, **config):
    return make_app(
        MAIL_URL="smtp://127.0.0.1:9", MAIL_FROM="hi@example.com", RATELIMIT_ENABLED=False, **config
    )


def test_new_and_listed_addresses_get_the_same_answer_cookie_and_page(make_app):
    app = mail_app(make_app)
    [confirmed] = members(app, 1)
    _, (pending_browser, _) = submit(app, "/optin", "pending@example.com")
    answers = {}
    for email in ["brand-new@example.com", confirmed, "pending@example.com"]:
        _, (client, response) = submit(app, "/optin", email)
        answers[email] = (
            response.status_code,
            response.headers["Location"],
            sorted(c.split("=")[0] for c in response.headers.getlist("Set-Cookie")),
            cookie_shape(client, app),
            client.get(response.headers["Location"]).get_data(as_text=True),
        )
    assert len(set(map(repr, answers.values()))) == 1, answers


def test_no_cookie_carries_a_row_id(make_app):
    app = make_app()
    _, (client, response) = submit(app, "/plain", "ada@example.com")
    assert response.status_code == 302
    with client.session_transaction() as values:
        mine = values["mine"]
    with app.app_context():
        row = db.session.scalar(select(Signup))
    assert mine == {"plain": row.share_code}
    numbers = [v for v in json.loads(json.dumps(dict(values))).values() if type(v) is int]
    assert numbers == []
    assert "#1" in client.get("/plain/thanks").get_data(as_text=True)


def test_the_owner_hears_of_a_repeat_signup_by_mail_once(make_app):
    with smtp_server() as (url, inbox):
        app = make_app(
            MAIL_URL=url, MAIL_FROM="hi@example.com", RATELIMIT_ENABLED=False,
            CONFIRM_RESEND_MINUTES=10,
        )  # fmt: skip
        [confirmed] = members(app, 1)
        for _ in range(3):
            submit(app, "/optin", confirmed)
        deliver(app)
        assert [m["To"] for m in inbox.messages] == [confirmed]
        assert "/optin/status/" in inbox.messages[0].get_body(("plain",)).get_content()


def test_ten_status_link_requests_send_one_mail(make_app):
    """From ten different browsers (addresses) in a minute: one mail, whatever the client."""
    with smtp_server() as (url, inbox):
        app = make_app(
            MAIL_URL=url, MAIL_FROM="hi@example.com", RATELIMIT_ENABLED=False, PROXY_FIX_HOPS=1
        )
        [person] = members(app, 1, slug="plain")
        for n in range(10):
            client = browser(app)
            client.environ_base["HTTP_X_FORWARDED_FOR"] = f"203.0.113.{n}"
            page = client.get("/plain/status").get_data(as_text=True)
            client.post("/plain/status", data={**form_fields(page), "email": person})
        submit(app, "/plain/status", "stranger@example.com")
        deliver(app)
        assert [m["To"] for m in inbox.messages] == [person]
        assert "/plain/status/" in inbox.messages[0].get_body(("plain",)).get_content()
    with app.app_context():
        left = db.session.scalar(select(func.count()).where(Outbox.target.contains("stranger")))
    assert left == 0  # the stranger's address is not kept once the request was handled


def test_timing_does_not_tell_who_is_on_the_list(make_app):
    """200 new and 200 listed addresses each, through signup and the status-link request.

    A gap over the bound is measured twice more with fresh addresses and the median of the
    three decides: a real difference shows in every round, a stall of this shared machine
    (seen once: -1.006 ms in a full run, -0.25 ms alone) in one. Every receiver is configured
    (webhooks, Slack, Buttondown): a new address once built a webhook event that a listed one
    did not, 2-3 ms more."""
    app = mail_app(
        make_app,
        WEBHOOK_URLS="https://hooks.example.com/in,slack:https://hooks.slack.com/services/T/B/X",
        BUTTONDOWN_API_KEY="bd-test-key",
    )
    listed = members(app, 6 * SAMPLES)
    for kind, path in (("signup", "/optin"), ("status link", "/optin/status")):
        gaps = []
        for round_ in range(3):
            strangers = [f"{kind[:6]}{round_}-{n}@example.com" for n in range(SAMPLES)]
            known, listed = listed[:SAMPLES], listed[SAMPLES:]
            gaps.append(median_gap_ms(app, path, strangers, known))
            if abs(gaps[0]) < 2 * TARGET_MS:
                break
        gap = statistics.median(gaps)
        assert abs(gap) < 2 * TARGET_MS, f"{kind}: listed addresses {gaps} ms"
