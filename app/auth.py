"""Who is calling, and for how long: hashed passwords, per-user session tokens, JWT identity.

* Passwords: every ORM write of ``ab_user.password`` is checked at flush time (a mapper event on
  AppUser), so a clear password assigned by any path — form, script, import — is stored hashed.
* Sessions: each user has a random ``session_token``. Login puts it in the session, every request
  compares it (JishiSecurityManager.load_user), and logout or a password change replaces it, so a
  copied cookie stops working. JWTs carry it as a claim and are refused the same way.
* One identity: a request with a valid Bearer JWT is Flask-Login's current user (a request loader),
  so the audit actor, the unit scope and ``g.user`` are the same whether the caller came in by
  cookie or by token.
"""
from __future__ import annotations

import hmac
import re
import secrets

from flask import current_app, has_app_context, has_request_context, session
from werkzeug.security import generate_password_hash

from app.extensions import db

SESSION_KEY = "_jishi_st"  # the session's copy of the user's token
JWT_CLAIM = "jishi_st"  # the JWT's copy

# What werkzeug's generate_password_hash produces ("method$salt$hexdigest"), scrypt or pbkdf2.
_HASH = re.compile(r"^(scrypt:\d+:\d+:\d+|pbkdf2:[a-z0-9_]+(:\d+)?)\$[A-Za-z0-9]+\$[0-9a-f]{40,}$")


def is_password_hash(value: str | None) -> bool:
    return bool(value) and bool(_HASH.match(value))


def hash_password(password: str) -> str:
    """The configured hash (FAB_PASSWORD_HASH_METHOD, as FAB itself uses)."""
    cfg = current_app.config if has_app_context() else {}
    return generate_password_hash(password, method=cfg.get("FAB_PASSWORD_HASH_METHOD", "scrypt"),
                                  salt_length=cfg.get("FAB_PASSWORD_HASH_SALT_LENGTH", 16))


def hash_if_plain(user) -> None:
    """Called before every insert/update of a user row: a clear password never reaches the table."""
    value = user.password
    if value is not None and not is_password_hash(value):
        user.password = hash_password(value)


def new_token() -> str:
    return secrets.token_urlsafe(32)


def same_token(given, user) -> bool:
    expected = getattr(user, "session_token", None)
    return bool(given) and bool(expected) and hmac.compare_digest(str(given), expected)


def ensure_session_token(user) -> str:
    """Users created before migration 0010 (or by raw SQL) get their token on first use."""
    if not user.session_token:
        user.session_token = new_token()
        db.session.commit()
    return user.session_token


def rotate_session_token(user) -> None:
    """End every session and JWT of this user (the caller commits)."""
    user.session_token = new_token()


def remember_token_in_session(_sender, user, **_extra) -> None:
    """Flask-Login's user_logged_in signal: the new session carries the user's current token."""
    session[SESSION_KEY] = ensure_session_token(user)


def keep_this_session(user) -> None:
    """After the signed-in user changed their own password: this browser stays signed in with the
    new token; every other copy of the session is refused."""
    if has_request_context() and session.get("_user_id") == str(user.id):
        session[SESSION_KEY] = user.session_token


def user_from_bearer(request):
    """Flask-Login request loader: the user of a valid Bearer JWT, else None (anonymous; the API's
    own check then answers 401)."""
    from flask_jwt_extended import get_current_user, verify_jwt_in_request
    from flask_jwt_extended.exceptions import JWTExtendedException
    from jwt.exceptions import PyJWTError

    if not request.headers.get("Authorization", "").lower().startswith("bearer "):
        return None
    try:
        if verify_jwt_in_request(optional=True) is None:
            return None
        return get_current_user()
    except (JWTExtendedException, PyJWTError, RuntimeError):
        return None


def signed_in_by_bearer() -> bool:
    """Did this request's user come in by a Bearer JWT (not by the session cookie)? A JWT is not
    sent by a browser on its own, so such a request needs no CSRF token."""
    from flask import g

    return has_request_context() and bool(g.get("_jwt_extended_jwt"))
