"""`flask kit ...` commands, run through Flask's CLI runner."""

from __future__ import annotations

import dataclasses
import re
import shutil

from kit import catalogs
from kit import language
from kit.pages.share_card import share_card
from kit.pages.validation import load_page_file
from kit.urls import STATIC_DIR
from tests.conftest import browser
from tests.conftest import sign_up
from tests.founder.test_dashboard import text_of
from tests.pages.test_pages import BROKEN


def test_check_passes_on_valid_pages(runner):
    result = runner.invoke(args=["kit", "check"])
    assert result.exit_code == 0
    assert "ok     plain.toml" in result.output
    assert "no problems" in result.output


def test_check_lists_every_error_and_fails(runner, pages_dir):
    (pages_dir / "broken.toml").write_text(BROKEN)
    result = runner.invoke(args=["kit", "check"])
    assert result.exit_code == 1
    assert "broken.toml:8: theme.accent" in result.output
    assert "broken.toml:27: experiment.variants[1].nonsense" in result.output
    assert "problem(s) in page files" in result.output
    assert "Traceback" not in result.output


def test_new_writes_a_valid_page_that_is_served(runner, client, pages_dir):
    result = runner.invoke(args=["kit", "new", "notes-app"])
    assert result.exit_code == 0, result.output
    assert (pages_dir / "notes-app.toml").exists()
    assert runner.invoke(args=["kit", "check"]).exit_code == 0
    body = client.get("/notes-app").get_data(as_text=True)
    assert "The one-line promise of Notes App" in body
    assert 'product_name = "Notes App"' in (pages_dir / "notes-app.toml").read_text()
    assert "You're on the Notes App list" in text_of(client.get("/notes-app/thanks"))
    # ... with a hero picture in its colours, and its share card for link previews
    assert "its hero picture" in result.output and "its share card" in result.output
    assert re.search(r'<img class="hero-image" src="/static/notes-app-hero\.[0-9a-f]+\.svg"', body)
    svg = client.get(re.search(r'src="(/static/notes-app-hero[^"]+)"', body)[1])
    assert svg.status_code == 200 and "#4338ca" in svg.get_data(as_text=True)  # the accent
    svg.close()
    card = re.search(r'<meta property="og:image" content="http://localhost(/static/[^"]+)"', body)
    assert card and "notes-app-card" in card[1]
    image = client.get(card[1])
    png = image.data
    image.close()
    assert image.status_code == 200 and image.mimetype == "image/png"
    assert png[16:24] == (1200).to_bytes(4, "big") + (630).to_bytes(4, "big")  # its IHDR


def test_card_draws_the_share_card_and_a_page_image_wins(runner, client, pages_dir):
    result = runner.invoke(args=["kit", "card", "plain"])
    assert result.exit_code == 0 and "plain-card.png" in result.output
    assert "plain-card." in client.get("/plain").get_data(as_text=True)
    text = (pages_dir / "plain.toml").read_text()
    (pages_dir / "plain.toml").write_text(text + '\n[meta]\nimage = "social.png"\n')
    own = client.get("/plain").get_data(as_text=True)
    assert "social." in own and "plain-card." not in own  # the page file's image wins
    assert runner.invoke(args=["kit", "card", "nope"]).exit_code == 1


def test_card_draws_a_german_pages_button_in_german_and_refuses_letters_it_lacks(runner, pages_dir):
    (pages_dir / "notizen.toml").write_text(
        'title = "Notizen"\nheadline = "Notizen, die sich ordnen"\nlanguage = "de"\n'
    )
    assert runner.invoke(args=["kit", "card", "notizen"]).exit_code == 0
    page, _ = load_page_file(pages_dir / "notizen.toml")
    german = share_card(dataclasses.replace(page.content, cta="Auf die Warteliste"))
    assert (STATIC_DIR / "notizen-card.png").read_bytes() == german
    (pages_dir / "notizen.toml").write_text('title = "笔记"\nheadline = "自己整理的笔记"\n')
    result = runner.invoke(args=["kit", "card", "notizen"])
    assert result.exit_code == 1 and "has no letters for '笔记自己整理的'" in result.output
    assert "meta.image" in result.output


def test_new_says_where_to_see_the_page_on_this_site(make_app):
    result = (
        make_app(BASE_URL="http://127.0.0.1:5077")
        .test_cli_runner()
        .invoke(args=["kit", "new", "notes-app"])
    )
    assert "open http://127.0.0.1:5077/notes-app to see it" in result.output


def test_new_refuses_to_overwrite(runner, pages_dir):
    result = runner.invoke(args=["kit", "new", "plain"])
    assert result.exit_code == 1
    assert "already exists" in result.output
    assert "A page with no experiment" in (pages_dir / "plain.toml").read_text()


def test_new_refuses_bad_names(runner):
    result = runner.invoke(args=["kit", "new", "Admin Page"])
    assert result.exit_code == 1
    assert "can't be a page name" in result.output


