"""What a founder's request picks: the page, the experiment, the verdict's visitor threshold.

Shared by the dashboard and the API, so both answer an unknown page or experiment alike."""

from __future__ import annotations

from flask import abort
from flask import current_app
from flask import request

from kit.extensions import registry
from kit.pages.schema import Page
from kit.reports import results
from kit.tracking.phases import current_phase


def min_visitors() -> int:
    """Visitors each arm needs before a verdict (``MIN_VISITORS_FOR_VERDICT``)."""
    return current_app.config["MIN_VISITORS_FOR_VERDICT"]


def page_or_404(slug: str) -> Page:
    """The page, or a 404 that names the slug."""
    page = registry().pages.get(slug)
    if page is None:
        abort(404, f"There is no page called {slug!r}.")
    return page


def experiment_asked(page: Page, default: str | None = None) -> str:
    """The experiment asked for (?experiment=KEY), else ``default`` or the one in the page
    file."""
    wanted = request.args.get("experiment")
    if wanted is None:
        return current_phase(page) if default is None else default
    if wanted not in results.experiments_of(page):
        abort(404, f"The page {page.slug!r} has no data for an experiment called {wanted!r}.")
    return wanted
