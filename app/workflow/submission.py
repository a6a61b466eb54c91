"""The case workflow: three-level signing, the two submissions, the lock on submitted cases,
correction (退回补正) into a new version, and verification of the evidence chain.

* ``sign`` — 选任工作部门分管负责人 → 选任工作部门主要领导 → 选任责任单位领导, in that order, by three
  different 签字领导 of the case's unit (never the case's creator), once modules 1–7 are complete.
  Each Signature holds the SHA-256 of the content it was given (modules 1–9, ``content_hash``) and
  seals its own columns in ``record_sha256``. A change to a draft afterwards voids it.
* ``submit`` — node 1 (初次提交) needs the three valid signatures over the current content and the
  authenticity pledge; node 2 (二次提交) needs 公示 and 任职 complete. Each stores the canonical JSON
  snapshot of the case, its SHA-256, and the SHA-256 of the previous submission of the same case
  (across versions): a hash chain.
* The lock — a ``before_flush`` listener: a submitted case is read-only on every path (forms, API,
  CLI, ORM). Only this module's own writes pass, inside ``workflow_write()``. A refused flush raises
  ``CaseLocked``, a ``cases.CaseError`` that is also an ``integrity.ValidationFailed`` (so the
  generic views' existing handlers show its Chinese messages). The transaction that creates a case
  (``create_case``, a JSON import) may still fill any of its modules.
* ``return_for_correction`` — a supervisor sends a submitted case back: the old version is kept
  unchanged (status 已退回补正, no longer current) and a new draft version continues the case.
* ``verify_all`` — recomputes every hash and HMAC seal and compares the submitted cases' live rows
  with their snapshots (app/record/evidence.py); reports each break with the case it belongs to.

Every refusal raises ``cases.CaseError`` listing every problem in Chinese; each command owns its
transaction (all or nothing).
"""
from __future__ import annotations

import datetime as dt
import json
from contextlib import contextmanager
from types import SimpleNamespace

from sqlalchemy import event, func, inspect, select
from sqlalchemy.orm import Session
from sqlalchemy.orm.interfaces import MANYTOONE

from app.extensions import db
from app.integrity import ValidationFailed
from app.models import MODULE_MODELS, Attachment, Batch, Case, CasePerson, Signature, Submission
from app.models.case import STATUS_DRAFT, STATUS_FIRST, STATUS_RETURNED, STATUS_SECOND, now
from app.record import data as case_data
from app.alarms import derived
from app.record.data import (
    CONTENT_MODULES, CaseError, Problem, canonical_json, content_hash, editable_modules, export_case, read_case,
    sha256_text, to_exchange, write_values,
)
from app.record import evidence
from app.record.lock import lock_case, stored_state
from app.record.input_checks import person_limits
from app.spec import MODULE_KEYS, items_by_key, module

SIGNER_ROLE = "签字领导"
CLERK_ROLE = "填报员"
SUPERVISOR_ROLES = ("监督员", "系统管理员")
OPINION_AGREE = "情况属实同意报送"
OPINION_RETURN = "退回修改"
OPINIONS = (OPINION_AGREE, OPINION_RETURN)
VOID_REASON = "签字后案例内容已变更"
PRE_SIGN_MODULES = MODULE_KEYS[:7]  # 任职资格 … 讨论决定: complete before anyone signs
POST_DECISION_MODULES = ("publicity", "appointment")  # complete before 二次提交
WORKFLOW_FLAG = "jishi_workflow"
CREATED_KEY = "jishi_created_cases"  # ids of the cases created in the session's current transaction
SIG_FIELDS = ("signer", "post", "opinion", "signed_at")


class CaseLocked(CaseError, ValidationFailed):
    """A flush that would change a locked case (raised by the lock listener)."""

    def __init__(self, problems: list[Problem]):
        self.problems = list(problems)
        self.errors = [p.message for p in self.problems]
        Exception.__init__(self, "；".join(self.errors))


# ---- helpers ---------------------------------------------------------------------------------------

def _roles(user) -> set[str]:
    return {r.name for r in getattr(user, "roles", None) or []}


def display_name(user) -> str:
    """姓 + 名 (FAB's last_name is 姓, first_name is 名), else the username."""
    name = f"{(user.last_name or '').strip()}{(user.first_name or '').strip()}"
    return name or user.username


def _state(case: Case, key: str) -> str:
    row = case.module_row(key)
    return row.state if row is not None else "未填"


