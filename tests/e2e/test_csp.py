"""The Content-Security-Policy as Chromium enforces it: ours loads, injected script does not."""

from __future__ import annotations

from typing import Any

from .browser import sign_up


def csp_complaints(page: Any) -> list[str]:
    """Collect the console messages in which Chromium reports a blocked resource or inline code."""
    messages: list[str] = []
    page.on("console", lambda message: messages.append(message.text))
    return messages


def test_pages_load_with_nothing_blocked_by_the_policy(page):
    complaints = csp_complaints(page)
    for path in ["/demo", "/demo?variant=b", "/go/demo/buy-team", "/demo/already", "/nope"]:
        page.goto(path)
        # The inline <style>, allowed by its hash, applied: the page's accent colour is in effect.
        accent = page.evaluate(
            "getComputedStyle(document.documentElement).getPropertyValue('--accent').trim()"
        )
        assert accent == "#4338ca", path
    sign_up(page, "", "csp@example.com")
    assert [text for text in complaints if "Content Security Policy" in text] == []


def test_injected_inline_script_does_not_run(page):
    page.goto("/demo")
    page.evaluate(
        """() => {
            const script = document.createElement("script");
            script.textContent = "window.injected = true";
            document.body.append(script);
        }"""
    )
    assert page.evaluate("window.injected === undefined")
