"""Commands on custom rules (自定义规则): write a draft version, 试运行 it over existing cases (read-only),
approve it (四眼原则: an administrator other than its author), disable it.

Who may write: a 系统管理员 for everyone or any unit subtree; a supervising department (监督员) only for its
own subtree (the rule's unit must be in its scope). Every write is one transaction and the audit trail
records it (``CustomRuleVersion`` is audited); a refusal raises ``CustomRuleError`` with every problem.
"""
from __future__ import annotations

import datetime as dt
from collections import Counter

from sqlalchemy import func, select

from app.alarms.engine import flat_values, related_facts, unit_facts
from app.enums import ALL_GRADES
from app.errors import JishiError
from app.extensions import db
from app.models import MODULE_MODELS, Batch, Case, Unit
from app.models.audit import utcnow
from app.models.custom_rules import (
    CUSTOM_DISABLED,
    CUSTOM_DRAFT,
    CUSTOM_ENABLED,
    CUSTOM_PENDING,
    CUSTOM_STATUSES,
    CustomRuleVersion,
)
from app.record import custom_items
from app.record.data import read_case
from app.rule_settings import custom_rule, load_calendar
from app.rules import expression
from app.rules.context import Ctx
from app.rules.custom import CATEGORIES, SEVERITIES, code_problem
from app.rules.registry import CATEGORY_NAMES, POINTS, na
from app.scoping import Scope, scope_for
from app.spec import items_by_key

FIELDS = ("code", "title", "category", "severity", "points", "basis", "effective_from", "expression")
MAX_TRY_CASES = 5000
SAMPLES = 3


class CustomRuleError(JishiError):
    def __init__(self, problems: list[str]):
        super().__init__("；".join(problems))
        self.problems = problems


def selection_types() -> tuple:
    return items_by_key()["selection_type"].choices


def versions(code: str) -> list[CustomRuleVersion]:
    return db.session.execute(select(CustomRuleVersion).where(CustomRuleVersion.code == code)
                              .order_by(CustomRuleVersion.version_no)).scalars().all()


def all_versions(scope: Scope | None = None) -> list[CustomRuleVersion]:
    q = select(CustomRuleVersion).order_by(CustomRuleVersion.code, CustomRuleVersion.version_no)
    if scope is not None and scope.kind != "all":
        q = q.where(scope.clause(CustomRuleVersion.unit_id))
    return db.session.execute(q).scalars().all()


def latest(code: str, scope: Scope | None = None) -> CustomRuleVersion:
    """The newest version of a rule the scope may see; refused when there is none."""
    rows = versions(code)
    if not rows or (scope is not None and not _may_write(scope, rows[-1].unit_id)):
        raise CustomRuleError([f"自定义规则“{code}”不存在"])
    return rows[-1]


def _may_write(scope: Scope, unit_id: int | None) -> bool:
    if scope.kind == "all":
        return True
    return scope.kind == "subtree" and unit_id is not None and scope.contains(unit_id)


def _points(value) -> list[str]:
    if isinstance(value, str):
        value = [p.strip() for p in value.replace("，", ",").split(",")]
    return [p for p in (value or []) if p]


def _date(value, problems: list, label: str) -> dt.date | None:
    if isinstance(value, dt.date):
        return value
    try:
        return dt.date.fromisoformat(str(value or ""))
    except ValueError:
        problems.append(f"{label}应为 YYYY-MM-DD 格式的日期，实际为“{value or ''}”")
        return None


