"""A user's own saved queries and background exports (条件查询): only the user's rows, whoever asks."""
from __future__ import annotations

from sqlalchemy import select

from app.extensions import db
from app.models import ExportFile, SavedQuery, TaskRun

EXPORTS_SHOWN = 200


def saved_queries(user_id: int) -> list[SavedQuery]:
    return db.session.execute(select(SavedQuery).where(SavedQuery.user_id == user_id)
                              .order_by(SavedQuery.name)).scalars().all()


def own_saved_query(user_id: int, pk) -> SavedQuery | None:
    return db.session.execute(select(SavedQuery).where(SavedQuery.id == pk, SavedQuery.user_id == user_id)
                              ).scalar_one_or_none()


def saved_name_taken(user_id: int, name: str) -> bool:
    return db.session.execute(select(SavedQuery.id).where(SavedQuery.user_id == user_id,
                                                          SavedQuery.name == name)).first() is not None


def exports_with_runs(user_id: int) -> list:
    """The user's newest exports, each with its task run (or None)."""
    return db.session.execute(
        select(ExportFile, TaskRun).outerjoin(TaskRun, TaskRun.id == ExportFile.task_run_id)
        .where(ExportFile.user_id == user_id).order_by(ExportFile.id.desc()).limit(EXPORTS_SHOWN)).all()


def own_export(user_id: int, pk) -> ExportFile | None:
    return db.session.execute(select(ExportFile).where(ExportFile.id == pk, ExportFile.user_id == user_id)
                              ).scalar_one_or_none()
