"""Fixtures for the browser tests: one live server per module, one Chromium per session."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from .browser import BROWSER_UA
from .browser import launch
from .browser import live_server
from .browser import missing_tools


def require(*needs: str) -> None:
    """Skip, saying what to install, when a tool this test needs is not on the machine."""
    reason = missing_tools(*needs)
    if reason:
        pytest.skip(reason)


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """Base URL of the real app (demo pages, fresh migrated SQLite) served over HTTP."""
    with live_server(tmp_path_factory.mktemp("e2e")) as url:
        yield url


@pytest.fixture(scope="session")
def chromium() -> Iterator[Any]:
    require("chromium")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = launch(playwright)
        yield browser
        browser.close()


@pytest.fixture
def new_context(chromium: Any, server: str) -> Iterator[Any]:
    """Open browser contexts (separate cookie jars: separate visitors) closed after the test."""
    contexts: list[Any] = []

    def make(**options: Any) -> Any:
        options.setdefault("user_agent", BROWSER_UA)
        context = chromium.new_context(base_url=server, **options)
        contexts.append(context)
        return context

    yield make
    for context in contexts:
        context.close()


@pytest.fixture
def page(new_context: Any) -> Any:
    """One desktop visitor's browser tab."""
    return new_context(viewport={"width": 1280, "height": 900}).new_page()
