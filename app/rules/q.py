"""Q: 资格 (qualification) — Q01–Q20, spec/regulations.md Part B.1.

The basic qualifications of 条例2019 第八条 apply to a 提拔 ("提拔担任党政领导职务的，应当具备下列基本资格"), so
those rules are not applicable to other selection types. Year thresholds are compared on the calendar
(a start date plus N×12 months), so exactly the minimum passes and one day short fails.
"""
from __future__ import annotations

import datetime as dt
import math

from app.enums import GRADES
from app.rules.registry import RULES, fail, na, ok, rule

PROMOTION = "提拔"
PARTY_MEMBER = "中共党员"
# 条例2019 第九条 [M]: the six statutory 破格 situations (motion item 17's choices).
STATUTORY_BREAKING_REASONS = (
    "特别优秀-关键时刻或急难险重任务中表现突出",
    "特别优秀-艰苦复杂地区实绩突出",
    "特别优秀-其他岗位实绩特别显著",
    "工作需要-班子结构或职位特殊要求",
    "工作需要-专业性强或专项工作急需",
    "工作需要-艰苦边远贫困地区急需引进",
)
PARTY_POST_KINDS = ["党内职务(党委/党组织书记、委员)"]
ORGAN_POST_KINDS = [
    "党委工作部门领导成员", "政府工作部门领导成员", "人大/政协工作机构领导成员", "机关内设机构领导职务",
    "纪委监委机关内设机构", "法院/检察院内设机构", "县(市、区)党政领导班子成员", "乡镇(街道)党政领导班子成员",
]


# ---- helpers ------------------------------------------------------------------------------------

def _gi(grade):
    return GRADES.index(grade) if grade in GRADES else None


def _short_of(ctx, start: dt.date, end: dt.date, years) -> bool:
    """True when less than ``years`` (calendar years, fractions in months) lie between start and end."""
    return end < _due(ctx, start, years)


def _yrs(ctx, start: dt.date, end: dt.date) -> str:
    """Years between two dates for a message, rounded down to 0.01 (so a day short never reads as the minimum)."""
    return f"{math.floor(max(ctx.years(start, end), 0) * 100) / 100:.2f}"


def _due(ctx, start: dt.date, years) -> dt.date:
    return ctx.add_months(start, round(float(years) * 12))


def _not_promotion(ctx):
    """na when the case is not a 提拔 (or its type is unknown); None when it is."""
    if ctx["selection_type"] is None:
        return na("缺少任用类型")
    if ctx["selection_type"] != PROMOTION:
        return na(f"任用类型为{ctx['selection_type']}，不是提拔")
    return None


def _tenure_requirement(from_grade, to_grade, params):
    """(required years, description) for a one-step move that 第八条(三) governs, else None."""
    a, b = _gi(from_grade), _gi(to_grade)
    if a is None or b is None or b != a + 1:
        return None
    if a % 2 == 0:  # deputy → principal at the same level
        if b < _gi(params.get("applies_from_grade", "县处级正职")):
            return None
        return params.get("min_years_deputy_to_principal"), "副职提任正职"
    return params.get("min_years_principal_to_upper_deputy"), "下级正职提任上级副职"  # principal → upper deputy


def _previous_promotions(ctx):
    """The person's earlier 提拔 cases decided before this one, newest first."""
    before = ctx["decision_date"] or ctx.judge_date
    rows = [r for r in ctx.related.same_person
            if r.get("selection_type") in (PROMOTION, None) and r.get("decision_date") is not None
            and r["decision_date"] < before]
    return sorted(rows, key=lambda r: r["decision_date"], reverse=True)


def _education_rule(ctx, lo: str, hi: str, param: str, band: str):
    if not ctx.has("target_grade"):
        return na("缺少拟任职务层次")
    if (skip := _not_promotion(ctx)) is not None:
        return skip
    gi = _gi(ctx["target_grade"])
    if gi is None or not _gi(lo) <= gi <= _gi(hi):
        return na(f"拟任职务层次不是{band}")
    edu = ctx.highest_education
    if edu is None:
        return na("缺少学历")
    minimum = ctx.params[param]
    if ctx.edu_index(edu) < ctx.edu_index(minimum):
        return fail(f"最高学历{edu}，提任{ctx['target_grade']}一般应具有{minimum}以上学历")
    return ok()


# ---- Q01–Q05: 工龄、基层经历、任职经历与年限 ----------------------------------------------------------

