"""P rules P22–P42 (程序): 事前报告 consent, the decision meeting, 公示, 任职, 试用期 and the
three-level signatures. One small pure function per catalogued rule (app/spec/rules.json)."""
from __future__ import annotations

import datetime as dt
from fractions import Fraction

from app.rules.registry import dated_by, fail, na, ok, rule

SIGN_OK = "情况属实同意报送"
RECO_DATES = ("talk_reco_date", "meeting_reco_date", "reused_reco_date")


def _frac(value) -> Fraction:
    """A parameter given as 2/3, "2/3", 0.5 or Fraction → an exact Fraction."""
    if isinstance(value, str):
        return Fraction(value.strip())
    if isinstance(value, float):
        return Fraction(value).limit_denominator(1000)
    return Fraction(value)


CN_DIGITS = "零一二三四五六七八九十"


def _cn(f: Fraction) -> str:
    """2/3 → 三分之二 (small fractions), else "2/3"."""
    if f.denominator <= 10 and f.numerator <= 10:
        return f"{CN_DIGITS[f.denominator]}分之{CN_DIGITS[f.numerator]}"
    return f"{f.numerator}/{f.denominator}"


def _same_person(a: dict | None, b: dict | None) -> bool:
    """Same person: equal ID numbers when both carry one, otherwise equal names."""
    if not a or not b:
        return False
    ida, idb = (a.get("id_card_no") or "").strip().upper(), (b.get("id_card_no") or "").strip().upper()
    if ida and idb:
        return ida == idb
    return (a.get("name") or "").strip() != "" and (a.get("name") or "").strip() == (b.get("name") or "").strip()


# ---------------------------------------------------------------- 事前报告 / 上级同意

@rule("P22")
def p22_breaking_rule_consent(ctx):
    """破格提拔未经上级同意即讨论决定 — 条例 讨论决定章 [2014 第三十五条]; 条例2019 第十条:
    a 破格 promotion needs the higher organisation department's 同意 dated no later than the decision."""
    if ctx["is_breaking_rule"] is not True:
        return na("不是破格提拔")
    if not ctx.has("decision_date"):
        return na("缺少讨论决定日期")
    reply, reply_date, decision = ctx["prior_report_reply"], ctx["prior_report_reply_date"], ctx["decision_date"]
    if reply != "同意":
        return fail(f"破格提拔未获上级组织部门同意（答复：{reply or '无'}），即于 {decision} 讨论决定")
    if reply_date is None:
        return na("缺少上级答复日期")
    if reply_date > decision:
        return fail(f"上级同意破格提拔的答复日期 {reply_date} 晚于讨论决定日期 {decision}")
    return ok()


@rule("P23")
def p23_report_before_inspection(ctx):
    """越级/未经民主推荐的破格人选考察前未报告 — 条例 [2014 第三十五条]: a 越级 promotion, or a 破格
    candidate listed without 民主推荐, must be reported to and approved by the higher organisation
    department before the 考察 starts ("经同意后方可进行考察")."""
    if not ctx.has("inspection_start"):
        return na("缺少考察开始日期")
    start = ctx["inspection_start"]
    skip = ctx["is_skip_level"] is True
    recommended = any(ctx[k] is not None and ctx[k] <= start for k in RECO_DATES)
    breaking_unrecommended = ctx["is_breaking_rule"] is True and not recommended
    if not (skip or breaking_unrecommended):
        return na("不是越级提拔，也不是未经民主推荐列为破格提拔人选")
    what = "越级提拔" if skip else "未经民主推荐列为破格提拔人选"
    report, reply, reply_date = ctx["prior_report_date"], ctx["prior_report_reply"], ctx["prior_report_reply_date"]
    if report is None:
        return fail(f"{what}，考察（{start} 开始）前未向上级组织部门报告")
    if report > start:
        return fail(f"{what}，事前报告日期 {report} 晚于考察开始日期 {start}")
    if reply != "同意":
        return fail(f"{what}，上级组织部门未同意（答复：{reply or '无'}）即于 {start} 开始考察")
    # The regulation requires consent before 考察, so a consent dated after the start also fails.
    if reply_date is not None and reply_date > start:
        return fail(f"{what}，上级同意日期 {reply_date} 晚于考察开始日期 {start}")
    return ok()


