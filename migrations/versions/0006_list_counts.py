"""kept list counts for the dashboard: signup rows, awaiting confirmation, referred and
unattributed per page, confirmed signups per variant and day, and an index for the referral
leaderboard

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-26 11:00:00

The page counts live in waitlist_line, which kit/line.py rebuilds (counts included) for a page
whose row is missing: the rows are emptied here, so each page is recounted on first use.
Confirmed signups per variant and day are counted here, from the signups.
"""
import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

PAGE_COUNTS = ("signups", "unconfirmed", "referred", "unattributed")
KEY = ("page", "experiment", "variant", "day")


def upgrade():
    with op.batch_alter_table("waitlist_line", schema=None) as batch_op:
        for name in PAGE_COUNTS:
            batch_op.add_column(sa.Column(name, sa.Integer(), nullable=False, server_default="0"))
    op.execute("DELETE FROM waitlist_line")  # numbers stay on the signups; counts on first use
    with op.batch_alter_table("daily_conversions", schema=None) as batch_op:
        batch_op.add_column(sa.Column("signups", sa.Integer(), nullable=False, server_default="0"))
    with op.batch_alter_table("signup", schema=None) as batch_op:
        batch_op.create_index(
            "ix_signup_page_referrals", ["page", sa.text("referrals DESC"), "id"]
        )

    # Confirmed, attributed signups per arm and day of confirmation; days with signups but no
    # new converted visitor get a row of their own.
    signup = sa.table(
        "signup",
        *(sa.column(name) for name in ("page", "experiment", "variant", "exposure_id")),
        sa.column("confirmed_at", sa.DateTime(timezone=True)),
    )
    daily = sa.table("daily_conversions", *(sa.column(name) for name in (*KEY, "visitors", "signups")))
    day = sa.func.date(signup.c.confirmed_at)
    counted = (
        sa.select(signup.c.page, signup.c.experiment, signup.c.variant, day.label("day"),
                  sa.func.count().label("signups"))
        .where(signup.c.exposure_id.is_not(None), signup.c.variant.is_not(None))
        .where(signup.c.experiment.is_not(None), signup.c.confirmed_at.is_not(None))
        .group_by(signup.c.page, signup.c.experiment, signup.c.variant, day)
        .subquery()
    )  # fmt: skip
    same_row = sa.and_(*(daily.c[name] == counted.c[name] for name in KEY))
    op.execute(
        daily.insert().from_select(
            [*KEY, "visitors", "signups"],
            sa.select(*(counted.c[name] for name in KEY), sa.literal(0), sa.literal(0)).where(
                ~sa.exists().where(same_row)
            ),
        )
    )
    op.execute(
        daily.update().values(
            signups=sa.select(counted.c.signups).where(same_row).scalar_subquery()
        ).where(sa.exists().where(same_row))
    )


def downgrade():
    with op.batch_alter_table("signup", schema=None) as batch_op:
        batch_op.drop_index("ix_signup_page_referrals")
    with op.batch_alter_table("daily_conversions", schema=None) as batch_op:
        batch_op.drop_column("signups")
    with op.batch_alter_table("waitlist_line", schema=None) as batch_op:
        for name in reversed(PAGE_COUNTS):
            batch_op.drop_column(name)
