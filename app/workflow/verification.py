"""Verification of the evidence chain: ``verify_all`` recomputes every signature and submission
hash and HMAC seal and compares the submitted cases' live rows with their snapshots
(app/record/evidence.py); each break names the case it belongs to. ``flask jishi verify`` runs it.
"""
from __future__ import annotations

import json

from sqlalchemy import func, select

from app.extensions import db
from app.models import Case, Signature, Submission
from app.record import evidence
from app.record.data import CONTENT_MODULES, canonical_json, sha256_text
from app.workflow.submission import signature_record_hash


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
