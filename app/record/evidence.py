"""Evidence a database writer cannot forge, and the check that the submitted data is still what was
submitted. ``flask jishi verify`` (app.workflow.verification.verify_all) runs both.

* Seals: every signature and submission record carries an HMAC-SHA256 made with a key kept
  **outside the database** — ``JISHI_EVIDENCE_KEY``, else a key file generated on first use
  (``JISHI_EVIDENCE_KEY_FILE``, default ``instance/evidence.key``, mode 0600). Someone who can
  write the database can rewrite a snapshot and recompute every SHA-256, but not these.
  Submissions are sealed in one chain over all cases (``prev_hmac`` is the HMAC of the record
  before it by id), so a record removed from the middle breaks the next one. The head of that chain
  (``head_text``) is printed on every 通报 and scheduled report: a copy outside the system that
  ``flask jishi verify --head`` checks, which also catches records removed from the end.
* Live rows: each submitted (or returned) case's module values are compared, field by field, with
  the snapshot of its latest submission; a plain ``UPDATE`` of a locked module row shows up here.

Key loss makes every seal unverifiable: back the key up, apart from the database backups.
"""
from __future__ import annotations

import hashlib
import hmac as _hmac
import json
import secrets
from pathlib import Path

from flask import current_app
from sqlalchemy import func, or_, select, text
from sqlalchemy.orm import joinedload, selectinload

from app.extensions import db
from app.instance_secret import create_private_file
from app.models import Attachment, Case, Submission
from app.models.case import STATUS_FIRST, STATUS_RETURNED, STATUS_SECOND
from app.record import custom_items
from app.record.data import EMPTY, canonical_json, export_case, sha256_text
from app.spec import MODULE_KEYS, module

CHAIN_LOCK = 4711012  # pg_advisory_xact_lock: one submission at a time extends the chain
SHORT = 16  # hex digits of the chain head printed on paper
# Written after submission on purpose: the supervisor's 审核结论 (kept append-only in case_review).
AFTER_SUBMISSION = {("submission", "review_result")}
# Still open after 初次提交 (editable_modules): the node-1 snapshot does not hold their later values.
OPEN_AFTER_FIRST = ("publicity", "appointment")
_KEYS: dict[str, bytes] = {}


# ---- the key ---------------------------------------------------------------------------------------

def key_file() -> Path:
    import config

    return Path(current_app.config.get("JISHI_EVIDENCE_KEY_FILE") or config.INSTANCE_DIR / "evidence.key")


def load_key(create: bool = True) -> bytes | None:
    """The HMAC key; ``create=False`` returns None instead of making a key file (verify must not
    quietly start a new key)."""
    configured = current_app.config.get("JISHI_EVIDENCE_KEY") or ""
    if configured:
        if len(configured) < 32:
            raise RuntimeError("JISHI_EVIDENCE_KEY 至少需要 32 个字符")
        return configured.encode("utf-8")
    path = key_file()
    if str(path) in _KEYS:
        return _KEYS[str(path)]
    try:
        if not path.exists():
            if not create:
                return None
            create_private_file(path, secrets.token_hex(32))
        key = path.read_text(encoding="utf-8").strip()
    except OSError as exc:  # e.g. made by another user (the upgrade run as root) and unreadable
        raise RuntimeError(f"无法读取或创建证据密钥文件 {path}：{exc.strerror or exc}") from exc
    if len(key) < 32:
        raise RuntimeError(f"证据密钥文件 {path} 的内容无效（至少 32 个字符）")
    _KEYS[str(path)] = key.encode("utf-8")
    return _KEYS[str(path)]


def _mac(message: str, key: bytes) -> str:
    return _hmac.new(key, message.encode("utf-8"), hashlib.sha256).hexdigest()


# ---- sealing ---------------------------------------------------------------------------------------

def signature_message(record_sha256: str) -> str:
    return f"signature:{record_sha256}"  # record_sha256 already covers every sealed column


def submission_message(*, case_id, root_id, node, sha256, content_sha256, prev_sha256, prev_hmac) -> str:
    return canonical_json({"kind": "submission", "case_id": case_id, "root_id": root_id, "node": node,
                           "sha256": sha256, "content_sha256": content_sha256, "prev_sha256": prev_sha256,
                           "prev_hmac": prev_hmac})


def seal_signature(sig) -> None:
    sig.record_hmac = _mac(signature_message(sig.record_sha256), load_key())


