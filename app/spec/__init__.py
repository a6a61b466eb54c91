"""The 11 modules and 181 data items, read from ``modules.json`` (a copy of shared/spec, kept
identical by tests/test_case_spec.py).

Everything about a case — columns, forms, validation, the JSON exchange, snapshots — is driven by
these ``ItemSpec`` objects, so a key is spelled once.
"""
from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

from app.enums import ALL_GRADES

SPEC_FILE = Path(__file__).with_name("modules.json")

EDU = ["初中及以下", "高中/中专", "大学专科", "大学本科", "研究生"]
APPRAISAL = ["优秀", "称职", "基本称职", "不称职", "不定等次", "未参加"]
# GB 3304 — the 56 ethnic groups (and the two catch-all codes it also lists).
ETHNICITIES = [
    "汉族", "蒙古族", "回族", "藏族", "维吾尔族", "苗族", "彝族", "壮族", "布依族", "朝鲜族", "满族", "侗族", "瑶族",
    "白族", "土家族", "哈尼族", "哈萨克族", "傣族", "黎族", "傈僳族", "佤族", "畲族", "高山族", "拉祜族", "水族",
    "东乡族", "纳西族", "景颇族", "柯尔克孜族", "土族", "达斡尔族", "仫佬族", "羌族", "布朗族", "撒拉族", "毛南族",
    "仡佬族", "锡伯族", "阿昌族", "普米族", "塔吉克族", "怒族", "乌孜别克族", "俄罗斯族", "鄂温克族", "德昂族",
    "保安族", "裕固族", "京族", "塔塔尔族", "独龙族", "鄂伦春族", "赫哲族", "门巴族", "珞巴族", "基诺族",
    "其他", "外国血统中国籍人士",
]
DEMOCRATIC_PARTIES = [
    "中国国民党革命委员会会员", "中国民主同盟盟员", "中国民主建国会会员", "中国民主促进会会员",
    "中国农工民主党党员", "中国致公党党员", "九三学社社员", "台湾民主自治同盟盟员",
]
NAMED = {"GRADE": ALL_GRADES, "EDU": EDU, "APPRAISAL": APPRAISAL, "56 民族": ETHNICITIES}

# Items entered once per batch (一批一档): the meeting, not the person.
BATCH_ITEMS = (
    "decision_meeting_type", "decision_date", "members_total", "members_present",
    "absent_opinion_collected", "presenter", "vote_method", "main_leader_last", "decision_minutes_file",
)
# Items the system sets; users never type them.
SYSTEM_ITEMS = ("case_no", "reporting_unit", "first_submit_status", "second_submit_status", "alarm_codes")

KINDS = ("text", "int", "date", "bool", "enum", "enum*", "person", "person[]", "file-ref", "unit")


@dataclass(frozen=True)
class ItemSpec:
    module: str
    order: int
    key: str
    label: str
    type: str  # as written in the spec
    kind: str  # one of KINDS
    choices: tuple = ()
    required: str = "N"  # "Y", "N" or "cond"
    condition: str = ""
    validation: str = ""
    help: str = ""  # a custom item's help text (app/record/custom_items.py)
    custom_id: int | None = None  # the CustomItem row of a custom item; None for a catalogued one

    @property
    def batch_level(self) -> bool:
        return self.key in BATCH_ITEMS

    @property
    def system(self) -> bool:
        return self.key in SYSTEM_ITEMS


@dataclass(frozen=True)
class ModuleSpec:
    order: int
    key: str
    name: str
    items: tuple = field(default_factory=tuple)

    def item(self, key: str) -> ItemSpec:
        return next(i for i in self.items if i.key == key)


def _choices(inner: str) -> tuple:
    out = []
    for part in re.split(r",\s*", inner):
        part = part.strip()
        if part in NAMED:
            out += NAMED[part]
        elif part.startswith("民主党派"):
            out += DEMOCRATIC_PARTIES
        elif part == "GB 3304":
            continue
        elif part:
            out.append(part)
    return tuple(dict.fromkeys(out))


def parse_type(type_text: str) -> tuple[str, tuple]:
    t = type_text.strip()
    if t.startswith("enum*["):
        return "enum*", _choices(t[6:-1])
    if t.startswith("enum["):
        return "enum", _choices(t[5:-1])
    if t == "person[]":
        return "person[]", ()
    if t == "person":
        return "person", ()
    if t == "file-ref":
        return "file-ref", ()
    if t == "text (org_unit)":
        return "unit", ()
    base = t.split(" ")[0]
    if base in ("text", "int", "date", "bool"):
        return base, ()
    raise ValueError(f"unknown item type {type_text!r}")


def _required(text: str) -> tuple[str, str]:
    text = (text or "N").strip()
    if text.startswith("cond"):
        inner = text[5:].strip().strip("()").strip() if len(text) > 5 else ""
        return "cond", inner
    return ("Y" if text == "Y" else "N"), ""


@lru_cache(maxsize=1)
def modules() -> tuple[ModuleSpec, ...]:
    data = json.loads(SPEC_FILE.read_text(encoding="utf-8"))
    out = []
    for mod in sorted(data["modules"], key=lambda m: m["order"]):
        items = []
        for n, it in enumerate(mod["items"], start=1):
            kind, choices = parse_type(it["type"])
            required, condition = _required(it.get("required", "N"))
            items.append(ItemSpec(mod["key"], n, it["key"], it["label"], it["type"], kind, choices, required,
                                  condition, it.get("validation", "")))
        out.append(ModuleSpec(mod["order"], mod["key"], mod["name"], tuple(items)))
    return tuple(out)


def module(key: str) -> ModuleSpec:
    return next(m for m in modules() if m.key == key)


@lru_cache(maxsize=1)
def items_by_key() -> dict[str, ItemSpec]:
    return {i.key: i for m in modules() for i in m.items}


MODULE_KEYS = tuple(m.key for m in modules())
