"""统计分析 in the browser: the statistics table shows unit_table's numbers under grouped headers,
every number links to the 条件查询 list that counts the same, a unit's name re-roots the table,
scope holds (a clerk of another unit sees nothing of ours), the companion tables (rule hits, the
overdue list, the roster) agree with count(), the four xlsx exports open with their title, headers,
merged row headers and totals, the SVG charts are well-formed and self-contained, bad input is told
in Chinese, and ``flask reports statistics`` writes the same numbers.

The module's organisation:

    组织部 (sup, query) ─┬─ 一局 (clerk1) ── 一局下属
                          └─ 二局 (clerk2)
"""
from __future__ import annotations

import datetime as dt
from dataclasses import replace
import io
import re
import xml.etree.ElementTree as ET
from html import unescape
from html.parser import HTMLParser
from types import SimpleNamespace
from urllib.parse import parse_qsl, urlsplit

import pytest
from markupsafe import escape
from openpyxl import load_workbook
from sqlalchemy import select
from werkzeug.datastructures import MultiDict

from app.audit import acting_as
from app.extensions import db
from app.models import AppUser, AuditLog, Case, CaseDeadline, Unit
from app.queries.cases import CaseFilter, count
from app.queries.columns import BY_KEY, COLUMNS, groups
from app.queries.statistics import period_table, rule_hits, unit_table
from app.reporting import charts
from app.scoping import Scope, scope_for
from app.reporting.exports import parse_filter
from tests.factories import login, make_department, make_users, planted, save_case, unique

D = dt.date
Q1 = {"date_from": "2026-01-01", "date_to": "2026-03-31"}


@pytest.fixture(scope="module")
def st(app, world):
    """Seven cases: the 组织部 itself (2026-01), 一局 (two in 2026-02, one woman), 一局下属 (2026-03),
    二局 (2026-03, 2025-02 for 同比, 2026-06). Lights and first-report statuses set directly."""
    sm = app.appbuilder.sm
    tag = unique("st").lower()
    with app.app_context():
        with acting_as("测试夹具", "cli"):
            dept, units = make_department(db.session.get(Unit, world.units["root"]), tag, "统计组织部", {
                "u1": ("统计一局", None, {}), "u11": ("统计一局下属", "u1", {"level": "事业单位"}),
                "u2": ("统计二局", None, {})})
            u1, u11, u2 = units.values()
            users = make_users(sm, tag, {
                "clerk0": ("sc0", ["填报员"], dept), "clerk1": ("sc1", ["填报员"], u1),
                "clerk11": ("sc11", ["填报员"], u11), "clerk2": ("sc2", ["填报员"], u2),
                "sup": ("ssup", ["监督员"], dept), "query": ("sq", ["查询员"], dept),
            })
            db.session.commit()
        plan = [("clerk0", dept, D(2026, 1, 15), False), ("clerk1", u1, D(2026, 2, 10), True),
                ("clerk1", u1, D(2026, 2, 11), False), ("clerk11", u11, D(2026, 3, 20), False),
                ("clerk2", u2, D(2026, 3, 5), False), ("clerk2", u2, D(2025, 2, 15), True),
                ("clerk2", u2, D(2026, 6, 1), False)]
        made = [save_case(unit, users[clerk_key], decided, woman=i + 51 if woman else None)[0].id
                for i, (clerk_key, unit, decided, woman) in enumerate(plan)]
        with acting_as("测试夹具", "cli"):
            for cid, light in zip(made, ("红", "红", "黄", None, "绿", "黄", None)):
                db.session.get(Case, cid).light = light
                planted(db.session.get(Case, cid).case_no)
            first = {c.root_id: c for c in (db.session.get(Case, cid) for cid in made)}
            for dl in db.session.execute(select(CaseDeadline).where(CaseDeadline.root_id.in_(first),
                                                                    CaseDeadline.node == 1)).scalars():
                if dl.case_id == made[1]:  # on time
                    dl.status, dl.submitted_on, dl.days_late = "按时", dl.due_date, 0
                elif dl.case_id == made[3]:  # submitted three days late
                    dl.status, dl.submitted_on, dl.days_late = "逾期", dl.due_date + dt.timedelta(days=3), 3
            db.session.commit()
        return SimpleNamespace(
            dept=dept.id, u1=u1.id, u11=u11.id, u2=u2.id, codes={"dept": dept.code, "u1": u1.code, "u2": u2.code,
                                                                 "u11": u11.code},
            names={"dept": dept.name, "u1": u1.name, "u11": u11.name, "u2": u2.name}, cases=made,
            users={k: u.username for k, u in users.items()}, user_ids={k: u.id for k, u in users.items()})


