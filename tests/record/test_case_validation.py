"""Unit tests of app.record.validation and app.record.completeness (pure: no app, no database).

``valid_case()`` (tests/factories.py) builds the complete, valid case (all 11 modules, all 181 items)
every test starts from.
"""
from __future__ import annotations

import datetime as dt

import pytest
from id_validator import validator

from app.record.completeness import missing_items, module_state
from app.record.validation import validate_values
from app.spec import MODULE_KEYS, items_by_key, module
from tests.factories import CANDIDATE_ID, make_id, person, valid_case

D = dt.date
TODAY = D(2026, 6, 30)


def changed(**changes) -> dict:
    """valid_case() with ``module__key=value`` changes."""
    case = valid_case()
    for name, value in changes.items():
        mkey, key = name.split("__")
        assert key in case[mkey], name
        case[mkey][key] = value
    return case


def problems(case, today=TODAY):
    return validate_values(case, today)


def find(case, mkey, key, today=TODAY):
    return [p for p in problems(case, today) if (p.module, p.key) == (mkey, key)]


def assert_problem(case, mkey, key, *parts, today=TODAY):
    found = find(case, mkey, key, today)
    assert found, f"no problem on {mkey}.{key}; got {[p.as_dict() for p in problems(case, today)]}"
    assert any(all(part in p.message for part in parts) for p in found), [p.message for p in found]


def missing_keys(case, mkey):
    return {p.key for p in missing_items(case, mkey)}


# ---- the valid case ------------------------------------------------------------------------------

def test_valid_case_covers_all_181_items():
    case = valid_case()
    assert list(case) == list(MODULE_KEYS)
    assert sum(len(m) for m in case.values()) == 181 + 6  # + the issue 13 items not yet in the shared spec
    for mkey in MODULE_KEYS:
        assert set(case[mkey]) == {i.key for i in module(mkey).items}


def test_valid_case_file_refs_and_units_are_strings():
    case = valid_case()
    for key, item in items_by_key().items():
        value = case[item.module][key]
        if item.kind == "file-ref" and value is not None:
            assert isinstance(value, str) and value.endswith(".pdf")
        if item.kind == "unit":
            assert value == "SJ011"
    assert case["motion"]["case_no"] == "SJ011-2026-0001"


def test_test_ids_are_really_valid():
    assert validator.is_valid(CANDIDATE_ID)
    assert validator.get_info(CANDIDATE_ID)["sex"] == 1
    assert make_id("110105", "19491231", "002").endswith("X")  # the X02 example of the spec: valid char is X


def test_valid_case_has_no_problems():
    assert problems(valid_case()) == []
    assert validate_values(valid_case()) == []  # with the real today


def test_valid_case_is_fresh_each_time():
    a = valid_case()
    a["nomination"]["nominee_list"].append(person("某某"))
    assert len(valid_case()["nomination"]["nominee_list"]) == 3


@pytest.mark.parametrize("mkey", MODULE_KEYS)
def test_valid_case_misses_nothing(mkey):
    assert missing_items(valid_case(), mkey) == []


def test_absent_values_are_not_problems():
    empty = {m: {i.key: None for i in module(m).items} for m in MODULE_KEYS}
    assert validate_values(empty, TODAY) == []
    assert validate_values({}, TODAY) == []


# ---- qualification -------------------------------------------------------------------------------

@pytest.mark.parametrize("name, parts", [
    ("张", ["“张”", "2–30", "1个"]),
    ("张" * 31, ["2–30", "31个"]),
    ("张明华2", ["张明华2", "数字"]),
    ("张明华２", ["数字"]),  # a full-width digit
])
def test_full_name(name, parts):
    assert_problem(changed(qualification__full_name=name), "qualification", "full_name", *parts)


def test_full_name_with_middle_dot_is_fine():
    assert problems(changed(qualification__full_name="阿依古丽·买买提")) == []


@pytest.mark.parametrize("id_no, parts", [
    (CANDIDATE_ID[:17], ["18位", "17位"]),
    (CANDIDATE_ID + "1", ["18位", "19位"]),
    ("11010119800315A23" + "1", ["18位"]),
    (CANDIDATE_ID[:17] + "x", ["18位"]),  # the check char is an upper-case X
    (make_id("999999", "19800315", "123"), ["999999", "行政区划"]),
    (make_id("110101", "19801332", "123"), ["19801332", "出生日期"]),
    (make_id("110101", "18991231", "123"), ["1899-12-31", "1900-01-01"]),
    (make_id("110101", "20260701", "123"), ["2026-07-01", "2026-06-30"]),
])
def test_id_card_no_rejected(id_no, parts):
    assert_problem(changed(qualification__id_card_no=id_no), "qualification", "id_card_no", *parts)


