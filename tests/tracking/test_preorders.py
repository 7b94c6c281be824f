"""Paid pre-orders: the tier's button goes through the kit to Stripe, Stripe's signed webhook
puts the pre-order on the visitor's variant, once, and a refund takes its money back out.

Events are signed with Stripe's own code (the ``stripe`` package), so the kit's check is
tested against Stripe's documented scheme, not against itself.
"""

from __future__ import annotations

import csv
import io
import json
import re
import threading
import time
from collections import Counter
from urllib.parse import parse_qs
from urllib.parse import urlsplit

import pytest
import requests
import stripe
from scipy.stats import binomtest
from sqlalchemy import func
from sqlalchemy import select

from kit.models import Exposure
from kit.models import PreOrder
from kit.models import StripeEvent
from kit.models import aware
from kit.models import db
from kit.models import utcnow
from kit.reports.decision import analyse
from kit.reports.stats import Arm
from kit.tracking import payments
from kit.visitor import stripe_signature
from tests.conftest import browser
from tests.conftest import form_fields
from tests.founder.test_dashboard import logged_in
from tests.founder.test_dashboard import text_of
from tests.servers import gunicorn

SECRET = "whsec_test_0123456789abcdef"
SHOP = """
title = "Shop page"
headline = "Headline A"
cta = "Join"

[pricing]
[[pricing.tiers]]
name = "Pro"
price = "$49"
checkout_url = "https://buy.stripe.com/test_pro?locale=en"

[[pricing.tiers]]
name = "Team plan"
price = "$99"
checkout_url = "https://buy.stripe.com/test_team"
checkout_label = "Pre-order Team"

[experiment]
key = "price-1"

[[experiment.variants]]
name = "a"

[[experiment.variants]]
name = "b"
headline = "Headline B"
"""


@pytest.fixture
def shop_app(make_app, pages_dir):
    (pages_dir / "shop.toml").write_text(SHOP, encoding="utf-8")
    return make_app(STRIPE_WEBHOOK_SECRET=SECRET)


def signed(event: dict, secret: str = SECRET, timestamp: int | None = None) -> tuple[bytes, str]:
    """The body and Stripe-Signature header Stripe would send (made by Stripe's library)."""
    body = json.dumps(event)
    header = stripe.WebhookSignature.generate_signature_header(body, secret, timestamp)
    return body.encode(), header


def deliver(client, event: dict, **signing) -> tuple[int, dict]:
    body, header = signed(event, **signing)
    response = client.post(
        "/webhooks/stripe", data=body, headers={"Stripe-Signature": header},
        content_type="application/json",
    )  # fmt: skip
    return response.status_code, response.get_json(silent=True) or {}


_events = iter(range(1, 10**6))


def paid(reference: str | None, amount: int = 4900, currency: str = "usd", **session) -> dict:
    """A ``checkout.session.completed`` event as Stripe sends it (the fields the kit reads)."""
    n = next(_events)
    obj = {
        "id": f"cs_test_{n}", "object": "checkout.session", "amount_total": amount,
        "currency": currency, "payment_status": "paid", "payment_intent": f"pi_test_{n}",
        "client_reference_id": reference, "customer_details": {"email": "buyer@example.com"},
        **session,
    }  # fmt: skip
    return {"id": f"evt_test_{n}", "object": "event", "type": "checkout.session.completed",
            "created": int(time.time()), "livemode": True, "data": {"object": obj}}  # fmt: skip


def refund(order: dict, refunded: int) -> dict:
    obj = order["data"]["object"]
    n = next(_events)
    charge = {"id": f"ch_test_{n}", "object": "charge", "amount": obj["amount_total"],
              "amount_refunded": refunded, "payment_intent": obj["payment_intent"]}  # fmt: skip
    return {"id": f"evt_test_{n}", "object": "event", "type": "charge.refunded",
            "created": int(time.time()), "livemode": True, "data": {"object": charge}}  # fmt: skip


def click_checkout(visitor, tier: str = "pro") -> str:
    """Open the page, press the tier's button: the Payment Link it went to."""
    visitor.get("/shop")
    response = visitor.get(f"/checkout/shop/{tier}")
    assert response.status_code == 302
    return response.headers["Location"]


def reference_of(location: str) -> str:
    return parse_qs(urlsplit(location).query)["client_reference_id"][0]


def visitor_in(app, variant: str):
    """A new browser that was assigned ``variant`` (assignment is random per visitor)."""
    for _ in range(60):
        visitor = browser(app)
        visitor.get("/shop")
        with app.app_context():
            seen = db.session.scalars(select(Exposure.variant).order_by(Exposure.id.desc())).first()
        if seen == variant:
            return visitor
    raise AssertionError(f"no visitor was assigned {variant!r} in 60 tries")


