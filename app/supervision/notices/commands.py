"""Notices written: the checks, ``draft``, ``update_draft``, ``recipients`` and ``issue``, and the lock on an
issued notice (``init_notice_lock``, registered by ``create_app``)."""
from __future__ import annotations

import copy
import datetime as dt
import logging

from flask_appbuilder.security.sqla.models import Role
from sqlalchemy import inspect, select
from sqlalchemy.orm import Session

from app.dates import official_date
from app.display import prose_date
from app.deadlines.due import _insert_ignore
from app.errors import JishiError
from app.extensions import db, listen_on_sessions
from app.infra.notify import deliver
from app.models import AppUser, Unit
from app.models.audit import utcnow
from app.models.deadlines import Message
from app.models.supervision import NOTICE_DRAFT, NOTICE_ISSUED, Notice, NoticeCase
from app.supervision.notices.content import DEFAULT_CORRECTION_DAYS, KIND_WRONG, compose
from app.workflow.submission import display_name

log = logging.getLogger(__name__)

KIND_NOTICE = "通报"  # the inbox message kind
SUPERVISOR_ROLE, CLERK_ROLE = "监督员", "填报员"
UNIT_ROLES = (CLERK_ROLE, "签字领导")  # a named unit's clerks and leaders

MIN_CORRECTION_DAYS, MAX_CORRECTION_DAYS = 1, 90
MAX_PERIOD_DAYS = 366
MIN_DAY, MAX_DAY = dt.date(1990, 1, 1), dt.date(2100, 12, 31)
MAX_TEXT = 20000
EDITABLE = ("title", "number", "intro", "requirements", "next_steps", "correction_deadline", "correction_days")


class NoticeError(JishiError, ValueError):
    """Problems, in Chinese, all at once."""

    def __init__(self, problems):
        self.problems = list(problems)
        self.errors = self.problems  # what the views' write handlers read
        super().__init__("；".join(self.problems))


class NoticeLocked(NoticeError):
    pass


def _fail_if(problems) -> None:
    if problems:
        raise NoticeError(problems)


# ---- checks ---------------------------------------------------------------------------------------------

def _roles(user) -> set[str]:
    return {r.name for r in getattr(user, "roles", None) or []}


def is_issuer_supervisor(user, unit_id) -> bool:
    """A supervisor (监督员) of the issuing department itself."""
    return (user is not None and getattr(user, "is_active", True) and SUPERVISOR_ROLE in _roles(user)
            and getattr(user, "unit_id", None) is not None and user.unit_id == unit_id)


def _issuer_problem(user, unit: Unit | None) -> list[str]:
    if user is None:
        return ["请指明操作人（发文单位的监督员）"]
    if unit is None or not is_issuer_supervisor(user, unit.id):
        name = f"（{unit.name}）" if unit is not None else ""
        return [f"只有发文单位{name}的监督员可以起草、修改和印发通报"]
    return []


def _period_problems(f, t) -> list[str]:
    if not isinstance(f, dt.date) or not isinstance(t, dt.date):
        return ["请填写有效的通报期间（YYYY-MM-DD）"]
    if not (MIN_DAY <= f <= MAX_DAY and MIN_DAY <= t <= MAX_DAY):
        return [f"通报期间应在 {MIN_DAY.year}–{MAX_DAY.year} 年之间"]
    if f > t:
        return ["通报期间的起始日期不能晚于截止日期"]
    if (t - f).days + 1 > MAX_PERIOD_DAYS:
        return [f"通报期间不能超过 {MAX_PERIOD_DAYS} 天"]
    return []


def _days_problems(days) -> list[str]:
    if isinstance(days, bool) or not isinstance(days, int) or not MIN_CORRECTION_DAYS <= days <= MAX_CORRECTION_DAYS:
        return [f"整改天数应为 {MIN_CORRECTION_DAYS}–{MAX_CORRECTION_DAYS} 的整数（通常 10–30 天）"]
    return []


def _number_problems(unit_id: int, number: str | None, own_id: int | None) -> list[str]:
    if not number:
        return []
    if len(number) > 60:
        return ["文号不能超过 60 个字符"]
    q = select(Notice.id).where(Notice.unit_id == unit_id, Notice.number == number)
    if own_id is not None:
        q = q.where(Notice.id != own_id)
    other = db.session.execute(q.limit(1)).scalar()
    return [f"文号“{number}”已被本单位的通报 #{other} 使用"] if other else []


