"""C: 条件/负面清单 (conditions and the negative list), C01–C16.

条例2019 第二十四条 lists who may not be made a 考察对象; 第三十一条 adds the four "凡提四必" checks
(档案必审、个人有关事项报告必核、纪检监察机关意见必听、线索具体的信访举报必查); the 回避 rules come from
the 交流、回避 chapter and the 任职回避 provisions.
"""
from __future__ import annotations

from fractions import Fraction

from app.rules.registry import fail, na, ok, rule

NOT_A_USE = ("免职", "降职")  # selection types that do not put the person into a post


def _frac(x) -> Fraction:
    """An exact fraction for a parameter given as int, Fraction, float or "a/b" text."""
    if isinstance(x, (int, Fraction)):
        return Fraction(x)
    return Fraction(str(x))


def _negative_list_hit(ctx, item: str, code_title: str):
    """Shared body of the rules that only read one entry of ``negative_list_result``."""
    found = ctx["negative_list_result"]
    if found is None:
        return na("缺少不得列为考察对象情形核查结果")
    if item in found:
        return fail(f"不得列为考察对象情形核查结果含“{item}”，不得列为考察对象（{code_title}）")
    return ok()


@rule("C01")
def c01_political_discipline(ctx):
    """违反政治纪律和政治规矩 — 条例2019 第二十四条(一): the negative-list check found 政治纪律/政治规矩 problems."""
    return _negative_list_hit(ctx, "违反政治纪律和政治规矩", "条例第二十四条(一)")


@rule("C02", min_vote_ratio=0.5, max_rank=None, max_rank_margin=2)
def c02_public_recognition(ctx):
    """群众公认度不高 — 条例2019 第二十四条(二), 第二十三条: red if the negative list says so; yellow if the share of
    valid 会议推荐 ballots is below ``min_vote_ratio`` or a 推荐 rank is worse than ``max_rank``
    (default ``posts_count + max_rank_margin``). 不得简单以票取人, so the figures only warn."""
    neg = ctx["negative_list_result"]
    if neg is not None and "群众公认度不高" in neg:
        return fail("不得列为考察对象情形核查结果含“群众公认度不高”（条例第二十四条(二)）", severity="red")
    judged = neg is not None
    warnings = []
    votes, valid = ctx["meeting_reco_votes"], ctx["ballots_valid"]
    if votes is not None and valid:
        judged = True
        ratio = _frac(ctx.params["min_vote_ratio"])
        if Fraction(votes, valid) < ratio:
            warnings.append(f"会议推荐得票 {votes} 张，占有效票 {valid} 张的 {votes / valid:.1%}，"
                            f"低于 {float(ratio):.0%}")
    max_rank = ctx.params.get("max_rank")
    if max_rank is None and ctx["posts_count"] is not None:
        max_rank = ctx["posts_count"] + ctx.params["max_rank_margin"]
    if max_rank is not None:
        for key, label in (("meeting_reco_rank", "会议推荐"), ("talk_reco_rank", "谈话调研推荐")):
            rank = ctx[key]
            if rank is None:
                continue
            judged = True
            if rank > max_rank:
                warnings.append(f"{label}排名第 {rank} 位，职位数 {ctx['posts_count']} 个，排名在第 {max_rank} 位之后")
    if warnings:
        return fail("；".join(warnings) + "，群众公认度偏低，需说明理由", severity="yellow")
    return ok() if judged else na("缺少负面清单核查结果和推荐得票、排名")


APPRAISAL_KEYS = ("appraisal_y1", "appraisal_y2", "appraisal_y3")
YEAR_NAMES = {"appraisal_y1": "上一年度", "appraisal_y2": "前二年度", "appraisal_y3": "前三年度"}


def _lookback_keys(ctx):
    return APPRAISAL_KEYS[:max(1, min(3, int(ctx.params["lookback_years"])))]


@rule("C03", lookback_years=1)
def c03_appraisal_below_competent(ctx):
    """年度考核基本称职以下 — 条例2019 第二十四条(三): no 基本称职 or 不称职 within the look-back
    (2019: the previous year only; set ``lookback_years=3`` for the 2014-style local rule)."""
    keys = [k for k in _lookback_keys(ctx) if ctx[k] is not None]
    if not keys:
        return na("缺少年度考核等次")
    bad = [f"{YEAR_NAMES[k]}考核{ctx[k]}" for k in keys if ctx[k] in ("基本称职", "不称职")]
    if bad:
        return fail("、".join(bad) + f"（审查近 {len(_lookback_keys(ctx))} 年），不得列为考察对象")
    return ok()