def preorders(app) -> list[PreOrder]:
    with app.app_context():
        return list(db.session.scalars(select(PreOrder).order_by(PreOrder.id)))


# --- the button -------------------------------------------------------------------------------


def test_the_tier_button_goes_through_the_kit_to_the_payment_link_with_an_anonymous_reference(
    shop_app,
):
    visitor = browser(shop_app)
    html = visitor.get("/shop").get_data(as_text=True)
    assert 'href="/checkout/shop/pro"' in html and ">Pre-order<" in html
    assert 'href="/checkout/shop/team-plan"' in html and ">Pre-order Team<" in html
    location = click_checkout(visitor)
    assert location.startswith("https://buy.stripe.com/test_pro?locale=en&client_reference_id=")
    key, slug, tier, signature = reference_of(location).split("_")
    assert (slug, tier) == ("shop", "pro")
    assert re.fullmatch(r"[0-9a-f]{32}", key)  # a hash: no e-mail, no id, no cookie value
    assert re.fullmatch(r"[0-9a-f]{24}", signature)  # so that no payer can write their own
    with shop_app.app_context():
        assert db.session.scalar(select(Exposure.visitor_key)) == key
    # The click counts like a goal, once per visitor.
    visitor.get("/checkout/shop/pro")
    api = (
        shop_app.test_client()
        .get("/api/pages/shop", headers={"Authorization": "Bearer test-api-token"})
        .get_json()
    )
    assert sum(arm["conversions"] for arm in api["goals"]["checkout:pro"]["arms"]) == 1
    page = text_of(logged_in(shop_app).get("/admin/shop"))
    assert "Goal: Pre-order (Pro) (checkout:pro)" in page


def test_an_unknown_tier_or_a_tier_without_checkout_is_a_404(shop_app, pages_dir):
    visitor = browser(shop_app)
    assert visitor.get("/checkout/shop/enterprise").status_code == 404
    assert visitor.get("/checkout/ab/pro").status_code == 404  # "Pro" there is a fake door


# --- the webhook ------------------------------------------------------------------------------


def test_a_signed_payment_is_a_pre_order_on_the_visitors_variant_on_the_dashboard(shop_app):
    buyer = visitor_in(shop_app, "b")
    location = click_checkout(buyer)
    status, answer = deliver(shop_app.test_client(), paid(reference_of(location)))
    assert (status, answer["stored"]) == (200, True)
    [order] = preorders(shop_app)
    where = (order.page, order.experiment, order.variant, order.tier)
    assert where == ("shop", "price-1", "b", "Pro")
    assert (order.amount, order.currency, order.refunded) == (4900, "USD", 0)
    with shop_app.app_context():
        columns = set(PreOrder.__table__.columns.keys())
    assert not columns & {"email", "card", "address", "name"}  # only what the dashboard shows
    page = text_of(logged_in(shop_app).get("/admin/shop"))
    assert "Paid pre-orders" in page
    assert re.search(r"b 1 1 100\.0%", page), page  # visitors, who paid, conversion
    assert "b 1 $49.00 0" in page  # pre-orders, revenue, refunds


def test_a_large_event_is_taken_like_any_other(shop_app):
    """Stripe's events carry much more than the kit reads (line items, metadata): bigger than
    the 64 KB a visitor's form may send."""
    location = click_checkout(browser(shop_app))
    event = paid(reference_of(location), metadata={"note": "x" * 200_000})
    assert deliver(shop_app.test_client(), event) == (200, {"received": True, "stored": True})


def test_a_pre_order_is_priced_against_the_ad_spend_of_the_source_it_came_from(make_app, pages_dir):
    """Two of four visitors from the ads pay: $60 of ads is $30 per pre-order, its interval
    from the paid conversion's (Wilson, 2 of 4)."""
    (pages_dir / "shop.toml").write_text(SHOP, encoding="utf-8")
    app = make_app(STRIPE_WEBHOOK_SECRET=SECRET, MIN_VISITORS_FOR_VERDICT=4)
    for n in range(5):
        visitor = browser(app)
        visitor.get("/shop?utm_source=ads&utm_campaign=launch" if n < 4 else "/shop")
        if n in (0, 1, 4):  # the fifth buyer came without the tag
            deliver(app.test_client(), paid(reference_of(click_checkout(visitor))))
    today = utcnow().date().isoformat()
    founder = logged_in(app)
    token = form_fields(founder.get("/admin/shop/sources").get_data(as_text=True))["csrf_token"]
    spent = {"csrf_token": token, "source": "ads", "first_day": today, "last_day": today,
             "amount": "60", "currency": "USD"}  # fmt: skip
    founder.post("/admin/shop/spend", data=spent)
    interval = binomtest(2, 4).proportion_ci(method="wilson")
    per_preorder = (f"$30.00 (${6000 / (4 * interval.high) / 100:,.2f} to "
                    f"${6000 / (4 * interval.low) / 100:,.2f})")  # fmt: skip
    nobody = f"none yet (at least ${6000 / (4 * wilson_high(0, 4)) / 100:,.2f})"
    page = text_of(founder.get("/admin/shop/sources"))
    row = f"ads {today} to {today} $60.00 4 $15.00 0 {nobody} 0 {nobody} 2 {per_preorder}"
    assert row in page


