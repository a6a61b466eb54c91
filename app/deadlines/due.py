"""Reporting deadlines (初次提交 / 二次提交) as data, and the scan that catches late reports.

``expected(case, as_of)`` / ``apply`` give a case's due dates (called by ``derived.derive`` whenever
its decision or appointment date, or a submission, changes): T01/T02's parameters in force on the decision date give the number of days
and whether they are calendar or working days (counted on the working-day calendar).

``scan(as_of)`` is what the beat task and ``flask deadlines scan`` run. It is a handful of
set-based statements, whatever the number of cases:

1. move open nodes to 逾期 / 未报 (and count the days late);
2. raise one T01/T02 alarm per late node at the supervising department;
3. turn late cases red;
4. send reminders (to the unit's clerks) before a due date and overdue notices (to the clerks and
   the supervising department) after it.

Alarms and notices carry a ``dedup_key`` that the database keeps unique, and everything from
step 1 to 4 is one transaction: a second run, two workers at once, or a run after a worker died
half-way never raise or send anything twice, and a run that died is simply done again.
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from flask import current_app
from sqlalchemy import String as SAString
from sqlalchemy import and_, cast, func, literal, or_, select, text, update
from sqlalchemy import case as sa_case

from app.extensions import db
from app.models import AppUser, Case, Submission, Unit
from app.models.audit import utcnow
from app.models.case import STATUS_RETURNED
from app.models.deadlines import DL_LATE, DL_MISSING, DL_ON_TIME, DL_PENDING, NODE_LABELS, CaseDeadline, Message
from app.models.rules import ALARM_RAISED, Alarm
from app.queries import facts as case_facts
from app.rule_settings import effective_params, load_calendar, settings_for
from app.rules.catalog import all_rules

RULE_OF_NODE = {1: "T01", 2: "T02"}
OPEN_LATE = (DL_LATE, DL_MISSING)
CLERK_ROLE, SUPERVISOR_ROLE = "填报员", "监督员"

KIND_REMINDER, KIND_OVERDUE, KIND_MISSING = "到期提醒", "逾期通知", "未报通知"


def _settings():
    cfg = current_app.config
    return cfg.get("JISHI_REMIND_DAYS", 2), cfg.get("JISHI_MISSING_AFTER_DAYS", 30)


# ---- per case -------------------------------------------------------------------------------------

@dataclass
class NodePlan:
    node: int
    anchor: dt.date
    days: int
    day_type: str
    setting_id: int | None
    due: dt.date


def due_date(anchor: dt.date, days: int, day_type: str, calendar=None) -> dt.date:
    """The last day to report: ``days`` calendar days after the anchor, or the ``days``-th working day."""
    if day_type == "working":
        return (calendar or load_calendar()).add_working_days(anchor, days)
    return anchor + dt.timedelta(days=days)


def plan(case: Case) -> dict[int, NodePlan]:
    """The nodes a case has so far, with their due dates under the T01/T02 version in force."""
    decision = case.batch.decision_date if case.batch is not None else None
    if decision is None:
        return {}
    appointment = case.module_row("appointment")
    anchors = {1: decision}
    rules = all_rules()
    settings = settings_for(case.unit, decision)
    out = {}
    for node, code in RULE_OF_NODE.items():
        rule, setting = rules[code], settings.get(code)
        if setting is not None and not setting.enabled:
            continue
        if setting is None and not rule.enabled_by_default:
            continue
        params = effective_params(rule, setting)
        if node == 2:
            anchor_key = params.get("anchor", "appointment_doc_date")
            anchors[2] = getattr(appointment, anchor_key, None) if appointment is not None else None
        anchor = anchors.get(node)
        if anchor is None:
            continue
        days = params["first_submit_days" if node == 1 else "second_submit_days"]
        day_type = params.get("day_type", "calendar")
        out[node] = NodePlan(node, anchor, days, day_type, setting.id if setting else None,
                             due_date(anchor, days, day_type))
    return out


def status_of(due: dt.date, submitted: dt.date | None, as_of: dt.date, missing_after: int) -> tuple[str, int]:
    """(status, days late) of one node on ``as_of``."""
    if submitted is not None:
        late = max(0, (submitted - due).days)
        return (DL_LATE if late else DL_ON_TIME), late
    if as_of <= due:
        return DL_PENDING, 0
    late = (as_of - due).days
    return (DL_MISSING if late > missing_after else DL_LATE), late


def submitted_dates(root_id: int) -> dict[int, dt.date]:
    """The first submission of each node, across the case's versions (a correction does not reset it)."""
    rows = db.session.execute(
        select(Submission.node, func.min(Submission.submitted_at)).where(Submission.root_id == root_id)
        .group_by(Submission.node)).all()
    return {node: (at.date() if isinstance(at, dt.datetime) else at) for node, at in rows if at is not None}


