"""A/B tracking through the app: sticky variants, one exposure per visitor, honest attribution."""

from __future__ import annotations

import subprocess
import sys
import threading
import time
from collections import Counter
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import quote
from urllib.parse import urlsplit

import pytest
from flask.sessions import SecureCookieSessionInterface
from sqlalchemy import create_engine
from sqlalchemy import event
from sqlalchemy import func
from sqlalchemy import select

from kit.models import DailyExposures
from kit.models import Exposure
from kit.models import GoalClick
from kit.models import Signup
from kit.models import db
from kit.tracking.assignment import choose_variant
from kit.tracking.phases import shipped
from tests.conftest import BROWSER_UA
from tests.conftest import MOBILE_UA
from tests.conftest import browser
from tests.conftest import form_fields
from tests.conftest import sign_up
from tests.founder.test_dashboard import logged_in
from tests.founder.test_dashboard import text_of

ROOT = Path(__file__).parents[2]
HEADLINES = {"Headline A": "a", "Headline B": "b"}
SESSION_COOKIE = "session"
BOTS = [
    "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)",
    "Mozilla/5.0 (compatible; bingbot/2.0; +http://www.bing.com/bingbot.htm)",
    "Slackbot-LinkExpanding 1.0 (+https://api.slack.com/robots)",
    "Twitterbot/1.0",
    "facebookexternalhit/1.1 (+http://www.facebook.com/externalhit_uatext.php)",
    "LinkedInBot/1.0 (compatible; Mozilla/5.0; Apache-HttpClient +http://www.linkedin.com)",
    "Mozilla/5.0 (compatible; Discordbot/2.0; +https://discordapp.com)",
    "curl/8.5.0",
    "Wget/1.21.4",
    "python-requests/2.32.3",
    "",
    # Link previews and scripts without "bot" in their name.
    "Mozilla/5.0 (compatible; Bluesky Cardyb/1.1; +mailto:support@bsky.app)",
    "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/56.0.2924.87"
    " Safari/537.36 Google-PageRenderer Google (+https://developers.google.com/+/web/snippet/)",
    "Microsoft Office/16.0 (Windows NT 10.0; Microsoft Outlook 16.0.17928; Pro)",
    "Iframely/1.3.1 (+https://iframely.com/docs/about)",
    "Viber/21.8.0.2 CFNetwork/1496.0.7 Darwin/23.5.0",
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko)"
    " Chrome/124.0.0.0 Safari/537.36 Zoom/6.0.2",
    "HTTPie/3.2.2",
]


# People reading a link inside an app: a full browser engine with the app's name added.
IN_APP_BROWSERS = [
    "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Version/4.0 Chrome/130.0.6723.107 Mobile Safari/537.36 Telegram-Android/11.2.3 "
    "(Google Pixel 8; Android 14; SDK 34; HIGH)",
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like "
    "Gecko) Mobile/15E148 Outlook-iOS/723.4027091.prod.iphone (4.2430.0)",
    "Mozilla/5.0 (Linux; Android 13; SM-A536B) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/126.0.0.0 Mobile Safari/537.36 Viber/22.4.1.0",
]


@pytest.mark.parametrize("agent", IN_APP_BROWSERS)
def test_a_person_in_an_apps_browser_is_counted_and_signs_up(app, agent):
    """Referral links spread through Telegram, WhatsApp, Viber and mail apps: the people
    who open them inside the app are visitors, while the app's link preview is not."""
    person = browser(app, user_agent=agent)
    assert person.get("/plain").status_code == 200
    assert sign_up(person, email="in-app@example.com").status_code == 302
    assert count(app, Exposure) == 1 and count(app, Signup) == 1


@pytest.fixture(params=[True, False], ids=["fast", "plain"])
def fast_path(request: pytest.FixtureRequest) -> bool:
    """Every test here runs with the fast path on and off (kit/fastpath.py)."""
    return request.param


def rows(app, model) -> list:
    with app.app_context():
        return list(db.session.scalars(select(model).order_by(model.id)))


def count(app, model) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(model))


def variant_shown(response) -> str:
    """Which variant of tests/pages/ab.toml a response shows, read from its headline."""
    body = response.get_data(as_text=True)
    [shown] = [name for headline, name in HEADLINES.items() if headline in body]
    return shown