def wilson_high(k: int, n: int) -> float:
    return binomtest(k, n).proportion_ci(method="wilson").high


def test_the_same_event_twice_is_one_pre_order(shop_app):
    location = click_checkout(browser(shop_app))
    event = paid(reference_of(location))
    client = shop_app.test_client()
    assert deliver(client, event) == (200, {"received": True, "stored": True})
    assert deliver(client, event) == (200, {"received": True, "duplicate": True})
    # Stripe's retry is a new signature over the same event: still one.
    assert deliver(client, event, timestamp=int(time.time()) + 5)[1]["duplicate"]
    # Another event for the same Checkout Session (async_payment_succeeded): still one.
    again = {**event, "id": "evt_other", "type": "checkout.session.async_payment_succeeded"}
    assert deliver(client, again) == (200, {"received": True, "stored": False})
    assert len(preorders(shop_app)) == 1


def test_a_refund_takes_the_money_and_the_conversion_back_out(shop_app):
    buyer = visitor_in(shop_app, "a")
    location = click_checkout(buyer)
    order = paid(reference_of(location), amount=4900)
    client, founder = shop_app.test_client(), logged_in(shop_app)
    deliver(client, order)
    assert "a 1 $49.00 0" in text_of(founder.get("/admin/shop"))
    assert deliver(client, refund(order, 1900))[1]["stored"]  # part of it
    assert "a 1 $30.00 1" in text_of(founder.get("/admin/shop"))
    late = refund(order, 900)  # an older refund event delivered late: changes nothing
    assert deliver(client, late)[1]["stored"] is False
    deliver(client, refund(order, 4900))  # the rest
    page = text_of(founder.get("/admin/shop"))
    assert "a 1 $0.00 1" in page
    assert "a (control) 1 0 0.0%" in page  # no longer a paying visitor
    api = client.get("/api/pages/shop", headers={"Authorization": "Bearer test-api-token"})
    arms = {arm["variant"]: arm for arm in api.get_json()["preorders"]["variants"]}
    assert arms["a"] == {"variant": "a", "preorders": 1, "revenue": {"USD": 0}, "refunds": 1,
                         "refunded": {"USD": 4900}, "paying_visitors": 0}  # fmt: skip


def test_a_pre_order_click_right_after_the_page_keeps_the_visits_campaign(make_app, pages_dir):
    """The button writes the click before the visitor leaves for Stripe; the page view still
    queued in this process goes first, so the exposure keeps its campaign."""
    (pages_dir / "shop.toml").write_text(SHOP, encoding="utf-8")
    app = make_app(STRIPE_WEBHOOK_SECRET=SECRET, EXPOSURE_WRITER=True)
    visitor = browser(app)
    visitor.get("/shop?utm_source=ads&utm_campaign=launch")
    assert visitor.get("/checkout/shop/pro").status_code == 302
    assert app.extensions["exposures"].flush()
    with app.app_context():
        [exposure] = db.session.scalars(select(Exposure)).all()
    assert (exposure.utm_source, exposure.utm_campaign) == ("ads", "launch")


def test_a_refund_that_arrives_before_its_payment_is_still_taken_back(shop_app):
    """Stripe does not promise the order of events: the refund (or both at once) first."""
    buyer = visitor_in(shop_app, "a")
    order = paid(reference_of(click_checkout(buyer)), amount=4900)
    client, founder = shop_app.test_client(), logged_in(shop_app)
    early = deliver(client, refund(order, 4900))[1]
    assert early["stored"] is False and early["problem"] == "a refund of a payment not booked yet"
    # A refund names no page: the overview lists it.
    assert "1 payment could not be booked: a refund of a payment not booked yet" in text_of(
        founder.get("/admin/")
    )
    deliver(client, order)
    [booked] = preorders(shop_app)
    assert (booked.amount, booked.refunded) == (4900, 4900)
    page = text_of(founder.get("/admin/shop"))
    assert "a (control) 1 0 0.0%" in page  # never a paying visitor
    assert "could not be booked" not in text_of(founder.get("/admin/"))  # it found its payment


