"""A page's share card: the 1200 × 630 picture link previews show (Slack, X, LinkedIn,
WhatsApp), drawn from the page's product name, headline and theme colours.

Referral links spread through previews, and a page without a picture unfurls as a grey box.
``flask --app app kit card SLUG`` (and ``kit new``) writes ``static/SLUG-card.png``; the page's
``og:image`` uses it unless its file names one (``meta.image``). Drawn with Pillow in Inter
Bold (SIL Open Font License, static/fonts/OFL.txt); no network, no third party.
"""

from __future__ import annotations

import io
from pathlib import Path

from PIL import Image
from PIL import ImageDraw
from PIL import ImageFont

from kit.pages.schema import Content

WIDTH, HEIGHT = 1200, 630
MARGIN = 80
FONT = Path(__file__).resolve().parents[2] / "static" / "fonts" / "Inter-Bold.otf"
HEADLINE_SIZES = (84, 76, 68, 60, 54, 48, 42)  # the largest that fits in three lines wins
MAX_LINES = 3
Font = ImageFont.FreeTypeFont


def card_name(slug: str) -> str:
    """The card's file name in static/."""
    return f"{slug}-card.png"


class CardError(ValueError):
    """A card that can't be drawn as the page reads; the message says what to do instead."""


def missing_letters(content: Content) -> str:
    """The characters of the card's texts that Inter has no letter for (Chinese, Arabic,
    emoji...), each once: drawn, they would be empty boxes."""
    font = ImageFont.truetype(str(FONT), 40)
    blank = _shape(font, "\uffff")  # a character no font has: the "missing letter" box
    texts = (content.name, content.headline, content.cta)
    seen = dict.fromkeys(ch for text in texts for ch in text if not ch.isspace())
    return "".join(ch for ch in seen if _shape(font, ch) == blank)


def _shape(font: Font, char: str) -> tuple:
    mask = font.getmask(char)
    return mask.size, bytes(mask)


def share_card(content: Content) -> bytes:
    """The PNG of the page's share card; CardError when the font lacks some of its letters."""
    missing = missing_letters(content)
    if missing:
        raise CardError(
            f"the card's font (Inter) has no letters for {missing[:20]!r}: they would be drawn as "
            "empty boxes; name your own 1200 × 630 picture in the page file instead "
            '(meta.image = "my-card.png", a file in static/)'
        )
    accent, ink = rgb(content.theme.accent), rgb(content.theme.accent_text)
    image = Image.new("RGB", (WIDTH, HEIGHT), accent)
    draw = ImageDraw.Draw(image)
    # Two soft discs of the text colour, far right: a shape, not a photo, in the page's colours.
    for box, alpha in (((760, -220, 1460, 480), 0.10), ((880, 300, 1380, 800), 0.07)):
        draw.ellipse(box, fill=mix(accent, ink, alpha))
    name_font, name = _one_line(draw, content.name, (40, 34, 28), WIDTH - 2 * MARGIN)
    draw.text((MARGIN, MARGIN), name, font=name_font, fill=mix(accent, ink, 0.85))
    size, lines = _fit(draw, content.headline, WIDTH - 2 * MARGIN - 120)
    headline = ImageFont.truetype(str(FONT), size)
    y = HEIGHT - MARGIN - 96 - len(lines) * round(size * 1.15)
    for line in lines:
        draw.text((MARGIN, y), line, font=headline, fill=ink)
        y += round(size * 1.15)
    label, cta = _one_line(draw, content.cta or "Join the waitlist", (30, 26, 22),
                           WIDTH - 2 * MARGIN - 56)  # fmt: skip
    left, top, right, bottom = draw.textbbox((0, 0), cta, font=label)
    pill = (MARGIN, HEIGHT - MARGIN - 60, MARGIN + right - left + 56, HEIGHT - MARGIN)
    draw.rounded_rectangle(pill, radius=30, fill=ink)
    draw.text((MARGIN + 28, HEIGHT - MARGIN - 30), cta, font=label, fill=accent, anchor="lm")
    out = io.BytesIO()
    image.save(out, "PNG", optimize=True)
    return out.getvalue()


def _one_line(
    draw: ImageDraw.ImageDraw, text: str, sizes: tuple[int, ...], room: int
) -> tuple[Font, str]:
    """A text on one line of ``room`` pixels: the largest of ``sizes`` that fits, else the
    smallest, cut with "…" (a long product name or button text never leaves the card)."""
    for size in sizes:
        font = ImageFont.truetype(str(FONT), size)
        if draw.textlength(text, font=font) <= room:
            return font, text
    while draw.textlength(text, font=font) > room and len(text) > 1:
        text = text[:-2].rstrip() + "…"
    return font, text


def _fit(draw: ImageDraw.ImageDraw, text: str, width: int) -> tuple[int, list[str]]:
    """The largest size whose wrapping fits ``width`` in ``MAX_LINES`` lines, and the lines
    (the last one cut with "…" at the smallest size if still too long)."""
    for size in HEADLINE_SIZES:
        font = ImageFont.truetype(str(FONT), size)
        lines = _wrap(draw, text, font, width)
        if len(lines) <= MAX_LINES:
            return size, lines
    lines = _wrap(draw, text, font, width)[:MAX_LINES]
    while draw.textlength(lines[-1] + "…", font=font) > width and len(lines[-1]) > 1:
        lines[-1] = lines[-1].rsplit(" ", 1)[0] if " " in lines[-1] else lines[-1][:-1]
    lines[-1] += "…"
    return HEADLINE_SIZES[-1], lines


def _wrap(draw: ImageDraw.ImageDraw, text: str, font: Font, width: int) -> list[str]:
    """Words into lines of ``width``; a word wider than a line (a URL, a German compound) is
    broken where it must."""
    lines: list[str] = []
    for word in text.split():
        if lines and draw.textlength(f"{lines[-1]} {word}", font=font) <= width:
            lines[-1] = f"{lines[-1]} {word}"
            continue
        while draw.textlength(word, font=font) > width and len(word) > 1:
            low, high = 1, len(word) - 1  # the longest start of the word that fits
            while low < high:
                middle = (low + high + 1) // 2
                low, high = (
                    (middle, high)
                    if draw.textlength(word[:middle], font=font) <= width
                    else (low, middle - 1)
                )
            lines.append(word[:low])
            word = word[low:]
        lines.append(word)
    return lines or [""]


def rgb(colour: str) -> tuple[int, int, int]:
    """ "#4f46e5" or "#fff" (validated page colours) as RGB."""
    digits = colour.lstrip("#")
    if len(digits) == 3:
        digits = "".join(c * 2 for c in digits)
    return int(digits[0:2], 16), int(digits[2:4], 16), int(digits[4:6], 16)


def mix(base: tuple[int, int, int], top: tuple[int, int, int], share: float) -> tuple:
    return tuple(round(b + (t - b) * share) for b, t in zip(base, top, strict=True))


def write_card(content: Content, static_dir: Path, slug: str) -> Path:
    """Write the card into ``static_dir`` and return its path."""
    path = static_dir / card_name(slug)
    path.write_bytes(share_card(content))
    return path
