"""The rule engine: evaluate a case at a point (E, S1, S2, D), store every outcome append-only,
set the case's light, raise an alarm on a red hit at a submission.

A case is judged by the settings in force on its decision date (before a decision, its motion
date), so changing a threshold never silently re-judges what was already submitted. All the
database reads an evaluation needs are made up front, in a handful of queries, whatever the
number of rules.
"""
from __future__ import annotations

import datetime as dt
import hashlib
import json
from dataclasses import dataclass, field

from sqlalchemy import func, or_, select

from app.extensions import db
from app.models import Case, Unit
from app.models.case import STATUS_DRAFT, STATUS_RETURNED
from app.models.rules import (
    ALARM_CLOSED, ALARM_CORRECTED, ALARM_HALTED, ALARM_RAISED, Alarm, AlarmEvent, CalendarDay, CalendarYear,
    EvaluationRun, RuleEvaluation, RuleSetting,
)
from app.rules.calendar import WorkCalendar, default_calendar
from app.rules.context import Ctx, Related, UnitFacts
from app.rules.registry import Outcome, Rule, all_rules
from app.spec import items_by_key

RULE_VERSION = "1"  # bump when a rule's logic changes; stored with every outcome
# What runs at each point: a submission re-checks everything checked on save before it.
POINT_RULES = {"E": {"E"}, "S1": {"E", "S1"}, "S2": {"E", "S1", "S2"}, "D": {"D"}}
LIGHTS = ("红", "黄", "绿")


@dataclass
class Hit:
    code: str
    severity: str
    message: str
    title: str = ""


@dataclass
class Result:
    light: str
    hits: list[Hit] = field(default_factory=list)
    outcomes: list[tuple[Rule, Outcome, int | None, dict]] = field(default_factory=list)  # rule, outcome, setting id, params
    judged_on: dt.date | None = None
    run: EvaluationRun | None = None

    def as_dict(self) -> dict:
        return {"light": {"红": "red", "黄": "yellow", "绿": "green"}[self.light],
                "hits": [{"code": h.code, "severity": h.severity, "message": h.message} for h in self.hits]}


# ---- inputs -----------------------------------------------------------------------------------

def seed_calendar() -> int:
    """Copy the package's holidays and 调休 days into the editable table, for the years not there yet."""
    from app.rules.calendar import package_days, package_years

    known = set(db.session.execute(select(CalendarYear.year)).scalars())
    existing = set(db.session.execute(select(CalendarDay.day)).scalars())
    added = 0
    for year in sorted(package_years() - known):
        for day, working in sorted(package_days(year).items()):
            if day not in existing:
                db.session.add(CalendarDay(day=day, working=working, source="package",
                                           name="调休上班" if working else "法定节假日"))
                added += 1
        db.session.add(CalendarYear(year=year, source="package"))
    db.session.commit()
    return added


_CALENDAR_CACHE: dict = {}


def load_calendar() -> WorkCalendar:
    """The package calendar plus what admins entered (their rows win).

    Every save evaluates rules, so the table (hundreds of rows) is read again only when it has
    changed: one small fingerprint query per evaluation instead of the whole table."""
    fingerprint = db.session.execute(
        select(func.count(CalendarDay.id), func.max(CalendarDay.id),
               select(func.count(CalendarYear.year)).scalar_subquery())
    ).one()
    fingerprint = (db.engine.url.render_as_string(), *fingerprint)
    cached = _CALENDAR_CACHE.get("calendar")
    if cached is None or cached[0] != fingerprint:
        cal = default_calendar()
        for day, working in db.session.execute(select(CalendarDay.day, CalendarDay.working)).all():
            cal.special[day] = working
        cal.known_years |= set(db.session.execute(select(CalendarYear.year)).scalars())
        cached = (fingerprint, cal)
        _CALENDAR_CACHE["calendar"] = cached
    base = cached[1]
    return WorkCalendar(dict(base.special), set(base.known_years))  # missing years are tracked per call


def unit_facts(unit: Unit | None) -> UnitFacts | None:
    if unit is None:
        return None
    return UnitFacts(code=unit.code, level=unit.level, unit_type=unit.unit_type, max_grade=unit.max_grade,
                     region_code=unit.region_code, dual_managed=bool(unit.dual_managed),
                     quotas={q.grade: q.approved for q in unit.quotas})


def flat_values(values_by_module: dict) -> dict:
    flat = {}
    for items in values_by_module.values():
        flat.update(items)
    return flat


