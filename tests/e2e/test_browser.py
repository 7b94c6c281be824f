"""A visitor, a phone and a keyboard-only browser use the real app in Debian's Chromium."""

from __future__ import annotations

import re
from typing import Any

import pytest

from kit.pages.registry import PageRegistry

from .browser import MOBILE_UA
from .browser import PROJECT_DIR
from .browser import axe_violations
from .browser import sign_up
from .browser import vnu_errors
from .conftest import require

THANKS_URL = re.compile(r"/demo/thanks$")
POSITION = re.compile(r"#(\d+)\s+your place of [\d,]+ on the list")


def demo_headlines() -> dict[str, str]:
    """The demo page's headline in each variant, so a test can tell which variant it got."""
    demo = PageRegistry(PROJECT_DIR / "pages", None, auto_reload=False).get("demo")
    return {v.content.headline: v.name for v in demo.experiment.variants}


def variant_shown(page: Any) -> str:
    return demo_headlines()[page.locator("h1").inner_text().strip()]


def test_visitor_gets_a_variant_signs_up_and_sees_their_position(page):
    page.goto("/demo")
    assert variant_shown(page) in {"a", "b"}

    sign_up(page, "", "ada@example.com", name="Ada")

    assert THANKS_URL.search(page.url)
    assert POSITION.search(page.locator("main").inner_text())


def test_variant_is_sticky_across_visits(page):
    page.goto("/demo")
    first = variant_shown(page)
    for _ in range(3):
        page.reload()
        assert variant_shown(page) == first


def test_signup_works_with_javascript_disabled(new_context):
    page = new_context(java_script_enabled=False).new_page()

    sign_up(page, "", "nojs@example.com")

    assert THANKS_URL.search(page.url)
    assert POSITION.search(page.locator("main").inner_text())


def test_form_errors_are_shown_next_to_the_field_and_keep_the_input(page):
    page.goto("/demo")
    page.locator("form#signup input[name=name]").fill("Grace")
    page.locator("form#signup button[type=submit]").click()

    email = page.locator("form#signup input[name=email]")
    assert email.get_attribute("aria-invalid") == "true"
    assert "Please enter your e-mail address." in page.locator("form#signup").inner_text()
    assert page.locator("form#signup input[name=name]").input_value() == "Grace"


def test_mobile_viewport_has_no_horizontal_scrolling(new_context):
    page = new_context(
        viewport={"width": 375, "height": 812}, user_agent=MOBILE_UA, is_mobile=True
    ).new_page()

    page.goto("/demo")
    assert page.evaluate("document.documentElement.scrollWidth") <= 375

    sign_up(page, "", "phone@example.com")
    assert THANKS_URL.search(page.url)
    assert page.evaluate("document.documentElement.scrollWidth") <= 375

    for path in ["/demo/already", "/go/demo/buy-team", "/nope"]:
        page.goto(path)
        assert page.evaluate("document.documentElement.scrollWidth") <= 375, path


@pytest.mark.parametrize("color_scheme", ["light", "dark"])
def test_pages_have_no_accessibility_violations(new_context, color_scheme):
    require("axe")
    # axe-core goes in as an inline script, which the pages' Content-Security-Policy blocks.
    page = new_context(color_scheme=color_scheme, bypass_csp=True).new_page()
    for path in [
        "/demo",
        "/demo?variant=b",
        "/go/demo/buy-team",
        "/demo/already",
        "/nope",
        "/embed/demo",
        "/embed/demo/thanks",
    ]:
        page.goto(path)
        assert axe_violations(page) == [], path

    sign_up(page, "", f"axe-{color_scheme}@example.com")
    assert THANKS_URL.search(page.url)
    assert axe_violations(page) == []
    page.goto(page.locator("a", has_text="your private status page").get_attribute("href"))
    assert axe_violations(page) == [], "status page"
    for path in ["/demo/status", "/demo/confirm/forged"]:
        page.goto(path)
        assert axe_violations(page) == [], path


def served_html(page: Any, path: str) -> str:
    """The HTML the server sends for ``path``, fetched with the tab's cookies."""
    response = page.request.get(path)
    assert response.ok, (path, response.status)
    return response.text()


def test_pages_are_valid_html(page):
    require("vnu")
    documents = {
        path: served_html(page, path)
        for path in [
            "/demo",
            "/demo?variant=b",
            "/go/demo/buy-team",
            "/demo/already",
            "/embed/demo",
            "/embed/demo/thanks",
        ]
    }
    documents["/nope"] = page.request.get("/nope").text()
    sign_up(page, "", "vnu@example.com")
    documents["/demo/thanks"] = served_html(page, "/demo/thanks")
    assert "on the list" in documents["/demo/thanks"]
    status = page.locator("a", has_text="your private status page").get_attribute("href")
    documents["status page"] = served_html(page, status)
    documents["/demo/status"] = served_html(page, "/demo/status")

    assert vnu_errors(documents) == {}


def place_on(page: Any) -> int:
    return int(POSITION.search(page.locator("main").inner_text())[1])


def test_friend_joins_through_the_share_link_and_the_first_visitor_moves_up(new_context):
    for n in range(2):  # people ahead, so there is room to move up
        sign_up(new_context().new_page(), "", f"early-{n}@example.com")
    first = new_context().new_page()
    sign_up(first, "", "first@example.com")
    before = place_on(first)
    share = first.locator("#share-link").input_value()
    assert "?ref=" in share
    status = first.locator("a", has_text="your private status page").get_attribute("href")

    friend = new_context().new_page()
    sign_up(friend, "", "friend@example.com", path=share)  # the absolute share link
    assert THANKS_URL.search(friend.url)

    first.goto(status)
    assert place_on(first) < before
    assert "Friends who joined so far: 1" in first.locator("main").inner_text()


def test_copy_button_copies_the_share_link(new_context):
    context = new_context(permissions=["clipboard-read", "clipboard-write"])
    page = context.new_page()
    sign_up(page, "", "copier@example.com")
    share = page.locator("#share-link").input_value()

    page.get_by_role("button", name="Copy link").click()

    assert page.evaluate("navigator.clipboard.readText()") == share
    assert page.locator("[data-status]").inner_text() == "Link copied."


def test_without_javascript_the_share_link_is_there_to_select_and_no_button_is_dead(new_context):
    page = new_context(java_script_enabled=False).new_page()
    sign_up(page, "", "selector@example.com")

    assert not page.get_by_role("button", name="Copy link").is_visible()
    assert not page.get_by_role("button", name="Share…").is_visible()
    field = page.locator("#share-link")
    field.click(click_count=3)  # triple-click selects the whole link, as a person would
    selected = field.evaluate("f => f.value.slice(f.selectionStart, f.selectionEnd)")
    assert selected == field.input_value() and "?ref=" in selected
    links = page.locator("ul.share a")
    assert [links.nth(n).inner_text() for n in range(links.count())] == [
        "WhatsApp", "Telegram", "X (Twitter)", "LinkedIn", "E-mail",
    ]  # fmt: skip
