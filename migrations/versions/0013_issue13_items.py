"""issue 13 items: the post of a reused recommendation result (P03); interventions (D12) and recusal (C17)

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-05

New catalogue items (app/spec/modules_extra.json), one nullable column each, so existing cases keep
their values and read the new items as not entered.
"""
import sqlalchemy as sa
from alembic import op

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None

COLUMNS = [
    ("case_recommendation", "reused_reco_post", sa.Text(), "引用既有推荐结果的推荐职位"),
    ("case_decision", "intervention_received", sa.Boolean(), "选拔任用过程中是否有说情打招呼、插手干预"),
    ("case_decision", "intervention_record", sa.Text(), "说情打招呼、插手干预情况登记（何人、何时、何种方式、所涉事项）"),
    ("case_decision", "intervention_reported_date", sa.Date(), "向上级组织部门或纪检监察机关报告日期"),
    ("case_decision", "conflicted_members", sa.Integer(), "与拟任人选有近亲属或其他利害关系的决策成员数"),
    ("case_decision", "recused_members", sa.Integer(), "其中已回避的成员数"),
]


def upgrade():
    for table, name, type_, label in COLUMNS:  # plain ADD COLUMN: a batch copy would drop SQLite's triggers
        op.add_column(table, sa.Column(name, type_, nullable=True, comment=label))


def downgrade():
    for table, name, _type, _label in reversed(COLUMNS):
        op.drop_column(table, name)
