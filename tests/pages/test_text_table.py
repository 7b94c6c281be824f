"""A page file's [text] table is checked like every key: the founder learns which key they
meant, which placeholders a sentence has, and that a sentence is one line."""

from __future__ import annotations

import tomllib

import pytest

from kit.pages.validation import parse_page
from kit.texts import TEXTS

BASE = 'title = "T"\nheadline = "H"\nlanguage = "de"\n'


def errors_of(table: str) -> list[str]:
    page, errors = parse_page("t", tomllib.loads(BASE + table))
    return [f"{e.path}: {e.message}" for e in errors]


def test_every_key_may_be_set_in_either_toml_spelling():
    page, errors = parse_page(
        "t",
        tomllib.loads(
            BASE
            + """
[text]
"thanks.heading" = "Dabei: {name}"
share.rule = ["Ein Freund: {count} Platz", "Ein Freund: {count} Plätze"]
[text.mail]
confirm_subject = "Bitte bestätigen: {name}"
"""
        ),
    )
    assert errors == []
    assert page.text == {
        "thanks.heading": "Dabei: {name}",
        "share.rule": ("Ein Freund: {count} Platz", "Ein Freund: {count} Plätze"),
        "mail.confirm_subject": "Bitte bestätigen: {name}",
    }


@pytest.mark.parametrize(
    ("table", "message"),
    [
        ('"thanks.headin" = "x"', "headin: unknown key (did you mean 'thanks.heading'?"),
        ('"thanks.heading" = "Hallo {nam}"', "placeholder {nam} (this sentence has: {name})"),
        ('"page.skip" = "Zum {name}"', "unknown placeholder {name} (this sentence has: none)"),
        ('"page.skip" = "[Zum] Inhalt"', "mark the one link of a sentence, and this one has none"),
        ('"thanks.bookmark" = "[a] und [b]"', "and this one has only one"),
        ('"mail.confirm_subject" = "Hi\\nBcc: x@example.com"', "one line without control"),
        ('"page.skip" = ""', "expected a sentence, got an empty one"),
        ('"page.skip" = 3', "expected text, got int"),
        ('"share.rule" = ["nur eins"]', 'or ["one …", "other …"] for the two number forms'),
        ('"page.skip" = ["a", "b"]', "expected text, got list"),
        ('"page.skip" = "' + "x" * 501 + '"', "expected at most 500 characters, got 501"),
    ],
)  # fmt: skip
def test_a_wrong_sentence_is_named_with_its_key_and_why(table, message):
    found = errors_of("[text]\n" + table + "\n")
    assert len(found) == 1 and message in found[0], found


def test_a_text_that_is_not_a_table_is_refused():
    assert errors_of('text = "Hallo"\n') == [
        "text: expected a table of sentences by key, like [text]"
    ]


def test_a_variant_cannot_change_the_page_language():
    found = errors_of(
        '[experiment]\nkey = "k"\n[[experiment.variants]]\nname = "a"\n'
        '[[experiment.variants]]\nname = "b"\nlanguage = "fr"\n'
    )
    assert found == [
        "experiment.variants[1].language: a page has one language: set it at the top only"
    ]


def test_every_key_is_a_known_sentence_with_the_placeholders_its_english_has():
    for key, entry in TEXTS.items():
        english = entry if isinstance(entry, str) else entry[1]
        page, errors = parse_page("t", {"title": "T", "headline": "H", "text": {key: english}})
        assert errors == [], key
