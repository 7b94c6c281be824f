"""The founder's dashboard: only an admin gets in, and the numbers match an independent count."""

from __future__ import annotations

import csv
import io
import re
from collections import Counter
from datetime import UTC
from datetime import datetime
from datetime import timedelta
from html import unescape

import pytest
from scipy.stats import binomtest
from scipy.stats import norm
from scipy.stats.contingency import relative_risk
from sqlalchemy import insert
from sqlalchemy import select
from werkzeug.security import generate_password_hash

from kit import recount
from kit.founder import signup_list
from kit.models import DailyExposures
from kit.models import Exposure
from kit.models import GoalClick
from kit.models import Signup
from kit.models import db
from kit.models import utcnow
from tests.conftest import browser
from tests.conftest import form_fields
from tests.conftest import sign_up

PASSWORD = "correct horse battery staple"
START = datetime(2026, 10, 1, 9, 0, tzinfo=UTC)


def seed(app, counts, page="ab", experiment="headline-1", days=10, goal_clicks=None, start=START):
    """Write ``{variant: (visitors, signups)}`` over ``days`` days, straight to the tables."""
    exposures, signups, clicks = [], [], []
    for variant, (visitors, joined) in counts.items():
        for n in range(visitors):
            exposures.append(
                {
                    "page": page,
                    "experiment": experiment,
                    "variant": variant,
                    "visitor_key": f"{experiment}-{variant}-{n}",
                    "first_seen": start + timedelta(days=n % days, minutes=n % 600),
                    "utm_source": "newsletter" if n % 2 else None,
                    "referrer_host": "news.ycombinator.com" if n % 3 == 0 else None,
                    "device": "mobile" if n % 4 == 0 else "desktop",
                }
            )
        for n in range(joined):
            signups.append(
                {
                    "visitor_key": f"{experiment}-{variant}-{n}",  # signup n: visitor n
                    "page": page,
                    "email": f"{variant}{n}@example.com",
                    "email_key": f"{experiment}-{variant}{n}@example.com",
                    "experiment": experiment,
                    "variant": variant,
                    "created_at": start + timedelta(days=n % days, minutes=n % 600 + 1),
                    "confirmed_at": start + timedelta(days=n % days, minutes=n % 600 + 1),
                }
            )
        for n in range((goal_clicks or {}).get(variant, 0)):
            clicks.append(
                {
                    "page": page,
                    "experiment": experiment,
                    "variant": variant,
                    "goal": "buy",
                    "visitor_key": f"{experiment}-{variant}-{n}",
                    "created_at": START,
                }
            )
    daily = Counter((page, experiment, e["variant"], e["first_seen"].date()) for e in exposures)
    counters = [
        {"page": p, "experiment": x, "variant": v, "day": d, "visitors": n}
        for (p, x, v, d), n in daily.items()
    ]
    tables = [
        (Exposure, exposures),
        (DailyExposures, counters),
        (Signup, signups),
        (GoalClick, clicks),
    ]
    with app.app_context():
        for model, rows in tables:
            if model is Signup:  # credited to the visitor's exposure, as the app does
                ids = dict(db.session.execute(select(Exposure.visitor_key, Exposure.id)).all())
                rows = [{**row, "exposure_id": ids.get(row["visitor_key"])} for row in rows]
            if rows:
                db.session.execute(insert(model), rows)
        db.session.commit()
        recount.conversions()  # what the app records with each confirmed signup


def logged_in(app):
    client = browser(app)
    data = form_fields(client.get("/admin/login").get_data(as_text=True))
    response = client.post("/admin/login", data={**data, "password": PASSWORD})
    assert response.status_code == 302
    return client


def text_of(response) -> str:
    """The page as a reader sees it: tags dropped, entities decoded, spaces collapsed."""
    html = response.get_data(as_text=True)
    return re.sub(r"\s+", " ", unescape(re.sub(r"<[^>]+>", " ", html)))


def pct(value: float) -> str:
    return f"{value * 100:.1f}%"


ADMIN_URLS = [
    "/admin/",
    "/admin/ab",
    "/admin/ab/sources",
    "/admin/ab/signups",
    "/admin/ab/signups.csv",
    "/admin/ab/results.csv",
]


