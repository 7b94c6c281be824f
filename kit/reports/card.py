"""The decision card in plain words: what a founder reads in ten seconds.

The first sentence says who is ahead (or where one idea stands against its bar) in rates a
person can picture; the second what is still missing, turned into visitors, days and money at
the page's ad cost. No p-value and no "chance" here: those stay in the statistics behind the
fold (``Report.verdict``), whose wording this card never contradicts, because both read the
same ``Decision``.
"""

from __future__ import annotations

from collections.abc import Sequence

from kit import money
from kit.reports.decision import Decision
from kit.reports.stats import ArmResult
from kit.reports.stats import Ratio
from kit.reports.stats import Report
from kit.reports.stats import counted
from kit.reports.target import Bar


def rate(value: float | None) -> str:
    """A rate with one decimal: "20.6%"; "–" when there is none."""
    return "–" if value is None else f"{value * 100:.1f}%"


def about(n: int) -> str:
    """A count as a person says it: exact below 1,000, else two significant digits."""
    if n < 1000:
        return f"{n:,}"
    digits = len(str(n)) - 2
    return f"{round(n, -digits):,}"


def share(value: float) -> str:
    """A bar as it was set: 0.1 → "10%", 0.025 → "2.5%", 0.0001 → "0.01%"."""
    return f"{value * 100:.4g}%"


def to_go(decision: Decision, priced: bool = True) -> str:
    """ "about 4,100 more visitors, ≈ 6 days or ≈ $2,500 at your current ad cost" (the money
    only when ``priced``)."""
    if not decision.more_visitors:
        return ""
    words = f"about {about(decision.more_visitors)} more visitors"
    if decision.days_left is not None:
        days = "1 day" if decision.days_left == 1 else f"≈ {about(decision.days_left)} days"
        words += f", {days}"
    if decision.more_spend is not None and priced:
        amount, currency = decision.more_spend
        words += f" or ≈ {_rounded_money(amount, currency)} at your current ad cost"
    return words


def _rounded_money(minor: float, currency: str) -> str:
    """An estimate of money to two significant digits, without cents once it is 100 or more:
    612345 USD cents → "$6,100"."""
    rounded = round(minor, -max(0, len(str(int(minor))) - 2))
    text = money.text(rounded, currency)
    places = money.places(currency)
    if places and rounded >= 100 * 10**places:
        text = text.replace("." + "0" * places, "", 1)
    return text


def plain_words(
    report: Report, decision: Decision, bars: Sequence[Bar], verb: str, owner: bool = True
) -> str:
    """The card's sentences for one experiment (``verb``: what a converted visitor did, "sign
    up"), or for one idea against its ``bars``. ``owner``: for the founder ("your bar", the
    money at their ad cost); else for a reader of a shared report ("the bar set for it")."""
    if decision.kind == "no-data":
        return "The stored counts do not add up (more conversions than visitors): no verdict."
    if len(report.arms) < 2:
        return _one_idea(report.arms[0], decision, bars, verb, owner)
    if decision.kind == "srm":
        return (
            "Don't read these numbers yet: visitors are not split between the variants as the "
            "page file says, so something drops or double-counts one of them."
        )
    arms = [arm for arm in report.arms if arm.rate is not None]
    if len(arms) < 2:
        return f"Too early: {_missing(decision)}"
    leader = max(arms, key=lambda arm: arm.rate or 0.0)
    others = [arm for arm in arms if arm is not leader]
    runner = max(others, key=lambda arm: arm.rate or 0.0)
    rates = f"{rate(leader.rate)} vs {rate(runner.rate)} {verb}"
    if decision.kind == "ended":
        return f"The test has ended: {decision.badge.removeprefix('ended: ')}."
    if decision.kind == "winner":
        return f"{report.winner} wins: {_rates_of(report, report.winner, verb)}. It is proven."
    if decision.kind == "no-difference":
        return (
            f"No difference worth having: {rates}, with enough visitors to see a 20% lift. "
            f"Keep {report.arms[0].name} (the control)."
        )
    if leader.rate == runner.rate:
        ahead = f"{leader.name} and {runner.name} are level so far: {rate(leader.rate)} {verb}."
    else:
        ahead = f"{_named(leader)} is ahead: {rates}."
    if decision.kind == "collecting":
        return f"{ahead} Too early to tell: {_missing(decision, owner)}"
    return f"{ahead} Not proven yet: {_missing(decision, owner)}"


