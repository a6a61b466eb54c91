"""Scoped xlsx export of any list view: the rows the user sees, with the filters they set.

Rows stream from the database into the one workbook writer (app.reporting.xlsx) in constant-memory
mode; the export itself is recorded in the audit trail (who exported what, with which filters, how
many rows).
"""
from __future__ import annotations

import datetime as dt
import tempfile

from app.audit import current_actor
from app.extensions import db
from app.models import AuditLog
from app.models.audit import utcnow
from app.reporting.xlsx import Sheet, Writer


def _cell(value):
    """A list shows dates as text; numbers stay numbers, None and booleans are left to the writer."""
    if isinstance(value, dt.datetime):
        return value.isoformat(sep=" ")
    if isinstance(value, dt.date):
        return value.isoformat()
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    return str(value)


def write_xlsx(title: str, subtitle: str, headers: list[str], rows) -> tuple[str, int]:
    """Write a sheet to a temporary file; returns (path, number of data rows)."""
    tmp = tempfile.NamedTemporaryFile(prefix="jishi-export-", suffix=".xlsx", delete=False)
    tmp.close()
    widths = {col: max(10, min(40, len(name) * 2 + 4)) for col, name in enumerate(headers)}
    w = Writer(tmp.name)
    w.sheet(Sheet(title, headers=headers, widths=widths, subtitle=subtitle), "数据")
    n = 0
    for n, row in enumerate(rows, start=1):
        w.plain_row([_cell(v) for v in row])
    w.close()
    return tmp.name, n


def record_export(table_name: str, unit_id, description: str, count: int) -> None:
    actor = current_actor()
    db.session.add(AuditLog(
        ts=utcnow(), actor_id=actor.user_id if actor else None, actor_name=actor.name if actor else "?",
        path=actor.path if actor else "web", action="export", table_name=table_name, record_id="*",
        unit_id=unit_id, field="导出", old_value=description, new_value=f"{count} 行",
    ))
    db.session.commit()
