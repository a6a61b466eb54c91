"""Web hardening (issue 18): the session key of a default install, formula injection in the Excel
exports, cross-site writes to the REST API, security headers, and a queue that is down."""
from __future__ import annotations

import multiprocessing
import os
import stat

import pytest

import config
from tests.conftest import PASSWORD, unique

# The development key this repository once committed: a cookie signed with it must open nothing.
PUBLISHED_KEY = "jishi-development-secret-not-for-production"


def _signed_session(secret_key: str, data: dict) -> str:
    from flask import Flask
    from flask.sessions import SecureCookieSessionInterface

    signer = Flask("signer")
    signer.secret_key = secret_key
    return SecureCookieSessionInterface().get_signing_serializer(signer).dumps(data)


def _default_app(db_url, key_file):
    """An app on the shipped configuration (no SECRET_KEY given), not the test one."""
    from app import create_app

    return create_app(config.Config, SQLALCHEMY_DATABASE_URI=db_url, SECRET_KEY_FILE=str(key_file),
                      FAB_UPDATE_PERMS=False, AUTH_RATE_LIMITED=False, RATELIMIT_ENABLED=False)


def _admin_id(app, world) -> int:
    with app.app_context():
        return app.appbuilder.sm.find_user(username=world.users["admin"]).id


# ---- the session key ---------------------------------------------------------------------------

def test_a_cookie_signed_with_the_published_key_opens_nothing(app, world, db_url, tmp_path):
    default = _default_app(db_url, tmp_path / "secret_key")
    admin_id = _admin_id(default, world)
    forged = _signed_session(PUBLISHED_KEY, {"_user_id": str(admin_id), "_fresh": True})
    client = default.test_client()
    client.set_cookie(default.config["SESSION_COOKIE_NAME"], forged)
    resp = client.get("/users/list/")
    assert resp.status_code == 302 and "/login" in resp.headers["Location"]
    # The same cookie signed with this install's own key does open the page: the forgery itself was sound.
    genuine = _signed_session(default.secret_key, {"_user_id": str(admin_id), "_fresh": True})
    client = default.test_client()
    client.set_cookie(default.config["SESSION_COOKIE_NAME"], genuine)
    assert client.get("/users/list/").status_code == 200


def test_the_install_key_is_private_and_kept(app, db_url, tmp_path):
    key_file = tmp_path / "instance" / "secret_key"
    first = _default_app(db_url, key_file)
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    assert len(first.secret_key) >= 32 and first.secret_key != PUBLISHED_KEY
    assert first.secret_key == key_file.read_text().strip()
    second = _default_app(db_url, key_file)
    assert second.secret_key == first.secret_key  # sessions survive a restart


def _load_key(path, queue):
    from app.instance_secret import load_or_create

    queue.put(load_or_create(path))


def test_processes_starting_together_share_one_key(tmp_path):
    path = tmp_path / "secret_key"
    ctx = multiprocessing.get_context("fork")
    queue = ctx.Queue()
    procs = [ctx.Process(target=_load_key, args=(path, queue)) for _ in range(6)]
    for p in procs:
        p.start()
    keys = {queue.get(timeout=30) for _ in procs}
    for p in procs:
        p.join(timeout=30)
    assert len(keys) == 1 and keys == {path.read_text().strip()}
    assert [f.name for f in tmp_path.iterdir()] == ["secret_key"]  # no temporary file left behind


def test_a_too_open_key_file_is_made_private(tmp_path):
    from app.instance_secret import load_or_create

    path = tmp_path / "secret_key"
    path.write_text("k" * 48)
    path.chmod(0o644)
    assert load_or_create(path) == "k" * 48
    assert stat.S_IMODE(path.stat().st_mode) == 0o600


def test_production_refuses_a_weak_or_missing_key(app, db_url, tmp_path):
    from app import create_app

    key_file = tmp_path / "secret_key"
    for weak in ("", PUBLISHED_KEY, "short-key"):
        with pytest.raises(RuntimeError, match="SECRET_KEY"):
            create_app(config.Config, SQLALCHEMY_DATABASE_URI=db_url, JISHI_ENV="production", SECRET_KEY=weak,
                       SECRET_KEY_FILE=str(key_file), FAB_UPDATE_PERMS=False)
    assert not key_file.exists()  # production never makes up a key of its own
    with pytest.raises(RuntimeError, match="已公开"):
        create_app(config.Config, SQLALCHEMY_DATABASE_URI=db_url, SECRET_KEY=PUBLISHED_KEY, FAB_UPDATE_PERMS=False)


def test_no_session_key_is_committed():
    source = open(config.__file__, encoding="utf-8").read()
    assert PUBLISHED_KEY not in source
    assert not hasattr(config, "DEV_SECRET_KEY")