def validate(data: dict, scope: Scope, items: dict | None = None) -> tuple[dict, list[str]]:
    """The fields of a draft, cleaned, and every problem (Chinese; the condition's with its position).
    ``items``: key → (kind, label) of custom items not written yet that the condition may read (a rule
    pack's)."""
    problems = []
    if not isinstance(data, dict):
        return {}, ["规则应为 JSON 对象"]
    unknown = sorted(set(data) - set(FIELDS) - {"region_code", "unit", "grades", "selection_types", "note"})
    if unknown:
        problems.append(f"未知字段：{'、'.join(unknown)}")
    missing = [f for f in FIELDS if data.get(f) in (None, "", [])]
    if missing:
        problems.append(f"缺少必填字段：{'、'.join(missing)}")
    code = str(data.get("code") or "").strip()
    out = {"code": code, "title": str(data.get("title") or "").strip(), "basis": str(data.get("basis") or "").strip(),
           "expression": str(data.get("expression") or ""), "note": (str(data.get("note") or "").strip() or None)}
    if code and (why := code_problem(code)):
        problems.append(why)
    if len(out["title"]) > 200:
        problems.append("规则名称不能超过 200 个字符")
    category = str(data.get("category") or "").strip()
    if category and category not in CATEGORIES:
        problems.append(f"类别应为 {'、'.join(f'{k}（{v}）' for k, v in CATEGORY_NAMES.items())} 之一，实际为“{category}”")
    severity = str(data.get("severity") or "").strip()
    if severity and severity not in SEVERITIES:
        problems.append(f"严重程度应为 red（红灯）或 yellow（黄灯），实际为“{severity}”")
    points = _points(data.get("points"))
    bad = [p for p in points if p not in POINTS]
    if bad:
        problems.append(f"评估时点应为 E、S1、S2、D 中的一个或多个，实际有“{'、'.join(map(str, bad))}”")
    out.update(category=category, severity=severity, points=",".join(p for p in POINTS if p in points))
    if data.get("effective_from"):
        out["effective_from"] = _date(data.get("effective_from"), problems, "生效日期")
    region = str(data.get("region_code") or "").strip() or None
    if region and not (len(region) == 6 and region.isdigit()):
        problems.append(f"地区代码应为 6 位数字，实际为“{region}”")
    out["region_code"] = region
    out["unit_id"] = None
    unit_code = str(data.get("unit") or "").strip()
    if unit_code:
        unit = db.session.execute(select(Unit).where(Unit.code == unit_code)).scalar_one_or_none()
        if unit is None or not (scope.kind == "all" or scope.contains(unit.id)):
            problems.append(f"单位“{unit_code}”不存在或不在您的权限范围内")
        else:
            out["unit_id"] = unit.id
    if scope.kind != "all" and out["unit_id"] is None and not (unit_code and problems):
        problems.append("监督部门只能为本单位及下级单位编写规则：请填写适用单位（unit）")
    grades, types = list(data.get("grades") or []), list(data.get("selection_types") or [])
    wrong = [g for g in grades if g not in ALL_GRADES]
    if wrong:
        problems.append(f"职级不存在：{'、'.join(map(str, wrong))}")
    wrong = [t for t in types if t not in selection_types()]
    if wrong:
        problems.append(f"选任方式不存在：{'、'.join(map(str, wrong))}（可选：{'、'.join(selection_types())}）")
    out.update(grades=grades, selection_types=types)
    if out["expression"].strip():
        problems += [f"条件表达式{p}" for p in expression.check(out["expression"], checker_names(scope, items))]
    return out, problems


def checker_names(scope: Scope, items: dict | None = None) -> dict:
    """What a condition written or approved in ``scope`` may read. A withdrawn (停用) custom item, and one
    outside the scope, is to it an unknown key — the same refusal, so nothing tells that it exists
    (app.record.custom_items.visible_definitions decides); ``items``: a rule pack's items not written yet."""
    if scope.kind == "all":
        barred = custom_items.withdrawn_keys()
    else:
        mine = {d.key for d in custom_items.visible_definitions(scope) if d.active}
        barred = frozenset(custom_items.cel_items()) - mine
    names = {k: v for k, v in expression.variables().items() if k not in barred}
    for key, (kind, label) in (items or {}).items():
        names[key] = (expression.KIND_TYPES.get(kind, expression.DYN), label)
    return names


