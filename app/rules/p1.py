"""P 程序 (procedure) rules, part 1: P01–P21 — 动议、提名、民主推荐、考察、凡提四必、酝酿沟通、事前报告.

One small pure function per catalogued rule (app/spec/rules.json; spec/regulations.md §B.3).

Two kinds of input are treated differently, as §B.0 says:

* the *facts that make a rule concern the case* (selection type, whether a 会议推荐 was held, whether
  a complaint was received, the candidate's political status …): when they are absent the rule
  is not applicable (``na``);
* the *evidence that a procedural step was done* (the minutes, the 预告 date, the 查核 date, the
  纪检 reply, the 廉洁 conclusion, the 事前报告 date …): here the catalogue's own failing examples
  ("No minutes uploaded", "No 预告 date", "No check date", "No file") make the absence itself the
  violation, so a missing piece of evidence is a hit once the step is due.
"""
from __future__ import annotations

import math
from fractions import Fraction

from app.rules.d import leader_departures
from app.rules.posts import MAIN_LEADER_TITLES, county_township_principal, same_post
from app.rules.registry import dated_by, fail, na, ok, rule

PROMOTION_TYPES = ("提拔", "进一步使用")
# 凡提四必 and the 廉洁 conclusion belong to the 考察 of a person to be appointed; a 免职 or 降职 has none.
NO_INSPECTION_TYPES = ("免职", "降职")
CPC = ("中共党员", "中共预备党员")
# "工作部门领导成员" of 条例 讨论决定章 (2014 第三十四条): members of the leading group of a 党委 or 政府 工作部门.
DEPARTMENT_LEADER_KINDS = ("党委工作部门领导成员", "政府工作部门领导成员")
PERSONAL_RECOMMENDATION = "领导干部个人署名推荐"
NOT_SOUGHT = (None, "不适用")
# Defaults of the D rules whose conditions P21 detects (the D rules own the parameters; these mirror them).
D05_MAX_BATCH = 10
D07_LOOKBACK_YEARS = 5
D08_MIN_TENURE_YEARS = 3
D03_WINDOW_DAYS = 90


def _fraction(value) -> Fraction:
    """A quota given as Fraction, int, "2/3" or a float such as 0.6 (read by its decimal text)."""
    if isinstance(value, float):
        return Fraction(str(value))
    return Fraction(value)


def _share_text(q: Fraction) -> str:
    names = {Fraction(2, 3): "三分之二", Fraction(1, 2): "二分之一", Fraction(3, 4): "四分之三",
             Fraction(4, 5): "五分之四"}
    return names.get(q, f"{q.numerator}/{q.denominator}")


# ---------------------------------------------------------------- 动议 / 提名 --------------------------


@rule("P01")
def p01_motion_record(ctx):
    """动议无集体研究记录或无工作方案 — 条例2019 分析研判和动议章 [M]: the motion meeting date, its minutes
    and the work plan must all be on record."""
    labels = {"motion_meeting_date": "动议会议日期", "motion_meeting_minutes": "动议会议纪要",
              "work_plan_file": "选拔任用工作方案"}
    missing = [label for key, label in labels.items() if not ctx.has(key)]
    if missing:
        return fail(f"动议缺少集体研究记录或工作方案：未记录{'、'.join(missing)}")
    return ok()


@rule("P07")
def p07_personal_recommendation(ctx):
    """个人推荐未署名或无推荐材料 — 条例2019 分析研判和动议章 (领导干部个人推荐须署名负责) [M]: a personal
    recommendation by a leading cadre must name the recommender and come with written material."""
    if not ctx.has("nomination_subject"):
        return na("缺少提名主体")
    if ctx["nomination_subject"] != PERSONAL_RECOMMENDATION:
        return na("不是领导干部个人推荐")
    missing = []
    if not ctx.has("recommender"):
        missing.append("署名推荐人")
    if not ctx.has("recommendation_letter"):
        missing.append("署名推荐材料")
    if missing:
        return fail(f"领导干部个人推荐未记录{'、'.join(missing)}，推荐人须署名并提供书面推荐材料")
    return ok()


