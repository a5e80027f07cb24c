"""The validity check's lookup budget shared by every worker (issue #15):
one row per fixed window, with its lookups, misses and whether the team was alerted.

Revision ID: 0007_validity_budget
Revises: 0006_job_run_liveness
"""

import sqlalchemy as sa
from alembic import op

revision = "0007_validity_budget"
down_revision = "0006_job_run_liveness"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "validity_budget",
        sa.Column("window_start", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("lookups", sa.Integer(), nullable=False),
        sa.Column("misses", sa.Integer(), nullable=False),
        sa.Column("alerted", sa.Boolean(), nullable=False),
        sa.PrimaryKeyConstraint("window_start"),
    )


def downgrade() -> None:
    op.drop_table("validity_budget")
