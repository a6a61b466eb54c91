"""`flask jishi seed-demo` (app/demo/seed.py) on the test database.

The world fixture's units share the database, so demo units are counted in the SZZB subtree
(materialised path "/SZZB/...") only.
"""
from __future__ import annotations

import re
from types import SimpleNamespace

import pytest
from sqlalchemy import func, select

DEMO_ROLES = {"系统管理员", "监督员", "填报员", "签字领导", "查询员"}


def invoke(app, *args):
    return app.test_cli_runner().invoke(args=["jishi", "seed-demo", *args])


def printed_credentials(output: str) -> dict:
    """username → password from the account table the command prints."""
    creds = {}
    lines = output.splitlines()
    for i, line in enumerate(lines):
        if line.startswith("演示账户（密码只显示这一次"):
            for account in lines[i + 1:]:
                if not account.startswith("  "):
                    break
                username, password = account.split()[:2]
                creds[username] = password
    return creds


def demo_usernames():
    from app.demo.seed import DEMO_USERS

    return [u[0] for u in DEMO_USERS]


def subtree_counts(app) -> dict:
    from app.extensions import db
    from app.models import AppUser, Unit, UnitQuota

    with app.app_context():
        in_tree = Unit.path.startswith("/SZZB/")
        return {
            "units": db.session.scalar(select(func.count()).select_from(Unit).where(in_tree)),
            "quotas": db.session.scalar(
                select(func.count()).select_from(UnitQuota).join(Unit, UnitQuota.unit_id == Unit.id).where(in_tree)),
            "users": db.session.scalar(select(func.count()).select_from(AppUser)),
        }


@pytest.fixture(scope="module")
def first_run(app, world):
    from app.extensions import db
    from app.models import AuditLog, Unit

    with app.app_context():
        already = db.session.execute(select(Unit.id).where(Unit.code == "SZZB")).first() is not None
    if already:
        pytest.skip("演示数据在本次测试会话中已由其他测试建立，无法检验首次运行")
    with app.app_context():
        mark = db.session.scalar(select(func.max(AuditLog.id))) or 0
    result = invoke(app)
    assert result.exit_code == 0, result.output
    return SimpleNamespace(stdout=result.stdout, audit_mark=mark)


def login_status(app, username, password):
    resp = app.test_client().post("/login/", data={"username": username, "password": password})
    return resp.status_code, resp.headers.get("Location", "")


# --------------------------------------------------------------------------- first run

def test_first_run_builds_the_municipality(app, first_run):
    from app.extensions import db
    from app.models import Unit
    from app.models.unit import validate_unit_fields

    with app.app_context():
        root = db.session.execute(select(Unit).where(Unit.code == "SZZB")).scalar_one()
        assert root.parent_id is None and root.path == "/SZZB/"
        assert (root.level, root.unit_type) == ("市", "组织部")
        units = db.session.execute(select(Unit).where(Unit.path.startswith("/SZZB/"))).scalars().all()
        below = [u for u in units if u.id != root.id]

        def count(**kw):
            return sum(all(getattr(u, k) == v for k, v in kw.items()) for u in below)

        # 99 municipal units + 16 × (区委, 区委组织部, 2 departments) under the root.
        assert count(authority="处级任免权") == 163
        assert count(level="区县", unit_type="党委") == 16
        assert count(level="区县", unit_type="组织部") == 16
        # 16 × 18 townships, streets and institutions + 40 bureau sub-units.
        assert count(authority="科级任免权") == 328
        assert len(units) == 1 + 163 + 328

        # Each 区委组织部 sits under its 区委, which sits under the municipal department.
        for zzb in (u for u in below if u.level == "区县" and u.unit_type == "组织部"):
            assert zzb.parent.unit_type == "党委" and zzb.parent.level == "区县"
            assert zzb.parent.parent_id == root.id
            assert zzb.path == zzb.parent.path + zzb.code + "/"
        for unit in below:
            assert unit.path == unit.parent.path + unit.code + "/"
            assert validate_unit_fields(unit) == [], unit.code

        # Quotas: every 处级 bureau and every 区委 has approved posts, all valid.
        with_quotas = [u for u in below if u.quotas]
        assert len(with_quotas) >= 99 + 16
        for u in below:
            if u.code.startswith("SJ") and u.parent_id == root.id:
                assert u.quotas, u.code
            if u.level == "区县" and u.unit_type == "党委":
                assert {q.grade for q in u.quotas} >= {"县处级正职", "县处级副职"}, u.code
        for u in with_quotas:
            for q in u.quotas:
                assert q.approved >= 0

    # The printed count is the number of demo units, not of the whole table.
    assert f"已建立 {len(units)} 个单位" in first_run.stdout


