"""The founder digest: once per period through the outbox, whatever the number of senders,
with the period's visitors, signups, pre-orders, spend, verdict changes and alarms."""

from __future__ import annotations

import json
import threading
from datetime import UTC
from datetime import datetime
from datetime import time
from datetime import timedelta

import pytest
from sqlalchemy import delete
from sqlalchemy import update

from kit.config import ConfigError
from kit.config import from_env
from kit.delivery.outbox import deliver_due
from kit.models import AdSpend
from kit.models import DailyExposures
from kit.models import DigestRun
from kit.models import Exposure
from kit.models import Outbox
from kit.models import PreOrder
from kit.models import db
from kit.models import utcnow
from kit.reports import digest
from tests.conftest import browser
from tests.conftest import sign_up
from tests.delivery.test_outbox import smtp  # noqa: F401 - the fixture
from tests.servers import body_text

FOUNDER = "founder@example.com"


@pytest.fixture
def digest_app(make_app, smtp):  # noqa: F811
    url, inbox = smtp
    app = make_app(MAIL_URL=url, MAIL_FROM="kit@example.com", DIGEST_TO=FOUNDER,
                   BASE_URL="https://waitlist.example.com")  # fmt: skip
    app.inbox = inbox
    return app


def tomorrow() -> datetime:
    """A moment of tomorrow: the digest then covers today, when the test's data was made."""
    return utcnow() + timedelta(days=1)


def digests(app) -> list:
    return [m for m in app.inbox.messages if m["To"] == FOUNDER]


def send(app, now: datetime) -> bool:
    with app.app_context():
        queued = digest.send_due(now)
        deliver_due()
        return queued


def test_the_digest_tells_the_founder_what_happened_on_each_page(digest_app):
    for n in range(3):
        visitor = browser(digest_app)
        visitor.get("/plain")
        if n < 2:
            sign_up(visitor, email=f"p{n}@example.com")
    today = utcnow().date()
    with digest_app.app_context():
        db.session.add(PreOrder(checkout_session="cs_1", page="plain", tier="Pro", amount=4900,
                                currency="USD", refunded=0, created_at=utcnow(),
                                experiment="", variant=""))  # fmt: skip
        two_days = {"first_day": today, "last_day": today + timedelta(days=1)}
        db.session.add(AdSpend(page="plain", utm_source="google", **two_days, amount=2000,
                               currency="USD"))  # fmt: skip
        db.session.add(Outbox(kind="webhook", event="signup.created", target="https://x.test",
                              payload="{}", status="failed"))  # fmt: skip
        db.session.commit()
    assert send(digest_app, tomorrow()) is True
    [message] = digests(digest_app)
    assert message["Subject"] == (
        f"Waitlist digest {today.isoformat()}: 2 signups, 1 pre-orders — check the dashboard"
    )
    assert message["List-Unsubscribe"] is None  # the founder's own mail: DIGEST_TO turns it off
    text = body_text(message)
    plain = text.split("Plain page (/plain)")[1].split("(/")[0]
    assert "Visitors: 3" in plain and "Signups: 2" in plain
    assert "Paid pre-orders: 1 ($49.00 net of refunds)" in plain
    assert "Ad spend: $10.00" in plain  # $20 over two days, one of them in the digest
    assert "1 e-mail(s), webhook(s) or list update(s) failed for good" in text
    assert "Dashboard: https://waitlist.example.com/admin/" in text
    assert "html" in {part.get_content_subtype() for part in message.walk()}


def test_the_same_period_is_sent_once_and_the_next_one_starts_where_it_ended(digest_app):
    now = datetime.combine(tomorrow().date(), time(6), tzinfo=UTC)  # +3 h stays in the day
    assert send(digest_app, now) is True
    assert send(digest_app, now + timedelta(hours=3)) is False
    assert len(digests(digest_app)) == 1
    assert send(digest_app, now + timedelta(days=1)) is True
    assert len(digests(digest_app)) == 2
    with digest_app.app_context():
        periods = sorted(run.period for run in db.session.query(DigestRun))
    day = now.date()
    assert periods == [f"daily {day - timedelta(days=1)}", f"daily {day}"]


def test_a_changed_verdict_and_a_sample_ratio_alarm_are_called_out(digest_app):
    for _ in range(40):
        browser(digest_app).get("/ab")
    with digest_app.app_context():  # every visitor in variant a: far from the 50/50 split
        db.session.execute(update(Exposure).values(variant="a"))
        db.session.execute(delete(DailyExposures).where(DailyExposures.variant == "b"))
        db.session.execute(update(DailyExposures).values(visitors=40))
        db.session.commit()
        earlier = (tomorrow() - timedelta(days=1)).date() - timedelta(days=1)
        db.session.add(DigestRun(period=f"daily {earlier}", verdicts=json.dumps(
            {"ab": ["collecting", "collecting data — 200 more visitors"]})))  # fmt: skip
        db.session.commit()
    send(digest_app, tomorrow())
    text = body_text(digests(digest_app)[0])
    ab = text.split("(/ab)")[1].split("(/")[0]
    assert "ALARM: sample ratio mismatch" in ab
    assert "(changed; was: collecting data — 200 more visitors)" in ab


def test_two_senders_racing_send_one_digest(make_app, smtp):  # noqa: F811
    """Two processes' deliverers (two apps, two connection pools) claim the same period at
    the same moment: one mail reaches the SMTP server."""
    url, inbox = smtp
    settings = {"MAIL_URL": url, "MAIL_FROM": "kit@example.com", "DIGEST_TO": FOUNDER}
    apps = [make_app(**settings), make_app(**settings)]
    now, start = tomorrow(), threading.Barrier(2)
    queued: list[bool] = []

    def sender(app) -> None:
        with app.app_context():
            start.wait()
            queued.append(digest.send_due(now))
            deliver_due()

    threads = [threading.Thread(target=sender, args=(app,)) for app in apps]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(queued) == [False, True]
    assert len([m for m in inbox.messages if m["To"] == FOUNDER]) == 1


