"""A page in German (or French, Spanish, Brazilian Portuguese, Italian) speaks its visitors'
language everywhere they look: landing, form errors, thank-you, status, confirm, remove,
unsubscribe, error pages and every mail; numbers are written the locale's way; a page file's
``[text]`` wins over the catalog; the founder's dashboard stays English."""

from __future__ import annotations

import re
from html import unescape

import pytest
from babel.support import Translations

from kit import money
from kit.catalogs import CATALOGS
from kit.catalogs import template
from kit.delivery.outbox import deliver_due
from kit.language import text
from tests.conftest import browser
from tests.conftest import form_fields
from tests.conftest import sign_up
from tests.founder.test_dashboard import logged_in
from tests.founder.test_dashboard import text_of
from tests.servers import body_text
from tests.servers import smtp_server

TIDYDAY = """
title = "Tidyday — trag dich ein"
product_name = "Tidyday"
headline = "Aufräumen in zehn Minuten am Tag"
language = "de"

[form]
ask_name = true
question = "Was würdest du im Monat zahlen?"
question_kind = "number"
question_unit = "€ im Monat"

[[features]]
title = "Weniger Kram"

[[faq]]
question = "Wann geht es los?"
answer = "Bald."

[[pricing.tiers]]
name = "Pro"
price = "49 €"
checkout_url = "https://buy.stripe.com/test_123"

[[footer_links]]
label = "Impressum"
url = "https://tidyday.example/impressum"

[[goals]]
name = "team"
label = "Team-Version"

[embed]
origins = ["https://tidyday.carrd.co"]

[waitlist]
double_opt_in = true

[[waitlist.rewards]]
referrals = 3
reward = "Früher Zugang"
"""


def english_leftovers(locale: str) -> list[str]:
    """The English of every kit sentence, cut at its placeholders and link brackets, without
    the pieces the language's own sentence keeps ("(optional)" reads the same in German)."""
    catalog = Translations.load(str(CATALOGS), [locale])
    found = set()
    for message in template():
        if not message.id:
            continue
        ids = message.id if isinstance(message.id, tuple) else (message.id,)
        if isinstance(message.id, tuple):
            shown = " ".join(catalog.ngettext(*ids, n) for n in (1, 2, 5, 10**6))
        else:
            shown = catalog.gettext(message.id)
        for english in ids:
            for piece in re.split(r"\{\w+\}|[\[\]]", english):
                piece = piece.strip(" .,:;!?—–()")
                if len(piece) >= 4 and piece not in shown:
                    found.add(piece)
    return sorted(found)


SHOWN_ATTRIBUTES = re.compile(
    r'\b(?:aria-label|alt|placeholder|title|content|data-[a-z-]+)="([^"]*)"'
)


def leaks(html: str, locale: str = "de") -> list[str]:
    """The kit's English sentences (or pieces of them) a reader of ``html`` would see: its
    text and the attributes shown or read aloud, not its tags' names and classes."""
    body = re.sub(r"(?s)<(style|script)\b.*?</\1>", " ", html)
    shown = [re.sub(r"<[^>]+>", " ", body), *SHOWN_ATTRIBUTES.findall(body)]
    visible = re.sub(r"https?://\S+", " ", unescape(" ".join(shown)))  # not the links' paths
    return [piece for piece in english_leftovers(locale) if piece in visible]


@pytest.fixture
def smtp():
    with smtp_server() as server:
        yield server


def mails(app, inbox) -> list[dict]:
    """Every mail the kit sent so far, as received over SMTP (the deliverer runs first)."""
    with app.app_context():
        deliver_due()
    received = []
    for message in inbox.messages:
        html = next(p for p in message.walk() if p.get_content_type() == "text/html")
        received.append({"subject": str(message["Subject"]), "text": body_text(message),
                         "html": html.get_payload(decode=True).decode()})  # fmt: skip
    return received


