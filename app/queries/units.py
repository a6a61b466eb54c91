"""Units read for the pages: the top-level units, and units' codes by id."""
from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import select

from app.extensions import db
from app.models import Unit


def top_units() -> list[Unit]:
    """The top-level units, by code."""
    return db.session.execute(select(Unit).where(Unit.parent_id.is_(None)).order_by(Unit.code)).scalars().all()


def unit_codes(ids: Iterable[int | None]) -> dict[int, str]:
    ids = {i for i in ids if i is not None}
    if not ids:
        return {}
    return dict(db.session.execute(select(Unit.id, Unit.code).where(Unit.id.in_(ids))).all())
