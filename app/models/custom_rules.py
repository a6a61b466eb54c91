"""Custom rules (自定义规则): each change is a new version; a case is judged by the version in force on its
decision date. Versions are never edited once approved: editing writes a new draft."""
from __future__ import annotations

from flask_appbuilder import Model
from sqlalchemy import JSON, Column, Date, DateTime, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import relationship

from app.models.audit import utcnow
from app.models.mixins import AUTOINCREMENT, UnitOwned

CUSTOM_DRAFT = "draft"
CUSTOM_PENDING = "pending"
CUSTOM_ENABLED = "enabled"
CUSTOM_DISABLED = "disabled"
CUSTOM_STATUSES = {CUSTOM_DRAFT: "草稿", CUSTOM_PENDING: "待审批", CUSTOM_ENABLED: "已启用", CUSTOM_DISABLED: "已停用"}


class CustomRuleVersion(UnitOwned, Model):
    """One version of one custom rule. ``unit_id`` is the unit whose subtree it covers (and whose
    supervisors may write it); None: a rule for everyone, an administrator's."""

    __tablename__ = "custom_rule_version"
    __table_args__ = (UniqueConstraint("code", "version_no", name="uq_custom_rule_version"),
                      Index("ix_custom_rule_version_force", "status", "effective_from"), AUTOINCREMENT)

    id = Column(Integer, primary_key=True)
    code = Column(String(8), nullable=False, index=True)
    version_no = Column(Integer, nullable=False)
    title = Column(String(200), nullable=False)
    category = Column(String(2), nullable=False)
    severity = Column(String(6), nullable=False)  # red / yellow
    points = Column(String(20), nullable=False)  # "E,S1"
    basis = Column(Text, nullable=False)
    expression = Column(Text, nullable=False)
    effective_from = Column(Date, nullable=False)
    # scope: a region (a province's code covers its cities), a unit subtree, target grades, selection types
    region_code = Column(String(6))
    unit_id = Column(Integer, ForeignKey("unit.id"), index=True)
    unit = relationship("Unit")
    grades = Column(JSON, nullable=False, default=list)
    selection_types = Column(JSON, nullable=False, default=list)
    status = Column(String(10), nullable=False, default=CUSTOM_DRAFT)
    author_id = Column(Integer, ForeignKey("ab_user.id"))
    author_name = Column(String(64), nullable=False)
    approver_id = Column(Integer, ForeignKey("ab_user.id"))
    approver_name = Column(String(64))
    approved_at = Column(DateTime)
    note = Column(String(200))  # why this version (a change, a pack import)
    created_at = Column(DateTime, nullable=False, default=utcnow)

    @property
    def status_label(self) -> str:
        return CUSTOM_STATUSES.get(self.status, self.status)

    def __repr__(self):
        return f"{self.code} v{self.version_no}"
