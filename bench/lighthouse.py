"""Lighthouse scores for the demo page, measured against the real app with Debian's Chromium.

    .venv/bin/python bench/lighthouse.py [--desktop] [--path /demo] [--starter] [--port 8700]
                                        [--json out.json]

Starts the app itself (fresh SQLite database, the real pages/; with --starter also the page
`kit new notes-app` writes, measured at /notes-app), runs Lighthouse 12 from
tests/e2e/node_modules (``npm install --prefix tests/e2e``), prints the four category scores
(performance, accessibility, best practices, SEO; 100 is the best) and every audit that cost
points. Lighthouse's default is a throttled mid-range phone; --desktop uses its desktop preset.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

PROJECT_DIR = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(PROJECT_DIR))

from kit.pages.illustration import illustration_name  # noqa: E402
from kit.pages.illustration import write_illustration  # noqa: E402
from kit.pages.reference import starter_page  # noqa: E402
from kit.pages.validation import load_page_file  # noqa: E402
from kit.urls import STATIC_DIR as STATIC  # noqa: E402
from tests.e2e.browser import CHROMIUM  # noqa: E402
from tests.e2e.browser import CHROMIUM_ARGS  # noqa: E402
from tests.e2e.browser import LIGHTHOUSE_CLI  # noqa: E402
from tests.e2e.browser import live_server  # noqa: E402
from tests.e2e.browser import missing_tools  # noqa: E402

CATEGORIES = ["performance", "accessibility", "best-practices", "seo"]


def run_lighthouse(url: str, desktop: bool) -> dict:
    """Run the Lighthouse CLI once and return its JSON report."""
    command = [
        "node",
        str(LIGHTHOUSE_CLI),
        url,
        "--output=json",
        "--output-path=stdout",
        "--quiet",
        f"--only-categories={','.join(CATEGORIES)}",
        "--chrome-flags=" + " ".join(["--headless=new", *CHROMIUM_ARGS]),
    ]
    if desktop:
        command.append("--preset=desktop")
    env = {**os.environ, "CHROME_PATH": str(CHROMIUM)}
    result = subprocess.run(command, capture_output=True, text=True, env=env, timeout=300)
    if result.returncode != 0:
        raise SystemExit(f"lighthouse failed:\n{result.stderr[-3000:]}")
    return json.loads(result.stdout)


def lost_points(report: dict) -> list[str]:
    """The audits that scored below 1 in some category, with Lighthouse's own title."""
    lines = []
    for category in CATEGORIES:
        for ref in report["categories"][category]["auditRefs"]:
            audit = report["audits"][ref["id"]]
            if ref["weight"] and audit["score"] is not None and audit["score"] < 1:
                value = audit.get("displayValue", "")
                lines.append(f"  {category}: {audit['title']} ({audit['score']:.2f}) {value}")
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--path", default="/demo", help="page to measure (default /demo)")
    parser.add_argument("--port", type=int, default=0, help="port for the app (default: any)")
    parser.add_argument("--desktop", action="store_true", help="Lighthouse's desktop preset")
    parser.add_argument("--json", type=Path, help="also save the full report here")
    starter = "measure the page `kit new notes-app` writes, at /notes-app"
    parser.add_argument("--starter", action="store_true", help=starter)
    args = parser.parse_args()
    logging.getLogger("werkzeug").setLevel(logging.WARNING)  # no line per request
    reason = missing_tools("chromium", "lighthouse")
    if reason:
        raise SystemExit(reason)

    path = "/notes-app" if args.starter else args.path
    with tempfile.TemporaryDirectory() as folder:
        pages = Path(folder) / "pages"
        shutil.copytree(PROJECT_DIR / "pages", pages)
        drawn = None
        if args.starter:  # as `kit new` writes it, with the hero picture it draws
            page_file = pages / "notes-app.toml"
            page_file.write_text(starter_page("notes-app", illustration_name("notes-app")))
            drawn = write_illustration(load_page_file(page_file)[0].content, STATIC, "notes-app")
        try:
            # TESTING off: production settings (no page auto-reload), as a deployed app runs.
            with live_server(Path(folder), args.port, TESTING=False, PAGES_DIR=str(pages)) as base:
                report = run_lighthouse(base + path, args.desktop)
        finally:
            if drawn is not None:
                drawn.unlink(missing_ok=True)
    if args.json:
        args.json.write_text(json.dumps(report, indent=1))

    form = "desktop" if args.desktop else "mobile (throttled)"
    print(f"Lighthouse {report['lighthouseVersion']}, {form}, {path}")
    for category in CATEGORIES:
        score = report["categories"][category]["score"]
        print(f"  {report['categories'][category]['title']:<15} {round(score * 100):>3}")
    metrics = ["first-contentful-paint", "largest-contentful-paint", "total-blocking-time"]
    metrics += ["cumulative-layout-shift", "speed-index"]
    print("  " + ", ".join(f"{m}: {report['audits'][m]['displayValue']}" for m in metrics))
    lost = lost_points(report)
    if lost:
        print("Audits that cost points:")
        print("\n".join(lost))


if __name__ == "__main__":
    main()
