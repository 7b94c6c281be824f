"""The share card: a 1200 × 630 PNG for any page a file can describe."""

from __future__ import annotations

import dataclasses
import io

import pytest
from PIL import Image

from kit.pages.share_card import HEIGHT
from kit.pages.share_card import MARGIN
from kit.pages.share_card import WIDTH
from kit.pages.share_card import CardError
from kit.pages.share_card import mix
from kit.pages.share_card import rgb
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


def text_right_edge(png: bytes, colour: tuple[int, int, int]) -> int:
    """The rightmost column holding a pixel of exactly ``colour`` (the text's own colour)."""
    image = Image.open(io.BytesIO(png)).convert("RGB")
    columns = [x for x in range(WIDTH) for y in range(0, HEIGHT, 2)
               if image.getpixel((x, y)) == colour]  # fmt: skip
    return max(columns)


def test_a_long_name_or_a_word_longer_than_a_line_stays_on_the_card():
    """A product name of 80 letters, or a headline word with no space (a URL, a German
    compound), once ran off the right edge of the picture."""
    theme = {"accent": "#4f46e5", "accent_text": "#ffffff"}
    long_name = content(title="Donaudampfschifffahrtsgesellschaftskapitän " * 2, theme=theme)
    png = share_card(long_name)
    name_colour = mix(rgb("#4f46e5"), rgb("#ffffff"), 0.85)
    assert text_right_edge(png, name_colour) <= WIDTH - MARGIN
    one_word = content(headline="Rindfleischetikettierungsüberwachungsaufgabenübertragungsgesetz",
                       theme=theme)  # fmt: skip
    assert text_right_edge(share_card(one_word), (255, 255, 255)) <= WIDTH - MARGIN


def test_a_headline_the_font_cannot_draw_is_refused_with_what_to_do():
    with pytest.raises(CardError, match=r"no letters for '漢字'.*meta.image"):
        share_card(content(headline="漢字 notes"))
    share_card(content(headline="Ünïcödé — ёжик, λόγος"))  # Latin, Cyrillic, Greek: drawn