def save_draft(data: dict, user) -> CustomRuleVersion:
    """A new version of the rule (its first, or the next one), saved as a draft. Nothing is in force
    until another administrator approves it."""
    row = save_draft_row(data, user)
    db.session.commit()
    return row


def save_draft_row(data: dict, user) -> CustomRuleVersion:
    """``save_draft`` in the caller's transaction (flushed, not committed)."""
    scope = scope_for(user)
    if scope.kind not in ("all", "subtree"):
        raise CustomRuleError(["只有系统管理员或监督部门可以编写自定义规则"])
    out, problems = validate(data, scope)
    existing = versions(out["code"]) if out.get("code") else []
    if existing and not _may_write(scope, existing[-1].unit_id):
        problems.append(f"自定义规则“{out['code']}”由其他单位编写，您不能修改")
    if problems:
        raise CustomRuleError(problems)
    row = CustomRuleVersion(**out, version_no=(existing[-1].version_no + 1) if existing else 1,
                            status=CUSTOM_DRAFT, author_id=getattr(user, "id", None),
                            author_name=getattr(user, "username", None) or str(user))
    db.session.add(row)
    db.session.flush()
    return row


def request_approval(code: str, user) -> CustomRuleVersion:
    """The author asks for the second administrator's approval (草稿 → 待审批)."""
    row = latest(code, scope_for(user))
    if row.status != CUSTOM_DRAFT:
        raise CustomRuleError([f"规则 {code} 第 {row.version_no} 版当前为“{row.status_label}”，不是草稿"])
    row.status = CUSTOM_PENDING
    db.session.commit()
    return row


def approve(code: str, user) -> CustomRuleVersion:
    """四眼原则: the newest draft or pending version is enabled by someone other than its author who may
    write the rule (a 系统管理员, or for a unit's rule a supervisor of that unit). Recorded in the audit trail."""
    scope = scope_for(user)
    row = latest(code, scope)
    if row.status not in (CUSTOM_DRAFT, CUSTOM_PENDING):
        raise CustomRuleError([f"规则 {code} 的最新版本（第 {row.version_no} 版）为“{row.status_label}”，没有待审批的版本"])
    if not _may_write(scope, row.unit_id):
        raise CustomRuleError(["只有系统管理员（或该单位的监督部门）可以审批启用自定义规则"])
    if (row.author_id is not None and row.author_id == getattr(user, "id", None)) or \
            row.author_name == getattr(user, "username", None):
        raise CustomRuleError([f"四眼原则：规则 {code} 由 {row.author_name} 编写，须由另一位管理员审批启用"])
    # the items or the language may have changed since; the approver reads only what its scope may
    problems = expression.check(row.expression, checker_names(scope))
    if problems:
        raise CustomRuleError([f"条件表达式{p}" for p in problems])
    row.status = CUSTOM_ENABLED
    row.approver_id = getattr(user, "id", None)
    row.approver_name = getattr(user, "username", None) or str(user)
    row.approved_at = utcnow()
    db.session.commit()
    return row


def disable(code: str, user, effective_from: dt.date | None = None, note: str | None = None) -> CustomRuleVersion:
    """Stop a rule from a date on: a new version that says so (earlier cases keep their judgement)."""
    scope = scope_for(user)
    row = latest(code, scope)
    if row.status == CUSTOM_DISABLED:
        raise CustomRuleError([f"规则 {code} 已停用"])
    enabled = [v for v in versions(code) if v.status == CUSTOM_ENABLED]
    if not enabled:
        raise CustomRuleError([f"规则 {code} 尚未启用，无需停用"])
    base = enabled[-1]
    copy = {c.key: getattr(base, c.key) for c in CustomRuleVersion.__table__.columns
            if c.key not in ("id", "version_no", "status", "author_id", "author_name", "approver_id", "approver_name",
                             "approved_at", "created_at", "effective_from", "note")}
    now = utcnow()
    new = CustomRuleVersion(**copy, version_no=row.version_no + 1, status=CUSTOM_DISABLED,
                            effective_from=effective_from or dt.date.today(), note=note or "停用",
                            author_id=getattr(user, "id", None), author_name=user.username,
                            approver_id=getattr(user, "id", None), approver_name=user.username, approved_at=now)
    db.session.add(new)
    db.session.commit()
    return new


