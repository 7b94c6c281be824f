"""Is one idea good enough? Its rate against the bar the founder set, read any day.

A page states its bar in its file (``[target] signup_rate = 0.10``, ``paid_rate = 0.02``).
The verdict rests on two always-valid one-sided tests of one proportion, each a mixture
martingale (Robbins 1970; Howard et al., "Time-uniform, nonparametric, nonasymptotic
confidence sequences", 2021): the likelihood of the visitors' choices under a rate p,
relative to the bar, averaged over a Beta prior centred on the bar and cut at it —

    M⁺ = ∫_{bar}^{1} Π p^{x}(1−p)^{1−x} dπ(p) / Π bar^{x}(1−bar)^{1−x}

("above": the prior's part above the bar; "below" the mirror image). When the true rate is
at or under the bar, M⁺ is a nonnegative supermartingale with mean at most 1, so the chance
it *ever* reaches 1/α is at most α (Ville's inequality): reading the verdict every day does
not inflate false "go"s. The integrals are incomplete Beta functions, in closed form, so the
numbers are exact (checked against scipy in the tests). The largest evidence over the daily
looks decides, as for the two-arm test, so a verdict once reached stays.

"go": the rate is above the bar; "no-go": below it; "keep going": neither yet, with the
visitors until a verdict if the rate stays where it is. The range shown is where the rate
could be: each bound a one-sided always-valid 95 % bound (the same tests, inverted), and, like
the verdict, kept from look to look (the running intersection of the daily ranges, itself
always valid), so a "go" never sits beside a range that reaches below the bar.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from collections.abc import Sequence
from dataclasses import dataclass

from kit.pages.schema import MAX_BAR
from kit.pages.schema import MIN_BAR
from kit.reports.stats import ALPHA
from kit.reports.stats import conversion_rate

METHOD = (
    "Each bar is judged by two one-sided always-valid tests of one proportion (a Beta-mixture "
    "martingale, exact): go when the rate is proven above the bar, no-go when proven below, "
    "at 5% each; valid however often you look. The bounds shown are those tests inverted."
)
PRIOR_SPREAD = 0.5  # the prior's standard deviation, as a share of the bar
MAX_MORE = 1_000_000  # beyond this many more visitors: "too close to the bar to tell"
_FLOOR = 1e-9  # bounds are searched above this (a bound below it reads as 0)
_CF_ITERATIONS = 20_000
_CF_EPSILON = 1e-15


@dataclass(frozen=True)
class Bar:
    """One rate against its bar: the verdict and where the rate could be."""

    metric: str  # "sign up" or "pay": what a converted visitor did
    bar: float
    visitors: int
    converted: int
    kind: str  # "go", "no-go", "keep-going" or "no-data"
    rate: float | None
    low: float | None  # always-valid 95 % lower bound
    high: float | None  # always-valid 95 % upper bound
    more_visitors: int | None  # to a verdict at the current rate; None when it can't be said
    moved: bool = False  # early and recent visitors disagree: judged on the counts as they are


def judge(
    metric: str, bar: float, looks: Sequence[tuple[int, int]], min_visitors: int = 100
) -> Bar:
    """The verdict for ``bar`` from ``looks``: cumulative (visitors, converted) at the end of
    each day, oldest first, the current counts last. Below ``min_visitors`` no verdict is
    given (as for the two-arm test), though the interval is shown."""
    visitors, converted = looks[-1] if looks else (0, 0)
    rate = conversion_rate(converted, visitors)
    if rate is None or not MIN_BAR <= bar <= MAX_BAR:  # NaN too
        return Bar(metric, bar, visitors, converted, "no-data", None, None, None, None)
    threshold = math.log(1 / ALPHA)
    usable = _usable(looks)
    found = bounds(usable)
    moved = found is None  # the daily ranges no longer overlap: judge the counts as they are
    if moved:
        usable = usable[-1:]
        found = bounds(usable)
    low, high = found or (None, None)
    above = max((log_evidence(c, n, bar, +1) for n, c in usable), default=0.0)
    below = max((log_evidence(c, n, bar, -1) for n, c in usable), default=0.0)
    kind = "keep-going"
    if visitors >= min_visitors and max(above, below) >= threshold:
        kind = "go" if (above >= threshold and (below < threshold or rate > bar)) else "no-go"
    more = None
    if kind == "keep-going":
        more = _more_visitors(converted, visitors, bar, threshold)
        if more is not None:
            more = max(more, min_visitors - visitors)
    return Bar(metric, bar, visitors, converted, kind, rate, low, high, more, moved)


def _usable(looks: Sequence[tuple[int, int]]) -> list[tuple[int, int]]:
    return [(n, c) for n, c in looks if conversion_rate(c, n) is not None]


def _prior(bar: float) -> tuple[float, float]:
    """Beta(a, b) with mean ``bar`` and standard deviation ``PRIOR_SPREAD × bar`` (at least
    as wide as a prior worth two visitors)."""
    concentration = max(2.0, (1 - bar) / (PRIOR_SPREAD**2 * bar) - 1)
    return bar * concentration, (1 - bar) * concentration


def log_evidence(converted: int, visitors: int, bar: float, side: int) -> float:
    """log M: the evidence that the rate is above (``side`` = +1) or below (−1) ``bar``."""
    a, b = _prior(bar)
    failed = visitors - converted
    if side > 0:
        posterior = _log_betainc_upper(bar, converted + a, failed + b)
        prior = _log_betainc_upper(bar, a, b)
    else:
        posterior = _log_betainc(bar, converted + a, failed + b)
        prior = _log_betainc(bar, a, b)
    return (
        _log_beta(converted + a, failed + b) + posterior - _log_beta(a, b) - prior
        - converted * math.log(bar) - failed * math.log1p(-bar)
    )  # fmt: skip


def bounds(looks: Sequence[tuple[int, int]]) -> tuple[float, float] | None:
    """The always-valid 95 % bounds over ``looks`` (cumulative (visitors, converted) with a
    rate, oldest first): the highest rate the counts of any look proved the rate above, and
    the lowest they proved it below. None when those cross: early and recent visitors
    disagree, which a steady rate does in at most 10 % of tests. Each look's bound is found by
    bisection, only where it could move the running one (the evidence falls as the tested
    rate nears the observed)."""
    threshold = math.log(1 / ALPHA)
    low, high = _FLOOR, 1 - _FLOOR
    for visitors, converted in looks:
        rate = converted / visitors
        if converted > 0 and rate > low and log_evidence(converted, visitors, low, +1) >= threshold:
            low = _bisect(low, rate, lambda p, n=visitors, c=converted: (
                log_evidence(c, n, p, +1) >= threshold))  # fmt: skip
        if (
            converted < visitors
            and rate < high
            and (log_evidence(converted, visitors, high, -1) >= threshold)
        ):
            high = _bisect(high, rate, lambda p, n=visitors, c=converted: (
                log_evidence(c, n, p, -1) >= threshold))  # fmt: skip
    if low > high:
        return None
    return (0.0 if low <= _FLOOR else low), (1.0 if high >= 1 - _FLOOR else high)


def _bisect(proven: float, unproven: float, holds: Callable[[float], bool]) -> float:
    """The point between ``proven`` (where ``holds``) and ``unproven`` where it stops holding,
    to 1e-5 (the page shows rates to a tenth of a point)."""
    while abs(unproven - proven) > 1e-5:  # a thousandth of a percentage point
        middle = (proven + unproven) / 2
        proven, unproven = (middle, unproven) if holds(middle) else (proven, middle)
    return proven


def _more_visitors(converted: int, visitors: int, bar: float, threshold: float) -> int | None:
    """More visitors until one test decides, if the rate stays at today's; None when the rate
    is at the bar or it would take more than ``MAX_MORE``."""
    rate = converted / visitors
    if abs(rate - bar) < 1e-12:
        return None
    side = 1 if rate > bar else -1

    def decided(more: int) -> bool:
        n = visitors + more
        return log_evidence(round(rate * n), n, bar, side) >= threshold

    if decided(0):
        return 0
    hi = max(visitors, 100)
    while not decided(hi):
        if hi > MAX_MORE:
            return None
        hi *= 2
    lo = hi // 2 if hi > max(visitors, 100) else 0
    while hi - lo > max(1, hi // 200):  # within half a percent: it is an estimate
        mid = (lo + hi) // 2
        lo, hi = (lo, mid) if decided(mid) else (mid, hi)
    return hi if hi <= MAX_MORE else None


# --- the regularized incomplete Beta function, in logs ------------------------------------


def _log_beta(a: float, b: float) -> float:
    return math.lgamma(a) + math.lgamma(b) - math.lgamma(a + b)


def _log_betainc(x: float, a: float, b: float) -> float:
    """log I_x(a, b), accurate when I is tiny (no 1 − I is ever formed where I is small)."""
    if x <= 0:
        return -math.inf
    if x >= 1:
        return 0.0
    if x < (a + 1) / (a + b + 2):
        return _log_front(x, a, b) + math.log(_continued_fraction(x, a, b) / a)
    upper = _log_front(x, a, b) + math.log(_continued_fraction(1 - x, b, a) / b)
    return math.log1p(-math.exp(upper)) if upper < 0 else -math.inf


def _log_betainc_upper(x: float, a: float, b: float) -> float:
    """log (1 − I_x(a, b)) = log I_{1−x}(b, a)."""
    return _log_betainc(1 - x, b, a)


def _log_front(x: float, a: float, b: float) -> float:
    return a * math.log(x) + b * math.log1p(-x) - _log_beta(a, b)


def _continued_fraction(x: float, a: float, b: float) -> float:
    """The continued fraction of I_x(a, b) by the modified Lentz method (Numerical Recipes
    §6.4); converges fast for x < (a + 1) / (a + b + 2)."""
    tiny = 1e-300
    c, d = 1.0, 1 - (a + b) * x / (a + 1)
    d = 1 / (tiny if abs(d) < tiny else d)
    h = d
    for m in range(1, _CF_ITERATIONS):
        for numerator in (
            m * (b - m) * x / ((a + 2 * m - 1) * (a + 2 * m)),
            -(a + m) * (a + b + m) * x / ((a + 2 * m) * (a + 2 * m + 1)),
        ):
            d = 1 + numerator * d
            d = 1 / (tiny if abs(d) < tiny else d)
            c = 1 + numerator / c
            c = tiny if abs(c) < tiny else c
            h *= d * c
        if abs(d * c - 1) < _CF_EPSILON:
            break
    return h
