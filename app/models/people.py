"""Recorded corrections of a person's facts across cases (档案专审 认定, a corrected ID number).

The person registry is keyed by 身份证号 (app/queries/people.py): cases and imported appointment
documents of the same ID number are the same person; nothing is ever linked by name. A difference
between two cases of one person is explained only by a row here, and a case under another ID number
joins a person only through a row of kind ``id_card_no`` (old value → new value).
"""
from __future__ import annotations

from flask_appbuilder import Model
from sqlalchemy import Column, Date, DateTime, Index, Integer, String, Text

from app.models.audit import utcnow

# What a correction may concern: the ID number itself and the facts compared across cases (X18).
CORRECTABLE = {"id_card_no": "公民身份号码", "full_name": "姓名", "birth_date": "出生年月", "work_start_date": "参加工作时间",
               "party_join_date": "入党时间", "full_time_education": "全日制教育学历"}


class PersonCorrection(Model):
    __tablename__ = "person_correction"
    __table_args__ = (Index("ix_person_correction_id", "id_card_no"), {"sqlite_autoincrement": True})

    id = Column(Integer, primary_key=True)
    id_card_no = Column(String(18), nullable=False)  # the person's (corrected) ID number
    item_key = Column(String(40), nullable=False)  # a key of CORRECTABLE
    old_value = Column(String(100), nullable=False)  # as the earlier record has it (an old ID number for id_card_no)
    new_value = Column(String(100), nullable=False)  # as 档案专审 established it
    basis = Column(Text, nullable=False)  # the 档案专审 / 认定 document: who decided, its number
    decided_on = Column(Date, nullable=False)
    created_by_name = Column(String(64), nullable=False)
    created_at = Column(DateTime, nullable=False, default=utcnow)

    def audit_unit_id(self):
        return None  # a person's record, no unit's: audited as the admin's

    def __repr__(self):
        return f"{self.id_card_no[:6]}… {self.item_key}: {self.old_value} → {self.new_value}"
