"""Load: 50 concurrent clients against gunicorn and PostgreSQL, then proof that nothing was lost.

    .venv/bin/python bench/load.py [--database-url postgresql://postgres@127.0.0.1:5432/jishi_bench_load]
        [--clients 50] [--requests 40] [--seconds 30] [--workers 4] [--threads 2]

Re-creates the database (its name must contain ``bench``), migrates it, creates one unit and a
填报员 per client, starts ``gunicorn run:app`` on a free 127.0.0.1 port, and runs the clients: each
logs in (JWT), creates its own case and then, until its request budget or the time is spent,
saves module 1 with a new 简历 text (PUT /api/v1/case/<id>/module/qualification), reads the case
back (export) or lists cases. Every client writes only its own case, so a 409 (another writer's
newer version) can only come from the application itself; it is counted, not taken as a loss.

Then it checks, in the database: every case holds the last 简历 its client saw acknowledged, and
the audit trail has exactly one change of that item per acknowledged save (nothing lost, nothing
doubled). It prints requests, latencies (p50/p95/max), status counts and throughput, and exits 1
on any 5xx, transport error or lost write. tests/test_load.py runs the same on the test database.
"""
from __future__ import annotations

import argparse
import os
import secrets
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import requests
from sqlalchemy import create_engine, text

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from common import recreate_database  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
PASSWORD = "Load-Passw0rd!"
DEFAULT_URL = "postgresql://postgres@127.0.0.1:5432/jishi_bench_load"
KINDS = ("login", "create", "save", "read", "list")


@dataclass
class Client:
    username: str
    case_id: int | None = None
    acked: int = 0  # acknowledged saves
    last_value: str | None = None
    timings: list = field(default_factory=list)  # (kind, status, seconds)


# ---- database and users -------------------------------------------------------------------------------

def _engine(url: str):
    return create_engine(url.replace("postgresql://", "postgresql+psycopg://", 1))


def migrate(url: str):
    """Migrate, then the app that syncs roles and permissions (returned)."""
    from flask_migrate import upgrade

    import config
    from app import create_app

    app = create_app(config.Config, SQLALCHEMY_DATABASE_URI=url, FAB_UPDATE_PERMS=False)
    with app.app_context():
        upgrade()
    return create_app(config.Config, SQLALCHEMY_DATABASE_URI=url, FAB_UPDATE_PERMS=True)


def create_clients(app, count: int, tag: str | None = None) -> list[Client]:
    """A unit of its own and a 填报员 of it per client, through ``app`` (the caller's: a second app
    in a test process would become Celery's default app)."""
    from werkzeug.security import generate_password_hash

    from app.audit import acting_as
    from app.extensions import db
    from app.models import AppUser, Unit

    tag = tag or secrets.token_hex(4).upper()
    with app.app_context(), acting_as("压力测试", "cli"):
        unit = Unit(code=f"LOAD{tag}", name=f"压力测试单位{tag}", parent=None, level="市", unit_type="政府",
                    max_grade="县处级正职", authority="处级任免权", region_code="420100")
        db.session.add(unit)
        db.session.flush()
        role = app.appbuilder.sm.find_role("填报员")
        hashed = generate_password_hash(PASSWORD, method="pbkdf2:sha256:1000")  # fast: 50 logins at once
        clients = []
        for i in range(count):
            username = f"load_{tag.lower()}_{i:03d}"
            db.session.add(AppUser(username=username, first_name=f"压测{i}", last_name="", active=True,
                                   email=f"{username}@load.invalid", unit_id=unit.id, roles=[role], password=hashed))
            clients.append(Client(username))
        db.session.commit()
        db.session.remove()
    return clients


# ---- the server ------------------------------------------------------------------------------------------

def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_gunicorn(url: str, port: int, workers: int, threads: int, instance_dir: str,
                   extra_env: dict | None = None) -> subprocess.Popen:
    env = {**os.environ, "DATABASE_URL": url, "SECRET_KEY": secrets.token_urlsafe(48),
           "FAB_UPDATE_PERMS": "False", "AUTH_RATE_LIMITED": "false", "JISHI_INSTANCE_DIR": instance_dir,
           **(extra_env or {})}
    env.pop("REDIS_URL", None)  # the saves queue no task; keep the broker out of the figures
    gunicorn = Path(sys.executable).with_name("gunicorn")
    proc = subprocess.Popen([str(gunicorn), "-w", str(workers), "--threads", str(threads), "-b", f"127.0.0.1:{port}",
                             "--log-level", "warning", "run:app"], cwd=ROOT, env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"gunicorn exited: {proc.stderr.read()[-2000:]}")
        try:
            if requests.get(f"http://127.0.0.1:{port}/login/", timeout=2).status_code == 200:
                return proc
        except requests.RequestException:
            time.sleep(0.3)
    stop(proc)
    raise RuntimeError("gunicorn did not answer within 60 s")


def stop(proc: subprocess.Popen) -> None:
    proc.terminate()
    try:
        proc.wait(timeout=20)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


# ---- the clients -----------------------------------------------------------------------------------------

def _timed(client: Client, session: requests.Session, kind: str, method: str, url: str, **kwargs):
    start = time.perf_counter()
    try:
        resp = session.request(method, url, timeout=60, **kwargs)
        status = resp.status_code
    except requests.RequestException:
        resp, status = None, 0  # a transport error counts as a failure
    client.timings.append((kind, status, time.perf_counter() - start))
    return resp