def _client(app, st, key):
    return login(app.test_client(), st.users[key])


def _scope(st, key) -> Scope:
    return scope_for(db.session.get(AppUser, st.user_ids[key]))


# ---- reading the page ----------------------------------------------------------------------------------

class _Links(HTMLParser):
    """Rows of #stat-table (kind, unit, label, cells by column) and every ``a.n`` link of the page."""

    def __init__(self):
        super().__init__()
        self.rows, self.links, self.groups, self.in_table, self.row, self.cell_col = [], [], [], False, None, None
        self._th_group = None

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "table" and a.get("id") == "stat-table":
            self.in_table = True
        if tag == "th" and a.get("class") == "group":
            self._th_group = [int(a["colspan"]), ""]
        if not self.in_table:
            if tag == "a" and "n" in (a.get("class") or "").split():
                self.links.append({"href": unescape(a["href"]), "n": int(a["data-n"]), "col": a.get("data-col")})
            return
        if tag == "tr" and "data-kind" in a:
            self.row = {"kind": a["data-kind"], "unit": int(a["data-unit"]) if a["data-unit"] else None,
                        "label": a["data-label"], "cells": {}, "text": {}, "reroot": None}
            self.rows.append(self.row)
        if self.row is not None and tag == "td":
            self.cell_col = a.get("data-col")
        if self.row is not None and tag == "a":
            if "reroot" in (a.get("class") or ""):
                self.row["reroot"] = unescape(a["href"])
            elif "data-n" in a:
                link = {"href": unescape(a["href"]), "n": int(a["data-n"]), "col": a["data-col"]}
                self.row["cells"][a["data-col"]] = link
                self.links.append(link)

    def handle_data(self, data):
        if self._th_group is not None:
            self._th_group[1] += data
        if self.row is not None and self.cell_col and data.strip():
            self.row["text"][self.cell_col] = self.row["text"].get(self.cell_col, "") + data.strip()

    def handle_endtag(self, tag):
        if tag == "th" and self._th_group is not None:
            self.groups.append((self._th_group[1].strip(), self._th_group[0]))
            self._th_group = None
        if tag == "td":
            self.cell_col = None
        if tag == "table":
            self.in_table = False
            self.row = None


def _page(client, url) -> tuple[str, _Links]:
    resp = client.get(url)
    assert resp.status_code == 200, resp.status_code
    html = resp.get_data(as_text=True)
    p = _Links()
    p.feed(html)
    return html, p


def _qs(**params) -> str:
    from urllib.parse import urlencode

    return urlencode([(k, x) for k, v in params.items() for x in (v if isinstance(v, list) else [v])])


def _behind(link, scope) -> int:
    """What the link's /query/ list counts, read with the 条件查询 page's own parser."""
    url = urlsplit(link["href"])
    assert url.path == "/query/", link["href"]
    pq = parse_filter(MultiDict(parse_qsl(url.query)), scope)
    assert pq.ok, pq.errors
    return count(pq.filter, scope, **pq.extra())


def _query_total(client, href) -> int:
    html = client.get(href).get_data(as_text=True)
    m = re.search(r'id="query-total" data-total="(\d+)"', html)
    assert m, href
    return int(m.group(1))


# ---- the statistics table --------------------------------------------------------------------------------