@rule("P24")
def p24_decided_before_reply(ctx):
    """上级未答复即讨论决定 — 四川办法2009 ("未经答复不得讨论决定"): while the 事前报告 reply is pending
    (no reply, 未答复, or a reply dated after the meeting) no decision may be taken."""
    if ctx["prior_report_required"] is not True:
        return na("不属事前报告事项")
    if not ctx.has("decision_date"):
        return na("尚未讨论决定")
    reply, reply_date, decision = ctx["prior_report_reply"], ctx["prior_report_reply_date"], ctx["decision_date"]
    if reply in (None, "未答复"):
        return fail(f"事前报告事项上级组织部门尚未答复（{reply or '无答复'}），即于 {decision} 讨论决定")
    if reply_date is not None and reply_date > decision:
        return fail(f"上级答复日期 {reply_date} 晚于讨论决定日期 {decision}，讨论决定时尚未答复")
    return ok()


# ---------------------------------------------------------------- 讨论决定

@rule("P25", valid_types=["党委常委会", "党委全委会", "党组(党委)会议"])
def p25_collective_decision(ctx):
    """未经党委（党组）会议集体讨论决定 — 条例 讨论决定章 [2014 第三十五条]; 追究办法2010 第四条(三)(四):
    the decision body must be a 党委(党组) meeting, not a 书记专题会, an office meeting or 圈阅."""
    kind = ctx["decision_meeting_type"]
    if kind is None:
        return na("缺少会议类型")
    if kind not in ctx.params["valid_types"]:
        return fail(f"以“{kind}”决定干部任免，不是党委（党组）会议集体讨论决定（应为：{'、'.join(ctx.params['valid_types'])}）")
    return ok()


@rule("P26", no_inspection_types=["免职", "降职"])
def p26_ad_hoc_motion(ctx):
    """临时动议 — 追究办法2010 第四条(二); 监督办法2019: the case must be prepared before the meeting —
    moved at an earlier meeting, inspected before the decision, and covered by a work plan."""
    if not ctx.has("decision_date", "motion_meeting_date"):
        return na("缺少动议会议日期或讨论决定日期")
    decision, motion = ctx["decision_date"], ctx["motion_meeting_date"]
    problems = []
    if motion >= decision:
        problems.append(f"动议会议日期 {motion} 不早于讨论决定日期 {decision}（会上临时提出）")
    if ctx["selection_type"] not in ctx.params["no_inspection_types"]:
        end = ctx["inspection_end"]
        if end is None:
            problems.append("未经考察")
        elif end > decision:
            problems.append(f"考察结束日期 {end} 晚于讨论决定日期 {decision}")
    if ctx["work_plan_file"] is None:
        problems.append("无选拔任用工作方案")
    if problems:
        return fail("临时动议：" + "；".join(problems))
    return ok()


