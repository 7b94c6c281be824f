"""The decision card a founder reads in ten seconds: one idea against its bar, two variants in
plain words with the visitors, days and money still needed; no p-value before the fold."""

from __future__ import annotations

import re
from datetime import UTC
from datetime import datetime
from datetime import time
from datetime import timedelta

from kit.models import utcnow
from kit.reports.power import detectable
from kit.reports.target import judge
from kit.tracking.phases import shipped
from tests.founder.test_dashboard import logged_in
from tests.founder.test_dashboard import seed
from tests.founder.test_dashboard import text_of
from tests.founder.test_spend import record
from tests.founder.test_spend import visitors_from

BAR = "\n[target]\nsignup_rate = 0.10\n"


def two_digits(n: int) -> int:
    """How the card says a count: exact below 1,000, else to two significant digits."""
    return n if n < 1000 else round(n, -(len(str(n)) - 2))


def dollars(cents: int) -> str:
    """An estimate as the card writes it: "$450.00", but "$6,100" from $100 on."""
    return f"${cents / 100:,.0f}" if cents >= 10_000 else f"${cents / 100:,.2f}"


def card_of(founder, slug: str) -> tuple[str, str]:
    """The card as read (the text before the fold) and the statistics behind the fold."""
    text = text_of(founder.get(f"/admin/{slug}"))
    card = text.split("Decision:", 1)[1].split("The statistics behind it", 1)[0]
    behind = text.split("The statistics behind it", 1)[1].split("Signups by variant", 1)[0]
    return card, behind


def test_one_idea_without_a_bar_shows_its_rate_and_asks_for_a_bar(make_app):
    app = make_app(MIN_VISITORS_FOR_VERDICT=10, RATELIMIT_ENABLED=False)
    visitors_from(app, "plain", "utm_source=x", 20, 4)
    founder = logged_in(app)
    card, _ = card_of(founder, "plain")
    assert card.startswith(" no bar set ")
    assert "20.0% of 20 visitors sign up." in card
    assert "[target] signup_rate = 0.10" in card  # what to add, ready to paste
    page = text_of(founder.get("/admin/plain"))
    assert "Sample ratio check" not in page  # one version of the page: nothing to split
    overview = text_of(founder.get("/admin/"))
    assert "no bar set" in overview


def test_one_visitor_is_one_visitor_on_the_page_the_sources_and_in_the_cli(make_app):
    app = make_app(RATELIMIT_ENABLED=False)
    visitors_from(app, "plain", "utm_source=x", 1, 0)
    founder = logged_in(app)
    page = text_of(founder.get("/admin/plain"))
    assert "0.0% of 1 visitor sign up." in page and "1 visitor, 0 signed up" in page
    assert "1 visitors" not in page and "One version of the page: no experiment." in page
    sources = text_of(founder.get("/admin/plain/sources"))
    assert "One version of the page: no experiment." in sources and "Experiment none" not in sources
    said = app.test_cli_runner().invoke(args=["kit", "stats", "plain"]).output
    assert "plain: one version of the page, no experiment" in said and "1 visitors" not in said


def test_one_idea_well_above_its_bar_is_a_go(make_app, pages_dir):
    (pages_dir / "plain.toml").write_text((pages_dir / "plain.toml").read_text() + BAR)
    app = make_app(MIN_VISITORS_FOR_VERDICT=10, RATELIMIT_ENABLED=False)
    visitors_from(app, "plain", "utm_source=x", 40, 20)  # 50 % sign up against a 10 % bar
    founder = logged_in(app)
    card, _ = card_of(founder, "plain")
    assert card.startswith(" go: above your bar ")
    go = r"Go: 50\.0% sign up \(always-valid range (\d+\.\d)% to (\d+\.\d)%\), above your 10% bar\."
    sentence = re.search(go, card)
    assert sentence, card
    assert 10 < float(sentence[1]) < 50 < float(sentence[2])
    assert "go 50.0% sign up" in card  # the bar's own line with its badge
    assert "go: above your bar" in text_of(founder.get("/admin/"))
    printed = app.test_cli_runner().invoke(args=["kit", "stats", "plain"]).output
    assert "[go: above your bar] Go: 50.0% sign up (always-valid range " in printed
    assert "  sign up: 50.0% (always-valid " in printed and "against the bar 10.00%: go" in printed


