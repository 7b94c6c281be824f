"""The dashboard's statistics against scipy, on edge cases and on many generated inputs."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import settings
from hypothesis import strategies as st
from scipy import integrate
from scipy.stats import beta
from scipy.stats import binomtest
from scipy.stats import chi2_contingency
from scipy.stats import chisquare
from scipy.stats import fisher_exact as scipy_fisher
from scipy.stats import norm
from scipy.stats.contingency import relative_risk

from kit.reports.chances import chance_to_be_best
from kit.reports.chances import chance_to_beat
from kit.reports.decision import analyse
from kit.reports.stats import Arm
from kit.reports.stats import always_valid_p
from kit.reports.stats import fisher_exact
from kit.reports.stats import holm
from kit.reports.stats import newcombe_interval
from kit.reports.stats import rate_ratio
from kit.reports.stats import relative_interval
from kit.reports.stats import sample_ratio
from kit.reports.stats import sample_size_per_arm
from kit.reports.stats import wilson_interval
from kit.reports.stats import z_test


@st.composite
def arm(draw, name="a", max_visitors=10**6, min_visitors=0):
    visitors = draw(st.integers(min_visitors, max_visitors))
    conversions = draw(st.integers(0, visitors))
    return Arm(name, visitors, conversions)


@st.composite
def arms(draw, count=None, min_visitors=0):
    k = count or draw(st.integers(2, 4))
    return [draw(arm(name=chr(97 + i), min_visitors=min_visitors)) for i in range(k)]


def scipy_best(group):
    """P(each arm is best) by adaptive quadrature of the Beta(1+c, 1+n-c) posteriors."""
    posteriors = [beta(a.conversions + 1, a.visitors - a.conversions + 1) for a in group]
    out = []
    for i, own in enumerate(posteriors):
        others = [p for j, p in enumerate(posteriors) if j != i]
        # The integrand is at most own.pdf: integrating over own's support alone loses < 1e-12.
        value = integrate.quad(
            lambda x, own=own, others=others: own.pdf(x) * math.prod(p.cdf(x) for p in others),
            own.ppf(1e-12),
            own.ppf(1 - 1e-12),
            points=[own.mean()],
            limit=500,
        )[0]
        out.append(value)
    total = sum(out)
    return [v / total for v in out]


# --- Wilson, Newcombe, Katz ---------------------------------------------------------------


@given(arm())
def test_wilson_interval_matches_scipy(a):
    mine = wilson_interval(a.conversions, a.visitors)
    if a.visitors == 0:
        assert mine is None
        return
    ref = binomtest(a.conversions, a.visitors).proportion_ci(method="wilson")
    assert mine.low == pytest.approx(ref.low, abs=1e-9)
    assert mine.high == pytest.approx(ref.high, abs=1e-9)


def test_wilson_interval_at_the_edges():
    assert wilson_interval(0, 0) is None
    none = wilson_interval(0, 50)
    assert none.low == 0 and 0 < none.high < 0.1
    everyone = wilson_interval(50, 50)
    assert 0.9 < everyone.low < 1 and everyone.high == 1
    one = wilson_interval(1, 1)
    assert 0 < one.low < one.high == 1


@given(arm(name="a", max_visitors=10**5), arm(name="b", max_visitors=10**5))
def test_newcombe_interval_is_built_from_the_scipy_wilson_intervals(control, variant):
    mine = newcombe_interval(control, variant)
    if min(control.visitors, variant.visitors) == 0:
        assert mine is None
        return
    p1, p2 = control.conversions / control.visitors, variant.conversions / variant.visitors
    w1 = binomtest(control.conversions, control.visitors).proportion_ci(method="wilson")
    w2 = binomtest(variant.conversions, variant.visitors).proportion_ci(method="wilson")
    low = p2 - p1 - math.hypot(p2 - w2.low, w1.high - p1)
    high = p2 - p1 + math.hypot(w2.high - p2, p1 - w1.low)
    assert (mine.low, mine.high) == pytest.approx((low, high), abs=1e-9)
    assert mine.low <= p2 - p1 <= mine.high


def test_relative_interval_from_the_log_risk_ratio():
    control, variant = Arm("a", 1000, 100), Arm("b", 1000, 135)
    se = math.sqrt(1 / 135 - 1 / 1000 + 1 / 100 - 1 / 1000)
    z = norm.ppf(0.975)
    mine = relative_interval(control, variant)
    assert mine.low == pytest.approx(1.35 * math.exp(-z * se) - 1)
    assert mine.high == pytest.approx(1.35 * math.exp(z * se) - 1)
    assert relative_interval(Arm("a", 100, 0), variant) is None


# --- z-test and Fisher --------------------------------------------------------------------


@given(arm(name="a"), arm(name="b"))
def test_z_test_matches_scipy_normal(control, variant):
    mine = z_test(control, variant)
    n1, n2 = control.visitors, variant.visitors
    pooled = (control.conversions + variant.conversions) / (n1 + n2) if n1 and n2 else 0
    if not n1 or not n2 or pooled in (0, 1):
        assert mine is None
        return
    se = math.sqrt(pooled * (1 - pooled) * (1 / n1 + 1 / n2))
    z = (variant.conversions / n2 - control.conversions / n1) / se
    assert mine[0] == pytest.approx(z, rel=1e-9, abs=1e-12)
    assert mine[1] == pytest.approx(2 * norm.sf(abs(z)), rel=1e-6, abs=1e-15)


@settings(max_examples=200)
@given(arm(name="a", max_visitors=300), arm(name="b", max_visitors=300))
def test_fisher_exact_matches_scipy(control, variant):
    mine = fisher_exact(control, variant)
    if min(control.visitors, variant.visitors) == 0:
        assert mine is None
        return
    table = [
        [control.conversions, control.visitors - control.conversions],
        [variant.conversions, variant.visitors - variant.conversions],
    ]
    assert mine == pytest.approx(scipy_fisher(table)[1], rel=1e-6, abs=1e-12)


def test_small_counts_use_fishers_exact_test_and_say_so():
    report = analyse([Arm("a", 20, 1), Arm("b", 20, 6)], min_visitors=1)
    b = report.arms[1]
    assert b.test == "Fisher's exact test"
    assert b.p_value == pytest.approx(scipy_fisher([[1, 19], [6, 14]])[1])
    large = analyse([Arm("a", 2000, 100), Arm("b", 2000, 130)]).arms[1]
    assert large.test == "z-test"


# --- Bayesian chances ---------------------------------------------------------------------


@settings(max_examples=40, deadline=None)
@given(arms(min_visitors=1))
def test_chance_to_be_best_matches_scipy_integration(group):
    mine = chance_to_be_best(group)
    ref = scipy_best(group)
    assert mine == pytest.approx(ref, abs=0.005)
    assert sum(mine) == pytest.approx(1)


def scipy_beat(control: Arm, arm: Arm) -> float:
    """P(p_arm > p_control) by quadrature of the difference's posterior, to about 1e-10."""
    a = beta(control.conversions + 1, control.visitors - control.conversions + 1)
    b = beta(arm.conversions + 1, arm.visitors - arm.conversions + 1)
    # P(B > A) = ∫ f_B(x) F_A(x) dx over B's support; the tails beyond 1e-14 add nothing visible.
    low, high = b.ppf(1e-14), b.isf(1e-14)
    points = sorted({b.mean(), a.mean()} & {x for x in (b.mean(), a.mean()) if low < x < high})
    value, _ = integrate.quad(
        lambda x: b.pdf(x) * a.cdf(x),
        low,
        high,
        points=points,
        limit=1000,
        epsabs=1e-12,
        epsrel=1e-12,
    )
    return value