def test_page_shows_unit_tables_numbers_under_grouped_headers(app, st):
    client = _client(app, st, "sup")
    html, p = _page(client, f"/statistics/?{_qs(unit=st.codes['dept'], **Q1)}")
    assert "干部选拔任用工作情况统计表" in html and st.names["dept"] in html
    for group, cols in groups():
        assert (group, len(cols)) in p.groups, group
    assert ("及时率（%）", 2) in p.groups and ("同比", 2) in p.groups
    for col in COLUMNS:
        assert f'<th class="col">{col.label}</th>' in html, col.label
    with app.app_context():
        table = unit_table(CaseFilter(date_from=D(2026, 1, 1), date_to=D(2026, 3, 31)), _scope(st, "sup"),
                           db.session.get(Unit, st.dept))
        expected = [*table.rows, table.total]
    assert [r["kind"] for r in p.rows] == ["self", "unit", "unit", "total"]
    assert [r["unit"] for r in p.rows[:3]] == [st.dept, st.u1, st.u2]
    for got, want in zip(p.rows, expected):
        for col in COLUMNS:
            assert got["cells"][col.key]["n"] == want.values[col.key], (want.label, col.key)
        assert got["cells"]["prev_people"]["n"] == want.previous["people"]
    total = p.rows[-1]["cells"]
    assert (total["people"]["n"], total["female"]["n"], total["red"]["n"], total["yellow"]["n"]) == (5, 1, 2, 1)
    assert total["batches"]["n"] == 5 and total["prev_people"]["n"] == 1
    # rates in columns of their own: 5 due at node 1, one on time → 20%
    assert p.rows[-1]["text"]["rate1"] == "20.0%" and p.rows[-1]["text"]["rate2"] == "—"
    assert p.rows[2]["text"]["yoy"] == "0.0%"  # 二局: 1 this year, 1 a year earlier


def test_every_number_links_to_the_list_behind_it(app, st):
    client = _client(app, st, "sup")
    _html, p = _page(client, f"/statistics/?{_qs(unit=st.codes['dept'], **Q1)}")
    assert len(p.links) >= 4 * (len(COLUMNS) + 1)
    with app.app_context():
        scope = _scope(st, "sup")
        for row in p.rows:
            for key, link in row["cells"].items():
                behind = _behind(link, scope)
                if key == "batches":  # meetings: the link lists the people of those meetings
                    assert behind == row["cells"]["people"]["n"], row["label"]
                else:
                    assert behind == link["n"], (row["label"], key)
    # a handful followed through the 条件查询 page itself
    total = p.rows[-1]["cells"]
    for link in (total["people"], total["female"], total["missing1"], total["prev_people"],
                 p.rows[1]["cells"]["red"], p.rows[0]["cells"]["people"]):
        assert _query_total(client, link["href"]) == link["n"], link["href"]


def test_each_link_is_the_one_query_link_builds(app, st):
    """table_rows builds a row's query string once and appends each column: the same links, escaped once."""
    from app.views.statistics import _row_params, parse_form, query_link, table_rows

    with app.test_request_context(), app.app_context():
        user = db.session.execute(select(AppUser).where(AppUser.username == st.users["sup"])).scalar_one()
        scope = scope_for(user)
        sf = parse_form(MultiDict({"unit": st.codes["dept"], **Q1}), scope, user)
        table = unit_table(sf.filter, scope, sf.root)
        rows = table_rows(table, {}, sf)
        for row, drawn in zip([*table.rows, table.total], rows):
            params = _row_params(table, row)
            for col, cell in zip(table.columns, drawn["cells"]):
                want = query_link(params, None if col.distinct_batches else col.key)
                assert unescape(str(cell.href)) == want and str(cell.href) == str(escape(want)), (row.label, col.key)


def test_a_units_name_re_roots_the_table(app, st):
    client = _client(app, st, "sup")
    _html, p = _page(client, f"/statistics/?{_qs(unit=st.codes['dept'], **Q1)}")
    assert p.rows[0]["reroot"] is None and p.rows[-1]["reroot"] is None
    html, p1 = _page(client, p.rows[1]["reroot"])
    assert [r["unit"] for r in p1.rows[:2]] == [st.u1, st.u11] and p1.rows[0]["label"] == f"{st.names['u1']}（本级）"
    assert 'id="up-link"' in html and st.names["dept"] in html  # back up to the 组织部
    with app.app_context():
        table = unit_table(CaseFilter(date_from=D(2026, 1, 1), date_to=D(2026, 3, 31)), _scope(st, "sup"),
                           db.session.get(Unit, st.u1))
    for got, want in zip(p1.rows, [*table.rows, table.total]):
        assert {k: got["cells"][k]["n"] for k in ("people", "female", "red")} == \
            {k: want.values[k] for k in ("people", "female", "red")}
    assert p1.rows[-1]["cells"]["people"]["n"] == 3  # 一局: two of its own, one in 一局下属


