"""Case commands: create, save a module, complete a module. Each validates everything first,
collects every problem, and owns its transaction (all or nothing).

Signing, submission and correction live in app/workflow/submission.py, the lock on submitted cases
in app/workflow/guard.py, verification in app/workflow/verification.py.
"""
from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import select

from app.alarms import derived
from app.extensions import db
from app.models import Batch, Case, CasePerson, Unit
from app.models.case import STATUS_DRAFT, now
from app.record import custom_items
from app.record import lock as case_lock
from app.record.completeness import missing_items, module_state
from app.record.data import (
    CaseError,
    Problem,
    custom_problems,
    editable_modules,
    ensure_rows,
    new_case,
    read_case,
    write_values,
)
from app.record.input_checks import responsible_problems
from app.record.validation import validate_values
from app.spec import MODULE_KEYS, module
from app.workflow import submission as case_workflow


@dataclass
class SaveResult:
    state: str
    missing: list[Problem] = field(default_factory=list)
    version: str = ""  # the module's version after the save (app.record.lock)


def module_problems(values: dict, module_key: str) -> list[Problem]:
    return [p for p in validate_values(values) if p.module == module_key]


def create_case(unit: Unit, user=None) -> Case:
    case = new_case(unit, user)
    db.session.add(case)
    try:
        db.session.flush()
        case.root_id = case.id
        derived.derive(case)
        db.session.commit()
    except Exception:
        db.session.rollback()
        raise
    return case


def save_module(case: Case, module_key: str, values: dict, *, handler: str | None = None,
                leader: str | None = None, version: str | None = None, base: str | None = None) -> SaveResult:
    """Save what was entered for one module. Wrong values are refused (nothing is written);
    missing ones are allowed while the module is being filled in and are reported back.
    ``version`` (and the form's ``base`` snapshot) is the module version the entry was based on:
    another one means someone else saved in between (case_lock.StaleWrite, nothing written)."""
    case_lock.refuse_workflow_module(module_key)
    try:
        case_lock.lock_case(case)  # checked below as committed: a submission that won the race is seen
        if module_key not in editable_modules(case):
            raise CaseError([Problem(module_key, "", f"案例当前状态为“{case.status}”，“{module(module_key).name}”已锁定，不能修改")])
        meta = {k: v for k, v in (("handler", handler), ("leader", leader)) if v is not None}
        case_lock.check_version(case, module_key, version, {**values, **meta}, base)
        before = derived.contribution(case)  # what other cases read of this one, before the change
        merged = read_case(case)
        merged[module_key] = {**merged[module_key], **values}
        problems = module_problems(merged, module_key)
        problems += custom_problems(case, module_key, values)
        problems += [Problem(module_key, f, m) for f, m in responsible_problems(handler, leader)]
        if problems:
            raise CaseError(problems)
        ensure_rows(case)
        if module_key == "decision":
            _place_in_batch(case, merged["decision"], values)
        write_values(case, module_key, values)
        row = case.module_row(module_key)
        if handler is not None:
            row.handler = handler or None
        if leader is not None:
            row.leader = leader or None
        row.completed_at = None  # a change reopens the step until it is completed again
        extra = custom_items.items_for(case, module_key)
        row.state = module_state(merged, module_key, completed=False, extra=extra)
        case_workflow.void_stale_signatures(case)
        derived.derive(case, before=before)  # deadlines, evaluation and light, stored with the change
        saved = SaveResult(row.state, missing_items(merged, module_key, extra),
                           case_lock.module_version(case, module_key))
        db.session.commit()
    except Exception:
        db.session.rollback()
        raise
    return saved


BATCH_FIELDS = ("members_total", "members_present", "absent_opinion_collected", "vote_method", "main_leader_last")


