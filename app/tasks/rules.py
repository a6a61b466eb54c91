"""The daily rule evaluation (D point) and the re-derivation after an input changed, as recorded
task runs (Celery beat runs the daily one)."""
from __future__ import annotations

import datetime as dt

from celery import shared_task

from app.alarms import derived
from app.extensions import db
from app.infra.task_runs import set_progress, tracked
from app.models import TaskRun


def run_daily(as_of: dt.date | None = None, triggered_by: str | None = None) -> dict:
    """Every current case with a decision re-derived. Another day than today is only read (no task
    run either: nothing is written)."""
    if as_of is not None and as_of != dt.date.today():
        return derived.daily(as_of)
    with tracked("rules_daily", triggered_by) as run:
        result = derived.daily()
        run.counts = result
    return {**result, "task_run": run.id}


def run_rederive(reason: str = "", triggered_by: str | None = None, unit_ids=None) -> dict:
    """Re-derive the open cases an input change can affect (a rule setting or enablement, a calendar
    day, a unit's quota), with progress in its task run."""
    with tracked("rederive", triggered_by) as run:
        run_id = run.id
        ids = derived.open_case_ids(unit_ids=unit_ids)
        result = derived.derive_many(ids, progress=lambda done, total: set_progress(run_id, done * 100 // total)
                                     if done % 50 == 0 or done == total else None)

        run = db.session.get(TaskRun, run_id)
        run.counts = {**result, "reason": reason}
    return {**result, "task_run": run_id}


@shared_task(name="jishi.rules_daily", ignore_result=False)
def rules_daily() -> dict:
    return run_daily()


@shared_task(name="jishi.rederive", ignore_result=False)
def rederive(reason: str = "", unit_ids=None) -> dict:
    return run_rederive(reason, unit_ids=unit_ids)


def rederive_later(reason: str, unit_ids=None) -> None:
    """Queue the re-derivation after an input change (runs at once where tasks are eager, i.e. tests)."""
    rederive.delay(reason, unit_ids)
