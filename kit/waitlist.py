"""The visitor's side: show a landing page, assign its variant, take a signup, thank them."""

from __future__ import annotations

import hashlib
import secrets
import time
from dataclasses import dataclass
from functools import lru_cache

from flask import Blueprint
from flask import abort
from flask import current_app
from flask import g
from flask import make_response
from flask import redirect
from flask import render_template
from flask import request
from flask import session
from flask import url_for
from itsdangerous import BadSignature
from sqlalchemy import Insert
from sqlalchemy import Row
from sqlalchemy import bindparam
from sqlalchemy import select
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import make_transient_to_detached
from werkzeug.wrappers import Response

from . import conversions
from . import exposures
from . import fastpath
from . import line
from . import notify
from . import outbox
from . import sources
from .assets import image_url
from .auth import is_founder
from .errors import FORM_EXPIRED
from .errors import error_page
from .experiments import choose_variant
from .experiments import device_class
from .experiments import is_bot
from .experiments import referrer_host
from .experiments import utm_tags
from .forms import SignupForm
from .links import absolute_url
from .models import GoalClick
from .models import Signup
from .models import db
from .models import dialect_insert
from .models import insert_ignore
from .models import is_share_code
from .models import utcnow
from .pages import Content
from .pages import Page
from .pages import PageRegistry
from .referrals import find_by_share_code
from .referrals import status_context

bp = Blueprint("waitlist", __name__)


@dataclass(frozen=True)
class Visit:
    """What one request sees of a page, and whether it counts in the statistics."""

    page: Page
    content: Content
    experiment: str  # "" when the page runs no experiment
    variant: str  # "" when the page runs no experiment
    counted: bool
    preview: bool = False
    founder: bool = False  # the founder's own browser: shown the page, never counted


def pages() -> PageRegistry:
    return current_app.extensions["pages"]


BEING_FIXED = "This page is being fixed. Please come back in a few minutes."


def load_page(slug: str) -> Page:
    """Return the page or a 404. A page whose file has errors shows them in development and
    answers 503 in production (logged at start): every other page keeps serving."""
    page = pages().get(slug)
    if page is None:
        errors = pages().errors_for(slug)
        if errors and (current_app.debug or current_app.testing):
            abort(make_response(render_template("page_errors.html", errors=errors), 500))
        if errors:
            abort(503, BEING_FIXED)
        abort(404)
    return page


def visitor_id() -> str:
    """The random id in the visitor's cookie, created on first use (no fingerprinting, no IP)."""
    if "vid" not in session:
        session["vid"] = secrets.token_urlsafe(16)
        session.permanent = True
    return session["vid"]


def visitor_key() -> str | None:
    """The anonymous key stored with events: a hash of the random id in the visitor's cookie."""
    vid = session.get("vid")
    return key_of(vid) if vid else None


def key_of(vid: str) -> str:
    """The anonymous key of a visitor id (a hash: the id itself is never stored)."""
    return hashlib.sha256(vid.encode()).hexdigest()[:32]


def resolve_visit(page: Page, preview: bool = True) -> Visit:
    """Decide which content this request sees: preview, bot/control, winner or assigned variant.

    ``preview=False`` ignores ``?variant=``: the visitor's own assignment, for attribution.
    """
    experiment = page.experiment
    human = not is_bot(request.user_agent.string, request.method)
    if not human:
        g.no_cookie = True
    if experiment is None:
        founder = human and is_founder()
        return Visit(page, page.content, "", "", counted=human and not founder, founder=founder)
    wanted = request.args.get("variant") if preview else None
    if wanted is not None:
        variant = experiment.variant(wanted)
        if variant is None:
            names = ", ".join(v.name for v in experiment.variants)
            abort(404, f"This page has no variant named {wanted!r}; its variants are: {names}.")
        return Visit(page, variant.content, experiment.key, variant.name, False, preview=True)
    if not human:
        control = experiment.control
        return Visit(page, control.content, experiment.key, control.name, counted=False)
    if not experiment.running:
        winner = experiment.variant(experiment.winner)
        return Visit(page, winner.content, experiment.key, winner.name, counted=False)
    name = choose_variant(
        [(v.name, v.weight) for v in experiment.variants], experiment.key, visitor_id()
    )
    founder = is_founder()
    content = experiment.variant(name).content
    return Visit(page, content, experiment.key, name, counted=not founder, founder=founder)


