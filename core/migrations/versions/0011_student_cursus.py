"""students.school, diploma, study_year: the cursus the form now asks (issue #22), which agents judge the job's
link with the course against.

Revision ID: 0011_student_cursus
Revises: 0010_student_file
"""

import sqlalchemy as sa
from alembic import op

revision = "0011_student_cursus"
down_revision = "0010_student_file"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("students", schema=None) as batch_op:
        batch_op.add_column(sa.Column("school", sa.String(length=200), nullable=True))
        batch_op.add_column(sa.Column("diploma", sa.String(length=200), nullable=True))
        batch_op.add_column(sa.Column("study_year", sa.String(length=30), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("students", schema=None) as batch_op:
        batch_op.drop_column("study_year")
        batch_op.drop_column("diploma")
        batch_op.drop_column("school")
