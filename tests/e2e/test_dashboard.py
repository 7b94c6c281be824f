"""The founder reads the dashboard in a real browser: signups show under the right variants."""

from __future__ import annotations

from typing import Any

from .browser import ADMIN_PASSWORD
from .browser import MOBILE_UA
from .browser import axe_violations
from .browser import sign_up
from .browser import vnu_errors
from .conftest import require
from .test_browser import variant_shown

ADMIN_PAGES = [
    "/admin/",
    "/admin/compare",
    "/admin/demo",
    "/admin/demo/sources",
    "/admin/demo/signups",
]


def log_in(page: Any) -> None:
    page.goto("/admin/")
    assert page.url.endswith("/admin/login?next=/admin/")
    page.locator("input[name=password]").fill(ADMIN_PASSWORD)
    page.locator("main button[type=submit]").click()
    page.wait_for_load_state()


def test_founder_sees_each_signup_under_the_variant_its_visitor_saw(new_context):
    visitors = {}
    for n in range(2):
        page = new_context().new_page()
        page.goto("/demo")
        visitors[f"dash{n}@example.com"] = variant_shown(page)
        sign_up(page, "", f"dash{n}@example.com")

    founder = new_context().new_page()
    log_in(founder)
    founder.goto("/admin/demo/signups")
    for email, variant in visitors.items():
        cells = founder.locator("main tbody tr", has_text=email).locator("td")
        assert cells.nth(5).inner_text().strip() == variant

    founder.goto("/admin/demo")
    table = founder.locator("h2:has-text('Signups by variant') + .table-wrap table")
    for variant in set(visitors.values()):
        row = table.locator("tbody tr", has=founder.locator(f"th:text-matches('^{variant}')"))
        signups = int(row.locator("td").nth(2).inner_text().replace(",", ""))  # after "changes"
        assert signups >= list(visitors.values()).count(variant)
    assert "Decision:" in founder.locator("main").inner_text()


def test_dashboard_charts_render_with_javascript_disabled(new_context):
    page = new_context(java_script_enabled=False).new_page()
    sign_up(page, "", "nojs-founder@example.com")
    log_in(page)
    page.goto("/admin/demo")
    charts = page.locator("svg.chart")
    assert charts.count() == 3
    assert charts.first.bounding_box()["height"] > 50
    assert page.locator("svg.chart polyline").count() >= 2


def test_dashboard_pages_have_no_accessibility_violations(new_context):
    require("axe")
    page = new_context(bypass_csp=True).new_page()
    sign_up(page, "", "axe-dashboard@example.com")
    for path in ["/admin/login"]:
        page.goto(path)
        assert axe_violations(page) == [], path
    log_in(page)
    for path in ADMIN_PAGES:
        page.goto(path)
        assert axe_violations(page) == [], path


def test_dashboard_pages_are_valid_html(page):
    require("vnu")
    sign_up(page, "", "vnu-dashboard@example.com")
    log_in(page)
    documents = {}
    for path in ADMIN_PAGES:
        response = page.request.get(path)
        assert response.ok, path
        documents[path] = response.text()
    assert vnu_errors(documents) == {}


def test_every_admin_page_fits_a_phone_with_wide_tables_scrolling_on_their_own(new_context):
    page = new_context(
        viewport={"width": 375, "height": 812}, user_agent=MOBILE_UA, is_mobile=True
    ).new_page()
    sign_up(page, "", "phone-founder@example.com")
    log_in(page)
    for path in ADMIN_PAGES:
        page.goto(path)
        assert page.evaluate("document.documentElement.scrollWidth") <= 375, path
    page.goto("/admin/demo")
    table = page.locator("h2:has-text('Signups by variant') + .table-wrap")
    assert table.evaluate("e => e.scrollWidth > e.clientWidth")  # it scrolls, not the page
    first = table.locator("tbody th").first
    assert first.evaluate("e => getComputedStyle(e).position") == "sticky"