def run_client(client: Client, base: str, budget: int, until: float) -> None:
    session = requests.Session()
    resp = _timed(client, session, "login", "POST", f"{base}/api/v1/security/login",
                  json={"username": client.username, "password": PASSWORD, "provider": "db"})
    if resp is None or resp.status_code != 200:
        return
    session.headers["Authorization"] = f"Bearer {resp.json()['access_token']}"
    resp = _timed(client, session, "create", "POST", f"{base}/api/v1/case/create")
    if resp is None or resp.status_code != 201:
        return
    client.case_id = resp.json()["id"]
    for seq in range(budget):
        if time.monotonic() > until:
            break
        if seq % 2 == 0:  # every other request is a save
            value = f"{client.username} 第{seq}次保存"
            resp = _timed(client, session, "save", "PUT", f"{base}/api/v1/case/{client.case_id}/module/qualification",
                          json={"resume": value, "handler": "压测经办", "leader": "压测领导"})
            if resp is not None and resp.status_code == 200:
                client.acked += 1
                client.last_value = value
        elif seq % 4 == 1:
            _timed(client, session, "read", "GET", f"{base}/api/v1/case/{client.case_id}/export")
        else:
            _timed(client, session, "list", "GET", f"{base}/api/v1/case/?q=(page_size:20)")


def run_clients(clients: list[Client], base: str, budget: int, seconds: float) -> float:
    until = time.monotonic() + seconds
    start = time.perf_counter()
    barrier = threading.Barrier(len(clients))

    def one(client):
        barrier.wait()  # all clients start together
        run_client(client, base, budget, until)

    with ThreadPoolExecutor(max_workers=len(clients)) as pool:
        list(pool.map(one, clients))
    return time.perf_counter() - start


# ---- the proof --------------------------------------------------------------------------------------------

def lost_writes(url: str, clients: list[Client]) -> list[str]:
    """Every acknowledged save is in the database, once."""
    problems = []
    engine = _engine(url)
    with engine.connect() as conn:
        for c in clients:
            if c.case_id is None:
                problems.append(f"{c.username}: no case was created")
                continue
            row = conn.execute(text("SELECT id, resume FROM case_qualification WHERE case_id = :c"),
                               {"c": c.case_id}).one()
            changes = conn.execute(text(
                "SELECT count(*) FROM audit_log WHERE table_name = 'case_qualification' AND record_id = :r "
                "AND field = 'resume'"), {"r": str(row.id)}).scalar()
            if row.resume != c.last_value:
                problems.append(f"{c.username}: case {c.case_id} holds {row.resume!r}, last acknowledged {c.last_value!r}")
            if changes != c.acked:
                problems.append(f"{c.username}: {c.acked} acknowledged saves, {changes} in the audit trail")
    engine.dispose()
    return problems


def summary(clients: list[Client], elapsed: float) -> dict:
    timings = [t for c in clients for t in c.timings]
    seconds = sorted(t[2] for t in timings)
    statuses: dict[int, int] = {}
    for _, status, _ in timings:
        statuses[status] = statuses.get(status, 0) + 1
    pct = statistics.quantiles(seconds, n=100) if len(seconds) > 1 else seconds * 99

    return {
        "requests": len(timings), "seconds": round(elapsed, 2),
        "per_second": round(len(timings) / elapsed, 1) if elapsed else 0.0,
        "p50_ms": round(pct[49] * 1000, 1), "p95_ms": round(pct[94] * 1000, 1),
        "max_ms": round(seconds[-1] * 1000, 1) if seconds else 0.0,
        "statuses": dict(sorted(statuses.items())),
        "server_errors": sum(n for s, n in statuses.items() if s >= 500 or s == 0),
        "conflicts_409": statuses.get(409, 0),
        "saves_acknowledged": sum(c.acked for c in clients),
        "by_kind": {k: sum(1 for t in timings if t[0] == k) for k in KINDS},
        "p50_ms_by_kind": {k: round(statistics.median(v) * 1000, 1) for k in KINDS
                           if (v := [t[2] for t in timings if t[0] == k])},
    }


def run(url: str, clients: list[Client], *, budget: int, seconds: float, workers: int, threads: int) -> dict:
    """Start gunicorn, run the clients, stop it, check the database: the figures and any problem."""
    with tempfile.TemporaryDirectory(prefix="jishi-load-") as instance_dir:
        port = free_port()
        proc = start_gunicorn(url, port, workers, threads, instance_dir)
        try:
            elapsed = run_clients(clients, f"http://127.0.0.1:{port}", budget, seconds)
        finally:
            stop(proc)
    figures = summary(clients, elapsed)
    figures["lost_writes"] = lost_writes(url, clients)
    return figures


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database-url", default=DEFAULT_URL)
    parser.add_argument("--clients", type=int, default=50)
    parser.add_argument("--requests", type=int, default=40, help="per client, after login and case creation")
    parser.add_argument("--seconds", type=float, default=30.0, help="the clients stop after this long")
    parser.add_argument("--workers", type=int, default=4)
    parser.add_argument("--threads", type=int, default=2)
    args = parser.parse_args()
    sys.path.insert(0, str(ROOT))
    os.chdir(ROOT)
    recreate_database(args.database_url, "load.py")
    app = migrate(args.database_url)
    clients = create_clients(app, args.clients)
    figures = run(args.database_url, clients, budget=args.requests, seconds=args.seconds,
                  workers=args.workers, threads=args.threads)
    for key, value in figures.items():
        if key != "lost_writes":
            print(f"{key:>20}: {value}")
    for problem in figures["lost_writes"]:
        print(f"LOST: {problem}")
    bad = figures["server_errors"] or figures["lost_writes"]
    print("FAILED" if bad else "OK: no server error, every acknowledged save is in the database once")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
