"""The read-only JSON API (``/api``), behind a bearer token."""

from __future__ import annotations

import hmac
from collections.abc import Callable
from dataclasses import asdict
from functools import wraps
from typing import Any

from flask import Blueprint
from flask import current_app
from flask import request

from kit.extensions import registry
from kit.founder import signup_list
from kit.founder.selection import experiment_asked
from kit.founder.selection import min_visitors
from kit.founder.selection import page_or_404
from kit.reports import ideas
from kit.reports import results

bp = Blueprint("api", __name__, url_prefix="/api")

API_SIGNUPS_PER_PAGE = 100


# --- JSON API -------------------------------------------------------------------------------


def token_required(view: Callable) -> Callable:
    @wraps(view)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        token = current_app.config.get("API_TOKEN")
        if not token:
            return {"error": "the API is switched off: set the API_TOKEN environment variable"}, 403
        sent = request.headers.get("Authorization", "").removeprefix("Bearer ").strip()
        if not hmac.compare_digest(sent.encode(), token.encode()):
            return (
                {"error": "send the token as 'Authorization: Bearer <API_TOKEN>'"},
                401,
                {"WWW-Authenticate": "Bearer"},
            )
        return view(*args, **kwargs)

    return wrapper


@bp.get("/pages")
@token_required
def api_pages() -> dict:
    return {"pages": ideas.overview(registry().pages, min_visitors())}


@bp.get("/pages/<slug>")
@token_required
def api_page(slug: str) -> dict:
    page = page_or_404(slug)
    experiment = experiment_asked(page)
    outcome = results.page_results(page, experiment, min_visitors())
    return {
        "page": slug,
        "experiment": experiment,
        "experiments": results.experiments_of(page),
        "status": outcome.status,
        "unattributed_signups": outcome.unattributed,
        "decision": asdict(outcome.decision),
        "visitors_per_day": outcome.visitors_per_day,
        "results": asdict(outcome.report),
        "goals": {goal.name: asdict(goal.report) for goal in outcome.goals},
        "preorders": {
            "results": asdict(outcome.preorders.report),
            "variants": [
                {**asdict(arm), "paying_visitors": paying.conversions}
                for arm, paying in zip(
                    outcome.preorders.arms, outcome.preorders.report.arms, strict=True
                )
            ],
            "unattributed": outcome.preorders.unattributed,
        },
        "funnel": [asdict(step) for step in outcome.funnel],
        "daily": [{**asdict(row), "day": row.day.isoformat()} for row in outcome.days],
    }


@bp.get("/pages/<slug>/signups")
@token_required
def api_signups(slug: str) -> dict:
    """A page's signups, newest first, 100 per page: ?page=N, ?confirmed=yes|no, ?q=text."""
    page_or_404(slug)
    confirmed = signup_list.CONFIRMED_FILTER.get(request.args.get("confirmed", ""))
    search = request.args.get("q", "")[:200]
    number = request.args.get("page", 1, type=int)
    listing = signup_list.signup_listing(slug, search, number, API_SIGNUPS_PER_PAGE, confirmed)
    return {
        "page": listing.page,
        "pages": listing.pages,
        "total": listing.total,
        "signups": [
            {key: _json_value(value) for key, value in row._mapping.items()}
            for row in listing.items
        ],
    }


def _json_value(value: Any) -> Any:
    return value.isoformat() if hasattr(value, "isoformat") else value
