"""统计分析, the page users open: units with problems (红黄灯, 逾期/未报, 整改) first, the units whose
every number is 0 in the period and in the same period last year folded behind 显示全部 (a server-side
parameter: the rows are not sent at all), nothing of a foreign unit reachable with it, and the whole
page (table, 同比 and the three charts) reading the fact table three times: the table with the light
chart, its 同比, and the monthly trend with its 同比 in one scan.

    组织部 (sup) ─┬─ A (a case last year only)
                  ├─ B (two red cases this year; clerk)
                  ├─ C (nothing)
                  └─ D (nothing)
"""
from __future__ import annotations

import datetime as dt
import re
from types import SimpleNamespace

import pytest
from sqlalchemy import event

from app.audit import acting_as
from app.extensions import db
from app.models import Case, Unit
from tests.factories import login, make_department, make_users, planted, save_case, unique

D = dt.date
YEAR = "date_from=2026-01-01&date_to=2026-12-31"


@pytest.fixture(scope="module")
def org(app, world):
    sm = app.appbuilder.sm
    tag = unique("fo").lower()
    with app.app_context():
        with acting_as("测试夹具", "cli"):
            dept, units = make_department(db.session.get(Unit, world.units["root"]), tag, "折叠组织部", {
                key: (f"折叠{key.upper()}局", None, {}) for key in ("a", "b", "c", "d")})
            users = make_users(sm, tag, {"sup": ("fsup", ["监督员"], dept), "ca": ("fca", ["填报员"], units["a"]),
                                         "cb": ("fcb", ["填报员"], units["b"])})
            db.session.commit()
        made = [save_case(units["a"], users["ca"], D(2025, 3, 1))[0].id,
                save_case(units["b"], users["cb"], D(2026, 2, 10))[0].id,
                save_case(units["b"], users["cb"], D(2026, 2, 11))[0].id]
        with acting_as("测试夹具", "cli"):
            for cid in made[1:]:
                case = db.session.get(Case, cid)
                case.light = "红"
                planted(case.case_no)
            db.session.commit()
        return SimpleNamespace(dept=dept.code, ids={k: u.id for k, u in units.items()},
                               names={k: u.name for k, u in units.items()},
                               users={k: u.username for k, u in users.items()})


def _rows(html: str) -> list[tuple[str, str, int]]:
    """(kind, unit id, problems) of each row of the statistics table."""
    return [(kind, unit, int(n)) for kind, n, unit in re.findall(
        r'<tr class="row-\w+[^"]*" data-kind="(\w+)" data-problems="(\d+)" data-unit="(\d*)"', html)]


def _get(client, url) -> str:
    resp = client.get(url)
    assert resp.status_code == 200, resp.status_code
    return resp.get_data(as_text=True)


def test_units_with_problems_first_and_the_all_zero_ones_folded(app, org):
    client = login(app.test_client(), org.users["sup"])
    html = _get(client, f"/statistics/?unit={org.dept}&{YEAR}")
    ids = org.ids
    rows = _rows(html)
    # B (two red cases) before A (first in code order, but only last year's case: not folded, no problem)
    assert [k for k, _u, _n in rows] == ["self", "unit", "unit", "total"]
    assert [u for _k, u, _n in rows[1:-1]] == [str(ids["b"]), str(ids["a"])]
    assert rows[1][2] >= 2 and rows[2][2] == 0
    assert 'class="row-unit depth-1 has-problem"' in html
    # C and D: nothing this year nor last — not in the table, nor in the light chart
    for key in ("c", "d"):
        assert org.names[key] not in html, key
    assert "另有 2 个下级单位" in html
    link = re.search(r'<a href="([^"]+)" id="show-all-units">显示全部</a>', html)
    assert link and "all=1" in link.group(1)
    # the total is the same with the rows folded
    total = re.search(r'data-kind="total".*?data-col="people" data-n="(\d+)"', html, re.S).group(1)
    assert total == "2"

    every = _get(client, link.group(1).replace("&amp;", "&"))
    rows = _rows(every)
    assert [u for _k, u, _n in rows[1:-1]] == [str(ids["b"]), str(ids["a"]), str(ids["c"]), str(ids["d"])]
    assert 'id="fold-units"' in every and 'id="show-all-units"' not in every
    assert re.search(r'data-kind="total".*?data-col="people" data-n="(\d+)"', every, re.S).group(1) == "2"
    assert len(html) < len(every)


def test_show_all_reaches_nothing_outside_the_scope(app, org, client_for):
    clerk = login(app.test_client(), org.users["cb"])
    html = _get(clerk, f"/statistics/?{YEAR}&all=1")
    assert [k for k, _u, _n in _rows(html)] == ["self", "total"]
    for key in ("a", "c", "d"):
        assert org.names[key] not in html, key
    foreign = client_for("clerk_b")
    html = _get(foreign, f"/statistics/?unit={org.dept}&{YEAR}&all=1")
    assert "不存在或不在您的权限范围内" in html and 'id="stat-table"' not in html
    for name in org.names.values():
        assert name not in html


def test_the_whole_page_reads_the_fact_table_three_times(app, org):
    """The table and the light chart: one scan, its 同比 another; the monthly trend with its 同比: one."""
    client = login(app.test_client(), org.users["sup"])
    seen: list[str] = []

    def note(conn, cursor, statement, parameters, context, executemany):
        if "case_fact" in statement:
            seen.append(statement)

    with app.app_context():
        engine = db.engine
    event.listen(engine, "before_cursor_execute", note)
    try:
        _get(client, f"/statistics/?unit={org.dept}&{YEAR}")
    finally:
        event.remove(engine, "before_cursor_execute", note)
    assert len(seen) == 3, seen
