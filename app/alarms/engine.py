"""The rule engine: evaluate values at a point (E, S1, S2, D) under the inputs in force — the rule
settings, the calendar (both loaded by ``app.rule_settings``), the unit's facts. It writes nothing:
storing an evaluation and the light is ``app/alarms/derived.py``'s, alarms are ``app/alarms/state.py``'s.

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

from sqlalchemy import func, select

from app.dates import WorkCalendar
from app.extensions import db
from app.models import Case, Unit
from app.models.case import STATUS_DRAFT
from app.models.rules import EvaluationRun
from app.queries import people
from app.rule_settings import custom_rules_in_force, effective_params, load_calendar, settings_for
from app.rules.catalog import all_rules
from app.rules.context import Ctx, Related, UnitFacts
from app.rules.custom import CustomRule
from app.rules.registry import Outcome, Rule

RULE_VERSION = "2"  # bump when a rule's logic changes; stored with every outcome (2: issue 13)
# A custom rule's outcome stores its own version ("c3": custom rule version 3), see rule_version().
# What runs at each point: a submission re-checks everything checked on save before it.
POINT_RULES = {"E": {"E"}, "S1": {"E", "S1"}, "S2": {"E", "S1", "S2"}, "D": {"D"}}


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

def unit_facts(unit: Unit | None) -> UnitFacts | None:
    if unit is None:
        return None
    return UnitFacts(code=unit.code, level=unit.level, unit_type=unit.unit_type, max_grade=unit.max_grade,
                     region_code=unit.region_code, dual_managed=bool(unit.dual_managed),
                     quotas={q.grade: q.approved for q in unit.quotas}, authority=unit.authority or "",
                     path=unit.path or "")


def flat_values(values_by_module: dict) -> dict:
    flat = {}
    for items in values_by_module.values():
        flat.update(items)
    return flat


def related_facts(case: Case | None, flat: dict) -> Related:
    rel = Related(root_id=(case.root_id or case.id) if case is not None else None)
    id_no = flat.get("id_card_no")
    if id_no:
        ids = people.linked_ids(id_no)
        rel.same_person = people.person_cases(ids, case.root_id if case is not None else None)
        rel.corrections = people.corrections(ids)
        rel.parallel_open = sum(1 for r in rel.same_person if r["status"] in (STATUS_DRAFT, "已初次提交"))
    if case is not None and case.batch_id:
        rel.batch_size = db.session.execute(
            select(func.count(Case.id)).where(Case.batch_id == case.batch_id, Case.is_current.is_(True))).scalar()
        decided = case.batch.decision_date if case.batch is not None else None
        if decided is not None and case.unit is not None:  # one unit across cases (D03, D14)
            rel.unit_name = case.unit.name
            rel.leader_departures = people.leader_departures(case.unit, decided, case.root_id)
            rel.unit_batch_sizes = people.unit_batch_sizes(case.unit_id, decided, case.batch_id)
    return rel


_ORDERED: list = []


def _ordered_rules() -> list:
    if not _ORDERED:
        _ORDERED.extend(sorted(all_rules().items()))
    return _ORDERED


def rule_version(rule) -> str:
    """What is stored as the rule version of an outcome: the engine's for catalogued rules, "c<n>" for a
    custom rule's version n."""
    return getattr(rule, "version_label", RULE_VERSION)


def _inputs_hash(rule: Rule, values: dict, params: dict) -> str:
    """What the rule read (its catalogued inputs) and its parameters, hashed when stored."""
    data = {k: values.get(k) for k in sorted(rule.meta["reads"]) if k in values}
    data["_params"] = params
    return hashlib.sha256(json.dumps(data, default=str, sort_keys=True, ensure_ascii=False).encode()).hexdigest()


# ---- evaluation -----------------------------------------------------------------------------------

def evaluate_values(flat: dict, point: str | None, *, as_of: dt.date | None = None, unit: Unit | None = None,
                    target_unit: Unit | None = None, case: Case | None = None,
                    calendar: WorkCalendar | None = None, settings: dict | None = None,
                    related: Related | None = None, facts: tuple | None = None, custom: list | None = None) -> Result:
    """Run the enabled rules of a point (all points when None) over flat values. Writes nothing.
    Callers evaluating many cases pass ``calendar``, ``settings``, ``related``, unit ``facts`` and the
    ``custom`` rules in force loaded once, so that no rule reads the database."""
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
    base.params = {}
    # The custom rules in force whose scope (region, unit subtree, grades, selection types) takes the case in;
    # out of scope a rule is not run at all, like a rule not enabled for the unit.
    custom = [r for r in (custom if custom is not None else custom_rules_in_force(judged_on))
              if (wanted is None or wanted & r.points) and r.applies(base)]
    if custom:  # bind once what they read (converting values is most of a custom rule's cost)
        CustomRule.prepare(base, custom)
    for rule in custom:
        outcome = rule.judge(base)  # never raises: a broken condition reads as 不适用 with the reason
        result.outcomes.append((rule, outcome, None, {}))
        if outcome.status == "fail":
            result.hits.append(Hit(rule.code, outcome.severity, outcome.message, rule.title))
    if base.calendar.missing_years:
        years = "、".join(str(y) for y in sorted(base.calendar.missing_years))
        result.hits.append(Hit("CAL", "yellow", f"{years} 年的节假日安排未配置，工作日按周一至周五计算，请管理员补录"))
    severities = {h.severity for h in result.hits}
    result.light = "红" if "red" in severities else ("黄" if "yellow" in severities else "绿")
    return result
