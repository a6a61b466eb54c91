"""Security basics: CSRF, lock-out, password policy, configuration refusals, cookie flags."""
import re

import pytest

import config
from app.security import password_policy
from tests.factories import PASSWORD, login, make_user, unique


@pytest.fixture(scope="module")
def csrf_app(db_url, app):
    from app import create_app

    return create_app(config.TestConfig, SQLALCHEMY_DATABASE_URI=db_url, WTF_CSRF_ENABLED=True)


def test_forms_need_a_csrf_token(csrf_app, world):
    client = csrf_app.test_client()
    # the login form itself refuses a post without the token
    resp = client.post("/login/", data={"username": world.users["admin"], "password": PASSWORD})
    assert resp.status_code in (200, 400)
    assert "session" not in resp.headers.get("Set-Cookie", "") or "/login" in resp.headers.get("Location", "/login")
    # with the token it works, and a write form without one is refused
    page = client.get("/login/").get_data(as_text=True)
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page).group(1)
    resp = client.post("/login/", data={"username": world.users["admin"], "password": PASSWORD, "csrf_token": token})
    assert resp.status_code == 302 and "/login" not in resp.headers["Location"]
    from app.extensions import db
    from app.models import UnitQuota

    with csrf_app.app_context():
        before = db.session.query(UnitQuota).count()
    resp = client.post("/unitquotaview/add", data={"unit": world.units["b"], "grade": "厅局级正职", "approved": "5"})
    html = resp.get_data(as_text=True)
    assert resp.status_code in (200, 400)
    assert re.search("csrf|令牌", html, re.I), html[-3000:]
    with csrf_app.app_context():
        assert db.session.query(UnitQuota).count() == before
    # an API write with a session cookie but no token is refused as well
    resp = client.post("/api/v1/unit_quota/", json={"grade": "厅局级正职", "approved": 5})
    assert resp.status_code in (400, 401, 403)


def test_repeated_failures_lock_the_account(app, world):
    from app.extensions import db
    from app.models import AppUser

    username = unique("lock").lower()
    with app.app_context():
        make_user(app.appbuilder.sm, username, ["填报员"], world.units["a"])
        from app.audit import acting_as

        with acting_as("测试", "cli"):
            db.session.commit()
    client = app.test_client()
    limit = app.config["JISHI_LOGIN_MAX_FAILURES"]
    for _ in range(limit):
        resp = client.post("/login/", data={"username": username, "password": "wrong-Passw0rd"})
        assert "/login" in resp.headers["Location"]
    # now even the right password is refused, with the same Chinese message as any failed login
    # (telling "locked" apart would tell which accounts exist)
    resp = client.post("/login/", data={"username": username, "password": PASSWORD}, follow_redirects=True)
    html = resp.get_data(as_text=True)
    assert "用户名或密码错误；连续多次失败的账户将被临时锁定" in html
    with app.app_context():
        user = db.session.query(AppUser).filter_by(username=username).one()
        assert user.locked_until is not None
        # once the lock-out has passed, the right password works again
        import datetime as dt

        user.locked_until = dt.datetime.now() - dt.timedelta(seconds=1)
        with acting_as("测试", "cli"):
            db.session.commit()
    login(app.test_client(), username)


@pytest.mark.parametrize("pw,ok", [
    ("short1A!", False), ("alllowercaseletters", False), ("NoDigitsButLong", False),
    ("Abcdefgh1234", True), ("abc-def-1234", True),
])
def test_password_policy(pw, ok):
    if ok:
        password_policy(pw)
    else:
        with pytest.raises(Exception, match="密码至少 10 位"):
            password_policy(pw)


def test_user_form_enforces_the_password_policy(app, world, client_for):

    client = client_for("admin")
    with app.app_context():
        role_id = app.appbuilder.sm.find_role("填报员").id
    name = unique("pw").lower()
    resp = client.post("/users/add", data={
        "first_name": "张", "last_name": "三", "username": name, "active": "y", "email": f"{name}@t.invalid",
        "unit": world.units["a"], "roles": [role_id], "password": "weak", "conf_password": "weak",
    })
    assert resp.status_code == 200
    assert "密码至少 10 位" in resp.get_data(as_text=True)


# The development key this repository once committed (public, so refused everywhere).
PUBLISHED_KEY = "jishi-development-secret-not-for-production"


def test_production_refuses_the_default_secret():
    with pytest.raises(RuntimeError, match="SECRET_KEY"):
        config.validate({"JISHI_ENV": "production", "SECRET_KEY": PUBLISHED_KEY})
    with pytest.raises(RuntimeError, match="SECRET_KEY"):
        config.validate({"JISHI_ENV": "production", "SECRET_KEY": ""})
    with pytest.raises(RuntimeError, match="32"):
        config.validate({"JISHI_ENV": "production", "SECRET_KEY": "short"})
    config.validate({"JISHI_ENV": "production", "SECRET_KEY": "x" * 40})
    with pytest.raises(RuntimeError, match="已公开"):
        config.validate({"JISHI_ENV": "development", "SECRET_KEY": PUBLISHED_KEY})


