"""统计 by period with 同比 in one scan: a period and the same period a year back are counted by one
GROUP BY over the fact table (by day, then by period and by which of the two a day falls in), not one
scan each (the table by unit: one per period, see per_child) — and the numbers are the ones separate
scans give, for a year, a quarter (a gap between the two periods), a year that
does not start in January, a range longer than a year (the periods overlap: two scans), a filter the
fact rows do not answer alone, and the appointment date."""
from __future__ import annotations

import datetime as dt
from contextlib import contextmanager
from dataclasses import replace

import pytest
from sqlalchemy import event, select

from app.audit import acting_as
from app.extensions import db
from app.models import Unit
from app.queries.cases import CaseFilter, count
from app.queries.columns import BY_KEY
from app.queries.companions import trend_points, with_green
from app.queries.statistics import _whole_tree, last_year, per_period, period_table, unit_table
from app.scoping import Scope
from tests.factories import make_users, save_case, two_units, unique

D = dt.date
ALL = Scope("all")


@pytest.fixture(scope="module")
def org(app, world):
    """组织部 → 一局, 二局; cases on both sides of a year boundary, of a quarter's and of a gap."""
    sm = app.appbuilder.sm
    tag = unique("sc").lower()
    with app.app_context():
        with acting_as("测试夹具", "cli"):
            dept, (u1, u2) = two_units(world, tag, "区委组织部", "一局", "二局")
            clerk1, clerk2 = make_users(sm, tag, {"c1": ("c1", ["填报员"], u1), "c2": ("c2", ["填报员"], u2)}).values()
            db.session.commit()
        plan = [(u1, clerk1, D(2026, 2, 10), 181), (u1, clerk1, D(2026, 3, 31), None),
                (u1, clerk1, D(2025, 3, 31), 182), (u1, clerk1, D(2025, 1, 1), None),
                (u2, clerk2, D(2025, 12, 31), None), (u2, clerk2, D(2026, 1, 1), 183),
                (u2, clerk2, D(2025, 6, 15), None), (u2, clerk2, D(2024, 11, 30), None),
                (u2, clerk2, D(2025, 2, 28), 184)]
        for unit, clerk, decided, woman in plan:
            save_case(unit, clerk, decided, woman=woman)
        return dept.id


@contextmanager
def fact_scans():
    """The statements run inside that read the fact table."""
    seen: list[str] = []

    def note(conn, cursor, statement, parameters, context, executemany):
        if "case_fact" in statement:
            seen.append(statement)

    event.listen(db.engine, "before_cursor_execute", note)
    try:
        yield seen
    finally:
        event.remove(db.engine, "before_cursor_execute", note)


YEAR = CaseFilter(date_from=D(2026, 1, 1), date_to=D(2026, 12, 31))
PERIODS = [
    YEAR,
    CaseFilter(date_from=D(2026, 1, 1), date_to=D(2026, 3, 31)),  # a quarter: nine months between
    CaseFilter(date_from=D(2025, 4, 1), date_to=D(2026, 3, 31)),  # a year from April
    CaseFilter(date_from=D(2025, 1, 1), date_to=D(2026, 12, 31)),  # two years: the 同比 period overlaps
    CaseFilter(date_from=D(2026, 1, 1), date_to=D(2026, 3, 31), selection_type=["提拔"]),  # selects the cases
    CaseFilter(date_from=D(2026, 1, 1), date_to=D(2026, 6, 30), basis="appointment"),
]


def test_a_period_and_its_same_period_last_year_are_one_scan(ctx, org):
    dept = db.session.get(Unit, org)
    with fact_scans() as seen:
        table = unit_table(YEAR, ALL, dept)
    assert len(seen) == 2, seen  # by child: one scan per period (see per_child)
    assert table.total.values["people"] == 3 and table.total.previous["people"] == 5
    with fact_scans() as seen:
        months = period_table(replace(YEAR, unit_id=org), ALL, "month")
    assert len(seen) == 1, seen
    assert months.total.previous["people"] == 5
    with fact_scans() as seen:
        points, previous = trend_points(replace(YEAR, unit_id=org), ALL)
    assert len(seen) == 1, seen
    assert sum(n for _m, n in points) == 3 and sum(previous) == 5
    with fact_scans() as seen:
        with_green(YEAR, ALL, dept)  # the light chart's 绿灯 in the table's own scans
    assert len(seen) == 2, seen
    # periods that overlap their 同比 period are counted in two scans
    with fact_scans() as seen:
        period_table(replace(PERIODS[3], unit_id=org), ALL, "month")
    assert len(seen) == 2, seen


@pytest.mark.parametrize("f", PERIODS, ids=["year", "quarter", "april", "overlap", "selected", "appointment"])
def test_one_scan_counts_what_two_scans_count(ctx, org, f):
    dept = db.session.get(Unit, org)
    prev_f = last_year(f)
    table = unit_table(f, ALL, dept)
    now = unit_table(f, ALL, dept, yoy=False)
    then = unit_table(prev_f, ALL, dept, yoy=False)
    assert [r.values for r in table.rows] == [r.values for r in now.rows]
    assert [r.previous for r in table.rows] == [r.values for r in then.rows]
    assert table.total.previous == then.total.values and table.total.values == now.total.values
    if f.basis == "decision":  # (the fixture's cases have no appointment date)
        assert table.total.values["people"] > 0 and table.total.previous["people"] > 0

    g = replace(f, unit_id=org)
    months = period_table(g, ALL, "month")
    alone, before = per_period(g, ALL, "month"), per_period(replace(prev_f, unit_id=org), ALL, "month")
    assert {r.label: r.values for r in months.rows} == alone
    for row in months.rows:
        assert row.previous == before.get(f"{int(row.label[:4]) - 1}{row.label[4:]}", {c: 0 for c in row.values})

    points, previous = trend_points(g, ALL)
    people = BY_KEY["people"]
    mine = per_period(g, ALL, "month", columns=(people,))
    back = per_period(replace(prev_f, unit_id=org), ALL, "month", columns=(people,))
    assert points == [(m, mine.get(m, {}).get("people", 0)) for m, _n in points]
    assert previous == [back.get(f"{int(m[:4]) - 1}{m[4:]}", {}).get("people", 0) for m, _n in points]


def test_no_unit_condition_only_for_the_whole_tree(ctx, org):
    """The sole top-level unit's subtree, seen by everyone or by its own subtree's user, is every unit:
    its fact rows are read without a unit condition — and give what count() gives. Nothing else is."""
    tops = db.session.execute(select(Unit).where(Unit.parent_id.is_(None))).scalars().all()
    dept = db.session.get(Unit, org)
    mine = Scope("subtree", dept.id, dept.path)
    assert not _whole_tree(replace(YEAR, unit_id=org), ALL) and not _whole_tree(replace(YEAR, unit_id=org), mine)
    if len(tops) != 1:
        assert not any(_whole_tree(replace(YEAR, unit_id=t.id), ALL) for t in tops)
        return
    root = tops[0]
    whole = replace(YEAR, unit_id=root.id)
    assert _whole_tree(whole, ALL) and _whole_tree(whole, Scope("subtree", root.id, root.path))
    assert not _whole_tree(whole, mine) and not _whole_tree(replace(whole, subtree=False), ALL)
    months = per_period(whole, ALL, "month")
    assert sum(v["people"] for v in months.values()) == count(whole, ALL) > 0
