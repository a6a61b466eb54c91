"""The append-only audit trail (痕迹管理)."""
from datetime import datetime, timezone

from flask_appbuilder import Model
from sqlalchemy import Column, DateTime, Index, Integer, String, Text, text

from app.display import audit_value, field_label, table_label
from app.extensions import db

# Columns whose value is a unit's id: the trail names the unit.
UNIT_COLUMNS = {"unit_id", "parent_id", "target_unit_id"}


def utcnow():
    return datetime.now(timezone.utc).replace(tzinfo=None)


class AuditLog(Model):
    """One changed field of one record. Rows are only ever inserted: the app offers no edit or
    delete route, the ORM refuses to flush a change to one, and database triggers (see the
    migration) reject UPDATE and DELETE outright."""

    __tablename__ = "audit_log"
    __scope_column__ = "unit_id"

    id = Column(Integer, primary_key=True)
    ts = Column(DateTime, nullable=False, default=utcnow, index=True)
    actor_id = Column(Integer)
    actor_name = Column(String(100), nullable=False)
    path = Column(String(10), nullable=False)  # web / api / cli / task
    action = Column(String(10), nullable=False)  # insert / update / delete
    table_name = Column(String(64), nullable=False)
    record_id = Column(String(64), nullable=False)
    unit_id = Column(Integer, index=True)  # the unit that owns the record (scoping)
    field = Column(String(64), nullable=False)
    old_value = Column(Text)
    new_value = Column(Text)

    __table_args__ = (Index("ix_audit_record", "table_name", "record_id"), {"sqlite_autoincrement": True})

    PATH_LABELS = {"web": "网页", "api": "接口", "cli": "命令行", "task": "后台任务"}
    ACTION_LABELS = {"insert": "新增", "update": "修改", "delete": "删除"}

    @property
    def path_label(self):
        return self.PATH_LABELS.get(self.path, self.path)

    @property
    def action_label(self):
        return self.ACTION_LABELS.get(self.action, self.action)

    @property
    def table_label(self):
        return table_label(self.table_name)

    @property
    def field_label(self):
        return field_label(self.field, self.table_name)

    @property
    def old_text(self):
        return self._value_text(self.old_value)

    @property
    def new_text(self):
        return self._value_text(self.new_value)

    def _value_text(self, value):
        if self.field in UNIT_COLUMNS and value and value.isdigit():
            name = db.session.execute(text("SELECT name FROM unit WHERE id = :id"), {"id": int(value)}).scalar()
            return name or value
        return audit_value(value, self.field)
