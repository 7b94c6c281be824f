"""Phases: a running test whose variants or split change starts counting afresh.

Changing variant b's headline mid-test without changing the experiment key used to pool both
headlines under one name, and the dashboard never said b had changed. Now each change is a
phase on its own numbers, the earlier phase stays readable, and the dashboard says what changed
and when.
"""

from __future__ import annotations

import threading
from urllib.parse import quote

import pytest
from scipy.stats import chisquare
from sqlalchemy import select

from kit.models import ExperimentPhase
from kit.models import Signup
from kit.models import db
from tests.conftest import browser
from tests.conftest import form_fields
from tests.conftest import sign_up
from tests.founder.test_dashboard import logged_in
from tests.founder.test_dashboard import text_of
from tests.tracking.test_tracking import edit_page
from tests.tracking.test_tracking import rows
from tests.tracking.test_tracking import visitor_in

PHASE_2 = "headline-1 phase 2"
BEARER = {"Authorization": "Bearer test-api-token"}


@pytest.fixture(params=[True, False], ids=["fast", "plain"])
def fast_path(request: pytest.FixtureRequest) -> bool:
    """Each test runs with the fast path on and off (kit/fastpath.py)."""
    return request.param


def arms(app, experiment: str) -> dict[str, tuple[int, int]]:
    """variant -> (visitors, conversions) of one phase, as the API reports them."""
    answer = app.test_client().get(f"/api/pages/ab?experiment={quote(experiment)}", headers=BEARER)
    assert answer.status_code == 200
    return {arm["name"]: (arm["visitors"], arm["conversions"])
            for arm in answer.get_json()["results"]["arms"] if arm["visitors"]}  # fmt: skip


def dashboard(app, experiment: str | None = None) -> str:
    url = "/admin/ab" + (f"?experiment={quote(experiment)}" if experiment else "")
    answer = logged_in(app).get(url)
    assert answer.status_code == 200
    return text_of(answer)


def test_editing_a_running_variant_starts_a_phase_on_its_own_numbers(app, pages_dir):
    first_a, first_b = visitor_in(app, "a"), visitor_in(app, "b")
    sign_up(first_b, "ab", email="before@example.com")
    before = arms(app, "headline-1")
    assert before["b"][1] == 1
    edit_page(pages_dir, "ab", 'headline = "Headline B"', 'headline = "Headline B, sharper"')
    for visitor in (first_a, first_b):  # both come back and see the page as it is now
        visitor.get("/ab")
    assert "Headline B, sharper" in first_b.get("/ab").get_data(as_text=True)
    sign_up(first_b, "ab", email="after@example.com")
    assert arms(app, "headline-1") == before  # as it was when b changed
    assert arms(app, PHASE_2) == {"a": (1, 0), "b": (1, 1)}  # counted afresh
    assert [(s.email, s.experiment) for s in rows(app, Signup)] == [
        ("before@example.com", "headline-1"),
        ("after@example.com", PHASE_2),
    ]
    now = dashboard(app)
    assert f"Experiment {PHASE_2} , running, phase 2 since" in now
    assert "(b: headline changed)" in now
    earlier = dashboard(app, "headline-1")
    assert "phase 1 of the test, ended" in earlier and "by an edit (b: headline changed)" in earlier


def test_editing_the_base_content_changes_every_variant_that_inherits_it(app, pages_dir):
    visitor_in(app, "a")
    edit_page(pages_dir, "ab", 'title = "A/B page"', 'title = "A/B page, new"')
    browser(app).get("/ab")
    [phase] = [p for p in rows(app, ExperimentPhase) if p.number == 2]
    assert phase.change == "a: title changed; b: title changed"


def test_re_weighting_the_split_starts_a_phase_with_its_own_split(app, pages_dir):
    visitor_in(app, "a")
    edit_page(pages_dir, "ab", 'headline = "Headline B"', 'headline = "Headline B"\nweight = 3')
    for _ in range(12):
        browser(app).get("/ab")
    assert "(split a 50 %, b 50 % → a 25 %, b 75 %)" in dashboard(app)
    answer = app.test_client().get(f"/api/pages/ab?experiment={quote(PHASE_2)}", headers=BEARER)
    results = answer.get_json()["results"]
    seen = [arm["visitors"] for arm in results["arms"]]  # a, b
    expected = chisquare(seen, f_exp=[sum(seen) * 0.25, sum(seen) * 0.75])
    assert results["srm"]["chi2"] == pytest.approx(expected.statistic)  # checked against 25:75


def test_saving_the_file_unchanged_starts_nothing_and_a_revert_is_a_phase(app, pages_dir):
    visitor = visitor_in(app, "b")
    edit_page(pages_dir, "ab", 'cta = "Join B"', 'cta = "Join B"  # unchanged, a comment')
    visitor.get("/ab")
    edit_page(pages_dir, "ab", 'headline = "Headline B"', 'headline = "Headline B2"')
    visitor.get("/ab")
    edit_page(pages_dir, "ab", 'headline = "Headline B2"', 'headline = "Headline B"')
    visitor.get("/ab")
    numbers = [(p.number, p.change) for p in rows(app, ExperimentPhase)]
    assert numbers == [(1, ""), (2, "b: headline changed"), (3, "b: headline changed")]
    assert arms(app, "headline-1 phase 3") == {"b": (1, 0)}  # not pooled with phase 1


def test_a_signup_from_a_form_loaded_before_the_edit_is_unattributed(app, pages_dir):
    """The visitor saw the old headline: crediting the new phase would credit a page they
    never saw, crediting the old phase would count after it ended."""
    visitor = visitor_in(app, "b")
    form = form_fields(visitor.get("/ab").get_data(as_text=True))
    edit_page(pages_dir, "ab", 'headline = "Headline B"', 'headline = "Headline B2"')
    browser(app).get("/ab")
    assert visitor.post("/ab", data={**form, "email": "stale@example.com"}).status_code == 302
    [signup] = rows(app, Signup)
    assert (signup.experiment, signup.variant) == (None, None)
    assert arms(app, "headline-1")["b"][1] == 0


def test_an_edit_after_the_winner_starts_no_phase(app, pages_dir):
    visitor_in(app, "a")
    edit_page(pages_dir, "ab", 'key = "headline-1"', 'key = "headline-1"\nwinner = "b"')
    edit_page(pages_dir, "ab", 'headline = "Headline B"', 'headline = "Headline B2"')
    browser(app).get("/ab")
    assert [p.number for p in rows(app, ExperimentPhase)] == [1]


def test_two_workers_seeing_the_edit_at_once_count_in_one_phase(make_app, pages_dir):
    """Two processes load the edited file and race to add phase 2: the unique constraint
    keeps one, and both count their visitors in it."""
    workers = [make_app(), make_app()]
    for app in workers:
        browser(app).get("/ab")
    edit_page(pages_dir, "ab", 'headline = "Headline B"', 'headline = "Headline B2"')
    start = threading.Barrier(len(workers))

    def visit(app) -> None:
        start.wait()
        for _ in range(3):
            assert browser(app).get("/ab").status_code == 200

    threads = [threading.Thread(target=visit, args=(app,)) for app in workers]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    app = workers[0]
    with app.app_context():
        phases = db.session.scalars(select(ExperimentPhase.number)).all()
    assert sorted(phases) == [1, 2]
    assert sum(v for v, _ in arms(app, PHASE_2).values()) == 6
