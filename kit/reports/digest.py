"""The founder digest: one e-mail a day (or a week) with what happened since the last one.

With ``DIGEST_TO`` set (and mail set up), each web process's outbox thread asks on every pass
whether the period that just ended (``DIGEST_EVERY``: yesterday, or last Monday-to-Monday
week, in UTC) has had its digest. The first process to insert that period's ``digest_run``
row queues the mail through the outbox in the same transaction; every other worker or dyno
finds the row taken and sends nothing, so it goes out once whatever the number of processes.
``flask --app app kit digest`` does the same once, for a scheduler instead of the thread.

Per page: visitors, signups, paid pre-orders and ad spend since the last digest, the verdict
and whether it changed, a sample-ratio alarm; then the deliveries that failed.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC
from datetime import date
from datetime import datetime
from datetime import time
from datetime import timedelta

from flask import current_app
from sqlalchemy import func
from sqlalchemy import select

from kit.delivery import mail
from kit.delivery import outbox
from kit.extensions import registry
from kit.models import PAID_BY_VISITORS
from kit.models import AdSpend
from kit.models import DailyConversions
from kit.models import DailyExposures
from kit.models import DigestRun
from kit.models import Outbox
from kit.models import PreOrder
from kit.models import db
from kit.models import utcnow
from kit.pages.schema import Page
from kit.reports import results
from kit.tracking.phases import current_phase
from kit.writes import insert_ignore

EVERY = {"daily": timedelta(days=1), "weekly": timedelta(days=7)}
LONGEST = timedelta(days=31)  # after a long pause, a digest covers a month at most


def period(every: str, now: datetime) -> tuple[str, datetime, datetime]:
    """The last whole period before ``now``: its key, start and end (UTC midnights)."""
    end = datetime.combine(now.date(), time(), UTC)
    if every == "weekly":
        end -= timedelta(days=end.weekday())  # back to Monday
    start = end - EVERY[every]
    return f"{every} {start.date().isoformat()}", start, end


def _end_of(key: str) -> datetime | None:
    every, _, start = key.partition(" ")
    try:
        return datetime.combine(date.fromisoformat(start), time(), UTC) + EVERY[every]
    except (KeyError, ValueError):
        return None


@dataclass(frozen=True)
class PageDigest:
    slug: str
    title: str
    visitors: int
    signups: int
    preorders: int
    revenue: dict[str, int]
    spend: dict[str, int]
    verdict: str  # the decision's badge now
    changed_from: str | None  # the badge at the last digest, when the decision changed since
    srm: bool


@dataclass(frozen=True)
class Digest:
    since: datetime
    until: datetime
    pages: list[PageDigest]
    failed: int  # deliveries given up since
    dashboard: str | None  # a link, when BASE_URL says where the site is

    @property
    def subject(self) -> str:
        signups = sum(page.signups for page in self.pages)
        preorders = sum(page.preorders for page in self.pages)
        alarm = " — check the dashboard" if self.failed or any(p.srm for p in self.pages) else ""
        return (f"Waitlist digest {self.since.date().isoformat()}: {signups:,} signups, "
                f"{preorders:,} pre-orders{alarm}")  # fmt: skip


def send_due(now: datetime | None = None) -> bool:
    """Queue the digest of the period that just ended, unless some process did; True if this
    call queued it. Commits."""
    config = current_app.config
    if not config.get("DIGEST_TO") or not mail.configured(config):
        return False
    key, start, end = period(config["DIGEST_EVERY"], now or utcnow())
    known = current_app.extensions.setdefault("digest", {})
    if known.get("claimed") == key or db.session.get(DigestRun, key) is not None:
        known["claimed"] = key  # this process asks the database again next period
        return False
    last = db.session.scalars(select(DigestRun).order_by(DigestRun.claimed_at.desc())).first()
    since = _end_of(last.period) if last is not None else None
    since = start if since is None or since >= end else max(since, end - LONGEST)
    before = json.loads(last.verdicts) if last is not None else {}
    digest, kinds = build(registry().all(), since, end, before)
    if not insert_ignore(DigestRun, period=key, claimed_at=utcnow(), verdicts=json.dumps(kinds)):
        db.session.rollback()  # another worker or dyno claimed it a moment ago
        known["claimed"] = key
        return False
    message = mail.render("digest", to=config["DIGEST_TO"], subject=digest.subject,
                          unsubscribe=None, digest=digest)  # fmt: skip
    outbox.enqueue("mail", "digest", config["DIGEST_TO"], message)
    db.session.commit()
    known["claimed"] = key
    return True


def build(
    pages: list[Page], since: datetime, until: datetime, before: dict[str, list[str]]
) -> tuple[Digest, dict[str, list[str]]]:
    """The digest of [since, until), and each page's decision (kind, badge) to compare with
    next time."""
    minimum = current_app.config["MIN_VISITORS_FOR_VERDICT"]
    lines, kinds = [], {}
    for page in sorted(pages, key=lambda p: p.slug):
        outcome = results.page_results(page, current_phase(page), minimum)
        decision = outcome.decision
        kinds[page.slug] = [decision.kind, decision.badge]
        old = before.get(page.slug)
        known = isinstance(old, list) and len(old) == 2
        changed = old[1] if known and old[0] != decision.kind else None
        orders, revenue = _preorders(page.slug, since, until)
        lines.append(
            PageDigest(
                page.slug, page.content.title, _visitors(page.slug, since, until),
                _signups(page.slug, since, until), orders, revenue,
                _spend(page.slug, since, until), decision.badge, changed,
                outcome.report.srm.mismatch,
            )
        )  # fmt: skip
    failed = db.session.scalar(
        select(func.count()).where(Outbox.status == "failed", Outbox.created_at >= since)
    )
    base = current_app.config.get("BASE_URL")
    return Digest(since, until, lines, failed or 0, f"{base}/admin/" if base else None), kinds


def _visitors(slug: str, since: datetime, until: datetime) -> int:
    return (
        db.session.scalar(
            select(func.sum(DailyExposures.visitors)).where(
                DailyExposures.page == slug,
                DailyExposures.day >= since.date(),
                DailyExposures.day < until.date(),
            )
        )
        or 0
    )


def _signups(slug: str, since: datetime, until: datetime) -> int:
    """Signups of counted visitors (confirmed, with double opt-in), the dashboard's figure:
    not the founder's, a bot's, a preview's or an unconfirmed address."""
    return (
        db.session.scalar(
            select(func.sum(DailyConversions.signups)).where(
                DailyConversions.page == slug,
                DailyConversions.day >= since.date(),
                DailyConversions.day < until.date(),
            )
        )
        or 0
    )


