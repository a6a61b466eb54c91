"""Authentication and sessions (issue 18): hashed passwords on every path, one identity for cookie,
JWT and CLI, sessions and tokens that end at logout and password change, logout by POST only,
throttled JWT login and a lock-out that does not tell which accounts exist."""
import re

import pytest
from werkzeug.security import check_password_hash

import config
from tests.factories import PASSWORD, csrf_login, login, make_user, unique

NEW_PASSWORD = "Changed-Passw0rd!"


# ---- helpers -----------------------------------------------------------------------------------

def _new_user(app, world, role="填报员", unit="a"):
    from app.audit import acting_as
    from app.extensions import db

    username = unique("au").lower()
    with app.app_context(), acting_as("测试", "cli"):
        make_user(app.appbuilder.sm, username, [role], world.units[unit])
        db.session.commit()
    return username


def _stored_password(app, username):
    from app.extensions import db
    from app.models import AppUser

    with app.app_context():
        value = db.session.query(AppUser.password).filter_by(username=username).scalar()
        db.session.remove()
        return value


def _user_id(app, username):
    from app.extensions import db
    from app.models import AppUser

    with app.app_context():
        value = db.session.query(AppUser.id).filter_by(username=username).scalar()
        db.session.remove()
        return value


def _jwt(client, username, password=PASSWORD, refresh=False):
    resp = client.post("/api/v1/security/login",
                       json={"username": username, "password": password, "provider": "db", "refresh": refresh})
    return resp


def _bearer(token):
    return {"Authorization": f"Bearer {token}"}


def _signed_in(client) -> bool:
    """Does this client's cookie still open a page that needs a login?"""
    resp = client.get("/users/userinfo/")
    return resp.status_code == 200


def _copy_of_cookie(app, client):
    """A second client holding exactly the session cookie ``client`` holds now (what a thief copies)."""
    name = app.config.get("SESSION_COOKIE_NAME", "session")
    cookie = client.get_cookie(name)
    assert cookie is not None
    thief = app.test_client()
    thief.set_cookie(name, cookie.value)
    return thief


def _role_id(app, name):
    with app.app_context():
        return app.appbuilder.sm.find_role(name).id


# ---- 1. passwords are stored hashed --------------------------------------------------------------

def test_admin_created_user_is_stored_hashed_and_can_log_in(app, world, client_for):
    admin = client_for("admin")
    name = unique("nu").lower()
    resp = admin.post("/users/add", data={
        "first_name": "张", "last_name": "三", "username": name, "active": "y", "email": f"{name}@t.invalid",
        "unit": world.units["a"], "roles": [_role_id(app, "填报员")],
        "password": NEW_PASSWORD, "conf_password": NEW_PASSWORD,
    })
    assert resp.status_code == 302, resp.get_data(as_text=True)[-2000:]
    stored = _stored_password(app, name)
    assert stored != NEW_PASSWORD
    assert check_password_hash(stored, NEW_PASSWORD)
    login(app.test_client(), name, NEW_PASSWORD)


def test_a_plaintext_password_never_reaches_the_table(app, world):
    """Any code that assigns a clear password through the ORM (a script, a future import) still
    stores a hash: the check sits at the flush, under every path."""
    from app.audit import acting_as
    from app.extensions import db
    from app.models import AppUser

    username = _new_user(app, world)
    with app.app_context(), acting_as("测试", "cli"):
        user = db.session.query(AppUser).filter_by(username=username).one()
        user.password = NEW_PASSWORD
        db.session.commit()
        db.session.remove()
    stored = _stored_password(app, username)
    assert stored != NEW_PASSWORD and check_password_hash(stored, NEW_PASSWORD)
    login(app.test_client(), username, NEW_PASSWORD)


@pytest.mark.parametrize("method", ["scrypt", "pbkdf2:sha256", "pbkdf2:sha256:1000", "pbkdf2:sha512:5000"])
def test_werkzeug_hashes_are_recognised_and_clear_text_is_not(method):
    from werkzeug.security import generate_password_hash

    from app.auth import is_password_hash

    assert is_password_hash(generate_password_hash(PASSWORD, method=method, salt_length=4))
    for clear in (PASSWORD, "scrypt:1:2:3$", "pbkdf2:sha256$salt$not-hex", "", None):
        assert not is_password_hash(clear)


