"""A GET never commits its session: what a page view records (an exposure, a goal click, a
pre-order click) goes through the tracking writer's own transaction, and a line rebuilt for a
read is kept in a transaction of its own. So a link opened by a mail scanner, a crawler or a
prefetch can never write half of something a POST would."""

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
from tests.tracking import test_preorders as preorders
from tests.tracking.test_tracking import statements
from tests.waitlist.test_line import set_bump
from tests.waitlist.test_referrals import join
from tests.waitlist.test_referrals import place
from tests.waitlist.test_referrals import signup

# The pre-order tests' shop, with a goal link besides its two pre-order buttons.
SHOP = (
    preorders.SHOP + '[[goals]]\nname = "buy"\nlabel = "Buy now"\nurl = "https://example.com/buy"\n'
)


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


def stored_bump(app) -> int:
    with app.app_context():
        return db.session.scalar(select(WaitlistLine.bump).where(WaitlistLine.page == "plain"))


def test_a_read_rebuilds_the_line_for_a_new_bump_once_in_a_transaction_of_its_own(
    make_app, pages_dir, commits
):
    """After an edit of ``referral_bump`` the thank-you page shows the line with the new bump
    at once; the rebuild is kept (not the request's session: it commits nothing), so the next
    read, in this process or another, rebuilds nothing."""
    app = make_app(RATELIMIT_ENABLED=False)
    people = [join(app, f"p{n}@example.com") for n in range(1, 7)]
    join(app, "f@example.com", ref=signup(app, "p6@example.com").share_code)
    assert stored_bump(app) != 1
    set_bump(pages_dir, "plain", 1)
    commits.clear()
    assert place(people[5]) == 6
    assert commits == [] and stored_bump(app) == 1
    app.extensions["lines_built"].clear()  # another process
    with statements(app) as sent:
        assert place(people[5]) == 6
    assert not [s for s in sent if s.startswith(("UPDATE", "INSERT", "DELETE"))]


def test_the_release_step_builds_the_line_of_an_edited_page(make_app, pages_dir):
    app = make_app(RATELIMIT_ENABLED=False)
    for n in range(1, 4):
        join(app, f"p{n}@example.com")
    set_bump(pages_dir, "plain", 1)
    runner = app.test_cli_runner()
    assert runner.invoke(args=["db", "stamp", "head"]).exit_code == 0  # tables made by the test
    result = runner.invoke(args=["kit", "release"])
    assert result.exit_code == 0, result.output
    assert stored_bump(app) == 1
    with app.app_context():
        size = db.session.scalar(select(func.sum(WaitlistLine.live)))
    assert size == 3