def _fail(problems: list[Problem]) -> None:
    if problems:
        raise CaseError(problems)


@contextmanager
def workflow_write():
    """Let this block's flushes through the lock: the workflow's own writes (signature and
    submission modules, status changes, correction). Nests; always resets."""
    info = db.session.info
    previous = info.get(WORKFLOW_FLAG)
    info[WORKFLOW_FLAG] = True
    try:
        yield
    finally:
        if previous is None:
            info.pop(WORKFLOW_FLAG, None)
        else:
            info[WORKFLOW_FLAG] = previous


def _lock_row(case: Case) -> None:
    """Serialise every write to one case (app.record.lock: row lock, then a fresh read)."""
    lock_case(case)


def _signatures(case: Case) -> list[Signature]:
    return db.session.execute(
        select(Signature).where(Signature.case_id == case.id).order_by(Signature.id)
    ).scalars().all()


def active_signatures(case: Case) -> dict[int, Signature]:
    """The non-voided signatures of the case by level."""
    return {s.level: s for s in _signatures(case) if s.voided_at is None}


def _check_case_state(case: Case, wanted: tuple[str, ...], doing: str) -> list[Problem]:
    if not case.is_current:
        return [Problem("", "", f"案例“{case.case_no}”第 {case.version_no} 版已被新版本取代，不能{doing}")]
    if case.status not in wanted:
        return [Problem("", "", f"案例当前状态为“{case.status}”，不能{doing}")]
    return []


def _incomplete(case: Case, keys) -> list[Problem]:
    return [Problem(k, "", f"“{module(k).name}”尚未完成（当前：{_state(case, k)}）") for k in keys
            if _state(case, k) != "已完成"]


def _signature_module_state(case: Case) -> None:
    from app.record.validation import module_state

    values = read_case(case)
    active = active_signatures(case)
    done = all(lv in active for lv in Signature.LEVELS) and values["signature"].get("authenticity_pledge") is True
    row = case.module_row("signature")
    row.state = module_state(values, "signature", completed=done)
    row.completed_at = now() if row.state == "已完成" else None


# ---- signatures ------------------------------------------------------------------------------------

def signature_record_hash(*, case_id, level, signer_id, signer_name, post, opinion, signed_at,
                          snapshot_sha256) -> str:
    """The SHA-256 that seals a signature row."""
    signed_at = signed_at.isoformat() if isinstance(signed_at, dt.datetime) else signed_at
    return sha256_text(canonical_json({
        "case_id": case_id, "level": level, "signer_id": signer_id, "signer_name": signer_name, "post": post,
        "opinion": opinion, "signed_at": signed_at, "snapshot_sha256": snapshot_sha256,
    }))


def _record_hash_of(sig: Signature) -> str:
    return signature_record_hash(case_id=sig.case_id, level=sig.level, signer_id=sig.signer_id,
                                 signer_name=sig.signer_name, post=sig.post, opinion=sig.opinion,
                                 signed_at=sig.signed_at, snapshot_sha256=sig.snapshot_sha256)


