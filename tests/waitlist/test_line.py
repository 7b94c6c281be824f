"""The place in line: the rule the pages state holds exactly, and the kept keys, buckets and
counter give the same places as a plain reference implementation, whatever happens."""

from __future__ import annotations

import re
import threading
from typing import Any

import pytest
from hypothesis import HealthCheck
from hypothesis import given
from hypothesis import settings
from hypothesis import strategies as st
from sqlalchemy import Integer
from sqlalchemy import delete
from sqlalchemy import func
from sqlalchemy import literal
from sqlalchemy import select

from kit.models import LineBucket
from kit.models import Signup
from kit.models import WaitlistLine
from kit.models import db
from kit.models import utcnow
from kit.waitlist import places
from tests.conftest import browser
from tests.conftest import form_fields
from tests.conftest import sign_up
from tests.waitlist.test_referrals import join
from tests.waitlist.test_referrals import place
from tests.waitlist.test_referrals import signup
from tests.waitlist.test_referrals import thanks_text


def reference_places(people: list[dict[str, Any]], bump: int) -> dict[Any, int]:
    """The place-in-line rule in plain Python: ``people`` in joining order, each with ``id``
    and ``referrals``; returns each one's place."""
    keyed = sorted(
        (number - bump * person["referrals"], person["id"])
        for number, person in enumerate(people, start=1)
    )
    return {person_id: place for place, (_, person_id) in enumerate(keyed, start=1)}


def set_bump(pages_dir, slug: str, bump: int) -> None:
    path = pages_dir / f"{slug}.toml"
    text = re.sub(r"(?m)^referral_bump = \d+\n", "", path.read_text())
    if "[waitlist]" in text:
        text = text.replace("[waitlist]\n", f"[waitlist]\nreferral_bump = {bump}\n")
    else:
        text += f"\n[waitlist]\nreferral_bump = {bump}\n"
    path.write_text(text)


def test_a_friend_counts_as_joining_bump_places_earlier_ties_to_the_earlier(make_app, pages_dir):
    """The reported case: with bump 3, #7 brings a friend and becomes #5, not #4: their
    number 7 - 3 = 4 ties with the person who joined 4th, who stays ahead."""
    set_bump(pages_dir, "plain", 3)
    app = make_app(RATELIMIT_ENABLED=False)
    people = [join(app, f"p{n}@example.com") for n in range(1, 8)]
    assert place(people[6]) == 7
    join(app, "friend@example.com", ref=signup(app, "p7@example.com").share_code)
    assert place(people[6]) == 5
    assert place(people[3]) == 4
    text = thanks_text(people[6])
    assert "#5</p><p>your place of 8 on the list" in text
    assert "Each friend who joins with your link moves you up to 3 places." in text


def test_unconfirmed_signups_neither_hold_nor_take_a_place(make_app):
    app = make_app(RATELIMIT_ENABLED=False)
    join(app, "early@example.com", slug="optin")  # signs up first, confirms last
    with app.app_context():
        early = db.session.scalar(select(Signup).where(Signup.email_key == "early@example.com"))
        page = app.extensions["pages"].pages["optin"]
        assert early.line_key is None
        later = [confirm(app, page, f"later{n}@example.com") for n in range(2)]
        assert [places.position(page, person) for person in later] == [1, 2]
        places.join(page, early)
        db.session.commit()
        assert places.position(page, early) == 3
        assert places.size(page) == 3


def confirm(app, page, email: str) -> Signup:
    """A confirmed signup straight in the tables, as the confirm view leaves it."""
    places.ensure(page)
    person = Signup(page=page.slug, email=email, email_key=email, confirmed_at=utcnow())
    db.session.add(person)
    db.session.flush()
    places.join(page, person)
    db.session.commit()
    return person


def test_leaving_moves_everyone_behind_up_and_shortens_the_list(app):
    people = [join(app, f"p{n}@example.com") for n in range(4)]
    second = people[1]
    token = re.search(r"/plain/status/([^\"/]+)", thanks_text(second))[1]
    form = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"',
                     second.get(f"/plain/remove/{token}").get_data(as_text=True))[1]  # fmt: skip
    second.post(f"/plain/remove/{token}", data={"csrf_token": form})
    assert [place(v) for v in (people[0], people[2], people[3])] == [1, 2, 3]
    assert "of 3 on the list" in thanks_text(people[3])


def test_a_listed_address_again_changes_no_count_and_skips_no_number(app):
    """Without double opt-in the number is taken before the row is written; a repeat
    signup's number and counts are rolled back, so the next person is #2, not #3."""
    first = join(app, "ada@example.com")
    again = browser(app)
    assert "already" in sign_up(again, slug="plain", email="ADA@example.com").location
    assert place(first) == 1
    second = join(app, "bo@example.com")
    assert place(second) == 2
    assert "of 2 on the list" in thanks_text(second)
    with app.app_context():
        kept = db.session.get(WaitlistLine, "plain")
        assert (kept.seq, kept.live, kept.signups) == (2, 2, 2)
        assert db.session.scalar(select(func.sum(LineBucket.people))) == 2


def test_a_list_from_before_the_upgrade_is_numbered_on_first_use(make_app, pages_dir):
    app = make_app(RATELIMIT_ENABLED=False)
    people = [join(app, f"p{n}@example.com") for n in range(5)]
    with app.app_context():  # as an older release left it: no numbers, keys or counters
        db.session.execute(Signup.__table__.update().values(line_seq=None, line_key=None))
        db.session.execute(delete(LineBucket))
        db.session.execute(delete(WaitlistLine))
        db.session.commit()
    app.extensions["lines_built"].clear()  # a new process
    assert [place(v) for v in people] == [1, 2, 3, 4, 5]