def test_wrong_check_digit_rejected():
    good = CANDIDATE_ID
    bad = good[:17] + ("0" if good[17] != "0" else "1")
    assert_problem(changed(qualification__id_card_no=bad), "qualification", "id_card_no",
                   "校验码", f"“{bad[17]}”", f"“{good[17]}”")


def test_spec_x02_example_rejected_with_x_named():
    assert_problem(changed(qualification__id_card_no="110105194912310021"), "qualification", "id_card_no",
                   "校验码", "“X”")


def test_abolished_region_code_accepted():
    tianjin_jixian = make_id("120225", "19750812", "002")  # 蓟县, abolished in 2016 (now 蓟州区 120119)
    assert validator.get_info(tianjin_jixian)["abandoned"] == 1
    case = changed(qualification__id_card_no=tianjin_jixian, qualification__sex="女",
                   qualification__birth_date=D(1975, 8, 12))
    assert problems(case) == []


def test_sex_must_match_id():
    assert_problem(changed(qualification__sex="女"), "qualification", "sex", "女", "3", "男")
    even = make_id("110101", "19800315", "124")
    assert_problem(changed(qualification__id_card_no=even), "qualification", "sex", "男", "4", "女")
    assert problems(changed(qualification__id_card_no=even, qualification__sex="女")) == []


def test_birth_date_must_match_id():
    assert_problem(changed(qualification__birth_date=D(1981, 3, 15)), "qualification", "birth_date",
                   "1981-03-15", "1980-03-15", "认定")
    assert_problem(changed(qualification__birth_date=D(1980, 4, 15)), "qualification", "birth_date", "1980-04-15")


def test_birth_date_compared_by_month_as_x03_says():
    assert problems(changed(qualification__birth_date=D(1980, 3, 1))) == []


def test_sex_and_birth_not_judged_on_an_invalid_id():
    case = changed(qualification__id_card_no="110105194912310021", qualification__sex="女")
    assert find(case, "qualification", "sex") == [] and find(case, "qualification", "birth_date") == []


@pytest.mark.parametrize("changes, mkey, key, parts", [
    ({"qualification__party_join_date": D(1997, 6, 1)}, "qualification", "party_join_date",
     ["1997-06-01", "18", "1998-03-15"]),
    ({"qualification__party_full_member_date": D(2003, 1, 1)}, "qualification", "party_full_member_date",
     ["2003-01-01", "2003-06-01"]),
    ({"qualification__work_start_date": D(1995, 9, 1)}, "qualification", "work_start_date",
     ["1995-09-01", "16", "1996-03-15"]),
    ({"qualification__current_grade_date": D(2020, 1, 1)}, "qualification", "current_grade_date",
     ["2020-01-01", "2019-12-20"]),
    ({"qualification__current_grade_date": D(2001, 5, 1)}, "qualification", "current_grade_date",
     ["2001-05-01", "2002-07-01"]),
    ({"qualification__current_post_date": D(2001, 1, 1)}, "qualification", "current_post_date",
     ["2001-01-01", "2002-07-01"]),
    ({"qualification__sanction_type": "诫勉", "qualification__sanction_date": D(2026, 12, 1)},
     "qualification", "sanction_date", ["2026-12-01", "今天", "2026-06-30"]),
    ({"qualification__party_join_date": D(2026, 7, 1), "qualification__party_full_member_date": None,
      "qualification__political_status": "中共预备党员"}, "qualification", "party_join_date", ["2026-07-01", "今天"]),
    ({"qualification__current_post_date": D(2026, 7, 2)}, "qualification", "current_post_date", ["2026-07-02", "今天"]),
    ({"qualification__current_grade_date": D(2026, 7, 3), "qualification__current_post_date": D(2026, 7, 3)},
     "qualification", "current_grade_date", ["2026-07-03", "今天"]),
    ({"qualification__work_start_date": D(2026, 7, 4)}, "qualification", "work_start_date", ["2026-07-04", "今天"]),
    ({"qualification__party_full_member_date": D(2026, 7, 5)}, "qualification", "party_full_member_date",
     ["2026-07-05", "今天"]),
    ({"qualification__birth_date": D(2026, 7, 6), "qualification__id_card_no": None}, "qualification", "birth_date",
     ["2026-07-06", "今天"]),
    ({"qualification__lower_level_posts_count": 21}, "qualification", "lower_level_posts_count", ["21", "20"]),
    ({"qualification__lower_level_posts_count": -1}, "qualification", "lower_level_posts_count", ["-1", "负数"]),
    ({"qualification__grassroots_months": 300}, "qualification", "grassroots_months", ["300", "283"]),
    ({"qualification__full_time_education": "大学专科"}, "qualification", "full_time_degree", ["学士", "大学专科"]),
    ({"qualification__ethnicity": "火星族"}, "qualification", "ethnicity", ["火星族", "可选范围"]),
    ({"qualification__birth_date": "1980-03-15"}, "qualification", "birth_date", ["出生年月", "日期", "1980-03-15"]),
])
def test_qualification_checks(changes, mkey, key, parts):
    assert_problem(changed(**changes), mkey, key, *parts)