def test_first_run_prints_each_demo_account_once(app, first_run):
    creds = printed_credentials(first_run.stdout)
    assert set(creds) == set(demo_usernames())
    for username in demo_usernames():
        assert username in first_run.stdout
    from app.security import password_policy

    for password in creds.values():
        password_policy(password)  # raises when too weak
    assert len(set(creds.values())) == len(creds), "two accounts share a password"


def test_demo_roles_and_sibling_units(app, first_run):
    from app.extensions import db
    from app.models import AppUser, Unit

    with app.app_context():
        users = db.session.execute(select(AppUser).where(AppUser.username.in_(demo_usernames()))).scalars().all()
        assert {u.username for u in users} == set(demo_usernames())
        roles = {r.name for u in users for r in u.roles}
        assert roles >= DEMO_ROLES
        for role in DEMO_ROLES:
            assert any(role in {r.name for r in u.roles} for u in users), role
        for u in users:
            assert u.active
            if "系统管理员" not in {r.name for r in u.roles}:
                assert u.unit is not None and u.unit.path.startswith("/SZZB/"), u.username

        sj011 = db.session.execute(select(Unit).where(Unit.code == "SJ011")).scalar_one()
        sj017 = db.session.execute(select(Unit).where(Unit.code == "SJ017")).scalar_one()
        assert sj011.parent_id == sj017.parent_id and sj011.parent.code == "SZZB"
        for unit in (sj011, sj017):
            members = [u for u in users if u.unit_id == unit.id]
            role_of = [r.name for u in members for r in u.roles]
            assert role_of.count("填报员") >= 1, unit.code
            assert role_of.count("签字领导") == 3, unit.code


def test_demo_writes_are_traced_as_cli(app, first_run):
    from app.extensions import db
    from app.models import AuditLog, Unit

    with app.app_context():
        root_id = db.session.scalar(select(Unit.id).where(Unit.code == "SZZB"))
        rows = db.session.execute(
            select(AuditLog.path, AuditLog.actor_name, AuditLog.action)
            .where(AuditLog.id > first_run.audit_mark, AuditLog.table_name.in_(("unit", "unit_quota", "ab_user")))
        ).all()
        case_rows = db.session.execute(
            select(AuditLog.path, AuditLog.actor_name).where(AuditLog.id > first_run.audit_mark)
        ).all()
        root_rows = db.session.execute(
            select(AuditLog.id).where(AuditLog.id > first_run.audit_mark, AuditLog.table_name == "unit",
                                      AuditLog.record_id == str(root_id))
        ).all()
    assert root_rows
    # Units, quotas and users: every row was written as the demo actor through the CLI.
    assert rows and set(rows) == {("cli", "演示数据", "insert")}
    # the demo cases were written through the same commands, by the same actor and path
    assert set(case_rows) == {("cli", "演示数据")}


def test_first_run_password_logs_in(app, first_run):
    password = printed_credentials(first_run.stdout)["szzb_cxy"]
    status, location = login_status(app, "szzb_cxy", password)
    assert status == 302 and "/login" not in location


# --------------------------------------------------------------------------- repeated runs

def test_second_run_creates_nothing_and_prints_no_password(app, first_run):
    before = subtree_counts(app)
    result = invoke(app)
    assert result.exit_code == 0, result.output
    assert subtree_counts(app) == before
    assert "单位已存在" in result.stdout
    assert "已建立" not in result.stdout
    assert printed_credentials(result.stdout) == {}
    for password in printed_credentials(first_run.stdout).values():
        assert password not in result.output
    for line in result.stdout.splitlines():
        assert not re.match(r"^\s+\S+\s+\S+\s+(系统管理员|监督员|填报员|签字领导|查询员)\b", line), line


