"""A link to the demo page pasted into Slack, X or LinkedIn unfurls into a complete preview."""

from __future__ import annotations

import urllib.request
from html.parser import HTMLParser
from urllib.parse import urlsplit

import pytest

PREVIEW_BOTS = [
    "Slackbot-LinkExpanding 1.0 (+https://api.slack.com/robots)",
    "Twitterbot/1.0",
    "facebookexternalhit/1.1 (+http://www.facebook.com/externalhit_uatext.php)",
    "LinkedInBot/1.0 (compatible; Mozilla/5.0; Apache-HttpClient +http://www.linkedin.com)",
]


class MetaTags(HTMLParser):
    """Collects <meta property|name=... content=...> pairs, as a preview fetcher reads them."""

    def __init__(self) -> None:
        super().__init__()
        self.tags: dict[str, str] = {}

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = dict(attrs)
        key = values.get("property") or values.get("name")
        if tag == "meta" and key and values.get("content") is not None:
            self.tags.setdefault(key, values["content"])


def fetch(url: str, user_agent: str) -> tuple[int, dict[str, str], bytes]:
    request = urllib.request.Request(url, headers={"User-Agent": user_agent})
    with urllib.request.urlopen(request, timeout=10) as response:
        return response.status, dict(response.headers), response.read()


@pytest.mark.parametrize("user_agent", PREVIEW_BOTS)
def test_demo_page_gives_link_previews_a_title_description_and_image(server, user_agent):
    status, headers, body = fetch(server + "/demo", user_agent)
    assert status == 200
    assert "Set-Cookie" not in headers  # preview fetchers are not visitors
    parser = MetaTags()
    parser.feed(body.decode())
    tags = parser.tags

    assert tags["og:title"].startswith("Tidyday")
    assert tags["twitter:title"] == tags["og:title"]
    assert len(tags["og:description"]) > 50
    assert tags["twitter:description"] == tags["og:description"] == tags["description"]
    assert tags["twitter:card"] == "summary_large_image"
    assert tags["og:url"] == server + "/demo"

    image = tags["og:image"]
    assert urlsplit(image).scheme == "http" and urlsplit(image).netloc  # absolute
    assert tags["twitter:image"] == image
    status, headers, png = fetch(image, user_agent)
    assert status == 200
    assert headers["Content-Type"] == "image/png"
    assert png[:8] == b"\x89PNG\r\n\x1a\n"
    width, height = int.from_bytes(png[16:20], "big"), int.from_bytes(png[20:24], "big")
    assert (width, height) == (1200, 630)


def test_favicon_ico_is_served_at_the_site_root(server):
    status, headers, body = fetch(server + "/favicon.ico", PREVIEW_BOTS[0])
    assert status == 200
    assert headers["Content-Type"] in {"image/vnd.microsoft.icon", "image/x-icon"}
    assert body[:4] == b"\x00\x00\x01\x00"
