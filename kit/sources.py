"""Where visitors came from, counted as they come: UTM tags, referrer and device per day.

The sources page used to scan every exposure (2 s at a million). Now each batch of new
exposures adds its visitors, each visitor's first signup its signed-up visitor and each
conversion its converted visitor (first confirmed signup), to ``daily_sources`` in the same
transaction, one row per page, experiment, variant, day and dimension value; the
page sums a few thousand rows. ``rebuild`` recounts everything from the exposure, signup and
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
from .models import Signup
from .models import add_to_counters
from .models import db
from .models import dialect_insert

DIMENSIONS = ("utm_source", "utm_medium", "utm_campaign", "referrer_host", "device")
KEY = ("page", "experiment", "variant", "day", "dimension", "value")  # one counter row
COUNTS = ("visitors", "converted", "signed_up")

Key = tuple[str, str, str, date, str, str]  # page, experiment, variant, day, dimension, value


def keys(row: Any, day: date) -> Iterable[Key]:
    """The counter rows one exposure falls in (one per dimension)."""
    for dimension in DIMENSIONS:
        value = getattr(row, dimension) or ""
        yield (row.page, row.experiment, row.variant, day, dimension, value)


def seen(connection: Connection, counts: Counter[Key]) -> None:
    """Add newly exposed visitors to their counter rows (conversions go through
    ``converted``)."""
    rows = [
        dict(zip(KEY, key, strict=True), visitors=n, converted=0, signed_up=0)
        for key, n in counts.items()
    ]
    add_to_counters(connection, DailySource.__table__, KEY, rows)


def converted(connection: Connection, exposure_id: int, day: date, signed_up: bool) -> None:
    """One more converted visitor, under the sources of their first visit, and one more
    signed-up visitor when the signup was confirmed as it was made (no double opt-in): one
    statement that reads the exposure and adds to its counter rows."""
    adding = ("converted", "signed_up") if signed_up else ("converted",)
    statement = _counted(connection.dialect.name, adding, first_signup=False)
    connection.execute(statement, {"exposure": exposure_id, "day": day})


def signed_up(connection: Connection, exposure_id: int | None, signup_id: int, day: date) -> None:
    """With double opt-in, a visitor's first signup (waiting for confirmation): one more
    signed-up visitor under their sources, unless the browser signed up before. No exposure:
    the same statement, counting nothing."""
    statement = _counted(connection.dialect.name, ("signed_up",), first_signup=True)
    connection.execute(statement, {"exposure": exposure_id, "day": day, "signup": signup_id})


@lru_cache(maxsize=6)
def _counted(dialect: str, adding: tuple[str, ...], first_signup: bool) -> Insert:
    """One more for each of ``adding`` under the sources of the exposure (only when the
    signup is its first, with ``first_signup``). Built once per database kind and kind of
    count: every signup runs one. The dimensions go in name order, which is key order (see
    ``add_to_counters``)."""
    exposure = Exposure.__table__
    day = bindparam("day", type_=Date)
    added = {name: int(name in adding) for name in COUNTS}
    first = exposure.c.id == bindparam("exposure")
    if first_signup:
        signup = Signup.__table__
        earlier = select(signup.c.id).where(
            signup.c.exposure_id == exposure.c.id, signup.c.id != bindparam("signup")
        )
        first = first & ~earlier.exists()
    rows = union_all(
        *(
            select(exposure.c.page, exposure.c.experiment, exposure.c.variant, day,
                   literal(dimension), func.coalesce(exposure.c[dimension], ""),
                   *(literal(added[name]) for name in COUNTS))
            .where(first)
            for dimension in sorted(DIMENSIONS)
        )
    )  # fmt: skip
    table = DailySource.__table__
    upsert = dialect_insert(dialect)(table).from_select([*KEY, *COUNTS], rows)
    return upsert.on_conflict_do_update(
        index_elements=list(KEY),
        set_={name: table.c[name] + added[name] for name in COUNTS if added[name]},
    )


def rebuild() -> None:
    """Recount every source row from the exposures, signups and conversions. Commits."""
    db.session.execute(delete(DailySource))
    first_signup = (
        select(Signup.exposure_id, func.min(Signup.created_at).label("at"))
        .where(Signup.exposure_id.is_not(None))
        .group_by(Signup.exposure_id)
        .subquery()
    )
    parts = []
    for dimension in DIMENSIONS:
        value = func.coalesce(getattr(Exposure, dimension), "")
        base = (Exposure.page, Exposure.experiment, Exposure.variant)
        converted = (Conversion, Conversion.exposure_id == Exposure.id)
        signed_up = (first_signup, first_signup.c.exposure_id == Exposure.id)
        for at, counts, join in (
            (Exposure.first_seen, (1, 0, 0), None),
            (Conversion.converted_at, (0, 1, 0), converted),
            (first_signup.c.at, (0, 0, 1), signed_up),
        ):
            part = select(
                *base, func.date(at).label("day"), literal(dimension).label("dimension"),
                value.label("value"),
                *(literal(n).label(name) for n, name in zip(counts, COUNTS, strict=True)),
            )  # fmt: skip
            parts.append(part if join is None else part.join(*join))
    rows = union_all(*parts).subquery()
    group = (rows.c.page, rows.c.experiment, rows.c.variant, rows.c.day, rows.c.dimension,
             rows.c.value)  # fmt: skip
    db.session.execute(
        DailySource.__table__.insert().from_select(
            [*KEY, *COUNTS],
            select(*group, *(func.sum(rows.c[name]) for name in COUNTS)).group_by(*group),
        )
    )
    db.session.commit()
