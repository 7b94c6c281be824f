"""Database tables. Uniqueness lives here, in constraints, so races cannot create duplicates."""

from __future__ import annotations

import os
import re
import secrets
import sqlite3
from datetime import UTC
from datetime import date
from datetime import datetime
from typing import Any

from flask_sqlalchemy import SQLAlchemy
from sqlalchemy import Date
from sqlalchemy import DateTime
from sqlalchemy import Engine
from sqlalchemy import Float
from sqlalchemy import ForeignKey
from sqlalchemy import Index
from sqlalchemy import Integer
from sqlalchemy import MetaData
from sqlalchemy import String
from sqlalchemy import Text
from sqlalchemy import TypeDecorator
from sqlalchemy import UniqueConstraint
from sqlalchemy import event
from sqlalchemy.orm import DeclarativeBase
from sqlalchemy.orm import Mapped
from sqlalchemy.orm import declared_attr
from sqlalchemy.orm import mapped_column


class Base(DeclarativeBase):
    # Named constraints keep Alembic migrations identical on SQLite and PostgreSQL.
    metadata = MetaData(
        naming_convention={
            "ix": "ix_%(column_0_label)s",
            "uq": "uq_%(table_name)s_%(column_0_name)s",
            "ck": "ck_%(table_name)s_%(constraint_name)s",
            "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
            "pk": "pk_%(table_name)s",
        }
    )


db = SQLAlchemy(model_class=Base)

# What neither database can hold in a text value: NUL (PostgreSQL refuses it) and lone
# surrogates (no UTF-8 encoding: both drivers refuse them). Every text value bound to a
# column passes here, from whatever entry (form, query string, cookie, page file, Stripe
# event, CLI), so none can fail a query: each such character becomes U+FFFD. A lookup with
# one (``?ref=%00x``) then finds nothing instead of failing; entries refuse or strip them
# earlier, with a message, where a person typed them.
_UNSTORABLE = re.compile("[\x00\ud800-\udfff]")


def storable(value: str) -> str:
    """``value`` with every character no database can hold replaced by U+FFFD."""
    return _UNSTORABLE.sub("\ufffd", value)


class _Storable(TypeDecorator):
    def process_bind_param(self, value: Any, dialect: Any) -> Any:
        if isinstance(value, str) and _UNSTORABLE.search(value):
            return storable(value)
        return value


class StoredString(_Storable):
    """``String(n)`` whose values are made storable (see ``storable``)."""

    impl = String
    cache_ok = True


class StoredText(_Storable):
    """``Text`` whose values are made storable (see ``storable``)."""

    impl = Text
    cache_ok = True


def utcnow() -> datetime:
    return datetime.now(UTC)


def aware(moment: datetime) -> datetime:
    """A stored time as an aware UTC datetime: SQLite hands back naive ones (stored in UTC),
    PostgreSQL aware ones."""
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def new_share_code() -> str:
    """An unguessable, URL-safe code for share links (about 72 random bits)."""
    return secrets.token_urlsafe(9)


SHARE_CODE_RE = re.compile(r"[A-Za-z0-9_-]{1,16}")


def is_share_code(value: object) -> bool:
    """Whether ``value`` has the shape of a share code (a link or cookie may carry anything)."""
    return isinstance(value, str) and SHARE_CODE_RE.fullmatch(value) is not None


