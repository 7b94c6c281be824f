"""unbooked payments: a Stripe event the kit could not book keeps its problem, page and the
fields it read, so the dashboard can show it instead of dropping it in silence

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-04 18:00:00
"""
import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("stripe_event", schema=None) as batch_op:
        batch_op.add_column(sa.Column("problem", sa.String(length=200), nullable=True))
        batch_op.add_column(sa.Column("page", sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column("detail", sa.Text(), nullable=True))


def downgrade():
    with op.batch_alter_table("stripe_event", schema=None) as batch_op:
        batch_op.drop_column("detail")
        batch_op.drop_column("page")
        batch_op.drop_column("problem")
