"""The only write path of the list: add a signup, confirm it, remove it (credit a referral on
the way). No request objects; the caller commits."""

from __future__ import annotations

from functools import lru_cache

from sqlalchemy import Insert
from sqlalchemy import Row
from sqlalchemy import bindparam
from sqlalchemy import select
from sqlalchemy.orm import make_transient_to_detached

from kit.delivery import notify
from kit.delivery import outbox
from kit.models import Signup
from kit.models import db
from kit.models import dialect_insert
from kit.models import utcnow
from kit.pages.schema import Content
from kit.pages.schema import Page
from kit.tracking import counters
from kit.visitor.forms import SignupForm
from kit.waitlist import places


def remove_signup(page: Page, entry: Signup) -> None:
    """Wipe the person's data, keep the anonymous row (statistics stay put), tell receivers.

    The caller has called ``places.ensure(page)`` (a rebuild commits)."""
    places.leave(page, entry)
    email = entry.email
    notify.queue_webhooks(page, "signup.deleted", entry, email)
    notify.queue_list_sync("unsubscribe", entry, email)
    entry.email = ""
    entry.email_key = f"deleted:{entry.id}"
    entry.name = None
    entry.answer = None
    entry.consent_text = None
    entry.deleted_at = utcnow()


ADDED, LISTED, GONE = "added", "listed", "gone"


def new_signup(page: Page, content: Content, form: SignupForm) -> Signup:
    """The signup a valid form describes, not stored yet."""
    entry = Signup(
        page=page.slug,
        email=form.email.data,
        email_key=form.email.data.lower(),
        name=form.name.data or None if "name" in form else None,
        answer=form.answer.data or None if "answer" in form else None,
        confirmed_at=None if page.waitlist.double_opt_in else utcnow(),
    )
    if "consent" in form:
        entry.consent_text = content.form.consent
        entry.consented_at = utcnow()
    return entry


def store(page: Page, entry: Signup) -> tuple[str, str | None]:
    """Put a new signup on the page's list and commit: ``(ADDED, its share code)``, ``(LISTED,
    the listed signup's share code)`` when the address was on the list already, or ``(GONE,
    None)`` when it was removed in between. With double opt-in the share code is None (it
    goes out by mail only). Commits; the landing page and the embedded form answer."""
    places.ensure(page)  # before this request writes anything: a first build commits
    if page.waitlist.double_opt_in:
        return _store_to_confirm(page, entry)
    return _store(page, entry)


def _store(page: Page, entry: Signup) -> tuple[str, str | None]:
    """Without double opt-in: the new signup is on the list at once, its number written with
    its row. A listed address changes nothing (the counts taken for it are rolled back)."""
    places.number(page, entry)
    filled = _insert_if_new(entry)
    if filled is None:
        db.session.rollback()
        row = db.session.scalar(SIGNUP_OF, {"slug": page.slug, "email_key": entry.email_key})
        return (GONE, None) if row is None else (LISTED, row.share_code)
    row = _as_written(entry, filled)
    confirmed(page, row, numbered=True)
    notify.on_created(page, row)
    share_code = row.share_code  # read before the commit, which expires what the row holds
    db.session.commit()
    outbox.wake()
    return ADDED, share_code


def _store_to_confirm(page: Page, entry: Signup) -> tuple[str, str | None]:
    """With double opt-in: new or already listed, the same work: one insert-or-nothing, one
    read of the row, one update of the list's counts (which changes nothing for a listed
    address), one queued job (mail and webhooks are built at delivery), so the answer's
    timing tells nobody who is on the list."""
    added = _insert_if_new(entry) is not None
    row = db.session.scalar(SIGNUP_OF, {"slug": page.slug, "email_key": entry.email_key})
    if row is None:  # removed in between: as good as already handled
        return GONE, None
    places.waiting(page, row, added)
    # The visitor's first signup, by source; run for a listed address too (it counts nothing).
    visitor = row.exposure_id if added else None
    counters.signed_up(db.session.connection(), visitor, row.id, utcnow().date())
    notify.queue_received(page, row, added)
    db.session.commit()
    outbox.wake()
    return (ADDED if added else LISTED), None


def confirmed(page: Page, entry: Signup, numbered: bool = False) -> None:
    """The signup is on the list now (at signup, or when the e-mail link is followed with
    double opt-in): it takes its place in line (unless ``numbered`` already, with its row),
    counts as its visitor's conversion and credits its referrer. The view called
    ``places.ensure(page)`` before writing anything."""
    if not numbered:
        places.join(page, entry)
    counters.conversion(entry, signed_up=numbered)
    if entry.referred_by_id:
        places.credit(page, entry.referred_by_id)


def _insert_if_new(entry: Signup) -> Row | None:
    """Insert the signup unless its address is on the page's list; None when it did not go
    in, else what the INSERT filled in (the id and the columns' defaults)."""
    table = Signup.__table__
    values = {column.key: getattr(entry, column.key) for column in table.columns}
    values = {key: value for key, value in values.items() if value is not None}
    connection = db.session.connection()
    return connection.execute(_new_signup(connection.dialect.name), values).first()


@lru_cache(maxsize=2)
def _new_signup(dialect: str) -> Insert:
    """Built once per database kind: every signup runs it."""
    table = Signup.__table__
    insert = dialect_insert(dialect)(table).on_conflict_do_nothing(
        index_elements=["page", "email_key"]
    )
    return insert.returning(table.c.id, table.c.created_at, table.c.share_code, table.c.referrals)


def _as_written(entry: Signup, filled: Row) -> Signup:
    """The new signup as a row of the session, as the INSERT wrote it, without reading it
    back: the entry's values plus what the INSERT filled in."""
    for column in Signup.__table__.columns:
        setattr(entry, column.key, getattr(entry, column.key))  # unset: None, as written
    for key, value in filled._mapping.items():
        setattr(entry, key, value)
    make_transient_to_detached(entry)
    db.session.add(entry)
    return entry


# Built once: every signup reads its row back.
SIGNUP_OF = select(Signup).where(
    Signup.page == bindparam("slug"), Signup.email_key == bindparam("email_key")
)
