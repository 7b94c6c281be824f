"""Page files: loading, variant overrides, and error messages that name file and key path."""

from __future__ import annotations

import tomllib
from pathlib import Path

import pytest

from kit.language import catalog_languages
from kit.pages.reference import schema_reference
from kit.pages.reference import text_reference
from kit.pages.starter import STARTERS
from kit.pages.starter import starter_page
from kit.pages.toml_lines import line_of
from kit.pages.validation import RESERVED_SLUGS
from kit.pages.validation import load_page_file
from kit.pages.validation import load_pages
from kit.pages.validation import parse_page
from tests.conftest import browser

ROOT = Path(__file__).parents[2]

BROKEN = """
title = 42
subheadline = "fine"
colour = "red"
subheadlin = "a typo"

[theme]
accent = "blue"
mode = "sepia"

[[features]]
text = "no title"

[[footer_links]]
label = "Evil"
url = "javascript:alert(1)"

[experiment]
key = "bad key"

[[experiment.variants]]
name = "a"
weight = 0

[[experiment.variants]]
name = "b"
nonsense = true
theme = { accent = "nope" }

[pricing]
[[pricing.tiers]]
name = "Pro"
price = "$9"
goal = "nowhere"
"""


def messages(errors) -> list[str]:
    return [str(e) for e in errors]


def test_demo_page_is_valid():
    pages, errors = load_pages(ROOT / "pages", ROOT / "static")
    assert errors == []
    demo = pages["demo"]
    assert demo.experiment is not None and len(demo.experiment.variants) == 2


def test_every_error_is_reported_in_one_run_with_file_and_key_path(tmp_path):
    (tmp_path / "broken.toml").write_text(BROKEN)
    page, errors = load_page_file(tmp_path / "broken.toml")
    assert page is None
    found = messages(errors)
    expected = [
        "broken.toml:2: title: expected text, got int 42",
        "broken.toml: headline: required",  # not written anywhere: no line
        "broken.toml:4: colour: unknown key (known keys: title, headline,",
        "broken.toml:5: subheadlin: unknown key (did you mean 'subheadline'?; known keys:",
        "broken.toml:8: theme.accent: expected a colour like \"#4f46e5\", got 'blue'",
        "broken.toml:9: theme.mode: expected one of 'light', 'dark', 'auto', got 'sepia'",
        "broken.toml:11: features[0].title: required",  # the line of its [[features]] table
        "broken.toml:16: footer_links[0].url: expected a link starting with",
        "broken.toml:19: experiment.key: expected a URL-safe name",
        "broken.toml:23: experiment.variants[0].weight: expected a finite number > 0, got 0.0",
        "broken.toml:27: experiment.variants[1].nonsense: unknown key",
        "broken.toml:28: experiment.variants[1].theme.accent: expected a colour",
        "broken.toml:34: pricing.tiers[0].goal: no [[goals]] entry named 'nowhere'",
    ]
    for start in expected:
        assert any(message.startswith(start) for message in found), (start, found)
    assert len(found) == len(expected)
    colour = next(message for message in found if ": colour: " in message)
    # the page's tables are keys too
    assert colour.endswith("experiment, goals, target, text, waitlist)")


def test_toml_syntax_error_names_the_line(tmp_path):
    (tmp_path / "typo.toml").write_text('title = "ok"\nheadline = "missing quote\n')
    _, errors = load_page_file(tmp_path / "typo.toml")
    [error] = messages(errors)
    assert error.startswith("typo.toml: not valid TOML")
    assert "line 2" in error


