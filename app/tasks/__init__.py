"""Celery, configured from the Flask config (Redis in production, an SQLite broker embedded).

Every task runs inside an app context and writes as an explicit actor (path "task").
"""
from celery import Celery, Task

from app.audit import acting_as


def celery_init_app(app) -> Celery:
    class FlaskTask(Task):
        def __call__(self, *args, **kwargs):
            with app.app_context(), acting_as("系统任务", "task"):
                return self.run(*args, **kwargs)

    celery_app = Celery(app.name, task_cls=FlaskTask)
    celery_app.config_from_object(app.config["CELERY"])
    celery_app.set_default()
    app.extensions["celery"] = celery_app
    from app.tasks import deadlines, maintenance, reports, rules  # noqa: F401  (register the tasks)

    return celery_app