# ---- 试运行 ----------------------------------------------------------------------------------------

def _case_query(date_from, date_to, unit: Unit | None, scope: Scope):
    motion = MODULE_MODELS["motion"]
    judged = func.coalesce(Batch.decision_date, motion.motion_meeting_date)
    q = (select(Case).outerjoin(Batch, Batch.id == Case.batch_id).outerjoin(motion, motion.case_id == Case.id)
         .where(Case.is_current.is_(True), scope.clause(Case.unit_id)).order_by(Case.id))
    if date_from is not None:
        q = q.where(judged >= date_from)
    if date_to is not None:
        q = q.where(judged <= date_to)
    if unit is not None:
        q = q.join(Unit, Unit.id == Case.unit_id).where(Unit.path.startswith(unit.path, autoescape=True))
    return q


def try_rule(code: str, user=None, *, date_from: dt.date | None = None, date_to: dt.date | None = None,
             unit_code: str | None = None, today: dt.date | None = None) -> dict:
    """试运行: the newest version of the rule (a draft too) over the existing current cases of a period
    (by their judged-on date) and a unit subtree, within the user's scope. Read-only: nothing is
    written, nothing is left in the session."""
    scope = scope_for(user) if user is not None else Scope("all")
    row = latest(code, scope if user is not None else None)
    if date_from and date_to and date_from > date_to:
        raise CustomRuleError(["开始日期不能晚于结束日期"])
    unit = None
    if unit_code:
        unit = db.session.execute(select(Unit).where(Unit.code == unit_code)).scalar_one_or_none()
        if unit is None or not scope.contains(unit.id):
            raise CustomRuleError([f"单位“{unit_code}”不存在或不在您的权限范围内"])
    rule = custom_rule(row)
    today = today or dt.date.today()
    calendar = load_calendar()
    counts: Counter = Counter()
    fired, samples = [], {"pass": [], "fail": [], "na": []}
    with db.session.no_autoflush:
        query = _case_query(date_from, date_to, unit, scope).limit(MAX_TRY_CASES + 1)
        cases = db.session.execute(query).scalars().all()
        for case in cases[:MAX_TRY_CASES]:
            flat = flat_values(read_case(case))
            motion = case.module_row("motion")
            ctx = Ctx(values=flat, as_of=today, unit=unit_facts(case.unit),
                      target_unit=unit_facts(motion.target_unit if motion is not None else None),
                      calendar=calendar, related=related_facts(case, flat))
            if rule.effective_from is not None and ctx.judge_date < rule.effective_from:
                outcome = na(f"评判日期早于本版本的生效日期 {rule.effective_from.isoformat()}，不按本版本评判")
            else:
                outcome = rule.run(ctx)
            counts[outcome.status] += 1
            entry = {"case_id": case.id, "case_no": case.case_no, "unit": case.unit.code, "unit_name": case.unit.name,
                     "judged_on": ctx.judge_date.isoformat(), "outcome": outcome.status, "message": outcome.message}
            if outcome.status == "fail":
                fired.append(entry)
            if len(samples[outcome.status]) < SAMPLES:
                samples[outcome.status].append(entry)
    db.session.rollback()  # reading only
    return {"code": rule.code, "version": rule.version_no, "status": CUSTOM_STATUSES.get(row.status, row.status),
            "title": rule.title, "checked": sum(counts.values()), "would_fire": counts["fail"],
            "passed": counts["pass"], "not_applicable": counts["na"], "truncated": len(cases) > MAX_TRY_CASES,
            "cases": fired, "samples": samples,
            "from": date_from.isoformat() if date_from else None, "to": date_to.isoformat() if date_to else None,
            "unit": unit_code or None}
