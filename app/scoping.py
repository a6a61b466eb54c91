"""The one unit-scoping mechanism.

Every unit-owned model names its scope column (``__scope_column__``: ``unit_id``, or ``id`` for
``Unit`` itself). ``scope_clause(column)`` turns the current user's reach into SQL:

* 系统管理员 — everything;
* 监督员 / 查询员 — their own unit and all its descendants (one indexed prefix match on the
  materialised path, so it stays fast with 10,000 units);
* anyone else — their own unit only;
* a user with no unit and no all-scope role — nothing.

Views, REST APIs, dropdowns, actions, exports and services all call this module; nothing else
decides who sees what.
"""
from __future__ import annotations

from dataclasses import dataclass

from flask import current_app, g, has_request_context
from sqlalchemy import false, select, true

from app.audit import acting_user
from app.extensions import db
from app.models.unit import Unit

ALL_SCOPE_ROLES_DEFAULT = ("系统管理员",)
SUBTREE_ROLES_DEFAULT = ("监督员", "查询员")


@dataclass(frozen=True)
class Scope:
    kind: str  # "all" | "subtree" | "unit" | "none"
    unit_id: int | None = None
    path: str | None = None

    def clause(self, column):
        if self.kind == "all":
            return true()
        if self.kind == "none":
            return false()
        if self.kind == "unit":
            return column == self.unit_id
        subtree = select(Unit.id).where(Unit.path.startswith(self.path, autoescape=True))
        return column.in_(subtree.scalar_subquery())

    def contains(self, unit_id) -> bool:
        """Is this unit id visible? (one query at most)"""
        if unit_id is None:
            return False
        if self.kind == "all":
            return True
        if self.kind == "none":
            return False
        if self.kind == "unit":
            return int(unit_id) == self.unit_id
        path = db.session.execute(select(Unit.path).where(Unit.id == int(unit_id))).scalar()
        return bool(path and path.startswith(self.path))


def scope_for(user) -> Scope:
    if user is None or not getattr(user, "is_authenticated", False):
        return Scope("none")
    cfg = current_app.config
    role_names = {r.name for r in getattr(user, "roles", [])}
    if role_names & set(cfg.get("JISHI_ALL_SCOPE_ROLES", ALL_SCOPE_ROLES_DEFAULT)):
        return Scope("all")
    unit_id = getattr(user, "unit_id", None)
    if unit_id is None:
        return Scope("none")
    if role_names & set(cfg.get("JISHI_SUBTREE_ROLES", SUBTREE_ROLES_DEFAULT)):
        path = db.session.execute(select(Unit.path).where(Unit.id == unit_id)).scalar()
        return Scope("subtree", unit_id, path) if path else Scope("none")
    return Scope("unit", unit_id)


def current_scope() -> Scope:
    """The scope of whoever acts: the user of an ``acting_as(user, ...)`` block (CLI ``--as-user``),
    else the request's user — signed in by cookie or by JWT (app/auth.py) — computed once per request."""
    from flask_login import current_user


    if acting_user() is not None:
        return scope_for(acting_user())
    if not has_request_context():
        return Scope("none")
    scope = g.get("_jishi_scope")
    if scope is None:
        # A JWT request has no flask-login user: FAB puts the token's user in g.user.
        user = current_user if current_user.is_authenticated else g.get("user") or current_user
        scope = scope_for(user)
        g._jishi_scope = scope
    return scope


def scope_column(model) -> str | None:
    return getattr(model, "__scope_column__", None)



def visible(model, pk, scope: Scope | None = None):
    """The row with this primary key if it is in scope, else None."""
    scope = scope or current_scope()
    col = getattr(model, scope_column(model))
    try:
        pk = int(pk)
    except (TypeError, ValueError):
        return None
    return db.session.execute(
        select(model).where(model.id == pk, scope.clause(col))
    ).scalar_one_or_none()
