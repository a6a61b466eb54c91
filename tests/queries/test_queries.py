"""条件查询 and 统计 on real cases: filters, the statistics table by unit and by period with 同比,
every cell equal to the case list behind it, the companion rule-hit table, and scope."""
from __future__ import annotations

import datetime as dt
from types import SimpleNamespace

import pytest
from sqlalchemy import select

from app.audit import acting_as
from app.extensions import db
from app.models import AppUser, Case, Unit
from app.queries.cases import CaseFilter, count, page
from app.queries.columns import BY_KEY, COLUMNS
from app.queries.statistics import period_table, rule_hits, unit_table
from app.scoping import Scope, scope_for
from tests.factories import make_users, save_case, two_units, unique

D = dt.date


@pytest.fixture(scope="module")
def district(app, world):
    """组织部 → U1, U2 with cases in 2026-Q1 (three), 2025-Q1 (one, for 同比) and 2026-06 (one)."""
    sm = app.appbuilder.sm
    tag = unique("q").lower()
    with app.app_context():
        with acting_as("测试夹具", "cli"):
            dept, (u1, u2) = two_units(world, tag, "区委组织部", "一局", "二局")
            clerk1, clerk2, sup = make_users(sm, tag, {"clerk1": ("c1", ["填报员"], u1), "clerk2": ("c2", ["填报员"], u2),
                                                       "sup": ("sup", ["监督员"], dept)}).values()
            db.session.commit()
        plan = [(u1, clerk1, D(2026, 2, 10), True), (u1, clerk1, D(2026, 2, 11), False),
                (u2, clerk2, D(2026, 3, 5), False), (u2, clerk2, D(2025, 2, 15), True),
                (u2, clerk2, D(2026, 6, 1), False)]
        made = [save_case(unit, clerk, decided, woman=i + 7 if woman else None)[0].id
                for i, (unit, clerk, decided, woman) in enumerate(plan)]
        ids = SimpleNamespace(dept=dept.id, u1=u1.id, u2=u2.id, sup=sup.id, clerk1=clerk1.id, cases=made)
    return ids


Q1 = CaseFilter(date_from=D(2026, 1, 1), date_to=D(2026, 3, 31))


def test_filters(ctx, district):
    scope = Scope("all")
    dept = CaseFilter(unit_id=district.dept)
    assert count(dept, scope) == 5
    assert count(CaseFilter(unit_id=district.u1), scope) == 2
    assert count(CaseFilter(unit_id=district.dept, subtree=False), scope) == 0  # nothing at the 组织部 itself
    assert count(CaseFilter(unit_id=district.dept, date_from=D(2026, 1, 1), date_to=D(2026, 3, 31)), scope) == 3
    assert count(CaseFilter(unit_id=district.dept, sex="女"), scope) == 2
    assert count(CaseFilter(unit_id=district.dept, sex="女", date_from=D(2026, 1, 1)), scope) == 1
    assert count(CaseFilter(unit_id=district.dept, selection_type=["提拔"]), scope) == 5
    assert count(CaseFilter(unit_id=district.dept, selection_type=["免职"]), scope) == 0
    assert count(CaseFilter(unit_id=district.dept, education="研究生"), scope) == 5
    born = db.session.execute(select(Case).where(Case.id == district.cases[0])).scalar_one()
    assert count(CaseFilter(unit_id=district.dept, name=born.full_name[:1]), scope) >= 1
    assert count(CaseFilter(unit_id=district.dept, timeliness=["未报"]), scope) == 5  # none reported, all > 30 days late
    rows = page(CaseFilter(unit_id=district.dept), scope, limit=2)
    assert len(rows) == 2 and rows[0].decision_date >= rows[1].decision_date


def test_a_filter_round_trips_through_a_dict(ctx, district):
    f = CaseFilter(unit_id=district.u1, date_from=D(2026, 1, 1), selection_type=["提拔"], sex="女")
    again = CaseFilter.from_dict({k: v for k, v in f.as_dict().items()})
    assert again == f
    # one value for a list field (as a query string gives it) becomes a list
    assert CaseFilter.from_dict({"light": "红", "unit_id": str(district.u1)}).light == ["红"]


def test_scope_limits_every_query(app, ctx, district, world):
    other = scope_for(db.session.execute(select(AppUser).where(AppUser.username == world.users["clerk_b"])).scalar_one())
    assert count(CaseFilter(unit_id=district.dept), other) == 0
    table = unit_table(Q1, other, db.session.get(Unit, district.dept))
    assert table.total.values["people"] == 0


