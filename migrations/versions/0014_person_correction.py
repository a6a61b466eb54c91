"""person_correction: recorded 档案专审 corrections and ID-number links of one person across cases

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-05
"""
import sqlalchemy as sa
from alembic import op

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "person_correction",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("id_card_no", sa.String(length=18), nullable=False),
        sa.Column("item_key", sa.String(length=40), nullable=False),
        sa.Column("old_value", sa.String(length=100), nullable=False),
        sa.Column("new_value", sa.String(length=100), nullable=False),
        sa.Column("basis", sa.Text(), nullable=False),
        sa.Column("decided_on", sa.Date(), nullable=False),
        sa.Column("created_by_name", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sqlite_autoincrement=True,
    )
    op.create_index("ix_person_correction_id", "person_correction", ["id_card_no"])


def downgrade():
    op.drop_index("ix_person_correction_id", table_name="person_correction")
    op.drop_table("person_correction")
