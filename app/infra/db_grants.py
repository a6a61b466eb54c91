"""The PostgreSQL privileges of the application's own database role (``flask jishi db-grants``).

Migrations run as an owner role; the web app, worker and beat connect as a role that owns nothing
and may only read and append to the evidence tables. The owner could disable the append-only
triggers (ALTER TABLE … DISABLE TRIGGER); this role can neither do that nor UPDATE, DELETE or
TRUNCATE evidence, whatever the application is made to run. docs/deployment.md shows the setup.
"""
from __future__ import annotations

import re

from sqlalchemy import inspect, text

from app.errors import JishiError
from app.extensions import db

# Append-only evidence (their triggers: migrations 0001, 0002, 0003, 0007, 0012).
EVIDENCE_TABLES = ("audit_log", "submission_record", "signature_record", "evaluation_run", "rule_evaluation",
                   "alarm_event", "case_review", "spot_check", "spot_check_item")
# The one change evidence allows: voiding a signature (case_workflow.void_stale_signatures).
COLUMN_UPDATES = {"signature_record": ("voided_at", "void_reason")}
READ_ONLY = ("alembic_version",)  # the schema's version belongs to the owner
_ROLE = re.compile(r"^[a-z_][a-z0-9_]{0,62}$")


class GrantError(JishiError, ValueError):
    pass


def _q(name: str) -> str:
    return db.engine.dialect.identifier_preparer.quote(name)


def role_problems(role: str) -> list[str]:
    """Why ``role`` cannot be the application's role (it must exist, not be a superuser, own nothing)."""
    if not _ROLE.match(role or ""):
        return [f"角色名“{role}”无效：只能用小写字母、数字和下划线，且不以数字开头"]
    if db.engine.dialect.name != "postgresql":
        return ["数据库权限分离只适用于 PostgreSQL（SQLite 没有数据库角色）"]
    row = db.session.execute(text("SELECT oid, rolsuper, rolbypassrls FROM pg_roles WHERE rolname = :r"),
                             {"r": role}).first()
    if row is None:
        return [f"角色“{role}”不存在：请先以所有者身份执行 CREATE ROLE {role} LOGIN PASSWORD '…'"]
    problems = []
    if row.rolsuper or row.rolbypassrls:
        problems.append(f"角色“{role}”是超级用户（或可绕过行级安全）：应用角色必须是普通角色")
    owned = db.session.execute(text("SELECT count(*) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
                                     "WHERE c.relowner = :o AND n.nspname = 'public'"), {"o": row.oid}).scalar()
    if owned:
        problems.append(f"角色“{role}”拥有 {owned} 个表或序列：应用角色不得拥有任何对象（所有者可关闭触发器），"
                        "请用 ALTER TABLE … OWNER TO 所有者角色")
    return problems


def statements(role: str) -> list[str]:
    """The SQL, idempotent: run after every migration (new tables get their grants then)."""
    tables = sorted(inspect(db.engine).get_table_names(schema="public"))
    database = db.session.execute(text("SELECT current_database()")).scalar()
    r = _q(role)
    out = [
        "REVOKE CREATE ON SCHEMA public FROM PUBLIC",  # nobody but the owner makes tables there
        f"GRANT CONNECT, TEMPORARY ON DATABASE {_q(database)} TO {r}",
        f"GRANT USAGE ON SCHEMA public TO {r}",
        f"REVOKE ALL ON ALL TABLES IN SCHEMA public FROM {r}",
        f"REVOKE ALL ON ALL SEQUENCES IN SCHEMA public FROM {r}",
    ]
    for table in tables:
        if table in EVIDENCE_TABLES:
            out.append(f"GRANT SELECT, INSERT ON {_q(table)} TO {r}")
            for column in COLUMN_UPDATES.get(table, ()):
                out.append(f"GRANT UPDATE ({_q(column)}) ON {_q(table)} TO {r}")
        elif table in READ_ONLY:
            out.append(f"GRANT SELECT ON {_q(table)} TO {r}")
        else:
            out.append(f"GRANT SELECT, INSERT, UPDATE, DELETE ON {_q(table)} TO {r}")
    out.append(f"GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA public TO {r}")
    return out


def apply(role: str) -> list[str]:
    """Check the role, then run the statements in one transaction (as the owner)."""
    problems = role_problems(role)
    if problems:
        raise GrantError("；".join(problems))
    sql = statements(role)
    try:
        for statement in sql:
            db.session.execute(text(statement))
        db.session.commit()
    except Exception:
        db.session.rollback()
        raise
    return sql