@rule("Q01", min_work_years=5, applies_from_grade="县处级副职", township_min_work_years=3)
def q01_work_years(ctx):
    """工龄不足 — 条例2019 第八条(一) [S]: a 提拔 to 县处级副职 or above needs ≥ 5 years of work by the decision.
    乡科级 targets (the 条例 applies to them by reference, 附则) need ``township_min_work_years`` — a local default
    [L], set per region; None turns it off."""
    if not ctx.has("work_start_date", "target_grade", "selection_type", "decision_date"):
        return na("缺少参加工作时间、拟任职务层次、任用类型或讨论决定日期")
    if (skip := _not_promotion(ctx)) is not None:
        return skip
    need = ctx.params["min_work_years"]
    if _gi(ctx["target_grade"]) is None or _gi(ctx["target_grade"]) < _gi(ctx.params["applies_from_grade"]):
        need = ctx.params.get("township_min_work_years")
        if _gi(ctx["target_grade"]) is None or need is None:
            return na(f"不是提拔到{ctx.params['applies_from_grade']}以上")
    start, decided = ctx["work_start_date"], ctx["decision_date"]
    if _short_of(ctx, start, decided, need):
        return fail(f"工龄 {_yrs(ctx, start, decided)} 年，不足 {need} 年（参加工作 {start}，讨论决定 {decided}，"
                    f"满 {need} 年之日为 {_due(ctx, start, need)}）")
    return ok()


@rule("Q02", min_grassroots_years=2, applies_from_grade="县处级副职")
def q02_grassroots(ctx):
    """基层工作经历不足 — 条例2019 第八条(一) [S]: a 提拔 to 县处级 or above needs ≥ 2 years of grassroots work."""
    if not ctx.has("grassroots_months", "target_grade"):
        return na("缺少基层工作经历或拟任职务层次")
    if (skip := _not_promotion(ctx)) is not None:
        return skip
    if _gi(ctx["target_grade"]) is None or _gi(ctx["target_grade"]) < _gi(ctx.params["applies_from_grade"]):
        return na(f"不是提拔到{ctx.params['applies_from_grade']}以上")
    months, need = ctx["grassroots_months"], ctx.params["min_grassroots_years"]
    if months < round(float(need) * 12):
        return fail(f"基层工作经历 {months} 个月，不足 {need} 年（{round(float(need) * 12)} 个月）")
    return ok()


@rule("Q03", min_lower_posts=2, applies_from_grade="县处级副职")
def q03_lower_posts(ctx):
    """下一级两个以上职位经历不足 — 条例2019 第八条(二) [S]: a 提拔 to 县处级 or above should normally follow
    ≥ 2 posts at the level below ("一般应当")."""
    if not ctx.has("lower_level_posts_count", "target_grade", "selection_type"):
        return na("缺少下一级岗位任职经历个数、拟任职务层次或任用类型")
    if (skip := _not_promotion(ctx)) is not None:
        return skip
    if _gi(ctx["target_grade"]) is None or _gi(ctx["target_grade"]) < _gi(ctx.params["applies_from_grade"]):
        return na(f"不是提拔到{ctx.params['applies_from_grade']}以上")
    count, need = ctx["lower_level_posts_count"], ctx.params["min_lower_posts"]
    if count < need:
        return fail(f"在下一级岗位任职经历 {count} 个，一般应有 {need} 个以上")
    return ok()


def _tenure_rule(ctx, kind_wanted: str):
    if not ctx.has("current_grade", "target_grade", "current_grade_date", "decision_date"):
        return na("缺少现职务层次、拟任职务层次、任现职级时间或讨论决定日期")
    req = _tenure_requirement(ctx["current_grade"], ctx["target_grade"], ctx.params)
    if req is None or req[1] != kind_wanted:
        return na(f"不是{kind_wanted}")
    need, kind = req
    since, decided = ctx["current_grade_date"], ctx["decision_date"]
    if _short_of(ctx, since, decided, need):
        return fail(f"{kind}（{ctx['current_grade']}→{ctx['target_grade']}）：任现职级 {_yrs(ctx, since, decided)} 年，"
                    f"不足 {need} 年（任现职级 {since}，讨论决定 {decided}，满 {need} 年之日为 {_due(ctx, since, need)}）")
    return ok()


