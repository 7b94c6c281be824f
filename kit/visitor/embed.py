"""The embeddable form: ``/embed/<page>`` serves the page's form alone, for a founder whose site
is built elsewhere (Carrd, Webflow, Framer, WordPress): one ``<iframe>`` line on that site.

- Framed only by the sites the page file lists (``embed.origins``, sent as the CSP's
  ``frame-ancestors``; no X-Frame-Options, which has no list). No page lists none: 404.
- Inside another site's frame browsers send no cookies, so the form carries what a cookie
  would: the visit, signed (an anonymous visitor id, the parent site from the Referer, the
  ``utm_*`` the snippet passes). The CSRF token's secret lives in the cookie too, so in its
  place a POST must come from this site's own document, the form in the frame (its
  ``Origin`` header), which a forged post from another site cannot claim; the signed render
  time still stops instant bot posts.
- Each view of the frame is a visitor of the page's pseudo-experiment ``EMBED`` (a key no
  page file can use), so the dashboard shows the embedded form like an experiment of its
  own, views, signups and conversion, and its sources page the parent sites and campaigns.
"""

from __future__ import annotations

import secrets
from typing import Any

from flask import Blueprint
from flask import abort
from flask import current_app
from flask import g
from flask import redirect
from flask import render_template
from flask import request
from flask import url_for
from itsdangerous import BadSignature
from itsdangerous import URLSafeTimedSerializer

from kit.language import text
from kit.models import db
from kit.models import utcnow
from kit.pages.schema import Page
from kit.security import network_key
from kit.tracking import exposures
from kit.tracking.assignment import EMBED
from kit.tracking.networks import NETWORK
from kit.tracking.traffic import device_class
from kit.tracking.traffic import referrer_host
from kit.tracking.traffic import utm_tags
from kit.visitor.forms import BOT
from kit.visitor.forms import HURRIED
from kit.visitor.forms import INVALID
from kit.visitor.forms import SignupForm
from kit.visitor.forms import judge
from kit.visitor.forms import keep_render_time
from kit.visitor.forms import new_signup
from kit.visitor.visit import counts
from kit.visitor.visit import key_of
from kit.visitor.visit import load_page
from kit.waitlist.signup import add_signup

bp = Blueprint("embed", __name__, url_prefix="/embed")


def _embeddable(slug: str) -> Page:
    page = load_page(slug)
    if not page.embed.origins:
        abort(404, text("error.not_embeddable"))  # the founder lists sites under [embed] origins
    g.frame_ancestors = page.embed.origins  # the security headers let these sites frame us
    return page


VISIT_MAX_AGE = 24 * 3600  # a signed visit counts for a day after the form was shown


def _serializer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt="embed-visit")


def _visit_of(page: Page, signed: str) -> dict[str, Any] | None:
    """The signed visit a POST carries, if it is this page's, fresh, and the request counts
    (a person, not the founder): anything else signs up unattributed."""
    try:
        visit = _serializer().loads(signed, max_age=VISIT_MAX_AGE)
    except BadSignature:
        return None
    fine = isinstance(visit, dict) and isinstance(visit.get("id"), str)
    return visit if fine and visit.get("page") == page.slug and counts() else None


def _form(page: Page, **kwargs: Any) -> SignupForm:
    """The page's form without Flask-WTF's CSRF field (see the module's notes)."""
    return SignupForm.for_page(page.content.form, meta={"csrf": False}, **kwargs)


def _render(page: Page, form: SignupForm, visit: str, status: int = 200, notice: str = "") -> Any:
    keep_render_time(form, page.slug)
    html = render_template("visitor/embed.html", page=page, content=page.content, form=form,
                           visit_token=visit, notice=notice, action=request.path)  # fmt: skip
    return html, status, {"Cache-Control": "no-store"}


@bp.get("/<slug>")
def form(slug: str) -> Any:
    """The form alone, counted as a view of the embedded form."""
    page = _embeddable(slug)
    visit = {
        "id": secrets.token_urlsafe(16),
        "page": slug,
        "referrer": referrer_host(request.referrer, request.host),  # the parent site
        "device": device_class(request.user_agent.string),
        **{key: value for key, value in utm_tags(request.args).items() if value},
    }
    if counts():
        exposures.record(_exposure_row(page, visit))
    return _render(page, _form(page, formdata=None), _serializer().dumps(visit))


@bp.post("/<slug>")
def signup(slug: str) -> Any:
    """A signup through the frame: credited to the embedded form and its visit's sources."""
    page = _embeddable(slug)
    if not _from_own_document():
        abort(403, text("error.own_page_only"))
    signed = request.form.get("visit", "")
    visit = _visit_of(page, signed)
    form = _form(page)
    verdict = judge(form, slug)
    if verdict == INVALID:
        return _render(page, form, signed, 422)
    if verdict == BOT:  # answered like a success, nothing stored
        return redirect(url_for("embed.thanks", slug=slug))
    if verdict == HURRIED:
        return _render(page, form, signed, 422, text("form.too_fast"))
    entry = new_signup(page, page.content, form)
    if visit is not None:
        row = _exposure_row(page, visit)
        entry.visitor_key = row["visitor_key"]
        exposure = exposures.ensure(row)
        if exposure is not None:  # None: over its network's cap, unattributed
            entry.experiment = EMBED
            entry.exposure_id, entry.variant = exposure
    add_signup(page, entry)
    db.session.commit()
    return redirect(url_for("embed.thanks", slug=slug))


@bp.get("/<slug>/thanks")
def thanks(slug: str) -> Any:
    """Inside the frame no cookie says who signed up: the same words for everyone (the
    welcome or confirmation mail carries the person's own links)."""
    page = _embeddable(slug)
    return render_template("visitor/embed_thanks.html", page=page, content=page.content)


def _from_own_document() -> bool:
    """The POST comes from a page of this site (the form in the frame), by its Origin."""
    origin = request.headers.get("Origin", "")
    own = {request.host_url.rstrip("/")}
    if current_app.config.get("BASE_URL"):
        own.add(current_app.config["BASE_URL"].rstrip("/"))
    return origin in own


def _exposure_row(page: Page, visit: dict[str, Any]) -> dict[str, Any]:
    """The embedded form's view as an exposure row (the visitor key hashed like a cookie's)."""

    def given(key: str) -> str | None:
        value = visit.get(key)
        return value if isinstance(value, str) else None

    return {
        "page": page.slug,
        "experiment": EMBED,
        "variant": "",
        "visitor_key": key_of(visit["id"]),
        "first_seen": utcnow(),
        "referrer_host": given("referrer"),
        "device": given("device") or "desktop",
        **{key: given(key) for key in utm_tags({})},
        NETWORK: network_key(),
    }
