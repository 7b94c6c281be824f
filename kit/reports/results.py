"""Read experiment results out of the database: counts aggregated in SQL, maths in stats.py.

Every function here runs a handful of GROUP BY queries over indexed columns and never loads
rows one by one, so the dashboard, the JSON API and ``flask kit stats`` stay fast with
millions of exposures and all show the same numbers.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from datetime import timedelta

from sqlalchemy import func
from sqlalchemy import select

from kit.models import Conversion
from kit.models import DailyConversions
from kit.models import DailyExposures
from kit.models import Exposure
from kit.models import GoalClick
from kit.models import db
from kit.models import utcnow
from kit.pages.schema import Page
from kit.reports import costs
from kit.reports.card import plain_words
from kit.reports.daily import DailyRow
from kit.reports.daily import PerDay
from kit.reports.daily import by_day
from kit.reports.daily import daily_rows
from kit.reports.daily import looks_of
from kit.reports.daily import totals
from kit.reports.decision import AdCost
from kit.reports.decision import Decision
from kit.reports.decision import Share
from kit.reports.decision import analyse
from kit.reports.decision import decide
from kit.reports.decision import shares
from kit.reports.decision import visitors_per_day
from kit.reports.funnel import Step
from kit.reports.funnel import funnel_of
from kit.reports.power import Detectable
from kit.reports.power import detectable
from kit.reports.preorders import PreOrders
from kit.reports.preorders import preorders
from kit.reports.stats import Arm
from kit.reports.stats import Report
from kit.reports.target import Bar
from kit.reports.target import judge
from kit.tracking.assignment import EMBED
from kit.tracking.payments import CHECKOUT_GOAL
from kit.tracking.phases import SHIPPED
from kit.tracking.phases import Phase
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
    bars: list[Bar]  # one idea (no experiment) against the bars its file sets
    spend: costs.Summary | None  # the page's ad spend and what it bought, all entries together
    card: str  # the decision in plain words (kit/reports/card.py)
    detectable: list[Detectable]  # the smallest lift a test finds in 7, 14, 28 days
    funnel: list[Step]  # visitors → clicked pre-order → signed up → confirmed → paid

    def bar_for(self, metric: str) -> float | None:
        """The bar set for ``metric`` ("sign up", "pay") where it is judged, else None."""
        return next((bar.bar for bar in self.bars if bar.metric == metric), None)


def experiments_of(page: Page) -> list[str]:
    """The experiment keys this page has data for, or that are periods of its test: its test
    (the latest phase) first, then its shipped period and earlier phases, then the rest by
    name."""
    known = [current_phase(page), *periods_of(page)]
    seen = db.session.scalars(
        select(DailyExposures.experiment).where(DailyExposures.page == page.slug).distinct()
    )
    return list(dict.fromkeys([*known, *sorted(seen)]))


def status_of(page: Page, experiment: str, phases: list[Phase]) -> str:
    """What the experiment is to the page now, in words (``phases``: the page's, latest first)."""
    if experiment == EMBED:
        return "the views and signups of the form embedded on other sites"
    if experiment.endswith(SHIPPED):
        if page.experiment is not None and experiment == shipped(page.experiment.key):
            return "since the test ended, with its winner shown to everyone"
        return "after an earlier test, with its winner shown to everyone"
    if page.experiment is None:
        return "no experiment" if experiment == "" else "ended"
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


def _visitors_per_day(page: Page, experiment: str) -> PerDay:
    return by_day(
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
    return by_day(
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
    return {goal: by_day(goal_rows) for goal, goal_rows in rows.items()}


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


def _weights(experiment: str, visitors: dict[str, int], phases: list[Phase]) -> dict[str, float]:
    """Arms in the page file's order (control first) with their weights; past ones by name."""
    phase = next((p for p in phases if p.key == experiment), None)
    if phase is not None:  # a phase of the page's test: its split as it was
        return phase.shares
    # A past experiment: its weights are no longer in the file; assume an even split.
    return {name: 1.0 for name in sorted(visitors) or [""]}


def page_results(page: Page, experiment: str, min_visitors: int) -> PageResults:
    """Per-variant statistics, the verdict and the goal (fake door) results of one experiment."""
    phases = phases_of(page)  # read once per report
    visitors = _visitors_per_day(page, experiment)
    converted = _converted_per_day(page, experiment)
    seen, joined, rows = totals(visitors), totals(converted), _signup_rows(page, experiment)
    arms = [
        Arm(name, seen.get(name, 0), joined.get(name, 0), weight, rows.get(name, 0))
        for name, weight in _weights(experiment, seen, phases).items()
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
        clicked = totals(per_day)
        goal_arms = [Arm(a.name, a.visitors, clicked.get(a.name, 0), a.weight) for a in arms]
        looks = looks_of(goal_arms, daily_rows(goal_arms, visitors, per_day))
        report = analyse(goal_arms, min_visitors, looks=looks, converted="clicked")
        signed_up = [AfterClick(a.name, a.conversions, after.get((name, a.name), 0))
                     for a in goal_arms]  # fmt: skip
        goals.append(GoalResult(name, labels.get(name, name), report, signed_up))
    days = daily_rows(arms, visitors, converted)
    looks = looks_of(arms, days)
    report = analyse(arms, min_visitors, looks=looks)
    bought = preorders(page, experiment, arms, visitors, min_visitors)
    bars = _bars(page, looks, bought.looks, min_visitors) if len(arms) == 1 else []
    per_day = visitors_per_day(((r.day, r.visitors) for r in days), utcnow().date())
    current = experiment == current_phase(page)
    ended = None
    if not current:
        ended = ""
    elif page.experiment is not None and page.experiment.winner:
        ended = page.experiment.winner
    weights = [arm.weight for arm in arms]
    spent = costs.summary(costs.costs(page.slug, min_visitors), min_visitors)
    decision = decide(report, min_visitors, per_day, weights, ended, bars, _ad_cost(spent))
    return PageResults(
        page=page,
        experiment=experiment,
        status=status_of(page, experiment, phases),
        current=current,
        report=report,
        unattributed=unattributed,
        unconfirmed=unconfirmed,
        goals=goals,
        days=days,
        decision=decision,
        split=shares(report.arms, weights),
        visitors_per_day=per_day,
        preorders=bought,
        bars=bars,
        spend=spent,
        card=plain_words(report, decision, bars, "sign up"),
        detectable=detectable(report.arms[0].rate, per_day, weights),
        funnel=funnel_of(page, experiment, report, bought.report),
    )


def _bars(
    page: Page, signed_up: list[list[Arm]], paid: list[list[Arm]], min_visitors: int
) -> list[Bar]:
    """The page's rates against the bars its file sets, from the daily looks of its one arm."""
    looks = {"sign up": signed_up, "pay": paid}
    return [
        judge(metric, rate, [(look[0].visitors, look[0].conversions) for look in looks[metric]],
              min_visitors)
        for metric, rate in page.target.bars
    ]  # fmt: skip


def _ad_cost(spent: costs.Summary | None) -> AdCost | None:
    """A visitor's cost at the page's ad spend so far (None without spend in one currency)."""
    if spent is None or spent.costs is None or spent.costs.per_visitor is None:
        return None
    return AdCost(spent.costs.per_visitor, next(iter(spent.amount)))


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
