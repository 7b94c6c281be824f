"""Paid pre-orders through Stripe Payment Links: the strongest proof of demand a page can show.

A tier with ``checkout_url`` has a button to ``/checkout/<page>/<tier>``, which counts the
click like a goal (once per visitor and variant) and sends the visitor on to the Payment Link
with ``client_reference_id=<visitor key>_<page>_<tier>`` (an anonymous hash, never an e-mail
or an id). Stripe then calls ``POST /webhooks/stripe`` (kit/visitor/checkout.py): the call is
believed only with a fresh, valid signature (kit/visitor/stripe_signature.py). Here, each
event is acted on once (its id is a key in ``stripe_event``, written in the same transaction as
what it changes, so a retry or a second worker receiving it at the same time changes nothing):

- ``checkout.session.completed`` (paid) or ``checkout.session.async_payment_succeeded``
  stores a pre-order: tier, amount, currency, time, and the page and variant of the visitor
  who clicked (found by their exposure); one per Checkout Session;
- ``charge.refunded`` records how much of that payment went back, whatever the order the
  events come in: a refund of a payment not booked yet is kept, and the payment takes it when
  it comes;
- an event from Stripe's test mode (``livemode`` false: test cards, ``buy.stripe.com/test_``
  links) is kept apart, never a customer;
- a pre-order is dated when the kit received it, not by the time the event claims.

Stripe retries until it gets a 2xx: a duplicate is answered 200; a call that is not genuine
gets 400 and stores nothing. A genuine payment the kit can't book (an amount, currency or id
it can't store) is answered 200 too, and its event's row keeps why: the dashboard lists it.
"""

from __future__ import annotations

import hashlib
import json
import re
from datetime import datetime
from typing import Any

from flask import current_app
from sqlalchemy import literal
from sqlalchemy import select
from sqlalchemy import update

from kit.extensions import registry
from kit.models import Exposure
from kit.models import PreOrder
from kit.models import StripeEvent
from kit.models import db
from kit.models import insert_ignore
from kit.models import utcnow
from kit.money import MAX_AMOUNT
from kit.pages.schema import Tier

REFERENCE_RE = re.compile(r"^([0-9a-f]{32}|none)_([a-z0-9][a-z0-9-]{0,62})_([a-z0-9-]{1,40})$")
CHECKOUT_GOAL = "checkout:"  # a tier's pre-order button, counted as the goal "checkout:<tier>"
PAID_EVENTS = {"checkout.session.completed", "checkout.session.async_payment_succeeded"}
REFUNDED = "charge.refunded"
TEST_MODE = "Stripe test mode (a test card or link): not a customer"
REFUND_FIRST = "a refund of a payment not booked yet"


def reference(key: str | None, slug: str, tier: Tier) -> str:
    """What goes to Stripe as client_reference_id (letters, digits, - and _ only)."""
    return f"{key or 'none'}_{slug}_{tier.key}"


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
    if kind not in PAID_EVENTS and kind != REFUNDED:
        return {"received": True, "ignored": kind[:64]}
    key = event_key(event["id"])
    if not insert_ignore(StripeEvent, id=key, type=kind, received_at=utcnow()):
        db.session.rollback()
        return {"received": True, "duplicate": True}
    try:
        if event.get("livemode") is not True:
            raise Unbookable(TEST_MODE)
        stored = _store_paid(obj, utcnow()) if kind in PAID_EVENTS else _store_refund(key, obj)
    except Unbookable as problem:
        _keep_unbooked(key, kind, obj, str(problem))
        return {"received": True, "stored": False, "problem": str(problem)}
    return {"received": True, "stored": stored}


