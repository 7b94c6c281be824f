"""Property-based fuzzing of every public endpoint: whatever arrives, never a 5xx, never half a row.

Hypothesis throws random unicode (control characters and NUL included), huge and repeated
fields, missing fields, wrong content types and forged or tampered cookies at the app. Each
example checks what a visitor or the founder would notice: the status is a page or a 4xx, no
stack trace is shown, and any row that got stored is complete and valid.
"""

from __future__ import annotations

import os
import string
from urllib.parse import quote

import pytest
from hypothesis import HealthCheck
from hypothesis import example
from hypothesis import given
from hypothesis import settings
from hypothesis import strategies as st
from sqlalchemy import func
from sqlalchemy import select

from kit.models import Exposure
from kit.models import GoalClick
from kit.models import Signup
from kit.models import db
from tests.conftest import BROWSER_UA
from tests.conftest import form_fields

FUZZ = settings(
    # FUZZ_EXAMPLES=2000 for a long hunt; the default keeps the file well under a minute.
    max_examples=int(os.environ.get("FUZZ_EXAMPLES", "60")),
    deadline=None,
    database=None,  # no .hypothesis/ folder in the work tree
    suppress_health_check=[
        HealthCheck.function_scoped_fixture,  # one app per test, shared by its examples
        HealthCheck.too_slow,
        HealthCheck.data_too_large,
    ],
)

SLUGS = ["plain", "ab", "consent"]
FIELDS = ["email", "name", "answer", "consent", "leave_this_empty", "rendered", "csrf_token"]

# Every code point but lone surrogates (which no client can encode): controls, NUL, emoji, RTL.
any_char = st.characters(exclude_categories=["Cs"])
nasty_text = st.one_of(
    st.text(any_char, max_size=40),
    st.text(
        st.sampled_from("\x00\x01\x1b\x7f\u0085\u2028\u202e\ufeff\ud7ff<>&\"'%\\/"), max_size=20
    ),
    st.builds(lambda c, n: c * n, st.sampled_from("a\x00é😀<"), st.integers(200, 20_000)),
)
emailish = st.one_of(
    nasty_text,
    st.builds(
        lambda local, domain: f"{local}@{domain}",
        st.text(any_char, min_size=1, max_size=30),
        st.sampled_from(["example.com", "exämple.com", "x", "example.com\x00", "[127.0.0.1]"]),
    ),
    st.emails().map(str),
)
field_values = st.one_of(nasty_text, st.lists(nasty_text, min_size=2, max_size=4))


@st.composite
def form_bodies(draw):
    """Form fields: some of ours (maybe repeated or missing), some unknown, any values."""
    body: dict[str, object] = {}
    for name in draw(st.lists(st.sampled_from(FIELDS), unique=True)):
        body[name] = draw(field_values)
    if draw(st.booleans()):
        body["email"] = draw(st.one_of(emailish, st.lists(emailish, min_size=2, max_size=3)))
    for name in draw(st.lists(st.text(any_char, min_size=1, max_size=10), max_size=3)):
        body.setdefault(name, draw(nasty_text))
    return body


def counts(app) -> tuple[int, int, int]:
    with app.app_context():
        return tuple(
            db.session.scalar(select(func.count()).select_from(model))
            for model in (Signup, Exposure, GoalClick)
        )


def assert_rows_valid(app) -> None:
    """Every stored signup is whole: a normalised e-mail address, a known page, sane fields."""
    with app.app_context():
        for row in db.session.scalars(select(Signup)):
            assert row.page in SLUGS
            assert row.email and "@" in row.email and len(row.email) <= 254
            assert row.email_key == row.email.lower()
            assert row.created_at is not None
            for text in (row.email, row.name or "", row.answer or ""):
                assert "\x00" not in text
            assert len(row.name or "") <= 100 and len(row.answer or "") <= 1000
            assert (row.variant is None) == (row.experiment is None)
        for exposure in db.session.scalars(select(Exposure)):
            assert exposure.page in SLUGS and exposure.visitor_key


def assert_served(response) -> None:
    """A page or a clear 4xx: never a server error, never a stack trace."""
    assert response.status_code < 500, response.get_data(as_text=True)[:500]
    body = response.get_data(as_text=True)
    assert "Traceback" not in body
    assert "sqlalchemy" not in body.lower()


@pytest.fixture
def fuzz_app(make_app):
    # Rate limits off: the fuzzer sends hundreds of requests from one address on purpose.
    return make_app(RATELIMIT_ENABLED=False)


def client_for(app, cookie: str | None, headers: dict[str, str]):
    client = app.test_client()
    client.environ_base["HTTP_USER_AGENT"] = headers.pop("User-Agent", BROWSER_UA)
    if cookie is not None:
        client.set_cookie("session", cookie)
    return client


bad_cookies = st.one_of(
    st.none(),
    st.text(st.sampled_from(string.printable), max_size=200),
    st.text(st.sampled_from(string.ascii_letters + string.digits + "-_."), max_size=400),
)
headers = st.fixed_dictionaries(
    {},
    optional={
        "User-Agent": st.text(st.characters(min_codepoint=32, max_codepoint=255), max_size=200),
        "Referer": st.text(st.characters(min_codepoint=32, max_codepoint=255), max_size=300),
        "X-Forwarded-For": st.text(st.sampled_from("0123456789.:abcdef, x"), max_size=60),
        "X-Forwarded-Proto": st.sampled_from(["https", "http", "gopher", ""]),
        "Accept-Language": st.text(st.characters(min_codepoint=32, max_codepoint=126)),
    },
)
query = st.dictionaries(
    st.sampled_from(
        ["variant", "utm_source", "utm_medium", "utm_campaign", "utm_content", "utm_term", "next"]
    ),
    nasty_text,
    max_size=4,
)
# Percent-encoded like a browser sends it ("?" and "#" in a segment can't reach the server raw).
path_part = st.one_of(
    st.sampled_from(SLUGS),
    st.text(any_char, min_size=1, max_size=30).map(lambda s: quote(s, safe="")),
)