def seal_submission(sub) -> None:
    """Chain ``sub`` to the last submission and seal it. Call right before adding it: on PostgreSQL
    the chain stays locked until the caller's commit, so ids follow the chain."""
    if db.session.get_bind().dialect.name == "postgresql":
        db.session.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": CHAIN_LOCK})
    # SQLite: the submitting transaction has written already, so it holds the one write lock.
    sub.prev_hmac = db.session.execute(select(Submission.hmac).order_by(Submission.id.desc()).limit(1)).scalar()
    sub.hmac = _mac(submission_message(case_id=sub.case_id, root_id=sub.root_id, node=sub.node, sha256=sub.sha256,
                                       content_sha256=sub.content_sha256, prev_sha256=sub.prev_sha256,
                                       prev_hmac=sub.prev_hmac), load_key())


# ---- checking seals ----------------------------------------------------------------------------------

class SealCheck:
    """Recomputes the seals of the rows verify_all reads (its queries select the HMAC columns)."""

    def __init__(self, whole_chain: bool):
        self.key = load_key(create=False)
        self.whole_chain = whole_chain  # every submission, in id order: the links can be checked
        self.previous = None
        self.seen = False

    def signature(self, s) -> str | None:
        """A message if the signature row's seal does not hold."""
        if s.record_hmac is None:
            return "未加封存（HMAC 缺失）：签字记录可能是在系统外插入或改动的"
        self.seen = True
        if self.key is not None and not _hmac.compare_digest(
                _mac(signature_message(s.record_sha256), self.key), s.record_hmac):
            return "的封存 HMAC 不符：签字记录及其哈希已在系统外被改写"
        return None

    def submission(self, s) -> str | None:
        problem = None
        if s.hmac is None:
            problem = "未加封存（HMAC 缺失）：提交记录可能是在系统外插入的"
        else:
            self.seen = True
            expected = self.key and _mac(submission_message(
                case_id=s.case_id, root_id=s.root_id, node=s.node, sha256=s.sha256, content_sha256=s.content_sha256,
                prev_sha256=s.prev_sha256, prev_hmac=s.prev_hmac), self.key)
            if self.key is not None and not _hmac.compare_digest(expected, s.hmac):
                problem = "的封存 HMAC 不符：快照及其哈希已在系统外被改写"
        return problem

    def link(self, s) -> str | None:
        """Whole-chain runs: the record must follow the one before it by id."""
        if not self.whole_chain:
            return None
        problem = None
        if s.prev_hmac != self.previous:
            problem = "与前一份提交记录的封存链不衔接：有提交记录被删除、插入或替换"
        self.previous = s.hmac
        return problem

    def key_problem(self) -> str | None:
        if self.key is None and self.seen:
            return (f"证据密钥缺失：未设置 JISHI_EVIDENCE_KEY，密钥文件 {key_file()} 也不存在，"
                    "无法核对封存 HMAC（请恢复原密钥）")
        return None


# ---- the chain head ------------------------------------------------------------------------------------

def head() -> tuple[int, str] | None:
    """(id, hmac) of the last submission record: the head of the sealed chain."""
    row = db.session.execute(select(Submission.id, Submission.hmac).order_by(Submission.id.desc()).limit(1)).first()
    return (row.id, row.hmac or "") if row else None


def head_text() -> str:
    """The chain head as printed on notices and reports."""
    h = head()
    if h is None:
        return "证据链头：尚无提交记录"
    return f"证据链头：#{h[0]}:{h[1][:SHORT]}"  # checked with `flask jishi verify --head`


def check_head(printed: str) -> str | None:
    """A problem (Chinese) if the printed head ``#id:hex`` is not in the chain as printed."""
    value = printed.strip().removeprefix("证据链头：").split("（")[0].strip().lstrip("#")
    rid, _, digest = value.partition(":")
    if not rid.isdigit() or len(rid) > 10 or int(rid) > 2**31 - 1 or len(digest) < 8 or any(c not in "0123456789abcdef" for c in digest.lower()):
        return f"链头“{printed}”的格式应为 #编号:十六进制摘要（如 #12:1a2b3c4d5e6f7a8b）"
    stored = db.session.execute(select(Submission.hmac).where(Submission.id == int(rid))).first()
    if stored is None:
        return f"通报/报表上打印的链头 #{rid} 已不在数据库中：提交记录被删除"
    if not (stored.hmac or "").startswith(digest.lower()):
        return f"通报/报表上打印的链头 #{rid}:{digest} 与数据库中的记录不符：提交记录被改写"
    return None