def _norm_id(value) -> str:
    return str(value or "").strip().upper()


@rule("P08")
def p08_candidate_in_nominee_list(ctx):
    """拟任人选不在提名名单（体外循环） — 追究办法2010 第四条(一) (个人指定) [V]; [L]: the final candidate must
    appear in the recorded initial nominee list (matched by ID number, else by name)."""
    if not ctx.has("nominee_list", "full_name"):
        return na("缺少初始提名人选名单或拟任人选姓名")
    name = ctx["full_name"].strip()
    own_id = _norm_id(ctx["id_card_no"])
    for nominee in ctx["nominee_list"]:
        nominee = nominee if isinstance(nominee, dict) else {"name": str(nominee)}
        their_id = _norm_id(nominee.get("id_card_no"))
        if own_id and their_id:
            if own_id == their_id:
                return ok()
        elif (nominee.get("name") or "").strip() == name:
            return ok()
    names = "、".join((n.get("name") if isinstance(n, dict) else str(n)) or "?" for n in ctx["nominee_list"])
    namesake = any(isinstance(n, dict) and (n.get("name") or "").strip() == name for n in ctx["nominee_list"])
    extra = "（名单中的同名人员身份证号不同）" if namesake else ""
    return fail(f"拟任人选{name}不在初始提名人选名单（{names}）中{extra}，疑似体外循环")


# ---------------------------------------------------------------- 民主推荐 ------------------------------


def _recommendation_needed(ctx) -> bool | None:
    """True for 提拔/进一步使用 or when the case says a 民主推荐 is needed; None when neither is known."""
    kind, flag = ctx["selection_type"], ctx["recommendation_required"]
    if kind is None and flag is None:
        return None
    return kind in PROMOTION_TYPES or flag is True


@rule("P02")
def p02_recommendation_done(ctx):
    """未经民主推荐 — 条例2019 民主推荐章 [M]: a promotion or further use needs a 民主推荐 (谈话调研推荐 or
    会议推荐, or a reused result within its validity)."""
    needed = _recommendation_needed(ctx)
    if needed is None:
        return na("缺少任用类型和是否需民主推荐")
    if not needed:
        return na("不是提拔或进一步使用，且未标明需民主推荐")
    if ctx.has("talk_reco_date") or ctx.has("meeting_reco_date") or ctx.has("reused_reco_date"):
        return ok()
    items = ctx["prior_report_items"] or []
    if ctx["is_breaking_rule"] is True and "越级提拔或未经民主推荐列为破格人选" in items:
        # 条例 (2014 第三十五条 [V]) lets a 破格 candidate be listed without 民主推荐 when reported and
        # approved before the 考察; whether that was done in time is P23's question.
        return na("未经民主推荐的破格人选已列入事前报告，由 P23 检查")
    return fail(f"{ctx['selection_type'] or '本案'}未经民主推荐：谈话调研推荐、会议推荐和引用既有推荐结果的日期均未记录")


@rule("P03", validity_days=365)
def p03_recommendation_validity(ctx):
    """民主推荐结果超过一年 — 条例2019 (推荐结果一年内有效) [S]: the decision must fall within the validity
    of the latest recommendation (谈话调研推荐, 会议推荐 or the reused result); a reused 定向 result relied on
    is valid only for the same post (``reused_reco_post`` = ``target_post``, spacing and punctuation aside).
    A reused result with no post recorded cannot be checked: yellow."""
    dates = [ctx[k] for k in ("talk_reco_date", "meeting_reco_date", "reused_reco_date") if ctx.has(k)]
    if not dates or not ctx.has("decision_date"):
        return na("缺少民主推荐日期或讨论决定日期")
    latest = max(dates)
    days = (ctx["decision_date"] - latest).days
    limit = ctx.params["validity_days"]
    if days > limit:
        return fail(f"民主推荐结果已超过有效期：最近一次推荐 {latest}，讨论决定 {ctx['decision_date']}，"
                    f"相隔 {days} 天，超过 {limit} 天")
    if ctx["reused_reco_date"] == latest:  # the reused result is the one relied on
        post, target = ctx["reused_reco_post"], ctx["target_post"]
        if post is None:
            return fail(f"引用 {latest} 的既有民主推荐结果，未记录该结果所针对的职位，无法核对是否同一职位",
                        severity="yellow")
        if target is not None and not same_post(post, target):
            return fail(f"引用的民主推荐结果（{latest}）针对“{post}”，拟任职务为“{target}”：定向推荐结果只对同一职位有效")
    return ok()


