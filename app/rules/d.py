"""D: 纪律 (discipline), D01–D11.

The 纪律和监督 chapter of 条例2019 (不准超职数配备、超机构规格提拔, 不准突击提拔调整干部 …), the 事前报告 regime
(报告办法2010; Sichuan's 2009 text: every item needs the higher department's written approval before the decision)
and 监督办法2019 (改变集体决定, 倒查).
"""
from __future__ import annotations

import datetime as dt

from app.rules.posts import COUNTY_TOWNSHIP_PRINCIPAL, MAIN_LEADER_TITLES, county_township_principal, main_leader_of
from app.rules.registry import fail, na, ok, rule

NOT_A_USE = ("免职", "降职")

ITEM_OVER_QUOTA = "超职数配备"
ITEM_LEADER_LEAVING = "机构变动或主要领导即将离任时调整干部"
ITEM_BATCH = "非换届期间一次性调整较多"
ITEM_RELATIVE = "领导干部亲属在本单位（系统）提拔"
ITEM_REUSE = "受处理处分后重新任用"
ITEM_TENURE = "正职任期未满调整"


def _report(ctx, item: str) -> tuple[bool, bool]:
    """(reported, approved) for one 事前报告 item: the item is listed, and the higher department replied 同意."""
    reported = item in (ctx["prior_report_items"] or [])
    return reported, reported and ctx["prior_report_reply"] == "同意"


def _report_state(ctx, item: str) -> str:
    reported, _ = _report(ctx, item)
    if not reported:
        return f"未就“{item}”事前报告"
    return f"已就“{item}”事前报告，但上级组织部门答复为“{ctx['prior_report_reply'] or '未答复'}”"


@rule("D01")
def d01_over_quota(ctx):
    """超职数配备 — 条例2019 纪律和监督章 (不准超职数配备); 追究办法2010 第四条(六): a promotion, further use or
    transfer into the grade needs a vacancy; an over-quota case reported and approved is yellow."""
    if not ctx.has("approved_quota", "current_incumbents", "selection_type"):
        return na("缺少核定职数、现有实配数或任用类型")
    if ctx["selection_type"] not in ("提拔", "进一步使用", "平级交流/转任"):
        return na(f"任用类型为{ctx['selection_type']}，不占领导职数")
    quota, now = ctx["approved_quota"], ctx["current_incumbents"]
    vacancy = quota - now
    if vacancy > 0:
        return ok()
    msg = f"核定职数 {quota} 名，现有实配 {now} 名，空缺 {vacancy} 名，无职数空缺"
    if _report(ctx, ITEM_OVER_QUOTA)[1]:
        return fail(msg + "；已事前报告并经上级同意超职数配备", severity="yellow")
    return fail(msg + "；" + _report_state(ctx, ITEM_OVER_QUOTA), severity="red")


@rule("D02")
def d02_above_unit_rank(ctx):
    """超机构规格提拔 — 条例2019 纪律和监督章 (不准超机构规格提拔): ``target_grade`` may not exceed the target unit's
    机构规格 (org_unit.max_grade)."""
    if not ctx.has("target_grade"):
        return na("缺少拟任职务层次")
    if ctx["selection_type"] == "免职":
        return na("免职不涉及拟任职务层次")
    unit = ctx.target_unit
    target, top = ctx.grade_index(ctx["target_grade"]), ctx.grade_index(unit.max_grade if unit else None)
    if target is None or top is None:
        return na("缺少拟任单位的机构规格")
    if target > top:
        return fail(f"拟任职务层次 {ctx['target_grade']} 高于拟任单位机构规格 {unit.max_grade}")
    return ok()


def leader_departures(ctx, grace_days: int, window_days: int, titles) -> tuple[bool, list[str]]:
    """The system's cases that moved this unit's 主要领导 out after the move was settled and on or after this
    decision, as sentences. Settled: when the unit could know — the 考察预告, else the 考察 start, else the
    motion; with none recorded, ``window_days`` before the departure decision. Also whether there is any
    such departure at all (the rule then concerns the case)."""
    decided = ctx["decision_date"]
    if decided is None or not ctx.related.leader_departures:
        return False, []
    found, concerned = [], False
    for d in ctx.related.leader_departures:
        if not main_leader_of(d.get("current_post"), ctx.related.unit_name, titles):
            continue
        concerned = True
        left = d["decision_date"]
        settled, how = next(((d[k], label) for k, label in (("inspection_notice_date", "发布考察预告"),
                                                             ("inspection_start", "开始考察"),
                                                             ("motion_meeting_date", "动议"))
                             if d.get(k) is not None), (left - dt.timedelta(days=window_days), "推定明确"))
        if settled + dt.timedelta(days=grace_days) < decided <= left:
            found.append(f"系统内案例 {d['case_no']} 于 {left} 决定本单位主要领导（{d['current_post']}）"
                         f"{d['selection_type']}，{settled} 已{how}")
    return concerned, found


