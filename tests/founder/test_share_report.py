"""Share the proof: a read-only report at an unguessable link the founder can revoke, with the
numbers and no personal data, not indexed, printable."""

from __future__ import annotations

import re
from urllib.parse import urlsplit

from sqlalchemy import select

from kit.models import ShareLink
from kit.models import db
from tests.conftest import browser
from tests.conftest import form_fields
from tests.founder.test_compare import paid
from tests.founder.test_dashboard import logged_in
from tests.founder.test_dashboard import seed
from tests.founder.test_dashboard import text_of


def create_link(founder, slug: str = "") -> str:
    """Press "Create a report link" on the page (or the comparison) and read the link back."""
    where = f"/admin/{slug}" if slug else "/admin/compare"
    token = form_fields(founder.get(where).get_data(as_text=True))["csrf_token"]
    answer = founder.post("/admin/share", data={"csrf_token": token, "page": slug})
    assert answer.status_code == 302
    shown = text_of(founder.get(answer.headers["Location"]))
    return re.search(r"until you revoke it: (\S+/proof/\S+)", shown)[1]


def test_a_page_report_shows_the_numbers_and_no_personal_data(app):
    seed(app, {"a": (1000, 134), "b": (1000, 206)})
    paid(app, "ab", "headline-1", "b", 30)
    founder = logged_in(app)
    url = create_link(founder, "ab")
    stranger = browser(app)  # not logged in
    response = stranger.get(urlsplit(url).path)
    assert response.status_code == 200
    text = text_of(response)
    assert "Demand report" in text and "A/B page" in text
    assert "b wins" in text or "b is ahead" in text
    assert "20.6%" in text and "13.4%" in text  # signed up, per variant, with intervals
    assert "How far visitors got" in text and "Measured by counting each visitor once" in text
    assert "bots, previews and the founder are not counted" in text
    html = response.get_data(as_text=True)
    assert "@example.com" not in html  # the seeded signups' addresses are nowhere
    assert "<script" not in html
    assert response.headers["X-Robots-Tag"] == "noindex, nofollow"
    assert response.headers["Cache-Control"] == "no-store"
    assert response.headers["Referrer-Policy"] == "no-referrer"
    assert '<meta name="robots" content="noindex">' in html


def test_a_revoked_link_answers_404_and_a_forged_one_never_opens(app):
    seed(app, {"a": (100, 10), "b": (100, 12)})
    founder = logged_in(app)
    url = create_link(founder, "ab")
    path = urlsplit(url).path
    public_id, signature = path.rsplit("/", 1)[1].split(".")
    stranger = browser(app)
    for forged in [
        f"{public_id}.{'A' * len(signature)}",
        f"{public_id}.",
        public_id,
        f"{public_id}.{signature}x",
        f"{public_id}.{signature[:-1]}é",
        "x" * 5000,
    ]:
        assert stranger.get(f"/proof/{forged}").status_code == 404  # fmt: skip
    listed = founder.get("/admin/").get_data(as_text=True)
    assert "Shared reports" in listed and f'value="{url}"' in listed  # ready to copy
    with app.app_context():
        stored = db.session.scalar(select(ShareLink.public_id))
    assert signature not in stored  # the table alone opens nothing
    token = form_fields(founder.get("/admin/").get_data(as_text=True))["csrf_token"]
    revoked = founder.post(f"/admin/share/{stored}/revoke",
                           data={"csrf_token": token, "back": "/admin/ab"})  # fmt: skip
    assert revoked.status_code == 302 and revoked.headers["Location"].endswith("/admin/ab")
    assert stranger.get(path).status_code == 404
    assert url not in founder.get("/admin/").get_data(as_text=True)


def test_only_the_logged_in_founder_creates_or_revokes_links(app):
    stranger = browser(app)
    assert stranger.post("/admin/share", data={"page": "ab"}).status_code in (302, 400, 403)
    founder = logged_in(app)
    assert founder.post("/admin/share", data={"page": "ab"}).status_code == 400  # no CSRF token
    token = form_fields(founder.get("/admin/ab").get_data(as_text=True))["csrf_token"]
    unknown = founder.post("/admin/share", data={"csrf_token": token, "page": "nope"})
    assert unknown.status_code == 404
    with app.app_context():
        assert db.session.scalar(select(ShareLink.id)) is None


def test_the_comparison_can_be_shared_too(app):
    seed(app, {"a": (300, 30), "b": (300, 30)})
    seed(app, {"": (400, 100)}, page="plain", experiment="")
    founder = logged_in(app)
    url = create_link(founder)
    text = text_of(browser(app).get(urlsplit(url).path))
    assert "Which idea has demand?" in text
    assert "Plain page's visitors sign up 2.5× as often as A/B page's" in text
    assert "1 Plain page 400 25.0%" in text


def test_a_report_of_a_page_whose_file_was_removed_is_gone(app, pages_dir):
    founder = logged_in(app)
    url = create_link(founder, "plain")
    (pages_dir / "plain.toml").unlink()
    assert browser(app).get(urlsplit(url).path).status_code == 404


def test_the_report_of_a_german_page_is_marked_english_with_the_pages_words_in_german(
    make_app, pages_dir
):
    """The report is written in English: a screen reader told lang="de" reads it wrongly."""
    (pages_dir / "notizen.toml").write_text(
        'title = "Notizen"\nheadline = "Notizen, die sich selbst ordnen"\nlanguage = "de"\n'
    )
    app = make_app()
    html = browser(app).get(urlsplit(create_link(logged_in(app), "notizen")).path)
    html = html.get_data(as_text=True)
    assert '<html lang="en"' in html and "Key numbers" in html
    assert '<h1 lang="de">Notizen</h1>' in html
    assert '<p class="lede" lang="de">Notizen, die sich selbst ordnen</p>' in html
