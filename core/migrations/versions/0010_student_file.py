"""The student's file across dossiers (issue 22): dossiers.student_file, the agents' annotation, and an index on
students.birth_date, by which a page's students are gathered.

Revision ID: 0010_student_file
Revises: 0009_sync_rescan_from
"""

import sqlalchemy as sa
from alembic import op

revision = "0010_student_file"
down_revision = "0009_sync_rescan_from"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("dossiers", schema=None) as batch_op:
        batch_op.add_column(sa.Column("student_file", sa.Text(), nullable=True))
    with op.batch_alter_table("students", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_students_birth_date"), ["birth_date"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("students", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_students_birth_date"))
    with op.batch_alter_table("dossiers", schema=None) as batch_op:
        batch_op.drop_column("student_file")
