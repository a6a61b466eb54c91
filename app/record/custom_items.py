"""Custom items (自定义数据项) as the rest of the record sees them (docs/custom-items.md).

A definition (``app.models.CustomItem``) becomes an ``ItemSpec`` with ``custom_id`` set, so forms,
the exchange format, validation and completeness treat it like a catalogued item. Which custom items a
case has:

* **scope** — the item names a unit (its whole subtree) and/or a region code (``330000`` covers every
  unit whose 行政区划代码 starts with ``33``; ``330100`` with ``3301``); neither means every unit;
* **date** — the case's reference date is on or after ``effective_from``: the meeting's decision date
  (讨论决定日期) once it is entered, before that the day the case was created;
* a value once stored is always shown, even if the item's scope or date would no longer select it:
  it is evidence, never hidden;
* **active** — a withdrawn item (停用, ``workflow.custom_items.set_active``) is offered for no new entry:
  only a case that holds a value of it still has it (shown, exported, queried, never required), no file
  may create a case with it, and no new rule may read it.

Values live in ``custom_value`` (typed columns); ``read_values`` / ``write_values`` are what
``app.record.data.read_module`` / ``write_values`` call, so every reader of a module — the rule engine's
flat values, versions, snapshots, seals — sees them under their own key.

Definitions are read once per transaction (``definitions``), so a module read costs no extra query
when no custom item exists, and one per case (its values) when some do.
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from flask import has_app_context
from sqlalchemy import select

from app.extensions import db
from app.models import CustomItem, CustomValue, Unit
from app.spec import ItemSpec, parse_type

KINDS = ("text", "int", "date", "bool", "enum", "enum*")
KIND_LABELS = {"text": "文字", "int": "整数", "date": "日期", "bool": "是/否", "enum": "单选", "enum*": "多选"}
CACHE_KEY = "jishi_custom_items"


@dataclass(frozen=True)
class Definition:
    """A custom item (active or withdrawn), detached from the session (safe to cache for a transaction)."""

    id: int
    module: str
    key: str
    label: str
    type: str
    required: str
    condition: str
    help: str
    effective_from: dt.date
    region_code: str | None
    unit_id: int | None
    unit_code: str | None
    unit_path: str | None
    spec: ItemSpec
    active: bool = True

    def in_scope(self, unit) -> bool:
        if unit is None:
            return False
        if self.unit_path is not None and not (unit.path or "").startswith(self.unit_path):
            return False
        if self.region_code:
            return bool(unit.region_code) and unit.region_code.startswith(region_prefix(self.region_code))
        return True

    def as_dict(self) -> dict:
        return {"id": self.id, "module": self.module, "key": self.key, "label": self.label, "type": self.type,
                "kind": self.spec.kind, "choices": list(self.spec.choices), "required": self.required,
                "condition": self.condition, "help_text": self.help,
                "effective_from": self.effective_from.isoformat(), "region_code": self.region_code,
                "unit": self.unit_code, "active": self.active}


def region_prefix(code: str) -> str:
    """330000 → "33", 330100 → "3301", 330102 → "330102" (GB/T 2260: province, city, county)."""
    code = code or ""
    while len(code) > 2 and code.endswith("00"):
        code = code[:-2]
    return code


def to_spec(row: CustomItem, order: int = 1000) -> ItemSpec:
    kind, choices = parse_type(row.type)
    required = (row.required or "N") if row.active is not False else "N"  # a withdrawn item is never required
    return ItemSpec(row.module, order, row.key, row.label, row.type, kind, choices, required,
                    row.condition or "", "", row.help_text or "", row.id)


def _load() -> tuple[Definition, ...]:
    rows = db.session.execute(
        select(CustomItem, Unit.code, Unit.path).outerjoin(Unit, Unit.id == CustomItem.unit_id)
        .order_by(CustomItem.id)
    ).all()
    return tuple(Definition(r.id, r.module, r.key, r.label, r.type, r.required or "N", r.condition or "",
                            r.help_text or "", r.effective_from, r.region_code, r.unit_id, code, path,
                            to_spec(r, 1000 + n), bool(r.active))
                 for n, (r, code, path) in enumerate(rows))


def definitions() -> tuple[Definition, ...]:
    """Every definition (withdrawn ones too: their stored values are evidence), read once per transaction of
    the session."""
    session = db.session()
    transaction = session.get_transaction()
    cached = session.info.get(CACHE_KEY)
    if cached is not None and transaction is not None and cached[0] is transaction:
        return cached[1]
    found = _load()
    if transaction is None:
        transaction = session.get_transaction()
    session.info[CACHE_KEY] = (transaction, found)
    return found


def forget() -> None:
    """Drop the cached definitions (after adding or changing one)."""
    db.session().info.pop(CACHE_KEY, None)


def active_definitions() -> list[dict]:
    """The active custom items (module, key, label, type, required, effective_from, region/unit
    scope): what may be entered now. Pages and ``flask items list`` show every definition."""
    return [d.as_dict() for d in definitions() if d.active]


def cel_items() -> dict[str, tuple[str, str]]:
    """key → (kind, label) of the custom items, for the custom rules (registered with app.rules.expression
    in create_app). Withdrawn ones too: a version that judges older cases still reads their values; the
    checker refuses them in a condition being saved or approved (workflow.custom_rules.checker_names).
    Outside an application context there are none."""
    if not has_app_context():
        return {}
    return {d.key: (d.spec.kind, d.label) for d in definitions()}


def withdrawn_keys() -> frozenset[str]:
    """The keys of the withdrawn (停用) custom items: no condition saved or approved now may read them."""
    if not has_app_context():
        return frozenset()
    return frozenset(d.key for d in definitions() if not d.active)


def for_module(module_key: str) -> list[Definition]:
    return [d for d in definitions() if d.module == module_key]


def reference_date(case) -> dt.date:
    batch = case.batch
    if batch is not None and batch.decision_date is not None:
        return batch.decision_date
    created = case.created_at
    return created.date() if created is not None else dt.date.today()


def _stored(case) -> dict[int, CustomValue]:
    if case.id is None and not case.custom_values:
        return {}
    return {v.item_id: v for v in case.custom_values}


def applicable(case, module_key: str, *, stored: dict | None = None) -> list[Definition]:
    """The custom items of a module this case has: active, in scope and in force (see the module's text),
    or holding a value (a withdrawn item: a value, not an emptied row)."""
    defs = for_module(module_key)
    if not defs:
        return []
    stored = _stored(case) if stored is None else stored
    on = reference_date(case)
    unit = case.unit
    return [d for d in defs
            if (d.id in stored and (d.active or _has_value(stored[d.id])))
            or (d.active and d.in_scope(unit) and on >= d.effective_from)]


def _has_value(row: CustomValue) -> bool:
    return any(v not in (None, "", []) for v in (row.value_text, row.value_num, row.value_date, row.value_json))


def items_for(case, module_key: str) -> tuple[ItemSpec, ...]:
    return tuple(d.spec for d in applicable(case, module_key))


def items_for_unit(unit, module_key: str, on: dt.date | None = None) -> tuple[ItemSpec, ...]:
    """For a case not yet created (an import): the unit's items in force on ``on`` (today if None)."""
    on = on or dt.date.today()
    return tuple(d.spec for d in for_module(module_key) if d.active and d.in_scope(unit) and on >= d.effective_from)


def specs_for(case) -> dict[str, tuple[ItemSpec, ...]]:
    """{module: the case's custom items}: what ``data.from_exchange`` may accept for this case."""
    return {m: items for m in {d.module for d in definitions()} if (items := items_for(case, m))}


def specs_for_unit(unit, on: dt.date | None = None) -> dict[str, tuple[ItemSpec, ...]]:
    """{module: the unit's custom items in force on ``on``}: for a file creating a case of ``unit``."""
    return {m: items for m in {d.module for d in definitions()} if (items := items_for_unit(unit, m, on))}


def all_specs() -> dict[str, tuple[ItemSpec, ...]]:
    """Every active custom item by module: what a file may name before its unit is known."""
    out: dict[str, list] = {}
    for d in definitions():
        out.setdefault(d.module, []).append(d.spec)
    return {k: tuple(v) for k, v in out.items()}


def visible_definitions(scope) -> list[Definition]:
    """The definitions a user of ``scope`` may query on (条件查询, exports): every one for an all-units
    scope; for a unit or subtree scope those whose unit is inside it or above it, and whose region (if
    any) overlaps the scope's own unit's region."""
    if scope.kind == "all":
        return list(definitions())
    if scope.kind == "none" or scope.unit_id is None:
        return []
    root = db.session.get(Unit, scope.unit_id)
    if root is None:
        return []
    path = root.path or ""
    mine = region_prefix(root.region_code or "")
    out = []
    for d in definitions():
        if d.unit_path is not None and not (d.unit_path.startswith(path) or path.startswith(d.unit_path)):
            continue
        if d.region_code:
            theirs = region_prefix(d.region_code)
            if not mine or not (theirs.startswith(mine) or mine.startswith(theirs)):
                continue
        out.append(d)
    return out


# ---- values -----------------------------------------------------------------------------------------

def _value_of(row: CustomValue, kind: str):
    if kind == "int":
        return row.value_num
    if kind == "bool":
        return None if row.value_num is None else bool(row.value_num)
    if kind == "date":
        return row.value_date
    if kind == "enum*":
        return list(row.value_json) if row.value_json else None
    return row.value_text


def read_values(case, module_key: str) -> dict:
    """{key: value} of the module's custom items this case has (None where empty)."""
    if not for_module(module_key):
        return {}  # no custom item in this module: the case's values are not even loaded
    stored = _stored(case)
    out = {}
    for d in applicable(case, module_key, stored=stored):
        row = stored.get(d.id)
        out[d.key] = _value_of(row, d.spec.kind) if row is not None else None
    return out


def _fill(row: CustomValue, kind: str, value) -> None:
    """Store ``value`` in the column of its kind (kind "" clears every column)."""
    row.value_text = value if kind in ("text", "enum") else None
    row.value_num = (int(value) if kind == "bool" else value) if kind in ("int", "bool") else None
    row.value_date = value if kind == "date" else None
    row.value_json = list(value) if kind == "enum*" else None


def write_values(case, module_key: str, values: dict) -> None:
    """Set the custom items of ``values`` this case has (others are ignored: callers refuse them
    first with ``data.custom_problems``). An empty value clears the row's value but keeps the row, so
    its audit trail stays attached to the case."""
    if not for_module(module_key):
        return
    defs = {d.key: d for d in applicable(case, module_key)}
    stored = _stored(case)
    for key, value in values.items():
        d = defs.get(key)
        if d is None:
            continue
        row = stored.get(d.id)
        empty = value is None or value == "" or value == []
        if empty:
            if row is not None:
                _fill(row, "", None)
            continue
        if row is None:
            row = CustomValue(unit_id=case.unit_id, item_id=d.id)
            case.custom_values.append(row)
        _fill(row, d.spec.kind, value)


def copy_values(source, target) -> None:
    """A correction's new version carries the custom values of the one it replaces."""
    for row in source.custom_values:
        target.custom_values.append(CustomValue(unit_id=target.unit_id, item_id=row.item_id,
                                                value_text=row.value_text, value_num=row.value_num,
                                                value_date=row.value_date, value_json=row.value_json))