@pytest.mark.parametrize("url", ADMIN_URLS)
def test_visitor_without_login_reaches_no_admin_page_or_export(app, url):
    seed(app, {"a": (3, 1)})
    response = browser(app).get(url)
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/admin/login")
    assert b"a0@example.com" not in response.data


def test_dashboard_stays_locked_without_a_password_outside_development(make_app):
    app = make_app(ADMIN_PASSWORD=None)
    for url in ["/admin/", "/admin/login"]:
        response = browser(app).get(url)
        assert response.status_code == 403
        assert "Set one in the environment" in text_of(response)
        assert "ADMIN_PASSWORD" in text_of(response)


def test_wrong_password_is_refused_and_keeps_the_door_shut(app):
    client = browser(app)
    data = form_fields(client.get("/admin/login").get_data(as_text=True))
    response = client.post("/admin/login", data={**data, "password": "guess"})
    assert response.status_code == 403
    assert "That is not the admin password." in text_of(response)
    assert client.get("/admin/").status_code == 302


def test_login_without_csrf_token_is_refused(app):
    client = browser(app)
    response = client.post("/admin/login", data={"password": PASSWORD})
    assert response.status_code == 400
    assert client.get("/admin/").status_code == 302


def test_admin_password_may_be_a_hash(make_app):
    app = make_app(ADMIN_PASSWORD=generate_password_hash(PASSWORD))
    assert logged_in(app).get("/admin/").status_code == 200


def test_logout_ends_the_admin_session(app):
    client = logged_in(app)
    page = client.get("/admin/").get_data(as_text=True)
    client.post("/admin/logout", data=form_fields(page))
    assert client.get("/admin/").status_code == 302


def test_changing_the_password_logs_everyone_out(make_app):
    app = make_app()
    client = logged_in(app)
    app.config["ADMIN_PASSWORD"] = "a new password for the team"
    assert client.get("/admin/").status_code == 302


def test_login_expires_after_the_configured_hours(make_app, monkeypatch):
    app = make_app(ADMIN_SESSION_HOURS=1)
    client = logged_in(app)
    assert client.get("/admin/").status_code == 200
    later = utcnow() + timedelta(seconds=3601)
    monkeypatch.setattr("kit.founder.auth.utcnow", lambda: later)
    assert client.get("/admin/").status_code == 302


def test_login_sends_back_to_the_page_asked_for_but_never_off_site(app):
    client = browser(app)
    login = client.get("/admin/ab/signups")
    assert login.headers["Location"] == "/admin/login?next=/admin/ab/signups"
    data = form_fields(client.get("/admin/login").get_data(as_text=True))
    data["password"] = PASSWORD
    assert (
        client.post("/admin/login?next=/admin/ab/signups", data=data).headers["Location"]
        == "/admin/ab/signups"
    )
    for evil in ["https://evil.example/admin", "//evil.example/admin", "/ab"]:
        client = browser(app)
        data = form_fields(client.get("/admin/login").get_data(as_text=True))
        data["password"] = PASSWORD
        response = client.post(f"/admin/login?next={evil}", data=data)
        assert response.headers["Location"] == "/admin/"


def test_failed_logins_are_rate_limited(make_app):
    app = make_app(RATELIMIT_LOGIN="2 per minute")
    client = browser(app)
    statuses = []
    for _ in range(3):
        data = form_fields(client.get("/admin/login").get_data(as_text=True))
        statuses.append(client.post("/admin/login", data={**data, "password": "x"}).status_code)
    assert statuses == [403, 403, 429]


def test_admin_pages_are_not_cached(app):
    response = logged_in(app).get("/admin/")
    assert response.headers["Cache-Control"] == "no-store"


def test_overview_lists_every_page_with_its_numbers(app):
    seed(app, {"a": (200, 20), "b": (200, 30)})
    text = text_of(logged_in(app).get("/admin/"))
    assert "A/B page /ab · preview a · preview b" in text
    interval = binomtest(50, 400).proportion_ci(method="wilson")
    assert re.search(
        rf"keep going — [\d,]+ more visitors headline-1 400 50 12\.5% "
        rf"{pct(interval.low)} to {pct(interval.high)}",
        text,
    )
    assert "not significant" not in text and "Leading" not in text


