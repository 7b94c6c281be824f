"""How far each variant's visitors got: visitors → clicked the pre-order button → signed up →
confirmed → paid. Every step counts visitors (one browser is one, whatever it did twice), so
the steps read as shares of the same people; a step the page does not have is left out."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Select
from sqlalchemy import distinct
from sqlalchemy import func
from sqlalchemy import select

from kit.models import DailySource
from kit.models import GoalClick
from kit.models import db
from kit.pages.schema import Page
from kit.reports.stats import Report
from kit.tracking.payments import CHECKOUT_GOAL


@dataclass(frozen=True)
class Step:
    """One step of the funnel: visitors of each variant (the report's order) who reached it."""

    name: str
    counts: dict[str, int]


def funnel_of(page: Page, experiment: str, signups: Report, paid: Report) -> list[Step]:
    """The steps of one experiment of ``page``, from its signup and paid-visitor reports (the
    figures the tables show) and two small counts: checkout clicks and first signups."""
    names = [arm.name for arm in signups.arms]
    steps = [Step("Visitors", {arm.name: arm.visitors for arm in signups.arms})]
    checkout = next((tier for tier in page.tiers if tier.checkout_url), None)
    if checkout is not None:
        clicked = _per_variant(
            select(GoalClick.variant, func.count(distinct(GoalClick.visitor_key)))
            .where(GoalClick.page == page.slug, GoalClick.experiment == experiment,
                   GoalClick.goal.startswith(CHECKOUT_GOAL, autoescape=True))
            .group_by(GoalClick.variant)
        )  # fmt: skip
        steps.append(Step(f"Clicked “{checkout.checkout_label}”", _in(names, clicked)))
    converted = {arm.name: arm.conversions for arm in signups.arms}
    if page.waitlist.double_opt_in:
        signed_up = _per_variant(
            select(DailySource.variant, func.sum(DailySource.signed_up))
            .where(DailySource.page == page.slug, DailySource.experiment == experiment,
                   DailySource.dimension == "utm_source")
            .group_by(DailySource.variant)
        )  # fmt: skip
        steps.append(Step("Signed up", _in(names, signed_up)))
        steps.append(Step("Confirmed", converted))
    else:
        steps.append(Step("Signed up", converted))
    if checkout is not None or any(arm.conversions for arm in paid.arms):
        steps.append(Step("Paid", {arm.name: arm.conversions for arm in paid.arms}))
    return steps


def _per_variant(query: Select) -> dict[str, int]:
    """``{variant: count}`` from a select of (variant, count)."""
    return {variant: int(n or 0) for variant, n in db.session.execute(query)}


def _in(names: list[str], counts: dict[str, int]) -> dict[str, int]:
    """Counts in the report's order, every arm present (0 when nobody got there)."""
    return {name: counts.get(name, 0) for name in names}
