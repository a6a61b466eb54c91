"""case list: an index on (unit_id, id) for a subtree's pages in id order

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-05

A district supervisor's deep list page read the cases backwards through the primary key until the
offset was skipped (270 ms at 1,000,000 cases, bench/pages.py); the list now reads a page's ids first
(app/views/cases.py), which this index answers alone (5 ms).
"""
from alembic import op

revision = "0016"
down_revision = "0015"
branch_labels = None
depends_on = None


def upgrade():
    op.create_index("ix_case_unit_id_id", "cadre_case", ["unit_id", "id"])


def downgrade():
    op.drop_index("ix_case_unit_id_id", table_name="cadre_case")
