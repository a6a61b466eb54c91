"""网上巡查 and 抽查: the review worklist and its actions, reproducible spot checks, findings.

Every command checks that the user supervises the case's unit, collects every problem, and owns its
transaction (one commit, or a rollback and nothing written).
"""
from __future__ import annotations

import datetime as dt
import math
import random
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

from sqlalchemy import exists, func, select

from app.alarms import derived
from app.dates import official_date
from app.errors import JishiError
from app.extensions import db
from app.infra.notify import deliver_after_commit, post_to_unit
from app.models import Alarm, Batch, Case, Submission, Unit
from app.models.audit import utcnow
from app.models.case import STATUS_FIRST, STATUS_SECOND
from app.models.rules import ALARM_RAISED
from app.models.supervision import (
    FINDING_CLOSED,
    FINDING_DONE,
    FINDING_OPEN,
    REVIEW_RESULTS,
    Finding,
    Review,
    SpotCheck,
    SpotCheckItem,
)
from app.record.data import write_values
from app.record.lock import lock_case
from app.rule_settings import rules_by_code
from app.scoping import Scope, scope_for
from app.workflow.guard import workflow_write
from app.workflow.submission import return_for_correction

SUBMITTED = (STATUS_FIRST, STATUS_SECOND)
MAX_SEED = 64  # spot_check.seed
MAX_COUNT = 100_000
SUPERVISOR_ROLES = {"监督员", "系统管理员"}


class PatrolError(JishiError):
    def __init__(self, problems: list[str]):
        super().__init__("；".join(problems))
        self.problems = problems


def _name(user) -> str:
    full = " ".join(x for x in (getattr(user, "first_name", ""), getattr(user, "last_name", "")) if x).strip()
    return full or getattr(user, "username", "") or "系统"


def _supervises(user, unit_id) -> bool:
    roles = {r.name for r in getattr(user, "roles", [])}
    return bool(roles & SUPERVISOR_ROLES) and scope_for(user).contains(unit_id)


def _fail_if(problems: list[str]) -> None:
    if problems:
        raise PatrolError(problems)


# ---- the worklist and reviews -------------------------------------------------------------------------

def worklist_select(scope: Scope):
    """Submitted current cases not reviewed since their latest submission, oldest submission first."""
    latest = (select(Submission.case_id, func.max(Submission.submitted_at).label("at"))
              .where(scope.clause(Submission.unit_id))  # only the scope's submissions are grouped
              .group_by(Submission.case_id).subquery())
    reviewed = exists().where(Review.case_id == Case.id, Review.at >= latest.c.at)
    return (select(Case, latest.c.at.label("submitted_at"))
            .join(latest, latest.c.case_id == Case.id)
            .where(Case.is_current.is_(True), Case.status.in_(SUBMITTED), scope.clause(Case.unit_id), ~reviewed)
            .order_by(latest.c.at, Case.id))


def review(case: Case, user, result: str, reason: str) -> Review:
    """通过 / 黄灯提示 / 红灯预警 / 退回补正, with a reason. 红灯预警 raises an alarm at the supervising
    department; 退回补正 sends the case back (a new version). The result is written to the case's
    submission module (组织部门审核结论)."""
    try:
        lock_case(case)  # the state checked below is the committed one: a 退回补正 in between is seen
    except Exception:
        db.session.rollback()
        raise
    reason = (reason or "").strip()
    problems = []
    if result not in REVIEW_RESULTS:
        problems.append(f"审核结论应为：{'、'.join(REVIEW_RESULTS)}")
    if not reason:
        problems.append("请写明审核意见（理由）")
    if not _supervises(user, case.unit_id):
        problems.append("只有该单位的监督部门可以审核此案例")
    if case.status not in SUBMITTED or not case.is_current:
        problems.append(f"案例当前状态为“{case.status}”，只有已提交的现行版本可以审核")
    if problems:
        db.session.rollback()  # releases the case lock
    _fail_if(problems)
    try:
        rev = Review(case_id=case.id, root_id=case.root_id or case.id, unit_id=case.unit_id, result=result,
                     reason=reason, reviewer_id=user.id, reviewer_name=_name(user), at=utcnow())
        db.session.add(rev)
        with workflow_write():
            write_values(case, "submission", {"review_result": result})
            if result == "红灯预警":
                db.session.flush()
                db.session.add(Alarm(case_id=case.id, root_id=case.root_id, unit_id=case.unit_id, point="R",
                                     codes="巡查", message=f"网上巡查红灯预警：{reason}", status=ALARM_RAISED,
                                     dedup_key=f"review:{rev.id}"))
            db.session.flush()
            derived.derive(case)  # the review and its alarm count in the light
        message_ids = []
        if result == "退回补正":
            return_for_correction(case, user, f"网上巡查退回补正：{reason}", told=f"网上巡查：{reason}")  # commits, with the review
        else:
            if result == "黄灯提示":
                message_ids = _tell_unit(case, user, "黄灯提示", f"网上巡查对案例 {_who(case)} 作出黄灯提示：{reason}。"
                                         "请核查有关情况，需要补正的按程序办理。", f"review:{rev.id}")
            elif result == "红灯预警":  # the unit must hear of the red light the supervisors now see
                message_ids = _tell_unit(case, user, "红灯预警", f"网上巡查对案例 {_who(case)} 作出红灯预警：{reason}。"
                                         "整改销号前暂停办理任职手续，请按监督部门要求整改并报告。", f"review:{rev.id}")
            db.session.commit()
    except Exception:
        db.session.rollback()
        raise
    deliver_after_commit(message_ids)
    return rev