class Exposure(db.Model):
    """The first time one visitor saw one experiment on one page; later views write nothing."""

    __table_args__ = (
        UniqueConstraint("page", "experiment", "visitor_key"),
        Index("ix_exposure_page_experiment_variant", "page", "experiment", "variant"),
        Index("ix_exposure_page_experiment_first_seen", "page", "experiment", "first_seen"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    page: Mapped[str] = mapped_column(StoredString(64))
    experiment: Mapped[str] = mapped_column(StoredString(64))  # "" when the page runs no experiment
    variant: Mapped[str] = mapped_column(StoredString(64))
    visitor_key: Mapped[str] = mapped_column(StoredString(64))  # hash of the random cookie id
    first_seen: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    utm_source: Mapped[str | None] = mapped_column(StoredString(100))
    utm_medium: Mapped[str | None] = mapped_column(StoredString(100))
    utm_campaign: Mapped[str | None] = mapped_column(StoredString(100))
    utm_content: Mapped[str | None] = mapped_column(StoredString(100))
    utm_term: Mapped[str | None] = mapped_column(StoredString(100))
    referrer_host: Mapped[str | None] = mapped_column(StoredString(255))
    device: Mapped[str] = mapped_column(StoredString(16), default="desktop")


class DailyCount:
    """Visitors per page, experiment, variant and UTC day: the shape of a daily counter."""

    KEY = ("page", "experiment", "variant", "day")  # one counter row

    @declared_attr.directive
    def __table_args__(cls) -> tuple:
        return (UniqueConstraint(*cls.KEY),)

    id: Mapped[int] = mapped_column(primary_key=True)
    page: Mapped[str] = mapped_column(StoredString(64))
    experiment: Mapped[str] = mapped_column(StoredString(64))
    variant: Mapped[str] = mapped_column(StoredString(64))
    day: Mapped[date] = mapped_column(Date)
    visitors: Mapped[int] = mapped_column(Integer, default=0)


class DailyExposures(DailyCount, db.Model):
    """Exposed visitors per page, experiment, variant and UTC day, counted as they arrive.

    Written in the same transaction as the exposure rows it counts, so it always agrees with them;
    the dashboard reads totals and charts from these few hundred rows instead of counting
    millions of exposures on every view.
    """

    __tablename__ = "daily_exposures"


class DailySource(db.Model):
    """Per page, experiment, variant, UTC day and traffic source (one dimension's value):
    visitors first seen there, and visitors who converted. Written with the exposures and
    conversions it counts (kit/tracking/counters.py); the sources page reads these rows only."""

    __tablename__ = "daily_sources"
    __table_args__ = (
        UniqueConstraint("page", "experiment", "variant", "day", "dimension", "value"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    page: Mapped[str] = mapped_column(StoredString(64))
    experiment: Mapped[str] = mapped_column(StoredString(64))
    variant: Mapped[str] = mapped_column(StoredString(64))
    day: Mapped[date] = mapped_column(Date)
    dimension: Mapped[str] = mapped_column(StoredString(16))
    value: Mapped[str] = mapped_column(StoredString(255))  # "" when the visit had none
    visitors: Mapped[int] = mapped_column(Integer, default=0)
    converted: Mapped[int] = mapped_column(Integer, default=0)  # their first confirmed signup
    signed_up: Mapped[int] = mapped_column(Integer, default=0)  # first signup, confirmed or not


class Conversion(db.Model):
    """A visitor of an experiment who signed up (confirmed): one row per exposure, however
    many addresses the browser used; written with the signup (or confirmation) that made it."""

    __table_args__ = (UniqueConstraint("page", "experiment", "exposure_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    page: Mapped[str] = mapped_column(StoredString(64))
    experiment: Mapped[str] = mapped_column(StoredString(64))
    variant: Mapped[str] = mapped_column(StoredString(64))
    exposure_id: Mapped[int] = mapped_column(Integer)
    converted_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class DailyConversions(DailyCount, db.Model):
    """Converted visitors per page, experiment, variant and UTC day, counted as they convert
    (like DailyExposures), and the confirmed signups credited to them (more than the visitors
    when a browser signs up twice): the dashboard reads these few rows, not the signups."""

    __tablename__ = "daily_conversions"

    signups: Mapped[int] = mapped_column(Integer, default=0)


class Signup(db.Model):
    """One person on one page's waitlist; ``email_key`` makes addresses unique per page."""

    __table_args__ = (
        UniqueConstraint("page", "email_key"),
        Index("ix_signup_page_created_at", "page", "created_at"),
        Index("ix_signup_page_line_key", "page", "line_key", "id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    page: Mapped[str] = mapped_column(StoredString(64))
    email: Mapped[str] = mapped_column(StoredString(320))
    email_key: Mapped[str] = mapped_column(StoredString(320))  # lower-cased, for uniqueness
    name: Mapped[str | None] = mapped_column(StoredString(200))
    answer: Mapped[str | None] = mapped_column(StoredText)
    consent_text: Mapped[str | None] = mapped_column(StoredText)
    consented_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    experiment: Mapped[str | None] = mapped_column(StoredString(64))
    variant: Mapped[str | None] = mapped_column(StoredString(64))  # None: unattributed
    # The browser it came from (the exposures' hash of the cookie id): one browser signing up
    # several addresses is one visitor, and never its own referrer.
    visitor_key: Mapped[str | None] = mapped_column(StoredString(64))
    exposure_id: Mapped[int | None] = mapped_column(ForeignKey("exposure.id"), index=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    # Referrals: the public code in share links, who referred this person, whom they brought.
    share_code: Mapped[str] = mapped_column(StoredString(16), unique=True, default=new_share_code)
    referred_by_id: Mapped[int | None] = mapped_column(ForeignKey("signup.id"), index=True)
    referrals: Mapped[int] = mapped_column(Integer, default=0)  # credited friends
    # Set at signup without double opt-in, else when the link in the e-mail is followed.
    confirmed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    confirm_sent_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    # The last status-link mail: at most one per CONFIRM_RESEND_MINUTES, whoever asks.
    status_sent_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    # Unsubscribed from our mails (one click in the mailbox, RFC 8058): no more mail goes out
    # unasked (a status link the person asks for still does); the place in line stays.
    unsubscribed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    # "Remove me": personal data wiped, the anonymous row kept so statistics don't shift.
    deleted_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    # The place in line (kit/waitlist/places.py): the number taken when joining it, and that number
    # minus referral_bump per friend; None while not in line (unconfirmed, removed).
    line_seq: Mapped[int | None] = mapped_column(Integer)
    line_key: Mapped[int | None] = mapped_column(Integer)


# The dashboard's referral leaderboard: the top few, read from the top of this index.
Index("ix_signup_page_referrals", Signup.page, Signup.referrals.desc(), Signup.id)


class Outbox(db.Model):
    """Mail, webhooks and mailing-list calls waiting to go out, written with the signup.

    A deliverer claims due rows (``FOR UPDATE SKIP LOCKED`` on PostgreSQL), sends them and
    marks them done, retrying with exponential backoff until it gives up (``failed``).
    """

    __table_args__ = (Index("ix_outbox_status_due", "status", "due_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(StoredString(16))  # mail | webhook | list
    event: Mapped[str] = mapped_column(StoredString(32))  # signup.created, confirm, status_link ...
    target: Mapped[str] = mapped_column(StoredString(500))  # address or URL
    payload: Mapped[str] = mapped_column(StoredText)  # JSON
    # pending | sending | done | failed
    status: Mapped[str] = mapped_column(StoredString(16), default="pending")
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    due_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    done_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    last_error: Mapped[str | None] = mapped_column(StoredText)


class GoalClick(db.Model):
    """A visitor clicked a tracked goal (fake door); counted once per visitor and goal."""

    __table_args__ = (
        UniqueConstraint("page", "experiment", "goal", "visitor_key"),
        Index("ix_goal_click_page_experiment_variant", "page", "experiment", "variant"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    page: Mapped[str] = mapped_column(StoredString(64))
    experiment: Mapped[str] = mapped_column(StoredString(64))
    variant: Mapped[str] = mapped_column(StoredString(64))
    goal: Mapped[str] = mapped_column(StoredString(64))
    visitor_key: Mapped[str] = mapped_column(StoredString(64))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class WaitlistLine(db.Model):
    """Per page: the last number handed out in line, how many are in line, with which bump;
    and the list's counts the dashboard shows, kept with them (kit/waitlist/places.py)."""

    __tablename__ = "waitlist_line"

    page: Mapped[str] = mapped_column(StoredString(64), primary_key=True)
    seq: Mapped[int] = mapped_column(Integer)
    live: Mapped[int] = mapped_column(Integer)
    bump: Mapped[int] = mapped_column(Integer)
    signups: Mapped[int] = mapped_column(Integer, default=0)  # rows, removed ones included
    unconfirmed: Mapped[int] = mapped_column(Integer, default=0)  # double opt-in, waiting
    referred: Mapped[int] = mapped_column(Integer, default=0)  # came through a share link
    unattributed: Mapped[int] = mapped_column(Integer, default=0)  # confirmed, no experiment


class LineBucket(db.Model):
    """How many people in a page's line have a key in one bucket of ``line.BUCKET`` numbers."""

    __tablename__ = "line_bucket"

    page: Mapped[str] = mapped_column(StoredString(64), primary_key=True)
    bucket: Mapped[int] = mapped_column(Integer, primary_key=True)
    people: Mapped[int] = mapped_column(Integer)


class RateLimit(db.Model):
    """One rate-limit counter (a client address and a limit) for its current window.

    Every worker and instance counts in the same row, so a limit holds for the whole site
    without Redis (``kit/ratelimit_storage.py``).
    """

    __tablename__ = "rate_limit"

    key: Mapped[str] = mapped_column(StoredString(255), primary_key=True)
    hits: Mapped[int] = mapped_column(Integer)
    expires_at: Mapped[float] = mapped_column(Float)  # Unix time the window ends


class AdminSession(db.Model):
    """A dashboard login: the browser holds a random token, the database its hash.

    Logging out deletes the row, so a copied cookie stops working everywhere at once; a
    password change ends every session (``password_marker`` no longer matches).
    """

    __tablename__ = "admin_session"

    id: Mapped[int] = mapped_column(primary_key=True)
    token_hash: Mapped[str] = mapped_column(StoredString(64), unique=True)
    password_marker: Mapped[str] = mapped_column(StoredString(64))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class PreOrder(db.Model):
    """A paid pre-order: one completed Stripe Checkout Session. Only what the dashboard needs
    is kept (tier, amount, currency, time, the visitor's page and variant): no card, no
    address, no e-mail."""

    __tablename__ = "pre_order"
    __table_args__ = (
        Index("ix_pre_order_page_experiment_variant", "page", "experiment", "variant"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    checkout_session: Mapped[str] = mapped_column(StoredString(255), unique=True)  # cs_...
    payment_intent: Mapped[str | None] = mapped_column(StoredString(255), index=True)  # refunds
    page: Mapped[str | None] = mapped_column(StoredString(64))  # None: not through the button
    experiment: Mapped[str | None] = mapped_column(StoredString(64))
    variant: Mapped[str | None] = mapped_column(StoredString(64))  # None: unattributed
    tier: Mapped[str] = mapped_column(StoredString(64))
    visitor_key: Mapped[str | None] = mapped_column(StoredString(64))
    # The tags of the visit it came from (copied from the exposure): cost per pre-order by source.
    utm_source: Mapped[str | None] = mapped_column(StoredString(100))
    utm_campaign: Mapped[str | None] = mapped_column(StoredString(100))
    amount: Mapped[int] = mapped_column(Integer)  # in the currency's smallest unit (cents)
    currency: Mapped[str] = mapped_column(StoredString(3))
    refunded: Mapped[int] = mapped_column(Integer, default=0)  # of amount, same unit
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    refunded_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


NOT_REFUNDED = PreOrder.refunded < PreOrder.amount  # a pre-order not refunded in full
# What "paid pre-orders" means wherever it is shown: by counted visitors, not refunded in full.
PAID_BY_VISITORS = (PreOrder.variant.is_not(None), NOT_REFUNDED)


class ShareLink(db.Model):
    """A read-only demand report anyone with the link may open: of one page (its test as it
    stands when opened) or of the ideas compared (``page`` None). The URL carries the public id
    and an HMAC of it under SECRET_KEY, so the table alone opens nothing; revoking deletes the
    row and the link answers 404."""

    __tablename__ = "share_link"

    id: Mapped[int] = mapped_column(primary_key=True)
    public_id: Mapped[str] = mapped_column(StoredString(32), unique=True)
    page: Mapped[str | None] = mapped_column(StoredString(64))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class StripeEvent(db.Model):
    """A Stripe event already acted on: its id is the key, so a retry or a second worker
    receiving the same event inserts nothing and changes nothing. A payment the kit could not
    book (an amount or id it can't store) keeps why, and what it said, for the dashboard."""

    __tablename__ = "stripe_event"

    id: Mapped[str] = mapped_column(StoredString(255), primary_key=True)  # evt_...
    type: Mapped[str] = mapped_column(StoredString(64))
    received_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    problem: Mapped[str | None] = mapped_column(StoredString(200))  # None: booked or ignored
    page: Mapped[str | None] = mapped_column(StoredString(64))  # the page its reference names
    detail: Mapped[str | None] = mapped_column(StoredText)  # JSON: the fields the kit read


class AdSpend(db.Model):
    """Money spent bringing visitors to a page: one UTM source (and campaign, "" for all of
    the source's campaigns) over a range of UTC days, both ends included."""

    __tablename__ = "ad_spend"

    id: Mapped[int] = mapped_column(primary_key=True)
    page: Mapped[str] = mapped_column(StoredString(64), index=True)
    utm_source: Mapped[str] = mapped_column(StoredString(100))
    utm_campaign: Mapped[str] = mapped_column(StoredString(100), default="")
    first_day: Mapped[date] = mapped_column(Date)
    last_day: Mapped[date] = mapped_column(Date)
    amount: Mapped[int] = mapped_column(Integer)  # in the currency's smallest unit (cents)
    currency: Mapped[str] = mapped_column(StoredString(3))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class ExperimentPhase(db.Model):
    """A span of a test during which its variants stayed as they were (kit/tracking/phases.py):
    each edit of a running variant's content, or of the split, starts the next number."""

    __tablename__ = "experiment_phase"
    __table_args__ = (UniqueConstraint("page", "experiment", "number"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    page: Mapped[str] = mapped_column(StoredString(64))
    experiment: Mapped[str] = mapped_column(StoredString(64))  # the test's key in the page file
    number: Mapped[int] = mapped_column(Integer)  # 1, 2, …
    started_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    snapshot: Mapped[str] = mapped_column(StoredText)  # JSON: each variant's share and fields
    change: Mapped[str] = mapped_column(StoredText, default="")  # what changed, in words


class DigestRun(db.Model):
    """A founder digest sent (or being sent) for one period: the key makes it once per period
    whatever the number of workers and dynos; ``verdicts`` (JSON) lets the next one say what
    changed."""

    __tablename__ = "digest_run"

    period: Mapped[str] = mapped_column(StoredString(32), primary_key=True)  # "daily 2026-11-25"
    claimed_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    verdicts: Mapped[str] = mapped_column(StoredText, default="{}")


@event.listens_for(Engine, "do_connect")
def _sqlite_folder(dialect: Any, conn_rec: Any, cargs: tuple, cparams: dict) -> None:
    """Make a SQLite file's folder (``instance/`` by default) when the database is first
    opened, not when the app is built: ``kit doctor`` and ``kit check`` create no files."""
    if dialect.name == "sqlite" and cargs and cargs[0] not in ("", ":memory:"):
        path = str(cargs[0])
        if not path.startswith("file:"):
            os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)


@event.listens_for(Engine, "connect")
def _sqlite_pragmas(dbapi_connection: Any, connection_record: Any) -> None:
    """SQLite in write-ahead-log mode: readers never wait for the writer, commits are cheap.

    ``synchronous=NORMAL`` is the documented pairing for WAL: the database stays consistent,
    and only a power cut (not a crash of the app) can undo the last moment's commits.
    """
    if isinstance(dbapi_connection, sqlite3.Connection):
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()