def visitor_in(app, want: str, ua: str = BROWSER_UA):
    """A new browser that has seen /ab and was assigned variant ``want``."""
    for _ in range(200):
        client = browser(app, ua)
        if variant_shown(client.get("/ab")) == want:
            return client
    raise AssertionError(f"no visitor landed in {want!r} in 200 tries")


def edit_page(pages_dir: Path, slug: str, old: str, new: str) -> None:
    path = pages_dir / f"{slug}.toml"
    source = path.read_text()
    assert old in source
    path.write_text(source.replace(old, new))


@contextmanager
def statements(app):
    """Collect every SQL statement the app sends while the block runs."""
    seen: list[str] = []

    def record(conn, cursor, statement, parameters, context, executemany):
        seen.append(statement)

    with app.app_context():
        engine = db.engine
    event.listen(engine, "before_cursor_execute", record)
    try:
        yield seen
    finally:
        event.remove(engine, "before_cursor_execute", record)


# --- assignment ---------------------------------------------------------------------------


def test_same_cookie_sees_the_same_variant_on_another_app_instance(make_app):
    first, second = make_app(), make_app()  # two workers (or a restart) with the same secret
    shown = []
    for _ in range(20):
        visitor = browser(first)
        variant = variant_shown(visitor.get("/ab"))
        elsewhere = browser(second)
        elsewhere.set_cookie(SESSION_COOKIE, visitor.get_cookie(SESSION_COOKIE).value)
        assert all(variant_shown(elsewhere.get("/ab")) == variant for _ in range(3))
        assert variant_shown(visitor.get("/ab")) == variant
        shown.append(variant)
    assert set(shown) == {"a", "b"}  # and visitors really are split
    assert count(first, Exposure) == 20


def test_cookie_written_compressed_by_an_earlier_release_still_knows_its_visitor(app):
    # Flask's own serializer zlib-compresses any payload that shrinks; the kit no longer
    # compresses small ones, and must still read cookies visitors already have.
    stock = SecureCookieSessionInterface().get_signing_serializer(app)
    seen = [f"old-page-{i}:old-key" for i in range(20)] + ["ab:headline-1"]
    cookie = stock.dumps({"vid": "visitor-from-last-month", "seen": seen, "_permanent": True})
    assert cookie.startswith(".")  # the compressed form
    visitor = browser(app)
    visitor.set_cookie(SESSION_COOKIE, cookie)
    expected = choose_variant([("a", 1.0), ("b", 1.0)], "headline-1", "visitor-from-last-month")
    assert all(variant_shown(visitor.get("/ab")) == expected for _ in range(3))
    assert count(app, Exposure) == 0  # already exposed, as the cookie says


def test_cookie_of_a_visitor_of_many_experiments_stays_small(app, pages_dir):
    visitor = browser(app)
    original = (pages_dir / "ab.toml").read_text()
    for i in range(40):  # the founder starts experiment after experiment
        key = f"long-experiment-key-number-{i}"
        (pages_dir / "ab.toml").write_text(original.replace('"headline-1"', f'"{key}"'))
        assert visitor.get("/ab").status_code == 200
    assert count(app, Exposure) == 40
    assert len(visitor.get_cookie(SESSION_COOKIE).value) < 1200  # browsers keep 4 096 bytes


def test_visitors_are_split_between_variants(app):
    for _ in range(60):
        browser(app).get("/ab")
    exposures = rows(app, Exposure)
    assert len(exposures) == 60
    by_variant = {v: sum(e.variant == v for e in exposures) for v in ("a", "b")}
    assert min(by_variant.values()) >= 15, by_variant  # 1:1 weights; P(< 15 of 60) ~ 1e-4


# --- exposures ----------------------------------------------------------------------------


def test_one_exposure_per_visitor_however_many_views(app, client):
    for _ in range(5):
        client.get("/ab")
    client.get("/ab?utm_source=again")
    [exposure] = rows(app, Exposure)
    assert (exposure.page, exposure.experiment) == ("ab", "headline-1")
    assert exposure.utm_source is None  # the first view's details are kept