def test_test_mode_payments_are_kept_apart_from_customers(shop_app):
    buyer = visitor_in(shop_app, "a")
    order = paid(reference_of(click_checkout(buyer)), amount=4900)
    order["livemode"] = False  # a test card on a buy.stripe.com/test_ link
    answer = deliver(shop_app.test_client(), order)[1]
    assert answer["stored"] is False and "test mode" in answer["problem"]
    assert preorders(shop_app) == []
    page = text_of(logged_in(shop_app).get("/admin/shop"))
    assert "1 payment could not be booked: Stripe test mode" in page


def test_a_pre_order_is_dated_when_it_was_received_not_by_the_events_claim(shop_app):
    buyer = visitor_in(shop_app, "a")
    order = paid(reference_of(click_checkout(buyer)))
    order["created"] = 978307200  # 2001-01-01
    deliver(shop_app.test_client(), order)
    [booked] = preorders(shop_app)
    assert aware(booked.created_at).date() == utcnow().date()


@pytest.mark.parametrize(
    "case",
    ["no header", "wrong secret", "stale", "from the future", "body changed", "garbage header",
     "not ascii", "no v1", "not an event"],
)  # fmt: skip
def test_unsigned_forged_or_stale_calls_are_refused_and_store_nothing(shop_app, case):
    location = click_checkout(browser(shop_app))
    event = paid(reference_of(location))
    body, header = signed(event)
    now = int(time.time())
    if case == "wrong secret":
        body, header = signed(event, secret="whsec_someone_else")
    elif case == "stale":  # a captured genuine call, replayed six minutes later
        body, header = signed(event, timestamp=now - 301)
    elif case == "from the future":
        body, header = signed(event, timestamp=now + 301)
    elif case == "body changed":
        body = body.replace(b"4900", b"9900")
    elif case == "garbage header":
        header = "t=abc,v1=,,=="
    elif case == "not ascii":
        header = f"t={now},v1=é{'0' * 63}"
    elif case == "no v1":
        header = header.replace("v1=", "v0=")
    elif case == "not an event":
        body, header = signed(["a list"])  # type: ignore[arg-type]
    headers = {} if case == "no header" else {"Stripe-Signature": header}
    response = shop_app.test_client().post("/webhooks/stripe", data=body, headers=headers)
    assert response.status_code == 400
    assert "Traceback" not in response.get_data(as_text=True)
    assert preorders(shop_app) == []
    with shop_app.app_context():
        assert db.session.scalar(select(func.count()).select_from(StripeEvent)) == 0


def test_without_a_signing_secret_no_event_is_believed(make_app, pages_dir):
    (pages_dir / "shop.toml").write_text(SHOP, encoding="utf-8")
    app = make_app()
    status, answer = deliver(app.test_client(), paid("none_shop_pro"))
    assert status == 400 and "STRIPE_WEBHOOK_SECRET" in answer["error"]
    assert preorders(app) == []


def test_payments_not_through_a_counted_visit_are_kept_apart(shop_app):
    """The founder trying their own checkout: on record, never in a variant's numbers."""
    founder = logged_in(shop_app)
    founder.get("/shop")
    location = founder.get("/checkout/shop/pro").headers["Location"]
    assert reference_of(location).startswith("none_shop_pro_")
    assert deliver(shop_app.test_client(), paid(reference_of(location)))[1]["stored"]
    assert [(o.page, o.variant) for o in preorders(shop_app)] == [("shop", None)]
    page = text_of(founder.get("/admin/shop"))
    assert "1 pre-order on this page came from visitors not counted" in page
    assert not re.search(r"[ab] 1 \$49\.00", page)


def tampered(reference: str, part: int, value: str) -> str:
    """The reference with one of its parts (key, page, tier, signature) replaced."""
    parts = reference.split("_")
    parts[part] = value
    return "_".join(parts)