# ---- writes -------------------------------------------------------------------------------------------

def _notice_cases(notice: Notice, content: dict) -> list[NoticeCase]:
    out = []
    for r in content["late"]["rows"]:
        detail = (f"{r['node_label']}应于{prose_date(r['due_date'])}前报送，"
                  + (f"{prose_date(r['submitted_on'])}报送，逾期 {r['days_late']} 天" if r["submitted_on"]
                     else f"至今未报，已逾期 {r['days_late']} 天"))
        out.append(NoticeCase(notice_id=notice.id, case_id=r["case_id"], root_id=r["root_id"], unit_id=r["unit_id"],
                              kind=r["kind"], detail=detail))
    merged: dict = {}
    for g in content["wrong"]["groups"]:
        for r in g["rows"]:
            if r["case_id"] is None:
                continue  # e.g. an appointment never reported: no case to name
            key = (r["source"], r["alarm_id"] or r["finding_id"])
            text = f"{r['code']} {r['title']}：{r['what']}".strip()
            if key in merged:
                merged[key]["detail"] += "；" + text
            else:
                merged[key] = {"case_id": r["case_id"], "root_id": r["root_id"] or r["case_id"],
                               "unit_id": r["unit_id"], "detail": text, "kind": r.get("kind", KIND_WRONG),
                               "sort": (r["unit_code"], r["case_no"], key)}
    for v in sorted(merged.values(), key=lambda v: v["sort"]):
        out.append(NoticeCase(notice_id=notice.id, case_id=v["case_id"], root_id=v["root_id"], unit_id=v["unit_id"],
                              kind=v["kind"], detail=v["detail"]))
    return out


def draft(unit: Unit, period_from: dt.date, period_to: dt.date, user, *, number: str | None = None,
          correction_days: int = DEFAULT_CORRECTION_DAYS) -> Notice:
    """Draft (草稿) and store a notice of ``unit`` for the period, with its case list."""
    number = (number or "").strip() or None
    problems = _issuer_problem(user, unit) + _period_problems(period_from, period_to) + _days_problems(correction_days)
    if unit is not None:
        problems += _number_problems(unit.id, number, None)
    _fail_if(problems)
    try:
        content = compose(unit, period_from, period_to, number=number, correction_days=correction_days)
        notice = Notice(unit_id=unit.id, number=number, title=content["header"]["title"], period_from=period_from,
                        period_to=period_to, status=NOTICE_DRAFT, content=content,
                        previous_id=(content["previous"] or {}).get("notice_id"),
                        created_by_name=display_name(user), created_at=utcnow())
        db.session.add(notice)
        db.session.flush()
        db.session.add_all(_notice_cases(notice, content))
        db.session.commit()
    except Exception:
        db.session.rollback()
        raise
    return notice


def _as_date(value, problems: list[str]):
    if value in (None, ""):
        return None
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    try:
        return dt.date.fromisoformat(str(value).strip())
    except ValueError:
        problems.append(f"整改期限“{value}”不是有效日期（YYYY-MM-DD）")
        return None