def test_repeat_view_sends_no_sql_at_all(app, client, fast_path):
    """A returning visitor costs the database nothing; with the fast path off, only the read
    of which phase the test is in (the page file may have changed since)."""
    with statements(app) as first:
        client.get("/ab")
    assert any(s.startswith("INSERT INTO exposure") for s in first), first
    with statements(app) as repeat:
        for _ in range(3):
            assert client.get("/ab").status_code == 200
    if fast_path:
        assert repeat == []
    else:
        assert len(repeat) == 3 and all("FROM experiment_phase" in s for s in repeat), repeat


def test_page_without_experiment_records_one_visit(app, client):
    for _ in range(3):
        client.get("/plain")
    [exposure] = rows(app, Exposure)
    assert (exposure.page, exposure.experiment, exposure.variant) == ("plain", "", "")


def test_exposure_keeps_utm_referrer_and_device_but_no_ip(app):
    client = browser(app, MOBILE_UA)
    client.environ_base["REMOTE_ADDR"] = "203.0.113.7"
    client.get(
        "/ab?utm_source=newsletter&utm_medium=email&utm_campaign=launch"
        "&utm_content=hero&utm_term=%20planner%20",
        headers={
            "Referer": "https://www.news.ycombinator.com/item?id=1",
            "X-Forwarded-For": "198.51.100.23",
        },
    )
    sign_up(client, "ab", email="ada@example.com")
    [exposure] = rows(app, Exposure)
    assert exposure.variant in ("a", "b")
    assert (
        exposure.utm_source,
        exposure.utm_medium,
        exposure.utm_campaign,
        exposure.utm_content,
        exposure.utm_term,
    ) == ("newsletter", "email", "launch", "hero", "planner")
    assert exposure.referrer_host == "news.ycombinator.com"
    assert exposure.device == "mobile"
    assert exposure.first_seen is not None
    assert len(exposure.visitor_key) == 32  # a hash, not the id in the cookie
    assert exposure.visitor_key not in client.get_cookie(SESSION_COOKIE).value
    dump = database_dump(app)
    for ip in ("203.0.113.7", "198.51.100.23"):
        assert ip not in dump


def database_dump(app) -> str:
    """Every value in every table, as one string."""
    with app.app_context():
        values = []
        for table in db.metadata.sorted_tables:
            for row in db.session.execute(select(table)):
                values.extend(str(v) for v in row)
        return "\n".join(values)


def test_internal_referrer_is_not_a_source(app, client):
    client.get("/ab", headers={"Referer": "http://localhost/plain"})
    [exposure] = rows(app, Exposure)
    assert exposure.referrer_host is None
    assert exposure.device == "desktop"


@pytest.mark.parametrize("agent", BOTS)
def test_bots_see_control_get_no_cookie_and_are_not_counted(app, agent):
    bot = app.test_client()
    bot.environ_base["HTTP_USER_AGENT"] = agent
    for _ in range(2):
        response = bot.get("/ab")
        assert response.status_code == 200
        assert variant_shown(response) == "a"
        assert "Set-Cookie" not in response.headers
    assert count(app, Exposure) == 0


@pytest.mark.parametrize(
    "header", [("Sec-Purpose", "prefetch"), ("Sec-Purpose", "prefetch;prerender"),
               ("Purpose", "prefetch"), ("X-Moz", "prefetch"), ("X-Purpose", "preview")],
)  # fmt: skip
def test_a_page_fetched_ahead_of_a_click_is_served_and_not_counted(app, client, header):
    response = client.get("/ab", headers=[header])
    assert response.status_code == 200
    assert "Set-Cookie" not in response.headers
    assert count(app, Exposure) == 0
    client.get("/ab")  # the person does come: counted then
    assert count(app, Exposure) == 1


def test_head_request_from_a_browser_is_not_counted(app, client):
    response = client.head("/ab")
    assert response.status_code == 200
    assert "Set-Cookie" not in response.headers
    assert count(app, Exposure) == 0


def test_bot_never_counts_as_a_visitor_on_plain_pages(app):
    bot = browser(app, "Twitterbot/1.0")
    bot.get("/plain")
    assert count(app, Exposure) == 0


# --- previews -----------------------------------------------------------------------------


@pytest.mark.parametrize("variant", ["a", "b"])
def test_preview_shows_the_variant_with_a_marker_and_is_not_counted(app, client, variant):
    response = client.get(f"/ab?variant={variant}")
    assert response.status_code == 200
    assert variant_shown(response) == variant
    body = response.get_data(as_text=True)
    assert f"Preview of variant “{variant}”" in body
    assert '<meta name="robots" content="noindex">' in body
    assert count(app, Exposure) == 0


