"""Quarantined dossiers: the ones DS cannot give whole, or the database
refused, set aside so that the sync goes on past them (issue #15).

Revision ID: 0004_quarantine
Revises: 0003_apt_rules
"""

import sqlalchemy as sa
from alembic import op

import core.models

revision = "0004_quarantine"
down_revision = "0003_apt_rules"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "quarantined_dossiers",
        sa.Column("demarche_number", sa.Integer(), nullable=False),
        sa.Column("dossier_number", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("error", sa.Text(), nullable=False),
        sa.Column("error_path", sa.String(length=500), nullable=True),
        sa.Column("champ", sa.String(length=300), nullable=True),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("first_seen_at", core.models.UTCDateTime(timezone=True), nullable=False),
        sa.Column("last_attempt_at", core.models.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("demarche_number", "dossier_number"),
    )


def downgrade() -> None:
    op.drop_table("quarantined_dossiers")
