"""The deadline scan through real Celery workers, a crash half-way and two scans at once.

- a real worker process on the real Redis at 127.0.0.1:6379 (skipped only when Redis is down);
- `make run`'s mode: `flask jishi serve` with REDIS_URL unset starts the web server and a worker with
  its beat on the embedded SQLite broker, and Ctrl+C stops them all;
- a scan killed (SIGKILL) in the middle of its transaction leaves nothing half-done, and the next
  run marks the dead run failed and does the work once;
- two scans at the same time notify each recipient once and raise one alarm.

Every test makes its own supervising department (one supervisor) above its own unit (one clerk),
and a case decided six days ago whose first report was never made (the demo's 孙立新), left as
it stood on the day of the decision (未到期, not red): only the scan can flag it.
"""
from __future__ import annotations

import datetime as dt
import os
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.request
import uuid
from pathlib import Path
from types import SimpleNamespace

import pytest
import redis
from sqlalchemy import func, select

from app.audit import acting_as
from app.extensions import db
from app.models import Alarm, Case, CaseDeadline, Message, TaskRun, Unit
from app.models.deadlines import RUN_FAILED, RUN_OK, RUN_RUNNING
from app.scoping import Scope
from tests.factories import make_unit, make_user, unique, valid_case

ROOT = Path(__file__).resolve().parents[2]
REDIS_URL = os.environ.get("JISHI_TEST_CELERY_REDIS_URL", "redis://127.0.0.1:6379/5")
PERSONAL_DATES = {"birth_date", "work_start_date", "party_join_date", "party_full_member_date",
                  "current_post_date", "current_grade_date", "sanction_date"}
WAIT = 40  # seconds for a worker to start and answer


# ---- a late case of one's own -------------------------------------------------------------------------

def _late_case(app, world) -> SimpleNamespace:
    """A fresh 组织部 (one supervisor) above a fresh unit (one clerk), and a case of that unit decided
    six days ago, not reported: its first report was due yesterday (T01: 5 calendar days)."""
    from app.record.data import to_exchange
    from app.workflow.exchange import import_cases
    from app.alarms.derived import derive

    decided = dt.date.today() - dt.timedelta(days=6)
    tag = unique("cw").lower()
    with app.app_context(), acting_as("测试夹具", "cli"):
        sm = app.appbuilder.sm
        root = db.session.get(Unit, world.units["root"])
        dept = make_unit(f"{tag}-ZZB", f"组织部{tag}", root, level="区县", unit_type="组织部")
        unit = make_unit(f"{tag}-U", f"单位{tag}", dept)
        db.session.add_all([dept, unit])
        db.session.flush()
        clerk = make_user(sm, f"clerk_{tag}", ["填报员"], unit.id)
        sup = make_user(sm, f"sup_{tag}", ["监督员"], dept.id)
        db.session.commit()

        values = valid_case()
        shift = decided - values["decision"]["decision_date"]
        for key, module in values.items():
            for item, value in module.items():
                if key != "qualification" and isinstance(value, dt.date) and item not in PERSONAL_DATES:
                    module[item] = value + shift
        values["motion"]["reporting_unit"] = values["motion"]["target_unit"] = unit.code
        data = {k: v for k, v in to_exchange(values).items()
                if k in ("qualification", "motion", "decision")}
        data["motion"].pop("case_no", None)
        [case_id] = import_cases(data, Scope("all"), clerk)
        case = db.session.get(Case, case_id)
        # As the clerk left it on the day of the decision: the node open, the light not red.
        derive(case, decided)
        db.session.commit()
        row = db.session.execute(select(CaseDeadline).where(CaseDeadline.root_id == case.root_id)).scalar_one()
        assert (row.node, row.status, row.due_date) == (1, "未到期", decided + dt.timedelta(days=5))
        assert case.light != "红"
        return SimpleNamespace(case_id=case.id, root_id=case.root_id, clerk_id=clerk.id, sup_id=sup.id,
                               due=row.due_date)


