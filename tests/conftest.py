"""Test fixtures.

The database is real: SQLite in a temporary file by default, PostgreSQL when
JISHI_TEST_DATABASE_URL names one (tests/run_all.py runs the suite on both). The schema is built
by the migrations, exactly as in production, once per session. A small organisation tree and one
user per role are created once ("world"); tests that write make their own uniquely named rows.
"""
from __future__ import annotations

import os
import tempfile
from dataclasses import dataclass, field
from types import SimpleNamespace

import pytest
from sqlalchemy import create_engine, text

import config
from tests.clock import keep_the_run_within_one_day
from tests.factories import login, make_unit, make_user, office_rows, unique

# Before any test module takes its TODAY (conftest is imported first).
if (_start := keep_the_run_within_one_day()) is not None:
    print(f"测试时钟从 {_start:%Y-%m-%d %H:%M:%S} 起走（本次运行会跨过午夜）")


def _database_url() -> str:
    url = os.environ.get("JISHI_TEST_DATABASE_URL")
    if url:
        return url
    tmp = tempfile.mkdtemp(prefix="jishi-test-")
    return f"sqlite:///{tmp}/test.db"


def _reset_database(url: str) -> None:
    if url.startswith("sqlite"):
        return  # a new temporary file every session
    engine = create_engine(url.replace("postgresql://", "postgresql+psycopg://", 1))
    with engine.begin() as conn:
        conn.execute(text("DROP SCHEMA IF EXISTS public CASCADE"))
        conn.execute(text("CREATE SCHEMA public"))
    engine.dispose()


@pytest.fixture(scope="session")
def db_url():
    url = _database_url()
    _reset_database(url)
    return url


@pytest.fixture(scope="session")
def app(db_url):
    from flask_migrate import upgrade

    from app import create_app

    # The first app only runs the migrations (its permission sync is skipped: no tables yet).
    bootstrap = create_app(config.TestConfig, SQLALCHEMY_DATABASE_URI=db_url)
    with bootstrap.app_context():
        upgrade()
        from app.extensions import db

        db.session.remove()
    app = create_app(config.TestConfig, SQLALCHEMY_DATABASE_URI=db_url)
    _APPS.append(app)
    return app


_APPS: list = []


@pytest.fixture(autouse=True)
def celery_stays_with_the_suite_app():
    """create_app makes its Celery app the default: after a test that built another app (CSRF on,
    another database or configuration), later tests' tasks must run in the suite's app again."""
    yield
    if _APPS:
        celery = _APPS[0].extensions["celery"]
        celery.set_current()
        celery.set_default()


@pytest.fixture(scope="session", autouse=True)
def statistics_facts_stay_true():
    """After every test of the run, the statistics fact table still says what the cases say: no
    path of the application (nor of the tests' own fixtures) changed a case without its fact row."""
    yield
    from app.extensions import db
    from app.queries.facts import differences, mismatches

    for app in _APPS:
        with app.app_context():
            bad = {case_id: differences(case_id) for case_id in mismatches()}
            db.session.remove()
        assert bad == {}, f"统计事实表与案例不一致：{bad}"


@pytest.fixture(scope="session", autouse=True)
def derived_state_stays_true():
    """After every test of the run, every current case's stored derived state (light, evaluations,
    deadlines, deadline alarms, fact row) is what a fresh derivation gives: ``flask jishi verify
    --derived`` reports nothing (一案一真), but for the cases fixtures planted on purpose."""
    import json

    yield
    for app in _APPS:
        result = app.test_cli_runner().invoke(args=["jishi", "verify", "--derived", "--json"])
        found = json.loads(result.output)["differences"]
        wrong = [f"{d['case_no']}（#{d['case_id']}）{d['field']}：{d['stored']} → {d['recomputed']}"
                 for d in found if d["case_no"] not in app.extensions.get("jishi_planted", ())]
        assert wrong == [], "推导状态与事实不一致：\n" + "\n".join(wrong[:100])


@pytest.fixture()
def ctx(app):
    with app.app_context():
        yield
        from app.extensions import db

        db.session.rollback()
        db.session.remove()


