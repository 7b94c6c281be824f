"""Paid pre-orders through Stripe Payment Links: the strongest proof of demand a page can show.

A tier with ``checkout_url`` has a button to ``/checkout/<page>/<tier>``, which counts the
click like a goal (once per visitor and variant) and sends the visitor on to the Payment Link
with ``client_reference_id=<visitor key>_<page>_<tier>_<signature>`` (an anonymous hash, never
an e-mail or an id; the signature is an HMAC with the site's secret key, so a payer can't write
a reference of their own). Stripe then calls ``POST /webhooks/stripe``
(kit/visitor/checkout.py): the call is believed only with a fresh, valid signature
(kit/visitor/stripe_signature.py). Here, each
event is acted on once (its id is a key in ``stripe_event``, written in the same transaction as
what it changes, so a retry or a second worker receiving it at the same time changes nothing):

- ``checkout.session.completed`` (paid) or ``checkout.session.async_payment_succeeded``
  stores a pre-order: tier, amount, currency, time, and the page and variant of the visitor
  who clicked (found by their exposure); one per Checkout Session. Only a payment whose
  reference this site signed, for a tier the page has, of the tier's amount and currency
  (``Tier.charge``) is booked; any other is kept apart as unmatched, with the reason;
- ``charge.refunded`` records how much of that payment went back, and
  ``charge.dispute.closed`` with the dispute lost takes its amount back too, whatever the order
  the events come in: one for a payment not booked yet is kept, and the payment takes it when
  it comes; a subscription's payment is found by its invoice;
- an event from Stripe's test mode (``livemode`` false: test cards, ``buy.stripe.com/test_``
  links) is kept apart, never a customer;
- a pre-order is dated when the kit received it, not by the time the event claims.

Stripe retries until it gets a 2xx: a duplicate is answered 200; a call that is not genuine
gets 400 and stores nothing. A genuine payment the kit can't book (an amount, currency or id
it can't store) is answered 200 too, and its event's row keeps why: the dashboard lists it.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import re
from datetime import datetime
from typing import Any

import requests
from flask import current_app
from sqlalchemy import case
from sqlalchemy import literal
from sqlalchemy import select
from sqlalchemy import update

from kit import money
from kit.extensions import registry
from kit.models import Exposure
from kit.models import PreOrder
from kit.models import StripeEvent
from kit.models import db
from kit.models import utcnow
from kit.money import MAX_AMOUNT
from kit.pages.schema import Tier
from kit.tracking.phases import periods_of
from kit.writes import insert_ignore

REFERENCE_RE = re.compile(
    r"((?:[0-9a-f]{32}|none)_([a-z0-9][a-z0-9-]{0,62})_([a-z0-9-]{1,40}))_([0-9a-f]{24})"
)
CHECKOUT_GOAL = "checkout:"  # a tier's pre-order button, counted as the goal "checkout:<tier>"
PAID_EVENTS = {"checkout.session.completed", "checkout.session.async_payment_succeeded"}
REFUNDED = "charge.refunded"
DISPUTE_CLOSED = "charge.dispute.closed"  # a lost dispute takes the money back like a refund
TEST_MODE = "Stripe test mode (a test card or link): not a customer"
REFUND_FIRST = "a refund of a payment not booked yet"
NO_REFERENCE = "unmatched: not through a pre-order button of this site (no reference)"
FORGED = "unmatched: a reference this site did not sign"
NO_TIER = "unmatched: a page or tier this site doesn't have"


def reference(key: str | None, slug: str, tier: Tier) -> str:
    """What goes to Stripe as client_reference_id (letters, digits, - and _ only), signed."""
    signed = f"{key or 'none'}_{slug}_{tier.key}"
    return f"{signed}_{_signature(signed, current_app.config['SECRET_KEY'])}"


def _signature(signed: str, secret: str) -> str:
    digest = hmac.new(secret.encode(), f"stripe-reference:{signed}".encode(), hashlib.sha256)
    return digest.hexdigest()[:24]


def _verified(ref: str) -> re.Match[str] | None:
    """The reference's parts if this site signed it (with its key or a previous one)."""
    match = REFERENCE_RE.fullmatch(ref)
    if match is None:
        return None
    config = current_app.config
    keys = [config["SECRET_KEY"], *(config.get("SECRET_KEY_FALLBACKS") or ())]
    good = any(hmac.compare_digest(_signature(match[1], key), match[4]) for key in keys)
    return match if good else None


SESSION_ID_RE = re.compile(r"cs_(?:test|live)_[A-Za-z0-9]{1,200}", re.ASCII)
STRIPE_TIMEOUT = 5