def update_draft(notice: Notice, user, **editable) -> Notice:
    """Edit a draft: title, number (文号), intro, requirements, next_steps, correction_deadline,
    correction_days. Only while 草稿, only by the issuing department's supervisors."""
    problems = []
    if notice.status != NOTICE_DRAFT:
        problems.append(f"通报当前状态为“{notice.status}”，已印发的通报不能修改")
    problems += _issuer_problem(user, notice.unit)
    unknown = sorted(set(editable) - set(EDITABLE))
    if unknown:
        problems.append(f"不能修改：{'、'.join(unknown)}（可修改：标题、文号、导语、整改要求、下一步工作、整改期限、整改天数）")
    _fail_if(problems)
    content = copy.deepcopy(notice.content or {})
    texts = content.setdefault("texts", {})
    header = content.setdefault("header", {})
    req = content.setdefault("requirements", {})
    changes = {}
    if "title" in editable:
        title = (editable["title"] or "").strip()
        if not title:
            problems.append("请填写通报标题")
        elif len(title) > 200:
            problems.append("通报标题不能超过 200 个字符")
        changes["title"] = title
    if "number" in editable:
        number = (editable["number"] or "").strip() or None
        problems += _number_problems(notice.unit_id, number, notice.id)
        changes["number"] = number
    for key, label in (("intro", "导语"), ("requirements", "整改要求"), ("next_steps", "下一步工作")):
        if key in editable:
            value = editable[key]
            if value is not None and not isinstance(value, str):
                problems.append(f"{label}应为文本")
                continue
            value = (value or "").replace("\r\n", "\n").strip()
            if len(value) > MAX_TEXT:
                problems.append(f"{label}不能超过 {MAX_TEXT} 个字符")
            texts[key] = value
    if "correction_days" in editable:
        days = editable["correction_days"]
        if isinstance(days, str) and days.strip().isdigit():
            days = int(days.strip())
        problems += _days_problems(days)
        req["correction_days"] = days
    if "correction_deadline" in editable:
        deadline = _as_date(editable["correction_deadline"], problems)
        if deadline is not None and deadline <= dt.date.today():
            problems.append("整改期限应晚于今天")
        changes["correction_deadline"] = deadline
        req["correction_deadline"] = deadline.isoformat() if deadline else None
    _fail_if(problems)
    try:
        for key, value in changes.items():
            setattr(notice, key, value)
        header["title"] = notice.title
        header["number"] = notice.number or ""
        notice.content = content
        db.session.commit()
    except Exception:
        db.session.rollback()
        raise
    return notice


def recipients(notice: Notice) -> list[tuple[int, int, str]]:
    """(user, unit, role) the issued notice goes to: the active clerks and leaders (签字领导) of every unit
    named, and the active supervisors of the issuing department; one entry per user."""
    named = [u for u in (notice.content or {}).get("named_unit_ids") or [] if u is not None]
    out: dict[int, tuple[int, int, str]] = {}
    if named:
        for user_id, unit_id in db.session.execute(
                select(AppUser.id, AppUser.unit_id).join(AppUser.roles)
                .where(AppUser.active.is_(True), AppUser.unit_id.in_(named), Role.name.in_(UNIT_ROLES))
                .order_by(AppUser.id)).all():
            out.setdefault(user_id, (user_id, unit_id, CLERK_ROLE))  # the unit's copy, whichever of its roles
    for (user_id,) in db.session.execute(
            select(AppUser.id).join(AppUser.roles)
            .where(AppUser.active.is_(True), AppUser.unit_id == notice.unit_id, Role.name == SUPERVISOR_ROLE)
            .order_by(AppUser.id)).all():
        out.setdefault(user_id, (user_id, notice.unit_id, SUPERVISOR_ROLE))
    return sorted(out.values())


def _message_rows(notice: Notice) -> list[dict]:
    content = notice.content or {}
    per_unit = {u["unit_id"]: u for u in (content.get("requirements") or {}).get("units") or []}
    deadline = official_date(notice.correction_deadline) if notice.correction_deadline else "整改期限"
    doc = f"《{notice.title}》" + (f"（{notice.number}）" if notice.number else "")
    issuer = (content.get("header") or {}).get("issuer", "")
    now = utcnow()
    rows = []
    for user_id, unit_id, role in recipients(notice):
        if role == CLERK_ROLE:
            u = per_unit.get(unit_id, {})
            parts = [f"{label} {u.get(key, 0)} 件" for key, label in
                     (("late", "逾期报送"), ("missing", "未报"), ("wrong", "错报"), ("previous", "上期问题未整改"))
                     if u.get(key)]
            body = (f"{issuer}印发{doc}，贵单位被列入通报（{'、'.join(parts) or '见通报'}）。"
                    f"请于{deadline}前完成整改，并报送书面整改报告。")
        else:
            body = (f"{doc}已印发，点名 {len(per_unit)} 个单位，整改期限 {deadline}。")
        rows.append({"recipient_id": user_id, "unit_id": unit_id, "kind": KIND_NOTICE,
                     "title": f"通报：{notice.title}"[:200], "body": body,
                     "link": f"/notices/received/{notice.id}", "case_id": None,
                     "dedup_key": f"notice:{notice.id}:{user_id}", "created_at": now})
    return rows


