"""Checks on a case's values: the values that are present and wrong.

Pure functions over the values dict of ``app.record.data`` (``{module_key: {item_key: value}}``);
no database and no Flask app. Item numbers (A.3 #2 …) and rule codes (X.., P..) refer to
shared/spec/regulations.md. Only the data checks named in the item tables (Part A) and the X
consistency rules are here; the hard-bar rules of Part B that judge compliance rather than data
(P03, P09, P25, P28, P31, P33, T07, …) belong to ``app.rules``. The ID-number arithmetic is
``app.idnumber``'s; missing items and a module's state are ``app.record.completeness``'s.

- ``validate_values`` reports values that are present and wrong. A check whose inputs are absent is
  skipped; a cross-field problem is reported on the dependent item (the one whose spec line states
  the rule, otherwise the later one in the procedure).
- ``CaseValues`` is the typed read access both modules share.
"""
from __future__ import annotations

import datetime as dt
import re
from typing import Callable, Iterator

from app.dates import add_months, months_between
from app.enums import grade_rank
from app.idnumber import id_birth_date, id_problems
from app.record.data import Problem
from app.record.input_checks import item_problems, shown
from app.spec import EDU, ItemSpec, items_by_key

PARTY_MEMBERS = ("中共党员", "中共预备党员")
# X03 compares at month granularity by default ("compare_granularity=month": 任免表 shows 年月).
BIRTH_COMPARE_GRANULARITY = "month"
# X15 tolerance ("tolerance_days=3").
PROBATION_TOLERANCE_DAYS = 3
KIND_NAMES = {"text": "文字", "int": "整数", "date": "日期", "bool": "是或否", "enum": "选项", "enum*": "选项列表",
              "person": "人员", "person[]": "人员列表", "file-ref": "文件名", "unit": "单位代码"}


# ---- reading values ------------------------------------------------------------------------------

def is_empty(value) -> bool:
    if value is None or value == [] or value == {}:
        return True
    return isinstance(value, str) and not value.strip()


def _person(value):
    if isinstance(value, str) and value.strip():
        return {"name": value.strip()}
    if isinstance(value, dict) and isinstance(value.get("name"), str) and value["name"].strip():
        return {**value, "name": value["name"].strip()}
    raise TypeError


def _coerce(item: ItemSpec, value):
    """The value as the item's kind expects it, or TypeError."""
    kind = item.kind
    if kind == "date":
        if isinstance(value, dt.datetime):
            return value.date()
        if isinstance(value, dt.date):
            return value
    elif kind == "int":
        if isinstance(value, int) and not isinstance(value, bool):
            return value
    elif kind == "bool":
        if isinstance(value, bool):
            return value
    elif kind in ("text", "enum", "file-ref", "unit"):
        if isinstance(value, str):
            return value.strip()
    elif kind == "enum*":
        value = [value] if isinstance(value, str) else value
        if isinstance(value, (list, tuple)) and all(isinstance(v, str) for v in value):
            return [v.strip() for v in value]
    elif kind == "person":
        return _person(value)
    elif kind == "person[]":
        if isinstance(value, (list, tuple)):
            return [_person(v) for v in value]
    raise TypeError


class CaseValues:
    """Typed read access: ``c[key]`` is the item's value, or None when it is absent or of the wrong type."""

    def __init__(self, values: dict, today: dt.date | None = None):
        self.today = today or dt.date.today()
        self.raw = values or {}
        self.values: dict = {}
        self.type_problems: list[Problem] = []
        for key, item in items_by_key().items():
            value = self.raw_value(key)
            if is_empty(value):
                continue
            try:
                typed = _coerce(item, value)
            except TypeError:
                self.type_problems.append(problem_at(key, f"“{item.label}”应为{KIND_NAMES[item.kind]}，实际为“{shown(value)}”"))
                continue
            # Out of the limits (app/record/input_checks.py): refused, and no other check sees it.
            limits = item_problems(item, typed, self.today)
            self.type_problems += [problem_at(key, m) for m in limits]
            if not limits:
                self.values[key] = typed

    def raw_value(self, key: str):
        mod = self.raw.get(items_by_key()[key].module) or {}
        return mod.get(key) if isinstance(mod, dict) else None

    def __getitem__(self, key: str):
        return self.values.get(key)


