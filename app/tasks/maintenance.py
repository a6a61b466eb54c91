"""Housekeeping tasks."""
from celery import shared_task
from sqlalchemy import func, select

from app.extensions import db
from app.models import Unit


@shared_task(name="jishi.ping", ignore_result=False)
def ping() -> dict:
    """A round trip through the broker that touches the database: used by health checks and tests."""
    return {"units": db.session.execute(select(func.count(Unit.id))).scalar()}
