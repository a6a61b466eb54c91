"""Rule table for P22–P42 (程序: 事前报告, 讨论决定, 公示, 任职, 试用期, 责任签字)."""
import datetime as dt
from fractions import Fraction


from tests.factories import CANDIDATE_ID, RuleCase, check, person, rule_tests

D = dt.date
CODES = [f"P{n}" for n in range(22, 43)]

BREAKING = {"is_breaking_rule": True, "breaking_rule_reason": "工作需要-专业性强或专项工作急需",
            "prior_report_required": True, "prior_report_items": ["破格提拔"], "prior_report_date": D(2026, 1, 25),
            "prior_report_reply": "同意", "prior_report_reply_date": D(2026, 1, 30)}
SKIP = {"is_skip_level": True, "current_grade": "乡科级正职", "prior_report_required": True,
        "prior_report_items": ["越级提拔或未经民主推荐列为破格人选"], "prior_report_date": D(2026, 1, 25),
        "prior_report_reply": "同意", "prior_report_reply_date": D(2026, 1, 30)}
NO_RECO = {"talk_reco_date": None, "meeting_reco_date": None, "reused_reco_date": None}
REPORTED = {"prior_report_required": True, "prior_report_items": ["超职数配备"], "prior_report_date": D(2026, 2, 1),
            "prior_report_reply": "同意", "prior_report_reply_date": D(2026, 2, 9), "reported_items_explained": True}
PROBATION_CASE = {"target_post_kind": "机关内设机构领导职务", "target_grade": "县处级正职", "is_principal": True}

