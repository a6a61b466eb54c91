"""The supervisor's workbench: reviews (网上巡查), spot checks (抽查) and their findings, circulated
notices (通报) and the imported list of appointment documents (应报未报).

Reviews and spot-check draws are evidence: rows are only ever inserted (database triggers).
"""
from __future__ import annotations

from flask_appbuilder import Model
from sqlalchemy import JSON, Column, Date, DateTime, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import relationship

from app.models.audit import utcnow
from app.models.mixins import AUTOINCREMENT, UnitOwned

REVIEW_RESULTS = ("通过", "黄灯提示", "红灯预警", "退回补正")

FINDING_OPEN = "整改中"
FINDING_DONE = "已整改"
FINDING_CLOSED = "已关闭"
FINDING_STATUSES = (FINDING_OPEN, FINDING_DONE, FINDING_CLOSED)

NOTICE_DRAFT = "草稿"
NOTICE_ISSUED = "已印发"

DOC_MATCHED = "已匹配"
DOC_UNMATCHED = "未匹配"


class Review(UnitOwned, Model):
    """One review of a submitted case version by its supervising department, with the reason."""

    __tablename__ = "case_review"
    __table_args__ = (Index("ix_case_review_root", "root_id", "id"), AUTOINCREMENT)

    id = Column(Integer, primary_key=True)
    case_id = Column(Integer, ForeignKey("cadre_case.id"), nullable=False, index=True)
    case = relationship("Case")
    root_id = Column(Integer, nullable=False)
    unit_id = Column(Integer, ForeignKey("unit.id"), nullable=False, index=True)
    unit = relationship("Unit")
    result = Column(String(6), nullable=False)
    reason = Column(Text, nullable=False)
    reviewer_id = Column(Integer, ForeignKey("ab_user.id"), nullable=False)
    reviewer_name = Column(String(64), nullable=False)
    at = Column(DateTime, nullable=False, default=utcnow)

    def __repr__(self):
        return f"{self.result} #{self.case_id}"


class SpotCheck(UnitOwned, Model):
    """A reproducible random draw of submitted cases: the seed, the parameters and the population size
    are kept, and drawing again with them gives the same cases (``app.supervision.patrol.draw``)."""

    __tablename__ = "spot_check"
    __table_args__ = (AUTOINCREMENT,)

    id = Column(Integer, primary_key=True)
    unit_id = Column(Integer, ForeignKey("unit.id"), nullable=False, index=True)  # the subtree sampled
    unit = relationship("Unit")
    title = Column(String(200), nullable=False)
    seed = Column(String(64), nullable=False)
    method = Column(String(5), nullable=False)  # rate / count (per unit)
    rate = Column(String(10))  # kept as text: "0.1" draws the same way whatever the float type
    count = Column(Integer)
    period_from = Column(Date)
    period_to = Column(Date)
    population = Column(Integer, nullable=False)
    created_by_id = Column(Integer, ForeignKey("ab_user.id"))
    created_by_name = Column(String(64), nullable=False)
    created_at = Column(DateTime, nullable=False, default=utcnow)
    items = relationship("SpotCheckItem", back_populates="spot_check", order_by="SpotCheckItem.position")

    def __repr__(self):
        return self.title


class SpotCheckItem(UnitOwned, Model):
    __tablename__ = "spot_check_item"
    __table_args__ = (UniqueConstraint("spot_check_id", "case_id", name="uq_spot_check_case"), AUTOINCREMENT)

    id = Column(Integer, primary_key=True)
    spot_check_id = Column(Integer, ForeignKey("spot_check.id"), nullable=False, index=True)
    spot_check = relationship("SpotCheck", back_populates="items")
    case_id = Column(Integer, ForeignKey("cadre_case.id"), nullable=False)
    case = relationship("Case")
    root_id = Column(Integer, nullable=False)
    unit_id = Column(Integer, ForeignKey("unit.id"), nullable=False, index=True)
    position = Column(Integer, nullable=False)


