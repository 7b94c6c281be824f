"""kept counts: the place in line (numbers, keys, buckets, list size), conversions per
visitor with their daily counters, and visitors and conversions per source and day

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-26 08:00:00

Existing lists are numbered on first use (kit/line.py rebuilds a page whose line is missing);
existing conversions are counted here, from the signups.
"""
import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

DIMENSIONS = ("utm_source", "utm_medium", "utm_campaign", "referrer_host", "device")


def upgrade():
    with op.batch_alter_table("signup", schema=None) as batch_op:
        batch_op.add_column(sa.Column("line_seq", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("line_key", sa.Integer(), nullable=True))
        batch_op.create_index("ix_signup_page_line_key", ["page", "line_key", "id"])
    op.create_table(
        "waitlist_line",
        sa.Column("page", sa.String(length=64), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("live", sa.Integer(), nullable=False),
        sa.Column("bump", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("page", name=op.f("pk_waitlist_line")),
    )
    op.create_table(
        "line_bucket",
        sa.Column("page", sa.String(length=64), nullable=False),
        sa.Column("bucket", sa.Integer(), nullable=False),
        sa.Column("people", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("page", "bucket", name=op.f("pk_line_bucket")),
    )


    op.create_table(
        "conversion",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("page", sa.String(length=64), nullable=False),
        sa.Column("experiment", sa.String(length=64), nullable=False),
        sa.Column("variant", sa.String(length=64), nullable=False),
        sa.Column("exposure_id", sa.Integer(), nullable=False),
        sa.Column("converted_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_conversion")),
        sa.UniqueConstraint("page", "experiment", "exposure_id", name=op.f("uq_conversion_page")),
    )
    op.create_table(
        "daily_conversions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("page", sa.String(length=64), nullable=False),
        sa.Column("experiment", sa.String(length=64), nullable=False),
        sa.Column("variant", sa.String(length=64), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("visitors", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_daily_conversions")),
        sa.UniqueConstraint(
            "page", "experiment", "variant", "day", name=op.f("uq_daily_conversions_page")
        ),
    )
    # A visitor converted with their first confirmed, attributed signup.
    signup = sa.table(
        "signup",
        *(sa.column(name) for name in ("page", "experiment", "variant", "exposure_id")),
        sa.column("created_at", sa.DateTime(timezone=True)),
        sa.column("confirmed_at", sa.DateTime(timezone=True)),
    )
    conversion = sa.table(
        "conversion",
        *(sa.column(name) for name in ("page", "experiment", "variant", "exposure_id")),
        sa.column("converted_at", sa.DateTime(timezone=True)),
    )
    op.execute(
        conversion.insert().from_select(
            ["page", "experiment", "variant", "exposure_id", "converted_at"],
            sa.select(
                signup.c.page, signup.c.experiment, sa.func.min(signup.c.variant),
                signup.c.exposure_id, sa.func.min(signup.c.created_at),
            )
            .where(signup.c.exposure_id.is_not(None), signup.c.variant.is_not(None))
            .where(signup.c.experiment.is_not(None), signup.c.confirmed_at.is_not(None))
            .group_by(signup.c.page, signup.c.experiment, signup.c.exposure_id),
        )
    )
    daily = sa.table(
        "daily_conversions",
        *(sa.column(name) for name in ("page", "experiment", "variant", "day", "visitors")),
    )
    day = sa.func.date(conversion.c.converted_at)
    op.execute(
        daily.insert().from_select(
            ["page", "experiment", "variant", "day", "visitors"],
            sa.select(
                conversion.c.page, conversion.c.experiment, conversion.c.variant, day,
                sa.func.count(),
            ).group_by(conversion.c.page, conversion.c.experiment, conversion.c.variant, day),
        )
    )


    op.create_table(
        "daily_sources",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("page", sa.String(length=64), nullable=False),
        sa.Column("experiment", sa.String(length=64), nullable=False),
        sa.Column("variant", sa.String(length=64), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("dimension", sa.String(length=16), nullable=False),
        sa.Column("value", sa.String(length=255), nullable=False),
        sa.Column("visitors", sa.Integer(), nullable=False),
        sa.Column("converted", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_daily_sources")),
        sa.UniqueConstraint(
            "page", "experiment", "variant", "day", "dimension", "value",
            name=op.f("uq_daily_sources_page"),
        ),
    )
    # Visitors per first visit's source and day, converted visitors per conversion day.
    exposure = sa.table(
        "exposure",
        *(sa.column(name) for name in ("id", "page", "experiment", "variant")),
        sa.column("first_seen", sa.DateTime(timezone=True)),
        *(sa.column(name) for name in DIMENSIONS),
    )
    parts = []
    for dimension in DIMENSIONS:
        value = sa.func.coalesce(exposure.c[dimension], "")
        base = (exposure.c.page, exposure.c.experiment, exposure.c.variant)
        parts.append(
            sa.select(
                *base, sa.func.date(exposure.c.first_seen).label("day"),
                sa.literal(dimension).label("dimension"), value.label("value"),
                sa.literal(1).label("visitors"), sa.literal(0).label("converted"),
            )
        )
        parts.append(
            sa.select(
                *base, sa.func.date(conversion.c.converted_at).label("day"),
                sa.literal(dimension).label("dimension"), value.label("value"),
                sa.literal(0).label("visitors"), sa.literal(1).label("converted"),
            ).join(conversion, conversion.c.exposure_id == exposure.c.id)
        )
    rows = sa.union_all(*parts).subquery()
    group = [rows.c[name] for name in ("page", "experiment", "variant", "day", "dimension", "value")]
    sources = sa.table(
        "daily_sources",
        *(sa.column(name) for name in
          ("page", "experiment", "variant", "day", "dimension", "value", "visitors", "converted")),
    )
    op.execute(
        sources.insert().from_select(
            ["page", "experiment", "variant", "day", "dimension", "value", "visitors", "converted"],
            sa.select(*group, sa.func.sum(rows.c.visitors), sa.func.sum(rows.c.converted))
            .group_by(*group),
        )
    )


def downgrade():
    op.drop_table("daily_sources")
    op.drop_table("daily_conversions")
    op.drop_table("conversion")
    op.drop_table("line_bucket")
    op.drop_table("waitlist_line")
    with op.batch_alter_table("signup", schema=None) as batch_op:
        batch_op.drop_index("ix_signup_page_line_key")
        batch_op.drop_column("line_key")
        batch_op.drop_column("line_seq")