def _place_in_batch(case: Case, decision: dict, given: dict) -> None:
    """Put the case in its meeting's batch. Changing the meeting's data while a submitted case
    (or an earlier version of this one) belongs to the batch makes a corrected copy of the batch
    for this case: what was submitted stays as it was."""
    batch = case.batch
    same_meeting = batch is not None and batch.decision_date == decision.get("decision_date") \
        and batch.decision_meeting_type == decision.get("decision_meeting_type")
    if not same_meeting:
        batch, problems = find_or_create_batch(case.unit, decision)
        if problems:
            raise CaseError(problems)
        case.batch = batch
        return
    changes = {k: given[k] for k in BATCH_FIELDS if k in given and given[k] != getattr(batch, k)}
    shared_evidence = any(c.id != case.id and c.status != STATUS_DRAFT for c in batch.cases)
    if changes and shared_evidence:
        copy = Batch(unit_id=batch.unit_id, title=f"{batch.title}（更正）", decision_date=batch.decision_date,
                     decision_meeting_type=batch.decision_meeting_type, vote_method=batch.vote_method,
                     members_total=batch.members_total, members_present=batch.members_present,
                     absent_opinion_collected=batch.absent_opinion_collected,
                     main_leader_last=batch.main_leader_last, decision_minutes_file_id=batch.decision_minutes_file_id)
        db.session.add(copy)
        db.session.flush()
        for person in db.session.execute(select(CasePerson).where(CasePerson.batch_id == batch.id)).scalars():
            db.session.add(CasePerson(unit_id=person.unit_id, batch_id=copy.id, item_key=person.item_key,
                                      position=person.position, name=person.name, id_card_no=person.id_card_no,
                                      post=person.post))
        case.batch = copy


def complete_module(case: Case, module_key: str) -> None:
    """Mark a step complete: its predecessors must be complete (前后衔接、环环相扣), nothing may be
    missing or wrong, and the step must name its handler and responsible leader."""
    try:
        case_lock.lock_case(case)  # the state checked below is the committed one
    except Exception:
        db.session.rollback()
        raise
    if module_key not in editable_modules(case):
        db.session.rollback()
        raise CaseError([Problem(module_key, "", f"“{module(module_key).name}”已锁定")])
    values = read_case(case)
    problems = []
    order = list(MODULE_KEYS)
    for earlier in order[: order.index(module_key)]:
        if earlier in ("signature", "submission"):
            continue
        if case.module_row(earlier).state != "已完成":
            problems.append(Problem(module_key, "", f"请先完成前一环节“{module(earlier).name}”"))
            break
    problems += missing_items(values, module_key, custom_items.items_for(case, module_key))
    problems += module_problems(values, module_key)
    row = case.module_row(module_key)
    if not row.handler:
        problems.append(Problem(module_key, "handler", "请填写本环节的经办人"))
    if not row.leader:
        problems.append(Problem(module_key, "leader", "请填写本环节的责任领导"))
    if problems:
        db.session.rollback()  # ends the transaction: the case lock is released
        raise CaseError(problems)
    try:
        row.state = "已完成"
        row.completed_at = now()
        derived.derive(case)
        db.session.commit()
    except Exception:
        db.session.rollback()
        raise


def module_overview(case: Case) -> list[dict]:
    """The 11 modules in procedure order with their state, handler and leader."""
    out = []
    for spec in (module(k) for k in MODULE_KEYS):
        row = case.module_row(spec.key)
        out.append({"key": spec.key, "order": spec.order, "name": spec.name,
                    "state": row.state if row is not None else "未填",
                    "handler": getattr(row, "handler", None), "leader": getattr(row, "leader", None)})
    return out


def find_or_create_batch(unit: Unit, decision: dict) -> tuple[Batch | None, list[Problem]]:
    """The batch of this unit's meeting (date and type); its meeting data must agree."""
    date, kind = decision.get("decision_date"), decision.get("decision_meeting_type")
    if not date or not kind:
        return None, []
    batch = db.session.execute(
        select(Batch).where(Batch.unit_id == unit.id, Batch.decision_date == date,
                            Batch.decision_meeting_type == kind)
    ).scalars().first()
    if batch is None:
        batch = Batch(unit_id=unit.id, title=f"{date.isoformat()} {kind}", decision_date=date,
                      decision_meeting_type=kind)
        db.session.add(batch)
        db.session.flush()
        return batch, []
    problems = []
    for key in ("members_total", "members_present", "absent_opinion_collected", "vote_method", "main_leader_last"):
        given, stored = decision.get(key), getattr(batch, key)
        if given is not None and stored is not None and given != stored:
            problems.append(Problem("decision", key, f"与同一会议批次“{batch.title}”已登记的值（{stored}）不一致：{given}"))
    return batch, problems



__all__ = ["CaseError", "create_case", "save_module", "complete_module", "module_overview",
           "editable_modules", "find_or_create_batch"]
