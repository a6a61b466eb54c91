"""One writer at a time per case, and no write over a version the writer never saw.

* ``lock_case`` — every command that writes a case (save, complete, sign, pledge, submit,
  correction) first takes the case's row lock (PostgreSQL ``SELECT … FOR UPDATE``; SQLite: a no-op
  ``UPDATE`` that takes the database's write lock) and then re-reads what the session holds, so the
  state it checks afterwards (locked modules, signatures) is the state it writes over. A save that
  loses the race against 初次提交 therefore sees the submission and is refused.
* ``module_version`` — the version of one module: a hash over its values, 经办人, 责任领导 and
  state (an ETag). Content-derived, so every path that changes the module (forms, REST, CLI, a
  batch's meeting data shared with other cases) changes it, with no counter to keep.
* ``check_version`` — a save that names the version it was based on (hidden field of the form,
  ``If-Match`` or ``version`` in the REST PUT) and finds another one raises ``StaleWrite``
  (已被他人修改) with the differences: nothing is written.
* ``refuse_workflow_module`` — 责任签字 and 报送/备案 are written only by the signing, pledge,
  submission and review commands, never by a module save or a file.
"""
from __future__ import annotations

import datetime as dt
import json

from sqlalchemy import select

from app.extensions import db
from app.models import Case
from app.record import custom_items
from app.record.data import EMPTY, CaseError, Problem, canonical_json, read_module, sha256_text, to_exchange
from app.spec import module

WORKFLOW_MODULES = ("signature", "submission")  # produced by the workflow itself, never entered
META_LABELS = {"handler": "经办人", "leader": "责任领导", "state": "状态"}


class StaleWrite(CaseError):
    """A save based on a version of the module that someone else has changed since."""

    def __init__(self, module_key: str, diff: list[dict], version: str):
        self.diff = diff
        self.version = version
        name = module(module_key).name
        changed = "、".join(d["label"] for d in diff[:8]) or "环节状态"
        super().__init__([Problem(module_key, "", f"“{name}”已被他人修改（{changed}），您的内容未保存。"
                                                  "请核对他人修改的内容后重新保存")])


# ---- the row lock ----------------------------------------------------------------------------------

def _is_sqlite(session) -> bool:
    return session.get_bind().dialect.name == "sqlite"


def lock_case(case: Case) -> None:
    """Hold the case's row lock until the transaction ends; then reload everything the session has
    loaded, so that what is checked next is what was committed before the lock was granted."""
    session = db.session
    session.flush()  # the caller's own pending changes are not lost by the reload below
    if _is_sqlite(session):
        # SQLite has no row locks: the first write of a transaction takes the database's write lock
        # (waiting busy_timeout for another writer); reads after it see the latest commit.
        table = Case.__table__
        session.execute(table.update().where(table.c.id == case.id).values(id=table.c.id))
    else:
        session.execute(select(Case.id).where(Case.id == case.id).with_for_update())
    session.expire_all()


def stored_state(session, case_id: int):
    """(case_no, status, is_current, root_id) as committed, holding the case's row lock (PostgreSQL)
    so that no submission can commit between this check and the write it guards."""
    query = select(Case.case_no, Case.status, Case.is_current, Case.root_id).where(Case.id == case_id)
    if not _is_sqlite(session):
        query = query.with_for_update()
    return session.execute(query).first()


# ---- versions ------------------------------------------------------------------------------------

def module_snapshot(case: Case, module_key: str) -> dict:
    """What a version covers: the module's values (exchange format, empties kept), handler, leader
    and state."""
    row = case.module_row(module_key)
    values = to_exchange({module_key: read_module(case, module_key)}, drop_empty=False)[module_key]
    return {"values": values, "handler": getattr(row, "handler", None), "leader": getattr(row, "leader", None),
            "state": getattr(row, "state", None) or "未填"}


def version_of(snapshot: dict) -> str:
    return sha256_text(canonical_json(snapshot))[:16]


def module_version(case: Case, module_key: str) -> str:
    return version_of(module_snapshot(case, module_key))


