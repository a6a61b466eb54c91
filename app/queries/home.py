"""工作台: the home page of each role — a few scoped COUNTs, and the list behind each number.

Each list is one SELECT (``LISTS[key].select(who)``); its number is the COUNT of that same SELECT and
its page (``/home/list/<key>``) pages through it, so a number and its list cannot disagree. Every
SELECT is inside the user's scope (``app.scoping``) or the user's own rows (messages, signatures).

* 填报员: drafts with their next step, reporting nodes due within ``DUE_SOON_DAYS`` or overdue (days
  left), cases returned for correction (叫停纠偏 / 退回补正) with their deadline, unread messages;
* 签字领导: cases of the signer's unit ready for a signature the signer may give;
* 监督员 (and 查询员): red cases, open alarms, units with late or missing reports, overdue findings (the
  patrol worklist is counted by the view: it is app.supervision's SELECT);
* 系统管理员: the latest run of each scheduled check, failed task runs.
"""
from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy import and_, exists, func, or_, select
from sqlalchemy import case as sa_case

from app.extensions import db
from app.models import MODULE_MODELS, Alarm, Case, CaseDeadline, Message, Signature, TaskRun, Unit
from app.models.case import STATUS_DRAFT
from app.models.deadlines import DL_LATE, DL_MISSING, DL_ON_TIME, NODE_LABELS, RUN_FAILED
from app.models.rules import ALARM_HALTED, ALARM_RAISED
from app.models.supervision import FINDING_OPEN, Finding
from app.scoping import Scope
from app.spec import MODULE_KEYS, module

DUE_SOON_DAYS = 7
PRE_SIGN_MODULES = MODULE_KEYS[:7]  # 任职资格 … 讨论决定 (app.workflow.submission signs after these)
SIGN_LEVELS = 3
DONE = "已完成"
# The scheduled checks an administrator watches (app/tasks), in the order shown.
HEALTH_TASKS = (("deadlines_scan", "时限扫描"), ("rules_daily", "每日规则评估"),
                ("derived_check", "推导状态核对"), ("facts_check", "统计事实表核对"))


@dataclass(frozen=True)
class Who:
    """Whose home page: the user, the user's unit, the scope, and the day it is read on."""

    user_id: int
    unit_id: int | None
    scope: Scope
    today: dt.date


@dataclass(frozen=True)
class HomeList:
    key: str
    section: str  # clerk / signer / supervisor
    title: str
    columns: tuple[tuple[str, str], ...]  # (field of a row, header)
    select: Callable[[Who], object]
    link: str  # a row's page, formatted with the row ("/cases/show/{case_id}")
    empty: str


def _current(who: Who):
    return and_(Case.is_current.is_(True), who.scope.clause(Case.unit_id))


def _unit_name():
    return select(Unit.name).where(Unit.id == Case.unit_id).correlate(Case).scalar_subquery()


# ---- 填报员 ---------------------------------------------------------------------------------------------

def drafts_select(who: Who):
    """Drafts never submitted (version 1); a returned case is on the returned list."""
    return (select(Case.id.label("case_id"), Case.case_no, Case.full_name, Case.created_at,
                   _unit_name().label("unit_name"))
            .where(_current(who), Case.status == STATUS_DRAFT, Case.version_no == 1)
            .order_by(Case.created_at.desc(), Case.id.desc()))


def due_select(who: Who):
    """Reporting nodes not yet reported whose due date is within DUE_SOON_DAYS, or past."""
    soon = who.today + dt.timedelta(days=DUE_SOON_DAYS)
    return (select(CaseDeadline.case_id, Case.case_no, Case.full_name, CaseDeadline.node, CaseDeadline.due_date,
                   CaseDeadline.status)
            .join(Case, Case.id == CaseDeadline.case_id)
            .where(CaseDeadline.submitted_on.is_(None), CaseDeadline.status != DL_ON_TIME,
                   CaseDeadline.due_date <= soon, who.scope.clause(CaseDeadline.unit_id))
            .order_by(CaseDeadline.due_date, CaseDeadline.id))


def _halt_deadline():
    return (select(func.max(Alarm.correction_deadline))
            .where(Alarm.root_id == Case.root_id, Alarm.status == ALARM_HALTED)
            .correlate(Case).scalar_subquery())


def returned_select(who: Who):
    """Current drafts that continue a submitted case sent back (叫停纠偏 or 退回补正), with the halt's
    correction deadline where there is one."""
    deadline = _halt_deadline()
    return (select(Case.id.label("case_id"), Case.case_no, Case.full_name, Case.version_no, Case.return_reason,
                   deadline.label("deadline"))
            .where(_current(who), Case.status == STATUS_DRAFT, Case.version_no > 1)
            .order_by(deadline.is_(None), deadline, Case.id))