@rule("C04", lookback_years=3)
def c04_appraisal_undetermined(ctx):
    """年度考核不定等次 — [L]; 组通字〔1998〕19号: a 不定等次 year within the look-back needs an explanation."""
    keys = [k for k in _lookback_keys(ctx) if ctx[k] is not None]
    if not keys:
        return na("缺少年度考核等次")
    bad = [YEAR_NAMES[k] for k in keys if ctx[k] == "不定等次"]
    if bad:
        return fail("、".join(bad) + "考核不定等次，需说明原因（是否受处分或正在接受审查）")
    return ok()


@rule("C05")
def c05_canvassing(ctx):
    """跑官拉票等非组织行为 — 条例2019 第二十四条(四): the negative-list check found 跑官/拉票."""
    return _negative_list_hit(ctx, "跑官拉票等非组织行为", "条例第二十四条(四)")


@rule("C06", special_post_whitelist=[])
def c06_family_abroad(ctx):
    """配偶子女移居国（境）外 — 条例2019 第二十四条(五): the spouse has emigrated, or there is no spouse and all
    children have emigrated; posts on ``special_post_whitelist`` (matched as part of the post name) are exempt."""
    status = ctx["spouse_children_abroad"]
    if status is None:
        return na("缺少配偶、子女移居国（境）外情况")
    if status not in ("配偶已移居", "无配偶且子女均已移居"):
        return ok()
    post = ctx["target_post"] or ""
    if post and any(w and w in post for w in ctx.params["special_post_whitelist"] or []):
        return na(f"拟任职务“{post}”属特殊岗位白名单，不适用")
    return fail(f"配偶、子女移居情况为“{status}”，不得列为考察对象（拟任“{post or '未填'}”）")


# Months of 影响期 by sanction_type (组织处理规定 第十九条; 纪处条例 第四十—四十二条; 政务处分法 第八条;
# the 诫勉 rules: 六个月内不得提拔或者重用).
EFFECT_PERIOD_TABLE = {
    "诫勉": 6,
    "组织处理-调整职务": 12,
    "组织处理-责令辞职": 12,  # no leading post for 1 year …
    "组织处理-免职": 12,
    "组织处理-降职": 24,
    "党纪-警告": 12,
    "党纪-严重警告": 18,
    "党纪-撤销党内职务": 24,
    "党纪-留党察看": None,  # 察看期 + 24 months, see ``probation_months``
    "政务-警告": 6,
    "政务-记过": 12,
    "政务-记大过": 18,
    "政务-降级": 24,
    "政务-撤职": 24,
}
# … and not above the former level for 2 years (组织处理规定: 责令辞职、免职 "两年内不得担任高于原任职务层次的职务").
EFFECT_PERIOD_ABOVE_FORMER_LEVEL = {"组织处理-责令辞职": 24, "组织处理-免职": 24}


@rule("C07", effect_period_table=EFFECT_PERIOD_TABLE, effect_period_above_former_level=EFFECT_PERIOD_ABOVE_FORMER_LEVEL,
      probation_months=24)
