"""A change of an *input* of the derivation — a rule setting or enablement version, a calendar day,
a unit's quota or its facts the rules read — re-derives the open cases it can affect, in a
background task with progress and a task-run record (``jishi.rederive``).

Every path is covered (admin pages, REST, CLI, scripts): the changes are noticed on flush and the
task is queued once the transaction has committed (nothing is queued for a rolled-back change)."""
from __future__ import annotations

from sqlalchemy import inspect, select

from app.extensions import listen_on_sessions
from app.models import Unit, UnitQuota
from app.models.custom_rules import CUSTOM_DISABLED, CUSTOM_ENABLED, CustomRuleVersion
from app.models.rules import CalendarDay, CalendarYear, RuleSetting
from app.tasks.rules import rederive_later

PENDING_KEY = "jishi_input_changes"
NEW_UNITS_KEY = "jishi_new_units"
UNIT_INPUTS = ("level", "unit_type", "max_grade", "region_code", "dual_managed")
ALL = "all"


def _note(session, reason: str, unit_id=ALL) -> None:
    pending = session.info.setdefault(PENDING_KEY, {"reasons": set(), "units": set()})
    pending["reasons"].add(reason)
    pending["units"].add(unit_id)


def _after_flush(session, _context) -> None:
    # Units created in this transaction have no cases yet; the package's own holidays are what the
    # calendar already knows (seeding them changes nothing).
    new_units = session.info.setdefault(NEW_UNITS_KEY, set())
    new_units.update(o.id for o in session.new if isinstance(o, Unit))
    for obj in [*session.new, *session.dirty, *session.deleted]:
        if isinstance(obj, RuleSetting):
            _note(session, f"规则参数 {obj.code}", obj.unit_id if obj.unit_id and not obj.region_code else ALL)
        elif isinstance(obj, CustomRuleVersion):
            # a version that is (or stops being) in force: the cases of its subtree, or all
            if obj.status in (CUSTOM_ENABLED, CUSTOM_DISABLED) or inspect(obj).attrs.status.history.deleted:
                for unit_id in _subtree(session, obj.unit_id):
                    _note(session, f"自定义规则 {obj.code}", unit_id)
        elif isinstance(obj, (CalendarDay, CalendarYear)):
            if not (obj in session.new and obj.source == "package"):
                _note(session, "工作日历")
        elif isinstance(obj, UnitQuota):
            if obj.unit_id not in new_units:
                _note(session, "核定职数", obj.unit_id)
        elif isinstance(obj, Unit) and obj not in session.new:
            state = inspect(obj)
            if any(state.attrs[a].history.has_changes() for a in UNIT_INPUTS):
                _note(session, "单位信息", obj.id)


def _subtree(session, unit_id) -> list:
    if unit_id is None:
        return [ALL]
    path = session.execute(select(Unit.path).where(Unit.id == unit_id)).scalar()
    return session.execute(select(Unit.id).where(Unit.path.startswith(path, autoescape=True))).scalars().all() \
        if path else [unit_id]


def _after_commit(session) -> None:
    session.info.pop(NEW_UNITS_KEY, None)
    pending = session.info.pop(PENDING_KEY, None)
    if not pending:
        return

    units = None if ALL in pending["units"] else sorted(u for u in pending["units"] if u is not None)
    # The task runs in its own app context (its own session), also when tasks run eagerly.
    rederive_later("、".join(sorted(pending["reasons"])) + "已修改", units)


def _after_rollback(session) -> None:
    session.info.pop(PENDING_KEY, None)
    session.info.pop(NEW_UNITS_KEY, None)


def init_hooks() -> None:
    listen_on_sessions(("after_flush", _after_flush), ("after_commit", _after_commit),
                       ("after_rollback", _after_rollback))
