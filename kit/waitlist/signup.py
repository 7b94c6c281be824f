"""The only write path of the list: add a signup, confirm it, remove it, unsubscribe it.

Each function does the whole change a person's action makes, in the caller's transaction:
the signup row, the place in line (kit/waitlist/places.py), the kept counters
(kit/tracking/counters.py), the referrer's credit and the mails and webhooks to queue
(kit/delivery/notify.py). No request objects here; the caller commits once, and that commit
wakes the outbox. Each first makes sure the page's line is built (``places.ensure``), so a
rebuild goes in with the change that needed it.
"""

from __future__ import annotations

from sqlalchemy import Insert
from sqlalchemy import Row
from sqlalchemy import Select
from sqlalchemy import bindparam
from sqlalchemy import select

from kit import fastpath
from kit.delivery import notify
from kit.models import Signup
from kit.models import db
from kit.models import utcnow
from kit.pages.schema import Page
from kit.tracking import counters
from kit.waitlist import places
from kit.waitlist import referrals
from kit.writes import dialect_insert

ADDED, LISTED, GONE = "added", "listed", "gone"


def add_signup(page: Page, entry: Signup) -> tuple[str, str | None]:
    """Put a new signup on the page's list: ``(ADDED, its share code)``, ``(LISTED, the listed
    signup's share code)`` when the address was on the list already, or ``(GONE, None)`` when
    it was removed in between. With double opt-in the share code is None (it goes out by mail
    only). A listed address rolls back what was counted for it."""
    places.ensure(page)
    if page.waitlist.double_opt_in:
        return _add_to_confirm(page, entry)
    return _add(page, entry)


def confirm_signup(page: Page, entry: Signup) -> bool:
    """The confirmation link's button was pressed: the signup joins the line, counts as its
    visitor's conversion and credits its referrer. True the first time; two clicks racing
    are decided by the UPDATE, so only one counts."""
    places.ensure(page)
    first = db.session.execute(
        Signup.__table__.update()
        .where(Signup.id == entry.id, Signup.confirmed_at.is_(None))
        .values(confirmed_at=utcnow())
    ).rowcount
    if not first:
        return False
    db.session.refresh(entry)
    _on_the_list(page, entry)
    notify.on_confirmed(page, entry)
    return True


def remove_signup(page: Page, entry: Signup) -> None:
    """Wipe the person's data, keep the anonymous row (statistics stay put), tell receivers."""
    places.ensure(page)
    if entry.referred_by_id and entry.line_key is not None and referrals.earns_credit(entry):
        places.credit(page, entry.referred_by_id, friends=-1)  # or leave and rejoin for more
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


def unsubscribe_signup(entry: Signup) -> bool:
    """No more mail for this person (their place in line stays); False if already so."""
    if entry.unsubscribed_at is not None:
        return False
    entry.unsubscribed_at = utcnow()
    notify.queue_list_sync("unsubscribe", entry, entry.email)
    return True


def _add(page: Page, entry: Signup) -> tuple[str, str | None]:
    """Without double opt-in: the new signup is on the list at once, its number written with
    its row. A listed address changes nothing (the counts taken for it are rolled back)."""
    places.number(page, entry)
    filled = _insert_if_new(entry)
    if filled is None:
        db.session.rollback()
        row = _listed(page, entry)
        return (GONE, None) if row is None else (LISTED, row.share_code)
    row = fastpath.as_written(entry, filled, db.session, lambda: _listed(page, entry))
    _on_the_list(page, row, numbered=True)
    notify.on_created(page, row)
    return ADDED, row.share_code


def _add_to_confirm(page: Page, entry: Signup) -> tuple[str, str | None]:
    """With double opt-in: new or already listed, the same work: one insert-or-nothing, one
    read of the row, one update of the list's counts (which changes nothing for a listed
    address), one queued job (mail and webhooks are built at delivery), so the answer's
    timing tells nobody who is on the list."""
    added = _insert_if_new(entry) is not None
    row = _listed(page, entry)
    if row is None:  # removed in between: as good as already handled
        return GONE, None
    places.waiting(page, row, added)
    # The visitor's first signup, by source; run for a listed address too (it counts nothing).
    visitor = row.exposure_id if added else None
    counters.signed_up(db.session.connection(), visitor, row.id, utcnow().date())
    notify.queue_received(page, row, added)
    return (ADDED if added else LISTED), None


def _on_the_list(page: Page, entry: Signup, numbered: bool = False) -> None:
    """The signup is on the list now (at signup, or at confirmation with double opt-in): it
    takes its place in line (unless ``numbered`` already, with its row), counts as its
    visitor's conversion and credits its referrer."""
    if not numbered:
        places.join(page, entry)
    counters.conversion(entry, signed_up=numbered)
    if entry.referred_by_id and referrals.earns_credit(entry):
        places.credit(page, entry.referred_by_id)


def _insert_if_new(entry: Signup) -> Row | None:
    """Insert the signup unless its address is on the page's list; None when it did not go
    in, else what the INSERT filled in (the id and the columns' defaults)."""
    table = Signup.__table__
    values = {column.key: getattr(entry, column.key) for column in table.columns}
    values = {key: value for key, value in values.items() if value is not None}
    connection = db.session.connection()
    return connection.execute(_new_signup(connection.dialect.name), values).first()


@fastpath.kept(maxsize=2)
def _new_signup(dialect: str) -> Insert:
    """Built once per database kind: every signup runs it."""
    table = Signup.__table__
    insert = dialect_insert(dialect)(table).on_conflict_do_nothing(
        index_elements=["page", "email_key"]
    )
    return insert.returning(table.c.id, table.c.created_at, table.c.share_code, table.c.referrals)


def _listed(page: Page, entry: Signup) -> Signup | None:
    """The page's signup of the entry's address, as stored."""
    whose = {"slug": page.slug, "email_key": entry.email_key}
    return db.session.scalar(_signup_of(), whose)


@fastpath.kept(maxsize=1)
def _signup_of() -> Select:
    return select(Signup).where(
        Signup.page == bindparam("slug"), Signup.email_key == bindparam("email_key")
    )
