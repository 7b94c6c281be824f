"""The translation catalogs (kit/translations/<language>/LC_MESSAGES/messages.po and .mo):
their template is built from kit/texts.py and the page file's default sentences, never by hand;
``flask kit translations`` brings every catalog up to it and compiles them."""

from __future__ import annotations

from pathlib import Path

from babel import Locale
from babel import UnknownLocaleError
from babel.messages.catalog import Catalog
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.messages.pofile import write_po

import kit.pages.schema  # noqa: F401 - registers the page file's default sentences
from kit.texts import PAGE_DEFAULTS
from kit.texts import TEXTS

CATALOGS = Path(__file__).parent / "translations"


def template() -> Catalog:
    """Every sentence to translate, each with the keys it stands for as a comment."""
    catalog = Catalog(project="kit", charset="utf-8", fuzzy=False)
    for key, entry in TEXTS.items():
        known = catalog.get(entry if isinstance(entry, str) else entry[0])
        comments = [*(known.auto_comments if known else []), f"[text] key: {key}"]
        catalog.add(entry, auto_comments=comments)
    for default in PAGE_DEFAULTS:
        catalog.add(default, auto_comments=["a page file's default (translated unless set)"])
    return catalog


def po_files() -> list[Path]:
    return sorted(CATALOGS.glob("*/LC_MESSAGES/messages.po"))


def read(path: Path) -> Catalog:
    with path.open("rb") as file:
        return read_po(file, locale=path.parents[1].name)


def start(language: str) -> Path:
    """An empty catalog for a new ``language`` ("nl", "pt_PT"), to translate and compile.
    ValueError: Babel knows no such language, or it has a catalog already."""
    try:
        language = str(Locale.parse(language.replace("-", "_")))  # "NL" -> "nl", "pt-pt"
    except (ValueError, UnknownLocaleError):
        raise ValueError(f"{language!r} is no language Babel knows, like nl or pt_PT") from None
    path = CATALOGS / language / "LC_MESSAGES" / "messages.po"
    if path.exists():
        raise ValueError(f"{path} exists already")
    path.parent.mkdir(parents=True)
    with path.open("wb") as file:
        write_po(file, Catalog(locale=language, project="kit", fuzzy=False), width=100)
    return path


def update_and_compile() -> list[tuple[str, int]]:
    """Bring each catalog up to the template and compile it; (language, untranslated) each."""
    source = template()
    report = []
    for path in po_files():
        catalog = read(path)
        created = catalog.creation_date  # kept: a run that changes nothing changes no byte
        catalog.update(source, no_fuzzy_matching=True)
        catalog.creation_date = created
        with path.open("wb") as file:
            write_po(file, catalog, width=100, omit_header=False, ignore_obsolete=True)
        with path.with_suffix(".mo").open("wb") as file:
            write_mo(file, catalog)
        report.append((path.parents[1].name, _untranslated(catalog)))
    return report


def untranslated(language: str) -> int:
    """How many of the kit's sentences the catalog of ``language`` ("de") lacks."""
    catalog = read(CATALOGS / language / "LC_MESSAGES" / "messages.po")
    wanted = {message.id for message in template() if message.id}
    have = {message.id for message in catalog if message.id in wanted}
    return len(wanted - have) + _untranslated(catalog)


def _untranslated(catalog: Catalog) -> int:
    def strings(message) -> list[str]:
        return list(message.string) if isinstance(message.string, tuple) else [message.string]

    return sum(1 for m in catalog if m.id and (not all(strings(m)) or m.fuzzy))