def _label(key: str) -> str:
    return items_by_key()[key].label


def problem_at(key: str, message: str) -> Problem:
    return Problem(items_by_key()[key].module, key, message)


def _fmt(value) -> str:
    if isinstance(value, bool):
        return "是" if value else "否"
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, dict):
        return value.get("name", "")
    if isinstance(value, list):
        return "、".join(_fmt(v) for v in value)
    return str(value)


def _names(people) -> list[str]:
    return [p["name"] for p in people or []]


# ---- checks ------------------------------------------------------------------------------------

CHECKS: list[Callable[[CaseValues], Iterator[Problem]]] = []


def check(fn):
    CHECKS.append(fn)
    return fn


@check
def full_name(c: CaseValues):
    """A.3 #1 full_name: 2–30 characters, no digits."""
    name = c["full_name"]
    if name is None:
        return
    if not 2 <= len(name) <= 30:
        yield problem_at("full_name", f"姓名“{name}”应为2–30个字符，实际为{len(name)}个")
    if re.search(r"\d", name):
        yield problem_at("full_name", f"姓名“{name}”不能含有数字")


@check
def id_card_no(c: CaseValues):
    """A.3 #2 id_card_no, X01 (format, region code, birth date) and X02 (check digit)."""
    if c["id_card_no"] is not None:
        for message in id_problems(c["id_card_no"], c.today):
            yield problem_at("id_card_no", message)


def _valid_id(c: CaseValues) -> str | None:
    id_no = c["id_card_no"]
    return id_no if id_no is not None and not id_problems(id_no, c.today) else None


@check
def sex_matches_id(c: CaseValues):
    """A.3 #3 sex, X04: digit 17 of the ID is odd for 男, even for 女."""
    id_no, sex = _valid_id(c), c["sex"]
    if id_no is None or sex not in ("男", "女"):
        return
    digit = int(id_no[16])
    expected = "男" if digit % 2 else "女"
    if sex != expected:
        yield problem_at("sex", f"性别（{sex}）与公民身份号码第17位（{digit}，{'奇数' if digit % 2 else '偶数'}为{expected}）不符")


@check
def birth_date_matches_id(c: CaseValues):
    """A.3 #4 birth_date, X03: must equal ID chars 7–14 (compared by month, X03's default), else a documented 认定."""
    id_no, born = _valid_id(c), c["birth_date"]
    if id_no is None or born is None:
        return
    on_id = id_birth_date(id_no)
    same = (born.year, born.month) == (on_id.year, on_id.month) if BIRTH_COMPARE_GRANULARITY == "month" else born == on_id
    if not same:
        yield problem_at("birth_date", f"出生年月（{born.isoformat()}）与公民身份号码中的出生日期（{on_id.isoformat()}）不一致，"
                                       "须有干部人事档案认定材料（三龄认定）并经审核认定")


HISTORY_DATES = ("birth_date", "work_start_date", "party_join_date", "party_full_member_date", "sanction_date",
                 "current_post_date", "current_grade_date")


@check
def history_not_in_future(c: CaseValues):
    """A.3 #9, #19, #29, X07: dates of the candidate's history are not after today."""
    for key in HISTORY_DATES:
        if c[key] is not None and c[key] > c.today:
            yield problem_at(key, f"{_label(key)}（{c[key].isoformat()}）不能晚于今天（{c.today.isoformat()}）")


# (item, minimum age at that date, source)
AGE_MINIMUMS = (
    ("party_join_date", 18, "A.3 #9, X06"),
    ("work_start_date", 16, "A.3 #11, X05"),
)


@check
def minimum_ages(c: CaseValues):
    """X05 work_start_date ≥ birth_date + 16 years; X06 party_join_date ≥ birth_date + 18 years."""
    born = c["birth_date"]
    for key, years, _source in AGE_MINIMUMS:
        if born is None or c[key] is None:
            continue
        limit = add_months(born, 12 * years)
        if c[key] < limit:
            yield problem_at(key, f"{_label(key)}（{c[key].isoformat()}）早于年满{years}周岁之日"
                                  f"（{limit.isoformat()}，出生年月{born.isoformat()}）")