def sign(case: Case, user, level: int, post: str, opinion: str) -> Signature:
    """One of the three signatures over the case's current content."""
    try:
        _lock_row(case)
        void_stale_signatures(case)  # a change not made through save_module (e.g. the batch) voids too
        problems = _check_case_state(case, (STATUS_DRAFT,), "签字")
        roles = _roles(user)
        if SIGNER_ROLE not in roles:
            problems.append(Problem("signature", "", f"用户“{user.username}”不是签字领导，不能签字"))
        if user.unit_id != case.unit_id:
            problems.append(Problem("signature", "", "签字领导须属于本案例的选任责任单位"))
        if case.created_by_id is not None and user.id == case.created_by_id:
            problems.append(Problem("signature", "", "案例的创建人不能为本案例签字"))
        post = (post or "").strip()
        if not post:
            problems.append(Problem("signature", "", "请填写签字人职务"))
        problems += [Problem("signature", "", m) for m in person_limits(display_name(user), post, "签字人")]
        if opinion not in OPINIONS:
            problems.append(Problem("signature", "", f"签署意见应为“{OPINION_AGREE}”或“{OPINION_RETURN}”"))
        if level not in Signature.LEVELS:
            problems.append(Problem("signature", "", "签字级别应为 1、2 或 3"))
        else:
            active = active_signatures(case)
            if level in active:
                problems.append(Problem("signature", f"sig{level}_signer",
                                        f"第 {level} 级（{Signature.LEVELS[level]}）已由“{active[level].signer_name}”签字"))
            for earlier in range(1, level):
                if earlier not in active:
                    problems.append(Problem("signature", f"sig{earlier}_signer",
                                            f"请先由第 {earlier} 级（{Signature.LEVELS[earlier]}）签字"))
                elif active[earlier].opinion != OPINION_AGREE:
                    problems.append(Problem("signature", f"sig{earlier}_signer",
                                            f"第 {earlier} 级签署意见为“{active[earlier].opinion}”，请修改案例后重新签字"))
            mine = [s.level for s in active.values() if s.signer_id == user.id]
            if mine:
                problems.append(Problem("signature", "", f"三级签字须由三名不同的领导签署，您已签署第 {mine[0]} 级"))
        problems += _incomplete(case, PRE_SIGN_MODULES)
        _fail(problems)

        signed_at = now().replace(microsecond=0)
        snapshot = content_hash(case)
        name = display_name(user)
        sig = Signature(unit_id=case.unit_id, case_id=case.id, level=level, signer_id=user.id, signer_name=name,
                        post=post, opinion=opinion, signed_at=signed_at, snapshot_sha256=snapshot)
        sig.record_sha256 = _record_hash_of(sig)
        evidence.seal_signature(sig)
        with workflow_write():
            db.session.add(sig)
            write_values(case, "signature", {
                f"sig{level}_signer": {"name": name, "post": post}, f"sig{level}_post": post,
                f"sig{level}_opinion": opinion, f"sig{level}_signed_at": dt.date.today(),
            })
            db.session.flush()
            from app.record.validation import validate_values

            _fail([p for p in validate_values(read_case(case)) if p.module == "signature"])
            _signature_module_state(case)
            derived.derive(case)
            db.session.commit()
        return sig
    except Exception:
        db.session.rollback()
        raise


def void_stale_signatures(case: Case) -> list[Signature]:
    """Void every signature of a draft whose content has changed since it was signed. Does not
    commit (the caller's transaction does). After 初次提交 the signatures stay with the submission
    they were given for (only 公示 and 任职 change then)."""
    if case.id is None or case.status != STATUS_DRAFT:
        return []
    db.session.flush()  # the caller's own changes go through the lock as themselves
    current = content_hash(case)
    stale = [s for s in _signatures(case) if s.voided_at is None and s.snapshot_sha256 != current]
    if not stale:
        return []
    with workflow_write():
        stamp = now()
        cleared = {}
        for sig in stale:
            sig.voided_at = stamp
            sig.void_reason = VOID_REASON
            cleared.update({f"sig{sig.level}_{f}": None for f in SIG_FIELDS})
        write_values(case, "signature", cleared)
        db.session.flush()
        _signature_module_state(case)
        db.session.flush()
    return stale


def set_pledge(case: Case, user, value: bool = True) -> None:
    """填报内容真实性承诺, by a 填报员 or 签字领导 of the case's unit."""
    try:
        _lock_row(case)
        problems = _check_case_state(case, (STATUS_DRAFT,), "修改真实性承诺")
        if not _roles(user) & {CLERK_ROLE, SIGNER_ROLE} or user.unit_id != case.unit_id:
            problems.append(Problem("signature", "authenticity_pledge", "只有本单位的填报员或签字领导可以作出真实性承诺"))
        if not isinstance(value, bool):
            problems.append(Problem("signature", "authenticity_pledge", "真实性承诺应为是或否"))
        _fail(problems)
        with workflow_write():
            write_values(case, "signature", {"authenticity_pledge": value})
            db.session.flush()
            _signature_module_state(case)
            derived.derive(case)
            db.session.commit()
    except Exception:
        db.session.rollback()
        raise


# ---- submissions -----------------------------------------------------------------------------------