def record_exposure(visit: Visit) -> None:
    """Write the visitor's first exposure; repeat views only read the cookie and write nothing."""
    if not visit.counted:
        return
    visitor_id()
    marker = _seen_marker(visit)
    seen = session.get("seen", [])
    if marker in seen:
        return
    # The unique constraint is the backstop when parallel first requests race.
    exposures.record(_exposure_row(visit))
    session["seen"] = [*seen[-49:], marker]


def _seen_marker(visit: Visit) -> str:
    return f"{visit.page.slug}:{visit.experiment}"


def _exposure_row(visit: Visit) -> dict:
    return {
        "page": visit.page.slug,
        "experiment": visit.experiment,
        "variant": visit.variant,
        "visitor_key": visitor_key(),
        "first_seen": utcnow(),
        "referrer_host": referrer_host(request.referrer, request.host),
        "device": device_class(request.user_agent.string),
        **utm_tags(request.args),
    }


def exposure_of(visit: Visit) -> tuple[int, str] | None:
    """The (id, variant) of this visitor's exposure, if the page was shown to them counted.

    Written now if the writer thread has not got to it yet, so what happens next (a signup, a
    click) is credited the same whatever the timing. A browser that was never shown the page
    (no marker in its cookie and no row: a direct post, cookies blocked) has no exposure.
    """
    if not visit.counted:
        return None
    shown = _seen_marker(visit) in session.get("seen", [])
    return exposures.ensure(_exposure_row(visit), write=shown)


def _seconds_since_render(form: SignupForm, slug: str) -> float | None:
    """Seconds since the form was first shown, from its signed field; None if missing or forged."""
    try:
        value, rendered_at = fastpath.render_time_signer().unsign(
            form.rendered.data or "", return_timestamp=True
        )
    except BadSignature:
        return None
    if value.decode() != slug:
        return None
    return time.time() - rendered_at.timestamp()


def render_page(visit: Visit, form: SignupForm, status: int = 200, notice: str = "") -> tuple:
    """Render the landing page with its form (fresh, or carrying the visitor's input and errors)."""
    keep_render_time(form, visit.page.slug)
    return _page_html(visit, form, notice, social_proof(visit.page)), status


def keep_render_time(form: SignupForm, slug: str) -> None:
    """The form's signed render time: the one it was sent with when valid (a form shown again
    counts from its first showing), else signed now."""
    if _seconds_since_render(form, slug) is None:
        form.rendered.data = fastpath.signed_render_time(slug)


def fresh_page(visit: Visit) -> tuple:
    """The page with an empty form: rendered once and reused (``kit/fastpath.py``), except for
    the founder, whose page carries the "not counted" banner."""

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
        return line.size(page)
    except SQLAlchemyError:
        db.session.rollback()
        return None


def _page_html(visit: Visit, form: SignupForm, notice: str, proof: int | None) -> str:
    page = visit.page
    goals = {
        goal.name: url_for("waitlist.goal", slug=page.slug, name=goal.name) for goal in page.goals
    }
    return render_template(
        "page.html",
        hero_image=image_url(visit.content.hero_image),
        social_image=image_url(visit.content.meta.image, external=True),
        page=page,
        content=visit.content,
        visit=visit,
        form=form,
        notice=notice,
        proof=proof,
        goal_urls=goals,
        action=url_for("waitlist.signup", slug=page.slug),
        canonical=visit.content.meta.canonical_url or absolute_url("waitlist.show", slug=page.slug),
    )


@bp.route("/", methods=["GET", "HEAD"])
def home() -> tuple:
    """The configured home page, served at the site root."""
    return show(current_app.config["HOME_PAGE"])


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
    if not form.validate_on_submit():
        return render_page(visit, form, 422)
    if form.leave_this_empty.data:
        # A bot filled the honeypot: answer like a success, store nothing.
        return redirect(url_for("waitlist.thanks", slug=slug))
    if too_fast(form, slug):
        return render_page(visit, form, 422, TOO_FAST)
    entry = new_signup(page, visit.content, form)
    _attribute(entry, resolve_visit(page, preview=False))
    entry.visitor_key = visitor_key()
    referrer = find_by_share_code(slug, session.get("ref", {}).get(slug))
    if referrer is not None and not _own_browser(referrer, entry):
        entry.referred_by_id = referrer.id
    outcome, share_code = store(page, entry)
    if outcome == ADDED and not page.waitlist.double_opt_in:
        session["mine"] = {**session.get("mine", {}), slug: share_code}
    elif outcome == GONE or (
        outcome == LISTED
        and not page.waitlist.double_opt_in
        and session.get("mine", {}).get(slug) != share_code
    ):
        return redirect(url_for("waitlist.already", slug=slug))
    # Double opt-in: new or already there, the same answer, cookie and page ("check your inbox").
    return redirect(url_for("waitlist.thanks", slug=slug))