def test_overview_never_names_a_leader_of_a_split_that_went_wrong(app):
    seed(app, {"a": (1000, 100), "b": (800, 120)})
    text = text_of(logged_in(app).get("/admin/"))
    assert "sample ratio mismatch headline-1" in text
    assert "wins" not in text and "not significant" not in text


def test_overview_of_a_page_with_thirty_visitors_says_how_many_more_it_needs(app):
    seed(app, {"a": (15, 1), "b": (15, 3)})
    text = text_of(logged_in(app).get("/admin/"))
    assert "collecting data — 170 more visitors headline-1" in text


def test_overview_shows_the_last_weeks_signups_against_the_week_before(app):
    today = utcnow().replace(hour=0, minute=0, second=0, microsecond=0)
    seed(app, {"a": (140, 14), "b": (140, 14)}, days=14, start=today - timedelta(days=13))
    page = logged_in(app).get("/admin/").get_data(as_text=True)
    # 28 signups over 14 days, two a day: 14 in each week.
    assert '14<br><span class="muted">±0 on the 7 before' in page
    spark = r'<svg class="spark"[^>]*aria-label="Signups per day over the last 30 days, 14 in '
    assert re.search(spark + r'the last 7"><polyline [^>]*points="0\.0,26\.0 ', page)


def test_per_variant_numbers_match_an_independent_computation(app):
    counts = {"a": (1000, 100), "b": (1000, 135)}
    seed(app, counts)
    text = text_of(logged_in(app).get("/admin/ab"))
    for name, (visitors, joined) in counts.items():
        wilson = binomtest(joined, visitors).proportion_ci(method="wilson")
        assert f"{name}" in text
        assert f"{visitors:,} {joined:,} {pct(joined / visitors)} " in text
        assert f"{pct(wilson.low)} to {pct(wilson.high)}" in text
    pooled = 235 / 2000
    z = (0.135 - 0.100) / (pooled * (1 - pooled) * (2 / 1000)) ** 0.5
    p = 2 * norm.sf(abs(z))
    assert f"{z:.2f} {p:.4f} z-test" in text
    assert "+3.5 pp" in text  # absolute uplift, in percentage points
    assert "+35.0%" in text  # relative uplift


def test_verdict_says_not_enough_data_below_the_minimum(make_app):
    app = make_app(MIN_VISITORS_FOR_VERDICT=500)
    seed(app, {"a": (100, 5), "b": (100, 30)})
    text = text_of(logged_in(app).get("/admin/ab"))
    assert "Not enough data yet" in text
    card = text.split("Decision:", 1)[1].split("Signups by variant")[0].lower()
    assert "winner" not in card and "collecting data" in card


def test_verdict_names_a_clear_winner_and_marks_it_in_the_table(app):
    seed(app, {"a": (2000, 100), "b": (2000, 240)})
    text = text_of(logged_in(app).get("/admin/ab"))
    assert "b is ahead:" in text
    assert "b winner" in text


def test_unclear_result_gives_sample_size_guidance(app):
    seed(app, {"a": (300, 30), "b": (300, 33)})
    text = text_of(logged_in(app).get("/admin/ab"))
    assert "No clear winner yet" in text
    assert "To detect a 20% relative lift with 80% power at 5% significance you need about" in text
    assert "you have 300" in text


def test_decision_card_of_a_winner_gives_the_line_that_ends_the_test(app):
    seed(app, {"a": (2000, 100), "b": (2000, 240)})
    text = text_of(logged_in(app).get("/admin/ab"))
    card = text.split("Decision:", 1)[1].split("Signups by variant")[0]
    assert card.startswith(" b wins ")
    assert 'add this line under [experiment] in pages/ab.toml : winner = "b"' in card
    assert "Started 2026-10-01" in card
    days = (utcnow().date() - START.date()).days + 1
    assert f"Days running {days:,}" in card


def test_decision_card_of_a_mismatched_split_shows_expected_against_actual(app):
    seed(app, {"a": (1000, 100), "b": (800, 80)})
    text = text_of(logged_in(app).get("/admin/ab"))
    assert "Decision: sample ratio mismatch" in text
    assert "Expected a 50.0%, b 50.0%; actual a 55.6%, b 44.4%." in text
    assert "winner =" not in text