def _state(app, info) -> SimpleNamespace:
    with app.app_context():
        row = db.session.execute(select(CaseDeadline).where(CaseDeadline.root_id == info.root_id)).scalar_one()
        notices = db.session.execute(
            select(Message.recipient_id, Message.kind, func.count(Message.id)).where(Message.case_id == info.case_id)
            .group_by(Message.recipient_id, Message.kind)).all()
        alarms = db.session.execute(
            select(Alarm.codes, Alarm.dedup_key).where(Alarm.root_id == info.root_id)).all()
        light = db.session.execute(select(Case.light).where(Case.id == info.case_id)).scalar()
        db.session.remove()
    return SimpleNamespace(status=row.status, days_late=row.days_late, light=light,
                           notices={(r, k): n for r, k, n in notices}, alarms=[tuple(a) for a in alarms])


def _assert_untouched(app, info):
    s = _state(app, info)
    assert s.status == "未到期" and s.light != "红" and not s.notices and not s.alarms, s


def _assert_flagged_once(app, info):
    """逾期 and red; one 逾期通知 for the clerk and one for the supervisor; one T01 deadline alarm."""
    s = _state(app, info)
    assert s.status == "逾期" and s.days_late == 1, s
    assert s.light == "红", s
    assert s.notices == {(info.clerk_id, "逾期通知"): 1, (info.sup_id, "逾期通知"): 1}, s.notices
    assert s.alarms == [("T01", f"deadline:{info.root_id}:1:{info.due.isoformat()}")], s.alarms


def _runs(app, ids) -> list[tuple]:
    with app.app_context():
        rows = db.session.execute(select(TaskRun.id, TaskRun.status, TaskRun.error).where(TaskRun.id.in_(ids))
                                  .order_by(TaskRun.id)).all()
        db.session.remove()
    return [tuple(r) for r in rows]


# ---- processes ------------------------------------------------------------------------------------------

def _env(db_url, instance: Path, redis_url: str | None) -> dict:
    env = {**os.environ, "DATABASE_URL": db_url, "JISHI_INSTANCE_DIR": str(instance), "FAB_UPDATE_PERMS": "False",
           "FLASK_APP": "run.py", "PYTHONUNBUFFERED": "1"}
    env.pop("REDIS_URL", None)
    if redis_url:
        env["REDIS_URL"] = redis_url
    return env


def _spawn(args, env, log: Path) -> subprocess.Popen:
    """A child in its own session (so it and its children can be stopped as a group), SIGINT default."""
    return subprocess.Popen(args, cwd=ROOT, env=env, stdout=log.open("wb"), stderr=subprocess.STDOUT,
                            start_new_session=True,
                            preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))


def _alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[0] != "Z"
    except FileNotFoundError:
        return False
    except OSError:
        try:
            os.kill(pid, 0)
            return True
        except ProcessLookupError:
            return False