# (dependent item, ">=" or "<=", other item, source): the dependent item carries the problem.
DATE_ORDER = (
    ("party_full_member_date", ">=", "party_join_date", "A.3 #10, X06"),
    ("current_post_date", ">=", "work_start_date", "A.3 #19, X07"),
    ("current_grade_date", ">=", "work_start_date", "A.3 #11, #20, X07"),
    ("current_grade_date", "<=", "current_post_date", "A.3 #20, X07"),
    ("nomination_date", ">=", "motion_meeting_date", "A.5 #9, X08"),
    ("talk_reco_date", ">=", "motion_meeting_date", "A.6 #2, X08"),
    ("meeting_reco_date", ">=", "motion_meeting_date", "X08"),
    ("inspection_object_date", ">=", "motion_meeting_date", "X08"),
    ("inspection_object_date", ">=", "talk_reco_date", "A.7 #2 (≥ the last recommendation date), X08"),
    ("inspection_object_date", ">=", "meeting_reco_date", "A.7 #2 (≥ the last recommendation date), X08"),
    ("inspection_notice_date", "<=", "inspection_start", "A.7 #6"),
    ("inspection_start", ">=", "motion_meeting_date", "X08"),
    ("inspection_start", ">=", "inspection_object_date", "A.7 #7, X08"),
    ("inspection_end", ">=", "inspection_start", "A.7 #8, X08"),
    ("inspection_end", "<=", "decision_date", "A.7 #8, X08"),
    ("archive_review_date", "<=", "decision_date", "A.7 #15, P13"),
    ("personal_matters_check_date", "<=", "decision_date", "A.7 #17, P14"),
    ("discipline_opinion_reply_date", ">=", "discipline_opinion_request_date", "A.7 #20"),
    ("discipline_opinion_reply_date", "<=", "decision_date", "A.7 #20, P15"),
    ("consult_date", "<=", "decision_date", "A.8 #2"),
    ("prior_report_date", "<=", "decision_date", "A.8 #9"),
    ("prior_report_reply_date", ">=", "prior_report_date", "A.8 #11"),
    ("prior_report_reply_date", "<=", "decision_date", "A.8 #11"),
    ("decision_date", ">=", "motion_meeting_date", "A.9 #2, X08"),
    ("publicity_start", ">=", "decision_date", "A.10 #3, P34, X08"),
    ("publicity_end", ">=", "publicity_start", "X08"),
    ("publicity_end", "<=", "appointment_doc_date", "A.10 #4, A.11 #6, X08"),
    ("approval_submit_date", ">=", "decision_date", "A.11 #3"),
    ("approval_reply_date", ">=", "approval_submit_date", "a reply follows its request"),
    ("appointment_doc_date", ">=", "decision_date", "X08"),
    ("formal_appointment_date", ">=", "probation_end", "A.11 #11"),
    ("appointment_talk_date", ">=", "decision_date", "A.11 #12"),
    ("sig1_signed_at", ">=", "decision_date", "A.12 #4"),
    ("sig2_signed_at", ">=", "sig1_signed_at", "A.12 #8"),
    ("sig3_signed_at", ">=", "sig2_signed_at", "A.12 #12"),
    ("sig3_signed_at", "<=", "first_submitted_at", "A.12 #12"),
    ("first_submitted_at", ">=", "decision_date", "A.13 #1, X08"),
    ("second_submitted_at", ">=", "appointment_doc_date", "A.13 #4, X08"),
)


def _date_problem(key: str, op: str, other: str, c: CaseValues) -> Problem | None:
    a, b = c[key], c[other]
    if a is None or b is None or (a >= b if op == ">=" else a <= b):
        return None
    word = "早于" if op == ">=" else "晚于"
    return problem_at(key, f"{_label(key)}（{a.isoformat()}）不能{word}{_label(other)}（{b.isoformat()}）")


@check
def date_order(c: CaseValues):
    """X08 and the per-item date validations listed in DATE_ORDER (each row names its source)."""
    for key, op, other, _source in DATE_ORDER:
        problem = _date_problem(key, op, other, c)
        if problem:
            yield problem


@check
def skip_level_report_before_inspection(c: CaseValues):
    """A.8 #9: for 越级 items the 事前报告 is made no later than inspection_start."""
    if "越级提拔或未经民主推荐列为破格人选" in (c["prior_report_items"] or []):
        problem = _date_problem("prior_report_date", "<=", "inspection_start", c)
        if problem:
            yield Problem(problem.module, problem.key, problem.message + "（越级提拔事项须在考察前报告）")


