"""The visitor's language: a page's ``language`` picks the catalog its visitors and mails read
(kit/translations/, through Flask-Babel), its ``[text]`` table overrides any sentence by key,
and numbers are written the locale's way. The founder's side stays English.

Rule: a request to a visitor page (any view with a ``slug`` outside the founder's blueprints)
reads in its page's language; a mail is rendered ``in_language(page)``; all else is English.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from babel import Locale
from babel import UnknownLocaleError
from babel.numbers import format_decimal
from flask import Flask
from flask import current_app
from flask import g
from flask import has_app_context
from flask import has_request_context
from flask import request
from flask_babel import Babel
from flask_babel import LazyString
from flask_babel import force_locale
from flask_babel import get_locale
from flask_babel import get_translations
from markupsafe import Markup
from markupsafe import escape

from kit.catalogs import CATALOGS
from kit.extensions import registry
from kit.pages.schema import Page
from kit.pages.text_table import LINK_RE
from kit.pages.text_table import PLACEHOLDER_RE
from kit.texts import TEXTS

ENGLISH_SIDE = frozenset({"admin", "api", "proof"})  # the founder's blueprints


def catalog_languages() -> list[str]:
    """The languages with a compiled catalog, as page files write them ("de", "pt-BR")."""
    found = CATALOGS.glob("*/LC_MESSAGES/messages.mo")
    return sorted(path.parents[1].name.replace("_", "-") for path in found)


def catalog_for(tag: str) -> str | None:
    """The catalog visitors of a page in ``tag`` read: "en" (the kit's own English), a shipped
    one ("de", also for "de-AT"), or None: Babel knows no such language, or it has no catalog
    (its visitors read English)."""
    try:
        locale = Locale.parse(tag, sep="-")
    except (ValueError, UnknownLocaleError):
        return None
    if locale.language == "en":
        return "en"
    candidates = (str(locale), locale.language)
    return next((c for c in candidates if (CATALOGS / c / "LC_MESSAGES" / "messages.mo").exists()),
                None)  # fmt: skip


def locale_name(tag: str) -> str:
    """A page's language tag as Babel names its locale: "pt-BR" -> "pt_BR"; "en" when Babel
    knows no such language."""
    try:
        return str(Locale.parse(tag, sep="-"))
    except (ValueError, UnknownLocaleError):
        return "en"


PAGE_PREFIXES = ("embed", "go", "checkout")  # /embed/<page>, /go/<page>/<goal>, ...


def _slug() -> str | None:
    """The page a visitor's request is for: its route's, the home page's, or for an address
    no route takes (a 404, a 405), the page it lies under."""
    if request.endpoint == "landing.home":
        return current_app.config["HOME_PAGE"]
    slug = (request.view_args or {}).get("slug")
    if isinstance(slug, str) or request.url_rule is not None:
        return slug if isinstance(slug, str) else None
    parts = request.path.strip("/").split("/")
    return parts[1] if len(parts) > 1 and parts[0] in PAGE_PREFIXES else parts[0]


def current_page() -> Page | None:
    """The page whose language and ``[text]`` the current request or mail reads."""
    if "text_page" in g:
        return g.text_page
    page = None
    if has_request_context() and request.blueprint not in ENGLISH_SIDE:
        slug = _slug()
        page = registry().get(slug) if slug else None
    g.text_page = page
    return page


def select_locale() -> str:
    page = current_page()
    return locale_name(page.content.language) if page else "en"


@contextmanager
def in_language(page: Page) -> Iterator[None]:
    """Render (a mail, a preview) in ``page``'s language with its ``[text]``."""
    had, before = "text_page" in g, g.get("text_page")
    g.text_page = page
    try:
        with force_locale(locale_name(page.content.language)):
            yield
    finally:
        if had:
            g.text_page = before
        else:
            g.pop("text_page", None)


def _chosen(key: str, count: int | None) -> str:
    """The sentence for ``key``: the page's own, else the catalog's for its language."""
    page = current_page()
    own = page.text.get(key) if page else None
    entry = TEXTS[key]
    if isinstance(entry, str):
        return own if isinstance(own, str) else get_translations().gettext(entry)
    n = count if count is not None else 0
    if isinstance(own, str):
        return own
    if isinstance(own, tuple):
        return own[0] if get_locale().plural_form(n) == "one" else own[1]
    return get_translations().ngettext(entry[0], entry[1], n)


def number(value: float | None) -> str:
    """A whole number the locale's way: 12040 -> "12,040" in English, "12.040" in German,
    "12 040" in French (English outside a request: the CLI, the digest)."""
    if value is None:
        return "–"
    locale = (get_locale() if has_app_context() else None) or "en"
    return format_decimal(round(value), locale=locale)  # Spanish: 1204, but 12.040


def text(key: str, count: int | None = None, link: str | None = None, **values: Any) -> Any:
    """The sentence ``key`` in the page's language with ``{name}``s filled in (numbers the
    locale's way); ``[words]`` become a link to ``link`` (then the result is safe markup, all
    else escaped), else the brackets go."""
    chosen = _chosen(key, count)
    if count is not None:
        values["count"] = count
    shown = {k: number(v) if isinstance(v, int) and not isinstance(v, bool) else v
             for k, v in values.items()}  # fmt: skip

    def fill(sentence: str, safe: bool) -> str:
        """The placeholders of ``sentence`` filled in (escaped first, when ``safe``)."""

        def value(match: re.Match) -> str:
            found = shown.get(match[1])
            return match[0] if found is None else str(escape(found) if safe else found)

        return PLACEHOLDER_RE.sub(value, str(escape(sentence)) if safe else sentence)

    if link is None:
        return fill(LINK_RE.sub(lambda match: match[0][1:-1], chosen), safe=False)
    anchor, parts, last = Markup('<a href="{}">{}</a>'), [], 0
    for match in LINK_RE.finditer(chosen):  # the link's words filled apart: no value links
        parts.append(fill(chosen[last : match.start()], safe=True))
        parts.append(anchor.format(link, Markup(fill(match[0][1:-1], safe=True))))
        last = match.end()
    parts.append(fill(chosen[last:], safe=True))
    return Markup("".join(parts))


def lazy(key: str, **values: Any) -> LazyString:
    """``text`` when shown, for messages fixed before a request (a form's validators)."""
    return LazyString(text, key, **values)


def translated(default: str) -> str:
    """A page file's default sentence (``Join the waitlist``) in the page's language; text the
    founder wrote stays as written."""
    return get_translations().gettext(default) if default else default


def init_app(app: Flask) -> None:
    Babel(app, locale_selector=select_locale, default_translation_directories=str(CATALOGS))
    app.jinja_env.globals.update(t=text)
    app.jinja_env.filters.update(number=number, translated=translated)