def test_each_variant_says_what_it_changes_and_plain_columns_come_first(app):
    seed(app, {"a": (300, 30), "b": (300, 36)})
    response = logged_in(app).get("/admin/ab")
    page, text = response.get_data(as_text=True), text_of(response)
    assert "a (control) the page as written 300 30 30 10.0%" in text
    assert "b headline: “Headline B” cta: “Join B” 300 36 36 12.0%" in text  # what visitors read
    assert "+2.0 pp" in text  # the difference in percentage points, not "+2.0%"
    plain, details = page.split("<summary>Statistical details</summary>", 1)
    assert "Always-valid p" not in plain and "Always-valid p" in details
    signups = page.split("Signups by variant", 1)[1].split("<h2>Goal", 1)[0]
    # One wide chart of both intervals on a shared axis (a forest plot), a row per variant.
    forest = signups.split('<figure class="chart-figure forest">', 1)[1].split("</figure>")[0]
    assert forest.count('<circle class="estimate"') == 2
    assert "a 10.0% (7.1% to 13.9%)" in unescape(forest)  # scipy: Wilson for 30 of 300


def test_sample_ratio_mismatch_shows_a_loud_warning(app):
    seed(app, {"a": (1000, 100), "b": (800, 80)})
    response = logged_in(app).get("/admin/ab")
    assert 'role="alert"' in response.get_data(as_text=True)
    assert "cannot be trusted" in text_of(response)


def test_even_split_shows_no_mismatch_warning(app):
    seed(app, {"a": (1000, 100), "b": (990, 99)})
    assert 'role="alert"' not in logged_in(app).get("/admin/ab").get_data(as_text=True)


def test_methods_are_named_beside_the_numbers(app):
    seed(app, {"a": (10, 1), "b": (10, 2)})
    text = text_of(logged_in(app).get("/admin/ab"))
    assert "Fisher" in text  # small counts: the exact test, and the page says so
    assert "Wilson" in text


def test_no_data_shows_dashes_not_nan(app):
    response = logged_in(app).get("/admin/ab")
    assert response.status_code == 200
    text = text_of(response)
    assert "nan" not in text.lower().replace("nance", "")
    assert "Not enough data yet" in text


def test_goal_clicks_are_shown_per_variant(app):
    seed(app, {"a": (400, 10), "b": (400, 10)}, goal_clicks={"a": 40, "b": 80})
    text = text_of(logged_in(app).get("/admin/ab"))
    assert "Goal: Buy now (buy)" in text
    assert f"400 80 {pct(80 / 400)}" in text


def test_charts_are_svg_with_the_numbers_in_a_table(app):
    seed(app, {"a": (100, 10), "b": (100, 12)}, days=5)
    html = logged_in(app).get("/admin/ab").get_data(as_text=True)
    over_time = html.split("<h2>Over time</h2>", 1)[1]
    assert over_time.count('<svg class="chart"') == 3
    assert "<polyline" in over_time
    assert "<script" not in html
    assert "2026-10-05" in html  # the daily table
    ticks = re.findall(r'text-anchor="end" dominant-baseline="middle">([^<]+)<', html)
    assert "0" in ticks and not any("." in tick for tick in ticks if "%" not in tick)


def test_one_day_of_data_draws_no_empty_line_charts_but_a_funnel_and_intervals(app):
    seed(app, {"a": (100, 10), "b": (100, 12)}, days=1)
    html = logged_in(app).get("/admin/ab").get_data(as_text=True)
    over_time = html.split("<h2>Over time</h2>", 1)[1]
    assert "<polyline" not in over_time
    assert "The charts appear once there are two days to draw" in over_time
    funnel = html.split('<figure class="chart-figure funnel">', 1)[1].split("</figure>")[0]
    assert "100 (100.0%)" in funnel and "10 (10.0%)" in funnel and "12 (12.0%)" in funnel


def test_past_experiment_results_stay_viewable(app, pages_dir):
    seed(app, {"a": (50, 5), "b": (50, 6)}, experiment="old-test")
    client = logged_in(app)
    text = text_of(client.get("/admin/ab"))
    assert "old-test" in text
    old = text_of(client.get("/admin/ab?experiment=old-test"))
    assert "Experiment old-test , ended" in old
    assert "50 6 12.0%" in old
    assert client.get("/admin/ab?experiment=nope").status_code == 404


