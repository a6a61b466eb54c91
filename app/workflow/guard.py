"""The lock on submitted cases: a ``before_flush`` listener makes a submitted case read-only on
every path (forms, API, CLI, ORM). Only the workflow's own writes pass, inside ``workflow_write()``
(app/workflow/submission.py). A refused flush raises ``CaseLocked``, a ``CaseError`` that is also an
``integrity.ValidationFailed`` (so the generic views' existing handlers show its Chinese messages).
The transaction that creates a case (``create_case``, a JSON import) may still fill any of its
modules. ``init_case_locks`` registers the listeners (create_app calls it).
"""
from __future__ import annotations

from contextlib import contextmanager
from types import SimpleNamespace

from sqlalchemy import inspect, select
from sqlalchemy.orm import Session
from sqlalchemy.orm.interfaces import MANYTOONE

from app.extensions import db, listen_on_sessions
from app.integrity import ValidationFailed
from app.models import MODULE_MODELS, Attachment, Batch, Case, CasePerson, CustomItem, CustomValue
from app.models.case import STATUS_DRAFT
from app.record.data import CaseError, Problem, editable_modules
from app.record.lock import stored_state
from app.spec import MODULE_KEYS, items_by_key, module

WORKFLOW_FLAG = "jishi_workflow"
CREATED_KEY = "jishi_created_cases"  # ids of the cases created in the session's current transaction


class CaseLocked(CaseError, ValidationFailed):
    """A flush that would change a locked case (raised by the lock listener)."""

    def __init__(self, problems: list[Problem]):
        self.problems = list(problems)
        self.errors = [p.message for p in self.problems]
        Exception.__init__(self, "；".join(self.errors))


@contextmanager
def workflow_write():
    """Let this block's flushes through the lock: the workflow's own writes (signature and
    submission modules, status changes, correction). Nests; always resets."""
    info = db.session.info
    previous = info.get(WORKFLOW_FLAG)
    info[WORKFLOW_FLAG] = True
    try:
        yield
    finally:
        if previous is None:
            info.pop(WORKFLOW_FLAG, None)
        else:
            info[WORKFLOW_FLAG] = previous


_CASE_WORKFLOW_FIELDS = ("status", "is_current", "version_no", "previous_id", "root_id", "return_reason")
_ROW_META = {"id", "case_id", "unit_id", "state", "handler", "leader", "completed_at"}
_DERIVED_FIELDS = {"light"}  # derived from the facts (app/alarms/derived.py), not content: never locked


def _changed_fields(obj) -> set[str]:
    """Columns (and many-to-one references) whose value really changes in this flush."""
    state = inspect(obj)
    mapper = state.mapper
    out = {a.key for a in mapper.column_attrs if state.attrs[a.key].history.has_changes()}
    for rel in mapper.relationships:
        if rel.direction is not MANYTOONE:
            continue
        hist = state.attrs[rel.key].history
        if not hist.has_changes():
            continue
        target = hist.added[0] if hist.added else None
        for local, remote in rel.local_remote_pairs:
            key = mapper.get_property_by_column(local).key
            new = getattr(target, inspect(target).mapper.get_property_by_column(remote).key) if target is not None else None
            if new is None and target is not None:
                out.add(key)  # a new object: its key is not known yet
            elif new != state.dict.get(key):
                out.add(key)
    return out


