"""Custom items (自定义数据项): items an admin adds to a module for a region or a unit subtree, without
a release or a migration (issue 16, docs/custom-items.md).

``CustomItem`` is the definition; ``CustomValue`` one value of one case, in a typed column
(``value_text`` for text and single choices, ``value_num`` for integers and yes/no, ``value_date`` for
dates, ``value_json`` for multiple choices) so a filter on a custom item is an index range on
``(item_id, value_*)`` — on PostgreSQL and SQLite alike.
"""
from __future__ import annotations

from flask_appbuilder import Model
from sqlalchemy import JSON, BigInteger, Boolean, Column, Date, DateTime, ForeignKey, Index, Integer, String, Text
from sqlalchemy import UniqueConstraint
from sqlalchemy.orm import relationship

from app.models.audit import utcnow
from app.models.case import Case
from app.models.mixins import AUTOINCREMENT, Audited, UnitOwned


class CustomItem(Audited, Model):
    """The definition of one custom item. Never deleted (values and the audit trail name it);
    ``active`` False withdraws it from new entry."""

    __tablename__ = "custom_item"
    __table_args__ = (AUTOINCREMENT,)
    # The subtree's root (None: a region-wide or global item, visible to whoever may see its region —
    # app.record.custom_items.visible_definitions; never listed through a unit-scoped view).
    __scope_column__ = "unit_id"

    id = Column(Integer, primary_key=True)
    module = Column(String(40), nullable=False)
    key = Column(String(40), nullable=False, unique=True)
    label = Column(String(100), nullable=False)
    type = Column(String(400), nullable=False)  # as in the exchange format: text, int, date, bool, enum[a, b]…
    required = Column(String(4), nullable=False, default="N")  # Y / N / cond
    condition = Column(String(200))  # when required is "cond": the key of a yes/no item that makes it required
    help_text = Column(String(500))
    effective_from = Column(Date, nullable=False)
    region_code = Column(String(6))  # 行政区划代码: 330000 covers 33xxxx, 330100 covers 3301xx
    unit_id = Column(Integer, ForeignKey("unit.id"), index=True)  # the subtree's root
    unit = relationship("Unit")
    active = Column(Boolean, nullable=False, default=True)
    author_id = Column(Integer, ForeignKey("ab_user.id"))
    author_name = Column(String(64), nullable=False)
    created_at = Column(DateTime, nullable=False, default=utcnow)

    def audit_unit_id(self):
        return self.unit_id

    def __repr__(self):
        return f"{self.label}（{self.key}）"


class CustomValue(UnitOwned, Model):
    """One case's value of one custom item (a row once a value was entered; emptied, not deleted, so its
    audit trail stays attached to the case)."""

    __tablename__ = "custom_value"
    __table_args__ = (
        UniqueConstraint("case_id", "item_id", name="uq_custom_value_case_item"),
        Index("ix_custom_value_text", "item_id", "value_text"),
        Index("ix_custom_value_num", "item_id", "value_num"),
        Index("ix_custom_value_date", "item_id", "value_date"),
        AUTOINCREMENT,
    )

    id = Column(Integer, primary_key=True)
    unit_id = Column(Integer, ForeignKey("unit.id"), nullable=False, index=True)
    case_id = Column(Integer, ForeignKey("cadre_case.id", ondelete="CASCADE"), nullable=False, index=True)
    item_id = Column(Integer, ForeignKey("custom_item.id"), nullable=False)
    item = relationship(CustomItem, lazy="joined")
    value_text = Column(Text)
    value_num = Column(BigInteger)
    value_date = Column(Date)
    value_json = Column(JSON)

    def __repr__(self):
        return f"{self.item.label if self.item else self.item_id} #{self.case_id}"


Case.custom_values = relationship(CustomValue, cascade="all, delete-orphan", backref="case",
                                  order_by=CustomValue.item_id)
