"""The daily rule evaluation (D point), scheduled by Celery beat."""
from celery import shared_task


@shared_task(name="jishi.rules_daily", ignore_result=False)
def rules_daily() -> dict:
    from app.services.rule_engine import daily

    return daily()
