"""统计分析 in the browser: the statistics table of C.1 and its companion tables, with xlsx exports
and server-side SVG charts.

* ``/statistics/`` — the table by unit (本级 + each child's subtree, 合计) or by month / quarter /
  year, with 同比 and the rates in columns of their own; every number links to the 条件查询 page
  (``/query/``) with the same filter, the row's unit (subtree or 本级) or period and the column's
  key, so the list behind a number is the number. A unit's name re-roots the table there;
* ``/statistics/rules`` — cases by rule hit (rules × units); ``/statistics/overdue`` — the overdue
  list (逾期 / 未报); ``/statistics/roster`` — the 干部任免名册 of the period;
* ``…/export.xlsx``, ``…/rules.xlsx``, ``…/overdue.xlsx``, ``…/roster.xlsx`` — the same, as
  constant-memory workbooks (app.reporting.xlsx), recorded in the audit trail.

Every number is computed in SQL by app.queries (GROUP BY), inside ``current_scope()``; the unit is
resolved within the scope, and a unit outside it gets the same answer as an unknown one.
"""
from __future__ import annotations

import datetime as dt
import functools
import io
import logging
from dataclasses import dataclass, field, replace
from urllib.parse import quote_plus, urlencode

from flask import flash, g, redirect, request, send_file, url_for
from flask_appbuilder import BaseView, expose
from flask_appbuilder.security.decorators import has_access, permission_name
from markupsafe import Markup, escape
from sqlalchemy.exc import SQLAlchemyError
from werkzeug.datastructures import MultiDict

from app import dates
from app.extensions import db
from app.models import Case, Unit
from app.models.deadlines import DL_LATE, DL_MISSING, NODE_LABELS
from app.queries.cases import CaseFilter, count
from app.queries.companions import (
    default_root,
    light_rows,
    lights_of,
    overdue_rows,
    overdue_summary,
    problems,
    problems_first,
    roster_rows,
    top_rules,
    trend_points,
    visible_rows,
    with_green,
)
from app.queries.statistics import StatRow, StatTable, last_year, period_table, rule_hits, unit_table
from app.queries.units import unit_codes
from app.reporting import charts
from app.reporting import exports as qx
from app.reporting.export_log import record_export
from app.reporting.statistics import (
    BASES,
    BY_LABELS,
    TITLE,
    column_groups,
    filter_text,
    has_yoy,
    tree_table,
    value_columns,
    write_statistics_xlsx,
)
from app.reporting.xlsx import Sheet, Writer
from app.rule_settings import rules_by_code
from app.scoping import Scope, current_scope
from app.views.helpers import day, page_arg, page_window

log = logging.getLogger(__name__)

XLSX_MIMETYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
PAGE_SIZE = 50
MIN_YEAR, MAX_YEAR = 1900, 2100  # 同比 goes a year back; a period key a year on
FILTER_KEYS = ("unit", "basis", "date_from", "date_to", "target_grade", "selection_type")


# ---- the form -----------------------------------------------------------------------------------------

def quick_periods(today: dt.date | None = None) -> list[tuple[str, dt.date, dt.date]]:
    """本月 / 上季度 / 本年 as (label, from, to)."""
    today = today or dt.date.today()
    return [("本月", *dates.month_of(today)), ("上季度", *dates.last_quarter(today)), ("本年", *dates.year_of(today))]


@dataclass
class StatForm:
    """The statistics filter read from the query string: what to run, what was wrong, the form."""

    filter: CaseFilter
    root: Unit | None = None
    by: str = "unit"
    errors: list[str] = field(default_factory=list)
    form: dict = field(default_factory=dict)
    others: list = field(default_factory=list)  # an admin's other top-level units

    @property
    def ok(self) -> bool:
        return not self.errors and self.root is not None

    def args(self, **override) -> list[tuple[str, str]]:
        """The form's parameters as a query string list (for tabs, quick periods and re-rooting)."""
        values = {"unit": self.root.code if self.root is not None else self.form.get("unit", ""),
                  "basis": self.form.get("basis", "decision"), "date_from": self.form.get("date_from", ""),
                  "date_to": self.form.get("date_to", ""), "by": self.by,
                  "target_grade": self.form.get("target_grade", []),
                  "selection_type": self.form.get("selection_type", [])}
        values.update(override)
        out = []
        for key, value in values.items():
            if isinstance(value, (list, tuple)):
                out += [(key, v) for v in value]
            elif value is not None:
                out.append((key, value.isoformat() if isinstance(value, dt.date) else str(value)))
        return out

    def qs(self, **override) -> str:
        return urlencode(self.args(**override))

    def describe(self) -> str:
        unit = f"{self.root.name}（含下级单位）" if self.root is not None else ""
        return f"单位：{unit}；统计期间：{filter_text(self.filter)}"


