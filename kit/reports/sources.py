"""Where converting visitors came from: the sources report, read from kept counters."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import func
from sqlalchemy import select

from kit.models import DailySource
from kit.models import db
from kit.pages.schema import Page
from kit.reports.stats import conversion_rate
from kit.reports.stats import wilson_interval

SOURCE_DIMENSIONS = {
    "utm_source": "UTM source",
    "utm_medium": "UTM medium",
    "utm_campaign": "UTM campaign",
    "referrer_host": "Referrer",
    "device": "Device",
}


@dataclass(frozen=True)
class SourceRow:
    value: str
    visitors: int
    signups: int
    rate: float | None
    low: float | None
    high: float | None


def by_dimension(page: Page, experiment: str, dimension: str) -> list[SourceRow]:
    """Visitors, converted visitors and conversion by one traffic source dimension, summed
    from the kept daily counts (kit/tracking/counters.py), biggest first."""
    counts = db.session.execute(
        select(DailySource.value, func.sum(DailySource.visitors), func.sum(DailySource.converted))
        .where(
            DailySource.page == page.slug,
            DailySource.experiment == experiment,
            DailySource.dimension == dimension,
        )
        .group_by(DailySource.value)
    ).all()
    visitors = {value or None: seen or 0 for value, seen, _ in counts}
    signups = {value or None: joined or 0 for value, _, joined in counts}
    rows = []
    for value, seen in sorted(visitors.items(), key=lambda item: (-item[1], str(item[0]))):
        joined = signups.get(value, 0)
        interval = wilson_interval(joined, seen)
        rows.append(
            SourceRow(
                value if value is not None else "(none)",
                seen,
                joined,
                conversion_rate(joined, seen),
                interval.low if interval else None,
                interval.high if interval else None,
            )
        )
    return rows


def traffic_sources() -> list[str]:
    """The utm_source values any page has seen, for the comparison's filter."""
    query = (
        select(DailySource.value)
        .where(DailySource.dimension == "utm_source", DailySource.value != "")
        .distinct()
        .order_by(DailySource.value)
    )
    return list(db.session.scalars(query))
