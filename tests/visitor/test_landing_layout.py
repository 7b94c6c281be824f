"""A founder's own first page looks finished: a header with the product's name, a centred hero
without an image, pricing sized to its tiers, the paid button as the main action, optional
fields marked, and a question that asks for a number or a choice with the right control."""

from __future__ import annotations

import re

from sqlalchemy import select

from kit.models import Signup
from kit.models import db
from kit.pages.validation import parse_page
from tests.conftest import browser
from tests.conftest import sign_up
from tests.visitor.test_visitor_pages import set_keys

SHOP = '\n[pricing]\n[[pricing.tiers]]\nname = "Pro"\nprice = "$49"\ncheckout_url = "https://buy.stripe.com/pro"\n'


def html_of(app, path: str = "/plain") -> str:
    return browser(app).get(path).get_data(as_text=True)


def test_without_a_hero_image_the_hero_is_centred_and_with_one_it_is_split(make_app, pages_dir):
    app = make_app()
    assert '<header class="hero hero-centred" id="main">' in html_of(app)  # skip link lands here
    set_keys(pages_dir, "plain", 'hero_image = "hero.svg"\n')
    assert '<header class="hero" id="main">' in html_of(make_app())


def test_a_header_names_the_product_and_links_to_its_page(make_app, pages_dir):
    set_keys(pages_dir, "plain", 'product_name = "Quillnote"\n')
    html = html_of(make_app())
    assert '<a class="wordmark" href="/plain">Quillnote</a></nav>' in html


def test_one_pricing_tier_is_one_card_and_its_pre_order_button_is_the_main_action(
    make_app, pages_dir
):
    (pages_dir / "plain.toml").write_text((pages_dir / "plain.toml").read_text().replace(
        "\n[form]", SHOP + "\n[form]"))  # fmt: skip
    html = html_of(make_app())
    assert '<ul class="tiers tiers-1">' in html
    assert re.search(
        r'<a class="button" href="/checkout/plain/pro" rel="nofollow">Pre-order</a>', html
    )
    assert "button secondary" not in html.split('<ul class="tiers')[1].split("</ul>")[0]


def test_optional_fields_say_so_once(make_app):
    html = html_of(make_app())
    assert '<label for="name">Your name (optional)</label>' in html
    assert '<label for="answer">What would you pay? (optional)</label>' in html
    assert "(optional) (optional)" not in html_of(make_app(), "/ab")


def question(pages_dir, kind: str, extra: str = "") -> None:
    text = (pages_dir / "plain.toml").read_text()
    asked = 'question = "What would you pay?"'
    text = text.replace(asked, f'{asked}\nquestion_kind = "{kind}"\n{extra}')
    (pages_dir / "plain.toml").write_text(text)


def test_a_number_question_gets_a_number_box_with_its_unit_and_refuses_words(make_app, pages_dir):
    question(pages_dir, "number", 'question_unit = "$ per month"')
    app = make_app()
    html = html_of(app)
    assert re.search(r'<input type="text" inputmode="decimal" autocomplete="off" name="answer" '
                     r'id="answer" value="" aria-describedby="answer-unit">', html)  # fmt: skip
    assert '<span class="unit" id="answer-unit">$ per month</span>' in html
    words = sign_up(browser(app), email="ada@example.com", answer="about ten")
    assert words.status_code == 422
    assert "Please enter a number of 0 or more, like 12 or 1200.50." in words.get_data(as_text=True)
    assert 'value="about ten"' in words.get_data(as_text=True)  # what was typed stays
    negative = sign_up(
        browser(app), email="cy@example.com", answer="-5"
    )  # told why, not "a number"
    assert negative.status_code == 422 and "of 0 or more" in negative.get_data(as_text=True)
    assert sign_up(browser(app), email="bo@example.com", answer="12,50").status_code == 302
    with app.app_context():
        assert db.session.scalar(select(Signup.answer)) == "12.50"


def test_a_choice_question_gets_radio_buttons_and_takes_only_its_answers(make_app, pages_dir):
    question(pages_dir, "choice", 'question_options = ["Nothing", "$5", "$10 or more"]')
    app = make_app()
    html = html_of(app)
    assert "<legend>What would you pay? (optional)</legend>" in html
    assert html.count('type="radio" name="answer"') == 3
    forged = sign_up(browser(app), email="ada@example.com", answer="$1000000")
    assert forged.status_code == 422 and "Please pick one of the answers." in forged.get_data(
        as_text=True)  # fmt: skip
    assert sign_up(browser(app), email="bo@example.com", answer="$5").status_code == 302
    with app.app_context():
        assert db.session.scalar(select(Signup.answer)) == "$5"


def test_a_question_kind_is_checked_where_the_page_file_is():
    def errors(form: dict) -> list[str]:
        _, found = parse_page("p", {"title": "T", "headline": "H", "form": form})
        return [f"{e.path}: {e.message}" for e in found]

    base = {"question": "Q?"}
    assert errors({**base, "question_kind": "choice", "question_options": ["Only"]}) == [
        "form.question_options: a choice question needs 2 to 12 answers, got 1"]  # fmt: skip
    assert errors({**base, "question_kind": "choice", "question_options": ["A", "A"]}) == [
        "form.question_options: each answer once: two are the same"]  # fmt: skip
    assert "form.question_options[1]: expected an answer of 1 to 100 characters" in errors(
        {**base, "question_kind": "choice", "question_options": ["A", "x" * 101]})  # fmt: skip
    spaced = {**base, "question_kind": "choice", "question_options": ["A", " B "]}
    assert errors(spaced) == [
        "form.question_options[1]: an answer without spaces before or after it, got ' B '"
    ]
    # One run of kit check lists them with the page's other problems, not on a second run.
    _, found = parse_page("p", {"title": "T", "headline": "H", "subheadlin": "typo",
                                "form": spaced})  # fmt: skip
    assert [e.path for e in found] == ["subheadlin", "form.question_options[1]"]
    assert errors({**base, "question_options": ["A", "B"]}) == [
        'form.question_options: only a question_kind = "choice" has answers to pick']  # fmt: skip
    assert errors({**base, "question_unit": "$"}) == [
        'form.question_unit: only a question_kind = "number" has a unit']  # fmt: skip
    assert errors({**base, "question_kind": "date"})[0].startswith(
        "form.question_kind: expected one of"
    )
