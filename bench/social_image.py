"""Draw the demo page's link-preview image and the /favicon.ico with Debian's Chromium.

    .venv/bin/python bench/social_image.py

Writes static/social.png (1200x630, the size Open Graph and Twitter cards expect) and
static/favicon.ico (32x32 PNG inside an ICO container, for clients that ask for /favicon.ico).
Both files are committed; run this again only after changing the drawing below.
"""

from __future__ import annotations

import struct
import sys
from pathlib import Path

PROJECT_DIR = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(PROJECT_DIR))

from tests.e2e.browser import launch  # noqa: E402
from tests.e2e.browser import missing_tools  # noqa: E402

STATIC = PROJECT_DIR / "static"

CARD = """<!doctype html>
<html><head><style>
  html, body { margin: 0; }
  body { width: 1200px; height: 630px; overflow: hidden; font-family: "DejaVu Sans", sans-serif;
         background: linear-gradient(135deg, #4338ca 0%, #0e7490 100%); color: #fff;
         display: grid; grid-template-columns: 660px 1fr; align-items: center; }
  .text { padding: 0 48px 0 80px; }
  .brand { display: flex; align-items: center; gap: 18px; font-size: 34px; font-weight: 700; }
  .brand img { width: 56px; height: 56px; border-radius: 12px; box-shadow: 0 0 0 3px #fff8; }
  h1 { font-size: 62px; line-height: 1.1; margin: 44px 0 28px; letter-spacing: -1px; }
  p { font-size: 28px; line-height: 1.4; margin: 0; color: #e0e7ff; }
  .pill { display: inline-block; margin-top: 40px; background: #fff; color: #312e81;
          font-size: 26px; font-weight: 700; padding: 14px 28px; border-radius: 14px; }
  .art { padding-right: 60px; }
  .art img { width: 100%; display: block; filter: drop-shadow(0 24px 40px #0005); }
</style></head><body>
  <div class="text">
    <div class="brand"><img src="favicon.svg" alt="">Tidyday</div>
    <h1>Your week, planned in 30 seconds</h1>
    <p>Your to-do list and calendar, turned into a realistic weekly plan.</p>
    <span class="pill">Join the waitlist</span>
  </div>
  <div class="art"><img src="hero.svg" alt=""></div>
</body></html>
"""
ICON = '<!doctype html><body style="margin:0"><img src="favicon.svg" width="32" height="32">'


def ico_from_png(png: bytes, size: int) -> bytes:
    """Wrap one PNG in an ICO container (supported by every browser since Windows Vista)."""
    header = struct.pack("<HHH", 0, 1, 1)
    entry = struct.pack("<BBBBHHII", size, size, 0, 0, 1, 32, len(png), 6 + 16)
    return header + entry + png


def main() -> None:
    reason = missing_tools("chromium")
    if reason:
        raise SystemExit(reason)
    from playwright.sync_api import sync_playwright

    card_file = STATIC / "_social_card.html"
    card_file.write_text(CARD, encoding="utf-8")
    try:
        with sync_playwright() as playwright:
            browser = launch(playwright)
            page = browser.new_page(viewport={"width": 1200, "height": 630})
            page.goto(card_file.as_uri())
            page.screenshot(path=str(STATIC / "social.png"))
            card_file.write_text(ICON, encoding="utf-8")
            page = browser.new_page(viewport={"width": 32, "height": 32})
            page.goto(card_file.as_uri())
            png = page.screenshot(omit_background=True)
            (STATIC / "favicon.ico").write_bytes(ico_from_png(png, 32))
            browser.close()
    finally:
        card_file.unlink()
    print("wrote static/social.png and static/favicon.ico")


if __name__ == "__main__":
    main()