def test_reset_passwords_prints_new_passwords_that_log_in(app, first_run):
    old = printed_credentials(first_run.stdout)
    before = subtree_counts(app)
    result = invoke(app, "--reset-passwords")
    assert result.exit_code == 0, result.output
    new = printed_credentials(result.stdout)
    assert set(new) == set(demo_usernames())
    for username in new:
        assert new[username] != old[username], username
    assert subtree_counts(app) == before

    status, location = login_status(app, "jyj_tby", new["jyj_tby"])
    assert status == 302 and "/login" not in location, location
    # The old password no longer works.
    status, location = login_status(app, "jyj_tby", old["jyj_tby"])
    assert status == 302 and "/login" in location

    # Logged in as the clerk of 市教育局: the unit list shows their unit and not the sibling.
    client = app.test_client()
    resp = client.post("/login/", data={"username": "jyj_tby", "password": new["jyj_tby"]})
    assert resp.status_code == 302 and "/login" not in resp.headers["Location"]
    page = client.get("/unitview/list/")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "市教育局" in html and "市财政局" not in html


def test_reset_passwords_never_touches_an_account_it_did_not_create(app, first_run):
    """A real administrator who happens to share a demo user name keeps their password."""
    from app.audit import acting_as
    from app.extensions import db
    from app.models import AppUser

    with app.app_context():
        user = db.session.execute(select(AppUser).where(AppUser.username == "czj_cxy")).scalar_one()
        user.email = "real.person@example.gov"
        with acting_as("测试", "cli"):
            db.session.commit()
        before = user.password
    result = invoke(app, "--reset-passwords")
    assert result.exit_code == 0, result.output
    assert "czj_cxy" not in printed_credentials(result.output)
    assert "jyj_tby" in printed_credentials(result.output)
    with app.app_context():
        assert db.session.execute(select(AppUser.password).where(AppUser.username == "czj_cxy")).scalar() == before


# --------------------------------------------------------------------------- issue 13

def test_demo_has_a_keji_case_and_a_cross_case_finding(app, first_run):
    """One 科级 promotion (副科 → 正科 after 1.6 years: Q04) and one person across cases (X18 on 王志远's
    市教育局 case, naming his earlier 市财政局 case)."""
    from app.alarms.lights import latest_hits
    from app.extensions import db
    from app.models import Case, Unit

    def current(name, code):
        return db.session.execute(select(Case).join(Unit, Unit.id == Case.unit_id).where(
            Case.full_name == name, Unit.code == code, Case.is_current.is_(True))).scalar_one()

    with app.app_context():
        keji = current("周海波", "SJ011")
        assert keji.module_row("motion").target_grade == "乡科级正职"
        assert keji.module_row("qualification").current_grade == "乡科级副职"
        assert "Q04" in {h.rule_code for h in latest_hits(keji)}
        later, earlier = current("王志远", "SJ011"), current("王志远", "SJ017")
        [x18] = [h for h in latest_hits(later) if h.rule_code == "X18"]
        assert later.case_no in x18.message and earlier.case_no in x18.message
        assert "X18" not in {h.rule_code for h in latest_hits(earlier)}


def test_demo_seeds_a_second_administrator_for_the_four_eyes(app, first_run):
    """admin writes a custom rule, admin2 (a second 系统管理员, its password printed like the others) approves it."""
    from app.audit import acting_as
    from app.extensions import db
    from app.workflow import custom_rules as cr

    assert "admin2" in printed_credentials(first_run.stdout)
    with app.app_context():
        sm = app.appbuilder.sm
        admin, admin2 = sm.find_user(username="admin"), sm.find_user(username="admin2")
        assert [r.name for r in admin2.roles] == ["系统管理员"]
        code = next(f"Z{n}" for n in range(9000, 9999) if not cr.versions(f"Z{n}"))
        data = {"code": code, "title": "演示", "category": "P", "severity": "yellow", "points": "E", "basis": "演示",
                "effective_from": "2099-01-01", "region_code": "990000", "expression": "true"}
        with acting_as(admin, "cli"):
            cr.save_draft(data, admin)
        with acting_as(admin2, "cli"):
            assert cr.approve(code, admin2).status == "enabled"
        db.session.remove()
