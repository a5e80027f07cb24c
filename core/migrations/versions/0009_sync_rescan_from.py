"""sync_state.rescan_from: where a re-scan must start to read what a short page left out (issue #21).

Revision ID: 0009_sync_rescan_from
Revises: 0008_webhook_events
"""

import sqlalchemy as sa
from alembic import op

import core.models

revision = "0009_sync_rescan_from"
down_revision = "0008_webhook_events"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("sync_state", schema=None) as batch_op:
        batch_op.add_column(sa.Column("rescan_from", core.models.UTCDateTime(timezone=True), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("sync_state", schema=None) as batch_op:
        batch_op.drop_column("rescan_from")
