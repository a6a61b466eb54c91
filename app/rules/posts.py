"""Which posts a rule's text concerns, read from the post text (现任职务（含单位）) and the grade.

《党政领导干部职务任期暂行规定》(2006) 第二条 and 四川办法2009 speak of 县（市、区、旗）、乡（镇）党委、政府领导班子
正职 only: a 正科 科长 or a 局长 is a principal but no 县乡党政正职. The post text is matched because no item records
the current unit's kind; the patterns are a parameter of D08 so a region may widen them (e.g. to 街道).
"""
from __future__ import annotations

import re
from functools import lru_cache

# grade → patterns of the 党委/政府 principal posts of that level (副书记, 副县长 … are excluded).
COUNTY_TOWNSHIP_PRINCIPAL = {
    "县处级正职": [r"(?<!副)(?:县|区|旗|市)委书记", r"(?<!副)(?:县|区|旗)长", r"(?<!副)(?<!区)市长"],
    "乡科级正职": [r"(?<!副)(?:乡|镇)(?:党委)?书记", r"(?<!副)(?:乡|镇)长"],
}


@lru_cache(maxsize=64)
def _compiled(patterns: tuple) -> re.Pattern:
    return re.compile("|".join(f"(?:{p})" for p in patterns))


def county_township_principal(post: str | None, grade: str | None, patterns: dict | None = None) -> bool:
    """True when the post is a 县乡党委或政府正职 at its grade (县委书记, 县长, 乡镇党委书记, 乡镇长 …)."""
    table = patterns or COUNTY_TOWNSHIP_PRINCIPAL
    if not post or grade not in table:
        return False
    return _compiled(tuple(table[grade])).search(post) is not None


_NOISE = re.compile(r"[\s　、，,。.·・（）()【】\[\]“”\"']")


@lru_cache(maxsize=4096)
def _bare(text: str) -> str:
    return _NOISE.sub("", text)


def same_post(a: str | None, b: str | None) -> bool:
    """Two post texts name the same post once spacing and punctuation are ignored."""
    return bool(a) and bool(b) and (a == b or _bare(a) == _bare(b))


# The titles of a unit's 主要领导 (党组织书记 or 行政正职) as the post text names them after the unit's name.
MAIN_LEADER_TITLES = (
    "书记", "党组书记", "党委书记", "党工委书记", "党总支书记", "局长", "主任", "县长", "区长", "市长", "乡长", "镇长", "院长",
    "校长", "部长", "主席", "总经理", "董事长", "行长", "检察长", "所长", "站长", "队长", "处长", "科长", "厂长", "馆长",
    "社长", "会长", "台长", "秘书长", "理事长",
)
_PARTS = re.compile(r"[、，,；;/\s]+")


def main_leader_of(post: str | None, unit_name: str | None, titles=MAIN_LEADER_TITLES) -> bool:
    """True when the post text is the unit's 主要领导: the unit's name, then only principal titles
    ("某局党组书记、局长"); "某局副局长" or "某局办公室主任" are not."""
    if not post or not unit_name or not post.startswith(unit_name):
        return False
    return _leader_titles(post[len(unit_name):], tuple(titles))


@lru_cache(maxsize=4096)
def _leader_titles(rest: str, titles: tuple) -> bool:
    parts = [p for p in _PARTS.split(rest) if p]
    return bool(parts) and any(p in titles for p in parts) and not any(p.startswith("副") for p in parts)