def _who(case: Case) -> str:
    return f"{case.full_name}（{case.case_no}）" if case.full_name else case.case_no


def _tell_unit(case: Case, user, kind: str, body: str, dedup: str) -> list[int]:
    """The case's unit (its clerks and leaders) hears of a supervisor's decision, in the same transaction."""
    unit = getattr(user, "unit", None)
    by = f"{unit.name}：" if unit is not None else ""
    return post_to_unit(case.unit_id, kind=kind, title=f"{kind}：{_who(case)}", body=by + body,
                        link=f"/cases/show/{case.id}", case_id=case.id, dedup=dedup)


# ---- 抽查 -----------------------------------------------------------------------------------------------

@dataclass
class Draw:
    population: int
    by_unit: dict  # unit_id → [case ids drawn]

    @property
    def case_ids(self) -> list[int]:
        return [cid for ids in self.by_unit.values() for cid in ids]


def parse_rate(rate) -> Decimal:
    """The rate as a normalised decimal (0.10 → 0.1): at most six decimal places, so that its text
    fits the stored column and draws the same way when read back."""
    problem = f"抽查比例“{str(rate)[:20]}”无效，应为 0 到 1 之间、最多 6 位小数的数（如 0.1）"
    try:
        value = Decimal(str(rate))
    except (InvalidOperation, ValueError):
        raise PatrolError([problem]) from None
    # NaN would raise on comparison; more places than stored would not draw the same way again.
    if not value.is_finite() or not Decimal(0) < value <= Decimal(1) or value.normalize().as_tuple().exponent < -6:
        raise PatrolError([problem])
    return value.normalize()


def population(unit: Unit, scope: Scope, period_from=None, period_to=None) -> dict[int, list[int]]:
    """Submitted current cases of the unit's subtree (in the period, by decision date), per unit, by id."""
    q = (select(Case.unit_id, Case.id).outerjoin(Batch, Batch.id == Case.batch_id)
         .where(Case.is_current.is_(True), Case.status.in_(SUBMITTED), scope.clause(Case.unit_id),
                Scope("subtree", unit.id, unit.path).clause(Case.unit_id)))
    if period_from:
        q = q.where(Batch.decision_date >= period_from)
    if period_to:
        q = q.where(Batch.decision_date <= period_to)
    out: dict[int, list[int]] = {}
    for unit_id, case_id in db.session.execute(q.order_by(Case.unit_id, Case.id)).all():
        out.setdefault(unit_id, []).append(case_id)
    return out


def draw(unit: Unit, scope: Scope, *, seed: str, rate=None, count: int | None = None,
         period_from=None, period_to=None) -> Draw:
    """Draw per unit: ``count`` cases, or ``ceil(rate × n)``. Each unit's draw comes from its own
    generator seeded with the seed and the unit's code, over its case ids in order — so the same
    seed over the same cases gives the same draw, whatever happens in other units."""
    if (rate is None) == (count is None):
        raise PatrolError(["请指定抽查比例（--rate）或每单位抽查件数（--count）之一"])
    if not str(seed or "").strip():
        raise PatrolError(["请指定随机种子（seed），以便复现抽查结果"])
    if len(str(seed)) > MAX_SEED:
        raise PatrolError([f"随机种子不能超过 {MAX_SEED} 个字符"])
    if count is not None and not 1 <= count <= MAX_COUNT:
        raise PatrolError([f"每单位抽查件数应为 1 至 {MAX_COUNT} 之间的整数"])
    r = parse_rate(rate) if rate is not None else None
    pop = population(unit, scope, period_from, period_to)
    codes = dict(db.session.execute(select(Unit.id, Unit.code).where(Unit.id.in_(pop))).all()) if pop else {}
    by_unit = {}
    for unit_id in sorted(pop, key=lambda u: codes.get(u, "")):
        ids = pop[unit_id]
        k = min(len(ids), count) if count is not None else min(len(ids), math.ceil(r * len(ids)))
        rng = random.Random(f"{seed}:{codes.get(unit_id, unit_id)}")
        by_unit[unit_id] = sorted(rng.sample(ids, k))
    return Draw(sum(len(v) for v in pop.values()), by_unit)


