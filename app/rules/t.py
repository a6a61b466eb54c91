"""T: 时限 (deadlines), T01–T11 (shared/spec/regulations.md B.5).

A deadline whose event has not happened yet is judged on ``ctx.as_of`` ("now"): overdue is a hit,
not yet due is a pass. A rule whose anchor date is absent, or that does not concern the case, is n/a.
"""
from __future__ import annotations

import datetime as dt

from app.rules.registry import fail, na, ok, rule

MET_TRAINING = "已达到规定要求"


def _d(day: dt.date) -> str:
    return day.isoformat()


def _due(ctx, anchor: dt.date, days: int, day_type: str = "calendar") -> dt.date:
    """The last day of a period of ``days`` days (calendar or working) after ``anchor``."""
    if day_type == "working":
        return ctx.calendar.add_working_days(anchor, days)
    return anchor + dt.timedelta(days=days)


def _deadline(ctx, due: dt.date, done: dt.date | None, what: str, anchor_text: str, pending: str = "") -> object:
    """Pass when ``done`` is on or before ``due``; when not done, a hit only once ``as_of`` is past ``due``."""
    if done is not None:
        if done > due:
            return fail(f"{what}于 {_d(done)}，{anchor_text}（期限 {_d(due)}），逾期 {(done - due).days} 天")
        return ok()
    if ctx.as_of > due:
        return fail(f"{anchor_text}（期限 {_d(due)}），至 {_d(ctx.as_of)} 仍未{pending or what}，已逾期 {(ctx.as_of - due).days} 天")
    return ok()


@rule("T01", first_submit_days=5, day_type="calendar")
def t01_first_submission(ctx):
    """初次提交超期 — 天津系统 [L]: the first submission is due within N (calendar or working) days of 讨论决定."""
    if not ctx.has("decision_date"):
        return na("尚无讨论决定日期")
    days, day_type = ctx.params["first_submit_days"], ctx.params["day_type"]
    due = _due(ctx, ctx["decision_date"], days, day_type)
    unit = "个工作日" if day_type == "working" else "日"
    return _deadline(ctx, due, ctx["first_submitted_at"], "初次提交",
                     f"讨论决定 {_d(ctx['decision_date'])} 后 {days} {unit}内须初次提交")


@rule("T02", second_submit_days=5, anchor="appointment_doc_date", day_type="calendar")
def t02_second_submission(ctx):
    """二次提交超期 — 天津系统 [L] (N not published; 5 is a placeholder): the second submission is due within N
    (calendar or working) days of 正式任用, anchored on the appointment document date. ``day_type`` is ours:
    the catalogue gives it only to T01, but the reporting rule sets both nodes the same way."""
    anchor_key = ctx.params["anchor"]
    if not ctx.has(anchor_key):
        return na("尚未任职（无任职通知/发文日期）")
    days, anchor, day_type = ctx.params["second_submit_days"], ctx[anchor_key], ctx.params.get("day_type", "calendar")
    due = _due(ctx, anchor, days, day_type)
    unit = "个工作日" if day_type == "working" else "日"
    return _deadline(ctx, due, ctx["second_submitted_at"], "二次提交",
                     f"任职（{_d(anchor)}）后 {days} {unit}内须二次提交")


@rule("T03", valid_days=90)
def t03_discipline_opinion_age(ctx):
    """纪检意见超过有效期 — [L]: the 纪检监察 reply must be at most ``valid_days`` old at the decision."""
    if not ctx.has("discipline_opinion_reply_date", "decision_date"):
        return na("缺少纪检监察机关回复日期或讨论决定日期")
    reply, decided, limit = ctx["discipline_opinion_reply_date"], ctx["decision_date"], ctx.params["valid_days"]
    age = (decided - reply).days
    if age > limit:
        return fail(f"纪检监察机关回复（{_d(reply)}）距讨论决定（{_d(decided)}）已 {age} 天，超过有效期 {limit} 天")
    return ok()


@rule("T04", valid_days=180)
def t04_checks_age(ctx):
    """档案审核/个人事项查核过旧 — [L]: the 档案审核 and 个人有关事项查核 must be at most ``valid_days`` old at the decision."""
    checks = [(k, label) for k, label in (("archive_review_date", "干部人事档案审核"),
                                          ("personal_matters_check_date", "个人有关事项报告查核")) if ctx.has(k)]
    if not ctx.has("decision_date") or not checks:
        return na("缺少讨论决定日期或档案审核、个人事项查核日期")
    decided, limit = ctx["decision_date"], ctx.params["valid_days"]
    stale = [f"{label}（{_d(ctx[k])}）距讨论决定（{_d(decided)}）已 {(decided - ctx[k]).days} 天"
             for k, label in checks if (decided - ctx[k]).days > limit]
    if stale:
        return fail("；".join(stale) + f"，超过 {limit} 天，应重新审核/查核")
    return ok()


@rule("T05", lead_days=30)
def t05_filing_lead(ctx):
    """备案未提前一个月 — 试用期规定2001 第三条: "需要办理备案手续的，应在发出试用任职通知前一个月办理备案手续"."""
    if ctx["approval_route"] != "报上级备案" or ctx["probation_applicable"] is not True:
        return na("不是需报上级备案的试用期任职")
    if not ctx.has("approval_submit_date", "appointment_doc_date"):
        return na("缺少备案报送日期或任职通知/发文日期")
    filed, notice, lead = ctx["approval_submit_date"], ctx["appointment_doc_date"], ctx.params["lead_days"]
    ahead = (notice - filed).days
    if ahead < lead:
        return fail(f"备案报送（{_d(filed)}）仅早于试用任职通知（{_d(notice)}）{ahead} 天，应提前一个月（{lead} 天）办理备案")
    return ok()


