"""统计: the statistics table of C.1 and its companion tables, computed with GROUP BY in SQL.

Rows are the chosen unit's own cases (本级) and each child's whole subtree (a subtotal), or one row
per period; a total row and, when a period is given, the same period last year (同比). The SQL
returns one small row per unit; rolling units up into their subtrees happens in Python over those
few thousand numbers at most.

How the counts are read (``_counts``), so that a year over all units stays fast (bench/queries.py):

* first the selected cases alone, with the case and its batch: the columns that count distinct
  batches (a DISTINCT aggregate cannot be computed in parts: among the others it would keep the
  whole GROUP BY in one process, sorted, instead of hashed in parallel), and the range of case ids
  the selection spans;
* then one GROUP BY for every other column, as ``count(*) FILTER (WHERE condition)``, its per-case
  joins (module rows, deadlines) narrowed to that id range: ids follow time, so a period's cases
  read a slice of each module table, not all of it;
* on PostgreSQL, an expression several conditions share (the age at the decision date, the highest
  education) is computed once per case in a LATERAL subquery and the conditions read it from there
  — the same expression, evaluated once instead of up to ten times; JIT is off and every execution
  gets a plan for its values (REPORTING_SETTINGS).
"""
from __future__ import annotations

import datetime as dt
from contextlib import contextmanager
from dataclasses import dataclass, field, replace

from sqlalchemy import and_, distinct, func, select, text, true
from sqlalchemy.sql.visitors import iterate, replacement_traverse

