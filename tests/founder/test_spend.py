"""Ad spend -> cost per visitor, signup, confirmed signup and pre-order, checked by hand and
against scipy's Wilson interval."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from scipy.stats import binomtest
from sqlalchemy import func
from sqlalchemy import select

from kit import money
from kit.models import AdSpend
from kit.models import db
from kit.models import utcnow
from kit.reports import costs
from kit.reports.stats import cost_per
from tests.conftest import browser
from tests.conftest import form_fields
from tests.conftest import sign_up
from tests.delivery.test_outbox import confirm_by
from tests.delivery.test_outbox import deliver
from tests.delivery.test_outbox import link_in
from tests.delivery.test_outbox import smtp  # noqa: F401 - the fixture
from tests.founder.test_dashboard import logged_in
from tests.founder.test_dashboard import text_of

MINIMUM = 10


def visitors_from(app, slug: str, query: str, count: int, signing_up: int) -> None:
    """``count`` new browsers arrive with ``query``; the first ``signing_up`` join (the very
    first with two addresses: still one visitor who signed up)."""
    for n in range(count):
        visitor = browser(app)
        visitor.get(f"/{slug}?{query}")
        if n < signing_up:
            assert sign_up(visitor, slug, email=f"{query[:20]}-{n}@example.com").status_code == 302
            if n == 0:
                sign_up(visitor, slug, email=f"{query[:20]}-{n}-again@example.com")


def record(founder, slug: str, **fields):
    page = founder.get(f"/admin/{slug}/sources").get_data(as_text=True)
    data = {"csrf_token": form_fields(page)["csrf_token"], "currency": "USD", **fields}
    return founder.post(f"/admin/{slug}/spend", data=data)


def dollars(cents: float) -> str:
    return money.text(cents, "USD")


def wilson(k: int, n: int):
    return binomtest(k, n).proportion_ci(method="wilson")


def test_spend_entered_gives_cost_per_visitor_and_signup_as_calculated_by_hand(make_app):
    app = make_app(MIN_VISITORS_FOR_VERDICT=MINIMUM, RATELIMIT_ENABLED=False)
    visitors_from(app, "plain", "utm_source=google&utm_campaign=spring", 20, 5)
    visitors_from(app, "plain", "utm_source=facebook", 8, 1)
    visitors_from(app, "plain", "utm_source=newsletter", 6, 3)  # no spend: not in the table
    today = utcnow().date()
    founder = logged_in(app)
    answer = record(founder, "plain", source="google", first_day=str(today - timedelta(days=1)),
                    last_day=str(today), amount="50.00")  # fmt: skip
    assert answer.status_code == 302
    result = app.test_cli_runner().invoke(
        args=["kit", "spend", "add", "plain", "--source", "facebook", "--from", str(today),
              "--to", str(today), "--amount", "30"]
    )  # fmt: skip
    assert result.exit_code == 0 and "recorded #2: $30.00 on plain for facebook" in result.output

    page = text_of(founder.get("/admin/plain/sources"))
    # google: $50 for 20 visitors ($2.50 each), 5 of them signed up: $10.00 per signup, its
    # interval from the conversion's (Wilson, 5 of 20): $50 / (20 x high) to $50 / (20 x low).
    interval = wilson(5, 20)
    per_signup = (f"{dollars(5000 / 5)} ({dollars(5000 / (20 * interval.high))} to "
                  f"{dollars(5000 / (20 * interval.low))})")  # fmt: skip
    days = f"{today - timedelta(days=1)} to {today}"
    assert f"google {days} $50.00 20 $2.50 5 {per_signup} 5 {per_signup} 0" in page
    # facebook: 8 visitors are fewer than the minimum of 10: the spend per signup so far, as
    # plain a division as the spend per visitor beside it, but no range yet.
    assert "facebook" in page
    assert f"$30.00 8 {dollars(3000 / 8)} 1 $30.00, too few visitors for a range" in page
    costs_table = page.split("Ad spend and cost per signup")[1].split("Record spend")[0]
    assert "newsletter" not in costs_table  # no spend recorded for it
    listed = app.test_cli_runner().invoke(args=["kit", "spend", "list", "plain"]).output
    assert f"20 visitors ($2.50 each), 5 signups ({per_signup})" in listed
    assert "8 visitors ($3.75 each), 1 signup ($30.00, too few visitors for a range)" in listed
    overview = text_of(founder.get("/admin/"))
    assert "Spend $80.00" in overview  # both entries


def test_double_opt_in_prices_signups_and_confirmed_signups_apart(make_app, smtp):  # noqa: F811
    url, inbox = smtp
    app = make_app(
        MIN_VISITORS_FOR_VERDICT=MINIMUM,
        RATELIMIT_ENABLED=False,
        MAIL_URL=url,
        MAIL_FROM="hi@example.com",
    )
    visitors_from(app, "optin", "utm_source=google", 12, 4)
    deliver(app)
    # Two visitors confirm (the first one's two addresses: still one confirmed visitor).
    for message in inbox.messages:
        if message["To"].endswith(("-0@example.com", "-0-again@example.com", "-1@example.com")):
            confirm_by(browser(app), link_in(message, "confirm"))
    today = utcnow().date()
    record(logged_in(app), "optin", source="google", first_day=str(today), last_day=str(today),
           amount="24")  # fmt: skip
    [row] = _costs(app, "optin")
    assert (row.costs.visitors, row.costs.signed_up, row.costs.confirmed) == (12, 4, 2)
    assert row.costs.per_signup.value == 2400 / 4 and row.costs.per_confirmed.value == 2400 / 2


def test_one_campaign_name_on_two_sources_is_two_sets_of_visitors(make_app):
    """ "launch" on Google and on Facebook: each entry counts its own source's visitors of the
    campaign, not the campaign's visitors from every source."""
    app = make_app(MIN_VISITORS_FOR_VERDICT=MINIMUM, RATELIMIT_ENABLED=False)
    visitors_from(app, "plain", "utm_source=google&utm_campaign=launch", 12, 3)
    visitors_from(app, "plain", "utm_source=facebook&utm_campaign=launch", 10, 1)
    visitors_from(app, "plain", "utm_campaign=other&utm_source=google", 4, 2)
    today = str(utcnow().date())
    founder = logged_in(app)
    for source, amount in (("google", "24"), ("facebook", "20")):
        record(founder, "plain", source=source, campaign="launch", first_day=today,
               last_day=today, amount=amount)  # fmt: skip
    rows = {row.label: row.costs for row in _costs(app, "plain")}
    assert {label: (c.visitors, c.signed_up) for label, c in rows.items()} == {
        "google / launch": (12, 3), "facebook / launch": (10, 1)
    }  # fmt: skip
    assert rows["google / launch"].per_signup.value == 2400 / 3
    # The whole of google on the same day would count the "launch" visitors twice: refused.
    refused = record(founder, "plain", source="google", first_day=today, last_day=today,
                     amount="8")  # fmt: skip
    assert refused.status_code == 400
    assert "already covers some of these visitors" in text_of(refused)
    result = app.test_cli_runner().invoke(
        args=["kit", "spend", "add", "plain", "--source", "google", "--campaign", "launch",
              "--from", today, "--to", today, "--amount", "5"]
    )  # fmt: skip
    assert result.exit_code == 1 and "entry #1 (google / launch" in result.output
    assert len(_costs(app, "plain")) == 2