def issue(notice: Notice, user, *, on: dt.date | None = None) -> list[int]:
    """印发: lock the notice and send it to the inbox of the units named and of the issuing department's
    supervisors (once each, whatever is re-run); e-mail copies go out after the commit. Returns the new
    inbox message ids."""
    on = on or dt.date.today()
    problems = []
    if notice.status != NOTICE_DRAFT:
        problems.append(f"通报当前状态为“{notice.status}”，不能再次印发")
    problems += _issuer_problem(user, notice.unit)
    if not (notice.number or "").strip():
        problems.append("请先填写文号再印发")
    if not (notice.title or "").strip():
        problems.append("请先填写通报标题再印发")
    content = copy.deepcopy(notice.content or {})
    req = content.setdefault("requirements", {})
    days = req.get("correction_days", DEFAULT_CORRECTION_DAYS)
    deadline = notice.correction_deadline
    if deadline is None:
        problems += _days_problems(days)
        if not _days_problems(days):
            deadline = on + dt.timedelta(days=days)
    elif deadline <= on:
        problems.append(f"整改期限（{deadline.isoformat()}）应晚于印发日期（{on.isoformat()}）")
    _fail_if(problems)
    try:
        req["correction_deadline"] = deadline.isoformat()
        content.setdefault("header", {})["issued_on"] = on.isoformat()
        content["header"]["number"] = notice.number
        notice.content = content
        notice.correction_deadline = deadline
        notice.status = NOTICE_ISSUED
        notice.issued_at = utcnow()
        notice.issued_by_name = display_name(user)
        db.session.flush()
        rows = _message_rows(notice)
        ids = []
        if rows:
            ids = list(db.session.execute(
                _insert_ignore(Message.__table__).values(rows).returning(Message.__table__.c.id)).scalars())
        db.session.commit()
    except Exception:
        db.session.rollback()
        raise
    try:
        deliver(ids)
    except Exception:  # noqa: BLE001 - the inbox copies stand; a mail server's failure is logged
        db.session.rollback()
        log.exception("通报 %s 的邮件副本发送失败", notice.id)
    return ids


def named_unit_ids(notice: Notice) -> set[int]:
    return {u for u in (notice.content or {}).get("named_unit_ids") or [] if u is not None}


# ---- the lock --------------------------------------------------------------------------------------

def _persisted_status(session: Session, obj: Notice) -> str | None:
    """The status the database holds, read with a row lock (PostgreSQL): a change racing an issue waits for
    it and then sees 已印发."""
    state = inspect(obj)
    if state.transient or state.pending or obj.id is None:
        return None
    return session.execute(select(Notice.status).where(Notice.id == obj.id).with_for_update()).scalar()


def _parent_status(session: Session, obj: NoticeCase) -> str | None:
    notice = obj.notice if "notice" in inspect(obj).dict else None
    if notice is None and obj.notice_id is not None:
        notice = session.get(Notice, obj.notice_id)
    return _persisted_status(session, notice) if notice is not None else None


def _lock_before_flush(session: Session, flush_context, instances) -> None:
    problems = []
    with session.no_autoflush:
        for obj in list(session.dirty) + list(session.deleted):
            if isinstance(obj, Notice):
                changed = obj in session.deleted or session.is_modified(obj, include_collections=False)
                if changed and _persisted_status(session, obj) == NOTICE_ISSUED:
                    problems.append(f"通报“{obj.title}”已印发，不能修改或删除")
            elif isinstance(obj, NoticeCase):
                changed = obj in session.deleted or session.is_modified(obj, include_collections=False)
                if changed and _parent_status(session, obj) == NOTICE_ISSUED:
                    problems.append("已印发通报的案例清单不能修改或删除")
        for obj in session.new:
            if isinstance(obj, NoticeCase) and _parent_status(session, obj) == NOTICE_ISSUED:
                problems.append("已印发通报的案例清单不能增加案例")
    if problems:
        raise NoticeLocked(sorted(set(problems)))


def init_notice_lock() -> None:
    """Register the lock (idempotent)."""
    listen_on_sessions(("before_flush", _lock_before_flush))