"""one-click unsubscribe: when a signup's address unsubscribed from the kit's mails

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-26 14:00:00
"""
import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("signup", schema=None) as batch_op:
        batch_op.add_column(sa.Column("unsubscribed_at", sa.DateTime(timezone=True), nullable=True))


def downgrade():
    with op.batch_alter_table("signup", schema=None) as batch_op:
        batch_op.drop_column("unsubscribed_at")