def parse_form(args, scope: Scope, user) -> StatForm:
    """Read unit, period, basis, rows and filters; every problem in Chinese, nothing raises."""
    args = args if isinstance(args, MultiDict) else MultiDict(args)
    picked = MultiDict([(k, v) for k, v in args.items(multi=True) if k in FILTER_KEYS])
    if "date_from" not in args and "date_to" not in args:  # first visit: this year
        _label, start, end = quick_periods()[2]
        picked.add("date_from", start.isoformat())
        picked.add("date_to", end.isoformat())
    pq = qx.parse_filter(picked, scope)
    errors = list(pq.errors)
    for label, picked_day in (("起始日期", pq.filter.date_from), ("截止日期", pq.filter.date_to)):
        if picked_day is not None and not MIN_YEAR <= picked_day.year <= MAX_YEAR:
            errors.append(f"“{label}”超出范围：应在 {MIN_YEAR} 年至 {MAX_YEAR} 年之间")
    others: list[Unit] = []
    root = pq.unit
    if root is None and not (args.get("unit") or "").strip():
        root, others = default_root(scope, user)
        if root is None:
            errors.append("当前用户未归属任何单位，无法统计；请联系系统管理员设置所属单位")
    by = (args.get("by") or "unit").strip()
    if by not in BY_LABELS:
        errors.append("“行”应为按单位、按月、按季度或按年")
        by = "unit"
    f = replace(pq.filter, unit_id=root.id if root is not None else None, subtree=True, rule_code=None)
    form = dict(pq.form)
    form["unit"] = root.code if root is not None else form.get("unit", "")
    return StatForm(filter=f, root=root, by=by, errors=errors, form=form, others=others)


# ---- links to the 条件查询 page ---------------------------------------------------------------------

def query_link(params: dict, col: str | None = None) -> str:
    """The /query/ drill-down of a number (CaseQueryView.index, or its path if it is not registered)."""
    qs = qx.query_string({**params, **({"col": col} if col else {})})
    try:
        base = url_for("CaseQueryView.index")
    except Exception:  # noqa: BLE001 - the 条件查询 view may be missing: build the path by hand
        base = "/query/"
    return base + (f"?{qs}" if qs else "")


def _base_params(f: CaseFilter) -> dict:
    out = f.as_dict()
    out.pop("unit_id", None)
    out.pop("subtree", None)
    return out


def _row_params(table: StatTable, row: StatRow, previous: bool = False) -> dict:
    f = table.filter
    params = _base_params(f)
    if row.kind == "period" and row.period:
        params["date_from"], params["date_to"] = row.period[0].isoformat(), row.period[1].isoformat()
        params.update(unit_id=table.root.id if table.root is not None else None, subtree=True)
    else:
        params.update(unit_id=row.unit_id, subtree=row.subtree)
    if params.get("unit_id") is None:
        params.pop("unit_id", None)
    if previous:
        start = dt.date.fromisoformat(params["date_from"]) if params.get("date_from") else None
        end = dt.date.fromisoformat(params["date_to"]) if params.get("date_to") else None
        back = last_year(CaseFilter(date_from=start, date_to=end))
        if back is None:
            return {}
        params["date_from"], params["date_to"] = back.date_from.isoformat(), back.date_to.isoformat()
    return params


@dataclass
class Cell:
    value: object
    href: str | None = None
    col: str = ""
    kind: str = "count"  # count / rate / yoy / prev


def column_links(params: dict):
    """``query_link(params, col)`` for each column of a row: the row's query string is built (and
    escaped) once and ``col`` appended, as query_link puts it last — a unit's row has some sixty
    columns, and a district's table thousands of links (0.6 s a page when each was built alone)."""
    base = query_link(params)
    whole = escape(base)
    prefix = str(whole) + ("&amp;col=" if "?" in base else "?col=")

    def link(col: str | None) -> Markup:
        return whole if col is None else Markup(prefix + _quoted(col))  # (quoted: nothing to escape)
    return link