from app.extensions import db
from app.models import Batch, Case, RuleEvaluation, Unit
from app.queries.cases import (
    JOIN_ORDER, JOINS, QUAL, CaseFilter, age_at, case_select, conditions, date_column, dialect, highest_education,
    period_key,
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


def _needs(columns) -> set:
    out = set()
    for c in columns:
        out |= set(c.needs)
    return out


# Expressions several columns' conditions contain, with the joins they read: on PostgreSQL each is
# computed once per case (``_shared``). Built afresh each time, as the columns build theirs.
SHARED = (
    (lambda: age_at(QUAL.birth_date, Batch.decision_date), frozenset({"qual", "batch"})),
    (lambda: highest_education(), frozenset({"qual"})),
)


def _contains(condition, expr) -> bool:
    return any(node.compare(expr) for node in iterate(condition))


def _shared(conds: dict, needs: set):
    """(conditions reading the shared expressions from a LATERAL subquery, the subquery or None).

    ``LEFT JOIN LATERAL (SELECT <expr> AS s0, …) ON true`` adds nothing but the values: a subquery
    without FROM gives exactly one row, and its expressions are those the conditions contain, over
    the same columns. PostgreSQL evaluates them once per row at the join and hands the value up."""
    if dialect() != "postgresql":
        return conds, None
    exprs = []
    for build, reads in SHARED:
        expr = build()
        if reads <= needs and sum(_contains(c, expr) for c in conds.values()) > 1:
            exprs.append(expr)
    if not exprs:
        return conds, None
    lateral = select(*(e.label(f"s{i}") for i, e in enumerate(exprs))).correlate(QUAL, Batch).lateral("shared")

    def swap(node):
        for i, e in enumerate(exprs):
            if node.compare(e):
                return lateral.c[f"s{i}"]
        return None

    return {k: replacement_traverse(c, {}, swap) for k, c in conds.items()}, lateral


# PostgreSQL settings for the statements of a table, for their transaction only: no JIT (it spent
# seconds compiling fifty aggregates to save less), and a plan for the actual values each time (the
# driver prepares a statement run five times on a connection; a generic plan, blind to the period
# and the id range, reads every row).
REPORTING_SETTINGS = {"jit": "off", "plan_cache_mode": "force_custom_plan"}


@contextmanager
def _reporting():
    """Apply REPORTING_SETTINGS inside, and put the previous values back after."""
    if dialect() != "postgresql":
        yield
        return
    names = list(REPORTING_SETTINGS)
    before = db.session.execute(text("SELECT " + ", ".join(f"current_setting('{n}')" for n in names))).one()
    db.session.execute(text("SELECT " + ", ".join(f"set_config('{n}', '{v}', true)"
                                                  for n, v in REPORTING_SETTINGS.items())))
    yield
    # Not reached when a statement failed: the transaction is rolled back, and the settings with it.
    db.session.execute(text("SELECT " + ", ".join(f"set_config('{n}', :v{i}, true)" for i, n in enumerate(names))),
                       {f"v{i}": value for i, value in enumerate(before)})


# Joins whose rows belong to one case, by the column that names it: their ON clause can be narrowed
# to the id range of the selected cases (``_select``).
BY_CASE_ID = {"qual", "motion", "reco", "insp", "cons", "deci", "pub", "appt", "subm"}
BY_ROOT_ID = {"d1", "d2"}


@dataclass(frozen=True)
class _Bounds:
    """The ids and root ids the selected cases span."""
    lo: int
    hi: int
    root_lo: int
    root_hi: int


def _select(f: CaseFilter, scope: Scope, needs: set, columns: list, bounds: _Bounds | None):
    """``case_select`` with every per-case join (module rows, deadlines) narrowed to ``bounds``, and
    the case ids too: case ids follow time, so a period's cases span a fraction of each module table,
    which an index range scan then reads instead of the whole table. A case (or a new version)
    added between the two statements has a higher id: it is left out of every column alike."""
    if bounds is None:
        return case_select(f, scope, extra_needs=needs, columns=columns)
    stmt = select(*columns).select_from(Case)
    for name in JOIN_ORDER:
        if name not in needs:
            continue
        target, on = JOINS[name]
        clause = on()
        if name in BY_CASE_ID:
            clause = and_(clause, target.case_id.between(bounds.lo, bounds.hi))
        elif name in BY_ROOT_ID:
            clause = and_(clause, target.root_id.between(bounds.root_lo, bounds.root_hi))
        stmt = stmt.outerjoin(target, clause)
    return stmt.where(*conditions(f, scope), Case.id.between(bounds.lo, bounds.hi))


def _counts(f: CaseFilter, scope: Scope, key, columns, extra_needs=frozenset()) -> dict:
    """{key: {column: count}} for the cases the filter and scope select, grouped by ``key``.

    First the selected cases alone: the distinct batches, and the id range they span; then, when a
    column reads more than the case and its batch, one GROUP BY for all the other columns."""
    plain = [c for c in columns if not c.distinct_batches]
    batches = [c for c in columns if c.distinct_batches]
    needs = f.needs() | _needs(plain) | set(extra_needs)
    ranged = bool(needs & (BY_CASE_ID | BY_ROOT_ID))
    out: dict = {}
    bounds = None
    with _reporting():
        if batches or ranged:
            span = [func.min(Case.id), func.max(Case.id), func.min(Case.root_id), func.max(Case.root_id)]
            stmt = case_select(f, scope, extra_needs=_needs(batches) | set(extra_needs), columns=[
                key, *(func.count(distinct(Case.batch_id)) for _ in batches), *span])
            rows = db.session.execute(stmt.group_by(key)).all()
            for r in rows:
                out[r[0]] = {**_zero(columns), **{c.key: int(n or 0) for c, n in zip(batches, r[1:])}}
            if not rows:
                return out  # nothing selected: no other column can count anything
            ends = [r[-4:] for r in rows]
            bounds = _Bounds(min(e[0] for e in ends), max(e[1] for e in ends),
                             min(e[2] for e in ends), max(e[3] for e in ends))
        if plain:
            conditions_, lateral = _shared({c.key: c.sql() for c in plain}, needs)
            stmt = _select(f, scope, needs, [key, *(func.count().filter(conditions_[c.key]) for c in plain)],
                           bounds if ranged else None)
            if lateral is not None:
                stmt = stmt.outerjoin(lateral, true())
            keys = [c.key for c in plain]
            for r in db.session.execute(stmt.group_by(key)):
                out.setdefault(r[0], _zero(columns)).update(zip(keys, r[1:]))
    return out


def per_unit(f: CaseFilter, scope: Scope, columns=COLUMNS) -> dict[int, dict]:
    """{unit_id: {column: count}} for the cases the filter and scope select (see ``_counts``)."""
    return _counts(f, scope, Case.unit_id.label("unit_id"), columns)


def per_period(f: CaseFilter, scope: Scope, by: str, columns=COLUMNS) -> dict[str, dict]:
    key = period_key(date_column(f.basis), by).label("period")
    counts = _counts(f, scope, key, columns, {"appt"} if f.basis == "appointment" else frozenset())
    return {k: counts[k] for k in sorted(counts, key=str) if k}


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


def unit_table(f: CaseFilter, scope: Scope, root: Unit, columns=COLUMNS) -> StatTable:
    """Rows: 本级 (the root's own cases), then each child unit's subtree; a total; 同比 per row."""
    f = replace(f, unit_id=root.id, subtree=True)
    counts = per_unit(f, scope, columns)
    prev_f = last_year(f)
    prev_counts = per_unit(prev_f, scope, columns) if prev_f else None
    children = db.session.execute(select(Unit).where(Unit.parent_id == root.id).order_by(Unit.code)).scalars().all()
    # Every counted unit is in the root's subtree (the filter says so): their paths in one look-up.
    paths = dict(db.session.execute(select(Unit.id, Unit.path).where(
        Unit.path.startswith(root.path, autoescape=True))).all()) if counts or prev_counts else {}
    by_path = {child.path: child.id for child in children}

    def child_of(unit_id) -> int | None:
        """The child whose subtree holds the unit: the child's path is a prefix of the unit's."""
        path = paths.get(unit_id, "")
        end = path.find("/", 1)
        while end != -1:
            found = by_path.get(path[:end + 1])
            if found is not None:
                return found
            end = path.find("/", end + 1)
        return None

    def rollup(source: dict) -> tuple[dict, dict, dict]:
        """(本级, {child id: subtree}, 合计), each unit's numbers added once."""
        own, subtrees, total = _zero(columns), {child.id: _zero(columns) for child in children}, _zero(columns)
        for unit_id, values in source.items():
            targets = [total]
            if unit_id == root.id:
                targets.append(own)
            child_id = child_of(unit_id)
            if child_id is not None:
                targets.append(subtrees[child_id])
            for into in targets:
                for k, v in values.items():
                    into[k] += v
        return own, subtrees, total

    own, subtrees, total = rollup(counts)
    prev_own, prev_subtrees, prev_total = rollup(prev_counts) if prev_counts is not None else (None, {}, None)
    table = StatTable(root, f, "unit", columns=columns)
    table.rows.append(StatRow(f"{root.name}（本级）", own, "self", root.id, False, 0, previous=prev_own))
    for child in children:
        table.rows.append(StatRow(child.name, subtrees[child.id], "unit", child.id, True, 1,
                                  previous=prev_subtrees.get(child.id)))
    table.total = StatRow("合计", total, "total", root.id, True, previous=prev_total)
    return table


def _period_bounds(key: str, by: str) -> tuple[dt.date, dt.date]:
    if by == "month":
        y, m = map(int, key.split("-"))
        start = dt.date(y, m, 1)
        end = (dt.date(y + (m == 12), m % 12 + 1, 1) - dt.timedelta(days=1))
    elif by == "quarter":
        y, q = int(key[:4]), int(key[-1])
        start = dt.date(y, 3 * q - 2, 1)
        end = dt.date(y + (q == 4), (3 * q) % 12 + 1, 1) - dt.timedelta(days=1)
    else:
        y = int(key)
        start, end = dt.date(y, 1, 1), dt.date(y, 12, 31)
    return start, end


def period_table(f: CaseFilter, scope: Scope, by: str = "month", columns=COLUMNS) -> StatTable:
    """Rows: one per month / quarter / year of the period, with 同比 against the same period a year back."""
    counts = per_period(f, scope, by, columns)
    prev_f = last_year(f)
    prev = per_period(prev_f, scope, by, columns) if prev_f else {}
    table = StatTable(db.session.get(Unit, f.unit_id) if f.unit_id else None, f, by, columns=columns)
    total = _zero(columns)
    for key, values in counts.items():
        start, end = _period_bounds(key, by)
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
