"""The embedded form in a real browser: a founder's site on another origin frames /embed/demo
and a visitor signs up through it; a site not in embed.origins gets no form at all."""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler
from http.server import ThreadingHTTPServer
from typing import Any

import pytest
from sqlalchemy import create_engine
from sqlalchemy import text

from tests.servers import free_port

from .browser import BROWSER_UA
from .browser import MIN_SUBMIT_SECONDS
from .browser import PROJECT_DIR
from .browser import live_server
from .browser import serving


@contextmanager
def parent_site(port: int, frame_src: str) -> Iterator[str]:
    """A founder's own site (another origin: localhost, not 127.0.0.1) with the snippet."""
    html = f'<!doctype html><title>My site</title><h1>My site</h1><iframe src="{frame_src}" title="Join" style="width:100%;height:40rem;border:0"></iframe>'.encode()  # noqa: E501

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802 - http.server's name
            self.send_response(200)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.end_headers()
            self.wfile.write(html)

        def log_message(self, *args: Any) -> None:
            pass

    with serving(ThreadingHTTPServer(("127.0.0.1", port), Handler)):
        yield f"http://localhost:{port}/"


@pytest.fixture(scope="module")
def sites(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, str]]:
    listed, unlisted = free_port(), free_port()
    work = tmp_path_factory.mktemp("embed")
    pages = work / "pages"
    pages.mkdir()
    demo = (PROJECT_DIR / "pages" / "demo.toml").read_text()
    example = 'origins = ["https://example.com"]'
    assert example in demo
    (pages / "demo.toml").write_text(
        demo.replace(example, f'origins = ["http://localhost:{listed}"]')
    )
    with live_server(work, PAGES_DIR=str(pages)) as app_url:
        frame = f"{app_url}/embed/demo?utm_source=my-site"
        with parent_site(listed, frame) as good, parent_site(unlisted, frame) as bad:
            yield {"listed": good, "unlisted": bad, "db": str(work)}


def test_a_listed_site_frames_the_form_and_a_visitor_signs_up_through_it(chromium, sites):
    context = chromium.new_context(user_agent=BROWSER_UA)  # a person, not HeadlessChrome
    page = context.new_page()
    page.goto(sites["listed"])
    frame = page.frame_locator("iframe")
    frame.locator("input[name=email]").fill("framed@example.com")
    frame.locator("input[name=consent]").check()
    time.sleep(MIN_SUBMIT_SECONDS + 0.05)  # a person takes a moment to fill the form
    frame.get_by_role("button").click()
    frame.locator("h1", has_text="You're on the Tidyday list").wait_for()  # the frame's answer
    engine = create_engine(f"sqlite:///{sites['db']}/e2e.sqlite3")
    with engine.connect() as connection:
        row = connection.execute(
            text("SELECT s.experiment, e.utm_source, e.referrer_host FROM signup s "
                 "JOIN exposure e ON e.id = s.exposure_id WHERE s.email = 'framed@example.com'")
        ).one()  # fmt: skip
    engine.dispose()
    assert tuple(row) == ("embedded form", "my-site", "localhost")
    context.close()


def test_a_site_not_listed_gets_no_form(chromium, sites):
    context = chromium.new_context(user_agent=BROWSER_UA)  # a person, not HeadlessChrome
    page = context.new_page()
    page.goto(sites["unlisted"])
    page.wait_for_load_state("load")
    [frame] = [f for f in page.frames if f is not page.main_frame]
    assert frame.locator("input[name=email]").count() == 0  # the browser refused to show it
    context.close()
