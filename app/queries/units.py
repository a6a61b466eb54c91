"""Units read for the pages: the top-level units, and units' codes by id."""
from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import or_, select

from app.extensions import db
from app.models import Unit
from app.scoping import Scope


def top_units() -> list[Unit]:
    """The top-level units, by code."""
    return db.session.execute(select(Unit).where(Unit.parent_id.is_(None)).order_by(Unit.code)).scalars().all()


def unit_codes(ids: Iterable[int | None]) -> dict[int, str]:
    ids = {i for i in ids if i is not None}
    if not ids:
        return {}
    return dict(db.session.execute(select(Unit.id, Unit.code).where(Unit.id.in_(ids))).all())


def unit_by_code(code: str, scope: Scope) -> Unit | None:
    """The unit with that code if the scope may see it, else None (a foreign unit is as unknown)."""
    code = (code or "").strip()
    if not code:
        return None
    return db.session.execute(select(Unit).where(Unit.code == code, scope.clause(Unit.id))).scalars().first()


def search_units(text: str, scope: Scope, limit: int = 20) -> list[Unit]:
    """Units whose code or name contains the text, within the scope only; codes that begin with it first."""
    text = (text or "").strip()[:40]
    if not text:
        return []
    stmt = (select(Unit).where(scope.clause(Unit.id))
            .where(or_(Unit.code.contains(text, autoescape=True), Unit.name.contains(text, autoescape=True)))
            .order_by(Unit.code.startswith(text, autoescape=True).desc(), Unit.code).limit(limit))
    return list(db.session.execute(stmt).scalars().all())