def test_rows_by_month_and_quarter_with_same_period_last_year(app, st):
    client = _client(app, st, "sup")
    _html, p = _page(client, f"/statistics/?{_qs(unit=st.codes['dept'], by='month', date_from='2026-01-01', date_to='2026-12-31')}")
    with app.app_context():
        scope = _scope(st, "sup")
        f = CaseFilter(unit_id=st.dept, date_from=D(2026, 1, 1), date_to=D(2026, 12, 31))
        table = period_table(f, scope, "month")
        assert [r["label"] for r in p.rows] == [r.label for r in table.rows] + ["合计"]
        assert [r["label"] for r in p.rows] == ["2026-01", "2026-02", "2026-03", "2026-06", "合计"]
        for got, want in zip(p.rows, [*table.rows, table.total]):
            assert got["cells"]["people"]["n"] == want.values["people"]
            assert got["cells"]["prev_people"]["n"] == want.previous["people"]
            for link in got["cells"].values():
                if link["col"] != "batches":
                    assert _behind(link, scope) == link["n"], (got["label"], link["col"])
        assert p.rows[1]["cells"]["prev_people"]["n"] == 1  # 2025-02
    _html, pq = _page(client, f"/statistics/?{_qs(unit=st.codes['dept'], by='quarter', date_from='2026-01-01', date_to='2026-12-31')}")
    assert [(r["label"], r["cells"]["people"]["n"]) for r in pq.rows] == [("2026-Q1", 5), ("2026-Q2", 1), ("合计", 6)]


def test_filters_target_grade_and_selection_type(app, st):
    client = _client(app, st, "sup")
    _html, p = _page(client, f"/statistics/?{_qs(unit=st.codes['dept'], selection_type='免职', **Q1)}")
    assert p.rows[-1]["cells"]["people"]["n"] == 0
    _html, p = _page(client, f"/statistics/?{_qs(unit=st.codes['dept'], selection_type='提拔', **Q1)}")
    assert p.rows[-1]["cells"]["people"]["n"] == 5
    assert "selection_type=" in p.rows[-1]["cells"]["people"]["href"]


# ---- scope -------------------------------------------------------------------------------------------------

def test_scope_a_clerk_of_another_unit_sees_nothing_of_ours(app, st, client_for):
    clerk_b = client_for("clerk_b")
    for path in ("/statistics/", "/statistics/rules", "/statistics/overdue", "/statistics/roster"):
        resp = clerk_b.get(f"{path}?{_qs(unit=st.codes['dept'], **Q1)}")
        html = resp.get_data(as_text=True)
        assert resp.status_code == 200 and "不存在或不在您的权限范围内" in html, path
        assert st.names["dept"] not in html and 'id="stat-table"' not in html, path
    # its own page shows zeros of ours: nothing of the 组织部 is counted
    _html, p = _page(clerk_b, f"/statistics/?{_qs(**Q1)}")
    assert st.names["dept"] not in _html
    # a clerk has no export
    assert clerk_b.get(f"/statistics/export.xlsx?{_qs(**Q1)}").status_code in (302, 403)


def test_a_clerk_sees_its_own_unit_only(app, st):
    client = _client(app, st, "clerk1")
    html, p = _page(client, f"/statistics/?{_qs(**Q1)}")
    assert [r["kind"] for r in p.rows] == ["self", "total"]  # 一局下属 is outside a clerk's scope
    assert st.names["u11"] not in html and 'id="statistics-export"' not in html
    assert p.rows[-1]["cells"]["people"]["n"] == 2
    with app.app_context():
        scope = _scope(st, "clerk1")
        assert scope.kind == "unit"
        for link in p.links:
            if link["col"] != "batches":
                assert _behind(link, scope) == link["n"]
    resp = client.get(f"/statistics/?{_qs(unit=st.codes['u11'], **Q1)}")
    assert "不存在或不在您的权限范围内" in resp.get_data(as_text=True)


def test_a_query_user_and_the_menu(app, st):
    client = _client(app, st, "query")
    html, p = _page(client, f"/statistics/?{_qs(**Q1)}")
    assert p.rows[0]["unit"] == st.dept and 'id="statistics-export"' in html
    assert "统计分析" in html  # the menu entry
    assert client.get(f"/statistics/export.xlsx?{_qs(**Q1)}").status_code == 200


# ---- companion tables ----------------------------------------------------------------------------------

