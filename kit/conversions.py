"""Who converted: a visitor's first confirmed signup in an experiment, recorded once.

The unit of an experiment is the visitor. When a signup that is credited to an exposure
becomes confirmed (at once without double opt-in), ``record`` inserts the visitor's
``conversion`` row unless it is there already (the unique constraint decides, also between
racing workers) and, only when it went in, adds one to the day's ``daily_conversions``
counter, in the same transaction. A browser signing up five addresses is one conversion, and
the dashboard counts conversions from the few counter rows instead of a million signups.
"""

from __future__ import annotations

from sqlalchemy import delete
from sqlalchemy import func
from sqlalchemy import select

from . import sources
from .models import Conversion
from .models import DailyConversions
from .models import Signup
from .models import add_to_counters
from .models import db
from .models import insert_ignore
from .models import utcnow


def record(entry: Signup) -> None:
    """Count the signup's visitor as converted, if it is attributed and not counted yet."""
    if entry.exposure_id is None or entry.variant is None or entry.experiment is None:
        return
    now = utcnow()
    where = {"page": entry.page, "experiment": entry.experiment, "variant": entry.variant}
    if not insert_ignore(Conversion, **where, exposure_id=entry.exposure_id, converted_at=now):
        return
    connection = db.session.connection()
    counter = DailyConversions
    add_to_counters(
        connection, counter.__table__, counter.KEY, [{**where, "day": now.date(), "visitors": 1}]
    )
    sources.converted(connection, entry.exposure_id, now.date())


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
        .where(Signup.exposure_id.is_not(None), Signup.variant.is_not(None))
        .where(Signup.experiment.is_not(None), Signup.confirmed_at.is_not(None))
        .group_by(Signup.page, Signup.experiment, Signup.exposure_id)
    )  # fmt: skip
    db.session.execute(
        Conversion.__table__.insert().from_select(
            ["page", "experiment", "variant", "exposure_id", "converted_at"], first
        )
    )
    day = func.date(Conversion.converted_at)
    db.session.execute(
        DailyConversions.__table__.insert().from_select(
            ["page", "experiment", "variant", "day", "visitors"],
            select(Conversion.page, Conversion.experiment, Conversion.variant, day, func.count())
            .group_by(Conversion.page, Conversion.experiment, Conversion.variant, day),
        )
    )  # fmt: skip
    db.session.commit()
    sources.rebuild()