@rule("P04", allowed_skip_reasons=["单位人数较少且范围基本相同且意见集中", "平级交流不需推荐"])
def p04_meeting_reco_skipped(ctx):
    """未开会议推荐且不符合免开情形 — 条例2019 第二十条 [V]: the 会议推荐 may be skipped only for the allowed
    reasons."""
    if not ctx.has("meeting_reco_done"):
        return na("缺少是否进行会议推荐")
    if ctx["meeting_reco_done"] is True:
        return ok()
    if _recommendation_needed(ctx) is False:
        return na("本案无需民主推荐")
    if ctx.has("reused_reco_date") and not ctx.has("talk_reco_date"):
        return na("引用既有民主推荐结果，未重新推荐")
    reason = ctx["meeting_reco_skip_reason"]
    allowed = ctx.params["allowed_skip_reasons"]
    if reason not in allowed:
        return fail(f"未进行会议推荐，理由“{reason or '未填写'}”不属于可不开会议推荐的情形（{'；'.join(allowed)}）")
    return ok()


@rule("P05")
def p05_meeting_reco_differential(ctx):
    """会议推荐参考人选未差额 — 条例2019 第十八条(二)、第二十条 [V]: the reference list put to the 会议推荐
    must have more names than posts."""
    if ctx["meeting_reco_done"] is not True:
        return na("未进行会议推荐")
    if ctx["nomination_subject"] == "民主推荐产生":
        # The names came out of the recommendation itself (no prepared reference list): nothing to be 差额.
        return na("人选由民主推荐产生，无会议推荐参考人选名单")
    count = ctx["nominee_count"]
    if count is None and ctx.has("nominee_list"):
        count = len(ctx["nominee_list"])
    if count is None or not ctx.has("posts_count"):
        return na("缺少提名人数或拟任职位数")
    posts = ctx["posts_count"]
    if count <= posts:
        return fail(f"会议推荐参考人选 {count} 人，拟任职位 {posts} 个，未差额提出（应多于 {posts} 人）")
    return ok()


@rule("P06", quorum=Fraction(2, 3))
def p06_meeting_reco_quorum(ctx):
    """推荐会议到会率不足 — [L] (e.g. 青海省 2020 民主推荐暂行办法 [V, news]): at least the quorum share of those
    invited must attend the 会议推荐."""
    if ctx["meeting_reco_done"] is False:
        return na("未进行会议推荐")
    if not ctx.has("meeting_reco_actual", "meeting_reco_expected"):
        return na("缺少会议推荐应到或实到人数")
    actual, expected = ctx["meeting_reco_actual"], ctx["meeting_reco_expected"]
    if expected <= 0:
        return na("会议推荐应到人数为 0")
    q = _fraction(ctx.params["quorum"])
    if actual * q.denominator < expected * q.numerator:
        need = math.ceil(expected * q)
        return fail(f"会议推荐到会 {actual} 人，应到 {expected} 人，不足{_share_text(q)}（需 {need} 人）")
    return ok()


# ---------------------------------------------------------------- 考察 ---------------------------------