ADDED, LISTED, GONE = "added", "listed", "gone"
TOO_FAST = "Almost there: please press the button once more to confirm."


def too_fast(form: SignupForm, slug: str) -> bool:
    """Sent sooner than MIN_SUBMIT_SECONDS after the form was shown (or with its signed render
    time missing or forged): a bot, or a person asked to press once more."""
    elapsed = _seconds_since_render(form, slug)
    minimum = current_app.config["MIN_SUBMIT_SECONDS"]
    return bool(minimum) and (elapsed is None or elapsed < minimum)


def new_signup(page: Page, content: Content, form: SignupForm) -> Signup:
    """The signup a valid form describes, not stored yet."""
    entry = Signup(
        page=page.slug,
        email=form.email.data,
        email_key=form.email.data.lower(),
        name=form.name.data or None if "name" in form else None,
        answer=form.answer.data or None if "answer" in form else None,
        confirmed_at=None if page.waitlist.double_opt_in else utcnow(),
    )
    if "consent" in form:
        entry.consent_text = content.form.consent
        entry.consented_at = utcnow()
    return entry


def store(page: Page, entry: Signup) -> tuple[str, str | None]:
    """Put a new signup on the page's list and commit: ``(ADDED, its share code)``, ``(LISTED,
    the listed signup's share code)`` when the address was on the list already, or ``(GONE,
    None)`` when it was removed in between. With double opt-in the share code is None (it
    goes out by mail only). Commits; the landing page and the embedded form answer."""
    line.ensure(page)  # before this request writes anything: a first build commits
    if page.waitlist.double_opt_in:
        return _store_to_confirm(page, entry)
    return _store(page, entry)


def _store(page: Page, entry: Signup) -> tuple[str, str | None]:
    """Without double opt-in: the new signup is on the list at once, its number written with
    its row. A listed address changes nothing (the counts taken for it are rolled back)."""
    line.number(page, entry)
    filled = _insert_if_new(entry)
    if filled is None:
        db.session.rollback()
        row = db.session.scalar(SIGNUP_OF, {"slug": page.slug, "email_key": entry.email_key})
        return (GONE, None) if row is None else (LISTED, row.share_code)
    row = _as_written(entry, filled)
    confirmed(page, row, numbered=True)
    notify.on_created(page, row)
    share_code = row.share_code  # read before the commit, which expires what the row holds
    db.session.commit()
    outbox.wake()
    return ADDED, share_code


def _store_to_confirm(page: Page, entry: Signup) -> tuple[str, str | None]:
    """With double opt-in: new or already listed, the same work: one insert-or-nothing, one
    read of the row, one update of the list's counts (which changes nothing for a listed
    address), one queued job (mail and webhooks are built at delivery), so the answer's
    timing tells nobody who is on the list."""
    added = _insert_if_new(entry) is not None
    row = db.session.scalar(SIGNUP_OF, {"slug": page.slug, "email_key": entry.email_key})
    if row is None:  # removed in between: as good as already handled
        return GONE, None
    line.waiting(page, row, added)
    # The visitor's first signup, by source; run for a listed address too (it counts nothing).
    visitor = row.exposure_id if added else None
    sources.signed_up(db.session.connection(), visitor, row.id, utcnow().date())
    notify.queue_received(page, row, added)
    db.session.commit()
    outbox.wake()
    return (ADDED if added else LISTED), None


def confirmed(page: Page, entry: Signup, numbered: bool = False) -> None:
    """The signup is on the list now (at signup, or when the e-mail link is followed with
    double opt-in): it takes its place in line (unless ``numbered`` already, with its row),
    counts as its visitor's conversion and credits its referrer. The view called
    ``line.ensure(page)`` before writing anything."""
    if not numbered:
        line.join(page, entry)
    conversions.record(entry, signed_up=numbered)
    if entry.referred_by_id:
        line.credit(page, entry.referred_by_id)


