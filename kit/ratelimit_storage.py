"""Rate-limit counters in the app's own database, shared by every worker and instance.

Flask-Limiter's memory storage counts per worker process: with two workers, "10 per minute"
let 18 of 22 signups through. Redis shares counters but is one more service to run, so
without ``REDIS_URL`` the limits count in the ``rate_limit`` table instead: a fixed window per
key, advanced by one atomic upsert (``INSERT … ON CONFLICT DO UPDATE … RETURNING``) on
SQLite and PostgreSQL alike, in a transaction of its own. Keys name client addresses, so
they are stored as an HMAC under SECRET_KEY: no IP address is ever written to the database.
"""

from __future__ import annotations

import hashlib
import hmac
import random
import time

from flask import current_app
from limits.storage import Storage
from sqlalchemy import Connection
from sqlalchemy import case
from sqlalchemy import delete
from sqlalchemy import select
from sqlalchemy.exc import SQLAlchemyError

from kit.models import RateLimit
from kit.models import db
from kit.writes import dialect_insert

SCHEME = "database"
CLEAN_UP_EVERY = 1000  # about once in this many hits, windows that ended are deleted


class DatabaseStorage(Storage):
    """A ``limits`` storage (fixed window) over the ``rate_limit`` table; ``database://``."""

    STORAGE_SCHEME = [SCHEME]

    @property
    def base_exceptions(self) -> type[Exception]:
        return SQLAlchemyError

    def incr(self, key: str, expiry: int, amount: int = 1) -> int:
        """Count ``amount`` hits for ``key``; a window that has ended starts again."""
        now = time.time()
        table = RateLimit.__table__
        with db.engine.begin() as connection:
            upsert = dialect_insert(connection.dialect.name)(table).values(
                key=_stored(key), hits=amount, expires_at=now + expiry
            )
            ended = table.c.expires_at <= now
            statement = upsert.on_conflict_do_update(
                index_elements=["key"],
                set_={
                    "hits": case((ended, upsert.excluded.hits), else_=table.c.hits + amount),
                    "expires_at": case(
                        (ended, upsert.excluded.expires_at), else_=table.c.expires_at
                    ),
                },
            ).returning(table.c.hits)
            hits = connection.execute(statement).scalar_one()
            clean_up(connection, now, CLEAN_UP_EVERY)
        return hits

    def get(self, key: str) -> int:
        table = RateLimit.__table__
        query = select(table.c.hits).where(
            table.c.key == _stored(key), table.c.expires_at > time.time()
        )
        with db.engine.connect() as connection:
            return connection.execute(query).scalar() or 0

    def get_expiry(self, key: str) -> float:
        table = RateLimit.__table__
        with db.engine.connect() as connection:
            expiry = connection.execute(
                select(table.c.expires_at).where(table.c.key == _stored(key))
            ).scalar()
        return max(expiry or 0.0, time.time())

    def check(self) -> bool:
        try:
            with db.engine.connect() as connection:
                connection.execute(select(1))
        except SQLAlchemyError:
            return False
        return True

    def reset(self) -> int | None:
        with db.engine.begin() as connection:
            return connection.execute(delete(RateLimit.__table__)).rowcount

    def clear(self, key: str) -> None:
        with db.engine.begin() as connection:
            connection.execute(delete(RateLimit.__table__).where(RateLimit.key == _stored(key)))


def clean_up(connection: Connection, now: float, every: int) -> None:
    """About once in ``every`` calls, delete the windows that have ended: the limits' and the
    new-visitor counts' (kit/tracking/networks.py) alike, whoever calls."""
    if random.randrange(every) == 0:
        table = RateLimit.__table__
        connection.execute(delete(table).where(table.c.expires_at < now))


def _stored(key: str) -> str:
    """The key as stored: an HMAC, so the client address in it can't be read back."""
    secret = current_app.config["SECRET_KEY"].encode()
    return hmac.new(secret, key.encode(), hashlib.sha256).hexdigest()
