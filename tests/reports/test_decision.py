"""The founder's decision (kit/reports/decision.py): the badge says what the numbers support,
no more."""

from __future__ import annotations

from datetime import date

from kit.reports.card import cannot_compare
from kit.reports.card import compare_sentence
from kit.reports.decision import AdCost
from kit.reports.decision import analyse
from kit.reports.decision import decide
from kit.reports.decision import running_since
from kit.reports.decision import shares
from kit.reports.decision import visitors_per_day
from kit.reports.stats import Arm
from kit.reports.stats import rate_ratio
from kit.reports.target import judge


def decision(*arms: Arm, min_visitors: int = 100, per_day: float = 0.0, **kwargs):
    report = analyse(list(arms), min_visitors)
    weights = [arm.weight for arm in arms]
    return decide(report, min_visitors, per_day, weights, **kwargs)


def test_a_split_unlike_the_weights_is_flagged_and_names_no_leader():
    result = decision(Arm("a", 1000, 50), Arm("b", 800, 70))
    assert (result.kind, result.badge) == ("srm", "sample ratio mismatch")
    assert result.end_line is None


def test_thirty_visitors_are_collecting_data_with_the_visitors_still_needed():
    result = decision(Arm("a", 15, 1), Arm("b", 15, 3), per_day=20)
    assert result.kind == "collecting"
    assert result.more_visitors == 170  # 85 more for each arm, at an even split
    assert result.badge == "collecting data — 170 more visitors"
    assert result.days_left == 9  # 170 at 20 a day


def test_an_uneven_split_needs_more_visitors_for_the_smaller_arm():
    result = decision(Arm("a", 0, 0, weight=3), Arm("b", 0, 0, weight=1))
    assert result.more_visitors == 400  # b gets a quarter of them: 100 for b
    assert result.days_left is None  # no traffic yet: no estimate


def test_a_clear_winner_comes_with_the_line_that_ends_the_test():
    result = decision(Arm("a", 2000, 100), Arm("b", 2000, 200))
    assert (result.kind, result.badge) == ("winner", "b wins")
    assert result.end_line == 'winner = "b"'


def test_enough_visitors_and_no_difference_says_stop_and_keep_the_control():
    result = decision(Arm("control", 40000, 2000), Arm("b", 40000, 2010))
    assert (result.kind, result.badge) == ("no-difference", "no difference")
    assert result.end_line == 'winner = "control"'


