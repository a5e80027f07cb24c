"""The signed webhooks' events already received, so that an event delivered
out of order is not taken for a replay (issue #21).

Revision ID: 0008_webhook_events
Revises: 0007_validity_budget
"""

import sqlalchemy as sa
from alembic import op

import core.models

revision = "0008_webhook_events"
down_revision = "0007_validity_budget"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "webhook_events",
        sa.Column("webhook_id", sa.String(length=100), nullable=False),
        sa.Column("sequence", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("received_at", core.models.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("webhook_id", "sequence"),
    )
    with op.batch_alter_table("webhook_events", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_webhook_events_received_at"), ["received_at"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("webhook_events", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_webhook_events_received_at"))
    op.drop_table("webhook_events")