def test_preview_does_not_change_a_visitors_assignment_or_count(app):
    visitor = visitor_in(app, "a")
    before = count(app, Exposure)
    assert variant_shown(visitor.get("/ab?variant=b")) == "b"
    assert variant_shown(visitor.get("/ab")) == "a"
    assert count(app, Exposure) == before


def test_previewer_who_then_visits_is_counted_once_in_their_own_variant(app, client):
    client.get("/ab?variant=b")
    assert count(app, Exposure) == 0
    variant = variant_shown(client.get("/ab"))
    [exposure] = rows(app, Exposure)
    assert exposure.variant == variant


def test_unknown_variant_is_a_clear_404(app, client):
    response = client.get("/ab?variant=zzz")
    assert response.status_code == 404
    body = response.get_data(as_text=True)
    assert "no variant named &#39;zzz&#39;" in body
    assert "its variants are: a, b" in body
    assert count(app, Exposure) == 0


def test_normal_pages_show_no_preview_marker(client):
    assert "Preview of variant" not in client.get("/ab").get_data(as_text=True)


# --- conversions --------------------------------------------------------------------------


@pytest.mark.parametrize("assigned", ["a", "b"])
def test_signup_is_credited_to_the_exposed_variant_whatever_the_form_says(app, assigned):
    other = "b" if assigned == "a" else "a"
    visitor = visitor_in(app, assigned)
    response = sign_up(
        visitor,
        "ab",
        email="ada@example.com",
        variant=other,
        experiment="something-else",
        exposure_id="999",
    )
    assert response.status_code == 302
    [signup] = rows(app, Signup)
    assert (signup.experiment, signup.variant) == ("headline-1", assigned)
    with app.app_context():
        exposure = db.session.get(Exposure, signup.exposure_id)
        assert (exposure.experiment, exposure.variant) == ("headline-1", assigned)


def test_a_signup_from_a_preview_is_on_the_list_unattributed(app):
    """The README's promise: a preview (``?variant=``) is not counted, and neither is a signup
    sent from its form (which posts back to the preview), whatever the visitor's own arm."""
    visitor = visitor_in(app, "a")
    page = visitor.get("/ab?variant=b").get_data(as_text=True)
    assert 'action="/ab?variant=b"' in page
    data = {**form_fields(page), "email": "ada@example.com", "variant": "b"}
    assert visitor.post("/ab?variant=b", data=data).status_code == 302
    [signup] = rows(app, Signup)
    assert (signup.experiment, signup.variant, signup.exposure_id) == (None, None, None)


def test_signup_without_cookie_or_exposure_is_saved_unattributed(make_app):
    app = make_app(WTF_CSRF_ENABLED=False)
    direct = browser(app)
    response = direct.post("/ab", data={"email": "ada@example.com", "variant": "b"})
    assert response.status_code == 302
    [signup] = rows(app, Signup)
    assert (signup.email, signup.experiment, signup.variant, signup.exposure_id) == (
        "ada@example.com",
        None,
        None,
        None,
    )
    assert count(app, Exposure) == 0


def test_signup_after_cookies_were_cleared_is_unattributed(make_app):
    app = make_app(WTF_CSRF_ENABLED=False)
    visitor = browser(app)
    visitor.get("/ab")
    visitor.delete_cookie(SESSION_COOKIE)
    visitor.post("/ab", data={"email": "ada@example.com"})
    [signup] = rows(app, Signup)
    assert signup.variant is None
    assert count(app, Exposure) == 1


def test_signup_on_a_page_without_experiment_links_its_visit(app, client):
    sign_up(client, "plain", email="ada@example.com")
    [exposure] = rows(app, Exposure)
    [signup] = rows(app, Signup)
    assert (signup.experiment, signup.variant, signup.exposure_id) == ("", "", exposure.id)


# --- winner and key change ----------------------------------------------------------------


