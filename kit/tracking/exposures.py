"""Writing what a page view records (first exposures, goal clicks): in a transaction of its
own, now (tests, ``kit`` commands) or in batches behind the request. A GET commits nothing.

A new visitor's page view should cost little more than a returning one's. With
``EXPOSURE_WRITER`` on (the default), the view only queues the row; a background thread of
each web process writes whatever has queued up in one statement and one commit, a tenth of a
second later (dozens of rows under load, one when traffic is light). The unique constraint
still keeps one row per visitor when two workers race. A signup that comes before the thread
has written the visitor's row writes it itself (``ensure``), and a click carries the row to
write with it, so attribution never depends on timing. What a process has queued is written
when it exits; a ``kill -9`` or a long database outage can lose the last moments' exposures
and clicks (never a signup).
"""

from __future__ import annotations

import atexit
import os
import queue
import threading
from typing import Any

from flask import Flask
from flask import current_app
from sqlalchemy import Connection
from sqlalchemy import Insert
from sqlalchemy import Row
from sqlalchemy import Select
from sqlalchemy import bindparam
from sqlalchemy import select
from sqlalchemy.exc import InterfaceError
from sqlalchemy.exc import OperationalError
from sqlalchemy.exc import SQLAlchemyError

from kit import fastpath
from kit.models import Exposure
from kit.models import GoalClick
from kit.models import db
from kit.models import utcnow
from kit.tracking import counters
from kit.tracking import networks
from kit.writes import dialect_insert

BATCH_SIZE = 500
MAX_QUEUED = 50_000  # rows kept while the database is away; more are dropped (and logged)
RETRY_SECONDS = (0.5, 1, 2, 5)
GATHER_SECONDS = 0.1  # after the first row of a batch, wait this long for more to join it


def insert(connection: Connection, rows: list[dict[str, Any]]) -> list[Row]:
    """Insert the exposures that are new and add them to the daily counters, in the caller's
    transaction; return the rows that went in (id, variant). Rows already there (a race
    between workers, a repeat) are skipped and not counted, and so are visitors over their
    network's cap (kit/tracking/networks.py)."""
    network = {_visitor_of(row): row.get(networks.NETWORK) for row in rows}
    rows = [{k: v for k, v in row.items() if k != networks.NETWORK} for row in rows]
    insert_into = dialect_insert(connection.dialect.name)
    table = Exposure.__table__
    added = connection.execute(
        insert_into(table)
        .on_conflict_do_nothing()
        .returning(
            table.c.id, table.c.page, table.c.experiment, table.c.variant, table.c.first_seen,
            table.c.visitor_key, *(table.c[dimension] for dimension in counters.DIMENSIONS),
        ),
        rows,
    ).all()  # fmt: skip
    added = networks.admit(connection, added, [network[_visitor_of(row)] for row in added])
    counters.exposed(connection, added)
    return added


def write(rows: list[dict[str, Any]]) -> None:
    """Write a batch in a transaction of its own (the writer thread, ``kit`` commands): the
    exposures first, then the clicks, which take their variant from them."""
    clicks = [row for row in rows if "goal" in row]
    shown = [row for row in rows if "goal" not in row]
    shown += [click["exposure"] for click in clicks if click["exposure"] is not None]
    first: dict[tuple, dict[str, Any]] = {}
    for row in shown:  # a page view's row before a click's, which holds the device only
        first.setdefault(_visitor_of(row), row)
    with db.engine.begin() as connection:
        if first:
            insert(connection, list(first.values()))
        if clicks:
            connection.execute(_clicked(connection.dialect.name), clicks)


def click(page: str, experiment: str, visitor_key: str, goal: str, shown: dict | None) -> dict:
    """A goal click to ``record``: counted once per visitor and goal, for the variant of the
    visitor's exposure (``shown``, written first if not yet there; None: already stored)."""
    return {"page": page, "experiment": experiment, "visitor": visitor_key, "goal": goal,
            "at": utcnow(), "exposure": shown}  # fmt: skip


def _visitor_of(row: Any) -> tuple:
    """A row's visitor: (page, experiment, visitor key), of a dict or an inserted row."""
    if isinstance(row, dict):
        return row["page"], row["experiment"], row["visitor_key"]
    return row.page, row.experiment, row.visitor_key


@fastpath.kept(maxsize=2)
def _clicked(dialect: str) -> Insert:
    """The click, with the variant its visitor's exposure holds; nothing without one."""
    clicks, exposure = GoalClick.__table__, Exposure.__table__
    found = select(
        exposure.c.page, exposure.c.experiment, exposure.c.variant,
        bindparam("goal", type_=clicks.c.goal.type), exposure.c.visitor_key,
        bindparam("at", type_=clicks.c.created_at.type),
    ).where(
        exposure.c.page == bindparam("page"),
        exposure.c.experiment == bindparam("experiment"),
        exposure.c.visitor_key == bindparam("visitor"),
    )  # fmt: skip
    columns = ["page", "experiment", "variant", "goal", "visitor_key", "created_at"]
    return dialect_insert(dialect)(clicks).from_select(columns, found).on_conflict_do_nothing()


# Every signup and goal click looks up its visitor's exposure.
@fastpath.kept(maxsize=1)
def _find() -> Select:
    return select(Exposure.id, Exposure.variant).where(
        Exposure.page == bindparam("page"),
        Exposure.experiment == bindparam("experiment"),
        Exposure.visitor_key == bindparam("visitor"),
    )


