"""Celery, configured from the Flask config (Redis in production, an SQLite broker embedded).

Every task runs inside an app context and writes as an explicit actor (path "task").
"""
from pathlib import Path

from celery import Celery, Task

from app.audit import acting_as
from app.tasks import deadlines, exports, maintenance, reports, rules  # noqa: F401  (importing registers the tasks)

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


def with_short_timeouts(conf: dict, seconds: float) -> dict:
    """A copy of ``conf`` in which queueing a task fails within seconds when Redis is down or hangs.

    Celery's defaults retry the broker and, worse, the Redis result store (20 retries a second apart)
    for some 20 s while the web request that queues the task waits. Values given in ``conf`` win."""
    conf = dict(conf)
    quick = {"max_retries": 1, "interval_start": 0, "interval_step": 0.2, "interval_max": 0.2}
    if str(conf.get("broker_url") or "").startswith(("redis", "sentinel")):
        conf.setdefault("broker_connection_timeout", seconds)
        conf["broker_transport_options"] = {
            "socket_connect_timeout": seconds, "socket_timeout": seconds * 2, **quick,
            **(conf.get("broker_transport_options") or {})}
        conf.setdefault("task_publish_retry_policy", quick)
    if str(conf.get("result_backend") or "").startswith(("redis", "sentinel")):
        conf.setdefault("redis_socket_connect_timeout", seconds)
        conf.setdefault("redis_socket_timeout", seconds * 2)
        options = dict(conf.get("result_backend_transport_options") or {})
        # the result store reconnects once by itself before this policy is consulted
        options.setdefault("retry_policy", {**quick, "max_retries": 0})
        conf["result_backend_transport_options"] = options
    return conf


def celery_init_app(app) -> Celery:
    class FlaskTask(Task):
        def __call__(self, *args, **kwargs):
            with app.app_context(), acting_as("系统任务", "task"):
                return self.run(*args, **kwargs)

    app.config["CELERY"] = with_short_timeouts(app.config["CELERY"], app.config.get("JISHI_BROKER_TIMEOUT", 1))
    ensure_sqlite_dirs(app.config["CELERY"])
    celery_app = Celery(app.name, task_cls=FlaskTask)
    celery_app.config_from_object(app.config["CELERY"])
    celery_app.set_default()
    app.extensions["celery"] = celery_app

    return celery_app