class Finding(UnitOwned, Model):
    """A problem found in a case (by a spot check or a review), linked to rule codes, with a correction
    deadline, tracked until closed."""

    __tablename__ = "finding"
    __table_args__ = (Index("ix_finding_status", "status", "correction_deadline"), AUTOINCREMENT)

    id = Column(Integer, primary_key=True)
    spot_check_id = Column(Integer, ForeignKey("spot_check.id"), index=True)
    spot_check = relationship("SpotCheck")
    case_id = Column(Integer, ForeignKey("cadre_case.id"), nullable=False, index=True)
    case = relationship("Case")
    root_id = Column(Integer, nullable=False, index=True)
    unit_id = Column(Integer, ForeignKey("unit.id"), nullable=False, index=True)
    unit = relationship("Unit")
    rule_codes = Column(String(200), nullable=False)
    description = Column(Text, nullable=False)
    correction_deadline = Column(Date, nullable=False)
    status = Column(String(4), nullable=False, default=FINDING_OPEN)
    created_by_id = Column(Integer, ForeignKey("ab_user.id"))
    created_by_name = Column(String(64), nullable=False)
    created_at = Column(DateTime, nullable=False, default=utcnow)
    corrected_at = Column(DateTime)
    correction_note = Column(Text)
    closed_at = Column(DateTime)
    closed_by_name = Column(String(64))

    def __repr__(self):
        return f"#{self.id} {self.rule_codes}"


class Notice(UnitOwned, Model):
    """通报: drafted from the period's data (regulations.md C.2), edited, then issued and circulated.
    ``content`` holds the sections; once issued nothing changes."""

    __tablename__ = "circular_notice"
    __table_args__ = (AUTOINCREMENT,)

    id = Column(Integer, primary_key=True)
    unit_id = Column(Integer, ForeignKey("unit.id"), nullable=False, index=True)  # the issuing department
    unit = relationship("Unit")
    number = Column(String(60))  # 文号, e.g. 江组通〔2026〕3号
    title = Column(String(200), nullable=False)
    period_from = Column(Date, nullable=False)
    period_to = Column(Date, nullable=False)
    status = Column(String(4), nullable=False, default=NOTICE_DRAFT)
    content = Column(JSON, nullable=False, default=dict)
    correction_deadline = Column(Date)
    previous_id = Column(Integer, ForeignKey("circular_notice.id"))
    created_by_name = Column(String(64), nullable=False)
    created_at = Column(DateTime, nullable=False, default=utcnow)
    issued_at = Column(DateTime)
    issued_by_name = Column(String(64))
    cases = relationship("NoticeCase", back_populates="notice", order_by="NoticeCase.id")

    def __repr__(self):
        return self.title


class NoticeCase(UnitOwned, Model):
    """A case named in a notice, and why (迟报 / 错报 / 漏报)."""

    __tablename__ = "circular_notice_case"
    __table_args__ = (AUTOINCREMENT,)

    id = Column(Integer, primary_key=True)
    notice_id = Column(Integer, ForeignKey("circular_notice.id"), nullable=False, index=True)
    notice = relationship("Notice", back_populates="cases")
    case_id = Column(Integer, ForeignKey("cadre_case.id"), nullable=False)
    case = relationship("Case")
    root_id = Column(Integer, nullable=False, index=True)
    unit_id = Column(Integer, ForeignKey("unit.id"), nullable=False, index=True)
    kind = Column(String(4), nullable=False)
    detail = Column(Text, nullable=False)


class AppointmentDocument(UnitOwned, Model):
    """One appointment actually issued (任免文件), imported to find appointments never reported."""

    __tablename__ = "appointment_document"
    __table_args__ = (UniqueConstraint("unit_id", "doc_no", "person_name", name="uq_appointment_document"),
                      AUTOINCREMENT)

    id = Column(Integer, primary_key=True)
    doc_no = Column(String(100), nullable=False)
    doc_date = Column(Date, nullable=False)
    unit_id = Column(Integer, ForeignKey("unit.id"), nullable=False, index=True)
    unit = relationship("Unit")
    person_name = Column(String(30), nullable=False)
    id_card_no = Column(String(18))
    post = Column(String(200), nullable=False)
    status = Column(String(4), nullable=False, default=DOC_UNMATCHED)
    matched_case_id = Column(Integer, ForeignKey("cadre_case.id"))
    matched_case = relationship("Case")
    imported_at = Column(DateTime, nullable=False, default=utcnow)
    imported_by_name = Column(String(64), nullable=False)

    def __repr__(self):
        return f"{self.doc_no} {self.person_name}"