@dataclass
class World:
    """root (组织部) ─┬─ A ── A1
                      └─ B          (A and B are siblings)"""

    units: dict = field(default_factory=dict)  # key → id
    users: dict = field(default_factory=dict)  # key → username
    names: dict = field(default_factory=dict)  # key → unit name


@pytest.fixture(scope="session")
def world(app) -> World:
    from app.audit import acting_as
    from app.extensions import db
    from app.models import UnitQuota

    w = World()
    tag = unique("W")
    with app.app_context(), acting_as("测试夹具", "cli"):
        sm = app.appbuilder.sm
        root = make_unit(f"{tag}-ROOT", f"测试组织部{tag}", None, level="市", unit_type="组织部")
        a = make_unit(f"{tag}-A", f"甲单位{tag}", root)
        a1 = make_unit(f"{tag}-A1", f"甲下属单位{tag}", a, level="事业单位", authority="科级任免权")
        b = make_unit(f"{tag}-B", f"乙单位{tag}", root)
        a.quotas = [UnitQuota(grade="县处级副职", approved=3)]
        b.quotas = [UnitQuota(grade="县处级副职", approved=4)]
        db.session.add_all([root, a, a1, b])
        db.session.flush()
        for key, unit in {"root": root, "a": a, "a1": a1, "b": b}.items():
            w.units[key] = unit.id
            w.names[key] = unit.name
        # A role holding every permission of every view: proves scoping holds even where the
        # role would allow the operation.
        from flask_appbuilder.security.sqla.models import PermissionView

        everything = sm.add_role("全权测试角色")
        everything.permissions = db.session.query(PermissionView).all()
        users = {
            "admin": (["系统管理员"], None),
            "sup_root": (["监督员"], root.id),
            "sup_a": (["监督员"], a.id),
            "clerk_a": (["填报员"], a.id),
            "clerk_b": (["填报员"], b.id),
            "signer_a": (["签字领导"], a.id),
            "query_a": (["查询员"], a.id),
            "all_a": (["全权测试角色", "监督员"], a.id),  # every permission over A's subtree
            "all_b": (["全权测试角色"], b.id),
            "nounit": (["监督员"], None),
        }
        for key, (roles, unit_id) in users.items():
            username = f"{key}_{tag}".lower()
            make_user(sm, username, roles, unit_id)
            w.users[key] = username
        db.session.commit()
    return w


@pytest.fixture(scope="module")
def csrf_app(db_url, app):
    """An app with CSRF protection on, as in production (the test configuration turns it off)."""
    from app import create_app

    return create_app(config.TestConfig, SQLALCHEMY_DATABASE_URI=db_url, WTF_CSRF_ENABLED=True)


@pytest.fixture()
def office(app, world, ctx):
    """A fresh 组织部 (with a supervisor) above a fresh unit (with a clerk and three signers)."""
    return office_rows(app, world, "dl")


@pytest.fixture()
def team(app, world, ctx):
    """Fresh users of unit A (and two of unit B) for one test."""
    from app.audit import acting_as
    from app.extensions import db
    from app.models import Unit

    sm = app.appbuilder.sm
    tag = unique("wf").lower()
    spec = {
        "clerk": (["填报员", "签字领导"], "a"),  # creates the cases: may submit, may not sign its own
        "s1": (["签字领导"], "a"), "s2": (["签字领导"], "a"), "s3": (["签字领导"], "a"),
        "plain": (["填报员"], "a"),
        "signer_b": (["签字领导"], "b"),
        "sup": (["监督员"], "a"),
        "sup_b": (["监督员"], "b"),
    }
    with acting_as("测试夹具", "cli"):
        users = {k: make_user(sm, f"{k}_{tag}", roles, world.units[u]) for k, (roles, u) in spec.items()}
        db.session.commit()
    return SimpleNamespace(unit=db.session.get(Unit, world.units["a"]), **users)


@pytest.fixture()
def client_for(app, world):
    """client_for("clerk_a") → a test client logged in as that world user."""

    def make(key):
        client = app.test_client()
        return login(client, world.users[key])

    return make