def c07_effect_period(ctx):
    """诫勉/组织处理/处分影响期未满 — 条例2019 第二十四条(六): the decision falls before ``sanction_date`` + the
    影响期 of the sanction type. 留党察看 counts 察看期 + 24 months; the case does not record the 察看期, so
    ``probation_months`` (default the longer, 24) is assumed. A sanction decided after the decision was not
    known to the selecting body: D11 (倒查) concerns it, not this rule."""
    neg = ctx["negative_list_result"]
    if neg is not None and "影响期未满或期满影响使用" in neg:
        return fail("不得列为考察对象情形核查结果含“影响期未满或期满影响使用”（条例第二十四条(六)）")
    kind = ctx["sanction_type"]
    if kind is None or kind == "无":
        return na("无处理处分")
    if not ctx.has("sanction_date"):
        return na("缺少处理处分决定日期")
    if not ctx.known_at_decision(ctx["sanction_date"]):
        return na(f"处理处分（{ctx['sanction_date']}）在讨论决定之后作出，由 D11 倒查")
    if ctx["selection_type"] in NOT_A_USE:
        return na(f"任用类型为{ctx['selection_type']}，不涉及影响期")
    table = {**EFFECT_PERIOD_TABLE, **(ctx.params["effect_period_table"] or {})}  # a stored version may list a few
    if kind == "党纪-留党察看" and table.get(kind) is None:
        months = ctx.params["probation_months"] + 24
        basis = f"察看期按 {ctx.params['probation_months']} 个月计，加 24 个月"
    elif kind in table and table[kind] is not None:
        months, basis = table[kind], "影响期"
        above = {**EFFECT_PERIOD_ABOVE_FORMER_LEVEL, **(ctx.params["effect_period_above_former_level"] or {})}
        if kind in above and (ctx["selection_type"] == "提拔" or (ctx.grade_step or 0) > 0):
            months, basis = above[kind], "两年内不得担任高于原任职务层次的职务"
    else:
        return na(f"处理处分类型“{kind}”未配置影响期")
    end = ctx.add_months(ctx["sanction_date"], months)
    day = ctx.judge_date
    if day < end:
        return fail(f"{kind}（{ctx['sanction_date']}）影响期 {months} 个月（{basis}），至 {end} 届满；"
                    f"讨论决定日期 {day} 尚在影响期内")
    return ok()


@rule("C08")
def c08_under_investigation(ctx):
    """正在接受审查调查或线索核查中 — 条例2019 第三十一条: the 纪检监察 reply says a lead is being checked, or a
    complaint about the candidate is still being checked."""
    opinion, petition = ctx["discipline_opinion_result"], ctx["petition_check_result"]
    if opinion is None and petition is None:
        return na("缺少纪检监察机关意见和信访举报核查结论")
    hits = []
    if opinion == "问题线索正在核查":
        hits.append("纪检监察机关回复“问题线索正在核查”")
    if petition == "核查中":
        hits.append("信访举报尚在核查中")
    if hits:
        return fail("；".join(hits) + "，问题未查清前不得作出任用决定")
    return ok()


@rule("C09")
def c09_personal_matters(ctx):
    """个人有关事项报告不如实 — 监督意见2014; 条例2019 第三十一条: 不如实报告/隐瞒不报 is red (不得提拔任用);
    a minor omission already explained is yellow."""
    result = ctx["personal_matters_result"]
    if result is None:
        return na("缺少个人有关事项查核结果")
    if result == "不属于报告对象":
        return na("不属于个人有关事项报告对象")
    if result == "不如实报告/隐瞒不报":
        return fail("个人有关事项查核结果为“不如实报告/隐瞒不报”，不得提拔任用", severity="red")
    if result == "漏报（情节较轻，已说明）":
        return fail("个人有关事项存在漏报（情节较轻，已说明），需在记实中说明认定情况", severity="yellow")
    return ok()


@rule("C10")
def c10_discipline_opinion(ctx):
    """纪检监察机关意见影响使用 — 条例2019 第三十一条: the 纪检监察 reply says the problem affects use."""
    opinion = ctx["discipline_opinion_result"]
    if opinion is None:
        return na("缺少纪检监察机关意见")
    if opinion == "影响使用":
        return fail("纪检监察机关意见为“影响使用”，不得任用")
    return ok()


@rule("C11")
def c11_petition_verified(ctx):
    """信访举报属实影响使用 — 条例2019 第三十一条: a verified complaint affects use."""
    result = ctx["petition_check_result"]
    if result is None:
        return na("未收到信访举报或缺少核查结论")
    if result == "属实影响使用":
        return fail("信访举报核查结论为“属实影响使用”，不得任用")
    return ok()


@rule("C12")
def c12_sanling_doubt(ctx):
    """“三龄两历一身份”存疑未查清 — 档案条例2018; 条例2019 第三十一条: the file review left a doubt unresolved."""
    result = ctx["sanling_result"]
    if result is None:
        return na("缺少“三龄两历一身份”认定结论")
    if result == "存在疑点未查清":
        return fail("干部人事档案审核“三龄两历一身份”存在疑点未查清，查清前不得任用")
    return ok()


@rule("C13")
def c13_economic_audit(ctx):
    """经济责任审计应审未审/有问题 — 条例2019 第三十一条: a required audit not done is red; problems found are yellow."""
    audit = ctx["economic_audit"]
    if audit is None:
        return na("缺少经济责任审计情况")
    if audit == "不需要":
        return na("不需要进行经济责任审计")
    if audit == "应审未审":
        return fail("应进行经济责任审计而未审计", severity="red")
    if audit == "已审计有问题":
        return fail("经济责任审计发现问题，需说明问题性质及对任用的影响", severity="yellow")
    return ok()