def test_no_digest_without_an_address_or_a_mail_transport(make_app, smtp):  # noqa: F811
    url, inbox = smtp
    for settings in ({"MAIL_URL": url, "MAIL_FROM": "kit@example.com"}, {"DIGEST_TO": FOUNDER}):
        app = make_app(**settings)
        with app.app_context():
            assert digest.send_due(tomorrow()) is False
            assert db.session.query(DigestRun).count() == 0
    result = app.test_cli_runner().invoke(args=["kit", "digest"])
    assert result.exit_code != 0 and "set DIGEST_TO, and MAIL_URL or MAIL_API" in result.output


def test_the_digest_command_sends_it_once_for_a_scheduler(digest_app):
    runner = digest_app.test_cli_runner()
    assert "digest queued; delivered 1" in runner.invoke(args=["kit", "digest"]).output
    assert "already sent for this period" in runner.invoke(args=["kit", "digest"]).output
    assert len(digests(digest_app)) == 1


@pytest.mark.parametrize(
    "every, now, key, start",
    [
        ("daily", datetime(2026, 11, 26, 0, 5, tzinfo=UTC), "daily 2026-11-25", "2026-11-25"),
        ("daily", datetime(2026, 11, 26, 23, 59, tzinfo=UTC), "daily 2026-11-25", "2026-11-25"),
        ("weekly", datetime(2026, 11, 26, 9, tzinfo=UTC), "weekly 2026-11-16", "2026-11-16"),
        ("weekly", datetime(2026, 11, 23, 0, 1, tzinfo=UTC), "weekly 2026-11-16", "2026-11-16"),
    ],
)
def test_periods_are_whole_utc_days_and_monday_weeks(every, now, key, start):
    got_key, got_start, got_end = digest.period(every, now)
    assert (got_key, got_start.date().isoformat()) == (key, start)
    assert got_end - got_start == digest.EVERY[every] and got_end <= now


def test_digest_every_takes_daily_or_weekly():
    assert from_env({"DIGEST_EVERY": "Weekly"})["DIGEST_EVERY"] == "weekly"
    with pytest.raises(ConfigError, match='DIGEST_EVERY.*use "daily" or "weekly"'):
        from_env({"DIGEST_EVERY": "hourly"})


def test_the_digest_counts_what_the_dashboard_counts(make_app, smtp, pages_dir):  # noqa: F811
    """It used to count every row: unconfirmed, bot and founder signups, refunded and
    unattributed pre-orders ("10 pre-orders" where the dashboard said 9 paid), and a refund
    larger than its payment took net revenue below zero."""
    from tests.founder.test_dashboard import logged_in
    from tests.tracking.test_preorders import SECRET
    from tests.tracking.test_preorders import SHOP
    from tests.tracking.test_preorders import click_checkout
    from tests.tracking.test_preorders import deliver
    from tests.tracking.test_preorders import paid
    from tests.tracking.test_preorders import reference_of
    from tests.tracking.test_preorders import refund

    (pages_dir / "shop.toml").write_text(SHOP, encoding="utf-8")
    url, inbox = smtp
    app = make_app(MAIL_URL=url, MAIL_FROM="kit@example.com", DIGEST_TO=FOUNDER,
                   STRIPE_WEBHOOK_SECRET=SECRET)  # fmt: skip
    app.inbox = inbox
    hook = app.test_client()
    orders = []
    for n in range(4):  # four visitors sign up and pay
        visitor = browser(app)
        sign_up(visitor, slug="shop", email=f"v{n}@example.com")
        orders.append(paid(reference_of(click_checkout(visitor))))
        assert deliver(hook, orders[-1])[1]["stored"] is True
    deliver(hook, refund(orders[0], 4900))  # refunded in full: not a paying visitor
    deliver(hook, refund(orders[1], 9900))  # more than was paid: counts as all of it
    founder = logged_in(app)
    founder.get("/shop")
    sign_up(founder, slug="shop", email="me@example.com")  # the founder trying the form
    founder_order = paid(reference_of(founder.get("/checkout/shop/pro").headers["Location"]))
    assert deliver(hook, founder_order)[1]["stored"] is True
    bot = browser(app, "Googlebot/2.1 (+http://www.google.com/bot.html)")
    sign_up(bot, slug="shop", email="crawler@example.com")
    sign_up(browser(app), slug="optin", email="unconfirmed@example.com")
    api = app.test_client().get(
        "/api/pages/shop", headers={"Authorization": "Bearer test-api-token"}
    )
    figures = api.get_json()
    signups = sum(arm["signups"] for arm in figures["results"]["arms"])
    paying = sum(arm["paying_visitors"] for arm in figures["preorders"]["variants"])
    revenue = sum(arm["revenue"].get("USD", 0) for arm in figures["preorders"]["variants"])
    assert (signups, paying, revenue) == (4, 2, 9800)
    assert send(app, tomorrow()) is True
    [message] = digests(app)
    text = body_text(message)
    shop = text.split("Shop page (/shop)")[1].split("(/")[0]
    assert "Signups: 4" in shop
    assert "Paid pre-orders: 2 ($98.00 net of refunds)" in shop
    optin = text.split("Opt-in page (/optin)")[1].split("(/")[0]
    assert "Signups: 0" in optin
