"""One recount of every kept counter from the rows they summarise, for tests, benches and
``flask kit recount`` (a landed migration keeps its own frozen copy)."""

from __future__ import annotations

from sqlalchemy import delete
from sqlalchemy import func
from sqlalchemy import literal
from sqlalchemy import select
from sqlalchemy import union_all

from kit.models import Conversion
from kit.models import DailyConversions
from kit.models import DailySource
from kit.models import Exposure
from kit.models import Signup
from kit.models import db
from kit.tracking.counters import ATTRIBUTED
from kit.tracking.counters import COUNTS
from kit.tracking.counters import DIMENSIONS
from kit.tracking.counters import KEY


def conversions() -> None:
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
    sources()


def sources() -> None:
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
