"""One recount of every kept counter from the rows they summarise: ``flask kit recount`` (after
loading data around the app, or to check the counters), and the tests and benches that load
rows directly. A landed migration keeps its own frozen copy, as migrations must. Each step
commits its own work: a recount is a maintenance job, not part of a visitor's request."""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import delete
from sqlalchemy import func
from sqlalchemy import literal
from sqlalchemy import select
from sqlalchemy import union_all

from kit.models import Conversion
from kit.models import DailyConversions
from kit.models import DailyExposures
from kit.models import DailySource
from kit.models import Exposure
from kit.models import Signup
from kit.models import WaitlistLine
from kit.models import db
from kit.pages.schema import Page
from kit.tracking.counters import ATTRIBUTED
from kit.tracking.counters import COUNTED_BY
from kit.tracking.counters import COUNTS
from kit.tracking.counters import KEY
from kit.tracking.counters import value_sql
from kit.waitlist import places


def everything(pages: Iterable[Page]) -> list[str]:
    """Recount every kept counter: new visitors per day, conversions, sources, and each list's
    line and counts (``pages`` give each list's ``referral_bump``). Returns what was done."""
    exposures()
    conversions()  # then sources, which count conversions
    rebuilt = lines(pages)
    return [
        "visitors per day (daily_exposures)",
        "conversions (conversion, daily_conversions)",
        "sources (daily_sources)",
        f"places in line and list counts of {len(rebuilt)} page(s) (waitlist_line, line_bucket)",
    ]


def exposures() -> None:
    """Recount new visitors per page, experiment, variant and day from the exposures."""
    db.session.execute(delete(DailyExposures))
    day = func.date(Exposure.first_seen)
    group = (Exposure.page, Exposure.experiment, Exposure.variant, day)
    db.session.execute(
        DailyExposures.__table__.insert().from_select(
            [*DailyExposures.KEY, "visitors"],
            select(*group, func.count()).group_by(*group),
        )
    )
    db.session.commit()


def lines(pages: Iterable[Page]) -> list[str]:
    """Rebuild the line (numbers, keys, buckets, counts) of every page that has signups, with
    its page file's ``referral_bump`` (the last one used for a page whose file is gone)."""
    bumps = {page.slug: page.waitlist.referral_bump for page in pages}
    kept = dict(db.session.execute(select(WaitlistLine.page, WaitlistLine.bump)).all())
    slugs = sorted(set(db.session.scalars(select(Signup.page).distinct())))
    for slug in slugs:
        places.rebuild(slug, bumps.get(slug, kept.get(slug, 0)))
    db.session.commit()
    return slugs


def lines_due(pages: Iterable[Page]) -> None:
    """Build the line of each page that has none yet or whose ``referral_bump`` changed (the
    deploy's release step: an edited page file arrives with a deploy)."""
    for page in pages:
        places.ensure(page)
    db.session.commit()


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
    for dimension in COUNTED_BY:
        value = value_sql(Exposure.__table__.c, dimension)
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