def expected(case: Case, as_of: dt.date) -> dict[int, dict]:
    """The deadline rows a case should have on ``as_of`` (node → column values); reads only.
    A node whose anchor was removed after it was reported keeps its row as it is (not listed)."""
    _, missing_after = _settings()
    plans = plan(case) if case.status != STATUS_RETURNED else {}
    done = submitted_dates(case.root_id or case.id)
    out = {}
    for node, p in plans.items():
        status, late = status_of(p.due, done.get(node), as_of, missing_after)
        out[node] = {"anchor_date": p.anchor, "days": p.days, "day_type": p.day_type, "setting_id": p.setting_id,
                     "due_date": p.due, "submitted_on": done.get(node), "status": status, "days_late": late}
    return out


def apply(case: Case, rows: dict[int, dict]) -> dict[int, CaseDeadline]:
    """Write ``expected``'s rows in the caller's transaction; returns the case's rows by node."""
    root_id = case.root_id or case.id
    existing = {d.node: d for d in db.session.execute(
        select(CaseDeadline).where(CaseDeadline.root_id == root_id)).scalars()}
    out = {}
    for node in (1, 2):
        row, values = existing.get(node), rows.get(node)
        if values is None:
            if row is not None and row.submitted_on is None:
                db.session.delete(row)  # the anchor was removed before anything was reported
            elif row is not None:
                out[node] = row
            continue
        if row is None:
            row = CaseDeadline(root_id=root_id, node=node, unit_id=case.unit_id, case_id=case.id)
            db.session.add(row)
        for name, value in {**values, "case_id": case.id, "unit_id": case.unit_id}.items():
            if getattr(row, name) != value:
                setattr(row, name, value)
        out[node] = row
    db.session.flush()
    return out


def submission_status(case: Case, node: int, on: dt.date) -> str:
    """The submission module's status for a report made today: 按时提交 / 逾期提交 / 补正后提交."""
    if case.version_no and case.version_no > 1:
        return "补正后提交"
    p = plan(case).get(node)
    if p is not None and on > p.due:
        return "逾期提交"
    return "按时提交"


# ---- recipients ---------------------------------------------------------------------------------

def routes(unit_ids) -> list[tuple[int, int, str]]:
    """(unit, user, role) for notices about those units: the unit's own active clerks, and the
    active supervisors of the nearest unit above it that has any (its supervising department)."""
    from flask_appbuilder.security.sqla.models import Role

    unit_ids = set(unit_ids)
    if not unit_ids:
        return []
    users = db.session.execute(
        select(AppUser.id, AppUser.unit_id, Role.name).join(AppUser.roles)
        .where(AppUser.active.is_(True), AppUser.unit_id.is_not(None), Role.name.in_((CLERK_ROLE, SUPERVISOR_ROLE)))
    ).all()
    clerks, supervisors = {}, {}
    for user_id, unit_id, role in users:
        (clerks if role == CLERK_ROLE else supervisors).setdefault(unit_id, set()).add(user_id)
    units = dict(db.session.execute(select(Unit.id, Unit.path).where(Unit.id.in_(unit_ids))).all())
    sup_paths = dict(db.session.execute(select(Unit.path, Unit.id).where(Unit.id.in_(supervisors))).all())
    out = []
    for unit_id in unit_ids:
        for user_id in sorted(clerks.get(unit_id, ())):
            out.append((unit_id, user_id, CLERK_ROLE))
        path = units.get(unit_id)
        if not path:
            continue
        codes = path.strip("/").split("/")
        for depth in range(len(codes) - 1, 0, -1):  # the parent first, then up to the root
            sup_unit = sup_paths.get("/" + "/".join(codes[:depth]) + "/")
            if sup_unit is not None:
                out.extend((unit_id, user_id, SUPERVISOR_ROLE) for user_id in sorted(supervisors[sup_unit]))
                break
    return out


# ---- the scan ----------------------------------------------------------------------------------------

