"""Ad spend and what it bought: cost per visitor, per signup, per confirmed signup and per
pre-order, for each amount a founder recorded against a UTM source (and campaign) and a range
of days.

The traffic an amount bought is read from the kept source counts (``daily_sources``, the
sources page's own rows): visitors first seen on those days with that ``utm_source`` (or, when
a campaign is named, that ``utm_campaign``), and of them the visitors who signed up and who
confirmed on those days; pre-orders are the paying visitors whose first visit carried the tag.
Costs come with the 95 % interval of the conversion they rest on (kit/stats.cost_per), and
none below the minimum of visitors the verdicts use.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC
from datetime import date
from datetime import datetime
from datetime import time

from sqlalchemy import func
from sqlalchemy import select

from . import money
from .models import AdSpend
from .models import DailySource
from .models import PreOrder
from .models import aware
from .models import db
from .results import PAID
from .stats import Cost
from .stats import cost_per

MAX_DAYS = 366 * 3  # a range longer than this is a typing mistake
# Days a spend entry may name: anything outside is a typing mistake (and 9999-12-31 would
# overflow every date sum the reports make).
FIRST_DAY, LAST_DAY = date(2000, 1, 1), date(2100, 12, 31)


class SpendError(ValueError):
    """A spend entry that can't be stored; the message says which field and why."""


@dataclass(frozen=True)
class Entry:
    """A checked spend entry, ready to store."""

    utm_source: str
    utm_campaign: str
    first_day: date
    last_day: date
    amount: int
    currency: str


def check(
    source: str, campaign: str, first: str | date, last: str | date, amount: str, code: str
) -> Entry:
    """What a founder typed, checked: raises ``SpendError`` naming the field."""
    source, campaign = source.strip(), campaign.strip()
    if not source or len(source) > 100:
        raise SpendError("source: the utm_source value of the ads, 1 to 100 characters")
    if len(campaign) > 100:
        raise SpendError("campaign: 100 characters at most")
    for name, value in (("source", source), ("campaign", campaign)):
        if not value.isprintable():
            raise SpendError(f"{name}: {value!r} holds a control or invisible character")
    first_day, last_day = _day(first, "from"), _day(last, "to")
    if last_day < first_day:
        raise SpendError("to: the last day comes before the first")
    if (last_day - first_day).days > MAX_DAYS:
        raise SpendError(f"to: a range of more than {MAX_DAYS} days")
    try:
        code = money.currency(code)
    except money.MoneyError as error:
        raise SpendError(f"currency: {error}") from None
    try:
        minor = money.parse(amount, code)
    except money.MoneyError as error:
        raise SpendError(f"amount: {error}") from None
    return Entry(source, campaign, first_day, last_day, minor, code)


def _day(value: str | date, field: str) -> date:
    """A typed day (ISO, ASCII digits), between FIRST_DAY and LAST_DAY."""
    day = value if isinstance(value, date) else _iso_day(value.strip())
    if day is None:
        raise SpendError(f"{field}: {value!r} is not a date like 2026-11-01")
    if not FIRST_DAY <= day <= LAST_DAY:
        years = f"{FIRST_DAY.year} and {LAST_DAY.year}"
        raise SpendError(f"{field}: {day} is not a day between {years}")
    return day


def _iso_day(text: str) -> date | None:
    try:
        return date.fromisoformat(text) if text.isascii() else None
    except ValueError:
        return None


def add(page: str, entry: Entry) -> AdSpend:
    """Store the entry for the page (the caller commits)."""
    row = AdSpend(page=page, **entry.__dict__)
    db.session.add(row)
    return row


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


def label(entry: AdSpend | Entry) -> str:
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


Tag = tuple[str, str]  # ("utm_source", "google") or ("utm_campaign", "launch")


def _tag(entry: AdSpend) -> Tag:
    """What an entry's visitors carry: the campaign when one is named, else the source."""
    if entry.utm_campaign:
        return ("utm_campaign", entry.utm_campaign)
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
        .where(PreOrder.page == page, PreOrder.variant.is_not(None), PAID,
               PreOrder.created_at >= start, PreOrder.created_at <= end)
    )  # fmt: skip
    return [
        (aware(at).date(), {("utm_source", source or ""), ("utm_campaign", campaign or "")}, key)
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
    """ "$4.20 ($3.10 to $6.50)"; "not enough data" below the minimum of visitors."""
    if cost is None:
        return "not enough data"
    high = money.text(cost.high, currency) if cost.high is not None else "no upper bound yet"
    low = money.text(cost.low, currency)
    if cost.value is None:
        return f"none yet (at least {low})"
    return f"{money.text(cost.value, currency)} ({low} to {high})"
