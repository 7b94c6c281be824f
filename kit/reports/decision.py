"""What the founder should do now, in a few words: pure functions over a page's report.

The overview's badges, the page's decision card and ``kit stats`` read the same ``decide``, so
no view names a "leader" while the data cannot support one. The rules, in order:

- counts that do not add up (conversions above visitors) → no data;
- one arm only (a page without an experiment, one idea) → its bars: go, no-go or keep going
  (kit/reports/target.py), or "no bar" when its file sets none;
- a winner already written in the page file → ended;
- visitors split unlike the configured weights → sample ratio mismatch (nothing else counts);
- the always-valid test names a winner → "b wins", with the line that ends the test;
- an arm below the minimum visitors → collecting data, with how many more are needed;
- every arm past the sample size for a 20 % lift and no winner → no difference: stop, keep
  the control;
- otherwise → keep going, with the visitors still needed for that sample size.

Visitors still needed are counted over all arms at their configured split, and turned into
days at the page's visitors per day over the last week.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from collections.abc import Sequence
from dataclasses import dataclass
from dataclasses import replace
from datetime import date
from datetime import timedelta

from kit.reports.chances import chance_to_be_best
from kit.reports.chances import chance_to_beat
from kit.reports.stats import ALPHA
from kit.reports.stats import METHODS
from kit.reports.stats import Arm
from kit.reports.stats import ArmResult
from kit.reports.stats import Report
from kit.reports.stats import SampleRatio
from kit.reports.stats import _small_counts
from kit.reports.stats import arm_label
from kit.reports.stats import conversion_rate
from kit.reports.stats import counted
from kit.reports.stats import fisher_exact
from kit.reports.stats import holm
from kit.reports.stats import newcombe_interval
from kit.reports.stats import relative_interval
from kit.reports.stats import running_always_valid_p
from kit.reports.stats import sample_ratio
from kit.reports.stats import sample_size_per_arm
from kit.reports.stats import usable
from kit.reports.stats import wilson_interval
from kit.reports.stats import z_test
from kit.reports.target import METHOD
from kit.reports.target import Bar

RECENT_DAYS = 7


@dataclass(frozen=True)
class Decision:
    # winner, no-difference, keep-going, collecting, srm, ended, no-data; for one idea: go,
    # no-go, keep-going, collecting or no-bar
    kind: str
    badge: str  # a few words for the overview: "b wins", "collecting data — 140 more visitors"
    more_visitors: int | None  # before a decision, all arms together; None when not known
    days_left: int | None  # at the last week's visitors per day; None when not known
    end_line: str | None  # the page-file line that ends the test, when it should end
    more_spend: tuple[float, str] | None = None  # those visitors at the current ad cost


@dataclass(frozen=True)
class AdCost:
    """What one visitor costs at the page's ad spend so far, in the currency's minor unit."""

    per_visitor: float
    currency: str


def visitors_per_day(days: Iterable[tuple[date, int]], today: date) -> float:
    """Visitors per day over the last ``RECENT_DAYS`` days up to ``today``, or since the first
    day with data if that is later (a test started yesterday has run two days, not seven);
    days without a row count as zero."""
    days = [(day, n) for day, n in days if day <= today]
    if not days:
        return 0.0
    first = min(day for day, _ in days)
    span = min(RECENT_DAYS, (today - first).days + 1)
    start = today - timedelta(days=span - 1)
    return sum(n for day, n in days if day >= start) / span


def decide(
    report: Report,
    min_visitors: int,
    per_day: float = 0.0,
    weights: Iterable[float] = (),
    ended_with: str | None = None,
    bars: Sequence[Bar] = (),
    cost: AdCost | None = None,
) -> Decision:
    """The decision for one experiment's ``report`` (``weights`` as configured, one per arm;
    ``ended_with``: the winner the page file names, if any; ``bars``: one idea's rates against
    the bars its file sets; ``cost``: the ad cost of a visitor, to price the visitors needed)."""
    arms = report.arms
    if any(a.visitors > 0 and a.rate is None for a in arms):  # more signups than visitors
        return Decision("no-data", "no data: the counts do not add up", None, None, None)
    if len(arms) < 2:
        return _priced(_decide_one(bars, per_day), cost)
    if ended_with:
        return Decision("ended", f"ended: {ended_with} chosen", None, None, None)
    if report.srm.mismatch:
        return Decision("srm", "sample ratio mismatch", None, None, None)
    if report.winner is not None:
        line = f'winner = "{report.winner}"'
        return Decision("winner", f"{report.winner} wins", 0, 0, line)
    shares = _shares([*weights], len(arms))
    if not report.enough_data:
        more = _more(arms, shares, min_visitors)
        badge = f"collecting data — {more:,} more visitors"
        return _priced(Decision("collecting", badge, more, _days(more, per_day), None), cost)
    needed = report.needed_per_arm
    if needed is not None and min(a.visitors for a in arms) >= needed:
        line = f'winner = "{arms[0].name}"'
        return Decision("no-difference", "no difference", 0, 0, line)
    more = _more(arms, shares, needed) if needed is not None else None
    badge = "keep going" if more is None else f"keep going — {more:,} more visitors"
    return _priced(Decision("keep-going", badge, more, _days(more, per_day), None), cost)


def _decide_one(bars: Sequence[Bar], per_day: float) -> Decision:
    """One idea against its bars: go when it clears every bar, no-go when it falls short of
    one, else keep going with the visitors the slowest bar still needs."""
    if not bars:
        return Decision("no-bar", "no bar set", None, None, None)
    if any(bar.kind == "no-data" for bar in bars):
        return Decision("collecting", "collecting data — no visitors yet", None, None, None)
    if any(bar.kind == "no-go" for bar in bars):
        return Decision("no-go", "no-go: below your bar", None, None, None)
    if all(bar.kind == "go" for bar in bars):
        return Decision("go", "go: above your bar", None, None, None)
    waiting = [bar.more_visitors for bar in bars if bar.kind == "keep-going"]
    if None in waiting:
        return Decision("keep-going", "keep going — too close to the bar to tell", None, None, None)
    more = max(int(n) for n in waiting if n is not None)
    badge = f"keep going — {more:,} more visitors"
    return Decision("keep-going", badge, more, _days(more, per_day), None)


def _priced(decision: Decision, cost: AdCost | None) -> Decision:
    """The decision with what its visitors still needed cost at the current ad cost."""
    if cost is None or not decision.more_visitors:
        return decision
    spend = (decision.more_visitors * cost.per_visitor, cost.currency)
    return replace(decision, more_spend=spend)


def _shares(weights: list[float], arms: int) -> list[float]:
    """Each arm's share of new visitors; an even split when the weights are not known."""
    total = sum(w for w in weights if w > 0)
    if len(weights) != arms or total <= 0:
        return [1 / arms] * arms
    return [max(w, 0) / total for w in weights]