def test_grassroots_months_counted_to_today_before_a_decision():
    case = changed(qualification__grassroots_months=287, decision__decision_date=None)
    assert find(case, "qualification", "grassroots_months", today=D(2026, 6, 30)) == []  # 2002-07-01 + 287 months
    assert_problem(case, "qualification", "grassroots_months", "287", "286", today=D(2026, 5, 30))


def test_degree_fine_with_postgraduate_or_without_degree():
    assert problems(changed(qualification__full_time_education="研究生", qualification__full_time_degree="硕士")) == []
    assert problems(changed(qualification__full_time_education="大学专科", qualification__full_time_degree="无")) == []


# ---- motion and nomination -----------------------------------------------------------------------

@pytest.mark.parametrize("changes, mkey, key, parts", [
    ({"motion__motion_reason": "工作需要，拟调整"}, "motion", "motion_reason", ["8", "20"]),
    ({"motion__is_skip_level": True}, "motion", "is_skip_level", ["是", "县处级副职", "县处级正职", "1级", "“否”"]),
    ({"qualification__current_grade": "乡科级正职"}, "motion", "is_skip_level", ["否", "2级", "“是”"]),
    ({"motion__target_grade": "县处级副职"}, "motion", "target_grade", ["提拔", "县处级副职"]),
    ({"motion__approved_quota": -1}, "motion", "approved_quota", ["-1", "负数"]),
    ({"motion__selection_type": "提拔任用"}, "motion", "selection_type", ["提拔任用"]),
    ({"nomination__nomination_date": D(2026, 1, 9)}, "nomination", "nomination_date", ["2026-01-09", "2026-01-10"]),
    ({"nomination__nominee_count": 4}, "nomination", "nominee_count", ["4", "3"]),
    ({"nomination__is_differential": False}, "nomination", "is_differential", ["否", "3", "1", "“是”"]),
    ({"nomination__posts_count": 3}, "nomination", "is_differential", ["是", "3", "“否”"]),
    ({"nomination__posts_count": 0}, "nomination", "posts_count", ["0", "1"]),
    ({"nomination__nominee_count": 0}, "nomination", "nominee_count", ["0", "1"]),
])
def test_motion_and_nomination_checks(changes, mkey, key, parts):
    assert_problem(changed(**changes), mkey, key, *parts)


def test_skip_level_consistent_when_skipping():
    assert problems(changed(qualification__current_grade="乡科级正职", motion__is_skip_level=True)) == []


# ---- recommendation ------------------------------------------------------------------------------