def buyer_email(slug: str, session_id: str, key: str | None) -> str | None:
    """The address a buyer gave Stripe, for the page they come back to: read from Stripe's API
    with STRIPE_SECRET_KEY, only for a paid Checkout Session whose reference this site signed
    for this page and for this browser's visitor ``key``; None otherwise (no key, an odd id,
    another browser, Stripe away: they type it themselves)."""
    secret = current_app.config.get("STRIPE_SECRET_KEY")
    if not secret or not key or not SESSION_ID_RE.fullmatch(session_id):
        return None
    url = f"{current_app.config['STRIPE_API_URL']}/v1/checkout/sessions/{session_id}"
    try:
        answer = requests.get(url, auth=(secret, ""), timeout=STRIPE_TIMEOUT)
        session = answer.json() if answer.status_code == 200 else {}
    except (requests.RequestException, ValueError):
        return None
    if not isinstance(session, dict):
        return None
    ref = session.get("client_reference_id")
    match = _verified(ref) if isinstance(ref, str) else None
    details = session.get("customer_details")
    email = details.get("email") if isinstance(details, dict) else None
    paid = session.get("payment_status") in ("paid", "no_payment_required")
    ours = match is not None and match[2] == slug and match[1].split("_", 1)[0] == key
    if not ours or not paid or not isinstance(email, str):
        return None
    return email[:254]


class Unbookable(ValueError):
    """A genuine payment event the kit can't book: the message says why, for the founder."""


def event_key(event_id: str) -> str:
    """The event's key in ``stripe_event``: its id, or a hash of an id the column can't hold
    as it is (too long, or with characters it would replace: two such ids stay two keys)."""
    if _stripe_id(event_id) is not None:
        return event_id
    return "sha256:" + hashlib.sha256(event_id.encode("utf-8", "surrogatepass")).hexdigest()


def book(event: dict[str, Any]) -> dict[str, Any]:
    """Act on one genuine event, once (its id is a key of ``stripe_event``, written in the
    caller's transaction): a paid Checkout Session becomes a pre-order, a refund is recorded,
    a payment the kit can't book is kept with the reason; others are ignored. Returns the
    answer for Stripe: always a 2xx, as retrying would meet the same problem, for days."""
    kind, obj = event["type"], event["data"]["object"]
    if kind not in PAID_EVENTS and kind not in (REFUNDED, DISPUTE_CLOSED):
        return {"received": True, "ignored": kind[:64]}
    key = event_key(event["id"])
    if not insert_ignore(StripeEvent, id=key, type=kind, received_at=utcnow()):
        db.session.rollback()
        return {"received": True, "duplicate": True}
    try:
        if event.get("livemode") is not True:
            raise Unbookable(TEST_MODE)
        if kind in PAID_EVENTS:
            stored = _store_paid(obj, utcnow())
        else:
            stored = _store_taken_back(key, kind, obj)
    except Unbookable as problem:
        _keep_unbooked(key, kind, obj, str(problem))
        return {"received": True, "stored": False, "problem": str(problem)}
    return {"received": True, "stored": stored}


def _keep_unbooked(key: str, kind: str, obj: dict[str, Any], problem: str) -> None:
    """Keep why a payment was not booked, with what Stripe said of it (no customer data), on
    its event's row: the dashboard lists it and the log says it now."""
    page = _page_of(obj.get("client_reference_id"))
    detail = _keep_detail(key, obj, problem=problem, page=page)
    current_app.logger.warning("Stripe %s %s not booked: %s (%s)", kind, key, problem, detail)


def _keep_detail(key: str, obj: dict[str, Any], **more: str | None) -> dict[str, Any]:
    """Keep on the event's row what Stripe said of the payment (no customer data), with
    ``more`` of its columns (the problem, the page)."""
    read = ("id", "amount_total", "amount_refunded", "amount", "status", "currency",
            "payment_intent", "invoice", "client_reference_id")  # fmt: skip
    detail = {name: _short(obj.get(name)) for name in read if name in obj}
    db.session.execute(
        update(StripeEvent).where(StripeEvent.id == key).values(detail=json.dumps(detail), **more)
    )
    return detail


def _short(value: Any) -> Any:
    """A value as kept for the founder to read: long text cut, odd types as text."""
    if value is None or isinstance(value, int):  # bools are ints
        return value
    return str(value)[:100]