def _more(arms: list[ArmResult], shares: list[float], target: int) -> int:
    """New visitors (at the configured split) until every arm has ``target`` visitors."""
    needed = 0.0
    for arm, share in zip(arms, shares, strict=True):
        short = max(0, target - arm.visitors)
        if short and share > 0:
            needed = max(needed, short / share)
    return math.ceil(needed)


def _days(more: int | None, per_day: float) -> int | None:
    if more is None or per_day <= 0:
        return None
    return math.ceil(more / per_day)


@dataclass(frozen=True)
class Share:
    """One arm's share of the visitors: as configured, and as counted (None: no visitors)."""

    name: str
    expected: float
    actual: float | None


def shares(arms: list[ArmResult], weights: Iterable[float]) -> list[Share]:
    """Expected against actual split of visitors, for the sample ratio warning."""
    expected = _shares([*weights], len(arms))
    total = sum(max(arm.visitors, 0) for arm in arms)
    return [
        Share(arm.name, share, max(arm.visitors, 0) / total if total else None)
        for arm, share in zip(arms, expected, strict=True)
    ]


def running_since(days: Iterable[date], today: date) -> tuple[date | None, int]:
    """The first day with data and how many days the test has run since (today included)."""
    first = min(days, default=None)
    if first is None or first > today:
        return first, 0
    return first, (today - first).days + 1


# --- the report ---------------------------------------------------------------------------


def _percent(value: float | None) -> str:
    if value is None:
        return "–"
    return f"{value * 100:.0f}%" if 0.01 <= value <= 0.99 else f"{value * 100:.1f}%"