def test_variant_overrides_deep_merge_and_replace_lists():
    page, errors = parse_page(
        "p",
        {
            "title": "T",
            "headline": "Base",
            "theme": {"accent": "#111111", "mode": "dark"},
            "features": [{"title": "one"}, {"title": "two"}],
            "experiment": {
                "key": "k",
                "variants": [
                    {"name": "a"},
                    {
                        "name": "b",
                        "weight": 3,
                        "theme": {"accent": "#222222"},
                        "features": [{"title": "only"}],
                    },
                ],
            },
        },
    )
    assert errors == []
    control, b = page.experiment.variants
    assert control.content.features == page.content.features
    assert b.content.theme.accent == "#222222"
    assert b.content.theme.mode == "dark"  # untouched keys of a table are kept
    assert [f.title for f in b.content.features] == ["only"]  # lists are replaced
    assert b.content.headline == "Base"
    assert b.weight == 3.0


def test_variant_marked_control_comes_first():
    page, _ = parse_page(
        "p",
        {
            "title": "T",
            "headline": "H",
            "experiment": {"key": "k", "variants": [{"name": "x"}, {"name": "y", "control": True}]},
        },
    )
    assert [v.name for v in page.experiment.variants] == ["y", "x"]
    assert page.experiment.control.name == "y"


@pytest.mark.parametrize(
    ("experiment", "message"),
    [
        ({"key": "k", "variants": [{"name": "a"}]}, "at least two variants"),
        ({"key": "k", "variants": [{"name": "a"}, {"name": "a"}]}, "must be unique"),
        ({"key": "k", "winner": "z", "variants": [{"name": "a"}, {"name": "b"}]}, "winner"),
        ({"key": "k", "variants": [{"name": "a", "weight": -1}, {"name": "b"}]}, "> 0"),
        ({"key": "k", "variants": [{"name": "a/b"}, {"name": "b"}]}, "URL-safe"),
    ],
)
def test_experiment_rules(experiment, message):
    _, errors = parse_page("p", {"title": "T", "headline": "H", "experiment": experiment})
    assert any(message in str(e) for e in errors), messages(errors)


def test_pricing_tier_must_point_at_a_configured_goal():
    _, errors = parse_page(
        "p",
        {
            "title": "T",
            "headline": "H",
            "pricing": {"tiers": [{"name": "Pro", "price": "$9", "goal": "buy"}]},
        },
    )
    assert messages(errors) == [
        "p.toml: pricing.tiers[0].goal: no [[goals]] entry named 'buy' (goals: none)"
    ]


def test_checkout_tiers_are_checked_for_a_secure_link_one_button_and_distinct_names():
    tiers = [
        {"name": "Pro", "price": "$9", "checkout_url": "http://buy.stripe.com/x"},
        {"name": "Team", "price": "$19", "checkout_url": "https://buy.stripe.com/y", "goal": "g"},
        {"name": "pro!", "price": "$29", "checkout_url": "https://buy.stripe.com/z"},
    ]
    data = {"title": "T", "headline": "H", "pricing": {"tiers": tiers},
            "goals": [{"name": "g", "label": "Go"}]}  # fmt: skip
    _, errors = parse_page("p", data)
    assert messages(errors) == [
        "p.toml: pricing.tiers[0].checkout_url: expected a Stripe Payment Link starting with "
        '"https://" (like "https://buy.stripe.com/…"), got \'http://buy.stripe.com/x\'',
        "p.toml: pricing.tiers[1].checkout_url: a tier's button goes to a goal or to a "
        "checkout, not both",
        "p.toml: pricing.tiers[2].name: two tiers are called 'pro' in links: give them "
        "different names",
    ]


def test_missing_static_image_is_reported(tmp_path):
    (tmp_path / "img.toml").write_text('title = "T"\nheadline = "H"\nhero_image = "nope.png"\n')
    _, errors = load_page_file(tmp_path / "img.toml", ROOT / "static")
    assert messages(errors) == ["img.toml:3: hero_image: no file static/nope.png"]


@pytest.mark.parametrize("name", ["../secret.png", "/etc/passwd", "a\\b.png"])
def test_image_paths_cannot_leave_static(name):
    _, errors = parse_page("p", {"title": "T", "headline": "H", "hero_image": name})
    assert any("hero_image" in str(e) for e in errors)