@rule("P09", exempt_types=["平级交流/转任", "免职", "降职"])
def p09_inspection_differential(ctx):
    """考察对象未差额 — [M] (差额考察 practice): for a promotion the 考察对象 should outnumber the posts."""
    if not ctx.has("selection_type", "inspection_object_count", "posts_count"):
        return na("缺少任用类型、考察对象人数或拟任职位数")
    if ctx["selection_type"] in ctx.params["exempt_types"]:
        return na(f"{ctx['selection_type']}不要求差额考察")
    count, posts = ctx["inspection_object_count"], ctx["posts_count"]
    if count <= posts:
        return fail(f"考察对象 {count} 人，拟任职位 {posts} 个，未差额考察（应多于 {posts} 人）")
    return ok()


@rule("P10", min_team=2)
def p10_inspection_team(ctx):
    """考察组少于两人 — 条例2019 第三十三条 [S]: the 考察组 needs at least 2 members."""
    if not ctx.has("inspection_team"):
        return na("未记录考察组成员")
    team = ctx["inspection_team"]
    minimum = ctx.params["min_team"]
    if len(team) < minimum:
        names = "、".join((m.get("name") if isinstance(m, dict) else str(m)) or "?" for m in team)
        return fail(f"考察组仅 {len(team)} 人（{names}），少于 {minimum} 人")
    return ok()


@rule("P11")
def p11_inspection_notice(ctx):
    """未发布考察预告 — 条例 考察程序 [S]: a 考察预告 must be published no later than the start of the 考察."""
    if not ctx.has("inspection_start"):
        return na("未记录考察开始日期")
    if ctx["selection_type"] in NO_INSPECTION_TYPES:
        return na(f"{ctx['selection_type']}不涉及任职考察")
    notice, start = ctx["inspection_notice_date"], ctx["inspection_start"]
    return dated_by(notice, start, f"考察于 {start} 开始，未记录考察预告发布日期",
                    f"考察预告 {notice} 晚于考察开始日期 {start}")


@rule("P12", min_interviews=5)
def p12_interviews_and_evaluation(ctx):
    """考察谈话或民主测评缺失 — 条例 考察程序 [S]: the 考察 needs individual interviews (at least the local
    minimum) and a 民主测评."""
    if not ctx.has("interview_count", "eval_participants"):
        return na("缺少个别谈话人数或民主测评参加人数")
    problems = []
    minimum = ctx.params["min_interviews"]
    if ctx["interview_count"] < minimum:
        problems.append(f"个别谈话 {ctx['interview_count']} 人，少于 {minimum} 人")
    if ctx["eval_participants"] <= 0:
        problems.append("未进行民主测评（参加人数 0）")
    if problems:
        return fail("考察" + "；".join(problems))
    return ok()


# ---------------------------------------------------------------- 凡提四必 / 廉洁结论 -------------------


def _inspection_applies(ctx):
    """None when the 凡提四必 checks concern the case, else the reason they do not."""
    if ctx["selection_type"] in NO_INSPECTION_TYPES:
        return f"{ctx['selection_type']}不涉及凡提四必"
    return None


def _done_by_decision(ctx, date_key: str, what: str):
    if not ctx.has("decision_date"):
        return na("尚未讨论决定")
    reason = _inspection_applies(ctx)
    if reason:
        return na(reason)
    done, decided = ctx[date_key], ctx["decision_date"]
    return dated_by(done, decided, f"讨论决定（{decided}）前未{what}：未记录{what}日期",
                    f"{what}日期 {done} 晚于讨论决定日期 {decided}")


@rule("P13")
def p13_archive_review(ctx):
    """干部人事档案未审核（凡提四必①） — 条例2019 第三十一条 [S]: the personnel file must be reviewed no later
    than the decision."""
    return _done_by_decision(ctx, "archive_review_date", "审核干部人事档案")


@rule("P14")
def p14_personal_matters_check(ctx):
    """个人有关事项报告未查核（凡提四必②） — 条例2019 第三十一条 [S]: the personal-matters report must be checked
    no later than the decision, unless the candidate is not a reporting subject."""
    if ctx["personal_matters_result"] == "不属于报告对象":
        return na("拟任人选不属于个人有关事项报告对象")
    return _done_by_decision(ctx, "personal_matters_check_date", "查核个人有关事项报告")


