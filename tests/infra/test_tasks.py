"""Celery: tasks run in an app context as an explicit actor, eagerly in tests and on real Redis."""
import os
import subprocess
import sys
import time

import pytest
import redis

from app.audit import current_actor


def test_task_runs_eagerly_with_an_app_context(app, world):
    from app.tasks.maintenance import ping

    result = ping.delay()
    assert result.get()["units"] >= 4


def test_tasks_write_as_an_explicit_actor(app):
    from celery import shared_task

    @shared_task(name="jishi.test_actor")
    def who():
        actor = current_actor()
        return [actor.name, actor.path]

    assert who.delay().get() == ["系统任务", "task"]


def _redis_up(url):
    try:
        redis.Redis.from_url(url, socket_connect_timeout=1).ping()
        return True
    except Exception:
        return False


def test_real_worker_on_redis(app, world, db_url, tmp_path):
    """One round trip through a real worker process and the real Redis at 127.0.0.1:6379."""
    url = os.environ.get("JISHI_TEST_REDIS_URL", "redis://127.0.0.1:6379/15")
    if not _redis_up(url):
        pytest.skip(f"Redis is not reachable at {url}")
    root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    env = {**os.environ, "REDIS_URL": url, "DATABASE_URL": db_url, "FAB_UPDATE_PERMS": "False",
           "JISHI_INSTANCE_DIR": str(tmp_path)}
    worker = subprocess.Popen(
        [sys.executable, "-m", "celery", "-A", "app.tasks.worker:celery", "worker", "--pool", "solo",
         "--concurrency", "1", "--without-heartbeat", "--without-gossip", "--without-mingle", "-Q", "jishi-test",
         "--loglevel", "WARNING"],
        cwd=root, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
    )
    try:
        from celery import Celery

        client = Celery(broker=url, backend=url, set_as_current=False)
        deadline = time.time() + 60
        result = client.send_task("jishi.ping", queue="jishi-test")
        try:
            value = result.get(timeout=max(5, deadline - time.time()))
        except Exception:
            worker.terminate()
            pytest.fail("worker did not answer:\n" + worker.communicate(timeout=10)[0].decode(errors="replace")[-8000:])
        assert value["units"] >= 4
    finally:
        worker.terminate()
        try:
            worker.wait(timeout=10)
        except subprocess.TimeoutExpired:
            worker.kill()
