"""The place in line: a number per person, kept up to date, and counted in a few rows.

The rule: everyone on the list gets the next number when they join it (when they confirm, on
double opt-in pages: unconfirmed signups neither hold nor take a place); each friend who joins
through their link counts as if they had joined ``referral_bump`` numbers earlier. The line is
sorted by that number (the key), the earlier joiner first on a tie. People who leave the list
leave the line; nobody's number changes when someone else comes or goes.

Counting the people ahead of someone must not read the whole list (a million signups): keys
are grouped in buckets of ``BUCKET`` consecutive numbers whose sizes are kept in
``line_bucket``, so a place is the sum of the buckets before the person's (about n / BUCKET
small rows) plus a count inside their own bucket (at most BUCKET index entries). The list size
is the counter in ``waitlist_line``. Both are changed in the same transaction as the signup,
confirmation, referral or removal that changes them. A change of ``referral_bump`` (or a page
whose line was never built, after an upgrade) rebuilds the page's keys once.

The same row keeps the list's counts the dashboard shows (signup rows, how many await
confirmation, came through a share link, or confirmed outside any experiment), changed by the
same statement that hands out a number (``join``) or, for a signup that must first confirm,
by ``waiting``.
"""

from __future__ import annotations

from typing import Any

from flask import current_app
from sqlalchemy import Connection
from sqlalchemy import Integer
from sqlalchemy import Update
from sqlalchemy import and_
from sqlalchemy import bindparam
from sqlalchemy import case
from sqlalchemy import func
from sqlalchemy import literal_column
from sqlalchemy import select
from sqlalchemy import update

from kit import fastpath
from kit.models import LineBucket
from kit.models import Signup
from kit.models import WaitlistLine
from kit.models import db
from kit.pages.schema import Page
from kit.writes import add_to_counters
from kit.writes import dialect_insert

BUCKET = 1024
LIVE = (Signup.deleted_at.is_(None), Signup.confirmed_at.is_not(None))


def bucket_of(key: int) -> int:
    return key // BUCKET


