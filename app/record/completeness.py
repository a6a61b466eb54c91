"""Which items a module still lacks, and the module's state on the case page.

- ``missing_items`` reports the required items of one module that are empty, and the conditional
  ones whose condition holds (``CONDITIONS``).
- ``module_state`` gives 未填 / 有问题 / 已完成 / 填写中.

Pure, like ``app.record.validation`` (whose typed reading and value checks these use), but for naming a
custom item's condition by its label (``custom_items.definitions``, read once per transaction).
"""
from __future__ import annotations

import datetime as dt
from collections.abc import Callable

from app.record import custom_items
from app.record.data import Problem
from app.record.validation import PARTY_MEMBERS, CaseValues, is_empty, problem_at, validate_values
from app.spec import SYSTEM_ITEMS, ItemSpec, items_by_key, module

# Items the system (submission and signing services, the supervisor) fills: never "missing" for the user.
SYSTEM_FILLED = ("first_submitted_at", "first_submitter", "review_result", "second_submitted_at")


# ---- missing items ---------------------------------------------------------------------------------

def _true(key):
    return lambda c: c[key] is True


def _false(key):
    return lambda c: c[key] is False


def _is(key, *wanted):
    return lambda c: c[key] in wanted


def _publicity(c):
    return c["publicity_required"] is True


# item → (condition on the typed values, reason shown). Conditional items not listed are never required
# (growth_place: the 地域回避 data is not in the case; correction_done_at, correction_note_file).
CONDITIONS: dict[str, tuple[Callable[[CaseValues], bool], str]] = {
    "party_join_date": (_is("political_status", *PARTY_MEMBERS), "党员必填"),
    "party_full_member_date": (_is("political_status", "中共党员"), "正式党员必填"),
    "sanction_date": (lambda c: c["sanction_type"] not in (None, "无"), "受过处理处分时必填"),
    "breaking_rule_reason": (_true("is_breaking_rule"), "破格提拔时必填"),
    "recommender": (_is("nomination_subject", "领导干部个人署名推荐"), "个人署名推荐时必填"),
    "recommendation_letter": (_is("nomination_subject", "领导干部个人署名推荐"), "个人署名推荐时必填"),
    **{k: (_true("recommendation_required"), "需民主推荐时必填") for k in (
        "talk_reco_date", "talk_reco_expected", "talk_reco_actual", "talk_reco_votes", "talk_reco_rank",
        "reco_tally_file")},
    "meeting_reco_skip_reason": (lambda c: c["recommendation_required"] is True and c["meeting_reco_done"] is False,
                                 "未进行会议推荐时必填"),
    **{k: (_true("meeting_reco_done"), "进行会议推荐时必填") for k in (
        "meeting_reco_date", "meeting_reco_expected", "meeting_reco_actual", "ballots_issued", "ballots_returned",
        "ballots_valid", "meeting_reco_votes", "meeting_reco_rank")},
    "petition_check_result": (_true("petition_received"), "收到信访举报时必填"),
    "co_manager_request_date": (lambda c: c["co_manager_reply"] not in (None, "不适用"), "双重管理干部必填"),
    **{k: (_true("prior_report_required"), "属事前报告事项时必填") for k in (
        "prior_report_items", "prior_report_date", "prior_report_reply")},
    "prior_report_reply_date": (lambda c: c["prior_report_required"] is True and c["prior_report_reply"] != "未答复",
                                "上级已答复时必填"),
    "absent_opinion_collected": (lambda c: None not in (c["members_present"], c["members_total"])
                                 and c["members_present"] < c["members_total"], "有成员缺席时必填"),
    "reported_items_explained": (_true("prior_report_required"), "属事前报告事项时必填"),
    "reconsideration_consent": (_true("is_reconsideration"), "复议时必填"),
    "publicity_exempt_reason": (_false("publicity_required"), "免于公示时必填"),
    **{k: (_publicity, "需任前公示时必填") for k in (
        "publicity_start", "publicity_end", "publicity_scope", "publicity_content_complete", "complaints_count",
        "complaints_verified", "publicity_result")},
    "complaint_check_file": (lambda c: (c["complaints_count"] or 0) > 0, "公示期间有反映问题时必填"),
    "approval_submit_date": (_is("approval_route", "报上级审批", "报上级备案"), "报上级审批或备案时必填"),
    "approval_reply_date": (_is("approval_route", "报上级审批"), "报上级审批时必填"),
    "probation_end": (_true("probation_applicable"), "实行试用期时必填"),
    "probation_review_result": (_true("probation_applicable"), "实行试用期时必填"),
    "formal_appointment_date": (lambda c: c["probation_applicable"] is True and c["probation_review_result"] == "胜任",
                                "试用期满考核胜任时必填"),
    "second_submitter": (lambda c: c["second_submitted_at"] is not None, "已二次提交时必填"),
    "correction_deadline": (_is("review_result", "红灯预警", "退回补正"), "红灯预警或退回补正时必填"),
}


def user_items(module_key: str) -> list[ItemSpec]:
    """The items of a module the reporting user enters (not SYSTEM_ITEMS, not filled on submission or signing)."""
    return [i for i in module(module_key).items
            if i.key not in SYSTEM_ITEMS and i.key not in SYSTEM_FILLED
            and (module_key != "signature" or i.key == "authenticity_pledge")]


def _label_of(key: str) -> str:
    item = items_by_key().get(key)
    if item is not None:
        return item.label
    return next((d.label for d in custom_items.definitions() if d.key == key), key)


def missing_custom(values: dict, module_key: str, extra=()) -> list[Problem]:
    """The case's required custom items (``extra``: ``custom_items.items_for``) that are empty; a
    conditional one ("cond") is required when the yes/no item its condition names is 是."""
    mod = values.get(module_key) or {}
    flat = {k: v for m in values.values() if isinstance(m, dict) for k, v in m.items()}
    out = []
    for item in extra:
        if not is_empty(mod.get(item.key)):
            continue
        if item.required == "Y":
            out.append(Problem(module_key, item.key, f"“{item.label}”未填写"))
        elif item.required == "cond" and item.condition and flat.get(item.condition) is True:
            out.append(Problem(module_key, item.key, f"“{item.label}”未填写（“{_label_of(item.condition)}”为是时必填）"))
    return out


def missing_items(values: dict, module_key: str, extra=()) -> list[Problem]:
    """The required items of the module that are empty, and the conditional ones whose condition holds
    (``extra``: the case's custom items of the module)."""
    c = CaseValues(values)
    out = missing_custom(values, module_key, extra)
    for item in user_items(module_key):
        if not is_empty(c.raw_value(item.key)):
            continue
        if item.required == "Y":
            out.append(problem_at(item.key, f"“{item.label}”未填写"))
        elif item.required == "cond" and item.key in CONDITIONS:
            condition, reason = CONDITIONS[item.key]
            if condition(c):
                out.append(problem_at(item.key, f"“{item.label}”未填写（{reason}）"))
    return out


# ---- module state ----------------------------------------------------------------------------------

def module_state(values: dict, module_key: str, completed: bool, today: dt.date | None = None, extra=()) -> str:
    """未填 (nothing entered), 有问题 (a problem in this module), 已完成 (marked complete, nothing missing), else 填写中."""
    c = CaseValues(values, today)
    mod = values.get(module_key) or {}
    if all(is_empty(c.raw_value(i.key)) for i in user_items(module_key)) and \
            all(is_empty(mod.get(i.key)) for i in extra):
        return "未填"
    if any(p.module == module_key for p in validate_values(values, today)):
        return "有问题"
    if completed and not missing_items(values, module_key, extra):
        return "已完成"
    return "填写中"