@check
def approval_before_appointment(c: CaseValues):
    """A.11 #4, P37: with 报上级审批 the reply comes no later than appointment_doc_date."""
    if c["approval_route"] == "报上级审批":
        problem = _date_problem("approval_reply_date", "<=", "appointment_doc_date", c)
        if problem:
            yield problem


@check
def non_negative_ints(c: CaseValues):
    """Every int item ≥ 0 (A.4 #9–10, A.7 #10–13, A.9 #10–11, A.10 #7 …); MINIMUMS raise some limits."""
    for key, item in items_by_key().items():
        value = c[key]
        if item.kind == "int" and value is not None and value < 0 and key not in MINIMUMS:
            yield problem_at(key, f"{_label(key)}（{value}）不能为负数")


MINIMUMS = {
    "nominee_count": 1,  # A.5 #3 (≥ 1 nominee)
    "posts_count": 1,  # A.5 #5
    "talk_reco_expected": 1,  # A.6 #3
    "talk_reco_rank": 1,  # A.6 #6, X09
    "meeting_reco_expected": 1,  # A.6 #10, X10
    "meeting_reco_rank": 1,  # A.6 #16
    "inspection_object_count": 1,  # A.7 #1
    "interview_count": 1,  # A.7 #9
    "members_total": 3,  # A.9 #3
}
MAXIMUMS = {"lower_level_posts_count": 20}  # A.3 #21


@check
def int_limits(c: CaseValues):
    """The minimums and maximums the item table gives (MINIMUMS, MAXIMUMS)."""
    for key, low in MINIMUMS.items():
        if c[key] is not None and c[key] < low:
            yield problem_at(key, f"{_label(key)}（{c[key]}）不能小于{low}")
    for key, high in MAXIMUMS.items():
        if c[key] is not None and c[key] > high:
            yield problem_at(key, f"{_label(key)}（{c[key]}）不能大于{high}")


# (smaller item, larger item, source): the smaller one carries the problem.
COUNT_ORDER = (
    ("talk_reco_actual", "talk_reco_expected", "A.6 #4, X09"),
    ("talk_reco_votes", "talk_reco_actual", "A.6 #5, X09"),
    ("meeting_reco_actual", "meeting_reco_expected", "A.6 #11, X10"),
    ("ballots_issued", "meeting_reco_actual", "A.6 #12, X10"),
    ("ballots_returned", "ballots_issued", "A.6 #13, X10"),
    ("ballots_valid", "ballots_returned", "A.6 #14, X10"),
    ("meeting_reco_votes", "ballots_valid", "A.6 #15, X10"),
    ("members_present", "members_total", "A.9 #4, X12"),
)


@check
def count_order(c: CaseValues):
    """X09, X10, X12: the counts of COUNT_ORDER never exceed the count they are part of."""
    for small, large, _source in COUNT_ORDER:
        if c[small] is not None and c[large] is not None and c[small] > c[large]:
            yield problem_at(small, f"{_label(small)}（{c[small]}）不能多于{_label(large)}（{c[large]}）")


@check
def talk_rank_within_nominees(c: CaseValues):
    """A.6 #6: talk_reco_rank ≤ nominee_count (or the number of people named)."""
    rank = c["talk_reco_rank"]
    if c["nominee_count"] is not None:
        known, what = c["nominee_count"], _label("nominee_count")
    elif c["nominee_list"] is not None:
        known, what = len(c["nominee_list"]), "初始提名人选名单人数"
    else:
        return
    if rank is not None and rank > known:
        yield problem_at("talk_reco_rank", f"{_label('talk_reco_rank')}（{rank}）不能大于{what}（{known}）")


def _sum_problem(parts: tuple, total_key: str, at: str, c: CaseValues, what: str) -> Problem | None:
    present = [k for k in parts if c[k] is not None]
    total = c[total_key]
    if not present or total is None or sum(c[k] for k in present) <= total:
        return None
    terms = "+".join(str(c[k]) for k in present)
    return problem_at(at, f"{what}（{terms}={sum(c[k] for k in present)}）不能多于{_label(total_key)}（{total}）")


