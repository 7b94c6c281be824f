"""One outbox for mail, webhooks and mailing-list calls, so none of them can slow a signup.

The signup's own transaction writes the outbox rows; nothing is sent inside the request. A
deliverer thread in each web process (started on its first request; no extra worker dyno)
wakes when something is queued and every OUTBOX_POLL_SECONDS, claims due rows and sends them.
Claiming is an UPDATE of rows selected ``FOR UPDATE SKIP LOCKED`` on PostgreSQL (SQLite has
one writer at a time), so several workers and dynos never send the same row at once. A failed
send is retried with exponential backoff; after OUTBOX_GIVE_UP_HOURS the row is marked
``failed`` and listed on the dashboard. A row is marked done right after the receiver
acknowledged it; only a crash in between can repeat a delivery, and webhooks carry a
delivery id for that case. ``flask --app app kit deliver`` does one pass, for cron.
"""

from __future__ import annotations

import json
import os
import threading
from collections.abc import Callable
from datetime import timedelta
from typing import Any

from flask import Flask
from flask import current_app
from flask import g
from flask import has_app_context
from sqlalchemy import event
from sqlalchemy import select
from sqlalchemy import update
from sqlalchemy.orm import Session

from kit.delivery import mail
from kit.delivery import webhooks
from kit.models import Outbox
from kit.models import aware
from kit.models import db
from kit.models import utcnow
from kit.waitlist.referrals import mask

LEASE = timedelta(minutes=2)  # a claimed row is free again if its sender died
MAX_BACKOFF = timedelta(hours=1)


# Mail whose message is written at delivery, not in the request: event -> a function of the
# row that returns the message, or None when there is nothing to send.
PreparedMail = dict[str, Callable[[Outbox], dict[str, Any] | None]]
# Work done at delivery instead of in the request (kind "job"): event -> a function of the row
# that queues what is to go out; it is committed with the row marked done.
Jobs = dict[str, Callable[[Outbox], None]]


def enqueue(kind: str, event: str, target: str, payload: dict[str, Any]) -> None:
    """Queue a delivery in the current transaction: it goes out only if that commits, and the
    commit wakes this process's deliverer (``_wake_after_commit``)."""
    db.session.add(Outbox(kind=kind, event=event, target=target[:500], payload=json.dumps(payload)))
    if has_app_context():
        g.outbox_queued = True


def claim(limit: int = 20) -> list[int]:
    """Take up to ``limit`` due rows for this process; commits the claim.

    Looks first and writes only when something is due: on SQLite a write takes the one write
    lock, which a signup must never wait for because of an idle deliverer. The claiming UPDATE
    re-checks that each row is still due, so two processes never claim the same row.
    """
    now = utcnow()
    is_due = Outbox.status.in_(("pending", "sending")), Outbox.due_at <= now
    due = db.session.scalars(
        select(Outbox.id)
        .where(*is_due)
        .order_by(Outbox.due_at, Outbox.id)
        .limit(limit)
        .with_for_update(skip_locked=True)
    ).all()
    if not due:
        db.session.rollback()  # ends the read; nothing was written
        return []
    claimed = db.session.scalars(
        update(Outbox)
        .where(Outbox.id.in_(due), *is_due)
        .values(status="sending", due_at=now + LEASE)
        .returning(Outbox.id)
    ).all()
    db.session.commit()
    return sorted(claimed)


def _send(row: Outbox) -> None:
    payload = json.loads(row.payload)
    deliverer: Deliverer = current_app.extensions["outbox"]
    if row.kind == "mail" and row.event in deliverer.prepared_mail:
        message = deliverer.prepared_mail[row.event](row)
        if message is not None:
            mail.send(message)
    elif row.kind == "mail":
        mail.send(payload)
    elif row.kind == "job":
        deliverer.jobs[row.event](row)
    elif row.kind == "webhook":
        webhooks.post(row.target, payload["format"], payload["event"], row.id)
    else:
        webhooks.sync_list(payload["action"], row.target, payload["tag"])