def test_fab_cli_users_are_hashed_and_a_cli_reset_ends_their_sessions(app, world):
    from flask_appbuilder.cli import fab  # FAB's `flask fab ...` group (an entry point of the package)

    username = unique("cli").lower()
    runner = app.test_cli_runner()
    result = runner.invoke(fab, args=["create-user", "--role", "填报员", "--username", username,
                                 "--firstname", "张", "--lastname", "三", "--email", f"{username}@t.invalid",
                                 "--password", PASSWORD])
    assert "created" in result.output, result.output
    stored = _stored_password(app, username)
    assert stored != PASSWORD and check_password_hash(stored, PASSWORD)
    client = login(app.test_client(), username)
    result = runner.invoke(fab, args=["reset-password", "--username", username, "--password", NEW_PASSWORD])
    assert result.exit_code == 0, result.output
    stored = _stored_password(app, username)
    assert stored != NEW_PASSWORD and check_password_hash(stored, NEW_PASSWORD)
    assert not _signed_in(client)
    login(app.test_client(), username, NEW_PASSWORD)


def test_over_long_names_in_the_user_forms_are_refused_in_chinese(app, world, client_for):
    from app.extensions import db
    from app.models import AppUser

    admin = client_for("admin")
    name = unique("ln").lower()
    resp = admin.post("/users/add", data={
        "first_name": "名" * 65, "last_name": "三", "username": name, "active": "y", "email": f"{name}@t.invalid",
        "unit": world.units["a"], "roles": [_role_id(app, "填报员")],
        "password": NEW_PASSWORD, "conf_password": NEW_PASSWORD,
    })
    assert resp.status_code == 200
    assert "不能超过 64 个字符" in resp.get_data(as_text=True)
    with app.app_context():
        assert db.session.query(AppUser).filter_by(username=name).count() == 0
        db.session.remove()
    # the edit form and the user's own information form say the same
    username = _new_user(app, world)
    uid = _user_id(app, username)
    resp = admin.post(f"/users/edit/{uid}", data={
        "first_name": "张", "last_name": "姓" * 65, "username": username, "active": "y",
        "email": f"{username}@t.invalid", "unit": world.units["a"], "roles": [_role_id(app, "填报员")],
    })
    assert resp.status_code == 200 and "不能超过 64 个字符" in resp.get_data(as_text=True)
    own = login(app.test_client(), username)
    resp = own.post("/userinfoeditview/form", data={"first_name": "名" * 65, "last_name": "三"})
    assert resp.status_code == 200 and "不能超过 64 个字符" in resp.get_data(as_text=True)
    with app.app_context():
        assert db.session.query(AppUser.first_name).filter_by(username=username).scalar() == username
        db.session.remove()


# ---- 5. one identity for cookie, JWT and CLI -----------------------------------------------------

def test_a_jwt_write_is_audited_as_the_clerk(app, world):
    from app.extensions import db
    from app.models import AuditLog

    client = app.test_client()
    token = _jwt(client, world.users["clerk_a"]).get_json()["access_token"]
    resp = client.post("/api/v1/case/create", headers=_bearer(token))
    assert resp.status_code == 201, resp.get_json()
    case_id = resp.get_json()["id"]
    with app.app_context():
        rows = db.session.query(AuditLog).filter_by(table_name="cadre_case", record_id=str(case_id),
                                                    action="insert").all()
        actors = {(r.actor_id, r.actor_name, r.path) for r in rows}
        db.session.remove()
    assert actors == {(_user_id(app, world.users["clerk_a"]), world.users["clerk_a"], "api")}


