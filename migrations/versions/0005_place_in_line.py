"""the place in line: numbers and keys per signup, bucket counts, the list size

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-26 08:00:00

Existing lists are numbered on first use (kit/line.py rebuilds a page whose line is missing).
"""
import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


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


def downgrade():
    op.drop_table("line_bucket")
    op.drop_table("waitlist_line")
    with op.batch_alter_table("signup", schema=None) as batch_op:
        batch_op.drop_index("ix_signup_page_line_key")
        batch_op.drop_column("line_key")
        batch_op.drop_column("line_seq")