def test_rule_hits_page_agrees_with_count(app, st):
    client = _client(app, st, "sup")
    html = client.get(f"/statistics/rules?{_qs(unit=st.codes['dept'], **Q1)}").get_data(as_text=True)
    p = _Links()
    p.feed(html)
    with app.app_context():
        scope = _scope(st, "sup")
        units, hits = rule_hits(CaseFilter(date_from=D(2026, 1, 1), date_to=D(2026, 3, 31)), scope,
                                db.session.get(Unit, st.dept))
        assert hits and [u.id for u in units] == [st.dept, st.u1, st.u2]
        for entry in hits:
            assert f'data-code="{entry["code"]}"' in html
        assert p.links
        for link in p.links:
            assert _behind(link, scope) == link["n"], link["href"]
        grand = int(re.search(r'id="rules-grand">(\d+)<', html).group(1))
        assert grand == sum(e["total"] for e in hits)
    assert _query_total(client, p.links[0]["href"]) == p.links[0]["n"]


def test_overdue_list_agrees_with_count(app, st):
    client = _client(app, st, "sup")
    html = client.get(f"/statistics/overdue?{_qs(unit=st.codes['dept'], **Q1)}").get_data(as_text=True)
    total = int(re.search(r'id="overdue-total" data-total="(\d+)"', html).group(1))
    p = _Links()
    p.feed(html)
    with app.app_context():
        scope = _scope(st, "sup")
        f = CaseFilter(unit_id=st.dept, date_from=D(2026, 1, 1), date_to=D(2026, 3, 31))
        late = count(f, scope, extra_conditions=[BY_KEY["late1"].sql()], extra_needs=BY_KEY["late1"].needs)
        missing = count(f, scope, extra_conditions=[BY_KEY["missing1"].sql()], extra_needs=BY_KEY["missing1"].needs)
        assert (late, missing) == (1, 3)
        assert total == late + missing + count(f, scope, extra_conditions=[BY_KEY["late2"].sql()],
                                                extra_needs=BY_KEY["late2"].needs)
        for link in p.links:
            assert _behind(link, scope) == link["n"]
    assert html.count('data-status="逾期"') == 1 and html.count('data-status="未报"') == 3
    assert "未报</td>" in html and ">3</td>" in html  # the late one: 3 days


def test_roster_lists_the_period(app, st):
    client = _client(app, st, "sup")
    html = client.get(f"/statistics/roster?{_qs(unit=st.codes['dept'], **Q1)}").get_data(as_text=True)
    total = int(re.search(r'id="roster-total" data-total="(\d+)"', html).group(1))
    with app.app_context():
        scope = _scope(st, "sup")
        f = CaseFilter(unit_id=st.dept, date_from=D(2026, 1, 1), date_to=D(2026, 3, 31))
        assert total == count(f, scope) == 5
        names = {db.session.get(Case, cid).full_name for cid in st.cases[:5]}
    assert html.count("<tr data-case=") == 5
    for header in ("姓名", "性别", "民族", "出生年月", "学历", "政治面貌", "原任职务", "新任（拟任）职务", "任用类型",
                   "讨论决定日期", "公示期", "任职文号"):
        assert f"<th>{header}</th>" in html, header
    assert all(n in html for n in names)
    assert "1980.03" in html  # birth year-month (the valid case is born 1980-03-15)


def test_paging_of_the_lists(app, st):
    import app.views.statistics as sv

    client = _client(app, st, "sup")
    old = sv.PAGE_SIZE
    sv.PAGE_SIZE = 2
    try:
        html = client.get(f"/statistics/roster?{_qs(unit=st.codes['dept'], page='2', **Q1)}").get_data(as_text=True)
        assert html.count("<tr data-case=") == 2 and 'id="stat-pager"' in html
        html = client.get(f"/statistics/roster?{_qs(unit=st.codes['dept'], page='99', **Q1)}").get_data(as_text=True)
        assert html.count("<tr data-case=") == 1  # the last page
        html = client.get(f"/statistics/overdue?{_qs(unit=st.codes['dept'], page='x', **Q1)}").get_data(as_text=True)
        assert "分页参数无效" in html
    finally:
        sv.PAGE_SIZE = old


# ---- exports ---------------------------------------------------------------------------------------------

def _book(resp):
    assert resp.status_code == 200, resp.get_data(as_text=True)[:300]
    assert "spreadsheetml" in resp.headers["Content-Type"]
    return load_workbook(io.BytesIO(resp.data)).active