def test_a_jwt_list_reads_the_clerks_own_unit(app, world, client_for):
    client = app.test_client()
    token = _jwt(client, world.users["clerk_a"]).get_json()["access_token"]
    own = client.post("/api/v1/case/create", headers=_bearer(token)).get_json()["id"]
    foreign = client_for("clerk_b").post("/api/v1/case/create").get_json()["id"]
    resp = client.get("/api/v1/case/?q=(page_size:100,order_column:id,order_direction:desc)",
                      headers=_bearer(token))
    assert resp.status_code == 200
    ids = set(resp.get_json()["ids"])
    assert own in ids and foreign not in ids
    assert client.get(f"/api/v1/case/{foreign}", headers=_bearer(token)).status_code == 404
    assert client.get(f"/api/v1/case/{own}", headers=_bearer(token)).status_code == 200


def test_a_bad_or_missing_jwt_is_anonymous(app, world):
    client = app.test_client()
    assert client.get("/api/v1/case/").status_code == 401
    assert client.get("/api/v1/case/", headers=_bearer("not.a.jwt")).status_code in (401, 422)
    assert client.post("/api/v1/case/create", headers=_bearer("not.a.jwt")).status_code in (401, 422)


def test_cli_as_user_acts_and_sees_as_that_user(app, world):
    """`--as-user`: the audit actor is the user and current_scope() is the user's scope."""
    from app.audit import acting_as, current_actor
    from app.extensions import db
    from app.scoping import current_scope

    with app.app_context():
        user = app.appbuilder.sm.find_user(username=world.users["clerk_a"])
        with acting_as(user, "cli"):
            actor = current_actor()
            scope = current_scope()
        outside = current_scope()
        db.session.remove()
    assert (actor.user_id, actor.name, actor.path) == (user.id, user.username, "cli")
    assert scope.kind == "unit" and scope.unit_id == world.units["a"]
    assert outside.kind == "none"


# ---- 9. sessions end at logout and at a password change -----------------------------------------

def test_a_copied_cookie_is_refused_after_logout(app, world):
    username = _new_user(app, world)
    client = login(app.test_client(), username)
    thief = _copy_of_cookie(app, client)
    assert _signed_in(thief)  # the copy works while the session lives
    resp = client.post("/logout/")
    assert resp.status_code == 302
    assert not _signed_in(client)
    assert not _signed_in(thief)
    login(app.test_client(), username)  # a new login works


def test_a_copied_cookie_is_refused_after_changing_ones_own_password(app, world):
    username = _new_user(app, world)
    client = login(app.test_client(), username)
    thief = _copy_of_cookie(app, client)
    resp = client.post("/resetmypassword/form", data={"password": NEW_PASSWORD, "conf_password": NEW_PASSWORD})
    assert resp.status_code == 302, resp.get_data(as_text=True)[-1500:]
    assert check_password_hash(_stored_password(app, username), NEW_PASSWORD)
    assert not _signed_in(thief)
    assert _signed_in(client)  # the browser that changed it stays signed in
    login(app.test_client(), username, NEW_PASSWORD)


def test_a_copied_cookie_is_refused_after_an_admin_reset(app, world, client_for):
    username = _new_user(app, world)
    victim = login(app.test_client(), username)
    thief = _copy_of_cookie(app, victim)
    uid = _user_id(app, username)
    resp = client_for("admin").post(f"/resetpassword/form?pk={uid}",
                                    data={"password": NEW_PASSWORD, "conf_password": NEW_PASSWORD})
    assert resp.status_code == 302
    stored = _stored_password(app, username)
    assert stored != NEW_PASSWORD and check_password_hash(stored, NEW_PASSWORD)
    assert not _signed_in(thief)
    assert not _signed_in(victim)


def test_jwts_issued_before_a_password_change_are_refused(app, world):
    username = _new_user(app, world)
    client = app.test_client()
    tokens = _jwt(client, username, refresh=True).get_json()
    assert client.get("/api/v1/case/", headers=_bearer(tokens["access_token"])).status_code == 200
    web = login(app.test_client(), username)
    resp = web.post("/resetmypassword/form", data={"password": NEW_PASSWORD, "conf_password": NEW_PASSWORD})
    assert resp.status_code == 302
    assert client.get("/api/v1/case/", headers=_bearer(tokens["access_token"])).status_code == 401
    assert client.post("/api/v1/security/refresh", headers=_bearer(tokens["refresh_token"])).status_code == 401
    fresh = _jwt(client, username, NEW_PASSWORD).get_json()["access_token"]
    assert client.get("/api/v1/case/", headers=_bearer(fresh)).status_code == 200


