"""Reading and writing a case's 181 values, whatever table each lives in.

A case's values are a dict ``{module_key: {item_key: value}}`` with Python values:
text/enum → str, int → int, date → ``datetime.date``, bool → bool, enum* → list[str],
person → ``{"name", "id_card_no"?, "post"?}``, person[] → list of those, file-ref → file name,
unit → unit code. ``to_exchange`` / ``from_exchange`` convert to and from the JSON exchange
format (docs/exchange-format.md): dates as ``YYYY-MM-DD``, everything else as is.

Batch-level items (the meeting) are read from and written to the case's batch; persons and
attachments are rows of their own. Forms, import, export, validation and snapshots all go
through ``read_case`` / ``write_values`` so a key is handled in one place.
"""
from __future__ import annotations

import datetime as dt
import hashlib
import json
import uuid
from dataclasses import dataclass

from sqlalchemy import func, select

from app.errors import JishiError
from app.extensions import db
from app.models import MODULE_MODELS, Attachment, Batch, Case, CasePerson, Unit
from app.models.case import STATUS_DRAFT, STATUS_FIRST
from app.record import custom_items
from app.record.input_checks import ASCII_INT, item_problems, shown
from app.spec import MODULE_KEYS, module, modules

EMPTY = (None, "", [], {})


@dataclass
class Problem:
    """One problem with one item, in Chinese."""

    module: str
    key: str
    message: str

    def as_dict(self):
        return {"module": self.module, "key": self.key, "message": self.message}


# ---- reading ------------------------------------------------------------------------------------

class CaseError(JishiError):
    """A refused command; ``problems`` says why, item by item, in Chinese."""

    def __init__(self, problems: list[Problem]):
        self.problems = list(problems)
        super().__init__("；".join(p.message for p in self.problems))


def editable_modules(case) -> set[str]:
    """Which modules the unit may still change (the rest is locked evidence)."""
    if not case.is_current:
        return set()
    if case.status == STATUS_DRAFT:
        return set(MODULE_KEYS) - {"signature", "submission"}
    if case.status == STATUS_FIRST:
        return {"publicity", "appointment"}
    return set()


def _persons(case: Case | None, batch: Batch | None) -> dict[str, list[CasePerson]]:
    out: dict[str, list[CasePerson]] = {}
    rows = list(case.persons) if case is not None else []
    if batch is not None:
        rows += db.session.execute(
            select(CasePerson).where(CasePerson.batch_id == batch.id).order_by(CasePerson.position)
        ).scalars().all()
    for p in rows:
        out.setdefault(p.item_key, []).append(p)
    return out


def read_module(case: Case, key: str, persons=None, attachments=None) -> dict:
    spec = module(key)
    row = case.module_row(key)
    batch = case.batch
    persons = persons if persons is not None else _persons(case, batch)
    values = {}
    for item in spec.items:
        source = batch if item.batch_level else row
        if item.key == "case_no":
            value = case.case_no
        elif item.key == "reporting_unit":
            value = case.unit.code if case.unit else None
        elif item.kind == "person":
            people = persons.get(item.key, [])
            value = people[0].as_dict() if people else None
        elif item.kind == "person[]":
            people = persons.get(item.key, [])
            value = [p.as_dict() for p in people] if people else None
        elif item.kind == "file-ref":
            att_id = getattr(source, f"{item.key}_id", None) if source is not None else None
            att = db.session.get(Attachment, att_id) if att_id else None
            value = att.filename if att else None
        elif item.kind == "unit":
            unit = getattr(source, item.key, None) if source is not None else None
            value = unit.code if unit else None
        else:
            value = getattr(source, item.key, None) if source is not None else None
        values[item.key] = value
    values.update(custom_items.read_values(case, key))  # custom items (自定义数据项) under their own keys
    return values


def read_case(case: Case) -> dict:
    persons = _persons(case, case.batch)
    return {key: read_module(case, key, persons) for key in MODULE_KEYS}


# ---- exchange format -------------------------------------------------------------------------------

def to_exchange(values: dict, *, drop_empty: bool = True) -> dict:
    out = {}
    for mkey, items in values.items():
        mod = {}
        for key, value in items.items():
            if isinstance(value, dt.date):
                value = value.isoformat()
            if drop_empty and value in EMPTY:
                continue
            mod[key] = value
        out[mkey] = mod
    return out


def export_case(case: Case) -> dict:
    return to_exchange(read_case(case))


def canonical_json(obj) -> str:
    """The one serialisation that is hashed: sorted keys, no spaces, UTF-8 text."""
    return json.dumps(obj, ensure_ascii=False, sort_keys=True, separators=(",", ":"))


