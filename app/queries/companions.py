"""The statistics pages beside the table (统计分析): the default unit, the charts' numbers, the overdue
list (逾期 / 未报) and the 干部任免名册 — each one SELECT over the same filtered cases, inside the scope."""
from __future__ import annotations

from sqlalchemy import and_, func

from app import dates
from app.extensions import db
from app.models import Batch, Case, CaseDeadline, Unit
from app.models.deadlines import DL_LATE, DL_MISSING
from app.queries.cases import APPT, MOTION, PUB, QUAL, CaseFilter, case_select, highest_education
from app.queries.columns import BY_KEY, COLUMNS, GREEN
from app.queries.statistics import StatRow, StatTable, last_year, per_period_pair, rule_hits, unit_table
from app.queries.units import top_units
from app.rule_settings import rules_by_code
from app.scoping import Scope

OVERDUE = (DL_LATE, DL_MISSING)
MAX_TREND_MONTHS = 120
LIGHT_COLUMNS = (BY_KEY["red"], BY_KEY["yellow"], GREEN)
ROSTER_NEEDS = {"qual", "motion", "batch", "pub", "appt"}
STREAM_ROWS = 1000


def default_root(scope: Scope, user) -> tuple[Unit | None, list[Unit]]:
    """The user's own unit; for an admin (no unit) the first top-level unit, the others offered."""
    unit_id = getattr(user, "unit_id", None)
    if unit_id is not None and scope.contains(unit_id):
        return db.session.get(Unit, unit_id), []
    if scope.kind == "all":
        tops = top_units()
        return (tops[0] if tops else None), tops[1:]
    return None, []


def visible_rows(table: StatTable, scope: Scope) -> StatTable:
    """A user who sees only its own unit gets no rows for sub-units it may not see (they are zeros)."""
    if scope.kind == "unit":
        table.rows = [r for r in table.rows if r.depth == 0]
    return table


# Columns that say something needs attention: a unit with any of them is shown first.
PROBLEM_KEYS = ("red", "yellow", "late1", "missing1", "late2", "correcting", "correction_late", "blocked")


def problems(row: StatRow) -> int:
    return sum(int(row.values.get(k) or 0) for k in PROBLEM_KEYS)


def all_zero(row: StatRow) -> bool:
    """Nothing in the period and nothing in the same period last year (no 同比 figure either)."""
    return not any(row.values.values()) and not any((row.previous or {}).values())


def problems_first(table: StatTable, show_all: bool = False) -> int:
    """Re-order a unit table's unit rows: those with problems (``PROBLEM_KEYS``; most first), then the
    others with numbers, then — with ``show_all`` only — the all-zero ones; each group in code order
    (the table's). 本级 stays first and the total last. Returns how many all-zero rows are folded
    away (0 with ``show_all``)."""
    own = [r for r in table.rows if r.kind != "unit"]
    units = [r for r in table.rows if r.kind == "unit"]
    hit = sorted((r for r in units if problems(r)), key=lambda r: -problems(r))  # (stable: code order within)
    zero = [r for r in units if not problems(r) and all_zero(r)]
    rest = [r for r in units if not problems(r) and not all_zero(r)]
    table.rows = [*own, *hit, *rest, *(zero if show_all else [])]
    return 0 if show_all else len(zero)


# ---- the charts' numbers --------------------------------------------------------------------------------

def trend_points(f: CaseFilter, scope: Scope) -> tuple[list[tuple[str, int]], list[int] | None]:
    """People per month of the period, and the same months a year earlier (when 同比 applies): one
    scan over both periods (``per_period_pair``)."""
    prev_f = last_year(f)
    got, prev = per_period_pair(f, prev_f, scope, "month", columns=(BY_KEY["people"],))
    if f.date_from and f.date_to:
        labels = dates.month_keys(f.date_from, f.date_to, MAX_TREND_MONTHS)
    else:
        labels = sorted(got)
    points = [(label, got.get(label, {}).get("people", 0)) for label in labels]
    previous = None
    if prev_f is not None:  # a month with nothing this year still has its last-year figure
        previous = [prev.get(f"{int(label[:4]) - 1:04d}{label[4:]}", {}).get("people", 0) for label in labels]
    return points, previous