def test_only_a_reference_this_site_signed_books_a_payment(shop_app):
    """A payer can write any client_reference_id into a Payment Link's URL: another visitor's
    key, another page or tier, a reference of the old unsigned shape, none at all. Each is
    kept apart as unmatched, with the reason; only the reference the button gave is booked."""
    genuine = reference_of(click_checkout(visitor_in(shop_app, "b")))
    other = reference_of(click_checkout(visitor_in(shop_app, "a")))
    client = shop_app.test_client()
    forged = [
        tampered(genuine, 0, other.split("_")[0]),  # another visitor, to move their variant
        tampered(genuine, 1, "plain"),  # another page
        tampered(genuine, 2, "team-plan"),  # another tier
        genuine.rsplit("_", 1)[0],  # unsigned, as the kit used to send it
        tampered(genuine, 3, "0" * 24),
    ]
    for reference in forged:
        answer = deliver(client, paid(reference))[1]
        assert (answer["stored"], answer["problem"]) == (False, payments.FORGED), reference
    answer = deliver(client, paid(None))[1]  # straight from the Payment Link
    assert (answer["stored"], answer["problem"]) == (False, payments.NO_REFERENCE)
    assert preorders(shop_app) == []
    assert deliver(client, paid(genuine))[1]["stored"] is True
    assert [(o.variant, o.tier) for o in preorders(shop_app)] == [("b", "Pro")]
    overview = text_of(logged_in(shop_app).get("/admin/"))
    assert "6 payments could not be booked" in overview
    assert "a reference this site did not sign (5)" in overview


def test_a_reference_signed_before_the_secret_key_changed_still_books(make_app, pages_dir):
    """A buyer who clicked before the founder rotated SECRET_KEY pays after it."""
    (pages_dir / "shop.toml").write_text(SHOP, encoding="utf-8")
    old = make_app(STRIPE_WEBHOOK_SECRET=SECRET, SECRET_KEY="the-old-secret-key-long-enough")
    reference = reference_of(click_checkout(browser(old)))
    new = make_app(
        STRIPE_WEBHOOK_SECRET=SECRET, SECRET_KEY="the-new-secret-key-long-enough",
        SECRET_KEY_FALLBACKS=["the-old-secret-key-long-enough"],
    )  # fmt: skip
    assert deliver(new.test_client(), paid(reference))[1]["stored"] is True
    stranger = make_app(STRIPE_WEBHOOK_SECRET=SECRET, SECRET_KEY="someone-elses-key-long-enough")
    assert deliver(stranger.test_client(), paid(reference))[1]["problem"] == payments.FORGED


def test_a_payment_of_another_amount_or_currency_is_kept_apart(shop_app):
    """A $1 payment on another Payment Link of the account, with a genuine reference, is not
    a $49 Pro pre-order. Tax and discounts change the total, not the subtotal Stripe sends."""
    client = shop_app.test_client()
    reference = reference_of(click_checkout(browser(shop_app)))
    answer = deliver(client, paid(reference, amount=100))[1]
    assert answer["problem"] == "unmatched: $1.00 paid where Pro costs $49.00"
    answer = deliver(client, paid(reference, amount=4900, currency="eur"))[1]
    assert answer["problem"] == "unmatched: €49.00 paid where Pro costs $49.00"
    taxed = paid(reference, amount=5390, amount_subtotal=4900)
    assert deliver(client, taxed)[1]["stored"] is True
    assert [(o.amount, o.tier) for o in preorders(shop_app)] == [(5390, "Pro")]
    page = text_of(logged_in(shop_app).get("/admin/shop"))
    assert "2 payments could not be booked" in page


PRICED = """
title = "Priced"
headline = "H"
cta = "Join"

[pricing]
[[pricing.tiers]]
name = "Pro"
price = "Pay what the beta is worth"
checkout_amount = "45 EUR"
checkout_url = "https://buy.stripe.com/pro"

[experiment]
key = "price-2"

[[experiment.variants]]
name = "a"

[[experiment.variants]]
name = "b"

[[experiment.variants.pricing.tiers]]
name = "Pro"
price = "€59"
checkout_url = "https://buy.stripe.com/pro59"
"""


def test_each_variant_is_held_to_its_own_price(make_app, pages_dir):
    """A price test: b's Pro costs €59, a's €45 (stated by checkout_amount, as its price
    shows no amount). A b visitor's €45 payment is not b's pre-order."""
    (pages_dir / "priced.toml").write_text(PRICED, encoding="utf-8")
    app = make_app(STRIPE_WEBHOOK_SECRET=SECRET)
    client = app.test_client()
    for variant, right, wrong in (("a", 4500, 5900), ("b", 5900, 4500)):
        for _ in range(60):
            visitor = browser(app)
            visitor.get("/priced")
            with app.app_context():
                seen = db.session.scalars(select(Exposure.variant).order_by(Exposure.id.desc()))
                if seen.first() == variant:
                    break
        reference = reference_of(visitor.get("/checkout/priced/pro").headers["Location"])
        assert deliver(client, paid(reference, amount=wrong, currency="eur"))[1]["stored"] is False
        assert deliver(client, paid(reference, amount=right, currency="eur"))[1]["stored"] is True
    assert [(o.variant, o.amount) for o in preorders(app)] == [("a", 4500), ("b", 5900)]


