"""What a visitor sees after signing up, as the best hosted waitlists show it: the product's own
name and logo, the place as "#N of M", progress to the next reward, and share buttons."""

from __future__ import annotations

import re
from html import unescape
from urllib.parse import quote

import pytest

from kit.delivery import notify
from kit.pages.schema import Reward
from kit.pages.schema import product_name_from
from kit.visitor import landing
from kit.waitlist.referrals import next_reward
from tests.conftest import browser
from tests.founder.test_dashboard import text_of
from tests.waitlist.test_referrals import join
from tests.waitlist.test_referrals import signup
from tests.waitlist.test_referrals import thanks_text


@pytest.mark.parametrize(
    ("title", "name"),
    [
        ("Quillnote — notes that write themselves", "Quillnote"),
        ("Quillnote | notes that write themselves", "Quillnote"),
        ("Quillnote - notes", "Quillnote"),
        ("Quillnote: notes that write themselves", "Quillnote"),
        ("Plain page", "Plain page"),
        ("Co-op planner", "Co-op planner"),  # a hyphen inside a word is no tagline mark
        (" — only a tagline", " — only a tagline"),  # nothing before the mark: keep the title
    ],
)
def test_the_product_name_is_the_title_without_its_tagline(title, name):
    assert product_name_from(title) == name


def test_next_reward_is_the_smallest_not_reached_yet():
    rewards = (Reward(5, "Lifetime deal"), Reward(1, "Early access"), Reward(3, "Stickers"))
    assert next_reward(rewards, 0).__dict__ == {"reward": "Early access", "friends": 0, "needed": 1}
    assert next_reward(rewards, 2).__dict__ == {"reward": "Stickers", "friends": 2, "needed": 3}
    assert next_reward(rewards, 4).to_go == 1
    assert next_reward(rewards, 5) is None
    assert next_reward((), 0) is None


def set_keys(pages_dir, slug: str, text: str) -> None:
    """Put top-level keys at the head of a page file (before any table)."""
    path = pages_dir / f"{slug}.toml"
    path.write_text(text + path.read_text())


def test_headings_and_mail_subjects_use_the_product_name(make_app, pages_dir):
    set_keys(pages_dir, "plain", 'product_name = "Quillnote"\n')
    app = make_app()
    visitor = join(app, "ada@example.com")
    thanks = visitor.get("/plain/thanks")
    assert "You're on the Quillnote list" in text_of(thanks)
    assert "<title>Quillnote — thank you</title>" in thanks.get_data(as_text=True)
    status = re.search(r'href="http://localhost(/plain/status/[^"]+)"', thanks_text(visitor))[1]
    assert "Your place on the Quillnote list" in text_of(visitor.get(status))
    with app.test_request_context():
        page = app.extensions["pages"].pages["plain"]
        assert notify._status_subject(page) == "Your place on the list: Quillnote"


def test_a_logo_from_static_heads_every_visitor_page(make_app, pages_dir):
    set_keys(pages_dir, "plain", 'product_name = "Quillnote"\nlogo = "favicon.svg"\n')
    app = make_app()
    visitor = join(app, "ada@example.com")
    logo = re.compile(r'<img src="/static/favicon\.[0-9a-f]+\.svg" alt="Quillnote" height="40">')
    for path in ("/plain", "/plain/thanks", "/plain/already"):
        assert logo.search(visitor.get(path).get_data(as_text=True)), path


def test_the_place_is_large_and_says_where_the_next_reward_would_put_you(make_app, pages_dir):
    rewards = "\n".join(["", "[waitlist]", "referral_bump = 2", "[[waitlist.rewards]]",
                         "referrals = 3", 'reward = "Stickers"', ""])  # fmt: skip
    (pages_dir / "plain.toml").write_text((pages_dir / "plain.toml").read_text() + rewards)
    app = make_app(RATELIMIT_ENABLED=False)
    for n in range(4):
        join(app, f"p{n}@example.com")
    last = join(app, "last@example.com")
    text = unescape(thanks_text(last))
    assert '<p class="place-number">#5</p><p>your place of 5 on the list.' in text
    assert "The newest place — and the easiest to leave behind: bring a friend or two." in text
    # each friend: a number 2 smaller, past the one earlier joiner who holds it: 1 place
    assert "3 friends to Stickers — you'd be about #2" in text  # 5 − 3 friends × 1 place
    assert "Each friend who joins with your link moves you up to 2 places." in text
    assert text.count('<svg class="icon"') == 5  # WhatsApp, Telegram, X, LinkedIn, e-mail


def test_thank_you_page_shows_progress_to_the_next_reward_and_every_share_button(
    make_app, pages_dir
):
    (pages_dir / "plain.toml").write_text(
        (pages_dir / "plain.toml").read_text()
        + '\n[waitlist]\n[[waitlist.rewards]]\nreferrals = 3\nreward = "Stickers"\n'
    )
    app = make_app()
    ada = join(app, "ada@example.com")
    text = thanks_text(ada)
    assert "3 friends to Stickers" in text
    assert '<progress id="reward-progress" value="0" max="3">' in text

    code = signup(app, "ada@example.com").share_code
    join(app, "bo@example.com", ref=code)
    text = thanks_text(ada)
    assert "2 friends to Stickers" in text and 'value="1" max="3"' in text
    share = quote(f"http://localhost/plain?ref={code}", safe="")
    assert 'href="https://wa.me/?text=I%20just%20joined' in text
    assert f'href="https://t.me/share/url?url={share}&amp;text=' in text
    for name in ("WhatsApp", "Telegram", "X (Twitter)", "LinkedIn", "E-mail"):
        assert f"</svg> {name}</a>" in text  # an icon, then the name

    for n in range(2):
        join(app, f"friend{n}@example.com", ref=code)
    text = thanks_text(ada)
    assert "<progress" not in text and "Stickers — <strong>unlocked</strong>" in text