@pytest.mark.parametrize("changes, key, parts", [
    ({"recommendation__talk_reco_date": D(2026, 1, 9)}, "talk_reco_date", ["2026-01-09", "2026-01-10"]),
    ({"recommendation__meeting_reco_date": D(2026, 1, 8)}, "meeting_reco_date", ["2026-01-08", "2026-01-10"]),
    ({"recommendation__talk_reco_actual": 46}, "talk_reco_actual", ["实际谈话人数（46）", "谈话调研应参加人数（45）"]),
    ({"recommendation__talk_reco_votes": 44}, "talk_reco_votes", ["44", "实际谈话人数（43）"]),
    ({"recommendation__talk_reco_rank": 0}, "talk_reco_rank", ["0", "1"]),
    ({"recommendation__talk_reco_rank": 4}, "talk_reco_rank", ["4", "提名人数（3）"]),
    ({"recommendation__talk_reco_expected": 0, "recommendation__talk_reco_actual": 0,
      "recommendation__talk_reco_votes": 0}, "talk_reco_expected", ["0", "1"]),
    ({"recommendation__meeting_reco_actual": 61}, "meeting_reco_actual", ["61", "60"]),
    ({"recommendation__ballots_issued": 58}, "ballots_issued", ["58", "57"]),
    ({"recommendation__ballots_returned": 58}, "ballots_returned", ["58", "57"]),
    ({"recommendation__ballots_valid": 58}, "ballots_valid", ["58", "57"]),
    ({"recommendation__meeting_reco_votes": 57}, "meeting_reco_votes", ["57", "56"]),
    ({"recommendation__meeting_reco_rank": 0}, "meeting_reco_rank", ["0", "1"]),
    ({"recommendation__meeting_reco_expected": 0}, "meeting_reco_expected", ["0", "1"]),
    ({"recommendation__meeting_reco_votes": -2}, "meeting_reco_votes", ["-2", "负数"]),
])
def test_recommendation_checks(changes, key, parts):
    assert_problem(changed(**changes), "recommendation", key, *parts)


def test_talk_rank_against_the_named_list_when_count_unknown():
    case = changed(nomination__nominee_count=None, recommendation__talk_reco_rank=4)
    assert_problem(case, "recommendation", "talk_reco_rank", "4", "3")


# ---- inspection ----------------------------------------------------------------------------------

@pytest.mark.parametrize("changes, key, parts", [
    ({"inspection__inspection_object_date": D(2026, 1, 21)}, "inspection_object_date", ["2026-01-21", "2026-01-22"]),
    ({"inspection__inspection_object_date": D(2026, 1, 19), "recommendation__meeting_reco_date": None},
     "inspection_object_date", ["2026-01-19", "谈话调研推荐日期（2026-01-20）"]),
    ({"inspection__inspection_object_date": D(2026, 1, 9)}, "inspection_object_date",
     ["2026-01-09", "动议会议日期（2026-01-10）"]),
    ({"inspection__inspection_start": D(2026, 1, 9), "inspection__inspection_object_date": None},
     "inspection_start", ["2026-01-09", "动议会议日期（2026-01-10）"]),
    ({"inspection__inspection_object_count": 0}, "inspection_object_count", ["0", "1"]),
    ({"inspection__inspection_notice_date": D(2026, 2, 3)}, "inspection_notice_date", ["2026-02-03", "2026-02-02"]),
    ({"inspection__inspection_start": D(2026, 1, 25)}, "inspection_start", ["2026-01-25", "2026-01-26"]),
    ({"inspection__inspection_end": D(2026, 2, 1)}, "inspection_end", ["2026-02-01", "2026-02-02"]),
    ({"inspection__inspection_end": D(2026, 2, 13)}, "inspection_end", ["2026-02-13", "讨论决定日期（2026-02-12）"]),
    ({"inspection__archive_review_date": D(2026, 2, 13)}, "archive_review_date", ["2026-02-13", "2026-02-12"]),
    ({"inspection__personal_matters_check_date": D(2026, 2, 14)}, "personal_matters_check_date",
     ["2026-02-14", "2026-02-12"]),
    ({"inspection__discipline_opinion_reply_date": D(2026, 2, 1)}, "discipline_opinion_reply_date",
     ["2026-02-01", "2026-02-02"]),
    ({"inspection__discipline_opinion_reply_date": D(2026, 2, 13)}, "discipline_opinion_reply_date",
     ["2026-02-13", "2026-02-12"]),
    ({"inspection__eval_excellent": 42}, "eval_incompetent", ["42+14+2+0=58", "57"]),
    ({"inspection__inspection_team": [person("刘建国")]}, "inspection_team", ["1人", "刘建国", "2人"]),
    ({"inspection__inspection_team_leader": person("王五")}, "inspection_team_leader", ["王五", "刘建国、陈静"]),
    ({"inspection__negative_list_result": ["无", "群众公认度不高"]}, "negative_list_result", ["无", "群众公认度不高"]),
    ({"inspection__negative_list_result": ["查无此项"]}, "negative_list_result", ["查无此项", "可选范围"]),
    ({"inspection__interview_count": 0}, "interview_count", ["0", "1"]),
    ({"inspection__eval_basic": -3}, "eval_basic", ["-3", "负数"]),
])
def test_inspection_checks(changes, key, parts):
    assert_problem(changed(**changes), "inspection", key, *parts)


