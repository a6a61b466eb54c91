"""Large 条件查询 exports, written in the background for their requester (app/reporting/exports.py)."""
from celery import shared_task

from app.reporting.exports import run_export


@shared_task(name="jishi.export_cases", ignore_result=False)
def export_cases(export_file_id: int) -> dict:
    return run_export(export_file_id)