def record_spot_check(unit: Unit, user, *, seed: str, rate=None, count=None, period_from=None, period_to=None,
                      title: str | None = None) -> SpotCheck:
    """Draw and keep the draw (seed, parameters, population, the cases)."""
    if not _supervises(user, unit.id):
        raise PatrolError(["只有该单位的监督部门可以抽查"])
    result = draw(unit, scope_for(user), seed=seed, rate=rate, count=count, period_from=period_from,
                  period_to=period_to)
    if not result.case_ids:
        raise PatrolError(["该范围内没有已提交的案例可供抽查"])
    how = f"每单位 {count} 件" if count is not None else f"比例 {parse_rate(rate)}"
    try:
        check = SpotCheck(unit_id=unit.id, title=title or f"{unit.name}抽查（{how}，种子 {seed}）", seed=str(seed),
                          method="count" if count is not None else "rate",
                          rate=str(parse_rate(rate)) if rate is not None else None, count=count,
                          period_from=period_from, period_to=period_to, population=result.population,
                          created_by_id=user.id, created_by_name=_name(user))
        db.session.add(check)
        db.session.flush()
        roots = dict(db.session.execute(select(Case.id, Case.root_id).where(Case.id.in_(result.case_ids))).all())
        position = 0
        for unit_id, ids in result.by_unit.items():
            for case_id in ids:
                position += 1
                db.session.add(SpotCheckItem(spot_check_id=check.id, case_id=case_id, root_id=roots[case_id] or case_id,
                                             unit_id=unit_id, position=position))
        db.session.commit()
        return check
    except Exception:
        db.session.rollback()
        raise


def redraw(check: SpotCheck) -> Draw:
    """The same draw again from the stored seed and parameters (to show it is reproducible)."""
    return draw(check.unit, Scope("all"), seed=check.seed, rate=check.rate, count=check.count,
                period_from=check.period_from, period_to=check.period_to)


# ---- findings -------------------------------------------------------------------------------------------

def add_finding(case: Case, user, *, rule_codes: str, description: str, deadline: dt.date,
                spot_check: SpotCheck | None = None, today: dt.date | None = None) -> Finding:
    today = today or dt.date.today()
    codes = [c.strip().upper() for c in (rule_codes or "").replace("，", ",").split(",") if c.strip()]
    problems = []
    if not _supervises(user, case.unit_id):
        problems.append("只有该单位的监督部门可以记录问题")
    if not codes:
        problems.append("请填写问题对应的规则编号（如 P27）")
    codes = list(dict.fromkeys(codes))
    unknown = [c for c in codes if c not in rules_by_code()]
    if len(",".join(codes)) > 200:  # finding.rule_codes
        problems.append("规则编号过多：一条问题最多关联约 40 条规则，请拆分记录")
    if unknown:
        problems.append(f"规则编号不存在：{'、'.join(unknown)}")
    if not (description or "").strip():
        problems.append("请描述发现的问题")
    if deadline is None or deadline <= today:
        problems.append("整改期限应晚于今天")
    if spot_check is not None and not any(i.case_id == case.id for i in spot_check.items):
        problems.append("该案例不在此次抽查范围内")
    _fail_if(problems)
    try:
        finding = Finding(spot_check_id=spot_check.id if spot_check else None, case_id=case.id,
                          root_id=case.root_id or case.id, unit_id=case.unit_id, rule_codes=",".join(codes),
                          description=description.strip(), correction_deadline=deadline, status=FINDING_OPEN,
                          created_by_id=user.id, created_by_name=_name(user))
        db.session.add(finding)
        db.session.flush()
        source = f"（抽查：{spot_check.title}）" if spot_check is not None else ""
        message_ids = _tell_unit(case, user, "巡查发现", f"发现案例 {_who(case)} 存在问题{source}：{finding.description}"
                                 f"（规则 {'、'.join(codes)}）。请于{official_date(deadline)}前完成整改，并在“问题整改”中报告整改情况。",
                                 f"finding:{finding.id}")
        db.session.commit()
    except Exception:
        db.session.rollback()
        raise
    deliver_after_commit(message_ids)
    return finding


def report_corrected(finding: Finding, user, note: str) -> None:
    """The unit reports the correction done (its clerk), with a note."""
    problems = []
    roles = {r.name for r in getattr(user, "roles", [])}
    if not (("填报员" in roles and user.unit_id == finding.unit_id) or _supervises(user, finding.unit_id)):
        problems.append("只有本单位填报员或监督部门可以报告整改情况")
    if finding.status != FINDING_OPEN:
        problems.append(f"问题当前状态为“{finding.status}”")
    if not (note or "").strip():
        problems.append("请说明整改情况")
    _fail_if(problems)
    finding.status, finding.corrected_at, finding.correction_note = FINDING_DONE, utcnow(), note.strip()
    db.session.commit()


def close_finding(finding: Finding, user) -> None:
    """The supervisor accepts the correction and closes the finding."""
    problems = []
    if not _supervises(user, finding.unit_id):
        problems.append("只有该单位的监督部门可以关闭问题")
    if finding.status != FINDING_DONE:
        problems.append("整改尚未完成，不能关闭")
    _fail_if(problems)
    finding.status, finding.closed_at, finding.closed_by_name = FINDING_CLOSED, utcnow(), _name(user)
    db.session.commit()


def overdue_findings(scope: Scope, today: dt.date | None = None):
    today = today or dt.date.today()
    return db.session.execute(select(Finding).where(
        Finding.status == FINDING_OPEN, Finding.correction_deadline < today, scope.clause(Finding.unit_id))
        .order_by(Finding.correction_deadline)).scalars().all()

