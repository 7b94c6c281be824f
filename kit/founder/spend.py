"""Ad spend entries: what the founder typed (form or CLI) checked and stored, an amount
against a UTM source (and campaign) and a range of days; an entry that would share visitors
with one already recorded is refused. What each entry bought (cost per visitor, signup,
confirmed signup, pre-order) is kit/reports/costs.py.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sqlalchemy import literal
from sqlalchemy import or_
from sqlalchemy import select

from kit import money
from kit.models import AdSpend
from kit.models import db

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
    """Store the entry for the page (the caller commits), unless it overlaps one already
    there: the same source, days in common, and the same campaign or either one for the whole
    source. Those visitors would be counted twice."""
    overlapping = db.session.scalars(
        select(AdSpend)
        .where(
            AdSpend.page == page,
            AdSpend.utm_source == entry.utm_source,
            AdSpend.first_day <= entry.last_day,
            AdSpend.last_day >= entry.first_day,
            or_(
                AdSpend.utm_campaign == entry.utm_campaign,
                AdSpend.utm_campaign == "",
                literal(entry.utm_campaign == ""),
            ),
        )
        .order_by(AdSpend.id)
    ).first()
    if overlapping is not None:
        what = overlapping.utm_source + (
            f" / {overlapping.utm_campaign}" if overlapping.utm_campaign else ""
        )
        raise SpendError(
            f"source: entry #{overlapping.id} ({what}, {overlapping.first_day} to "
            f"{overlapping.last_day}) already covers some of these visitors; change the days or "
            "the campaign, or delete that entry first"
        )
    row = AdSpend(page=page, **entry.__dict__)
    db.session.add(row)
    return row
