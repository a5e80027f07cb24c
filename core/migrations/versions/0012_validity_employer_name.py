"""validity_records.employer_name: the validity check shows the employer's name with its SIRET (issue #23).

Revision ID: 0012_validity_employer_name
Revises: 0011_student_cursus
"""

import sqlalchemy as sa
from alembic import op

revision = "0012_validity_employer_name"
down_revision = "0011_student_cursus"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("validity_records", schema=None) as batch_op:
        batch_op.add_column(sa.Column("employer_name", sa.String(length=300), nullable=True))
    # What the next sync would publish (validity.derive: the stored raison sociale), so that the records already
    # published show the name without waiting for their dossier to change. A withdrawn record answers nothing.
    op.execute(
        "UPDATE validity_records SET employer_name = (SELECT employers.company_name FROM employers "
        "WHERE employers.dossier_number = validity_records.dossier_number) WHERE state <> 'withdrawn'"
    )


def downgrade() -> None:
    with op.batch_alter_table("validity_records", schema=None) as batch_op:
        batch_op.drop_column("employer_name")
