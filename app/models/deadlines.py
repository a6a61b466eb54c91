"""Reporting deadlines, the in-app inbox, recorded task runs and scheduled report files.

A deadline is data: one row per case (across versions, keyed by ``root_id``) and reporting node,
with its anchor, due date and status, so that the scan is a few set-based statements however
many cases there are. Every notice and every deadline alarm carries a ``dedup_key`` that the
database keeps unique, so a notice is never sent twice whatever the workers do.
"""
from __future__ import annotations

from flask_appbuilder import Model
from sqlalchemy import (
    JSON,
    Boolean,
    Column,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import relationship

from app.models.audit import utcnow
from app.models.mixins import AUTOINCREMENT, Audited, UnitOwned

# Deadline statuses per node.
DL_PENDING = "未到期"   # not submitted, due date not passed
DL_ON_TIME = "按时"     # submitted on or before the due date
DL_LATE = "逾期"        # past due: not submitted yet, or submitted late
DL_MISSING = "未报"     # still not submitted long after the due date (escalated)
DL_STATUSES = (DL_PENDING, DL_ON_TIME, DL_LATE, DL_MISSING)

NODE_LABELS = {1: "初次提交", 2: "二次提交"}

RUN_RUNNING = "运行中"
RUN_OK = "成功"
RUN_FAILED = "失败"


class CaseDeadline(UnitOwned, Model):
    """When node 1 (初次提交) or node 2 (二次提交) of a case is due, and how it stands."""

    __tablename__ = "case_deadline"
    __table_args__ = (
        UniqueConstraint("root_id", "node", name="uq_case_deadline_node"),
        # The scan: open nodes by due date …
        Index("ix_case_deadline_open", "status", "due_date"),
        # … and only the unreported ones, which stay few however many cases were reported late.
        Index("ix_case_deadline_unreported", "status", "due_date",
              postgresql_where=text("submitted_on IS NULL"), sqlite_where=text("submitted_on IS NULL")),
        # Statistics and exports read a case's node status: from the index alone (migration 0008).
        Index("ix_case_deadline_stats", "root_id", "node", "status"),
        AUTOINCREMENT,
    )

    id = Column(Integer, primary_key=True)
    root_id = Column(Integer, nullable=False)
    case_id = Column(Integer, ForeignKey("cadre_case.id"), nullable=False, index=True)  # the current version
    case = relationship("Case")
    unit_id = Column(Integer, ForeignKey("unit.id"), nullable=False, index=True)
    unit = relationship("Unit")
    node = Column(Integer, nullable=False)
    anchor_date = Column(Date, nullable=False)  # 讨论决定 date (node 1), appointment document date (node 2)
    days = Column(Integer, nullable=False)
    day_type = Column(String(10), nullable=False, default="calendar")  # calendar / working
    setting_id = Column(Integer, ForeignKey("rule_setting.id"))  # the T01/T02 version applied (None: defaults)
    due_date = Column(Date, nullable=False)
    status = Column(String(4), nullable=False, default=DL_PENDING)
    submitted_on = Column(Date)
    days_late = Column(Integer, nullable=False, default=0)  # fixed at submission; grows by the scan until then
    updated_at = Column(DateTime, nullable=False, default=utcnow, onupdate=utcnow)

    def __repr__(self):
        return f"{self.node_label} {self.due_date}"

    @property
    def node_label(self) -> str:
        return NODE_LABELS.get(self.node, str(self.node))


class Message(UnitOwned, Model):
    """站内消息: one notice to one user. ``dedup_key`` is unique per recipient."""

    __tablename__ = "inbox_message"
    # Scoped by the unit the notice is about; the inbox also filters by recipient.
    __table_args__ = (
        UniqueConstraint("recipient_id", "dedup_key", name="uq_inbox_message_dedup"),
        Index("ix_inbox_message_unread", "recipient_id", "read_at"),
        AUTOINCREMENT,
    )

    id = Column(Integer, primary_key=True)
    recipient_id = Column(Integer, ForeignKey("ab_user.id", ondelete="CASCADE"), nullable=False)
    recipient = relationship("AppUser")
    unit_id = Column(Integer, ForeignKey("unit.id"), nullable=False, index=True)
    unit = relationship("Unit")
    kind = Column(String(20), nullable=False)  # 到期提醒 / 逾期通知 / 未报通知 / 统计报表 / …
    title = Column(String(200), nullable=False)
    body = Column(Text, nullable=False, default="")
    link = Column(String(300))
    case_id = Column(Integer, ForeignKey("cadre_case.id"), index=True)
    dedup_key = Column(String(200), nullable=False)
    created_at = Column(DateTime, nullable=False, default=utcnow)
    read_at = Column(DateTime)
    emailed_at = Column(DateTime)  # claimed before sending, so an e-mail goes out at most once

    __audit_exclude__ = {"read_at", "emailed_at"}

    def __repr__(self):
        return self.title


class TaskRun(Audited, Model):
    """One run of a background task: when, how it ended, what it counted, what went wrong."""

    __tablename__ = "task_run"
    __table_args__ = (Index("ix_task_run_task", "task", "status"), AUTOINCREMENT)

    id = Column(Integer, primary_key=True)
    task = Column(String(50), nullable=False)
    started_at = Column(DateTime, nullable=False, default=utcnow)
    finished_at = Column(DateTime)
    status = Column(String(4), nullable=False, default=RUN_RUNNING)
    counts = Column(JSON)
    error = Column(Text)
    triggered_by = Column(String(64))
    progress = Column(Integer, nullable=False, default=0)  # percent

    def __repr__(self):
        return f"{self.task} #{self.id}"


class ReportSchedule(Audited, Model):
    """When a periodic statistics report is generated: ``day`` days after the period ends, at ``hour``."""

    __tablename__ = "report_schedule"
    __table_args__ = (AUTOINCREMENT,)

    id = Column(Integer, primary_key=True)
    kind = Column(String(10), nullable=False, unique=True)  # monthly / quarterly
    enabled = Column(Boolean, nullable=False, default=True)
    day = Column(Integer, nullable=False, default=1)
    hour = Column(Integer, nullable=False, default=2)

    def __repr__(self):
        return self.kind

    def validate_write(self) -> list[str]:
        errors = []
        if self.kind not in ("monthly", "quarterly"):
            errors.append("报表周期应为 monthly（月报）或 quarterly（季报）")
        if self.day is None or not 1 <= self.day <= 28:
            errors.append("生成日应为周期结束后的第 1–28 天")
        if self.hour is None or not 0 <= self.hour <= 23:
            errors.append("生成时刻应为 0–23 点")
        return errors


class ReportFile(UnitOwned, Model):
    """A generated statistics workbook for one supervising unit's subtree and one period."""

    __tablename__ = "report_file"
    __table_args__ = (
        UniqueConstraint("kind", "period_start", "period_end", "unit_id", name="uq_report_file_period"),
        AUTOINCREMENT,
    )

    id = Column(Integer, primary_key=True)
    kind = Column(String(10), nullable=False)
    period_start = Column(Date, nullable=False)
    period_end = Column(Date, nullable=False)
    unit_id = Column(Integer, ForeignKey("unit.id"), nullable=False, index=True)
    unit = relationship("Unit")
    filename = Column(String(200), nullable=False)
    storage_key = Column(String(64), nullable=False, unique=True)
    size = Column(Integer, nullable=False)
    sha256 = Column(String(64), nullable=False)
    created_at = Column(DateTime, nullable=False, default=utcnow)
    task_run_id = Column(Integer, ForeignKey("task_run.id"))

    def __repr__(self):
        return self.filename
