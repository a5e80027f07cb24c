"""webhook hints: dossiers to fetch now, signed webhook cursors, webhook counters

Revision ID: 0002_webhook_hints
Revises: 0001
Create Date: 2026-12-01 18:10:00
"""

import sqlalchemy as sa
from alembic import op

import core.models

revision = "0002_webhook_hints"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "dossier_hints",
        sa.Column("demarche_number", sa.Integer(), nullable=False),
        sa.Column("dossier_number", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("source", sa.String(length=10), nullable=False),
        sa.Column("received_at", core.models.UTCDateTime(timezone=True), nullable=False),
        sa.Column("handled_at", core.models.UTCDateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("demarche_number", "dossier_number"),
    )
    with op.batch_alter_table("dossier_hints", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_dossier_hints_received_at"), ["received_at"], unique=False)

    op.create_table(
        "webhook_counters",
        sa.Column("name", sa.String(length=40), nullable=False),
        sa.Column("count", sa.Integer(), nullable=False),
        sa.Column("last_at", core.models.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("name"),
    )
    op.create_table(
        "webhook_cursors",
        sa.Column("webhook_id", sa.String(length=100), nullable=False),
        sa.Column("last_sequence", sa.BigInteger(), nullable=False),
        sa.Column("updated_at", core.models.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("webhook_id"),
    )


def downgrade() -> None:
    op.drop_table("webhook_cursors")
    op.drop_table("webhook_counters")
    with op.batch_alter_table("dossier_hints", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_dossier_hints_received_at"))
    op.drop_table("dossier_hints")
