"""一案一真: the one derivation of a case's derived state from its stored facts.

Derived state = the evaluation at the case's current point (E for a draft, S1 after 初次提交, S2 after
二次提交) and the daily (D) one, the case light (``lights``), the deadline rows and their statuses,
the deadline alarms that still stand, and the statistics fact row (kept by ``case_facts``' hooks in
the same transaction). ``derive`` computes it from the facts and the inputs in force (rule settings
by date, the calendar, the unit's quotas) and stores what differs, in the caller's transaction.
Every path that changes a fact calls it; ``differences`` recomputes without writing and says
where the stored state is not what the facts give (``flask jishi verify --derived``).

Evidence stays evidence: a stored evaluation is never rewritten; a new one is appended only when
what holds now differs from the latest stored one.
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from sqlalchemy import select

from app.alarms import lights
from app.alarms import state as alarms
from app.alarms.engine import (
    Result,
    _inputs_hash,
    evaluate_values,
    flat_values,
    related_facts,
    rule_version,
    unit_facts,
)
from app.deadlines import due as deadlines
from app.extensions import db
from app.models import MODULE_MODELS, Batch, Case, CasePerson
from app.models.case import STATUS_DRAFT, STATUS_FIRST, STATUS_SECOND
from app.models.deadlines import CaseDeadline
from app.models.rules import EvaluationRun, RuleEvaluation
from app.queries import facts as case_facts
from app.queries import people
from app.record.data import read_case
from app.rule_settings import load_calendar
from app.rules.context import PERSON_FACTS

POINT_OF_STATUS = {STATUS_DRAFT: "E", STATUS_FIRST: "S1", STATUS_SECOND: "S2"}
DEADLINE_FIELDS = ("anchor_date", "days", "day_type", "setting_id", "due_date", "submitted_on", "status",
                   "days_late")


def current_point(case: Case) -> str | None:
    """The point the case is judged at now; None for a version that is no longer current."""
    return POINT_OF_STATUS.get(case.status) if case.is_current else None


def _has_decision(case: Case) -> bool:
    return case.batch is not None and case.batch.decision_date is not None


@dataclass
class Fresh:
    """What the facts give now (nothing written)."""
    point: str | None
    case_result: Result | None
    daily_result: Result | None
    deadlines: dict = field(default_factory=dict)  # node → {field: value}
    light: str = "绿"


def signature(point: str, result: Result) -> tuple:
    """What an evaluation says: its point, light and failed rules (the rule messages may carry the day)."""
    return point, result.light, tuple(sorted((r.code, o.severity) for r, o, _s, _p in result.outcomes
                                             if o.status == "fail"))


def stored_signature(run: EvaluationRun | None) -> tuple | None:
    if run is None:
        return None
    fails = db.session.execute(select(RuleEvaluation.rule_code, RuleEvaluation.severity)
                               .where(RuleEvaluation.run_id == run.id, RuleEvaluation.outcome == "fail")).all()
    return run.point, run.light, tuple(sorted((c, s) for c, s in fails))


def compute(case: Case, today: dt.date | None = None) -> Fresh:
    """The derived state of one case from its facts and the inputs in force on ``today``."""
    today = today or dt.date.today()
    point = current_point(case)
    out = Fresh(point, None, None)
    if point is None:
        return out
    flat = flat_values(read_case(case))
    motion = case.module_row("motion")
    kw = dict(as_of=today, unit=case.unit, case=case, calendar=load_calendar(), related=related_facts(case, flat),
              facts=(unit_facts(case.unit), unit_facts(motion.target_unit if motion is not None else None)))
    out.case_result = evaluate_values(flat, point, **kw)
    if _has_decision(case):
        out.daily_result = evaluate_values(flat, "D", **kw)
    out.deadlines = deadlines.expected(case, today)
    late = any(d["submitted_on"] is None and d["status"] in deadlines.OPEN_LATE for d in out.deadlines.values())
    parts = [r.light for r in (out.case_result, out.daily_result) if r is not None]
    out.light = lights.worst(parts + (["红"] if late else []) + lights.verdict_lights(case.id))
    return out


def store_run(case: Case, point: str, result: Result, today: dt.date) -> EvaluationRun:
    """Append one evaluation (run and every rule's outcome)."""
    run = EvaluationRun(case_id=case.id, unit_id=case.unit_id, point=point, as_of=today,
                        judged_on=result.judged_on, light=result.light,
                        red=sum(h.severity == "red" for h in result.hits),
                        yellow=sum(h.severity == "yellow" for h in result.hits))
    db.session.add(run)
    db.session.flush()
    flat = flat_values(read_case(case))
    db.session.add_all([
        RuleEvaluation(run_id=run.id, case_id=case.id, unit_id=case.unit_id, rule_code=rule.code,
                       rule_version=rule_version(rule), setting_id=setting_id,
                       inputs_hash=_inputs_hash(rule, flat, params),
                       outcome=outcome.status, severity=outcome.severity, message=outcome.message or None)
        for rule, outcome, setting_id, params in result.outcomes
    ])
    result.run = run
    return run


def contribution(case: Case | None) -> tuple | None:
    """What other cases read of this one (the same person's other cases, the batch's size): when it
    changes, they are derived again too."""
    if case is None or case.id is None:
        return None
    q, m = case.module_row("qualification"), case.module_row("motion")
    return (case.is_current, case.status, case.case_no, case.batch_id,
            case.batch.decision_date if case.batch is not None else None,
            getattr(q, "id_card_no", None), getattr(m, "target_grade", None), getattr(m, "selection_type", None),
            getattr(m, "is_breaking_rule", None), _meeting(case.batch), _person_read(case), _departure(case))


def _departure(case: Case) -> tuple | None:
    """What D03 reads of a case that may move a unit's 主要领导 out (None for any other case)."""
    q, m, d = case.module_row("qualification"), case.module_row("motion"), case.module_row("decision")
    if getattr(d, "decision_result", None) != "通过" or getattr(m, "selection_type", None) not in people.LEAVING_TYPES:
        return None
    i = case.module_row("inspection")
    return (getattr(q, "current_post", None), m.selection_type, m.target_unit_id, getattr(m, "motion_meeting_date", None),
            getattr(i, "inspection_notice_date", None), getattr(i, "inspection_start", None))


def _person_read(case: Case) -> tuple:
    """What the person rules (X18, X19) read of another case of the same person."""
    q, m = case.module_row("qualification"), case.module_row("motion")
    d, a = case.module_row("decision"), case.module_row("appointment")
    return (*(getattr(q, k, None) for k in PERSON_FACTS), getattr(q, "current_post", None),
            getattr(q, "current_post_date", None), getattr(m, "target_post", None),
            getattr(d, "decision_result", None), getattr(a, "appointment_effective_date", None),
            getattr(a, "formal_appointment_date", None), case.unit_id)


def _meeting(batch) -> tuple | None:
    """The batch's meeting data and its people: facts every case of the batch is judged on."""
    if batch is None or batch.id is None:
        return None
    people = db.session.execute(select(CasePerson.item_key, CasePerson.position, CasePerson.name,
                                       CasePerson.id_card_no, CasePerson.post)
                                .where(CasePerson.batch_id == batch.id).order_by(CasePerson.id)).all()
    return tuple(getattr(batch, c.key) for c in Batch.__table__.columns), tuple(tuple(p) for p in people)


def neighbours(case: Case, before: tuple | None) -> list[int]:
    """The current cases of other roots that read this case (same ID number) and its batch mates,
    as it was (``before``) and as it is."""
    after = contribution(case)
    ids = {i for x in (before, after) if x is not None and x[5] for i in people.linked_ids(x[5])}
    batches = {x[3] for x in (before, after) if x is not None and x[3]}
    q = select(Case.id).where(Case.is_current.is_(True), Case.root_id != (case.root_id or case.id))
    out = set()
    if ids:
        qual = MODULE_MODELS["qualification"]
        out.update(db.session.execute(q.join(qual, qual.case_id == Case.id).where(qual.id_card_no.in_(ids))).scalars())
    if batches:
        out.update(db.session.execute(q.where(Case.batch_id.in_(batches))).scalars())
    out.update(_unit_readers(case, before, after, q))
    return sorted(out)


def _unit_readers(case: Case, before: tuple | None, after: tuple | None, q) -> set[int]:
    """The cases that read this one as a unit's history: those of the unit a changed departure leaves (D03),
    and the unit's cases decided after a batch this case joined, left or moved (D14)."""
    out = set()
    gone, now = (x[-1] if x is not None else None for x in (before, after))
    if gone != now:
        units = people.units_named_in([x[0] for x in (gone, now) if x is not None])
        if units:
            out.update(db.session.execute(q.where(Case.unit_id.in_(units))).scalars())
    if (before is None) != (after is None) or (before and after and (before[0], before[3], before[4]) != (after[0], after[3], after[4])):
        days = [x[4] for x in (before, after) if x is not None and x[4] is not None]
        if days:
            out.update(db.session.execute(q.join(Batch, Batch.id == Case.batch_id)
                                          .where(Case.unit_id == case.unit_id, Batch.decision_date > min(days))).scalars())
    return out


def derive(case: Case, today: dt.date | None = None, *, before=False) -> Fresh:
    """Bring the stored derived state of ``case`` to what its facts give, in the caller's transaction.

    ``before``: the case's ``contribution`` before the command changed it (None for a new case);
    when given and changed, the other cases that read it are derived again as well."""
    today = today or dt.date.today()
    db.session.flush()
    if before is not False and before != contribution(case):
        for other in neighbours(case, before):
            derive(db.session.get(Case, other), today)
    fresh = compute(case, today)
    if fresh.point is None:
        return fresh
    rows = deadlines.apply(case, fresh.deadlines)
    alarms.close_stale_deadline_alarms(case.root_id or case.id, rows)
    for points, point, result in ((lights.CASE_POINTS, fresh.point, fresh.case_result),
                                  (("D",), "D", fresh.daily_result)):
        if result is not None and stored_signature(lights.latest_run(case.id, points)) != signature(point, result):
            store_run(case, point, result, today)
    if case.light != fresh.light:
        case.light = fresh.light
    db.session.flush()
    return fresh


def evaluate_submission(case: Case, point: str) -> Result:
    """The submission point's evaluation, stored as evidence (always), alarms raised on its reds."""
    today = dt.date.today()
    db.session.flush()
    flat = flat_values(read_case(case))
    motion = case.module_row("motion")
    result = evaluate_values(flat, point, as_of=today, unit=case.unit,
                             target_unit=motion.target_unit if motion is not None else None, case=case)
    run = store_run(case, point, result, today)
    alarms.after_submission(case, run, [h for h in result.hits if h.severity == "red"])
    db.session.flush()
    return result


# ---- the checker ---------------------------------------------------------------------------------

def _stored_deadlines(root_id: int) -> dict:
    return {d.node: {f: getattr(d, f) for f in DEADLINE_FIELDS} | {"case_id": d.case_id}
            for d in db.session.execute(select(CaseDeadline).where(CaseDeadline.root_id == root_id)).scalars()}


def case_differences(case: Case, today: dt.date | None = None) -> list[dict]:
    """(field, stored, recomputed) wherever the stored derived state of a current case is not what
    its facts give. Writes nothing."""
    today = today or dt.date.today()
    fresh = compute(case, today)
    out = []

    def differ(name, stored, recomputed):
        if stored != recomputed:
            out.append({"case_id": case.id, "case_no": case.case_no, "field": name,
                        "stored": stored, "recomputed": recomputed})

    differ("light", case.light, fresh.light)
    for label, points, point, result in (("evaluation", lights.CASE_POINTS, fresh.point,
                                          fresh.case_result), ("evaluation_d", ("D",), "D", fresh.daily_result)):
        if result is not None:
            differ(label, _text(stored_signature(lights.latest_run(case.id, points))), _text(signature(point, result)))
    stored_rows = _stored_deadlines(case.root_id or case.id)
    for node in sorted(set(stored_rows) | set(fresh.deadlines)):
        got, want = stored_rows.get(node), fresh.deadlines.get(node)
        if want is not None:
            want = {**want, "case_id": case.id}
        if got is None or want is None:
            if not (want is None and got is not None and got["submitted_on"] is not None):
                differ(f"deadline:{node}", _text(got), _text(want))
        else:
            for name in (*DEADLINE_FIELDS, "case_id"):
                differ(f"deadline:{node}.{name}", got[name], want[name])
    rows = {d.node: d for d in db.session.execute(
        select(CaseDeadline).where(CaseDeadline.root_id == (case.root_id or case.id))).scalars()}
    for alarm in alarms.open_deadline_alarms(case.root_id or case.id):
        if not alarms.deadline_alarm_stands(alarm, rows):
            differ(f"alarm:{alarm.id}", alarm.status, "已关闭")
    facts = case_facts.differences(case.id)
    if facts:
        differ("facts", _text(facts), "与案例一致")
    return out


def _text(value):
    if value is None or isinstance(value, (str, int)):
        return value
    return str(value)


def verify(today: dt.date | None = None) -> dict:
    """Every current case's differences: {"cases": N, "differences": [...]}."""
    db.session.expire_all()  # what is stored, not what this session remembers
    ids = db.session.execute(select(Case.id).where(Case.is_current.is_(True)).order_by(Case.id)).scalars().all()
    found = []
    with db.session.no_autoflush:
        for case_id in ids:
            found += case_differences(db.session.get(Case, case_id), today)
    db.session.rollback()  # reading only: nothing the computation touched is kept
    return {"cases": len(ids), "differences": found}


# ---- many cases ------------------------------------------------------------------------------------

def open_case_ids(with_decision: bool = False, unit_ids=None) -> list[int]:
    q = select(Case.id).where(Case.is_current.is_(True)).order_by(Case.id)
    if unit_ids is not None:
        motion = MODULE_MODELS["motion"]
        targets = select(motion.case_id).where(motion.target_unit_id.in_(list(unit_ids)))
        q = q.where(Case.unit_id.in_(list(unit_ids)) | Case.id.in_(targets))
    if with_decision:
        q = q.join(Batch, Case.batch_id == Batch.id).where(Batch.decision_date.is_not(None))
    return db.session.execute(q).scalars().all()


def derive_many(ids, progress=None) -> dict:
    """Re-derive these cases, one transaction each; ``progress(done, total)`` after each."""
    red = 0
    for n, case_id in enumerate(ids, start=1):
        try:
            fresh = derive(db.session.get(Case, case_id))
            db.session.commit()
        except Exception:
            db.session.rollback()
            raise
        red += fresh.light == "红"
        if progress:
            progress(n, len(ids))
    return {"evaluated": len(ids), "red": red}


def daily(as_of: dt.date | None = None) -> dict:
    """The daily evaluation: every current case with a decision re-derived. Another day than today
    is only read: the counts are what that day would give, and nothing is written."""
    today = dt.date.today()
    ids = open_case_ids(with_decision=True)
    if as_of is not None and as_of != today:
        red = 0
        with db.session.no_autoflush:
            for case_id in ids:
                red += compute(db.session.get(Case, case_id), as_of).light == "红"
        db.session.rollback()
        return {"as_of": as_of.isoformat(), "evaluated": len(ids), "red": red, "written": False}
    return {"as_of": today.isoformat(), **derive_many(ids), "written": True}


def after_scan(case_ids) -> None:
    """The deadline scan changed these cases' statuses set-based: their daily evaluation follows."""
    db.session.expire_all()  # the scan's statements bypassed the identity map
    for case_id in sorted(set(case_ids)):
        case = db.session.get(Case, case_id)
        if case is not None:
            derive(case)
