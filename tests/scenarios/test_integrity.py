"""Numbers a single hostile browser can neither bend nor break.

The unit of an experiment is the visitor: one browser signing up five addresses is one
conversion, an instant submit is attributed like a slow one, the founder browsing their own
page is not a visitor, and nobody refers themselves.
"""

from __future__ import annotations

import csv
import io

import pytest
from sqlalchemy import func
from sqlalchemy import select

from kit.models import DailyExposures
from kit.models import Exposure
from kit.models import GoalClick
from kit.models import Signup
from kit.models import db
from tests.conftest import browser
from tests.conftest import form_fields
from tests.conftest import sign_up
from tests.founder.test_dashboard import logged_in
from tests.founder.test_dashboard import text_of
from tests.tracking.test_tracking import variant_shown

REPORT_URLS = [
    "/admin/",
    "/admin/ab",
    "/admin/ab/sources",
    "/admin/ab/signups",
    "/admin/ab/results.csv",
    "/admin/ab/signups.csv",
]


def scalar(app, query):
    with app.app_context():
        return db.session.scalar(query)


def results_csv(admin) -> dict[str, dict[str, str]]:
    text = admin.get("/admin/ab/results.csv").get_data(as_text=True)
    return {row["variant"]: row for row in csv.DictReader(io.StringIO(text))}


def test_one_browser_signing_up_two_addresses_is_one_conversion_and_breaks_nothing(app):
    """Today: /admin/ answers 500 (math domain error) once an arm has more signups than
    visitors. Now every report answers, and the arm shows 2 signups from 1 converted visitor."""
    attacker = browser(app)
    arm = variant_shown(attacker.get("/ab"))
    for email in ["one@example.com", "two@example.com"]:
        assert sign_up(attacker, slug="ab", email=email).status_code == 302
    admin = logged_in(app)
    for url in REPORT_URLS:
        assert admin.get(url).status_code == 200, url
    row = results_csv(admin)[arm]
    assert (row["visitors"], row["converted"], row["signups"]) == ("1", "1", "2")
    assert row["rate"] == "1.0"
    api = app.test_client().get("/api/pages", headers={"Authorization": "Bearer test-api-token"})
    assert api.status_code == 200
    [line] = [line for line in api.get_json()["pages"] if line["page"] == "ab"]
    assert (line["visitors"], line["converted"], line["signups"]) == (1, 1, 2)
    result = app.test_cli_runner().invoke(args=["kit", "stats", "ab"])
    assert result.exit_code == 0, result.output


def test_many_addresses_from_one_browser_never_outnumber_its_visitors(make_app):
    """Five addresses from each of three browsers: 3 visitors, 3 conversions, 15 signups."""
    app = make_app(RATELIMIT_ENABLED=False)
    for n in range(3):
        visitor = browser(app)
        visitor.get("/plain")
        for k in range(5):
            assert sign_up(visitor, email=f"v{n}-{k}@example.com").status_code == 302
    page = text_of(logged_in(app).get("/admin/plain"))
    assert "all visitors 3 3 15 100.0%" in page


def test_an_instant_submit_is_attributed_like_a_slow_one(make_app):
    """With the background writer on and no minimum submit time, a form posted 0 ms after
    the page (before the writer's batch) is credited to the variant the visitor was shown,
    and the visitor is counted once."""
    app = make_app(EXPOSURE_WRITER=True, MIN_SUBMIT_SECONDS=0, RATELIMIT_ENABLED=False)
    shown = {}
    for n in range(30):
        visitor = browser(app)
        page = visitor.get("/ab")
        shown[f"fast{n}@example.com"] = variant_shown(page)
        data = {**form_fields(page.get_data(as_text=True)), "email": f"fast{n}@example.com"}
        assert visitor.post("/ab", data=data).status_code == 302
    assert app.extensions["exposures"].flush()
    with app.app_context():
        credited = dict(db.session.execute(select(Signup.email, Signup.variant)).all())
        exposures = db.session.scalar(select(func.count()).select_from(Exposure))
        counted = db.session.scalar(select(func.sum(DailyExposures.visitors)))
    assert credited == shown
    assert exposures == counted == 30