def test_negative_list_with_real_findings_only_is_fine():
    assert problems(changed(inspection__negative_list_result=["群众公认度不高", "其他原因不宜提拔"])) == []


# ---- consultation and decision -------------------------------------------------------------------

PRIOR = {"consultation__prior_report_required": True, "consultation__prior_report_items": ["超职数配备"],
         "consultation__prior_report_date": D(2026, 2, 5), "consultation__prior_report_reply": "同意",
         "consultation__prior_report_reply_date": D(2026, 2, 9), "decision__reported_items_explained": True}


def test_prior_report_case_is_valid():
    assert problems(changed(**PRIOR)) == []
    assert missing_items(changed(**PRIOR), "consultation") == []


@pytest.mark.parametrize("changes, mkey, key, parts", [
    ({"consultation__consult_date": D(2026, 2, 13)}, "consultation", "consult_date", ["2026-02-13", "2026-02-12"]),
    ({**PRIOR, "consultation__prior_report_reply_date": D(2026, 2, 4)}, "consultation", "prior_report_reply_date",
     ["2026-02-04", "事前报告日期（2026-02-05）"]),
    ({**PRIOR, "consultation__prior_report_reply_date": D(2026, 2, 13)}, "consultation", "prior_report_reply_date",
     ["2026-02-13", "2026-02-12"]),
    ({**PRIOR, "consultation__prior_report_date": D(2026, 2, 13), "consultation__prior_report_reply_date": None},
     "consultation", "prior_report_date", ["2026-02-13", "2026-02-12"]),
    ({**PRIOR, "consultation__prior_report_items": ["越级提拔或未经民主推荐列为破格人选"]}, "consultation",
     "prior_report_date", ["2026-02-05", "考察开始日期（2026-02-02）", "考察前"]),
    ({"qualification__political_status": "群众", "qualification__party_join_date": None,
      "qualification__party_full_member_date": None}, "consultation", "united_front_opinion", ["群众", "不适用"]),
    ({"decision__decision_date": D(2026, 1, 9)}, "decision", "decision_date", ["2026-01-09", "2026-01-10"]),
    ({"decision__members_total": 2, "decision__members_present": 2, "decision__votes_for": 2},
     "decision", "members_total", ["2", "3"]),
    ({"decision__votes_against": 1}, "decision", "votes_defer", ["10+1+0=11", "实到会成员数（10）"]),
    ({"decision__votes_against": -1}, "decision", "votes_against", ["-1", "负数"]),
])
def test_consultation_and_decision_checks(changes, mkey, key, parts):
    assert_problem(changed(**changes), mkey, key, *parts)


def test_members_present_message_exactly():
    assert [p.as_dict() for p in problems(changed(decision__members_present=12))] == [
        {"module": "decision", "key": "members_present", "message": "实到会成员数（12）不能多于应到会成员数（11）"}]


def test_non_member_with_united_front_opinion_is_fine():
    case = changed(qualification__political_status="中国民主同盟盟员", qualification__party_join_date=None,
                   qualification__party_full_member_date=None, consultation__united_front_opinion="同意")
    assert problems(case) == []


# ---- publicity, appointment, signature, submission -----------------------------------------------