def _keep_unbooked(key: str, kind: str, obj: dict[str, Any], problem: str) -> None:
    """Keep why a payment was not booked, with what Stripe said of it (no customer data), on
    its event's row: the dashboard lists it and the log says it now."""
    read = ("id", "amount_total", "amount_refunded", "currency", "payment_intent",
            "client_reference_id")  # fmt: skip
    detail = {name: _short(obj.get(name)) for name in read if name in obj}
    page = _attribution(obj.get("client_reference_id"))[0]
    db.session.execute(
        update(StripeEvent)
        .where(StripeEvent.id == key)
        .values(problem=problem, page=page, detail=json.dumps(detail))
    )
    current_app.logger.warning("Stripe %s %s not booked: %s (%s)", kind, key, problem, detail)


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
    session_id, intent = _stripe_id(session.get("id")), session.get("payment_intent")
    if session_id is None:
        raise Unbookable("a Checkout Session id the kit can't store")
    if not (isinstance(currency, str) and re.fullmatch(r"[a-zA-Z]{3}", currency)):
        raise Unbookable("not a currency code")
    if intent is not None and _stripe_id(intent) is None:
        raise Unbookable("a payment id the kit can't store")
    page, tier, key = _attribution(session.get("client_reference_id"))
    visit = _visit(page, key)
    refunded = _refunded_before(intent) if intent is not None else 0
    return insert_ignore(
        PreOrder, checkout_session=session_id, payment_intent=intent, page=page, tier=tier,
        visitor_key=key, amount=amount, currency=currency.upper(), refunded=refunded,
        created_at=when, refunded_at=when if refunded else None, **visit,
    )  # fmt: skip


def _refunded_before(intent: str) -> int:
    """What refunds that came before their payment gave back (the largest running total), and
    those refunds are booked now: they leave the list of payments not booked."""
    early = db.session.execute(
        select(StripeEvent.id, StripeEvent.detail).where(
            StripeEvent.type == REFUNDED, StripeEvent.problem == REFUND_FIRST
        )
    ).all()
    mine = [(key, json.loads(detail or "{}")) for key, detail in early]
    mine = [(key, d) for key, d in mine if d.get("payment_intent") == intent]
    if not mine:
        return 0
    db.session.execute(
        update(StripeEvent).where(StripeEvent.id.in_([key for key, _ in mine])).values(problem=None)
    )
    return max(d.get("amount_refunded") or 0 for _, d in mine)


def _amount(value: Any) -> int:
    """An amount in minor units the kit can store, or ``Unbookable``."""
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= MAX_AMOUNT:
        raise Unbookable("amount out of range")
    return value


def _stripe_id(value: Any) -> str | None:
    """A Stripe id (evt_…, cs_…, pi_…: printable ASCII) the kit can store as it is, or None."""
    ok = isinstance(value, str) and 0 < len(value) <= 255 and value.isascii()
    return value if ok and value.isprintable() else None


def _attribution(ref: Any) -> tuple[str | None, str, str | None]:
    """(page, tier name, visitor key) from client_reference_id; a payment that did not come
    through the kit's button (no or a foreign reference) belongs to no page."""
    match = REFERENCE_RE.match(ref) if isinstance(ref, str) else None
    if match is None:
        return None, "", None
    key, slug, tier = match.groups()
    page = registry().get(slug)
    names = {t.key: t.name for t in page.tiers} if page is not None else {}
    return slug, names.get(tier, tier), None if key == "none" else key


def _visit(slug: str | None, key: str | None) -> dict[str, str | None]:
    """The experiment, variant and UTM tags the visitor was counted with on that page (their
    exposure in the page's current experiment); all None when not counted: unattributed."""
    page = registry().get(slug) if slug is not None else None
    found = None
    if page is not None and key is not None:
        experiment = page.experiment_key
        found = db.session.execute(
            select(literal(experiment).label("experiment"), Exposure.variant,
                   Exposure.utm_source, Exposure.utm_campaign)
            .where(Exposure.page == slug, Exposure.experiment == experiment,
                   Exposure.visitor_key == key)
        ).first()  # fmt: skip
    names = ("experiment", "variant", "utm_source", "utm_campaign")
    return dict(found._mapping) if found is not None else dict.fromkeys(names)


def _store_refund(key: str, charge: dict[str, Any]) -> bool:
    """How much of a pre-order's payment went back (Stripe sends the running total, so an
    older event arriving late changes nothing). A refund of a payment not booked yet is kept
    (``Unbookable``: listed until its payment comes and takes it)."""
    intent = _stripe_id(charge.get("payment_intent"))
    if intent is None:
        raise Unbookable("a refund whose payment id the kit can't store")
    refunded = _amount(charge.get("amount_refunded"))
    if refunded == 0:
        return False
    booked = db.session.scalar(select(PreOrder.id).where(PreOrder.payment_intent == intent))
    if booked is None:
        raise Unbookable(REFUND_FIRST)
    changed = db.session.execute(
        update(PreOrder)
        .where(PreOrder.payment_intent == intent, PreOrder.refunded < refunded)
        .values(refunded=refunded, refunded_at=utcnow())
    )
    return changed.rowcount > 0
