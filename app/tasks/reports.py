"""Scheduled statistics reports (monthly, quarterly): see app/reporting/scheduled.py."""
from celery import shared_task

from app.reporting.scheduled import generate, tick


@shared_task(name="jishi.reports_tick", ignore_result=False)
def reports_tick() -> dict:
    return tick()


@shared_task(name="jishi.reports_generate", ignore_result=False)
def reports_generate(kind: str, period_start: str | None = None, triggered_by: str | None = None) -> dict:
    import datetime as dt


    return generate(kind, dt.date.fromisoformat(period_start) if period_start else None, triggered_by=triggered_by)