def unread_select(who: Who):
    return (select(Message.id.label("message_id"), Message.kind, Message.title, Message.created_at)
            .where(Message.recipient_id == who.user_id, Message.read_at.is_(None))
            .order_by(Message.id.desc()))


# ---- 签字领导 ---------------------------------------------------------------------------------------------

def _active_signatures():
    return (select(func.count(Signature.id)).where(Signature.case_id == Case.id, Signature.voided_at.is_(None))
            .correlate(Case).scalar_subquery())


def to_sign_select(who: Who):
    """Drafts of the signer's own unit with modules 1–7 complete, a level still unsigned, not created by
    the signer and not yet signed by the signer (the conditions app.workflow.submission.sign checks)."""
    complete = [exists().where(MODULE_MODELS[k].case_id == Case.id, MODULE_MODELS[k].state == DONE)
                for k in PRE_SIGN_MODULES]
    mine = exists().where(Signature.case_id == Case.id, Signature.voided_at.is_(None),
                          Signature.signer_id == who.user_id)
    signed = _active_signatures()
    return (select(Case.id.label("case_id"), Case.case_no, Case.full_name, (signed + 1).label("level"))
            .where(_current(who), Case.unit_id == (who.unit_id if who.unit_id is not None else -1),
                   Case.status == STATUS_DRAFT, *complete, ~mine, signed < SIGN_LEVELS,
                   or_(Case.created_by_id.is_(None), Case.created_by_id != who.user_id))
            .order_by(Case.id))


# ---- 监督员 -----------------------------------------------------------------------------------------------

def red_select(who: Who):
    return (select(Case.id.label("case_id"), Case.case_no, Case.full_name, Case.status,
                   _unit_name().label("unit_name"))
            .where(_current(who), Case.light == "红")
            .order_by(Case.id.desc()))


def alarms_select(who: Who):
    unit_name = select(Unit.name).where(Unit.id == Alarm.unit_id).correlate(Alarm).scalar_subquery()
    case_no = select(Case.case_no).where(Case.id == Alarm.case_id).correlate(Alarm).scalar_subquery()
    return (select(Alarm.id.label("alarm_id"), Alarm.codes, Alarm.message, Alarm.raised_at,
                   unit_name.label("unit_name"), case_no.label("case_no"))
            .where(Alarm.status == ALARM_RAISED, who.scope.clause(Alarm.unit_id))
            .order_by(Alarm.raised_at, Alarm.id))


def late_units_select(who: Who):
    """Units with reporting nodes still unreported past their due date: 逾期 and 未报 per unit."""
    late = func.sum(sa_case((CaseDeadline.status == DL_LATE, 1), else_=0))
    missing = func.sum(sa_case((CaseDeadline.status == DL_MISSING, 1), else_=0))
    return (select(Unit.id.label("unit_id"), Unit.code, Unit.name, late.label("late"), missing.label("missing"))
            .join(Unit, Unit.id == CaseDeadline.unit_id)
            .where(CaseDeadline.status.in_((DL_LATE, DL_MISSING)), CaseDeadline.submitted_on.is_(None),
                   who.scope.clause(CaseDeadline.unit_id))
            .group_by(Unit.id, Unit.code, Unit.name)
            .order_by(missing.desc(), late.desc(), Unit.code))


def overdue_findings_select(who: Who):
    unit_name = select(Unit.name).where(Unit.id == Finding.unit_id).correlate(Finding).scalar_subquery()
    return (select(Finding.id.label("finding_id"), Finding.rule_codes, Finding.description,
                   Finding.correction_deadline, unit_name.label("unit_name"))
            .where(Finding.status == FINDING_OPEN, Finding.correction_deadline < who.today,
                   who.scope.clause(Finding.unit_id))
            .order_by(Finding.correction_deadline, Finding.id))


