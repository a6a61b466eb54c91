"""A rule's parameter versions and the cases judged under it, for the rule page (read only).

``versions``: every version of one rule the user may see (the general ones and their units'
overrides), newest first, each with who entered it (the audit trail's insert row).
``judged_since``: the current cases in scope whose latest evaluation of the rule was judged on or
after a date — the cases a version from that date concerns. It counts what the stored evaluations
say; it does not re-run the rule with other parameters.
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from sqlalchemy import func, or_, select

from app.extensions import db
from app.models import AuditLog, Case, RuleSetting
from app.models.rules import EvaluationRun, RuleEvaluation
from app.scoping import Scope

CASE_LIST_LIMIT = 50


@dataclass
class Version:
    setting: RuleSetting
    entered_by: str = ""
    entered_at: dt.datetime | None = None


@dataclass
class Judged:
    since: dt.date
    total: int = 0
    by_outcome: dict[str, int] = field(default_factory=dict)
    cases: list[tuple[Case, str]] = field(default_factory=list)  # (case, outcome), at most CASE_LIST_LIMIT


def versions(code: str, scope: Scope) -> list[Version]:
    rows = db.session.execute(
        select(RuleSetting).where(RuleSetting.code == code)
        .where(or_(RuleSetting.unit_id.is_(None), scope.clause(RuleSetting.unit_id)))
        .order_by(RuleSetting.effective_from.desc(), RuleSetting.id.desc())
    ).scalars().all()
    entered = {}
    if rows:
        for record_id, actor, ts in db.session.execute(
                select(AuditLog.record_id, AuditLog.actor_name, AuditLog.ts)
                .where(AuditLog.table_name == RuleSetting.__tablename__, AuditLog.action == "insert",
                       AuditLog.field == "code", AuditLog.record_id.in_([str(r.id) for r in rows]))).all():
            entered[record_id] = (actor, ts)
    return [Version(r, *entered.get(str(r.id), ("", None))) for r in rows]


def judged_since(code: str, since: dt.date, scope: Scope) -> Judged:
    latest = (
        select(func.max(RuleEvaluation.run_id).label("run_id"))
        .join(Case, Case.id == RuleEvaluation.case_id)
        .where(RuleEvaluation.rule_code == code, Case.is_current.is_(True), scope.clause(Case.unit_id))
        .group_by(RuleEvaluation.case_id)
    ).subquery()
    where = (RuleEvaluation.run_id.in_(select(latest.c.run_id)), RuleEvaluation.rule_code == code,
             EvaluationRun.judged_on >= since)
    out = Judged(since)
    for outcome, n in db.session.execute(
            select(RuleEvaluation.outcome, func.count()).join(EvaluationRun, EvaluationRun.id == RuleEvaluation.run_id)
            .where(*where).group_by(RuleEvaluation.outcome)).all():
        out.by_outcome[outcome] = n
        out.total += n
    out.cases = [tuple(r) for r in db.session.execute(
        select(Case, RuleEvaluation.outcome).join(RuleEvaluation, RuleEvaluation.case_id == Case.id)
        .join(EvaluationRun, EvaluationRun.id == RuleEvaluation.run_id)
        .where(*where).order_by(RuleEvaluation.outcome, Case.id.desc()).limit(CASE_LIST_LIMIT)).all()]
    return out