@rule("D03", grace_days=0, window_days=90, leader_titles=MAIN_LEADER_TITLES)
def d03_rush_before_leader_leaves(ctx):
    """主要领导调整已明确后突击提拔 — 条例2019 纪律和监督章 (不准在工作调动、机构变动时突击提拔、调整干部);
    追究办法2010 第四条(五): a decision taken more than ``grace_days`` after the main leader's transfer was settled
    is red unless reported and approved — settled as the unit declares it, or as a case in the system shows it:
    one that moves the unit's 主要领导 out (免职, 调任) on or after this decision, settled from its 考察预告
    (``leader_departures``), whether or not the unit declared it."""
    declared, decided = ctx["main_leader_transfer_settled_date"], ctx["decision_date"]
    grace = ctx.params["grace_days"]
    concerned, found = leader_departures(ctx, grace, ctx.params["window_days"], ctx.params["leader_titles"])
    if decided is None or (declared is None and not concerned):
        return na("主要领导调整未明确或缺少讨论决定日期")
    if declared is not None and decided > declared + dt.timedelta(days=grace):
        found.insert(0, f"本单位主要领导调整已于 {declared} 明确")
    if not found or _report(ctx, ITEM_LEADER_LEAVING)[1]:
        return ok()
    return fail("；".join(found) + f"，{decided} 仍讨论决定干部任用；" + _report_state(ctx, ITEM_LEADER_LEAVING))


def _in_window(day: dt.date, window) -> tuple[bool, str]:
    start, end = window[0], window[1]
    name = window[2] if len(window) > 2 and window[2] else "冻结期"
    return start <= day <= end, f"{name}（{start} 至 {end}）"


@rule("D04")
def d04_freeze_window(ctx):
    """机构改革/换届冻结期调整干部 — 条例2019 纪律和监督章; 换届纪律: no decision inside a freeze window configured
    for the unit (admin data, ``ctx.related.freeze_windows``), nor while ``freeze_window_flag`` is set."""
    flag, decided = ctx["freeze_window_flag"], ctx["decision_date"]
    if flag is None and decided is None:
        return na("缺少冻结期标识和讨论决定日期")
    if flag is True:
        return fail("本案标记为处于机构改革/换届冻结期，冻结期内不得调整干部")
    if decided is not None:
        for window in ctx.related.freeze_windows or []:
            inside, label = _in_window(decided, window)
            if inside:
                return fail(f"讨论决定日期 {decided} 处于{label}内，冻结期内不得调整干部")
    return ok()


@rule("D05", max_batch=10)
def d05_large_batch(ctx):
    """非换届期间一次性大量调整 — 报告办法2010; 四川办法2009: more than ``max_batch`` cases of one unit decided at one
    meeting, outside a 换届, need an approved 事前报告."""
    size = ctx.related.batch_size
    if not size or not ctx.has("decision_date"):
        return na("缺少同次会议决定的案件数或讨论决定日期")
    if ctx["selection_method"] == "换届考察":
        return na("换届期间调整，不适用")
    limit = ctx.params["max_batch"]
    if size <= limit or _report(ctx, ITEM_BATCH)[1]:
        return ok()
    return fail(f"{ctx['decision_date']} 同一次会议决定 {size} 人，超过 {limit} 人；" + _report_state(ctx, ITEM_BATCH))


@rule("D06")
def d06_relative_unreported(ctx):
    """领导干部亲属在本单位（系统）提拔未报告 — 报告办法2010; 追究办法2010 第八条(四): a non-direct kinship with a
    leader of the target unit needs an approved 事前报告."""
    kin = ctx["kinship_avoidance"]
    if kin is None:
        return na("缺少亲属关系回避情况")
    if kin != "与拟任单位领导成员有亲属关系-非直接隶属":
        return na("不属于领导干部亲属在本单位（系统）任用（直接隶属的情形由 C14 判定）")
    if ctx["selection_type"] in NOT_A_USE:
        return na(f"任用类型为{ctx['selection_type']}")
    if _report(ctx, ITEM_RELATIVE)[1]:
        return ok()
    return fail("与拟任单位领导成员有亲属关系（非直接隶属）；" + _report_state(ctx, ITEM_RELATIVE))


@rule("D07", lookback_years=5)
def d07_reuse_after_sanction(ctx):
    """受处理处分后重新任用未报告 — 报告办法2010; 四川办法2009: a use within ``lookback_years`` of a 处理/处分 needs an
    approved 事前报告. Only a sanction decided by the decision date counts (later ones are D11's)."""
    kind = ctx["sanction_type"]
    if kind is None or kind == "无":
        return na("无处理处分")
    if not ctx.has("sanction_date", "selection_type"):
        return na("缺少处理处分日期或任用类型")
    if ctx["selection_type"] in NOT_A_USE:
        return na(f"任用类型为{ctx['selection_type']}，不是重新任用")
    if not ctx.known_at_decision(ctx["sanction_date"]):
        return na(f"处理处分（{ctx['sanction_date']}）在讨论决定之后作出，不是“受处理处分后重新任用”（由 D11 倒查）")
    years = ctx.params["lookback_years"]
    day = ctx.judge_date
    if ctx.add_months(ctx["sanction_date"], 12 * years) <= day:
        return ok()
    if _report(ctx, ITEM_REUSE)[1]:
        return ok()
    return fail(f"{kind}（{ctx['sanction_date']}）后 {years} 年内于 {day} {ctx['selection_type']}；"
                + _report_state(ctx, ITEM_REUSE))


