"""A GET never commits: what a page view records (an exposure, a goal click, a pre-order
click) goes through the tracking writer's own transaction, and a line rebuilt for a read is
kept only by a change or by the deploy's release step. So a link opened by a mail scanner,
a crawler or a prefetch can never write half of something a POST would."""

from __future__ import annotations

import re

import pytest
from flask import has_request_context
from flask import request
from sqlalchemy import event
from sqlalchemy import func
from sqlalchemy import select
from sqlalchemy.orm import Session

from kit.models import GoalClick
from kit.models import WaitlistLine
from kit.models import db
from tests.conftest import browser
from tests.conftest import sign_up
from tests.founder.test_dashboard import logged_in
from tests.waitlist.test_line import set_bump
from tests.waitlist.test_referrals import join
from tests.waitlist.test_referrals import place
from tests.waitlist.test_referrals import signup

SHOP = """
title = "Shop"
headline = "A shop"
cta = "Join"

[[goals]]
name = "buy"
label = "Buy now"
url = "https://example.com/buy"

[pricing]
[[pricing.tiers]]
name = "Pro"
price = "$9"
checkout_url = "https://buy.stripe.com/test_abc"

[experiment]
key = "first"

[[experiment.variants]]
name = "a"

[[experiment.variants]]
name = "b"
headline = "Another shop"
"""


@pytest.fixture
def commits():
    """The HTTP method of every request that committed the database session."""
    methods: list[str] = []

    def committed(session: Session) -> None:
        if has_request_context():
            methods.append(request.method)

    event.listen(Session, "after_commit", committed)
    yield methods
    event.remove(Session, "after_commit", committed)


def test_a_whole_visit_commits_only_on_its_posts(make_app, pages_dir, commits):
    (pages_dir / "shop.toml").write_text(SHOP, encoding="utf-8")
    app = make_app(RATELIMIT_ENABLED=False)
    visitor = browser(app)
    assert visitor.get("/shop").status_code == 200
    assert visitor.get("/go/shop/buy").status_code == 302
    assert visitor.get("/checkout/shop/pro").status_code == 302
    answer = sign_up(visitor, slug="shop", email="ada@example.com")
    thanks = visitor.get(answer.location).get_data(as_text=True)
    status = re.search(r"/shop/status/[^\"/]+", thanks)[0]
    assert visitor.get(status).status_code == 200
    founder = logged_in(app)
    for path in ("/admin/", "/admin/shop", "/admin/shop/sources", "/admin/shop/signups"):
        assert founder.get(path).status_code == 200, path
    assert "GET" not in commits
    assert "POST" in commits  # the signup and the login did commit
    with app.app_context():
        clicks = db.session.scalars(select(GoalClick.goal).order_by(GoalClick.goal)).all()
    assert clicks == ["buy", "checkout:pro"]  # both clicks are counted all the same


def test_a_read_shows_a_new_bump_and_the_release_step_keeps_it(make_app, pages_dir, commits):
    """After an edit of ``referral_bump`` the thank-you page shows the line with the new bump
    at once; the stored line keeps the old one until a change or ``flask kit release``."""
    app = make_app(RATELIMIT_ENABLED=False)
    people = [join(app, f"p{n}@example.com") for n in range(1, 7)]
    join(app, "f@example.com", ref=signup(app, "p6@example.com").share_code)
    set_bump(pages_dir, "plain", 1)
    commits.clear()
    assert place(people[5]) == 6
    assert commits == []

    def stored_bump() -> int:
        with app.app_context():
            return db.session.scalar(select(WaitlistLine.bump).where(WaitlistLine.page == "plain"))

    default_bump = stored_bump()
    assert default_bump != 1
    runner = app.test_cli_runner()
    assert runner.invoke(args=["db", "stamp", "head"]).exit_code == 0  # tables made by the test
    result = runner.invoke(args=["kit", "release"])
    assert result.exit_code == 0, result.output
    assert stored_bump() == 1
    assert place(people[5]) == 6
    with app.app_context():
        size = db.session.scalar(select(func.sum(WaitlistLine.live)))
    assert size == 7