def _costs(app, slug):
    with app.app_context():
        return costs.costs(slug, MINIMUM)


@pytest.mark.parametrize(
    "fields, message",
    [
        ({"amount": "12,34.5"}, "is not an amount"),
        ({"amount": "0.001"}, "more decimals than USD has"),
        ({"currency": "US"}, "Use a three-letter code like USD or EUR."),
        ({"currency": "12$"}, "is not a currency code"),
        ({"last_day": "2026-10-01"}, "the last day comes before the first"),
        ({"first_day": "yesterday"}, "Not a valid date value"),
        ({"source": ""}, "Please enter the utm_source of the ads."),
        ({"amount": "99999999999"}, "more than this kit can count"),
        ({"first_day": "9999-12-30", "last_day": "9999-12-31"}, "not a day between 2000 and 2100"),
        ({"first_day": "1999-12-31"}, "not a day between 2000 and 2100"),
        ({"amount": "١٢٠"}, "is not an amount"),
        ({"campaign": "spring\u202e"}, "holds a control or invisible character"),
        ({"source": "goo\x1b[31mgle"}, "holds a control or invisible character"),
        ({"first_day": "２０２６-11-01"}, "Not a valid date value"),
    ],
)
def test_spend_that_cannot_be_stored_comes_back_with_what_was_typed(app, fields, message):
    typed = {"source": "google<script>", "campaign": "spring", "first_day": "2026-11-01",
             "last_day": "2026-11-07", "amount": "120.50", **fields}  # fmt: skip
    answer = record(logged_in(app), "plain", **typed)
    html = answer.get_data(as_text=True)
    assert answer.status_code == 400 and message in html
    assert 'value="spring' in html  # nothing typed is lost
    if typed["source"] == "google<script>":
        assert 'value="google&lt;script&gt;"' in html
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(AdSpend)) == 0


