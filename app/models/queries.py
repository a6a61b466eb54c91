"""Saved 条件查询 and background exports."""
from __future__ import annotations

from flask_appbuilder import Model
from sqlalchemy import JSON, Column, DateTime, ForeignKey, Integer, String, UniqueConstraint
from sqlalchemy.orm import relationship

from app.models.audit import utcnow
from app.models.mixins import AUTOINCREMENT, UnitOwned


class SavedQuery(UnitOwned, Model):
    """A named 条件查询 of one user. ``params`` is ``CaseFilter.as_dict()``; it is always run inside
    the scope of whoever runs it, so a saved query never widens what its user may see."""

    __tablename__ = "saved_query"
    __table_args__ = (UniqueConstraint("user_id", "name", name="uq_saved_query_name"), AUTOINCREMENT)

    id = Column(Integer, primary_key=True)
    user_id = Column(Integer, ForeignKey("ab_user.id", ondelete="CASCADE"), nullable=False, index=True)
    unit_id = Column(Integer, ForeignKey("unit.id"), nullable=False, index=True)  # the owner's unit
    name = Column(String(100), nullable=False)
    params = Column(JSON, nullable=False, default=dict)
    created_at = Column(DateTime, nullable=False, default=utcnow)

    def __repr__(self):
        return self.name

    def validate_write(self) -> list[str]:
        errors = []
        if not (self.name or "").strip():
            errors.append("请为查询起一个名称")
        elif len(self.name) > 100:
            errors.append("查询名称不能超过 100 个字")
        return errors


class ExportFile(UnitOwned, Model):
    """A large export produced by a background task: only its requester may download it."""

    __tablename__ = "export_file"
    __table_args__ = (AUTOINCREMENT,)

    id = Column(Integer, primary_key=True)
    user_id = Column(Integer, ForeignKey("ab_user.id", ondelete="CASCADE"), nullable=False, index=True)
    user = relationship("AppUser")
    unit_id = Column(Integer, ForeignKey("unit.id"), nullable=False, index=True)
    task_run_id = Column(Integer, ForeignKey("task_run.id"), index=True)
    kind = Column(String(20), nullable=False)  # cases / statistics / roster / overdue / rule_hits
    title = Column(String(200), nullable=False)
    params = Column(JSON, nullable=False, default=dict)
    filename = Column(String(200))
    storage_key = Column(String(64), unique=True)
    rows = Column(Integer)
    size = Column(Integer)
    sha256 = Column(String(64))
    created_at = Column(DateTime, nullable=False, default=utcnow)
    finished_at = Column(DateTime)

    def __repr__(self):
        return self.title