# ---- live rows against the snapshot ------------------------------------------------------------------

def _shown(value) -> str:
    if value in EMPTY:
        return "（空）"
    return value if isinstance(value, str) else json.dumps(value, ensure_ascii=False, sort_keys=True)


def _status_problem(case: Case, node: int) -> str | None:
    wanted = (STATUS_FIRST if node == 1 else STATUS_SECOND) if case.is_current else STATUS_RETURNED
    if case.status != wanted:
        return (f"案例状态为“{case.status}”，但其最近一次提交为{Submission.NODES.get(node, node)}"
                f"（应为“{wanted}”）：案例状态已在系统外被改动")
    return None


def compare_case(case: Case, node: int, snapshot: str) -> list[dict]:
    """Differences between the case's locked modules now and the snapshot of its latest submission."""
    out = []

    def report(kind, message, **extra):
        out.append({"case_id": case.id, "case_no": case.case_no, "kind": kind, "message": message, **extra})

    problem = _status_problem(case, node)
    if problem:
        report("status", problem)
    try:
        snap = json.loads(snapshot)
    except ValueError:
        return out  # verify_all reports the snapshot itself
    live = export_case(case)
    label = Submission.NODES.get(node, str(node))
    for key in MODULE_KEYS:
        if node == 1 and key in OPEN_AFTER_FIRST:
            continue
        spec = module(key)
        for item in spec.items + custom_items.items_for(case, key):  # custom items are evidence too
            # A returned version shares its batch (the meeting) with the new draft, which may change it.
            if (key, item.key) in AFTER_SUBMISSION or (item.batch_level and not case.is_current):
                continue
            was = (snap.get(key) or {}).get(item.key) if isinstance(snap, dict) else None
            now = live.get(key, {}).get(item.key)
            was, now = (None if was in EMPTY else was), (None if now in EMPTY else now)
            if canonical_json(was) != canonical_json(now):
                report("live_row", f"“{spec.name}”的“{item.label}”（{key}.{item.key}）与{label}快照不一致："
                                   f"快照为 {_shown(was)}，现为 {_shown(now)}：已提交的数据被改动",
                       module=key, field=item.key, snapshot=was, live=now)
    return out


def live_row_breaks(root_ids=None, chunk: int = 200) -> list[dict]:
    """Every submitted or returned case against the snapshot of its latest submission."""
    latest = select(Submission.case_id, func.max(Submission.id).label("sub_id")).group_by(Submission.case_id)
    if root_ids is not None:
        latest = latest.where(Submission.root_id.in_(list(root_ids)))
    pairs = db.session.execute(latest.order_by(Submission.case_id)).all()
    loads = [selectinload(Case.persons), selectinload(Case.custom_values), joinedload(Case.batch),
             joinedload(Case.unit),
             *(selectinload(getattr(Case, f"m_{k}")) for k in MODULE_KEYS)]
    out = []
    for i in range(0, len(pairs), chunk):
        part = pairs[i:i + chunk]
        subs = {r.id: r for r in db.session.execute(
            select(Submission.id, Submission.node, Submission.snapshot, Submission.sha256)
            .where(Submission.id.in_([p.sub_id for p in part])))}
        cases = {c.id: c for c in db.session.execute(
            select(Case).where(Case.id.in_([p.case_id for p in part])).options(*loads)).unique().scalars()}
        # Their attachments in the identity map (held here: it keeps only referenced objects), so
        # that reading a file name costs no statement.
        batch_ids = {c.batch_id for c in cases.values() if c.batch_id is not None}
        held = db.session.execute(select(Attachment).where(
            or_(Attachment.case_id.in_(list(cases)), Attachment.batch_id.in_(batch_ids)))).scalars().all()
        for case_id, sub_id in part:
            sub, case = subs[sub_id], cases.get(case_id)
            if case is None or sha256_text(sub.snapshot) != sub.sha256:
                continue  # a tampered snapshot is reported as such; nothing to compare against
            out += compare_case(case, sub.node, sub.snapshot)
        del held
    return out


__all__ = ["SealCheck", "check_head", "compare_case", "head", "head_text", "live_row_breaks", "load_key",
           "seal_signature", "seal_submission"]
