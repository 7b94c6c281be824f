"""proof of demand: paid pre-orders and the Stripe events acted on, ad spend, the founder
digest's periods, and visitors who signed up (confirmed or not) per traffic source

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-26 16:00:00

``daily_sources`` is recounted here with its new ``signed_up`` column (each visitor's first
signup, confirmed or not), from the exposures, signups and conversions, as kit/sources.py's
``rebuild`` does.
"""
import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "pre_order",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("checkout_session", sa.String(length=255), nullable=False),
        sa.Column("payment_intent", sa.String(length=255), nullable=True),
        sa.Column("page", sa.String(length=64), nullable=True),
        sa.Column("experiment", sa.String(length=64), nullable=True),
        sa.Column("variant", sa.String(length=64), nullable=True),
        sa.Column("tier", sa.String(length=64), nullable=False),
        sa.Column("visitor_key", sa.String(length=64), nullable=True),
        sa.Column("utm_source", sa.String(length=100), nullable=True),
        sa.Column("utm_campaign", sa.String(length=100), nullable=True),
        sa.Column("amount", sa.Integer(), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("refunded", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("refunded_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_pre_order")),
        sa.UniqueConstraint("checkout_session", name=op.f("uq_pre_order_checkout_session")),
    )
    with op.batch_alter_table("pre_order", schema=None) as batch_op:
        batch_op.create_index(
            "ix_pre_order_page_experiment_variant", ["page", "experiment", "variant"]
        )
        batch_op.create_index(batch_op.f("ix_pre_order_payment_intent"), ["payment_intent"])
    op.create_table(
        "stripe_event",
        sa.Column("id", sa.String(length=255), nullable=False),
        sa.Column("type", sa.String(length=64), nullable=False),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_stripe_event")),
    )
    op.create_table(
        "ad_spend",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("page", sa.String(length=64), nullable=False),
        sa.Column("utm_source", sa.String(length=100), nullable=False),
        sa.Column("utm_campaign", sa.String(length=100), nullable=False),
        sa.Column("first_day", sa.Date(), nullable=False),
        sa.Column("last_day", sa.Date(), nullable=False),
        sa.Column("amount", sa.Integer(), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_ad_spend")),
    )
    with op.batch_alter_table("ad_spend", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_ad_spend_page"), ["page"])
    op.create_table(
        "digest_run",
        sa.Column("period", sa.String(length=32), nullable=False),
        sa.Column("claimed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("verdicts", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("period", name=op.f("pk_digest_run")),
    )
    with op.batch_alter_table("daily_sources", schema=None) as batch_op:
        batch_op.add_column(sa.Column("signed_up", sa.Integer(), nullable=False, server_default="0"))
    _recount_sources()


DIMENSIONS = ("utm_source", "utm_medium", "utm_campaign", "referrer_host", "device")
KEY = ("page", "experiment", "variant", "day", "dimension", "value")
COUNTS = ("visitors", "converted", "signed_up")


def _recount_sources():
    exposure = sa.table(
        "exposure", sa.column("id"), sa.column("page"), sa.column("experiment"),
        sa.column("variant"), sa.column("first_seen", sa.DateTime(timezone=True)),
        *(sa.column(name) for name in DIMENSIONS),
    )  # fmt: skip
    conversion = sa.table(
        "conversion", sa.column("exposure_id"), sa.column("converted_at", sa.DateTime(timezone=True))
    )
    signup = sa.table(
        "signup", sa.column("exposure_id"), sa.column("created_at", sa.DateTime(timezone=True))
    )
    first_signup = (
        sa.select(signup.c.exposure_id, sa.func.min(signup.c.created_at).label("at"))
        .where(signup.c.exposure_id.is_not(None))
        .group_by(signup.c.exposure_id)
        .subquery()
    )
    parts = []
    for dimension in DIMENSIONS:
        value = sa.func.coalesce(exposure.c[dimension], "")
        base = (exposure.c.page, exposure.c.experiment, exposure.c.variant)
        for at, counts, join in (
            (exposure.c.first_seen, (1, 0, 0), None),
            (conversion.c.converted_at, (0, 1, 0), (conversion, conversion.c.exposure_id == exposure.c.id)),
            (first_signup.c.at, (0, 0, 1), (first_signup, first_signup.c.exposure_id == exposure.c.id)),
        ):
            part = sa.select(
                *base, sa.func.date(at).label("day"), sa.literal(dimension).label("dimension"),
                value.label("value"), *(sa.literal(n).label(name) for n, name in zip(counts, COUNTS)),
            )  # fmt: skip
            parts.append(part.select_from(exposure) if join is None else part.select_from(exposure.join(*join)))
    rows = sa.union_all(*parts).subquery()
    group = [rows.c[name] for name in KEY]
    daily = sa.table("daily_sources", *(sa.column(name) for name in (*KEY, *COUNTS)))
    op.execute("DELETE FROM daily_sources")
    op.execute(
        daily.insert().from_select(
            [*KEY, *COUNTS],
            sa.select(*group, *(sa.func.sum(rows.c[name]) for name in COUNTS)).group_by(*group),
        )
    )


def downgrade():
    with op.batch_alter_table("daily_sources", schema=None) as batch_op:
        batch_op.drop_column("signed_up")
    op.drop_table("digest_run")
    with op.batch_alter_table("ad_spend", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_ad_spend_page"))
    op.drop_table("ad_spend")
    op.drop_table("stripe_event")
    with op.batch_alter_table("pre_order", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_pre_order_payment_intent"))
        batch_op.drop_index("ix_pre_order_page_experiment_variant")
    op.drop_table("pre_order")
