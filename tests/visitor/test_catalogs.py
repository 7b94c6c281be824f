"""The shipped catalogs are whole: every sentence of the kit translated (each number form),
with its placeholders and its link, one form of address per language, and the compiled file
the app reads says what the catalog says."""

from __future__ import annotations

import re

import pytest
from babel.support import Translations

from kit.catalogs import CATALOGS
from kit.catalogs import po_files
from kit.catalogs import read
from kit.catalogs import template
from kit.language import catalog_languages

SHIPPED = ["de", "es", "fr", "it", "pt-BR"]
PLACEHOLDER = re.compile(r"\{(\w+)\}")
# The other form of address (the catalogs say "du", "vous", "tú", "você", "tu").
OTHER_ADDRESS = {
    "de": r"\b(Sie|Ihnen|Ihre[mnrs]?)\b(?!\s+(?:sind|ist|haben|wird|werden))",
    "fr": r"\b(tu|toi|ton|tes)\b",
    "es": r"\b(usted|ustedes)\b",
    "pt-BR": r"\b(tu|teu|tua|vós)\b",
    "it": r"\b(Lei|Suo|Sua|Suoi)\b",
}


def test_the_shipped_languages_are_the_catalogs_on_disk():
    assert catalog_languages() == sorted(SHIPPED)
    assert [p.parents[1].name for p in po_files()] == sorted(s.replace("-", "_") for s in SHIPPED)


@pytest.mark.parametrize("language", SHIPPED)
def test_every_sentence_is_translated_with_its_placeholders_and_link(language):
    folder = language.replace("-", "_")
    catalog = read(CATALOGS / folder / "LC_MESSAGES" / "messages.po")
    compiled = Translations.load(str(CATALOGS), [folder])
    wanted = [message for message in template() if message.id]
    assert {m.id for m in catalog if m.id} == {m.id for m in wanted}  # nothing extra or stale
    for message in wanted:
        own = catalog.get(message.id)
        assert own is not None and not own.fuzzy, message.id
        ids = message.id if isinstance(message.id, tuple) else (message.id,)
        strings = own.string if isinstance(own.string, tuple) else (own.string,)
        assert len(strings) == (catalog.num_plurals if len(ids) == 2 else 1), message.id
        for n, string in enumerate(strings):
            english = ids[min(n, len(ids) - 1)] if n == 0 else ids[-1]
            assert string.strip(), message.id
            names = set(PLACEHOLDER.findall(string))
            assert names <= set(PLACEHOLDER.findall(ids[-1])), (message.id, string)
            assert names >= set(PLACEHOLDER.findall(english)) - {"count"}, (message.id, string)
            assert string.count("[") == string.count("]") == english.count("["), string
            assert "\n" not in string and not re.search(OTHER_ADDRESS[language], string), string
        if len(ids) == 2:
            for n in (0, 1, 2, 5, 21, 10**6):
                assert compiled.ngettext(*ids, n) == strings[compiled.plural(n)]
        else:
            assert compiled.gettext(ids[0]) == strings[0]


@pytest.mark.parametrize("language", ["fr", "it"])
def test_one_apostrophe_throughout_a_language(language):
    """French and Italian pages wrote both "d’attente" (the starter) and "l'une" (the
    catalog): the catalog, like the starter page, uses the typographic apostrophe."""
    from kit.pages.starter import STARTERS

    folder = language.replace("-", "_")
    catalog = read(CATALOGS / folder / "LC_MESSAGES" / "messages.po")
    sentences = [s for m in catalog if m.id for s in (m.string if isinstance(m.string, tuple)
                                                      else (m.string,))]  # fmt: skip
    sentences += list(STARTERS[language].values())
    straight = [s for s in sentences if re.search(r"\w'[\w{]", s)]
    assert straight == []
    assert any("’" in s for s in sentences)