def _row_of(ws, first, second=None):
    for row in ws.iter_rows(values_only=True):
        if row[0] == first and (second is None or row[1] == second):
            return list(row)
    raise AssertionError(f"no row {first!r} {second!r}")


def _last_export(app):
    with app.app_context():
        return db.session.execute(select(AuditLog).where(AuditLog.action == "export")
                                  .order_by(AuditLog.id.desc())).scalars().first()


def test_statistics_export(app, st):
    client = _client(app, st, "sup")
    _html, p = _page(client, f"/statistics/?{_qs(unit=st.codes['dept'], **Q1)}")
    ws = _book(client.get(f"/statistics/export.xlsx?{_qs(unit=st.codes['dept'], **Q1)}"))
    assert ws["A1"].value == "干部选拔任用工作情况统计表"
    meta = ws["A2"].value
    assert st.names["dept"] in meta and "统计期间：2026-01-01 至 2026-03-31" in meta and "制表日期：" in meta
    merged = {str(r) for r in ws.merged_cells.ranges}
    assert {"A3:A4", "B3:B4"} <= merged  # the row-header columns span both header rows
    heads = [c.value for c in ws[4]]
    tops = [c.value for c in ws[3]]
    for group, cols in groups():
        assert group in tops and all(c.label in heads for c in cols)
    assert "初次及时率" in heads and "去年同期人数" in heads and "同比增减（%）" in heads
    # rows: 本级, 一局 (merged over its 小计, its 本级 and 一局下属), 二局, 合计
    names = [(r[0], r[1]) for r in ws.iter_rows(min_row=5, max_row=9, values_only=True)]
    assert names == [(st.names["dept"], "本级"), (st.names["u1"], "小计（含下级）"), (None, "　　本级"),
                     (None, "　　" + st.names["u11"]), (st.names["u2"], None)]
    assert "A6:A8" in merged
    people = heads.index("调整干部总人数")
    assert [r[people] for r in ws.iter_rows(min_row=5, max_row=10, values_only=True)] == [1, 3, 2, 1, 1, 5]
    total = _row_of(ws, "合计")
    for col in COLUMNS:
        assert total[heads.index(col.label)] == p.rows[-1]["cells"][col.key]["n"], col.key
    assert total[heads.index("去年同期人数")] == 1 and total[heads.index("初次及时率")] == 20.0
    row = _last_export(app)
    assert row.actor_name == st.users["sup"] and "统计表导出" in row.old_value and row.unit_id == st.dept


def test_companion_exports(app, st):
    client = _client(app, st, "sup")
    qs = _qs(unit=st.codes["dept"], **Q1)
    ws = _book(client.get(f"/statistics/rules.xlsx?{qs}"))
    assert ws["A1"].value == "选人用人规则命中统计表" and "制表日期" in ws["A2"].value
    assert [c.value for c in ws[3]][:3] == ["规则编号", "规则名称", "各单位命中人数"]  # the first two merged down
    assert [c.value for c in ws[4]][2:5] == [f"{st.names['dept']}（本级）", st.names["u1"], st.names["u2"]]
    with app.app_context():
        _units, hits = rule_hits(CaseFilter(date_from=D(2026, 1, 1), date_to=D(2026, 3, 31)), _scope(st, "sup"),
                                 db.session.get(Unit, st.dept))
    assert _row_of(ws, "合计（人次）")[-1] == sum(e["total"] for e in hits)
    assert _row_of(ws, hits[0]["code"])[-1] == hits[0]["total"]
    assert "规则命中统计导出" in _last_export(app).old_value

    ws = _book(client.get(f"/statistics/overdue.xlsx?{qs}"))
    assert ws["A1"].value == "纪实报送逾期清单"
    assert [c.value for c in ws[3]] == ["序号", "单位", "案例编号", "姓名", "报送节点", "截止日期", "实际报送日期", "逾期天数"]
    assert _row_of(ws, "合计")[1] == "4 件"
    late = [r for r in ws.iter_rows(min_row=4, values_only=True) if r[6] not in (None, "未报") and isinstance(r[0], int)]
    assert len(late) == 1 and late[0][7] == 3

    ws = _book(client.get(f"/statistics/roster.xlsx?{qs}"))
    assert ws["A1"].value == "干部任免名册" and ws["A3"].value == "序号"
    assert _row_of(ws, "合计")[1] == "5 人"
    assert [r[0] for r in ws.iter_rows(min_row=4, max_row=8, values_only=True)] == [1, 2, 3, 4, 5]
    assert "干部任免名册导出" in _last_export(app).old_value


