"""Application factory: a readable list of ``init_*`` steps."""
from __future__ import annotations

import datetime as dt
import os
from pathlib import Path

from flask import Flask

import config as config_module
from app import (
    audit,
    cli,
    display,
    errors,
    instance_secret,
    integrity,
    models,  # noqa: F401  (every mapper registered before Alembic looks)
    robustness,
    security,
    tasks,
    views,
    web_security,
)
from app.extensions import db, migrate
from app.queries import facts
from app.record import custom_items
from app.rules import expression
from app.supervision.notices import commands as notice_commands
from app.tasks import input_changes
from app.views import notifications, permission_names
from app.workflow import guard

APP_DIR = Path(__file__).resolve().parent


def create_app(config_object=None, **overrides) -> Flask:
    app = Flask(__name__, instance_path=str(config_module.INSTANCE_DIR))
    init_config(app, config_object, overrides)
    init_translations(app)
    init_db(app)
    init_integrity_and_audit()
    init_custom_items()
    init_csrf(app)
    init_web_security(app)
    init_robustness(app)
    init_appbuilder(app)
    init_celery(app)
    init_cli(app)
    init_templates(app)
    init_error_pages(app)
    return app


def init_config(app: Flask, config_object, overrides) -> None:
    app.config.from_object(config_object or config_module.Config)
    app.config.update(overrides)
    init_secret_key(app)
    config_module.validate(app.config)
    app.config["FAB_PASSWORD_COMPLEXITY_VALIDATOR"] = security.password_policy
    app.config.setdefault("FAB_ROLES", security.fab_roles())
    uri = app.config["SQLALCHEMY_DATABASE_URI"]
    if uri.startswith("postgres://"):  # the old scheme some tools still print
        app.config["SQLALCHEMY_DATABASE_URI"] = "postgresql+psycopg://" + uri[len("postgres://"):]
    elif uri.startswith("postgresql://"):
        app.config["SQLALCHEMY_DATABASE_URI"] = "postgresql+psycopg://" + uri[len("postgresql://"):]
    if uri.startswith("sqlite:///"):
        Path(uri[len("sqlite:///"):]).parent.mkdir(parents=True, exist_ok=True)
    Path(app.config["UPLOAD_FOLDER"]).mkdir(parents=True, exist_ok=True)


def init_secret_key(app: Flask) -> None:
    """No key given: this install's own, made on first start (production must be given one)."""
    if not app.config.get("SECRET_KEY") and app.config.get("JISHI_ENV") != "production":
        app.config["SECRET_KEY"] = instance_secret.load_or_create(Path(app.config["SECRET_KEY_FILE"]))


def init_translations(app: Flask) -> None:
    """Compile the English catalogue (Chinese is the source language) when it is stale."""
    from babel.messages.mofile import write_mo
    from babel.messages.pofile import read_po

    for po in (APP_DIR / "translations").glob("*/LC_MESSAGES/messages.po"):
        mo = po.with_suffix(".mo")
        if not mo.exists() or mo.stat().st_mtime < po.stat().st_mtime:
            with po.open("rb") as f:
                catalog = read_po(f)
            tmp = mo.with_suffix(f".mo.{os.getpid()}")
            with tmp.open("wb") as f:
                write_mo(f, catalog)
            tmp.replace(mo)


def init_db(app: Flask) -> None:
    db.init_app(app)
    migrate.init_app(app, db, directory=str(APP_DIR.parent / "migrations"))
    if app.config["SQLALCHEMY_DATABASE_URI"].startswith("sqlite"):
        from sqlalchemy import event

        with app.app_context():
            @event.listens_for(db.engine, "connect")
            def _sqlite_pragmas(dbapi_conn, _record):
                cur = dbapi_conn.cursor()
                cur.execute("PRAGMA foreign_keys=ON")
                cur.execute("PRAGMA journal_mode=WAL")
                cur.execute("PRAGMA busy_timeout=5000")
                cur.close()


def init_integrity_and_audit() -> None:
    integrity.init_integrity()
    guard.init_case_locks()  # submitted cases are read-only through every path
    audit.init_audit()
    facts.init_hooks()  # the statistics fact rows change in the transaction that changes the case
    input_changes.init_hooks()  # a changed rule setting, calendar day or quota re-derives the open cases
    notice_commands.init_notice_lock()  # an issued notice and its case list are read-only through every path


