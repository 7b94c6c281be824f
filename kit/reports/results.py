"""Read experiment results out of the database: counts aggregated in SQL, maths in stats.py.

Every function here runs a handful of GROUP BY queries over indexed columns and never loads
rows one by one, so the dashboard, the JSON API and ``flask kit stats`` stay fast with
millions of exposures and all show the same numbers.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from datetime import timedelta
from typing import Any

from sqlalchemy import case
from sqlalchemy import func
from sqlalchemy import select

from kit import money
from kit.models import Conversion
from kit.models import DailyConversions
from kit.models import DailyExposures
from kit.models import Exposure
from kit.models import GoalClick
from kit.models import PreOrder
from kit.models import StripeEvent
from kit.models import db
from kit.models import utcnow
from kit.pages.schema import Page
from kit.reports.decision import Decision
from kit.reports.decision import Share
from kit.reports.decision import analyse
from kit.reports.decision import decide
from kit.reports.decision import shares
from kit.reports.decision import visitors_per_day
from kit.reports.stats import Arm
from kit.reports.stats import Report
from kit.reports.stats import conversion_rate
from kit.tracking.assignment import EMBED
from kit.tracking.payments import CHECKOUT_GOAL
from kit.tracking.phases import SHIPPED
from kit.tracking.phases import current_phase
from kit.tracking.phases import periods_of
from kit.tracking.phases import phases_of
from kit.tracking.phases import shipped
from kit.waitlist import places

# A signup counts as a conversion once confirmed (at once on pages without double opt-in).


@dataclass(frozen=True)
class AfterClick:
    """Of one variant's visitors who clicked a goal, how many signed up afterwards."""

    variant: str
    clicked: int
    signed_up: int


@dataclass(frozen=True)
class GoalResult:
    name: str
    label: str
    report: Report
    after_click: list[AfterClick]  # per arm, in the report's order

    @property
    def clicked(self) -> int:
        return sum(arm.clicked for arm in self.after_click)

    @property
    def signed_up(self) -> int:
        return sum(arm.signed_up for arm in self.after_click)


@dataclass(frozen=True)
class PreOrderArm:
    """One variant's paid pre-orders; amounts per currency, in its smallest unit."""

    variant: str
    preorders: int  # refunded ones included
    revenue: dict[str, int]  # net of refunds
    refunds: int  # pre-orders refunded, in full or in part
    refunded: dict[str, int]


@dataclass(frozen=True)
class PreOrders:
    """Visitor -> paid conversion (a visitor with a pre-order not refunded in full) with the
    signups' statistics, and each variant's orders, revenue and refunds."""

    report: Report
    arms: list[PreOrderArm]  # in the report's order
    unattributed: int  # this page's pre-orders by visitors not counted (founder, no cookie)

    @property
    def preorders(self) -> int:
        return sum(arm.preorders for arm in self.arms)

    @property
    def revenue(self) -> dict[str, int]:
        return money.add_up(arm.revenue for arm in self.arms)


@dataclass(frozen=True)
class DailyRow:
    day: date
    variant: str
    visitors: int
    signups: int
    cumulative_visitors: int
    cumulative_signups: int
    cumulative_rate: float | None


@dataclass(frozen=True)
class PageResults:
    """Everything the per-page dashboard shows for one experiment of one page."""

    page: Page
    experiment: str  # "" for a page without an experiment
    status: str  # "running", "winner: b", "ended", "no experiment"
    current: bool  # the experiment is the one in the page file now
    report: Report
    unattributed: int  # signups with no exposure on record (cookies blocked, direct POST)
    unconfirmed: int  # double opt-in: signed up, not confirmed yet (not counted above)
    goals: list[GoalResult]
    days: list[DailyRow]  # per day and variant, for the charts
    decision: Decision  # what to do now: the overview's badge, the page's decision card
    split: list[Share]  # each arm's share of visitors, as configured and as counted
    visitors_per_day: float  # over the last week
    preorders: PreOrders


def experiments_of(page: Page) -> list[str]:
    """The experiment keys this page has data for, or that are periods of its test: its test
    (the latest phase) first, then its shipped period and earlier phases, then the rest by
    name."""
    known = [current_phase(page), *periods_of(page)]
    seen = db.session.scalars(
        select(DailyExposures.experiment).where(DailyExposures.page == page.slug).distinct()
    )
    return list(dict.fromkeys([*known, *sorted(seen)]))


