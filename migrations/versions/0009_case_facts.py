"""statistics: the case fact table (one row per current case, a flag per statistics column)

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-27

The yearly statistics table over all units took 4 s at 1,000,000 cases (bench/queries.py), most of
it joining seven module tables and the deadlines to half a million cases. app/models/facts.py keeps
what each case counts in, computed by the columns' own SQL conditions; app/queries/facts.py
keeps it current. The upgrade fills it from the existing cases (55 s for 1,000,000 on the 2-core
bench machine).
"""
import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None

FACT_KEYS = (  # as app.models.facts.FACT_KEYS, frozen here as migrations must be
    "people",
    "type_0", "type_1", "type_2", "type_3", "type_4", "type_5",
    "grade_0", "grade_1", "grade_2", "grade_3", "grade_4", "grade_5",
    "method_0", "method_1", "method_2", "method_3",
    "breaking", "skip_level", "prior_report", "prior_agreed", "prior_refused", "over_quota",
    "female", "minority", "non_party",
    "age_0", "age_1", "age_2", "age_3", "age_4", "age_5",
    "edu_grad", "edu_bachelor", "edu_lower",
    "recommended", "differential", "publicized", "complaints", "blocked", "probation", "probation_failed",
    "due1", "ontime1", "late1", "missing1", "due2", "ontime2", "late2",
    "returned", "red", "yellow",
)


def upgrade():
    op.create_table(
        "case_fact",
        sa.Column("case_id", sa.Integer(), nullable=False),
        sa.Column("root_id", sa.Integer(), nullable=False),
        sa.Column("unit_id", sa.Integer(), nullable=False),
        sa.Column("batch_id", sa.Integer(), nullable=True),
        sa.Column("decision_date", sa.Date(), nullable=True),
        sa.Column("appointment_date", sa.Date(), nullable=True),
        sa.Column("batch_first", sa.Boolean(), server_default=sa.false(), nullable=False),
        *(sa.Column(key, sa.Boolean(), server_default=sa.false(), nullable=False) for key in FACT_KEYS),
        sa.ForeignKeyConstraint(["case_id"], ["cadre_case.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("case_id"),
    )
    op.create_index("ix_case_fact_decision", "case_fact", ["decision_date"])
    op.create_index("ix_case_fact_appointment", "case_fact", ["appointment_date"])
    op.create_index("ix_case_fact_batch", "case_fact", ["batch_id", "unit_id"])
    op.create_index("ix_case_fact_root_id", "case_fact", ["root_id"])
    op.create_index("ix_case_fact_unit_id", "case_fact", ["unit_id"])
    _fill()


def _fill():
    """The existing cases' rows, computed by the application's own conditions (the columns may gain
    conditions later; a later migration that changes them rebuilds the table the same way)."""
    from app.queries.facts import rebuild

    rebuild(session=op.get_bind())  # Core statements only: the migration's own connection runs them


def downgrade():
    op.drop_table("case_fact")