# ---- 8. logout is a POST with a CSRF token -------------------------------------------------------

def test_a_get_to_logout_does_not_log_out(app, world):
    username = _new_user(app, world)
    client = login(app.test_client(), username)
    resp = client.get("/logout/")
    assert resp.status_code in (200, 405)
    assert _signed_in(client)
    if resp.status_code == 200:  # a confirmation page whose button posts
        assert re.search(r'<form[^>]+method="post"[^>]+action="/logout/"', resp.get_data(as_text=True))


def test_logout_needs_the_csrf_token_and_the_navbar_posts_it(csrf_app, world):
    username = _new_user(csrf_app, world)
    client = csrf_app.test_client()
    csrf_login(client, username)
    # a forged cross-site POST without the token does not end the session
    resp = client.post("/logout/")
    assert resp.status_code == 400
    assert _signed_in(client)
    # every page's navbar carries a small form that posts the token
    page = client.get("/users/userinfo/").get_data(as_text=True)
    form = re.search(r'<form[^>]+action="/logout/"[^>]*>(.*?)</form>', page, re.S)
    assert form and 'method="post"' in form.group(0)
    token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', form.group(1)).group(1)
    assert 'href="/logout/"' not in page
    resp = client.post("/logout/", data={"csrf_token": token})
    assert resp.status_code == 302
    assert not _signed_in(client)


# ---- 10. JWT login is throttled; the answer does not reveal accounts -----------------------------

def test_jwt_login_is_rate_limited(db_url, app):
    from app import create_app

    limited = create_app(config.TestConfig, SQLALCHEMY_DATABASE_URI=db_url, AUTH_RATE_LIMITED=True,
                         AUTH_RATE_LIMIT="3 per 1 minute", RATELIMIT_ENABLED=True)
    client = limited.test_client()
    codes = [_jwt(client, "nobody", "x").status_code for _ in range(5)]
    assert codes == [401, 401, 401, 429, 429]


def test_jwt_login_counts_towards_the_lock_out(app, world):
    username = _new_user(app, world)
    client = app.test_client()
    for _ in range(app.config["JISHI_LOGIN_MAX_FAILURES"]):
        assert _jwt(client, username, "wrong-Passw0rd").status_code == 401
    # locked now: the right password is refused too, by both doors
    assert _jwt(client, username).status_code == 401
    resp = client.post("/login/", data={"username": username, "password": PASSWORD})
    assert "/login" in resp.headers["Location"]


def _form_answer(app, username, password):
    client = app.test_client()
    first = client.post("/login/", data={"username": username, "password": password})
    page = client.get(first.headers["Location"]).get_data(as_text=True)
    flashes = re.findall(r'<div class="alert alert-(\w+)">\s*<button[^>]*>[^<]*</button>\s*(.*?)\s*</div>', page, re.S)
    return first.status_code, first.headers["Location"], flashes


def _api_answer(app, username, password):
    resp = _jwt(app.test_client(), username, password)
    return resp.status_code, resp.get_json()


def test_an_unknown_account_gets_the_same_answer_as_a_locked_or_wrong_one(app, world):
    locked = _new_user(app, world)
    for _ in range(app.config["JISHI_LOGIN_MAX_FAILURES"]):
        _form_answer(app, locked, "wrong-Passw0rd")
    wrong = _new_user(app, world)
    unknown = unique("ghost").lower()

    answers = {
        "unknown": _form_answer(app, unknown, PASSWORD),
        "wrong": _form_answer(app, wrong, "wrong-Passw0rd"),
        "locked, right password": _form_answer(app, locked, PASSWORD),
        "locked, wrong password": _form_answer(app, locked, "wrong-Passw0rd"),
    }
    assert answers["unknown"][2], answers  # a message is shown at all
    assert len(set(map(repr, answers.values()))) == 1, answers
    api = {k: _api_answer(app, u, p) for k, (u, p) in {
        "unknown": (unknown, PASSWORD), "wrong": (wrong, "wrong-Passw0rd"), "locked": (locked, PASSWORD)}.items()}
    assert len(set(map(repr, api.values()))) == 1, api


