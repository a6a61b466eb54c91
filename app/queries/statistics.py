"""统计: the statistics table of C.1 and its companion tables, computed with GROUP BY in SQL.

Rows are the chosen unit's own cases (本级) and each child's whole subtree (a subtotal), or one row
per period; a total row and, when a period is given, the same period last year (同比). The SQL
returns one row per child (each unit mapped to its child by path in SQL, ``per_child``) or per
period; the total adds those few rows.

How the counts are read (``_counts``), so that a year over all units stays fast (bench/queries.py):
one GROUP BY over the fact table (app/models/facts.py), where each case already carries, as a
flag, whether it meets each column's condition — computed by that same condition, which is also
what a number's drill-down lists. A filter on more than the unit and the period selects the cases
through its own joins first. The alarm columns (整改中 and the like, which depend on the day) join
the alarms live. JIT is off and every execution gets a plan for its values (REPORTING_SETTINGS).
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field, replace

from sqlalchemy import case as sa_case
from sqlalchemy import distinct, func, null, or_, select

from app.dates import period_bounds
from app.extensions import db
from app.models import FACT_KEYS, Case, RuleEvaluation, Unit
from app.models import CaseFact as F
from app.queries.cases import (
    ALARM_AGG,
    CaseFilter,
    case_select,
    date_column,
    period_key,
    reporting,
    unit_conditions,
)
from app.queries.columns import COLUMNS, RATES, Col
from app.scoping import Scope


@dataclass
class StatRow:
    label: str
    values: dict
    kind: str = "unit"  # self (本级) / unit (a child's subtree) / period / total
    unit_id: int | None = None
    subtree: bool = True
    depth: int = 0
    period: tuple | None = None  # (from, to) of a period row
    previous: dict | None = None  # 同比: the same columns a year earlier

    def rate(self, num: str, den: str) -> float | None:
        d = self.values.get(den) or 0
        return round(100.0 * (self.values.get(num) or 0) / d, 1) if d else None

    def yoy(self, key: str = "people") -> float | None:
        if not self.previous or not self.previous.get(key):
            return None
        return round(100.0 * (self.values.get(key, 0) - self.previous[key]) / self.previous[key], 1)


@dataclass
class StatTable:
    root: Unit | None
    filter: CaseFilter
    by: str
    rows: list[StatRow] = field(default_factory=list)
    total: StatRow | None = None
    columns: tuple[Col, ...] = COLUMNS
    rates: tuple = RATES


# Filter fields a fact row answers by itself: with none of the others set, the table reads the
# fact table alone; otherwise the filter's own joins select the cases and the facts join them.
FACT_ONLY_FIELDS = {"unit_id", "subtree", "basis", "date_from", "date_to"}


def _fact_only(f: CaseFilter) -> bool:
    return set(f.as_dict()) <= FACT_ONLY_FIELDS


def _fact_date(basis: str):
    return F.appointment_date if basis == "appointment" else F.decision_date


def _source(f: CaseFilter, scope: Scope, columns: list, case_needs: set | None):
    """SELECT ``columns`` over the selected cases' fact rows; with ``case_needs`` (a column reads the
    case or its modules itself), over the cases, those joins and their fact rows."""
    if case_needs is not None or not _fact_only(f):
        return case_select(f, scope, columns=columns, extra_needs=case_needs or ()).join(F, F.case_id == Case.id)
    when = _fact_date(f.basis)
    conds = [] if _whole_tree(f, scope) else unit_conditions(f, scope, F.unit_id)
    if f.date_from:
        conds.append(when >= f.date_from)
    if f.date_to:
        conds.append(when <= f.date_to)
    return select(*columns).select_from(F).where(*conds)


def _whole_tree(f: CaseFilter, scope: Scope) -> bool:
    """Does the filter's subtree hold every unit, the scope too? (The only top-level unit, seen by a
    user of every unit or of that subtree: a condition on the units would filter nothing, at the
    price of a semi-join per fact row.)"""
    if f.unit_id is None or not f.subtree or not (scope.kind == "all" or
                                                  (scope.kind == "subtree" and scope.unit_id == f.unit_id)):
        return False
    tops = db.session.execute(select(Unit.id).where(Unit.parent_id.is_(None)).limit(2)).scalars().all()
    return tops == [f.unit_id]


def _stored(col: Col) -> bool:
    """Is the column read from the fact rows (or the alarms joined to them)?"""
    return col.distinct_batches or col.key in FACT_KEYS or col.needs == {"alarms"}


def _aggregate(col: Col, batches_by_flag: bool):
    if col.distinct_batches:
        # A batch's cases share its unit and its decision date: unless a filter tells cases of one
        # batch apart, its first case stands for it, and a plain count replaces a DISTINCT.
        return func.count().filter(F.batch_first) if batches_by_flag else func.count(distinct(F.batch_id))
    if col.key in FACT_KEYS:
        return func.count().filter(getattr(F, col.key))
    return func.count().filter(col.sql())


def _counts(f: CaseFilter, scope: Scope, key, columns, tree=None, where=(), then=None) -> dict:
    """{key: {column: count}} for the cases the filter and scope select, grouped by ``key`` — one
    GROUP BY over the fact rows (app/models/facts.py), with the alarms joined when a column reads
    them; a column of a caller's own (the chart's 绿灯) reads the case and its joins as well.

    With ``then`` (given the grouped ``key`` column, the keys to group those groups by) the groups are
    summed again by those keys: a period's days, say, grouped by month — the counts must add up
    (``per_period_pair``). The result is keyed by a tuple when ``then`` gives more than one key."""
    by_flag = _fact_only(f) and f.basis == "decision"
    own = [c for c in columns if not _stored(c)]
    case_needs = set().union(*(c.needs for c in own)) if own else None
    counted = [_aggregate(c, by_flag).label(f"n{i}") for i, c in enumerate(columns)]
    stmt = _source(f, scope, [key, *counted], case_needs).where(*where)
    if tree is not None:  # the units counted, each with the group it counts in (``per_child``)
        stmt = stmt.join(tree, tree.c.unit_id == F.unit_id)
    if any("alarms" in c.needs for c in columns) and "alarms" not in (case_needs or ()):
        stmt = stmt.outerjoin(ALARM_AGG, ALARM_AGG.c.root_id == F.root_id)
    stmt = stmt.group_by(key)
    keys_sql = [key]
    if then is not None:
        groups = stmt.subquery("grouped")
        keys_sql = then(groups.c[key.name])
        stmt = select(*keys_sql, *(func.sum(groups.c[c.name]) for c in counted)).group_by(*keys_sql)
    keys = [c.key for c in columns]
    n = len(keys_sql)
    with reporting():
        return {(r[0] if n == 1 else tuple(r[:n])): dict(zip(keys, (int(v or 0) for v in r[n:])))
                for r in db.session.execute(stmt)}


def _paired(f: CaseFilter, prev: CaseFilter | None) -> bool:
    """Can a period and its 同比 period be counted in one scan? Yes when both are bounded and the
    earlier one ends before the later one starts (a period of at most a year)."""
    return (prev is not None and None not in (f.date_from, f.date_to, prev.date_from, prev.date_to)
            and prev.date_to < f.date_from)


def per_unit(f: CaseFilter, scope: Scope, columns=COLUMNS) -> dict[int, dict]:
    """{unit_id: {column: count}} for the cases the filter and scope select (see ``_counts``)."""
    return _counts(f, scope, F.unit_id.label("unit_id"), columns)


def per_period(f: CaseFilter, scope: Scope, by: str, columns=COLUMNS) -> dict[str, dict]:
    return per_period_pair(f, None, scope, by, columns)[0]


def per_period_pair(f: CaseFilter, prev: CaseFilter | None, scope: Scope, by: str,
                    columns=COLUMNS) -> tuple[dict[str, dict], dict[str, dict]]:
    """``per_period`` of a period and of its 同比 period (``prev``; none: {}) — one scan over both when
    they do not overlap: the fact rows of [prev.from, f.to] (less the days between the two) grouped by
    day (a few hundred groups: the period's key is computed per day, not per case), then the days by
    period and by which of the two periods they fall in. Days add up to periods but for the distinct
    meetings of the appointment date (a meeting's cases may be appointed on different days): those
    are counted per period, one scan each."""
    periods = [f] + ([prev] if prev is not None else [])
    # the date the WHERE reads: the fact row's own, or, when the filter selects the cases, the case's
    when = _fact_date(f.basis) if _fact_only(f) and all(_stored(c) for c in columns) else date_column(f.basis)
    if f.basis == "appointment" and any(c.distinct_batches for c in columns):
        key = period_key(_fact_date(f.basis), by).label("period")
        found = [_counts(g, scope, key, columns) for g in periods]
    elif _paired(f, prev):
        both = replace(f, date_from=prev.date_from, date_to=f.date_to)
        gap = [or_(when <= prev.date_to, when >= f.date_from)] if prev.date_to + dt.timedelta(days=1) < f.date_from \
            else []
        counts = _counts(both, scope, when.label("day"), columns, where=gap, then=lambda day: [
            period_key(day, by).label("period"), sa_case((day >= f.date_from, 1), else_=0).label("current")])
        found = [{}, {}]
        for (k, current), values in counts.items():
            found[0 if current else 1][k] = values
    else:
        found = [_counts(g, scope, when.label("day"), columns, then=lambda day: [period_key(day, by).label("period")])
                 for g in periods]
    if prev is None:
        found.append({})
    return tuple({k: counts[k] for k in sorted(counts, key=str) if k} for counts in found)


def _add(into: dict, values: dict) -> None:
    for k, v in values.items():
        into[k] = into.get(k, 0) + v


def _zero(columns) -> dict:
    return {c.key: 0 for c in columns}


def last_year(f: CaseFilter) -> CaseFilter | None:
    if not (f.date_from and f.date_to) or f.date_from.year <= 1:
        return None

    def back(d: dt.date) -> dt.date:
        try:
            return d.replace(year=d.year - 1)
        except ValueError:  # 29 February
            return d.replace(year=d.year - 1, day=28)

    return replace(f, date_from=back(f.date_from), date_to=back(f.date_to))


def per_child(f: CaseFilter, scope: Scope, root: Unit, children: list[Unit], columns=COLUMNS) -> dict:
    """{child id: {column: count}} over each child's subtree, and None: the root's own cases — grouped
    in SQL: every unit of the root's subtree is mapped to its child by path first (a few thousand
    rows), so the GROUP BY has a group per child, not per unit, and nothing is rolled up in Python.

    (A period and its 同比 period are two scans here, not one grouped by child and period: PostgreSQL
    cannot tell that a (child, period) key has few values, plans a group per row and gives up the
    parallel aggregation — twice as slow at 1,000,000 cases.)"""
    child = sa_case(*((Unit.path.startswith(c.path, autoescape=True), c.id) for c in children),
                    else_=null()) if children else null()
    tree = select(Unit.id.label("unit_id"), child.label("child")).where(
        Unit.path.startswith(root.path, autoescape=True)).subquery("tree")
    if scope.kind == "subtree" and root.path.startswith(scope.path):
        scope = Scope("all")  # the tree is the root's subtree, inside the scope: no second filter on the units
    return _counts(replace(f, unit_id=None), scope, tree.c.child.label("child"), columns, tree=tree)


def unit_table(f: CaseFilter, scope: Scope, root: Unit, columns=COLUMNS, yoy: bool = True) -> StatTable:
    """Rows: 本级 (the root's own cases), then each child unit's subtree; a total; 同比 per row
    (unless ``yoy`` is false: a chart that shows none)."""
    f = replace(f, unit_id=root.id, subtree=True)
    children = db.session.execute(select(Unit).where(Unit.parent_id == root.id).order_by(Unit.code)).scalars().all()
    prev_f = last_year(f) if yoy else None

    def rows(counts: dict) -> tuple[dict, dict, dict]:
        """(本级, {child id: subtree}, 合计)."""
        total = _zero(columns)
        for values in counts.values():
            _add(total, values)
        return (counts.get(None, _zero(columns)), {c.id: counts.get(c.id, _zero(columns)) for c in children}, total)

    own, subtrees, total = rows(per_child(f, scope, root, children, columns))
    prev_own, prev_subtrees, prev_total = (rows(per_child(prev_f, scope, root, children, columns)) if prev_f
                                           else (None, {}, None))
    table = StatTable(root, f, "unit", columns=columns)
    table.rows.append(StatRow(f"{root.name}（本级）", own, "self", root.id, False, 0, previous=prev_own))
    for c in children:
        table.rows.append(StatRow(c.name, subtrees[c.id], "unit", c.id, True, 1, previous=prev_subtrees.get(c.id)))
    table.total = StatRow("合计", total, "total", root.id, True, previous=prev_total)
    return table


def period_table(f: CaseFilter, scope: Scope, by: str = "month", columns=COLUMNS) -> StatTable:
    """Rows: one per month / quarter / year of the period, with 同比 against the same period a year back."""
    prev_f = last_year(f)
    counts, prev = per_period_pair(f, prev_f, scope, by, columns)
    table = StatTable(db.session.get(Unit, f.unit_id) if f.unit_id else None, f, by, columns=columns)
    total = _zero(columns)
    for key, values in counts.items():
        start, end = period_bounds(key, by)
        if f.date_from and start < f.date_from:
            start = f.date_from
        if f.date_to and end > f.date_to:
            end = f.date_to
        prev_key = str(int(key[:4]) - 1) + key[4:]
        table.rows.append(StatRow(key, values, "period", f.unit_id, f.subtree, period=(start, end),
                                  previous=prev.get(prev_key, _zero(columns)) if prev_f else None))
        _add(total, values)
    prev_total = None
    if prev_f:
        prev_total = _zero(columns)
        for values in prev.values():
            _add(prev_total, values)
    table.total = StatRow("合计", total, "total", f.unit_id, f.subtree, previous=prev_total)
    return table


# ---- companion tables -----------------------------------------------------------------------------------

def rule_hits(f: CaseFilter, scope: Scope, root: Unit, limit: int | None = None) -> tuple[list[Unit], list[dict]]:
    """Cases by rule hit: rows are rule codes, columns the root's children (and 本级); a case counts
    once per rule it failed in any evaluation of its current version."""
    f = replace(f, unit_id=root.id, subtree=True)
    stmt = case_select(f, scope, columns=[RuleEvaluation.rule_code, Case.unit_id,
                                          func.count(distinct(Case.id)).label("n")])
    stmt = stmt.join(RuleEvaluation, (RuleEvaluation.case_id == Case.id) & (RuleEvaluation.outcome == "fail"))
    rows = db.session.execute(stmt.group_by(RuleEvaluation.rule_code, Case.unit_id)).all()
    children = db.session.execute(select(Unit).where(Unit.parent_id == root.id).order_by(Unit.code)).scalars().all()
    paths = dict(db.session.execute(select(Unit.id, Unit.path).where(Unit.id.in_({r[1] for r in rows}))).all()) \
        if rows else {}
    by_rule: dict[str, dict] = {}
    for code, unit_id, n in rows:
        entry = by_rule.setdefault(code, {"code": code, "cells": {}, "total": 0})
        target = root.id if unit_id == root.id else next(
            (c.id for c in children if paths.get(unit_id, "").startswith(c.path)), None)
        if target is None:
            continue
        entry["cells"][target] = entry["cells"].get(target, 0) + n
        entry["total"] += n
    ordered = sorted(by_rule.values(), key=lambda e: (-e["total"], e["code"]))
    return [root, *children], ordered[:limit] if limit else ordered