def test_the_doctor_names_pre_order_tiers_whose_amount_it_cant_read(make_app, pages_dir):
    from kit.doctor import diagnose

    free = PRICED.replace('checkout_amount = "45 EUR"\n', "")
    (pages_dir / "priced.toml").write_text(free, encoding="utf-8")
    app = make_app(STRIPE_WEBHOOK_SECRET=SECRET)
    with app.app_context():
        problems = [f for f in diagnose(app) if not f.ok]
    [finding] = [f for f in problems if "can't read one amount" in f.what]
    assert "priced (Pro: 'Pay what the beta is worth')" in finding.what
    assert "checkout_amount" in finding.fix
    (pages_dir / "priced.toml").write_text(PRICED.replace('"45 EUR"', '"forty-five"'), "utf-8")
    from kit.pages.registry import PageRegistry

    errors = PageRegistry(pages_dir, None, auto_reload=False).errors
    assert any("checkout_amount" in str(e) and 'like "49 USD"' in str(e) for e in errors)


def test_an_unpaid_session_waits_for_its_async_payment(shop_app):
    location = click_checkout(browser(shop_app))
    pending = paid(reference_of(location), payment_status="unpaid")
    client = shop_app.test_client()
    assert deliver(client, pending)[1]["stored"] is False
    succeeded = {**pending, "id": "evt_ok", "type": "checkout.session.async_payment_succeeded"}
    succeeded["data"] = {"object": {**pending["data"]["object"], "payment_status": "paid"}}
    assert deliver(client, succeeded)[1]["stored"] is True
    assert len(preorders(shop_app)) == 1


def test_paid_conversion_per_variant_has_the_signups_statistics(shop_app):
    """Visitor -> paid per variant, a visitor paying twice counted once, with Wilson
    intervals that match scipy's; the CSV and `kit stats` carry the same."""
    client = shop_app.test_client()
    seen: Counter[str] = Counter()
    paying: Counter[str] = Counter()
    orders: Counter[str] = Counter()
    for n in range(12):
        visitor = browser(shop_app)
        visitor.get("/shop")
        with shop_app.app_context():
            newest = select(Exposure.variant).order_by(Exposure.id.desc())
            variant = db.session.scalars(newest).first()
        seen[variant] += 1
        if n % 3 == 0:
            paying[variant] += 1
            for _ in range(1 if n else 2):  # the first buyer pre-orders twice
                location = visitor.get("/checkout/shop/pro").headers["Location"]
                deliver(client, paid(reference_of(location)))
                orders[variant] += 1
    api = client.get("/api/pages/shop", headers={"Authorization": "Bearer test-api-token"})
    report = api.get_json()["preorders"]["results"]
    assert [arm["name"] for arm in report["arms"]] == ["a", "b"]
    for arm in report["arms"]:
        assert (arm["conversions"], arm["visitors"]) == (paying[arm["name"]], seen[arm["name"]])
        expected = binomtest(paying[arm["name"]], seen[arm["name"]]).proportion_ci(method="wilson")
        assert arm["rate_interval"]["low"] == pytest.approx(expected.low)
        assert arm["rate_interval"]["high"] == pytest.approx(expected.high)
    founder = logged_in(shop_app)
    table = founder.get("/admin/shop/results.csv").get_data(as_text=True)
    rows = [(r["variant"], r["paying_visitors"], r["preorders"], r["revenue"])
            for r in csv.DictReader(io.StringIO(table))]  # fmt: skip
    assert rows == [
        (v, str(paying[v]), str(orders[v]), f"{orders[v] * 49:.2f} USD" if orders[v] else "")
        for v in ("a", "b")
    ]
    out = shop_app.test_cli_runner().invoke(args=["kit", "stats", "shop"]).output
    for v in ("a", "b"):
        assert f"{v}: {paying[v]} of {seen[v]} visitors paid" in out
        assert f"{orders[v]} pre-orders" in out


def test_the_kits_check_agrees_with_stripes_own():
    """A header made by Stripe's library passes ours, and ours passes Stripe's."""
    body = json.dumps({"id": "evt_1", "type": "x"})
    now = int(time.time())
    theirs = stripe.WebhookSignature.generate_signature_header(body, SECRET, now)
    stripe_signature.verify(body.encode(), theirs, SECRET, now)
    ours = stripe_signature.sign(body.encode(), SECRET, now)
    assert stripe.WebhookSignature.verify_header(body, ours, SECRET, tolerance=300)
    with pytest.raises(stripe_signature.BadSignature, match="stale"):
        stripe_signature.verify(body.encode(), theirs, SECRET, now + 301)
    # Several v1 signatures (Stripe sends two while a secret is being rolled): one must match.
    rolled = f"t={now},v1={'0' * 64},{theirs.split(',')[1]}"
    stripe_signature.verify(body.encode(), rolled, SECRET, now)