@check
def eval_votes_sum(c: CaseValues):
    """A.7 #14, X11: the four 测评 grades add up to no more than eval_participants."""
    parts = ("eval_excellent", "eval_competent", "eval_basic", "eval_incompetent")
    problem = _sum_problem(parts, "eval_participants", "eval_incompetent", c, "民主测评各等次票数之和")
    if problem:
        yield problem


@check
def decision_votes_sum(c: CaseValues):
    """A.9 #12, X12: votes_for + votes_against + votes_defer ≤ members_present."""
    parts = ("votes_for", "votes_against", "votes_defer")
    problem = _sum_problem(parts, "members_present", "votes_defer", c, "同意、不同意、缓议/弃权票数之和")
    if problem:
        yield problem


@check
def nominee_count_matches_list(c: CaseValues):
    """A.5 #4: nominee_count = len(nominee_list)."""
    count, people = c["nominee_count"], c["nominee_list"]
    if count is not None and people is not None and count != len(people):
        yield problem_at("nominee_count", f"提名人数（{count}）与初始提名人选名单人数（{len(people)}）不一致")


@check
def differential_flag(c: CaseValues):
    """A.5 #6: is_differential = (nominee_count > posts_count)."""
    flag, nominees, posts = c["is_differential"], c["nominee_count"], c["posts_count"]
    if flag is None or nominees is None or posts is None or flag == (nominees > posts):
        return
    yield problem_at("is_differential", f"是否差额（{_fmt(flag)}）与提名人数（{nominees}）、拟任职位数（{posts}）不符："
                                        f"应为“{_fmt(nominees > posts)}”（提名人数多于职位数即为差额）")


@check
def grassroots_within_work_months(c: CaseValues):
    """A.3 #22, X14: 0 ≤ grassroots_months ≤ months worked (to decision_date, or today before a decision)."""
    months, start = c["grassroots_months"], c["work_start_date"]
    if months is None or start is None:
        return
    end = c["decision_date"] or c.today
    worked = max(months_between(start, end), 0)
    if months > worked:
        yield problem_at("grassroots_months", f"基层工作经历（{months}个月）不能多于参加工作以来的月数"
                                              f"（{worked}个月，{start.isoformat()}至{end.isoformat()}）")


@check
def inspection_team(c: CaseValues):
    """A.7 #4, P10: inspection_team has ≥ 2 members; A.7 #5: the leader is one of them."""
    team, leader = c["inspection_team"], c["inspection_team_leader"]
    if team is not None and len(team) < 2:
        yield problem_at("inspection_team", f"考察组成员只有{len(team)}人（{_fmt(team)}），至少应为2人")
    if team is not None and leader is not None and leader["name"] not in _names(team):
        yield problem_at("inspection_team_leader", f"考察组负责人（{leader['name']}）不在考察组成员（{_fmt(team)}）中")


@check
def distinct_signers(c: CaseValues):
    """A.12 #5, #9: sig2_signer ≠ sig1_signer; sig3_signer ≠ sig1_signer and sig2_signer (by name)."""
    for key, others in (("sig2_signer", ("sig1_signer",)), ("sig3_signer", ("sig1_signer", "sig2_signer"))):
        for other in others:
            if c[key] is not None and c[other] is not None and c[key]["name"] == c[other]["name"]:
                yield problem_at(key, f"{_label(key)}（{c[key]['name']}）不能与{_label(other)}为同一人")


@check
def complaints_verified(c: CaseValues):
    """A.10 #8: with complaints_count > 0, complaints_verified may not be 无反映."""
    count, verified = c["complaints_count"], c["complaints_verified"]
    if count is not None and count > 0 and verified == "无反映":
        yield problem_at("complaints_verified", f"公示期间反映问题{count}件，{_label('complaints_verified')}不能为“无反映”")


@check
def degree_needs_bachelor(c: CaseValues):
    """A.3 #14: a 全日制学位 needs full_time_education ≥ 大学本科."""
    degree, edu = c["full_time_degree"], c["full_time_education"]
    if degree in (None, "无") or edu not in EDU:
        return
    if EDU.index(edu) < EDU.index("大学本科"):
        yield problem_at("full_time_degree", f"全日制学位为“{degree}”，但全日制教育学历为“{edu}”：有学位须为大学本科及以上")


