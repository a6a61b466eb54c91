"""Rule packs (规则包): a set of custom rules as one signed JSON file, so that a province can hand its
rules to its cities. Importing shows the difference with what is here and writes drafts, which follow
the same approval as any draft (四眼原则); a pack whose signature does not verify is refused and
nothing is written.

The signature is an HMAC-SHA256 of the canonical JSON of the pack (everything but ``signature``) with
``JISHI_RULE_PACK_KEY`` — the key a province shares with its cities out of band — else this install's
evidence key (app.record.evidence: then only installs sharing that key accept the pack).
The custom items (自定义数据项) the exported rules read travel with them in ``items`` (without a unit: unit
codes differ between installs), so that a pack imports whole: a new item is added with the rules, an item
of the same key and the same module and type is used as it is, one of another module or type refuses the
pack.
"""
from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import json

from flask import current_app

from app.extensions import db
from app.models.custom_rules import CUSTOM_ENABLED, CustomRuleVersion
from app.record import custom_items
from app.record.evidence import load_key
from app.rules.cel_runtime import variables_of
from app.scoping import Scope, scope_for
from app.spec import parse_type
from app.workflow.custom_items import ADMIN_ROLE, CustomItemRefused, check_definition, insert_item
from app.workflow.custom_rules import CustomRuleError, all_versions, save_draft_row, validate, versions

FORMAT = "jishi-rule-pack"
FORMAT_VERSION = 1
RULE_FIELDS = ("code", "title", "category", "severity", "points", "basis", "effective_from", "expression",
               "region_code", "grades", "selection_types")
ITEM_FIELDS = ("module", "key", "label", "type", "required", "condition", "help_text", "effective_from", "region_code")


def _key() -> bytes:
    configured = current_app.config.get("JISHI_RULE_PACK_KEY") or ""
    if configured:
        if len(configured) < 32:
            raise CustomRuleError(["JISHI_RULE_PACK_KEY 至少需要 32 个字符"])
        return configured.encode("utf-8")
    return load_key()


def _canonical(body: dict) -> bytes:
    return json.dumps(body, ensure_ascii=False, sort_keys=True, separators=(",", ":")).encode("utf-8")


def sign(body: dict) -> str:
    return hmac.new(_key(), _canonical(body), hashlib.sha256).hexdigest()


def _rule_entry(row: CustomRuleVersion) -> dict:
    entry = {f: getattr(row, f) for f in RULE_FIELDS}
    entry["effective_from"] = row.effective_from.isoformat()
    entry["points"] = [p for p in (row.points or "").split(",") if p]
    entry["grades"], entry["selection_types"] = list(row.grades or []), list(row.selection_types or [])
    return entry


def export_pack(codes=None, scope: Scope | None = None, source: str = "") -> dict:
    """The latest enabled version of each custom rule (of ``codes``, else all the scope sees), signed."""
    latest: dict[str, CustomRuleVersion] = {}
    for row in all_versions(scope):
        if row.status == CUSTOM_ENABLED and (not codes or row.code in codes):
            latest[row.code] = row
    missing = sorted(set(codes or ()) - set(latest))
    if missing:
        raise CustomRuleError([f"没有已启用的自定义规则：{'、'.join(missing)}"])
    body = {"format": FORMAT, "format_version": FORMAT_VERSION, "source": source,
            "exported_at": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
            "rules": [_rule_entry(r) for _c, r in sorted(latest.items())],
            "items": _items_read(latest, scope)}
    return {**body, "signature": sign(body)}


def _items_read(rules: dict[str, CustomRuleVersion], scope: Scope | None) -> list[dict]:
    """The custom items the conditions read, as a pack carries them. A definition outside the exporter's
    scope never leaves in its pack: a rule reading one (an admin of all units may have written it for the
    subtree) refuses the export, naming the rule and the key its condition already shows."""
    visible = None if scope is None or scope.kind == "all" else {d.key for d in custom_items.visible_definitions(scope)}
    defs = {d.key: d for d in custom_items.definitions()}
    out, problems = {}, []
    for code, row in sorted(rules.items()):
        for key in sorted(variables_of(row.expression)):
            if key not in defs:
                continue
            if visible is not None and key not in visible:
                problems.append(f"规则 {code} 读取的自定义数据项“{key}”不在您的权限范围内，不能由您导出")
                continue
            out[key] = {f: defs[key].as_dict()[f] for f in ITEM_FIELDS}
    if problems:
        raise CustomRuleError([*problems, "规则包未导出：请只导出不读取上述数据项的规则（网页 ?code=规则编号，命令行列出规则编号）"])
    return [out[k] for k in sorted(out)]


