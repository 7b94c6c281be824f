"""Counts per UTC day and variant: the charts' rows and the daily looks of the sequential tests."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from datetime import timedelta
from typing import Any

from kit.reports.stats import Arm
from kit.reports.stats import conversion_rate


@dataclass(frozen=True)
class DailyRow:
    day: date
    variant: str
    visitors: int
    signups: int
    cumulative_visitors: int
    cumulative_signups: int
    cumulative_rate: float | None


PerDay = dict[tuple[date, str], int]
MAX_CALENDAR_DAYS = 1000  # a longer span (odd dates in old data) charts only days with data


def by_day(rows: Iterable[Any]) -> PerDay:
    """``{(day, variant): count}`` from rows of (day, variant, count)."""
    # SQLite's date() gives text, PostgreSQL's a date: read both as a date.
    counts: PerDay = {}
    for day, variant, n in rows:
        key = (date.fromisoformat(str(day)[:10]), variant)
        counts[key] = counts.get(key, 0) + (n or 0)
    return counts


def totals(per_day: PerDay) -> dict[str, int]:
    totals: dict[str, int] = {}
    for (_, variant), n in per_day.items():
        totals[variant] = totals.get(variant, 0) + n
    return totals


def calendar(days: set[date]) -> list[date]:
    """Every day from the first to the last with data (days without data included)."""
    if not days:
        return []
    first, last = min(days), max(days)
    if (last - first).days > MAX_CALENDAR_DAYS:
        return sorted(days)
    return [first + timedelta(days=n) for n in range((last - first).days + 1)]


def looks_of(arms: list[Arm], days: list[DailyRow]) -> list[list[Arm]]:
    """The arms' cumulative counts at the end of each day: the looks of the sequential test.
    ``days`` holds one row per arm per day, in the arms' order (``_daily_rows``)."""
    width = len(arms)
    return [
        [Arm(a.name, r.cumulative_visitors, r.cumulative_signups, a.weight)
         for a, r in zip(arms, days[start : start + width], strict=True)]
        for start in range(0, len(days), width)
    ]  # fmt: skip


def daily_rows(arms: list[Arm], visitors: PerDay, converted: PerDay) -> list[DailyRow]:
    """Visitors and converted visitors per UTC day and variant, with running totals (charts)."""
    rows = []
    totals = {arm.name: [0, 0] for arm in arms}
    for day in calendar({day for day, _ in visitors} | {day for day, _ in converted}):
        for arm in arms:
            seen, joined = visitors.get((day, arm.name), 0), converted.get((day, arm.name), 0)
            totals[arm.name][0] += seen
            totals[arm.name][1] += joined
            cumulative_visitors, cumulative_signups = totals[arm.name]
            rate = conversion_rate(cumulative_signups, cumulative_visitors)
            rows.append(
                DailyRow(day, arm.name, seen, joined, cumulative_visitors, cumulative_signups, rate)
            )
    return rows
