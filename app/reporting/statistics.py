"""The statistics workbook (干部选拔任用工作情况统计表, shared/spec/regulations.md C.1).

There is one computation: the tables come from app.queries.statistics (``unit_table``,
``period_table``) over the columns of app.queries.columns, exactly what the statistics page shows
and what its drill-down links count. This module only arranges those numbers:

* ``tree_table`` — ``unit_table``'s rows (本级, each child's subtree, 合计) plus, under every child
  that has sub-units, that child's own cases (本级) and each sub-unit's subtree: the two-level unit
  tree the workbook shows with the child's name merged down over its rows. The sub-rows come from
  one more GROUP BY per unit (``per_unit``) over the same filter, rolled up here over the few
  per-unit numbers — case rows are never loaded;
* ``write_statistics_xlsx`` — the workbook, written in constant-memory mode with app.reporting.xlsx:
  title, unit, period, 制表日期, merged group headers (``groups()``), count columns, the rates
  (及时率) in columns of their own and the same period last year (同比).

The monthly / quarterly scheduled reports (app/reporting/scheduled.py), ``flask reports
statistics`` (app/cli/reports.py) and the page's export (app/views/statistics.py) all write with it.
"""
from __future__ import annotations

import datetime as dt

from sqlalchemy import select

from app.extensions import db
from app.models import Unit
from app.queries.cases import CaseFilter
from app.queries.columns import COLUMNS
from app.queries.statistics import StatRow, StatTable, last_year, per_unit, period_table, unit_table
from app.reporting.xlsx import Sheet, Writer
from app.scoping import Scope

TITLE = "干部选拔任用工作情况统计表"
BASES = {"decision": "讨论决定日期", "appointment": "任职通知/发文日期"}
BY_LABELS = {"unit": "单位", "month": "月", "quarter": "季度", "year": "年"}
RATE_GROUP = "及时率（%）"
YOY_GROUP = "同比"
YOY_HEADERS = ("去年同期人数", "同比增减（%）")
SUB_INDENT = "　　"  # a sub-unit's label, indented under its parent's merged name


# ---- the tables ---------------------------------------------------------------------------------------

def _zero(columns) -> dict:
    return {c.key: 0 for c in columns}


def _sum_into(into: dict, values: dict) -> None:
    for key, value in values.items():
        into[key] = into.get(key, 0) + value


def _own(counts: dict | None, unit_id: int, columns) -> dict | None:
    if counts is None:
        return None
    return dict(counts.get(unit_id) or _zero(columns))


def _subtree(counts: dict | None, paths: dict, path: str, columns) -> dict | None:
    if counts is None:
        return None
    out = _zero(columns)
    for unit_id, values in counts.items():
        if paths.get(unit_id, "").startswith(path):
            _sum_into(out, values)
    return out


def tree_table(f: CaseFilter, scope: Scope, root: Unit, columns=COLUMNS) -> StatTable:
    """``unit_table`` with, after each child that has sub-units, that child's 本级 row and one row per
    sub-unit subtree (depth 2). The top-level rows and the total are ``unit_table``'s own."""
    table = unit_table(f, scope, root, columns)
    children = [r for r in table.rows if r.kind == "unit"]
    if not children:
        return table
    grand = db.session.execute(select(Unit).where(Unit.parent_id.in_([r.unit_id for r in children]))
                               .order_by(Unit.code)).scalars().all()
    if not grand:
        return table
    below: dict[int, list[Unit]] = {}
    for unit in grand:
        below.setdefault(unit.parent_id, []).append(unit)
    counts = per_unit(table.filter, scope, columns)
    prev_f = last_year(table.filter)
    prev = per_unit(prev_f, scope, columns) if prev_f else None
    ids = set(counts) | set(prev or {})
    paths = dict(db.session.execute(select(Unit.id, Unit.path).where(Unit.id.in_(ids))).all()) if ids else {}
    rows: list[StatRow] = []
    for row in table.rows:
        rows.append(row)
        subs = below.get(row.unit_id) if row.kind == "unit" else None
        if not subs:
            continue
        child = db.session.get(Unit, row.unit_id)
        rows.append(StatRow(f"{child.name}（本级）", _own(counts, child.id, columns), "self", child.id, False, 2,
                            previous=_own(prev, child.id, columns)))
        for unit in subs:
            rows.append(StatRow(unit.name, _subtree(counts, paths, unit.path, columns), "unit", unit.id, True, 2,
                                previous=_subtree(prev, paths, unit.path, columns)))
    table.rows = rows
    return table


def statistics_table(root: Unit, start: dt.date, end: dt.date, *, by: str = "unit", scope: Scope | None = None,
                     basis: str = "decision", **filters) -> StatTable:
    """The table of a scheduled report or of ``flask reports statistics``: the root's subtree, cases
    decided (or appointed, ``basis``) in [start, end], by unit (two levels) or by period."""
    f = CaseFilter(unit_id=root.id, subtree=True, basis=basis, date_from=start, date_to=end, **filters)
    scope = scope or Scope("all")
    if by == "unit":
        return tree_table(f, scope, root)
    return period_table(f, scope, by)


