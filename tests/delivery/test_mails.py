"""The mails a person gets, read as received by a real SMTP server: from the product by name,
greeting them by name, with the place, the next reward and one clear button; HTML whose styles
are inlined, links absolute, and that reads at 375 and 1280 px."""

from __future__ import annotations

import re
from email.utils import parseaddr
from html import unescape

import pytest

from kit.config import ConfigError
from kit.config import from_env
from tests.conftest import browser
from tests.conftest import sign_up
from tests.delivery.test_outbox import confirm_by
from tests.delivery.test_outbox import deliver
from tests.delivery.test_outbox import link_in
from tests.founder.test_dashboard import logged_in
from tests.servers import body_text
from tests.servers import smtp_server

REWARDS = '\n[waitlist]\n[[waitlist.rewards]]\nreferrals = 3\nreward = "Early access"\n'


def html_part(message) -> str:
    part = next(p for p in message.walk() if p.get_content_type() == "text/html")
    return part.get_payload(decode=True).decode()


@pytest.fixture
def mailed(make_app, pages_dir):
    """The plain page (asks for a name) with a reward, mail over a real local SMTP server."""
    (pages_dir / "plain.toml").write_text((pages_dir / "plain.toml").read_text() + REWARDS)
    with smtp_server() as (url, inbox):
        app = make_app(MAIL_URL=url, MAIL_FROM="hello@example.com",
                       BASE_URL="https://waitlist.example.com")  # fmt: skip
        app.inbox = inbox
        yield app


def test_the_welcome_comes_from_the_product_greets_by_name_and_carries_place_and_reward(mailed):
    sign_up(browser(mailed), email="early@example.com")
    assert sign_up(browser(mailed), email="ada@example.com", name="Ada").status_code == 302
    deliver(mailed)
    welcome = mailed.inbox.messages[-1]
    assert parseaddr(welcome["From"]) == ("Plain page", "hello@example.com")
    assert welcome["Subject"] == "You're on the list: Plain page"
    text = body_text(welcome)
    assert text.startswith("You're on the list, Ada!")
    assert "Your place: #2 of 2." in text
    assert "Each friend who joins with your link moves you up to 5 places. 3 more friends and " \
           "you get Early access." in text  # fmt: skip
    html = html_part(welcome)
    assert "<h1" in html and "You're on the list, Ada!" in html
    assert re.search(r'class="place"[^>]*>#2</p>', html)
    share = re.search(r"Your link to share: (\S+)", text)[1]
    assert share.startswith("https://waitlist.example.com/plain?ref=")
    assert share in html  # the same link, in both parts
    button = re.search(r'<a class="button" href="([^"]+)" style="([^"]+)"', html)
    assert button and unescape(button[1]).startswith("mailto:?subject=Plain%20page&body=")
    assert "background: #4338ca" in button[2]  # the theme's accent, inlined for mail clients
    links = re.findall(r'href="([^"]+)"', html)
    assert links and all(link.startswith(("https://", "mailto:")) for link in links), links


def test_the_confirmation_greets_by_name_with_one_button(make_app, pages_dir):
    optin = (
        (pages_dir / "optin.toml")
        .read_text()
        .replace(
            'headline = "Confirm to join"', 'headline = "Confirm to join"\n[form]\nask_name = true'
        )
    )
    (pages_dir / "optin.toml").write_text(optin)
    with smtp_server() as (url, inbox):
        app = make_app(MAIL_URL=url, MAIL_FROM="hello@example.com", MAIL_FROM_NAME="Ada's Lab")
        visitor = browser(app)
        assert sign_up(visitor, "optin", email="ada@example.com", name="Ada").status_code == 302
        deliver(app)
        [confirm] = inbox.messages
        assert parseaddr(confirm["From"]) == ("Ada's Lab", "hello@example.com")  # MAIL_FROM_NAME
        assert body_text(confirm).startswith("Hello Ada,")
        html = html_part(confirm)
        assert html.count('class="button"') == 1 and "Confirm my address" in html
        assert confirm_by(visitor, link_in(confirm, "confirm")).status_code == 302


def test_a_from_name_on_two_lines_is_refused_where_it_is_set():
    with pytest.raises(ConfigError, match="MAIL_FROM_NAME"):
        from_env({"MAIL_FROM_NAME": "Ada\nBcc: everyone@example.com"})
    assert from_env({"MAIL_FROM_NAME": " Ada's Lab "})["MAIL_FROM_NAME"] == "Ada's Lab"


def test_the_founder_previews_each_mail_with_sample_data(mailed):
    founder = logged_in(mailed)
    page = founder.get("/admin/plain").get_data(as_text=True)
    assert 'href="/admin/plain/mail/welcome"' in page
    for name, says in [("confirm", "Confirm my address"), ("welcome", "#42"),
                       ("status_link", "My status page")]:  # fmt: skip
        answer = founder.get(f"/admin/plain/mail/{name}")
        assert answer.status_code == 200 and says in answer.get_data(as_text=True), name
        assert "script-src" not in answer.headers["Content-Security-Policy"]
        assert "Ada" in answer.get_data(as_text=True)
    assert founder.get("/admin/plain/mail/nope").status_code == 404
    assert browser(mailed).get("/admin/plain/mail/welcome").status_code == 302  # log in first
    assert mailed.inbox.messages == []  # a preview sends nothing


def test_a_mail_greets_only_with_a_first_name_that_is_a_name(mailed):
    """The address is not proven the signer's: text typed as a name must not reach someone
    else's inbox in the product's voice."""
    spam = "Win $500 now: https://evil.example/claim"
    assert sign_up(browser(mailed), email="victim@example.org", name=spam).status_code == 302
    assert sign_up(browser(mailed), email="ada@example.com", name="Ada Lovelace").status_code == 302
    deliver(mailed)
    spammed, ada = mailed.inbox.messages
    assert body_text(spammed).startswith("You're on the list, Win!")  # the first word only
    assert "evil.example" not in body_text(spammed) + html_part(spammed)
    assert body_text(ada).startswith("You're on the list, Ada!")


def test_smtp_mail_carries_date_message_id_and_an_unfolded_one_click_unsubscribe(mailed):
    sign_up(browser(mailed), email="ada@example.com")
    deliver(mailed)
    [message] = mailed.inbox.messages
    raw = mailed.inbox.raw[0].decode()
    assert message["Date"] and re.fullmatch(r"<[^@>]+@example\.com>", message["Message-ID"])
    unsubscribe = re.search(r"^List-Unsubscribe: (.*?)\r?$", raw, re.MULTILINE)[1]
    assert unsubscribe.startswith("<https://waitlist.example.com/plain/unsubscribe/")  # as is
    assert "List-Unsubscribe-Post: List-Unsubscribe=One-Click" in raw