def test_reference_updates_readme_block(runner, tmp_path):
    readme = tmp_path / "README.md"
    readme.write_text(
        "intro\n<!-- text-reference:start -->\nolder\n<!-- text-reference:end -->\n"
        "<!-- page-reference:start -->\nold\n<!-- page-reference:end -->\nend\n"
    )
    assert runner.invoke(args=["kit", "reference", "--write", str(readme)]).exit_code == 0
    text = readme.read_text()
    assert "\nold\n" not in text and "\nolder\n" not in text
    assert "| `headline` | text | **required** |" in text
    assert "Languages the kit speaks: `en`, `de`, `es`, `fr`, `it`, `pt-BR`." in text
    assert "| `thanks.heading` | You're on the {name} list |" in text
    assert text.endswith("<!-- page-reference:end -->\nend\n")


def test_new_in_german_writes_a_german_page_that_speaks_german_after_the_signup(
    runner, client, pages_dir
):
    result = runner.invoke(args=["kit", "new", "aufgeraeumt", "--language", "de"])
    assert result.exit_code == 0, result.output
    assert 'language = "de"' in (pages_dir / "aufgeraeumt.toml").read_text()
    landing = text_of(client.get("/aufgeraeumt"))
    assert "Das Versprechen von Aufgeraeumt in einem Satz" in landing
    assert "Auf die Warteliste" in landing and "Join" not in landing
    assert sign_up(client, "aufgeraeumt", email="ada@example.com").status_code == 302
    thanks = text_of(client.get("/aufgeraeumt/thanks"))
    assert "Danke, du stehst auf der Liste!" in thanks and "share link" not in thanks
    assert runner.invoke(args=["kit", "new", "brasil", "--language", "pt-br"]).exit_code == 0
    assert 'language = "pt-BR"' in (pages_dir / "brasil.toml").read_text()
    unknown = runner.invoke(args=["kit", "new", "x", "--language", "nl"])
    assert unknown.exit_code == 2 and "'nl' is not one of" in unknown.output


def test_translations_say_every_catalog_is_complete_and_change_nothing_when_current(
    runner, tmp_path, monkeypatch, pages_dir
):
    """The committed catalogs and compiled files are what `kit translations` makes of
    kit/texts.py: a sentence added or changed there without a translation shows here."""
    committed, copy = catalogs.CATALOGS, tmp_path / "translations"
    shutil.copytree(committed, copy)
    monkeypatch.setattr(catalogs, "CATALOGS", copy)
    result = runner.invoke(args=["kit", "translations"])
    assert result.exit_code == 0, result.output
    assert result.output.split("\n")[:5] == [
        f"{language:<6} complete" for language in ("de", "es", "fr", "it", "pt_BR")
    ]
    for path in sorted(copy.rglob("messages.*")):
        original = committed / path.relative_to(copy)
        assert path.read_bytes() == original.read_bytes(), f"{original} is stale"
    dutch = runner.invoke(args=["kit", "translations", "--new", "NL"])
    assert dutch.exit_code == 0 and f"started {copy}/nl/LC_MESSAGES/messages.po" in dutch.output
    sentences = sum(1 for message in catalogs.template() if message.id)
    assert f"nl     {sentences} to translate" in dutch.output
    # A page in Dutch now reads a catalog, an empty one: kit check says how much it lacks.
    monkeypatch.setattr(language, "CATALOGS", copy)
    (pages_dir / "dutch.toml").write_text('title = "T"\nheadline = "H"\nlanguage = "nl"\n')
    check = runner.invoke(args=["kit", "check"])
    assert f"note   dutch.toml: language: the 'nl' catalog lacks {sentences} sentence(s)" in (
        check.output
    )
    for wrong, said in [("nl", "exists already"), ("xx-nowhere", "no language Babel knows")]:
        refused = runner.invoke(args=["kit", "translations", "--new", wrong])
        assert refused.exit_code == 1 and said in refused.output


def test_stats_names_the_page_files_it_skipped(runner, pages_dir):
    (pages_dir / "broken.toml").write_text(BROKEN)
    result = runner.invoke(args=["kit", "stats"])
    assert result.exit_code == 0
    assert "skipped broken.toml: the file has problems (see `flask kit check`)" in result.stderr


def test_export_says_what_it_wrote_and_where(app, runner, tmp_path):
    for n in range(2):
        sign_up(browser(app), email=f"p{n}@example.com")
    target = tmp_path / "signups.csv"
    result = runner.invoke(args=["kit", "export", "plain", "-o", str(target)])
    assert result.exit_code == 0
    assert f"wrote 2 signups row(s) of plain to {target}" in result.stderr
    assert len(target.read_text().splitlines()) == 3
    result = runner.invoke(args=["kit", "export", "plain", "--what", "results"])
    assert "wrote 1 results row(s) of plain to the terminal" in result.stderr