def _submission_problems(case: Case, user, node: int) -> list[Problem]:
    if node not in Submission.NODES:
        return [Problem("submission", "", "提交节点应为 1（初次提交）或 2（二次提交）")]
    label = Submission.NODES[node]
    problems = _check_case_state(case, (STATUS_DRAFT,) if node == 1 else (STATUS_FIRST,), label)
    if CLERK_ROLE not in _roles(user) or user.unit_id != case.unit_id:
        problems.append(Problem("submission", "", f"只有本单位的填报员可以{label}"))
    problems += [Problem("submission", "", m) for m in person_limits(display_name(user), None, "提交人")]
    if node == 1:
        problems += _incomplete(case, PRE_SIGN_MODULES)
        current = content_hash(case)
        active = active_signatures(case)
        for level, title in Signature.LEVELS.items():
            sig = active.get(level)
            if sig is None:
                problems.append(Problem("signature", f"sig{level}_signer", f"缺少第 {level} 级（{title}）签字"))
            elif sig.snapshot_sha256 != current:
                problems.append(Problem("signature", f"sig{level}_signer",
                                        f"第 {level} 级（{title}）签字后案例内容已变更，请重新签字"))
            elif sig.opinion != OPINION_AGREE:
                problems.append(Problem("signature", f"sig{level}_opinion",
                                        f"第 {level} 级（{title}）签署意见为“{sig.opinion}”，不能报送"))
        if case.module_row("signature").authenticity_pledge is not True:
            problems.append(Problem("signature", "authenticity_pledge", "尚未作出填报内容真实性承诺"))
    else:
        problems += _incomplete(case, POST_DECISION_MODULES)
    return problems


def submit(case: Case, user, node: int) -> Submission:
    """初次提交 (node 1) or 二次提交 (node 2): fill the submission module, change the status and store
    the snapshot chained to the previous submission of the case — one transaction."""
    try:
        _lock_row(case)
        before = derived.contribution(case)
        _fail(_submission_problems(case, user, node))
        name = display_name(user)
        prefix = "first" if node == 1 else "second"
        with workflow_write():
            write_values(case, "submission", {f"{prefix}_submitted_at": dt.date.today(),
                                              f"{prefix}_submitter": {"name": name}})
            row = case.module_row("submission")
            from app.deadlines.due import submission_status

            setattr(row, f"{prefix}_submit_status", submission_status(case, node, dt.date.today()))
            if node == 1 and not row.second_submit_status:
                row.second_submit_status = "未到期"
            row.state = "填写中" if node == 1 else "已完成"
            row.completed_at = now() if node == 2 else None
            case.status = STATUS_FIRST if node == 1 else STATUS_SECOND
            db.session.flush()
            # The submission point's rules run in the same transaction (a red hit raises an alarm);
            # the red codes are part of what is submitted.
            result = derived.evaluate_submission(case, "S1" if node == 1 else "S2")
            row.alarm_codes = ",".join(h.code for h in result.hits if h.severity == "red") or None
            db.session.flush()
            snapshot = canonical_json(export_case(case))
            prev = db.session.execute(
                select(Submission.sha256).where(Submission.root_id == case.root_id)
                .order_by(Submission.id.desc()).limit(1)
            ).scalar()
            sub = Submission(unit_id=case.unit_id, case_id=case.id, root_id=case.root_id, node=node,
                             submitted_at=now().replace(microsecond=0), submitted_by_id=user.id,
                             submitted_by_name=name, snapshot=snapshot, sha256=sha256_text(snapshot),
                             content_sha256=content_hash(case), prev_sha256=prev)
            evidence.seal_submission(sub)
            db.session.add(sub)
            db.session.flush()
            derived.derive(case, before=before)  # the node is now reported: on time or late; its deadline alarm closes
            db.session.commit()
        return sub
    except Exception:
        db.session.rollback()
        raise


# ---- correction ------------------------------------------------------------------------------------

_ROW_SKIP = {"id", "case_id"}
_CLEARED_MODULES = ("signature", "submission")


