"""Shared enumerations (values are stored and shown in Chinese, as the regulations name them)."""

# GRADE, ordered low to high (spec/regulations.md §0.3).
GRADES = ["乡科级副职", "乡科级正职", "县处级副职", "县处级正职", "厅局级副职", "厅局级正职"]

# 职务与职级并行 (公务员法2018 第十八、十九条; 《公务员职务与职级并行规定》2019 第八条): the 职级 and the two
# levels below 乡科级副职 (科员 = 一级科员, 办事员 = 二级科员), each ranked as the 领导职务 level it
# corresponds to, so a grade step is counted in levels. GRADES (the 领导职务 levels) keep their ranks 0–5.
GRADE_RANKS = {
    "办事员": -2, "二级科员": -2, "科员": -1, "一级科员": -1,
    "四级主任科员": 0, "三级主任科员": 0, "乡科级副职": 0, "二级主任科员": 1, "一级主任科员": 1, "乡科级正职": 1,
    "四级调研员": 2, "三级调研员": 2, "县处级副职": 2, "二级调研员": 3, "一级调研员": 3, "县处级正职": 3,
    "二级巡视员": 4, "厅局级副职": 4, "一级巡视员": 5, "厅局级正职": 5,
}
# Every value a current or target grade may take, low to high (the GRADE enum of the case items).
ALL_GRADES = list(GRADE_RANKS)

UNIT_LEVELS = ["省", "市", "区县", "委办局", "乡镇街道", "事业单位", "国有企业", "其他"]

# The 回避 rules (C-category) need to know which units are organs of these kinds.
UNIT_TYPES = ["党委", "政府", "纪委监委", "组织部", "法院", "检察院", "公安", "其他"]

AUTHORITIES = ["处级任免权", "科级任免权", "无"]


def grade_index(grade: str) -> int:
    return GRADES.index(grade)


def grade_rank(grade: str | None) -> int | None:
    """The 领导职务 level a grade or 职级 corresponds to (0 = 乡科级副职 … 5 = 厅局级正职; 科员 −1, 办事员 −2)."""
    return GRADE_RANKS.get(grade) if grade else None
