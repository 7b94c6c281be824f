"""What the founder should do now, in a few words: pure functions over a page's report.

The overview's badges, the page's decision card and ``kit stats`` read the same ``decide``, so
no view names a "leader" while the data cannot support one. The rules, in order:

- counts that do not add up (conversions above visitors) → no data;
- one arm only → no experiment (the page just collects signups);
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
from dataclasses import dataclass
from datetime import date
from datetime import timedelta

from .stats import ArmResult
from .stats import Ratio
from .stats import Report

RECENT_DAYS = 7


@dataclass(frozen=True)
class Decision:
    # winner, no-difference, keep-going, collecting, srm, ended, no-experiment or no-data
    kind: str
    badge: str  # a few words for the overview: "b wins", "collecting data — 140 more visitors"
    more_visitors: int | None  # before a decision, all arms together; None when not known
    days_left: int | None  # at the last week's visitors per day; None when not known
    end_line: str | None  # the page-file line that ends the test, when it should end


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
) -> Decision:
    """The decision for one experiment's ``report`` (``weights`` as configured, one per arm;
    ``ended_with``: the winner the page file names, if any)."""
    arms = report.arms
    if any(a.visitors > 0 and a.rate is None for a in arms):  # more signups than visitors
        return Decision("no-data", "no data: the counts do not add up", None, None, None)
    if len(arms) < 2:
        return Decision("no-experiment", "no experiment", None, None, None)
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
        return Decision("collecting", badge, more, _days(more, per_day), None)
    needed = report.needed_per_arm
    if needed is not None and min(a.visitors for a in arms) >= needed:
        line = f'winner = "{arms[0].name}"'
        return Decision("no-difference", "no difference", 0, 0, line)
    more = _more(arms, shares, needed) if needed is not None else None
    badge = "keep going" if more is None else f"keep going — {more:,} more visitors"
    return Decision("keep-going", badge, more, _days(more, per_day), None)


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


def compare_sentence(first: str, second: str, ratio: Ratio | None) -> str:
    """One plain sentence on two ideas: how many times the first converts the second."""
    if ratio is None:
        return f"{first} and {second} cannot be compared yet: each needs visitors and signups."
    test = f"p = {ratio.p_value:.4f}, {ratio.test}" if ratio.p_value is not None else "no test"
    if ratio.p_value is not None and ratio.p_value < 0.0001:
        test = f"p < 0.0001, {ratio.test}"
    if ratio.interval is None:
        return f"{first} converts {ratio.ratio:.1f}× {second} ({test})."
    span = f"95% interval {ratio.interval.low:.1f}× to {ratio.interval.high:.1f}×"
    if ratio.interval.low <= 1 <= ratio.interval.high:
        return (
            f"{first} converts {ratio.ratio:.1f}× {second}, but that is not a clear difference "
            f"yet: the {span} includes 1× ({test})."
        )
    return f"{first} converts {ratio.ratio:.1f}× {second} ({span}; {test})."