@pytest.mark.parametrize("changes, mkey, key, parts", [
    ({"publicity__publicity_start": D(2026, 2, 11)}, "publicity", "publicity_start", ["2026-02-11", "2026-02-12"]),
    ({"publicity__publicity_end": D(2026, 2, 12)}, "publicity", "publicity_end", ["2026-02-12", "2026-02-13"]),
    ({"publicity__publicity_end": D(2026, 3, 3)}, "publicity", "publicity_end", ["2026-03-03", "2026-03-02"]),
    ({"publicity__complaints_count": 2, "publicity__complaint_check_file": "核查报告.pdf"}, "publicity",
     "complaints_verified", ["2件", "无反映"]),
    ({"publicity__complaints_count": -1}, "publicity", "complaints_count", ["-1", "负数"]),
    ({"appointment__approval_submit_date": D(2026, 2, 11)}, "appointment", "approval_submit_date",
     ["2026-02-11", "2026-02-12"]),
    ({"appointment__approval_route": "报上级审批", "appointment__approval_reply_date": D(2026, 3, 3)}, "appointment",
     "approval_reply_date", ["2026-03-03", "任职通知/发文日期（2026-03-02）"]),
    ({"appointment__approval_reply_date": D(2026, 2, 27)}, "appointment", "approval_reply_date",
     ["2026-02-27", "2026-02-28"]),
    ({"appointment__appointment_doc_date": D(2026, 2, 11), "appointment__probation_end": D(2027, 2, 11)},
     "appointment", "appointment_doc_date", ["2026-02-11", "2026-02-12"]),
    ({"appointment__appointment_doc_no": "津西组任2026-12号"}, "appointment", "appointment_doc_no",
     ["津西组任2026-12号", "〔2025〕"]),
    ({"appointment__appointment_doc_no": "津西组任〔2026〕12"}, "appointment", "appointment_doc_no", ["〔2026〕12"]),
    ({"appointment__probation_end": D(2027, 2, 1)}, "appointment", "probation_end",
     ["2027-02-01", "2026-03-02", "2027-03-02"]),
    ({"appointment__probation_review_result": "胜任", "appointment__formal_appointment_date": D(2027, 3, 1)},
     "appointment", "formal_appointment_date", ["2027-03-01", "2027-03-02"]),
    ({"appointment__appointment_talk_date": D(2026, 2, 11)}, "appointment", "appointment_talk_date",
     ["2026-02-11", "2026-02-12"]),
    ({"signature__sig1_signed_at": D(2026, 2, 11)}, "signature", "sig1_signed_at", ["2026-02-11", "2026-02-12"]),
    ({"signature__sig2_signed_at": D(2026, 2, 12)}, "signature", "sig2_signed_at", ["2026-02-12", "2026-02-13"]),
    ({"signature__sig3_signed_at": D(2026, 2, 13)}, "signature", "sig3_signed_at", ["2026-02-13", "2026-02-14"]),
    ({"signature__sig3_signed_at": D(2026, 2, 17)}, "signature", "sig3_signed_at", ["2026-02-17", "2026-02-16"]),
    ({"signature__sig2_signer": person("孙立新")}, "signature", "sig2_signer", ["孙立新", "同一人"]),
    ({"signature__sig3_signer": person("赵卫东")}, "signature", "sig3_signer", ["赵卫东", "选任工作部门主要领导"]),
    ({"signature__sig3_signer": person("孙立新")}, "signature", "sig3_signer", ["孙立新", "选任工作部门分管负责人"]),
    ({"submission__first_submitted_at": D(2026, 2, 11)}, "submission", "first_submitted_at",
     ["2026-02-11", "2026-02-12"]),
    ({"submission__second_submitted_at": D(2026, 3, 1)}, "submission", "second_submitted_at",
     ["2026-03-01", "2026-03-02"]),
    ({"submission__review_result": "蓝灯"}, "submission", "review_result", ["蓝灯"]),
])
def test_later_module_checks(changes, mkey, key, parts):
    assert_problem(changed(**changes), mkey, key, *parts)


def test_probation_end_within_three_days_is_fine():
    assert problems(changed(appointment__probation_end=D(2027, 3, 5))) == []
    assert find(changed(appointment__probation_end=D(2027, 3, 6)), "appointment", "probation_end")


def test_approval_reply_after_doc_is_fine_for_filing():
    assert problems(changed(appointment__approval_reply_date=D(2026, 3, 3))) == []


def test_problems_name_the_module_of_their_item():
    case = changed(decision__members_present=12, inspection__inspection_end=D(2026, 2, 13),
                   qualification__sex="女", signature__sig2_signer=person("孙立新"))
    found = problems(case)
    assert len(found) == 4
    for p in found:
        assert items_by_key()[p.key].module == p.module


def test_values_in_loose_forms_are_read():
    case = valid_case()
    case["decision"]["decision_date"] = dt.datetime(2026, 2, 12, 9, 30)
    case["inspection"]["inspection_team_leader"] = "刘建国"
    assert problems(case) == []


# ---- missing items -------------------------------------------------------------------------------

def test_required_item_missing():
    found = missing_items(changed(qualification__native_place="  "), "qualification")
    assert [p.as_dict() for p in found] == [{"module": "qualification", "key": "native_place",
                                             "message": "“籍贯”未填写"}]


def test_false_and_zero_are_values():
    case = changed(motion__is_principal=False, inspection__eval_excellent=0, inspection__eval_competent=0,
                   inspection__eval_basic=0)
    assert missing_items(case, "motion") == [] and missing_items(case, "inspection") == []


