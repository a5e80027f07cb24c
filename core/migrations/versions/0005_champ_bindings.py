"""champ bindings: the DS champ each key of the procedure reads, per démarche

Revision ID: 0005_champ_bindings
Revises: 0004_quarantine
Create Date: 2026-12-01 21:30:00
"""

import sqlalchemy as sa
from alembic import op

import core.models

revision = "0005_champ_bindings"
down_revision = "0004_quarantine"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "champ_bindings",
        sa.Column("demarche_number", sa.Integer(), nullable=False),
        sa.Column("key", sa.String(length=100), nullable=False),
        sa.Column("descriptor_id", sa.String(length=200), nullable=False),
        sa.Column("stable_id", sa.BigInteger(), nullable=False),
        sa.Column("type", sa.String(length=40), nullable=False),
        sa.Column("label_seen", sa.Text(), nullable=False),
        sa.Column("revision_id", sa.String(length=200), nullable=True),
        sa.Column("bound_at", core.models.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("demarche_number", "key"),
    )


def downgrade() -> None:
    op.drop_table("champ_bindings")
