"""Housekeeping tasks."""
from celery import shared_task
from sqlalchemy import func, select

from app.alarms.derived import verify
from app.extensions import db
from app.infra.task_runs import tracked
from app.models import Unit
from app.queries.facts import repair


@shared_task(name="jishi.ping", ignore_result=False)
def ping() -> dict:
    """A round trip through the broker that touches the database: used by health checks and tests."""
    return {"units": db.session.execute(select(func.count(Unit.id))).scalar()}


def run_facts_check(triggered_by: str | None = None) -> dict:
    """The nightly check of the statistics fact table: rows that differ from the cases are replaced,
    and the run records how many (a non-zero count is worth a look: app/queries/facts.py)."""
    with tracked("facts_check", triggered_by) as run:
        repaired = repair()
        db.session.commit()
        run.counts = {"repaired": len(repaired), "case_ids": repaired[:50]}
    return {"repaired": len(repaired), "task_run": run.id}


def run_derived_check(triggered_by: str | None = None) -> dict:
    """The nightly check of every current case's derived state (light, evaluations, deadlines, the
    fact row) against a fresh derivation; the differences are counted in the task run, not repaired
    (a difference means a path forgot the derivation: worth a look, ``flask jishi verify --derived``)."""
    with tracked("derived_check", triggered_by) as run:
        result = verify()
        run.counts = {"cases": result["cases"], "differences": len(result["differences"]),
                      "first": [{k: str(v) for k, v in d.items()} for d in result["differences"][:20]]}
    return {"cases": result["cases"], "differences": len(result["differences"]), "task_run": run.id}


@shared_task(name="jishi.derived_check", ignore_result=False)
def derived_check() -> dict:
    return run_derived_check()


@shared_task(name="jishi.facts_check", ignore_result=False)
def facts_check() -> dict:
    return run_facts_check()
