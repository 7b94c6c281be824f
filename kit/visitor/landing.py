"""The visitor's side: show a landing page, assign its variant, take a signup, thank them."""

from __future__ import annotations

import time

from flask import Blueprint
from flask import abort
from flask import current_app
from flask import redirect
from flask import render_template
from flask import request
from flask import session
from flask import url_for
from sqlalchemy.exc import SQLAlchemyError
from werkzeug.wrappers import Response

from kit import fastpath
from kit.errors import error_page
from kit.extensions import registry
from kit.language import text
from kit.models import Signup
from kit.models import db
from kit.models import is_share_code
from kit.pages.schema import Page
from kit.pages.share_card import card_name
from kit.urls import absolute_url
from kit.urls import fingerprint
from kit.urls import image_url
from kit.visitor.forms import BOT
from kit.visitor.forms import HURRIED
from kit.visitor.forms import INVALID
from kit.visitor.forms import SignupForm
from kit.visitor.forms import judge
from kit.visitor.forms import keep_render_time
from kit.visitor.forms import new_signup
from kit.visitor.visit import Visit
from kit.visitor.visit import count_click
from kit.visitor.visit import exposure_of
from kit.visitor.visit import load_page
from kit.visitor.visit import record_exposure
from kit.visitor.visit import resolve_visit
from kit.visitor.visit import visitor_key
from kit.waitlist import places
from kit.waitlist.referrals import find_by_share_code
from kit.waitlist.referrals import status_context
from kit.waitlist.signup import ADDED
from kit.waitlist.signup import GONE
from kit.waitlist.signup import LISTED
from kit.waitlist.signup import add_signup

bp = Blueprint("landing", __name__)


def render_page(visit: Visit, form: SignupForm, status: int = 200, notice: str = "") -> tuple:
    """Render the landing page with its form (fresh, or carrying the visitor's input and errors)."""
    keep_render_time(form, visit.page.slug)
    return _page_html(visit, form, notice, social_proof(visit.page)), status


def fresh_page(visit: Visit) -> tuple:
    """The page with an empty form: rendered once and reused (kit/fastpath.py),
    except for the founder, whose page carries the "not counted" banner."""

    def render(slots: bool) -> str:
        form = SignupForm.for_page(visit.content.form, formdata=None)
        if not slots:
            return render_page(visit, form)[0]
        if "csrf_token" in form:
            form.csrf_token.current_token = fastpath.CSRF_SLOT
        form.rendered.data = fastpath.RENDERED_SLOT
        return _page_html(visit, form, "", proof)

    proof = social_proof(visit.page)
    key = (visit.variant, visit.preview, proof)
    return fastpath.page(visit.page, key, render, personal=visit.founder), 200


PROOF_SECONDS = 30


def social_proof(page: Page) -> int | None:
    """The list size to show as "Join N others", once it reaches the page's threshold. Read
    at most every PROOF_SECONDS per process, so a page view sends no SQL for it; the fresh
    page's key includes it, so a new figure renders the page afresh."""
    threshold = page.waitlist.social_proof_from
    if threshold <= 0:
        return None
    kept = current_app.extensions.setdefault("list_sizes", {})  # one entry per page
    now = time.monotonic()
    known = kept.get(page.slug)
    if known is None or now - known[0] >= PROOF_SECONDS:
        known = kept[page.slug] = (now, _list_size(page))
    size = known[1]
    return size if size is not None and size >= threshold else None


def _list_size(page: Page) -> int | None:
    """The list size, or None while the database is away (the page is served without it)."""
    try:
        return places.size(page)
    except SQLAlchemyError:
        db.session.rollback()
        return None


def _page_html(visit: Visit, form: SignupForm, notice: str, proof: int | None) -> str:
    page = visit.page
    goals = {
        goal.name: url_for("landing.goal", slug=page.slug, name=goal.name) for goal in page.goals
    }
    return render_template(
        "visitor/page.html",
        hero_image=image_url(visit.content.hero_image),
        social_image=image_url(visit.content.meta.image or _card(page), external=True),
        page=page,
        content=visit.content,
        visit=visit,
        form=form,
        notice=notice,
        proof=proof,
        goal_urls=goals,
        # A preview's form says so: its signups stay unattributed.
        action=url_for(
            "landing.signup", slug=page.slug, variant=visit.variant if visit.preview else None
        ),
        canonical=visit.content.meta.canonical_url or absolute_url("landing.show", slug=page.slug),
    )


@bp.route("/", methods=["GET", "HEAD"])
def home() -> tuple:
    """The configured home page, served at the site root."""
    return show(current_app.config["HOME_PAGE"])


def _card(page: Page) -> str:
    """The share card ``kit card`` drew for the page, if there is one."""
    name = card_name(page.slug)
    return name if fingerprint(name) is not None else ""


