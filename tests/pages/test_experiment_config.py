"""Experiment settings in a page file: every mistake is caught with the key to fix."""

from __future__ import annotations

import tomllib

import pytest

from kit.pages.validation import parse_page


def page_with(experiment: str) -> tuple:
    """Parse a minimal page whose ``[experiment]`` table is given as TOML."""
    source = f'title = "T"\nheadline = "Base"\n{experiment}'
    return parse_page("p", tomllib.loads(source))


def errors_of(experiment: str) -> list[str]:
    page, errors = page_with(experiment)
    assert page is None
    return [str(e) for e in errors]


TWO = """
[experiment]
key = "headline-1"
{extra}

[[experiment.variants]]
name = "a"
{a}

[[experiment.variants]]
name = "b"
{b}
"""


def two(a: str = "", b: str = "", extra: str = "") -> str:
    return TWO.format(a=a, b=b, extra=extra)


def test_a_valid_experiment_is_running_with_control_first():
    page, errors = page_with(two(a="weight = 3", b='weight = 1.5\nheadline = "B"'))
    assert errors == []
    experiment = page.experiment
    assert experiment.running and experiment.key == "headline-1"
    assert [(v.name, v.weight, v.control) for v in experiment.variants] == [
        ("a", 3.0, True),
        ("b", 1.5, False),
    ]
    assert [v.content.headline for v in experiment.variants] == ["Base", "B"]


@pytest.mark.parametrize("weight", ["0", "-1", "0.0", "nan", "inf", "-inf"])
def test_weights_must_be_positive_finite_numbers(weight):
    found = errors_of(two(b=f"weight = {weight}"))
    assert any(e.startswith("p.toml: experiment.variants[1].weight: expected") for e in found), (
        found
    )


@pytest.mark.parametrize("weight", ['"1"', "true", "[1]"])
def test_weight_must_be_a_number(weight):
    found = errors_of(two(a=f"weight = {weight}"))
    assert any(
        e.startswith("p.toml: experiment.variants[0].weight: expected a number") for e in found
    )


@pytest.mark.parametrize("name", ["a b", "a/b", "", "ä", "../x", "b?x=1", "-b", "b#"])
def test_variant_names_must_be_url_safe(name):
    source = two().replace('name = "b"', f"name = {name!r}".replace("'", '"'))
    found = errors_of(source)
    assert any("experiment.variants[1].name: expected a URL-safe name" in e for e in found), found


@pytest.mark.parametrize("key", ["bad key", "a/b", "", "x" * 64])
def test_experiment_key_must_be_url_safe(key):
    found = errors_of(two().replace('key = "headline-1"', f'key = "{key}"'))
    assert any(e.startswith("p.toml: experiment.key: expected a URL-safe name") for e in found)


def test_experiment_key_is_required():
    found = errors_of(two().replace('key = "headline-1"', ""))
    assert any(e.startswith("p.toml: experiment.key: required") for e in found), found


@pytest.mark.parametrize(
    ("override", "path"),
    [
        ('headlin = "typo"', "experiment.variants[1].headlin: unknown key"),
        ('theme = { colour = "#fff" }', "experiment.variants[1].theme.colour: unknown key"),
        ("form = { ask_phone = true }", "experiment.variants[1].form.ask_phone: unknown key"),
        ('goals = [{ name = "x", label = "X" }]', "experiment.variants[1].goals: unknown key"),
        ('slug = "other"', "experiment.variants[1].slug: unknown key"),
    ],
)
def test_variant_overrides_must_be_page_settings(override, path):
    found = errors_of(two(b=override))
    assert any(e.startswith(f"p.toml: {path}") for e in found), found


@pytest.mark.parametrize(
    ("override", "path"),
    [
        ("headline = 3", "experiment.variants[1].headline: expected text, got int 3"),
        ('theme = { accent = "red" }', "experiment.variants[1].theme.accent: expected a colour"),
        ('features = "one"', "experiment.variants[1].features: expected a list"),
    ],
)
def test_variant_overrides_are_type_checked(override, path):
    found = errors_of(two(b=override))
    assert any(e.startswith(f"p.toml: {path}") for e in found), found


def test_winner_must_name_a_variant():
    found = errors_of(two(extra='winner = "c"'))
    assert found == ["p.toml: experiment.winner: expected one of ['a', 'b'], got 'c'"]


def test_winner_ends_the_experiment():
    page, errors = page_with(two(b='headline = "B"', extra='winner = "b"'))
    assert errors == []
    assert not page.experiment.running
    assert page.experiment.variant(page.experiment.winner).content.headline == "B"


def test_unknown_experiment_setting_is_reported():
    found = errors_of(two(extra="split = 50"))
    assert any(e.startswith("p.toml: experiment.split: unknown key") for e in found), found


def test_every_experiment_mistake_is_reported_at_once():
    found = errors_of(
        two(a="weight = 0", b='headlin = "typo"').replace('key = "headline-1"', 'key = "a b"')
    )
    for start in (
        "p.toml: experiment.key: expected a URL-safe name",
        "p.toml: experiment.variants[1].headlin: unknown key",
    ):
        assert any(e.startswith(start) for e in found), (start, found)