def test_signups_without_an_exposure_are_counted_as_unattributed(app, client):
    sign_up(client, slug="ab", email="counted@example.com")
    previewer = browser(app)
    sign_up(previewer, slug="ab?variant=b", email="preview@example.com")  # previews never count
    text = text_of(logged_in(app).get("/admin/ab"))
    assert "1 signup(s) on this page are unattributed" in text


def test_real_visits_and_signups_show_under_the_right_variant(app):
    seen = {}
    for n in range(12):
        visitor = browser(app)
        page = visitor.get("/ab").get_data(as_text=True)
        variant = "b" if "Headline B" in page else "a"
        seen[variant] = seen.get(variant, 0) + 1
        if n % 3 == 0:
            sign_up(visitor, slug="ab", email=f"v{n}@example.com")
    with app.app_context():
        signed = dict(
            db.session.execute(
                db.select(Signup.variant, db.func.count()).group_by(Signup.variant)
            ).all()
        )
    text = text_of(logged_in(app).get("/admin/ab"))
    for variant, visitors in seen.items():
        assert re.search(rf"{variant}( \(control\))? {visitors} {signed.get(variant, 0)} ", text)


def test_sources_break_conversion_down(app):
    seed(app, {"a": (100, 0)})
    with app.app_context():
        exposure = db.session.scalar(db.select(Exposure).where(Exposure.utm_source == "newsletter"))
        db.session.add(
            Signup(
                page="ab",
                email="s@example.com",
                email_key="s@example.com",
                experiment="headline-1",
                variant="a",
                exposure_id=exposure.id,
                confirmed_at=exposure.first_seen,
            )
        )
        db.session.commit()
        recount.conversions()
    text = text_of(logged_in(app).get("/admin/ab/sources"))
    assert "newsletter 50 1 2.0%" in text
    assert "news.ycombinator.com 34 0 0.0%" in text
    assert "mobile 25" in text


def test_signups_are_searchable_and_paginated(app):
    seed(app, {"a": (120, 120)})
    client = logged_in(app)
    first = text_of(client.get("/admin/ab/signups"))
    assert "120 signup(s)" in first
    assert "Page 1 of 3" in first
    found = text_of(client.get("/admin/ab/signups?q=A11%40"))
    assert "1 signup(s) matching" in found
    assert "a11@example.com" in found
    assert "a1@example.com" not in found
    assert "0 signup(s)" in text_of(client.get("/admin/ab/signups?q=%25"))


def test_visitor_text_is_escaped_on_the_dashboard(app, client):
    sign_up(client, email="x@example.com", name="<script>alert(1)</script>")
    html = logged_in(app).get("/admin/plain/signups").get_data(as_text=True)
    assert "<script>alert(1)</script>" not in html
    assert "&lt;script&gt;" in html


def test_signup_csv_neutralises_spreadsheet_formulas(app, client):
    sign_up(client, email="f@example.com", name='=HYPERLINK("http://evil")', answer="+1 -2 @x")
    response = logged_in(app).get("/admin/plain/signups.csv")
    assert response.mimetype == "text/csv"
    assert "attachment" in response.headers["Content-Disposition"]
    [row] = list(csv.DictReader(io.StringIO(response.get_data(as_text=True))))
    assert row["email"] == "f@example.com"
    assert row["name"] == '\'=HYPERLINK("http://evil")'
    assert row["answer"] == "'+1 -2 @x"


def three_signups(app) -> None:
    """ada (confirmed, two friends), bob (confirmed, through ada's link), cy (not yet)."""
    now = utcnow()
    with app.app_context():
        rows = [
            {"page": "plain", "email": "ada@example.com", "email_key": "ada@example.com",
             "confirmed_at": now, "referrals": 2, "created_at": now - timedelta(hours=3)},
            {"page": "plain", "email": "bob@example.com", "email_key": "bob@example.com",
             "confirmed_at": now, "created_at": now - timedelta(hours=2)},
            {"page": "plain", "email": "cy@example.com", "email_key": "cy@example.com",
             "confirmed_at": None, "created_at": now - timedelta(hours=1)},
        ]  # fmt: skip
        db.session.execute(insert(Signup), rows)
        ada = db.session.scalar(select(Signup.id).where(Signup.email == "ada@example.com"))
        db.session.execute(
            Signup.__table__.update()
            .where(Signup.email == "bob@example.com")
            .values(referred_by_id=ada)
        )
        db.session.commit()


