"""Proof of demand in a real browser: a visitor presses a tier's pre-order button, Stripe's
signed webhook reaches the running app, the founder records ad spend through the dashboard
form and reads pre-orders and costs — on pages that pass axe, the Nu checker and a phone."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from datetime import UTC
from datetime import datetime
from typing import Any
from urllib.parse import parse_qs
from urllib.parse import urlsplit

import pytest
import requests

from tests.tracking.test_preorders import SECRET
from tests.tracking.test_preorders import SHOP
from tests.tracking.test_preorders import paid
from tests.tracking.test_preorders import signed

from .browser import ADMIN_PASSWORD
from .browser import BROWSER_UA
from .browser import MOBILE_UA
from .browser import PROJECT_DIR
from .browser import axe_violations
from .browser import live_server
from .browser import vnu_errors
from .conftest import require

FOUNDER_PAGES = ["/admin/", "/admin/shop", "/admin/shop/sources"]


@pytest.fixture(scope="module")
def shop(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The app with the demo and a page that takes pre-orders, and a Stripe secret."""
    workdir = tmp_path_factory.mktemp("demand")
    pages = workdir / "pages"
    shutil.copytree(PROJECT_DIR / "pages", pages)
    (pages / "shop.toml").write_text(SHOP, encoding="utf-8")
    with live_server(workdir, PAGES_DIR=str(pages), STRIPE_WEBHOOK_SECRET=SECRET) as url:
        yield url


def pay(base: str, reference: str) -> dict:
    """Stripe's call when the Checkout Session for this reference is paid, over HTTP."""
    body, header = signed(paid(reference))
    answer = requests.post(f"{base}/webhooks/stripe", data=body, timeout=10,
                           headers={"Stripe-Signature": header})  # fmt: skip
    return answer.json()


def log_in(page: Any, base: str) -> None:
    page.goto(f"{base}/admin/login")
    page.locator("input[name=password]").fill(ADMIN_PASSWORD)
    page.locator("main button[type=submit]").click()
    page.wait_for_load_state()


def test_a_pre_order_and_ad_spend_reach_the_founders_pages(chromium: Any, shop: str):
    require("axe", "vnu")
    visitor = chromium.new_context(user_agent=BROWSER_UA).new_page()
    visitor.goto(f"{shop}/shop?utm_source=e2e-ads")
    button = visitor.get_by_role("link", name="Pre-order", exact=True)
    # The browser would go on to Stripe (no internet here): read where the kit sends it.
    answer = visitor.request.get(shop + button.get_attribute("href"), max_redirects=0)
    assert answer.status == 302
    location = answer.headers["location"]
    assert location.startswith("https://buy.stripe.com/test_pro?locale=en&client_reference_id=")
    reference = parse_qs(urlsplit(location).query)["client_reference_id"][0]
    assert not reference.startswith("none_")  # a counted visitor: their anonymous key
    assert pay(shop, reference) == {"received": True, "stored": True}

    founder = chromium.new_context(viewport={"width": 1280, "height": 900}).new_page()
    log_in(founder, shop)
    founder.goto(f"{shop}/admin/shop/sources")
    today = datetime.now(UTC).date().isoformat()
    form = founder.locator("form.spend-form")
    form.get_by_label("UTM source").fill("e2e-ads")
    form.get_by_label("From").fill(today)
    form.get_by_label("To (included)").fill(today)
    form.get_by_label("Amount spent").fill("12.50")
    form.get_by_role("button", name="Record spend").click()
    founder.wait_for_load_state()
    assert "Recorded $12.50 for e2e-ads." in founder.locator(".flash").inner_text()
    row = founder.locator("table.costs tbody tr", has_text="e2e-ads")
    # $12.50 bought 1 visitor who paid: $12.50 per visitor; 1 visitor is below the minimum.
    assert "$12.50" in row.inner_text() and "too few visitors for a range" in row.inner_text()
    founder.goto(f"{shop}/admin/shop")
    paid = founder.locator("h2:has-text('Paid pre-orders') ~ .table-wrap").nth(1)
    assert "$49.00" in paid.inner_text()
    founder.goto(f"{shop}/admin/")
    assert "1 paid pre-order, $49.00 net of refunds." in founder.locator("main").inner_text()
    assert "Spend $12.50" in founder.locator("main").inner_text()

    # The same pages pass axe, the Nu checker, and fit a phone.
    audit = chromium.new_context(bypass_csp=True).new_page()
    log_in(audit, shop)
    for path in FOUNDER_PAGES:
        audit.goto(shop + path)
        assert axe_violations(audit) == [], path
    documents = {path: audit.request.get(shop + path).text() for path in FOUNDER_PAGES}
    assert vnu_errors(documents) == {}
    phone = chromium.new_context(
        viewport={"width": 375, "height": 812}, user_agent=MOBILE_UA, is_mobile=True
    ).new_page()
    log_in(phone, shop)
    for path in FOUNDER_PAGES:
        phone.goto(shop + path)
        assert phone.evaluate("document.documentElement.scrollWidth") <= 375, path
