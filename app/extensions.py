"""Extension singletons, bound to the app in ``create_app``.

AppBuilder is deliberately *not* a singleton: FAB keeps per-app view registries, so each app
(one per test) builds its own in ``create_app``.
"""
from flask_appbuilder import Model
from flask_appbuilder.models.sqla.base import SQLA
from flask_migrate import Migrate
from sqlalchemy import event
from sqlalchemy.orm import Session

# Built on FAB's metadata so that Alembic sees FAB's tables and ours as one schema.
db = SQLA(metadata=Model.metadata)
migrate = Migrate()


def listen_on_sessions(*hooks) -> None:
    """Listen on every SQLAlchemy session, once per process, for each (event name, function) pair.

    The audit trail, the integrity checks, the case and notice locks, the statistics facts and the
    re-derive queue all hook sessions this way; ``create_app`` calls their ``init_*`` functions."""
    for name, fn in hooks:
        if not event.contains(Session, name, fn):
            event.listen(Session, name, fn)

