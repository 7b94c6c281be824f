"""Where visitors came from, counted as they come: UTM tags, referrer and device per day.

The sources page used to scan every exposure (2 s at a million). Now each batch of new
exposures adds its visitors, and each conversion its converted visitor, to ``daily_sources``
in the same transaction, one row per page, experiment, variant, day and dimension value; the
page sums a few thousand rows. ``rebuild`` recounts everything from the exposure and
conversion rows (tests and benches that load data around the app; the migration does the
same once).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from datetime import date
from functools import lru_cache
from typing import Any

from sqlalchemy import Connection
from sqlalchemy import Date
from sqlalchemy import Insert
from sqlalchemy import bindparam
from sqlalchemy import delete
from sqlalchemy import func
from sqlalchemy import literal
from sqlalchemy import select
from sqlalchemy import union_all

from .models import Conversion
from .models import DailySource
from .models import Exposure
from .models import add_to_counters
from .models import db
from .models import dialect_insert

DIMENSIONS = ("utm_source", "utm_medium", "utm_campaign", "referrer_host", "device")
KEY = ("page", "experiment", "variant", "day", "dimension", "value")  # one counter row
COUNTS = ("visitors", "converted")

Key = tuple[str, str, str, date, str, str]  # page, experiment, variant, day, dimension, value


def keys(row: Any, day: date) -> Iterable[Key]:
    """The counter rows one exposure falls in (one per dimension)."""
    for dimension in DIMENSIONS:
        value = getattr(row, dimension) or ""
        yield (row.page, row.experiment, row.variant, day, dimension, value)


def seen(connection: Connection, counts: Counter[Key]) -> None:
    """Add newly exposed visitors to their counter rows (conversions go through
    ``converted``)."""
    rows = [dict(zip(KEY, key, strict=True), visitors=n, converted=0) for key, n in counts.items()]
    add_to_counters(connection, DailySource.__table__, KEY, rows)


def converted(connection: Connection, exposure_id: int, day: date) -> None:
    """One more converted visitor, under the sources of their first visit: one statement
    that reads the exposure and adds to its counter rows."""
    connection.execute(_converted(connection.dialect.name), {"exposure": exposure_id, "day": day})


@lru_cache(maxsize=2)
def _converted(dialect: str) -> Insert:
    """Built once per database kind: every conversion runs it. The dimensions go in name
    order, which is key order (see ``add_to_counters``)."""
    exposure = Exposure.__table__
    day = bindparam("day", type_=Date)
    rows = union_all(
        *(
            select(exposure.c.page, exposure.c.experiment, exposure.c.variant, day,
                   literal(dimension), func.coalesce(exposure.c[dimension], ""),
                   literal(0), literal(1))
            .where(exposure.c.id == bindparam("exposure"))
            for dimension in sorted(DIMENSIONS)
        )
    )  # fmt: skip
    table = DailySource.__table__
    upsert = dialect_insert(dialect)(table).from_select([*KEY, *COUNTS], rows)
    return upsert.on_conflict_do_update(
        index_elements=list(KEY), set_={"converted": table.c.converted + 1}
    )


def rebuild() -> None:
    """Recount every source row from the exposures and conversions. Commits."""
    db.session.execute(delete(DailySource))
    parts = []
    for dimension in DIMENSIONS:
        value = func.coalesce(getattr(Exposure, dimension), "")
        base = (Exposure.page, Exposure.experiment, Exposure.variant)
        parts.append(
            select(*base, func.date(Exposure.first_seen).label("day"),
                   literal(dimension).label("dimension"), value.label("value"),
                   literal(1).label("visitors"), literal(0).label("converted"))
        )  # fmt: skip
        parts.append(
            select(*base, func.date(Conversion.converted_at).label("day"),
                   literal(dimension).label("dimension"), value.label("value"),
                   literal(0).label("visitors"), literal(1).label("converted"))
            .join(Conversion, Conversion.exposure_id == Exposure.id)
        )  # fmt: skip
    rows = union_all(*parts).subquery()
    group = (rows.c.page, rows.c.experiment, rows.c.variant, rows.c.day, rows.c.dimension,
             rows.c.value)  # fmt: skip
    db.session.execute(
        DailySource.__table__.insert().from_select(
            [*KEY, *COUNTS],
            select(*group, func.sum(rows.c.visitors), func.sum(rows.c.converted)).group_by(*group),
        )
    )
    db.session.commit()