# --- a running app, as Stripe reaches it ----------------------------------------------------


def test_retries_and_two_workers_at_once_make_one_pre_order(app, database_url, pages_dir, tmp_path):
    """Gunicorn with two workers; the same signed event sent 8 times at once, then again
    later (a retry): every call answered 200, one pre-order; then its refund: revenue drops."""
    with app.app_context():
        db.drop_all()
    (pages_dir / "shop.toml").write_text(SHOP, encoding="utf-8")
    env = {"WEB_CONCURRENCY": "2", "PAGES_DIR": str(pages_dir), "STRIPE_WEBHOOK_SECRET": SECRET,
           "HOME_PAGE": "plain", "API_TOKEN": "test-api-token"}  # fmt: skip
    with gunicorn(database_url, tmp_path / "gunicorn.log", **env) as base:
        visitor = requests.Session()
        visitor.headers["User-Agent"] = "Mozilla/5.0 (X11; Linux x86_64) Chrome/130.0"
        visitor.get(f"{base}/shop", timeout=5)
        location = visitor.get(f"{base}/checkout/shop/pro", allow_redirects=False, timeout=5)
        body, header = signed(paid(reference_of(location.headers["Location"])))
        start = threading.Barrier(8)
        statuses: list[int] = []

        def send() -> None:
            start.wait()
            answer = requests.post(f"{base}/webhooks/stripe", data=body, timeout=10,
                                   headers={"Stripe-Signature": header})  # fmt: skip
            statuses.append(answer.status_code)

        senders = [threading.Thread(target=send) for _ in range(8)]
        for sender in senders:
            sender.start()
        for sender in senders:
            sender.join()
        retry = requests.post(f"{base}/webhooks/stripe", data=body, timeout=10,
                              headers={"Stripe-Signature": header})  # fmt: skip
        bearer = {"Authorization": "Bearer test-api-token"}
        before = requests.get(f"{base}/api/pages/shop", headers=bearer, timeout=10).json()
        body, header = signed(refund(json.loads(body), 4900))
        refunded = requests.post(f"{base}/webhooks/stripe", data=body, timeout=10,
                                 headers={"Stripe-Signature": header})  # fmt: skip
        after = requests.get(f"{base}/api/pages/shop", headers=bearer, timeout=10).json()
    assert statuses == [200] * 8 and retry.json() == {"received": True, "duplicate": True}
    assert refunded.json() == {"received": True, "stored": True}
    revenue = [
        {arm["variant"]: arm["revenue"] for arm in a["preorders"]["variants"] if arm["revenue"]}
        for a in (before, after)
    ]
    assert list(revenue[0].values()) == [{"USD": 4900}]  # one pre-order, on its variant
    assert list(revenue[1].values()) == [{"USD": 0}]  # refunded in full: revenue drops
    with app.app_context():
        db.session.remove()
        orders = db.session.execute(select(PreOrder.page, PreOrder.variant)).all()
        assert len(orders) == 1 and orders[0].page == "shop" and orders[0].variant in ("a", "b")


def test_the_verdict_speaks_of_visitors_who_paid_not_of_signups():
    one = analyse([Arm("", 40, 3, 1.0)], converted="paid")
    assert one.verdict.startswith("40 visitors, 3 paid: conversion 8% (95% interval 3% to 20%)")
    none_yet = analyse([Arm("a", 150, 0, 1.0), Arm("b", 150, 2, 1.0)], converted="paid")
    assert "until some of the control's visitors have paid" in none_yet.verdict


def dispute(order: dict, status: str = "lost", amount: int | None = None) -> dict:
    obj = order["data"]["object"]
    n = next(_events)
    closed = {"id": f"dp_test_{n}", "object": "dispute", "status": status,
              "amount": obj["amount_total"] if amount is None else amount,
              "payment_intent": obj["payment_intent"]}  # fmt: skip
    return {"id": f"evt_test_{n}", "object": "event", "type": "charge.dispute.closed",
            "created": int(time.time()), "livemode": True, "data": {"object": closed}}  # fmt: skip


