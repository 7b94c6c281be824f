"""Referrals, the place in line, the private status page, and "remove me"/"my data"."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from kit.models import Signup
from kit.models import db
from tests.conftest import BROWSER_UA
from tests.conftest import browser
from tests.conftest import sign_up
from tests.delivery.test_outbox import smtp  # noqa: F401 - the fixture
from tests.founder.test_dashboard import logged_in
from tests.founder.test_dashboard import text_of

BOT_UA = "Slackbot-LinkExpanding 1.0 (+https://api.slack.com/robots)"


def signup(app, email) -> Signup:
    with app.app_context():
        return db.session.scalar(select(Signup).where(Signup.email_key == email))


def join(app, email, slug="plain", ref=None):
    """A new visitor (optionally arriving through a share link) signs up; returns the browser."""
    visitor = browser(app)
    if ref:
        visitor.get(f"/{slug}?ref={ref}")
    assert sign_up(visitor, slug=slug, email=email).status_code == 302
    return visitor


def thanks_text(visitor, slug="plain") -> str:
    return visitor.get(f"/{slug}/thanks").get_data(as_text=True)


def status_link(visitor, slug="plain") -> str:
    return re.search(rf'href="(http://localhost/{slug}/status/[^"]+)"', thanks_text(visitor, slug))[
        1
    ]


def place(visitor, slug="plain") -> int:
    return int(re.search(r'class="place-number">#(\d+)</p>', thanks_text(visitor, slug))[1])


def test_thank_you_page_shows_place_share_link_and_private_status_link(app):
    ada = join(app, "ada@example.com")
    text = thanks_text(ada)
    code = signup(app, "ada@example.com").share_code
    assert "#1</p><p>your place of 1 on the list" in text
    assert f"http://localhost/plain?ref={code}" in text
    assert "twitter.com/intent/tweet" in text and "linkedin.com/sharing" in text
    assert "mailto:?subject=" in text
    status = ada.get(status_link(ada)).get_data(as_text=True)
    assert "#1" in status and code in status


def test_someone_typing_the_address_sees_no_code_and_no_link(app):
    join(app, "ada@example.com")
    code = signup(app, "ada@example.com").share_code
    stranger = browser(app)
    response = sign_up(stranger, email="ada@example.com", follow=True)
    assert "already on the list" in response.get_data(as_text=True)
    assert code not in response.get_data(as_text=True)
    assert "/status/" not in thanks_text(stranger)


def test_referral_chain_moves_each_referrer_up(make_app, pages_dir):
    (pages_dir / "plain.toml").write_text(
        (pages_dir / "plain.toml").read_text() + "\n[waitlist]\nreferral_bump = 3\n"
    )
    app = make_app()
    fillers = [join(app, f"early{n}@example.com") for n in range(3)]
    ada = join(app, "ada@example.com")
    assert place(ada) == 4
    bob = join(app, "bob@example.com", ref=signup(app, "ada@example.com").share_code)
    # sign-up order: e0 e1 e2 ada bob; ada moves up 3 places for bob (ties: earlier first)
    assert place(ada) == 2
    assert place(bob) == 5
    join(app, "cy@example.com", ref=signup(app, "bob@example.com").share_code)
    # keys (order - 3 x friends): e0 1, e1 2, e2 3, ada 1, bob 2, cy 6
    assert [place(v) for v in [*fillers, ada, bob]] == [1, 3, 5, 2, 4]
    assert signup(app, "ada@example.com").referrals == 1
    assert signup(app, "cy@example.com").referred_by_id == signup(app, "bob@example.com").id


def test_own_link_and_repeat_signups_credit_nothing(app):
    ada = join(app, "ada@example.com")
    code = signup(app, "ada@example.com").share_code
    ada.get(f"/plain?ref={code}")  # Ada opens her own link and signs up a second address
    sign_up(ada, email="ada.other@example.com")
    friend = join(app, "bob@example.com", ref=code)
    sign_up(friend, email="bob@example.com")  # the same friend again
    again = browser(app)
    again.get(f"/plain?ref={code}")
    sign_up(again, email="BOB@example.com")
    assert signup(app, "ada@example.com").referrals == 1


def test_unknown_or_foreign_codes_are_ignored(app):
    join(app, "ada@example.com", slug="ab")
    foreign = signup(app, "ada@example.com").share_code  # a code from another page
    join(app, "bob@example.com", ref=foreign)
    join(app, "cy@example.com", ref="no-such-code")
    assert signup(app, "bob@example.com").referred_by_id is None
    assert signup(app, "cy@example.com").referred_by_id is None
    assert signup(app, "ada@example.com").referrals == 0


def test_link_preview_bots_see_the_page_with_its_meta_tags(app):
    join(app, "ada@example.com")
    code = signup(app, "ada@example.com").share_code
    bot = browser(app, BOT_UA)
    response = bot.get(f"/plain?ref={code}")
    assert response.status_code == 200
    assert 'property="og:title"' in response.get_data(as_text=True)
    assert "Set-Cookie" not in response.headers


def test_forged_or_foreign_status_links_show_nothing(app):
    ada = join(app, "ada@example.com")
    link = status_link(ada)
    assert browser(app).get(link).status_code == 200  # the link itself is the key
    token = link.rsplit("/", 1)[1]
    assert browser(app).get(f"/ab/status/{token}").status_code == 404
    assert browser(app).get(f"/plain/status/{token[:-2]}xx").status_code == 404


def test_remove_me_wipes_personal_data_and_keeps_the_count(app):
    ada = join(app, "ada@example.com")
    token = status_link(ada).rsplit("/", 1)[1]
    page = ada.get(f"/plain/remove/{token}").get_data(as_text=True)
    csrf = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page)[1]
    response = ada.post(f"/plain/remove/{token}", data={"csrf_token": csrf})
    assert "off the list" in response.get_data(as_text=True)
    with app.app_context():
        [row] = db.session.scalars(select(Signup)).all()
        assert (row.email, row.name, row.answer) == ("", None, None)
        assert row.deleted_at is not None and row.confirmed_at is not None
    assert ada.get(f"/plain/status/{token}").status_code == 404
    assert join(app, "ada@example.com")  # and may sign up again


def test_remove_me_needs_the_form_token(app):
    ada = join(app, "ada@example.com")
    token = status_link(ada).rsplit("/", 1)[1]
    assert browser(app).post(f"/plain/remove/{token}").status_code == 400
    assert signup(app, "ada@example.com").deleted_at is None


def test_download_my_data(app):
    ada = join(app, "ada@example.com")
    response = ada.get(status_link(ada) + "/data.json")
    assert response.headers["Content-Disposition"].startswith("attachment")
    data = response.json
    assert data["email"] == "ada@example.com"
    assert data["share_code"] == signup(app, "ada@example.com").share_code
    assert "no IP address" in data["stored_about_your_visit"]


def test_status_link_request_answers_the_same_for_any_address(app):
    join(app, "ada@example.com")
    answers = []
    for address in ["ada@example.com", "nobody@example.com"]:
        visitor = browser(app, BROWSER_UA)
        page = visitor.get("/plain/status").get_data(as_text=True)
        csrf = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page)[1]
        response = visitor.post("/plain/status", data={"csrf_token": csrf, "email": address})
        main = re.search(r"<main.*</main>", response.get_data(as_text=True), re.S)[0]
        answers.append((response.status_code, main))
    assert answers[0] == answers[1]
    assert "If that address is on the list" in answers[0][1]


def test_dashboard_shows_the_referral_leaderboard_and_share(app):
    join(app, "ada@example.com")
    code = signup(app, "ada@example.com").share_code
    join(app, "bob@example.com", ref=code)
    join(app, "cy@example.com", ref=code)
    text = text_of(logged_in(app).get("/admin/plain"))
    assert "2 of 3 signups came through a friend's share link (66.7%" in text
    assert f"a…a@example.com {code} 2" in text  # no name given: letters of the address


def test_the_leaderboard_names_people_by_the_name_they_gave_and_tells_rows_apart(app):
    visitor = browser(app)
    sign_up(visitor, email="sam.lee@example.com", name="Sam Lee")
    sam = signup(app, "sam.lee@example.com").share_code
    join(app, "stan@example.com")
    stan = signup(app, "stan@example.com").share_code
    for n, code in enumerate([sam, sam, stan]):
        join(app, f"friend{n}@example.com", ref=code)
    text = text_of(logged_in(app).get("/admin/plain"))
    assert f"Sam L. {sam} 2" in text and f"s…n@example.com {stan} 1" in text
    assert "sam.lee@example.com" not in text.split("Who brought the most friends")[1]


@pytest.mark.parametrize(
    ("path", "data", "status"),
    [
        ("/plain/status", {"email": "not an address"}, 422),
        ("/plain/status", {"email": "x" * 5000 + "@example.com"}, 422),
        ("/plain/remove/forged-token", {}, 200),  # "you're off the list": reveals nothing
        ("/plain/status", {"email": ["a@example.com", "b@example.com"]}, 200),  # the first
    ],
)
def test_bad_posts_to_the_person_pages_never_fail(app, path, data, status):
    visitor = browser(app)
    page = visitor.get("/plain/status").get_data(as_text=True)
    csrf = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page)[1]
    response = visitor.post(path, data={"csrf_token": csrf, **data})
    assert response.status_code == status
    assert "Traceback" not in response.get_data(as_text=True)
    if status == 422:
        assert 'class="error"' in response.get_data(as_text=True)


def test_one_mailbox_under_many_addresses_earns_no_more_than_one_friend(app):
    """Plus-tags (every provider) and dots (Gmail) make new addresses of one mailbox: a fresh
    cookie per "friend" and owner+1@, owner+2@... used to earn a credit each."""
    join(app, "ada.lovelace@gmail.com")
    code = signup(app, "ada.lovelace@gmail.com").share_code
    for own in (
        "ada.lovelace+1@gmail.com",
        "adalovelace@gmail.com",
        "Ada.Lovelace+x@googlemail.com",
    ):
        join(app, own, ref=code)  # the referrer's own mailbox: no friend at all
    assert signup(app, "ada.lovelace@gmail.com").referrals == 0
    for friend in ("bob@example.com", "bob+2@example.com", "Bob+ads@Example.com"):
        join(app, friend, ref=code)  # one friend, three addresses: one credit
    join(app, "b.o.b@example.com", ref=code)  # dots count outside Gmail: another mailbox
    assert signup(app, "ada.lovelace@gmail.com").referrals == 2
    assert signup(app, "bob+2@example.com") is not None  # on the list all the same


def remove_me(visitor, slug="plain") -> None:
    """The person removes themselves from their own status page."""
    token = status_link(visitor, slug).rsplit("/", 1)[1]
    page = visitor.get(f"/{slug}/remove/{token}").get_data(as_text=True)
    csrf = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page)[1]
    assert "off the list" in visitor.post(
        f"/{slug}/remove/{token}", data={"csrf_token": csrf}
    ).get_data(as_text=True)


def test_a_friend_leaving_and_rejoining_earns_one_credit_not_one_per_round(make_app, pages_dir):
    """One friend who removed themselves and signed up again through the link, five times,
    used to earn the referrer five credits and five places per round."""
    (pages_dir / "plain.toml").write_text(
        (pages_dir / "plain.toml").read_text() + "\n[waitlist]\nreferral_bump = 2\n"
    )
    app = make_app(RATELIMIT_ENABLED=False)
    fillers = [join(app, f"early{n}@example.com") for n in range(6)]
    ada = join(app, "ada@example.com")
    code = signup(app, "ada@example.com").share_code
    assert place(ada) == 7
    for _ in range(5):
        bob = join(app, "bob@example.com", ref=code)
        assert signup(app, "ada@example.com").referrals == 1
        assert place(ada) == 6  # two numbers earlier for a friend on the list (ties: earlier first)
        remove_me(bob)
        assert signup(app, "ada@example.com").referrals == 0
        assert place(ada) == 7  # the friend left: back where she was
    join(app, "bob@example.com", ref=code)
    join(app, "bob+2@example.com", ref=code)  # the same mailbox, on the list twice
    remove_me(join(app, "cy@example.com", ref=code))
    assert signup(app, "ada@example.com").referrals == 1
    assert [place(v) for v in [*fillers, ada]] == [1, 2, 3, 4, 5, 7, 6]


def test_double_opt_in_credits_one_confirmed_friend_per_mailbox(make_app, smtp):  # noqa: F811
    """The issue's scenario: three confirmed owner+n@ friends on a double opt-in page."""
    from tests.delivery.test_outbox import confirm_by
    from tests.delivery.test_outbox import deliver
    from tests.delivery.test_outbox import link_in

    url, inbox = smtp
    app = make_app(MAIL_URL=url, MAIL_FROM="hello@example.com")
    owner = browser(app)
    sign_up(owner, slug="optin", email="owner@example.com")
    deliver(app)
    confirm_by(browser(app), link_in(inbox.messages[-1], "confirm"))
    code = signup(app, "owner@example.com").share_code
    for n in (1, 2, 3):
        join(app, f"friend+{n}@example.com", slug="optin", ref=code)
        deliver(app)
        confirm_by(browser(app), link_in(inbox.messages[-1], "confirm"))
    join(app, "owner+4@example.com", slug="optin", ref=code)
    deliver(app)
    confirm_by(browser(app), link_in(inbox.messages[-1], "confirm"))
    assert [signup(app, f"friend+{n}@example.com").confirmed_at is not None for n in (1, 2, 3)] == [
        True
    ] * 3
    assert signup(app, "owner@example.com").referrals == 1