def init_custom_items() -> None:
    # Custom rules may read the custom items (自定义数据项): the checker learns them from the record layer.
    expression.register_items(custom_items.cel_items)


def init_robustness(app: Flask) -> None:
    robustness.init_robustness(app)


def init_csrf(app: Flask) -> None:
    """Every form POST carries a CSRF token (FAB's REST APIs exempt themselves when they register,
    which is why this comes before the AppBuilder)."""
    from flask_wtf.csrf import CSRFProtect

    CSRFProtect(app)


def init_web_security(app: Flask) -> None:
    """Security headers on every answer; cookie-authenticated API writes need token and origin."""
    web_security.init_web_security(app)


def init_appbuilder(app: Flask) -> None:
    from flask_appbuilder import AppBuilder

    with app.app_context():
        # Before `flask db upgrade` there are no permission tables to write to.
        ready = _schema_ready()
        if ready and app.config.get("FAB_UPDATE_PERMS", True):
            _ensure_base_roles(app)
        appbuilder = AppBuilder(update_perms=ready, indexview=views.INDEX_VIEW)
        appbuilder.init_app(app, db.session)
        views.init_views(appbuilder)
        if appbuilder.update_perms:
            security.sync_roles(appbuilder.sm)
    app.appbuilder = appbuilder


def _ensure_base_roles(app: Flask) -> None:
    """FAB grants every new permission to the admin role as views register, so that role must
    exist first (FAB's own create_db, which would make it, is off: Alembic owns the schema)."""
    from flask_appbuilder.security.sqla.models import Role
    from sqlalchemy import select

    for name in (app.config["AUTH_ROLE_ADMIN"], app.config["AUTH_ROLE_PUBLIC"]):
        if db.session.execute(select(Role.id).where(Role.name == name)).first() is None:
            db.session.add(Role(name=name))
    db.session.commit()


def _schema_ready() -> bool:
    """Permissions live in tables that only exist after `flask db upgrade`."""
    from sqlalchemy import inspect

    try:
        return inspect(db.engine).has_table("ab_permission_view")
    except Exception:
        return False


def init_celery(app: Flask) -> None:
    tasks.celery_init_app(app)


def init_cli(app: Flask) -> None:
    cli.register(app)


def init_error_pages(app: Flask) -> None:
    errors.init_error_pages(app)


def init_templates(app: Flask) -> None:
    from flask_babel import get_locale
    from flask_wtf.csrf import generate_csrf

    # Our own forms put a token in by hand (FAB registers this only when CSRF is on).
    app.jinja_env.globals.setdefault("csrf_token", generate_csrf)
    app.context_processor(notifications.inbox_badge)  # the unread count in the navigation bar
    app.jinja_env.filters["official_date"] = display.prose_date  # 2026年1月1日, as 公文 prose writes a date
    init_display(app)

    @app.context_processor
    def _html_lang():
        locale = str(get_locale() or app.config["BABEL_DEFAULT_LOCALE"])
        return {"html_lang": "zh-CN" if locale.startswith("zh") else locale}


def _finalize(value):
    """What ``{{ … }}`` prints: nothing for None, 是/否 for a boolean, a time to the minute in Asia/Shanghai, a
    list (a to-many relation) joined by 、 and a mapping in words, never a Python repr — in FAB's own list and
    show pages as in ours (a value a template formats itself, ``|tojson`` included, is already text)."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return display.yes_no(value)
    if isinstance(value, dt.datetime):
        return display.minute(value)
    if isinstance(value, (list, tuple, set, frozenset, dict)):  # a to-many relation, a stored mapping
        return display.shown(value)
    return value


def init_display(app: Flask) -> None:
    """The one formatting layer (app/display.py) in every template: printed values, and filters for the
    rest (``|shown``, ``|minute``, ``|table_date``, ``|prose_date``, ``|yes_no``, ``|field_label``,
    ``|table_label``, ``|module_label``, ``|stored``)."""
    app.jinja_env.finalize = _finalize
    # Browsers ask every page for /favicon.ico: the app's own icon (app/static), never a 404.
    app.add_url_rule("/favicon.ico", "favicon", lambda: app.send_static_file("favicon.ico"))
    for name in ("shown", "minute", "table_date", "prose_date", "yes_no", "field_label", "table_label",
                 "module_label", "stored"):
        app.jinja_env.filters[name] = getattr(display, name)
    app.jinja_env.filters["role_name"] = permission_names.role_name
    app.jinja_env.filters["permission_pairs"] = permission_names.permission_pairs