def test_a_winner_ships_to_everyone_and_counting_goes_on_after_the_test(app, pages_dir):
    """After ``winner = "b"`` the page used to stop counting: visitors froze while signups
    rose, so the sources page and cost per signup froze while the founder kept paying for ads;
    link previews still unfurled the control. Now everyone sees b, the test's numbers stay as
    they were, and a shipped period goes on counting."""
    earlier = visitor_in(app, "a")
    test_rows = count(app, Exposure)
    edit_page(pages_dir, "ab", 'key = "headline-1"', 'key = "headline-1"\nwinner = "b"')
    people = [earlier, *(browser(app) for _ in range(10))]
    for visitor in people:
        assert variant_shown(visitor.get("/ab")) == "b"
        assert "Preview of variant" not in visitor.get("/ab").get_data(as_text=True)
    for agent in ("Twitterbot/1.0", "Slackbot-LinkExpanding 1.0", "facebookexternalhit/1.1"):
        assert variant_shown(browser(app, agent).get("/ab")) == "b"
    sign_up(earlier, "ab", email="early@example.com")
    sign_up(browser(app), "ab", email="late@example.com")
    period = shipped("headline-1")  # "headline-1 shipped"
    after = [e for e in rows(app, Exposure) if e.experiment == period]
    assert len(after) == 12 and {e.variant for e in after} == {"b"}
    assert count(app, Exposure) - len(after) == test_rows  # the test's own: as it ended
    assert [(s.experiment, s.variant) for s in rows(app, Signup)] == [(period, "b")] * 2
    bearer = {"Authorization": "Bearer test-api-token"}
    api = app.test_client().get(f"/api/pages/ab?experiment={quote(period)}", headers=bearer)
    arms = api.get_json()["results"]["arms"]
    assert [(arm["name"], arm["visitors"], arm["conversions"]) for arm in arms] == [("b", 12, 2)]


def test_each_shipped_test_counts_on_its_own(app, pages_dir):
    """A second test of the page, ended with another winner, used to count under the first
    one's shipped period: its visitors were credited to the first winner."""
    visitor = browser(app)
    edit_page(pages_dir, "ab", 'key = "headline-1"', 'key = "headline-1"\nwinner = "b"')
    assert variant_shown(visitor.get("/ab")) == "b"
    edit_page(
        pages_dir, "ab", 'key = "headline-1"\nwinner = "b"', 'key = "headline-2"\nwinner = "a"'
    )
    assert variant_shown(visitor.get("/ab")) == "a"
    sign_up(visitor, "ab", email="ada@example.com")
    periods = sorted((e.experiment, e.variant) for e in rows(app, Exposure))
    assert periods == [(shipped("headline-1"), "b"), (shipped("headline-2"), "a")]
    assert [(s.experiment, s.variant) for s in rows(app, Signup)] == [(shipped("headline-2"), "a")]


def test_preview_still_works_after_a_winner_is_chosen(app, client, pages_dir):
    edit_page(pages_dir, "ab", 'key = "headline-1"', 'key = "headline-1"\nwinner = "b"')
    assert variant_shown(client.get("/ab?variant=a")) == "a"
    assert count(app, Exposure) == 0


def test_new_experiment_key_starts_fresh_and_keeps_old_rows(app, client, pages_dir):
    client.get("/ab")
    sign_up(browser(app), "ab", email="old@example.com")
    edit_page(pages_dir, "ab", 'key = "headline-1"', 'key = "headline-test-2"')
    client.get("/ab")
    client.get("/ab")
    keys = sorted(e.experiment for e in rows(app, Exposure))
    assert keys == ["headline-1", "headline-1", "headline-test-2"]
    new = [e for e in rows(app, Exposure) if e.experiment == "headline-test-2"]
    assert len(new) == 1 and new[0].variant in ("a", "b")
    sign_up(client, "ab", email="new@example.com")
    old_signup, new_signup = rows(app, Signup)
    assert old_signup.experiment == "headline-1"
    assert (new_signup.experiment, new_signup.variant) == ("headline-test-2", new[0].variant)


# --- goals --------------------------------------------------------------------------------


@pytest.mark.parametrize("assigned", ["a", "b"])
def test_goal_click_is_counted_once_per_visitor_under_their_variant(app, assigned):
    visitor = visitor_in(app, assigned)
    for _ in range(3):
        response = visitor.get("/go/ab/buy")
        assert response.status_code == 302
        assert response.headers["Location"] == "https://example.com/checkout"
    [click] = rows(app, GoalClick)
    assert (click.page, click.experiment, click.variant, click.goal) == (
        "ab",
        "headline-1",
        assigned,
        "buy",
    )
    [exposure] = [e for e in rows(app, Exposure) if e.visitor_key == click.visitor_key]
    assert exposure.variant == assigned


