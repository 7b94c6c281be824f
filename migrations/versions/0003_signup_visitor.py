"""signups remember their browser's visitor key

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-26 07:40:00

"""
import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("signup", schema=None) as batch_op:
        batch_op.add_column(sa.Column("visitor_key", sa.String(length=64), nullable=True))

    # Attributed signups from before: the key of the exposure they were credited to.
    signup = sa.table(
        "signup",
        sa.column("exposure_id", sa.Integer),
        sa.column("visitor_key", sa.String),
    )
    exposure = sa.table("exposure", sa.column("id", sa.Integer), sa.column("visitor_key", sa.String))
    op.execute(
        signup.update()
        .where(signup.c.exposure_id.is_not(None))
        .values(
            visitor_key=sa.select(exposure.c.visitor_key)
            .where(exposure.c.id == signup.c.exposure_id)
            .scalar_subquery()
        )
    )


def downgrade():
    with op.batch_alter_table("signup", schema=None) as batch_op:
        batch_op.drop_column("visitor_key")
