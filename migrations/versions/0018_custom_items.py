"""custom items (自定义数据项): definitions and typed values, no migration per item

Revision ID: 0018
Revises: 0017
Create Date: 2026-12-05

An admin's item lives in ``custom_item``; each case's value is a row of ``custom_value`` with a typed
column per kind, indexed on (item_id, value_*) so a 条件查询 filter on a custom item is an index range
on PostgreSQL (docs/custom-items.md).
"""
import sqlalchemy as sa
from alembic import op

revision = "0018"
down_revision = "0017"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "custom_item",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("module", sa.String(40), nullable=False),
        sa.Column("key", sa.String(40), nullable=False),
        sa.Column("label", sa.String(100), nullable=False),
        sa.Column("type", sa.String(400), nullable=False),
        sa.Column("required", sa.String(4), nullable=False),
        sa.Column("condition", sa.String(200)),
        sa.Column("help_text", sa.String(500)),
        sa.Column("effective_from", sa.Date(), nullable=False),
        sa.Column("region_code", sa.String(6)),
        sa.Column("unit_id", sa.Integer(), sa.ForeignKey("unit.id")),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("author_id", sa.Integer(), sa.ForeignKey("ab_user.id")),
        sa.Column("author_name", sa.String(64), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.UniqueConstraint("key"),
        sqlite_autoincrement=True,
    )
    op.create_index("ix_custom_item_unit_id", "custom_item", ["unit_id"])
    op.create_table(
        "custom_value",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("unit_id", sa.Integer(), sa.ForeignKey("unit.id"), nullable=False),
        sa.Column("case_id", sa.Integer(), sa.ForeignKey("cadre_case.id", ondelete="CASCADE"), nullable=False),
        sa.Column("item_id", sa.Integer(), sa.ForeignKey("custom_item.id"), nullable=False),
        sa.Column("value_text", sa.Text()),
        sa.Column("value_num", sa.BigInteger()),
        sa.Column("value_date", sa.Date()),
        sa.Column("value_json", sa.JSON()),
        sa.UniqueConstraint("case_id", "item_id", name="uq_custom_value_case_item"),
        sqlite_autoincrement=True,
    )
    op.create_index("ix_custom_value_unit_id", "custom_value", ["unit_id"])
    op.create_index("ix_custom_value_case_id", "custom_value", ["case_id"])
    op.create_index("ix_custom_value_text", "custom_value", ["item_id", "value_text"])
    op.create_index("ix_custom_value_num", "custom_value", ["item_id", "value_num"])
    op.create_index("ix_custom_value_date", "custom_value", ["item_id", "value_date"])


def downgrade():
    op.drop_table("custom_value")
    op.drop_table("custom_item")
