"""One person and one unit across cases: the history cross-case and person rules read.

The person registry is keyed by 身份证号: every current case and every imported appointment document
(任免文件) with the same ID number belongs to the same person; an ID number joins another only through
a recorded correction of kind ``id_card_no`` (app/models/people.py), never by name. The rule engine
(app/alarms/engine.py) calls these in a handful of batched queries per evaluation; the timeline
(``timeline``) is what supervisors see of a person.
"""
from __future__ import annotations

import datetime as dt

from sqlalchemy import String, func, literal, or_, select

from app.extensions import db
from app.models import MODULE_MODELS, AppointmentDocument, Batch, Case, Unit
from app.models.people import PersonCorrection
from app.rules.context import PERSON_FACTS


def linked_ids(id_no: str) -> set[str]:
    """The ID number and those joined to it by recorded ID corrections (either way, transitively)."""
    ids, todo = {id_no}, [id_no]
    while todo:
        rows = db.session.execute(
            select(PersonCorrection.old_value, PersonCorrection.new_value)
            .where(PersonCorrection.item_key == "id_card_no")
            .where(or_(PersonCorrection.old_value.in_(todo), PersonCorrection.new_value.in_(todo)))).all()
        todo = [v for row in rows for v in row if v not in ids]
        ids.update(todo)
    return ids


def corrections(ids) -> list[dict]:
    """The recorded corrections of the person (any of their linked ID numbers)."""
    rows = db.session.execute(select(PersonCorrection).where(PersonCorrection.id_card_no.in_(list(ids)))
                              .order_by(PersonCorrection.id)).scalars()
    return [{"item_key": r.item_key, "old_value": r.old_value, "new_value": r.new_value, "basis": r.basis,
             "decided_on": r.decided_on} for r in rows]


def person_cases(ids, exclude_root: int | None = None) -> list[dict]:
    """The current cases of the person (any linked ID number) but those of ``exclude_root``, newest first:
    what the rules compare (PERSON_FACTS, posts and dates) and what Q rules read of earlier promotions."""
    q, mo, de, ap = (MODULE_MODELS[k] for k in ("qualification", "motion", "decision", "appointment"))
    rows = db.session.execute(
        select(Case.id, Case.root_id, Case.case_no, Case.status, Case.batch_id, Case.unit_id, q.id_card_no,
               q.full_name, q.birth_date, q.work_start_date, q.party_join_date, q.full_time_education,
               q.current_post, q.current_post_date, mo.target_post, mo.target_grade, mo.selection_type,
               mo.is_breaking_rule, de.decision_result, ap.appointment_effective_date, ap.formal_appointment_date)
        .join(q, q.case_id == Case.id).join(mo, mo.case_id == Case.id)
        .outerjoin(de, de.case_id == Case.id).outerjoin(ap, ap.case_id == Case.id)
        .where(q.id_card_no.in_(list(ids)), Case.is_current.is_(True),
               Case.root_id != (exclude_root if exclude_root is not None else -1))
        .order_by(Case.id.desc())
    ).all()
    batches = dict(db.session.execute(
        select(Batch.id, Batch.decision_date).where(Batch.id.in_([r.batch_id for r in rows if r.batch_id]))).all())
    out = []
    for r in rows:
        row = r._asdict()
        row["decision_date"] = batches.get(r.batch_id)
        out.append(row)
    return out


def documents(ids) -> list[dict]:
    """The imported appointment documents (任免文件) of the person's ID numbers."""
    rows = db.session.execute(
        select(AppointmentDocument.doc_no, AppointmentDocument.doc_date, AppointmentDocument.post,
               AppointmentDocument.person_name, AppointmentDocument.id_card_no, AppointmentDocument.unit_id, Unit.code)
        .join(Unit, Unit.id == AppointmentDocument.unit_id)
        .where(AppointmentDocument.id_card_no.in_(list(ids))).order_by(AppointmentDocument.doc_date)).all()
    return [r._asdict() for r in rows]