def return_for_correction(case: Case, supervisor, reason: str) -> Case:
    """退回补正: keep the submitted version as it is and continue the case in a new draft version."""
    from app.scoping import scope_for

    try:
        _lock_row(case)
        before = derived.contribution(case)
        problems = _check_case_state(case, (STATUS_FIRST, STATUS_SECOND), "退回补正")
        if not _roles(supervisor) & set(SUPERVISOR_ROLES):
            problems.append(Problem("", "", "只有监督员或系统管理员可以退回补正"))
        elif not scope_for(supervisor).contains(case.unit_id):
            problems.append(Problem("", "", "该案例不在您的监督范围内"))
        reason = (reason or "").strip()
        if not reason:
            problems.append(Problem("", "return_reason", "请填写退回补正的理由"))
        _fail(problems)
        with workflow_write():
            new = Case(unit_id=case.unit_id, unit=case.unit, batch_id=case.batch_id, case_no=case.case_no,
                       version_no=case.version_no + 1, root_id=case.root_id or case.id, previous_id=case.id,
                       is_current=True, status=STATUS_DRAFT, full_name=case.full_name,
                       created_by_id=case.created_by_id, return_reason=reason)
            for key, model in MODULE_MODELS.items():
                old_row = case.module_row(key)
                row = model(unit_id=case.unit_id)
                if old_row is not None and key not in _CLEARED_MODULES:
                    for attr in inspect(model).column_attrs:
                        if attr.key not in _ROW_SKIP:
                            setattr(row, attr.key, getattr(old_row, attr.key))
                if key in _CLEARED_MODULES:
                    row.state = "未填"
                setattr(new, f"m_{key}", row)
            cleared_keys = {i.key for k in _CLEARED_MODULES for i in module(k).items}
            for p in case.persons:
                if p.batch_id is None and p.item_key not in cleared_keys:
                    new.persons.append(CasePerson(unit_id=p.unit_id, item_key=p.item_key, position=p.position,
                                                  name=p.name, id_card_no=p.id_card_no, post=p.post))
            case.status = STATUS_RETURNED
            case.is_current = False
            db.session.flush()  # the old version stops being current before the new one is added
            db.session.add(new)
            db.session.flush()
            derived.derive(new, before=before)  # the deadlines, evaluation and light follow the case to its new version
            db.session.commit()
        return new
    except Exception:
        db.session.rollback()
        raise


def diff_versions(old_case: Case, new_case: Case, modules=None) -> list[dict]:
    """Field by field differences between two versions (exchange format values)."""
    old_values = to_exchange(read_case(old_case), drop_empty=False)
    new_values = to_exchange(read_case(new_case), drop_empty=False)
    out = []
    for key in modules or MODULE_KEYS:
        for item in module(key).items:
            a = old_values[key].get(item.key)
            b = new_values[key].get(item.key)
            if a in case_data.EMPTY and b in case_data.EMPTY:
                continue
            if a != b:
                out.append({"module": key, "key": item.key, "label": item.label, "old": a, "new": b})
    return out


# ---- verification ----------------------------------------------------------------------------------

def _snapshot_content_hash(snapshot: str) -> str | None:
    try:
        data = json.loads(snapshot)
    except ValueError:
        return None
    if not isinstance(data, dict):
        return None
    return sha256_text(canonical_json({k: data.get(k, {}) for k in CONTENT_MODULES}))


