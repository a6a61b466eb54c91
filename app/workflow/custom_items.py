"""Adding a custom item (自定义数据项): ``add_item`` checks a definition and writes it in one
transaction, or refuses it with every problem in Chinese and writes nothing (docs/custom-items.md).
Only a 系统管理员 adds items; one whose own scope is a unit subtree adds them only for units inside it.
"""
from __future__ import annotations

import datetime as dt
import re
from contextlib import contextmanager

from sqlalchemy import select

from app.errors import JishiError
from app.extensions import db
from app.models import CustomItem, Unit
from app.record import custom_items
from app.record.input_checks import shown
from app.rule_settings import enabled_versions
from app.rules.cel_runtime import variables_of
from app.scoping import scope_for
from app.spec import MODULE_KEYS, items_by_key, module, parse_type

ADMIN_ROLE = "系统管理员"
FIELDS = {"module", "key", "label", "type", "required", "condition", "help_text", "effective_from", "region_code",
          "unit"}
NEEDED = ("module", "key", "label", "type", "effective_from")
KEY_RE = re.compile(r"[a-z][a-z0-9_]{1,39}")
# Names the module forms and tables already use besides the items.
RESERVED = {"id", "case_id", "unit_id", "handler", "leader", "state", "completed_at", "version", "base", "csrf_token",
            "complete"}
CLOSED_MODULES = ("signature", "submission")  # written by the workflow only
REQUIRED = {"Y": "Y", "N": "N", "cond": "cond", True: "Y", False: "N"}


class CustomItemRefused(JishiError):
    """A definition refused; ``problems`` lists every reason."""

    def __init__(self, problems: list[str]):
        self.problems = list(problems)
        super().__init__("；".join(self.problems))


def _text(data: dict, name: str, label: str, limit: int, problems: list[str], needed: bool = False) -> str | None:
    value = data.get(name)
    if value is None or (isinstance(value, str) and not value.strip()):
        if needed:
            problems.append(f"缺少“{name}”（{label}）")
        return None
    if not isinstance(value, str):
        problems.append(f"“{name}”（{label}）应为文字")
        return None
    value = value.strip()
    if len(value) > limit:
        problems.append(f"“{name}”（{label}）不能超过 {limit} 个字")
        return None
    if any(ord(ch) < 32 for ch in value):
        problems.append(f"“{name}”（{label}）含有控制字符")
        return None
    return value


def check_definition(data, user) -> tuple[dict, list[str]]:
    """(the columns of a new CustomItem, problems)."""
    if not isinstance(data, dict):
        return {}, ["文件内容应为一个 JSON 对象（数据项定义）"]
    problems: list[str] = []
    unknown = sorted(set(data) - FIELDS)
    if unknown:
        problems.append(f"未知字段：{'、'.join(shown(k) for k in unknown)}（可用字段：{'、'.join(sorted(FIELDS))}）")
    for name in NEEDED:
        if data.get(name) in (None, ""):
            problems.append(f"缺少“{name}”")
    out: dict = {}
    mod = data.get("module")
    if mod not in (None, ""):
        if not isinstance(mod, str) or mod not in MODULE_KEYS:
            problems.append(f"模块“{shown(mod)}”不存在（可用：{'、'.join(k for k in MODULE_KEYS if k not in CLOSED_MODULES)}）")
        elif mod in CLOSED_MODULES:
            problems.append(f"“{module(mod).name}”由签字、提交流程写入，不能添加自定义数据项")
        else:
            out["module"] = mod
    key = data.get("key")
    if key not in (None, ""):
        if not isinstance(key, str) or not KEY_RE.fullmatch(key):
            problems.append(f"键“{shown(key)}”无效：应为 2–40 位小写字母、数字或下划线，以字母开头")
        elif key in items_by_key():
            item = items_by_key()[key]
            problems.append(f"键“{key}”与目录中的数据项“{item.label}”（模块“{module(item.module).name}”）重复")
        elif key in MODULE_KEYS or key in RESERVED or key.endswith("_id"):
            problems.append(f"键“{key}”为系统保留名称，请换一个")
        elif db.session.execute(select(CustomItem.id).where(CustomItem.key == key)).first() is not None:
            problems.append(f"键“{key}”已被另一个自定义数据项使用")
        else:
            out["key"] = key
    out["label"] = _text(data, "label", "名称", 100, problems)
    type_text = data.get("type")
    if type_text not in (None, ""):
        kind = None
        if isinstance(type_text, str) and len(type_text) <= 400:
            try:
                kind, choices = parse_type(type_text)
            except ValueError:
                kind = None
        if kind is None or kind not in custom_items.KINDS:
            problems.append(f"类型“{shown(type_text)}”无效：可用 text、int、date、bool、enum[选项1, 选项2]、enum*[选项1, 选项2]")
        elif kind in ("enum", "enum*") and (not choices or any(len(c) > 100 for c in choices)):
            problems.append("单选/多选类型应列出至少一个选项，每个选项不超过 100 个字")
        else:
            out["type"] = type_text.strip()
    required = data.get("required", "N")
    if isinstance(required, (str, bool)) and required in REQUIRED:
        out["required"] = REQUIRED[required]
    else:
        problems.append(f"“required”应为 true、false、\"Y\"、\"N\" 或 \"cond\"，实际为“{shown(required)}”")
    condition = _text(data, "condition", "必填条件", 40, problems)
    if out.get("required") == "cond":
        flags = {i.key for i in items_by_key().values() if i.kind == "bool"} | \
            {d.key for d in custom_items.definitions() if d.spec.kind == "bool" and d.active}
        if not condition:
            problems.append("“required”为 \"cond\" 时须用“condition”指明一个是/否数据项的键（为“是”时必填）")
        elif condition not in flags:
            problems.append(f"必填条件“{condition}”不是一个是/否数据项的键")
    elif condition:
        problems.append("只有“required”为 \"cond\" 时才能填写“condition”")
    out["condition"] = condition
    out["help_text"] = _text(data, "help_text", "填写说明", 500, problems)
    raw_date = data.get("effective_from")
    if raw_date not in (None, ""):
        try:
            if not isinstance(raw_date, str) or not re.fullmatch(r"\d{4}-\d{2}-\d{2}", raw_date):
                raise ValueError
            out["effective_from"] = dt.date.fromisoformat(raw_date)
        except ValueError:
            problems.append(f"生效日期“{shown(raw_date)}”无效，应为 YYYY-MM-DD")
    region = data.get("region_code")
    if region not in (None, ""):
        if not isinstance(region, str) or not re.fullmatch(r"\d{6}", region):
            problems.append(f"行政区划代码“{shown(region)}”无效，应为 6 位数字（GB/T 2260）")
        else:
            out["region_code"] = region
    scope = scope_for(user)
    unit_code = data.get("unit")
    if unit_code not in (None, ""):
        unit = db.session.execute(select(Unit).where(Unit.code == unit_code)).scalar_one_or_none() \
            if isinstance(unit_code, str) else None
        if unit is None or not scope.contains(unit.id):
            problems.append(f"单位代码“{shown(unit_code)}”不存在或不在您的权限范围内")
        else:
            out["unit_id"] = unit.id
    elif scope.kind != "all":
        problems.append("请用“unit”指定适用单位：您只能为本单位及下级单位添加数据项")
    label = out["label"]
    if label and out.get("module"):
        # Two items of one name in one form: refused against the catalogue, and against the custom
        # items of the same scope (another region may well name its own item the same).
        same = [i for i in module(out["module"]).items if i.label == label] or db.session.execute(
            select(CustomItem.id).where(CustomItem.module == out["module"], CustomItem.label == label,
                                        CustomItem.unit_id.is_(out.get("unit_id")) if out.get("unit_id") is None
                                        else CustomItem.unit_id == out["unit_id"],
                                        CustomItem.region_code.is_(None) if not out.get("region_code")
                                        else CustomItem.region_code == out["region_code"])).first()
        if same:
            problems.append(f"模块“{module(out['module']).name}”已有名为“{label}”的数据项")
    return out, problems