@rule("P27", quorum=Fraction(2, 3))
def p27_quorum(ctx):
    """到会成员不足三分之二 — 条例 讨论决定章 [2014 第三十七条]: at least 2/3 of the members must attend
    (exactly 2/3 is enough)."""
    if not ctx.has("members_present", "members_total"):
        return na("缺少应到或实到会成员数")
    q = _frac(ctx.params["quorum"])
    present, total = ctx["members_present"], ctx["members_total"]
    if present * q.denominator < total * q.numerator:
        need = -(-total * q.numerator // q.denominator)
        return fail(f"到会 {present} 人，应到 {total} 人，不足{_cn(q)}（需 {need} 人）")
    return ok()


@rule("P28", approval_base="members_total", approval_ratio=Fraction(1, 2))
def p28_majority(ctx):
    """同意票未超过应到会成员半数 — 条例 讨论决定章 [2014 第三十八条(三)]: a 通过 decision needs more
    than half of all members entitled to attend (应到会成员), not of those present."""
    if ctx["decision_result"] != "通过":
        return na("决定结果不是通过")
    base_key = ctx.params["approval_base"]
    if not ctx.has("votes_for", base_key):
        return na("缺少同意票数或应到会成员数")
    r = _frac(ctx.params["approval_ratio"])
    votes, base = ctx["votes_for"], ctx[base_key]
    if votes * r.denominator <= base * r.numerator:
        need = base * r.numerator // r.denominator + 1
        return fail(f"同意 {votes} 票，应到会成员 {base} 人，未超过{_cn(r)}（需至少 {need} 票）却决定通过")
    return ok()


@rule("P29")
def p29_presentation(ctx):
    """未逐人介绍或未说明报告事项 — 条例2019 讨论决定章: each candidate is introduced individually, and
    a 事前报告 matter is explained with the higher level's opinion."""
    presented = ctx["reasons_presented"]
    if presented is None:
        return na("缺少是否逐人介绍")
    if presented is False:
        return fail("讨论决定时未逐人介绍推荐、考察和任免理由")
    if ctx["prior_report_required"] is True and ctx["reported_items_explained"] is not True:
        return fail("属事前报告事项，讨论决定时未说明事由和上级组织部门意见")
    return ok()


@rule("P30")
def p30_main_leader_last(ctx):
    """主要负责人未最后表态 — 条例2019 讨论决定章: the main leader states a view last."""
    last = ctx["main_leader_last"]
    if last is None:
        return na("缺少主要负责人是否最后表态")
    return ok() if last is True else fail("党委（党组）主要负责人未最后表态")


@rule("P31")
def p31_reconsideration(ctx):
    """复议未经超过半数成员同意 — 条例2019 讨论决定章: reopening a decision needs more than half of all
    members (2 × consent > members_total)."""
    if ctx["is_reconsideration"] is not True:
        return na("不是复议")
    if not ctx.has("reconsideration_consent", "members_total"):
        return na("缺少同意复议人数或成员数")
    consent, total = ctx["reconsideration_consent"], ctx["members_total"]
    if consent * 2 <= total:
        return fail(f"复议仅经 {consent} 名成员同意，成员 {total} 人，未超过半数（需 {total // 2 + 1} 人）")
    return ok()


# ---------------------------------------------------------------- 公示

@rule("P32", exempt_reasons=["特殊岗位", "换届考察时已公示"], publicity_up_to_grade="厅局级正职")
def p32_publicity_missing(ctx):
    """应公示未公示 — 条例 任职章 [2014 第四十一条]: a 提拔 to 厅局级 or below (except 特殊岗位 and people
    publicised at the 换届 inspection) needs a 公示 before the appointment document."""
    required = ctx["publicity_required"]
    if required is False:
        # The regulation, not the flag, decides whether a 提拔 needs 公示.
        gi = ctx.grade_index(ctx["target_grade"])
        if (ctx["selection_type"] == "提拔" and gi is not None
                and gi <= ctx.grade_index(ctx.params["publicity_up_to_grade"])
                and ctx["publicity_exempt_reason"] not in ctx.params["exempt_reasons"]):
            return fail(f"提拔任{ctx['target_grade']}职务，免于公示理由“{ctx['publicity_exempt_reason'] or '无'}”不成立，应任前公示")
        return na("不需任前公示")
    if required is None:
        return na("缺少是否需任前公示")
    doc = ctx["appointment_doc_date"]
    if doc is None:
        return na("尚未下发任职通知")
    start = ctx["publicity_start"]
    return dated_by(start, doc, f"应任前公示，未公示即于 {doc} 下发任职通知",
                    f"公示开始日期 {start} 晚于任职通知日期 {doc}，未在任职前公示")


@rule("P33", min_working_days=5)
def p33_publicity_working_days(ctx):
    """公示期不足五个工作日 — 条例 任职章 [2014 第四十一条]: the 公示 lasts at least 5 working days,
    counted inclusively with the holiday calendar (holidays and 调休 working weekends)."""
    if ctx["publicity_required"] is False:
        return na("不需任前公示")
    if not ctx.has("publicity_start", "publicity_end"):
        return na("缺少公示起止日期")
    start, end, need = ctx["publicity_start"], ctx["publicity_end"], ctx.params["min_working_days"]
    days = ctx.calendar.working_days_between(start, end)
    if days < need:
        return fail(f"公示期 {start} 至 {end} 仅 {days} 个工作日，不足 {need} 个工作日")
    return ok()


@rule("P34")
def p34_publicity_timing(ctx):
    """公示时点错误 — 条例 任职章 [2014 第四十一条]: the 公示 falls 在党委(党组)讨论决定后、下发任职通知前.
    It may start on the decision day; it must have ended before the appointment notice is issued
    (a notice on the last day of the 公示 cuts the 公示 short)."""
    if ctx["publicity_required"] is False:
        return na("不需任前公示")
    if not ctx.has("publicity_start"):
        return na("缺少公示开始日期")
    start, end = ctx["publicity_start"], ctx["publicity_end"]
    decision, doc = ctx["decision_date"], ctx["appointment_doc_date"]
    if decision is None and doc is None:
        return na("缺少讨论决定日期和任职通知日期")
    if decision is not None and start < decision:
        return fail(f"公示开始日期 {start} 早于讨论决定日期 {decision}")
    if doc is not None:
        last = end or start
        if last >= doc:
            return fail(f"任职通知日期 {doc} 不晚于公示结束日期 {last}，公示未结束即下发任职通知")
    return ok()


@rule("P35")
def p35_publicity_complaints(ctx):
    """公示反映问题未查清即任职 — 条例 任职章 ("公示结果不影响任职的，办理任职手续"): complaints are
    resolved and the 公示 result is 不影响任职 before the appointment document."""
    doc = ctx["appointment_doc_date"]
    if doc is None:
        return na("尚未下发任职通知")
    count, verified, result = ctx["complaints_count"], ctx["complaints_verified"], ctx["publicity_result"]
    if count is None and verified is None and result is None:
        return na("缺少公示反映问题和公示结果")
    if result in ("影响任职", "暂缓任职"):
        return fail(f"公示结果为“{result}”，仍于 {doc} 下发任职通知")
    if (count or 0) > 0 or verified not in (None, "无反映"):
        if verified in (None, "无反映", "核查中"):
            return fail(f"公示期间反映问题 {count or 0} 件，核查结论“{verified or '无'}”，未查清即于 {doc} 任职")
        if verified == "属实影响任职":
            return fail(f"公示反映问题属实影响任职，仍于 {doc} 下发任职通知")
    return ok()


@rule("P36")
def p36_breaking_publicity(ctx):
    """破格提拔公示未说明破格情形 — 条例 任职章 [2014 第四十一条]: a 破格 公示 states the specific
    circumstances and reasons."""
    if ctx["is_breaking_rule"] is not True:
        return na("不是破格提拔")
    if ctx["publicity_required"] is False:
        return na("不需任前公示")
    complete = ctx["publicity_content_complete"]
    if complete is None:
        return na("缺少公示内容是否完整")
    if complete is False:
        return fail("破格提拔，公示内容未说明破格的具体情形和理由")
    return ok()


# ---------------------------------------------------------------- 任职

@rule("P37")
def p37_approval_before_appointment(ctx):
    """应报上级审批未获批即任职 — 条例 讨论决定章 [2014 第三十九条]: when the appointment needs approval
    from above, the approval is dated no later than the appointment document."""
    if ctx["approval_route"] != "报上级审批":
        return na("不需报上级审批")
    doc = ctx["appointment_doc_date"]
    if doc is None:
        return na("尚未下发任职通知")
    reply = ctx["approval_reply_date"]
    return dated_by(reply, doc, f"应报上级审批，未获批复即于 {doc} 下发任职通知",
                    f"上级批复日期 {reply} 晚于任职通知日期 {doc}")


# Each label of ``probation_kinds`` → (post kinds, deputies only, not elected by 人大).
PROBATION_KINDS = {
    "党委/政府/人大/政协工作部门副职": ({"党委工作部门领导成员", "政府工作部门领导成员", "人大/政协工作机构领导成员"}, True),
    "机关内设机构领导职务": ({"机关内设机构领导职务"}, False),
    "纪委监委机关内设机构": ({"纪委监委机关内设机构"}, False),
    "法院/检察院内设机构(非人大任命)": ({"法院/检察院内设机构"}, False),
}


@rule("P38", probation_months=12, probation_kinds=list(PROBATION_KINDS), max_grade="厅局级正职")
def p38_probation_missing(ctx):
    """应实行试用期未实行 — 条例 任职章 [2014 第四十二条]; 试用期规定2001: a non-elected promotion to
    厅局级 or below as a department deputy or an internal-body leader carries a one-year 试用期."""
    if not ctx.has("selection_type", "target_post_kind", "target_grade"):
        return na("缺少任用类型、职位类别或拟任职务层次")
    if ctx["selection_type"] != "提拔":
        return na("不是提拔")
    if ctx["appointment_mode"] == "选任制":
        return na("选举产生的职务不实行试用期")
    gi = ctx.grade_index(ctx["target_grade"])
    if gi is None or gi > ctx.grade_index(ctx.params["max_grade"]):
        return na("不是厅局级以下职务")
    kind, principal = ctx["target_post_kind"], ctx["is_principal"]
    applies = None
    for label in ctx.params["probation_kinds"]:
        kinds, deputy_only = PROBATION_KINDS.get(label, ({label}, False))
        if kind in kinds and not (deputy_only and principal is not False):
            applies = label
            break
    if applies is None:
        return na(f"职位类别“{kind}”{'（正职）' if principal else ''}不属实行试用期的范围")
    flag = ctx["probation_applicable"]
    if flag is None:
        return na("缺少是否实行试用期")
    if flag is False:
        return fail(f"提拔任{applies}（{kind}），应实行 {ctx.params['probation_months']} 个月任职试用期而未实行")
    return ok()


@rule("P39", review_grace_days=30)
def p39_probation_review(ctx):
    """试用期满未考核或不胜任仍转正 — 条例 任职章 [2014 第四十二条]: a confirmation despite 不胜任 is red;
    no review N days after the 试用期 ended (or a confirmation without a review) is yellow."""
    if ctx["probation_applicable"] is False:
        return na("不实行试用期")
    end = ctx["probation_end"]
    if end is None:
        return na("缺少试用期满日期")
    result, formal = ctx["probation_review_result"], ctx["formal_appointment_date"]
    if result == "不胜任" and formal is not None:
        return fail(f"试用期满考核不胜任，仍于 {formal} 正式任职", severity="red")
    reviewed = result in ("胜任", "不胜任")
    if not reviewed and formal is not None:
        return fail(f"试用期满未经考核（结果：{result or '无'}），即于 {formal} 正式任职", severity="yellow")
    grace = ctx.params["review_grace_days"]
    due = end + dt.timedelta(days=grace)
    if not reviewed and ctx.as_of > due:
        return fail(f"试用期已于 {end} 期满，超过 {grace} 天（{due}）仍未考核", severity="yellow")
    return ok()


@rule("P40", no_talk_types=["免职"])
def p40_appointment_talk(ctx):
    """未进行任职谈话 — 条例 任职章 [2014 第四十三条]: a 任职谈话 (date and interviewer) is recorded once
    the appointment is made."""
    if ctx["selection_type"] in ctx.params["no_talk_types"]:
        return na("免职不需任职谈话")
    if ctx["appointment_doc_date"] is None:
        return na("尚未任职")
    missing = [label for key, label in (("appointment_talk_date", "谈话日期"), ("appointment_talk_by", "谈话人"))
               if ctx[key] is None]
    if missing:
        return fail(f"已于 {ctx['appointment_doc_date']} 任职，未记录任职谈话（缺{'、'.join(missing)}）")
    return ok()


# ---------------------------------------------------------------- 责任签字

@rule("P41", resign_on_second_submission=False)
def p41_signatures(ctx):
    """三级签字缺失 — 天津系统 [L]: all three levels signed "情况属实同意报送" with a date, and the
    authenticity pledge ticked, before submission; optionally level 2 re-signs before the second."""
    problems = []
    for i in (1, 2, 3):
        signer, opinion, at = ctx[f"sig{i}_signer"], ctx[f"sig{i}_opinion"], ctx[f"sig{i}_signed_at"]
        if signer is None or at is None:
            problems.append(f"第{i}级未签字")
        elif opinion != SIGN_OK:
            problems.append(f"第{i}级签署意见为“{opinion or '空'}”，不是“{SIGN_OK}”")
    if ctx["authenticity_pledge"] is not True:
        problems.append("未勾选填报内容真实性承诺")
    if ctx.params["resign_on_second_submission"] and ctx["second_submitted_at"] is not None:
        first, sig2 = ctx["first_submitted_at"], ctx["sig2_signed_at"]
        if first is not None and sig2 is not None and sig2 <= first:
            problems.append(f"二次提交前第2级未重新签字（签字日期 {sig2}，初次提交 {first}）")
    if problems:
        return fail("三级签字缺失：" + "；".join(problems))
    return ok()


@rule("P42")
def p42_signature_order(ctx):
    """签字顺序或签字人冲突 — [L]: signature dates run sig1 ≤ sig2 ≤ sig3 ≤ first submission; the three
    signers are distinct and none is the candidate. (Relatives of the candidate are not recorded in the
    case, so that part can only be checked by the supervisor.)"""
    signers = [ctx[f"sig{i}_signer"] for i in (1, 2, 3)]
    dates = [ctx[f"sig{i}_signed_at"] for i in (1, 2, 3)]
    if all(s is None for s in signers) and all(d is None for d in dates):
        return na("尚无签字")
    problems = []
    chain = [(f"第{i + 1}级签字", d) for i, d in enumerate(dates)] + [("初次提交", ctx["first_submitted_at"])]
    chain = [(label, d) for label, d in chain if d is not None]
    for (la, a), (lb, b) in zip(chain, chain[1:]):
        if a > b:
            problems.append(f"{la}日期 {a} 晚于{lb}日期 {b}")
    for i in range(3):
        for j in range(i + 1, 3):
            if _same_person(signers[i], signers[j]):
                problems.append(f"第{i + 1}级与第{j + 1}级签字人同为 {signers[i].get('name')}")
    candidate = {"name": ctx["full_name"] or "", "id_card_no": ctx["id_card_no"] or ""}
    for i, s in enumerate(signers):
        if _same_person(s, candidate):
            problems.append(f"第{i + 1}级签字人 {s.get('name')} 即拟任人选本人")
    if problems:
        return fail("签字顺序或签字人冲突：" + "；".join(problems))
    return ok()
