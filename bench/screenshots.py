"""Screenshots of the product in Debian's Chromium, at desktop (1280 px) and phone (375 px) width.

    .venv/bin/python bench/screenshots.py [--out screenshots] [--docs docs] [--visitors 800]

Starts the app itself on a fresh SQLite database with the real pages/, sends --visitors
simulated visitors through the demo page over HTTP (from a few traffic sources; variant b's
promise converts better), signs two more up through the real form in Chromium, logs the
founder into the dashboard, and writes PNGs to screenshots/ (git-ignored): landing, thank-you
and status pages and every admin page (overview, idea comparison, the page's dashboard, its
sources and its signups), each as NAME-desktop.png and NAME-mobile.png. The landing page is
shown as crawlers see it (the control variant). The README's pictures go to docs/: the
overview (docs/overview.png) and the page's decision card (docs/decision-card.png).
"""

from __future__ import annotations

import argparse
import logging
import random
import re
import sys
import tempfile
from pathlib import Path

import requests

PROJECT_DIR = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(PROJECT_DIR))

from tests.e2e.browser import ADMIN_PASSWORD  # noqa: E402
from tests.e2e.browser import BROWSER_UA  # noqa: E402
from tests.e2e.browser import MOBILE_UA  # noqa: E402
from tests.e2e.browser import launch  # noqa: E402
from tests.e2e.browser import live_server  # noqa: E402
from tests.e2e.browser import missing_tools  # noqa: E402
from tests.e2e.browser import sign_up  # noqa: E402

SIZES = {
    "desktop": {"viewport": {"width": 1280, "height": 800}, "user_agent": BROWSER_UA},
    "mobile": {
        "viewport": {"width": 375, "height": 812},
        "user_agent": MOBILE_UA,
        "is_mobile": True,
        "device_scale_factor": 2,
    },
}


def shoot(browser, base: str, out: Path, size: str, docs: Path | None) -> list[Path]:
    """Take this size's screenshots; returns the files written."""
    written = []
    options = SIZES[size]

    # Crawlers and previews see the control variant, so this picture is stable.
    context = browser.new_context(**{**options, "user_agent": "HeadlessChrome screenshot"})
    page = context.new_page()
    page.goto(base + "/demo")
    written.append(out / f"landing-{size}.png")
    page.screenshot(path=written[-1], full_page=True)
    context.close()

    context = browser.new_context(**options)
    page = context.new_page()
    sign_up(page, base, f"screenshot-{size}@example.com", name="Ada Lovelace")
    written.append(out / f"thanks-{size}.png")
    page.screenshot(path=written[-1], full_page=True)

    page.goto(page.locator("a", has_text="your private status page").get_attribute("href"))
    written.append(out / f"status-{size}.png")
    page.screenshot(path=written[-1], full_page=True)

    page.goto(base + "/admin/login?next=/admin/")
    page.locator("input[name=password]").fill(ADMIN_PASSWORD)
    page.locator("main button[type=submit]").click()
    page.wait_for_load_state()
    for name, path in ADMIN_PAGES.items():
        page.goto(base + path)
        written.append(out / f"{name}-{size}.png")
        page.screenshot(path=written[-1], full_page=True)
        if size == "desktop" and name == "overview" and docs:
            written.append(docs / "overview.png")
            page.locator("main").screenshot(path=written[-1])
        if size == "desktop" and name == "dashboard" and docs:
            written.append(docs / "decision-card.png")
            page.locator("section.decision").screenshot(path=written[-1])
    context.close()
    return written


ADMIN_PAGES = {
    "overview": "/admin/",
    "compare": "/admin/compare",
    "dashboard": "/admin/demo",
    "sources": "/admin/demo/sources",
    "signups": "/admin/demo/signups",
}
SOURCES = ["newsletter", "producthunt", "twitter", None]
CONVERTS = {"a": 0.07, "b": 0.13}  # variant b's promise does better
FIELDS = re.compile(r'name="(csrf_token|rendered)" type="hidden" value="([^"]*)"')


def simulate(base: str, visitors: int) -> None:
    """``visitors`` new visitors open the demo page (each its own cookie) and some sign up."""
    rng = random.Random(16)
    b_headline = "Stop planning. Start doing."
    for n in range(visitors):
        with requests.Session() as visitor:
            visitor.headers["User-Agent"] = BROWSER_UA
            source = SOURCES[n % len(SOURCES)]
            query = f"?utm_source={source}" if source else ""
            html = visitor.get(f"{base}/demo{query}", timeout=10).text
            variant = "b" if b_headline in html else "a"
            if rng.random() < CONVERTS[variant]:
                data = {**dict(FIELDS.findall(html)), "email": f"v{n}@example.com",
                        "consent": "y"}  # fmt: skip
                visitor.post(f"{base}/demo", data=data, timeout=10, allow_redirects=False)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=PROJECT_DIR / "screenshots")
    parser.add_argument("--docs", type=Path, default=PROJECT_DIR / "docs")
    parser.add_argument("--visitors", type=int, default=800)
    parser.add_argument("--port", type=int, default=0, help="port for the app (default: any)")
    args = parser.parse_args()
    reason = missing_tools("chromium")
    if reason:
        raise SystemExit(reason)
    from playwright.sync_api import sync_playwright

    logging.getLogger("werkzeug").setLevel(logging.WARNING)  # no line per request
    args.out.mkdir(parents=True, exist_ok=True)
    args.docs.mkdir(parents=True, exist_ok=True)
    with (
        tempfile.TemporaryDirectory() as folder,
        live_server(Path(folder), args.port, MIN_SUBMIT_SECONDS=0) as base,
        sync_playwright() as playwright,
    ):
        simulate(base, args.visitors)
        browser = launch(playwright)
        written = [
            path for size in SIZES for path in shoot(browser, base, args.out, size, args.docs)
        ]
        browser.close()
    for path in written:
        print(path.relative_to(PROJECT_DIR) if path.is_relative_to(PROJECT_DIR) else path)


if __name__ == "__main__":
    main()
