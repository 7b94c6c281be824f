"""Nothing a database can hold breaks a report: every admin page, CSV, API route, ``kit
stats`` and the founder digest answer, whatever rows the tables hold and however the page
file changed since.

Hypothesis writes random page files (experiments added, renamed or removed, variants removed,
weights changed, winners set, goals dropped) and random rows: exposures of past experiments
and removed variants, daily counters that disagree with them, orphan, unattributed,
unconfirmed and deleted signups, several signups per visitor, clicks on goals that no longer
exist, dates decades apart, pre-orders refunded more than they paid in unknown currencies,
ad spend whose last day comes before its first. The founder must still get every report.
"""

from __future__ import annotations

import os
from datetime import UTC
from datetime import date
from datetime import datetime
from datetime import timedelta

import pytest
from hypothesis import HealthCheck
from hypothesis import given
from hypothesis import settings
from hypothesis import strategies as st
from sqlalchemy import delete
from sqlalchemy import insert
from sqlalchemy import select

from kit.models import AdSpend
from kit.models import DailyExposures
from kit.models import Exposure
from kit.models import GoalClick
from kit.models import Outbox
from kit.models import PreOrder
from kit.models import Signup
from kit.models import db
from kit.reports import digest
from kit.reports.results import experiments_of
from tests.founder.test_dashboard import logged_in