def test_a_goal_clicked_right_after_the_page_is_counted(make_app):
    app = make_app(EXPOSURE_WRITER=True)
    visitor = browser(app)
    arm = variant_shown(visitor.get("/ab"))
    assert visitor.get("/go/ab/pro").status_code == 200
    assert app.extensions["exposures"].flush()
    with app.app_context():
        [click] = db.session.scalars(select(GoalClick)).all()
    assert (click.goal, click.variant) == ("pro", arm)


def test_a_click_or_signup_from_a_browser_never_shown_the_page_is_not_credited(app):
    """No page view, no exposure: a goal link opened directly counts nothing."""
    visitor = browser(app)
    assert visitor.get("/go/ab/pro").status_code == 200
    assert scalar(app, select(func.count()).select_from(GoalClick)) == 0
    assert scalar(app, select(func.count()).select_from(Exposure)) == 0


def test_the_logged_in_founder_is_not_a_visitor_and_is_told_so(app):
    founder = logged_in(app)
    page = founder.get("/ab")
    assert "your visits and clicks are not counted" in text_of(page)
    founder.get("/go/ab/pro")
    assert sign_up(founder, slug="ab", email="me@founder.example").status_code == 302
    assert scalar(app, select(func.count()).select_from(Exposure)) == 0
    assert scalar(app, select(func.count()).select_from(GoalClick)) == 0
    assert scalar(app, select(Signup.variant)) is None  # on the list, not in the experiment
    stranger = browser(app)
    assert "not counted" not in text_of(stranger.get("/ab"))
    assert scalar(app, select(func.count()).select_from(Exposure)) == 1


def test_dont_count_me_keeps_a_browser_out_after_logout_until_undone(app):
    founder = logged_in(app)
    token = form_fields(founder.get("/admin/").get_data(as_text=True))
    assert "Never count this browser" in text_of(founder.get("/admin/"))
    founder.post("/admin/counting", data=token)
    founder.post("/admin/logout", data=token)
    assert "not counted" in text_of(founder.get("/ab"))
    assert scalar(app, select(func.count()).select_from(Exposure)) == 0
    # Counted again once undone.
    again = logged_in(app)
    again.set_cookie("kit_not_counted", "1")
    token = form_fields(again.get("/admin/").get_data(as_text=True))
    assert "Count this browser again" in text_of(again.get("/admin/"))
    again.post("/admin/counting", data={**token, "count": "yes"})
    again.post("/admin/logout", data=token)
    assert "not counted" not in text_of(again.get("/ab"))
    assert scalar(app, select(func.count()).select_from(Exposure)) == 1


def test_counting_form_needs_its_csrf_token(app):
    founder = logged_in(app)
    assert founder.post("/admin/counting").status_code == 400
    assert "Never count this browser" in text_of(founder.get("/admin/"))


@pytest.mark.parametrize("addresses", [5])
def test_one_browser_never_refers_itself_whatever_addresses_it_uses(app, addresses):
    """A signs up, then the same browser opens A's share link and signs up B, C, D, E."""
    schemer = browser(app)
    assert sign_up(schemer, email="a@example.com").status_code == 302
    code = scalar(app, select(Signup.share_code).where(Signup.email_key == "a@example.com"))
    for n in range(1, addresses):
        schemer.get(f"/plain?ref={code}")
        assert sign_up(schemer, email=f"alias{n}@example.com").status_code == 302
    assert scalar(app, select(Signup.referrals).where(Signup.email_key == "a@example.com")) == 0
    friend = browser(app)
    friend.get(f"/plain?ref={code}")
    assert sign_up(friend, email="friend@example.com").status_code == 302
    assert scalar(app, select(Signup.referrals).where(Signup.email_key == "a@example.com")) == 1


def test_a_visitor_whose_cookie_forgot_the_page_is_still_credited_from_the_stored_row(app):
    """The cookie keeps the last 50 pages seen; the exposure row on record still counts."""
    visitor = browser(app)
    page = visitor.get("/ab")
    arm = variant_shown(page)
    with visitor.session_transaction() as cookie:
        cookie["seen"] = [f"other{n}:x" for n in range(50)]
    data = {**form_fields(page.get_data(as_text=True)), "email": "old@example.com"}
    assert visitor.post("/ab", data=data).status_code == 302
    assert scalar(app, select(Signup.variant)) == arm
    assert scalar(app, select(func.count()).select_from(Exposure)) == 1
