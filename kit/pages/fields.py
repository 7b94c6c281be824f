"""The checks of single values a page file may hold: names, colours, links, one-line texts."""

from __future__ import annotations

import re
import typing
from typing import Any

from kit import money
from kit.config import WEBHOOK_URL_MAX

SLUG_RE = re.compile(r"[a-z0-9][a-z0-9-]{0,62}")
NAME_RE = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,62}")
COLOUR_RE = re.compile(r"#(?:[0-9a-fA-F]{3}|[0-9a-fA-F]{6})")
LANGUAGE_RE = re.compile(r"[a-zA-Z]{2,3}(?:-[A-Za-z0-9]{2,8})*")


def _doc(text: str, check: typing.Callable[[Any], str | None] | None = None) -> Any:
    return {"doc": text, "check": check}


# Characters no page text may hold: C0 controls other than tab, newline and carriage return,
# DEL and the C1 controls (NUL can't be stored by PostgreSQL; none can be shown).
CONTROL_RE = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x84\x86-\x9f]")
# What ends a line in a mail header (Python's e-mail package splits headers at each of these).
LINE_BREAK_RE = re.compile(r"[\r\n\x1c-\x1e\x85\u2028\u2029]")
TIER_NAME_MAX = 64  # pre_order.tier


def _one_line(value: str) -> str | None:
    """For keys that reach a mail header (the subject): a line break would break every mail."""
    return "one line of text (it goes into mail subjects)" if LINE_BREAK_RE.search(value) else None


def _unit(value: str) -> str | None:
    """What follows a number box: a few words on one line."""
    if LINE_BREAK_RE.search(value) or len(value) > 40:
        return 'a unit of at most 40 characters on one line, like "$ per month"'
    return None


def _tier_name(value: str) -> str | None:
    if 0 < len(value.strip()) <= TIER_NAME_MAX:
        return None
    return f"a name of 1 to {TIER_NAME_MAX} characters (it is stored with each pre-order)"


def _colour(value: str) -> str | None:
    return None if COLOUR_RE.fullmatch(value) else 'a colour like "#4f46e5"'


def _language(value: str) -> str | None:
    return None if LANGUAGE_RE.fullmatch(value) else 'a language tag like "en" or "pt-BR"'


def _name(value: str) -> str | None:
    return None if NAME_RE.fullmatch(value) else "a URL-safe name (letters, digits, - _ .)"


def _in_one_piece(value: str) -> bool:
    """No space, line break or invisible character: a URL that goes into a Location header or
    an attribute as it is."""
    return all(char.isprintable() and not char.isspace() for char in value)


def _link(value: str) -> str | None:
    if not _in_one_piece(value):
        return "a link without spaces, line breaks or invisible characters"
    if value.startswith(("https://", "http://", "mailto:")) or (
        value.startswith("/") and not value.startswith("//")
    ):
        return None
    return 'a link starting with "https://", "http://", "mailto:" or "/"'


def _image(value: str) -> str | None:
    if not _in_one_piece(value):
        return "a file name or URL without spaces, line breaks or invisible characters"
    if value == "" or value.startswith(("https://", "http://")):
        return None
    if value.startswith("/") or ".." in value.split("/") or "\\" in value:
        return 'a file name inside static/ (like "hero.svg") or an https:// URL'
    return None


ORIGIN_RE = re.compile(r"https?://[a-z0-9.-]+(?::[0-9]{1,5})?")


def _origin(value: str) -> str | None:
    if ORIGIN_RE.fullmatch(value):
        return None
    return 'a site origin like "https://mysite.carrd.co" (scheme and host, no path, no *)'


def _absolute_url(value: str) -> str | None:
    if not _in_one_piece(value):
        return "a URL without spaces, line breaks or invisible characters"
    if value == "" or value.startswith(("https://", "http://")):
        return None
    return 'an absolute URL starting with "https://"'


def _webhook_url(value: str) -> str | None:
    if len(value) > WEBHOOK_URL_MAX:
        return f"a URL of at most {WEBHOOK_URL_MAX} characters"
    return _absolute_url(value)


def _charge(value: str) -> str | None:
    if value == "" or money.price(value) is not None:
        return None
    return 'an amount and its currency, like "49 USD", "€9" or "19.50 CHF"'


def _checkout(value: str) -> str | None:
    if not _in_one_piece(value):
        return "a URL without spaces, line breaks or invisible characters"
    if value == "" or value.startswith("https://"):
        return None
    return 'a Stripe Payment Link starting with "https://" (like "https://buy.stripe.com/…")'
