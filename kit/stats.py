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
GRID_POINTS = 200  # per arm, for integrating the Beta posteriors
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
    "Chance to beat control / to be best": "Bayesian, each rate with a Beta(1, 1) prior, "
    "integrated numerically (error well under 0.5 percentage points).",
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
    low: float
    high: float | None  # None: no upper bound yet (the rate's interval starts at 0)


def cost_per(spend: int, visitors: int, conversions: int, min_visitors: int) -> Cost | None:
    """Spend per conversion, spend / (visitors × rate), its interval taken from the rate's
    Wilson interval (a higher rate is a lower cost). None below ``min_visitors``: not
    enough data to say."""
    interval = wilson_interval(conversions, visitors)
    if interval is None or visitors < min_visitors or interval.high == 0:
        return None
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


def relative_interval(control: Arm, arm: Arm) -> Interval | None:
    """95 % interval of ``rate(arm) / rate(control) - 1`` from the log risk ratio (Katz)."""
    if not (usable(control) and usable(arm)) or min(control.conversions, arm.conversions) <= 0:
        return None
    ratio = (arm.conversions / arm.visitors) / (control.conversions / control.visitors)
    se = math.sqrt(
        1 / arm.conversions - 1 / arm.visitors + 1 / control.conversions - 1 / control.visitors
    )
    z = NORMAL.inv_cdf(0.975)
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


def rate_ratio(first: Arm, second: Arm) -> Ratio | None:
    """``rate(first) / rate(second)``; None while either has no rate or ``second`` no signups."""
    if not (usable(first) and usable(second)) or second.conversions <= 0:
        return None
    ratio = (first.conversions / first.visitors) / (second.conversions / second.visitors)
    relative = relative_interval(second, first)
    interval = Interval(relative.low + 1, relative.high + 1) if relative is not None else None
    p_value, test = None, None
    tested = z_test(second, first)
    if tested is None or _small_counts(second, first):
        exact = fisher_exact(second, first)
        if exact is not None:
            p_value, test = exact, "Fisher's exact test"
    if p_value is None and tested is not None:
        p_value, test = tested[1], "z-test"
    return Ratio(ratio, interval, p_value, test)


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


# --- Bayesian chances ---------------------------------------------------------------------


def _posterior_grid(arms: Sequence[Arm]) -> list[float]:
    """Points dense around every arm's posterior, so narrow and wide ones are both resolved."""
    points = set()
    for arm in arms:
        a, b = arm.conversions + 1, arm.visitors - arm.conversions + 1
        mean = a / (a + b)
        sd = math.sqrt(a * b / ((a + b) ** 2 * (a + b + 1)))
        low, high = max(0.0, mean - 12 * sd), min(1.0, mean + 12 * sd)
        step = (high - low) / GRID_POINTS
        points.update(low + step * k for k in range(GRID_POINTS + 1))
    return sorted(points)


def _log_beta_pdf(x: float, a: float, b: float, log_norm: float) -> float:
    if x <= 0:
        return -log_norm if a == 1 else -math.inf
    if x >= 1:
        return -log_norm if b == 1 else -math.inf
    return (a - 1) * math.log(x) + (b - 1) * math.log1p(-x) - log_norm


def chance_to_be_best(arms: Sequence[Arm]) -> list[float] | None:
    """P(each arm's true rate is the highest), Beta(1, 1) priors, integrated on a fine grid.

    None while any arm has no usable counts: an arm nobody has seen would get its chances from
    the prior alone ("94 % chance to be best" for a variant with no visitors).
    """
    if len(arms) < 2 or not all(usable(arm) for arm in arms):
        return None
    grid = _posterior_grid(arms)
    densities, cdfs = [], []
    for arm in arms:
        a, b = arm.conversions + 1, arm.visitors - arm.conversions + 1
        log_norm = math.lgamma(a) + math.lgamma(b) - math.lgamma(a + b)
        pdf = [math.exp(_log_beta_pdf(x, a, b, log_norm)) for x in grid]
        cdf = [0.0]
        for k in range(1, len(grid)):
            cdf.append(cdf[-1] + (pdf[k] + pdf[k - 1]) / 2 * (grid[k] - grid[k - 1]))
        mass = cdf[-1] or 1.0
        densities.append([v / mass for v in pdf])
        cdfs.append([v / mass for v in cdf])
    chances = []
    for i in range(len(arms)):
        values = []
        for k in range(len(grid)):
            value = densities[i][k]
            for j in range(len(arms)):
                if j != i:
                    value *= cdfs[j][k]
            values.append(value)
        chances.append(
            sum(
                (values[k] + values[k - 1]) / 2 * (grid[k] - grid[k - 1])
                for k in range(1, len(grid))
            )
        )
    total = sum(chances) or 1.0
    return [min(1.0, max(0.0, c / total)) for c in chances]


def chance_to_beat(control: Arm, arm: Arm) -> float | None:
    """P(arm's true rate > control's), Beta(1, 1) priors."""
    chances = chance_to_be_best([control, arm])
    return chances[1] if chances else None


# --- the report ---------------------------------------------------------------------------


def _percent(value: float | None) -> str:
    if value is None:
        return "–"
    return f"{value * 100:.0f}%" if 0.01 <= value <= 0.99 else f"{value * 100:.1f}%"


def _p(value: float) -> str:
    return "< 0.0001" if value < 0.0001 else f"{value:.4f}"


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
    best = chance_to_be_best(arms) if len(arms) > 1 else None
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
    return Report(report_arms, srm, enough, winner, leader, needed, corrected, verdict, METHODS)


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
            f"{arm.name or 'all visitors'} ({arm.conversions:,} from {arm.visitors:,} visitors)"
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
            f"{control.visitors:,} visitors, {control.conversions:,} {converted}: conversion "
            f"{_percent(control.rate)} (95% interval {_percent(interval.low)} to "
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
