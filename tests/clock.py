"""The tests' clock never crosses midnight.

Tests take ``TODAY = date.today()`` when their module is imported, and the application asks
``date.today()`` again when a test runs; a run that crosses midnight (CI starts whenever a session
stops) then compares yesterday's expectations with today's answers. So when the run could reach
midnight, the clock of the test process starts just after it instead, and ticks from there.
Subprocesses (the Celery worker, gunicorn) keep the real clock; none of them compares dates with
the tests' ``TODAY``.
"""
from __future__ import annotations

import datetime as dt

# A whole run (SQLite or PostgreSQL, one process each) must fit in this; CI stops at 90 minutes.
HORIZON = dt.timedelta(minutes=90)


def clock_start(now: dt.datetime, horizon: dt.timedelta = HORIZON) -> dt.datetime | None:
    """Where the test process's clock starts: ``None`` keeps the real one when the run ends on the day
    it begins, else one second after the coming midnight (local time)."""
    if (now + horizon).date() == now.date():
        return None
    return dt.datetime.combine(now.date() + dt.timedelta(days=1), dt.time(0, 0, 1)).astimezone()


def keep_the_run_within_one_day() -> dt.datetime | None:
    start = clock_start(dt.datetime.now())
    if start is not None:
        import time_machine

        time_machine.travel(start, tick=True).start()  # stays for the whole process
    return start