def read_event(payload: bytes) -> dict[str, Any] | None:
    """The event if it has the shape Stripe documents (an id, a type, data.object)."""
    try:
        event = json.loads(payload)
    except (ValueError, RecursionError):  # RecursionError: nested thousands of levels deep
        return None
    if not isinstance(event, dict):
        return None
    data = event.get("data")
    ok = (
        isinstance(event.get("id"), str) and event["id"] != ""
        and isinstance(event.get("type"), str)
        and isinstance(data, dict) and isinstance(data.get("object"), dict)
    )  # fmt: skip
    return event if ok else None


def _store_paid(session: dict[str, Any], when: datetime) -> bool:
    """A paid Checkout Session -> one pre-order (a second event for the same session adds
    nothing). False when the session is not paid yet; ``Unbookable`` when it can't be stored."""
    if session.get("payment_status") != "paid":
        return False  # a delayed payment method: async_payment_succeeded follows
    amount, currency = _amount(session.get("amount_total")), session.get("currency")
    # A subscription's first payment has no payment id of its own: its invoice's refunds name
    # the invoice, so the invoice id stands in for it.
    intent = session.get("payment_intent") or session.get("invoice")
    session_id = _stripe_id(session.get("id"))
    if session_id is None:
        raise Unbookable("a Checkout Session id the kit can't store")
    if not (isinstance(currency, str) and re.fullmatch(r"[a-zA-Z]{3}", currency)):
        raise Unbookable("not a currency code")
    if intent is not None and _stripe_id(intent) is None:
        raise Unbookable("a payment id the kit can't store")
    page, tier_key, key = _attribution(session.get("client_reference_id"))
    visit = _visit(page, key)
    tier = _match(page, tier_key, visit["variant"], session, amount, currency)
    refunded = min(_refunded_before(intent), amount) if intent is not None else 0
    return insert_ignore(
        PreOrder, checkout_session=session_id, payment_intent=intent, page=page, tier=tier.name,
        visitor_key=key, amount=amount, currency=currency.upper(), refunded=refunded,
        created_at=when, refunded_at=when if refunded else None, **visit,
    )  # fmt: skip


def _refunded_before(intent: str) -> int:
    """What refunds and lost disputes that came before their payment took back; they are
    booked now: they leave the list of payments not booked."""
    mine = list(_taken_back_events((intent,), StripeEvent.problem == REFUND_FIRST))
    if mine:
        db.session.execute(update(StripeEvent).where(StripeEvent.id.in_(mine)).values(problem=None))
    return _taken_back((intent,))


def _amount(value: Any) -> int:
    """An amount in minor units the kit can store, or ``Unbookable``."""
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= MAX_AMOUNT:
        raise Unbookable("amount out of range")
    return value


def _stripe_id(value: Any) -> str | None:
    """A Stripe id (evt_…, cs_…, pi_…: printable ASCII) the kit can store as it is, or None."""
    ok = isinstance(value, str) and 0 < len(value) <= 255 and value.isascii()
    return value if ok and value.isprintable() else None


def _attribution(ref: Any) -> tuple[str, str, str | None]:
    """(page, tier key, visitor key) from a client_reference_id this site signed, or
    ``Unbookable``: a payment straight from the link or with a reference the payer wrote."""
    if not ref:
        raise Unbookable(NO_REFERENCE)
    match = _verified(ref) if isinstance(ref, str) else None
    if match is None:
        raise Unbookable(FORGED)
    slug, tier = match[2], match[3]
    key = match[1].partition("_")[0]
    return slug, tier, None if key == "none" else key


def _page_of(ref: Any) -> str | None:
    """The page a payment's reference names, signed or not (for the founder's list)."""
    match = REFERENCE_RE.fullmatch(ref) if isinstance(ref, str) else None
    return match[2] if match is not None else None


def _match(
    slug: str,
    tier_key: str,
    variant: str | None,
    session: dict[str, Any],
    amount: int,
    currency: str,
) -> Tier:
    """The tier a payment is for, if the page has it and the payment is of its amount and
    currency (the tier in the visitor's variant; any of the page's tiers of that name for a
    visitor not counted); ``Unbookable`` otherwise."""
    page = registry().get(slug)
    if page is None:
        raise Unbookable(NO_TIER)
    contents = dict(page.contents())
    if variant is not None and page.experiment is not None:
        chosen = page.experiment.variant(variant)
        contents = {"": chosen.content} if chosen is not None else contents
    tiers = [t for c in contents.values() for t in c.tiers if t.checkout_url and t.key == tier_key]
    if not tiers:
        raise Unbookable(NO_TIER)
    subtotal = session.get("amount_subtotal")
    charged = subtotal if isinstance(subtotal, int) and not isinstance(subtotal, bool) else amount
    paid = (charged, currency.upper())
    for tier in tiers:
        if tier.charge is None or tier.charge == paid:
            return tier
    expected = " or ".join(sorted({money.text(*t.charge) for t in tiers if t.charge}))
    raise Unbookable(f"unmatched: {money.text(*paid)} paid where {tiers[0].name} costs {expected}")


