"""custom_rule_version: custom rules (自定义规则), one row per version, judged by the version in force

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-05
"""
import sqlalchemy as sa
from alembic import op

revision = "0017"
down_revision = "0016"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "custom_rule_version",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=8), nullable=False),
        sa.Column("version_no", sa.Integer(), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("category", sa.String(length=2), nullable=False),
        sa.Column("severity", sa.String(length=6), nullable=False),
        sa.Column("points", sa.String(length=20), nullable=False),
        sa.Column("basis", sa.Text(), nullable=False),
        sa.Column("expression", sa.Text(), nullable=False),
        sa.Column("effective_from", sa.Date(), nullable=False),
        sa.Column("region_code", sa.String(length=6), nullable=True),
        sa.Column("unit_id", sa.Integer(), nullable=True),
        sa.Column("grades", sa.JSON(), nullable=False),
        sa.Column("selection_types", sa.JSON(), nullable=False),
        sa.Column("status", sa.String(length=10), nullable=False),
        sa.Column("author_id", sa.Integer(), nullable=True),
        sa.Column("author_name", sa.String(length=64), nullable=False),
        sa.Column("approver_id", sa.Integer(), nullable=True),
        sa.Column("approver_name", sa.String(length=64), nullable=True),
        sa.Column("approved_at", sa.DateTime(), nullable=True),
        sa.Column("note", sa.String(length=200), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(["unit_id"], ["unit.id"]),
        sa.ForeignKeyConstraint(["author_id"], ["ab_user.id"]),
        sa.ForeignKeyConstraint(["approver_id"], ["ab_user.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("code", "version_no", name="uq_custom_rule_version"),
        sqlite_autoincrement=True,
    )
    op.create_index("ix_custom_rule_version_code", "custom_rule_version", ["code"])
    op.create_index("ix_custom_rule_version_unit_id", "custom_rule_version", ["unit_id"])
    op.create_index("ix_custom_rule_version_force", "custom_rule_version", ["status", "effective_from"])


def downgrade():
    op.drop_index("ix_custom_rule_version_force", table_name="custom_rule_version")
    op.drop_index("ix_custom_rule_version_unit_id", table_name="custom_rule_version")
    op.drop_index("ix_custom_rule_version_code", table_name="custom_rule_version")
    op.drop_table("custom_rule_version")