@rule("Q04", min_years_deputy_to_principal=2, applies_from_grade="乡科级正职")
def q04_deputy_to_principal(ctx):
    """副职提任正职年限不足 — 条例2019 第八条(三) [S]: deputy → principal at the same level needs ≥ 2 years
    in the deputy post. From 乡科级正职 by default: the 条例 applies to 乡科级 selection by reference (附则), and
    副科 → 正科 is the commonest promotion in a city; a region may set ``applies_from_grade`` higher [L]."""
    return _tenure_rule(ctx, "副职提任正职")


@rule("Q05", min_years_principal_to_upper_deputy=3)
def q05_principal_to_upper_deputy(ctx):
    """下级正职提任上级副职年限不足 — 条例2019 第八条(三) [S]: lower principal → upper deputy needs ≥ 3 years in
    the lower principal post."""
    return _tenure_rule(ctx, "下级正职提任上级副职")


# ---- Q06–Q10: 学历、培训、身体 -------------------------------------------------------------------

@rule("Q06", min_edu_county="大学专科")
def q06_edu_county(ctx):
    """学历不足（县处级） — 条例2019 第八条(四) [S]: a 提拔 to a 县处级 post normally needs 大学专科 or higher
    (full-time or in-service education)."""
    return _education_rule(ctx, "县处级副职", "县处级正职", "min_edu_county", "县处级")


@rule("Q07", min_edu_bureau="大学本科")
def q07_edu_bureau(ctx):
    """学历不足（厅局级以上） — 条例2019 第八条(四) [S]: a 提拔 to 厅局级 or above normally needs 大学本科 or higher."""
    return _education_rule(ctx, "厅局级副职", GRADES[-1], "min_edu_bureau", "厅局级以上")


@rule("Q08", min_edu_township="大学专科")
def q08_edu_township(ctx):
    """学历不足（乡科级） — [L] local practice: a 提拔 to a 乡科级 post needs the province's minimum education."""
    return _education_rule(ctx, "乡科级副职", "乡科级正职", "min_edu_township", "乡科级")


@rule("Q09")
def q09_training(ctx):
    """任职培训未达要求 — 条例2019 第八条(五) [S]: the candidate should have completed the required training before
    the 提拔; otherwise only for a special reason, with training completed within 1 year after (T09)."""
    if not ctx.has("training_status"):
        return na("缺少任职培训情况")
    if (skip := _not_promotion(ctx)) is not None:
        return skip
    status = ctx["training_status"]
    if status == "已达到规定要求":
        return ok()
    if status == "未参加":
        return fail("未参加任职培训，提任前培训未达到规定要求")
    return fail(f"任职培训情况为「{status}」：提任前未达到培训要求，须确因特殊情况并说明，且应在提任后一年内完成培训（T09 跟踪）")


@rule("Q10")
def q10_health(ctx):
    """身体条件不符 — 条例2019 第八条(六) [S]: the candidate must be physically able to perform the duties."""
    if ctx["health_ok"] is None:
        return na("缺少身体条件")
    if ctx["selection_type"] == "免职":
        return na("免职不涉及履职身体条件")
    if ctx["health_ok"] is not True:
        return fail("身体条件不能正常履行职责")
    return ok()


# ---- Q11–Q12: 党内职务 ----------------------------------------------------------------------------

@rule("Q11", party_age_county=3, party_age_city_up=5, party_age_branch_secretary=1,
      party_post_kinds=PARTY_POST_KINDS)
def q11_party_age(ctx):
    """党龄不足（党内职务） — 条例2019 第八条(七) [S]; 党章 第二十七条 [S]; 支部工作条例 [S]: 党龄 (from
    `party_full_member_date`) for a party post: 5 years for a committee at prefecture (市) level or above, 3 years at
    county (区县) level (red); a grassroots secretary normally 1 year (yellow)."""
    if not ctx.has("political_status", "target_post_kind", "decision_date"):
        return na("缺少政治面貌、职位类别或讨论决定日期")
    if ctx["target_post_kind"] not in ctx.params["party_post_kinds"]:
        return na("拟任职位不是党内职务")
    if ctx["political_status"] != PARTY_MEMBER:
        return na("不是正式党员（由 Q12 检查）")
    if not ctx.has("party_full_member_date"):
        return na("缺少转正时间")
    level = ctx.target_unit.level if ctx.target_unit is not None else ""
    if level in ("省", "市"):
        need, severity, what = ctx.params["party_age_city_up"], "red", f"{level}级党委委员"
    elif level == "区县":
        need, severity, what = ctx.params["party_age_county"], "red", "县级党委委员"
    else:
        need, severity, what = ctx.params["party_age_branch_secretary"], "yellow", "基层党组织书记"
    since, decided = ctx["party_full_member_date"], ctx["decision_date"]
    if _short_of(ctx, since, decided, need):
        return fail(f"党龄 {_yrs(ctx, since, decided)} 年（转正 {since}，讨论决定 {decided}），"
                    f"拟任{what}应有 {need} 年以上党龄（{_due(ctx, since, need)} 满）", severity=severity)
    return ok()