@settings(max_examples=60, deadline=None)
@given(arm(name="a", max_visitors=20_000, min_visitors=1),
       arm(name="b", max_visitors=20_000, min_visitors=1))  # fmt: skip
def test_two_arm_chance_to_beat_is_exact_to_1e_7(control, variant):
    """Evan Miller's closed form, not a grid: the card's "81 % chance" is the posterior's own."""
    assert chance_to_beat(control, variant) == pytest.approx(scipy_beat(control, variant), abs=1e-7)


def test_two_arm_chances_on_known_cases_and_large_counts():
    # Two identical arms: one half exactly (symmetry), at any size.
    assert chance_to_beat(Arm("a", 10, 0), Arm("b", 10, 0)) == pytest.approx(0.5, abs=1e-12)
    assert chance_to_beat(Arm("a", 10**6, 5000), Arm("b", 10**6, 5000)) == pytest.approx(
        0.5, abs=1e-8
    )
    big_a, big_b = Arm("a", 300_000, 30_000), Arm("b", 300_000, 30_400)
    assert chance_to_beat(big_a, big_b) == pytest.approx(scipy_beat(big_a, big_b), abs=1e-7)
    report = analyse([Arm("a", 1000, 100), Arm("b", 1000, 130)])
    chance = report.arms[1].chance_to_beat_control
    assert chance == pytest.approx(scipy_beat(Arm("a", 1000, 100), Arm("b", 1000, 130)), abs=1e-7)
    assert [arm.chance_to_be_best for arm in report.arms] == pytest.approx([1 - chance, chance])


