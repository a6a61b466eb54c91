"""statistics: 绿灯 in the case fact table (the light chart counted it over the cases and their batches)

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-05

The statistics page's light chart counted 绿灯 by joining the cases of the whole period (1.2 s of the
page at 1,000,000 cases, bench/pages.py); stored beside 红灯 and 黄灯 it is one more flag of the
same scan. Filled from the cases' light, which is all its condition reads.
"""
import sqlalchemy as sa
from alembic import op

revision = "0015"
down_revision = "0014"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("case_fact") as batch_op:
        batch_op.add_column(sa.Column("green", sa.Boolean(), server_default=sa.false(), nullable=False))
    op.execute("UPDATE case_fact SET green = true WHERE case_id IN "
               "(SELECT id FROM cadre_case WHERE light = '绿' AND is_current = true)")


def downgrade():
    with op.batch_alter_table("case_fact") as batch_op:
        batch_op.drop_column("green")