def test_one_idea_short_of_proof_says_visitors_days_and_money_at_its_ad_cost(make_app, pages_dir):
    (pages_dir / "plain.toml").write_text((pages_dir / "plain.toml").read_text() + BAR)
    app = make_app(MIN_VISITORS_FOR_VERDICT=10, RATELIMIT_ENABLED=False)
    visitors_from(app, "plain", "utm_source=google", 20, 3)  # 15 % sign up: not proven
    founder = logged_in(app)
    today = utcnow().date()
    record(
        founder,
        "plain",
        source="google",
        first_day=str(today - timedelta(days=1)),
        last_day=str(today),
        amount="30.00",
    )  # fmt: skip  ($1.50 a visitor)
    card, behind = card_of(founder, "plain")
    more = judge("sign up", 0.10, [(20, 3)], 10).more_visitors
    assert more and more > 100
    cents = more * 150  # at $30 / 20 visitors
    days = -(-more // 20)  # all 20 visitors came today: 20 a day
    assert f"keep going — {more:,} more visitors" in card
    assert (
        "Not proven yet: 15.0% sign up (always-valid range " in card
        and f"against your 10% bar. About {two_digits(more):,} more visitors, "
        f"≈ {two_digits(days):,} days or ≈ {dollars(two_digits(cents))} at your current "
        "ad cost."
        in card
    ), card
    assert "p =" not in card and "p-value" not in card
    assert "Add an experiment to compare messages" in behind


def test_two_variants_in_plain_words_with_no_p_value_before_the_fold(app):
    seed(app, {"a": (300, 30), "b": (300, 36)})
    card, behind = card_of(logged_in(app), "ab")
    assert "b is ahead: 12.0% vs 10.0% sign up. Not proven yet: about " in card
    assert "more visitors" in card
    assert "p =" not in card and "chance" not in card
    assert "always-valid test (p = " in behind  # the statistics stay one click away


def test_a_winner_in_plain_words(app):
    seed(app, {"a": (2000, 100), "b": (2000, 240)})
    card, _ = card_of(logged_in(app), "ab")
    assert "b wins: 12.0% sign up vs 5.0% for a. It is proven." in card


def test_before_the_test_the_page_says_the_smallest_lift_found_in_7_14_28_days(app):
    midnight = datetime.combine(utcnow().date() - timedelta(days=9), time(), UTC)
    seed(app, {"a": (300, 30), "b": (300, 36)}, start=midnight, days=10)  # 60 visitors a day
    founder = logged_in(app)
    text = text_of(founder.get("/admin/ab"))
    found = detectable(0.10, 60, [1, 1])  # 10 % sign up on a, the control
    per_day = text.split("What a test can find with your traffic", 1)[1].split("80% power")[0]
    assert "visitors a day and 10.0% signing up on a, this test finds a lift of at least" in per_day
    shown = re.findall(r"in (\d+) days ([+-]\d+\.\d)%", per_day)
    assert [int(days) for days, _ in shown] == [7, 14, 28]
    lifts = [float(lift) for _, lift in shown]
    assert lifts[0] > lifts[1] > lifts[2] > 0
    assert lifts == [round(d.lift * 100, 1) for d in found]
    printed = app.test_cli_runner().invoke(args=["kit", "stats", "ab"]).output
    assert "smallest lift a test finds in 7/14/28 days: " in printed
    assert " / ".join(f"{lift:+.1f}%" for lift in lifts) in printed


def test_after_a_test_its_winner_is_judged_against_the_bar(make_app, pages_dir):
    """The test ended with b; the visitors since (all shown b) are one idea again."""
    ab = (pages_dir / "ab.toml").read_text()
    ended = ab.replace('key = "headline-1"', 'key = "headline-1"\nwinner = "b"')
    (pages_dir / "ab.toml").write_text(ended + BAR)
    app = make_app()
    seed(app, {"b": (400, 120)}, experiment=shipped("headline-1"))
    card = text_of(logged_in(app).get(f"/admin/ab?experiment={shipped('headline-1')}"))
    assert "go: above your bar" in card
    assert "Go: 30.0% sign up (always-valid range " in card