def test_an_arm_nobody_has_seen_gets_no_chances():
    """A variant with 0 visitors would otherwise show the prior's "94% chance to be best"."""
    report = analyse([Arm("a", 120, 2), Arm("b", 0, 0), Arm("c", 130, 1)])
    assert [arm.chance_to_be_best for arm in report.arms] == [None, None, None]
    assert report.arms[1].chance_to_beat_control is None
    assert report.arms[1].rate is None
    assert report.winner is None


def test_chance_to_beat_control_on_known_cases():
    report = analyse([Arm("a", 1000, 100), Arm("b", 1000, 130)])
    assert report.arms[1].chance_to_beat_control == pytest.approx(
        scipy_best([Arm("a", 1000, 100), Arm("b", 1000, 130)])[1], abs=0.005
    )
    same = analyse([Arm("a", 10, 0), Arm("b", 10, 0)])
    assert same.arms[1].chance_to_beat_control == pytest.approx(0.5)
    assert analyse([Arm("a", 0, 0), Arm("b", 0, 0)]).arms[1].chance_to_beat_control is None


# --- sample ratio, sample size, Holm, sequential ------------------------------------------


@given(
    st.lists(st.integers(0, 10**6), min_size=2, max_size=4),
    st.lists(st.floats(0.1, 10), min_size=4, max_size=4),
)
def test_sample_ratio_check_matches_scipy_chisquare(visitors, weights):
    group = [Arm(str(i), n, 0, w) for i, (n, w) in enumerate(zip(visitors, weights, strict=False))]
    mine = sample_ratio(group)
    total = sum(visitors)
    if total == 0:
        assert mine.p_value is None and not mine.mismatch
        return
    used = weights[: len(visitors)]
    expected = [total * w / sum(used) for w in used]
    ref = chisquare(visitors, expected)
    assert mine.chi2 == pytest.approx(ref.statistic, rel=1e-9)
    assert mine.p_value == pytest.approx(ref.pvalue, rel=1e-6, abs=1e-300)
    assert mine.mismatch == (ref.pvalue < 0.001)


def test_sample_size_matches_the_textbook_formula():
    p1, p2 = 0.10, 0.12
    za, zb = norm.ppf(0.975), norm.ppf(0.8)
    pbar = (p1 + p2) / 2
    n = (za * math.sqrt(2 * pbar * (1 - pbar)) + zb * math.sqrt(p1 * (1 - p1) + p2 * (1 - p2))) ** 2
    assert sample_size_per_arm(0.10) == math.ceil(n / (p2 - p1) ** 2)
    assert sample_size_per_arm(0) is None
    assert sample_size_per_arm(0.9) is None  # a 20% lift would pass 100%


def test_holm_on_a_worked_example():
    # p = .01, .04, .03, .005 over 4 hypotheses: sorted .005 .01 .03 .04 -> x4 x3 x2 x1
    assert holm([0.01, 0.04, 0.03, 0.005]) == pytest.approx([0.03, 0.06, 0.06, 0.02])
    assert holm([0.5, None]) == [0.5, None]


@given(st.lists(st.floats(0, 1), min_size=1, max_size=6))
def test_holm_never_lowers_a_p_value_and_keeps_the_order(ps):
    adjusted = holm(ps)
    assert all(a >= p - 1e-15 and a <= 1 for a, p in zip(adjusted, ps, strict=True))
    ranked = sorted(range(len(ps)), key=lambda i: ps[i])
    assert [adjusted[i] for i in ranked] == sorted(adjusted)


