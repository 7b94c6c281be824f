"""Every kept counter of what visitors did, written in the transaction of the event it counts.

The dashboard reads a few thousand counter rows instead of a million exposures or signups:

- ``daily_exposures``: new visitors per page, experiment, variant and day (``exposed``, with
  each batch of first exposures);
- ``daily_sources``: the same visitors by UTM tag, referrer and device, with how many of them
  converted and signed up (``exposed``, ``converted``, ``signed_up``);
- ``conversion`` and ``daily_conversions``: a visitor converts with their first confirmed
  signup in an experiment, recorded once (the unique constraint decides, also between racing
  workers); every confirmed signup adds one signup (``conversion``). A browser signing up five
  addresses is one conversion and five signups.

The list's own counts (its size and the place-in-line buckets) are the line's index, kept by
kit/waitlist/places.py. kit/recount.py recounts all of them from the rows.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from datetime import date
from typing import Any

from sqlalchemy import ColumnElement
from sqlalchemy import Connection
from sqlalchemy import Date
from sqlalchemy import Insert
from sqlalchemy import bindparam
from sqlalchemy import func
from sqlalchemy import literal
from sqlalchemy import select
from sqlalchemy import union_all

from kit import fastpath
from kit.models import Conversion
from kit.models import DailyConversions
from kit.models import DailyExposures
from kit.models import DailySource
from kit.models import Exposure
from kit.models import Signup
from kit.models import db
from kit.models import utcnow
from kit.writes import add_to_counters
from kit.writes import dialect_insert
from kit.writes import insert_ignore

# Confirmed signups credited to an experiment's arm.
ATTRIBUTED = (
    Signup.exposure_id.is_not(None),
    Signup.variant.is_not(None),
    Signup.experiment.is_not(None),
    Signup.confirmed_at.is_not(None),
)


def conversion(entry: Signup, signed_up: bool) -> None:
    """Count the confirmed signup for its arm, and its visitor as converted unless they are
    already (a browser signing up twice is one visitor, two signups); ``signed_up``: the
    signup was confirmed as it was made, so its visitor also signed up just now."""
    if entry.exposure_id is None or entry.variant is None or entry.experiment is None:
        return
    now = utcnow()
    where = {"page": entry.page, "experiment": entry.experiment, "variant": entry.variant}
    new = insert_ignore(Conversion, **where, exposure_id=entry.exposure_id, converted_at=now)
    connection = db.session.connection()
    counter = DailyConversions
    day = {**where, "day": now.date(), "visitors": int(new), "signups": 1}
    add_to_counters(connection, counter.__table__, counter.KEY, [day])
    if new:
        converted(connection, entry.exposure_id, now.date(), signed_up)


DIMENSIONS = ("utm_source", "utm_medium", "utm_campaign", "referrer_host", "device")
# The source and the campaign together, what an ad spend entry with a campaign bought (one
# campaign name may run on several sources). The separator can't be in a tag (clean_text).
CAMPAIGN = "source/campaign"
SEPARATOR = "\x1f"
COUNTED_BY = (*DIMENSIONS, CAMPAIGN)  # every dimension of the source counters
KEY = ("page", "experiment", "variant", "day", "dimension", "value")  # one counter row
COUNTS = ("visitors", "converted", "signed_up")

Key = tuple[str, str, str, date, str, str]  # page, experiment, variant, day, dimension, value


def campaign_value(source: str | None, campaign: str | None) -> str:
    """The ``CAMPAIGN`` counter's value for a visit's source and campaign."""
    return f"{source or ''}{SEPARATOR}{campaign or ''}"


def value_sql(columns: Any, dimension: str) -> ColumnElement[str]:
    """A dimension's value, in SQL, from an exposure's ``columns`` ("" when it had none)."""
    if dimension == CAMPAIGN:
        source = func.coalesce(columns.utm_source, "")
        return source + literal(SEPARATOR) + func.coalesce(columns.utm_campaign, "")
    return func.coalesce(columns[dimension], "")


def keys(row: Any, day: date) -> Iterable[Key]:
    """The counter rows one exposure falls in (one per dimension)."""
    for dimension in DIMENSIONS:
        value = getattr(row, dimension) or ""
        yield (row.page, row.experiment, row.variant, day, dimension, value)
    yield (row.page, row.experiment, row.variant, day, CAMPAIGN,
           campaign_value(row.utm_source, row.utm_campaign))  # fmt: skip


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


@fastpath.kept(maxsize=6)
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
                   literal(dimension), value_sql(exposure.c, dimension),
                   *(literal(added[name]) for name in COUNTS))
            .where(first)
            for dimension in sorted(COUNTED_BY)
        )
    )  # fmt: skip
    table = DailySource.__table__
    upsert = dialect_insert(dialect)(table).from_select([*KEY, *COUNTS], rows)
    return upsert.on_conflict_do_update(
        index_elements=list(KEY),
        set_={name: table.c[name] + added[name] for name in COUNTS if added[name]},
    )


def exposed(connection: Connection, added: list[Any]) -> None:
    """Count new visitors (rows just inserted into ``exposure``) per day, and by source."""
    days = Counter((r.page, r.experiment, r.variant, r.first_seen.date()) for r in added)
    add_to_counters(
        connection,
        DailyExposures.__table__,
        DailyExposures.KEY,
        [dict(zip(DailyExposures.KEY, key, strict=True), visitors=n) for key, n in days.items()],
    )
    seen(connection, Counter(key for r in added for key in keys(r, r.first_seen.date())))