def status_of(page: Page, experiment: str) -> str:
    if experiment == EMBED:
        return "the views and signups of the form embedded on other sites"
    if experiment.endswith(SHIPPED):
        if page.experiment is not None and experiment == shipped(page.experiment.key):
            return "since the test ended, with its winner shown to everyone"
        return "after an earlier test, with its winner shown to everyone"
    if page.experiment is None:
        return "no experiment" if experiment == "" else "ended"
    phases = phases_of(page)  # latest first
    if experiment == current_phase(page):
        state = f"winner: {page.experiment.winner}" if page.experiment.winner else "running"
        if len(phases) > 1:
            latest = phases[0]
            state += f", phase {latest.number} since {latest.started_at:%Y-%m-%d %H:%M} UTC"
            state += f" ({latest.change})"
        return state
    for later, phase in zip(phases, phases[1:], strict=False):
        if phase.key == experiment:
            ended = f"{later.started_at:%Y-%m-%d %H:%M} UTC"
            return f"phase {phase.number} of the test, ended {ended} by an edit ({later.change})"
    return "ended"


PerDay = dict[tuple[date, str], int]
MAX_CALENDAR_DAYS = 1000  # a longer span (odd dates in old data) charts only days with data


def _per_day(rows: Iterable[Any]) -> PerDay:
    """``{(day, variant): count}`` from rows of (day, variant, count)."""
    # SQLite's date() gives text, PostgreSQL's a date: read both as a date.
    counts: PerDay = {}
    for day, variant, n in rows:
        key = (date.fromisoformat(str(day)[:10]), variant)
        counts[key] = counts.get(key, 0) + (n or 0)
    return counts


def _totals(per_day: PerDay) -> dict[str, int]:
    totals: dict[str, int] = {}
    for (_, variant), n in per_day.items():
        totals[variant] = totals.get(variant, 0) + n
    return totals


def _visitors_per_day(page: Page, experiment: str) -> PerDay:
    return _per_day(
        db.session.execute(
            select(DailyExposures.day, DailyExposures.variant, DailyExposures.visitors).where(
                DailyExposures.page == page.slug, DailyExposures.experiment == experiment
            )
        )
    )


def _converted_per_day(page: Page, experiment: str) -> PerDay:
    """Exposed visitors of each variant who signed up (confirmed), on the day they converted:
    one browser signing up five addresses is one conversion (kit/tracking/counters.py keeps one row
    per visitor and these daily counters)."""
    return _per_day(
        db.session.execute(
            select(DailyConversions.day, DailyConversions.variant, DailyConversions.visitors).where(
                DailyConversions.page == page.slug, DailyConversions.experiment == experiment
            )
        )
    )


def _clicked_per_day(page: Page, experiment: str) -> dict[str, PerDay]:
    """Per goal: visitors of each variant who clicked it, on the day they did (one row per
    visitor and goal, a unique constraint; written only for exposed visitors, with the
    exposure's variant)."""
    rows: dict[str, list[tuple]] = {}
    query = (
        select(GoalClick.goal, func.date(GoalClick.created_at), GoalClick.variant, func.count())
        .where(GoalClick.page == page.slug, GoalClick.experiment == experiment)
        .group_by(GoalClick.goal, func.date(GoalClick.created_at), GoalClick.variant)
    )
    for goal, day, variant, n in db.session.execute(query):
        rows.setdefault(goal, []).append((day, variant, n))
    return {goal: _per_day(goal_rows) for goal, goal_rows in rows.items()}


def _signed_up_after_click(page: Page, experiment: str) -> dict[tuple[str, str], int]:
    """Per (goal, variant): visitors who clicked the goal and converted at or after the click
    (on its "coming soon" page or later), from the goal clicks, each visitor's exposure and
    conversion (one each, unique)."""
    query = (
        select(GoalClick.goal, GoalClick.variant, func.count())
        .join(Exposure, (Exposure.page == GoalClick.page)
              & (Exposure.experiment == GoalClick.experiment)
              & (Exposure.visitor_key == GoalClick.visitor_key))
        .join(Conversion, (Conversion.page == GoalClick.page)
              & (Conversion.experiment == GoalClick.experiment)
              & (Conversion.exposure_id == Exposure.id))
        .where(GoalClick.page == page.slug, GoalClick.experiment == experiment,
               Conversion.converted_at >= GoalClick.created_at)
        .group_by(GoalClick.goal, GoalClick.variant)
    )  # fmt: skip
    return {(goal, variant): n for goal, variant, n in db.session.execute(query)}


def _signup_rows(page: Page, experiment: str) -> dict[str, int]:
    """Confirmed signup rows per variant: more than its conversions when browsers sign up twice."""
    query = (
        select(DailyConversions.variant, func.sum(DailyConversions.signups))
        .where(DailyConversions.page == page.slug, DailyConversions.experiment == experiment)
        .group_by(DailyConversions.variant)
    )
    return {variant: int(n or 0) for variant, n in db.session.execute(query)}


