"""A founder's first page, as `kit new` writes it with a pre-order tier and a number question,
seen in Chromium: it looks finished before any edit."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from typing import Any
from urllib.parse import parse_qs
from urllib.parse import urlsplit

import pytest

from kit.pages.starter import starter_page
from tests.tracking.test_return_from_stripe import stripe_api

from .browser import BROWSER_UA
from .browser import MOBILE_UA
from .browser import PROJECT_DIR
from .browser import live_server


def first_page() -> str:
    """The starter page with its pricing tier and a number question switched on."""
    text = starter_page("notes-app")
    text = text.replace('question = ""', 'question = "What would you pay per month?"')
    text = text.replace('# question_kind = "number"', 'question_kind = "number"')
    text = text.replace('# question_unit = "$ per month"', 'question_unit = "$ per month"')
    for line in (
        "[[pricing.tiers]]",
        'name = "Pro"',
        'price = "$49 once"',
        'checkout_url = "https://buy.stripe.com/..."',
        'checkout_label = "Pre-order"',
    ):
        text = text.replace(f"# {line}", line)  # fmt: skip
    return text.replace("https://buy.stripe.com/...", "https://buy.stripe.com/test_pro")


SESSIONS: dict[str, dict] = {}  # what the Stripe stand-in answers, filled by the tests


@pytest.fixture(scope="module")
def founder_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    work = tmp_path_factory.mktemp("first-page")
    pages = work / "pages"
    shutil.copytree(PROJECT_DIR / "pages", pages)
    (pages / "notes-app.toml").write_text(first_page())
    with (
        stripe_api(SESSIONS) as (stripe, _),
        live_server(work, PAGES_DIR=str(pages), STRIPE_SECRET_KEY="rk_test_x",
                    STRIPE_API_URL=stripe) as url,
    ):  # fmt: skip
        yield url


@pytest.fixture
def visit(chromium: Any, founder_server: str) -> Iterator[Any]:
    contexts = []

    def open_page(width: int = 1280, **options: Any) -> Any:
        options.setdefault("user_agent", BROWSER_UA)
        size = {"width": width, "height": 900}
        context = chromium.new_context(base_url=founder_server, viewport=size, **options)
        contexts.append(context)
        page = context.new_page()
        page.goto("/notes-app")
        return page

    yield open_page
    for context in contexts:
        context.close()


def test_the_first_page_has_a_header_a_centred_hero_and_a_primary_pre_order_button(visit):
    page = visit()
    header = page.locator(".site-header a.wordmark")
    assert header.inner_text() == "Notes App" and header.get_attribute("href") == "/notes-app"
    heading = page.locator("h1").bounding_box()
    assert abs(heading["x"] + heading["width"] / 2 - 640) < 24  # centred: no empty right half
    form = page.locator("form.signup").bounding_box()
    assert abs(form["x"] + form["width"] / 2 - 640) < 24
    pre_order = page.locator(".tiers a.button")
    join = page.locator("form.signup button[type=submit]")
    colour = "e => getComputedStyle(e).backgroundColor"
    assert pre_order.evaluate(colour) == join.evaluate(colour) == "rgb(67, 56, 202)"  # the accent
    tier = page.locator(".tiers li").bounding_box()
    assert tier["width"] <= 20 * 16 + 1  # one tier is one card, not the page's width


def test_the_number_question_is_a_decimal_box_with_its_unit_marked_optional(visit):
    page = visit(375, user_agent=MOBILE_UA, is_mobile=True)
    box = page.locator("#answer")
    assert box.get_attribute("inputmode") == "decimal"
    assert page.locator("label[for=answer]").inner_text() == (
        "What would you pay per month? (optional)"
    )
    assert page.locator("#answer-unit").inner_text() == "$ per month"
    assert page.evaluate("document.documentElement.scrollWidth") <= 375
    page.locator("#email").fill("first-page@example.com")
    box.fill("twelve")
    page.locator("form.signup button[type=submit]").click()
    page.wait_for_load_state()
    assert (
        page.locator("#answer-error").inner_text()
        == "Please enter a number of 0 or more, like 12 or 1200.50."
    )
    assert page.locator("#answer").input_value() == "twelve"  # nothing typed is lost


def test_a_buyer_back_from_stripe_joins_the_list_with_one_press(visit):
    page = visit()
    href = page.locator(".tiers a.button").get_attribute("href")
    # The button leads through the kit to Stripe (not reachable here): follow it to there.
    answer = page.request.get(href, max_redirects=0)
    reference = parse_qs(urlsplit(answer.headers["location"]).query)["client_reference_id"][0]
    SESSIONS["cs_test_browser"] = {"client_reference_id": reference, "payment_status": "paid",
                                   "customer_details": {"email": "buyer@example.com"}}  # fmt: skip
    page.goto("/notes-app/paid?session_id=cs_test_browser")
    assert page.locator("h1").inner_text() == "Thank you for your pre-order!"
    assert page.locator("#email").input_value() == "buyer@example.com"
    page.locator("form.signup button[type=submit]").click()
    page.wait_for_load_state()
    assert page.url.endswith("/notes-app/thanks")
    assert "notes-app?ref=" in page.locator("#share-link").input_value()