def _one_idea(
    arm: ArmResult, decision: Decision, bars: Sequence[Bar], verb: str, owner: bool
) -> str:
    if arm.visitors <= 0 or arm.rate is None:
        return "No visitors yet: share the page or start an ad to get a verdict."
    if decision.kind == "no-bar":
        ask = (" Set the bar this idea must clear to get go or no-go: add a [target] table to "
               "the page file.") if owner else ""  # fmt: skip
        return f"{rate(arm.rate)} of {counted(arm.visitors, 'visitor')} {verb}.{ask}"
    described = "; ".join(_against(bar, owner) for bar in bars)
    if decision.kind == "go":
        return f"Go: {described}."
    if decision.kind == "no-go":
        return f"No-go: {described}."
    if decision.more_visitors is None:
        return f"Not proven either way: {described}; too close to the bar to tell."
    missing = _missing(decision, owner)
    return f"Not proven yet: {described}. {missing[0].upper()}{missing[1:]}"


def _against(bar: Bar, owner: bool) -> str:
    """ "14.0% sign up (always-valid range 11.0% to 17.5%), above your 10% bar" """
    where = {"go": "above", "no-go": "below"}.get(bar.kind, "against")
    whose = "your" if owner else "the"
    said = (
        f"{rate(bar.rate)} {bar.metric} (always-valid range {rate(bar.low)} to "
        f"{rate(bar.high)}), {where} {whose} {share(bar.bar)} bar"
    )
    if bar.moved:
        said += ", judged on the counts as they stand: early and recent visitors differ"
    elif bar.rate is not None and bar.low is not None and bar.rate < bar.low:
        said += ", though recent visitors convert less than the first"
    elif bar.rate is not None and bar.high is not None and bar.rate > bar.high:
        said += ", and recent visitors convert more than the first"
    return said


def _missing(decision: Decision, owner: bool = True) -> str:
    words = to_go(decision, priced=owner)
    return f"{words}." if words else "wait for more visitors."


def _named(arm: ArmResult) -> str:
    return f"{arm.name} (the control)" if arm.is_control else arm.name


def _rates_of(report: Report, name: str | None, verb: str) -> str:
    arm = next(a for a in report.arms if a.name == name)
    control = report.arms[0]
    if arm is control:
        return f"{rate(arm.rate)} {verb}, every variant converts worse"
    return f"{rate(arm.rate)} {verb} vs {rate(control.rate)} for {control.name}"


# --- ideas side by side ---------------------------------------------------------------------


def times(low: float, high: float) -> tuple[str, str]:
    """The bounds of a ratio's interval, each with as few decimals (one to four) as keep it on
    its side of 1: (0.96, 1.52) reads "0.96×" to "1.5×", never "1.0× to 1.5× includes 1×"."""
    return f"{_beside_one(low)}×", f"{_beside_one(high)}×"


def _beside_one(value: float) -> str:
    for digits in (1, 2, 3):
        text = f"{value:.{digits}f}"
        if value == 1 or (float(text) < 1 if value < 1 else float(text) > 1):
            return text
    return f"{value:.4f}"


DONE = {"sign up": "signed up", "pay": "paid"}


def cannot_compare(first: str, second: str, waiting: list[tuple[str, int, int]],
                   verb: str) -> str:  # fmt: skip
    """Why the first two ideas have no ratio yet, naming the idea that lacks what: each of
    ``waiting`` is (name, visitors, converted) of an idea whose counts make no rate to divide
    by (no visitors, nobody who did ``verb``, or counts a database holds but no rate can be)."""
    done = DONE[verb]
    reasons = [
        f"{name} has no visitors yet" if visitors <= 0
        else f"none of {name}'s {counted(visitors, 'visitor')} has {done} yet" if converted == 0
        else f"{name} counts more who {done} than visitors (run kit recount)"
        for name, visitors, converted in waiting
    ]  # fmt: skip
    return f"{first} and {second} cannot be compared yet: {' and '.join(reasons)}."


def compare_sentence(first: str, second: str, ratio: Ratio, verb: str = "sign up",
                     ideas: int = 2) -> str:  # fmt: skip
    """One plain sentence on the first two ideas of a ranking of ``ideas``: how many times as
    often the first's visitors ``verb`` as the second's, with its interval and test. With more
    than two ideas the interval and p are Bonferroni-adjusted for the ``ideas - 1`` comparisons
    a leader could have won (the ranking picked these two)."""
    often = f"{first}'s visitors {verb} {ratio.ratio:.1f}× as often as {second}'s"
    adjusted = f", adjusted for {ideas} ideas" if ideas > 2 else ""
    p = ratio.p_value
    if p is not None and ideas > 2:
        p = min(1.0, p * (ideas - 1))
    test = "no test" if p is None else f"p = {p:.4f}, {ratio.test}{adjusted}"
    if p is not None and p < 0.0001:
        test = f"p < 0.0001, {ratio.test}{adjusted}"
    if ratio.interval is None:
        return f"{often} ({test})."
    low, high = times(ratio.interval.low, ratio.interval.high)
    level = f"{ratio.confidence * 100:.4g}%"
    span = f"{level} interval {low} to {high}"
    if ratio.interval.low <= 1 <= ratio.interval.high:
        return f"{often}, but that is not a clear difference yet: the {span} includes 1× ({test})."
    return f"{often} ({span}; {test})."
