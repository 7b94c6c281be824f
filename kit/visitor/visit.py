"""What one request sees of a page: the page, the visitor's anonymous id, their variant, and
whether they count."""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass

from flask import abort
from flask import current_app
from flask import g
from flask import make_response
from flask import render_template
from flask import session

from kit import fastpath
from kit.extensions import registry
from kit.founder.auth import is_founder
from kit.language import text
from kit.models import utcnow
from kit.pages.schema import Content
from kit.pages.schema import Page
from kit.security import network_key
from kit.tracking import exposures
from kit.tracking.assignment import choose_variant
from kit.tracking.networks import NETWORK
from kit.tracking.phases import current_phase
from kit.tracking.phases import shipped
from kit.tracking.traffic import ARRIVAL
from kit.tracking.traffic import device_class
from kit.tracking.traffic import is_ahead_of_a_click
from kit.tracking.traffic import is_bot
from kit.tracking.traffic import referrer_host
from kit.tracking.traffic import utm_tags


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


def load_page(slug: str) -> Page:
    """Return the page or a 404. A page whose file has errors shows them in development and
    answers 503 in production (logged at start): every other page keeps serving."""
    page = registry().get(slug)
    if page is None:
        errors = registry().errors_for(slug)
        if errors and (current_app.debug or current_app.testing):
            abort(make_response(render_template("visitor/page_errors.html", errors=errors), 500))
        if errors:
            abort(503, text("error.being_fixed"))
        abort(404)
    return page


def visitor_id() -> str:
    """The random id in the visitor's cookie, created on first use (no fingerprinting, no IP)."""
    visitor = fastpath.current()[2]
    vid = visitor.get("vid")
    if vid is None:
        vid = visitor["vid"] = secrets.token_urlsafe(16)
        visitor.permanent = True
    return vid


def visitor_key() -> str | None:
    """The anonymous key stored with events: a hash of the random id in the visitor's cookie."""
    vid = fastpath.current()[2].get("vid")
    return key_of(vid) if vid else None


def key_of(vid: str) -> str:
    """The anonymous key of a visitor id (a hash: the id itself is never stored)."""
    return hashlib.sha256(vid.encode()).hexdigest()[:32]


def is_person() -> bool:
    """A person's own visit: not a bot, a link previewer, a script or a HEAD probe, and not a
    page fetched ahead of a click the person may never make (prefetch, prerender)."""
    here = fastpath.current()[1]
    return not is_bot(here.headers.get("User-Agent"), here.method) and not is_ahead_of_a_click(
        here.headers
    )


def counts() -> bool:
    """The request may count in the numbers: a person, and not the founder's browser."""
    return is_person() and not is_founder()


def resolve_visit(page: Page, preview: bool = True) -> Visit:
    """Decide which content this request sees: preview, the shipped winner, bot/control or
    the assigned variant.

    ``preview=False`` ignores ``?variant=``: the visitor's own assignment, for attribution.
    """
    experiment = page.experiment
    here = fastpath.current()[1]
    human = is_person()
    if not human:
        g.no_cookie = True
    if experiment is None:
        founder = human and is_founder()
        return Visit(page, page.content, "", "", counted=human and not founder, founder=founder)
    wanted = here.args.get("variant") if preview else None
    if wanted is not None:
        variant = experiment.variant(wanted)
        if variant is None:
            names = ", ".join(v.name for v in experiment.variants)
            abort(404, f"This page has no variant named {wanted!r}; its variants are: {names}.")
        return Visit(page, variant.content, experiment.key, variant.name, False, preview=True)
    if not experiment.running:  # shipped: everyone sees the winner, link previews included
        winner = experiment.variant(experiment.winner)
        founder = human and is_founder()
        counted = human and not founder
        key = shipped(experiment.key)
        return Visit(page, winner.content, key, winner.name, counted, founder=founder)
    key = current_phase(page)  # its current phase
    if not human:
        control = experiment.control
        return Visit(page, control.content, key, control.name, counted=False)
    name = choose_variant(
        [(v.name, v.weight) for v in experiment.variants], experiment.key, visitor_id()
    )
    founder = is_founder()
    content = experiment.variant(name).content
    return Visit(page, content, key, name, counted=not founder, founder=founder)


def record_exposure(visit: Visit) -> None:
    """Write the visitor's first exposure; repeat views only read the cookie and write nothing."""
    if not visit.counted:
        return
    visitor_id()
    visitor = fastpath.current()[2]
    marker = _seen_marker(visit)
    seen = visitor.get("seen", [])
    if marker in seen:
        return
    # The unique constraint is the backstop when parallel first requests race.
    row = _exposure_row(visit)
    exposures.record(row)
    visitor["seen"] = [*seen[-49:], marker]
    arrival = [row[name] for name in ARRIVAL]
    if any(arrival) and sum(len(value or "") for value in arrival) <= ARRIVAL_CHARACTERS:
        came = list(visitor.get("came", {}).items())[-(ARRIVALS_KEPT - 1) :]
        visitor["came"] = {**dict(came), marker: arrival}


# Where a visit came from is kept in the cookie when it came from somewhere, so that whichever
# request writes the visit's row (the page view's, queued; or a signup or click sent before
# that was written, perhaps to another worker) writes the same source. Bounded, so the cookie
# stays far below the 4 KB browsers keep: the last 2 pages, tags of 300 characters in all.
ARRIVALS_KEPT = 2
ARRIVAL_CHARACTERS = 300


def _seen_marker(visit: Visit) -> str:
    return f"{visit.page.slug}:{visit.experiment}"


def _exposure_row(visit: Visit) -> dict:
    _, here, visitor = fastpath.current()
    came = visitor.get("came", {}).get(_seen_marker(visit))
    if came is not None:
        arrival = dict(zip(ARRIVAL, came, strict=True))
    else:
        referrer = here.referrer
        host = referrer_host(referrer, here.host) if referrer else None
        arrival = {"referrer_host": host, **utm_tags(here.args)}
    return {
        "page": visit.page.slug,
        "experiment": visit.experiment,
        "variant": visit.variant,
        "visitor_key": visitor_key(),
        "first_seen": utcnow(),
        "device": device_class(here.headers.get("User-Agent")),
        **arrival,
        NETWORK: network_key(),
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


def count_click(visit: Visit, goal: str, now: bool = False) -> bool:
    """Record the visitor's click on a goal, counted once, for the variant on record (written
    behind the request, like the page view's exposure, or ``now``); False when the visitor is
    not counted (the founder, a bot, a preview, a browser never shown the page)."""
    if not visit.counted:
        return False
    shown = _seen_marker(visit) in session.get("seen", [])
    row = _exposure_row(visit)
    if not shown and exposures.ensure(row, write=False) is None:
        return False
    slug, key = visit.page.slug, row["visitor_key"]
    click = exposures.click(slug, visit.experiment, key, goal, row if shown else None)
    exposures.record(click, now=now)
    return True