def verify_all(root_ids=None) -> list[dict]:
    """Recompute every submission and signature hash; each break names its case. ``root_ids``
    limits the check to those cases (all versions)."""
    cases = {cid: no for cid, no in db.session.execute(select(Case.id, Case.case_no))}
    breaks = []

    def report(case_id, kind, message):
        breaks.append({"case_id": case_id, "case_no": cases.get(case_id), "kind": kind, "message": message})

    sig_query = select(Signature.id, Signature.case_id, Signature.level, Signature.signer_id, Signature.signer_name,
                       Signature.post, Signature.opinion, Signature.signed_at, Signature.snapshot_sha256,
                       Signature.record_sha256, Signature.record_hmac, Signature.voided_at).order_by(Signature.id)
    sub_query = select(Submission.id, Submission.case_id, Submission.root_id, Submission.node, Submission.snapshot,
                       Submission.sha256, Submission.content_sha256, Submission.prev_sha256, Submission.hmac,
                       Submission.prev_hmac).order_by(Submission.id)
    seals = evidence.SealCheck(whole_chain=root_ids is None)
    if root_ids is not None:
        root_ids = list(root_ids)
        case_ids = select(Case.id).where(Case.root_id.in_(root_ids))
        sig_query = sig_query.where(Signature.case_id.in_(case_ids))
        sub_query = sub_query.where(Submission.root_id.in_(root_ids))

    active: dict[int, dict[int, str]] = {}  # case_id → level → snapshot_sha256 (non-voided)
    for s in db.session.execute(sig_query):
        expected = signature_record_hash(case_id=s.case_id, level=s.level, signer_id=s.signer_id,
                                         signer_name=s.signer_name, post=s.post, opinion=s.opinion,
                                         signed_at=s.signed_at, snapshot_sha256=s.snapshot_sha256)
        if expected != s.record_sha256:
            report(s.case_id, "signature_record",
                   f"第 {s.level} 级签字（记录 #{s.id}，签字人“{s.signer_name}”）的内容与其封存哈希不一致：签字记录已被篡改")
        elif problem := seals.signature(s):  # only where the plain hash holds: one report per forgery
            report(s.case_id, "seal", f"第 {s.level} 级签字（记录 #{s.id}）{problem}")
        if s.voided_at is None:
            active.setdefault(s.case_id, {})[s.level] = s.snapshot_sha256

    last: dict[int, str] = {}  # root_id → sha256 of its latest submission so far
    for s in db.session.execute(sub_query.execution_options(yield_per=200)):
        label = f"{Submission.NODES.get(s.node, s.node)}（记录 #{s.id}）"
        before = len(breaks)
        if sha256_text(s.snapshot) != s.sha256:
            report(s.case_id, "submission_hash", f"{label}的快照与其 SHA-256 不一致：提交快照已被篡改")
        elif _snapshot_content_hash(s.snapshot) != s.content_sha256:
            report(s.case_id, "content_hash", f"{label}的快照内容与记录的内容哈希不一致")
        if s.prev_sha256 != last.get(s.root_id):
            report(s.case_id, "chain", f"{label}的前序哈希与同一案例上一份提交不一致：提交链断裂")
        last[s.root_id] = s.sha256
        if len(breaks) == before and (problem := seals.submission(s)):
            report(s.case_id, "seal", f"{label}{problem}")
        if problem := seals.link(s):
            report(s.case_id, "seal_chain", f"{label}{problem}")
        if s.node == 1:
            sigs = active.get(s.case_id, {})
            for level, title in Signature.LEVELS.items():
                if sigs.get(level) != s.content_sha256:
                    report(s.case_id, "signature_snapshot",
                           f"{label}缺少第 {level} 级（{title}）针对所提交内容的有效签字")
    if problem := seals.key_problem():
        breaks.append({"case_id": None, "case_no": None, "kind": "key", "message": problem})
    breaks += evidence.live_row_breaks(root_ids)  # the locked modules' live rows against the snapshot
    return breaks


def evidence_counts(root_ids=None) -> tuple[int, int]:
    """(submissions, signatures) that ``verify_all`` checks."""
    subs = select(func.count(Submission.id))
    sigs = select(func.count(Signature.id))
    if root_ids is not None:
        root_ids = list(root_ids)
        subs = subs.where(Submission.root_id.in_(root_ids))
        sigs = sigs.where(Signature.case_id.in_(select(Case.id).where(Case.root_id.in_(root_ids))))
    return db.session.execute(subs).scalar(), db.session.execute(sigs).scalar()


# ---- the lock ------------------------------------------------------------------------------------

_CASE_WORKFLOW_FIELDS = ("status", "is_current", "version_no", "previous_id", "root_id", "return_reason")
_ROW_META = {"id", "case_id", "unit_id", "state", "handler", "leader", "completed_at"}
_DERIVED_FIELDS = {"light"}  # derived from the facts (app/alarms/derived.py), not content: never locked


def _changed_fields(obj) -> set[str]:
    """Columns (and many-to-one references) whose value really changes in this flush."""
    state = inspect(obj)
    mapper = state.mapper
    out = {a.key for a in mapper.column_attrs if state.attrs[a.key].history.has_changes()}
    for rel in mapper.relationships:
        if rel.direction is not MANYTOONE:
            continue
        hist = state.attrs[rel.key].history
        if not hist.has_changes():
            continue
        target = hist.added[0] if hist.added else None
        for local, remote in rel.local_remote_pairs:
            key = mapper.get_property_by_column(local).key
            new = getattr(target, inspect(target).mapper.get_property_by_column(remote).key) if target is not None else None
            if new is None and target is not None:
                out.add(key)  # a new object: its key is not known yet
            elif new != state.dict.get(key):
                out.add(key)
    return out