def test_unit_table_rows_totals_and_same_period_last_year(ctx, district):
    dept = db.session.get(Unit, district.dept)
    table = unit_table(Q1, Scope("all"), dept)
    by_unit = {r.unit_id: r for r in table.rows}
    assert [r.kind for r in table.rows] == ["self", "unit", "unit"]
    assert by_unit[district.u1].values["people"] == 2 and by_unit[district.u1].values["female"] == 1
    assert by_unit[district.u2].values["people"] == 1 and by_unit[district.u2].values["female"] == 0
    assert by_unit[district.u1].values["batches"] == 2
    assert table.total.values["people"] == 3
    # 同比: one case in 2025-Q1 (in U2), a woman
    assert table.total.previous["people"] == 1 and by_unit[district.u2].previous["female"] == 1
    assert by_unit[district.u2].yoy() == 0.0 and by_unit[district.u1].yoy() is None
    for col in COLUMNS:  # the total is the sum of the rows, column by column
        assert table.total.values[col.key] == sum(r.values[col.key] for r in table.rows), col.key


def test_every_cell_equals_the_cases_behind_it(ctx, district):
    dept = db.session.get(Unit, district.dept)
    scope = Scope("all")
    table = unit_table(Q1, scope, dept)
    checked = 0
    for row in [*table.rows, table.total]:
        for col in COLUMNS:
            if col.distinct_batches:
                continue
            f = CaseFilter.from_dict({**Q1.as_dict(), "unit_id": row.unit_id, "subtree": row.subtree})
            behind = count(f, scope, extra_conditions=[col.sql()], extra_needs=col.needs)
            assert behind == row.values[col.key], (row.label, col.key)
            checked += behind
    assert checked > 0


def test_numbers_agree_with_an_independent_count(ctx, district):
    """People per unit counted from the ORM objects, not from the statistics SQL."""
    dept = db.session.get(Unit, district.dept)
    table = unit_table(Q1, Scope("all"), dept)
    for unit_id in (district.u1, district.u2):
        objs = db.session.execute(select(Case).where(Case.unit_id == unit_id, Case.is_current.is_(True))).scalars()
        in_q1 = [c for c in objs if c.batch and D(2026, 1, 1) <= c.batch.decision_date <= D(2026, 3, 31)]
        row = next(r for r in table.rows if r.unit_id == unit_id)
        assert row.values["people"] == len(in_q1)
        assert row.values["female"] == sum(c.module_row("qualification").sex == "女" for c in in_q1)


def test_period_table_by_month_and_quarter(ctx, district):
    f = CaseFilter(unit_id=district.dept, date_from=D(2026, 1, 1), date_to=D(2026, 12, 31))
    months = period_table(f, Scope("all"), "month")
    assert [(r.label, r.values["people"]) for r in months.rows] == [("2026-02", 2), ("2026-03", 1), ("2026-06", 1)]
    assert months.rows[0].period == (D(2026, 2, 1), D(2026, 2, 28))
    assert months.total.values["people"] == 4 and months.total.previous["people"] == 1
    assert months.rows[0].previous["people"] == 1  # 2025-02
    quarters = period_table(f, Scope("all"), "quarter")
    assert [(r.label, r.values["people"]) for r in quarters.rows] == [("2026-Q1", 3), ("2026-Q2", 1)]
    assert quarters.rows[1].period == (D(2026, 4, 1), D(2026, 6, 30))
    # each period row's list is the filter restricted to its dates
    for row in quarters.rows:
        g = CaseFilter.from_dict({**f.as_dict(), "date_from": row.period[0].isoformat(),
                                  "date_to": row.period[1].isoformat()})
        assert count(g, Scope("all")) == row.values["people"]


def test_rule_hits_agree_with_the_rule_filter(ctx, district):
    dept = db.session.get(Unit, district.dept)
    units, hits = rule_hits(CaseFilter(), Scope("all"), dept)
    assert [u.id for u in units] == [district.dept, district.u1, district.u2]
    assert hits, "the cases were saved without submission: their save-time evaluations fire some rule"
    for entry in hits:
        assert entry["total"] == count(CaseFilter(unit_id=district.dept, rule_code=entry["code"]), Scope("all"))
        assert entry["total"] == sum(entry["cells"].values())
    assert [e["total"] for e in hits] == sorted((e["total"] for e in hits), reverse=True)


def test_rates_are_separate_from_counts(ctx, district):
    dept = db.session.get(Unit, district.dept)
    table = unit_table(Q1, Scope("all"), dept)
    assert table.total.values["due1"] == 3 and table.total.values["missing1"] == 3
    assert table.total.rate("ontime1", "due1") == 0.0
    assert next(r for r in table.rows if r.kind == "self").rate("ontime1", "due1") is None  # nothing due: no rate
    assert set(BY_KEY) == {c.key for c in COLUMNS}
