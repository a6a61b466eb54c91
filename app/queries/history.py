"""痕迹: the audit rows of records, one query for every history the pages show — a record page's, a
case page's (the case and what belongs to it) and the 明细查询's (every version of the case)."""
from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import or_, select

from app.extensions import db
from app.models import MODULE_MODELS, AuditLog, Batch, Case, CasePerson, CustomValue, Signature, Submission

CASE_PAGE_LIMIT = 200
CHAIN_LIMIT = 2000


def audit_rows(records: dict[str, Iterable], *, oldest_first: bool = False, limit: int | None = None) -> list[AuditLog]:
    """The audit rows of the records given as table name → record ids, newest first unless asked."""
    conds = [(AuditLog.table_name == table) & AuditLog.record_id.in_(ids)
             for table, ids in ((t, [str(i) for i in ids]) for t, ids in records.items()) if ids]
    if not conds:
        return []
    stmt = select(AuditLog).where(or_(*conds)).order_by(AuditLog.id if oldest_first else AuditLog.id.desc())
    if limit is not None:
        stmt = stmt.limit(limit)
    return list(db.session.execute(stmt).scalars().all())


def record_history(table_name: str, record_id) -> list[AuditLog]:
    """One record's audit rows, newest first."""
    return audit_rows({table_name: [record_id]})


def case_history(case: Case) -> list[AuditLog]:
    """The case page: the audit rows of the case, its step rows and its people (the newest 200)."""
    records = {Case.__tablename__: [case.id]}
    for key, model in MODULE_MODELS.items():
        row = case.module_row(key)
        if row is not None and row.id:
            records[model.__tablename__] = [row.id]
    records[CasePerson.__tablename__] = [p.id for p in case.persons if p.id]
    records[CustomValue.__tablename__] = [v.id for v in case.custom_values if v.id]
    return audit_rows(records, limit=CASE_PAGE_LIMIT)


def chain_history(version_ids: list[int], batch_ids: list[int]) -> list[AuditLog]:
    """明细查询: the audit rows of every version of the case and of everything that belongs to them — the
    case rows, each step's row, the people, signatures, submissions and the meeting (batch), oldest first."""
    records = {Case.__tablename__: version_ids, Batch.__tablename__: batch_ids}
    for model in (*MODULE_MODELS.values(), CasePerson, CustomValue, Signature, Submission):
        records[model.__tablename__] = db.session.execute(
            select(model.id).where(model.case_id.in_(version_ids))).scalars().all()
    return audit_rows(records, oldest_first=True, limit=CHAIN_LIMIT)