@rule("P15")
def p15_discipline_opinion(ctx):
    """未听取纪检监察机关意见（凡提四必③） — 条例2019 第三十一条 [S]: the 纪检监察 opinion must be requested and
    its reply received no later than the decision."""
    if not ctx.has("decision_date"):
        return na("尚未讨论决定")
    reason = _inspection_applies(ctx)
    if reason:
        return na(reason)
    decided = ctx["decision_date"]
    request, reply = ctx["discipline_opinion_request_date"], ctx["discipline_opinion_reply_date"]
    if request is None and reply is None:
        return fail(f"讨论决定（{decided}）前未征求纪检监察机关意见")
    if request is None:
        return fail("未记录征求纪检监察机关意见日期")
    if reply is None:
        return fail(f"已于 {request} 征求纪检监察机关意见，讨论决定（{decided}）时尚无回复")
    if reply > decided:
        return fail(f"纪检监察机关回复 {reply} 晚于讨论决定日期 {decided}")
    return ok()


@rule("P16")
def p16_petition_checked(ctx):
    """线索具体的信访举报未核查（凡提四必④） — 条例2019 第三十一条 [S]: a specific complaint about the candidate
    must be checked and concluded before the decision."""
    if ctx["petition_received"] is not True:
        return na("未收到反映拟任人选的信访举报")
    if not ctx.has("decision_date"):
        return na("尚未讨论决定")
    result = ctx["petition_check_result"]
    if result == "线索不具体未查":
        return na("信访举报线索不具体")
    if result is None or result == "核查中":
        state = "尚在核查中" if result else "未记录核查结论"
        return fail(f"收到线索具体的信访举报，讨论决定（{ctx['decision_date']}）时{state}")
    return ok()


@rule("P17")
def p17_integrity_conclusion(ctx):
    """缺廉洁自律结论性意见 — 条例2019 第三十一条 [S]: the integrity conclusion signed by the 书记 and the 纪委书记
    (纪检监察组组长) must be on file."""
    reason = _inspection_applies(ctx)
    if reason:
        return na(reason)
    if not ctx.has("integrity_conclusion_file"):
        return fail("缺少党委（党组）书记和纪委书记（纪检监察组组长）签字的廉洁自律结论性意见")
    return ok()


# ---------------------------------------------------------------- 酝酿 / 沟通 ---------------------------


@rule("P18")
def p18_upper_supervisor_opinion(ctx):
    """未征求上级分管领导意见 — 条例 讨论决定章 [V, 2014 第三十四条]: for a 党委/政府工作部门 leading member the
    higher supervising leader's opinion must be sought."""
    if not ctx.has("target_post_kind"):
        return na("缺少职位类别")
    if ctx["target_post_kind"] not in DEPARTMENT_LEADER_KINDS:
        return na("拟任职位不是党委、政府工作部门领导成员")
    opinion = ctx["upper_supervisor_opinion"]
    if opinion in NOT_SOUGHT:
        return fail(f"拟任{ctx['target_post_kind']}，未征求上级分管领导意见（记录为“{opinion or '空'}”）")
    return ok()


@rule("P19")
def p19_united_front_opinion(ctx):
    """非中共党员人选未征求统战部门意见 — 条例 讨论决定章 [V, 2014 第三十四条]: a non-CPC candidate needs the
    统战 department's opinion."""
    if not ctx.has("political_status"):
        return na("缺少政治面貌")
    if ctx["political_status"] in CPC:
        return na("拟任人选是中共党员或预备党员")
    opinion = ctx["united_front_opinion"]
    if opinion in NOT_SOUGHT:
        return fail(f"拟任人选政治面貌为{ctx['political_status']}，未征求统战部门意见（记录为“{opinion or '空'}”）")
    return ok()


