"""Celery, configured from the Flask config (Redis in production, an SQLite broker embedded).

Every task runs inside an app context and writes as an explicit actor (path "task").
"""
from pathlib import Path

from celery import Celery, Task

from app.audit import acting_as

SQLITE_PREFIXES = ("sqla+sqlite:///", "db+sqlite:///")


def ensure_sqlite_dirs(conf: dict) -> None:
    """The embedded broker and result store are SQLite files: their folder must exist before
    kombu or the result backend opens them (a fresh checkout has no ``instance/``)."""
    for key in ("broker_url", "result_backend"):
        url = conf.get(key) or ""
        for prefix in SQLITE_PREFIXES:
            if url.startswith(prefix) and url[len(prefix):] not in ("", ":memory:"):
                Path(url[len(prefix):]).parent.mkdir(parents=True, exist_ok=True)
    schedule = conf.get("beat_schedule_filename")
    if schedule:
        Path(schedule).parent.mkdir(parents=True, exist_ok=True)


def celery_init_app(app) -> Celery:
    class FlaskTask(Task):
        def __call__(self, *args, **kwargs):
            with app.app_context(), acting_as("系统任务", "task"):
                return self.run(*args, **kwargs)

    ensure_sqlite_dirs(app.config["CELERY"])
    celery_app = Celery(app.name, task_cls=FlaskTask)
    celery_app.config_from_object(app.config["CELERY"])
    celery_app.set_default()
    app.extensions["celery"] = celery_app
    from app.tasks import deadlines, exports, maintenance, reports, rules  # noqa: F401  (register the tasks)

    return celery_app