@contextmanager
def _one_transaction():
    """Commit what the block wrote, or roll all of it back; either way the cached definitions are stale."""
    try:
        yield
        db.session.commit()
    except Exception:
        db.session.rollback()
        raise
    finally:
        custom_items.forget()


def _require_admin(user, doing: str) -> None:
    roles = {r.name for r in getattr(user, "roles", None) or []}
    if user is None or ADMIN_ROLE not in roles:
        raise CustomItemRefused([f"只有系统管理员可以{doing}自定义数据项"])


def add_item(data, user) -> CustomItem:
    """Write a new custom item (all or nothing). The caller sets the audit actor (``acting_as``)."""
    with _one_transaction():
        item = insert_item(data, user)
    return item


def insert_item(data, user) -> CustomItem:
    """``add_item`` in the caller's transaction (flushed, not committed): a rule pack adds its items and
    its rules in one."""
    _require_admin(user, "添加")
    values, problems = check_definition(data, user)
    if problems:
        raise CustomItemRefused(problems)
    name = f"{(user.last_name or '').strip()}{(user.first_name or '').strip()}" or user.username
    item = CustomItem(**values, active=True, author_id=user.id, author_name=name)
    db.session.add(item)
    db.session.flush()
    custom_items.forget()  # the rules checked next in this transaction may read it
    return item


def set_active(key: str, active: bool, user) -> CustomItem:
    """停用 (``active`` False) or 启用 again a custom item, in one transaction; refused in Chinese, nothing
    written. A withdrawn item is offered for no new entry (no form field, no import, no new rule may read
    it, never required), but a case that holds a value keeps it on every page, print, export and query:
    it is evidence (app/record/custom_items.py). Only a 系统管理员 whose scope holds the item's unit (an
    item without a unit: one of all units) may do it; the change is in the audit trail like any other."""
    _require_admin(user, "停用或启用")
    item = db.session.execute(select(CustomItem).where(CustomItem.key == key)).scalar_one_or_none() \
        if isinstance(key, str) and key else None
    scope = scope_for(user)
    if item is None or not (scope.kind == "all" or (item.unit_id is not None and scope.contains(item.unit_id))):
        raise CustomItemRefused([f"自定义数据项“{shown(key)}”不存在或不在您的权限范围内"])
    if bool(item.active) == active:
        raise CustomItemRefused([f"自定义数据项“{item.label}”已是{'启用' if active else '停用'}状态"])
    if not active:  # a rule still reading it would judge every new case on an item nobody can fill in
        readers = rules_reading(item.key)
        if readers:
            raise CustomItemRefused([f"自定义数据项“{item.label}”仍被已启用的自定义规则 {'、'.join(readers)} 读取，"
                                     "请先停用这些规则（或改写其条件）再停用数据项"])
    with _one_transaction():
        item.active = active
    return item


def rules_reading(key: str) -> list[str]:
    """The codes of the custom rules in force now or later (``rule_settings.enabled_versions``) whose
    condition reads ``key``."""
    return [code for code, row in enabled_versions().items() if key in variables_of(row.expression)]