# ---- the workbook -------------------------------------------------------------------------------------

def filter_text(f: CaseFilter) -> str:
    """The period and the filters of a table in words (the workbook's 统计期间 line)."""
    parts = []
    if f.date_from or f.date_to:
        parts.append(f"{f.date_from.isoformat() if f.date_from else '不限'} 至 "
                     f"{f.date_to.isoformat() if f.date_to else '不限'}（按{BASES.get(f.basis, f.basis)}）")
    else:
        parts.append(f"不限（按{BASES.get(f.basis, f.basis)}）")
    if f.target_grade:
        parts.append("拟任职务层次：" + "、".join(f.target_grade))
    if f.selection_type:
        parts.append("任用类型：" + "、".join(f.selection_type))
    return "；".join(parts)


def has_yoy(table: StatTable) -> bool:
    return table.total is not None and table.total.previous is not None


def value_columns(table: StatTable) -> list[tuple[str, str]]:
    """(group, header) of every value column after the row headers, in order."""
    out = [(c.group, c.label) for c in table.columns]
    out += [(RATE_GROUP, label) for _key, label, _num, _den in table.rates]
    if has_yoy(table):
        out += [(YOY_GROUP, h) for h in YOY_HEADERS]
    return out


def row_values(table: StatTable, row: StatRow) -> list:
    """A row's numbers in ``value_columns`` order: counts, rates (None: nothing due), 同比."""
    out: list = [int(row.values.get(c.key, 0)) for c in table.columns]
    out += [row.rate(num, den) for _key, _label, num, den in table.rates]
    if has_yoy(table):
        prev = row.previous or {}
        out += [int(prev.get("people", 0)), row.yoy("people")]
    return out


def _row_headers(table: StatTable) -> list[str]:
    return ["单位", "明细"] if table.by == "unit" else ["期间"]


def _unit_layout(table: StatTable) -> list[tuple[list, dict | None]]:
    """(row header cells, merge_down) per data row of a unit table: top-level names in the first
    column, merged down over a child's own sub-rows; the second column says what the row holds."""
    out = []
    rows = table.rows
    i = 0
    while i < len(rows):
        row = rows[i]
        subs = 0
        while i + 1 + subs < len(rows) and rows[i + 1 + subs].depth >= 2:
            subs += 1
        if row.kind == "self":
            name = table.root.name if table.root is not None else row.label
            out.append(([name, "本级"], None))
        elif subs:
            out.append(([row.label, "小计（含下级）"], {0: subs + 1}))
            for sub in rows[i + 1:i + 1 + subs]:
                out.append(([None, SUB_INDENT + ("本级" if sub.kind == "self" else sub.label)], None))
        else:
            out.append(([row.label, ""], None))
        i += 1 + subs
    return out


def write_statistics_xlsx(target, table: StatTable, *, title: str = TITLE, unit: str | None = None,
                          period: str | None = None, made_on: dt.date | None = None, footer: str | None = None) -> int:
    """Write the table as a workbook (a path or a binary file object); returns the number of data rows.

    ``unit`` and ``period`` default to the table's root (含下级单位) and ``filter_text``."""
    heads = _row_headers(table)
    values = value_columns(table)
    groups_row = [(h, 1) for h in heads] + column_groups(table)
    widths = {0: 26 if table.by == "unit" else 12}
    if table.by == "unit":
        widths[1] = 22
    for col in range(len(heads), len(heads) + len(values)):
        widths[col] = 8
    root = table.root
    unit_label = unit if unit is not None else (f"{root.name}（含下级单位）" if root is not None else "全部单位")
    spec = Sheet(title=title, unit=unit_label, period=period if period is not None else filter_text(table.filter),
                 headers=[*heads, *(h for _g, h in values)], groups=groups_row, widths=widths, made_on=made_on)
    w = Writer(target)
    w.sheet(spec, name="统计表")
    n = 0
    if table.by == "unit":
        for (cells, merge), row in zip(_unit_layout(table), table.rows):
            w.row([*cells, *row_values(table, row)], merge_down=merge)
            n += 1
    else:
        for row in table.rows:
            w.row([row.label, *row_values(table, row)])
            n += 1
    total = table.total
    if total is not None:
        w.row(["合计", *([""] if table.by == "unit" else []), *row_values(table, total)], total=True)
    w.note("说明：人数按案例当前版本统计；“研究干部批次”为讨论决定会议数；及时率 = 按时件数 ÷ 应报件数，"
           "无应报件数时空白；同比增减按调整干部总人数计算。")
    if footer:
        w.note(footer)
    w.close()
    return n


def column_groups(table: StatTable) -> list[tuple[str, int]]:
    """(group, number of columns) above the value columns, in order (the page uses it too)."""
    out: list[tuple[str, int]] = []
    for group, _header in value_columns(table):
        if out and out[-1][0] == group:
            out[-1] = (group, out[-1][1] + 1)
        else:
            out.append((group, 1))
    return out