def ensure(row: dict[str, Any], write: bool = True) -> tuple[int, str] | None:
    """The visitor's exposure (id, variant), written now in the session's transaction if the
    writer thread has not written it yet: a signup or a click is credited the same whether it
    comes a minute or a millisecond after the page view. ``write=False`` only looks it up.
    None: not there (and not written: over its network's cap, or only looked up)."""
    connection = db.session.connection()
    whose = {"page": row["page"], "experiment": row["experiment"], "visitor": row["visitor_key"]}
    found = connection.execute(_find(), whose).first()
    if found is None and write:
        found = next(iter(insert(connection, [row])), None)
        # Not inserted: another worker's writer wrote it in between (it is there now), or the
        # visitor is over their network's cap (it is not).
        found = found or connection.execute(_find(), whose).first()
    return (found.id, found.variant) if found is not None else None


class ExposureWriter:
    """One web process's queue of exposures and the thread that writes them."""

    def __init__(self, app: Flask) -> None:
        self.app = app
        self.queue: queue.SimpleQueue[dict[str, Any] | None] = queue.SimpleQueue()
        self.lock = threading.Lock()
        self.written = threading.Condition()
        self.unwritten = 0  # queued or being written: flush() waits for the thread's batch too
        self.stopping = threading.Event()
        self.hurry = threading.Event()  # write what is queued now, without gathering more
        self.thread: threading.Thread | None = None
        self.pid: int | None = None
        self.dropped = 0

    def add(self, row: dict[str, Any]) -> None:
        """Queue a row; the thread writes it within moments."""
        self._ensure_started()
        if self.queue.qsize() >= MAX_QUEUED:
            self.dropped += 1
            if self.dropped % 1000 == 1:
                self.app.logger.error("exposure queue full: %d exposures dropped", self.dropped)
            return
        with self.written:
            self.unwritten += 1
        self.queue.put(row)

    def flush(self, timeout: float = 10) -> bool:
        """Write what is queued, wait for the thread's batch; False if rows are still unwritten.

        For process exit and for tests that read the rows right after a page view. A running
        thread is only hurried, so the rows are written in the order they came (a click after
        the page view it follows); without one, they are written here.
        """
        if self.pid == os.getpid() and self.thread is not None and self.thread.is_alive():
            self.hurry.set()
        else:
            while batch := self._take():
                self._write_batch(batch)
        with self.written:
            done = self.written.wait_for(lambda: self.unwritten == 0, timeout)
        self.hurry.clear()
        return done

    def stop(self) -> None:
        """End the thread once the queue is written or, if the database is away, now (tests)."""
        atexit.unregister(self._flush_at_exit)
        self.stopping.set()
        self.hurry.set()
        self.queue.put(None)

    def _take(self, first: dict[str, Any] | None = None) -> list[dict[str, Any]]:
        batch = [first] if first is not None else []
        while len(batch) < BATCH_SIZE:
            try:
                row = self.queue.get_nowait()
            except queue.Empty:
                break
            if row is None:  # stop() was called: leave its signal for the thread's loop
                self.queue.put(None)
                break
            batch.append(row)
        return batch

    def _write_batch(self, batch: list[dict[str, Any]]) -> None:
        """Write a batch; a lost connection raises and leaves it to the caller to retry."""
        with self.app.app_context():
            try:
                write(batch)
            except (OperationalError, InterfaceError):
                raise
            except SQLAlchemyError:
                # One unwritable row must not hold up the rest: write them one by one.
                for row in batch:
                    self._write_alone(row)
            finally:
                db.session.remove()
        with self.written:
            self.unwritten -= len(batch)
            self.written.notify_all()

    def _write_alone(self, row: dict[str, Any]) -> None:
        try:
            write([row])
        except (OperationalError, InterfaceError):
            raise
        except SQLAlchemyError:
            self.app.logger.exception("exposure could not be written and is dropped: %r", row)

    def _ensure_started(self) -> None:
        # The pid check starts a thread in each forked worker (gunicorn --preload).
        if self.pid == os.getpid():
            return
        with self.lock:
            if self.pid != os.getpid():
                self.pid = os.getpid()
                self.thread = threading.Thread(target=self._run, name="exposures", daemon=True)
                self.thread.start()
                atexit.register(self._flush_at_exit)

    def _run(self) -> None:
        failures = 0
        while (first := self.queue.get()) is not None:
            # A batch of 30 rows costs little more than a batch of one, so under load waiting a
            # moment for company saves most of the work; with one visitor it costs 0.1 s.
            self.hurry.wait(GATHER_SECONDS)
            batch = self._take(first)
            while True:
                try:
                    self._write_batch(batch)
                    failures = 0
                    break
                except (OperationalError, InterfaceError):
                    self.app.logger.warning(
                        "database unreachable; %d exposures wait for it", len(batch)
                    )
                    delay = RETRY_SECONDS[min(failures, len(RETRY_SECONDS) - 1)]
                    failures += 1
                    if self.stopping.wait(delay):
                        return

    def _flush_at_exit(self) -> None:
        try:
            if not self.flush():
                self.app.logger.error("%d exposures were not written at exit", self.unwritten)
        except Exception:  # noqa: BLE001 - exiting anyway; say what was lost
            self.app.logger.exception("exposures queued at exit could not be written")


def init_app(app: Flask) -> None:
    app.extensions["exposures"] = ExposureWriter(app)


def record(row: dict[str, Any], now: bool = False) -> None:
    """Record a first exposure or a ``click``: queued for the writer thread, or written now
    without one (or when asked to)."""
    writer = current_app.extensions["exposures"]
    if current_app.config["EXPOSURE_WRITER"] and not now:
        writer.add(row)
        return
    if current_app.config["EXPOSURE_WRITER"]:
        writer.flush(timeout=2)  # this process's page views first: theirs are the visit's tags
    write([row])
