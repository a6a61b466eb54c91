"""Scoped xlsx export of any list view: the rows the user sees, with the filters they set.

Rows stream from the database into xlsxwriter in constant-memory mode; the export itself is
recorded in the audit trail (who exported what, with which filters, how many rows).
"""
from __future__ import annotations

import datetime as dt
import tempfile

from app.audit import current_actor
from app.extensions import db
from app.models import AuditLog
from app.models.audit import utcnow
from app.reporting.xlsx import SafeWorkbook


def _cell(value):
    if value is None:
        return ""
    if isinstance(value, bool):
        return "是" if value else "否"
    if isinstance(value, (dt.date, dt.datetime)):
        return value.isoformat(sep=" ") if isinstance(value, dt.datetime) else value.isoformat()
    if isinstance(value, (int, float)):
        return value
    return str(value)


def write_xlsx(title: str, subtitle: str, headers: list[str], rows) -> tuple[str, int]:
    """Write a sheet to a temporary file; returns (path, number of data rows)."""
    tmp = tempfile.NamedTemporaryFile(prefix="jishi-export-", suffix=".xlsx", delete=False)
    tmp.close()
    wb = SafeWorkbook(tmp.name, {"constant_memory": True})  # cell text stays text (no formula injection)
    ws = wb.add_worksheet("数据")
    bold = wb.add_format({"bold": True, "font_size": 14})
    head = wb.add_format({"bold": True, "bg_color": "#DDEBF7", "border": 1})
    ws.write(0, 0, title, bold)
    ws.write(1, 0, subtitle)
    for col, name in enumerate(headers):
        ws.write(2, col, name, head)
        ws.set_column(col, col, max(10, min(40, len(name) * 2 + 4)))
    n = 0
    for n, row in enumerate(rows, start=1):
        ws.write_row(2 + n, 0, [_cell(v) for v in row])
    wb.close()
    return tmp.name, n


def record_export(table_name: str, unit_id, description: str, count: int) -> None:
    actor = current_actor()
    db.session.add(AuditLog(
        ts=utcnow(), actor_id=actor.user_id if actor else None, actor_name=actor.name if actor else "?",
        path=actor.path if actor else "web", action="export", table_name=table_name, record_id="*",
        unit_id=unit_id, field="导出", old_value=description, new_value=f"{count} 行",
    ))
    db.session.commit()
