"""The share card: a 1200 × 630 PNG for any page a file can describe."""

from __future__ import annotations

import dataclasses
import io

import pytest
from PIL import Image

from kit.pages.share_card import share_card
from kit.pages.validation import parse_page


def content(**keys: str):
    page, errors = parse_page("p", {"title": "Notes — for you", "headline": "H", **keys})
    assert errors == []
    return page.content


@pytest.mark.parametrize(
    "keys",
    [
        {},
        {"headline": "word " * 80},  # wraps, shrinks, then is cut with "…"
        {"cta": "Get early access to the planning tool built for people who plan a lot " * 3},
        {
            "headline": "Ünïcödé — ёжик, λόγος",
            "theme": {"accent": "#fde047", "accent_text": "#000"},
        },
    ],
)
def test_any_page_gets_a_card_the_size_link_previews_want(keys):
    png = share_card(content(**keys))
    image = Image.open(io.BytesIO(png))
    assert (image.format, image.size) == ("PNG", (1200, 630))


def test_the_card_is_drawn_in_the_pages_accent_colour():
    accent = dataclasses.replace(content().theme, accent="#0f766e")
    image = Image.open(io.BytesIO(share_card(dataclasses.replace(content(), theme=accent))))
    assert image.convert("RGB").getpixel((10, 10)) == (0x0F, 0x76, 0x6E)