def test_no_page_can_take_a_name_a_route_of_the_site_starts_with(app):
    """A page called "checkout" or "proof" would lose its own links to /checkout/... and
    /proof/...: every literal first segment of a route is a name no page file may have."""
    firsts = {
        rule.rule.strip("/").split("/")[0]
        for rule in app.url_map.iter_rules()
        if rule.rule.strip("/") and "<" not in rule.rule.strip("/").split("/")[0]
    }
    assert firsts <= RESERVED_SLUGS, firsts - RESERVED_SLUGS
    for slug in sorted(firsts):
        _, errors = parse_page(slug, {"title": "T", "headline": "H"})
        assert any("bad file name" in str(e) for e in errors), slug


@pytest.mark.parametrize("slug", ["Admin", "admin", "with space", "-dash"])
def test_bad_file_names_are_refused(slug):
    _, errors = parse_page(slug, {"title": "T", "headline": "H"})
    assert any("bad file name" in str(e) for e in errors)


def test_broken_page_does_not_break_others_in_development(client, pages_dir):
    (pages_dir / "broken.toml").write_text(BROKEN)
    assert client.get("/plain").status_code == 200
    response = client.get("/broken")
    assert response.status_code == 500
    body = response.get_data(as_text=True)
    assert "theme.accent" in body and "experiment.variants[1].nonsense" in body


def test_production_serves_other_pages_and_503_for_a_broken_one(
    make_app, pages_dir, monkeypatch, caplog
):
    monkeypatch.delenv("FLASK_RUN_FROM_CLI", raising=False)
    (pages_dir / "broken.toml").write_text(BROKEN)
    app = make_app(TESTING=False)
    assert "broken.toml:8: theme.accent" in caplog.text
    client = browser(app)
    broken = client.get("/broken")
    assert broken.status_code == 503
    assert "This page is being fixed" in broken.get_data(as_text=True)
    assert "theme.accent" not in broken.get_data(as_text=True)  # the errors are the founder's
    assert client.get("/plain").status_code == 200


def test_edited_page_shows_on_next_request(client, pages_dir):
    assert b"A page with no experiment" in client.get("/plain").data
    path = pages_dir / "plain.toml"
    path.write_text(path.read_text().replace("A page with no experiment", "Fresh words"))
    assert b"Fresh words" in client.get("/plain").data


def test_new_page_file_is_served_without_restart(client, pages_dir):
    assert client.get("/fresh").status_code == 404
    (pages_dir / "fresh.toml").write_text('title = "Fresh"\nheadline = "Brand new"\n')
    assert b"Brand new" in client.get("/fresh").data


def test_starter_page_is_valid():
    page, errors = parse_page("my-idea", tomllib.loads(starter_page("my-idea")))
    assert errors == [] and page is not None


@pytest.mark.parametrize("language", sorted(STARTERS))
def test_the_starters_examples_once_uncommented_are_in_its_language(language):
    """A German founder who uncomments the FAQ, the testimonial, the image's description and
    the pre-order tier gets German text on the page, and a price the kit reads."""
    lines = starter_page("my-idea", language=language).splitlines()
    examples = (
        "# hero_alt", "# [[faq]]", "# question =", "# answer", "# [[testimonials]]", "# quote",
        "# author", "# role", "# [[pricing.tiers]]", '# name = "Pro"', "# price", "# checkout_url",
        "# checkout_label",
    )  # fmt: skip
    text = "\n".join(line[2:] if line.startswith(examples) else line for line in lines)
    text = text.replace("https://buy.stripe.com/...", "https://buy.stripe.com/test_00")
    page, errors = parse_page("my-idea", tomllib.loads(text))
    assert errors == [], messages(errors)
    assert page.content.faq and page.content.testimonials and page.content.hero_alt
    [tier] = page.content.pricing.tiers
    assert tier.charge is not None  # the amount and currency the kit holds payments to
    if language != "en":
        english = STARTERS["en"]
        faq, said = page.content.faq[0], page.content.testimonials[0]
        shown = (page.content.hero_alt, faq.question, faq.answer, said.quote, said.role,
                 tier.price, tier.checkout_label)  # fmt: skip
        assert not set(shown) & set(english.values()), shown