def _p(value: float) -> str:
    return "< 0.0001" if value < 0.0001 else f"{value:.4f}"


def analyse(
    arms: Sequence[Arm],
    min_visitors: int = 100,
    alpha: float = ALPHA,
    looks: Sequence[Sequence[Arm]] = (),
    converted: str = "signed up",
) -> Report:
    """Everything the dashboard shows for one experiment; the first arm is the control.
    ``converted`` says in the verdict what a converted visitor did ("clicked", "paid").

    ``looks`` are earlier cumulative counts of the same arms (oldest first) for the running
    minimum of the always-valid p; the current counts are always the last look.
    """
    control = arms[0]
    best = _chances(arms)
    control_rate = conversion_rate(control.conversions, control.visitors)
    results: list[dict] = []
    for index, arm in enumerate(arms):
        rate = conversion_rate(arm.conversions, arm.visitors)
        row = {
            "name": arm.name,
            "visitors": arm.visitors,
            "conversions": arm.conversions,
            "signups": arm.signups,
            "is_control": index == 0,
            "rate": rate,
            "rate_interval": wilson_interval(arm.conversions, arm.visitors),
            "uplift_abs": None,
            "uplift_abs_interval": None,
            "uplift_rel": None,
            "uplift_rel_interval": None,
            "z": None,
            "p_value": None,
            "test": None,
            "always_valid_p": None,
            "chance_to_beat_control": None,
            "chance_to_be_best": best[index] if best else None,
        }
        if index > 0 and rate is not None and control_rate is not None:
            row["uplift_abs"] = rate - control_rate
            row["uplift_abs_interval"] = newcombe_interval(control, arm)
            row["uplift_rel"] = rate / control_rate - 1 if control_rate > 0 else None
            row["uplift_rel_interval"] = relative_interval(control, arm)
            tested = z_test(control, arm)
            if tested is not None:
                row["z"] = tested[0]
            if tested is None or _small_counts(control, arm):
                exact = fisher_exact(control, arm)
                if exact is not None:
                    row["p_value"], row["test"] = exact, "Fisher's exact test"
            if row["p_value"] is None and tested is not None:
                row["p_value"], row["test"] = tested[1], "z-test"
            row["chance_to_beat_control"] = (
                best[1] if len(arms) == 2 and best else chance_to_beat(control, arm)
            )
        results.append(row)

    sequential = running_always_valid_p([*looks, arms])
    for row, path in zip(results[1:], sequential, strict=True):
        row["always_valid_p"] = path.p
    corrected = len(arms) > 2
    fixed = holm([r["p_value"] for r in results[1:]]) if corrected else None
    decisive = holm([path.p for path in sequential]) if corrected else [s.p for s in sequential]
    for k, row in enumerate(results[1:]):
        row["p_adjusted"] = fixed[k] if fixed is not None else row["p_value"]
    results[0]["p_adjusted"] = None
    report_arms = [ArmResult(**row) for row in results]

    srm = sample_ratio(arms)
    enough = all(usable(arm) and arm.visitors >= min_visitors for arm in arms)
    rated = [r for r in report_arms if r.rate is not None]
    leader = max(rated, key=lambda r: r.rate).name if rated else None
    winner = None
    if enough and not srm.mismatch and len(arms) > 1:
        directions = [path.direction for path in sequential]
        winner = _winner(report_arms, decisive, directions, alpha)
    needed = sample_size_per_arm(control_rate) if control_rate else None
    verdict = _verdict(
        arms, report_arms, srm, enough, winner, needed, min_visitors, corrected, converted
    )
    methods = METHODS
    if len(arms) == 1:  # one idea: its interval and its bars; nothing is split or compared
        methods = {"Conversion interval": METHODS["Conversion interval"]}
        methods["Against your bar"] = METHOD
    return Report(report_arms, srm, enough, winner, leader, needed, corrected, verdict, methods)


def _chances(arms: Sequence[Arm]) -> list[float] | None:
    """Each arm's chance to be best: exact for two arms, integrated for more."""
    if len(arms) == 2:
        beat = chance_to_beat(arms[0], arms[1])
        return None if beat is None else [1 - beat, beat]
    return chance_to_be_best(arms) if len(arms) > 2 else None


