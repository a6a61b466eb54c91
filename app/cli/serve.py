"""`flask jishi serve`: the web app and, without Redis, the background jobs beside it (`make run`).

Embedded mode (``REDIS_URL`` unset): one Celery worker with its beat built in (``-B``, one process,
``--pool solo``) is started on the embedded broker (kombu's SQLAlchemy transport on an SQLite file
under ``instance/``), so deadline scans and the other scheduled jobs run out of the box. It is
stopped when the server stops (Ctrl+C or SIGTERM), and on Linux it also dies with this process.

Redis mode (``REDIS_URL`` set): only the web app is served; the worker and beat are separate
processes (`make worker`, `make beat`, or the systemd units of docs/deployment.md).
"""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
from pathlib import Path

import click
from flask import current_app

from app.cli.jishi import jishi_cli
from app.tasks import ensure_sqlite_dirs

STOP_TIMEOUT = 15  # seconds the worker gets for a warm shutdown before it is killed


def embedded_broker(app) -> bool:
    """Whether the jobs go through the embedded SQLite broker (no Redis configured)."""
    return not app.config.get("REDIS_URL") and app.config["CELERY"].get("broker_url", "").startswith("sqla+")


def worker_command(app, loglevel: str = "INFO") -> list[str]:
    """The worker with its beat built in: one process, one task at a time (SQLite takes one writer)."""
    schedule = app.config["CELERY"].get("beat_schedule_filename") or str(
        Path(app.instance_path) / "celerybeat-schedule")
    return [sys.executable, "-m", "celery", "-A", "app.tasks.worker:celery", "worker", "--beat",
            "--pool", "solo", "--concurrency", "1", "--schedule", schedule, "--loglevel", loglevel]


def _die_with_parent() -> None:  # pragma: no cover - runs in the child before exec
    """Linux: the worker gets SIGTERM if the launcher is killed outright (no orphaned worker)."""
    try:
        import ctypes

        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG
    except Exception:
        pass


def start_worker(app, loglevel: str = "INFO") -> subprocess.Popen:
    ensure_sqlite_dirs(app.config["CELERY"])  # instance/ exists before the broker file is made
    env = dict(os.environ)
    # The web process has synced the permissions already; a second sync at the same time would race.
    env["FAB_UPDATE_PERMS"] = "False"
    # Its own process group: Ctrl+C reaches the launcher only, which then stops the worker once.
    return subprocess.Popen(worker_command(app, loglevel), env=env, cwd=str(Path(app.root_path).parent),
                            process_group=0 if os.name == "posix" else None,
                            preexec_fn=_die_with_parent if sys.platform.startswith("linux") else None)


def stop_worker(proc: subprocess.Popen | None) -> None:
    """Warm shutdown (SIGTERM), then SIGKILL if it does not end in time."""
    if proc is None or proc.poll() is not None:
        return
    proc.terminate()
    try:
        proc.wait(timeout=STOP_TIMEOUT)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


def _watch(proc: subprocess.Popen, stopping: threading.Event) -> None:
    code = proc.wait()
    if not stopping.is_set():
        click.secho(f"后台任务进程（Celery worker）意外退出，退出码 {code}；时限扫描等定时任务将不再运行。"
                    "请检查上方日志后重新启动。", fg="red", err=True)


def _sigterm_as_interrupt(signum, frame):
    raise KeyboardInterrupt


@jishi_cli.command("serve")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8080, show_default=True, type=int)
@click.option("--worker/--no-worker", "with_worker", default=None,
              help="同时启动 Celery worker（内置 beat）。默认：未设置 REDIS_URL（嵌入式代理）时启动，设置了则不启动")
@click.option("--loglevel", default="INFO", show_default=True, help="worker 的日志级别")
def serve(host: str, port: int, with_worker: bool | None, loglevel: str):
    """启动 Web 服务；未配置 Redis 时同时启动后台任务（worker + beat，嵌入式 SQLite 代理）。Ctrl+C 一并停止。"""
    from werkzeug.serving import run_simple

    app = current_app._get_current_object()
    embedded = embedded_broker(app)
    if with_worker is None:
        with_worker = embedded
    proc, stopping = None, threading.Event()
    signal.signal(signal.SIGTERM, _sigterm_as_interrupt)  # `kill PID` stops the worker too
    try:
        if with_worker:
            proc = start_worker(app, loglevel)
            broker = "嵌入式 SQLite 代理 " + app.config["CELERY"]["broker_url"] if embedded else "Redis"
            click.echo(f"后台任务：Celery worker + beat 已随 Web 服务启动（pid {proc.pid}，{broker}）")
            threading.Thread(target=_watch, args=(proc, stopping), daemon=True).start()
        elif app.config.get("REDIS_URL"):
            click.echo("后台任务：已配置 REDIS_URL，本命令只启动 Web 服务；"
                       "请另行启动 `make worker` 与 `make beat`（见 docs/deployment.md）")
        else:
            click.echo("后台任务：未启动 worker（--no-worker），时限扫描等定时任务不会运行")
        run_simple(host, port, app, threaded=True, use_reloader=False, use_debugger=app.debug)
    except KeyboardInterrupt:
        pass
    finally:
        stopping.set()
        if proc is not None and proc.poll() is None:
            click.echo("正在停止后台任务进程…")
        stop_worker(proc)
