"""Ideas side by side: every page's headline figures, and the top two compared."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import distinct
from sqlalchemy import func
from sqlalchemy import select

from kit.models import PAID_BY_VISITORS
from kit.models import DailySource
from kit.models import PreOrder
from kit.models import db
from kit.models import utcnow
from kit.pages.schema import Page
from kit.reports import costs
from kit.reports.card import cannot_compare
from kit.reports.card import compare_sentence
from kit.reports.results import page_results
from kit.reports.results import trend
from kit.reports.stats import ALPHA
from kit.reports.stats import Arm
from kit.reports.stats import Interval
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
                "spend": results.spend,
            }
        )
    return lines


@dataclass(frozen=True)
class Idea:
    """One page (an idea) by the variant that stands for it: the winner once chosen, else the
    best so far of its current test (never the blend: a losing variant drags the mix down), or
    its one version. Rates are per visitor, with their 95 % Wilson intervals."""

    page: Page
    variant: str
    chosen: str  # "winner", "best so far" or "one version"
    visitors: int
    signed_up: int  # visitors who signed up (confirmed)
    paid: int  # visitors with a paid pre-order not refunded in full
    revenue: dict[str, int]  # of that variant's pre-orders, net of refunds, per currency
    spend: costs.Summary | None  # the page's ad spend (on the source compared, if one is)

    @property
    def rate(self) -> float | None:
        return conversion_rate(self.signed_up, self.visitors)

    @property
    def interval(self) -> Interval | None:
        return wilson_interval(self.signed_up, self.visitors)

    @property
    def paid_rate(self) -> float | None:
        return conversion_rate(self.paid, self.visitors)

    @property
    def paid_interval(self) -> Interval | None:
        return wilson_interval(self.paid, self.visitors)

    def converted(self, verb: str) -> int:
        return self.paid if verb == "pay" else self.signed_up


def ideas(
    pages: dict[str, Page], source: str | None = None, min_visitors: int = 100
) -> tuple[list[Idea], str]:
    """Every page ranked, with the verb it is ranked on: "pay" once any idea has a paying
    visitor and every idea with visitors takes pre-orders (money is the stronger signal), else
    "sign up"; pages without a rate last.
    ``source``: only visitors whose first visit carried ``utm_source=source``, so ideas compare
    on the same traffic (the kept source counts: every visitor is in one utm_source row)."""
    counts = _counts(source)
    paid, revenue = _paid(source)
    found = []
    for slug, page in pages.items():
        key = current_phase(page)
        arms = {v: c for (p, k, v), c in counts.items() if (p, k) == (slug, key)}
        spend = [row for row in costs.costs(slug, min_visitors)
                 if source is None or row.spend.utm_source == source]  # fmt: skip
        for variant, chosen in _stands_for(page, arms, paid, slug, key):
            visitors, signed_up = arms.get(variant, (0, 0))
            found.append(
                Idea(page, variant, chosen, visitors, signed_up, paid.get((slug, key, variant), 0),
                     revenue.get((slug, key, variant), {}), costs.summary(spend, min_visitors))
            )  # fmt: skip
    # On payments only when every idea with visitors could take one: an idea without a
    # pre-order button has no paid rate to rank on, not a paid rate of 0.
    sells = all(idea.page.checkouts for idea in found if idea.visitors)
    verb = "pay" if sells and any(idea.paid for idea in found) else "sign up"

    def rank(idea: Idea) -> tuple:
        rate = conversion_rate(idea.converted(verb), idea.visitors)
        return (rate is None, -(rate or 0), -(idea.rate or 0), idea.page.slug)

    return sorted(found, key=rank), verb


def _stands_for(
    page: Page, arms: dict[str, tuple[int, int]], paid: dict, slug: str, key: str
) -> list[tuple[str, str]]:
    """The variant that stands for the page, and why."""
    if page.experiment is None:
        return [(next(iter(arms), ""), "one version")]
    if page.experiment.winner:
        return [(page.experiment.winner, "winner")]
    names = [v.name for v in page.experiment.variants]
    any_paid = any(n for (p, k, _), n in paid.items() if (p, k) == (slug, key))

    def score(name: str) -> tuple[float, float]:
        visitors, signed_up = arms.get(name, (0, 0))
        pays = paid.get((slug, key, name), 0)
        rate = conversion_rate(pays if any_paid else signed_up, visitors)
        return (rate if rate is not None else -1.0, -names.index(name))

    return [(max(names, key=score), "best so far")]


def _counts(source: str | None) -> dict[tuple[str, str, str], tuple[int, int]]:
    """Visitors and visitors who signed up, per page, experiment and variant."""
    query = (
        select(DailySource.page, DailySource.experiment, DailySource.variant,
               func.sum(DailySource.visitors), func.sum(DailySource.converted))
        .where(DailySource.dimension == "utm_source")
        .group_by(DailySource.page, DailySource.experiment, DailySource.variant)
    )  # fmt: skip
    if source is not None:
        query = query.where(DailySource.value == source)
    return {
        (page, key, variant): (int(v or 0), int(c or 0))
        for page, key, variant, v, c in db.session.execute(query)
    }


def _paid(source: str | None) -> tuple[dict, dict]:
    """Paying visitors, and revenue net of refunds per currency, per page, experiment and
    variant (counted visitors only, as everywhere)."""
    mine = [PreOrder.variant.is_not(None)]
    if source is not None:
        mine.append(PreOrder.utm_source == source)
    paying = db.session.execute(
        select(PreOrder.page, PreOrder.experiment, PreOrder.variant,
               func.count(distinct(PreOrder.visitor_key)))
        .where(*mine, *PAID_BY_VISITORS)
        .group_by(PreOrder.page, PreOrder.experiment, PreOrder.variant)
    )  # fmt: skip
    money_in = db.session.execute(
        select(PreOrder.page, PreOrder.experiment, PreOrder.variant, PreOrder.currency,
               func.sum(PreOrder.amount - PreOrder.refunded))
        .where(*mine)
        .group_by(PreOrder.page, PreOrder.experiment, PreOrder.variant, PreOrder.currency)
    )  # fmt: skip
    revenue: dict[tuple[str, str, str], dict[str, int]] = {}
    for page, key, variant, currency, net in money_in:
        if net:
            revenue.setdefault((page, key, variant), {})[currency] = int(net)
    return {(p, k, v): int(n) for p, k, v, n in paying}, revenue


def top_two_sentence(ranked: list[Idea], verb: str) -> str | None:
    """The first two ideas of a ranking compared in one sentence; None with fewer than two.
    With more ideas ranked, the interval and p allow for the leader being picked among them."""
    rated = [idea for idea in ranked if idea.visitors > 0]
    if len(ranked) < 2:
        return None
    first, second = ranked[0], ranked[1]
    confidence = 1 - ALPHA / max(1, len(rated) - 1)
    ratio = rate_ratio(
        Arm(first.page.slug, first.visitors, first.converted(verb)),
        Arm(second.page.slug, second.visitors, second.converted(verb)),
        confidence,
    )
    names = first.page.content.name, second.page.content.name
    if ratio is None:
        waiting = [
            (idea.page.content.name, idea.visitors, idea.converted(verb))
            for idea in (first, second)
            if conversion_rate(idea.converted(verb), idea.visitors) in (None, 0)
        ]
        return cannot_compare(*names, waiting, verb)
    return compare_sentence(*names, ratio, verb, max(2, len(rated)))
