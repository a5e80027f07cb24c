"""Job runs record their process and a heartbeat (issue #15): a run killed
while `running` is marked `interrupted` by the next start.

Revision ID: 0006_job_run_liveness
Revises: 0005_champ_bindings
"""

import sqlalchemy as sa
from alembic import op

import core.models

revision = "0006_job_run_liveness"
down_revision = "0005_champ_bindings"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("job_runs", sa.Column("host", sa.String(length=255), nullable=True))
    op.add_column("job_runs", sa.Column("pid", sa.Integer(), nullable=True))
    op.add_column("job_runs", sa.Column("instance", sa.String(length=32), nullable=True))
    op.add_column("job_runs", sa.Column("heartbeat_at", core.models.UTCDateTime(timezone=True), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("job_runs") as batch:
        batch.drop_column("heartbeat_at")
        batch.drop_column("instance")
        batch.drop_column("pid")
        batch.drop_column("host")
