"""The pre-order button (``/checkout/<page>/<tier>``), the buyer's way back
(``/<page>/paid``) and Stripe's webhook (``POST /webhooks/stripe``); what a payment books is
in kit/tracking/payments.py."""

from __future__ import annotations

import time
from urllib.parse import urlencode
from urllib.parse import urlsplit
from urllib.parse import urlunsplit

from flask import Blueprint
from flask import abort
from flask import current_app
from flask import redirect
from flask import render_template
from flask import request
from flask import url_for
from werkzeug.wrappers import Response

from kit.language import text
from kit.models import db
from kit.pages.schema import Tier
from kit.tracking.payments import CHECKOUT_GOAL
from kit.tracking.payments import book
from kit.tracking.payments import buyer_email
from kit.tracking.payments import read_event
from kit.tracking.payments import reference
from kit.visitor import stripe_signature
from kit.visitor.forms import SignupForm
from kit.visitor.forms import keep_render_time
from kit.visitor.forms import vouch_render_time
from kit.visitor.visit import count_click
from kit.visitor.visit import load_page
from kit.visitor.visit import resolve_visit
from kit.visitor.visit import visitor_key

bp = Blueprint("checkout", __name__)
MAX_EVENT_BYTES = 1024 * 1024


def _tier(tiers: tuple[Tier, ...], key: str) -> Tier | None:
    return next((t for t in tiers if t.checkout_url and t.key == key), None)


@bp.get("/checkout/<slug>/<tier>")
def checkout(slug: str, tier: str) -> Response:
    """Count the click for the visitor's variant, then go to the tier's Payment Link. Both are
    written before the visitor leaves, so the payment always finds them."""
    page = load_page(slug)
    visit = resolve_visit(page)
    target = _tier(visit.content.tiers, tier)
    if target is None:
        abort(404, text("error.no_such_preorder"))
    key = visitor_key() if count_click(visit, CHECKOUT_GOAL + target.key, now=True) else None
    parts = urlsplit(target.checkout_url)
    ours = urlencode({"client_reference_id": reference(key, slug, target)})
    query = f"{parts.query}&{ours}" if parts.query else ours
    return redirect(urlunsplit(parts._replace(query=query)))


@bp.get("/<slug>/paid")
def paid(slug: str) -> str:
    """Where a tier's Payment Link sends the buyer back (its after-payment URL,
    ``/<page>/paid?session_id={CHECKOUT_SESSION_ID}``): thanks, and the page's signup form,
    filled in with the address they paid with when Stripe tells it, so one press puts them on
    the list (by the one signup path) with their share link."""
    page = load_page(slug)
    if not page.checkouts:
        abort(404, text("error.no_preorders"))
    visit = resolve_visit(page)
    email = buyer_email(slug, request.args.get("session_id", ""), visitor_key())
    form = SignupForm.for_page(visit.content.form, formdata=None, data={"email": email or ""})
    if email:
        vouch_render_time(form, slug)
    else:
        keep_render_time(form, slug)
    return render_template(
        "visitor/paid.html", page=page, content=visit.content, form=form, email=email,
        action=url_for("landing.signup", slug=slug), notice="",
    )  # fmt: skip


@bp.post("/webhooks/stripe")
def webhook() -> tuple[dict, int]:
    """Take one Stripe event: 400 and nothing stored unless it is genuine and fresh."""
    secret = current_app.config.get("STRIPE_WEBHOOK_SECRET")
    if not secret:
        current_app.logger.warning("Stripe webhook refused: STRIPE_WEBHOOK_SECRET is not set")
        return {"error": "this site takes no Stripe events: STRIPE_WEBHOOK_SECRET is not set"}, 400
    request.max_content_length = MAX_EVENT_BYTES  # Stripe's events outgrow a form's limit
    payload = request.get_data(cache=False)
    try:
        stripe_signature.verify(
            payload, request.headers.get("Stripe-Signature", ""), secret, time.time()
        )
    except stripe_signature.BadSignature as error:
        current_app.logger.warning("Stripe webhook refused: %s", error)
        return {"error": "the Stripe-Signature header does not check out"}, 400
    event = read_event(payload)
    if event is None:
        return {"error": "not a Stripe event"}, 400
    answer = book(event)
    db.session.commit()
    return answer, 200
