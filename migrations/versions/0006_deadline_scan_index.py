"""deadline scan: a partial index on the unreported nodes

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-27

bench/deadlines.py at 1,000,000 cases: the scan's look-ups of open late nodes read every node ever
reported late through ix_case_deadline_open; this index holds only the unreported ones.
"""
from alembic import op
import sqlalchemy as sa

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("case_deadline") as batch_op:
        batch_op.create_index("ix_case_deadline_unreported", ["status", "due_date"],
                              postgresql_where=sa.text("submitted_on IS NULL"),
                              sqlite_where=sa.text("submitted_on IS NULL"))


def downgrade():
    with op.batch_alter_table("case_deadline") as batch_op:
        batch_op.drop_index("ix_case_deadline_unreported")
