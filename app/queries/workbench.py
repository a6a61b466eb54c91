"""实时监控's numbers: each one scoped GROUP BY (or COUNT) in SQL inside the scope (app.views.workbench
draws them)."""
from __future__ import annotations

import datetime as dt

from sqlalchemy import Select, and_, func, or_, select
from sqlalchemy import case as sa_case

from app.extensions import db
from app.models import Alarm, Case, CaseDeadline, Submission, Unit
from app.models.audit import utcnow
from app.models.case import STATUS_DRAFT, STATUS_FIRST, STATUS_SECOND
from app.models.deadlines import DL_LATE, DL_MISSING
from app.models.rules import ALARM_HALTED, ALARM_RAISED
from app.models.supervision import FINDING_CLOSED, FINDING_DONE, FINDING_OPEN, Finding
from app.queries.units import top_units
from app.scoping import Scope

RECENT_DAYS = 7
LIGHT_KEYS = {"红": "red", "黄": "yellow", "绿": "green"}
LIGHT_ORDER = ("red", "yellow", "green", "none")
STATUS_KEYS = {STATUS_DRAFT: "draft", STATUS_FIRST: "first", STATUS_SECOND: "second"}
STATUS_ORDER = ("draft", "first", "second")
FINDING_KEYS = {FINDING_OPEN: "open", FINDING_DONE: "corrected", FINDING_CLOSED: "closed"}


def _light_key(light) -> str:
    return LIGHT_KEYS.get(light, "none")


def _zero_lights() -> dict:
    return {"total": 0, "red": 0, "yellow": 0, "green": 0, "none": 0}


def _count(stmt) -> int:
    return int(db.session.execute(stmt).scalar() or 0)


def _table_root(scope: Scope) -> tuple[Unit | None, list[Unit], str]:
    """The table's rows: (本级 unit or None, the units whose subtrees are rows, base path)."""
    if scope.kind == "all":
        return None, top_units(), "/"
    if scope.kind in ("subtree", "unit") and scope.unit_id is not None:
        root = db.session.get(Unit, scope.unit_id)
        if root is None:
            return None, [], ""
        children = []
        if scope.kind == "subtree":
            children = db.session.execute(
                select(Unit).where(Unit.parent_id == root.id).order_by(Unit.code)).scalars().all()
        return root, children, root.path
    return None, [], ""


def unit_rows(scope: Scope, show_all: bool = False) -> tuple[list[dict], dict, int]:
    """本级 and each child subtree by light: one GROUP BY (unit path, light), rolled up by path. The
    children with red or yellow cases first (most red, then most yellow), then the others with cases;
    those without a current case are left out (folded) unless ``show_all``, and counted: (rows, total,
    folded)."""
    root, children, base = _table_root(scope)
    grouped = db.session.execute(
        select(Unit.path, Case.light, func.count(Case.id))
        .join(Unit, Unit.id == Case.unit_id)
        .where(Case.is_current.is_(True), scope.clause(Case.unit_id))
        .group_by(Unit.path, Case.light)
    ).all()
    own = _zero_lights()
    by_child = {c.path: _zero_lights() for c in children}
    total = _zero_lights()
    for path, light, n in grouped:
        key = _light_key(light)
        total[key] += n
        total["total"] += n
        if root is not None and path == root.path:
            target = own
        else:
            rest = path[len(base):] if base and path.startswith(base) else ""
            target = by_child.get(base + rest.split("/", 1)[0] + "/") if rest else None
        if target is not None:
            target[key] += n
            target["total"] += n
    rows = []
    if root is not None:
        rows.append({"unit_id": root.id, "code": root.code, "name": f"{root.name}（本级）", "kind": "self", **own})
    subtrees = [{"unit_id": child.id, "code": child.code, "name": child.name, "kind": "unit", **by_child[child.path]}
                for child in children]
    problems = sorted((r for r in subtrees if r["red"] or r["yellow"]), key=lambda r: (-r["red"], -r["yellow"]))
    quiet = [r for r in subtrees if r["total"] and not (r["red"] or r["yellow"])]
    empty = [r for r in subtrees if not r["total"]]
    rows += problems + quiet + (empty if show_all else [])
    return rows, total, 0 if show_all else len(empty)