def deliver(row_id: int) -> bool:
    """Send one claimed row (or do its job); True when something went out."""
    row = db.session.get(Outbox, row_id)
    if row is None or row.status != "sending":
        return False
    try:
        _send(row)
    except mail.DeliveryError as error:
        _failed(row, str(error))
        return False
    except Exception as error:  # noqa: BLE001 - a bug in one row must not stall the others
        current_app.logger.exception("delivery %s crashed", row.id)
        _failed(row, f"{type(error).__name__}: {error}")
        return False
    row.status = "done"
    row.done_at = utcnow()
    # Personal data leaves the outbox once delivered: the message, and the address it went to.
    row.payload = "{}"
    if row.kind in ("mail", "list", "job"):
        row.target = mask(row.target)
    row.last_error = None
    db.session.commit()
    return row.kind != "job"  # a job sends nothing itself: the rows it queued do


def _failed(row: Outbox, error: str) -> None:
    now = utcnow()
    row.attempts += 1
    row.last_error = error[:1000]
    give_up = timedelta(hours=current_app.config["OUTBOX_GIVE_UP_HOURS"])
    if now - aware(row.created_at) >= give_up:
        row.status = "failed"
    else:
        base = timedelta(seconds=current_app.config["OUTBOX_RETRY_SECONDS"])
        row.status = "pending"
        row.due_at = now + min(base * 2 ** (row.attempts - 1), MAX_BACKOFF)
    db.session.commit()
    current_app.logger.warning("delivery %s to %s failed: %s", row.id, row.target, error)


def deliver_due(limit: int = 20) -> int:
    """Claim and send everything due now; returns how many went out."""
    sent = 0
    while True:
        claimed = claim(limit)
        if not claimed:
            return sent
        sent += sum(deliver(row_id) for row_id in claimed)


def failed_deliveries(limit: int = 50) -> list[Outbox]:
    return list(
        db.session.scalars(
            select(Outbox).where(Outbox.status == "failed").order_by(Outbox.id.desc()).limit(limit)
        )
    )


class Deliverer:
    """The background thread of one web process: each pass runs the periodic work (the
    digest, which may queue mail), then sends what is due. A commit that queued something
    wakes it."""

    def __init__(
        self, app: Flask, periodic: tuple[Callable[[], Any], ...], prepared_mail: PreparedMail,
        jobs: Jobs,
    ) -> None:  # fmt: skip
        self.app = app
        self.periodic = periodic
        self.prepared_mail = prepared_mail
        self.jobs = jobs
        self.event = threading.Event()
        self.pid: int | None = None
        self.lock = threading.Lock()
        self.stopped = False

    def ensure_started(self) -> None:
        # The pid check restarts the thread in a forked worker (gunicorn --preload).
        if self.pid == os.getpid():
            return
        with self.lock:
            if self.pid != os.getpid():
                self.pid = os.getpid()
                threading.Thread(target=self._run, name="outbox", daemon=True).start()

    def wake(self) -> None:
        self.event.set()

    def stop(self) -> None:
        """End the thread after its current pass (tests; a process exiting needs nothing)."""
        self.stopped = True
        self.event.set()

    def _run(self) -> None:
        while True:
            self.event.wait(self.app.config["OUTBOX_POLL_SECONDS"])
            self.event.clear()
            if self.stopped:
                return
            with self.app.app_context():
                for work in (*self.periodic, deliver_due):  # periodic work first: it queues mail
                    try:
                        work()
                    except Exception:  # noqa: BLE001 - a database hiccup must not end the thread
                        db.session.rollback()
                        self.app.logger.exception("%s failed; retrying later", work.__name__)
                db.session.remove()


def init_app(
    app: Flask,
    periodic: tuple[Callable[[], Any], ...] = (),
    prepared_mail: PreparedMail | None = None,
    jobs: Jobs | None = None,
) -> None:
    """Give the app its deliverer, with the work it does besides sending (the factory passes
    the digest and kit/delivery/notify.py's tables)."""
    deliverer = Deliverer(app, periodic, prepared_mail or {}, jobs or {})
    app.extensions["outbox"] = deliverer
    if app.config["OUTBOX_WORKER"]:
        app.before_request(deliverer.ensure_started)
    if not event.contains(db.session, "after_commit", _wake_after_commit):
        event.listen(db.session, "after_commit", _wake_after_commit)


def _wake_after_commit(session: Session) -> None:
    """A commit that queued something wakes this process's deliverer, whichever view, command
    or job committed it (a signup with no mail or webhook set up wakes nothing)."""
    if not has_app_context() or not g.pop("outbox_queued", False):
        return
    deliverer = current_app.extensions.get("outbox")
    if deliverer is not None and current_app.config["OUTBOX_WORKER"]:
        deliverer.wake()