def test_a_german_page_its_pages_and_its_mails_hold_no_english_sentence_of_the_kit(
    make_app, pages_dir, smtp
):
    (pages_dir / "tidyday.toml").write_text(TIDYDAY, encoding="utf-8")
    url, inbox = smtp
    app = make_app(RATELIMIT_ENABLED=False, MAIL_URL=url, MAIL_FROM="hallo@example.com")
    visitor = browser(app)
    seen: dict[str, str] = {}
    landing = visitor.get("/tidyday").get_data(as_text=True)
    seen["landing"] = landing
    assert '<html lang="de"' in landing and "Fragen" in landing  # the FAQ's default heading
    invalid = visitor.post("/tidyday", data={**form_fields(landing), "email": "kein-at"})
    seen["form errors"] = invalid.get_data(as_text=True)
    assert invalid.status_code == 422
    empty = visitor.post("/tidyday", data={**form_fields(landing), "answer": "viel"})
    seen["more form errors"] = empty.get_data(as_text=True)
    sent = sign_up(visitor, "tidyday", email="ada@example.com", name="Ada Lovelace", answer="9")
    assert sent.status_code == 302
    seen["check your inbox"] = visitor.get(sent.headers["Location"]).get_data(as_text=True)
    confirm = re.search(r"(http://localhost/tidyday/confirm/\S+)", mails(app, inbox)[0]["text"])[1]
    seen["confirm"] = visitor.get(confirm).get_data(as_text=True)
    status = visitor.post(confirm, data=form_fields(seen["confirm"]), follow_redirects=True)
    seen["status"] = status.get_data(as_text=True)
    assert "Früher Zugang" in seen["status"]
    seen["thanks"] = visitor.get("/tidyday/thanks").get_data(as_text=True)
    remove = re.search(r'href="([^"]*/tidyday/remove/[^"]+)"', seen["status"])[1]
    seen["remove"] = visitor.get(remove).get_data(as_text=True)
    unsubscribe = re.search(
        r"(http://localhost/tidyday/unsubscribe/\S+)", mails(app, inbox)[0]["text"]
    )
    seen["unsubscribe"] = visitor.get(unsubscribe[1]).get_data(as_text=True)
    stranger = browser(app)
    ask = stranger.get("/tidyday/status").get_data(as_text=True)
    seen["find your place"] = ask
    asked = stranger.post("/tidyday/status", data={**form_fields(ask), "email": "ada@example.com"})
    seen["link sent"] = asked.get_data(as_text=True)
    seen["bad status link"] = stranger.get("/tidyday/status/nope").get_data(as_text=True)
    seen["expired form"] = stranger.post("/tidyday", data={"email": "x@example.com"}).get_data(
        as_text=True
    )
    seen["embedded form"] = stranger.get("/embed/tidyday").get_data(as_text=True)
    seen["embedded thanks"] = stranger.get("/embed/tidyday/thanks").get_data(as_text=True)
    seen["already on the list"] = stranger.get("/tidyday/already").get_data(as_text=True)
    seen["coming soon"] = stranger.get("/go/tidyday/team", follow_redirects=True).get_data(
        as_text=True
    )
    seen["back from stripe"] = stranger.get("/tidyday/paid?session_id=cs_x").get_data(as_text=True)
    seen["no such page"] = stranger.get("/tidyday/confirm/nope").get_data(as_text=True)
    assert "Team-Version" in seen["coming soon"] and "Stripe" in seen["back from stripe"]
    sent_mails = mails(app, inbox)
    assert len(sent_mails) == 3  # confirm, welcome, status link
    for n, message in enumerate(sent_mails):
        seen[f"mail {n} subject"] = message["subject"]
        seen[f"mail {n} text"] = message["text"]
        seen[f"mail {n} html"] = message["html"]
        assert message["subject"].endswith("Tidyday")
    assert "Ada" in sent_mails[0]["text"]  # greeted by name
    found = {where: leaks(html) for where, html in seen.items()}
    assert not any(found.values()), {where: pieces for where, pieces in found.items() if pieces}


@pytest.mark.parametrize(
    ("language", "place", "euros"),
    [
        ("en", "12,040", "€49.00"),
        ("de", "12.040", "49,00\xa0€"),
        ("fr", "12\u202f040", "49,00\xa0€"),
        ("es", "12.040", "49,00\xa0€"),
        ("pt-BR", "12.040", "€\xa049,00"),
        ("it", "12.040", "49,00\xa0€"),
    ],
)
def test_places_and_money_use_the_locales_separators(make_app, pages_dir, language, place, euros):
    page = TIDYDAY.replace('language = "de"', f'language = "{language}"')
    (pages_dir / "tidyday.toml").write_text(page, encoding="utf-8")
    app = make_app()
    with app.test_request_context("/tidyday"):
        app.preprocess_request()
        assert place in text("share.place_of", size=12040)
        assert text("share.place", place=12040).endswith(place)
    assert money.text(4900, "EUR", language.replace("-", "_")) == euros


def test_a_text_table_wins_over_the_catalog_in_pages_and_mails(make_app, pages_dir, smtp):
    own = (
        TIDYDAY.replace("double_opt_in = true", "double_opt_in = false")
        + """
[text]
"thanks.heading" = "Willkommen an Bord von {name}!"
mail.welcome_subject = "Schön, dass du da bist: {name}"
"share.rule" = ["Mit jedem Freund rückst du {count} Platz vor.",
                "Mit jedem Freund rückst du {count} Plätze vor."]
"""
    )
    (pages_dir / "tidyday.toml").write_text(own, encoding="utf-8")
    url, inbox = smtp
    app = make_app(MAIL_URL=url, MAIL_FROM="hallo@example.com")
    visitor = browser(app)
    assert sign_up(visitor, "tidyday", email="bo@example.com").status_code == 302
    thanks = text_of(visitor.get("/tidyday/thanks"))
    assert "Willkommen an Bord von Tidyday!" in thanks
    assert "Mit jedem Freund rückst du 5 Plätze vor." in thanks
    [welcome] = mails(app, inbox)
    assert welcome["subject"] == "Schön, dass du da bist: Tidyday"
    assert "Mit jedem Freund rückst du 5 Plätze vor." in welcome["text"]


