"""One idea against its bar: exact against scipy, and safe to read every day (simulation)."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import settings
from hypothesis import strategies as st
from scipy import integrate
from scipy.special import betainc
from scipy.stats import beta as beta_dist
from scipy.stats import binom

from kit.reports.target import _log_betainc
from kit.reports.target import _prior
from kit.reports.target import bounds
from kit.reports.target import judge
from kit.reports.target import log_evidence


@settings(max_examples=200, deadline=None)
@given(
    st.floats(0.001, 0.999),
    st.floats(0.05, 1e5),
    st.floats(0.05, 1e6),
)
def test_incomplete_beta_matches_scipy(x, a, b):
    expected = betainc(a, b, x)
    if expected > 1e-300:
        assert math.exp(_log_betainc(x, a, b)) == pytest.approx(expected, rel=1e-8, abs=1e-300)


@pytest.mark.parametrize(
    ("converted", "visitors", "bar"),
    [(14, 100, 0.10), (3, 100, 0.10), (30, 1000, 0.02), (0, 50, 0.05), (50, 50, 0.3)],
)
def test_the_evidence_is_the_mixture_integral_computed_by_scipy(converted, visitors, bar):
    """M = ∫ binomial likelihood ratio dπ over the prior cut at the bar, by quadrature."""
    a, b = _prior(bar)
    prior = beta_dist(a, b)
    at_bar = binom.pmf(converted, visitors, bar)
    for side, (low, high) in ((+1, (bar, 1)), (-1, (0, bar))):
        mass = prior.cdf(high) - prior.cdf(low)
        value, _ = integrate.quad(
            lambda p, mass=mass: binom.pmf(converted, visitors, p) / at_bar * prior.pdf(p) / mass,
            low, high, points=[converted / visitors] if low < converted / visitors < high else None,
            limit=500, epsrel=1e-10,
        )  # fmt: skip
        assert log_evidence(converted, visitors, bar, side) == pytest.approx(
            math.log(value), abs=1e-6
        )


def simulate(rate: float, bar: float, runs: int, days: int, per_day: int, seed: int) -> list:
    """Demand tests read after every day: the verdict of the last look (a verdict reached at
    any look stays, so the last look tells whether one was ever reached)."""
    rng = np.random.default_rng(seed)
    verdicts = []
    for _ in range(runs):
        daily = rng.binomial(per_day, rate, size=days).cumsum()
        looks = [(per_day * (d + 1), int(daily[d])) for d in range(days)]
        verdicts.append(judge("sign up", bar, looks).kind)
    return verdicts


@pytest.mark.parametrize(("bar", "per_day"), [(0.05, 100), (0.02, 150), (0.10, 40)])
def test_read_daily_at_a_rate_equal_to_the_bar_a_go_is_rare(bar, per_day):
    """300 tests whose true rate is exactly the bar, read every day for 28 days: at most 5 %
    ever say "go" (the A/A test of one idea)."""
    verdicts = simulate(bar, bar, runs=300, days=28, per_day=per_day, seed=3)
    assert verdicts.count("go") / len(verdicts) <= 0.05


def test_a_rate_well_above_the_bar_is_a_go_and_well_below_a_no_go():
    above = simulate(0.075, 0.05, runs=100, days=28, per_day=100, seed=4)
    below = simulate(0.035, 0.05, runs=100, days=28, per_day=100, seed=5)
    assert above.count("go") / 100 >= 0.9 and "no-go" not in above
    assert below.count("no-go") / 100 >= 0.7 and "go" not in below


def test_a_verdict_once_reached_stays_when_later_days_wobble():
    looks = [(1000, 150), (1100, 150), (1200, 150), (1300, 150)]  # 15 %, then 11.5 %
    assert judge("sign up", 0.10, looks[:1]).kind == "go"
    assert judge("sign up", 0.10, looks).kind == "go"
    assert judge("sign up", 0.10, looks[-1:]).kind == "keep-going"


def test_the_verdict_and_the_interval_agree():
    """At one look, "go" means the always-valid lower bound is above the bar."""
    for converted, visitors, bar in [(140, 1000, 0.10), (116, 1000, 0.10), (5, 1000, 0.02)]:
        result = judge("sign up", bar, [(visitors, converted)])
        assert (result.kind == "go") == (result.low > bar)
        assert (result.kind == "no-go") == (result.high < bar)
        assert result.low <= converted / visitors <= result.high


def test_a_verdict_kept_from_an_earlier_look_keeps_its_range_clear_of_the_bar():
    """15 % on day one proves "above 10 %"; at 11.5 % four days on the verdict stays, and so
    does the range: the running intersection of each day's always-valid range, never one
    reaching below the bar beside a "go"."""
    looks = [(1000, 150), (1100, 150), (1200, 150), (1300, 150)]
    went = judge("sign up", 0.10, looks)
    assert went.kind == "go" and not went.moved
    assert 0.10 < went.low < went.high  # the first day's proof still holds
    assert judge("sign up", 0.10, looks[-1:]).low < 0.10  # the last day's range alone


def test_early_and_recent_visitors_that_disagree_are_judged_as_they_are_now():
    """20 % of the first 300, 9.6 % of the next 2,700: no steady rate fits both days, so the
    early "go" is not kept; the counts are judged as they stand, and the card can say why."""
    moved = judge("sign up", 0.10, [(300, 60), (3000, 320)])
    now = judge("sign up", 0.10, [(3000, 320)])
    assert moved.moved and (moved.kind, moved.low, moved.high) == (now.kind, now.low, now.high)
    assert moved.kind == "keep-going"


def test_more_visitors_at_the_same_rate_reach_the_verdict():
    result = judge("pay", 0.02, [(1000, 30)])
    assert result.kind == "keep-going" and result.more_visitors > 0
    n = 1000 + result.more_visitors
    assert judge("pay", 0.02, [(n, round(0.03 * n))]).kind == "go"
    half = 1000 + result.more_visitors // 2
    assert judge("pay", 0.02, [(half, round(0.03 * half))]).kind == "keep-going"


def test_below_the_minimum_of_visitors_no_verdict_only_how_many_more():
    result = judge("sign up", 0.10, [(40, 20)], min_visitors=100)
    assert result.kind == "keep-going"
    assert result.more_visitors == 60
    assert result.low > 0.10  # the interval is shown all the same


def test_a_rate_at_or_too_near_the_bar_gives_no_visitor_count():
    result = judge("sign up", 0.10, [(1000, 100)])
    assert result.kind == "keep-going" and result.more_visitors is None
    near = judge("sign up", 0.10, [(301, 30)])  # 9.97 %: millions of visitors away
    assert near.kind == "keep-going" and near.more_visitors is None


@settings(max_examples=150, deadline=None)
@given(
    st.lists(st.tuples(st.integers(-5, 10**7), st.integers(-5, 10**7)), max_size=4),
    st.floats(-1, 2) | st.sampled_from([math.nan, math.inf, -math.inf, 0.0, 1.0, 5e-324, 1e-300]),
)
def test_any_counts_and_any_bar_give_a_verdict_never_an_error(looks, bar):
    result = judge("sign up", bar, looks)
    assert result.kind in {"go", "no-go", "keep-going", "no-data"}
    for value in (result.rate, result.low, result.high):
        assert value is None or 0 <= value <= 1


@settings(max_examples=100, deadline=None)
@given(st.integers(1, 10**6).flatmap(lambda n: st.tuples(st.integers(0, n), st.just(n))))
def test_bounds_hold_the_observed_rate(counts):
    converted, visitors = counts
    low, high = bounds([(visitors, converted)])
    assert 0 <= low <= converted / visitors <= high <= 1