def test_each_goal_counts_separately(app, client):
    client.get("/ab")
    client.get("/go/ab/buy")
    client.get("/go/ab/pro")
    assert sorted(c.goal for c in rows(app, GoalClick)) == ["buy", "pro"]


def test_goal_without_url_shows_coming_soon(app, client):
    client.get("/ab")
    response = client.get("/go/ab/pro")
    assert response.status_code == 200
    body = response.get_data(as_text=True)
    assert "Coming soon" in body
    assert 'href="/ab"' in body
    assert count(app, GoalClick) == 1


def test_the_coming_soon_page_signs_up_and_the_dashboard_credits_the_goal(app):
    """The visitors who click a fake door are the most interested of all: the coming-soon page
    asks them to join, the signup counts for their variant, and the dashboard says how many
    signed up after clicking (a signup before the click does not count for the goal)."""
    clicker = visitor_in(app, "b")
    soon = clicker.get("/go/ab/pro").get_data(as_text=True)
    assert 'action="/ab"' in soon and "Join B" in soon
    response = clicker.post("/ab", data={**form_fields(soon), "email": "eager@example.com"})
    assert response.status_code == 302 and response.location.endswith("/ab/thanks")
    early = visitor_in(app, "a")
    assert sign_up(early, "ab", email="early@example.com").status_code == 302
    early.get("/go/ab/pro")  # clicked after signing up
    visitor_in(app, "a").get("/go/ab/pro")  # clicked, never signed up
    assert [(s.email, s.variant) for s in rows(app, Signup)] == [
        ("eager@example.com", "b"), ("early@example.com", "a"),
    ]  # fmt: skip

    text = text_of(logged_in(app).get("/admin/ab"))
    after = "Signed up after clicking “Pre-order Pro”: 1 of 3 who clicked (a: 0 of 2, b: 1 of 1)."
    assert after in text


def test_page_links_its_goals_through_the_tracking_redirect(client):
    body = client.get("/ab").get_data(as_text=True)
    assert 'href="/go/ab/pro"' in body


@pytest.mark.parametrize("path", ["/go/ab/nope", "/go/no-page/buy", "/go/ab/buy/more"])
def test_unknown_goal_or_page_is_404(app, client, path):
    client.get("/ab")
    assert client.get(path).status_code == 404
    assert count(app, GoalClick) == 0


@pytest.mark.parametrize(
    "path",
    [
        "/go/ab/buy?next=https://evil.example",
        "/go/ab/buy?url=https://evil.example&redirect=https://evil.example",
        "/go/ab/pro?next=https://evil.example",
        "/go/ab/https://evil.example",
        "/go/ab//evil.example",
        "/go/ab/%2F%2Fevil.example",
        "/go/ab/buy/..%2F..%2F%2Fevil.example",
        "/go/evil.example/buy",
    ],
)
def test_goal_redirect_only_goes_to_configured_urls(client, path):
    client.get("/ab")
    response = client.get(path)
    assert response.status_code in (200, 302, 308, 404)
    location = response.headers.get("Location", "")
    # Werkzeug may tidy the path (merging slashes): a redirect on our own host, never off it.
    assert urlsplit(location).hostname in (None, "localhost", "example.com"), location
    if response.status_code == 302:
        assert location == "https://example.com/checkout"


def test_goal_click_without_exposure_is_not_counted_but_still_redirects(app, client):
    response = client.get("/go/ab/buy")
    assert response.headers["Location"] == "https://example.com/checkout"
    assert count(app, GoalClick) == 0


def test_bots_and_previews_do_not_count_goal_clicks(app, client):
    bot = browser(app, "Slackbot-LinkExpanding 1.0 (+https://api.slack.com/robots)")
    bot.get("/ab")
    assert bot.get("/go/ab/buy").status_code == 302
    client.get("/ab?variant=b")
    client.get("/go/ab/buy?variant=b")
    assert count(app, GoalClick) == 0