def test_migration_0010_hashes_clear_passwords_left_by_the_old_user_form(tmp_path):
    """Users added by an administrator before this release have the typed password in the table;
    the upgrade hashes it (the typed password keeps working) and adds the session token."""
    from flask_migrate import downgrade, upgrade
    from sqlalchemy import text

    from app import create_app
    from app.extensions import db

    scratch = create_app(config.TestConfig, SQLALCHEMY_DATABASE_URI=f"sqlite:///{tmp_path}/m.db")
    with scratch.app_context():
        upgrade(revision="0010")
        downgrade(revision="-1")  # just before 0010, whatever the chain is called after a merge
        db.session.execute(text(
            "INSERT INTO ab_user (first_name, last_name, username, email, active, password) "
            "VALUES ('张', '三', 'plain', 'plain@t.invalid', 1, :pw), ('李', '四', 'hashed', 'h@t.invalid', 1, :h)"),
            {"pw": NEW_PASSWORD, "h": "pbkdf2:sha256:1000$abcdefgh$" + "0" * 64})
        db.session.commit()
        upgrade(revision="0010")
        rows = dict(db.session.execute(text("SELECT username, password FROM ab_user")).all())
        columns = {c["name"] for c in db.inspect(db.engine).get_columns("ab_user")}
        db.session.remove()
        db.engine.dispose()
    assert rows["plain"] != NEW_PASSWORD and check_password_hash(rows["plain"], NEW_PASSWORD)
    assert rows["hashed"] == "pbkdf2:sha256:1000$abcdefgh$" + "0" * 64  # a hash is left alone
    assert "session_token" in columns


def test_a_full_name_that_could_not_sign_is_refused_in_the_user_forms(app, world, client_for):
    """姓 + 名 becomes the signer or submitter of a case (30 characters there): an account with a
    longer one is refused when it is made or renamed, not later at its first signature."""
    from app.extensions import db
    from app.models import AppUser

    admin = client_for("admin")
    name = unique("fn").lower()
    resp = admin.post("/users/add", data={
        "first_name": "名" * 20, "last_name": "姓" * 11, "username": name, "active": "y",
        "email": f"{name}@t.invalid", "unit": world.units["a"], "roles": [_role_id(app, "填报员")],
        "password": NEW_PASSWORD, "conf_password": NEW_PASSWORD,
    })
    assert resp.status_code == 200 and "不能超过 30 个字符" in resp.get_data(as_text=True)
    with app.app_context():
        assert db.session.query(AppUser).filter_by(username=name).count() == 0
        db.session.remove()
    # exactly 30 is accepted
    resp = admin.post("/users/add", data={
        "first_name": "名" * 19, "last_name": "姓" * 11, "username": name, "active": "y",
        "email": f"{name}@t.invalid", "unit": world.units["a"], "roles": [_role_id(app, "填报员")],
        "password": NEW_PASSWORD, "conf_password": NEW_PASSWORD,
    })
    assert resp.status_code == 302
    own = login(app.test_client(), name, NEW_PASSWORD)
    resp = own.post("/userinfoeditview/form", data={"first_name": "名" * 20, "last_name": "姓" * 11})
    assert resp.status_code == 200 and "不能超过 30 个字符" in resp.get_data(as_text=True)
    with app.app_context():
        assert db.session.query(AppUser.first_name).filter_by(username=name).scalar() == "名" * 19
        db.session.remove()


def test_an_older_account_with_a_long_name_can_still_sign_in(app, world):
    """The full-name check applies to a name being written, not to every save of the account: the
    sign-in bookkeeping of an account named before the check is still stored."""
    from sqlalchemy import update

    from app.extensions import db
    from app.models import AppUser

    username = _new_user(app, world)
    with app.app_context():
        db.session.execute(update(AppUser).where(AppUser.username == username).values(first_name="名" * 40))
        db.session.commit()
        db.session.remove()
    login(app.test_client(), username)
    with app.app_context():
        assert db.session.query(AppUser.login_count).filter_by(username=username).scalar() >= 1
        db.session.remove()
