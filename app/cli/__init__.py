"""Command-line interface: one module per command group, helpers in ``common``.

Every command that writes does so as an explicit actor (path "cli"). ``register`` is called by
``create_app``; the modules import ``common`` and never each other (``serve`` adds to ``jishi``).
"""
from __future__ import annotations

from app.cli import (
    alarms,
    cases,
    deadlines,
    items,
    jishi,
    notices,
    patrol,
    people,
    reconcile,
    reports,
    rules,
    serve,  # noqa: F401  (adds `flask jishi serve` to the jishi group)
    units,
)


def register(app) -> None:
    for group in (units.units_cli, cases.cases_cli, rules.rules_cli, alarms.alarms_cli, rules.calendar_cli,
                  jishi.jishi_cli, deadlines.deadlines_cli, deadlines.tasks_cli, reports.reports_cli,
                  notices.notices_cli, patrol.patrol_cli, reconcile.reconcile_cmd, people.people_cli,
                  items.items_cli):
        app.cli.add_command(group)