def related_facts(case: Case | None, flat: dict) -> Related:
    rel = Related()
    id_no = flat.get("id_card_no")
    if id_no:
        from app.models import MODULE_MODELS

        q, mo = MODULE_MODELS["qualification"], MODULE_MODELS["motion"]
        rows = db.session.execute(
            select(Case.id, Case.case_no, Case.status, Case.batch_id, mo.target_grade, mo.selection_type,
                   mo.is_breaking_rule, Case.root_id)
            .join(q, q.case_id == Case.id).join(mo, mo.case_id == Case.id)
            .where(q.id_card_no == id_no, Case.is_current.is_(True),
                   Case.root_id != (case.root_id if case is not None else -1))
            .order_by(Case.id.desc())
        ).all()
        from app.models import Batch

        dates = dict(db.session.execute(select(Batch.id, Batch.decision_date)
                                        .where(Batch.id.in_([r.batch_id for r in rows if r.batch_id]))).all())
        rel.same_person = [{"case_no": r.case_no, "status": r.status, "decision_date": dates.get(r.batch_id),
                            "target_grade": r.target_grade, "selection_type": r.selection_type,
                            "is_breaking_rule": r.is_breaking_rule} for r in rows]
        rel.parallel_open = sum(1 for r in rows if r.status in (STATUS_DRAFT, "已初次提交"))
    if case is not None and case.batch_id:
        rel.batch_size = db.session.execute(
            select(func.count(Case.id)).where(Case.batch_id == case.batch_id, Case.is_current.is_(True))).scalar()
    return rel


def settings_for(unit: Unit | None, judged_on: dt.date) -> dict[str, RuleSetting]:
    """The setting in force per rule on that date: unit over region over general."""
    rows = db.session.execute(
        select(RuleSetting).where(RuleSetting.effective_from <= judged_on)
        .where(or_(RuleSetting.unit_id.is_(None), RuleSetting.unit_id == (unit.id if unit else -1)))
        .where(or_(RuleSetting.region_code.is_(None),
                   RuleSetting.region_code == (unit.region_code if unit and unit.region_code else "")))
        .order_by(RuleSetting.effective_from, RuleSetting.id)
    ).scalars().all()
    def specificity(row):
        return 2 if row.unit_id else (1 if row.region_code else 0)

    best: dict[str, RuleSetting] = {}
    for row in sorted(rows, key=lambda r: (specificity(r), r.effective_from, r.id)):
        best[row.code] = row  # the most specific, then the latest version, wins
    return best


_ORDERED: list = []


def _ordered_rules() -> list:
    if not _ORDERED:
        _ORDERED.extend(sorted(all_rules().items()))
    return _ORDERED


def effective_params(rule: Rule, setting: RuleSetting | None) -> dict:
    """The catalogue defaults overlaid with a stored version, each value in its default's type."""
    from fractions import Fraction

    if setting is None or not setting.params:
        return rule.params
    params = dict(rule.params)
    for key, value in setting.params.items():
        default = rule.params.get(key)
        if isinstance(default, Fraction):
            value = Fraction(str(value))
        params[key] = value
    return params


def _inputs_hash(rule: Rule, values: dict, params: dict) -> str:
    """What the rule read (its catalogued inputs) and its parameters, hashed when stored."""
    data = {k: values.get(k) for k in sorted(rule.meta["reads"]) if k in values}
    data["_params"] = params
    return hashlib.sha256(json.dumps(data, default=str, sort_keys=True, ensure_ascii=False).encode()).hexdigest()


# ---- evaluation -----------------------------------------------------------------------------------

def evaluate_values(flat: dict, point: str | None, *, as_of: dt.date | None = None, unit: Unit | None = None,
                    target_unit: Unit | None = None, case: Case | None = None,
                    calendar: WorkCalendar | None = None, settings: dict | None = None,
                    related: Related | None = None, facts: tuple | None = None) -> Result:
    """Run the enabled rules of a point (all points when None) over flat values. Writes nothing.
    Callers evaluating many cases pass ``calendar``, ``settings``, ``related`` and unit ``facts``
    loaded once, so that no rule reads the database."""
    as_of = as_of or dt.date.today()
    unit_f, target_f = facts if facts is not None else (unit_facts(unit), unit_facts(target_unit))
    base = Ctx(values=flat, as_of=as_of, unit=unit_f, target_unit=target_f,
               calendar=calendar or load_calendar(), related=related if related is not None else related_facts(case, flat))
    judged_on = base.judge_date
    settings = settings if settings is not None else settings_for(unit, judged_on)
    result = Result(light="绿", judged_on=judged_on)
    wanted = POINT_RULES[point] if point is not None else None
    for code, rule in _ordered_rules():
        setting = settings.get(code)
        if setting is None:
            if not rule.enabled_by_default or (wanted is not None and not wanted & rule.points):
                continue
            base.params = rule.params
        else:
            if not setting.enabled or (wanted is not None and not wanted & rule.points):
                continue
            base.params = effective_params(rule, setting)
        try:
            outcome = rule.run(base)
        except Exception as exc:  # noqa: BLE001 - a broken rule must not hide the others
            outcome = Outcome("fail", "yellow", f"规则 {code} 执行出错：{exc.__class__.__name__}")
        result.outcomes.append((rule, outcome, setting.id if setting is not None else None, base.params))
        if outcome.status == "fail":
            result.hits.append(Hit(code, outcome.severity, outcome.message, rule.title))
    if base.calendar.missing_years:
        years = "、".join(str(y) for y in sorted(base.calendar.missing_years))
        result.hits.append(Hit("CAL", "yellow", f"{years} 年的节假日安排未配置，工作日按周一至周五计算，请管理员补录"))
    severities = {h.severity for h in result.hits}
    result.light = "红" if "red" in severities else ("黄" if "yellow" in severities else "绿")
    return result