def parse_version(raw) -> str | None:
    """A version as sent: ``"abc"``, ``W/"abc"`` (If-Match) or bare; empty → None."""
    if raw is None:
        return None
    text = str(raw).strip()
    if text.startswith("W/"):
        text = text[2:]
    text = text.strip().strip('"').strip()
    return text or None


def _same(a, b) -> bool:
    return (a in EMPTY and b in EMPTY) or _norm(a) == _norm(b)


def _norm(value):
    if isinstance(value, dict):
        return {k: v for k, v in value.items() if v not in EMPTY}
    if isinstance(value, list):
        return [_norm(v) for v in value]
    if isinstance(value, dt.date):
        return value.isoformat()
    return value


def display(value) -> str:
    """A value as a person reads it in a difference list."""
    if value in EMPTY:
        return "（空）"
    if isinstance(value, bool):
        return "是" if value else "否"
    if isinstance(value, dict):
        return "，".join(str(value[k]) for k in ("name", "post", "id_card_no") if value.get(k))
    if isinstance(value, list):
        return "；".join(display(v) for v in value)
    if isinstance(value, dt.date):
        return value.isoformat()
    return str(value)


def _label(module_key: str, key: str) -> str:
    if key in META_LABELS:
        return META_LABELS[key]
    return next((i.label for i in module(module_key).items if i.key == key), None) or \
        next((d.label for d in custom_items.for_module(module_key) if d.key == key), key)


def conflict_diff(module_key: str, current: dict, yours: dict, base: dict | None = None) -> list[dict]:
    """Item by item: label, the stored value (theirs) and the value sent (yours). With ``base`` (the
    snapshot the form was opened on) only what the other person changed is listed; without it,
    every item sent whose stored value differs."""
    yours_x = to_exchange({"x": yours}, drop_empty=False)["x"]
    out = []
    flat_current = {**current["values"], "handler": current["handler"], "leader": current["leader"],
                    "state": current["state"]}
    if base is not None:
        flat_base = {**base.get("values", {}), "handler": base.get("handler"), "leader": base.get("leader"),
                     "state": base.get("state")}
        keys = [k for k in flat_current if not _same(flat_current[k], flat_base.get(k))]
    else:
        keys = [k for k in flat_current if k in yours_x and not _same(flat_current[k], yours_x[k])]
    for key in keys:
        out.append({"module": module_key, "key": key, "label": _label(module_key, key),
                    "theirs": display(flat_current[key]),
                    "yours": display(yours_x[key]) if key in yours_x else "（未修改）"})
    return out


def check_version(case: Case, module_key: str, sent: str | None, yours: dict, base_json: str | None = None) -> None:
    """Refuse a save whose version is not the stored one (call while holding the lock). A save
    that names no version is a blind write and is let through (see docs/exchange-format.md)."""
    if sent is None:
        return
    current = module_snapshot(case, module_key)
    version = version_of(current)
    if sent == version:
        return
    base = None
    if base_json:
        try:
            candidate = json.loads(base_json)
        except ValueError:
            candidate = None
        if isinstance(candidate, dict) and version_of(candidate) == sent:
            base = candidate  # the snapshot the form was opened on, untouched
    raise StaleWrite(module_key, conflict_diff(module_key, current, yours, base), version)


# ---- who writes what ---------------------------------------------------------------------------------

def refuse_workflow_module(module_key: str) -> None:
    """责任签字 / 报送备案 come from the sign, pledge, submit and review commands only."""
    if module_key in WORKFLOW_MODULES:
        raise CaseError([Problem(module_key, "", f"“{module(module_key).name}”已锁定：只由签字、承诺、提交和审核流程写入，"
                                                 "不能通过保存、导入或修改命令填写")])


__all__ = ["StaleWrite", "WORKFLOW_MODULES", "check_version", "conflict_diff", "display", "lock_case",
           "module_snapshot", "module_version", "parse_version", "refuse_workflow_module", "stored_state"]
