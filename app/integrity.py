"""Checks that hold on every write path (forms, REST, CLI, tasks), run at flush time.

Views call the same ``validate_write`` first so that users get the Chinese message as a flash
or an HTTP 400; this listener is the backstop that no path can skip.
"""
from sqlalchemy import String, func, inspect, literal, update
from sqlalchemy.orm import Session

from app.errors import JishiError
from app.extensions import listen_on_sessions
from app.models.rules import RuleSetting
from app.models.unit import Unit, unit_path
from app.rule_settings import setting_problems


class ValidationFailed(JishiError, ValueError):
    def __init__(self, errors):
        self.errors = list(errors)
        super().__init__("；".join(self.errors))


def _new_unit_path(session: Session, unit: Unit, depth: int = 0) -> str:
    """Path of a new unit; its parent may be new in the same flush, so resolve it first."""
    parent = unit.parent
    if depth > 100:
        raise ValidationFailed(["单位层级过深或存在循环"])
    if parent is not None and parent in session.new:
        parent.path = _new_unit_path(session, parent, depth + 1)
    return unit_path(parent, unit.code or "")


def _maintain_unit_paths(session: Session):
    for obj in list(session.new) + list(session.dirty):
        if not isinstance(obj, Unit):
            continue
        state = inspect(obj)
        if obj in session.new:
            obj.path = _new_unit_path(session, obj)
            continue
        code_hist = state.attrs.code.history
        if code_hist.deleted and code_hist.added and code_hist.deleted[0] != code_hist.added[0]:
            raise ValidationFailed(["单位代码一经创建不可更改（它用于文件和链接中）"])
        parent_changed = state.attrs.parent.history.has_changes() or state.attrs.parent_id.history.has_changes()
        if not parent_changed:
            continue
        parent = obj.parent
        if parent is None and obj.parent_id is not None:
            parent = session.get(Unit, obj.parent_id)
        old_path = obj.path
        new_path = unit_path(parent, obj.code)
        if parent is not None and (parent is obj or parent.path.startswith(old_path)):
            raise ValidationFailed(["上级单位不能是本单位或其下级单位"])
        if new_path != old_path:
            # Re-root the whole subtree in one statement; `path` is derived, so not audited.
            session.connection().execute(
                update(Unit)
                .where(Unit.path.startswith(old_path, autoescape=True), Unit.id != obj.id)
                .values(path=literal(new_path, String).concat(func.substr(Unit.path, len(old_path) + 1)))
                .execution_options(synchronize_session=False)
            )
            obj.path = new_path
            for other in list(session.identity_map.values()):
                if isinstance(other, Unit) and other is not obj and other.path.startswith(old_path):
                    other.path = new_path + other.path[len(old_path):]


def _validate(session: Session):
    errors = []
    for obj in list(session.new) + list(session.dirty):
        if obj in session.deleted:
            continue
        if isinstance(obj, RuleSetting):  # checked against its rule, which the model may not import
            errors += setting_problems(obj)
        elif (check := getattr(obj, "validate_write", None)) is not None:
            errors += check()
    if errors:
        raise ValidationFailed(errors)


def _before_flush(session, flush_context, instances):
    with session.no_autoflush:
        _maintain_unit_paths(session)
        _validate(session)


def init_integrity() -> None:
    listen_on_sessions(("before_flush", _before_flush))