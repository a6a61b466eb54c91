"""The schema is made only by migrations, and the models do not drift from them."""
from sqlalchemy import inspect


def test_upgrade_from_empty_then_no_drift(app):
    """conftest built this database from empty with `flask db upgrade` (on PostgreSQL when the
    suite runs there); `flask db check` must find nothing left to generate."""
    result = app.test_cli_runner().invoke(args=["db", "check"])
    assert result.exit_code == 0, result.output
    # and the same comparison done directly, so a drift names what differs
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext

    from app.extensions import db

    with app.app_context(), db.engine.connect() as conn:
        diffs = compare_metadata(MigrationContext.configure(conn), db.metadata)
    assert diffs == []


def test_tables_come_from_migrations(app):
    from app.extensions import db

    with app.app_context():
        tables = set(inspect(db.engine).get_table_names())
        assert {"unit", "unit_quota", "audit_log", "ab_user", "alembic_version"} <= tables
        version = db.session.execute(db.text("SELECT version_num FROM alembic_version")).scalar()
        assert version


def test_app_never_creates_tables_itself(app):
    assert app.config["FAB_CREATE_DB"] is False
