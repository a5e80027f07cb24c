"""APT rules as the sources state them (issue #12): hours per titre year, the
case's figure kind, the job's link with the course of study, and the INSEE
code of the employer's commune (it settles a shared postal code).

Revision ID: 0003_apt_rules
Revises: 0002_webhook_hints
"""

import sqlalchemy as sa
from alembic import op

revision = "0003_apt_rules"
down_revision = "0002_webhook_hints"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("contracts", sa.Column("hours_year_start", sa.Date(), nullable=True))
    op.add_column("contracts", sa.Column("hours_limit_kind", sa.String(length=10), nullable=True))
    op.add_column("contracts", sa.Column("course_related", sa.Boolean(), nullable=True))
    op.add_column("employers", sa.Column("city_insee_code", sa.String(length=5), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("employers") as batch:
        batch.drop_column("city_insee_code")
    with op.batch_alter_table("contracts") as batch:
        batch.drop_column("course_related")
        batch.drop_column("hours_limit_kind")
        batch.drop_column("hours_year_start")