def test_a_lost_dispute_takes_the_money_back_like_a_refund(shop_app):
    """Disputes used to be ignored: a buyer who charged back still counted as paying."""
    client = shop_app.test_client()
    kept, lost, early = (paid(reference_of(click_checkout(browser(shop_app)))) for _ in range(3))
    for order in (kept, lost):
        deliver(client, order)
    assert deliver(client, dispute(kept, status="won"))[1]["stored"] is False
    deliver(client, refund(lost, 1000))  # part refunded, then the rest disputed and lost
    assert deliver(client, dispute(lost, amount=3900))[1]["stored"] is True
    assert deliver(client, dispute(early))[1]["problem"] == payments.REFUND_FIRST
    deliver(client, early)  # the payment comes after its lost dispute
    booked = {o.checkout_session: (o.amount, o.refunded) for o in preorders(shop_app)}
    sessions = [o["data"]["object"]["id"] for o in (kept, lost, early)]
    assert [booked[s] for s in sessions] == [(4900, 0), (4900, 4900), (4900, 4900)]
    api = client.get("/api/pages/shop", headers={"Authorization": "Bearer test-api-token"})
    paying = sum(a["paying_visitors"] for a in api.get_json()["preorders"]["variants"])
    assert paying == 1


def test_a_subscriptions_refund_finds_its_pre_order_by_the_invoice(shop_app):
    """A subscription-mode Checkout Session has no payment_intent: its refund used to match
    nothing, so the refunded subscriber counted as paying for good."""
    client = shop_app.test_client()
    order = paid(reference_of(click_checkout(browser(shop_app))), payment_intent=None,
                 mode="subscription", invoice="in_test_1", subscription="sub_test_1")  # fmt: skip
    assert deliver(client, order)[1]["stored"] is True
    charge = refund(order, 4900)
    charge["data"]["object"].update(payment_intent="pi_of_the_invoice", invoice="in_test_1")
    assert deliver(client, charge)[1]["stored"] is True
    [booked] = preorders(shop_app)
    assert (booked.amount, booked.refunded) == (4900, 4900)


@pytest.mark.parametrize(
    ("shown", "charge"),
    [("$49", (4900, "USD")), ("$49 for life", (4900, "USD")), ("From $49", (4900, "USD")),
     ("$99 per year", (9900, "USD")), ("€9/month", (900, "EUR")), ("49€", (4900, "EUR")),
     ("€9,99", (999, "EUR")), ("19.50 CHF", (1950, "CHF")), ("USD 19", (1900, "USD")),
     ("£49 inc VAT", (4900, "GBP")), ("¥1200", (1200, "JPY")), ("10.500 KWD", (10500, "KWD")),
     ("49 per month", None), ("49 for life", None), ("Free", None), ("49", None),
     ("$9 or $90/year", None), ("$49 EUR", None), ("$9.999", None),
     ("R$ 49", (4900, "BRL")), ("R$49,90", (4990, "BRL")), ("NZ$49", (4900, "NZD")),
     ("HK$49", (4900, "HKD")), ("S$49", (4900, "SGD")), ("MX$49", (4900, "MXN")),
     ("C$49", (4900, "CAD")), ("AU$49", (4900, "AUD")), ("XY$49", None), ("XS$49", None),
     ("BR$49", None), ("$٤٩", None), ("49 R$", (4900, "BRL"))],
)  # fmt: skip
def test_the_amount_a_price_states_is_read_or_not_at_all(shown, charge):
    """Words after the amount are not a currency ("49 per month" is not 49 PER), and a price
    that states no single amount with its currency gives none (kit doctor then says so)."""
    from kit.money import price

    assert price(shown) == charge


@pytest.mark.parametrize(
    ("events", "back"),
    [(["dispute 3900", "refund 1000"], 4900), (["refund 1000", "dispute 1000"], 2000),
     (["refund 1000", "dispute 2900", "refund 2000"], 4900),
     (["dispute 2900", "refund 2000", "pay"], 4900), (["refund 2000", "pay", "dispute 2900"], 4900),
     (["refund 3000", "dispute 4900"], 4900)],
)  # fmt: skip
def test_refunds_and_lost_disputes_add_up_in_any_order(shop_app, events, back):
    """A refund's event carries its running total, a dispute its own amount: a refund that
    came after a lost dispute used to be taken as the whole of what went back."""
    client = shop_app.test_client()
    order = paid(reference_of(click_checkout(browser(shop_app))))
    if "pay" not in events:
        deliver(client, order)
    for step in events:
        kind, _, amount = step.partition(" ")
        if kind == "pay":
            sent = order
        elif kind == "refund":
            sent = refund(order, int(amount))
        else:
            sent = dispute(order, amount=int(amount))
        assert deliver(client, sent)[0] == 200
    [booked] = preorders(shop_app)
    assert booked.refunded == back