@functools.cache
def _quoted(col: str) -> str:
    return quote_plus(col)


def table_rows(table: StatTable, codes: dict[int, str], form: StatForm) -> list[dict]:
    """What the template draws per row: label, re-root link, and every cell with its drill-down."""
    out = []
    for row in [*table.rows, table.total]:
        if row is None:
            continue
        link = column_links(_row_params(table, row))
        cells = []
        for col in table.columns:
            n = int(row.values.get(col.key, 0))
            # 研究干部批次 counts meetings: its list is the people of those meetings (no column condition)
            cells.append(Cell(n, link(None if col.distinct_batches else col.key), col.key))
        for key, _label, num, den in table.rates:
            cells.append(Cell(row.rate(num, den), None, key, "rate"))
        if has_yoy(table):
            prev = row.previous or {}
            prev_params = _row_params(table, row, previous=True)
            cells.append(Cell(int(prev.get("people", 0)), query_link(prev_params, "people") if prev_params else None,
                              "prev_people", "prev"))
            cells.append(Cell(row.yoy("people"), None, "yoy", "yoy"))
        reroot = None
        if row.kind == "unit" and row.unit_id in codes:
            reroot = url_for("StatisticsView.index") + "?" + form.qs(unit=codes[row.unit_id])
        out.append({"row": row, "label": row.label, "kind": row.kind, "depth": row.depth, "reroot": reroot,
                    "cells": cells, "problems": problems(row) if row.kind == "unit" else 0})
    return out


# ---- companion tables ----------------------------------------------------------------------------------

def _ym(d) -> str:
    return f"{d.year}.{d.month:02d}" if d else ""


def window(start, end) -> str:
    if not start and not end:
        return ""
    return f"{day(start)} 至 {day(end)}"


ROSTER_HEADERS = ("序号", "姓名", "性别", "民族", "出生年月", "学历", "政治面貌", "原任职务", "新任（拟任）职务", "任用类型",
                  "讨论决定日期", "公示期", "任职文号", "选任责任单位", "案例编号")
OVERDUE_HEADERS = ("序号", "单位", "案例编号", "姓名", "报送节点", "截止日期", "实际报送日期", "逾期天数")


def roster_values(i: int, r) -> list:
    return [i, r.full_name or "", r.sex or "", r.ethnicity or "", _ym(r.birth_date), r.education or "",
            r.political_status or "", r.current_post or "", r.target_post or "", r.selection_type or "",
            day(r.decision_date), window(r.publicity_start, r.publicity_end), r.appointment_doc_no or "",
            r.unit_name, r.case_no]


def overdue_values(i: int, r) -> list:
    return [i, r.unit_name, r.case_no, r.full_name or "", NODE_LABELS.get(r.node, r.node), day(r.due_date),
            day(r.submitted_on) if r.submitted_on else "未报", int(r.days_late or 0)]


# ---- the view ------------------------------------------------------------------------------------------

