"""Rule table for the P rules P01–P21 (app/rules/p1.py): 动议、提名、民主推荐、考察、凡提四必、酝酿沟通、事前报告.

Each row changes the base case (valid_case(), decided 2026-02-12, judged as of 2026-06-30).
"""
import datetime as dt
from fractions import Fraction


from app.rules.catalog import all_rules
from tests.factories import CANDIDATE_ID, RuleCase, make_id, person, rule_tests

D = dt.date
R = RuleCase
OTHER_ID = make_id("110101", "19820101", "456")
P1_CODES = [f"P{n:02d}" for n in range(1, 22)]

TABLE = [
    # P01 动议无集体研究记录或无工作方案
    R("P01", "pass", note="base"),
    R("P01", "fail", {"motion_meeting_minutes": None}, note="no minutes"),
    R("P01", "fail", {"work_plan_file": ""}, note="no work plan"),
    R("P01", "fail", {"motion_meeting_date": None, "motion_meeting_minutes": None, "work_plan_file": None},
      note="no motion record at all"),
    # P02 未经民主推荐
    R("P02", "pass", note="base"),
    R("P02", "fail", {"talk_reco_date": None, "meeting_reco_date": None}, note="promotion without recommendation"),
    R("P02", "fail", {"talk_reco_date": None, "meeting_reco_date": None, "selection_type": "进一步使用",
                      "recommendation_required": False}, note="further use, flag wrongly false"),
    R("P02", "pass", {"talk_reco_date": None, "meeting_reco_date": None, "reused_reco_date": D(2025, 6, 1)},
      note="reused result"),
    R("P02", "pass", {"meeting_reco_date": None}, note="talk recommendation only"),
    R("P02", "na", {"talk_reco_date": None, "meeting_reco_date": None, "selection_type": "平级交流/转任",
                    "recommendation_required": False}, note="lateral transfer"),
    R("P02", "fail", {"talk_reco_date": None, "meeting_reco_date": None, "selection_type": "平级交流/转任",
                      "recommendation_required": True}, note="case says recommendation needed"),
    R("P02", "na", {"talk_reco_date": None, "meeting_reco_date": None, "is_breaking_rule": True,
                    "prior_report_items": ["越级提拔或未经民主推荐列为破格人选"]}, note="reported breaking candidate"),
    R("P02", "na", {"selection_type": None, "recommendation_required": None}, note="no inputs"),
    # P03 民主推荐结果超过一年 (decision 2026-02-12)
    R("P03", "pass", note="base"),
    R("P03", "pass", {"talk_reco_date": D(2025, 2, 10), "meeting_reco_date": D(2025, 2, 12)},
      note="exactly 365 days"),
    R("P03", "fail", {"talk_reco_date": D(2025, 2, 10), "meeting_reco_date": D(2025, 2, 11)}, note="366 days"),
    R("P03", "fail", {"talk_reco_date": None, "meeting_reco_date": None, "reused_reco_date": D(2024, 9, 10)},
      note="reused result too old"),
    R("P03", "pass", {"talk_reco_date": D(2024, 1, 1), "meeting_reco_date": None,
                      "reused_reco_date": D(2025, 10, 1), "reused_reco_post": "区发展和改革委员会主任"},
      note="latest date counts"),
    R("P03", "fail", {"talk_reco_date": D(2025, 2, 10), "meeting_reco_date": D(2025, 2, 12)},
      params={"validity_days": 364}, note="shorter local validity"),
    R("P03", "na", {"talk_reco_date": None, "meeting_reco_date": None}, note="no recommendation"),
    R("P03", "na", {"decision_date": None}, note="not decided"),
    # P04 未开会议推荐且不符合免开情形
    R("P04", "pass", note="base meeting held"),
    R("P04", "pass", {"meeting_reco_done": False, "meeting_reco_date": None,
                      "meeting_reco_skip_reason": "单位人数较少且范围基本相同且意见集中"}, note="small unit"),
    R("P04", "fail", {"meeting_reco_done": False, "meeting_reco_date": None, "meeting_reco_skip_reason": "其他"},
      note="reason other"),
    R("P04", "fail", {"meeting_reco_done": False, "meeting_reco_date": None, "meeting_reco_skip_reason": None},
      note="no reason"),
    R("P04", "pass", {"meeting_reco_done": False, "meeting_reco_skip_reason": "其他"},
      params={"allowed_skip_reasons": ["其他"]}, note="local list"),
    R("P04", "na", {"meeting_reco_done": False, "meeting_reco_skip_reason": None, "selection_type": "平级交流/转任",
                    "recommendation_required": False}, note="no recommendation needed"),
    R("P04", "na", {"meeting_reco_done": None}, note="unknown"),
    # P05 会议推荐参考人选未差额
    R("P05", "pass", note="base 3 for 1"),
    R("P05", "fail", {"nominee_count": 1, "nominee_list": [person("张明华", "副主任", CANDIDATE_ID)]},
      note="1 name for 1 post"),
    R("P05", "fail", {"nominee_count": 2, "posts_count": 2}, note="2 names for 2 posts"),
    R("P05", "pass", {"nominee_count": 3, "posts_count": 2}, note="one more name than posts"),
    R("P05", "na", {"meeting_reco_done": False, "nominee_count": 1}, note="no meeting"),
    R("P05", "na", {"nomination_subject": "民主推荐产生", "nominee_count": 1}, note="names from the vote"),
    # P06 推荐会议到会率不足 (expected 60 → 40 needed)
    R("P06", "pass", note="base 57 of 60"),
    R("P06", "pass", {"meeting_reco_actual": 40}, note="exactly two thirds"),
    R("P06", "fail", {"meeting_reco_actual": 39}, note="one below two thirds"),
    R("P06", "fail", {"meeting_reco_expected": 40, "meeting_reco_actual": 24}, note="catalogue example"),
    R("P06", "pass", {"meeting_reco_expected": 40, "meeting_reco_actual": 24}, params={"quorum": 0.6},
      note="local quorum 0.6 exactly met"),
    R("P06", "fail", {"meeting_reco_expected": 40, "meeting_reco_actual": 23}, params={"quorum": "3/5"},
      note="local quorum 3/5 missed"),
    R("P06", "na", {"meeting_reco_done": False}, note="no meeting"),
    R("P06", "na", {"meeting_reco_actual": None}, note="no figures"),
    # P07 个人推荐未署名或无推荐材料
    R("P07", "na", note="base organisation nomination"),
    R("P07", "pass", {"nomination_subject": "领导干部个人署名推荐", "recommender": person("周志刚", "区委书记"),
                      "recommendation_letter": "推荐信.pdf"}, note="signed with letter"),
    R("P07", "fail", {"nomination_subject": "领导干部个人署名推荐", "recommender": person("周志刚", "区委书记")},
      note="no letter"),
    R("P07", "fail", {"nomination_subject": "领导干部个人署名推荐", "recommendation_letter": "推荐信.pdf"},
      note="unsigned"),
    # P08 拟任人选不在提名名单
    R("P08", "pass", note="base by id"),
    R("P08", "fail", {"nominee_list": [person("李强", "区财政局副局长"), person("王芳", "区商务局副局长")]},
      note="candidate missing"),
    R("P08", "fail", {"nominee_list": [person("张明华", "另一张明华", OTHER_ID), person("李强")]},
      note="same name other id"),
    R("P08", "pass", {"nominee_list": [person("张明华", "区发展改革委副主任"), person("李强")]},
      note="by name without id"),
    R("P08", "na", {"nominee_list": []}, note="no list"),
    # P09 考察对象未差额
    R("P09", "pass", note="base 2 for 1"),
    R("P09", "fail", {"inspection_object_count": 1}, note="1 for 1"),
    R("P09", "fail", {"inspection_object_count": 2, "posts_count": 2, "selection_type": "进一步使用"},
      note="further use 2 for 2"),
    R("P09", "na", {"inspection_object_count": 1, "selection_type": "平级交流/转任"}, note="lateral exempt"),
    R("P09", "fail", {"inspection_object_count": 1, "selection_type": "平级交流/转任"},
      params={"exempt_types": []}, note="no exemptions"),
    # P10 考察组少于两人
    R("P10", "pass", note="base two members"),
    R("P10", "fail", {"inspection_team": [person("刘建国", "区委组织部干部科科长")]}, note="one inspector"),
    R("P10", "fail", params={"min_team": 3}, note="local minimum 3"),
    R("P10", "na", {"inspection_team": []}, note="no team recorded"),
    # P11 未发布考察预告 (inspection starts 2026-02-02)
    R("P11", "pass", note="base"),
    R("P11", "pass", {"inspection_notice_date": D(2026, 2, 2)}, note="same day"),
    R("P11", "fail", {"inspection_notice_date": D(2026, 2, 3)}, note="after the start"),
    R("P11", "fail", {"inspection_notice_date": None}, note="no notice"),
    R("P11", "na", {"inspection_start": None, "inspection_notice_date": None}, note="no inspection yet"),
    # P12 考察谈话或民主测评缺失
    R("P12", "pass", note="base"),
    R("P12", "pass", {"interview_count": 5}, note="exactly the minimum"),
    R("P12", "fail", {"interview_count": 4}, note="one below"),
    R("P12", "fail", {"eval_participants": 0, "eval_excellent": 0, "eval_competent": 0, "eval_basic": 0},
      note="no evaluation"),
    R("P12", "pass", {"interview_count": 4}, params={"min_interviews": 3}, note="local minimum"),
    R("P12", "na", {"interview_count": None}, note="no figures"),
    # P13 档案审核 (decision 2026-02-12)
    R("P13", "pass", note="base"),
    R("P13", "pass", {"archive_review_date": D(2026, 2, 12)}, note="on the decision day"),
    R("P13", "fail", {"archive_review_date": D(2026, 2, 14)}, note="2 days after"),
    R("P13", "fail", {"archive_review_date": None}, note="not reviewed"),
    R("P13", "na", {"decision_date": None}, note="not decided"),
    R("P13", "na", {"archive_review_date": None, "selection_type": "免职"}, note="dismissal"),
    # P14 个人有关事项查核
    R("P14", "pass", note="base"),
    R("P14", "fail", {"personal_matters_check_date": None}, note="no check date"),
    R("P14", "fail", {"personal_matters_check_date": D(2026, 2, 13)}, note="after the decision"),
    R("P14", "pass", {"personal_matters_check_date": D(2026, 2, 12)}, note="on the decision day"),
    R("P14", "na", {"personal_matters_check_date": None, "personal_matters_result": "不属于报告对象"},
      note="not a reporting subject"),
    # P15 纪检监察机关意见
    R("P15", "pass", note="base"),
    R("P15", "pass", {"discipline_opinion_reply_date": D(2026, 2, 12)}, note="reply on the decision day"),
    R("P15", "fail", {"discipline_opinion_reply_date": D(2026, 2, 13)}, note="reply after the meeting"),
    R("P15", "fail", {"discipline_opinion_reply_date": None}, note="no reply"),
    R("P15", "fail", {"discipline_opinion_request_date": None}, note="no request"),
    R("P15", "fail", {"discipline_opinion_request_date": None, "discipline_opinion_reply_date": None},
      note="not asked"),
    R("P15", "na", {"decision_date": None}, note="not decided"),
    # P16 信访举报核查
    R("P16", "na", note="base no complaint"),
    R("P16", "pass", {"petition_received": True, "petition_check_result": "查否"}, note="checked"),
    R("P16", "fail", {"petition_received": True, "petition_check_result": None}, note="result empty"),
    R("P16", "fail", {"petition_received": True, "petition_check_result": "核查中"}, note="still checking"),
    R("P16", "na", {"petition_received": True, "petition_check_result": "线索不具体未查"}, note="not specific"),
    # P17 廉洁自律结论性意见
    R("P17", "pass", note="base"),
    R("P17", "fail", {"integrity_conclusion_file": None}, note="no file"),
    R("P17", "na", {"integrity_conclusion_file": None, "selection_type": "降职"}, note="demotion"),
    # P18 上级分管领导意见
    R("P18", "pass", note="base government department"),
    R("P18", "fail", {"upper_supervisor_opinion": "不适用"}, note="not sought"),
    R("P18", "fail", {"target_post_kind": "党委工作部门领导成员", "upper_supervisor_opinion": None},
      note="party department, nothing recorded"),
    R("P18", "pass", {"upper_supervisor_opinion": "不同意"}, note="sought, disagreed"),
    R("P18", "na", {"target_post_kind": "乡镇(街道)党政领导班子成员", "upper_supervisor_opinion": "不适用"},
      note="not a department"),
    # P19 统战部门意见
    R("P19", "na", note="base CPC member"),
    R("P19", "fail", {"political_status": "中国民主同盟盟员"}, note="democratic party, 不适用"),
    R("P19", "fail", {"political_status": "无党派人士", "united_front_opinion": None}, note="non-party, empty"),
    R("P19", "pass", {"political_status": "九三学社社员", "united_front_opinion": "同意"}, note="sought"),
    R("P19", "na", {"political_status": "中共预备党员"}, note="probationary member"),
    # P20 双重管理协管方意见
    R("P20", "na", note="base not dual managed"),
    R("P20", "fail", target_unit={"dual_managed": True}, note="no request date"),
    R("P20", "pass", {"co_manager_request_date": D(2026, 1, 5), "co_manager_reply": "同意"},
      target_unit={"dual_managed": True}, note="asked and agreed"),
    R("P20", "pass", {"co_manager_request_date": D(2026, 1, 5), "co_manager_reply": "逾期未复视为同意"},
      target_unit={"dual_managed": True}, note="deemed consent"),
    R("P20", "fail", {"co_manager_request_date": D(2026, 1, 5), "co_manager_reply": "不适用"},
      target_unit={"dual_managed": True}, note="asked, reply not applicable"),
    # P21 事前报告事项未报告 (decision 2026-02-12)
    R("P21", "na", note="base nothing to report"),
    R("P21", "fail", {"is_breaking_rule": True}, note="breaking no report"),
    R("P21", "pass", {"is_breaking_rule": True, "prior_report_date": D(2026, 1, 25)}, note="breaking reported"),
    R("P21", "pass", {"is_breaking_rule": True, "prior_report_date": D(2026, 2, 12)}, note="reported on the day"),
    R("P21", "fail", {"is_breaking_rule": True, "prior_report_date": D(2026, 2, 13)}, note="reported after"),
    R("P21", "fail", {"current_incumbents": 1}, note="over quota"),
    R("P21", "fail", {"current_grade": "乡科级正职", "current_grade_date": D(2015, 1, 1)}, note="skip level"),
    R("P21", "fail", {"main_leader_transfer_settled_date": D(2026, 2, 1)}, note="leader leaving"),
    R("P21", "na", {"main_leader_transfer_settled_date": D(2026, 2, 13)}, note="leader settled after"),
    R("P21", "fail", related={"batch_size": 11}, note="large batch"),
    R("P21", "na", related={"batch_size": 10}, note="batch at the limit"),
    R("P21", "fail", {"kinship_avoidance": "与拟任单位领导成员有亲属关系-非直接隶属"}, note="relative"),
    R("P21", "fail", {"sanction_type": "党纪-警告", "sanction_date": D(2021, 2, 13)}, note="sanction within 5y"),
    R("P21", "na", {"sanction_type": "党纪-警告", "sanction_date": D(2021, 2, 12)}, note="sanction 5y ago"),
    R("P21", "fail", {"current_grade": "县处级正职", "selection_type": "平级交流/转任", "current_post": "某县县委书记",
                      "current_post_date": D(2023, 2, 13)}, note="principal under 3 years"),
    R("P21", "na", {"current_grade": "县处级正职", "selection_type": "平级交流/转任", "current_post": "某县县委书记",
                    "current_post_date": D(2023, 2, 12)}, note="principal exactly 3 years"),
    R("P21", "fail", {"prior_report_required": True}, note="case marked reportable"),
    R("P21", "pass", {"prior_report_required": True, "prior_report_items": ["其他"],
                      "prior_report_date": D(2026, 2, 1)}, note="marked and reported"),
]


test_rule, test_base_case_does_not_fail, test_every_rule_has_pass_and_fail_rows = rule_tests(TABLE, P1_CODES)


def test_quorum_default_is_exact_two_thirds():
    assert all_rules()["P06"].params["quorum"] == Fraction(2, 3)
