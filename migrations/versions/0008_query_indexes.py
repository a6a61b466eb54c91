"""queries: indexes the statistics table and the query export read instead of the tables

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-27

bench/queries.py at 1,000,000 cases: the yearly statistics table over all units joins seven module
tables and the deadlines to half a million cases. Each index below starts with the case id (the
deadline's root id and node) and holds the columns app/queries/columns.py and the query export
read, so those joins become index-only range scans over the period's ids instead of reading or
hashing every row of every table. The column lists are app.models.case.STATS_INDEX_COLUMNS.
"""
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None

MODULE_INDEXES = {  # as app.models.case.STATS_INDEX_COLUMNS, frozen here as migrations must be
    "qualification": ("sex", "ethnicity", "political_status", "birth_date", "full_time_education",
                      "part_time_education"),
    "motion": ("selection_type", "target_grade", "selection_method", "is_breaking_rule", "is_skip_level",
               "approved_quota", "current_incumbents"),
    "recommendation": ("recommendation_required", "talk_reco_date", "meeting_reco_done", "reused_reco_date"),
    "inspection": ("inspection_object_count",),
    "consultation": ("prior_report_required", "prior_report_reply"),
    "publicity": ("publicity_start", "complaints_count", "publicity_result"),
    "appointment": ("appointment_doc_date", "probation_applicable", "probation_review_result"),
}


def upgrade():
    for key, columns in MODULE_INDEXES.items():
        with op.batch_alter_table(f"case_{key}") as batch_op:
            batch_op.create_index(f"ix_case_{key}_stats", ["case_id", *columns])
    with op.batch_alter_table("case_deadline") as batch_op:
        batch_op.create_index("ix_case_deadline_stats", ["root_id", "node", "status"])


def downgrade():
    with op.batch_alter_table("case_deadline") as batch_op:
        batch_op.drop_index("ix_case_deadline_stats")
    for key in reversed(list(MODULE_INDEXES)):
        with op.batch_alter_table(f"case_{key}") as batch_op:
            batch_op.drop_index(f"ix_case_{key}_stats")
