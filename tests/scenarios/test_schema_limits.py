"""Every limit of the schema is a limit of the input.

The models are walked for every text column with a length; each must have a probe below that
feeds the place its value enters (a page file through ``kit check``, a form, the CLI, a Stripe
event, a header) a value longer than the column holds, and sees it refused or cut before it
reaches the database. A new column without a probe fails ``test_every_column_has_a_probe``.
PostgreSQL refuses an over-long value (a 500 and a lost row); SQLite stores it: both run here.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC
from datetime import datetime

import pytest
from flask import Flask
from sqlalchemy import func
from sqlalchemy import select

from kit.config import ConfigError
from kit.config import from_env
from kit.founder import spend
from kit.models import AdminSession
from kit.models import Outbox
from kit.models import RateLimit
from kit.models import ShareLink
from kit.models import Signup
from kit.models import StripeEvent
from kit.models import db
from kit.models import is_share_code
from kit.models import new_share_code
from kit.pages.schema import tier_key
from kit.pages.validation import parse_page
from kit.reports import digest
from kit.reports.results import CHECKOUT_GOAL
from kit.tracking.assignment import EMBED
from kit.tracking.counters import DIMENSIONS
from kit.tracking.payments import REFERENCE_RE
from kit.tracking.phases import phase_key
from kit.tracking.phases import shipped
from kit.tracking.traffic import device_class
from kit.tracking.traffic import referrer_host
from kit.tracking.traffic import utm_tags
from kit.visitor.visit import key_of
from tests.conftest import browser
from tests.conftest import form_fields
from tests.conftest import sign_up
from tests.delivery.test_outbox import deliver
from tests.founder.test_dashboard import logged_in
from tests.tracking.test_preorders import SECRET
from tests.tracking.test_preorders import SHOP
from tests.tracking.test_preorders import deliver as deliver_event
from tests.tracking.test_preorders import paid
from tests.tracking.test_preorders import refund


def string_columns() -> dict[str, int]:
    """ "table.column" -> its length, for every text column that has one."""
    return {
        f"{table.name}.{column.name}": column.type.length
        for table in db.metadata.tables.values()
        for column in table.columns
        if getattr(column.type, "length", None)
    }


@dataclass
class Kit:
    app: Flask
    pages_dir: object


def refused_in_page_file(data: dict, key: str) -> None:
    """The page file with ``data`` fails ``kit check`` at ``key``."""
    page, errors = parse_page("limits", {"title": "T", "headline": "H", **data})
    assert page is None and any(e.path.startswith(key) for e in errors), errors


def page_name(kit: Kit, n: int) -> None:
    _, errors = parse_page("a" * (n + 1), {"title": "T", "headline": "H"})
    assert errors
    assert REFERENCE_RE.match(f"none_{'a' * (n + 1)}_pro") is None  # a Stripe reference's page


def experiment_key(kit: Kit, n: int) -> None:
    variants = [{"name": "a"}, {"name": "b"}]
    refused_in_page_file({"experiment": {"key": "k" * (n + 1), "variants": variants}}, "experiment")
    assert len(EMBED) <= n
    longest = "k" * n  # the keys its later phases and its shipped period count under
    assert len(phase_key(longest, 10**6)) <= n and len(shipped(longest)) <= n


def variant_name(kit: Kit, n: int) -> None:
    variants = [{"name": "a"}, {"name": "b" * (n + 1)}]
    refused_in_page_file({"experiment": {"key": "k", "variants": variants}}, "experiment")


def goal_name(kit: Kit, n: int) -> None:
    refused_in_page_file({"goals": [{"name": "g" * (n + 1), "label": "Buy"}]}, "goals")
    assert len(CHECKOUT_GOAL + tier_key("t" * 10 * n)) <= n  # a tier's pre-order button


def tier_name(kit: Kit, n: int) -> None:
    tier = {"name": "T" * (n + 1), "price": "$1", "checkout_url": "https://buy.stripe.com/x"}
    refused_in_page_file({"pricing": {"tiers": [tier]}}, "pricing.tiers[0].name")


def visitor_key(kit: Kit, n: int) -> None:
    assert len(key_of("v" * 10 * n)) <= n
    assert REFERENCE_RE.match(f"{'a' * 33}_shop_pro") is None  # a Stripe reference's key


def utm_tag(kit: Kit, n: int) -> None:
    long = "u" * (n + 1)
    assert all(len(v or "") <= n for v in utm_tags(dict.fromkeys(DIMENSIONS, long)).values())
    with pytest.raises(spend.SpendError):
        spend.check(long, "", "2026-11-01", "2026-11-02", "5", "USD")
    with pytest.raises(spend.SpendError):
        spend.check("google", long, "2026-11-01", "2026-11-02", "5", "USD")


def referrer(kit: Kit, n: int) -> None:
    assert len(referrer_host("https://" + "r" * (n + 1) + ".example.com/", "own") or "") <= n


def device(kit: Kit, n: int) -> None:
    agents = ["", "Mozilla/5.0 (iPhone) Mobile", "Mozilla/5.0 (iPad)", "x" * 10 * n]
    assert all(len(device_class(agent)) <= n for agent in agents)


def source_dimension(kit: Kit, n: int) -> None:
    assert all(len(dimension) <= n for dimension in DIMENSIONS)


def source_value(kit: Kit, n: int) -> None:
    """A counter's value is an exposure's tag, referrer host or device: each column is <= n."""
    exposure = db.metadata.tables["exposure"]
    assert all(exposure.c[dimension].type.length <= n for dimension in DIMENSIONS)


def email(kit: Kit, n: int) -> None:
    visitor = browser(kit.app)
    answer = sign_up(visitor, email="a" * 64 + "@" + "b" * (n - 60) + ".com")
    assert answer.status_code == 422 and "too long" in answer.get_data(as_text=True)
    with kit.app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Signup)) == 0
        assert len(f"deleted:{2**63}") <= n  # a removed signup's key


def person_name(kit: Kit, n: int) -> None:
    answer = sign_up(browser(kit.app), email="ada@example.com", name="N" * (n + 1))
    assert answer.status_code == 422


def share_code(kit: Kit, n: int) -> None:
    assert len(new_share_code()) <= n and not is_share_code("s" * (n + 1))


def outbox_row(column: str) -> Callable[[Kit, int], None]:
    """What the kit writes in the outbox, from a whole run: a signup on a double opt-in page
    with mail, webhooks and Buttondown set, its confirmation, a status-link request."""

    def probe(kit: Kit, n: int) -> None:
        app = kit.app
        app.config.update(
            MAIL_URL="smtp://127.0.0.1:9", MAIL_FROM="hi@example.com", OUTBOX_GIVE_UP_HOURS=0,
            WEBHOOK_URLS="https://127.0.0.1:9/in", BUTTONDOWN_API_KEY="bd",
        )  # fmt: skip
        sign_up(browser(app), slug="optin", email="ada@example.com")
        deliver(app)
        with app.app_context():
            values = db.session.scalars(select(getattr(Outbox, column))).all()
        assert len(values) >= 3 and all(len(value) <= n for value in values), values
        if column == "target":
            with pytest.raises(ConfigError):
                from_env({"WEBHOOK_URLS": "https://" + "w" * n})
            hook = {"url": "https://" + "w" * n}
            refused_in_page_file({"waitlist": {"webhooks": [hook]}}, "waitlist.webhooks")

    return probe


def rate_limit_key(kit: Kit, n: int) -> None:
    sign_up(browser(kit.app), email="ada@example.com")
    with kit.app.app_context():
        keys = db.session.scalars(select(RateLimit.key)).all()
    assert keys and all(len(key) <= n for key in keys)


def admin_session(column: str) -> Callable[[Kit, int], None]:
    def probe(kit: Kit, n: int) -> None:
        logged_in(kit.app)
        with kit.app.app_context():
            values = db.session.scalars(select(getattr(AdminSession, column))).all()
        assert values and all(len(value) <= n for value in values)

    return probe


def stripe_id(where: str) -> Callable[[Kit, int], None]:
    """A Stripe event whose id (or its session's, or its payment's) is longer than the column:
    kept as not booked, nothing stored in the column."""

    def probe(kit: Kit, n: int) -> None:
        event = paid(None)
        if where == "event":
            event["id"] = "evt_" + "e" * n
        else:
            event["data"]["object"][where] = "x" * (n + 1)
        status, answer = deliver_event(kit.app.test_client(), event)
        assert status == 200
        with kit.app.app_context():
            keys = db.session.scalars(select(StripeEvent.id)).all()
        assert all(len(key) <= n for key in keys) and keys
        if where != "event":
            assert answer["stored"] is False

    return probe


def stripe_event_type(kit: Kit, n: int) -> None:
    client = kit.app.test_client()
    order = paid(None)
    deliver_event(client, order)
    deliver_event(client, refund(order, 100))
    kind = {**paid(None), "type": "t" * (n + 1)}
    assert deliver_event(client, kind)[0] == 200
    with kit.app.app_context():
        types = db.session.scalars(select(StripeEvent.type)).all()
    assert len(types) == 2 and all(len(value) <= n for value in types)


def stripe_problem(kit: Kit, n: int) -> None:
    client = kit.app.test_client()
    bad = [paid(None, amount=2**40), paid(None, currency="dollars"), paid(None, id="x" * 999),
           paid(None, payment_intent="p" * 999), refund(paid(None), 2**40)]  # fmt: skip
    for event in bad:
        deliver_event(client, event)
    with kit.app.app_context():
        problems = db.session.scalars(select(StripeEvent.problem)).all()
    assert len(problems) == len(bad) and all(len(p) <= n for p in problems), problems


def stripe_page(kit: Kit, n: int) -> None:
    page_name(kit, n)


def currency(kit: Kit, n: int) -> None:
    with pytest.raises(spend.SpendError):
        spend.check("google", "", "2026-11-01", "2026-11-02", "5", "U" * (n + 1))
    status, answer = deliver_event(kit.app.test_client(), paid(None, currency="u" * (n + 1)))
    assert answer["stored"] is False


def share_page(kit: Kit, n: int) -> None:
    """A report link names a page by the form's field: only a page the site has gets one."""
    page_name(kit, n)
    founder = logged_in(kit.app)
    token = form_fields(founder.get("/admin/plain").get_data(as_text=True))["csrf_token"]
    answer = founder.post("/admin/share", data={"csrf_token": token, "page": "p" * (n + 1)})
    assert answer.status_code == 404
    with kit.app.app_context():
        assert db.session.scalar(select(func.count()).select_from(ShareLink)) == 0


