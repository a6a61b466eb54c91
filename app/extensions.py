"""Extension singletons, bound to the app in ``create_app``.

AppBuilder is deliberately *not* a singleton: FAB keeps per-app view registries, so each app
(one per test) builds its own in ``create_app``.
"""
from flask_appbuilder import Model
from flask_appbuilder.models.sqla.base import SQLA
from flask_migrate import Migrate

# Built on FAB's metadata so that Alembic sees FAB's tables and ours as one schema.
db = SQLA(metadata=Model.metadata)
migrate = Migrate()
