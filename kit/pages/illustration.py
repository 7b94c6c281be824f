"""The hero picture `kit new` draws for a page that has none yet: an app window with a list
and a tick, in the page's accent colour, as SVG (a few hundred bytes in static/, no third
party). It only has to look finished until the founder has a screenshot of their own."""

from __future__ import annotations

from pathlib import Path

from kit.pages.schema import Content
from kit.pages.share_card import mix
from kit.pages.share_card import rgb


def illustration_name(slug: str) -> str:
    """The picture's file name in static/."""
    return f"{slug}-hero.svg"


def hero_svg(content: Content) -> str:
    """A 560 × 420 SVG in the theme's accent colour and its tints."""
    accent, ink = content.theme.accent, content.theme.accent_text
    soft, softer = _tint(accent, 0.75), _tint(accent, 0.9)
    rows = "".join(
        f'<circle cx="146" cy="{y + 20}" r="16" fill="{soft}"/>'
        f'<rect x="176" y="{y + 8}" width="{width}" height="10" rx="5" fill="{soft}"/>'
        f'<rect x="176" y="{y + 26}" width="{width - 60}" height="8" rx="4" fill="{softer}"/>'
        for y, width in ((132, 190), (196, 150), (260, 210))
    )
    return (
        '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 560 420" width="560" '
        'height="420">'
        f'<rect width="560" height="420" rx="24" fill="{softer}"/>'
        f'<circle cx="470" cy="70" r="120" fill="{soft}" opacity=".5"/>'
        '<rect x="100" y="60" width="360" height="300" rx="18" fill="#ffffff"/>'
        f'<path d="M100 78a18 18 0 0 1 18-18h324a18 18 0 0 1 18 18v34H100z" fill="{accent}"/>'
        f'<circle cx="126" cy="86" r="6" fill="{ink}" opacity=".7"/>'
        f'<circle cx="146" cy="86" r="6" fill="{ink}" opacity=".5"/>'
        f"{rows}"
        f'<circle cx="430" cy="330" r="42" fill="{accent}"/>'
        f'<path d="M411 331l13 13 25-27" fill="none" stroke="{ink}" stroke-width="8" '
        'stroke-linecap="round" stroke-linejoin="round"/>'
        "</svg>\n"
    )


def _tint(colour: str, share: float) -> str:
    """``colour`` mixed with white: ``share`` 0 is the colour, 1 is white."""
    return "#" + "".join(f"{c:02x}" for c in mix(rgb(colour), (255, 255, 255), share))


def write_illustration(content: Content, static_dir: Path, slug: str) -> Path:
    path = static_dir / illustration_name(slug)
    path.write_text(hero_svg(content), encoding="utf-8")
    return path
