"""Statements that write safely when workers race: an insert that skips a row the unique
constraints already hold, and counters added to in one statement, in either database's
dialect."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection
from sqlalchemy import Insert
from sqlalchemy import Table

from kit import fastpath
from kit.models import db


def insert_ignore(model: type[db.Model], **values: object) -> bool:
    """Insert a row unless it would break a unique constraint; True when a row was added.

    Used where two workers may race to record the same first event (exposures, goal clicks).
    """
    connection = db.session.connection()
    statement = _insert_ignore(model.__table__, connection.dialect.name)
    # A plain Core insert on the session's connection: same transaction, none of the ORM's
    # per-call statement building (this runs on every new visitor's first page view).
    # RETURNING tells whether a row went in (psycopg reports rowcount -1 for this statement).
    return connection.execute(statement, values).first() is not None


def dialect_insert(dialect: str) -> Any:
    """The dialect's ``insert`` construct, which has ``on_conflict_do_nothing/update``."""
    if dialect == "postgresql":
        from sqlalchemy.dialects.postgresql import insert
    else:
        from sqlalchemy.dialects.sqlite import insert
    return insert


@fastpath.kept(maxsize=32)
def _insert_ignore(table: Table, dialect: str) -> Insert:
    return dialect_insert(dialect)(table).on_conflict_do_nothing().returning(*table.primary_key)


def add_to_counters(
    connection: Connection, table: Table, keys: tuple[str, ...], rows: list[dict[str, Any]]
) -> None:
    """Add each row's counts (its columns not in ``keys``) to the counter row its ``keys``
    name, which is created at those counts if new; one statement, in the caller's
    transaction. Rows go in key order, so two writers adding to the same counters never wait
    for each other in turn."""
    if not rows:
        return
    counts = tuple(column for column in rows[0] if column not in keys)
    statement = _adder(table, keys, counts, connection.dialect.name)
    rows = sorted(rows, key=lambda row: tuple(row[key] for key in keys))
    connection.execute(statement, rows if len(rows) > 1 else rows[0])


@fastpath.kept(maxsize=32)
def _adder(table: Table, keys: tuple[str, ...], counts: tuple[str, ...], dialect: str) -> Insert:
    """Built once per counter table (SQLAlchemy then reuses its compiled form too)."""
    upsert = dialect_insert(dialect)(table)
    return upsert.on_conflict_do_update(
        index_elements=list(keys),
        set_={count: table.c[count] + upsert.excluded[count] for count in counts},
    )