class _LockCheck:
    def __init__(self, session: Session):
        self.session = session
        self.problems: list[Problem] = []
        self._cases: dict[int, tuple] = {}
        self._batches: dict[int, list] = {}
        self.deleted_cases = {o.id for o in session.deleted if isinstance(o, Case)}

    def refuse(self, module_key: str, key: str, message: str) -> None:
        if not any(p.message == message for p in self.problems):
            self.problems.append(Problem(module_key, key, message))

    def db_value(self, obj, key):
        """The value the database holds (what this flush would change)."""
        hist = inspect(obj).attrs[key].history
        if hist.deleted:
            return hist.deleted[0]
        if hist.unchanged:
            return hist.unchanged[0]
        if not hist.added:
            return getattr(obj, key)
        cls = type(obj)
        return self.session.execute(select(getattr(cls, key)).where(cls.id == obj.id)).scalar()

    def case_state(self, case_id):
        """(case_no, status, is_current, root_id) of a stored case, as stored."""
        if case_id not in self._cases:
            row = stored_state(self.session, case_id)  # with the row lock: no submission slips in between
            self._cases[case_id] = tuple(row) if row else None
        return self._cases[case_id]

    def _case_of(self, obj):
        """The owning case: ('new', case) for a case being created, ('stored', id) or None."""
        case = obj.__dict__.get("case")
        if case is not None and case in self.session.new:
            return "new", case
        if inspect(obj).persistent:
            case_id = self.db_value(obj, "case_id")
        else:
            case_id = case.id if case is not None else obj.case_id
        return ("stored", case_id) if case_id is not None else None

    def check_module(self, case_ref, module_key: str, what: str) -> None:
        if case_ref is None or case_ref[0] == "new":
            return
        case_id = case_ref[1]
        if case_id in self.deleted_cases:
            return  # the case itself is deleted: checked as a case
        if case_id in self.session.info.get(CREATED_KEY, ()):
            return  # created in this transaction (e.g. an import filling all its values)
        state = self.case_state(case_id)
        if state is None:
            return
        case_no, status, is_current, _root = state
        if module_key not in editable_modules(SimpleNamespace(status=status, is_current=is_current)):
            name = module(module_key).name if module_key in MODULE_KEYS else module_key
            if not is_current:
                self.refuse(module_key, "", f"案例“{case_no}”的这一版本已被新版本取代（{status}），“{name}”不能修改（{what}）")
            else:
                self.refuse(module_key, "", f"案例“{case_no}”当前状态为“{status}”，“{name}”已锁定，不能修改（{what}）")

    def check_batch(self, batch_id, what: str) -> None:
        if batch_id is None:
            return
        if batch_id not in self._batches:
            self._batches[batch_id] = self.session.execute(
                select(Case.case_no, Case.status).where(Case.batch_id == batch_id, Case.is_current.is_(True),
                                                        Case.status != STATUS_DRAFT)
            ).all()
        locked = self._batches[batch_id]
        if locked:
            numbers = "、".join(f"{no}（{status}）" for no, status in locked[:5])
            self.refuse("decision", "", f"会议批次中的案例 {numbers} 已提交，批次的会议信息已锁定，不能修改（{what}）")

    # -- per kind --

    def module_row(self, obj, action: str) -> None:
        key = obj.__module_key__
        if action == "insert" and all(
                getattr(obj, a.key) is None for a in inspect(obj).mapper.column_attrs if a.key not in _ROW_META):
            return  # an empty row (ensure_rows) changes nothing
        if action == "update" and not _changed_fields(obj):
            return
        self.check_module(self._case_of(obj), key, f"{module(key).name}记录")

    def person(self, obj, action: str, batch_changes) -> None:
        if inspect(obj).persistent:
            batch_id, case_id = self.db_value(obj, "batch_id"), self.db_value(obj, "case_id")
        else:
            batch_id, case_id = obj.batch_id, None
        if action == "update" and not _changed_fields(obj):
            return
        if batch_id is not None or (action == "insert" and obj.batch_id is not None):
            batch_changes.setdefault((batch_id or obj.batch_id, obj.item_key), []).append((action, obj))
            return
        item = items_by_key().get(obj.item_key)
        ref = self._case_of(obj) if case_id is None else ("stored", case_id)
        self.check_module(ref, item.module if item else "", f"人员“{obj.name}”")

    def attachment(self, obj, action: str) -> None:
        if action == "update" and not _changed_fields(obj):
            return
        persistent = inspect(obj).persistent
        batch_id = self.db_value(obj, "batch_id") if persistent else obj.batch_id
        if batch_id is not None:
            self.check_batch(batch_id, f"附件“{obj.filename}”")
            return
        case_id = self.db_value(obj, "case_id") if persistent else obj.case_id
        if case_id is None:
            return
        state = self.case_state(case_id)
        if state is not None and not state[2] and state[3] is not None:
            # A reference shared with later versions (attachments are immutable files): it
            # belongs to the case's current version.
            current = self.session.execute(select(Case.id).where(Case.root_id == state[3],
                                                                 Case.is_current.is_(True))).scalar()
            case_id = current or case_id
        item = items_by_key().get(obj.item_key or "")
        module_key = item.module if item else "qualification"
        self.check_module(("stored", case_id), module_key, f"附件“{obj.filename}”")

    def custom_value(self, obj, action: str) -> None:
        """A custom item's value is part of its module: locked with it."""
        if action == "update" and not _changed_fields(obj):
            return
        item_id = self.db_value(obj, "item_id") if inspect(obj).persistent else obj.item_id
        item = self.session.get(CustomItem, item_id) if item_id is not None else None
        key = item.module if item is not None else "qualification"
        self.check_module(self._case_of(obj), key, f"{module(key).name}记录（{item.label if item else '自定义数据项'}）")

    def case(self, obj, action: str) -> None:
        if action == "insert":
            if obj.status not in (None, STATUS_DRAFT) or obj.is_current is False:
                self.refuse("", "status", f"新建案例只能是草稿（案例“{obj.case_no}”）")
            return
        state = self.case_state(obj.id)
        if state is None:
            return
        case_no, status, is_current, root_id = state
        if action == "delete":
            if status != STATUS_DRAFT or not is_current or self.db_value(obj, "previous_id") is not None:
                self.refuse("", "", f"案例“{case_no}”已提交或属于补正版本链，不能删除")
            return
        changed = _changed_fields(obj) - _DERIVED_FIELDS
        if not changed:
            return
        if status != STATUS_DRAFT or not is_current:
            self.refuse("", "", f"案例“{case_no}”当前状态为“{status}”，已锁定，不能修改")
            return
        workflow = set(changed) & set(_CASE_WORKFLOW_FIELDS)
        if workflow == {"root_id"} and root_id is None:
            return  # create_case sets root_id once
        if workflow:
            self.refuse("", "status", f"案例“{case_no}”的状态与版本只能由签字、提交和退回补正流程改变")

    def batch(self, obj, action: str) -> None:
        if action == "insert":
            return
        if action == "update" and not _changed_fields(obj):
            return
        self.check_batch(obj.id, f"批次“{obj.title}”")

    def batch_persons(self, changes) -> None:
        """Batch persons are rewritten on every save: refuse only a real change of the list."""
        for (batch_id, item_key), rows in changes.items():
            def people(action):
                return sorted((o.position, o.name, o.id_card_no or "", o.post or "") for a, o in rows if a == action)

            if any(a == "update" for a, _ in rows) or people("insert") != people("delete"):
                self.check_batch(batch_id, f"{items_by_key()[item_key].label}" if item_key in items_by_key()
                                 else "会议人员")