def test_past_the_minimum_but_short_of_the_sample_size_keeps_going():
    result = decision(Arm("a", 500, 25), Arm("b", 500, 30), per_day=100)
    needed = analyse([Arm("a", 500, 25), Arm("b", 500, 30)], 100).needed_per_arm
    assert result.kind == "keep-going"
    assert result.more_visitors == 2 * (needed - 500)
    assert result.badge == f"keep going — {result.more_visitors:,} more visitors"
    assert result.days_left == -(-result.more_visitors // 100)


def test_counts_that_do_not_add_up_are_no_data():
    assert decision(Arm("a", 100, 500), Arm("b", 100, 5)).kind == "no-data"


def test_one_idea_without_a_bar_is_asked_for_one_and_a_winner_in_the_file_has_ended():
    assert (decision(Arm("", 300, 30)).kind, decision(Arm("", 300, 30)).badge) == (
        "no-bar",
        "no bar set",
    )
    ended = decision(Arm("a", 300, 30), Arm("b", 300, 40), ended_with="b")
    assert (ended.kind, ended.badge) == ("ended", "ended: b chosen")


def one_idea(signed_up: tuple[int, int], paid: tuple[int, int] | None = None, **kwargs):
    """One page without an experiment against a 10 % signup bar (and a 2 % paid bar)."""
    bars = [judge("sign up", 0.10, [signed_up])]
    if paid is not None:
        bars.append(judge("pay", 0.02, [paid]))
    return decision(Arm("", *signed_up), bars=bars, **kwargs)


def test_one_idea_clearing_its_bars_is_a_go_and_one_short_of_a_bar_a_no_go():
    assert (one_idea((1000, 140)).kind, one_idea((1000, 140)).badge) == ("go", "go: above your bar")
    assert one_idea((1000, 140), paid=(1000, 30)).kind == "keep-going"  # 3 % paid: not proven
    short = one_idea((1000, 140), paid=(1000, 5))  # 14 % sign up, but 0.5 % pay
    assert (short.kind, short.badge) == ("no-go", "no-go: below your bar")


def test_one_idea_keeps_going_with_visitors_days_and_money_at_its_ad_cost():
    result = one_idea((300, 35), per_day=120, cost=AdCost(150.0, "USD"))  # $1.50 a visitor
    bar = judge("sign up", 0.10, [(300, 35)])
    assert result.kind == "keep-going"
    assert result.more_visitors == bar.more_visitors > 0
    assert result.badge == f"keep going — {bar.more_visitors:,} more visitors"
    assert result.days_left == -(-bar.more_visitors // 120)
    assert result.more_spend == (bar.more_visitors * 150.0, "USD")
    assert one_idea((300, 35)).more_spend is None  # no ad spend recorded: no price


def test_one_idea_right_at_its_bar_says_it_is_too_close_to_tell():
    result = one_idea((1000, 100))
    assert (result.kind, result.more_visitors) == ("keep-going", None)
    assert result.badge == "keep going — too close to the bar to tell"


def test_visitors_per_day_is_the_last_weeks_average_with_empty_days_as_zero():
    days = [(date(2026, 11, 20), 70), (date(2026, 11, 26), 70), (date(2026, 11, 1), 999)]
    assert visitors_per_day(days, date(2026, 11, 26)) == 20.0
    assert visitors_per_day([], date(2026, 11, 26)) == 0.0
    # A test that started yesterday: two days of traffic, not seven.
    started = [(date(2026, 11, 25), 300), (date(2026, 11, 26), 500)]
    assert visitors_per_day(started, date(2026, 11, 26)) == 400.0


def test_expected_and_actual_split_come_from_the_weights_and_the_visitors():
    report = analyse([Arm("a", 750, 10, weight=1), Arm("b", 250, 10, weight=1)], 100)
    split = shares(report.arms, [1, 1])
    assert [(s.name, s.expected, s.actual) for s in split] == [("a", 0.5, 0.75), ("b", 0.5, 0.25)]
    empty = analyse([Arm("a", 0, 0), Arm("b", 0, 0)], 100)
    assert [s.actual for s in shares(empty.arms, [3, 1])] == [None, None]


def test_running_since_counts_today_and_survives_odd_dates():
    today = date(2026, 11, 26)
    assert running_since([date(2026, 11, 20), date(2026, 11, 24)], today) == (date(2026, 11, 20), 7)
    assert running_since([], today) == (None, 0)
    assert running_since([date(2090, 1, 1)], today) == (date(2090, 1, 1), 0)


def test_two_ideas_within_noise_are_not_called_different():
    close = rate_ratio(Arm("one", 200, 22), Arm("two", 200, 20))
    sentence = compare_sentence("Idea A", "Idea B", close)
    assert sentence.startswith(
        "Idea A's visitors sign up 1.1× as often as Idea B's, but that is not a clear difference"
    )
    assert "includes 1×" in sentence


def test_ideas_that_cannot_be_compared_name_the_one_that_lacks_what():
    """Only the idea without visitors (or without anyone who signed up) is named, not both."""
    assert cannot_compare("Notes", "Tidyday", [("Tidyday", 0, 0)], "sign up") == (
        "Notes and Tidyday cannot be compared yet: Tidyday has no visitors yet."
    )
    assert cannot_compare("Notes", "Tidyday", [("Tidyday", 1204, 0)], "pay") == (
        "Notes and Tidyday cannot be compared yet: none of Tidyday's 1,204 visitors has paid yet."
    )
    both = cannot_compare("A", "B", [("A", 5, 0), ("B", 3, 9)], "sign up")
    assert both.endswith("none of A's 5 visitors has signed up yet and B counts more who signed "
                         "up than visitors (run kit recount).")  # fmt: skip