def _weights(page: Page, experiment: str, visitors: dict[str, int]) -> dict[str, float]:
    """Arms in the page file's order (control first) with their weights; past ones by name."""
    phase = next((p for p in phases_of(page) if p.key == experiment), None)
    if phase is not None:  # a phase of the page's test: its split as it was
        return phase.shares
    # A past experiment: its weights are no longer in the file; assume an even split.
    return {name: 1.0 for name in sorted(visitors) or [""]}


def _calendar(days: set[date]) -> list[date]:
    """Every day from the first to the last with data (days without data included)."""
    if not days:
        return []
    first, last = min(days), max(days)
    if (last - first).days > MAX_CALENDAR_DAYS:
        return sorted(days)
    return [first + timedelta(days=n) for n in range((last - first).days + 1)]


def _looks(arms: list[Arm], days: list[DailyRow]) -> list[list[Arm]]:
    """The arms' cumulative counts at the end of each day: the looks of the sequential test.
    ``days`` holds one row per arm per day, in the arms' order (``_daily_rows``)."""
    width = len(arms)
    return [
        [Arm(a.name, r.cumulative_visitors, r.cumulative_signups, a.weight)
         for a, r in zip(arms, days[start : start + width], strict=True)]
        for start in range(0, len(days), width)
    ]  # fmt: skip


def page_results(page: Page, experiment: str, min_visitors: int) -> PageResults:
    """Per-variant statistics, the verdict and the goal (fake door) results of one experiment."""
    visitors = _visitors_per_day(page, experiment)
    converted = _converted_per_day(page, experiment)
    seen, joined, rows = _totals(visitors), _totals(converted), _signup_rows(page, experiment)
    arms = [
        Arm(name, seen.get(name, 0), joined.get(name, 0), weight, rows.get(name, 0))
        for name, weight in _weights(page, experiment, seen).items()
    ]
    kept = places.counts(page)
    unattributed, unconfirmed = kept.unattributed, kept.unconfirmed
    clicks = _clicked_per_day(page, experiment)
    goal_names = [g.name for g in page.goals] + sorted(set(clicks) - {g.name for g in page.goals})
    labels = {g.name: g.label for g in page.goals} | {
        f"{CHECKOUT_GOAL}{t.key}": f"{t.checkout_label} ({t.name})"
        for t in page.tiers
        if t.checkout_url
    }
    after = _signed_up_after_click(page, experiment)
    goals = []
    for name in goal_names:
        per_day = clicks.get(name, {})
        clicked = _totals(per_day)
        goal_arms = [Arm(a.name, a.visitors, clicked.get(a.name, 0), a.weight) for a in arms]
        looks = _looks(goal_arms, _daily_rows(goal_arms, visitors, per_day))
        report = analyse(goal_arms, min_visitors, looks=looks, converted="clicked")
        signed_up = [AfterClick(a.name, a.conversions, after.get((name, a.name), 0))
                     for a in goal_arms]  # fmt: skip
        goals.append(GoalResult(name, labels.get(name, name), report, signed_up))
    days = _daily_rows(arms, visitors, converted)
    report = analyse(arms, min_visitors, looks=_looks(arms, days))
    per_day = visitors_per_day(((r.day, r.visitors) for r in days), utcnow().date())
    current = experiment == current_phase(page)
    ended = None
    if not current:
        ended = ""
    elif page.experiment is not None and page.experiment.winner:
        ended = page.experiment.winner
    weights = [arm.weight for arm in arms]
    return PageResults(
        page=page,
        experiment=experiment,
        status=status_of(page, experiment),
        current=current,
        report=report,
        unattributed=unattributed,
        unconfirmed=unconfirmed,
        goals=goals,
        days=days,
        decision=decide(report, min_visitors, per_day, weights, ended),
        split=shares(report.arms, weights),
        visitors_per_day=per_day,
        preorders=preorders(page, experiment, arms, visitors, min_visitors),
    )


NOT_REFUNDED = PreOrder.refunded < PreOrder.amount  # a pre-order not refunded in full
# What "paid pre-orders" means wherever it is shown: by counted visitors, not refunded in full.
PAID_BY_VISITORS = (PreOrder.variant.is_not(None), NOT_REFUNDED)