def test_system_items_are_never_missing():
    case = valid_case()
    for mkey, key in [("motion", "case_no"), ("motion", "reporting_unit"), ("submission", "first_submit_status"),
                      ("submission", "second_submit_status"), ("submission", "alarm_codes"),
                      ("submission", "first_submitted_at"), ("submission", "first_submitter"),
                      ("submission", "review_result"), ("submission", "second_submitted_at"),
                      ("submission", "second_submitter")]:
        case[mkey][key] = None
    assert missing_items(case, "motion") == [] and missing_items(case, "submission") == []


def test_signature_module_only_misses_the_pledge():
    case = valid_case()
    case["signature"] = {k: None for k in case["signature"]}
    assert [p.key for p in missing_items(case, "signature")] == ["authenticity_pledge"]
    case["signature"]["authenticity_pledge"] = False
    assert missing_items(case, "signature") == []


def test_missing_message_gives_the_reason():
    case = changed(qualification__political_status="中共预备党员", qualification__party_join_date=None,
                   qualification__party_full_member_date=None)
    assert [p.message for p in missing_items(case, "qualification")] == ["“入党时间”未填写（党员必填）"]


NO_TALK = {f"recommendation__{k}": None for k in ("talk_reco_date", "talk_reco_expected", "talk_reco_actual",
                                                   "talk_reco_votes", "talk_reco_rank")}
NO_MEETING = {f"recommendation__{k}": None for k in (
    "meeting_reco_date", "meeting_reco_expected", "meeting_reco_actual", "ballots_issued", "ballots_returned",
    "ballots_valid", "meeting_reco_votes", "meeting_reco_rank")}
NO_PUBLICITY = {f"publicity__{k}": None for k in (
    "publicity_start", "publicity_end", "publicity_scope", "publicity_content_complete", "complaints_count",
    "complaints_verified", "publicity_result")}

