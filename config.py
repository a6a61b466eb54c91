"""Configuration, read from environment variables with safe defaults.

Development defaults need nothing installed: an SQLite file under ``instance/`` and an embedded
Celery broker on the same kind of file.  Without ``SECRET_KEY`` an install makes its own key on first
start (``instance/secret_key``, mode 0600); production (``JISHI_ENV=production``) must be given a strong
one.
"""
import hashlib
import os
from datetime import timedelta
from pathlib import Path

from celery.schedules import crontab
from flask_appbuilder.const import AUTH_DB

BASE_DIR = Path(__file__).resolve().parent
INSTANCE_DIR = Path(os.environ.get("JISHI_INSTANCE_DIR", BASE_DIR / "instance"))

# SHA-256 of session keys that were once published (the development key this repository used to
# commit): cookies signed with them can be forged by anyone, so no install may use them.
PUBLISHED_KEY_SHA256 = {"36ce7dcd5683956c27930f156a6345b951a5740f71b11d8a43331e85b392a59b"}


def _bool(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def _int(name: str, default: int) -> int:
    try:
        return int(os.environ.get(name, default))
    except ValueError:
        return default


class Config:
    JISHI_ENV = os.environ.get("JISHI_ENV", "development")
    # Unset: made once per install and kept in SECRET_KEY_FILE (app/instance_secret.py); never in production.
    SECRET_KEY = os.environ.get("SECRET_KEY", "")
    SECRET_KEY_FILE = os.environ.get("SECRET_KEY_FILE", str(INSTANCE_DIR / "secret_key"))

    SQLALCHEMY_DATABASE_URI = os.environ.get(
        "DATABASE_URL", f"sqlite:///{INSTANCE_DIR / 'jishi.db'}"
    )
    SQLALCHEMY_TRACK_MODIFICATIONS = False
    REDIS_URL = os.environ.get("REDIS_URL", "")

    # Alembic owns the schema: FAB must never create tables by itself.
    FAB_CREATE_DB = False
    # Production syncs permissions once at deploy (`flask fab create-permissions`), because web,
    # worker and beat starting together race in FAB's permission sync.
    FAB_UPDATE_PERMS = _bool("FAB_UPDATE_PERMS", True)
    FAB_SECURITY_MANAGER_CLASS = "app.security.JishiSecurityManager"
    FAB_ADD_SECURITY_API = False
    FAB_API_SWAGGER_UI = True
    FAB_API_MAX_PAGE_SIZE = 100

    APP_NAME = "干部选拔任用工作记实监督系统"
    APP_THEME = ""

    AUTH_TYPE = AUTH_DB
    AUTH_ROLE_ADMIN = "系统管理员"
    AUTH_ROLE_PUBLIC = "Public"
    AUTH_USER_REGISTRATION = False
    # Login throttling per client address (Flask-Limiter) ...
    AUTH_RATE_LIMITED = _bool("AUTH_RATE_LIMITED", True)
    AUTH_RATE_LIMIT = os.environ.get("AUTH_RATE_LIMIT", "20 per 1 minute")
    RATELIMIT_STORAGE_URI = os.environ.get("RATELIMIT_STORAGE_URI", "memory://")
    RATELIMIT_ENABLED = AUTH_RATE_LIMITED  # FAB defaults Flask-Limiter to off
    # ... and a temporary lock-out per account after repeated wrong passwords.
    JISHI_LOGIN_MAX_FAILURES = _int("JISHI_LOGIN_MAX_FAILURES", 5)
    JISHI_LOGIN_LOCKOUT_MINUTES = _int("JISHI_LOGIN_LOCKOUT_MINUTES", 15)

    FAB_PASSWORD_COMPLEXITY_ENABLED = True
    FAB_PASSWORD_COMPLEXITY_VALIDATOR = "app.security.password_policy"  # resolved in create_app

    # Chinese by default, English switchable.
    BABEL_DEFAULT_LOCALE = "zh"
    BABEL_TRANSLATION_DIRECTORIES = "translations"
    LANGUAGES = {
        "zh": {"flag": "cn", "name": "简体中文"},
        "en": {"flag": "gb", "name": "English"},
    }

    WTF_CSRF_ENABLED = True
    # Origins besides the request's own host from which the browser may write to the API (comma list,
    # e.g. "https://jishi.example.gov.cn" when a proxy rewrites Host).
    JISHI_TRUSTED_ORIGINS = tuple(o.strip().rstrip("/").lower()
                                  for o in os.environ.get("JISHI_TRUSTED_ORIGINS", "").split(",") if o.strip())
    SESSION_COOKIE_HTTPONLY = True
    SESSION_COOKIE_SAMESITE = os.environ.get("SESSION_COOKIE_SAMESITE", "Lax")
    SESSION_COOKIE_SECURE = _bool("SESSION_COOKIE_SECURE", False)
    REMEMBER_COOKIE_SECURE = SESSION_COOKIE_SECURE
    REMEMBER_COOKIE_HTTPONLY = True
    PERMANENT_SESSION_LIFETIME = timedelta(minutes=_int("SESSION_MINUTES", 120))

    # The key of the evidence HMACs (app/record/evidence.py), kept outside the database: this
    # variable, else a file generated on first use (mode 0600). Back it up apart from the database.
    JISHI_EVIDENCE_KEY = os.environ.get("JISHI_EVIDENCE_KEY", "")
    JISHI_EVIDENCE_KEY_FILE = os.environ.get("JISHI_EVIDENCE_KEY_FILE", str(INSTANCE_DIR / "evidence.key"))

    MAX_CONTENT_LENGTH = _int("MAX_UPLOAD_MB", 20) * 1024 * 1024
    JISHI_ATTACHMENT_MAX_MB = _int("JISHI_ATTACHMENT_MAX_MB", 20)  # per attachment
    JISHI_IMPORT_MAX_MB = _int("JISHI_IMPORT_MAX_MB", 20)  # a case file read by `flask cases import/update`
    UPLOAD_FOLDER = os.environ.get("UPLOAD_FOLDER", str(INSTANCE_DIR / "uploads"))

    # Reporting deadlines: reminders go out this many days before a due date; a report still not
    # made this many days after it is escalated from 逾期 to 未报.
    JISHI_REMIND_DAYS = _int("JISHI_REMIND_DAYS", 2)
    JISHI_MISSING_AFTER_DAYS = _int("JISHI_MISSING_AFTER_DAYS", 30)
    JISHI_DOCUMENT_EXPECTED_DAYS = _int("JISHI_DOCUMENT_EXPECTED_DAYS", 30)  # days from 通过 to the 任免文件 (应报未报)
    JISHI_DEADLINE_SCAN_MINUTES = _int("JISHI_DEADLINE_SCAN_MINUTES", 10)
    JISHI_MONITOR_REFRESH_SECONDS = _int("JISHI_MONITOR_REFRESH_SECONDS", 30)  # the 实时监控 page's refresh interval
    # A task run still "running" after this long is taken to have died and is marked failed.
    JISHI_TASK_TIMEOUT_MINUTES = _int("JISHI_TASK_TIMEOUT_MINUTES", 30)
    REPORTS_FOLDER = os.environ.get("REPORTS_FOLDER", str(INSTANCE_DIR / "reports"))
    JISHI_EXPORT_SYNC_MAX = _int("JISHI_EXPORT_SYNC_MAX", 20000)  # larger exports run in the background

    # E-mail notices: off unless an SMTP host is configured.
    JISHI_SMTP_HOST = os.environ.get("JISHI_SMTP_HOST", "")
    JISHI_SMTP_PORT = _int("JISHI_SMTP_PORT", 25)
    JISHI_SMTP_USER = os.environ.get("JISHI_SMTP_USER", "")
    JISHI_SMTP_PASSWORD = os.environ.get("JISHI_SMTP_PASSWORD", "")
    JISHI_SMTP_STARTTLS = _bool("JISHI_SMTP_STARTTLS", False)
    JISHI_MAIL_FROM = os.environ.get("JISHI_MAIL_FROM", "jishi@localhost")
    JISHI_BASE_URL = os.environ.get("JISHI_BASE_URL", "http://127.0.0.1:8080")

    # Seconds a web request waits for Redis when it queues a task (then: "任务队列暂不可用").
    JISHI_BROKER_TIMEOUT = _int("JISHI_BROKER_TIMEOUT", 1)
    # Celery: Redis in production; an SQLite-backed broker when REDIS_URL is unset so that
    # deadline scans work out of the box.
    CELERY = {
        "broker_url": REDIS_URL or f"sqla+sqlite:///{INSTANCE_DIR / 'celery-broker.db'}",
        "result_backend": (REDIS_URL or f"db+sqlite:///{INSTANCE_DIR / 'celery-results.db'}"),
        "task_ignore_result": True,
        "timezone": "Asia/Shanghai",
        "beat_schedule_filename": str(INSTANCE_DIR / "celerybeat-schedule"),
        "beat_schedule": {
            "rules-daily": {"task": "jishi.rules_daily", "schedule": crontab(hour=1, minute=0)},
            "deadlines-scan": {"task": "jishi.deadlines_scan",
                               "schedule": timedelta(minutes=JISHI_DEADLINE_SCAN_MINUTES)},
            # Checks the admin-editable report schedule; generates what is due.
            "reports-tick": {"task": "jishi.reports_tick", "schedule": timedelta(minutes=15)},
            # The statistics fact table against the cases; repairs and records any difference.
            "facts-check": {"task": "jishi.facts_check", "schedule": crontab(hour=2, minute=30)},
            "derived-check": {"task": "jishi.derived_check", "schedule": crontab(hour=2, minute=45)},
        },
    }


class TestConfig(Config):
    TESTING = True
    JISHI_ENV = "test"
    SECRET_KEY = "jishi-test-only-key-0123456789abcdef"  # a fixed key: tests forge nothing with it
    WTF_CSRF_ENABLED = False
    FAB_UPDATE_PERMS = True
    # A fast hash keeps fixtures quick; production keeps scrypt.
    FAB_PASSWORD_HASH_METHOD = "pbkdf2:sha256:1000"
    AUTH_RATE_LIMITED = False
    RATELIMIT_ENABLED = False
    CELERY = {"broker_url": "memory://", "task_always_eager": True, "task_ignore_result": True}


def validate(config: dict) -> None:
    """Refuse a published session key anywhere, and in production a missing or short one."""
    key = config.get("SECRET_KEY") or ""
    if key and hashlib.sha256(str(key).encode()).hexdigest() in PUBLISHED_KEY_SHA256:
        raise RuntimeError("SECRET_KEY 使用了已公开的开发密钥，任何人都能伪造登录：请删除该设置（将自动生成本机密钥）"
                           "或设置新的随机密钥")
    if config.get("JISHI_ENV") == "production":
        if not key:
            raise RuntimeError("JISHI_ENV=production 时必须通过环境变量 SECRET_KEY 设置密钥（不得使用默认值）")
        if len(key) < 32:
            raise RuntimeError("生产环境的 SECRET_KEY 至少需要 32 个字符")
    key = config.get("JISHI_EVIDENCE_KEY") or ""
    if key and len(key) < 32:
        raise RuntimeError("JISHI_EVIDENCE_KEY 至少需要 32 个字符（或不设置，由系统生成密钥文件）")