@dataclass
class ScanResult:
    as_of: dt.date
    updated: int = 0      # deadline rows whose status or days late changed
    flagged: int = 0      # late nodes newly flagged (an alarm raised)
    red: int = 0          # cases newly turned red
    sent: int = 0         # notices newly sent
    by_kind: dict = field(default_factory=dict)
    message_ids: list = field(default_factory=list)
    written: bool = True

    def as_dict(self) -> dict:
        return {"as_of": self.as_of.isoformat(), "flagged": self.flagged, "sent": self.sent, "updated": self.updated,
                "red": self.red, "reminders": self.by_kind.get(KIND_REMINDER, 0),
                "overdue": self.by_kind.get(KIND_OVERDUE, 0), "missing": self.by_kind.get(KIND_MISSING, 0),
                "written": self.written}


def _days_between(later, earlier):
    """SQL: whole days from ``earlier`` to ``later`` (dates), on PostgreSQL and SQLite."""
    if db.engine.dialect.name == "sqlite":
        return cast(func.julianday(later) - func.julianday(earlier), db.Integer)
    return later - earlier


def _insert_ignore(table):
    """INSERT … ON CONFLICT DO NOTHING on either database: the unique keys do the de-duplication."""
    if db.engine.dialect.name == "postgresql":
        from sqlalchemy.dialects.postgresql import insert as dialect_insert
    else:
        from sqlalchemy.dialects.sqlite import insert as dialect_insert
    return dialect_insert(table).on_conflict_do_nothing()


def _text(col):
    return cast(col, SAString)


