"""referrals, double opt-in, delete-my-data and the outbox

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-24 23:00:00

"""
import secrets

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("signup", schema=None) as batch_op:
        batch_op.add_column(sa.Column("share_code", sa.String(length=16), nullable=True))
        batch_op.add_column(sa.Column("referred_by_id", sa.Integer(), nullable=True))
        batch_op.add_column(
            sa.Column("referrals", sa.Integer(), nullable=False, server_default="0")
        )
        batch_op.add_column(sa.Column("confirmed_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(
            sa.Column("confirm_sent_at", sa.DateTime(timezone=True), nullable=True)
        )
        batch_op.add_column(sa.Column("deleted_at", sa.DateTime(timezone=True), nullable=True))

    # Signups from before: confirmed (there was no double opt-in) and given a share code.
    signup = sa.table(
        "signup",
        sa.column("id", sa.Integer),
        sa.column("share_code", sa.String),
        sa.column("created_at", sa.DateTime(timezone=True)),
        sa.column("confirmed_at", sa.DateTime(timezone=True)),
    )
    connection = op.get_bind()
    op.execute(signup.update().values(confirmed_at=signup.c.created_at))
    for (row_id,) in connection.execute(sa.select(signup.c.id)).all():
        connection.execute(
            signup.update()
            .where(signup.c.id == row_id)
            .values(share_code=secrets.token_urlsafe(9))
        )

    with op.batch_alter_table("signup", schema=None) as batch_op:
        batch_op.alter_column("share_code", existing_type=sa.String(length=16), nullable=False)
        batch_op.create_unique_constraint(batch_op.f("uq_signup_share_code"), ["share_code"])
        batch_op.create_foreign_key(
            batch_op.f("fk_signup_referred_by_id_signup"), "signup", ["referred_by_id"], ["id"]
        )
        batch_op.create_index(batch_op.f("ix_signup_referred_by_id"), ["referred_by_id"])

    op.create_table(
        "outbox",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("event", sa.String(length=32), nullable=False),
        sa.Column("target", sa.String(length=500), nullable=False),
        sa.Column("payload", sa.Text(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("due_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("done_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_outbox")),
    )
    with op.batch_alter_table("outbox", schema=None) as batch_op:
        batch_op.create_index("ix_outbox_status_due", ["status", "due_at"], unique=False)


def downgrade():
    with op.batch_alter_table("outbox", schema=None) as batch_op:
        batch_op.drop_index("ix_outbox_status_due")
    op.drop_table("outbox")
    with op.batch_alter_table("signup", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_signup_referred_by_id"))
        batch_op.drop_constraint(batch_op.f("fk_signup_referred_by_id_signup"), type_="foreignkey")
        batch_op.drop_constraint(batch_op.f("uq_signup_share_code"), type_="unique")
        batch_op.drop_column("deleted_at")
        batch_op.drop_column("confirm_sent_at")
        batch_op.drop_column("confirmed_at")
        batch_op.drop_column("referrals")
        batch_op.drop_column("referred_by_id")
        batch_op.drop_column("share_code")
