"""`flask kit recount` puts every kept counter back from the stored rows: a founder who loaded
rows around the app (or whose counters went wrong) sees on the dashboard and the API what the
visitors did, exactly as the app counted it while they came."""

from __future__ import annotations

from sqlalchemy import delete
from sqlalchemy import select
from sqlalchemy import update

from kit.models import DailyConversions
from kit.models import DailyExposures
from kit.models import DailySource
from kit.models import LineBucket
from kit.models import Signup
from kit.models import WaitlistLine
from kit.models import db
from tests.conftest import browser
from tests.conftest import sign_up

API = {"Authorization": "Bearer test-api-token"}


def what_the_founder_reads(app) -> dict:
    """Every page's figures through the API, each page's sources and a member's place."""
    api = app.test_client()
    seen = {"overview": api.get("/api/pages", headers=API).get_json()}
    for slug in ("ab", "plain"):
        seen[slug] = api.get(f"/api/pages/{slug}", headers=API).get_json()
    return seen


def a_demand_test(app) -> None:
    """Visitors from two sources on an A/B page, some signing up (one browser twice), and a
    plain page where a member brings a friend."""
    for n in range(12):
        visitor = browser(app)
        source = "google" if n % 2 else "facebook"
        visitor.get(f"/ab?utm_source={source}&utm_campaign=launch")
        if n % 3 == 0:
            sign_up(visitor, "ab", email=f"ab{n}@example.com")
        if n == 0:
            sign_up(visitor, "ab", email="second-address@example.com")
    member = browser(app)
    sign_up(member, "plain", email="member@example.com")
    with app.app_context():
        code = db.session.scalar(select(Signup.share_code).filter_by(email="member@example.com"))
    friend = browser(app)
    friend.get(f"/plain?ref={code}")
    sign_up(friend, "plain", email="friend@example.com")
    sign_up(browser(app), "plain", email="third@example.com")


def test_recount_restores_every_figure_after_the_counters_are_lost(app):
    a_demand_test(app)
    before = what_the_founder_reads(app)
    assert before["ab"]["experiment"] and before["overview"]["pages"]
    with app.app_context():
        for counter in (DailyExposures, DailyConversions, DailySource, LineBucket):
            db.session.execute(delete(counter))
        db.session.execute(update(WaitlistLine).values(live=0, seq=0, signups=0, referred=0))
        db.session.commit()
    assert what_the_founder_reads(app) != before  # the counters are what the reports read

    result = app.test_cli_runner().invoke(args=["kit", "recount"])

    assert result.exit_code == 0, result.output
    assert "recounted visitors per day" in result.output
    assert "list counts of 2 page(s)" in result.output
    assert what_the_founder_reads(app) == before


def test_recount_of_an_empty_database_changes_nothing(app):
    result = app.test_cli_runner().invoke(args=["kit", "recount"])
    assert result.exit_code == 0, result.output
    assert "list counts of 0 page(s)" in result.output
    pages = what_the_founder_reads(app)["overview"]["pages"]
    assert {(page["page"], page["signups"], page["converted"]) for page in pages} == {
        ("ab", 0, 0), ("consent", 0, 0), ("optin", 0, 0), ("plain", 0, 0),
    }  # fmt: skip