def test_signup_csv_says_who_confirmed_and_who_came_through_a_friend(app):
    three_signups(app)
    founder = logged_in(app)
    rows = list(csv.DictReader(io.StringIO(founder.get("/admin/plain/signups.csv").text)))
    by_email = {row["email"]: row for row in rows}
    assert by_email["ada@example.com"]["confirmed_at"] != ""
    assert by_email["cy@example.com"]["confirmed_at"] == ""
    assert (by_email["ada@example.com"]["referrals"], by_email["ada@example.com"]["referred"]) == (
        "2",
        "no",
    )
    assert by_email["bob@example.com"]["referred"] == "yes"
    confirmed = founder.get("/admin/plain/signups.csv?confirmed=yes")
    assert "confirmed" in confirmed.headers["Content-Disposition"]
    emails = [row["email"] for row in csv.DictReader(io.StringIO(confirmed.text))]
    assert sorted(emails) == ["ada@example.com", "bob@example.com"]


def test_signup_list_filters_the_confirmed_and_shows_the_new_columns(app):
    three_signups(app)
    founder = logged_in(app)
    waiting = text_of(founder.get("/admin/plain/signups?confirmed=no"))
    assert "1 signup(s), not confirmed yet." in waiting
    assert "cy@example.com" in waiting and "ada@example.com" not in waiting
    everyone = text_of(founder.get("/admin/plain/signups?confirmed=anything"))
    assert "3 signup(s)." in everyone
    # e-mail, (no name, no answer), confirmed at, variant, friends who joined, via a link
    assert re.search(r"ada@example\.com \d{4}-\d\d-\d\d \d\d:\d\d unattributed 2 no ", everyone)
    assert "cy@example.com not yet" in everyone


def test_api_lists_signups_with_the_same_columns_and_filter(client, app):
    three_signups(app)
    headers = {"Authorization": "Bearer test-api-token"}
    body = client.get("/api/pages/plain/signups?confirmed=yes", headers=headers).json
    assert body["total"] == 2 and body["pages"] == 1
    assert set(body["signups"][0]) == set(signup_list.SIGNUP_COLUMNS)
    bob = next(s for s in body["signups"] if s["email"] == "bob@example.com")
    assert bob["referred"] == "yes" and bob["confirmed_at"].startswith(str(utcnow().year))
    assert client.get("/api/pages/plain/signups").status_code == 401


def test_results_csv_has_one_row_per_variant(app):
    seed(app, {"a": (1000, 100), "b": (1000, 135)})
    response = logged_in(app).get("/admin/ab/results.csv")
    rows = list(csv.DictReader(io.StringIO(response.get_data(as_text=True))))
    assert [(r["variant"], r["visitors"], r["signups"]) for r in rows] == [
        ("a", "1000", "100"),
        ("b", "1000", "135"),
    ]
    assert float(rows[1]["uplift_rel"]) == pytest.approx(0.35)
    seed(app, {"": (50, 5)}, page="plain", experiment="")  # one version: named as on the page
    plain = logged_in(app).get("/admin/plain/results.csv").get_data(as_text=True)
    [row] = csv.DictReader(io.StringIO(plain))
    assert (row["variant"], row["visitors"], row["signups"]) == ("all visitors", "50", "5")


def test_cli_stats_prints_the_same_numbers_as_the_page(app):
    seed(app, {"a": (1000, 100), "b": (1000, 135)})
    output = app.test_cli_runner().invoke(args=["kit", "stats", "ab"]).output
    page = text_of(logged_in(app).get("/admin/ab"))
    assert "headline-1" in output
    for expected in ["1,000", "10.0%", "13.5%", "+35.0%"]:
        assert expected in output and expected in page
    verdict = next(line for line in output.splitlines() if line.startswith("No clear winner"))
    assert verdict in page
    overview = app.test_cli_runner().invoke(args=["kit", "stats"]).output
    numbers = r"visitors\s+2,000\s+converted\s+235\s+signups\s+235"
    assert re.search(r"ab\s+headline-1\s+" + numbers + r".*\[keep going — [\d,]+ more", overview)
    assert "[keep going" in output