def evaluate_case(case: Case, point: str, *, as_of: dt.date | None = None, commit: bool = True) -> Result:
    """Evaluate a stored case, store the run append-only, set its light, raise or settle alarms."""
    from app.services.case_data import read_case
    from app.services.case_workflow import workflow_write

    values = read_case(case)
    flat = flat_values(values)
    target = case.module_row("motion").target_unit if case.module_row("motion") is not None else None
    result = evaluate_values(flat, point, as_of=as_of, unit=case.unit, target_unit=target, case=case)
    run = EvaluationRun(case_id=case.id, unit_id=case.unit_id, point=point, as_of=as_of or dt.date.today(),
                        judged_on=result.judged_on, light=result.light,
                        red=sum(h.severity == "red" for h in result.hits),
                        yellow=sum(h.severity == "yellow" for h in result.hits))
    db.session.add(run)
    db.session.flush()
    db.session.add_all([
        RuleEvaluation(run_id=run.id, case_id=case.id, unit_id=case.unit_id, rule_code=rule.code,
                       rule_version=RULE_VERSION, setting_id=setting_id, inputs_hash=_inputs_hash(rule, flat, params),
                       outcome=outcome.status, severity=outcome.severity, message=outcome.message or None)
        for rule, outcome, setting_id, params in result.outcomes
    ])
    with workflow_write():
        case.light = combined_light(case.id)
        if point in ("S1", "S2"):
            _alarms_after_submission(case, run, result)
        db.session.flush()
    result.run = run
    if commit:
        db.session.commit()
    return result


def combined_light(case_id: int) -> str:
    """The worst of the latest save/submission evaluation, the latest daily one and the case's
    deadlines: a daily run must not wash out a red found at submission, nor the other way round,
    and a report past due keeps the case red until it is made."""
    lights = []
    for points in (("E", "S1", "S2"), ("D",)):
        light = db.session.execute(
            select(EvaluationRun.light).where(EvaluationRun.case_id == case_id, EvaluationRun.point.in_(points))
            .order_by(EvaluationRun.id.desc()).limit(1)).scalar()
        if light:
            lights.append(light)
    from app.models.supervision import Review
    from app.services.deadlines import open_late

    if open_late(case_id):  # a report past due and still not made
        lights.append("红")
    # The supervisor's own verdict (网上巡查) stands until the case changes version.
    if db.session.execute(select(Alarm.id).where(Alarm.case_id == case_id, Alarm.point == "R",
                                                 Alarm.status.in_((ALARM_RAISED, ALARM_HALTED))).limit(1)).first():
        lights.append("红")
    last_review = db.session.execute(select(Review.result).where(Review.case_id == case_id)
                                     .order_by(Review.id.desc()).limit(1)).scalar()
    if last_review == "黄灯提示":
        lights.append("黄")
    return min(lights, key=LIGHTS.index) if lights else "绿"


def daily(as_of: dt.date | None = None) -> dict:
    """The daily (D) evaluation of every current case that has a decision: deadlines and monitoring."""
    from app.models import Batch

    as_of = as_of or dt.date.today()
    ids = db.session.execute(
        select(Case.id).join(Batch, Case.batch_id == Batch.id)
        .where(Case.is_current.is_(True), Case.status != STATUS_RETURNED, Batch.decision_date.is_not(None))
        .order_by(Case.id)
    ).scalars().all()
    red = 0
    for case_id in ids:
        result = evaluate_case(db.session.get(Case, case_id), "D", as_of=as_of)
        red += result.light == "红"
    return {"evaluated": len(ids), "red": red}


