"""T rules (时限, T01–T11): one table of rows over the base case (tests/factories.py: valid_case, RuleCase)."""
import datetime as dt


from app.rules.catalog import all_rules
from tests.factories import RuleCase, rule_tests

D = dt.date
NOT_MET = "未达到（提任后一年内补训）"

TABLE = [
    # T01 初次提交: base decided 2026-02-12, submitted 2026-02-16 (4 days).
    RuleCase("T01", "pass", note="base 4 days"),
    RuleCase("T01", "fail", {"decision_date": D(2026, 3, 3), "first_submitted_at": D(2026, 3, 11)}, severity="red",
             note="catalogue example 8 days"),
    RuleCase("T01", "pass", {"decision_date": D(2026, 3, 3), "first_submitted_at": D(2026, 3, 8)},
             note="exactly 5 days"),
    RuleCase("T01", "fail", {"decision_date": D(2026, 3, 3), "first_submitted_at": D(2026, 3, 9)}, note="6 days"),
    RuleCase("T01", "fail", {"decision_date": D(2026, 6, 20), "first_submitted_at": None}, note="unsubmitted overdue"),
    RuleCase("T01", "pass", {"decision_date": D(2026, 6, 25), "first_submitted_at": None},
             note="unsubmitted due today"),
    # 2026 春节: 02-15…02-23 off, Saturday 02-14 a 调休 working day → the 5th working day after 02-12 is 02-26.
    RuleCase("T01", "pass", {"first_submitted_at": D(2026, 2, 26)}, params={"day_type": "working"},
             note="exactly 5 working days across 春节"),
    RuleCase("T01", "fail", {"first_submitted_at": D(2026, 2, 27)}, params={"day_type": "working"},
             note="6 working days across 春节"),
    RuleCase("T01", "fail", {"first_submitted_at": D(2026, 2, 26)}, note="14 calendar days"),
    RuleCase("T01", "na", {"decision_date": None}, note="no decision"),
    # T02 二次提交: base document 2026-03-02, submitted 2026-03-05.
    RuleCase("T02", "pass", note="base 3 days"),
    RuleCase("T02", "fail", {"appointment_doc_date": D(2026, 4, 1), "second_submitted_at": D(2026, 4, 20)},
             severity="red", note="catalogue example"),
    RuleCase("T02", "pass", {"appointment_doc_date": D(2026, 4, 1), "second_submitted_at": D(2026, 4, 6)},
             note="exactly 5 days"),
    RuleCase("T02", "fail", {"appointment_doc_date": D(2026, 4, 1), "second_submitted_at": D(2026, 4, 7)},
             note="6 days"),
    RuleCase("T02", "fail", {"appointment_doc_date": D(2026, 6, 20), "second_submitted_at": None},
             note="unsubmitted overdue"),
    RuleCase("T02", "pass", {"appointment_doc_date": D(2026, 6, 26), "second_submitted_at": None},
             note="unsubmitted not yet due"),
    RuleCase("T02", "na", {"appointment_doc_date": None}, note="not appointed"),
    RuleCase("T02", "na", params={"anchor": "formal_appointment_date"}, note="anchor formal date absent"),
    RuleCase("T02", "fail", {"formal_appointment_date": D(2027, 3, 2), "second_submitted_at": D(2027, 3, 8)},
             params={"anchor": "formal_appointment_date"}, note="anchor formal date 6 days"),
    RuleCase("T02", "pass", {"formal_appointment_date": D(2027, 3, 2), "second_submitted_at": D(2027, 3, 7)},
             params={"anchor": "formal_appointment_date"}, note="anchor formal date 5 days"),
    # T03 纪检意见有效期 90 days: base reply 2026-02-05, decision 2026-02-12.
    RuleCase("T03", "pass", note="base 7 days"),
    RuleCase("T03", "fail", {"discipline_opinion_reply_date": D(2025, 7, 12)}, severity="yellow",
             note="7 months old"),
    RuleCase("T03", "pass", {"discipline_opinion_reply_date": D(2026, 2, 12) - dt.timedelta(days=90)},
             note="exactly 90 days"),
    RuleCase("T03", "fail", {"discipline_opinion_reply_date": D(2026, 2, 12) - dt.timedelta(days=91)},
             note="91 days"),
    RuleCase("T03", "na", {"discipline_opinion_reply_date": None}, note="no reply"),
    # T04 档案审核/个人事项查核 180 days.
    RuleCase("T04", "pass", note="base"),
    RuleCase("T04", "fail", {"personal_matters_check_date": D(2025, 4, 12)}, severity="yellow",
             note="personal matters 10 months old"),
    RuleCase("T04", "pass", {"archive_review_date": D(2026, 2, 12) - dt.timedelta(days=180)}, note="exactly 180 days"),
    RuleCase("T04", "fail", {"archive_review_date": D(2026, 2, 12) - dt.timedelta(days=181)}, note="181 days"),
    RuleCase("T04", "pass", {"archive_review_date": None}, note="one check absent"),
    RuleCase("T04", "na", {"archive_review_date": None, "personal_matters_check_date": None}, note="no checks"),
    RuleCase("T04", "na", {"decision_date": None}, note="no decision"),
    # T05 备案提前一个月: base files 2026-02-28 for a notice of 2026-03-02 (2 days) — a real hit.
    RuleCase("T05", "fail", severity="yellow", note="base filed 2 days ahead"),
    RuleCase("T05", "fail", {"appointment_doc_date": D(2026, 3, 10)}, note="catalogue example 10 days"),
    RuleCase("T05", "pass", {"appointment_doc_date": D(2026, 3, 30)}, note="exactly 30 days"),
    RuleCase("T05", "fail", {"appointment_doc_date": D(2026, 3, 29)}, note="29 days"),
    RuleCase("T05", "na", {"approval_route": "本级决定"}, note="no filing"),
    RuleCase("T05", "na", {"probation_applicable": False}, note="no probation"),
    RuleCase("T05", "na", {"approval_submit_date": None}, note="no filing date"),
    # T06 事前报告答复 10 working days.
    RuleCase("T06", "na", note="base no prior report"),
    RuleCase("T06", "pass", {"prior_report_required": True, "prior_report_date": D(2026, 9, 25),
                             "prior_report_reply": "同意", "prior_report_reply_date": D(2026, 10, 15)},
             note="exactly 10 working days across 国庆 with 调休 Saturday"),
    RuleCase("T06", "fail", {"prior_report_required": True, "prior_report_date": D(2026, 9, 25),
                             "prior_report_reply": "同意", "prior_report_reply_date": D(2026, 10, 16)},
             severity="yellow", note="11 working days"),
    RuleCase("T06", "fail", {"prior_report_required": True, "prior_report_date": D(2026, 1, 5),
                             "prior_report_reply": "同意", "prior_report_reply_date": D(2026, 1, 28)},
             note="17 working days"),
    RuleCase("T06", "fail", {"prior_report_required": True, "prior_report_date": D(2026, 6, 1),
                             "prior_report_reply": "未答复", "prior_report_reply_date": None}, note="no reply overdue"),
    # 端午 2026-06-19 (Friday) is off: the 10th working day after 06-15 is 06-30, the evaluation day.
    RuleCase("T06", "pass", {"prior_report_required": True, "prior_report_date": D(2026, 6, 15),
                             "prior_report_reply": "未答复", "prior_report_reply_date": None},
             note="no reply due today across 端午"),
    RuleCase("T06", "fail", {"prior_report_required": True, "prior_report_date": D(2026, 6, 12),
                             "prior_report_reply": "未答复", "prior_report_reply_date": None},
             note="no reply a day overdue"),
    RuleCase("T06", "pass", {"prior_report_required": True, "prior_report_date": D(2026, 6, 25),
                             "prior_report_reply": "未答复", "prior_report_reply_date": None}, note="no reply not due"),
    # T07 协管方逾期未复 one month.
    RuleCase("T07", "na", note="base not dual-managed"),
    RuleCase("T07", "fail", {"co_manager_reply": "逾期未复视为同意", "co_manager_request_date": D(2026, 5, 2),
                             "decision_date": D(2026, 5, 20)}, severity="red", note="catalogue example"),
    RuleCase("T07", "pass", {"co_manager_reply": "逾期未复视为同意", "co_manager_request_date": D(2026, 5, 2),
                             "decision_date": D(2026, 6, 2)}, note="exactly one month"),
    RuleCase("T07", "fail", {"co_manager_reply": "逾期未复视为同意", "co_manager_request_date": D(2026, 5, 2),
                             "decision_date": D(2026, 6, 1)}, note="one day short"),
    RuleCase("T07", "na", {"co_manager_reply": "同意", "co_manager_request_date": D(2026, 2, 1)}, note="replied"),
    # T08 任职谈话 30 days after the document (base document 2026-03-02, talk 2026-03-03).
    RuleCase("T08", "pass", note="base"),
    RuleCase("T08", "fail", {"appointment_talk_date": D(2026, 4, 16)}, severity="yellow", note="45 days"),
    RuleCase("T08", "pass", {"appointment_talk_date": D(2026, 4, 1)}, note="exactly 30 days"),
    RuleCase("T08", "fail", {"appointment_talk_date": D(2026, 4, 2)}, note="31 days"),
    RuleCase("T08", "fail", {"appointment_doc_date": D(2026, 5, 1), "appointment_talk_date": None},
             note="no talk overdue"),
    RuleCase("T08", "pass", {"appointment_doc_date": D(2026, 6, 10), "appointment_talk_date": None},
             note="no talk not due"),
    RuleCase("T08", "na", {"appointment_doc_date": None}, note="no document"),
    # T09 补训 within 12 months of the appointment (as of 2026-06-30).
    RuleCase("T09", "pass", note="base training met"),
    RuleCase("T09", "fail", {"training_status": NOT_MET, "appointment_effective_date": D(2025, 3, 15)},
             severity="yellow", note="15 months"),
    RuleCase("T09", "pass", {"training_status": NOT_MET, "appointment_effective_date": D(2025, 6, 30)},
             note="exactly 12 months"),
    RuleCase("T09", "fail", {"training_status": "未参加", "appointment_effective_date": D(2025, 6, 29)},
             note="12 months and a day"),
    RuleCase("T09", "pass", {"training_status": NOT_MET}, note="base appointed 2026-02"),
    RuleCase("T09", "fail", {"training_status": NOT_MET, "appointment_effective_date": D(2024, 3, 1)},
             as_of=D(2025, 4, 1), note="catalogue example"),
    RuleCase("T09", "na", {"training_status": NOT_MET, "selection_type": "平级交流/转任",
                           "appointment_effective_date": D(2024, 3, 1)}, note="not a promotion"),
    RuleCase("T09", "na", {"appointment_effective_date": None}, note="not appointed"),
    # T10 限期整改.
    RuleCase("T10", "na", note="base no correction"),
    RuleCase("T10", "fail", {"correction_deadline": D(2026, 5, 31)}, as_of=D(2026, 6, 10), severity="red",
             note="catalogue example open"),
    RuleCase("T10", "pass", {"correction_deadline": D(2026, 5, 31), "correction_done_at": D(2026, 5, 31)},
             note="done on the deadline"),
    RuleCase("T10", "fail", {"correction_deadline": D(2026, 5, 31), "correction_done_at": D(2026, 6, 1)},
             note="done a day late"),
    RuleCase("T10", "pass", {"correction_deadline": D(2026, 6, 30)}, note="open, due today"),
    # T11 stalled cases, 90 days (as of 2026-06-30).
    RuleCase("T11", "pass", note="base appointed and submitted"),
    RuleCase("T11", "fail", {"decision_date": D(2026, 1, 5), "appointment_doc_date": None, "second_submitted_at": None},
             as_of=D(2026, 5, 1), severity="yellow", note="catalogue example"),
    RuleCase("T11", "pass", {"decision_date": D(2026, 4, 1), "appointment_doc_date": None}, note="exactly 90 days"),
    RuleCase("T11", "fail", {"decision_date": D(2026, 3, 31), "appointment_doc_date": None}, note="91 days"),
    RuleCase("T11", "fail", {"second_submitted_at": None}, note="appointed but never submitted again"),
    RuleCase("T11", "na", {"decision_result": "未通过", "second_submitted_at": None}, note="not passed"),
]


T_CODES = [f"T{n:02d}" for n in range(1, 12)]
# The base case files its 备案 on 2026-02-28 for a notice of 2026-03-02: 试用期规定2001 第三条 wants a month.
BASE_HITS = {"T05"}
test_rule, test_base_case_is_not_a_hit, _ = rule_tests(TABLE, T_CODES, BASE_HITS)


def test_every_t_rule_is_registered_with_catalogue_params():
    rules = all_rules()
    assert set(T_CODES) <= set(rules)
    assert rules["T01"].params == {"first_submit_days": 5, "day_type": "calendar"}
    assert rules["T06"].params == {"reply_working_days": 10}
    for code in T_CODES:
        assert rules[code].fn.__doc__ and rules[code].fn.__module__ == "app.rules.t"