def test_create_app_refuses_production_with_default_secret(db_url):
    from app import create_app

    with pytest.raises(RuntimeError):
        create_app(config.TestConfig, SQLALCHEMY_DATABASE_URI=db_url, JISHI_ENV="production",
                   SECRET_KEY=PUBLISHED_KEY)


def test_config_comes_from_the_environment(monkeypatch):
    import importlib

    monkeypatch.setenv("DATABASE_URL", "postgresql://u@db.example/jishi")
    monkeypatch.setenv("REDIS_URL", "redis://127.0.0.1:6379/3")
    monkeypatch.setenv("SESSION_COOKIE_SECURE", "true")
    monkeypatch.setenv("JISHI_ENV", "production")
    monkeypatch.setenv("SECRET_KEY", "s" * 40)
    cfg = importlib.reload(config)
    try:
        assert cfg.Config.SQLALCHEMY_DATABASE_URI == "postgresql://u@db.example/jishi"
        assert cfg.Config.CELERY["broker_url"] == "redis://127.0.0.1:6379/3"
        assert cfg.Config.SESSION_COOKIE_SECURE is True and cfg.Config.SESSION_COOKIE_HTTPONLY is True
        assert cfg.Config.JISHI_ENV == "production"
    finally:
        for name in ("DATABASE_URL", "REDIS_URL", "SESSION_COOKIE_SECURE", "JISHI_ENV", "SECRET_KEY"):
            monkeypatch.delenv(name)
        importlib.reload(config)
    assert config.Config.CELERY["broker_url"].startswith("sqla+sqlite")


def test_session_cookie_is_httponly(app, world):
    client = app.test_client()
    resp = client.post("/login/", data={"username": world.users["clerk_a"], "password": PASSWORD})
    cookie = resp.headers.get("Set-Cookie", "")
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie


def test_login_is_rate_limited(db_url, app):
    from app import create_app

    limited = create_app(config.TestConfig, SQLALCHEMY_DATABASE_URI=db_url, AUTH_RATE_LIMITED=True,
                         AUTH_RATE_LIMIT="3 per 1 minute", RATELIMIT_ENABLED=config.Config.RATELIMIT_ENABLED)
    client = limited.test_client()
    codes = [client.post("/login/", data={"username": "nobody", "password": "x"}).status_code for _ in range(5)]
    assert codes[:3] == [302, 302, 302]
    assert codes[3:] == [429, 429]
    # the refusal page is Chinese
    assert "请求过于频繁" in client.post("/login/", data={"username": "n", "password": "x"}).get_data(as_text=True)


def _permission_statements(app, fn) -> int:
    """How many statements ``fn`` sends that read the role-permission table."""
    from sqlalchemy import event

    from app.extensions import db

    seen = []

    def before(conn, cursor, statement, *args):
        if "ab_permission_view_role" in statement:
            seen.append(statement)

    with app.app_context():
        engine = db.engine
    event.listen(engine, "before_cursor_execute", before)
    try:
        fn()
    finally:
        event.remove(engine, "before_cursor_execute", before)
    return len(seen)


def test_a_page_reads_the_roles_permissions_once(app, world, client_for):
    """The admin's list page checks some forty permissions (menu entries, buttons); they are read in
    one statement per request, not one each — and still decide: a role without the permission is refused."""
    admin = client_for("admin")
    n = _permission_statements(app, lambda: admin.get("/cases/list/"))
    assert n == 1
    clerk = client_for("clerk_a")
    assert _permission_statements(app, lambda: clerk.get("/unitview/list/")) <= 1  # built-in roles read none
    assert clerk.get("/users/list/").status_code in (302, 403)


def test_a_permission_change_counts_within_the_same_context(app, world):
    """The per-request cache is dropped when a role's permissions change."""
    from flask import g

    from app.extensions import db

    with app.test_request_context():
        sm = app.appbuilder.sm
        role = sm.add_role("临时角色" + str(id(g)))
        pv = sm.add_permission_view_menu("can_list", "CaseView")
        role_ids = [role.id]
        assert not sm.exist_permission_on_roles("CaseView", "can_list", role_ids)
        sm.add_permission_role(role, pv)
        assert sm.exist_permission_on_roles("CaseView", "can_list", role_ids)
        assert "CaseView" in {p.view_menu.name for p in sm.find_roles_permission_view_menus("can_list", role_ids)}
        sm.del_permission_role(role, pv)
        assert not sm.exist_permission_on_roles("CaseView", "can_list", role_ids)
        db.session.delete(db.session.get(type(role), role.id))
        db.session.commit()
