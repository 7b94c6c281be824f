"""The sources page sums kept daily counts; they must equal a full scan of the visits."""

from __future__ import annotations

import random

import pytest
from sqlalchemy import func
from sqlalchemy import select

from kit import recount
from kit.models import Conversion
from kit.models import Exposure
from kit.models import db
from kit.reports.sources import SOURCE_DIMENSIONS
from kit.reports.sources import by_dimension as sources
from tests.conftest import MOBILE_UA
from tests.conftest import browser
from tests.conftest import form_fields

UTM = ["newsletter", "hn", "twitter", None]
REFERRERS = ["https://news.ycombinator.com/item", "https://t.co/x", None]


def full_scan(dimension: str) -> dict[str, tuple[int, int]]:
    """value -> (visitors, visitors who converted), straight from the rows."""
    column = getattr(Exposure, dimension)
    seen = dict(db.session.execute(select(column, func.count()).group_by(column)).all())
    converted = dict(
        db.session.execute(
            select(column, func.count())
            .select_from(Conversion)
            .join(Exposure, Exposure.id == Conversion.exposure_id)
            .group_by(column)
        ).all()
    )
    return {
        (value if value is not None else "(none)"): (n, converted.get(value, 0))
        for value, n in seen.items()
    }


@pytest.mark.parametrize("writer", [True, False])
def test_kept_source_counts_equal_a_full_scan(make_app, writer):
    """60 visits with random tags, referrers and devices; some sign up at once (before the
    writer thread), some twice from one browser, some never."""
    app = make_app(EXPOSURE_WRITER=writer, RATELIMIT_ENABLED=False)
    rng = random.Random(13)
    for n in range(60):
        visitor = browser(app, MOBILE_UA) if rng.random() < 0.3 else browser(app)
        tags = {"utm_source": rng.choice(UTM), "utm_campaign": rng.choice(["a", "b", None])}
        query = "&".join(f"{k}={v}" for k, v in tags.items() if v)
        referrer = rng.choice(REFERRERS)
        headers = {"Referer": referrer} if referrer else {}
        page = visitor.get(f"/ab?{query}", headers=headers).get_data(as_text=True)
        for k in range(rng.choice([0, 0, 1, 2])):
            data = {**form_fields(page), "email": f"v{n}-{k}@example.com"}
            assert visitor.post("/ab", data=data).status_code == 302
    if writer:
        assert app.extensions["exposures"].flush()
    with app.app_context():
        page = app.extensions["pages"].pages["ab"]
        for dimension in SOURCE_DIMENSIONS:
            rows = sources(page, "headline-1", dimension)
            kept = {row.value: (row.visitors, row.signups) for row in rows}
            assert kept == full_scan(dimension), dimension
        # And a recount from the rows gives the same again.
        before = {d: sources(page, "headline-1", d) for d in SOURCE_DIMENSIONS}
        recount.conversions()
        assert {d: sources(page, "headline-1", d) for d in SOURCE_DIMENSIONS} == before


def test_a_signup_right_after_the_page_keeps_its_visits_source(make_app):
    """The page view's row is written behind the request (perhaps by another worker); a
    signup sent at once used to write the row itself, from the form's request, which has no
    tags: 10 visitors from a campaign of whom 3 signed up at once showed as 7 visitors and 0
    signups. Attribution must not depend on timing."""
    app = make_app(EXPOSURE_WRITER=True, RATELIMIT_ENABLED=False, MIN_SUBMIT_SECONDS=0)
    for n in range(10):
        visitor = browser(app)
        ad = {"Referer": "https://www.facebook.com/"}
        page = visitor.get("/ab?utm_source=fb&utm_campaign=launch", headers=ad)
        if n < 3:
            data = {**form_fields(page.get_data(as_text=True)), "email": f"v{n}@example.com"}
            assert visitor.post("/ab", data=data).status_code == 302
    assert app.extensions["exposures"].flush()
    with app.app_context():
        page = app.extensions["pages"].pages["ab"]
        for dimension, value in (("utm_source", "fb"), ("utm_campaign", "launch"),
                                 ("referrer_host", "facebook.com")):  # fmt: skip
            rows = {
                row.value: (row.visitors, row.signups)
                for row in sources(page, "headline-1", dimension)
            }
            assert rows == {value: (10, 3)}, dimension
