"""The real app on a real port, and the browser tools that look at it.

Shared by the end-to-end tests and the scripts in bench/ (screenshots, Lighthouse). Chromium comes
from Debian (``apt-get install -y chromium``), never from ``playwright install``; axe-core,
Lighthouse and the Nu HTML checker come from npm into ``tests/e2e/node_modules``
(``npm install --prefix tests/e2e``). ``.ci/run`` installs both.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from flask import Flask
from flask_migrate import upgrade
from werkzeug.serving import make_server

from kit import create_app
from kit.models import db

E2E_DIR = Path(__file__).resolve().parent
PROJECT_DIR = E2E_DIR.parent.parent
NODE_MODULES = E2E_DIR / "node_modules"
CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
AXE_JS = NODE_MODULES / "axe-core" / "axe.min.js"
VNU_JAR = NODE_MODULES / "vnu-jar" / "build" / "dist" / "vnu.jar"
LIGHTHOUSE_CLI = NODE_MODULES / "lighthouse" / "cli" / "index.js"
ADMIN_PASSWORD = "correct horse battery staple"
# Long enough that the server's "too fast to be human" check is exercised, short enough to be quick.
MIN_SUBMIT_SECONDS = 0.5
BROWSER_UA = (
    "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/130.0 Safari/537.36"
)
MOBILE_UA = (
    "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/130.0 Mobile Safari/537.36"
)


def missing_tools(*needs: str) -> str | None:
    """Why a browser check cannot run on this machine (and how to fix it), or None."""
    reasons = []
    if "chromium" in needs:
        try:
            import playwright  # noqa: F401
        except ImportError:
            reasons.append("Python Playwright is missing: pip install -e '.[test]'")
        if not CHROMIUM.exists():
            reasons.append("Chromium is missing: apt-get install -y chromium")
    npm = {"axe": AXE_JS, "vnu": VNU_JAR, "lighthouse": LIGHTHOUSE_CLI}
    if any(need in npm and not npm[need].exists() for need in needs):
        reasons.append("npm tools are missing: npm install --prefix tests/e2e")
    if "vnu" in needs and shutil.which("java") is None:
        reasons.append("Java is missing: apt-get install -y default-jre-headless")
    if "lighthouse" in needs and shutil.which("node") is None:
        reasons.append("Node.js is missing: apt-get install -y nodejs npm")
    return "; ".join(reasons) or None


def build_app(workdir: Path, **config: Any) -> Flask:
    """The kit with the real pages/ on a fresh, migrated SQLite database in ``workdir``."""
    settings = {
        "TESTING": True,
        "SECRET_KEY": "e2e-secret-key-that-is-long-enough-0123",
        "SQLALCHEMY_DATABASE_URI": f"sqlite:///{workdir / 'e2e.sqlite3'}",
        "PAGES_DIR": str(PROJECT_DIR / "pages"),
        "MIN_SUBMIT_SECONDS": MIN_SUBMIT_SECONDS,
        "ADMIN_PASSWORD": ADMIN_PASSWORD,
        "PROXY_FIX_HOPS": 0,
        "RATELIMIT_ENABLED": False,  # every browser here shares one address
        "OUTBOX_WORKER": False,
    }
    settings.update(config)
    app = create_app(settings)
    with app.app_context():
        upgrade()
    return app


@contextmanager
def serving(server: Any) -> Iterator[Any]:
    """Run ``server`` (anything with ``serve_forever``/``shutdown``) in a background thread
    until the block ends."""
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server
    finally:
        server.shutdown()
        thread.join()
        server.server_close()


@contextmanager
def live_server(workdir: Path, port: int = 0, **config: Any) -> Iterator[str]:
    """Serve the app over real HTTP from a background thread; yields its base URL."""
    app = build_app(workdir, **config)
    try:
        with serving(make_server("127.0.0.1", port, app, threaded=True)) as server:
            yield f"http://127.0.0.1:{server.server_port}"
    finally:
        with app.app_context():
            db.engine.dispose()


def launch(playwright: Any) -> Any:
    """Debian's Chromium, headless, driven by Playwright."""
    return playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)


def sign_up(page: Any, base_url: str, email: str, path: str = "/demo", **extra: str) -> None:
    """Open the landing page and fill in and send its form like a person would."""
    page.goto(base_url + path)
    loaded = time.monotonic()
    page.locator("form#signup input[name=email]").fill(email)
    for name, value in extra.items():
        page.locator(f"form#signup [name={name}]").fill(value)
    consent = page.locator("form#signup input[name=consent]")
    if consent.count():
        consent.check()
    # People take more than MIN_SUBMIT_SECONDS to fill a form; wait so the server agrees.
    remaining = MIN_SUBMIT_SECONDS + 0.05 - (time.monotonic() - loaded)
    if remaining > 0:
        time.sleep(remaining)
    page.locator("form#signup button[type=submit]").click()
    page.wait_for_load_state()


def axe_violations(page: Any) -> list[dict[str, Any]]:
    """Run axe-core inside the page; returns its violations (id, impact, help, nodes)."""
    page.add_script_tag(path=str(AXE_JS))
    result = page.evaluate("async () => await axe.run(document)")
    return [
        {
            "id": v["id"],
            "impact": v["impact"],
            "help": v["help"],
            "nodes": [n["target"] for n in v["nodes"]],
        }
        for v in result["violations"]
    ]


def vnu_errors(documents: dict[str, str]) -> dict[str, list[str]]:
    """Validate HTML documents with the Nu HTML checker; returns its errors per document name."""
    with_names = {}
    with tempfile.TemporaryDirectory() as folder:
        tmp = Path(folder)
        for index, (name, html) in enumerate(documents.items()):
            path = tmp / f"doc{index}.html"
            path.write_text(html, encoding="utf-8")
            with_names[path.name] = name
        result = subprocess.run(
            ["java", "-jar", str(VNU_JAR), "--format", "json", "--exit-zero-always", "--stdout"]
            + sorted(str(tmp / file) for file in with_names),
            capture_output=True,
            text=True,
            timeout=120,
        )
    messages = json.loads(result.stdout)["messages"]
    errors: dict[str, list[str]] = {name: [] for name in documents}
    for message in messages:
        if message.get("type") == "error" or message.get("subType") == "fatal":
            name = with_names[Path(message["url"].removeprefix("file:")).name]
            errors[name].append(f"line {message.get('lastLine')}: {message['message']}")
    return {name: found for name, found in errors.items() if found}