def test_readme_reference_matches_the_schema():
    readme = (ROOT / "README.md").read_text()
    assert schema_reference() in readme, "README page reference is stale: run `make docs`"


def test_key_lines_follow_tables_arrays_and_skip_multi_line_strings():
    text = '''title = "T"
answer = """
[not.a.table]
headline = "inside a string"
"""
[[experiment.variants]]
name = "a"
[[experiment.variants]]
name = "b"
[experiment.variants.form]
cta = "Go"
[[goals]]
label = "x"
'''
    assert line_of(text, "title") == 1
    assert line_of(text, "headline") is None  # written only inside the string
    assert line_of(text, "experiment.variants[1].name") == 9
    assert line_of(text, "experiment.variants[1].form.cta") == 11
    assert line_of(text, "experiment.variants[0].weight") == 6  # left out: its table's line
    assert line_of(text, "goals[0].label") == 13
    assert line_of(text, "nowhere.at.all") is None


def test_a_bar_for_the_idea_is_a_share_between_0_and_1():
    page, errors = parse_page(
        "p", {"title": "T", "headline": "H", "target": {"signup_rate": 0.1, "paid_rate": 0.02}}
    )
    assert errors == [] and page.target.bars == [("sign up", 0.1), ("pay", 0.02)]
    page, _ = parse_page("p", {"title": "T", "headline": "H"})
    assert page.target.bars == []  # no [target]: no bar, the rates are shown and one is asked for
    for value, said in [
        (10, "expected a share from 0.0001 to 0.9999, like 0.10 for 10 % (0: no bar), got 10.0"),
        (5e-324, "got 5e-324"),  # so small no test could ever reach it (and 0.25 × it is 0)
        (0.99999, "got 0.99999"),
        (-0.1, "got -0.1"),
        (float("nan"), "got nan"),
        (float("inf"), "got inf"),
        ("10%", "expected a number, got text"),
    ]:
        _, errors = parse_page("p", {"title": "T", "headline": "H", "target": {"paid_rate": value}})
        [error] = messages(errors)
        assert error.startswith("p.toml: target.paid_rate: ") and said in error, error
    _, errors = parse_page("p", {"title": "T", "headline": "H", "target": {"signup": 0.1}})
    assert "did you mean 'signup_rate'" in messages(errors)[0]


def test_readme_lists_the_languages_and_every_text_key():
    readme = (ROOT / "README.md").read_text()
    reference = text_reference(catalog_languages())
    assert reference in readme, "README's [text] keys are stale: run `make docs`"


@pytest.mark.parametrize(
    ("data", "key"),
    [
        ({"language": "de\n"}, "language"),
        ({"theme": {"accent": "#4f46e5\n"}}, "theme.accent"),
        ({"experiment": {"key": "k\n", "variants": [{"name": "a"}, {"name": "b"}]}},
         "experiment.key"),
        ({"experiment": {"key": "k", "variants": [{"name": "a\n"}, {"name": "b"}]}},
         "experiment.variants[0].name"),
        ({"embed": {"origins": ["https://mysite.carrd.co\n"]}}, "embed.origins[0]"),
        ({"embed": {"origins": ["https://mysite.carrd.co:٤٤٣"]}}, "embed.origins[0]"),
    ],
)  # fmt: skip
def test_a_value_with_a_line_break_after_it_is_refused_not_served(data, key):
    """A pattern's "$" also matches before a final newline: `language = "de\\n"` passed and
    the page was served as <html lang="de\\n"> in English."""
    _, errors = parse_page("p", {"title": "T", "headline": "H", **data})
    assert any(str(e).startswith(f"p.toml: {key}: ") for e in errors), messages(errors)
    _, errors = parse_page("p\n", {"title": "T", "headline": "H"})
    assert any("bad file name" in str(e) for e in errors)