@rule("Q12", party_post_kinds=PARTY_POST_KINDS)
def q12_party_member(ctx):
    """非正式党员拟任党内职务 — 党章 第七条 [M]: a party post requires a full CPC member (预备党员 have no right to
    vote or be elected)."""
    if not ctx.has("political_status", "target_post_kind"):
        return na("缺少政治面貌或职位类别")
    if ctx["target_post_kind"] not in ctx.params["party_post_kinds"]:
        return na("拟任职位不是党内职务")
    if ctx["political_status"] != PARTY_MEMBER:
        return fail(f"政治面貌为{ctx['political_status']}，不是正式党员，不能担任党内职务（{ctx['target_post_kind']}）")
    return ok()


# ---- Q13–Q17: 破格与越级 ---------------------------------------------------------------------------

@rule("Q13", min_years_since_last_promotion=1)
def q13_breaking_too_soon(ctx):
    """破格：任职不满一年或试用期未满 — 条例2019 第十条 [M]: no 破格 while the candidate's probation is unfinished
    or less than 1 year after the last promotion (current_grade_date, and the previous 提拔 case if recorded)."""
    if ctx["is_breaking_rule"] is not True:
        return na("不是破格提拔")
    if not ctx.has("current_grade_date", "decision_date"):
        return na("缺少任现职级时间或讨论决定日期")
    need, decided = ctx.params["min_years_since_last_promotion"], ctx["decision_date"]
    problems = []
    since = ctx["current_grade_date"]
    if _short_of(ctx, since, decided, need):
        problems.append(f"任现职级 {since} 至讨论决定 {decided} 仅 {_yrs(ctx, since, decided)} 年，提拔任职不满 {need} 年")
    previous = _previous_promotions(ctx)
    if previous:
        prev = previous[0]
        if not problems and _short_of(ctx, prev["decision_date"], decided, need):
            problems.append(f"上次提拔（{prev.get('case_no') or '前一记实'}，{prev['decision_date']} 决定）"
                            f"至今不满 {need} 年")
        # the engine's facts do not carry probation_end yet; use it when it is there
        if prev.get("probation_end") is not None and prev["probation_end"] > decided:
            problems.append(f"上次任职试用期 {prev['probation_end']} 才满，试用期未满")
    if problems:
        return fail("不得破格提拔：" + "；".join(problems))
    return ok()


@rule("Q14", max_grade_step=2)
def q14_two_levels(ctx):
    """越两级提拔 — 条例2019 第十条 [M]: skipping two or more levels (grade_step ≥ 3) is forbidden."""
    step = ctx.grade_step
    if step is None:
        return na("缺少现职务层次或拟任职务层次")
    if step < 1:
        return na("不是提拔")
    if step > ctx.params["max_grade_step"]:
        return fail(f"{ctx['current_grade']}→{ctx['target_grade']} 提升 {step} 个层次，属越两级提拔"
                    f"（最多 {ctx.params['max_grade_step']} 个层次），不得越两级提拔")
    return ok()


@rule("Q15")
def q15_skip_not_breaking(ctx):
    """越级提拔未按破格办理 — 条例2019 第九、十条 [M]: a one-level skip (grade_step = 2) must be recorded as 越级
    and handled as 破格."""
    step = ctx.grade_step
    if step is None:
        return na("缺少现职务层次或拟任职务层次")
    if step != 2:
        return na("不是越一级提拔" + ("（越两级以上由 Q14 检查）" if step > 2 else ""))
    missing = []
    if ctx["is_skip_level"] is not True:
        missing.append("未标记越级提拔")
    if ctx["is_breaking_rule"] is not True:
        missing.append("未按破格提拔办理")
    if missing:
        return fail(f"{ctx['current_grade']}→{ctx['target_grade']} 属越级提拔，" + "、".join(missing))
    return ok()