def test_a_spend_entry_can_be_deleted_and_only_by_the_logged_in_founder(app):
    founder = logged_in(app)
    record(founder, "plain", source="google", first_day="2026-11-01", last_day="2026-11-02",
           amount="10")  # fmt: skip
    with app.app_context():
        entry_id = db.session.scalar(select(AdSpend.id))
    stranger = browser(app)
    assert stranger.post(f"/admin/plain/spend/{entry_id}/delete").status_code in (302, 400, 403)
    assert stranger.post("/admin/plain/spend", data={"source": "x"}).status_code in (302, 400, 403)
    page = founder.get("/admin/plain/sources").get_data(as_text=True)
    token = form_fields(page)["csrf_token"]
    elsewhere = founder.post(f"/admin/ab/spend/{entry_id}/delete", data={"csrf_token": token})
    assert elsewhere.status_code == 404  # another page's address: nothing deleted
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(AdSpend)) == 1
    deleted = founder.post(f"/admin/plain/spend/{entry_id}/delete", data={"csrf_token": token})
    assert deleted.status_code == 302
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(AdSpend)) == 0


# --- the arithmetic, without Flask ----------------------------------------------------------


@pytest.mark.parametrize(
    "spent, visitors, signups", [(5000, 20, 5), (12345, 400, 37), (100, 10, 10)]
)
def test_cost_per_signup_and_its_interval_follow_the_conversion_interval(spent, visitors, signups):
    cost = cost_per(spent, visitors, signups, 10)
    interval = wilson(signups, visitors)
    assert cost.value == pytest.approx(spent / signups)
    assert cost.low == pytest.approx(spent / (visitors * interval.high))
    assert cost.high == pytest.approx(spent / (visitors * interval.low))


def test_cost_per_signup_says_not_enough_data_or_no_upper_bound():
    few = cost_per(5000, 9, 3, 10)  # below the minimum of visitors: what was paid, no range
    assert costs.cost_text(few, "USD") == "$16.67, too few visitors for a range"
    assert costs.cost_text(cost_per(5000, 9, 0, 10), "USD") == "none yet"
    assert cost_per(5000, 0, 0, 0) is None  # no visitors at all
    nobody = cost_per(5000, 50, 0, 10)
    assert nobody.value is None and nobody.high is None
    assert nobody.low == pytest.approx(5000 / (50 * wilson(0, 50).high))
    assert costs.cost_text(nobody, "USD").startswith("none yet (at least $")
    assert costs.cost_text(None, "USD") == "not enough data"


@pytest.mark.parametrize(
    "typed, code, minor",
    [("120", "USD", 12000), ("120.5", "USD", 12050), ("1,200.00", "EUR", 120000),
     ("$7", "USD", 700), ("1200", "JPY", 1200), ("0", "USD", 0)],
)  # fmt: skip
def test_amounts_are_read_in_the_currencys_smallest_unit(typed, code, minor):
    assert money.parse(typed, code) == minor


@pytest.mark.parametrize(
    "typed, code", [("12.5", "JPY"), ("-5", "USD"), ("1e3", "USD"), ("", "USD")]
)
def test_amounts_that_are_not_money_are_refused(typed, code):
    with pytest.raises(money.MoneyError):
        money.parse(typed, code)


def test_amounts_are_written_for_people():
    """The way the locale writes them (Babel's CLDR data), with the digits Stripe counts."""
    assert money.text(12050, "USD") == "$120.50"
    assert money.text(1200, "JPY") == "¥1,200"
    assert money.text(900, "CHF") == "CHF9.00"
    assert money.text(12345, "KWD") == "KWD12.345"  # Stripe counts KWD in thousandths
    assert money.text(150000, "HUF") == "HUF1,500.00"  # CLDR shows no fillér, Stripe counts them
    assert money.text(120050, "EUR", "de") == "1.200,50\xa0€"
    assert money.totals_text({"USD": 100, "EUR": 250}) == "€2.50 + $1.00"
    assert re.fullmatch(r"\$0\.33", money.text(100 / 3, "USD"))