def test_export_by_month(app, st):
    client = _client(app, st, "sup")
    ws = _book(client.get(f"/statistics/export.xlsx?{_qs(unit=st.codes['dept'], by='month', **Q1)}"))
    heads = [c.value for c in ws[4]]
    assert ws["A3"].value == "期间" and "A3:A4" in {str(r) for r in ws.merged_cells.ranges}
    people = heads.index("调整干部总人数")
    assert [(r[0], r[people]) for r in ws.iter_rows(min_row=5, max_row=8, values_only=True)] == [
        ("2026-01", 1), ("2026-02", 2), ("2026-03", 2), ("合计", 5)]


# ---- charts ------------------------------------------------------------------------------------------------

def _svgs(html: str) -> list[str]:
    return re.findall(r"<svg\b.*?</svg>", html, flags=re.S)


def _self_contained(svg: str) -> None:
    root = ET.fromstring(svg)  # well-formed XML
    assert root.tag == f"{{{charts.SVG_NS}}}svg"
    rest = svg.replace(f'xmlns="{charts.SVG_NS}"', "")
    for bad in ("http:", "https:", "//", "href", "url(", "<script", "<image", "@import"):
        assert bad not in rest, bad


def test_the_page_shows_three_self_contained_charts(app, st):
    client = _client(app, st, "sup")
    html, _p = _page(client, f"/statistics/?{_qs(unit=st.codes['dept'], **Q1)}")
    svgs = _svgs(html)
    assert len(svgs) == 3
    for svg in svgs:
        _self_contained(svg)
    trend, lights, rules = svgs
    assert "调整干部人数月度趋势" in trend and "2026-01" in trend and "2026-03" in trend
    assert "红灯" in lights and st.names["u1"][:10] in lights
    assert "命中最多的规则" in rules
    # the 一局 bar: 红 1 (and 黄 1), as unit_table with the light columns says
    assert f"{st.names['u1']} 红灯：1" in lights and f"{st.names['u1']} 黄灯：1" in lights


def test_the_light_chart_counts_what_the_cases_say(app, st):
    """light_rows reads 绿灯 over the fact rows' cases (no batch join): the same as counting the cases."""
    from app.queries.companions import light_rows, lights_of, with_green

    with app.app_context():
        scope = _scope(st, "sup")
        dept = db.session.get(Unit, st.dept)
        for f in (CaseFilter(date_from=D(2026, 1, 1), date_to=D(2026, 3, 31)),
                  CaseFilter(date_from=D(2025, 1, 1), date_to=D(2026, 12, 31), basis="appointment"),
                  CaseFilter(date_from=D(2026, 1, 1), date_to=D(2026, 3, 31), selection_type=["提拔"])):
            got = dict(light_rows(f, scope, dept))
            table = with_green(f, scope, dept)  # the page's: the table's own GROUP BY, its columns unchanged
            assert dict(lights_of(table)) == got and table.columns == COLUMNS
            assert [r.values | {"green": 0} for r in table.rows] == \
                [r.values | {"green": 0} for r in unit_table(f, scope, dept).rows]
            for row in unit_table(f, scope, dept).rows:
                want = {light: count(replace(f, unit_id=row.unit_id, subtree=row.subtree), scope,
                                     extra_conditions=[Case.light == light]) for light in ("红", "黄", "绿")}
                assert got[row.label] == want, (f, row.label)
        assert sum(v["绿"] for v in dict(light_rows(CaseFilter(date_from=D(2026, 1, 1), date_to=D(2026, 3, 31)),
                                                      scope, dept)).values()) >= 1


def test_chart_functions_escape_text_and_handle_empty_data():
    nasty = '<script>alert("x")</script> & \'甲\''
    for svg in (charts.trend_chart([("2026-01", 3), (nasty, 0)], [1, 2], title=nasty),
                charts.lights_chart([(nasty, {"红": 1, "黄": 2, "绿": 0})]),
                charts.rule_hits_chart([("C01", nasty, 4)]),
                charts.trend_chart([]), charts.lights_chart([]), charts.rule_hits_chart([])):
        _self_contained(svg)
        assert "<script>" not in svg
    assert "本期无数据" in charts.lights_chart([])
    assert charts.nice_step(7) == 2 and charts.nice_step(0) == 1 and charts.nice_step(230) == 100