@rule("Q16", min_years_deputy_to_principal=2, min_years_principal_to_upper_deputy=3,
      applies_from_grade="县处级正职")
def q16_consecutive_breaking(ctx):
    """任职年限连续破格 — 条例2019 第十条 [M]: two consecutive promotions may not both break the 任职年限 rule
    (第八条(三), Q04/Q05). The previous promotion comes from ctx.related.same_person."""
    if not ctx.has("current_grade", "target_grade", "current_grade_date", "decision_date"):
        return na("缺少现职务层次、拟任职务层次、任现职级时间或讨论决定日期")
    req = _tenure_requirement(ctx["current_grade"], ctx["target_grade"], ctx.params)
    if req is None:
        return na("本次不涉及任职年限要求")
    need, kind = req
    since, decided = ctx["current_grade_date"], ctx["decision_date"]
    if not _short_of(ctx, since, decided, need):
        return ok()
    previous = _previous_promotions(ctx)
    if not previous:
        return na("本次任职年限不足，但没有此人上一次提拔的记实，无法判断是否连续破格")
    prev = previous[0]
    if "tenure_broken" in prev:  # when the engine supplies the previous case's Q04/Q05 result
        broke = bool(prev["tenure_broken"])
    elif len(previous) > 1 and previous[1].get("target_grade") and prev.get("target_grade"):
        older = previous[1]
        prev_req = _tenure_requirement(older["target_grade"], prev["target_grade"], ctx.params)
        broke = prev_req is not None and _short_of(ctx, older["decision_date"], prev["decision_date"], prev_req[0])
    else:  # no earlier record to measure the previous step: its 破格 flag is the best evidence
        broke = bool(prev.get("is_breaking_rule"))
    if broke:
        return fail(f"本次{kind}任职年限 {_yrs(ctx, since, decided)} 年，不足 {need} 年；上一次提拔"
                    f"（{prev.get('case_no') or '前一记实'}，{prev['decision_date']}）也在任职年限上破格，不得连续破格")
    return ok()


def _qualification_failures(ctx):
    """Q01–Q07 evaluated on this case with their default parameters (a rule sees only its own settings).
    The context's parameters are swapped in place and restored, not the case copied seven times."""
    out, own = [], ctx.params
    try:
        for code, fn in (("Q01", q01_work_years), ("Q02", q02_grassroots), ("Q03", q03_lower_posts),
                         ("Q04", q04_deputy_to_principal), ("Q05", q05_principal_to_upper_deputy),
                         ("Q06", q06_edu_county), ("Q07", q07_edu_bureau)):
            ctx.params = dict(RULES[code].params)
            if fn(ctx).status == "fail":
                out.append(code)
    finally:
        ctx.params = own
    return out


@rule("Q17")
def q17_breaking_reason(ctx):
    """破格情形未说明 — 条例2019 第九条 [M]: a case that fails any of Q01–Q07 and still proceeds is a 破格, which
    needs `is_breaking_rule` set and one of the statutory 破格 situations."""
    breaking = ctx["is_breaking_rule"]
    if breaking is None:
        return na("缺少是否破格提拔")
    failures = _qualification_failures(ctx)
    if breaking is not True:
        if failures:
            return fail(f"{'、'.join(failures)} 资格条件不符，但未按破格提拔办理（未标记破格、未说明破格情形）")
        return na("不是破格提拔，资格条件未见不符")
    reason = ctx["breaking_rule_reason"]
    if reason is None:
        detail = f"（{'、'.join(failures)} 不符）" if failures else ""
        return fail(f"破格提拔{detail}未说明破格情形")
    if reason not in STATUTORY_BREAKING_REASONS:
        return fail(f"破格情形「{reason}」不属于条例规定的破格情形")
    return ok()


# ---- Q18–Q20: 年龄与身份 -------------------------------------------------------------------------

# 全国人大常委会关于实施渐进式延迟法定退休年龄的决定 (2024) [M]: from 2025-01, 60 → 63 for men and 55 → 58 for women
# (one month more every 4 months of birth, from births in 1965-01 / 1970-01); 50 → 55 (every 2 months, from 1975-01)
# for women workers, who are not cadres and are not in the table. Female 县处级 cadres retire at 60 (中组部 2015 [M]).
RETIREMENT_TABLE = {
    "男": {"base_age": 60, "phase_from": "1965-01", "every_months": 4, "max_delay_months": 36},
    "女": {"base_age": 55, "phase_from": "1970-01", "every_months": 4, "max_delay_months": 36},
    "女(县处级以上)": {"base_age": 60, "phase_from": None, "every_months": 0, "max_delay_months": 0},
}