def test_goal_clicks_count_in_the_shipped_period_after_a_winner(app, client, pages_dir):
    client.get("/ab")
    assert client.get("/go/ab/buy").status_code == 302
    edit_page(pages_dir, "ab", 'key = "headline-1"', 'key = "headline-1"\nwinner = "b"')
    client.get("/ab")
    assert client.get("/go/ab/buy").status_code == 302
    clicks = [(c.experiment, c.variant) for c in rows(app, GoalClick)]
    assert clicks[0][0] == "headline-1" and clicks[1:] == [(shipped("headline-1"), "b")]


# --- races --------------------------------------------------------------------------------


def test_parallel_first_views_of_one_visitor_write_one_exposure(app):
    """Twenty simultaneous first requests from one visitor: the unique constraint decides.

    Every thread really sends its INSERT (the cookie cannot help yet), on both databases.
    """
    clients = []
    for _ in range(20):
        client = browser(app)
        with client.session_transaction() as session:
            session["vid"] = "the-same-visitor"
        clients.append(client)
    start = threading.Barrier(len(clients))
    statuses: list[int] = []

    def view(client) -> None:
        start.wait()
        statuses.append(client.get("/ab").status_code)

    threads = [threading.Thread(target=view, args=(c,)) for c in clients]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert statuses == [200] * 20
    [exposure] = rows(app, Exposure)
    assert exposure.visitor_key is not None
    [counter] = rows(app, DailyExposures)
    assert counter.visitors == 1  # the dashboard's daily count agrees with the exposure rows