def _kill_group(pid: int) -> None:
    try:
        os.killpg(pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass


def _stop(proc: subprocess.Popen, sig=signal.SIGTERM, timeout=15) -> None:
    if proc.poll() is None:
        proc.send_signal(sig)
        try:
            proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            pass
    _kill_group(proc.pid)  # the child's own group: whatever it left
    if proc.poll() is None:
        proc.kill()
        proc.wait(timeout=10)


def _wait_for(predicate, what: str, proc: subprocess.Popen, log: Path, timeout=WAIT):
    deadline = time.time() + timeout
    while time.time() < deadline:
        value = predicate()
        if value:
            return value
        if proc.poll() is not None:
            break
        time.sleep(0.2)
    pytest.fail(f"{what} (exit code {proc.poll()}):\n{_tail(log)}")


def _tail(log: Path) -> str:
    return log.read_text(errors="replace")[-6000:] if log.exists() else "(no log)"


def _results(client_results, proc, log) -> list[dict]:
    out = []
    for result in client_results:
        try:
            out.append(result.get(timeout=WAIT))
        except Exception as exc:  # noqa: BLE001 - report the worker's log
            pytest.fail(f"the worker did not answer ({exc!r}):\n{_tail(log)}")
    return out


def _assert_two_deliveries(app, info, outs):
    """The same scan delivered twice: the second finds nothing new; both runs recorded as 成功."""
    assert outs[0]["flagged"] >= 1 and outs[0]["overdue"] >= 2, outs
    assert (outs[1]["flagged"], outs[1]["sent"], outs[1]["red"]) == (0, 0, 0), outs
    _assert_flagged_once(app, info)
    runs = _runs(app, [o["task_run"] for o in outs])
    assert [r[1] for r in runs] == [RUN_OK, RUN_OK] and len({o["task_run"] for o in outs}) == 2, runs


def _redis_up(url: str) -> bool:
    try:
        redis.Redis.from_url(url, socket_connect_timeout=1).ping()
        return True
    except Exception:  # noqa: BLE001
        return False


# ---- a real worker on the real Redis --------------------------------------------------------------------

def test_scan_delivered_twice_to_a_real_worker_on_redis(app, world, db_url, tmp_path):
    if not _redis_up(REDIS_URL):
        pytest.skip(f"Redis is not reachable at {REDIS_URL}")
    from celery import Celery

    redis.Redis.from_url(REDIS_URL).flushdb()
    info = _late_case(app, world)
    queue = f"jishi-test-{uuid.uuid4().hex[:8]}"
    log = tmp_path / "worker.log"
    worker = _spawn([sys.executable, "-m", "celery", "-A", "app.tasks.worker:celery", "worker", "--pool", "solo",
                     "-c", "1", "-Q", queue, "--without-heartbeat", "--without-gossip", "--without-mingle",
                     "--loglevel", "INFO"], _env(db_url, tmp_path, REDIS_URL), log)
    client = Celery("jishi-test-client", broker=REDIS_URL, backend=REDIS_URL, set_as_current=False)
    try:
        sent = [client.send_task("jishi.deadlines_scan", queue=queue) for _ in range(2)]
        outs = _results(sent, worker, log)
    finally:
        _stop(worker)
        client.close()
    assert "celery@" in _tail(log) and "redis://" in _tail(log)
    _assert_two_deliveries(app, info, outs)


# ---- `make run`: web server, worker and beat on the embedded SQLite broker --------------------------------

def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _children(pid: int) -> list[int]:
    try:
        with open(f"/proc/{pid}/task/{pid}/children") as f:
            return [int(p) for p in f.read().split()]
    except OSError:
        return []


def test_make_run_mode_serves_and_runs_the_scan_on_the_embedded_broker(app, world, db_url, tmp_path):
    """`flask jishi serve` (what `make run` runs) with REDIS_URL unset: web + worker + beat, SQLite broker."""
    from celery import Celery

    info = _late_case(app, world)
    instance = tmp_path / "instance"  # does not exist yet: the broker file's folder is made
    port = _free_port()
    log = tmp_path / "serve.log"
    serve = _spawn([sys.executable, "-m", "flask", "jishi", "serve", "--port", str(port)],
                   _env(db_url, instance, None), log)
    pids = []
    client = None
    try:
        def web_up():
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/login/", timeout=2) as resp:
                    return resp.status == 200
            except OSError:
                return False

        _wait_for(web_up, "the web server did not start", serve, log)
        _wait_for(lambda: " ready." in _tail(log), "the embedded worker did not start", serve, log)
        text = _tail(log)
        assert "嵌入式 SQLite 代理" in text and f"sqla+sqlite:///{instance}/celery-broker.db" in text, text
        worker_pid = _wait_for(lambda: _children(serve.pid), "no worker process", serve, log)[0]
        pids = [worker_pid]
        beat_pids = _wait_for(lambda: _children(worker_pid), "no embedded beat process", serve, log)
        pids += beat_pids  # the worker and its embedded beat
        assert len(beat_pids) == 1, (pids, text)
        assert (instance / "celery-broker.db").exists()

        client = Celery("jishi-test-client", broker=f"sqla+sqlite:///{instance}/celery-broker.db",
                        backend=f"db+sqlite:///{instance}/celery-results.db", set_as_current=False)
        client.backend.ResultSession().close()  # the result tables, made before the worker writes
        sent = [client.send_task("jishi.deadlines_scan") for _ in range(2)]
        outs = _results(sent, serve, log)
        _assert_two_deliveries(app, info, outs)
        assert web_up()

        # Ctrl+C: the server stops, and the worker and beat with it.
        serve.send_signal(signal.SIGINT)
        serve.wait(timeout=30)
        deadline = time.time() + 10
        while any(_alive(p) for p in pids) and time.time() < deadline:
            time.sleep(0.2)
        assert not [p for p in pids if _alive(p)], _tail(log)
        assert "正在停止后台任务进程" in _tail(log)
    finally:
        if client is not None:
            client.close()
        _stop(serve)
        for pid in pids:
            _kill_group(pid)


# ---- a scan killed half-way ------------------------------------------------------------------------------

HANG = r"""
import time

import app.deadlines.due as deadlines
from app import create_app
from app.audit import acting_as
from app.tasks.deadlines import run_scan

flask_app = create_app()
routes = deadlines.routes


def routes_then_hang(unit_ids):
    # Step 4 of the scan: the statuses are updated, the alarms inserted and the case turned red,
    # all in the open transaction. The worker dies here.
    rows = routes(unit_ids)
    print("HANGING", flush=True)
    time.sleep(120)
    return rows


deadlines.routes = routes_then_hang
with flask_app.app_context(), acting_as("系统任务", "task"):
    run_scan()
"""


def test_a_scan_killed_half_way_leaves_nothing_and_the_next_run_recovers(app, world, db_url, tmp_path):
    from app.tasks.deadlines import run_scan

    info = _late_case(app, world)
    with app.app_context():
        before = db.session.execute(select(func.coalesce(func.max(TaskRun.id), 0))).scalar()
        db.session.remove()
    log = tmp_path / "hang.log"
    proc = _spawn([sys.executable, "-c", HANG], _env(db_url, tmp_path, None), log)
    try:
        _wait_for(lambda: "HANGING" in _tail(log), "the scan did not reach its hanging point", proc, log)
        # The run is visible as 运行中 (committed before the work); its work is not.
        with app.app_context():
            dead = db.session.execute(select(TaskRun).where(TaskRun.id > before,
                                                            TaskRun.task == "deadlines_scan")).scalar_one()
            dead_id, dead_status = dead.id, dead.status
            db.session.remove()
        assert dead_status == RUN_RUNNING
        proc.kill()  # SIGKILL: no clean-up of any kind
        proc.wait(timeout=10)
    finally:
        _stop(proc)
    _assert_untouched(app, info)  # nothing from the dead run was committed

    # The dead run is older than JISHI_TASK_TIMEOUT_MINUTES by the time the next one starts.
    timeout = app.config["JISHI_TASK_TIMEOUT_MINUTES"]
    with app.app_context(), acting_as("系统任务", "task"):
        dead = db.session.get(TaskRun, dead_id)
        dead.started_at -= dt.timedelta(minutes=timeout + 1)  # in Python: SQLite has no datetime arithmetic
        db.session.commit()
        out = run_scan()
        db.session.remove()
    assert out["task_run"] != dead_id
    _assert_flagged_once(app, info)
    runs = dict((r[0], r[1:]) for r in _runs(app, [dead_id, out["task_run"]]))
    assert runs[dead_id][0] == RUN_FAILED and "超时" in runs[dead_id][1], runs
    assert runs[out["task_run"]] == (RUN_OK, None), runs

    # and another run changes nothing
    with app.app_context(), acting_as("系统任务", "task"):
        again = run_scan()
        db.session.remove()
    assert (again["flagged"], again["sent"]) == (0, 0)
    _assert_flagged_once(app, info)


# ---- two scans at the same time --------------------------------------------------------------------------

def test_two_scans_at_once_notify_each_recipient_once(app, world, monkeypatch):
    """Two workers run the scan together: PostgreSQL queues them on the advisory lock, SQLite on its
    single writer, and the unique keys would stop a second notice anyway."""
    import app.deadlines.due as deadlines
    from app.tasks.deadlines import run_scan

    info = _late_case(app, world)
    routes = deadlines.routes
    inside = threading.Event()

    def slow_routes(unit_ids):  # keeps each scan inside its transaction a while, to overlap them
        inside.set()
        rows = routes(unit_ids)
        time.sleep(0.5)
        return rows

    monkeypatch.setattr(deadlines, "routes", slow_routes)
    start = threading.Barrier(2)
    outs, errors = [], []

    def one():
        try:
            with app.app_context(), acting_as("系统任务", "task"):
                start.wait(timeout=10)
                outs.append(run_scan())
                db.session.remove()
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    threads = [threading.Thread(target=one) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert not errors, errors
    assert len(outs) == 2 and inside.is_set()
    _assert_flagged_once(app, info)
    # the late node was flagged by exactly one of them
    assert sorted(o["overdue"] >= 2 for o in outs) == [False, True], outs
    runs = _runs(app, [o["task_run"] for o in outs])
    assert [r[1] for r in runs] == [RUN_OK, RUN_OK], runs
