"""The organisation tree: units with appointment authority and the departments supervising them."""
import re

from flask_appbuilder import Model
from sqlalchemy import Boolean, CheckConstraint, Column, ForeignKey, Index, Integer, String, UniqueConstraint, select
from sqlalchemy.orm import relationship

from app.enums import AUTHORITIES, GRADES, UNIT_LEVELS, UNIT_TYPES
from app.models.mixins import UnitOwned

CODE_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]{0,39}$")
PATH_SEP = "/"


class Unit(UnitOwned, Model):
    """A unit. ``path`` is a materialised path of codes ("/ROOT/D01/D01-ZZB/") so that a
    supervisor's subtree is one indexed prefix match, whatever the depth or the tree size."""

    __tablename__ = "unit"
    __scope_column__ = "id"  # a unit is visible when it is itself in scope
    __audit_exclude__ = {"path"}  # derived from the parent chain

    id = Column(Integer, primary_key=True)
    code = Column(String(40), nullable=False, unique=True)
    name = Column(String(100), nullable=False)
    parent_id = Column(Integer, ForeignKey("unit.id", ondelete="RESTRICT"), index=True)
    parent = relationship("Unit", remote_side=[id], backref="children")
    path = Column(String(1000), nullable=False)
    level = Column(String(20), nullable=False)
    unit_type = Column(String(20), nullable=False)
    region_code = Column(String(6))
    max_grade = Column(String(20), nullable=False)
    authority = Column(String(20), nullable=False)
    dual_managed = Column(Boolean, nullable=False, default=False)

    quotas = relationship("UnitQuota", back_populates="unit", cascade="all, delete-orphan")

    __table_args__ = (
        Index("ix_unit_path", "path", postgresql_ops={"path": "text_pattern_ops"}),
        CheckConstraint("region_code IS NULL OR length(region_code) = 6", name="ck_unit_region_code"),
        # Never reuse a deleted row's id on SQLite: the audit trail is keyed by table and id.
        {"sqlite_autoincrement": True},
    )

    def __repr__(self):
        return self.name

    @property
    def depth(self) -> int:
        return self.path.strip(PATH_SEP).count(PATH_SEP)

    @property
    def tree_name(self) -> str:
        """Name indented by depth, for the tree list."""
        return "\u3000" * self.depth + self.name

    @property
    def parent_code(self):
        return self.parent.code if self.parent else None

    def validate_write(self) -> list[str]:
        return validate_unit_fields(self)


class UnitQuota(UnitOwned, Model):
    """Approved posts (职数) of one grade in one unit."""

    __tablename__ = "unit_quota"

    id = Column(Integer, primary_key=True)
    unit_id = Column(Integer, ForeignKey("unit.id", ondelete="CASCADE"), nullable=False, index=True)
    unit = relationship("Unit", back_populates="quotas")
    grade = Column(String(20), nullable=False)
    approved = Column(Integer, nullable=False, default=0)

    __table_args__ = (
        UniqueConstraint("unit_id", "grade", name="uq_unit_quota_grade"),
        CheckConstraint("approved >= 0", name="ck_unit_quota_approved"),
        {"sqlite_autoincrement": True},
    )

    def __repr__(self):
        return f"{self.grade} {self.approved}"

    def validate_write(self) -> list[str]:
        errors = []
        if self.grade not in GRADES:
            errors.append(f"职级“{self.grade}”无效，应为：{'、'.join(GRADES)}")
        if self.approved is None or self.approved < 0:
            errors.append("核定职数必须是不小于 0 的整数")
        unit_id = self.unit_id if self.unit_id is not None else getattr(self.unit, "id", None)
        if unit_id is not None and self.grade:
            from sqlalchemy.orm import object_session

            session = object_session(self)
            clash = session.execute(
                select(UnitQuota.id).where(UnitQuota.unit_id == unit_id, UnitQuota.grade == self.grade,
                                           UnitQuota.id != (self.id or 0))
            ).first() if session is not None else None
            if clash:
                errors.append(f"该单位已有“{self.grade}”的核定职数，请直接修改原记录")
        return errors


def validate_unit_fields(unit: Unit) -> list[str]:
    """Every problem with a unit's own fields, in Chinese (empty when valid)."""
    errors = []
    if not unit.code or not CODE_RE.match(unit.code):
        errors.append("单位代码只能由字母、数字、下划线和连字符组成（1–40 位，以字母或数字开头）")
    if not unit.name or not unit.name.strip():
        errors.append("单位名称不能为空")
    if unit.level not in UNIT_LEVELS:
        errors.append(f"层级“{unit.level}”无效，应为：{'、'.join(UNIT_LEVELS)}")
    if unit.unit_type not in UNIT_TYPES:
        errors.append(f"单位类型“{unit.unit_type}”无效，应为：{'、'.join(UNIT_TYPES)}")
    if unit.max_grade not in GRADES:
        errors.append(f"机构规格“{unit.max_grade}”无效，应为：{'、'.join(GRADES)}")
    if unit.authority not in AUTHORITIES:
        errors.append(f"任免权限“{unit.authority}”无效，应为：{'、'.join(AUTHORITIES)}")
    if unit.region_code and not re.fullmatch(r"\d{6}", unit.region_code):
        errors.append("行政区划代码应为 6 位数字（GB/T 2260）")
    return errors


def unit_path(parent: "Unit | None", code: str) -> str:
    return (parent.path if parent is not None else PATH_SEP) + code + PATH_SEP