def preorders(
    page: Page, experiment: str, arms: list[Arm], visitors: PerDay, min_visitors: int
) -> PreOrders:
    """Paid pre-orders per variant (few rows: read one by one group): paying visitors on the
    day of their first pre-order, orders, net revenue and refunds per currency."""
    mine = (PreOrder.page == page.slug, PreOrder.experiment == experiment)
    first_paid = (
        select(PreOrder.variant, PreOrder.visitor_key, func.min(PreOrder.created_at).label("at"))
        .where(*mine, NOT_REFUNDED, PreOrder.visitor_key.is_not(None))
        .group_by(PreOrder.variant, PreOrder.visitor_key)
        .subquery()
    )
    per_day = _per_day(
        db.session.execute(
            select(func.date(first_paid.c.at), first_paid.c.variant, func.count())
            .group_by(func.date(first_paid.c.at), first_paid.c.variant)
        )
    )  # fmt: skip
    paid = _totals(per_day)
    paying = [Arm(a.name, a.visitors, paid.get(a.name, 0), a.weight) for a in arms]
    looks = _looks(paying, _daily_rows(paying, visitors, per_day))
    report = analyse(paying, min_visitors, looks=looks, converted="paid")
    orders: dict[str, list[int]] = {}
    revenue: dict[str, dict[str, int]] = {}
    refunded: dict[str, dict[str, int]] = {}
    query = (
        select(PreOrder.variant, PreOrder.currency, func.count(),
               func.sum(case((PreOrder.refunded > 0, 1), else_=0)),
               func.sum(PreOrder.amount - PreOrder.refunded), func.sum(PreOrder.refunded))
        .where(*mine)
        .group_by(PreOrder.variant, PreOrder.currency)
    )  # fmt: skip
    for variant, currency, count, refunds, net, back in db.session.execute(query):
        counts = orders.setdefault(variant, [0, 0])
        counts[0] += count
        counts[1] += int(refunds or 0)
        revenue.setdefault(variant, {})[currency] = int(net or 0)
        refunded.setdefault(variant, {})[currency] = int(back or 0)
    unattributed = db.session.scalar(
        select(func.count()).where(PreOrder.page == page.slug, PreOrder.variant.is_(None))
    )
    rows = [
        PreOrderArm(a.name, orders.get(a.name, [0, 0])[0], revenue.get(a.name, {}),
                    orders.get(a.name, [0, 0])[1], refunded.get(a.name, {}))
        for a in arms
    ]  # fmt: skip
    return PreOrders(report, rows, unattributed or 0)


def unbooked_payments(slug: str | None = None) -> str:
    """ "2 payments could not be booked: amount out of range (1), not a currency code (1)" for
    the Stripe payments the kit could not book, of one page or of all; "" when there are none."""
    query = select(StripeEvent.problem, func.count()).where(StripeEvent.problem.is_not(None))
    if slug is not None:
        query = query.where(StripeEvent.page == slug)
    counted = func.count()
    rows = db.session.execute(
        query.group_by(StripeEvent.problem).order_by(counted.desc(), StripeEvent.problem)
    ).all()
    total = sum(count for _, count in rows)
    if not total:
        return ""
    reasons = ", ".join(f"{problem} ({count:,})" for problem, count in rows)
    payments = "1 payment" if total == 1 else f"{total:,} payments"
    return f"{payments} could not be booked: {reasons}"


def _daily_rows(arms: list[Arm], visitors: PerDay, converted: PerDay) -> list[DailyRow]:
    """Visitors and converted visitors per UTC day and variant, with running totals (charts)."""
    rows = []
    totals = {arm.name: [0, 0] for arm in arms}
    for day in _calendar({day for day, _ in visitors} | {day for day, _ in converted}):
        for arm in arms:
            seen, joined = visitors.get((day, arm.name), 0), converted.get((day, arm.name), 0)
            totals[arm.name][0] += seen
            totals[arm.name][1] += joined
            cumulative_visitors, cumulative_signups = totals[arm.name]
            rate = conversion_rate(cumulative_signups, cumulative_visitors)
            rows.append(
                DailyRow(day, arm.name, seen, joined, cumulative_visitors, cumulative_signups, rate)
            )
    return rows


TREND_DAYS = 30


@dataclass(frozen=True)
class Trend:
    """A page's confirmed signups per day over the last ``TREND_DAYS`` days, oldest first."""

    per_day: list[int]
    last_week: int
    week_before: int


def trend(page: Page, today: date) -> Trend:
    """Signups per day (every experiment of the page, kept counts), today included."""
    start = today - timedelta(days=TREND_DAYS - 1)
    rows = db.session.execute(
        select(DailyConversions.day, func.sum(DailyConversions.signups))
        .where(DailyConversions.page == page.slug, DailyConversions.day >= start)
        .group_by(DailyConversions.day)
    )
    counts = {date.fromisoformat(str(day)[:10]): int(n or 0) for day, n in rows}
    per_day = [counts.get(start + timedelta(days=n), 0) for n in range(TREND_DAYS)]
    return Trend(per_day, sum(per_day[-7:]), sum(per_day[-14:-7]))