def scan(as_of: dt.date | None = None, after=None) -> ScanResult:
    """Flag late nodes, raise their alarms, turn their cases red and send the notices — one transaction.
    ``after(case_ids)`` runs before the commit on the cases whose statuses changed.

    Another day than today is only read: the same statements run and are rolled back, so the counts
    say what that day would give and nothing is written (``res.written`` is False)."""
    today = dt.date.today()
    as_of = as_of or today
    dry = as_of != today
    remind_days, missing_after = _settings()
    res = ScanResult(as_of)
    d, c = CaseDeadline.__table__, Case.__table__
    try:
        if db.engine.dialect.name == "postgresql":
            # Two scans at once queue up instead of both doing the same work (the unique keys
            # would keep them from sending twice anyway).
            db.session.execute(text("SELECT pg_advisory_xact_lock(4711001)"))
        # 1. statuses of unreported nodes on as_of
        late_days = _days_between(literal(as_of, db.Date), d.c.due_date)
        new_status = sa_case((late_days > missing_after, DL_MISSING), else_=DL_LATE)
        # A changed status changes what the case counts in (the statistics fact rows): those roots
        # are returned and their fact rows replaced before the commit; days late alone count nowhere.
        fact_roots = set(db.session.execute(
            update(d).where(d.c.submitted_on.is_(None), d.c.due_date < as_of, d.c.status != new_status)
            .values(status=new_status, days_late=late_days).returning(d.c.root_id)
            .execution_options(synchronize_session=False)).scalars())
        res.updated = len(fact_roots) + db.session.execute(
            update(d).where(d.c.submitted_on.is_(None), d.c.due_date < as_of, d.c.status == new_status,
                            d.c.days_late != late_days)
            .values(days_late=late_days).execution_options(synchronize_session=False)
        ).rowcount
        back = db.session.execute(  # a due date not yet passed (a scan "as of" an earlier day)
            update(d).where(d.c.submitted_on.is_(None), d.c.due_date >= as_of, d.c.status != DL_PENDING)
            .values(status=DL_PENDING, days_late=0).returning(d.c.root_id)
            .execution_options(synchronize_session=False)).scalars().all()
        res.updated += len(back)
        fact_roots.update(back)

        open_late = and_(d.c.submitted_on.is_(None), d.c.status.in_(OPEN_LATE))
        # 2. one alarm per late node (per due date)
        node_label = sa_case((d.c.node == 1, NODE_LABELS[1]), else_=NODE_LABELS[2])
        alarm_key = literal("deadline:") + _text(d.c.root_id) + ":" + _text(d.c.node) + ":" + _text(d.c.due_date)
        alarms = select(
            d.c.case_id, d.c.root_id, d.c.unit_id, literal("D"),
            sa_case((d.c.node == 1, "T01"), else_="T02"),
            literal("") + sa_case((d.c.node == 1, "T01"), else_="T02") + " " + node_label + "逾期：应于 "
            + _text(d.c.due_date) + " 前" + node_label + "，至 " + as_of.isoformat() + " 仍未报送",
            literal(ALARM_RAISED), literal(utcnow()), alarm_key,
        ).where(open_late)
        res.flagged = len(db.session.execute(
            _insert_ignore(Alarm.__table__).from_select(
                ["case_id", "root_id", "unit_id", "point", "codes", "message", "status", "raised_at", "dedup_key"],
                alarms).returning(Alarm.__table__.c.id)).all())

        # 3. late cases are red
        reddened = db.session.execute(
            update(c).where(c.c.id.in_(select(d.c.case_id).where(open_late)),
                            or_(c.c.light.is_(None), c.c.light != "红"))
            .values(light="红").returning(c.c.root_id).execution_options(synchronize_session=False)).scalars().all()
        res.red = len(reddened)
        fact_roots.update(reddened)

        # 4. notices
        soon = as_of + dt.timedelta(days=remind_days)
        kinds = {
            KIND_REMINDER: (and_(d.c.submitted_on.is_(None), d.c.status == DL_PENDING,
                                 d.c.due_date >= as_of, d.c.due_date <= soon), (CLERK_ROLE,)),
            KIND_OVERDUE: (open_late, (CLERK_ROLE, SUPERVISOR_ROLE)),
            KIND_MISSING: (and_(d.c.submitted_on.is_(None), d.c.status == DL_MISSING), (CLERK_ROLE, SUPERVISOR_ROLE)),
        }
        units = db.session.execute(
            select(d.c.unit_id).where(or_(*(cond for cond, _ in kinds.values()))).distinct()).scalars().all()
        route_rows = routes(units)
        if route_rows:
            conn = db.session.connection()
            conn.execute(text("DROP TABLE IF EXISTS tmp_notice_route"))
            conn.execute(text("CREATE TEMPORARY TABLE tmp_notice_route (unit_id INTEGER, user_id INTEGER, role VARCHAR(10))"))
            conn.execute(text("INSERT INTO tmp_notice_route (unit_id, user_id, role) VALUES (:u, :user, :r)"),
                         [{"u": u, "user": user, "r": r} for u, user, r in route_rows])
            if db.engine.dialect.name == "postgresql":
                # A new temporary table has no statistics (autovacuum never analyzes one); without them
                # the planner loops over it: 16+ s at 1,000,000 cases instead of well under one.
                conn.execute(text("ANALYZE tmp_notice_route"))
            r = db.table("tmp_notice_route", db.column("unit_id"), db.column("user_id"), db.column("role"))
            who = func.coalesce(c.c.full_name, c.c.case_no)
            for kind, (cond, roles) in kinds.items():
                if kind == KIND_REMINDER:
                    title = literal("") + node_label + "即将到期：" + who + "（" + c.c.case_no + "）"
                    body = (literal("") + "请于 " + _text(d.c.due_date) + " 前完成" + node_label
                            + "（" + literal("期限自 ") + _text(d.c.anchor_date) + " 起算）。")
                else:
                    title = literal("") + node_label + ("逾期" if kind == KIND_OVERDUE else "仍未报送") + "：" + who + "（" + c.c.case_no + "）"
                    body = (literal("") + node_label + "应于 " + _text(d.c.due_date) + " 前完成，至 " + as_of.isoformat()
                            + " 仍未报送，已逾期 " + _text(d.c.days_late) + " 天。请立即报送并说明原因。")
                key = (literal("deadline:") + _text(d.c.root_id) + ":" + _text(d.c.node) + ":" + kind + ":"
                       + _text(d.c.due_date))
                rows = (select(r.c.user_id, d.c.unit_id, literal(kind), title, body,
                               literal("/cases/show/") + _text(d.c.case_id), d.c.case_id, key, literal(utcnow()))
                        .select_from(d.join(c, c.c.id == d.c.case_id).join(r, r.c.unit_id == d.c.unit_id))
                        .where(cond, r.c.role.in_(roles)))
                stmt = _insert_ignore(Message.__table__).from_select(
                    ["recipient_id", "unit_id", "kind", "title", "body", "link", "case_id", "dedup_key", "created_at"], rows)
                ids = db.session.execute(stmt.returning(Message.__table__.c.id)).scalars().all()
                res.message_ids.extend(ids)
                res.by_kind[kind] = len(ids)
                res.sent += len(ids)
            conn.execute(text("DROP TABLE IF EXISTS tmp_notice_route"))
        if dry:
            db.session.rollback()
            res.message_ids = []
            res.written = False
            return res
        if after is not None and fact_roots:
            after(db.session.execute(select(Case.id).where(Case.root_id.in_(fact_roots),
                                                           Case.is_current.is_(True))).scalars().all())
        case_facts.refresh(root_ids=fact_roots)
        db.session.commit()
    except Exception:
        db.session.rollback()
        raise
    return res
