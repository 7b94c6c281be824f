"""The read-only demand report behind a share link (kit/founder/share.py): no login, no
personal data (no address, no name, no leaderboard), not indexed, printable to a clean PDF."""

from __future__ import annotations

from flask import Blueprint
from flask import Response
from flask import abort
from flask import make_response
from flask import render_template

from kit.extensions import registry
from kit.founder import share
from kit.founder.selection import min_visitors
from kit.models import utcnow
from kit.reports import ideas
from kit.reports import results
from kit.reports.card import plain_words
from kit.reports.charts import forest_of
from kit.reports.charts import funnel_of_steps
from kit.reports.decision import running_since
from kit.tracking.phases import current_phase

bp = Blueprint("proof", __name__, url_prefix="/proof")


@bp.get("/<token>")
def show(token: str) -> Response:
    """``token`` is the link's key; named so the access log cuts it (kit/access_log.py)."""
    link = share.find(token)
    if link is None:
        abort(404, "This report link does not exist or was revoked by its owner.")
    now = utcnow()
    if link.page is None:
        ranked, verb = ideas.ideas(registry().pages, None, min_visitors())
        html = render_template(
            "proof/compare.html", ranked=ranked, verb=verb,
            sentence=ideas.top_two_sentence(ranked, verb), now=now,
            payments=any(i.paid or i.page.checkouts for i in ranked),
        )  # fmt: skip
    else:
        page = registry().pages.get(link.page)
        if page is None:  # the page file was removed: nothing left to show
            abort(404, "The page this report was about no longer exists.")
        outcome = results.page_results(page, current_phase(page), min_visitors())
        started, days = running_since((row.day for row in outcome.days), now.date())
        html = render_template(
            "proof/report.html", outcome=outcome, page=page, now=now, started=started,
            days_running=days, funnel=funnel_of_steps(outcome.funnel),
            card=plain_words(outcome.report, outcome.decision, outcome.bars, "sign up",
                             owner=False),
            signups=forest_of(outcome.report, "Visitors who signed up, with 95% intervals",
                             outcome.bar_for("sign up")),
            paid=forest_of(outcome.preorders.report, "Visitors who paid, with 95% intervals",
                          outcome.bar_for("pay")),
        )  # fmt: skip
    response = make_response(html)
    response.headers["X-Robots-Tag"] = "noindex, nofollow"
    response.headers["Referrer-Policy"] = "no-referrer"  # the link stays out of others' logs
    return response