EXAMPLES = settings(
    max_examples=int(os.environ.get("REPORT_EXAMPLES", "25")),
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
KEYS = ["", "headline-1", "headline-2", "old"]
VARIANTS = ["a", "b", "c", "gone"]
GOALS = ["buy", "pro", "removed"]
MOMENTS = st.datetimes(datetime(1990, 1, 1), datetime(2090, 1, 1), timezones=st.just(UTC))


@st.composite
def page_files(draw) -> str:
    """An ab.toml as a founder may have left it: any experiment, variants, winner, goals."""
    lines = ['title = "A/B page"', 'headline = "Headline A"']
    goals = draw(st.lists(st.sampled_from(GOALS[:2]), unique=True))
    for goal in goals:
        lines += ["[[goals]]", f'name = "{goal}"', f'label = "Get {goal}"']
    if draw(st.booleans()):
        variants = draw(
            st.lists(st.sampled_from(VARIANTS[:3]), min_size=2, max_size=3, unique=True)
        )
        lines += ["[experiment]", f'key = "{draw(st.sampled_from(KEYS[1:]))}"']
        if draw(st.booleans()):
            lines.append(f'winner = "{draw(st.sampled_from(variants))}"')
        for name in variants:
            weight = draw(st.sampled_from([0.5, 1, 1, 3]))
            lines += ["[[experiment.variants]]", f'name = "{name}"', f"weight = {weight}"]
    return "\n".join(lines) + "\n"


@st.composite
def contents(draw) -> dict[str, list[dict]]:
    """Rows for the ab page's tables, consistent or not with each other and the page file."""
    exposures = []
    for n, (key, variant, moment) in enumerate(
        draw(st.lists(st.tuples(st.sampled_from(KEYS), st.sampled_from(VARIANTS), MOMENTS)))
    ):
        exposures.append(
            {
                "page": "ab",
                "experiment": key,
                "variant": variant,
                "visitor_key": f"v{n}",
                "first_seen": moment,
                "utm_source": draw(st.sampled_from([None, "x", ""])),
                "device": "desktop",
            }  # fmt: skip
        )
    counters = {}
    for key, variant, day, visitors in draw(
        st.lists(
            st.tuples(
                st.sampled_from(KEYS),
                st.sampled_from(VARIANTS),
                st.dates(date(1990, 1, 1), date(2090, 1, 1)),
                st.integers(-3, 2**31 - 1),  # PostgreSQL's integer,
            )
        )
    ):
        counters[(key, variant, day)] = {
            "page": "ab", "experiment": key, "variant": variant, "day": day, "visitors": visitors
        }  # fmt: skip
    signups = []
    for n, (exposure, key, variant, moment, confirmed, deleted) in enumerate(
        draw(
            st.lists(
                st.tuples(
                    st.one_of(st.none(), st.integers(0, max(0, len(exposures) - 1))),
                    st.sampled_from([None, *KEYS]),
                    st.sampled_from([None, *VARIANTS]),
                    MOMENTS,
                    st.booleans(),
                    st.booleans(),
                )
            )
        )
    ):
        linked = exposures[exposure] if exposures and exposure is not None else None
        signups.append(
            {
                "page": "ab",
                "email": "" if deleted else f"s{n}@example.com",
                "email_key": f"s{n}@example.com",
                "experiment": linked["experiment"] if linked else key,
                "variant": linked["variant"] if linked else variant,
                "exposure_index": exposure if linked else None,
                "visitor_key": linked["visitor_key"] if linked else None,
                "created_at": moment,
                "confirmed_at": moment if confirmed else None,
                "deleted_at": moment + timedelta(days=1) if deleted else None,
                "share_code": f"code{n}",
                "referrals": draw(st.integers(0, 3)),
            }
        )
    clicks = {}
    for key, variant, goal, visitor in draw(
        st.lists(
            st.tuples(
                st.sampled_from(KEYS),
                st.sampled_from(VARIANTS),
                st.sampled_from(GOALS),
                st.integers(0, 30),
            )
        )
    ):
        clicks[(key, goal, visitor)] = {
            "page": "ab", "experiment": key, "variant": variant, "goal": goal,
            "visitor_key": f"v{visitor}", "created_at": datetime(2026, 10, 1, tzinfo=UTC),
        }  # fmt: skip
    preorders = [
        {
            "checkout_session": f"cs_{n}",
            "page": "ab",
            "experiment": key,
            "variant": variant,
            "tier": "Pro",
            "visitor_key": None if visitor is None else f"v{visitor}",
            "amount": amount,
            "refunded": refunded,
            "currency": currency,
            "created_at": moment,
            "utm_source": "x" if visitor is not None and visitor % 2 else None,
        }  # fmt: skip
        for n, (key, variant, visitor, amount, refunded, currency, moment) in enumerate(
            draw(
                st.lists(
                    st.tuples(
                        st.sampled_from([None, *KEYS]),
                        st.sampled_from([None, *VARIANTS]),
                        st.one_of(st.none(), st.integers(0, 30)),
                        st.integers(0, 2**31 - 1),
                        st.integers(0, 2**31 - 1),
                        st.sampled_from(["USD", "JPY", "XYZ"]),
                        MOMENTS,
                    )
                )
            )
        )  # fmt: skip
    ]
    spend = [
        {
            "page": "ab",
            "utm_source": source,
            "utm_campaign": campaign,
            "first_day": first,
            "last_day": last,
            "amount": amount,
            "currency": currency,
        }  # fmt: skip
        for source, campaign, first, last, amount, currency in draw(
            st.lists(
                st.tuples(
                    st.sampled_from(["x", ""]),
                    st.sampled_from(["", "c"]),
                    st.dates(date(1990, 1, 1), date(2090, 1, 1)),
                    st.dates(date(1990, 1, 1), date(2090, 1, 1)),  # before the first, even
                    st.integers(0, 2**31 - 1),
                    st.sampled_from(["USD", "EUR"]),
                )
            )
        )
    ]
    return {
        "exposures": exposures,
        "counters": list(counters.values()),
        "signups": signups,
        "clicks": list(clicks.values()),
        "preorders": preorders,
        "spend": spend,
    }


def store(app, rows: dict[str, list[dict]]) -> None:
    with app.app_context():
        for model in (GoalClick, Signup, DailyExposures, Exposure, Outbox, PreOrder, AdSpend):
            db.session.execute(delete(model))
        ids = []
        if rows["exposures"]:
            db.session.execute(insert(Exposure), rows["exposures"])
            keys = dict(db.session.execute(select(Exposure.visitor_key, Exposure.id)).all())
            ids = [keys[row["visitor_key"]] for row in rows["exposures"]]
        signups = [
            {
                **{k: v for k, v in row.items() if k != "exposure_index"},
                "exposure_id": None
                if row["exposure_index"] is None
                else ids[row["exposure_index"]],
            }
            for row in rows["signups"]
            for index in [row["exposure_index"]]
        ]
        for model, values in (
            (DailyExposures, rows["counters"]),
            (Signup, signups),
            (GoalClick, rows["clicks"]),
            (PreOrder, rows["preorders"]),
            (AdSpend, rows["spend"]),
        ):
            if values:
                db.session.execute(insert(model), values)
        db.session.commit()


def report_urls(app) -> list[str]:
    with app.app_context():
        page = app.extensions["pages"].pages["ab"]
        keys = experiments_of(page)
    urls = ["/admin/", "/admin/ab", "/admin/ab/sources", "/admin/ab/signups",
            "/admin/ab/signups.csv", "/admin/ab/results.csv",
            "/admin/ab/signups?page=999", "/admin/ab/signups?confirmed=no",
            "/admin/ab/signups.csv?confirmed=yes", "/admin/compare",
            "/admin/compare?source=newsletter"]  # fmt: skip
    for key in keys:
        urls += [f"/admin/ab?experiment={key}", f"/admin/ab/sources?experiment={key}",
                 f"/admin/ab/results.csv?experiment={key}"]  # fmt: skip
    return urls


@pytest.fixture
def app(make_app):
    return make_app(RATELIMIT_ENABLED=False)


@EXAMPLES
@given(page_files(), contents())
def test_every_report_answers_whatever_the_database_holds(app, pages_dir, page_file, rows):
    (pages_dir / "ab.toml").write_text(page_file)
    app.extensions["pages"].reload()
    assert not app.extensions["pages"].errors
    store(app, rows)
    admin = logged_in(app)
    for url in report_urls(app):
        response = admin.get(url)
        assert response.status_code == 200, (url, response.get_data(as_text=True)[-500:])
        response.get_data()  # CSVs stream: read them to the end
    api = app.test_client()
    bearer = {"Authorization": "Bearer test-api-token"}
    for url in ["/api/pages", "/api/pages/ab", "/api/pages/ab/signups?confirmed=yes"]:
        assert api.get(url, headers=bearer).status_code == 200, url
    runner = app.test_cli_runner()
    for args in (
        ["kit", "stats"],
        ["kit", "stats", "ab"],
        ["kit", "export", "ab"],
        ["kit", "export", "ab", "--what", "results"],
        ["kit", "spend", "list", "ab"],
    ):
        result = runner.invoke(args=args)
        assert result.exit_code == 0, (args, result.output, result.exception)
    with app.app_context():  # the founder digest reads the same tables, over any period
        pages = app.extensions["pages"].all()
        for since in (datetime(1990, 1, 1, tzinfo=UTC), datetime(2026, 11, 1, tzinfo=UTC)):
            digest.build(pages, since, since + timedelta(days=7), {"ab": ["x", "y"]})