TABLE = [
    # P22 破格 needs the higher consent before the decision (2026-02-12)
    RuleCase("P22", "pass", BREAKING, note="consent before decision"),
    RuleCase("P22", "pass", {**BREAKING, "prior_report_reply_date": D(2026, 2, 12)}, note="consent on decision day"),
    RuleCase("P22", "fail", {**BREAKING, "prior_report_reply_date": D(2026, 2, 13)}, note="consent day after"),
    RuleCase("P22", "fail", {**BREAKING, "prior_report_reply": "未答复", "prior_report_reply_date": None},
             note="no consent"),
    RuleCase("P22", "fail", {**BREAKING, "prior_report_reply": "不同意"}, note="refused"),
    RuleCase("P22", "na", note="not breaking"),
    # P23 越级 / unrecommended 破格: reported and approved before inspection_start (2026-02-02)
    RuleCase("P23", "pass", SKIP, note="skip level reported before"),
    RuleCase("P23", "pass", {**SKIP, "prior_report_date": D(2026, 2, 2), "prior_report_reply_date": D(2026, 2, 2)},
             note="reported and approved on start day"),
    RuleCase("P23", "fail", {**SKIP, "prior_report_date": D(2026, 2, 3), "prior_report_reply_date": D(2026, 2, 5)},
             note="reported after start"),
    RuleCase("P23", "fail", {**SKIP, "prior_report_date": None, "prior_report_reply": None,
                             "prior_report_reply_date": None}, note="skip level never reported"),
    RuleCase("P23", "fail", {**SKIP, "prior_report_reply_date": D(2026, 2, 3)}, note="approved after start"),
    RuleCase("P23", "fail", {**SKIP, "prior_report_reply": "未答复", "prior_report_reply_date": None},
             note="no approval"),
    RuleCase("P23", "fail", {**BREAKING, **NO_RECO, "prior_report_date": D(2026, 2, 6)},
             note="unrecommended breaking reported late"),
    RuleCase("P23", "pass", {**BREAKING, **NO_RECO}, note="unrecommended breaking reported before"),
    RuleCase("P23", "na", {**BREAKING, "prior_report_date": D(2026, 2, 6)}, note="breaking but recommended"),
    RuleCase("P23", "na", note="base"),
    # P24 no decision while the reply is pending
    RuleCase("P24", "pass", REPORTED, note="replied before decision"),
    RuleCase("P24", "fail", {**REPORTED, "prior_report_reply": "未答复", "prior_report_reply_date": None},
             note="pending"),
    RuleCase("P24", "fail", {**REPORTED, "prior_report_reply": None, "prior_report_reply_date": None},
             note="no reply"),
    RuleCase("P24", "fail", {**REPORTED, "prior_report_reply_date": D(2026, 2, 13)}, note="reply after decision"),
    RuleCase("P24", "na", note="not reportable"),
    # P25 decision body
    RuleCase("P25", "pass", {"decision_meeting_type": "党组(党委)会议"}, note="党组会议"),
    RuleCase("P25", "fail", {"decision_meeting_type": "领导圈阅/传签"}, note="圈阅"),
    RuleCase("P25", "fail", {"decision_meeting_type": "书记专题会"}, note="书记专题会"),
    RuleCase("P25", "na", {"decision_meeting_type": None}, note="missing"),
    # P26 临时动议
    RuleCase("P26", "pass", note="base prepared"),
    RuleCase("P26", "fail", {"motion_meeting_date": D(2026, 2, 12), "inspection_end": None},
             note="moved at the meeting, no inspection"),
    RuleCase("P26", "fail", {"motion_meeting_date": D(2026, 2, 12)}, note="same day motion"),
    RuleCase("P26", "fail", {"inspection_end": None}, note="no inspection"),
    RuleCase("P26", "fail", {"work_plan_file": None}, note="no work plan"),
    RuleCase("P26", "pass", {"selection_type": "免职", "inspection_end": None}, note="dismissal needs no inspection"),
    RuleCase("P26", "pass", {"motion_meeting_date": D(2026, 2, 11)}, note="motion day before"),
    RuleCase("P26", "na", {"decision_date": None}, note="no decision"),
    # P27 quorum 2/3
    RuleCase("P27", "pass", {"members_total": 9, "members_present": 6}, note="exactly 2/3"),
    RuleCase("P27", "fail", {"members_total": 9, "members_present": 5}, note="9 members 5 present"),
    RuleCase("P27", "pass", {"members_total": 11, "members_present": 8}, note="11 members 8 present"),
    RuleCase("P27", "fail", {"members_total": 11, "members_present": 7}, note="11 members 7 present"),
    RuleCase("P27", "fail", {"members_total": 11, "members_present": 8}, params={"quorum": "3/4"},
             note="local quorum 3/4"),
    RuleCase("P27", "na", {"members_present": None}, note="missing"),
    # P28 more than half of members_total
    RuleCase("P28", "pass", {"members_total": 9, "members_present": 7, "votes_for": 5}, note="5 of 9"),
    RuleCase("P28", "fail", {"members_total": 9, "members_present": 7, "votes_for": 4}, note="4 of 9 present 7"),
    RuleCase("P28", "fail", {"members_total": 10, "members_present": 8, "votes_for": 5}, note="exactly half"),
    RuleCase("P28", "pass", {"members_total": 10, "members_present": 8, "votes_for": 6}, note="half plus one"),
    RuleCase("P28", "na", {"decision_result": "未通过", "votes_for": 3}, note="not passed"),
    # P29 presentation
    RuleCase("P29", "pass", note="base presented"),
    RuleCase("P29", "fail", {"reasons_presented": False}, note="not presented"),
    RuleCase("P29", "pass", REPORTED, note="reported items explained"),
    RuleCase("P29", "fail", {**REPORTED, "reported_items_explained": False}, note="reported items not explained"),
    RuleCase("P29", "na", {"reasons_presented": None}, note="missing"),
    # P30 main leader last
    RuleCase("P30", "pass", note="base"),
    RuleCase("P30", "fail", {"main_leader_last": False}, note="spoke first"),
    RuleCase("P30", "na", {"main_leader_last": None}, note="missing"),
    # P31 reconsideration
    RuleCase("P31", "pass", {"is_reconsideration": True, "members_total": 9, "reconsideration_consent": 5},
             note="5 of 9"),
    RuleCase("P31", "fail", {"is_reconsideration": True, "members_total": 9, "reconsideration_consent": 4},
             note="4 of 9"),
    RuleCase("P31", "fail", {"is_reconsideration": True, "members_total": 10, "reconsideration_consent": 5},
             note="exactly half"),
    RuleCase("P31", "na", note="no reconsideration"),
    # P32 publicity missing
    RuleCase("P32", "pass", note="base publicised"),
    RuleCase("P32", "fail", {"publicity_start": None, "publicity_end": None}, note="no publicity"),
    RuleCase("P32", "fail", {"publicity_start": D(2026, 3, 3), "publicity_end": D(2026, 3, 9)},
             note="publicity after appointment"),
    RuleCase("P32", "fail", {"publicity_required": False, "publicity_exempt_reason": "非提拔任职",
                             "publicity_start": None, "publicity_end": None}, note="promotion wrongly exempted"),
    RuleCase("P32", "na", {"publicity_required": False, "publicity_exempt_reason": "特殊岗位",
                           "publicity_start": None, "publicity_end": None}, note="special post"),
    RuleCase("P32", "na", {"appointment_doc_date": None, "publicity_start": None}, note="not appointed yet"),
    # P33 five working days, across the 2026 春节 with the 2026-02-14 调休 Saturday
    RuleCase("P33", "pass", note="base 6 working days"),
    RuleCase("P33", "pass", {"publicity_end": D(2026, 2, 26)}, note="exactly 5 across 春节 with 调休"),
    RuleCase("P33", "fail", {"publicity_end": D(2026, 2, 25)}, note="4 across 春节"),
    RuleCase("P33", "fail", {"publicity_start": D(2026, 2, 13), "publicity_end": D(2026, 2, 23)},
             note="11 calendar days but 2 working days"),
    RuleCase("P33", "pass", {"publicity_start": D(2026, 3, 2), "publicity_end": D(2026, 3, 6)},
             note="plain Mon to Fri"),
    RuleCase("P33", "fail", {"publicity_start": D(2026, 3, 2), "publicity_end": D(2026, 3, 8)},
             note="Mon to Sun only 5 when 6 needed", params={"min_working_days": 6}),
    RuleCase("P33", "na", {"publicity_end": None}, note="missing end"),
    # P34 after the decision, ended before the notice
    RuleCase("P34", "pass", note="base"),
    RuleCase("P34", "pass", {"publicity_start": D(2026, 2, 12)}, note="starts on decision day"),
    RuleCase("P34", "fail", {"publicity_start": D(2026, 2, 11)}, note="starts day before meeting"),
    RuleCase("P34", "pass", {"appointment_doc_date": D(2026, 2, 28)}, note="notice the day after the end"),
    RuleCase("P34", "fail", {"appointment_doc_date": D(2026, 2, 27)}, note="notice on the last day"),
    RuleCase("P34", "fail", {"appointment_doc_date": D(2026, 2, 20)}, note="notice during publicity"),
    RuleCase("P34", "na", {"publicity_start": None}, note="missing start"),
    # P35 complaints resolved
    RuleCase("P35", "pass", note="base no complaints"),
    RuleCase("P35", "pass", {"complaints_count": 2, "complaints_verified": "查否"}, note="complaints cleared"),
    RuleCase("P35", "fail", {"complaints_count": 2, "complaints_verified": "核查中"}, note="still checking"),
    RuleCase("P35", "fail", {"complaints_count": 1, "complaints_verified": "属实影响任职"}, note="affects"),
    RuleCase("P35", "fail", {"publicity_result": "暂缓任职"}, note="result suspended"),
    RuleCase("P35", "na", {"appointment_doc_date": None, "complaints_count": 2, "complaints_verified": "核查中"},
             note="not appointed yet"),
    # P36 破格 公示 content
    RuleCase("P36", "pass", BREAKING, note="breaking content complete"),
    RuleCase("P36", "fail", {**BREAKING, "publicity_content_complete": False}, note="breaking content incomplete"),
    RuleCase("P36", "na", {"publicity_content_complete": False}, note="not breaking"),
    # P37 approval before the appointment document (2026-03-02)
    RuleCase("P37", "pass", {"approval_route": "报上级审批", "approval_reply_date": D(2026, 3, 2)},
             note="approved same day"),
    RuleCase("P37", "fail", {"approval_route": "报上级审批", "approval_reply_date": D(2026, 3, 3)},
             note="approved after"),
    RuleCase("P37", "fail", {"approval_route": "报上级审批", "approval_reply_date": None}, note="no approval"),
    RuleCase("P37", "na", note="filing only"),
    # P38 probation
    RuleCase("P38", "pass", PROBATION_CASE, note="internal body with probation"),
    RuleCase("P38", "fail", {**PROBATION_CASE, "probation_applicable": False, "probation_end": None},
             note="internal body 处长 without probation"),
    RuleCase("P38", "fail", {"is_principal": False, "target_grade": "县处级副职", "current_grade": "乡科级正职",
                             "probation_applicable": False}, note="department deputy without probation"),
    RuleCase("P38", "na", {"probation_applicable": False}, note="department principal"),
    RuleCase("P38", "na", {**PROBATION_CASE, "probation_applicable": False, "appointment_mode": "选任制"},
             note="elected"),
    RuleCase("P38", "na", {**PROBATION_CASE, "probation_applicable": False, "selection_type": "平级交流/转任"},
             note="not a promotion"),
    # P39 probation review (red / yellow); judged as of 2026-06-30
    RuleCase("P39", "pass", note="base not due"),
    RuleCase("P39", "fail", {"probation_end": D(2026, 3, 2), "probation_review_result": "不胜任",
                             "formal_appointment_date": D(2026, 3, 10)}, severity="red", note="confirmed despite 不胜任"),
    RuleCase("P39", "pass", {"probation_end": D(2026, 5, 31), "probation_review_result": "未到期"},
             note="exactly 30 days after end"),
    RuleCase("P39", "fail", {"probation_end": D(2026, 5, 30), "probation_review_result": "未到期"},
             severity="yellow", note="31 days overdue"),
    RuleCase("P39", "fail", {"probation_end": D(2026, 3, 2), "probation_review_result": "未到期",
                             "formal_appointment_date": D(2026, 3, 5)}, severity="yellow",
             note="confirmed without review"),
    RuleCase("P39", "pass", {"probation_end": D(2026, 3, 2), "probation_review_result": "胜任",
                             "formal_appointment_date": D(2026, 3, 5)}, note="reviewed and confirmed"),
    RuleCase("P39", "na", {"probation_applicable": False, "probation_end": None}, note="no probation"),
    # P40 appointment talk
    RuleCase("P40", "pass", note="base"),
    RuleCase("P40", "fail", {"appointment_talk_date": None}, note="no talk date"),
    RuleCase("P40", "fail", {"appointment_talk_by": None}, note="no interviewer"),
    RuleCase("P40", "na", {"appointment_doc_date": None, "appointment_talk_date": None}, note="not appointed"),
    # P41 three signatures and the pledge
    RuleCase("P41", "pass", note="base signed"),
    RuleCase("P41", "fail", {"sig3_signer": None, "sig3_signed_at": None}, note="level 3 unsigned"),
    RuleCase("P41", "fail", {"sig2_opinion": "退回修改"}, note="level 2 returned"),
    RuleCase("P41", "fail", {"authenticity_pledge": False}, note="no pledge"),
    RuleCase("P41", "fail", params={"resign_on_second_submission": True}, note="level 2 did not re-sign"),
    RuleCase("P41", "pass", {"sig2_signed_at": D(2026, 3, 4)}, params={"resign_on_second_submission": True},
             note="level 2 re-signed"),
    # P42 order and signer conflicts
    RuleCase("P42", "pass", note="base"),
    RuleCase("P42", "pass", {"sig1_signed_at": D(2026, 2, 16), "sig2_signed_at": D(2026, 2, 16),
                             "sig3_signed_at": D(2026, 2, 16)}, note="all on submission day"),
    RuleCase("P42", "fail", {"sig2_signer": person("孙立新", "区委组织部副部长")}, note="same signer levels 1 and 2"),
    RuleCase("P42", "fail", {"sig2_signed_at": D(2026, 2, 12)}, note="level 2 before level 1"),
    RuleCase("P42", "fail", {"sig3_signed_at": D(2026, 2, 17)}, note="level 3 after submission"),
    RuleCase("P42", "fail", {"sig1_signer": person("张明华", "区发展改革委副主任", CANDIDATE_ID)},
             note="candidate signs"),
    RuleCase("P42", "na", {f"sig{i}_{k}": None for i in (1, 2, 3) for k in ("signer", "signed_at")},
             note="nothing signed"),
]


test_rule, test_base_case_does_not_fire, test_every_rule_has_pass_and_fail_rows = rule_tests(TABLE, CODES)


def test_quorum_accepts_fraction_forms():
    for q in (Fraction(2, 3), "2/3", 2 / 3):
        check(RuleCase("P27", "pass", {"members_total": 9, "members_present": 6}, params={"quorum": q}))
        check(RuleCase("P27", "fail", {"members_total": 9, "members_present": 5}, params={"quorum": q}))