def light_rows(f: CaseFilter, scope: Scope, root: Unit) -> list[tuple[str, dict[str, int]]]:
    """Cases by light for each row of the unit table."""
    return lights_of(visible_rows(unit_table(f, scope, root, columns=LIGHT_COLUMNS, yoy=False), scope))


def lights_of(table: StatTable) -> list[tuple[str, dict[str, int]]]:
    """Cases by light for each row of a unit table that counted 绿灯 too (``with_green``)."""
    return [(r.label, {"红": r.values["red"], "黄": r.values["yellow"], "绿": r.values["green"]}) for r in table.rows]


def with_green(f: CaseFilter, scope: Scope, root: Unit) -> StatTable:
    """The unit table, its rows counting 绿灯 as well (not a column it shows): the statistics page
    draws its light chart from the same GROUP BY instead of one more scan."""
    table = unit_table(f, scope, root, columns=(*COLUMNS, GREEN))
    table.columns = COLUMNS
    return visible_rows(table, scope)


def top_rules(f: CaseFilter, scope: Scope, root: Unit, limit: int = 10) -> list[tuple[str, str, int]]:
    """The rules hit most: (code, title, cases)."""
    rules = rules_by_code()
    _units, hits = rule_hits(f, scope, root, limit=limit)
    return [(e["code"], getattr(rules.get(e["code"]), "title", ""), e["total"]) for e in hits]


# ---- the overdue list and the roster -------------------------------------------------------------------

def _run(stmt, offset: int | None, limit: int | None):
    """One page of rows, or (no offset) every row streamed for an export."""
    if offset is not None:
        return db.session.execute(stmt.offset(offset).limit(limit)).all()
    return db.session.execute(stmt.execution_options(yield_per=STREAM_ROWS))


def _overdue_select(f: CaseFilter, scope: Scope, columns):
    stmt = case_select(f, scope, columns=columns)
    return stmt.join(CaseDeadline, and_(CaseDeadline.root_id == Case.root_id, CaseDeadline.status.in_(OVERDUE)))


def overdue_summary(f: CaseFilter, scope: Scope) -> dict[tuple[int, str], int]:
    stmt = _overdue_select(f, scope, [CaseDeadline.node, CaseDeadline.status, func.count(CaseDeadline.id)])
    rows = db.session.execute(stmt.group_by(CaseDeadline.node, CaseDeadline.status)).all()
    return {(node, status): int(n) for node, status, n in rows}


def overdue_rows(f: CaseFilter, scope: Scope, offset: int | None = None, limit: int | None = None):
    cols = [Unit.name.label("unit_name"), Case.id, Case.case_no, Case.full_name, CaseDeadline.node,
            CaseDeadline.due_date, CaseDeadline.submitted_on, CaseDeadline.status, CaseDeadline.days_late]
    stmt = _overdue_select(f, scope, cols).join(Unit, Unit.id == Case.unit_id)
    return _run(stmt.order_by(Unit.path, CaseDeadline.due_date, Case.case_no, CaseDeadline.node), offset, limit)


def roster_rows(f: CaseFilter, scope: Scope, offset: int | None = None, limit: int | None = None):
    cols = [Case.id, Case.case_no, Case.full_name, Unit.name.label("unit_name"), QUAL.sex, QUAL.ethnicity,
            QUAL.birth_date, highest_education().label("education"), QUAL.political_status, QUAL.current_post,
            MOTION.target_post, MOTION.selection_type, Batch.decision_date, PUB.publicity_start, PUB.publicity_end,
            APPT.appointment_doc_no]
    stmt = case_select(f, scope, extra_needs=ROSTER_NEEDS, columns=cols).join(Unit, Unit.id == Case.unit_id)
    return _run(stmt.order_by(Batch.decision_date.nullslast(), Unit.path, Case.case_no, Case.id), offset, limit)