def timeline(id_no: str, scope=None) -> dict:
    """Everything the system holds on one person, by date: each case (post, grade, dates) and each
    appointment document, the linked ID numbers and the recorded corrections. ``scope``: a Scope of
    unit ids the caller may see (None: all)."""
    ids = linked_ids(id_no)
    cases = person_cases(ids)
    unit_ids = {c["unit_id"] for c in cases}
    units = dict(db.session.execute(select(Unit.id, Unit.code).where(Unit.id.in_(unit_ids))).all()) if cases else {}
    events = []
    for c in cases:
        if scope is not None and not scope.contains(c["unit_id"]):
            continue
        day = c["appointment_effective_date"] or c["decision_date"]
        events.append({"date": day, "kind": "案例", "case_no": c["case_no"], "unit": units.get(c["unit_id"]),
                       "status": c["status"], "selection_type": c["selection_type"],
                       "current_post": c["current_post"], "current_post_date": c["current_post_date"],
                       "post": c["target_post"], "grade": c["target_grade"], "decision_date": c["decision_date"],
                       "decision_result": c["decision_result"], "id_card_no": c["id_card_no"],
                       **{k: c[k] for k in PERSON_FACTS}})
    for d in documents(ids):
        if scope is not None and not scope.contains(d["unit_id"]):
            continue
        events.append({"date": d["doc_date"], "kind": "任免文件", "doc_no": d["doc_no"], "unit": d["code"],
                       "post": d["post"], "full_name": d["person_name"], "id_card_no": d["id_card_no"]})
    events.sort(key=lambda e: (e["date"] or dt.date.max, e.get("case_no") or e.get("doc_no") or ""))
    return {"id_card_no": id_no, "linked_ids": sorted(ids), "events": events, "corrections": corrections(ids)}


# ---- one unit across cases ------------------------------------------------------------------------

LEAVING_TYPES = ("免职", "平级交流/转任", "提拔", "进一步使用", "降职")
DEPARTURE_LOOKAHEAD_DAYS = 366  # a departure decided up to a year after a decision may have been settled before it


def leader_departures(unit: Unit, decided: dt.date, exclude_root: int | None = None) -> list[dict]:
    """Current cases of the system, decided 通过 on or after ``decided`` (within the lookahead), of a
    person whose current post is in ``unit`` (by its name) and who leaves it (免职, or another target
    unit). The rule decides whether the post is the unit's 主要领导 (app/rules/posts.py)."""
    q, mo, de, ins = (MODULE_MODELS[k] for k in ("qualification", "motion", "decision", "inspection"))
    name = unit.name.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    rows = db.session.execute(
        select(Case.case_no, Case.root_id, q.current_post, mo.selection_type, mo.target_post, mo.motion_meeting_date,
               ins.inspection_notice_date, ins.inspection_start, Batch.decision_date)
        .join(q, q.case_id == Case.id).join(mo, mo.case_id == Case.id).join(de, de.case_id == Case.id)
        .join(Batch, Batch.id == Case.batch_id).outerjoin(ins, ins.case_id == Case.id)
        .where(Case.is_current.is_(True), Case.root_id != (exclude_root if exclude_root is not None else -1),
               de.decision_result == "通过", mo.selection_type.in_(LEAVING_TYPES),
               or_(mo.selection_type == "免职", mo.target_unit_id.is_(None), mo.target_unit_id != unit.id),
               q.current_post.like(name + "%", escape="\\"),
               Batch.decision_date >= decided,
               Batch.decision_date <= decided + dt.timedelta(days=DEPARTURE_LOOKAHEAD_DAYS))
        .order_by(Batch.decision_date)).all()
    return [r._asdict() for r in rows]


def unit_batch_sizes(unit_id: int, decided: dt.date, exclude_batch: int | None, lookback_days: int = 3 * 366) -> list[int]:
    """The sizes (current cases) of the unit's batches decided in the lookback before ``decided``."""
    rows = db.session.execute(
        select(Batch.id, func.count(Case.id)).join(Case, Case.batch_id == Batch.id)
        .where(Batch.unit_id == unit_id, Case.is_current.is_(True), Batch.id != (exclude_batch or -1),
               Batch.decision_date < decided, Batch.decision_date >= decided - dt.timedelta(days=lookback_days))
        .group_by(Batch.id)).all()
    return [n for _id, n in rows]


def units_named_in(posts) -> list[int]:
    """The units whose name begins one of these post texts (whose cases a departure may concern)."""
    posts = [p for p in posts if p]
    if not posts:
        return []
    return list(db.session.execute(select(Unit.id).where(
        or_(*(literal(p, String).like(Unit.name + "%") for p in posts)))).scalars())
