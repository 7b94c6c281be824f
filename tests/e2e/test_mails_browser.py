"""The mails' HTML as a mail client shows it: Chromium at a phone's and a desktop's width."""

from __future__ import annotations

from typing import Any

import pytest

from tests.conftest import browser as client_of
from tests.conftest import sign_up
from tests.delivery.test_mails import html_part
from tests.delivery.test_outbox import deliver
from tests.servers import smtp_server

from .browser import build_app


@pytest.fixture(scope="module")
def mails(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    """The welcome (the demo page) and the confirmation (a double opt-in page) as received."""
    work = tmp_path_factory.mktemp("mails")
    with smtp_server() as (url, inbox):
        app = build_app(work, MAIL_URL=url, MAIL_FROM="hello@example.com", MIN_SUBMIT_SECONDS=0,
                        BASE_URL="https://waitlist.example.com")  # fmt: skip
        sign_up(client_of(app), "demo", email="ada@example.com", name="Ada Lovelace",
                consent="y")  # fmt: skip
        deliver(app)
        return {message["Subject"]: html_part(message) for message in inbox.messages}


@pytest.mark.parametrize("width", [375, 1280])
def test_every_mail_fits_the_screen_and_its_button_is_easy_to_tap(chromium: Any, mails, width):
    assert mails, "no mail arrived"
    context = chromium.new_context(viewport={"width": width, "height": 900})
    page = context.new_page()
    for subject, html in mails.items():
        page.set_content(html)
        assert page.evaluate("document.documentElement.scrollWidth") <= width, subject
        button = page.locator("a.button").bounding_box()
        assert button["height"] >= 44 and button["x"] + button["width"] <= width, subject
        assert "Ada" in page.locator("h1").inner_text(), subject  # her first name
        card = page.locator(".card").bounding_box()
        assert card["width"] <= 560 + 2 * 32, subject  # one readable column on a desktop too
        # The footer (why this mail came, unsubscribe, remove) reads smaller than the message.
        footer = page.locator(".footer p").evaluate("p => getComputedStyle(p).fontSize")
        assert footer == "13px", subject
    context.close()