_MODULE_TYPES = tuple(MODULE_MODELS.values())


def _lock_before_flush(session: Session, flush_context, instances) -> None:
    if session.info.get(WORKFLOW_FLAG):
        return
    touched = [(o, "insert") for o in session.new] + [(o, "update") for o in session.dirty] + \
              [(o, "delete") for o in session.deleted]
    touched = [(o, a) for o, a in touched
               if isinstance(o, (Case, Batch, CasePerson, Attachment, CustomValue) + _MODULE_TYPES)]
    if not touched:
        return
    with session.no_autoflush:
        check = _LockCheck(session)
        batch_changes: dict = {}
        for obj, action in touched:
            if isinstance(obj, Case):
                check.case(obj, action)
            elif isinstance(obj, Batch):
                check.batch(obj, action)
            elif isinstance(obj, CasePerson):
                check.person(obj, action, batch_changes)
            elif isinstance(obj, Attachment):
                check.attachment(obj, action)
            elif isinstance(obj, CustomValue):
                check.custom_value(obj, action)
            else:
                check.module_row(obj, action)
        check.batch_persons(batch_changes)
    if check.problems:
        raise CaseLocked(check.problems)


def _track_created_cases(session: Session, flush_context) -> None:
    ids = [o.id for o in session.new if isinstance(o, Case)]
    if ids:
        session.info.setdefault(CREATED_KEY, set()).update(ids)


def _forget_created_cases(session: Session, transaction) -> None:
    if transaction.parent is None:
        session.info.pop(CREATED_KEY, None)


def init_case_locks() -> None:
    """Register the lock (idempotent)."""
    listen_on_sessions(("before_flush", _lock_before_flush), ("after_flush", _track_created_cases),
                       ("after_transaction_end", _forget_created_cases))