def test_always_valid_p_shrinks_with_a_real_difference_and_not_without():
    assert always_valid_p(Arm("a", 20000, 2000), Arm("b", 20000, 2600)) < 0.001
    assert always_valid_p(Arm("a", 20000, 2000), Arm("b", 20000, 2000)) == 1
    assert always_valid_p(Arm("a", 0, 0), Arm("b", 10, 1)) is None


def simulate_looks(rates, experiments, days, per_day, seed):
    """Run experiments day by day; per experiment, the winner named at each daily look."""
    rng = np.random.default_rng(seed)
    runs = []
    for _ in range(experiments):
        daily = rng.binomial(per_day, rates, size=(days, len(rates))).cumsum(axis=0)
        looks, named = [], []
        for day in range(days):
            visitors = per_day * (day + 1)
            group = [Arm(chr(97 + i), visitors, int(c)) for i, c in enumerate(daily[day])]
            named.append(analyse(group, looks=looks).winner)
            looks.append(group)
        runs.append(named)
    return runs


def simulate(rates, experiments, days, per_day, seed):
    """The set of winners each experiment ever named, read after every day."""
    runs = simulate_looks(rates, experiments, days, per_day, seed)
    return [{winner for winner in named if winner} for named in runs]


def test_peeking_every_day_at_aa_tests_rarely_declares_a_winner():
    """300 A/A tests, the verdict read after each of 21 days: at most 5% ever name a winner."""
    declared = simulate([0.08, 0.08], experiments=300, days=21, per_day=150, seed=7)
    false_alarms = sum(1 for winners in declared if winners) / len(declared)
    assert false_alarms <= 0.05


def test_peeking_at_aaa_tests_with_three_arms_rarely_declares_a_winner():
    declared = simulate([0.1, 0.1, 0.1], experiments=100, days=21, per_day=150, seed=8)
    assert sum(1 for winners in declared if winners) / len(declared) <= 0.05


def test_a_real_30_percent_lift_is_found_and_the_worse_arm_is_not_crowned():
    declared = simulate([0.08, 0.104], experiments=60, days=21, per_day=300, seed=9)
    found = sum(1 for winners in declared if "b" in winners) / len(declared)
    wrong = sum(1 for winners in declared if "a" in winners) / len(declared)
    assert found >= 0.7
    assert wrong <= 0.02


def test_a_winner_named_at_a_daily_look_stays_named_at_every_later_look():
    """400 tests with a modest real lift read daily for 28 days: once a winner is named, the
    same winner is named at every later look in at least 99% of the runs that named one."""
    runs = simulate_looks([0.08, 0.096], experiments=400, days=28, per_day=200, seed=11)
    named = [run for run in runs if any(run)]

    def stays(run: list[str | None]) -> bool:
        first = next(i for i, winner in enumerate(run) if winner)
        return all(winner == run[first] for winner in run[first:])

    stayed = [run for run in named if stays(run)]
    assert len(named) >= 100  # enough runs named a winner for the share to mean something
    assert len(stayed) / len(named) >= 0.99


def assert_numbers_or_none(report) -> None:
    """Every number is finite or None (shown as a dash), and the verdict is a sentence."""
    for result in report.arms:
        for value in (
            result.rate, result.uplift_abs, result.uplift_rel, result.z, result.p_value,
            result.p_adjusted, result.always_valid_p, result.chance_to_beat_control,
            result.chance_to_be_best,
        ):  # fmt: skip
            assert value is None or math.isfinite(value)
    assert report.verdict and "nan" not in report.verdict.lower()


@settings(max_examples=300, deadline=None)
@given(
    st.lists(
        st.tuples(st.integers(-5, 10**15), st.integers(-5, 10**15), st.floats(-1, 5)),
        min_size=1,
        max_size=4,
    ),
    st.integers(0, 10**6),
)
def test_any_counts_a_database_can_hold_give_a_report_never_an_error(counts, min_visitors):
    """0 visitors, more conversions than visitors (old rows), negative or huge counts."""
    group = [Arm(chr(97 + i), n, c, w) for i, (n, c, w) in enumerate(counts)]
    report = analyse(group, min_visitors=min_visitors, looks=[group, group[:1]])
    assert_numbers_or_none(report)
    for result in report.arms:
        if result.visitors <= 0 or result.conversions > result.visitors:
            assert result.rate is None and result.chance_to_be_best is None
    if any(n > 0 and not 0 <= c <= n for n, c, _ in counts):
        assert report.winner is None
        assert report.verdict.startswith("No data to judge")