def test_cli_export_writes_the_signup_csv(app, client, tmp_path):
    sign_up(client, email="cli@example.com", name="@mention")
    target = tmp_path / "out.csv"
    result = app.test_cli_runner().invoke(args=["kit", "export", "plain", "-o", str(target)])
    assert result.exit_code == 0, result.output
    [row] = list(csv.DictReader(io.StringIO(target.read_text())))
    assert (row["email"], row["name"]) == ("cli@example.com", "'@mention")


def test_cli_refuses_an_unknown_page(app):
    result = app.test_cli_runner().invoke(args=["kit", "stats", "nope"])
    assert result.exit_code != 0
    assert "no page called 'nope'" in result.output


def test_api_needs_the_token(app):
    client = app.test_client()
    assert client.get("/api/pages").status_code == 401
    wrong = client.get("/api/pages", headers={"Authorization": "Bearer nope"})
    assert wrong.status_code == 401
    assert "Bearer" in wrong.json["error"]


def test_api_is_off_without_a_token(make_app):
    response = make_app(API_TOKEN=None).test_client().get("/api/pages")
    assert response.status_code == 403
    assert "API_TOKEN" in response.json["error"]


def test_api_returns_the_same_statistics(app):
    seed(app, {"a": (1000, 100), "b": (1000, 135)})
    headers = {"Authorization": "Bearer test-api-token"}
    client = app.test_client()
    body = client.get("/api/pages/ab", headers=headers).json
    arms = {arm["name"]: arm for arm in body["results"]["arms"]}
    assert (arms["b"]["visitors"], arms["b"]["conversions"]) == (1000, 135)
    assert arms["b"]["uplift_rel"] == pytest.approx(0.35)
    assert body["daily"][0]["day"] == "2026-10-01"
    assert client.get("/api/pages/nope", headers=headers).status_code == 404
    pages = client.get("/api/pages", headers=headers).json["pages"]
    assert {p["page"] for p in pages} >= {"ab", "plain"}


def test_compare_ranks_ideas_and_says_how_many_times_the_first_converts_the_second(app):
    seed(app, {"a": (300, 30), "b": (300, 30)})  # the A/B page: a tie, shown by its control
    seed(app, {"": (400, 100)}, page="plain", experiment="")  # the plain page: 25 %
    text = text_of(logged_in(app).get("/admin/compare"))
    assert text.index("Plain page") < text.index("A/B page")  # ranked by conversion
    assert "1 Plain page /plain 400 25.0% 100 · " in text
    assert "2 A/B page /ab · a, best so far 300 10.0% 30 · " in text
    risk = relative_risk(100, 400, 30, 300).confidence_interval(0.95)
    sentence = (
        f"Plain page's visitors sign up 2.5× as often as A/B page's (95% interval "
        f"{risk.low:.1f}× to {risk.high:.1f}×; "
    )
    assert sentence in text
    printed = app.test_cli_runner().invoke(args=["kit", "stats"]).output
    assert re.search(r"1\. plain\s+25\.0% \(\S+ to \S+\) of 400 visitors", printed)
    assert re.search(r"2\. ab \(a, best so far\)\s+10\.0% \(\S+ to \S+\) of 300 visitors", printed)
    assert sentence in printed


def test_compare_on_one_traffic_source_counts_only_its_visitors(app):
    seed(app, {"a": (300, 30), "b": (300, 60)})  # every other visitor came from the newsletter
    founder = logged_in(app)
    text = text_of(founder.get("/admin/compare?source=newsletter"))
    assert "Only visitors whose first visit carried utm_source = newsletter" in text
    assert "A/B page /ab · b, best so far 150 20.0% 30 · " in text  # half of b's 300
    unknown = text_of(founder.get("/admin/compare?source=nowhere"))
    assert "No visitor came with utm_source “nowhere”: showing all visitors." in unknown
    assert "A/B page /ab · b, best so far 300 20.0% 60 · " in unknown
    hostile = founder.get("/admin/compare?source=<script>alert(1)</script>").get_data(as_text=True)
    assert "<script>alert(1)" not in hostile and "&lt;script&gt;alert(1)" in hostile