CASE_COLS = (("case_no", "案例编号"), ("full_name", "姓名"))
LISTS: dict[str, HomeList] = {h.key: h for h in (
    HomeList("drafts", "clerk", "草稿", (*CASE_COLS, ("next_step", "下一步"), ("created_at", "创建时间")),
             drafts_select, "/cases/show/{case_id}", "没有未提交的草稿"),
    HomeList("due", "clerk", "临近或超过报送时限", (*CASE_COLS, ("node", "报送节点"), ("due_date", "截止日期"),
                                            ("days_left", "剩余天数")),
             due_select, "/cases/show/{case_id}", "近期没有到期的报送节点"),
    HomeList("returned", "clerk", "被叫停或退回补正", (*CASE_COLS, ("version_no", "版本"),
                                             ("return_reason", "原因"), ("deadline", "整改期限")),
             returned_select, "/cases/show/{case_id}", "没有被叫停或退回的案例"),
    HomeList("unread", "clerk", "未读消息", (("kind", "类别"), ("title", "标题"), ("created_at", "时间")),
             unread_select, "/inbox/show/{message_id}", "没有未读消息"),
    HomeList("to_sign", "signer", "待我签字", (*CASE_COLS, ("level", "待签级别")),
             to_sign_select, "/cases/show/{case_id}", "没有等待您签字的案例"),
    HomeList("red", "supervisor", "红灯案例", (*CASE_COLS, ("unit_name", "单位"), ("status", "状态")),
             red_select, "/cases/show/{case_id}", "没有红灯案例"),
    HomeList("alarms", "supervisor", "待处理报警", (("case_no", "案例编号"), ("unit_name", "单位"),
                                             ("codes", "触发规则"), ("raised_at", "报警时间")),
             alarms_select, "/alarms/show/{alarm_id}", "没有待处理的报警"),
    HomeList("late_units", "supervisor", "逾期或未报的单位", (("name", "单位"), ("late", "逾期"),
                                                     ("missing", "未报")),
             late_units_select, "", "没有逾期或未报的单位"),
    HomeList("overdue_findings", "supervisor", "整改逾期的问题", (("unit_name", "单位"), ("rule_codes", "规则"),
                                                         ("description", "问题"),
                                                         ("correction_deadline", "整改期限")),
             overdue_findings_select, "/findings/show/{finding_id}", "没有超过整改期限的问题"),
)}
SECTION_LISTS = {section: [h.key for h in LISTS.values() if h.section == section]
                 for section in ("clerk", "signer", "supervisor")}


def count(key: str, who: Who) -> int:
    stmt = LISTS[key].select(who)
    return int(db.session.execute(select(func.count()).select_from(stmt.order_by(None).subquery())).scalar() or 0)


def count_select(stmt) -> int:
    """The COUNT of a SELECT given by another layer (the patrol worklist)."""
    return int(db.session.execute(select(func.count()).select_from(stmt.order_by(None).subquery())).scalar() or 0)


def rows(key: str, who: Who, *, offset: int = 0, limit: int = 20) -> list[dict]:
    """One page of a list, each row a dict with its fields and the computed ones (next step, days left)."""
    out = [dict(r._mapping) for r in db.session.execute(LISTS[key].select(who).offset(offset).limit(limit)).all()]
    if key == "drafts":
        steps = next_steps([r["case_id"] for r in out])
        for r in out:
            r["next_step"] = steps.get(r["case_id"], "")
    if key == "due":
        for r in out:
            r["days_left"] = (r["due_date"] - who.today).days
            r["node"] = NODE_LABELS.get(r["node"], r["node"])
    if key == "to_sign":
        for r in out:
            r["level"] = f"第 {r['level']} 级"
    return out


def next_steps(case_ids: list[int]) -> dict[int, str]:
    """A draft's next step: the first of modules 1–7 not complete, else the signatures, else 初次提交
    (one query per module for a page of drafts)."""
    if not case_ids:
        return {}
    done: dict[int, set[str]] = {cid: set() for cid in case_ids}
    for key in PRE_SIGN_MODULES:
        model = MODULE_MODELS[key]
        for (cid,) in db.session.execute(select(model.case_id).where(model.case_id.in_(case_ids),
                                                                     model.state == DONE)).all():
            done[cid].add(key)
    signed = dict(db.session.execute(
        select(Signature.case_id, func.count(Signature.id))
        .where(Signature.case_id.in_(case_ids), Signature.voided_at.is_(None))
        .group_by(Signature.case_id)).all())
    out = {}
    for cid in case_ids:
        missing = [k for k in PRE_SIGN_MODULES if k not in done[cid]]
        if missing:
            out[cid] = f"填写“{module(missing[0]).name}”"
        elif signed.get(cid, 0) < SIGN_LEVELS:
            out[cid] = f"请领导签字（第 {signed.get(cid, 0) + 1} 级）"
        else:
            out[cid] = "确认真实性承诺后初次提交"
    return out


# ---- 系统管理员 -------------------------------------------------------------------------------------------

def health() -> dict:
    """The latest run of each scheduled check, and how many task runs failed (the list behind it is the
    task run list filtered on 失败)."""
    latest_ids = (select(func.max(TaskRun.id)).where(TaskRun.task.in_([t for t, _ in HEALTH_TASKS]))
                  .group_by(TaskRun.task))
    latest = {r.task: r for r in db.session.execute(select(TaskRun).where(TaskRun.id.in_(latest_ids))).scalars()}
    failed = int(db.session.execute(select(func.count(TaskRun.id)).where(TaskRun.status == RUN_FAILED))
                     .scalar() or 0)
    return {"tasks": [(task, label, latest.get(task)) for task, label in HEALTH_TASKS],
            "failed": failed}


__all__ = ["LISTS", "SECTION_LISTS", "Who", "count", "count_select", "health", "rows"]