class _LockCheck:
    def __init__(self, session: Session):
        self.session = session
        self.problems: list[Problem] = []
        self._cases: dict[int, tuple] = {}
        self._batches: dict[int, list] = {}
        self.deleted_cases = {o.id for o in session.deleted if isinstance(o, Case)}

    def refuse(self, module_key: str, key: str, message: str) -> None:
        if not any(p.message == message for p in self.problems):
            self.problems.append(Problem(module_key, key, message))

    def db_value(self, obj, key):
        """The value the database holds (what this flush would change)."""
        hist = inspect(obj).attrs[key].history
        if hist.deleted:
            return hist.deleted[0]
        if hist.unchanged:
            return hist.unchanged[0]
        if not hist.added:
            return getattr(obj, key)
        cls = type(obj)
        return self.session.execute(select(getattr(cls, key)).where(cls.id == obj.id)).scalar()

    def case_state(self, case_id):
        """(case_no, status, is_current, root_id) of a stored case, as stored."""
        if case_id not in self._cases:
            row = stored_state(self.session, case_id)  # with the row lock: no submission slips in between
            self._cases[case_id] = tuple(row) if row else None
        return self._cases[case_id]

    def _case_of(self, obj):
        """The owning case: ('new', case) for a case being created, ('stored', id) or None."""
        case = obj.__dict__.get("case")
        if case is not None and case in self.session.new:
            return "new", case
        if inspect(obj).persistent:
            case_id = self.db_value(obj, "case_id")
        else:
            case_id = case.id if case is not None else obj.case_id
        return ("stored", case_id) if case_id is not None else None

    def check_module(self, case_ref, module_key: str, what: str) -> None:
        if case_ref is None or case_ref[0] == "new":
            return
        case_id = case_ref[1]
        if case_id in self.deleted_cases:
            return  # the case itself is deleted: checked as a case
        if case_id in self.session.info.get(CREATED_KEY, ()):
            return  # created in this transaction (e.g. an import filling all its values)
        state = self.case_state(case_id)
        if state is None:
            return
        case_no, status, is_current, _root = state
        if module_key not in editable_modules(SimpleNamespace(status=status, is_current=is_current)):
            name = module(module_key).name if module_key in MODULE_KEYS else module_key
            if not is_current:
                self.refuse(module_key, "", f"案例“{case_no}”的这一版本已被新版本取代（{status}），“{name}”不能修改（{what}）")
            else:
                self.refuse(module_key, "", f"案例“{case_no}”当前状态为“{status}”，“{name}”已锁定，不能修改（{what}）")

    def check_batch(self, batch_id, what: str) -> None:
        if batch_id is None:
            return
        if batch_id not in self._batches:
            self._batches[batch_id] = self.session.execute(
                select(Case.case_no, Case.status).where(Case.batch_id == batch_id, Case.is_current.is_(True),
                                                        Case.status != STATUS_DRAFT)
            ).all()
        locked = self._batches[batch_id]
        if locked:
            numbers = "、".join(f"{no}（{status}）" for no, status in locked[:5])
            self.refuse("decision", "", f"会议批次中的案例 {numbers} 已提交，批次的会议信息已锁定，不能修改（{what}）")

    # -- per kind --

    def module_row(self, obj, action: str) -> None:
        key = obj.__module_key__
        if action == "insert" and all(
                getattr(obj, a.key) is None for a in inspect(obj).mapper.column_attrs if a.key not in _ROW_META):
            return  # an empty row (ensure_rows) changes nothing
        if action == "update" and not _changed_fields(obj):
            return
        self.check_module(self._case_of(obj), key, f"{module(key).name}记录")

    def person(self, obj, action: str, batch_changes) -> None:
        if inspect(obj).persistent:
            batch_id, case_id = self.db_value(obj, "batch_id"), self.db_value(obj, "case_id")
        else:
            batch_id, case_id = obj.batch_id, None
        if action == "update" and not _changed_fields(obj):
            return
        if batch_id is not None or (action == "insert" and obj.batch_id is not None):
            batch_changes.setdefault((batch_id or obj.batch_id, obj.item_key), []).append((action, obj))
            return
        item = items_by_key().get(obj.item_key)
        ref = self._case_of(obj) if case_id is None else ("stored", case_id)
        self.check_module(ref, item.module if item else "", f"人员“{obj.name}”")

    def attachment(self, obj, action: str) -> None:
        if action == "update" and not _changed_fields(obj):
            return
        persistent = inspect(obj).persistent
        batch_id = self.db_value(obj, "batch_id") if persistent else obj.batch_id
        if batch_id is not None:
            self.check_batch(batch_id, f"附件“{obj.filename}”")
            return
        case_id = self.db_value(obj, "case_id") if persistent else obj.case_id
        if case_id is None:
            return
        state = self.case_state(case_id)
        if state is not None and not state[2] and state[3] is not None:
            # A reference shared with later versions (attachments are immutable files): it
            # belongs to the case's current version.
            current = self.session.execute(select(Case.id).where(Case.root_id == state[3],
                                                                 Case.is_current.is_(True))).scalar()
            case_id = current or case_id
        item = items_by_key().get(obj.item_key or "")
        module_key = item.module if item else "qualification"
        self.check_module(("stored", case_id), module_key, f"附件“{obj.filename}”")

    def case(self, obj, action: str) -> None:
        if action == "insert":
            if obj.status not in (None, STATUS_DRAFT) or obj.is_current is False:
                self.refuse("", "status", f"新建案例只能是草稿（案例“{obj.case_no}”）")
            return
        state = self.case_state(obj.id)
        if state is None:
            return
        case_no, status, is_current, root_id = state
        if action == "delete":
            if status != STATUS_DRAFT or not is_current or self.db_value(obj, "previous_id") is not None:
                self.refuse("", "", f"案例“{case_no}”已提交或属于补正版本链，不能删除")
            return
        changed = _changed_fields(obj) - _DERIVED_FIELDS
        if not changed:
            return
        if status != STATUS_DRAFT or not is_current:
            self.refuse("", "", f"案例“{case_no}”当前状态为“{status}”，已锁定，不能修改")
            return
        workflow = set(changed) & set(_CASE_WORKFLOW_FIELDS)
        if workflow == {"root_id"} and root_id is None:
            return  # create_case sets root_id once
        if workflow:
            self.refuse("", "status", f"案例“{case_no}”的状态与版本只能由签字、提交和退回补正流程改变")

    def batch(self, obj, action: str) -> None:
        if action == "insert":
            return
        if action == "update" and not _changed_fields(obj):
            return
        self.check_batch(obj.id, f"批次“{obj.title}”")

    def batch_persons(self, changes) -> None:
        """Batch persons are rewritten on every save: refuse only a real change of the list."""
        for (batch_id, item_key), rows in changes.items():
            def people(action):
                return sorted((o.position, o.name, o.id_card_no or "", o.post or "") for a, o in rows if a == action)

            if any(a == "update" for a, _ in rows) or people("insert") != people("delete"):
                self.check_batch(batch_id, f"{items_by_key()[item_key].label}" if item_key in items_by_key()
                                 else "会议人员")


