"""Shared enumerations (values are stored and shown in Chinese, as the regulations name them)."""

# GRADE, ordered low to high (spec/regulations.md §0.3).
GRADES = ["乡科级副职", "乡科级正职", "县处级副职", "县处级正职", "厅局级副职", "厅局级正职"]

UNIT_LEVELS = ["省", "市", "区县", "委办局", "乡镇街道", "事业单位", "国有企业", "其他"]

# The 回避 rules (C-category) need to know which units are organs of these kinds.
UNIT_TYPES = ["党委", "政府", "纪委监委", "组织部", "法院", "检察院", "公安", "其他"]

AUTHORITIES = ["处级任免权", "科级任免权", "无"]


def grade_index(grade: str) -> int:
    return GRADES.index(grade)