@rule("C14")
def c14_kinship_avoidance(ctx):
    """任职回避（亲属） — 回避规定2006 第三条: no direct superior–subordinate or same-superior post with a relative, and
    no 组织人事/纪检/审计/财务 post in a unit a relative leads (red); a non-direct relation is yellow (see D06)."""
    kin = ctx["kinship_avoidance"]
    if kin is None:
        return na("缺少亲属关系回避情况")
    if kin == "与拟任单位领导成员有亲属关系-直接上下级或同一领导":
        return fail("与拟任单位领导成员有亲属关系，且为直接上下级或直接隶属于同一领导，应当回避", severity="red")
    if kin == "拟任组织人事纪检审计财务岗位且亲属任该单位领导":
        return fail("亲属任拟任单位领导，不得在该单位从事组织人事、纪检、审计、财务工作，应当回避", severity="red")
    if kin == "与拟任单位领导成员有亲属关系-非直接隶属":
        return fail("与拟任单位领导成员有亲属关系（非直接隶属），需事前报告（见 D06）并说明", severity="yellow")
    return ok()


def _jurisdiction(region_code: str | None) -> str | None:
    """省 / 市 / 县 from a GB/T 2260 code (xx0000 a province, xxxx00 a prefecture, else a county)."""
    code = (region_code or "").strip()
    if len(code) != 6 or not code.isdigit():
        return None
    if code[2:] == "0000":
        return "省"
    if code[4:] == "00":
        return "市"
    return "县"


@rule("C15", covered_unit_types=["党委", "政府", "纪委监委", "组织部", "法院", "检察院", "公安"], levels=["县", "市"])
def c15_regional_avoidance(ctx):
    """地域回避 — 条例2019 交流回避章; 回避规定: the principal post of a county or prefecture 党委, 政府, 纪委监委,
    组织部, 法院, 检察院 or 公安 may not go to someone who grew up there (same county code; for a prefecture, the
    same first four digits). ``levels`` are read from the target unit's region code; a 党委/政府 must be the
    committee or government itself (unit level 区县/市), not one of its departments."""
    if not ctx.has("growth_place", "is_principal"):
        return na("缺少成长地或是否正职")
    if ctx["is_principal"] is not True:
        return na("拟任职务不是正职")
    unit = ctx.target_unit
    if unit is None or not unit.region_code:
        return na("缺少拟任单位的行政区划")
    if unit.unit_type not in ctx.params["covered_unit_types"]:
        return na(f"拟任单位类型“{unit.unit_type or '未知'}”不实行地域回避")
    if unit.level in ("乡镇街道", "事业单位", "国有企业", "其他"):
        return na(f"拟任单位层级“{unit.level}”不实行地域回避")
    if unit.unit_type in ("党委", "政府") and unit.level not in ("区县", "市"):
        return na("拟任单位是党委、政府工作部门，不是党委、政府本身")
    level = _jurisdiction(unit.region_code)
    if level not in ctx.params["levels"]:
        return na(f"拟任单位所在行政区划层级“{level or '未知'}”不在地域回避范围内")
    growth = str(ctx["growth_place"]).strip()
    if _jurisdiction(growth) is None:
        return na(f"成长地“{growth}”不是行政区划代码，无法比对")
    same = growth == unit.region_code if level == "县" else growth[:4] == unit.region_code[:4]
    if same:
        where = "县（市、区）" if level == "县" else "市（地、州）"
        return fail(f"成长地 {growth} 属拟任单位所在{where}（{unit.region_code}），不得在本人成长地担任"
                    f"{unit.unit_type}正职")
    return ok()


@rule("C16")
def c16_passed_against_inspection(ctx):
    """考察组不建议任用仍决定通过 — [L]; 监督办法2019 (失察): the 考察组 advised 缓用 or 不任用 but the committee passed it."""
    if not ctx.has("inspection_conclusion", "decision_result"):
        return na("缺少考察组意见或决定结果")
    conclusion = ctx["inspection_conclusion"]
    if conclusion in ("建议缓用", "不建议任用") and ctx["decision_result"] == "通过":
        return fail(f"考察组意见为“{conclusion}”，党委（党组）仍决定通过")
    return ok()