def test_founder_text_is_escaped_and_a_name_in_brackets_is_no_link(make_app, pages_dir):
    own = TIDYDAY.replace('product_name = "Tidyday"', 'product_name = "[Tidy] <b>day</b>"')
    own += '\n[text]\n"page.back" = "<i>Zurück</i> zu {name}"\n'
    (pages_dir / "tidyday.toml").write_text(own, encoding="utf-8")
    app = make_app()
    inbox = browser(app).get("/tidyday/thanks").get_data(as_text=True)
    assert "&lt;i&gt;Zurück&lt;/i&gt; zu [Tidy] &lt;b&gt;day&lt;/b&gt;" in inbox
    assert "<b>day</b>" not in inbox and "<i>" not in inbox


def test_a_link_sentence_is_escaped_and_links_only_its_bracketed_words(make_app, pages_dir):
    own = TIDYDAY.replace('product_name = "Tidyday"', 'product_name = "[Tidy]day"')
    own = own.replace("double_opt_in = true", "double_opt_in = false")
    own += '\n[text]\n"thanks.bookmark" = "[Deine Seite] merken <script>"\n'
    (pages_dir / "tidyday.toml").write_text(own, encoding="utf-8")
    app = make_app()
    visitor = browser(app)
    sign_up(visitor, "tidyday", email="cy@example.com")
    html = visitor.get("/tidyday/thanks").get_data(as_text=True)
    link = (
        r'<p><a href="http://localhost/tidyday/status/[^"]+">Deine Seite</a> merken &lt;script&gt;'
    )
    assert re.search(link, html), html
    assert "[Tidy]day" in unescape(text_of(visitor.get("/tidyday/thanks")))  # a name: no link


def test_the_founder_reads_the_dashboard_in_english_and_previews_the_mail_in_german(
    make_app, pages_dir
):
    (pages_dir / "tidyday.toml").write_text(TIDYDAY, encoding="utf-8")
    app = make_app()
    founder = logged_in(app)
    dashboard = text_of(founder.get("/admin/tidyday"))
    assert "Visitors" in dashboard and "Besucher" not in dashboard
    preview = founder.get("/admin/tidyday/mail/welcome").get_data(as_text=True)
    assert not leaks(preview) and "Tidyday" in preview


def test_a_page_in_a_language_without_a_catalog_reads_english_and_kit_check_says_so(
    make_app, pages_dir
):
    (pages_dir / "dutch.toml").write_text(TIDYDAY.replace('"de"', '"nl"'), encoding="utf-8")
    (pages_dir / "swiss.toml").write_text(TIDYDAY.replace('"de"', '"de-CH"'), encoding="utf-8")
    (pages_dir / "typo.toml").write_text(TIDYDAY.replace('"de"', '"ge"'), encoding="utf-8")
    app = make_app()
    assert "Fragen" not in browser(app).get("/dutch").get_data(as_text=True)
    assert "Questions" in browser(app).get("/dutch").get_data(as_text=True)
    assert "Fragen" in browser(app).get("/swiss").get_data(as_text=True)  # falls back to de
    result = app.test_cli_runner().invoke(args=["kit", "check"])
    assert result.exit_code == 0, result.output
    assert "note   dutch.toml: language: no catalog for 'nl'" in result.output
    assert "swiss.toml: language" not in result.output
    assert "note   typo.toml: language: no catalog for 'ge'" in result.output  # no such language


def test_an_error_under_a_german_page_is_german_and_leads_back_to_it(make_app, pages_dir):
    """Whatever address under the page goes wrong (no such route, a wrong method, too much
    at once), the visitor reads it in the page's language, with the way back to the page."""
    (pages_dir / "tidyday.toml").write_text(TIDYDAY, encoding="utf-8")
    app = make_app(MAX_CONTENT_LENGTH=1024)
    visitor = browser(app)
    answers = {
        "no such address": visitor.get("/tidyday/danke"),
        "a trailing slash": visitor.get("/tidyday/"),
        "no such goal": visitor.get("/go/tidyday/nichts"),
        "no such embed address": visitor.get("/embed/tidyday/x/y"),
        "a wrong method": visitor.put("/tidyday"),
        "too much at once": visitor.post("/tidyday", data={"email": "x" * 5000}),
    }
    for what, answer in answers.items():
        html = answer.get_data(as_text=True)
        assert answer.status_code in (404, 405, 413), what
        assert '<html lang="de"' in html and 'href="/tidyday">Zurück zu Tidyday' in html, what
        assert not leaks(html), (what, leaks(html))
    elsewhere = visitor.get("/nowhere/at/all").get_data(as_text=True)
    assert '<html lang="en"' in elsewhere and "Page not found" in elsewhere
