"""The light of a case and of its modules, read from what is stored.

The case light is the worst of: the evaluation at the case's own point (E/S1/S2), the daily (D)
evaluation, a report past due and not made, an open 网上巡查 red alarm, the latest review's 黄灯提示.
``app/alarms/derived.py`` computes it fresh and stores it; this module only reads.
"""
from __future__ import annotations

from sqlalchemy import select

from app.extensions import db
from app.models.rules import ALARM_HALTED, ALARM_RAISED, Alarm, EvaluationRun, RuleEvaluation
from app.models.supervision import Review
from app.rule_settings import rules_by_code
from app.spec import items_by_key

LIGHTS = ("红", "黄", "绿")
CASE_POINTS = ("E", "S1", "S2")


def worst(lights) -> str:
    lights = [x for x in lights if x]
    return min(lights, key=LIGHTS.index) if lights else "绿"


def verdict_lights(case_id: int) -> list[str]:
    """The supervisor's own verdict (网上巡查), which stands until the case changes version."""
    out = []
    if db.session.execute(select(Alarm.id).where(Alarm.case_id == case_id, Alarm.point == "R",
                                                 Alarm.status.in_((ALARM_RAISED, ALARM_HALTED))).limit(1)).first():
        out.append("红")
    last_review = db.session.execute(select(Review.result).where(Review.case_id == case_id)
                                     .order_by(Review.id.desc()).limit(1)).scalar()
    if last_review == "黄灯提示":
        out.append("黄")
    return out


def latest_run(case_id: int, points) -> EvaluationRun | None:
    return db.session.execute(select(EvaluationRun).where(EvaluationRun.case_id == case_id,
                                                          EvaluationRun.point.in_(points))
                              .order_by(EvaluationRun.id.desc()).limit(1)).scalar_one_or_none()


def _latest_any(case) -> EvaluationRun | None:
    return latest_run(case.id, CASE_POINTS) or latest_run(case.id, ("D",))


def module_lights(case) -> dict[str, str]:
    """Per module, the worst severity among the latest case-point run's hits on that module's items."""
    run = _latest_any(case)
    lights: dict[str, str] = {}
    if run is None:
        return lights
    items = items_by_key()
    rules = rules_by_code()
    for res in run.results:
        if res.outcome != "fail":
            continue
        reads = rules[res.rule_code].meta["reads"] if res.rule_code in rules else []
        modules = {items[k].module for k in reads if k in items}
        for m in modules:
            if res.severity == "red" or lights.get(m) != "红":
                lights[m] = "红" if res.severity == "red" else lights.get(m, "黄")
    return lights


def latest_hits(case) -> list[RuleEvaluation]:
    run = _latest_any(case)
    return [r for r in run.results if r.outcome == "fail"] if run else []
