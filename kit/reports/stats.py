"""The statistics behind the dashboard: pure functions, standard library only.

Founders look at the dashboard every day. A classic p-value read after every day of traffic
"finds" a winner between two identical pages far more often than 5 % of the time (the A/A
"99 % confident" bug report against the split gem). So the verdict here never rests on the
fixed-sample p-value: a winner is named only when an always-valid test says so — the mixture
sequential probability ratio test (mSPRT, Johari et al., "Always valid inference", 2017; what
Optimizely's Stats Engine and GrowthBook's sequential testing use). Its p-value may be read
after every visitor without inflating false alarms (Ville's inequality). The classic numbers
(Wilson intervals, z-test or Fisher's exact test, Bayesian chances) are shown beside it as
descriptions of the data, each labelled with its method. Every number is None — never NaN —
when the data cannot support it; the verdict then says what is missing.

Any counts a database can hold are accepted: an arm with no visitors, more conversions than
visitors (rows from an older release), negative or huge numbers. Such an arm has no rate and
no chances ("no data"), and no function here raises on it.

The always-valid p-value shown is the running minimum over the experiment's daily looks (each
look the cumulative counts at the end of a day), as Johari et al. define it; it is recomputed
from stored counts, so it is the same whenever it is read, and a winner once named stays named.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from statistics import NormalDist

ALPHA = 0.05
SRM_THRESHOLD = 0.001
TARGET_LIFT = 0.20  # the relative lift the sample-size guidance is for
POWER = 0.80
NORMAL = NormalDist()
FISHER_MAX_TABLES = 100_000


@dataclass(frozen=True)
class Arm:
    """One variant's counts, and its configured traffic weight for the sample-ratio check.

    ``conversions`` are visitors who converted; ``signups``, when given, the signup rows behind
    them (one visitor may sign up several addresses), shown beside them and never tested.
    """

    name: str
    visitors: int
    conversions: int
    weight: float = 1.0
    signups: int | None = None


def conversion_rate(conversions: int, visitors: int) -> float | None:
    """Conversions per visitor; None unless there are visitors and conversions between 0 and
    them (counts a database can hold but a rate can't be taken of)."""
    return conversions / visitors if visitors > 0 and 0 <= conversions <= visitors else None


def arm_label(name: str) -> str:
    """How an arm is named to people: its variant, or "all visitors" on a page without a test."""
    return name or "all visitors"


def counted(n: int, noun: str) -> str:
    """ "1 visitor", "1,204 visitors": the founder's pages and CLI say one thing once."""
    return f"{n:,} {noun}" if n == 1 else f"{n:,} {noun}s"


def usable(arm: Arm) -> bool:
    """Counts a rate can be taken of."""
    return conversion_rate(arm.conversions, arm.visitors) is not None


@dataclass(frozen=True)
class Interval:
    low: float
    high: float


@dataclass(frozen=True)
class ArmResult:
    name: str
    visitors: int
    conversions: int
    signups: int | None
    is_control: bool
    rate: float | None
    rate_interval: Interval | None
    uplift_abs: float | None
    uplift_abs_interval: Interval | None
    uplift_rel: float | None
    uplift_rel_interval: Interval | None
    z: float | None
    p_value: float | None
    test: str | None
    p_adjusted: float | None
    always_valid_p: float | None
    chance_to_beat_control: float | None
    chance_to_be_best: float | None


@dataclass(frozen=True)
class SampleRatio:
    chi2: float | None
    p_value: float | None
    mismatch: bool


@dataclass(frozen=True)
class Report:
    arms: list[ArmResult]
    srm: SampleRatio
    enough_data: bool
    winner: str | None
    leader: str | None
    needed_per_arm: int | None
    corrected: bool
    verdict: str
    methods: dict[str, str]


METHODS = {
    "Conversion interval": "95% Wilson score interval.",
    "Absolute uplift interval": "95% Newcombe hybrid score interval for the difference of "
    "two proportions (built from the two Wilson intervals).",
    "Relative uplift interval": "95% interval of the risk ratio on the log scale (Katz); "
    "not shown while either arm has no signups.",
    "p-value": "Two-sided two-proportion z-test with pooled variance; when any expected cell "
    "of the 2x2 table is below 5 the exact two-sided Fisher test is used instead, and the "
    "table says which.",
    "Always-valid p": "Mixture sequential probability ratio test (mSPRT) on the difference of "
    "rates with a normal mixing distribution whose spread is a 20% relative lift of the "
    "pooled rate: valid however often you look. Only this p decides the verdict.",
    "Chance to beat control / to be best": "Bayesian, each rate with a Beta(1, 1) prior: "
    "with two variants the exact closed form (Evan Miller's sum, in log space); with more, "
    "integrated numerically on a grid (error under 0.1 percentage points).",
    "Multiple variants": "With three or more variants the p-values are Holm-adjusted "
    "(family-wise error 5%).",
    "Sample ratio check": "Chi-square goodness-of-fit of visitors against the configured "
    "weights; a warning when p < 0.001.",
    "Sample size": "Visitors per variant for a two-sided 5% test with 80% power to detect a "
    "20% relative lift over the control's current rate (normal approximation).",
}


# --- single proportions and differences ---------------------------------------------------


def wilson_interval(conversions: int, visitors: int, confidence: float = 0.95) -> Interval | None:
    """The Wilson score interval: sane at 0 % and 100 %, unlike the textbook Wald interval."""
    if visitors <= 0 or not 0 <= conversions <= visitors:
        return None
    z = NORMAL.inv_cdf(0.5 + confidence / 2)
    p = conversions / visitors
    denominator = 1 + z * z / visitors
    centre = (p + z * z / (2 * visitors)) / denominator
    half = z * math.sqrt(p * (1 - p) / visitors + z * z / (4 * visitors**2)) / denominator
    return Interval(max(0.0, centre - half), min(1.0, centre + half))


@dataclass(frozen=True)
class Cost:
    """What one conversion costs, in the spend's unit, with its 95 % interval."""

    value: float | None  # None while nobody converted
    low: float | None  # None: too few visitors for a range (below the minimum)
    high: float | None  # None: no upper bound yet (the rate's interval starts at 0)


def cost_per(spend: int, visitors: int, conversions: int, min_visitors: int) -> Cost | None:
    """Spend per conversion, spend / (visitors × rate), its interval taken from the rate's
    Wilson interval (a higher rate is a lower cost). Below ``min_visitors`` the spend per
    conversion so far without a range (it is a plain division, like the cost per visitor);
    None without visitors or with counts no rate can be taken of."""
    interval = wilson_interval(conversions, visitors)
    if interval is None or interval.high == 0:
        return None
    if visitors < min_visitors:
        return Cost(spend / conversions if conversions else None, None, None)
    return Cost(
        spend / conversions if conversions else None,
        spend / (visitors * interval.high),
        spend / (visitors * interval.low) if interval.low > 0 else None,
    )


def newcombe_interval(control: Arm, arm: Arm) -> Interval | None:
    """95 % interval of ``rate(arm) - rate(control)`` (Newcombe's method 10)."""
    first = wilson_interval(control.conversions, control.visitors)
    second = wilson_interval(arm.conversions, arm.visitors)
    if first is None or second is None:
        return None
    p1, p2 = control.conversions / control.visitors, arm.conversions / arm.visitors
    difference = p2 - p1
    low = difference - math.sqrt((p2 - second.low) ** 2 + (first.high - p1) ** 2)
    high = difference + math.sqrt((second.high - p2) ** 2 + (p1 - first.low) ** 2)
    return Interval(low, high)


def relative_interval(control: Arm, arm: Arm, confidence: float = 0.95) -> Interval | None:
    """95 % interval of ``rate(arm) / rate(control) - 1`` from the log risk ratio (Katz)."""
    if not (usable(control) and usable(arm)) or min(control.conversions, arm.conversions) <= 0:
        return None
    ratio = (arm.conversions / arm.visitors) / (control.conversions / control.visitors)
    se = math.sqrt(
        1 / arm.conversions - 1 / arm.visitors + 1 / control.conversions - 1 / control.visitors
    )
    z = NORMAL.inv_cdf(0.5 + confidence / 2)
    return Interval(ratio * math.exp(-z * se) - 1, ratio * math.exp(z * se) - 1)


def z_test(control: Arm, arm: Arm) -> tuple[float, float] | None:
    """Pooled two-proportion z statistic and its two-sided p-value; None when undefined."""
    n1, n2 = control.visitors, arm.visitors
    if not (usable(control) and usable(arm)):
        return None
    pooled = (control.conversions + arm.conversions) / (n1 + n2)
    if pooled <= 0 or pooled >= 1:
        return None
    se = math.sqrt(pooled * (1 - pooled) * (1 / n1 + 1 / n2))
    z = (arm.conversions / n2 - control.conversions / n1) / se
    return z, min(1.0, 2 * NORMAL.cdf(-abs(z)))


@dataclass(frozen=True)
class Ratio:
    """How many times ``first`` converts ``second``, with its 95 % interval and the p-value of
    "no difference" (z-test, or Fisher's exact test on small counts, as for variants)."""

    ratio: float
    interval: Interval | None
    p_value: float | None
    test: str | None
    confidence: float = 0.95


def rate_ratio(first: Arm, second: Arm, confidence: float = 0.95) -> Ratio | None:
    """``rate(first) / rate(second)``; None while either has no rate or ``second`` no signups."""
    if not (usable(first) and usable(second)) or second.conversions <= 0:
        return None
    ratio = (first.conversions / first.visitors) / (second.conversions / second.visitors)
    relative = relative_interval(second, first, confidence)
    interval = Interval(relative.low + 1, relative.high + 1) if relative is not None else None
    p_value, test = None, None
    tested = z_test(second, first)
    if tested is None or _small_counts(second, first):
        exact = fisher_exact(second, first)
        if exact is not None:
            p_value, test = exact, "Fisher's exact test"
    if p_value is None and tested is not None:
        p_value, test = tested[1], "z-test"
    return Ratio(ratio, interval, p_value, test, confidence)


def _log_choose(n: int, k: int) -> float:
    return math.lgamma(n + 1) - math.lgamma(k + 1) - math.lgamma(n - k + 1)


def fisher_exact(control: Arm, arm: Arm) -> float | None:
    """Two-sided Fisher exact p-value of the 2x2 table (the rule scipy uses: tables no likelier).

    None for tables with more than ``FISHER_MAX_TABLES`` possible tables (huge counts), where
    the z-test's approximation is excellent anyway.
    """
    n1, n2 = control.visitors, arm.visitors
    if not (usable(control) and usable(arm)):
        return None
    converted = control.conversions + arm.conversions
    low, high = max(0, converted - n2), min(converted, n1)
    if high - low > FISHER_MAX_TABLES:
        return None
    total = _log_choose(n1 + n2, converted)

    def log_p(k: int) -> float:
        return _log_choose(n1, k) + _log_choose(n2, converted - k) - total

    observed = log_p(control.conversions)
    p = sum(
        math.exp(log_p(k))
        for k in range(low, high + 1)
        if log_p(k) <= observed + 1e-7 * abs(observed) + 1e-12
    )
    return min(1.0, p)


def _small_counts(control: Arm, arm: Arm) -> bool:
    """Any expected cell of the 2x2 table below 5: the z-test's normal approximation fails."""
    total = control.visitors + arm.visitors
    converted = control.conversions + arm.conversions
    return any(
        n * c / total < 5
        for n in (control.visitors, arm.visitors)
        for c in (converted, total - converted)
    )


def always_valid_p(control: Arm, arm: Arm) -> float | None:
    """The mSPRT p-value 1/Λ for "the rates are equal", safe to read after every visitor.

    Λ mixes the likelihood ratio of the observed difference over a normal prior N(0, τ²) on
    the true difference, τ = 20 % of the pooled rate. Under no difference, the chance that
    1/Λ ever drops below α is at most α (Ville's inequality), however often one looks.
    """
    n1, n2 = control.visitors, arm.visitors
    if not (usable(control) and usable(arm)):
        return None
    p1, p2 = control.conversions / n1, arm.conversions / n2
    pooled = (control.conversions + arm.conversions) / (n1 + n2)
    variance = pooled * (1 - pooled) * (1 / n1 + 1 / n2)
    if variance <= 0:
        return None
    tau2 = (TARGET_LIFT * pooled) ** 2
    difference = p2 - p1
    log_lambda = 0.5 * math.log(variance / (variance + tau2)) + difference**2 * tau2 / (
        2 * variance * (variance + tau2)
    )
    return min(1.0, math.exp(-log_lambda))


def holm(p_values: Sequence[float | None]) -> list[float | None]:
    """Holm's step-down adjustment; None entries stay None and don't count as hypotheses."""
    present = sorted((p, i) for i, p in enumerate(p_values) if p is not None)
    adjusted: list[float | None] = [None] * len(p_values)
    running = 0.0
    for rank, (p, index) in enumerate(present):
        running = max(running, min(1.0, (len(present) - rank) * p))
        adjusted[index] = running
    return adjusted


# --- sample ratio and sample size ---------------------------------------------------------


def _upper_gamma_regularized(a: float, x: float) -> float:
    """Q(a, x) = Γ(a, x) / Γ(a), by series or continued fraction (Numerical Recipes)."""
    if x <= 0:
        return 1.0
    log_front = a * math.log(x) - x - math.lgamma(a)
    if x < a + 1:
        term = total = 1 / a
        n = a
        for _ in range(1000):
            n += 1
            term *= x / n
            total += term
            if abs(term) < abs(total) * 1e-15:
                break
        return max(0.0, 1 - total * math.exp(log_front))
    tiny = 1e-300
    b = x + 1 - a
    c = 1 / tiny
    d = 1 / b
    h = d
    for i in range(1, 1000):
        an = -i * (i - a)
        b += 2
        d = an * d + b
        d = tiny if abs(d) < tiny else d
        c = b + an / c
        c = tiny if abs(c) < tiny else c
        d = 1 / d
        delta = d * c
        h *= delta
        if abs(delta - 1) < 1e-15:
            break
    return min(1.0, math.exp(log_front) * h)


def sample_ratio(arms: Sequence[Arm]) -> SampleRatio:
    """Chi-square test of the visitor split against the weights; p < 0.001 means "broken"."""
    total = sum(arm.visitors for arm in arms)
    weights = sum(arm.weight for arm in arms)
    valid = all(arm.visitors >= 0 and arm.weight > 0 for arm in arms)
    if len(arms) < 2 or total <= 0 or weights <= 0 or not valid:
        return SampleRatio(None, None, False)
    chi2 = 0.0
    for arm in arms:
        expected = total * arm.weight / weights
        chi2 += (arm.visitors - expected) ** 2 / expected
    p = _upper_gamma_regularized((len(arms) - 1) / 2, chi2 / 2)
    return SampleRatio(chi2, p, p < SRM_THRESHOLD)


def sample_size_per_arm(
    baseline: float, lift: float = TARGET_LIFT, alpha: float = ALPHA, power: float = POWER
) -> int | None:
    """Visitors per variant to detect ``baseline * (1 + lift)`` (two-sided test, normal approx.)."""
    target = baseline * (1 + lift)
    if baseline <= 0 or target >= 1:
        return None
    z_alpha, z_beta = NORMAL.inv_cdf(1 - alpha / 2), NORMAL.inv_cdf(power)
    mean = (baseline + target) / 2
    spread = z_alpha * math.sqrt(2 * mean * (1 - mean)) + z_beta * math.sqrt(
        baseline * (1 - baseline) + target * (1 - target)
    )
    return math.ceil(spread**2 / (target - baseline) ** 2)


@dataclass(frozen=True)
class Sequential:
    """A variant's always-valid p over all looks so far, and which way it pointed then."""

    p: float | None  # the running minimum; None while no look could be tested
    direction: int  # +1: the variant converted better than the control at that look, -1 worse


def running_always_valid_p(looks: Sequence[Sequence[Arm]]) -> list[Sequential]:
    """Per variant (every arm but the first), the smallest always-valid p over ``looks``.

    A look is every arm's cumulative counts at one moment, in the same order (the dashboard
    uses the end of each day, and now). Ville's inequality holds for the whole path, so the
    minimum is as valid as any single reading, and it never rises: a verdict reached stays.
    The direction is the one seen where the minimum was reached.
    """
    variants = len(looks[-1]) - 1 if looks else 0
    best = [Sequential(None, 0) for _ in range(variants)]
    for look in looks:
        if len(look) != variants + 1:
            continue
        control = look[0]
        for k, arm in enumerate(look[1:]):
            p = always_valid_p(control, arm)
            if p is not None and (best[k].p is None or p < best[k].p):
                better = arm.conversions * control.visitors > control.conversions * arm.visitors
                best[k] = Sequential(p, 1 if better else -1)
    return best
