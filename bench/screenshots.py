"""Screenshots of the product in Debian's Chromium, at desktop (1280 px) and phone (375 px) width.

    .venv/bin/python bench/screenshots.py [--out screenshots] [--port 8700]

Starts the app itself on a fresh SQLite database with the real pages/, signs two visitors up
through the real form, logs the founder into the dashboard, and writes PNGs to screenshots/
(git-ignored): landing page, thank-you page, status page and the per-page dashboard, each as
NAME-desktop.png and NAME-mobile.png. The landing page is shown as crawlers see it (the
control variant).
"""

from __future__ import annotations

import argparse
import logging
import sys
import tempfile
from pathlib import Path

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


def shoot(browser, base: str, out: Path, size: str) -> list[Path]:
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

    page.goto(base + "/admin/login?next=/admin/demo")
    page.locator("input[name=password]").fill(ADMIN_PASSWORD)
    page.locator("main button[type=submit]").click()
    page.wait_for_load_state()
    written.append(out / f"dashboard-{size}.png")
    page.screenshot(path=written[-1], full_page=True)
    context.close()
    return written


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=PROJECT_DIR / "screenshots")
    parser.add_argument("--port", type=int, default=0, help="port for the app (default: any)")
    args = parser.parse_args()
    reason = missing_tools("chromium")
    if reason:
        raise SystemExit(reason)
    from playwright.sync_api import sync_playwright

    logging.getLogger("werkzeug").setLevel(logging.WARNING)  # no line per request
    args.out.mkdir(parents=True, exist_ok=True)
    with (
        tempfile.TemporaryDirectory() as folder,
        live_server(Path(folder), args.port) as base,
        sync_playwright() as playwright,
    ):
        browser = launch(playwright)
        written = [path for size in SIZES for path in shoot(browser, base, args.out, size)]
        browser.close()
    for path in written:
        print(path.relative_to(PROJECT_DIR) if path.is_relative_to(PROJECT_DIR) else path)


if __name__ == "__main__":
    main()