@rule("P20")
def p20_co_manager_opinion(ctx):
    """双重管理未征求协管方意见 — 条例 讨论决定章 [V, 2014 第三十四条]: for a dual-managed post the
    co-managing side must be asked (request date and reply recorded)."""
    unit = ctx.target_unit
    if unit is None:
        return na("缺少拟任单位信息")
    if not unit.dual_managed:
        return na("拟任单位不实行双重管理")
    request, reply = ctx["co_manager_request_date"], ctx["co_manager_reply"]
    if request is None:
        return fail(f"拟任单位{unit.code or ''}实行双重管理，未记录征求协管方意见日期")
    if reply in NOT_SOUGHT:
        return fail(f"拟任单位实行双重管理，已于 {request} 征求协管方意见，但协管方意见记录为“{reply or '空'}”")
    return ok()


# ---------------------------------------------------------------- 事前报告 ------------------------------


def _reportable_conditions(ctx) -> list[str]:
    """The 事前报告 situations (报告办法2010) the case's own data show: D01, D03, D05–D08, 破格, 越级."""
    found = []
    kind = ctx["selection_type"]
    if ctx["is_breaking_rule"] is True:
        found.append("破格提拔")
    step = ctx.grade_step
    if ctx["is_skip_level"] is True or (kind == "提拔" and step is not None and step >= 2):
        found.append("越级提拔")
    if kind in ("提拔", "进一步使用", "平级交流/转任") and ctx.has("approved_quota", "current_incumbents"):
        if ctx["approved_quota"] - ctx["current_incumbents"] <= 0:
            found.append(f"超职数配备（核定 {ctx['approved_quota']}，实配 {ctx['current_incumbents']}）")
    settled = ctx["main_leader_transfer_settled_date"]
    if settled is not None and ctx.judge_date >= settled:
        found.append(f"主要领导调整已明确（{settled}）后调整干部")
    found += leader_departures(ctx, 0, D03_WINDOW_DAYS, MAIN_LEADER_TITLES)[1]  # the system's own cases (D03)
    if ctx.related.batch_size > D05_MAX_BATCH:
        found.append(f"一次性调整 {ctx.related.batch_size} 人")
    if ctx["kinship_avoidance"] == "与拟任单位领导成员有亲属关系-非直接隶属":
        found.append("领导干部亲属在本单位（系统）提拔")
    sanction, when = ctx["sanction_type"], ctx["sanction_date"]
    if (sanction not in (None, "无") and when is not None and kind not in ("免职", "降职")
            and ctx.known_at_decision(when) and ctx.judge_date < ctx.add_months(when, 12 * D07_LOOKBACK_YEARS)):
        found.append(f"受处理处分（{sanction}，{when}）后重新任用")
    if (county_township_principal(ctx["current_post"], ctx["current_grade"]) and ctx.has("current_post_date")
            and ctx.full_years(ctx["current_post_date"], ctx.judge_date) < D08_MIN_TENURE_YEARS):
        found.append(f"正职任期未满 {D08_MIN_TENURE_YEARS} 年调整（任现职 {ctx['current_post_date']}）")
    return found


@rule("P21")
def p21_prior_report(ctx):
    """事前报告事项未报告 — 报告办法2010 [M]; 四川省有关事项报告办法2009 [V]: when a reportable situation exists
    (D01, D03, D05–D08, 破格, 越级, or the case marks itself reportable) a 事前报告 must be made before the decision."""
    found = _reportable_conditions(ctx)
    if ctx["prior_report_required"] is True:
        found.append("本案标明属事前报告事项")
    found += [f"事前报告事项：{item}" for item in (ctx["prior_report_items"] or [])]
    if not found:
        return na("无事前报告事项")
    reported = ctx["prior_report_date"]
    if reported is None:
        return fail(f"存在事前报告情形（{'；'.join(found)}），未记录事前报告日期")
    if ctx.has("decision_date") and reported > ctx["decision_date"]:
        return fail(f"事前报告日期 {reported} 晚于讨论决定日期 {ctx['decision_date']}，不是事前报告")
    return ok()
