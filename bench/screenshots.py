"""Screenshots of the product in Debian's Chromium, at desktop (1280 px) and phone (375 px) width.

    .venv/bin/python bench/screenshots.py [--out screenshots] [--docs docs] [--visitors 800]

Starts the app itself on a fresh SQLite database with the real pages/ and a second idea (a
page without a test, with a signup bar), sends --visitors simulated visitors through both over
HTTP (from a few traffic sources; variant b's promise converts better), signs two more up
through the real form in Chromium, logs the founder into the dashboard, creates shared report
links, and writes PNGs to screenshots/ (git-ignored): landing, thank-you and status pages,
every admin page (overview, idea comparison, the page's dashboard, its sources and its
signups) and the shared reports, each as NAME-desktop.png and NAME-mobile.png. The landing
page is shown as crawlers see it (the control variant). The README's pictures go to docs/:
the landing (with and without a hero image, light and dark), thank-you and status pages, each
mail, the overview, the page's decision card, the comparison and the shared report at 1280 px
(docs/NAME.png) and at 375 px (docs/NAME-phone.png, the first screen).
"""

from __future__ import annotations

import argparse
import logging
import random
import re
import shutil
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

    # Crawlers and previews see the control variant, so these pictures are stable: the demo
    # (a hero image) in light and dark, and the second idea as `kit new` starts it (none).
    for name, path, scheme in LANDINGS:
        context = browser.new_context(
            **{**options, "user_agent": "HeadlessChrome screenshot", "color_scheme": scheme}
        )
        page = context.new_page()
        page.goto(base + path)
        written.append(out / f"{name}-{size}.png")
        page.screenshot(path=written[-1], full_page=True)
        written += _for_docs(page, name, size, docs)
        context.close()

    context = browser.new_context(**options)
    page = context.new_page()
    sign_up(page, base, f"screenshot-{size}@example.com", name="Ada Lovelace")
    written.append(out / f"thanks-{size}.png")
    page.screenshot(path=written[-1], full_page=True)
    written += _for_docs(page, "thanks", size, docs)

    page.goto(page.locator("a", has_text="your private status page").get_attribute("href"))
    written.append(out / f"status-{size}.png")
    page.screenshot(path=written[-1], full_page=True)
    written += _for_docs(page, "status", size, docs)

    page.goto(base + "/admin/login?next=/admin/")
    page.locator("input[name=password]").fill(ADMIN_PASSWORD)
    page.locator("main button[type=submit]").click()
    page.wait_for_load_state()
    for name, path in ADMIN_PAGES.items():
        page.goto(base + path)
        written.append(out / f"{name}-{size}.png")
        page.screenshot(path=written[-1], full_page=True)
        written += _for_docs(page, name, size, docs)
    for mail in ("confirm", "welcome", "status_link"):  # as a person gets each, sample data
        page.goto(f"{base}/admin/demo/mail/{mail}")
        written.append(out / f"mail-{mail}-{size}.png")
        page.screenshot(path=written[-1], full_page=True)
        written += _for_docs(page, f"mail-{mail}", size, docs)
    for name, where in REPORTS.items():
        page.goto(base + where)
        page.locator("#share button[type=submit]").first.click()
        page.wait_for_load_state()
        link = page.locator("#share .share-links input").first.input_value()
        reader = browser.new_context(**options).new_page()  # a stranger: no login
        reader.goto(link)
        written.append(out / f"{name}-{size}.png")
        reader.screenshot(path=written[-1], full_page=True)
        written += _for_docs(reader, name, size, docs)
        reader.context.close()
    context.close()
    return written


LANDINGS = [  # name, page, colour scheme
    ("landing", "/demo", "light"),
    ("landing-dark", "/demo", "dark"),
    ("landing-plain", "/mealkit", "light"),
]
DOCS = {  # the README's pictures: the file, and what it shows at 1280 px (None: first screen)
    "overview": ("overview", "main"),
    "dashboard": ("decision-card", "section.decision"),
    "compare": ("compare", "main"),
    "report": ("report", "main"),
    "landing": ("landing", None),
    "landing-dark": ("landing-dark", None),
    "landing-plain": ("landing-plain", None),
    "thanks": ("thanks", "main"),
    "status": ("status", "main"),
    "mail-confirm": ("mail-confirm", ".card"),
    "mail-welcome": ("mail-welcome", ".card"),
    "mail-status_link": ("mail-status-link", ".card"),
}


def _for_docs(page, name: str, size: str, docs: Path | None) -> list[Path]:
    """The README's picture of this page: the part that matters at 1280 px, the first screen
    at 375 px."""
    if docs is None or name not in DOCS:
        return []
    file, part = DOCS[name]
    if size == "desktop":
        path = docs / f"{file}.png"
        if part is None:
            page.screenshot(path=path)
        else:
            page.locator(part).first.screenshot(path=path)
    else:
        path = docs / f"{file}-phone.png"
        page.screenshot(path=path)
    return [path]


ADMIN_PAGES = {
    "overview": "/admin/",
    "compare": "/admin/compare",
    "dashboard": "/admin/demo",
    "sources": "/admin/demo/sources",
    "signups": "/admin/demo/signups",
}
REPORTS = {"report": "/admin/demo", "compare-report": "/admin/compare"}
SOURCES = ["newsletter", "producthunt", "twitter", None]
SECOND_IDEA = """title = "Mealkit — dinner planned for the week"
product_name = "Mealkit"
headline = "Five dinners, one shopping list"
subheadline = "Mealkit plans the week's dinners around what you like and writes the list."
cta = "Join the waitlist"

[target]
signup_rate = 0.08
"""
CONVERTS = {"a": 0.07, "b": 0.13, "mealkit": 0.10}  # variant b's promise does better
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
            slug = "mealkit" if n % 3 == 2 else "demo"  # a third of the traffic to the second idea
            html = visitor.get(f"{base}/{slug}{query}", timeout=10).text
            variant = "mealkit" if slug == "mealkit" else "b" if b_headline in html else "a"
            if rng.random() < CONVERTS[variant]:
                data = {**dict(FIELDS.findall(html)), "email": f"v{n}@example.com",
                        "consent": "y"}  # fmt: skip
                visitor.post(f"{base}/{slug}", data=data, timeout=10, allow_redirects=False)


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
    logging.getLogger("werkzeug").setLevel(logging.WARNING)  # no line per request
    args.out.mkdir(parents=True, exist_ok=True)
    args.docs.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as folder:
        pages = Path(folder) / "pages"
        shutil.copytree(PROJECT_DIR / "pages", pages)
        (pages / "mealkit.toml").write_text(SECOND_IDEA)
        _shoot_all(Path(folder), pages, args)


def _shoot_all(folder: Path, pages: Path, args: argparse.Namespace) -> None:
    from playwright.sync_api import sync_playwright

    with (
        live_server(
            folder,
            args.port,
            MIN_SUBMIT_SECONDS=0,
            PAGES_DIR=str(pages),
            NEW_VISITORS_PER_ADDRESS=0,
        ) as base,  # every simulated visitor is local
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
