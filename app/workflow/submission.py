"""The case workflow: three-level signing, the two submissions, and correction (退回补正) into a
new version. The lock on submitted cases is app/workflow/guard.py; verification of the evidence
chain app/workflow/verification.py.

* ``sign`` — 选任工作部门分管负责人 → 选任工作部门主要领导 → 选任责任单位领导, in that order, by three
  different 签字领导 of the case's unit (never the case's creator), once modules 1–7 are complete.
  Each Signature holds the SHA-256 of the content it was given (modules 1–9, ``content_hash``) and
  seals its own columns in ``record_sha256``. A change to a draft afterwards voids it.
* ``submit`` — node 1 (初次提交) needs the three valid signatures over the current content and the
  authenticity pledge; node 2 (二次提交) needs 公示 and 任职 complete. Each stores the canonical JSON
  snapshot of the case, its SHA-256, and the SHA-256 of the previous submission of the same case
  (across versions): a hash chain.
* ``return_for_correction`` — a supervisor sends a submitted case back: the old version is kept
  unchanged (status 已退回补正, no longer current) and a new draft version continues the case.

The writes pass the lock inside ``guard.workflow_write()``. Every refusal raises ``cases.CaseError``
listing every problem in Chinese; each command owns its transaction (all or nothing).
"""
from __future__ import annotations

import datetime as dt

from sqlalchemy import inspect, select

from app.alarms import derived
from app.dates import official_date
from app.deadlines.due import submission_status
from app.extensions import db
from app.infra.notify import deliver_after_commit, post_to_unit
from app.models import MODULE_MODELS, Case, CasePerson, Signature, Submission
from app.models.case import STATUS_DRAFT, STATUS_FIRST, STATUS_RETURNED, STATUS_SECOND, now
from app.record import custom_items, evidence
from app.record import data as case_data
from app.record.completeness import module_state
from app.record.data import (
    CaseError,
    Problem,
    canonical_json,
    content_hash,
    export_case,
    read_case,
    sha256_text,
    to_exchange,
    write_values,
)
from app.record.input_checks import person_limits
from app.record.lock import lock_case
from app.record.validation import validate_values
from app.scoping import scope_for
from app.spec import MODULE_KEYS, module
from app.workflow.guard import workflow_write

SIGNER_ROLE = "签字领导"
CLERK_ROLE = "填报员"
SUPERVISOR_ROLES = ("监督员", "系统管理员")
OPINION_AGREE = "情况属实同意报送"
OPINION_RETURN = "退回修改"
OPINIONS = (OPINION_AGREE, OPINION_RETURN)
VOID_REASON = "签字后案例内容已变更"
PRE_SIGN_MODULES = MODULE_KEYS[:7]  # 任职资格 … 讨论决定: complete before anyone signs
POST_DECISION_MODULES = ("publicity", "appointment")  # complete before 二次提交
SIG_FIELDS = ("signer", "post", "opinion", "signed_at")


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


def return_for_correction(case: Case, supervisor, reason: str, *, kind: str = "退回补正",
                          deadline: dt.date | None = None, told: str | None = None) -> Case:
    """退回补正: keep the submitted version as it is and continue the case in a new draft version. The
    unit's clerks and leaders are told (inbox, then the configured channels) in the same transaction;
    ``kind`` names the decision (退回补正, 叫停纠偏), ``deadline`` its correction deadline if any and
    ``told`` the reason as the message gives it (default: ``reason``)."""
    message_ids = []
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
            custom_items.copy_values(case, new)
            case.status = STATUS_RETURNED
            case.is_current = False
            db.session.flush()  # the old version stops being current before the new one is added
            db.session.add(new)
            db.session.flush()
            derived.derive(new, before=before)  # the deadlines, evaluation and light follow the case to its new version
            message_ids = _tell_unit_returned(new, supervisor, (told or reason).strip(), kind, deadline)
            db.session.commit()
    except Exception:
        db.session.rollback()
        raise
    deliver_after_commit(message_ids)
    return new


def _tell_unit_returned(new: Case, supervisor, reason: str, kind: str, deadline: dt.date | None) -> list[int]:
    who = f"{new.full_name}（{new.case_no}）" if new.full_name else new.case_no
    unit = getattr(supervisor, "unit", None)
    by = unit.name if unit is not None else "监督部门"
    until = f"请于{official_date(deadline)}前完成整改，" if deadline else "请"
    body = (f"案例 {who} 已被{by}{kind}，理由：{reason}。案例已退回为第 {new.version_no} 版草稿，"
            f"{until}修改后重新签字报送。")
    return post_to_unit(new.unit_id, kind=kind, title=f"{kind}：{who}", body=body, link=f"/cases/show/{new.id}",
                        case_id=new.id, dedup=f"return:{new.id}")


def diff_versions(old_case: Case, new_case: Case, modules=None) -> list[dict]:
    """Field by field differences between two versions (exchange format values)."""
    old_values = to_exchange(read_case(old_case), drop_empty=False)
    new_values = to_exchange(read_case(new_case), drop_empty=False)
    out = []
    for key in modules or MODULE_KEYS:
        extra = {i.key: i for c in (old_case, new_case) for i in custom_items.items_for(c, key)}
        for item in module(key).items + tuple(extra.values()):
            a = old_values[key].get(item.key)
            b = new_values[key].get(item.key)
            if a in case_data.EMPTY and b in case_data.EMPTY:
                continue
            if a != b:
                out.append({"module": key, "key": item.key, "label": item.label, "old": a, "new": b})
    return out


__all__ = ["OPINIONS", "active_signatures", "diff_versions", "display_name", "return_for_correction", "set_pledge",
           "sign", "signature_record_hash", "submit", "void_stale_signatures"]