def monitor_numbers(scope: Scope, worklist: Select, today: dt.date | None = None, show_all: bool = False) -> dict:
    """Every number of the dashboard, in the scope (see app.views.workbench); ``worklist`` is the review
    worklist's SELECT (app.supervision.patrol.worklist_select), counted here; ``show_all``: the units
    without a case too (``unit_rows``)."""
    today = today or dt.date.today()
    current = and_(Case.is_current.is_(True), scope.clause(Case.unit_id))

    lights = {key: 0 for key in LIGHT_ORDER}
    for light, n in db.session.execute(select(Case.light, func.count(Case.id)).where(current)
                                       .group_by(Case.light)).all():
        lights[_light_key(light)] += n
    statuses = {key: 0 for key in STATUS_ORDER}
    for status, n in db.session.execute(select(Case.status, func.count(Case.id)).where(current)
                                        .group_by(Case.status)).all():
        statuses[STATUS_KEYS.get(status, status)] = statuses.get(STATUS_KEYS.get(status, status), 0) + n

    worklist = _count(select(func.count()).select_from(worklist.order_by(None).subquery()))
    since = utcnow() - dt.timedelta(days=RECENT_DAYS)
    submitted = _count(select(func.count(Submission.id)).where(Submission.submitted_at >= since,
                                                                scope.clause(Submission.unit_id)))
    alarms = dict(db.session.execute(
        select(Alarm.status, func.count(Alarm.id))
        .where(Alarm.status.in_((ALARM_RAISED, ALARM_HALTED)), scope.clause(Alarm.unit_id))
        .group_by(Alarm.status)).all())
    overdue = dict(db.session.execute(
        select(CaseDeadline.status, func.count(CaseDeadline.id))
        .where(CaseDeadline.status.in_((DL_LATE, DL_MISSING)), CaseDeadline.submitted_on.is_(None),
               scope.clause(CaseDeadline.unit_id))
        .group_by(CaseDeadline.status)).all())
    halted_roots = select(Alarm.root_id).where(Alarm.status == ALARM_HALTED, Alarm.root_id.is_not(None))
    awaiting = _count(select(func.count(Case.id)).where(
        current, or_(and_(Case.status == STATUS_DRAFT, Case.version_no > 1), Case.root_id.in_(halted_roots))))
    findings = {key: 0 for key in FINDING_KEYS.values()}
    overdue_findings = 0
    for status, n, late in db.session.execute(
            select(Finding.status, func.count(Finding.id),
                   func.coalesce(func.sum(sa_case((and_(Finding.status == FINDING_OPEN,
                                                        Finding.correction_deadline < today), 1), else_=0)), 0))
            .where(scope.clause(Finding.unit_id)).group_by(Finding.status)).all():
        findings[FINDING_KEYS.get(status, status)] = n
        overdue_findings += int(late or 0)
    findings["overdue"] = overdue_findings

    units, units_total, folded = unit_rows(scope, show_all)
    return {
        "as_of": utcnow().strftime("%Y-%m-%d %H:%M:%S"),
        "today": today.isoformat(),
        "cases": sum(lights.values()),
        "lights": lights,
        "statuses": statuses,
        "worklist": worklist,
        "submitted_recent": submitted,
        "recent_days": RECENT_DAYS,
        "alarms_raised": int(alarms.get(ALARM_RAISED, 0)),
        "halted": int(alarms.get(ALARM_HALTED, 0)),
        "overdue": {"late": int(overdue.get(DL_LATE, 0)), "missing": int(overdue.get(DL_MISSING, 0)),
                    "total": int(sum(overdue.values()))},
        "awaiting_correction": awaiting,
        "findings": findings,
        "units": units,
        "units_total": units_total,
        "units_folded": folded,
    }
