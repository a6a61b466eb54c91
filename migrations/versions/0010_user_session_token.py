"""users: a session token per user (logout and password changes end every session); clear
passwords left by the user form's old path are hashed

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-04

Until this release an administrator's "add user" stored the typed password as is. Those rows are
hashed here with the configured method, so the typed password keeps working and no clear text
stays in the table.
"""
import re

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None

# As app.auth._HASH, frozen here as migrations must be.
_HASH = re.compile(r"^(scrypt:\d+:\d+:\d+|pbkdf2:[a-z0-9_]+(:\d+)?)\$[A-Za-z0-9]+\$[0-9a-f]{40,}$")


def upgrade():
    with op.batch_alter_table("ab_user", schema=None) as batch_op:
        batch_op.add_column(sa.Column("session_token", sa.String(length=64), nullable=True))
    _hash_clear_passwords()


def _hash_clear_passwords():
    from flask import current_app, has_app_context
    from werkzeug.security import generate_password_hash

    cfg = current_app.config if has_app_context() else {}
    method = cfg.get("FAB_PASSWORD_HASH_METHOD", "scrypt")
    salt_length = cfg.get("FAB_PASSWORD_HASH_SALT_LENGTH", 16)
    users = sa.table("ab_user", sa.column("id", sa.Integer), sa.column("password", sa.String))
    conn = op.get_bind()
    for uid, password in conn.execute(sa.select(users.c.id, users.c.password)).all():
        if password and not _HASH.match(password):
            conn.execute(users.update().where(users.c.id == uid).values(
                password=generate_password_hash(password, method=method, salt_length=salt_length)))


def downgrade():
    with op.batch_alter_table("ab_user", schema=None) as batch_op:
        batch_op.drop_column("session_token")