def test_daily_counter_matches_exposures_of_many_parallel_visitors(app):
    """Thirty new visitors at once: as many counted in the day's counter as exposure rows."""
    start = threading.Barrier(30)

    def view() -> None:
        client = browser(app)
        start.wait()
        client.get("/ab")

    threads = [threading.Thread(target=view) for _ in range(30)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    exposures = rows(app, Exposure)
    assert len(exposures) == 30
    counted = {c.variant: c.visitors for c in rows(app, DailyExposures)}
    assert counted == dict(Counter(e.variant for e in exposures))


# --- writing behind the request (EXPOSURE_WRITER, the default outside tests) ----------------


def wait_for(app, model, want: int) -> int:
    """Rows of ``model`` once there are ``want`` of them, or what there is after 10 s."""
    deadline = time.monotonic() + 10
    while (found := count(app, model)) < want and time.monotonic() < deadline:
        time.sleep(0.02)
    return found


def test_writer_thread_records_each_new_visitor_once_with_daily_counts(make_app):
    app = make_app(EXPOSURE_WRITER=True)
    visitors = [browser(app) for _ in range(25)]
    start = threading.Barrier(len(visitors))

    def views(client) -> None:
        start.wait()
        for _ in range(3):  # repeats in flight before the first is written: still one row
            assert client.get("/ab").status_code == 200

    threads = [threading.Thread(target=views, args=(c,)) for c in visitors]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert wait_for(app, Exposure, 25) == 25
    exposures = rows(app, Exposure)
    assert len({e.visitor_key for e in exposures}) == 25
    counted = {c.variant: c.visitors for c in rows(app, DailyExposures)}
    assert counted == dict(Counter(e.variant for e in exposures))


def test_writer_keeps_one_row_when_workers_race_for_a_visitor(make_app):
    first, second = make_app(EXPOSURE_WRITER=True), make_app(EXPOSURE_WRITER=True)
    for app in (first, second):
        client = browser(app)
        with client.session_transaction() as session:
            session["vid"] = "the-same-visitor"
        client.get("/ab")
    for app in (first, second):
        assert app.extensions["exposures"].flush()
    assert count(first, Exposure) == 1
    [counter] = rows(first, DailyExposures)
    assert counter.visitors == 1


def test_signup_is_attributed_from_the_exposure_the_thread_wrote(make_app):
    app = make_app(EXPOSURE_WRITER=True)
    client = browser(app)
    shown = variant_shown(client.get("/ab"))
    assert app.extensions["exposures"].flush()
    sign_up(client, "ab", email="quick@example.com")
    [signup] = rows(app, Signup)
    assert signup.variant == shown


def test_a_click_right_after_the_page_is_counted_once_for_the_variant_shown(make_app):
    """The page view is still queued when the clicks come: both are written in order, so the
    click counts once, for the variant shown, and the exposure keeps the page's campaign."""
    app = make_app(EXPOSURE_WRITER=True)
    visitor = browser(app)
    shown = variant_shown(visitor.get("/ab?utm_source=newsletter"))
    for _ in range(2):
        assert visitor.get("/go/ab/buy").status_code == 302
    assert app.extensions["exposures"].flush()
    assert [(c.goal, c.variant) for c in rows(app, GoalClick)] == [("buy", shown)]
    [exposure] = rows(app, Exposure)
    assert (exposure.variant, exposure.utm_source) == (shown, "newsletter")


def test_a_click_in_another_worker_before_the_page_view_is_written_still_counts(make_app):
    first, second = make_app(EXPOSURE_WRITER=True), make_app(EXPOSURE_WRITER=True)
    visitor = browser(first)
    shown = variant_shown(visitor.get("/ab"))
    with second.test_client() as other_worker:
        other_worker.environ_base["HTTP_USER_AGENT"] = visitor.environ_base["HTTP_USER_AGENT"]
        other_worker.set_cookie("session", visitor.get_cookie("session").value)
        assert other_worker.get("/go/ab/pro").status_code == 200
    for app in (second, first):
        assert app.extensions["exposures"].flush()
    assert [(c.goal, c.variant) for c in rows(first, GoalClick)] == [("pro", shown)]
    assert [e.variant for e in rows(first, Exposure)] == [shown]


def test_one_broken_exposure_does_not_lose_the_others(make_app, caplog):
    app = make_app(EXPOSURE_WRITER=True)
    writer = app.extensions["exposures"]
    broken = {column.name: None for column in Exposure.__table__.columns if column.name != "id"}
    for _ in range(3):
        browser(app).get("/ab")
    writer.add(broken)  # NULL page: the database refuses this row, and only this row
    browser(app).get("/ab")
    assert writer.flush()
    assert wait_for(app, Exposure, 4) == 4
    assert "could not be written and is dropped" in caplog.text


def test_queued_exposures_are_written_when_the_process_exits(make_app, database_url, pages_dir):
    """A worker that gunicorn stops (restart, scale down) writes what it had queued."""
    app = make_app()  # the tables
    script = f"""
from kit import create_app
app = create_app({{
    "SECRET_KEY": "test-secret-key-that-is-long-enough", "OUTBOX_WORKER": False,
    "SQLALCHEMY_DATABASE_URI": {database_url!r}, "PAGES_DIR": {str(pages_dir)!r},
}})
for _ in range(40):
    client = app.test_client()
    client.environ_base["HTTP_USER_AGENT"] = {BROWSER_UA!r}
    assert client.get("/ab").status_code == 200
"""
    subprocess.run([sys.executable, "-c", script], check=True, timeout=60, cwd=ROOT)
    assert count(app, Exposure) == 40
    with app.app_context():
        assert db.session.scalar(select(func.sum(DailyExposures.visitors))) == 40


# --- the demo page ------------------------------------------------------------------------


def test_demo_page_runs_a_two_variant_experiment(make_app):
    app = make_app(PAGES_DIR=str(ROOT / "pages"))
    headlines = {
        "a": "Your week, planned in 30 seconds",
        "b": "Stop planning. Start doing.",
    }
    for name, headline in headlines.items():
        preview = browser(app).get(f"/demo?variant={name}").get_data(as_text=True)
        assert headline in preview
    shown = set()
    for _ in range(20):
        body = browser(app).get("/").get_data(as_text=True)
        shown |= {name for name, headline in headlines.items() if headline in body}
    assert shown == {"a", "b"}
    exposures = rows(app, Exposure)
    assert len(exposures) == 20
    assert {e.experiment for e in exposures} == {"headline-test-1"}


def test_database_has_no_column_for_ip_addresses(app):
    names = {c.name for table in db.metadata.sorted_tables for c in table.columns}
    assert not {n for n in names if "ip" in n.split("_") or "addr" in n}


def test_sqlite_databases_use_the_write_ahead_log(tmp_path):
    """Readers don't wait for the writer and a commit costs no fsync (kit.models sets this)."""
    engine = create_engine(f"sqlite:///{tmp_path / 'wal.sqlite3'}")
    with engine.connect() as connection:
        assert connection.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert connection.exec_driver_sql("PRAGMA synchronous").scalar() == 1  # NORMAL
    engine.dispose()
