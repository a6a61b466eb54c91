"""痕迹管理: every insert, update and delete of business data leaves append-only rows.

One SQLAlchemy session listener covers every path — forms, REST, CLI and Celery tasks — because
they all flush through the ORM. Who did it comes from the logged-in user during a request, or
from an explicit ``acting_as(...)`` block in CLI commands and tasks; a business write with no
known actor is refused rather than recorded anonymously.
"""
from __future__ import annotations

import contextvars
import datetime as dt
import decimal
import os
from contextlib import contextmanager
from dataclasses import dataclass

import click
from flask import has_request_context, request
from sqlalchemy import insert, inspect
from sqlalchemy.orm import Session

from app.errors import JishiError
from app.extensions import listen_on_sessions
from app.models.audit import AuditLog, utcnow

PATHS = {"web", "api", "cli", "task"}
REDACTED = "******"


class AuditError(JishiError, RuntimeError):
    pass


@dataclass(frozen=True)
class Actor:
    user_id: int | None
    name: str
    path: str


_actor: contextvars.ContextVar[Actor | None] = contextvars.ContextVar("jishi_actor", default=None)
# The user behind acting_as(user, ...) (CLI --as-user, a task run for a user): app.scoping reads it so
# that the scope and the audit actor are the same person.
_acting_user: contextvars.ContextVar = contextvars.ContextVar("jishi_acting_user", default=None)


@contextmanager
def acting_as(who, path: str):
    """Run a block as ``who`` (a user, a username or a label such as "system") through ``path``."""
    if path not in PATHS:
        raise ValueError(f"unknown audit path {path!r}")
    if hasattr(who, "username"):
        actor = Actor(who.id, who.username, path)
    else:
        actor = Actor(None, str(who), path)
    token = _actor.set(actor)
    user_token = _acting_user.set(who if hasattr(who, "username") else None)
    try:
        yield actor
    finally:
        _acting_user.reset(user_token)
        _actor.reset(token)


def acting_user():
    """The user of the innermost acting_as block, if it names a user."""
    return _acting_user.get()


def current_actor() -> Actor | None:
    actor = _actor.get()
    if actor is not None:
        return actor
    if has_request_context():
        from flask_login import current_user

        path = "api" if request.path.startswith("/api/") else "web"
        if current_user and getattr(current_user, "is_authenticated", False):
            return Actor(current_user.id, current_user.username, path)
        return Actor(None, "匿名", path)
    # A `flask ...` command run by hand: the operating-system user and the command are the actor.
    ctx = click.get_current_context(silent=True)
    if ctx is not None:
        who = os.environ.get("USER") or os.environ.get("LOGNAME") or "cli"
        return Actor(None, f"{who}@{ctx.command_path}", "cli")
    return None


def is_audited(obj) -> bool:
    return hasattr(obj, "audit_unit_id") and not isinstance(obj, AuditLog)


def _text(value):
    if value is None:
        return None
    if isinstance(value, bool):
        return "是" if value else "否"
    if isinstance(value, (dt.date, dt.datetime)):
        return value.isoformat()
    if isinstance(value, decimal.Decimal):
        return str(value)
    return str(value)


def _columns(obj):
    mapper = inspect(obj).mapper
    exclude = getattr(obj, "__audit_exclude__", set())
    for attr in mapper.column_attrs:
        if attr.key in exclude or attr.key == "id":
            continue
        yield attr.key


def _record_id(obj) -> str:
    identity = inspect(obj).identity
    if identity:
        return ",".join(str(v) for v in identity)
    return str(getattr(obj, "id", ""))


def _rows_for(obj, action: str, actor: Actor, ts) -> list[dict]:
    state = inspect(obj)
    redact = getattr(obj, "__audit_redact__", set())
    base = {
        "ts": ts,
        "actor_id": actor.user_id,
        "actor_name": actor.name,
        "path": actor.path,
        "action": action,
        "table_name": state.mapper.persist_selectable.name,
        "record_id": _record_id(obj),
        "unit_id": obj.audit_unit_id(),
    }
    rows = []
    for key in _columns(obj):
        hist = state.attrs[key].history
        if action == "insert":
            old, new = None, getattr(obj, key)
            if new is None:
                continue
        elif action == "delete":
            old = hist.deleted[0] if hist.deleted else getattr(obj, key)
            new = None
            if old is None:
                continue
        else:
            if not hist.has_changes():
                continue
            old = hist.deleted[0] if hist.deleted else None
            new = hist.added[0] if hist.added else None
            if old == new:
                continue
        if key in redact:
            old = REDACTED if old is not None else None
            new = REDACTED if new is not None else None
        rows.append({**base, "field": key, "old_value": _text(old), "new_value": _text(new)})
    return rows


def _before_flush(session: Session, flush_context, instances):
    for obj in list(session.dirty) + list(session.deleted):
        if isinstance(obj, AuditLog):
            raise AuditError("痕迹记录只能追加，不能修改或删除")
    touched = [o for o in list(session.new) + list(session.dirty) + list(session.deleted) if is_audited(o)]
    if touched and current_actor() is None:
        raise AuditError("写入业务数据必须指明操作人（命令行与后台任务请使用 acting_as）")


def _after_flush(session: Session, flush_context):
    actor = current_actor()
    ts = utcnow()
    rows = []
    for obj in session.new:
        if is_audited(obj):
            rows += _rows_for(obj, "insert", actor, ts)
    for obj in session.dirty:
        if is_audited(obj) and session.is_modified(obj, include_collections=False):
            rows += _rows_for(obj, "update", actor, ts)
    for obj in session.deleted:
        if is_audited(obj):
            rows += _rows_for(obj, "delete", actor, ts)
    if rows:
        # Same connection, same transaction: the trace commits or rolls back with the change.
        session.connection().execute(insert(AuditLog), rows)


def init_audit() -> None:
    listen_on_sessions(("before_flush", _before_flush), ("after_flush", _after_flush))

