"""Which requests count as a person's visit (bots, link previews, prefetches do not) and what
a visit is tagged with: device, referring site, UTM tags. Nothing here imports Flask; the
assignment of variants is kit/tracking/assignment.py.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from urllib.parse import urlsplit

from kit import fastpath

UTM_FIELDS = ("utm_source", "utm_medium", "utm_campaign", "utm_content", "utm_term")
MAX_TAG_LENGTH = 100
# Where a visit came from: its referrer's host and its tags (what the sources page counts).
ARRIVAL = ("referrer_host", *UTM_FIELDS)
# C0 controls (NUL included: PostgreSQL refuses it in text) except tab and newline, and DEL.
_CONTROL_CHARS = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")


def clean_text(value: str) -> str:
    """Drop control characters and trim: visitor text is stored as it can be shown."""
    return _CONTROL_CHARS.sub("", value).strip()


# Crawlers, link-preview fetchers and HTTP libraries: they see the control and are not counted.
# The one list of agents (tests/tracking/test_tracking.py tries each one).
BOT_RE = re.compile(
    r"bot|crawl|spider|slurp|preview|facebookexternalhit|embedly|vkshare"
    r"|skypeuripreview|bitlybot|pinterest|quora link|outbrain|nuzzel|redditbot|mastodon"
    r"|bluesky|cardyb|google-pagerenderer|iframely"
    r"|zoom|headless|lighthouse|pagespeed|curl|wget|httpie|python-requests|python-urllib"
    r"|httpx|aiohttp|go-http-client|okhttp|java/|libwww|scrapy|node-fetch|axios|postman"
    r"|insomnia",
    re.IGNORECASE,
)
# Apps whose link previews fetch the page (a bot) and whose in-app browsers bring people: the
# preview says only the app's name ("WhatsApp/2.23", "Microsoft Office/16.0 (... Outlook)"),
# the in-app browser is a full browser engine with the app's name added. (Telegram's preview
# is "TelegramBot", a bot by name; its Android in-app browser adds "Telegram-Android".)
APP_RE = re.compile(r"whatsapp|viber|outlook|microsoft office|ms-office|telegram", re.I)
BROWSER_ENGINE_RE = re.compile(r"^Mozilla/5\.0 \([^)]*\) AppleWebKit/\S+ \(KHTML", re.I)
# Headers of a page fetched ahead of a click the person may never make (Chrome's speculation
# rules and Sec-Purpose, older browsers' Purpose and X-Moz, Safari's Top Sites X-Purpose).
AHEAD_HEADERS = ("Sec-Purpose", "Purpose", "X-Purpose", "X-Moz")
MOBILE_RE = re.compile(r"mobi|iphone|ipod|android.+mobile|windows phone|blackberry", re.I)
TABLET_RE = re.compile(r"ipad|tablet|android(?!.*mobile)|kindle|silk", re.I)


def is_ahead_of_a_click(headers: Mapping[str, str]) -> bool:
    """A prefetch, prerender or preview fetch: served, not counted as a visit."""
    for name in AHEAD_HEADERS:
        value = (headers.get(name) or "").lower()
        if "prefetch" in value or "prerender" in value or "preview" in value:
            return True
    return False


def is_bot(user_agent: str | None, method: str = "GET") -> bool:
    """Tell crawlers, link previews, scripts and HEAD probes from people."""
    if method == "HEAD" or not user_agent:
        return True
    if len(user_agent) > 512:
        return _bot_agent.__wrapped__(user_agent)
    return _bot_agent(user_agent)


# Every page view asks; a few hundred distinct agents make up nearly all traffic.
@fastpath.kept(maxsize=2048)
def _bot_agent(user_agent: str) -> bool:
    if BOT_RE.search(user_agent) is not None:
        return True
    return APP_RE.search(user_agent) is not None and not BROWSER_ENGINE_RE.match(user_agent)


def device_class(user_agent: str | None) -> str:
    """Classify the device coarsely (mobile, tablet or desktop) from its user agent."""
    if not user_agent:
        return "desktop"
    if len(user_agent) > 512:
        return _device.__wrapped__(user_agent)
    return _device(user_agent)


# Every new visitor's page view asks, like ``is_bot``.
@fastpath.kept(maxsize=2048)
def _device(user_agent: str) -> str:
    if TABLET_RE.search(user_agent):
        return "tablet"
    if MOBILE_RE.search(user_agent):
        return "mobile"
    return "desktop"


def referrer_host(referrer: str | None, own_host: str | None = None) -> str | None:
    """Keep only the host of an external referrer; internal navigation is not a source."""
    if not referrer:
        return None
    host = _hostname(referrer)
    # www.example.com and example.com are the same site (either may be the canonical one).
    if not host or host == _hostname(f"//{own_host or ''}"):
        return None
    return host[:255]


def _hostname(url: str) -> str:
    """The lower-cased host of a URL without ``www.`` and port; "" when there is none."""
    try:
        host = urlsplit(url).hostname or ""
    except ValueError:
        return ""
    return clean_text(host.lower()).removeprefix("www.")


def utm_tags(args: Mapping[str, str]) -> dict[str, str | None]:
    """Read the five UTM parameters, trimmed and cut to a safe length."""
    if not args:
        return dict.fromkeys(UTM_FIELDS)
    tags: dict[str, str | None] = {}
    for name in UTM_FIELDS:
        tags[name] = clean_text(args.get(name) or "")[:MAX_TAG_LENGTH] or None
    return tags