def _winner(
    arms: list[ArmResult],
    decisive: list[float | None],
    directions: list[int],
    alpha: float,
) -> str | None:
    """The best of the variants the sequential test separated from the control as better; or
    the control, if every variant is separated from it as worse. Directions are those of the
    looks that separated them, so a later wobble of the rates does not undo a verdict."""
    separated = [p is not None and p < alpha for p in decisive]
    better = [
        arm
        for arm, apart, direction in zip(arms[1:], separated, directions, strict=True)
        if apart and direction > 0
    ]
    if better:
        return max(better, key=lambda arm: arm.rate or 0.0).name
    if all(separated) and all(direction < 0 for direction in directions):
        return arms[0].name
    return None


def _verdict(
    counts: Sequence[Arm],
    arms: list[ArmResult],
    srm: SampleRatio,
    enough: bool,
    winner: str | None,
    needed: int | None,
    min_visitors: int,
    corrected: bool,
    converted: str,
) -> str:
    control = arms[0]
    fewest = min(arm.visitors for arm in arms)
    broken = [arm for arm in counts if arm.visitors > 0 and not usable(arm)]
    if broken:
        names = ", ".join(
            f"{arm_label(arm.name)} ({arm.conversions:,} from {counted(arm.visitors, 'visitor')})"
            for arm in broken
        )
        return (
            f"No data to judge: the stored counts do not add up for {names}. Conversions are "
            f"visitors who {converted}, so they cannot outnumber visitors; the database holds "
            f"rows that do not match (old or hand-edited data)."
        )
    if len(arms) == 1:
        if control.rate is None or control.rate_interval is None:
            return "No visitors yet."
        interval = control.rate_interval
        return (
            f"{counted(control.visitors, 'visitor')}, {control.conversions:,} {converted}: "
            f"conversion {_percent(control.rate)} (95% interval {_percent(interval.low)} to "
            f"{_percent(interval.high)}). Add an experiment to compare messages."
        )
    if needed is None:
        guidance = (
            f"The visitors needed cannot be estimated until some of the control's visitors "
            f"have {converted}."
        )
    else:
        guidance = (
            f"To detect a 20% relative lift with 80% power at 5% significance you need about "
            f"{needed:,} visitors per variant; you have {fewest:,}."
        )
        if fewest >= needed:
            guidance += " That is enough to see a 20% lift, so any real difference is smaller."
    holm_note = (
        f" With {len(arms)} variants the p-values are Holm-corrected for multiple comparisons."
        if corrected
        else ""
    )
    if srm.mismatch:
        return (
            f"Warning: the split of visitors does not match the configured weights "
            f"(sample ratio mismatch, chi-square p = {_p(srm.p_value)}). These numbers cannot "
            f"be trusted, so no winner is named: look for what drops or double-counts visitors "
            f"of one variant (redirects, caching, bot filtering)."
        )
    if not enough:
        return (
            f"Not enough data yet: each variant needs at least {min_visitors:,} visitors before "
            f"a verdict (the smallest has {fewest:,}). {guidance}"
        )
    best = max(arms[1:], key=lambda arm: arm.chance_to_beat_control or 0)
    if winner is not None and winner != control.name:
        arm = next(a for a in arms if a.name == winner)
        lift = f", relative lift {arm.uplift_rel * 100:+.1f}%" if arm.uplift_rel is not None else ""
        return (
            f"{winner} is ahead: {_percent(arm.chance_to_beat_control)} chance to beat "
            f"{control.name} (always-valid p = {_p(arm.always_valid_p)}){lift}. The test is "
            f"valid however often you look, so you can act on it.{holm_note}"
        )
    if winner == control.name:
        return (
            f"{control.name} (the control) is ahead: every variant converts worse "
            f"(always-valid p ≤ {_p(max(a.always_valid_p for a in arms[1:]))}).{holm_note}"
        )
    chance = best.chance_to_beat_control
    lead = (
        f"{best.name} has a {_percent(chance)} chance to beat {control.name}, but the "
        f"always-valid test (p = {_p(best.always_valid_p)}) has not crossed 5%."
        if chance is not None and best.always_valid_p is not None
        else "The variants cannot be compared yet."
    )
    return f"No clear winner yet: {lead} {guidance}{holm_note}"