@check
def united_front_for_non_members(c: CaseValues):
    """A.8 #4: united_front_opinion is not 不适用 when political_status is not 中共党员/预备党员."""
    status = c["political_status"]
    if status is not None and status not in PARTY_MEMBERS and c["united_front_opinion"] == "不适用":
        yield problem_at("united_front_opinion", f"政治面貌为“{status}”（非中共党员），{_label('united_front_opinion')}不能为“不适用”")


@check
def probation_end_date(c: CaseValues):
    """A.11 #9, X15: probation_end = appointment_doc_date + 12 months (± 3 days)."""
    end, doc = c["probation_end"], c["appointment_doc_date"]
    if end is None or doc is None:
        return
    expected = add_months(doc, 12)
    if abs((end - expected).days) > PROBATION_TOLERANCE_DAYS:
        yield problem_at("probation_end", f"试用期满日期（{end.isoformat()}）应为任职通知/发文日期（{doc.isoformat()}）"
                                          f"后12个月，即{expected.isoformat()}（允许相差{PROBATION_TOLERANCE_DAYS}天）")


def grade_step(c: CaseValues) -> int | None:
    """rank(target_grade) − rank(current_grade) in levels (§0.3; 职级 at their 领导职务 level), or None."""
    current, target = grade_rank(c["current_grade"]), grade_rank(c["target_grade"])
    if current is None or target is None:
        return None
    return target - current


@check
def skip_level_flag(c: CaseValues):
    """A.4 #18: is_skip_level = (grade_step ≥ 2)."""
    step, flag = grade_step(c), c["is_skip_level"]
    if step is None or flag is None or flag == (step >= 2):
        return
    yield problem_at("is_skip_level", f"是否越级提拔（{_fmt(flag)}）与职务层次跨度不符：现职务层次“{c['current_grade']}”→"
                                      f"拟任职务层次“{c['target_grade']}”跨{step}级，应为“{_fmt(step >= 2)}”")


@check
def promotion_goes_up(c: CaseValues):
    """A.4 #6: for 提拔, grade_step ≥ 1."""
    step = grade_step(c)
    if c["selection_type"] == "提拔" and step is not None and step < 1:
        yield problem_at("target_grade", f"任用类型为提拔，拟任职务层次（{c['target_grade']}）应高于现职务层次（{c['current_grade']}）")


@check
def enum_choices(c: CaseValues):
    """Every enum / enum* value is one of the item's choices (§0.3 types)."""
    for key, item in items_by_key().items():
        value = c[key]
        if value is None or item.kind not in ("enum", "enum*"):
            continue
        bad = [v for v in (value if item.kind == "enum*" else [value]) if v not in item.choices]
        if bad:
            yield problem_at(key, f"“{item.label}”的值“{'、'.join(bad)}”不在可选范围内")


@check
def none_is_exclusive(c: CaseValues):
    """A.7 #3 (and any enum* offering 无): 无 is exclusive."""
    for key, item in items_by_key().items():
        value = c[key]
        if item.kind == "enum*" and value is not None and "无" in value and len(set(value)) > 1:
            yield problem_at(key, f"“{item.label}”选择了“无”，不能再选其他情形（{'、'.join(value)}）")


@check
def motion_reason_length(c: CaseValues):
    """A.4 #11: motion_reason ≥ 20 characters."""
    reason = c["motion_reason"]
    if reason is not None and len(reason) < 20:
        yield problem_at("motion_reason", f"{_label('motion_reason')}只有{len(reason)}个字，至少应为20个字")


DOC_NO = re.compile(r".*〔\d{4}〕.*号")


@check
def appointment_doc_no(c: CaseValues):
    """A.11 #5: appointment_doc_no like “X组任〔2025〕12号” (contains 〔YYYY〕, ends with 号)."""
    doc_no = c["appointment_doc_no"]
    if doc_no is not None and not DOC_NO.fullmatch(doc_no):
        yield problem_at("appointment_doc_no", f"任职文号“{doc_no}”格式不符，应形如“X组任〔2025〕12号”")


def validate_values(values: dict, today: dt.date | None = None) -> list[Problem]:
    """Every problem with the values that are present, across all modules (missing ones excepted)."""
    c = CaseValues(values, today)
    problems = list(c.type_problems)
    for fn in CHECKS:
        problems.extend(fn(c))
    return problems
