"""A case's record chain as the case page and 明细查询 show it: its versions, signatures, submissions,
alarms, reporting deadlines, attachments and the latest evaluation of each point."""
from __future__ import annotations

from sqlalchemy import or_, select

from app.extensions import db
from app.models import Alarm, Attachment, Case, CaseDeadline, EvaluationRun, Signature, Submission
from app.rule_settings import rules_by_code
from app.rules.registry import POINTS


def versions(case: Case) -> list[Case]:
    return db.session.execute(select(Case).where(Case.root_id == case.root_id)
                              .order_by(Case.version_no)).scalars().all()


def submissions(case: Case) -> list[Submission]:
    return db.session.execute(select(Submission).where(Submission.root_id == case.root_id)
                              .order_by(Submission.id)).scalars().all()


def alarms(case: Case) -> list[Alarm]:
    return db.session.execute(select(Alarm).where(Alarm.root_id == case.root_id).order_by(Alarm.id)).scalars().all()


def deadlines(case: Case) -> list[CaseDeadline]:
    return db.session.execute(select(CaseDeadline).where(CaseDeadline.root_id == case.root_id)
                              .order_by(CaseDeadline.node)).scalars().all()


def signatures(version_ids: list[int]) -> list[Signature]:
    return db.session.execute(select(Signature).where(Signature.case_id.in_(version_ids))
                              .order_by(Signature.case_id, Signature.level, Signature.id)).scalars().all()


def attachments_by_name(case: Case) -> dict[str, Attachment]:
    """The case's files and its meeting's (batch) files, by file name."""
    rows = db.session.execute(select(Attachment).where(
        or_(Attachment.case_id == case.id, Attachment.batch_id == case.batch_id if case.batch_id else False))
    ).scalars().all()
    return {a.filename: a for a in rows}


def evaluations(case: Case) -> list[dict]:
    """The latest evaluation run of each point (E, S1, S2, D) with its hits."""
    rules = rules_by_code()
    runs = db.session.execute(select(EvaluationRun).where(EvaluationRun.case_id == case.id)
                              .order_by(EvaluationRun.id.desc())).scalars().all()
    latest = {}
    for run in runs:
        latest.setdefault(run.point, run)
    order = {p: i for i, p in enumerate(POINTS)}
    out = []
    for point, run in sorted(latest.items(), key=lambda kv: order.get(kv[0], 99)):
        hits = [{"code": r.rule_code, "title": getattr(rules.get(r.rule_code), "title", ""), "severity": r.severity,
                 "message": r.message, "version": r.rule_version} for r in run.results if r.outcome == "fail"]
        out.append({"run": run, "hits": hits, "count": len(run.results)})
    return out
