"""Recorded task runs: every background job writes when it started, how it ended and what it counted.

The "running" row is committed before the work starts, in its own transaction, so that a worker
that dies half-way leaves a visible trace; the next run of the same task marks such a row failed
once it is older than ``JISHI_TASK_TIMEOUT_MINUTES`` — and, because the work itself is one
transaction keyed by unique constraints, simply does the work again.
"""
from __future__ import annotations

import datetime as dt
import traceback
from contextlib import contextmanager

from flask import current_app
from sqlalchemy import select, update

from app.audit import current_actor
from app.extensions import db
from app.models.audit import utcnow
from app.models.deadlines import RUN_FAILED, RUN_OK, RUN_RUNNING, TaskRun


def fail_stale(task: str | None = None, now: dt.datetime | None = None) -> int:
    """Mark runs stuck in 运行中 past the timeout as failed; returns how many."""
    now = now or utcnow()
    cutoff = now - dt.timedelta(minutes=current_app.config.get("JISHI_TASK_TIMEOUT_MINUTES", 30))
    q = update(TaskRun).where(TaskRun.status == RUN_RUNNING, TaskRun.started_at < cutoff)
    if task:
        q = q.where(TaskRun.task == task)
    n = db.session.execute(q.values(status=RUN_FAILED, finished_at=now,
                                    error="超时未结束（执行进程可能已中断），已标记为失败；下一次运行会重新处理")
                           .execution_options(synchronize_session=False)).rowcount
    db.session.commit()
    return n


@contextmanager
def tracked(task: str, triggered_by: str | None = None):
    """Record one run of ``task``. The body sets ``run.counts``; an exception marks it failed."""
    fail_stale(task)
    who = triggered_by or getattr(current_actor(), "name", None)
    run = TaskRun(task=task, status=RUN_RUNNING, started_at=utcnow(), triggered_by=who, progress=0)
    db.session.add(run)
    db.session.commit()
    run_id = run.id
    try:
        yield run
    except BaseException as exc:
        db.session.rollback()
        db.session.execute(update(TaskRun).where(TaskRun.id == run_id).values(
            status=RUN_FAILED, finished_at=utcnow(),
            error=f"{exc.__class__.__name__}: {exc}\n{traceback.format_exc(limit=5)}"[:4000]))
        db.session.commit()
        raise
    else:
        run = db.session.get(TaskRun, run_id)
        run.status, run.finished_at, run.progress = RUN_OK, utcnow(), 100
        db.session.commit()


def set_progress(run_id: int, percent: int) -> None:
    """Progress of a long run, committed on its own so the admin page can follow it."""
    db.session.execute(update(TaskRun).where(TaskRun.id == run_id).values(progress=max(0, min(100, percent))))
    db.session.commit()


def latest(task: str) -> TaskRun | None:
    return db.session.execute(select(TaskRun).where(TaskRun.task == task).order_by(TaskRun.id.desc()).limit(1)).scalar()
