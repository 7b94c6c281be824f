"""What the founder's ad spend bought: cost per visitor, signup, confirmed signup and
pre-order, per spend entry, with intervals."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC
from datetime import date
from datetime import datetime
from datetime import time
from typing import Protocol

from sqlalchemy import func
from sqlalchemy import select

from kit import money
from kit.models import PAID_BY_VISITORS
from kit.models import AdSpend
from kit.models import DailySource
from kit.models import PreOrder
from kit.models import aware
from kit.models import db
from kit.reports.stats import Cost
from kit.reports.stats import cost_per
from kit.tracking.counters import CAMPAIGN
from kit.tracking.counters import campaign_value


@dataclass(frozen=True)
class Costs:
    """Traffic an amount bought and what each step cost (None: not enough data)."""

    visitors: int
    signed_up: int
    confirmed: int
    paying: int
    per_visitor: float | None
    per_signup: Cost | None
    per_confirmed: Cost | None
    per_preorder: Cost | None


def costs_of(
    amount: int, visitors: int, signed_up: int, confirmed: int, paying: int, min_visitors: int
) -> Costs:
    return Costs(
        visitors, signed_up, confirmed, paying,
        amount / visitors if visitors else None,  # exact: no interval, no minimum
        cost_per(amount, visitors, signed_up, min_visitors),
        cost_per(amount, visitors, confirmed, min_visitors),
        cost_per(amount, visitors, paying, min_visitors),
    )  # fmt: skip


@dataclass(frozen=True)
class CostRow:
    """One spend entry and what it bought."""

    spend: AdSpend
    costs: Costs

    @property
    def label(self) -> str:
        return label(self.spend)


class Tagged(Protocol):
    """A spend entry, stored or about to be."""

    utm_source: str
    utm_campaign: str


Tag = tuple[str, str]  # ("utm_source", "google") or (CAMPAIGN, "google\x1flaunch")


def label(entry: Tagged) -> str:
    """ "google / spring-sale", or "google" for the whole source."""
    campaign = entry.utm_campaign
    return f"{entry.utm_source} / {campaign}" if campaign else entry.utm_source


def costs(page: str, min_visitors: int) -> list[CostRow]:
    """Every spend entry of the page, newest range first, with its costs: two reads for all
    the entries (the tagged source counts and the paid pre-orders over their days), however
    many entries a year of weekly ads leaves."""
    entries = db.session.scalars(
        select(AdSpend).where(AdSpend.page == page)
        .order_by(AdSpend.first_day.desc(), AdSpend.id.desc())
    ).all()  # fmt: skip
    if not entries:
        return []
    first, last = min(e.first_day for e in entries), max(e.last_day for e in entries)
    traffic = _traffic(page, entries, first, last)
    paid = _paid(page, first, last)
    rows = []
    for entry in entries:
        tag = _tag(entry)
        days = [c for day, c in traffic.get(tag, []) if entry.first_day <= day <= entry.last_day]
        visitors, signed_up, confirmed = (sum(c[i] for c in days) for i in range(3))
        paying = {key for day, tags, key in paid if tag in tags
                  and entry.first_day <= day <= entry.last_day}  # fmt: skip
        counts = costs_of(entry.amount, visitors, signed_up, confirmed, len(paying), min_visitors)
        rows.append(CostRow(entry, counts))
    return rows


def _tag(entry: AdSpend) -> Tag:
    """What an entry's visitors carry: its source and, when it names one, its campaign (the
    same campaign name on another source is another entry's traffic)."""
    if entry.utm_campaign:
        return (CAMPAIGN, campaign_value(entry.utm_source, entry.utm_campaign))
    return ("utm_source", entry.utm_source)


def _traffic(
    page: str, entries: list[AdSpend], first: date, last: date
) -> dict[Tag, list[tuple[date, tuple[int, int, int]]]]:
    """Per tag and day: visitors, signed up, confirmed (the kept source counts)."""
    tags = {_tag(entry) for entry in entries}
    query = (
        select(DailySource.dimension, DailySource.value, DailySource.day,
               func.sum(DailySource.visitors), func.sum(DailySource.signed_up),
               func.sum(DailySource.converted))
        .where(DailySource.page == page,
               DailySource.dimension.in_({dimension for dimension, _ in tags}),
               DailySource.value.in_({value for _, value in tags}),
               DailySource.day >= first, DailySource.day <= last)
        .group_by(DailySource.dimension, DailySource.value, DailySource.day)
    )  # fmt: skip
    found: dict[Tag, list[tuple[date, tuple[int, int, int]]]] = {}
    for dimension, value, day, *counts in db.session.execute(query):
        day = date.fromisoformat(str(day)[:10])
        found.setdefault((dimension, value), []).append((day, tuple(int(n or 0) for n in counts)))
    return found


def _paid(page: str, first: date, last: date) -> list[tuple[date, set[Tag], str]]:
    """The page's paid pre-orders (not refunded in full, by counted visitors) on those days,
    with the tags of the visit each came from: a handful of rows, read once."""
    start, end = datetime.combine(first, time(), UTC), datetime.combine(last, time.max, UTC)
    rows = db.session.execute(
        select(PreOrder.created_at, PreOrder.utm_source, PreOrder.utm_campaign,
               PreOrder.visitor_key)
        .where(PreOrder.page == page, *PAID_BY_VISITORS,
               PreOrder.created_at >= start, PreOrder.created_at <= end)
    )  # fmt: skip
    return [
        (
            aware(at).date(),
            {("utm_source", source or ""), (CAMPAIGN, campaign_value(source, campaign))},
            key,
        )
        for at, source, campaign, key in rows
    ]


@dataclass(frozen=True)
class Summary:
    """All of a page's spend together, for the overview."""

    amount: dict[str, int]  # per currency
    costs: Costs | None  # None when the spend is in several currencies


def summary(rows: list[CostRow], min_visitors: int) -> Summary | None:
    """The page's entries added up (None without any): entries should not overlap."""
    if not rows:
        return None
    amount = money.add_up({row.spend.currency: row.spend.amount} for row in rows)
    if len(amount) > 1:
        return Summary(amount, None)
    counts = [sum(getattr(row.costs, name) for row in rows)
              for name in ("visitors", "signed_up", "confirmed", "paying")]  # fmt: skip
    return Summary(amount, costs_of(next(iter(amount.values())), *counts, min_visitors))


def cost_text(cost: Cost | None, currency: str) -> str:
    """ "$4.20 ($3.10 to $6.50)"; "$10.00, too few visitors for a range" below the minimum of
    visitors ("none yet" while nobody converted); "not enough data" without visitors."""
    if cost is None:
        return "not enough data"
    if cost.low is None:
        if cost.value is None:
            return "none yet"
        return f"{money.text(cost.value, currency)}, too few visitors for a range"
    high = money.text(cost.high, currency) if cost.high is not None else "no upper bound yet"
    low = money.text(cost.low, currency)
    if cost.value is None:
        return f"none yet (at least {low})"
    return f"{money.text(cost.value, currency)} ({low} to {high})"