def _preorders(slug: str, since: datetime, until: datetime) -> tuple[int, dict[str, int]]:
    """Paid pre-orders of counted visitors not refunded in full, and their revenue net of
    refunds, as the dashboard counts them."""
    rows = db.session.execute(
        select(PreOrder.currency, func.count(), func.sum(PreOrder.amount - PreOrder.refunded))
        .where(PreOrder.page == slug, *PAID_BY_VISITORS,
               PreOrder.created_at >= since, PreOrder.created_at < until)
        .group_by(PreOrder.currency)
    ).all()  # fmt: skip
    return sum(n for _, n, _ in rows), {currency: int(net or 0) for currency, _, net in rows}


def _spend(slug: str, since: datetime, until: datetime) -> dict[str, int]:
    """Spend falling on the digest's days: an entry's amount spread evenly over its days."""
    first, last = since.date(), until.date() - timedelta(days=1)
    spent: dict[str, int] = {}
    for entry in db.session.scalars(
        select(AdSpend).where(AdSpend.page == slug, AdSpend.first_day <= last,
                              AdSpend.last_day >= first)
    ):  # fmt: skip
        days = (entry.last_day - entry.first_day).days + 1
        overlap = (min(last, entry.last_day) - max(first, entry.first_day)).days + 1
        if days > 0 and overlap > 0:  # (an entry whose days run backwards spent nothing here)
            share = round(entry.amount * overlap / days)
            spent[entry.currency] = spent.get(entry.currency, 0) + share
    return spent