def share_id(kit: Kit, n: int) -> None:
    """A link's id is made by the kit; a longer one in a URL finds nothing."""
    founder = logged_in(kit.app)
    token = form_fields(founder.get("/admin/plain").get_data(as_text=True))["csrf_token"]
    assert (
        founder.post("/admin/share", data={"csrf_token": token, "page": "plain"}).status_code == 302
    )
    with kit.app.app_context():
        assert len(db.session.scalar(select(ShareLink.public_id))) <= n
    assert browser(kit.app).get(f"/proof/{'x' * (n + 1)}.{'y' * 22}").status_code == 404
    long_revoke = founder.post(f"/admin/share/{'x' * (n + 1)}/revoke", data={"csrf_token": token})
    assert long_revoke.status_code == 302


def digest_period(kit: Kit, n: int) -> None:
    now = datetime(2100, 12, 31, tzinfo=UTC)
    assert all(len(digest.period(every, now)[0]) <= n for every in digest.EVERY)


PROBES: dict[str, Callable[[Kit, int], None]] = {
    **{f"{table}.page": page_name for table in (
        "exposure", "daily_exposures", "daily_sources", "conversion", "daily_conversions",
        "signup", "goal_click", "waitlist_line", "line_bucket", "pre_order", "ad_spend",
        "experiment_phase")},
    **{f"{table}.experiment": experiment_key for table in (
        "exposure", "daily_exposures", "daily_sources", "conversion", "daily_conversions",
        "signup", "goal_click", "pre_order", "experiment_phase")},
    **{f"{table}.variant": variant_name for table in (
        "exposure", "daily_exposures", "daily_sources", "conversion", "daily_conversions",
        "signup", "goal_click", "pre_order")},
    **{f"{table}.visitor_key": visitor_key for table in (
        "exposure", "signup", "goal_click", "pre_order")},
    **{f"exposure.{tag}": utm_tag for tag in (
        "utm_source", "utm_medium", "utm_campaign", "utm_content", "utm_term")},
    "pre_order.utm_source": utm_tag, "pre_order.utm_campaign": utm_tag,
    "ad_spend.utm_source": utm_tag, "ad_spend.utm_campaign": utm_tag,
    "exposure.referrer_host": referrer, "exposure.device": device,
    "daily_sources.dimension": source_dimension, "daily_sources.value": source_value,
    "signup.email": email, "signup.email_key": email, "signup.name": person_name,
    "signup.share_code": share_code, "goal_click.goal": goal_name, "pre_order.tier": tier_name,
    "outbox.kind": outbox_row("kind"), "outbox.event": outbox_row("event"),
    "outbox.target": outbox_row("target"), "outbox.status": outbox_row("status"),
    "rate_limit.key": rate_limit_key,
    "admin_session.token_hash": admin_session("token_hash"),
    "admin_session.password_marker": admin_session("password_marker"),
    "pre_order.checkout_session": stripe_id("id"),
    "pre_order.payment_intent": stripe_id("payment_intent"),
    "pre_order.currency": currency, "ad_spend.currency": currency,
    "stripe_event.id": stripe_id("event"), "stripe_event.type": stripe_event_type,
    "stripe_event.problem": stripe_problem, "stripe_event.page": stripe_page,
    "digest_run.period": digest_period,
    "share_link.page": share_page, "share_link.public_id": share_id,
}  # fmt: skip


def test_every_column_has_a_probe():
    assert set(PROBES) == set(string_columns())


@pytest.mark.parametrize("column", sorted(string_columns()))
def test_no_value_longer_than_its_column_gets_in(make_app, pages_dir, column):
    (pages_dir / "shop.toml").write_text(SHOP, encoding="utf-8")
    app = make_app(STRIPE_WEBHOOK_SECRET=SECRET)
    PROBES[column](Kit(app, pages_dir), string_columns()[column])