class StatisticsView(BaseView):
    """统计分析 (see the module docstring)."""

    route_base = "/statistics"
    default_view = "index"

    def _can(self, perm: str) -> bool:
        return self.appbuilder.sm.has_access(f"can_{perm}", self.class_permission_name)

    def _form(self) -> StatForm:
        sf = parse_form(request.args, current_scope(), g.user)
        for message in sf.errors:
            flash(message, "danger")
        return sf

    def _render(self, template: str, sf: StatForm, tab: str, **kwargs):
        fields = qx.multi_fields()
        quick = [(label, sf.qs(date_from=a, date_to=b)) for label, a, b in quick_periods()]
        return self.render_template(
            template, sf=sf, form=sf.form, tab=tab, bases=BASES, by_labels=BY_LABELS, quick=quick,
            grade_field=fields["target_grade"], type_field=fields["selection_type"], can_export=self._can("export"),
            can_detail=self.appbuilder.sm.has_access("can_detail", "CaseQueryView"), **kwargs)

    def _failed(self, sf: StatForm, tab: str, template: str):
        db.session.rollback()
        log.exception("统计失败")
        flash("统计失败，请调整统计条件后重试", "danger")
        return self._render(template, sf, tab, failed=True)

    # ---- the statistics table --------------------------------------------------------------------
    @expose("/")
    @has_access
    @permission_name("view")
    def index(self):
        sf = self._form()
        if not sf.ok:
            return self._render("jishi/statistics.html", sf, "table", title="统计分析")
        scope = current_scope()
        show_all = request.args.get("all") == "1"
        folded = 0
        try:
            table = with_green(sf.filter, scope, sf.root) if sf.by == "unit" else self._table(sf, scope, tree=False)
            if sf.by == "unit":  # units with problems first; the all-zero ones folded unless asked for
                folded = problems_first(table, show_all)
            rows = table_rows(table, unit_codes(r.unit_id for r in table.rows if r.kind == "unit"), sf)
            lights = lights_of(table) if sf.by == "unit" else light_rows(sf.filter, scope, sf.root)
            svgs = {"trend": charts.trend_chart(*trend_points(sf.filter, scope), title="调整干部人数月度趋势（人）"),
                    "lights": charts.lights_chart(lights, title="各单位红黄绿灯案例数（人）"),
                    "rules": charts.rule_hits_chart(top_rules(sf.filter, scope, sf.root),
                                                    title="命中最多的规则（前 10 条，人）")}
        except SQLAlchemyError:
            return self._failed(sf, "table", "jishi/statistics.html")
        parent = None
        if sf.root.parent_id is not None and scope.contains(sf.root.parent_id):
            parent = db.session.get(Unit, sf.root.parent_id)
        return self._render(
            "jishi/statistics.html", sf, "table", title="统计分析", table=table, rows=rows,
            period_text=filter_text(sf.filter), today=dt.date.today().isoformat(),
            groups=column_groups(table), headers=value_columns(table), heads=_heads(table),
            svgs={k: Markup(v) for k, v in svgs.items()}, folded=folded, show_all=show_all and sf.by == "unit",
            all_link=url_for(".index") + "?" + sf.qs() + "&all=1", fold_link=url_for(".index") + "?" + sf.qs(),
            parent_link=(url_for(".index") + "?" + sf.qs(unit=parent.code)) if parent else None, parent=parent,
            others=[(u, url_for(".index") + "?" + sf.qs(unit=u.code)) for u in sf.others])

    def _table(self, sf: StatForm, scope: Scope, tree: bool) -> StatTable:
        if sf.by == "unit":
            table = tree_table(sf.filter, scope, sf.root) if tree else unit_table(sf.filter, scope, sf.root)
            return visible_rows(table, scope)
        return period_table(sf.filter, scope, sf.by)

    @expose("/export.xlsx")
    @has_access
    @permission_name("export")
    def export(self):
        sf = self._form()
        if not sf.ok:
            flash("统计条件有误，未导出", "danger")
            return redirect(url_for(".index") + "?" + sf.qs())
        table = self._table(sf, current_scope(), tree=True)
        buf = io.BytesIO()
        n = write_statistics_xlsx(buf, table)
        self._record(sf, f"统计表导出（{'按' + BY_LABELS[sf.by]}）：{sf.describe()}", n)
        return self._send(buf, f"{TITLE}-{sf.root.name}")

    # ---- cases by rule hit -----------------------------------------------------------------------
    def _rule_table(self, sf: StatForm, scope: Scope):
        units, hits = rule_hits(sf.filter, scope, sf.root)
        if scope.kind == "unit":
            units = [u for u in units if u.id == scope.unit_id]
        rules = rules_by_code()
        base = _base_params(sf.filter)
        cols = [(u, {"unit_id": u.id, "subtree": u.id != sf.root.id}) for u in units]
        rows = []
        totals = {u.id: 0 for u in units}
        for e in hits:
            cells = []
            for u, where in cols:
                n = e["cells"].get(u.id, 0)
                totals[u.id] += n
                cells.append((n, query_link({**base, **where, "rule_code": e["code"]})))
            rows.append({"code": e["code"], "title": getattr(rules.get(e["code"]), "title", ""), "cells": cells,
                         "total": e["total"],
                         "total_href": query_link({**base, "unit_id": sf.root.id, "subtree": True,
                                                   "rule_code": e["code"]})})
        labels = [f"{u.name}（本级）" if u.id == sf.root.id else u.name for u in units]
        return units, labels, rows, [totals[u.id] for u in units], sum(e["total"] for e in hits)

    @expose("/rules")
    @has_access
    @permission_name("view")
    def rules(self):
        sf = self._form()
        if not sf.ok:
            return self._render("jishi/statistics_rules.html", sf, "rules", title="规则命中统计")
        try:
            units, labels, rows, totals, grand = self._rule_table(sf, current_scope())
        except SQLAlchemyError:
            return self._failed(sf, "rules", "jishi/statistics_rules.html")
        return self._render("jishi/statistics_rules.html", sf, "rules", title="规则命中统计", units=units,
                            labels=labels, rows=rows, totals=totals, grand=grand)

    @expose("/rules.xlsx")
    @has_access
    @permission_name("export")
    def rules_export(self):
        sf = self._form()
        if not sf.ok:
            flash("统计条件有误，未导出", "danger")
            return redirect(url_for(".rules") + "?" + sf.qs())
        _units, labels, rows, totals, grand = self._rule_table(sf, current_scope())
        buf = io.BytesIO()
        headers = ["规则编号", "规则名称", *labels, "合计"]
        w = Writer(buf)
        w.sheet(Sheet(title="选人用人规则命中统计表", unit=f"{sf.root.name}（含下级单位）", period=filter_text(sf.filter),
                      headers=headers, groups=[("规则编号", 1), ("规则名称", 1), ("各单位命中人数", len(labels)),
                                               ("合计", 1)],
                      widths={0: 10, 1: 36, **{i + 2: 12 for i in range(len(labels) + 1)}}), name="规则命中")
        for r in rows:
            w.row([r["code"], r["title"], *(n for n, _href in r["cells"]), r["total"]])
        w.row(["合计（人次）", "", *totals, grand], total=True)
        w.note("说明：一个案例在当前版本的任一次评估中未通过某条规则，即计入该规则一次；合计行为人次。")
        w.close()
        self._record(sf, f"规则命中统计导出：{sf.describe()}", len(rows))
        return self._send(buf, f"规则命中统计-{sf.root.name}")

    # ---- the overdue list ------------------------------------------------------------------------
    def _overdue_summary(self, sf: StatForm, scope: Scope) -> list[dict]:
        summary = overdue_summary(sf.filter, scope)
        base = {**_base_params(sf.filter), "unit_id": sf.root.id, "subtree": True}
        out = []
        for node, label in NODE_LABELS.items():
            late, missing = summary.get((node, DL_LATE), 0), summary.get((node, DL_MISSING), 0)
            if node == 1:
                links = (query_link(base, "late1"), query_link(base, "missing1"))
                both = None
            else:  # the table's 二次 column counts 逾期 and 未报 together
                links = (None, None)
                both = query_link(base, "late2")
            out.append({"node": node, "label": label, "late": late, "missing": missing, "total": late + missing,
                        "late_href": links[0], "missing_href": links[1], "total_href": both})
        return out

    @expose("/overdue")
    @has_access
    @permission_name("view")
    def overdue(self):
        sf = self._form()
        page = page_arg()
        if not sf.ok:
            return self._render("jishi/statistics_overdue.html", sf, "overdue", title="逾期清单")
        scope = current_scope()
        try:
            summary = self._overdue_summary(sf, scope)
            total = sum(s["total"] for s in summary)
            page, pages, offset = page_window(page, total, PAGE_SIZE)
            rows = [overdue_values(offset + i, r) + [r.id, r.status] for i, r in enumerate(
                overdue_rows(sf.filter, scope, offset, PAGE_SIZE), start=1)]
        except SQLAlchemyError:
            return self._failed(sf, "overdue", "jishi/statistics_overdue.html")
        return self._render("jishi/statistics_overdue.html", sf, "overdue", title="逾期清单", rows=rows,
                            summary=summary, total=total, page=page, pages=pages, headers=OVERDUE_HEADERS,
                            page_qs=sf.qs())

    @expose("/overdue.xlsx")
    @has_access
    @permission_name("export")
    def overdue_export(self):
        sf = self._form()
        if not sf.ok:
            flash("统计条件有误，未导出", "danger")
            return redirect(url_for(".overdue") + "?" + sf.qs())
        scope = current_scope()
        summary = self._overdue_summary(sf, scope)
        buf = io.BytesIO()
        w = Writer(buf)
        w.sheet(Sheet(title="纪实报送逾期清单", unit=f"{sf.root.name}（含下级单位）", period=filter_text(sf.filter),
                      headers=OVERDUE_HEADERS, widths={0: 6, 1: 28, 2: 22, 3: 10, 4: 10, 5: 12, 6: 14, 7: 10}),
                name="逾期清单")
        n = 0
        for n, r in enumerate(overdue_rows(sf.filter, scope), start=1):
            w.row(overdue_values(n, r))
        parts = "；".join(f"{s['label']}逾期 {s['late']} 件、未报 {s['missing']} 件" for s in summary)
        w.row(["合计", f"{n} 件", "", "", "", "", "", ""], total=True)
        w.note(f"其中：{parts}。逾期天数为截至报送日（未报的截至最近一次时限扫描）的天数。")
        w.close()
        self._record(sf, f"逾期清单导出：{sf.describe()}", n)
        return self._send(buf, f"逾期清单-{sf.root.name}")

    # ---- the roster ------------------------------------------------------------------------------
    @expose("/roster")
    @has_access
    @permission_name("view")
    def roster(self):
        sf = self._form()
        page = page_arg()
        if not sf.ok:
            return self._render("jishi/statistics_roster.html", sf, "roster", title="干部任免名册")
        scope = current_scope()
        try:
            total = count(sf.filter, scope)
            page, pages, offset = page_window(page, total, PAGE_SIZE)
            rows = [(r.id, roster_values(offset + i, r)) for i, r in enumerate(
                roster_rows(sf.filter, scope, offset, PAGE_SIZE), start=1)]
        except SQLAlchemyError:
            return self._failed(sf, "roster", "jishi/statistics_roster.html")
        return self._render("jishi/statistics_roster.html", sf, "roster", title="干部任免名册", rows=rows,
                            total=total, total_href=query_link({**_base_params(sf.filter), "unit_id": sf.root.id,
                                                                 "subtree": True}),
                            page=page, pages=pages, headers=ROSTER_HEADERS, page_qs=sf.qs())

    @expose("/roster.xlsx")
    @has_access
    @permission_name("export")
    def roster_export(self):
        sf = self._form()
        if not sf.ok:
            flash("统计条件有误，未导出", "danger")
            return redirect(url_for(".roster") + "?" + sf.qs())
        scope = current_scope()
        buf = io.BytesIO()
        w = Writer(buf)
        w.sheet(Sheet(title="干部任免名册", unit=f"{sf.root.name}（含下级单位）", period=filter_text(sf.filter),
                      headers=ROSTER_HEADERS,
                      widths={0: 6, 1: 10, 4: 9, 6: 12, 7: 24, 8: 24, 10: 12, 11: 24, 12: 18, 13: 24, 14: 22}),
                name="任免名册")
        n = 0
        for n, r in enumerate(roster_rows(sf.filter, scope), start=1):
            w.row(roster_values(n, r))
        w.row(["合计", f"{n} 人", *([""] * (len(ROSTER_HEADERS) - 2))], total=True)
        w.close()
        self._record(sf, f"干部任免名册导出：{sf.describe()}", n)
        return self._send(buf, f"干部任免名册-{sf.root.name}")

    # ---- shared ----------------------------------------------------------------------------------
    def _record(self, sf: StatForm, description: str, rows: int) -> None:
        record_export(Case.__tablename__, sf.root.id, description, rows)

    def _send(self, buf: io.BytesIO, name: str):
        import re

        safe = re.sub(r'[\\/:*?"<>|\x00-\x1f]', "", name).strip()[:150] or "统计"
        buf.seek(0)
        return send_file(buf, as_attachment=True, download_name=f"{safe}-{dt.datetime.now():%Y%m%d%H%M}.xlsx",
                         mimetype=XLSX_MIMETYPE)


def _heads(table: StatTable) -> list[str]:
    return ["单位"] if table.by == "unit" else ["期间"]


__all__ = ["StatisticsView", "parse_form", "table_rows", "query_link"]