@FUZZ
@given(
    path=st.one_of(
        st.just("/"),
        path_part.map(lambda s: f"/{s}"),
        st.tuples(path_part, st.sampled_from(["thanks", "already", "status"])).map(
            lambda t: f"/{t[0]}/{t[1]}"
        ),
        st.tuples(path_part, st.sampled_from(["status", "confirm", "remove"]), path_part).map(
            lambda t: f"/{t[0]}/{t[1]}/{t[2]}"
        ),
        st.tuples(path_part, st.one_of(st.sampled_from(["buy", "pro"]), path_part)).map(
            lambda t: f"/go/{t[0]}/{t[1]}"
        ),
        st.just("/healthz"),
        st.just("/admin/login"),
        path_part.map(lambda s: f"/static/{s}"),
    ),
    args=query,
    cookie=bad_cookies,
    extra=headers,
    method=st.sampled_from(["GET", "HEAD"]),
)
def test_any_get_is_a_page_or_4xx(fuzz_app, path, args, cookie, extra, method):
    before = counts(fuzz_app)
    client = client_for(fuzz_app, cookie, extra)
    with client.open(path, method=method, query_string=args, headers=extra) as response:
        assert_served(response)
    after = counts(fuzz_app)
    assert after[0] == before[0]  # a GET never signs anyone up
    assert_rows_valid(fuzz_app)


@FUZZ
@given(
    slug=st.sampled_from(SLUGS),
    body=form_bodies(),
    keep_csrf=st.booleans(),
    encoding=st.sampled_from(["form", "multipart", "json", "garbage"]),
    garbage=st.binary(max_size=300),
    content_type=st.sampled_from(
        ["application/json", "text/plain", "multipart/form-data", "application/xml", ""]
    ),
    cookie=st.one_of(st.just("keep"), bad_cookies),
    extra=headers,
)
def test_any_signup_post_is_a_page_or_4xx_and_never_half_a_row(
    fuzz_app, slug, body, keep_csrf, encoding, garbage, content_type, cookie, extra
):
    client = client_for(fuzz_app, None, extra)
    fields = form_fields(client.get(f"/{slug}").get_data(as_text=True))
    if keep_csrf:
        for name, value in fields.items():
            body.setdefault(name, value)
    if cookie != "keep":
        client.set_cookie("session", cookie or "")
    before = counts(fuzz_app)
    if encoding == "form":
        response = client.post(f"/{slug}", data=body, headers=extra)
    elif encoding == "multipart":
        response = client.post(
            f"/{slug}", data=body, headers=extra, content_type="multipart/form-data"
        )
    elif encoding == "json":
        response = client.post(f"/{slug}", json=body, headers=extra)
    else:
        response = client.post(f"/{slug}", data=garbage, headers=extra, content_type=content_type)
    with response:
        assert_served(response)
        stored = counts(fuzz_app)[0] - before[0]
        assert stored in (0, 1)
        if stored:
            # A stored signup is acknowledged (PRG to the thank-you page), never silently kept.
            assert response.status_code == 302
            assert response.headers["Location"] == f"/{slug}/thanks"
        if response.status_code == 302:
            assert response.headers["Location"] in (f"/{slug}/thanks", f"/{slug}/already")
    assert_rows_valid(fuzz_app)


@FUZZ
@example(mine={"plain": 2**40}, seen=None, vid=None, slug="plain")  # beyond PostgreSQL's int
@given(
    mine=st.one_of(
        st.dictionaries(st.sampled_from(SLUGS), st.one_of(st.integers(), st.text(max_size=5))),
        st.lists(st.integers(), max_size=3),
        st.text(max_size=10),
        st.integers(),
        st.none(),
    ),
    seen=st.one_of(st.lists(st.text(max_size=20), max_size=3), st.text(max_size=10), st.none()),
    vid=st.one_of(
        st.text(any_char, max_size=40), st.integers(), st.none(), st.lists(st.integers())
    ),
    slug=st.sampled_from(SLUGS),
)
def test_signed_cookie_with_unexpected_contents_is_survived(fuzz_app, mine, seen, vid, slug):
    """Cookies from an older release (signed by us, shaped differently) never break a visit."""
    client = client_for(fuzz_app, None, {})
    with client.session_transaction() as session:
        for key, value in (("mine", mine), ("seen", seen), ("vid", vid)):
            if value is not None:
                session[key] = value
    for path in (f"/{slug}", f"/{slug}/thanks", f"/{slug}/already", "/go/ab/buy"):
        with client.get(path) as response:
            assert_served(response)
    fields = form_fields(client.get(f"/{slug}").get_data(as_text=True))
    data = {**fields, "email": "cookie@example.com", "consent": "y"}
    with client.post(f"/{slug}", data=data) as response:
        assert_served(response)
    assert_rows_valid(fuzz_app)