CONDITIONAL = [
    # (id, changes making the condition hold, changes making it not hold, module, the keys then missing)
    ("party_join", {"qualification__political_status": "中共预备党员", "qualification__party_join_date": None,
                    "qualification__party_full_member_date": None},
     {"qualification__political_status": "群众", "qualification__party_join_date": None,
      "qualification__party_full_member_date": None, "consultation__united_front_opinion": "同意"},
     "qualification", {"party_join_date"}),
    ("party_full", {"qualification__party_full_member_date": None},
     {"qualification__political_status": "中共预备党员", "qualification__party_full_member_date": None},
     "qualification", {"party_full_member_date"}),
    ("sanction_date", {"qualification__sanction_type": "党纪-警告"}, {"qualification__sanction_type": "无"},
     "qualification", {"sanction_date"}),
    ("breaking_rule", {"motion__is_breaking_rule": True}, {"motion__is_breaking_rule": False},
     "motion", {"breaking_rule_reason"}),
    ("personal_recommendation", {"nomination__nomination_subject": "领导干部个人署名推荐"},
     {"nomination__nomination_subject": "组织(人事)部门"}, "nomination", {"recommender", "recommendation_letter"}),
    ("talk_reco", {**NO_TALK, "recommendation__reco_tally_file": None},
     {**NO_TALK, "recommendation__reco_tally_file": None, "recommendation__recommendation_required": False},
     "recommendation", {"talk_reco_date", "talk_reco_expected", "talk_reco_actual", "talk_reco_votes",
                        "talk_reco_rank", "reco_tally_file"}),
    ("skip_reason", {**NO_MEETING, "recommendation__meeting_reco_done": False},
     {**NO_MEETING, "recommendation__meeting_reco_done": False, "recommendation__recommendation_required": False,
      **NO_TALK}, "recommendation", {"meeting_reco_skip_reason"}),
    ("meeting_reco", {**NO_MEETING},
     {**NO_MEETING, "recommendation__meeting_reco_done": False,
      "recommendation__meeting_reco_skip_reason": "单位人数较少且范围基本相同且意见集中"},
     "recommendation", {k.split("__")[1] for k in NO_MEETING}),
    ("petition", {"inspection__petition_received": True}, {"inspection__petition_received": False},
     "inspection", {"petition_check_result"}),
    ("co_manager", {"consultation__co_manager_reply": "同意"}, {"consultation__co_manager_reply": "不适用"},
     "consultation", {"co_manager_request_date"}),
    ("prior_report", {"consultation__prior_report_required": True}, {"consultation__prior_report_required": False},
     "consultation", {"prior_report_items", "prior_report_date", "prior_report_reply", "prior_report_reply_date"}),
    ("prior_reply_date", {**PRIOR, "consultation__prior_report_reply_date": None},
     {**PRIOR, "consultation__prior_report_reply_date": None, "consultation__prior_report_reply": "未答复"},
     "consultation", {"prior_report_reply_date"}),
    ("absentees", {"decision__absent_opinion_collected": None},
     {"decision__absent_opinion_collected": None, "decision__members_present": 11}, "decision",
     {"absent_opinion_collected"}),
    ("reported_items", {"consultation__prior_report_required": True}, {"consultation__prior_report_required": False},
     "decision", {"reported_items_explained"}),
    ("reconsideration", {"decision__is_reconsideration": True}, {"decision__is_reconsideration": False},
     "decision", {"reconsideration_consent"}),
    ("publicity_exempt", {**NO_PUBLICITY, "publicity__publicity_required": False},
     {**NO_PUBLICITY, "publicity__publicity_required": False, "publicity__publicity_exempt_reason": "特殊岗位"},
     "publicity", {"publicity_exempt_reason"}),
    ("publicity_items", {**NO_PUBLICITY},
     {**NO_PUBLICITY, "publicity__publicity_required": False, "publicity__publicity_exempt_reason": "特殊岗位"},
     "publicity", {"publicity_start", "publicity_end", "publicity_scope", "publicity_content_complete",
                   "complaints_count", "complaints_verified", "publicity_result"}),
    ("complaint_file", {"publicity__complaints_count": 2, "publicity__complaints_verified": "查否"},
     {"publicity__complaints_count": 0}, "publicity", {"complaint_check_file"}),
    ("approval_submit", {"appointment__approval_submit_date": None},
     {"appointment__approval_submit_date": None, "appointment__approval_route": "本级决定"},
     "appointment", {"approval_submit_date"}),
    ("approval_reply", {"appointment__approval_route": "报上级审批"}, {"appointment__approval_route": "报上级备案"},
     "appointment", {"approval_reply_date"}),
    ("probation", {"appointment__probation_end": None, "appointment__probation_review_result": None},
     {"appointment__probation_end": None, "appointment__probation_review_result": None,
      "appointment__probation_applicable": False}, "appointment", {"probation_end", "probation_review_result"}),
    ("formal_appointment", {"appointment__probation_review_result": "胜任"},
     {"appointment__probation_review_result": "不胜任"}, "appointment", {"formal_appointment_date"}),
    ("second_submitter", {"submission__second_submitter": None},
     {"submission__second_submitter": None, "submission__second_submitted_at": None},
     "submission", {"second_submitter"}),
    ("correction", {"submission__review_result": "红灯预警"}, {"submission__review_result": "黄灯提示"},
     "submission", {"correction_deadline"}),
    ("correction_back", {"submission__review_result": "退回补正"}, {"submission__review_result": "通过"},
     "submission", {"correction_deadline"}),
]


@pytest.mark.parametrize("holds, not_holds, mkey, keys", [c[1:] for c in CONDITIONAL], ids=[c[0] for c in CONDITIONAL])
def test_conditional_items(holds, not_holds, mkey, keys):
    assert missing_keys(changed(**holds), mkey) == keys
    assert missing_keys(changed(**not_holds), mkey) == set()
    messages = [p.message for p in missing_items(changed(**holds), mkey)]
    assert all("未填写（" in m and m.endswith("必填）") for m in messages), messages


def test_growth_place_and_correction_results_never_required():
    case = changed(qualification__growth_place=None, submission__review_result="红灯预警",
                   submission__correction_deadline=D(2026, 3, 20))
    assert missing_items(case, "qualification") == [] and missing_items(case, "submission") == []


# ---- module state --------------------------------------------------------------------------------

def test_state_unfilled():
    case = valid_case()
    case["qualification"] = {}
    assert module_state(case, "qualification", False) == "未填"
    case["motion"] = {k: None for k in case["motion"]} | {"case_no": "SJ011-2026-0001", "reporting_unit": "SJ011"}
    assert module_state(case, "motion", True) == "未填"


def test_state_problem():
    case = changed(decision__members_present=12)
    assert module_state(case, "decision", True) == "有问题"
    assert module_state(case, "decision", False) == "有问题"
    assert module_state(case, "motion", True) == "已完成"


def test_state_done():
    assert module_state(valid_case(), "decision", True) == "已完成"


def test_state_in_progress():
    assert module_state(valid_case(), "decision", False) == "填写中"
    assert module_state(changed(decision__presenter=None), "decision", True) == "填写中"
