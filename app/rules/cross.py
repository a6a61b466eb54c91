"""Cross-case rules: one person across cases (X18, X19) and one unit across cases (D14; D03, in
d.py, reads the system's leader departures too).

They read only ``ctx.related``, which the engine fills from app/queries/people.py in batched queries,
so they stay pure functions testable with a hand-made ``Related``. Only cases decided before this one
(on the same day, created before it) are compared: a later case is not held against this one.
"""
from __future__ import annotations

import datetime as dt
import statistics

from app.rules.context import PERSON_FACTS
from app.rules.d import ITEM_BATCH, _report, _report_state
from app.rules.posts import same_post
from app.rules.registry import fail, na, ok, rule

DOCUMENTED = "存在差异已认定（以档案为准）"
NOT_INTO_POST = ("免职", "降职")


def _earlier(ctx) -> list[dict]:
    """The person's other cases that came before this one: decided earlier, or on the same day (or both
    undecided) and created earlier. Newest first."""
    mine, root = ctx["decision_date"], ctx.related.root_id
    key = ("earlier", mine, root)
    if key in ctx.related.memo:  # X18 and X19 both read it
        return ctx.related.memo[key]

    def before(row) -> bool:
        theirs = row.get("decision_date")
        first = root is None or (row.get("root_id") or 0) < root
        if mine is None:
            return theirs is not None or first
        if theirs is None:
            return False
        return theirs < mine or (theirs == mine and first)

    rows = [r for r in ctx.related.same_person if before(r)]
    rows.sort(key=lambda r: (r.get("decision_date") or dt.date.max, r.get("root_id") or 0), reverse=True)
    ctx.related.memo[key] = rows
    return rows


def _text(value) -> str:
    return value.isoformat() if isinstance(value, dt.date) else str(value)


def _corrected(ctx, key: str, old, new) -> bool:
    return any(c["item_key"] == key and c["old_value"] == _text(old) and c["new_value"] == _text(new)
               for c in ctx.related.corrections)


@rule("X18")
def x18_person_facts_differ(ctx):
    """同一人在不同案例中“三龄两历”等信息不一致 — 条例2019 第三十一条 (档案必审); 《干部人事档案工作条例》(2018)
    (干部人事档案专项审核, 出生日期、参加工作时间、入党时间、学历学位的认定; 档案造假“零容忍”): the same
    身份证号 in an earlier case with another 姓名, 出生年月, 参加工作时间, 入党时间 or 全日制教育学历 is red unless the
    change is recorded as a 档案专审 correction in the person registry — the case's own 三龄认定 (存在差异已认定)
    does not explain a change between two cases, since that is how a moved birth year gets through."""
    if not ctx.has("id_card_no"):
        return na("缺少公民身份号码")
    earlier = _earlier(ctx)
    if not earlier:
        return na("系统内无此人更早的案例")
    here = ctx["case_no"] or "本案"
    found = []
    for row in earlier:
        for key, label in PERSON_FACTS.items():
            old, new = row.get(key), ctx[key]
            if old is None or new is None or old == new or _corrected(ctx, key, old, new):
                continue
            found.append(f"{label}：{here}为 {_text(new)}，{row['case_no']}为 {_text(old)}")
    if not found:
        return ok()
    msg = "同一身份证号在不同案例中信息不一致（" + "；".join(dict.fromkeys(found)) + "）；人员档案中无档案专审更正记录"
    if ctx["sanling_result"] == DOCUMENTED:  # the unit's own 认定 does not explain a change between cases
        msg += "（本案虽认定“以档案为准”，仍须登记专审更正）"
    return fail(msg)


@rule("X19", tolerance_days=31)
def x19_post_date_differs(ctx):
    """任现职时间与系统内任职记录不一致 — 条例2019 第三十一条 (档案必审: 任职经历); 《干部人事档案工作条例》(2018):
    the 任现职时间 must agree, within ``tolerance_days``, with the 任职 date of the earlier case in the system that
    put the person into the post now held (same post text, decided 通过): its 任职时间, else its decision date."""
    if not ctx.has("current_post", "current_post_date"):
        return na("缺少现任职务或任现职时间")
    for row in _earlier(ctx):
        if (row.get("decision_result") != "通过" or row.get("selection_type") in NOT_INTO_POST
                or not same_post(row.get("target_post"), ctx["current_post"])):
            continue
        day = row.get("appointment_effective_date") or row.get("decision_date")
        if day is None:
            return na(f"{row['case_no']} 未记录任职时间")
        gap = abs((ctx["current_post_date"] - day).days)
        if gap > ctx.params["tolerance_days"]:
            return fail(f"任现职时间：{ctx['case_no'] or '本案'}填报 {ctx['current_post_date']}，系统内 {row['case_no']}"
                        f"任“{row['target_post']}”的任职时间为 {day}，相差 {gap} 天")
        return ok()
    return na("系统内无此人任现职的案例")


# ---- one unit across cases --------------------------------------------------------------------------

@rule("D14", factor=2, min_history=3, min_size=5)
def d14_batch_spike(ctx):
    """一次性调整人数明显超出本单位以往 — 条例2019 纪律和监督章 (不准突击提拔、调整干部); 报告办法2010
    (非换届期间一次性调整较多): a meeting deciding more than ``factor`` × the median size of the unit's meetings
    of the last three years (and more than ``min_size``) needs an approved 事前报告; judged once the unit has
    ``min_history`` earlier meetings in the system."""
    size, history = ctx.related.batch_size, ctx.related.unit_batch_sizes
    if not size or not ctx.has("decision_date"):
        return na("缺少同次会议决定的案件数或讨论决定日期")
    if ctx["selection_method"] == "换届考察":
        return na("换届期间调整，不适用")
    if len(history) < ctx.params["min_history"]:
        return na(f"本单位此前会议不足 {ctx.params['min_history']} 次，无从比较")
    median = statistics.median(history)
    limit = max(ctx.params["min_size"], ctx.params["factor"] * median)
    if size <= limit or _report(ctx, ITEM_BATCH)[1]:
        return ok()
    return fail(f"{ctx['decision_date']} 同一次会议决定 {size} 人，本单位此前三年 {len(history)} 次会议每次中位数 "
                f"{median:g} 人，超过 {ctx.params['factor']} 倍（{limit:g} 人）；" + _report_state(ctx, ITEM_BATCH))