def _visit(slug: str | None, key: str | None) -> dict[str, str | None]:
    """The experiment, variant and UTM tags the visitor was counted with on that page (their
    exposure in what the page counts under now, else in the latest period they were counted
    in, for a click made before the test ended or its variants changed); all None when not
    counted: unattributed."""
    page = registry().get(slug) if slug is not None else None
    found = None
    if page is not None and key is not None:
        for experiment in periods_of(page):
            found = db.session.execute(
                select(literal(experiment).label("experiment"), Exposure.variant,
                       Exposure.utm_source, Exposure.utm_campaign)
                .where(Exposure.page == slug, Exposure.experiment == experiment,
                       Exposure.visitor_key == key)
            ).first()  # fmt: skip
            if found is not None:
                break
    names = ("experiment", "variant", "utm_source", "utm_campaign")
    return dict(found._mapping) if found is not None else dict.fromkeys(names)


def _payment_ids(obj: dict[str, Any]) -> tuple[str, ...]:
    """The ids a refunded or disputed charge's pre-order may be kept under: its payment's,
    and its invoice's (a subscription's)."""
    ids = (_stripe_id(obj.get("payment_intent")), _stripe_id(obj.get("invoice")))
    return tuple(known for known in ids if known is not None)


def _store_taken_back(key: str, kind: str, obj: dict[str, Any]) -> bool:
    """A refund (Stripe sends its running total) or a dispute the seller lost (its amount)
    takes money back from a pre-order. Each is kept on its event's row, and the pre-order's
    refunded amount is worked out from all of them, so their order does not matter: the
    largest refund total plus the lost disputes, never more than was paid. One for a payment
    not booked yet is kept (``Unbookable``: listed until its payment comes and takes it)."""
    payment = _payment_ids(obj)
    if not payment:
        what = "refund" if kind == REFUNDED else "dispute"
        raise Unbookable(f"a {what} whose payment id the kit can't store")
    _amount(obj.get("amount_refunded" if kind == REFUNDED else "amount"))  # storable
    if kind == DISPUTE_CLOSED and obj.get("status") != "lost":
        return False  # won, or closed with a warning: nothing went back
    mine = PreOrder.payment_intent.in_(payment)
    if db.session.scalar(select(PreOrder.id).where(mine)) is None:
        raise Unbookable(REFUND_FIRST)  # its detail is kept with the problem
    _keep_detail(key, obj)
    total = _taken_back(payment)
    changed = db.session.execute(
        update(PreOrder)
        .where(mine, PreOrder.refunded < total, PreOrder.refunded < PreOrder.amount)
        .values(refunded=case((PreOrder.amount < total, PreOrder.amount), else_=total),
                refunded_at=utcnow())
    )  # fmt: skip
    return changed.rowcount > 0


def _taken_back(payment: tuple[str, ...]) -> int:
    """What the refunds and lost disputes received for a payment took back: the largest
    refund total plus each lost dispute's amount (the caller caps it at what was paid)."""
    events = _taken_back_events(payment).values()
    refunds = [_whole(d.get("amount_refunded")) for kind, d in events if kind == REFUNDED]
    lost = [_whole(d.get("amount")) for kind, d in events
            if kind == DISPUTE_CLOSED and d.get("status") == "lost"]  # fmt: skip
    return max(refunds, default=0) + sum(lost)


def _taken_back_events(payment: tuple[str, ...], *where: Any) -> dict[str, tuple[str, dict]]:
    """The refund and dispute events kept for a payment (their detail names one of its ids),
    by event key: (type, detail)."""
    events: dict[str, tuple[str, dict]] = {}
    for known in payment:
        rows = db.session.execute(
            select(StripeEvent.id, StripeEvent.type, StripeEvent.detail).where(
                StripeEvent.type.in_((REFUNDED, DISPUTE_CLOSED)),
                StripeEvent.detail.contains(known),
                *where,
            )
        )
        for key, kind, detail in rows:
            found = json.loads(detail or "{}")
            if known in _payment_ids(found):
                events[key] = (kind, found)
    return events


def _whole(value: Any) -> int:
    return value if isinstance(value, int) and not isinstance(value, bool) else 0
