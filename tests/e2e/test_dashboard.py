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
    table = founder.locator("h2:has-text('Signups by variant') ~ .table-wrap table").first
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
    funnel = page.locator("figure.funnel svg.chart")
    assert funnel.bounding_box()["height"] > 50
    assert page.locator("figure.funnel rect").count() >= 4  # visitors and signed up, per variant
    forest = page.locator("figure.forest").first
    assert forest.locator("circle.estimate").count() >= 1
    assert forest.bounding_box()["width"] > 300  # one wide axis, not a 60 px bar per row


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
    page.goto("/admin/demo/signups")  # a wide table that is no card list scrolls on its own
    table = page.locator("main .table-wrap").first
    assert table.evaluate("e => e.scrollWidth > e.clientWidth")  # it scrolls, not the page


NUMBERS_IN_VIEW = """() => [...document.querySelectorAll('table.cards tbody tr')]
  .filter(row => !row.closest('details:not([open])'))  // folded away: not on screen
  .flatMap(row =>
  [...row.querySelectorAll('th[scope=row], td[data-label]')].map(cell => {
    const box = cell.getBoundingClientRect();
    return {label: cell.dataset.label || 'name', text: cell.innerText.trim(),
            left: box.left, right: box.right, height: box.height};
  }))"""


def test_on_a_phone_every_row_and_variant_shows_its_numbers_in_view(new_context):
    """At 375 px the overview, the variants and the ideas are cards: each row's visitors,
    conversion with its interval and decision are on screen, not behind a sideways scroll."""
    page = new_context(
        viewport={"width": 375, "height": 812}, user_agent=MOBILE_UA, is_mobile=True
    ).new_page()
    sign_up(page, "", "phone-cards@example.com")
    log_in(page)
    wanted = {
        "/admin/": {"name", "Decision", "Visitors", "Conversion"},
        "/admin/demo": {"name", "Visitors", "Conversion", "What it changes"},
        "/admin/compare": {"name", "Visitors", "Signed up"},
    }
    for path, labels in wanted.items():
        page.goto(path)
        cells = page.evaluate(NUMBERS_IN_VIEW)
        assert labels <= {cell["label"] for cell in cells}, path
        for cell in cells:
            assert cell["height"] > 0, (path, cell)
            assert cell["text"] or cell["label"] not in labels, (path, cell)
            assert 0 <= cell["left"] and cell["right"] <= 375, (path, cell)
        conversions = [c["text"] for c in cells if c["label"] == "Conversion"]
        assert all("%" in text for text in conversions), (path, conversions)
    page.goto("/admin/demo")
    card = page.locator("section.decision").bounding_box()
    badge = page.locator("section.decision .badge").first.bounding_box()
    assert badge["x"] + badge["width"] <= card["x"] + card["width"]  # the badge stays in its card


def create_report_link(page: Any, where: str) -> str:
    """The founder presses "Create a report link" on ``where`` and reads the new link."""
    page.goto(where)
    page.locator("#share button[type=submit]").first.click()
    page.wait_for_load_state()
    return page.locator("#share .share-links input").first.input_value()


def test_a_shared_report_is_accessible_valid_and_prints_clean(new_context):
    require("axe", "vnu")
    founder = new_context(bypass_csp=True).new_page()
    sign_up(founder, "", "proof-founder@example.com")
    log_in(founder)
    links = [create_report_link(founder, where) for where in ("/admin/demo", "/admin/compare")]
    documents = {}
    for link in links:
        reader = new_context(bypass_csp=True, viewport={"width": 794, "height": 1123}).new_page()
        reader.goto(link)  # a stranger: no login
        assert "Demand report" in reader.locator("main").inner_text()
        assert axe_violations(reader) == [], link
        documents[link] = reader.request.get(link).text()
        reader.emulate_media(media="print")  # A4 at 96 dpi: nothing spills sideways
        assert reader.evaluate("document.documentElement.scrollWidth") <= 794, link
        pdf = reader.pdf(format="A4")
        pages = pdf.count(b"/Type /Page") - pdf.count(b"/Type /Pages")
        assert pdf.startswith(b"%PDF") and 1 <= pages <= 4, (link, pages)  # a short handout
    assert vnu_errors(documents) == {}