# ---- bad input ---------------------------------------------------------------------------------------------

@pytest.mark.parametrize("params, message", [
    ({"date_from": "2026-13-01", "date_to": "2026-03-31"}, "不是有效日期"),
    ({"date_from": "2026-04-01", "date_to": "2026-03-31"}, "起始日期不能晚于截止日期"),
    ({"by": "week", **Q1}, "“行”应为按单位、按月、按季度或按年"),
    ({"unit": "NO-SUCH-UNIT", **Q1}, "不存在或不在您的权限范围内"),
    ({"target_grade": "宇宙级", **Q1}, "取值无效"),
    ({"basis": "x", **Q1}, "日期依据"),
    ({"unit": "x" * 5000, **Q1}, "不存在或不在您的权限范围内"),
    ({"date_from": "0001-01-01", "date_to": "2026-03-31"}, "超出范围"),
    ({"date_from": "2026-01-01", "date_to": "9999-12-31", "by": "year"}, "超出范围"),
])
def test_bad_input_is_told_in_chinese(app, st, params, message):
    client = _client(app, st, "sup")
    for path in ("/statistics/", "/statistics/rules", "/statistics/overdue", "/statistics/roster"):
        resp = client.get(f"{path}?{_qs(**params)}")
        assert resp.status_code == 200, path
        assert message in resp.get_data(as_text=True), path
    for path in ("/statistics/export.xlsx", "/statistics/rules.xlsx", "/statistics/overdue.xlsx",
                 "/statistics/roster.xlsx"):
        resp = client.get(f"{path}?{_qs(**params)}", follow_redirects=True)
        assert resp.status_code == 200 and "未导出" in resp.get_data(as_text=True), path


def test_a_user_without_a_unit_and_an_admin(app, st, client_for):
    html = client_for("nounit").get(f"/statistics/?{_qs(**Q1)}").get_data(as_text=True)
    assert "当前用户未归属任何单位" in html and 'id="stat-table"' not in html
    admin = client_for("admin")
    html, p = _page(admin, f"/statistics/?{_qs(**Q1)}")
    with app.app_context():
        first = db.session.execute(select(Unit).where(Unit.parent_id.is_(None)).order_by(Unit.code)).scalars().first()
        tops = db.session.execute(select(Unit).where(Unit.parent_id.is_(None))).scalars().all()
    assert p.rows[0]["unit"] == first.id  # the root, by default
    if len(tops) > 1:
        assert "其他顶级单位" in html
    html, p = _page(admin, f"/statistics/?{_qs(unit=st.codes['dept'], **Q1)}")
    assert p.rows[-1]["cells"]["people"]["n"] == 5


def test_empty_dates_mean_no_limit(app, st):
    client = _client(app, st, "sup")
    _html, p = _page(client, f"/statistics/?{_qs(unit=st.codes['dept'], date_from='', date_to='')}")
    assert p.rows[-1]["cells"]["people"]["n"] == 7 and "prev_people" not in p.rows[-1]["cells"]


# ---- CLI ---------------------------------------------------------------------------------------------------

def test_cli_writes_the_same_numbers(app, st, tmp_path):
    out = tmp_path / "统计.xlsx"
    result = app.test_cli_runner().invoke(args=["reports", "statistics", "--from", "2026-01-01", "--to", "2026-03-31",
                                                "--unit", st.codes["dept"], "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert "调整干部总人数 5 人" in result.output
    ws = load_workbook(out).active
    heads = [c.value for c in ws[4]]
    with app.app_context():
        table = unit_table(CaseFilter(date_from=D(2026, 1, 1), date_to=D(2026, 3, 31)), Scope("all"),
                           db.session.get(Unit, st.dept))
    total = _row_of(ws, "合计")
    for col in COLUMNS:
        assert total[heads.index(col.label)] == table.total.values[col.key], col.key
    u2 = _row_of(ws, st.names["u2"])
    assert u2[heads.index("调整干部总人数")] == next(r for r in table.rows if r.unit_id == st.u2).values["people"]