def retirement_date(birth: dt.date, row: dict, add_months) -> dt.date:
    delay = 0
    if row.get("phase_from"):
        y, m = (int(x) for x in row["phase_from"].split("-"))
        born, start = birth.year * 12 + birth.month - 1, y * 12 + m - 1
        if born >= start:
            delay = min(row["max_delay_months"], (born - start) // row["every_months"] + 1)
    return add_months(birth, row["base_age"] * 12 + delay)


@rule("Q18", min_years_to_retirement=2, retirement_table=RETIREMENT_TABLE, female_60_from_grade="县处级副职")
def q18_years_to_retirement(ctx):
    """距法定退休年龄不足 — [L] common local practice: at least 2 years should be left before the statutory retirement
    date (2024 渐进式延迟法定退休年龄 table) when the case is judged."""
    if not ctx.has("birth_date", "sex", "target_grade"):
        return na("缺少出生日期、性别或拟任职务层次")
    if ctx["selection_type"] == "免职":
        return na("免职不涉及任职年限")
    table, sex = ctx.params["retirement_table"], ctx["sex"]
    key = sex
    gi = _gi(ctx["target_grade"])
    if sex == "女" and gi is not None and gi >= _gi(ctx.params["female_60_from_grade"]) and "女(县处级以上)" in table:
        key = "女(县处级以上)"
    if key not in table:
        return na(f"退休年龄表没有「{key}」")
    retire = retirement_date(ctx["birth_date"], table[key], ctx.add_months)
    judged, need = ctx.judge_date, ctx.params["min_years_to_retirement"]
    if _short_of(ctx, judged, retire, need):
        left = max(ctx.years(judged, retire), 0)
        return fail(f"法定退休日期 {retire}，至 {judged} 仅剩 {left:.2f} 年，不足 {need} 年")
    return ok()


@rule("Q19", max_age={"乡科级副职": 40, "乡科级正职": 45, "县处级副职": 50, "县处级正职": 52, "厅局级副职": 55})
def q19_max_age(ctx):
    """提拔年龄超本地上限 — [L] local age caps per target grade (placeholders, set per province): the age at the
    decision may not exceed the cap."""
    if not ctx.has("birth_date", "target_grade", "decision_date"):
        return na("缺少出生日期、拟任职务层次或讨论决定日期")
    if (skip := _not_promotion(ctx)) is not None:
        return skip
    cap = ctx.params["max_age"].get(ctx["target_grade"])
    if cap is None:
        return na(f"{ctx['target_grade']} 未设年龄上限")
    age = ctx.age_at(ctx["decision_date"])
    if age > cap:
        return fail(f"讨论决定时 {age} 周岁，超过提拔{ctx['target_grade']}的本地年龄上限 {cap} 周岁")
    return ok()


@rule("Q20", forbidden_identities=["工勤人员"], transfer_needed=["国有企业管理人员", "事业单位专技人员"],
      organ_post_kinds=ORGAN_POST_KINDS, transfer_selection_types=["平级交流/转任"])
def q20_identity(ctx):
    """身份与拟任职位不匹配 — 公务员法 (2018) 调任条款 [M]; [L]: the 一身份 of 三龄两历一身份. A 工勤 identity cannot
    take a leading post (red); 国企 or 事业 staff moving into an organ post need a 调任/转任 procedure (yellow)."""
    if not ctx.has("identity", "target_post_kind", "selection_type"):
        return na("缺少身份、职位类别或任用类型")
    if ctx["selection_type"] == "免职":
        return na("免职不涉及拟任职位")
    identity, kind = ctx["identity"], ctx["target_post_kind"]
    if identity in ctx.params["forbidden_identities"]:
        return fail(f"身份为{identity}，不能{ctx['selection_type']}担任领导职务（{kind}）", severity="red")
    if (identity in ctx.params["transfer_needed"] and kind in ctx.params["organ_post_kinds"]
            and ctx["selection_type"] not in ctx.params["transfer_selection_types"]):
        return fail(f"身份为{identity}，拟任机关职位（{kind}），须办理调任或转任手续并说明", severity="yellow")
    return ok()