def verify(pack) -> dict:
    """The pack's body when its signature verifies; refused otherwise."""
    if not isinstance(pack, dict) or pack.get("format") != FORMAT:
        raise CustomRuleError(["不是规则包文件（format 应为 jishi-rule-pack）"])
    body = {k: v for k, v in pack.items() if k != "signature"}
    given = pack.get("signature")
    if not isinstance(given, str) or not hmac.compare_digest(given, sign(body)):
        raise CustomRuleError(["规则包签名无效：文件被修改过，或不是用本系统共享的规则包密钥签发的；未写入任何数据"])
    if body.get("format_version") != FORMAT_VERSION:
        raise CustomRuleError([f"不支持的规则包版本：{body.get('format_version')}"])
    if not isinstance(body.get("rules"), list):
        raise CustomRuleError(["规则包缺少 rules 列表"])
    if not isinstance(body.get("items", []), list):
        raise CustomRuleError(["规则包的 items 应为列表"])
    return body


def _item_plan(body: dict, user) -> tuple[list[dict], dict, list[str]]:
    """(a row per item: 新增 or 相同, key → (kind, label) of the new ones, problems)."""
    here = {d.key: d for d in custom_items.definitions()}
    rows, new, problems = [], {}, []
    for n, entry in enumerate(body.get("items", []), start=1):
        if not isinstance(entry, dict) or not isinstance(entry.get("key"), str):
            problems.append(f"第 {n} 个数据项不是带 key 的 JSON 对象")
            continue
        key, found = entry["key"], here.get(entry["key"])
        if found is not None:
            if (found.module, found.type) != (entry.get("module"), entry.get("type")):
                problems.append(f"数据项“{key}”：本系统已有同键的数据项，但模块或类型不同（本系统：{found.module}、{found.type}；"
                                f"规则包：{entry.get('module')}、{entry.get('type')}）")
            rows.append({"kind": "数据项", "code": key, "action": "相同", "changes": {}})
            continue
        data = {k: v for k, v in entry.items() if k in ITEM_FIELDS}
        if ADMIN_ROLE not in {r.name for r in getattr(user, "roles", None) or []}:
            problems.append(f"数据项“{key}”：规则包带有本系统没有的数据项，只有系统管理员可以导入")
            continue
        _values, found_problems = check_definition(data, user)
        problems += [f"数据项“{key}”：{p}" for p in found_problems]
        if not found_problems:
            new[key] = (parse_type(data["type"])[0], data["label"])
        rows.append({"kind": "数据项", "code": key, "action": "新增", "changes": {}})
    return rows, new, problems


def diff(pack, user) -> list[dict]:
    """What importing would do, per rule: 新增 (a new code), 修改 (the fields that differ from the newest
    version here), 相同 (nothing). Checks every rule as a draft would be checked; refuses on any problem."""
    body = verify(pack)
    scope = scope_for(user)
    out, new_items, problems = _item_plan(body, user)
    for n, entry in enumerate(body["rules"], start=1):
        if not isinstance(entry, dict):
            problems.append(f"第 {n} 条规则不是 JSON 对象")
            continue
        _clean, found = validate({k: v for k, v in entry.items() if k in RULE_FIELDS}, scope, new_items)
        problems += [f"{entry.get('code') or f'第 {n} 条'}：{p}" for p in found]
        rows = versions(str(entry.get("code") or ""))
        if not rows:
            out.append({"kind": "规则", "code": entry.get("code"), "action": "新增", "changes": {}})
            continue
        here = _rule_entry(rows[-1])
        changes = {f: {"现有": here.get(f), "规则包": entry.get(f)} for f in RULE_FIELDS
                   if _norm(here.get(f)) != _norm(entry.get(f))}
        out.append({"kind": "规则", "code": entry.get("code"), "action": "修改" if changes else "相同",
                    "changes": changes, "version_here": rows[-1].version_no})
    if problems:
        raise CustomRuleError(problems)
    return out


def _norm(value):
    return sorted(value) if isinstance(value, list) else (value or None)


def import_pack(pack, user) -> list[dict]:
    """Write each new or changed rule of a verified pack as a draft version, in one transaction; the
    drafts then need a second administrator's approval like any other."""
    changes = diff(pack, user)
    body = verify(pack)
    entries = {e["code"]: e for e in body["rules"]}
    items = {e["key"]: e for e in body.get("items", [])}
    written = []
    try:
        for change in changes:
            if change["action"] == "相同":
                continue
            if change["kind"] == "数据项":  # before the rules that read it
                item = insert_item({k: v for k, v in items[change["code"]].items() if k in ITEM_FIELDS}, user)
                written.append({**change, "id": item.id})
                continue
            entry = {k: v for k, v in entries[change["code"]].items() if k in RULE_FIELDS}
            entry["note"] = f"规则包导入：{body.get('source') or '未注明来源'}"[:200]
            row = save_draft_row(entry, user)
            written.append({**change, "version": row.version_no})
        db.session.commit()
    except CustomItemRefused as exc:
        db.session.rollback()
        raise CustomRuleError(exc.problems) from None
    except Exception:
        db.session.rollback()
        raise
    finally:
        custom_items.forget()
    return written
