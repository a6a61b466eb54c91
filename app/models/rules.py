"""Rule parameters (versioned), the working-day calendar, stored evaluations and alarms."""
from __future__ import annotations

from flask_appbuilder import Model
from sqlalchemy import JSON, Boolean, Column, Date, DateTime, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import relationship

from app.models.audit import utcnow
from app.models.mixins import AUTOINCREMENT, Audited, UnitOwned

ALARM_RAISED = "已报警"
ALARM_HALTED = "已叫停"
ALARM_DISMISSED = "核实无误"
ALARM_CORRECTED = "已整改"
ALARM_CLOSED = "已关闭"
ALARM_STATUSES = (ALARM_RAISED, ALARM_HALTED, ALARM_DISMISSED, ALARM_CORRECTED, ALARM_CLOSED)


class RuleSetting(UnitOwned, Model):
    """One version of one rule's settings, in force from ``effective_from``. A row with a
    region or a unit overrides the general one for local-practice ([L]) rules."""

    __tablename__ = "rule_setting"
    # Unit overrides are unit data (scoped by unit_id); general rows (no unit) are the admin's.
    __table_args__ = (Index("ix_rule_setting_code_from", "code", "effective_from"), AUTOINCREMENT)

    id = Column(Integer, primary_key=True)
    code = Column(String(8), nullable=False)
    effective_from = Column(Date, nullable=False)
    enabled = Column(Boolean, nullable=False, default=True)
    params = Column(JSON, nullable=False, default=dict)
    region_code = Column(String(6))
    unit_id = Column(Integer, ForeignKey("unit.id"))
    unit = relationship("Unit")
    note = Column(String(200))
    created_at = Column(DateTime, nullable=False, default=utcnow)

    def __repr__(self):
        return f"{self.code} {self.effective_from}"


class CalendarDay(Audited, Model):
    """A day that differs from Monday–Friday: a holiday on a weekday or a 调休 working weekend."""

    __tablename__ = "calendar_day"
    __table_args__ = (AUTOINCREMENT,)

    id = Column(Integer, primary_key=True)
    day = Column(Date, nullable=False, unique=True)
    working = Column(Boolean, nullable=False)
    name = Column(String(50))
    source = Column(String(10), nullable=False, default="admin")  # package / admin


class CalendarYear(Audited, Model):
    """A year whose calendar is complete; counting in any other year raises a data warning."""

    __tablename__ = "calendar_year"

    year = Column(Integer, primary_key=True)
    source = Column(String(10), nullable=False, default="admin")


class EvaluationRun(Model):
    """One evaluation of one case version at one point (E, S1, S2, D); append-only."""

    __tablename__ = "evaluation_run"
    __scope_column__ = "unit_id"
    __table_args__ = (Index("ix_evaluation_run_case", "case_id", "id"), AUTOINCREMENT)

    id = Column(Integer, primary_key=True)
    case_id = Column(Integer, ForeignKey("cadre_case.id"), nullable=False)
    unit_id = Column(Integer, ForeignKey("unit.id"), nullable=False, index=True)
    point = Column(String(2), nullable=False)
    as_of = Column(Date, nullable=False)
    judged_on = Column(Date, nullable=False)  # the date whose parameter versions applied
    evaluated_at = Column(DateTime, nullable=False, default=utcnow)
    light = Column(String(6), nullable=False)
    red = Column(Integer, nullable=False, default=0)
    yellow = Column(Integer, nullable=False, default=0)
    results = relationship("RuleEvaluation", back_populates="run", order_by="RuleEvaluation.id")


class RuleEvaluation(Model):
    """One rule's outcome in a run: rule and parameter version, a hash of the inputs, the message."""

    __tablename__ = "rule_evaluation"
    __scope_column__ = "unit_id"
    __table_args__ = (Index("ix_rule_evaluation_code", "rule_code", "outcome"), AUTOINCREMENT)

    id = Column(Integer, primary_key=True)
    run_id = Column(Integer, ForeignKey("evaluation_run.id"), nullable=False, index=True)
    run = relationship("EvaluationRun", back_populates="results")
    case_id = Column(Integer, ForeignKey("cadre_case.id"), nullable=False, index=True)
    unit_id = Column(Integer, ForeignKey("unit.id"), nullable=False)
    rule_code = Column(String(8), nullable=False)
    rule_version = Column(String(16), nullable=False)
    setting_id = Column(Integer, ForeignKey("rule_setting.id"))  # None: the catalogue defaults
    inputs_hash = Column(String(64), nullable=False)
    outcome = Column(String(4), nullable=False)  # pass / fail / na
    severity = Column(String(6))
    message = Column(Text)


class Alarm(UnitOwned, Model):
    """A red hit at a submission, raised at the supervising department."""

    __tablename__ = "alarm"
    __table_args__ = (Index("uq_alarm_dedup_key", "dedup_key", unique=True), AUTOINCREMENT)

    id = Column(Integer, primary_key=True)
    # None only for 应报未报: an appointment document no case was ever reported for (document_id).
    case_id = Column(Integer, ForeignKey("cadre_case.id"), index=True)
    case = relationship("Case")
    root_id = Column(Integer, index=True)
    document_id = Column(Integer, ForeignKey("appointment_document.id"), index=True)
    unit_id = Column(Integer, ForeignKey("unit.id"), nullable=False, index=True)
    unit = relationship("Unit")
    run_id = Column(Integer, ForeignKey("evaluation_run.id"))  # None: raised by the deadline scan
    point = Column(String(2), nullable=False)
    codes = Column(String(200), nullable=False)  # comma-separated red rule codes
    message = Column(Text, nullable=False)
    status = Column(String(6), nullable=False, default=ALARM_RAISED, index=True)
    raised_at = Column(DateTime, nullable=False, default=utcnow)
    correction_deadline = Column(Date)
    closed_at = Column(DateTime)
    # Set for alarms raised by a scan (e.g. "deadline:<root>:<node>:<due>"): unique, so a scan
    # running twice or on two workers raises it once.
    dedup_key = Column(String(120))
    events = relationship("AlarmEvent", back_populates="alarm", order_by="AlarmEvent.id")

    def __repr__(self):
        return f"#{self.id} {self.codes}"


class AlarmEvent(UnitOwned, Model):
    """Who moved an alarm from which status to which, and why."""

    __tablename__ = "alarm_event"
    __table_args__ = (AUTOINCREMENT,)

    id = Column(Integer, primary_key=True)
    alarm_id = Column(Integer, ForeignKey("alarm.id"), nullable=False, index=True)
    alarm = relationship("Alarm", back_populates="events")
    unit_id = Column(Integer, ForeignKey("unit.id"), nullable=False)
    from_status = Column(String(6))
    to_status = Column(String(6), nullable=False)
    actor_id = Column(Integer, ForeignKey("ab_user.id"))
    actor_name = Column(String(64), nullable=False)
    reason = Column(Text)
    at = Column(DateTime, nullable=False, default=utcnow)
