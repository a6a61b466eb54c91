"""Patterns with no item and no rule before issue 13: interventions (D12), recusal in the deciding body
(C17) and a body deciding a post above its authority (D13). Items: app/spec/modules.json."""
from __future__ import annotations

from app.enums import grade_rank
from app.rules.registry import fail, na, ok, rule

# The highest target a body of each 任免权限 decides itself (a 领导职务 level or its 职级), [L].
AUTHORITY_CEILING = {"科级任免权": "乡科级正职", "处级任免权": "县处级正职", "无": None}


@rule("D12")
def d12_intervention_unrecorded(ctx):
    """说情打招呼、插手干预未如实记录报告 — 条例2019 纪律和监督章 (不准…说情打招呼、插手干预干部选拔任用) [M];
    干部选拔任用中说情打招呼、插手干预的登记报告 (记录何人、何时、何种方式、所涉事项，向上级组织部门或纪检监察
    机关报告) [L]: an intervention received during the selection must be recorded and reported by the decision.
    A recorded and reported one passes: reporting must not cost the unit its light."""
    received = ctx["intervention_received"]
    if received is None:
        return na("未填写是否有说情打招呼、插手干预")
    if received is False:
        return ok()
    problems = []
    if ctx["intervention_record"] is None:
        problems.append("未登记说情打招呼、插手干预的具体情况（何人、何时、何种方式、所涉事项）")
    reported, decided = ctx["intervention_reported_date"], ctx["decision_date"]
    if reported is None:
        problems.append("未向上级组织部门或纪检监察机关报告")
    elif decided is not None and reported > decided:
        problems.append(f"报告日期 {reported} 晚于讨论决定日期 {decided}")
    if problems:
        return fail("选拔任用过程中有说情打招呼、插手干预：" + "；".join(problems))
    return ok()


@rule("C17")
def c17_deciding_member_not_recused(ctx):
    """决策成员应回避未回避 — 条例2019 交流、回避章 (“讨论干部任免，涉及与会人员本人及其亲属的，本人必须回避”)
    [M]; 《公务员回避规定》(2020) 第五条 (夫妻关系、直系血亲关系、三代以内旁系血亲关系以及近姻亲关系) and 第九条
    (公务回避：涉及本人或亲属利害关系) [M]: every member of the deciding body who is a close relative of the candidate
    or has another stated conflict withdraws, and a withdrawn member does not vote."""
    conflicted = ctx["conflicted_members"]
    if conflicted is None:
        return na("未填写与拟任人选有利害关系的决策成员数")
    if conflicted == 0:
        return ok()
    recused = ctx["recused_members"]
    if recused is None:
        return fail(f"{conflicted} 名决策成员与拟任人选有近亲属或其他利害关系，未记录回避情况")
    if recused < conflicted:
        return fail(f"{conflicted} 名决策成员与拟任人选有近亲属或其他利害关系，仅 {recused} 名回避")
    if recused > conflicted:
        return fail(f"回避成员数（{recused}）多于有利害关系的成员数（{conflicted}），请核对", severity="yellow")
    votes = [ctx[k] for k in ("votes_for", "votes_against", "votes_defer") if ctx[k] is not None]
    present = ctx["members_present"]
    if votes and present is not None and sum(votes) > present - recused:
        return fail(f"实到 {present} 人中 {recused} 人回避，表决票数合计 {sum(votes)}，多于可参加表决的 {present - recused} 人："
                    f"回避成员参与了表决")
    return ok()


@rule("D13", authority_ceiling=AUTHORITY_CEILING)
def d13_above_authority(ctx):
    """超越干部管理权限决定任用 — 条例2019 总则 (党委（党组）及其组织（人事）部门按照干部管理权限履行选拔任用
    党政领导干部职责) [M]; 追究办法2010 (超越权限选拔任用干部) [M]: a body with 科级任免权 decides no post above
    乡科级正职 (nor its 职级), one without 任免权 none, itself (本级决定 or 报上级备案); a post above its
    authority goes to the higher body for approval (报上级审批). The ceilings are a parameter [L]."""
    unit = ctx.unit
    if unit is None or not getattr(unit, "authority", ""):
        return na("缺少选任责任单位的任免权限")
    if not ctx.has("target_grade", "approval_route"):
        return na("缺少拟任职务层次或报批/备案方式")
    if ctx["selection_type"] in ("免职", "降职"):
        return na(f"任用类型为{ctx['selection_type']}")
    if ctx["approval_route"] == "报上级审批":
        return ok()
    table = ctx.params["authority_ceiling"] or {}
    if unit.authority not in table:
        return na(f"任免权限“{unit.authority}”未配置上限")
    ceiling, target = table[unit.authority], grade_rank(ctx["target_grade"])
    if target is None:
        return na("拟任职务层次无法比较")
    if ceiling is None:
        return fail(f"选任责任单位无干部任免权，却以“{ctx['approval_route']}”决定{ctx['target_grade']}任用")
    if target > grade_rank(ceiling):
        return fail(f"选任责任单位为{unit.authority}（至{ceiling}），却以“{ctx['approval_route']}”决定"
                    f"{ctx['target_grade']}任用，应报上级审批")
    return ok()