def _insert_if_new(entry: Signup) -> Row | None:
    """Insert the signup unless its address is on the page's list; None when it did not go
    in, else what the INSERT filled in (the id and the columns' defaults)."""
    table = Signup.__table__
    values = {column.key: getattr(entry, column.key) for column in table.columns}
    values = {key: value for key, value in values.items() if value is not None}
    connection = db.session.connection()
    return connection.execute(_new_signup(connection.dialect.name), values).first()


@lru_cache(maxsize=2)
def _new_signup(dialect: str) -> Insert:
    """Built once per database kind: every signup runs it."""
    table = Signup.__table__
    insert = dialect_insert(dialect)(table).on_conflict_do_nothing(
        index_elements=["page", "email_key"]
    )
    return insert.returning(table.c.id, table.c.created_at, table.c.share_code, table.c.referrals)


def _as_written(entry: Signup, filled: Row) -> Signup:
    """The new signup as a row of the session, as the INSERT wrote it, without reading it
    back: the entry's values plus what the INSERT filled in."""
    for column in Signup.__table__.columns:
        setattr(entry, column.key, getattr(entry, column.key))  # unset: None, as written
    for key, value in filled._mapping.items():
        setattr(entry, key, value)
    make_transient_to_detached(entry)
    db.session.add(entry)
    return entry


# Built once: every signup reads its row back.
SIGNUP_OF = select(Signup).where(
    Signup.page == bindparam("slug"), Signup.email_key == bindparam("email_key")
)


def _own_browser(referrer: Signup, entry: Signup) -> bool:
    """The referrer signed up from this very browser (whatever address it typed then or now):
    by the visitor key both signups carry, or the signup the browser's cookie remembers."""
    same_key = entry.visitor_key is not None and referrer.visitor_key == entry.visitor_key
    return same_key or session.get("mine", {}).get(entry.page) == referrer.share_code


def _attribute(entry: Signup, visit: Visit) -> None:
    """Credit the signup to the variant our own exposure record holds, never to form data.

    Not counted (no exposure, so unattributed): bots, previews, the founder's browser, and
    every signup once a winner is set (counting stopped then).
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
        return render_template("check_inbox.html", page=page, content=page.content)
    context = {}
    mine = session.get("mine", {}).get(slug)
    entry = find_by_share_code(slug, mine)  # the browser's own signup
    if entry is not None:
        context = status_context(page, entry)
    return render_template("thanks.html", page=page, content=page.content, **context)


@bp.get("/<slug>/already")
def already(slug: str) -> str:
    """The neutral answer for an address already on the list: no position, no links."""
    page = load_page(slug)
    return render_template("already.html", page=page, content=page.content)


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
        "coming_soon.html", page=page, content=visit.content, goal=target, form=form, notice="",
        action=url_for("waitlist.signup", slug=slug),
    )  # fmt: skip


def count_click(visit: Visit, goal: str) -> bool:
    """Count the visitor's click on a goal once, for the variant on record (commits); False
    when the visitor is not counted (the founder, a bot, a preview, no exposure)."""
    exposure = exposure_of(visit)
    if exposure is None:
        return False
    insert_ignore(
        GoalClick,
        page=visit.page.slug,
        experiment=visit.experiment,
        variant=exposure[1],
        goal=goal,
        visitor_key=visitor_key(),
        created_at=utcnow(),
    )
    db.session.commit()
    return True


def csrf_error(error: Exception) -> tuple:
    """A missing or expired CSRF token: give the form back with its values, not a bare 400;
    never Flask-WTF's own words ("The CSRF session token is missing.")."""
    page = pages().get((request.view_args or {}).get("slug", ""))
    if request.endpoint == "waitlist.signup" and page is not None:
        visit = resolve_visit(page)
        form = SignupForm.for_page(visit.content.form)
        notice = "Your session expired or cookies are blocked. Please press the button again."
        return render_page(visit, form, 400, notice)
    return error_page(400, FORM_EXPIRED)


@bp.app_template_filter("paragraphs")
def paragraphs(text: str) -> list[str]:
    """Split config text into paragraphs at blank lines (each is escaped by the template)."""
    return [part.strip() for part in text.split("\n\n") if part.strip()]
