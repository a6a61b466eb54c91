"""The deadline scan, scheduled by Celery beat (JISHI_DEADLINE_SCAN_MINUTES)."""
import datetime as dt

from celery import shared_task

from app.alarms.derived import after_scan
from app.deadlines.due import scan
from app.infra.notify import deliver
from app.infra.task_runs import tracked


def run_scan(as_of: dt.date | None = None, triggered_by: str | None = None) -> dict:
    """The scan as a recorded task run; e-mail copies go out after the commit. Another day than
    today is only read: what that day would give, nothing written (no task run either)."""
    if as_of is not None and as_of != dt.date.today():
        return scan(as_of).as_dict()
    with tracked("deadlines_scan", triggered_by) as run:
        result = scan(as_of, after=after_scan)
        run.counts = result.as_dict()
    deliver(result.message_ids)
    return {**result.as_dict(), "task_run": run.id}


@shared_task(name="jishi.deadlines_scan", ignore_result=False)
def deadlines_scan(as_of: str | None = None) -> dict:
    return run_scan(dt.date.fromisoformat(as_of) if as_of else None)