_MODULE_TYPES = tuple(MODULE_MODELS.values())


def _lock_before_flush(session: Session, flush_context, instances) -> None:
    if session.info.get(WORKFLOW_FLAG):
        return
    touched = [(o, "insert") for o in session.new] + [(o, "update") for o in session.dirty] + \
              [(o, "delete") for o in session.deleted]
    touched = [(o, a) for o, a in touched
               if isinstance(o, (Case, Batch, CasePerson, Attachment) + _MODULE_TYPES)]
    if not touched:
        return
    with session.no_autoflush:
        check = _LockCheck(session)
        batch_changes: dict = {}
        for obj, action in touched:
            if isinstance(obj, Case):
                check.case(obj, action)
            elif isinstance(obj, Batch):
                check.batch(obj, action)
            elif isinstance(obj, CasePerson):
                check.person(obj, action, batch_changes)
            elif isinstance(obj, Attachment):
                check.attachment(obj, action)
            else:
                check.module_row(obj, action)
        check.batch_persons(batch_changes)
    if check.problems:
        raise CaseLocked(check.problems)


def _track_created_cases(session: Session, flush_context) -> None:
    ids = [o.id for o in session.new if isinstance(o, Case)]
    if ids:
        session.info.setdefault(CREATED_KEY, set()).update(ids)


def _forget_created_cases(session: Session, transaction) -> None:
    if transaction.parent is None:
        session.info.pop(CREATED_KEY, None)


def init_case_locks() -> None:
    """Register the lock (idempotent)."""
    if not event.contains(Session, "before_flush", _lock_before_flush):
        event.listen(Session, "before_flush", _lock_before_flush)
    if not event.contains(Session, "after_flush", _track_created_cases):
        event.listen(Session, "after_flush", _track_created_cases)
    if not event.contains(Session, "after_transaction_end", _forget_created_cases):
        event.listen(Session, "after_transaction_end", _forget_created_cases)


init_case_locks()


__all__ = ["CaseLocked", "OPINIONS", "active_signatures", "diff_versions", "display_name", "evidence_counts",
           "init_case_locks", "return_for_correction", "set_pledge", "sign", "signature_record_hash", "submit",
           "verify_all", "void_stale_signatures", "workflow_write"]