def test_changing_the_bump_renumbers_the_line(make_app, pages_dir):
    app = make_app(RATELIMIT_ENABLED=False)
    people = [join(app, f"p{n}@example.com") for n in range(1, 7)]
    join(app, "f@example.com", ref=signup(app, "p6@example.com").share_code)
    assert place(people[5]) == 2  # 6 - 5 = 1: ties with the first
    set_bump(pages_dir, "plain", 1)
    assert place(people[5]) == 6  # 6 - 1 = 5: behind the fifth


# --- the kept line against the plain rule, on random histories ------------------------------

EVENTS = st.lists(
    st.one_of(
        st.tuples(st.just("join"), st.booleans()),  # confirmed at once, or pending
        st.tuples(st.just("confirm"), st.integers(0, 60)),
        st.tuples(st.just("refer"), st.integers(0, 60)),
        st.tuples(st.just("leave"), st.integers(0, 60)),
    ),
    max_size=60,
)


@settings(
    max_examples=25,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(EVENTS, st.sampled_from([1, 2, 5]))
def test_kept_places_match_the_reference_on_random_histories(app, monkeypatch, events, bump):
    monkeypatch.setattr(places, "BUCKET", 4)  # many buckets even on a short list
    with app.app_context():
        for model in (LineBucket, WaitlistLine, Signup):
            db.session.execute(delete(model))
        db.session.commit()
        app.extensions.setdefault("lines_built", set()).clear()
        page = app.extensions["pages"].pages["plain"]
        page.waitlist.__dict__["referral_bump"] = bump  # frozen dataclass: the test's own copy
        places.ensure(page)
        people: list[Signup] = []
        joined: list[Signup] = []  # in the order they took their number
        for n, (kind, arg) in enumerate(events):
            if kind == "join":
                person = Signup(page="plain", email=f"e{n}@x.org", email_key=f"e{n}@x.org",
                                confirmed_at=utcnow() if arg else None,
                                variant="a" if n % 2 else None,
                                referred_by_id=people[n % len(people)].id
                                if people and n % 3 == 0 else None)  # fmt: skip
                if arg:
                    places.number(page, person)
                    joined.append(person)
                db.session.add(person)
                db.session.flush()
                people.append(person)
                if not arg:
                    places.waiting(page, person)
            elif people:
                person = people[arg % len(people)]
                gone = person.deleted_at is not None  # a removed person's links are dead
                if kind == "confirm" and person.confirmed_at is None and not gone:
                    person.confirmed_at = utcnow()
                    db.session.flush()
                    places.join(page, person)
                    joined.append(person)
                elif kind == "refer" and not gone:
                    places.credit(page, person.id)
                    db.session.refresh(person)
                elif kind == "leave" and not gone:
                    places.leave(page, person)
                    person.deleted_at = utcnow()
                    db.session.flush()
            db.session.commit()
        live = [p for p in joined if p.deleted_at is None]
        expected = reference_places([{"id": p.id, "referrals": p.referrals} for p in live], bump)
        assert {p.id: places.position(page, p) for p in live} == expected
        assert places.size(page) == len(live)
        pending = [p for p in people if p.confirmed_at is None or p.deleted_at is not None]
        assert all(places.position(page, p) is None for p in pending)
        kept = db.session.scalar(select(func.coalesce(func.sum(LineBucket.people), 0)))
        assert kept == len(live)
        counts = places.counts(page)
        confirmed = [p for p in people if p.confirmed_at is not None]
        assert (counts.signups, counts.unconfirmed, counts.referred, counts.unattributed) == (
            len(people),
            len(people) - len(confirmed),
            sum(p.referred_by_id is not None for p in people),
            sum(p.variant is None for p in confirmed),
        )


@pytest.mark.parametrize("key", [-9, -4, -1, 0, 3, 4, 1023, 1024, -1025])
def test_buckets_floor_below_zero_in_python_and_sql(app, key):
    with app.app_context():
        in_sql = db.session.scalar(select(places._bucket_sql(literal(key, Integer))))
    assert in_sql == places.bucket_of(key) == key // places.BUCKET


def test_removals_and_signups_racing_on_one_page_all_succeed_and_the_count_holds(make_app):
    """Two people leave while others join, from parallel requests: every request answers
    (no deadlock between the list row and a bucket) and the kept counts match the rows."""
    app = make_app(RATELIMIT_ENABLED=False)
    leaving = [join(app, f"old{n}@example.com") for n in range(12)]
    removals = []
    for visitor in leaving:
        token = re.search(r"/plain/status/([^\"/]+)", thanks_text(visitor))[1]
        page = visitor.get(f"/plain/remove/{token}").get_data(as_text=True)
        csrf = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page)[1]
        removals.append((visitor, f"/plain/remove/{token}", {"csrf_token": csrf}))
    joining = []
    for n in range(12):
        visitor = browser(app)
        fields = form_fields(visitor.get("/plain").get_data(as_text=True))
        joining.append((visitor, "/plain", {**fields, "email": f"new{n}@example.com"}))
    statuses: list[int] = []

    def send(requests: list) -> None:
        for visitor, path, data in requests:
            statuses.append(visitor.post(path, data=data).status_code)

    threads = [threading.Thread(target=send, args=(part,)) for part in (removals, joining)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(set(statuses)) == [200, 302]
    with app.app_context():
        live = db.session.scalar(select(func.count()).where(Signup.page == "plain", *places.LIVE))
        kept = db.session.get(WaitlistLine, "plain").live
        in_buckets = db.session.scalar(
            select(func.sum(LineBucket.people)).where(LineBucket.page == "plain")
        )
    assert live == kept == in_buckets == 12