@bp.route("/<slug>", methods=["GET", "HEAD"])
def show(slug: str) -> tuple:
    """Show a landing page in the visitor's variant and record their first exposure."""
    visit = resolve_visit(load_page(slug))
    record_exposure(visit)
    remember_referral(visit)
    return fresh_page(visit)


def remember_referral(visit: Visit) -> None:
    """Keep ``?ref=CODE`` in the signed cookie until signup; checked then, not now (no query)."""
    code = request.args.get("ref")
    if visit.counted and is_share_code(code):
        session["ref"] = {**session.get("ref", {}), visit.page.slug: code}


@bp.post("/<slug>")
def signup(slug: str) -> Response | tuple:
    """Add the visitor to the waitlist, then redirect to the thank-you page (Post/Redirect/Get)."""
    page = load_page(slug)
    visit = resolve_visit(page)
    form = SignupForm.for_page(visit.content.form)
    verdict = judge(form, slug)
    if verdict == INVALID:
        return render_page(visit, form, 422)
    if verdict == BOT:  # answered like a success, nothing stored
        return redirect(url_for("landing.thanks", slug=slug))
    if verdict == HURRIED:
        return render_page(visit, form, 422, text("form.too_fast"))
    entry = new_signup(page, visit.content, form)
    _attribute(entry, visit)  # a preview's visit is not counted: unattributed
    entry.visitor_key = visitor_key()
    referrer = find_by_share_code(slug, session.get("ref", {}).get(slug))
    if referrer is not None and not _own_browser(referrer, entry):
        entry.referred_by_id = referrer.id
    outcome, share_code = add_signup(page, entry)
    db.session.commit()
    if outcome == ADDED and not page.waitlist.double_opt_in:
        session["mine"] = {**session.get("mine", {}), slug: share_code}
    elif outcome == GONE or (
        outcome == LISTED
        and not page.waitlist.double_opt_in
        and session.get("mine", {}).get(slug) != share_code
    ):
        return redirect(url_for("landing.already", slug=slug))
    # Double opt-in: new or already there, the same answer, cookie and page ("check your inbox").
    return redirect(url_for("landing.thanks", slug=slug))


def _own_browser(referrer: Signup, entry: Signup) -> bool:
    """The referrer signed up from this very browser (whatever address it typed then or now):
    by the visitor key both signups carry, or the signup the browser's cookie remembers."""
    same_key = entry.visitor_key is not None and referrer.visitor_key == entry.visitor_key
    return same_key or session.get("mine", {}).get(entry.page) == referrer.share_code


def _attribute(entry: Signup, visit: Visit) -> None:
    """Credit the signup to the variant our own exposure record holds, never to form data.

    Not counted (no exposure, so unattributed): bots, previews, the founder's browser. Once a
    winner is set, signups count in the shipped period, not in the ended test.
    """
    exposure = exposure_of(visit)
    if exposure is not None:
        entry.experiment = visit.experiment
        entry.exposure_id, entry.variant = exposure


@bp.get("/<slug>/thanks")
def thanks(slug: str) -> str:
    """Thank the visitor; only the browser that signed up sees its place in line."""
    page = load_page(slug)
    if page.waitlist.double_opt_in:
        # New or repeated, the same answer: confirm from the inbox before anything is shown.
        return render_template("visitor/check_inbox.html", page=page, content=page.content)
    context = {}
    mine = session.get("mine", {}).get(slug)
    entry = find_by_share_code(slug, mine)  # the browser's own signup
    if entry is not None:
        context = status_context(page, entry)
    return render_template("visitor/thanks.html", page=page, content=page.content, **context)


@bp.get("/<slug>/already")
def already(slug: str) -> str:
    """The neutral answer for an address already on the list: no position, no links."""
    page = load_page(slug)
    return render_template("visitor/already.html", page=page, content=page.content)


@bp.get("/go/<slug>/<name>")
def goal(slug: str, name: str) -> Response | str:
    """Count a click on a configured goal for the visitor's variant, then send them on."""
    page = load_page(slug)
    target = page.goal(name)
    if target is None:
        abort(404)
    visit = resolve_visit(page)
    count_click(visit, name)
    if target.url:
        return redirect(target.url)
    # The most interested visitors of all: ask them to join right here.
    form = SignupForm.for_page(visit.content.form, formdata=None)
    keep_render_time(form, slug)
    return render_template(
        "visitor/coming_soon.html", page=page, content=visit.content, goal=target, form=form,
        notice="", action=url_for("landing.signup", slug=slug),
    )  # fmt: skip


def csrf_error(error: Exception) -> tuple:
    """A missing or expired CSRF token: give the form back with its values, not a bare 400;
    never Flask-WTF's own words ("The CSRF session token is missing.")."""
    page = registry().get((request.view_args or {}).get("slug", ""))
    if request.endpoint == "landing.signup" and page is not None:
        visit = resolve_visit(page)
        form = SignupForm.for_page(visit.content.form)
        notice = text("form.expired")
        return render_page(visit, form, 400, notice)
    return error_page(400, text("error.form_expired"))