def _bucket_sql(key: Any) -> Any:
    """``key // BUCKET`` (floor, also below zero) in SQL: SQL's integer division truncates,
    so a negative key is divided as a positive one. The width is written into the statement
    as an integer."""
    width = literal_column(str(int(BUCKET)))
    return case((key >= 0, key // width), else_=-((-key + width - 1) // width))


def _connection() -> Connection:
    return db.session.connection()


def _move(page: str, *changes: tuple[int, int]) -> None:
    """Add people to buckets: ``(key, change)`` adds ``change`` to the bucket of ``key``."""
    rows = [{"page": page, "bucket": bucket_of(key), "people": n} for key, n in changes]
    add_to_counters(_connection(), LineBucket.__table__, ("page", "bucket"), rows)


def ensure(page: Page, alone: bool = False) -> None:
    """Build the page's line if it was never built or ``referral_bump`` changed since: in the
    caller's transaction (a change: the signup service, which commits it with its own), or
    ``alone``, in a transaction of its own (a read, which commits nothing of the session's:
    the status and thank-you pages, the dashboard; the session's read starts afresh)."""
    bump = page.waitlist.referral_bump
    # Lines this process found built: a page view then asks nothing (a rule, not a trick:
    # tests/tracking/test_tracking.py holds repeat views to no SQL, fast path on or off).
    built = current_app.extensions.setdefault("lines_built", set())
    if (page.slug, bump) in built:
        return
    line = db.session.get(WaitlistLine, page.slug)
    if line is not None and line.bump == bump:
        if (page.slug, bump) not in db.session.info.get("lines_rebuilt", ()):
            built.add((page.slug, bump))  # stored, not only rebuilt in this session (maybe undone)
        return
    if alone:
        # The read's connection goes back first: one connection per request at a time (a pool
        # of them must not run dry), and its next read sees the rebuilt line (a SQLite snapshot
        # would not).
        db.session.rollback()
        with db.engine.begin() as connection:
            _rebuild(connection, page.slug, bump)
        built.add((page.slug, bump))
    else:
        rebuild(page.slug, bump)


def rebuild(slug: str, bump: int) -> None:
    """Number everyone on the list who has no number yet (in the order they joined), key
    everyone with the bump, and recount the buckets and the list size, in the session's
    transaction. Rows of the session are read afresh afterwards."""
    db.session.flush()
    db.session.info.setdefault("lines_rebuilt", set()).add((slug, bump))
    _rebuild(_connection(), slug, bump)
    db.session.expire_all()


def _rebuild(connection: Connection, slug: str, bump: int) -> None:
    table, buckets, lines = Signup.__table__, LineBucket.__table__, WaitlistLine.__table__
    insert = dialect_insert(connection.dialect.name)
    connection.execute(
        insert(lines).values(page=slug, seq=0, live=0, bump=bump).on_conflict_do_nothing()
    )
    # Serialises with signups of the page, which update the same row first.
    connection.execute(update(lines).where(lines.c.page == slug).values(bump=bump))
    last_number = select(func.coalesce(func.max(table.c.line_seq), 0)).where(
        table.c.page == slug
    )  # of anyone who ever joined: numbers are never handed out twice
    last = connection.execute(last_number).scalar_one()
    unnumbered = (
        select(
            table.c.id,
            (last + func.row_number().over(order_by=(table.c.confirmed_at, table.c.id))).label(
                "seq"
            ),
        )
        .where(table.c.page == slug, table.c.line_seq.is_(None), *LIVE)
        .subquery()
    )
    connection.execute(
        update(table).where(table.c.id == unnumbered.c.id).values(line_seq=unnumbered.c.seq)
    )
    live = (table.c.page == slug, *LIVE)
    connection.execute(
        update(table)
        .where(table.c.page == slug)
        .values(
            line_key=case((and_(*LIVE), table.c.line_seq - bump * table.c.referrals),
                          else_=None)
        )
    )  # fmt: skip
    connection.execute(buckets.delete().where(buckets.c.page == slug))
    bucket = _bucket_sql(table.c.line_key)
    connection.execute(
        buckets.insert().from_select(
            ["page", "bucket", "people"],
            select(table.c.page, bucket, func.count()).where(*live).group_by(table.c.page, bucket),
        )
    )
    # Every count in one read of the page's rows.
    counts = select(
        func.count(case((and_(*LIVE), 1))),
        func.coalesce(func.max(table.c.line_seq), 0),
        func.count(),
        func.count(case((table.c.confirmed_at.is_(None), 1))),
        func.count(table.c.referred_by_id),
        func.count(case((and_(table.c.confirmed_at.is_not(None), table.c.variant.is_(None)), 1))),
    ).where(table.c.page == slug)
    size, seq, signups, unconfirmed, referred, unattributed = connection.execute(counts).one()
    connection.execute(
        update(lines)
        .where(lines.c.page == slug)
        .values(live=size, seq=seq, signups=signups, unconfirmed=unconfirmed,
                referred=referred, unattributed=unattributed)
    )  # fmt: skip


# Every signup (or confirmation) and every credited referral runs these.
@fastpath.kept(maxsize=1)
def _counting() -> Update:
    lines = WaitlistLine.__table__
    return (
        update(lines)
        .where(lines.c.page == bindparam("slug"))
        .values(
            seq=lines.c.seq + bindparam("joined"),
            live=lines.c.live + bindparam("joined"),
            signups=lines.c.signups + bindparam("new_row"),
            unconfirmed=lines.c.unconfirmed + bindparam("waiting"),
            referred=lines.c.referred + bindparam("through_link"),
            unattributed=lines.c.unattributed + bindparam("no_experiment"),
        )
        .returning(lines.c.seq)
    )


@fastpath.kept(maxsize=1)
def _taking_number() -> Update:
    signups = Signup.__table__
    return (
        update(signups)
        .where(signups.c.id == bindparam("signup"))
        .values(line_seq=bindparam("seq"), line_key=bindparam("key"))
    )


@fastpath.kept(maxsize=1)
def _crediting() -> Update:
    """One friend more (``friends`` 1) or fewer (-1): the referrer's key moves ``bump`` numbers
    per friend."""
    signups = Signup.__table__
    friends = bindparam("friends", type_=Integer)
    return (
        update(signups)
        .where(signups.c.id == bindparam("signup"))
        .values(
            referrals=signups.c.referrals + friends,
            line_key=signups.c.line_key - friends * bindparam("bump", type_=Integer),
        )
        .returning(signups.c.line_key)
    )


def _count(page: Page, entry: Signup, added: bool, joined: bool) -> int:
    """Move the page's counts for this signup; returns the last number handed out."""
    changes = {
        "slug": page.slug,
        "joined": int(joined),
        "new_row": int(added),
        "waiting": int(added and not joined) - int(joined and not added),
        "through_link": int(added and entry.referred_by_id is not None),
        "no_experiment": int(joined and entry.variant is None),
    }
    return _connection().execute(_counting(), changes).scalar_one()


def _key(page: Page, entry: Signup, seq: int) -> int:
    """The rule: the number taken, ``referral_bump`` earlier per friend already credited."""
    return seq - page.waitlist.referral_bump * (entry.referrals or 0)


def number(page: Page, entry: Signup) -> None:
    """A new signup that is on the list at once (no double opt-in) takes the next number
    before its row is written, so the INSERT writes the number with it. Counted as a new row
    too: if the row does not go in (the address is listed), the caller rolls back.

    Like ``join``, ``credit`` and ``leave``, part of the caller's transaction; the caller
    (kit/waitlist/signup.py) calls ``ensure(page)`` first.
    """
    entry.line_seq = _count(page, entry, added=True, joined=True)
    entry.line_key = _key(page, entry, entry.line_seq)
    _move(page.slug, (entry.line_key, 1))


def join(page: Page, entry: Signup) -> None:
    """The person takes the next number when they confirm (double opt-in)."""
    seq = _count(page, entry, added=False, joined=True)
    key = _key(page, entry, seq)
    _connection().execute(_taking_number(), {"signup": entry.id, "seq": seq, "key": key})
    fastpath.as_saved(entry, line_seq=seq, line_key=key)
    _move(page.slug, (key, 1))


def waiting(page: Page, entry: Signup, added: bool = True) -> None:
    """A new signup that must confirm first (double opt-in): on the list's counts, not in line.
    ``added=False`` (the address was on the list) runs the same statement, changing nothing."""
    _count(page, entry, added=added, joined=False)


def credit(page: Page, referrer_id: int, friends: int = 1) -> None:
    """One more friend: the referrer's key moves ``referral_bump`` earlier (atomically);
    ``friends=-1``, a credited friend left the list: it moves back as far."""
    bump = page.waitlist.referral_bump
    values = {"signup": referrer_id, "bump": bump, "friends": friends}
    key = _connection().execute(_crediting(), values).scalar()
    before = None if key is None else key + friends * bump
    if key is not None and bucket_of(key) != bucket_of(before):
        _move(page.slug, (before, -1), (key, 1))


def leave(page: Page, entry: Signup) -> None:
    """The person left the list (removed): out of the line, the list one shorter."""
    if entry.line_key is None:
        return
    # The list row first, then the bucket, as ``join`` does: a removal and a signup of the
    # same page never hold one of the two each while waiting for the other.
    lines = WaitlistLine.__table__
    _connection().execute(
        update(lines).where(lines.c.page == page.slug).values(live=lines.c.live - 1)
    )
    _move(page.slug, (entry.line_key, -1))
    entry.line_key = None


def position(page: Page, entry: Signup) -> int | None:
    """The person's place (1 is first), or None while they are not in line (unconfirmed)."""
    ensure(page, alone=True)
    key = entry.line_key
    if key is None or entry.deleted_at is not None:
        return None
    ahead_buckets = db.session.scalar(
        select(func.coalesce(func.sum(LineBucket.people), 0)).where(
            LineBucket.page == page.slug, LineBucket.bucket < bucket_of(key)
        )
    )
    ahead_here = db.session.scalar(
        select(func.count()).where(
            Signup.page == page.slug,
            Signup.line_key >= bucket_of(key) * BUCKET,
            (Signup.line_key < key) | ((Signup.line_key == key) & (Signup.id < entry.id)),
        )
    )
    return ahead_buckets + ahead_here + 1


def size(page: Page) -> int:
    """How many people are in line (a kept counter, not a count of the table)."""
    return counts(page).live


def counts(page: Page) -> WaitlistLine:
    """The page's kept counts (all zero for a page nobody signed up on yet)."""
    ensure(page, alone=True)
    line = db.session.get(WaitlistLine, page.slug)
    return line if line is not None else WaitlistLine(
        page=page.slug, seq=0, live=0, bump=0, signups=0, unconfirmed=0, referred=0,
        unattributed=0,
    )  # fmt: skip