def _alarms_after_submission(case: Case, run: EvaluationRun, result: Result) -> None:
    reds = [h for h in result.hits if h.severity == "red"]
    # A corrected version resubmitted: earlier halted alarms whose rules no longer fire are settled.
    for alarm in db.session.execute(select(Alarm).where(Alarm.root_id == case.root_id,
                                                        Alarm.status.in_((ALARM_RAISED, ALARM_HALTED)),
                                                        Alarm.case_id != case.id)).scalars():
        still = set(alarm.codes.split(",")) & {h.code for h in reds}
        if not still:
            _move(alarm, ALARM_CORRECTED, None, f"整改后重新评估（第 {case.version_no} 版）未再触发")
            _move(alarm, ALARM_CLOSED, None, "整改完成，自动关闭")
    if reds:
        db.session.add(Alarm(
            case_id=case.id, root_id=case.root_id, unit_id=case.unit_id, run_id=run.id, point=run.point,
            codes=",".join(h.code for h in reds), message="；".join(f"{h.code} {h.message}" for h in reds),
            status=ALARM_RAISED,
        ))


def _move(alarm: Alarm, to_status: str, actor, reason: str | None) -> None:
    from app.audit import current_actor

    who = current_actor()
    db.session.add(AlarmEvent(alarm_id=alarm.id, unit_id=alarm.unit_id, from_status=alarm.status, to_status=to_status,
                              actor_id=getattr(actor, "id", None) or (who.user_id if who else None),
                              actor_name=getattr(actor, "username", None) or (who.name if who else "系统"),
                              reason=reason))
    alarm.status = to_status
    if to_status == ALARM_CLOSED:
        from app.models.audit import utcnow

        alarm.closed_at = utcnow()


def module_lights(case: Case) -> dict[str, str]:
    """Per module, the worst severity among the latest run's hits on that module's items."""
    run = db.session.execute(select(EvaluationRun).where(EvaluationRun.case_id == case.id)
                             .order_by(EvaluationRun.id.desc()).limit(1)).scalar_one_or_none()
    lights: dict[str, str] = {}
    if run is None:
        return lights
    items = items_by_key()
    rules = all_rules()
    for res in run.results:
        if res.outcome != "fail":
            continue
        reads = rules[res.rule_code].meta["reads"] if res.rule_code in rules else []
        modules = {items[k].module for k in reads if k in items}
        for m in modules:
            if res.severity == "red" or lights.get(m) != "红":
                lights[m] = "红" if res.severity == "red" else lights.get(m, "黄")
    return lights


def latest_hits(case: Case) -> list[RuleEvaluation]:
    run = db.session.execute(select(EvaluationRun).where(EvaluationRun.case_id == case.id)
                             .order_by(EvaluationRun.id.desc()).limit(1)).scalar_one_or_none()
    return [r for r in run.results if r.outcome == "fail"] if run else []



# ---- the alarm lifecycle ------------------------------------------------------------------------

class AlarmError(Exception):
    pass


def _check_supervisor(alarm: Alarm, user) -> None:
    from app.scoping import scope_for

    roles = {r.name for r in getattr(user, "roles", [])}
    if not roles & {"监督员", "系统管理员"} or not scope_for(user).contains(alarm.unit_id):
        raise AlarmError("只有该单位的监督部门可以处理报警")


def halt(alarm: Alarm, user, reason: str, deadline: dt.date) -> Case:
    """叫停纠偏: the case goes back to its unit (a new version to correct) with a reason and a deadline."""
    from app.services.case_workflow import return_for_correction

    _check_supervisor(alarm, user)
    if alarm.case_id is None:  # 应报未报: a document no case was reported for — nothing to send back
        raise AlarmError("该报警（应报未报）没有对应的报送案例，不能叫停纠偏；请督促单位补报，核实后可“核实无误”关闭")
    if alarm.status != ALARM_RAISED:
        raise AlarmError(f"报警当前状态为“{alarm.status}”，不能叫停")
    if not reason.strip():
        raise AlarmError("请写明叫停的原因")
    if deadline <= dt.date.today():
        raise AlarmError("整改期限应晚于今天")
    case = db.session.get(Case, alarm.case_id)
    # The alarm's change rides in the same transaction as the return (committed by it, or rolled back).
    alarm.correction_deadline = deadline
    _move(alarm, ALARM_HALTED, user, reason)
    return return_for_correction(case, user, f"叫停纠偏：{reason}（整改期限 {deadline.isoformat()}）")


def dismiss(alarm: Alarm, user, reason: str) -> None:
    """核实无误: the hit was checked and stands (e.g. an approved 破格); written reason required."""
    from app.models.rules import ALARM_DISMISSED

    _check_supervisor(alarm, user)
    if alarm.status != ALARM_RAISED:
        raise AlarmError(f"报警当前状态为“{alarm.status}”，不能核实销号")
    if not reason.strip():
        raise AlarmError("请写明核实无误的依据")
    _move(alarm, ALARM_DISMISSED, user, reason)
    _move(alarm, ALARM_CLOSED, user, "核实无误，关闭")
    db.session.commit()
