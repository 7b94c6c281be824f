"""Ideas side by side: every page's headline figures, and the top two compared."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import func
from sqlalchemy import select

from kit.models import DailySource
from kit.models import db
from kit.models import utcnow
from kit.pages.schema import Page
from kit.reports.decision import compare_sentence
from kit.reports.results import page_results
from kit.reports.results import trend
from kit.reports.stats import Arm
from kit.reports.stats import conversion_rate
from kit.reports.stats import rate_ratio
from kit.reports.stats import wilson_interval
from kit.tracking.phases import current_phase


def overview(pages: dict[str, Page], min_visitors: int) -> list[dict[str, Any]]:
    """One line per page: its current experiment's visitors, signups, conversion with its
    interval, the decision (a badge, never a bare "leader"), and the signup trend."""
    lines = []
    today = utcnow().date()
    for slug in sorted(pages):
        page = pages[slug]
        experiment = current_phase(page)
        results = page_results(page, experiment, min_visitors)
        report = results.report
        visitors = sum(arm.visitors for arm in report.arms)
        conversions = sum(arm.conversions for arm in report.arms)
        rows = sum(arm.signups or 0 for arm in report.arms)
        interval = wilson_interval(conversions, visitors)
        lines.append(
            {
                "page": slug,
                "title": page.content.title,
                "experiment": experiment,
                "status": results.status,
                "visitors": visitors,
                "converted": conversions,
                "signups": rows + results.unattributed,
                "rate": conversion_rate(conversions, visitors),
                "rate_low": interval.low if interval else None,
                "rate_high": interval.high if interval else None,
                "winner": report.winner,
                "decision": results.decision,
                "variants": [arm.name for arm in report.arms] if experiment else [],
                "trend": trend(page, today),
                "preorders": results.preorders.preorders,
                "revenue": results.preorders.revenue,
            }
        )
    return lines


@dataclass(frozen=True)
class Idea:
    """One page (an idea) with its current experiment's visitors and converted visitors, every
    variant together."""

    page: Page
    visitors: int
    converted: int
    rate: float | None
    low: float | None
    high: float | None


def ideas(pages: dict[str, Page], source: str | None = None) -> list[Idea]:
    """Every page ranked by conversion (pages without a rate last). ``source``: only visitors
    whose first visit carried ``utm_source=source``, so ideas compare on the same traffic.
    Summed from the kept source counts: every visitor is in exactly one utm_source row."""
    query = (
        select(DailySource.page, DailySource.experiment, func.sum(DailySource.visitors),
               func.sum(DailySource.converted))
        .where(DailySource.dimension == "utm_source")
        .group_by(DailySource.page, DailySource.experiment)
    )  # fmt: skip
    if source is not None:
        query = query.where(DailySource.value == source)
    counts = {
        (page, key): (int(v or 0), int(c or 0)) for page, key, v, c in db.session.execute(query)
    }
    found = []
    for slug, page in pages.items():
        visitors, converted = counts.get((slug, current_phase(page)), (0, 0))
        interval = wilson_interval(converted, visitors)
        found.append(
            Idea(page, visitors, converted, conversion_rate(converted, visitors),
                 interval.low if interval else None, interval.high if interval else None)
        )  # fmt: skip
    return sorted(found, key=lambda idea: (idea.rate is None, -(idea.rate or 0), idea.page.slug))


def top_two_sentence(ranked: list[Idea]) -> str | None:
    """The first two ideas of a ranking compared in one sentence; None with fewer than two."""
    if len(ranked) < 2:
        return None
    first, second = ranked[0], ranked[1]
    ratio = rate_ratio(
        Arm(first.page.slug, first.visitors, first.converted),
        Arm(second.page.slug, second.visitors, second.converted),
    )
    return compare_sentence(first.page.content.title, second.page.content.title, ratio)
