"""Static files: fingerprinted and cached; the landing page stays light and self-contained."""

from __future__ import annotations

import re
from pathlib import Path

from tests.conftest import browser

ROOT = Path(__file__).parents[2]


def asset_links(html: str) -> list[str]:
    return re.findall(r'<link rel="(?:stylesheet|icon)" href="([^"]+)"', html)


def test_assets_have_fingerprinted_names_and_long_cache(client):
    html = client.get("/plain").get_data(as_text=True)
    stylesheet = next(url for url in asset_links(html) if url.endswith(".css"))
    assert re.fullmatch(r"/static/style\.[0-9a-f]{10}\.css", stylesheet)
    with client.get(stylesheet) as response:
        assert response.status_code == 200
        assert "max-age=31536000" in response.headers["Cache-Control"]
        assert "immutable" in response.headers["Cache-Control"]


def test_stale_fingerprint_is_not_served_as_current(client):
    assert client.get("/static/style.0000000000.css").status_code == 404


def test_static_path_traversal_is_refused(client):
    assert client.get("/static/../kit/config.py").status_code == 404
    assert client.get("/static/%2e%2e/kit/config.py").status_code == 404


def test_first_load_html_and_css_under_20_kb(app):
    client = browser(app)
    app.extensions["pages"].pages_dir = ROOT / "pages"  # the real demo page
    html = client.get("/demo").get_data()
    css = b""
    for url in asset_links(html.decode()):
        if url.endswith(".css"):
            with client.get(url) as response:
                css += response.data
    assert len(html) + len(css) < 20 * 1024, (len(html), len(css))


def test_no_third_party_resources(client):
    html = client.get("/ab").get_data(as_text=True)
    loaded = re.findall(r'<(?:script|img|iframe)[^>]+src="([^"]+)"', html) + asset_links(html)
    assert loaded
    assert [url for url in loaded if not url.startswith("/static/")] == []
    assert "<script" not in html
