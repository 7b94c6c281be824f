"""Compare ideas on what matters: each idea by its winner or best variant (not the blend), paid
rate before signups once money comes in, cost and revenue, a sentence that reads right."""

from __future__ import annotations

from scipy.stats.contingency import relative_risk
from sqlalchemy import insert

from kit.models import PreOrder
from kit.models import db
from kit.reports.card import times
from tests.founder.test_dashboard import START
from tests.founder.test_dashboard import logged_in
from tests.founder.test_dashboard import seed
from tests.founder.test_dashboard import text_of


def paid(app, page: str, experiment: str, variant: str, payers: int, amount: int = 4900) -> None:
    """``payers`` of a variant's seeded visitors paid a pre-order (as the webhook books it)."""
    rows = [
        {"checkout_session": f"cs_{page}_{variant}_{n}", "page": page, "experiment": experiment,
         "variant": variant, "tier": "Pro", "visitor_key": f"{experiment}-{variant}-{n}",
         "amount": amount, "currency": "USD", "refunded": 0, "created_at": START}
        for n in range(payers)
    ]  # fmt: skip
    with app.app_context():
        db.session.execute(insert(PreOrder), rows)
        db.session.commit()


def test_an_idea_is_shown_by_its_best_variant_not_the_blend(app):
    seed(app, {"a": (1000, 134), "b": (1000, 206)})  # blended: 17.0 %
    text = text_of(logged_in(app).get("/admin/compare"))
    assert "A/B page /ab · b, best so far 1,000 20.6% 206 · " in text
    assert "17.0%" not in text


SELLS = '\n[pricing]\n[[pricing.tiers]]\nname = "Pro"\nprice = "$49"\ncheckout_url = "https://buy.stripe.com/pro"\n'


def sells(pages_dir, *slugs: str) -> None:
    """Give pages a pre-order button (a Stripe Payment Link)."""
    for slug in slugs:
        text = (pages_dir / f"{slug}.toml").read_text()
        if "[pricing]" in text:  # the A/B page's teaser: its tier takes pre-orders instead
            text = text.replace('goal = "pro"', 'checkout_url = "https://buy.stripe.com/pro"')
        else:
            text = text.replace("\n[", SELLS + "\n[", 1) if "\n[" in text else text + SELLS
        (pages_dir / f"{slug}.toml").write_text(text)


def test_once_money_comes_in_ideas_are_ranked_and_compared_on_paying_visitors(make_app, pages_dir):
    sells(pages_dir, "ab", "plain")
    app = make_app()
    seed(app, {"a": (1000, 134), "b": (1000, 206)})
    seed(app, {"": (1000, 250)}, page="plain", experiment="")  # more signups ...
    paid(app, "ab", "headline-1", "b", 30)
    paid(app, "plain", "", "", 5)  # ... but far fewer pay
    text = text_of(logged_in(app).get("/admin/compare"))
    assert "ranked by the share of visitors who paid a pre-order" in text
    assert text.index("A/B page /ab") < text.index("Plain page /plain")
    risk = relative_risk(30, 1000, 5, 1000).confidence_interval(0.95)
    low, high = times(risk.low, risk.high)
    assert (f"A/B page's visitors pay 6.0× as often as Plain page's (95% interval {low} to "
            f"{high}; p ") in text  # fmt: skip
    assert "20.6% 206 · " in text and "3.0% 30 · " in text and "$1,470.00" in text


def test_an_idea_without_a_pre_order_button_keeps_the_ranking_on_signups(make_app, pages_dir):
    sells(pages_dir, "ab")  # plain sells nothing: no paid rate of 0 % for it
    app = make_app()
    seed(app, {"a": (1000, 134), "b": (1000, 206)})
    seed(app, {"": (1000, 250)}, page="plain", experiment="")
    paid(app, "ab", "headline-1", "b", 30)
    text = text_of(logged_in(app).get("/admin/compare"))
    assert "ranked by the share of visitors who signed up" in text
    assert text.index("Plain page /plain") < text.index("A/B page /ab")
    assert "Plain page's visitors sign up 1.2× as often as A/B page's" in text
    assert "no pre-order button" in text


def test_three_ideas_compare_the_leader_with_care_for_having_picked_it(app, pages_dir):
    (pages_dir / "third.toml").write_text('title = "Third idea"\nheadline = "A third one"\n')
    seed(app, {"a": (1000, 100), "b": (1000, 100)})
    seed(app, {"": (1000, 150)}, page="plain", experiment="")
    seed(app, {"": (1000, 90)}, page="third", experiment="")
    text = text_of(logged_in(app).get("/admin/compare"))
    # The leader is compared with the runner-up, but it was picked among 3: the interval is
    # Bonferroni's for 2 comparisons (97.5 %) and the p-value is doubled.
    risk = relative_risk(150, 1000, 100, 1000).confidence_interval(0.975)
    low, high = times(risk.low, risk.high)
    assert (f"Plain page's visitors sign up 1.5× as often as A/B page's (97.5% interval {low} "
            f"to {high}; p = ") in text  # fmt: skip
    assert "adjusted for 3 ideas)." in text


def test_the_compare_page_is_named_once_in_the_navigation(app):
    page = logged_in(app).get("/admin/compare").get_data(as_text=True)
    assert page.count(">Compare ideas<") == 1
    assert 'aria-current="page">Compare ideas<' in page


def test_an_interval_reads_on_the_right_side_of_1_after_rounding():
    assert times(0.96, 1.52) == ("0.96×", "1.5×")  # includes 1, and reads so
    assert times(1.04, 1.52) == ("1.04×", "1.5×")  # excludes 1: not "1.0×"
    assert times(0.6, 0.97) == ("0.6×", "0.97×")
    assert times(1.2, 3.4) == ("1.2×", "3.4×")
    assert times(0.9996, 1.0004) == ("0.9996×", "1.0004×")


def test_spend_in_two_currencies_is_named_not_called_missing(app):
    """With €30 and $20 recorded the overview says so; the comparison must not claim "no spend
    recorded" because one cost can't be taken of two currencies."""
    seed(app, {"": (100, 10)}, page="plain", experiment="")
    runner = app.test_cli_runner()
    for amount, currency, source in [("30", "EUR", "google"), ("20", "USD", "facebook")]:
        result = runner.invoke(args=["kit", "spend", "add", "plain", "--source", source, "--from",
                                     str(START.date()), "--to", str(START.date()), "--amount",
                                     amount, "--currency", currency])  # fmt: skip
        assert result.exit_code == 0, result.output
    text = text_of(logged_in(app).get("/admin/compare"))
    assert "€30.00 + $20.00 in several currencies: see its sources" in text
    assert "no spend recorded" in text  # the A/B page has none: still said of it


def test_ideas_that_cannot_be_compared_yet_name_only_the_one_that_lacks_visitors(app):
    seed(app, {"": (11, 7)}, page="plain", experiment="")
    text = text_of(logged_in(app).get("/admin/compare"))
    assert "Plain page and A/B page cannot be compared yet: A/B page has no visitors yet." in text
