"""Limits every entered value must keep before it reaches the database, whatever the path.

The forms, the REST API and the CLI all save through ``app.record.validation.validate_values`` (and
``cases.save_module``), which call these checks, so a value is refused once, in Chinese, per field —
instead of a database error (PostgreSQL refuses NUL bytes, over-long strings, integers above 32
bits) or, worse, a silently stored oddity (SQLite stores all of these).
"""
from __future__ import annotations

import datetime as dt
import re

# PostgreSQL ``integer`` (every int item's column).
INT_MIN, INT_MAX = -(2**31), 2**31 - 1
# Text items are TEXT columns: the limit is ours. The longest real one (a 简历) is a few thousand
# characters; this refuses pasted files and runaway input.
TEXT_MAX = 10_000
# Lengths of the String columns the other kinds are stored in (app/models/case.py).
KIND_MAX = {"enum": 100, "file-ref": 200, "unit": 40}
PERSON_MAX = {"name": 30, "post": 100, "id_card_no": 18}  # CasePerson's columns
RESPONSIBLE_MAX = 30  # 经办人 / 责任领导 (a module row's handler, leader)
# Dates: nothing in a case is older than its candidate, and ID numbers start at 1900 (X01). The
# latest legitimate date is a planned one (a probation end a year after the appointment, a
# correction deadline); five years leaves room for those and refuses 9999 and mistyped centuries.
DATE_MIN = dt.date(1900, 1, 1)
FUTURE_YEARS = 5

# C0 controls except tab, newline and carriage return (NUL included), and lone surrogates.
_BAD_CHARS = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\ud800-\udfff]")
ASCII_INT = re.compile(r"-?[0-9]+")


def shown(value, limit: int = 40) -> str:
    """A value as a message may quote it: short, and never the repr of a deep structure."""
    if isinstance(value, list):
        return "列表"
    if isinstance(value, dict):
        return "对象"
    text = _BAD_CHARS.sub("\ufffd", str(value))
    return text if len(text) <= limit else f"{text[:limit]}…（共{len(text)}个字符）"


def text_problem(label: str, value: str, max_len: int) -> str | None:
    """NUL and other control characters, lone surrogates, or too long."""
    bad = _BAD_CHARS.search(value)
    if bad:
        char = bad.group()
        what = "不成对的代理码元" if "\ud800" <= char <= "\udfff" else f"控制字符 U+{ord(char):04X}"
        return f"“{label}”含有无效字符（{what}），请删除后重试"
    if len(value) > max_len:
        return f"“{label}”过长：最多{max_len}个字符，实际为{len(value)}个"
    return None


def int_problem(label: str, value: int) -> str | None:
    if not INT_MIN <= value <= INT_MAX:
        return f"“{label}”的数值（{shown(value)}）超出允许范围（{INT_MIN}至{INT_MAX}）"
    return None


def date_bounds(today: dt.date) -> tuple[dt.date, dt.date]:
    return DATE_MIN, today.replace(year=today.year + FUTURE_YEARS, day=min(today.day, 28))


def date_problem(label: str, value: dt.date, today: dt.date) -> str | None:
    low, high = date_bounds(today)
    if not low <= value <= high:
        return f"“{label}”（{value.isoformat()}）不在合理范围内（{low.isoformat()}至{high.isoformat()}）"
    return None


def person_problems(label: str, person: dict) -> list[str]:
    out = []
    for field, max_len in PERSON_MAX.items():
        value = person.get(field)
        if value is None:
            continue
        what = {"name": "姓名", "post": "职务", "id_card_no": "身份证号"}[field]
        if not isinstance(value, str):
            out.append(f"“{label}”中人员的{what}应为文字")
            continue
        problem = text_problem(f"{label}·{what}", value, max_len)
        if problem:
            out.append(problem)
    return out


def item_problems(item, value, today: dt.date) -> list[str]:
    """Problems of one typed value (as ``app.record.validation`` coerced it) with the limits above."""
    kind, label = item.kind, item.label
    if kind == "int":
        return [p for p in [int_problem(label, value)] if p]
    if kind == "date":
        return [p for p in [date_problem(label, value, today)] if p]
    if kind == "text":
        return [p for p in [text_problem(label, value, TEXT_MAX)] if p]
    if kind in KIND_MAX:
        return [p for p in [text_problem(label, value, KIND_MAX[kind])] if p]
    if kind == "enum*":
        return [p for p in (text_problem(label, v, KIND_MAX["enum"]) for v in value) if p]
    if kind == "person":
        return person_problems(label, value)
    if kind == "person[]":
        return [p for person in value for p in person_problems(label, person)]
    return []


def responsible_problems(handler, leader) -> list[tuple[str, str]]:
    """(field, message) for a module's 经办人 and 责任领导 (None: not given)."""
    out = []
    for field, label, value in (("handler", "经办人", handler), ("leader", "责任领导", leader)):
        if value is None:
            continue
        if not isinstance(value, str):
            out.append((field, f"“{label}”应为文字"))
            continue
        problem = text_problem(label, value, RESPONSIBLE_MAX)
        if problem:
            out.append((field, problem))
    return out


def person_limits(name: str, post: str | None, what: str) -> list[str]:
    """A user's display name (and a signer's post) become a person of the case (签字人, 提交人):
    they must fit there, or the signature or submission is refused before anything is written."""
    out = []
    if len(name) > PERSON_MAX["name"] or _BAD_CHARS.search(name):
        out.append(f"您的账户姓名“{shown(name)}”超过{PERSON_MAX['name']}个字符或含无效字符，不能作为{what}记入案例；"
                   "请联系系统管理员修改账户姓名后重试")
    problem = text_problem(f"{what}职务", post, PERSON_MAX["post"]) if post else None
    return out + [problem] if problem else out