def test_a_missing_logo_file_is_reported_by_its_key(make_app, pages_dir, runner):
    set_keys(pages_dir, "plain", 'logo = "nope.svg"\n')
    result = runner.invoke(args=["kit", "check"])
    assert "plain.toml:1: logo: no file static/nope.svg" in result.output


def test_visitor_pages_without_a_signup_still_name_the_product(client):
    assert "You're on the Plain page list" in text_of(client.get("/plain/thanks"))


def add_waitlist_keys(pages_dir, slug: str, text: str) -> None:
    path = pages_dir / f"{slug}.toml"
    path.write_text(path.read_text() + f"\n[waitlist]\n{text}")


def fresh_figures(monkeypatch, fresh: bool = True) -> None:
    """The social proof figure is read at most every PROOF_SECONDS per process; 0 reads it on
    every view."""
    monkeypatch.setattr(landing, "PROOF_SECONDS", 0 if fresh else 30)


def proof_on(app) -> str | None:
    html = browser(app).get("/plain").get_data(as_text=True)
    found = re.search(r'<p class="proof">(.*?)</p>', html)
    return found[1] if found else None


@pytest.mark.parametrize("fast", [True, False], ids=["fast", "plain"])
def test_social_proof_shows_once_the_list_reaches_the_threshold(
    make_app, pages_dir, monkeypatch, fast
):
    add_waitlist_keys(pages_dir, "plain", "social_proof_from = 3\n")
    app = make_app(FAST_PATH=fast)
    fresh_figures(monkeypatch)
    for n in range(2):
        join(app, f"p{n}@example.com")
    assert proof_on(app) is None
    fresh_figures(monkeypatch, fresh=False)
    join(app, "p2@example.com")
    assert proof_on(app) is None  # the figure read a moment ago stands for half a minute
    fresh_figures(monkeypatch)
    assert proof_on(app) == "Join 3 others on the waitlist."


def test_social_proof_counts_only_confirmed_people_on_double_opt_in_pages(
    make_app, pages_dir, monkeypatch
):
    add_waitlist_keys(pages_dir, "plain", "double_opt_in = true\nsocial_proof_from = 1\n")
    app = make_app()
    fresh_figures(monkeypatch)
    join(app, "unconfirmed@example.com")
    assert proof_on(app) is None


def test_social_proof_can_be_turned_off(make_app, pages_dir, monkeypatch):
    add_waitlist_keys(pages_dir, "plain", "social_proof_from = 0\n")
    app = make_app()
    fresh_figures(monkeypatch)
    join(app, "one@example.com")
    assert proof_on(app) is None


FEATURES = '\n[[features]]\ntitle = "Fast"\n'


@pytest.mark.parametrize("fast", [True, False], ids=["fast", "plain"])
def test_a_second_form_after_the_content_signs_up_like_the_first(make_app, pages_dir, fast):
    set_keys(pages_dir, "plain", 'second_cta = "form"\n')
    (pages_dir / "plain.toml").write_text((pages_dir / "plain.toml").read_text() + FEATURES)
    app = make_app(FAST_PATH=fast)
    visitor = browser(app)
    html = visitor.get("/plain").get_data(as_text=True)
    assert html.count('<form method="post" action="/plain" class="signup"') == 2
    assert 'id="signup-2"' in html and 'for="email-2"' in html and 'id="email-2"' in html
    ids = re.findall(r' id="([^"]+)"', html)
    assert len(ids) == len(set(ids)), "every id once"
    second = html[html.index('id="signup-2"') :]
    fields = dict(re.findall(r'name="(csrf_token|rendered)" type="hidden" value="([^"]*)"', second))
    response = visitor.post("/plain", data={**fields, "email": "late@example.com"})
    assert response.status_code == 302 and response.location.endswith("/plain/thanks")
    assert signup(app, "late@example.com") is not None


def test_the_second_call_to_action_is_a_link_by_default_and_can_be_left_out(make_app, pages_dir):
    (pages_dir / "plain.toml").write_text((pages_dir / "plain.toml").read_text() + FEATURES)
    app = make_app()
    html = browser(app).get("/plain").get_data(as_text=True)
    assert '<a class="button" href="#signup">Join</a>' in html and html.count("<form") == 1
    set_keys(pages_dir, "plain", 'second_cta = "none"\n')
    html = browser(make_app()).get("/plain").get_data(as_text=True)
    assert 'href="#signup"' not in html


def test_no_second_call_to_action_where_nothing_follows_the_form(client):
    assert 'href="#signup"' not in client.get("/plain").get_data(as_text=True)