def sha256_text(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


CONTENT_MODULES = MODULE_KEYS[:9]  # what signers sign: modules 1–9 (not the signatures themselves)


def content_hash(case: Case) -> str:
    values = read_case(case)
    return sha256_text(canonical_json(to_exchange({k: values[k] for k in CONTENT_MODULES})))


def _parse_person(value, where: tuple[str, str], problems: list[Problem]):
    if isinstance(value, str):
        value = {"name": value}
    if not isinstance(value, dict) or not isinstance(value.get("name"), str) or not value["name"].strip():
        problems.append(Problem(*where, "人员应为含“name”（姓名，文字）的对象"))
        return None
    extra = set(value) - {"name", "id_card_no", "post"}
    if extra:
        problems.append(Problem(*where, f"人员对象含有未知字段：{'、'.join(shown(k) for k in sorted(extra))}"))
        return None
    if any(not isinstance(v, str) for v in value.values() if v is not None):
        problems.append(Problem(*where, "人员的姓名、职务、身份证号应为文字"))
        return None
    return {k: v.strip() for k, v in value.items() if v not in (None, "")}


def _is_empty(item, value) -> bool:
    """Absent: null or "" for every kind; [] only where the value is a list. ({} and a [] in place
    of a single value are type errors, not a way to clear an item.)"""
    if value is None or value == "":
        return True
    return value == [] and item.kind in ("enum*", "person[]")


def from_exchange(data: dict, custom: dict | None = None) -> tuple[dict, list[Problem]]:
    """Exchange JSON → typed values. Every problem is collected; unknown keys are problems.
    ``custom`` ({module: ItemSpecs}) names the custom items the data may fill: the case's own
    (``custom_items.specs_for``), a new case's unit's (``specs_for_unit``); none by default, so a
    custom key is an unknown key unless the caller says whose items apply."""
    problems: list[Problem] = []
    custom = custom or {}
    if not isinstance(data, dict):
        return {}, [Problem("", "", "案例应为以模块键为键的 JSON 对象")]
    values = {}
    known = set(MODULE_KEYS)
    for mkey in data:
        if mkey not in known:
            problems.append(Problem(shown(mkey), "", f"未知模块“{shown(mkey)}”"))
    for spec in modules():
        raw = data.get(spec.key, {}) or {}
        if not isinstance(raw, dict):
            problems.append(Problem(spec.key, "", "模块应为以数据项键为键的 JSON 对象"))
            continue
        extra = tuple(custom.get(spec.key, ()))
        item_keys = {i.key for i in spec.items} | {i.key for i in extra}
        for key in raw:
            if key not in item_keys:
                problems.append(Problem(spec.key, shown(key), f"模块“{spec.name}”没有数据项“{shown(key)}”"))
        mod = {}
        for item in spec.items + extra:
            if item.key not in raw or _is_empty(item, raw[item.key]):
                mod[item.key] = None
                continue
            value = raw[item.key]
            where = (spec.key, item.key)
            label = item.label
            try:
                if item.kind == "int":
                    # ASCII digits only: int() also takes "１２３" and "٣".
                    if isinstance(value, bool) or not isinstance(value, (int, str)) or \
                            not ASCII_INT.fullmatch(str(value).strip()):
                        raise ValueError
                    value = int(value)
                elif item.kind == "date":
                    if not isinstance(value, str):
                        raise ValueError
                    value = dt.date.fromisoformat(value)
                    if len(raw[item.key]) != 10:
                        raise ValueError
                elif item.kind == "bool":
                    if not isinstance(value, bool):
                        raise ValueError
                elif item.kind in ("text", "file-ref", "unit"):
                    if not isinstance(value, (str, int)) or isinstance(value, bool):
                        raise ValueError
                    value = str(value).strip()
                elif item.kind == "enum":
                    if value not in item.choices:
                        problems.append(Problem(*where, f"“{label}”的值“{shown(value)}”不在可选范围内"))
                        continue
                elif item.kind == "enum*":
                    if isinstance(value, str):
                        value = [value]
                    bad = [v for v in value if v not in item.choices] if isinstance(value, list) else [value]
                    if bad:
                        problems.append(Problem(*where, f"“{label}”含不在可选范围内的值：{'、'.join(map(shown, bad))}"))
                        continue
                elif item.kind == "person":
                    value = _parse_person(value, where, problems)
                    if value is None:
                        continue
                elif item.kind == "person[]":
                    if not isinstance(value, list):
                        raise ValueError
                    people = [_parse_person(v, where, problems) for v in value]
                    if any(p is None for p in people):
                        continue
                    value = people
            except (ValueError, TypeError):
                expected = {"int": "整数", "date": "日期（YYYY-MM-DD）", "bool": "true 或 false",
                            "person[]": "人员列表", "text": "文字", "file-ref": "文件名", "unit": "单位代码"}
                problems.append(Problem(*where, f"“{label}”应为{expected.get(item.kind, item.kind)}，实际为“{shown(raw[item.key])}”"))
                continue
            mod[item.key] = value
        values[spec.key] = mod
    return values, problems


# ---- writing ------------------------------------------------------------------------------------

def ensure_rows(case: Case) -> None:
    for key, model in MODULE_MODELS.items():
        if case.module_row(key) is None:
            setattr(case, f"m_{key}", model(unit_id=case.unit_id))


def next_case_no(unit: Unit, year: int) -> str:
    # Two cases created at once in one unit would count the same cases and take the same number
    # (a unique-constraint failure under load, bench/load.py): the unit's row lock serialises the
    # count until the transaction ends (PostgreSQL; SQLite has one writer anyway).
    db.session.execute(select(Unit.id).where(Unit.id == unit.id).with_for_update())
    prefix = f"{unit.code}-{year}-"
    count = db.session.execute(
        select(func.count(func.distinct(Case.case_no))).where(Case.case_no.startswith(prefix, autoescape=True))
    ).scalar()
    number = count + 1
    # An imported case may already carry a later number of the sequence.
    while db.session.execute(select(Case.id).where(Case.case_no == f"{prefix}{number:04d}")).first() is not None:
        number += 1
    return f"{prefix}{number:04d}"


def new_case(unit: Unit, user=None) -> Case:
    case = Case(unit_id=unit.id, unit=unit, case_no=next_case_no(unit, dt.date.today().year), version_no=1,
                is_current=True, created_by_id=getattr(user, "id", None))
    ensure_rows(case)
    return case


def _set_persons(case: Case | None, batch: Batch | None, key: str, people: list[dict] | None, unit_id: int):
    if batch is not None:
        for old in db.session.execute(select(CasePerson).where(CasePerson.batch_id == batch.id,
                                                                 CasePerson.item_key == key)).scalars():
            db.session.delete(old)
    else:
        for old in [p for p in case.persons if p.item_key == key]:
            case.persons.remove(old)
    for pos, person in enumerate(people or []):
        row = CasePerson(unit_id=unit_id, item_key=key, position=pos, name=person["name"],
                         id_card_no=person.get("id_card_no"), post=person.get("post"))
        if batch is not None:
            row.batch_id = batch.id
            db.session.add(row)
        else:
            case.persons.append(row)


def _attachment_for(case: Case, batch: Batch | None, key: str, filename: str, unit_id: int) -> Attachment:
    """The attachment of this item with this name (an upload is preferred to a bare reference),
    or a new reference awaiting its upload."""
    owner = Attachment.batch_id == batch.id if batch is not None else Attachment.case_id == case.id
    found = db.session.execute(
        select(Attachment).where(owner, Attachment.item_key == key, Attachment.filename == filename)
        .order_by(Attachment.has_content.desc(), Attachment.id.desc())
    ).scalars().first()
    if found is not None:
        return found
    att = Attachment(unit_id=unit_id, case_id=None if batch is not None else case.id,
                     batch_id=batch.id if batch is not None else None, item_key=key, filename=filename,
                     size=0, sha256=hashlib.sha256(b"").hexdigest(), storage_key=f"ref-{uuid.uuid4().hex}",
                     has_content=False)
    db.session.add(att)
    db.session.flush()
    return att


def write_values(case: Case, module_key: str, values: dict, *, batch_too: bool = True) -> None:
    """Set the given items of one module (keys absent from ``values`` are left alone)."""
    spec = module(module_key)
    row = case.module_row(module_key)
    for item in spec.items:
        if item.key not in values or item.system:
            continue
        value = values[item.key]
        target = case.batch if item.batch_level else row
        if item.batch_level and (target is None or not batch_too):
            continue
        if item.kind in ("person", "person[]"):
            people = [value] if item.kind == "person" and value else (value or [])
            _set_persons(case, case.batch if item.batch_level else None, item.key, people, case.unit_id)
        elif item.kind == "file-ref":
            att = _attachment_for(case, case.batch if item.batch_level else None, item.key, value,
                                  case.unit_id) if value else None
            setattr(target, f"{item.key}_id", att.id if att else None)
        elif item.kind == "unit":
            unit = db.session.execute(select(Unit).where(Unit.code == value)).scalar_one_or_none() if value else None
            setattr(target, item.key, unit)
        else:
            setattr(target, item.key, value)
    custom_items.write_values(case, module_key, values)
    if module_key == "qualification" and "full_name" in values:
        case.full_name = values["full_name"]


def custom_problems(case: Case, module_key: str, values: dict) -> list[Problem]:
    """Refusals for the custom items in ``values``: a custom key this case does not have (the same
    answer as an unknown key: nothing is told about other regions' items) and a value out of the
    limits of its kind."""
    mine = {i.key: i for i in custom_items.items_for(case, module_key)}
    catalogued = {i.key for i in module(module_key).items}
    problems = []
    for key, value in values.items():
        if key in catalogued:
            continue
        item = mine.get(key)
        if item is None:
            problems.append(Problem(module_key, shown(key), f"模块“{module(module_key).name}”没有数据项“{shown(key)}”"))
        elif value not in EMPTY:
            chosen = value if isinstance(value, list) else [value]
            if item.kind in ("enum", "enum*") and any(v not in item.choices for v in chosen):
                problems.append(Problem(module_key, key, f"“{item.label}”的值“{'、'.join(map(shown, chosen))}”不在可选范围内"))
                continue
            problems += [Problem(module_key, key, m) for m in item_problems(item, value, dt.date.today())]
    return problems