# --- the report and its verdict -----------------------------------------------------------


@pytest.mark.parametrize(
    "group",
    [
        [Arm("a", 0, 0)],
        [Arm("a", 0, 0), Arm("b", 0, 0)],
        [Arm("a", 10, 0), Arm("b", 10, 0)],
        [Arm("a", 10, 10), Arm("b", 10, 10)],
        [Arm("a", 1, 1), Arm("b", 1, 0)],
        [Arm("a", 10**6, 0), Arm("b", 10**6, 10**6)],
        [Arm("a", 0, 0), Arm("b", 500, 50), Arm("c", 500, 60)],
        [
            Arm("a", 10**6, 50_000),
            Arm("b", 10**6, 50_500),
            Arm("c", 10**6, 49_000),
            Arm("d", 10**6, 0),
        ],
    ],
)
def test_edge_cases_give_numbers_or_none_never_nan(group):
    assert_numbers_or_none(analyse(group))


def test_not_enough_data_names_no_winner():
    report = analyse([Arm("a", 50, 1), Arm("b", 50, 25)], min_visitors=100)
    assert report.winner is None
    assert report.verdict.startswith("Not enough data yet")
    assert "the smallest has 50" in report.verdict


def test_clear_winner_is_named_with_its_chance_and_p():
    report = analyse([Arm("a", 5000, 400), Arm("b", 5000, 560)])
    assert report.winner == "b"
    assert report.verdict.startswith("b is ahead:")
    assert "chance to beat a" in report.verdict


def test_unclear_result_gives_sample_size_guidance():
    report = analyse([Arm("a", 400, 40), Arm("b", 400, 44)])
    assert report.winner is None
    needed = sample_size_per_arm(0.1)
    assert f"you need about {needed:,} visitors per variant; you have 400." in report.verdict


def test_sample_ratio_mismatch_blocks_the_verdict():
    report = analyse([Arm("a", 6000, 400), Arm("b", 5000, 600)])
    assert report.srm.mismatch
    assert report.winner is None
    assert report.verdict.startswith("Warning:")
    assert "cannot be trusted" in report.verdict


def test_three_arms_are_holm_corrected_and_say_so():
    report = analyse([Arm("a", 3000, 300), Arm("b", 3000, 330), Arm("c", 3000, 290)])
    assert report.corrected
    raw = [arm.p_value for arm in report.arms[1:]]
    assert [arm.p_adjusted for arm in report.arms[1:]] == pytest.approx(holm(raw))
    assert "Holm" in report.verdict


def test_single_page_without_experiment_describes_its_rate():
    report = analyse([Arm("", 200, 30)])
    assert report.winner is None
    assert "conversion 15%" in report.verdict


@pytest.mark.parametrize(
    ("first", "second"),
    [((100, 400), (60, 600)), ((3, 40), (1, 35)), ((500, 10_000), (480, 10_000))],
)
def test_rate_ratio_of_two_ideas_matches_scipy(first, second):
    result = rate_ratio(Arm("one", first[1], first[0]), Arm("two", second[1], second[0]))
    risk = relative_risk(first[0], first[1], second[0], second[1])
    interval = risk.confidence_interval(0.95)
    assert result.ratio == pytest.approx(risk.relative_risk)
    assert result.interval.low == pytest.approx(interval.low)
    assert result.interval.high == pytest.approx(interval.high)
    table = [[first[0], first[1] - first[0]], [second[0], second[1] - second[0]]]
    if result.test == "Fisher's exact test":
        assert result.p_value == pytest.approx(scipy_fisher(table).pvalue)
    else:
        chi2, p, _, _ = chi2_contingency(table, correction=False)
        assert result.p_value == pytest.approx(p)


def test_rate_ratio_needs_signups_on_the_second_idea():
    assert rate_ratio(Arm("one", 100, 5), Arm("two", 100, 0)) is None
    assert rate_ratio(Arm("one", 0, 0), Arm("two", 100, 5)) is None
