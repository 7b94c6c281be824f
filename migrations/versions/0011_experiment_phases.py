"""experiment phases: editing a running variant's content or the split starts a new phase,
counted on its own, and the dashboard says what changed and when

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-05 18:00:00
"""
import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "experiment_phase",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("page", sa.String(length=64), nullable=False),
        sa.Column("experiment", sa.String(length=64), nullable=False),
        sa.Column("number", sa.Integer(), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("snapshot", sa.Text(), nullable=False),
        sa.Column("change", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_experiment_phase")),
        sa.UniqueConstraint(
            "page", "experiment", "number", name=op.f("uq_experiment_phase_page")
        ),
    )


def downgrade():
    op.drop_table("experiment_phase")