@rule("T06", reply_working_days=10)
def t06_prior_report_reply(ctx):
    """上级答复超过时限（跟踪） — 四川办法2009; 报告办法2010: the 事前报告 reply is due within N working days."""
    if ctx["prior_report_required"] is False or not ctx.has("prior_report_date"):
        return na("无事前报告")
    sent, days = ctx["prior_report_date"], ctx.params["reply_working_days"]
    due = ctx.calendar.add_working_days(sent, days)
    reply = ctx["prior_report_reply_date"] if ctx["prior_report_reply"] != "未答复" else None
    if reply is not None:
        used = ctx.calendar.working_days_between(sent + dt.timedelta(days=1), reply)
        if used > days:
            return fail(f"事前报告 {_d(sent)} 报送，上级 {_d(reply)} 答复，用时 {used} 个工作日，超过 {days} 个工作日")
        return ok()
    if ctx.as_of > due:
        used = ctx.calendar.working_days_between(sent + dt.timedelta(days=1), ctx.as_of)
        return fail(f"事前报告 {_d(sent)} 报送，至 {_d(ctx.as_of)} 已 {used} 个工作日上级仍未答复（时限 {days} 个工作日，"
                    f"应于 {_d(due)} 前答复）")
    return ok()


@rule("T07", consent_months=1)
def t07_co_manager_silence(ctx):
    """协管方未满一个月即视为同意 — 条例 讨论决定章 (2014 第三十四条): silence counts as consent only after one month."""
    if ctx["co_manager_reply"] != "逾期未复视为同意":
        return na("协管方意见不是“逾期未复视为同意”")
    if not ctx.has("co_manager_request_date", "decision_date"):
        return na("缺少征求协管方意见日期或讨论决定日期")
    asked, decided, months = ctx["co_manager_request_date"], ctx["decision_date"], ctx.params["consent_months"]
    earliest = ctx.add_months(asked, months)
    if decided < earliest:
        return fail(f"{_d(asked)} 征求协管方意见，{_d(decided)} 即以“逾期未复视为同意”讨论决定，"
                    f"未满 {months} 个月（最早 {_d(earliest)}）")
    return ok()


@rule("T08", max_days=30)
def t08_appointment_talk(ctx):
    """任职谈话迟延 — [L]: the 任职谈话 is held within ``max_days`` days of the appointment document."""
    if not ctx.has("appointment_doc_date"):
        return na("尚无任职通知/发文日期")
    doc, limit = ctx["appointment_doc_date"], ctx.params["max_days"]
    return _deadline(ctx, doc + dt.timedelta(days=limit), ctx["appointment_talk_date"], "任职谈话",
                     f"任职通知/发文 {_d(doc)} 后 {limit} 日内应进行任职谈话", pending="进行任职谈话")


@rule("T09", makeup_months=12)
def t09_training_makeup(ctx):
    """提任后一年内未完成补训 — 条例2019 第八条(五): training not met at promotion must be completed within 12 months."""
    if not ctx.has("training_status", "appointment_effective_date"):
        return na("缺少任职培训情况或任职时间")
    if ctx["selection_type"] not in (None, "提拔"):
        return na("不是提拔任职")
    if ctx["training_status"] == MET_TRAINING:
        return ok()
    start, months = ctx["appointment_effective_date"], ctx.params["makeup_months"]
    due = ctx.add_months(start, months)
    if ctx.as_of > due:
        return fail(f"{_d(start)} 提任，任职培训仍为“{ctx['training_status']}”，应于 {months} 个月内（{_d(due)} 前）"
                    f"完成补训，至 {_d(ctx.as_of)} 未完成")
    return ok()


@rule("T10")
def t10_correction_overdue(ctx):
    """限期整改逾期 — [L]; 监督办法2019 (整改): a correction ordered by the supervisor is past its deadline."""
    if not ctx.has("correction_deadline"):
        return na("无限期整改")
    deadline = ctx["correction_deadline"]
    return _deadline(ctx, deadline, ctx["correction_done_at"], "整改完成", "须限期整改")


@rule("T11", max_pending_days=90)
def t11_stalled(ctx):
    """决定后长期未任职/未二次提交 — [L]: a case passed by the meeting is appointed and submitted again within
    ``max_pending_days`` days."""
    if ctx["decision_result"] != "通过" or not ctx.has("decision_date"):
        return na("讨论决定未通过或无讨论决定日期")
    if ctx.has("appointment_doc_date", "second_submitted_at"):
        return ok()
    decided, limit = ctx["decision_date"], ctx.params["max_pending_days"]
    waited = (ctx.as_of - decided).days
    if waited > limit:
        missing = "、".join(w for k, w in (("appointment_doc_date", "任职发文"), ("second_submitted_at", "二次提交"))
                           if not ctx.has(k))
        return fail(f"{_d(decided)} 讨论决定通过，至 {_d(ctx.as_of)} 已 {waited} 天仍未{missing}（超过 {limit} 天）")
    return ok()