@rule("D08", min_tenure_years=3, post_patterns=COUNTY_TOWNSHIP_PRINCIPAL)
def d08_principal_moved_early(ctx):
    """正职任期未满调整未报告 — 四川办法2009 (县乡党政正职任期不到3年); 《党政领导干部职务任期暂行规定》(2006)
    第二条 (县（市、区、旗）、乡（镇）党委、政府领导班子正职): a 县乡党政正职 (by ``current_post`` and
    ``current_grade``, app/rules/posts.py) moved less than ``min_tenure_years`` after taking the post needs an
    approved 事前报告. Other principals (a 科长, a 局长) are outside the text."""
    if not ctx.has("current_grade", "current_post_date", "decision_date", "selection_type"):
        return na("缺少现职务层次、任现职时间、讨论决定日期或任用类型")
    if not ctx["current_grade"].endswith("正职"):
        return na("现任职务不是正职")
    if not county_township_principal(ctx["current_post"], ctx["current_grade"], ctx.params["post_patterns"]):
        return na(f"现任职务“{ctx['current_post'] or '未填'}”不是县乡党委、政府正职")
    if ctx["selection_type"] == "职级晋升":
        return na("职级晋升不调整职务")
    start, decided, years = ctx["current_post_date"], ctx["decision_date"], ctx.params["min_tenure_years"]
    if ctx.add_months(start, 12 * years) <= decided:
        return ok()
    if _report(ctx, ITEM_TENURE)[1]:
        return ok()
    months = (decided.year - start.year) * 12 + decided.month - start.month - (decided.day < start.day)
    return fail(f"{ctx['current_grade']}自 {start} 任现职，至 {decided} 仅 {months} 个月，不满 {years} 年即"
                f"{ctx['selection_type']}；" + _report_state(ctx, ITEM_TENURE))


@rule("D09")
def d09_changed_collective_decision(ctx):
    """改变党委集体决定 — 追究办法2010 第四条(四); 监督办法2019: an appointment document was issued although the
    committee did not pass the appointment. (Issuing something other than what was decided is a supervisor's
    manual finding; no case item records it.)"""
    issued = ctx["appointment_doc_date"] or ctx["appointment_doc_no"]
    if issued is None:
        return na("尚未发任职通知")
    result = ctx["decision_result"]
    if result is None:
        return na("缺少决定结果")
    if result != "通过":
        return fail(f"决定结果为“{result}”，仍印发任职通知（{ctx['appointment_doc_no'] or '无文号'}，"
                    f"{ctx['appointment_doc_date'] or '日期未填'}）")
    return ok()


@rule("D10", max_days=60)
def d10_execution_delayed(ctx):
    """拖延执行党委决定 — [L]; 监督办法2019: a 通过 decision with no appointment document more than ``max_days``
    days later (judged on the document date, else on the evaluation date)."""
    if not ctx.has("decision_result", "decision_date"):
        return na("缺少决定结果或讨论决定日期")
    if ctx["decision_result"] != "通过":
        return na("决定未通过")
    decided, doc = ctx["decision_date"], ctx["appointment_doc_date"]
    end = doc or ctx.as_of
    days = (end - decided).days
    limit = ctx.params["max_days"]
    if days <= limit:
        return ok()
    if doc:
        return fail(f"{decided} 决定通过，{doc} 才发任职通知，相隔 {days} 天，超过 {limit} 天")
    return fail(f"{decided} 决定通过，至 {end} 已 {days} 天仍未发任职通知，超过 {limit} 天")


@rule("D11", lookback_years=3)
def d11_retrospective_check(ctx):
    """带病提拔倒查触发 — 监督办法2019 (倒查、失察追责): a 处理/处分 decided after the decision and within
    ``lookback_years`` of the promotion (正式任职, else the decision) opens a 倒查 task; the supervisor then confirms whether the conduct
    predates the decision."""
    kind = ctx["sanction_type"]
    if kind is None or kind == "无":
        return na("无处理处分")
    if ctx["selection_type"] not in ("提拔", "进一步使用"):
        return na("不是提拔或进一步使用")
    promoted = ctx["formal_appointment_date"] or ctx["decision_date"]
    if not ctx.has("sanction_date") or promoted is None:
        return na("缺少处理处分日期或任职日期")
    sanctioned, years = ctx["sanction_date"], ctx.params["lookback_years"]
    # From the decision on: a sanction the selecting body could not know is this rule's, and no other's.
    start = min(promoted, ctx["decision_date"] or promoted)
    if sanctioned <= start or sanctioned >= ctx.add_months(promoted, 12 * years):
        return ok()
    return fail(f"{promoted} 任职后，{sanctioned} 受到{kind}（{years} 年内），启动倒查：请核实违纪违法行为是否发生在"
                f"讨论决定之前")
