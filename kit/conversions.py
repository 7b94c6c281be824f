"""Who converted: a visitor's first confirmed signup in an experiment, recorded once.

The unit of an experiment is the visitor. When a signup that is credited to an exposure
becomes confirmed (at once without double opt-in), ``record`` inserts the visitor's
``conversion`` row unless it is there already (the unique constraint decides, also between
racing workers) and adds to the day's ``daily_conversions`` counters in the same transaction:
one more signup, and one more converted visitor only when the row went in. A browser signing
up five addresses is one conversion and five signups, and the dashboard counts both from the
few counter rows instead of a million signups.
"""

from __future__ import annotations

from sqlalchemy import delete
from sqlalchemy import func
from sqlalchemy import literal
from sqlalchemy import select
from sqlalchemy import union_all

from . import sources
from .models import Conversion
from .models import DailyConversions
from .models import Signup
from .models import add_to_counters
from .models import db
from .models import insert_ignore
from .models import utcnow

# Confirmed signups credited to an experiment's arm.
ATTRIBUTED = (
    Signup.exposure_id.is_not(None),
    Signup.variant.is_not(None),
    Signup.experiment.is_not(None),
    Signup.confirmed_at.is_not(None),
)


def record(entry: Signup, signed_up: bool) -> None:
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
        sources.converted(connection, entry.exposure_id, now.date(), signed_up)


def rebuild() -> None:
    """Recount every conversion from the signups (data loaded around the app: tests, benches),
    then the source counts built on them. A visitor converted with their first confirmed
    signup."""
    db.session.execute(delete(DailyConversions))
    db.session.execute(delete(Conversion))
    first = (
        select(
            Signup.page, Signup.experiment, func.min(Signup.variant), Signup.exposure_id,
            func.min(Signup.created_at),
        )
        .where(*ATTRIBUTED)
        .group_by(Signup.page, Signup.experiment, Signup.exposure_id)
    )  # fmt: skip
    db.session.execute(
        Conversion.__table__.insert().from_select(
            ["page", "experiment", "variant", "exposure_id", "converted_at"], first
        )
    )
    # Converted visitors on the day they converted, signups on the day they were confirmed.
    rows = union_all(
        select(Conversion.page, Conversion.experiment, Conversion.variant,
               func.date(Conversion.converted_at).label("day"), literal(1).label("visitors"),
               literal(0).label("signups")),
        select(Signup.page, Signup.experiment, Signup.variant, func.date(Signup.confirmed_at),
               literal(0), literal(1)).where(*ATTRIBUTED),
    ).subquery()  # fmt: skip
    group = [rows.c[name] for name in DailyConversions.KEY]
    db.session.execute(
        DailyConversions.__table__.insert().from_select(
            [*DailyConversions.KEY, "visitors", "signups"],
            select(*group, func.sum(rows.c.visitors), func.sum(rows.c.signups)).group_by(*group),
        )
    )
    db.session.commit()
    sources.rebuild()
