"""统计事实表: one row per current case holding, for every column of the statistics table that a
case either meets or not, whether it does — computed in SQL from the same conditions the drill-down
lists use (app/queries/columns.py) and kept up to date in the transaction that changes the case
(app/queries/facts.py).

Why: the yearly table over all units otherwise joins seven module tables and two deadline rows to
half a million cases each time (4 s at 1,000,000 cases, bench/queries.py); over this one narrow
table it is one scan. What depends on the day or on the alarms (整改中, 逾期未整改, 已整改) is not
stored: the table joins the alarms for it live.
"""
from __future__ import annotations

from flask_appbuilder import Model
from sqlalchemy import Boolean, Column, Date, ForeignKey, Index, Integer, false

# The statistics columns stored here, in the order of app.queries.columns.COLUMNS, then FACT_EXTRA (a
# test checks they are exactly the columns without distinct batches and without alarms, and those). Fixed here, not read
# from COLUMNS, because the migrations freeze the same list.
FACT_KEYS = (
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
    "green",  # not a table column: the light chart's (app.queries.columns.FACT_EXTRA), migration 0015
)


class CaseFact(Model):
    __tablename__ = "case_fact"
    __scope_column__ = "unit_id"  # no view or API shows it; the statistics read it inside a scope
    __table_args__ = (
        Index("ix_case_fact_decision", "decision_date"),
        Index("ix_case_fact_appointment", "appointment_date"),
        Index("ix_case_fact_batch", "batch_id", "unit_id"),
    )

    case_id = Column(Integer, ForeignKey("cadre_case.id", ondelete="CASCADE"), primary_key=True,
                     autoincrement=False)
    root_id = Column(Integer, nullable=False, index=True)
    unit_id = Column(Integer, nullable=False, index=True)
    batch_id = Column(Integer)  # a case may not be in a batch yet
    decision_date = Column(Date)
    appointment_date = Column(Date)
    # The first current case of its batch within its unit: counting these counts the batches
    # (研究干部批次) without a DISTINCT, as long as a filter never splits a batch of a unit.
    batch_first = Column(Boolean, nullable=False, server_default=false())

    # One flag per key, named as the column it counts for: declared in a loop (a class body is a
    # namespace dict), so the list above is the only place the names are written.
    locals().update({key: Column(Boolean, nullable=False, server_default=false()) for key in FACT_KEYS})
