"""Rule table for the Q (资格) rules, Q01–Q20. The base case (tests/factories.py: valid_case, RuleCase) is a 提拔 from 县处级副职
(since 2018-06-01) to 县处级正职, decided 2026-02-12; the candidate (男, born 1980-03-15) started work 2002-07-01."""
import datetime as dt


from app.rules.catalog import all_rules
from tests.factories import RuleCase, outcomes, rule_tests

D = dt.date
PARTY_POST = "党内职务(党委/党组织书记、委员)"
REASON = "工作需要-专业性强或专项工作急需"
# 正科 → 副处 (Q05's move), 副科 → 正科, and a one-level skip 正科 → 正处
TO_DEPUTY_COUNTY = {"current_grade": "乡科级正职", "target_grade": "县处级副职"}
TOWNSHIP_PROMOTION = {"current_grade": "乡科级副职", "target_grade": "乡科级正职"}
SKIP = {"current_grade": "乡科级正职", "target_grade": "县处级正职"}


def prev_case(decision_date, target_grade="县处级副职", breaking=True, **extra):
    return {"case_no": "SJ011-2025-0003", "status": "已归档", "decision_date": decision_date,
            "target_grade": target_grade, "selection_type": "提拔", "is_breaking_rule": breaking, **extra}


TABLE = [
    # Q01 工龄 ≥ 5 years by the decision (2026-02-12)
    RuleCase("Q01", "pass", note="base"),
    RuleCase("Q01", "pass", {"work_start_date": D(2021, 2, 12)}, note="exactly-5-years"),
    RuleCase("Q01", "fail", {"work_start_date": D(2021, 2, 13)}, severity="red", note="one-day-short"),
    RuleCase("Q01", "fail", {"work_start_date": D(2021, 9, 1), "decision_date": D(2025, 3, 1)}, note="3.5-years"),
    RuleCase("Q01", "na", {"work_start_date": D(2024, 1, 1), "selection_type": "进一步使用"}, note="not-promotion"),
    RuleCase("Q01", "na", {"work_start_date": D(2024, 1, 1), **TOWNSHIP_PROMOTION},
             params={"township_min_work_years": None}, note="below-county-off"),
    RuleCase("Q01", "na", {"decision_date": None}, note="no-decision"),
    # Q02 基层工作经历 ≥ 24 months
    RuleCase("Q02", "pass", note="base"),
    RuleCase("Q02", "pass", {"grassroots_months": 24}, note="exactly-24-months"),
    RuleCase("Q02", "fail", {"grassroots_months": 23}, severity="red", note="23-months"),
    RuleCase("Q02", "fail", {"grassroots_months": 18}, note="18-months"),
    RuleCase("Q02", "na", {"grassroots_months": 0, **TOWNSHIP_PROMOTION}, note="below-county"),
    # Q03 下一级两个以上职位
    RuleCase("Q03", "pass", note="base"),
    RuleCase("Q03", "fail", {"lower_level_posts_count": 1}, severity="yellow", note="one-post"),
    RuleCase("Q03", "pass", {"lower_level_posts_count": 1}, params={"min_lower_posts": 1}, note="param-1"),
    RuleCase("Q03", "na", {"lower_level_posts_count": 0, "selection_type": "平级交流/转任"}, note="transfer"),
    # Q04 副职提任正职 ≥ 2 years in the deputy grade
    RuleCase("Q04", "pass", note="base"),
    RuleCase("Q04", "pass", {"current_grade_date": D(2024, 2, 12)}, note="exactly-2-years"),
    RuleCase("Q04", "fail", {"current_grade_date": D(2024, 2, 13)}, severity="red", note="one-day-short"),
    RuleCase("Q04", "fail", {"current_grade_date": D(2023, 10, 1), "decision_date": D(2025, 4, 1)}, note="1.5-years"),
    RuleCase("Q04", "na", {"current_grade_date": D(2025, 6, 1), **TOWNSHIP_PROMOTION},
             params={"applies_from_grade": "县处级正职"}, note="township-region-off"),
    RuleCase("Q04", "fail", {"current_grade_date": D(2025, 6, 1), **TOWNSHIP_PROMOTION},
             params={"applies_from_grade": "乡科级正职"}, note="township-extended"),
    RuleCase("Q04", "na", {"current_grade_date": D(2025, 6, 1), **TO_DEPUTY_COUNTY}, note="principal-to-deputy"),
    # Q05 下级正职提任上级副职 ≥ 3 years in the lower principal grade
    RuleCase("Q05", "na", note="base"),
    RuleCase("Q05", "pass", {"current_grade_date": D(2023, 2, 12), **TO_DEPUTY_COUNTY}, note="exactly-3-years"),
    RuleCase("Q05", "fail", {"current_grade_date": D(2023, 2, 13), **TO_DEPUTY_COUNTY}, severity="red",
             note="one-day-short"),
    RuleCase("Q05", "fail", {"current_grade_date": D(2023, 7, 1), **TO_DEPUTY_COUNTY}, note="2y7m"),
    RuleCase("Q05", "na", {"current_grade_date": D(2025, 7, 1), **SKIP}, note="skip-level"),
    # Q06 县处级: 大学专科 or higher, any mode
    RuleCase("Q06", "pass", note="base"),
    RuleCase("Q06", "fail", {"full_time_education": "高中/中专", "part_time_education": "无"}, severity="yellow",
             note="high-school"),
    RuleCase("Q06", "pass", {"full_time_education": "高中/中专", "part_time_education": "大学专科"},
             note="in-service-college-counts"),
    RuleCase("Q06", "na", {"full_time_education": "高中/中专", "part_time_education": "无",
                           "current_grade": "县处级正职", "target_grade": "厅局级副职"}, note="bureau"),
    # Q07 厅局级以上: 大学本科 or higher
    RuleCase("Q07", "na", note="base"),
    RuleCase("Q07", "fail", {"full_time_education": "大学专科", "part_time_education": "无",
                             "current_grade": "县处级正职", "target_grade": "厅局级副职"}, severity="yellow",
             note="college-to-bureau"),
    RuleCase("Q07", "pass", {"full_time_education": "大学本科", "part_time_education": "无",
                             "current_grade": "县处级正职", "target_grade": "厅局级副职"}, note="bachelor"),
    # Q08 乡科级: local minimum
    RuleCase("Q08", "na", note="base"),
    RuleCase("Q08", "fail", {"full_time_education": "高中/中专", "part_time_education": "无", **TOWNSHIP_PROMOTION},
             severity="yellow", note="secondary"),
    RuleCase("Q08", "pass", {"full_time_education": "大学专科", "part_time_education": "无", **TOWNSHIP_PROMOTION},
             note="college"),
    RuleCase("Q08", "fail", {"full_time_education": "大学专科", "part_time_education": "无", **TOWNSHIP_PROMOTION},
             params={"min_edu_township": "大学本科"}, note="province-bachelor"),
    # Q09 任职培训
    RuleCase("Q09", "pass", note="base"),
    RuleCase("Q09", "fail", {"training_status": "未参加"}, severity="yellow", note="none"),
    RuleCase("Q09", "fail", {"training_status": "未达到（提任后一年内补训）"}, note="make-up-later"),
    RuleCase("Q09", "na", {"training_status": "未参加", "selection_type": "平级交流/转任"}, note="transfer"),
    # Q10 身体条件
    RuleCase("Q10", "pass", note="base"),
    RuleCase("Q10", "fail", {"health_ok": False}, severity="red", note="unfit"),
    RuleCase("Q10", "na", {"health_ok": None}, note="unknown"),
    # Q11 党龄 for party posts (target unit level decides the minimum)
    RuleCase("Q11", "na", note="base"),
    RuleCase("Q11", "pass", {"target_post_kind": PARTY_POST, "party_full_member_date": D(2023, 2, 12)},
             target_unit={"level": "区县"}, note="county-exactly-3"),
    RuleCase("Q11", "fail", {"target_post_kind": PARTY_POST, "party_full_member_date": D(2023, 2, 13)},
             target_unit={"level": "区县"}, severity="red", note="county-one-day-short"),
    RuleCase("Q11", "fail", {"target_post_kind": PARTY_POST, "party_full_member_date": D(2024, 1, 1)},
             target_unit={"level": "区县"}, severity="red", note="county-2-years"),
    RuleCase("Q11", "pass", {"target_post_kind": PARTY_POST, "party_full_member_date": D(2021, 2, 12)},
             target_unit={"level": "市"}, note="city-exactly-5"),
    RuleCase("Q11", "fail", {"target_post_kind": PARTY_POST, "party_full_member_date": D(2021, 6, 1)},
             target_unit={"level": "市"}, severity="red", note="city-4.7-years"),
    RuleCase("Q11", "pass", {"target_post_kind": PARTY_POST, "party_full_member_date": D(2025, 2, 12)},
             target_unit={"level": "乡镇街道"}, note="branch-exactly-1"),
    RuleCase("Q11", "fail", {"target_post_kind": PARTY_POST, "party_full_member_date": D(2025, 6, 1)},
             target_unit={"level": "乡镇街道"}, severity="yellow", note="branch-8-months"),
    RuleCase("Q11", "na", {"target_post_kind": PARTY_POST, "political_status": "中共预备党员"},
             target_unit={"level": "区县"}, note="probationary-member"),
    # Q12 party posts need a full member
    RuleCase("Q12", "na", note="base"),
    RuleCase("Q12", "pass", {"target_post_kind": PARTY_POST}, note="full-member"),
    RuleCase("Q12", "fail", {"target_post_kind": PARTY_POST, "political_status": "群众"}, severity="red",
             note="masses"),
    RuleCase("Q12", "fail", {"target_post_kind": PARTY_POST, "political_status": "中共预备党员"},
             note="probationary-member"),
    # Q13 no 破格 within a year of the last promotion or before its probation ends
    RuleCase("Q13", "na", note="base"),
    RuleCase("Q13", "pass", {"is_breaking_rule": True, "current_grade_date": D(2025, 2, 12)}, note="exactly-1-year"),
    RuleCase("Q13", "fail", {"is_breaking_rule": True, "current_grade_date": D(2025, 2, 13)}, severity="red",
             note="one-day-short"),
    RuleCase("Q13", "fail", {"is_breaking_rule": True, "current_grade_date": D(2025, 6, 12)}, note="8-months"),
    RuleCase("Q13", "fail", {"is_breaking_rule": True}, related={"same_person": [prev_case(D(2025, 6, 1))]},
             note="previous-promotion-within-a-year"),
    RuleCase("Q13", "pass", {"is_breaking_rule": True}, related={"same_person": [prev_case(D(2025, 2, 12))]},
             note="previous-promotion-exactly-a-year"),
    RuleCase("Q13", "fail", {"is_breaking_rule": True},
             related={"same_person": [prev_case(D(2024, 6, 1), probation_end=D(2026, 3, 1))]},
             note="previous-probation-unfinished"),
    RuleCase("Q13", "pass", {"is_breaking_rule": True},
             related={"same_person": [prev_case(D(2024, 6, 1), probation_end=D(2025, 6, 1))]},
             note="previous-probation-over"),
    # Q14 越两级 forbidden
    RuleCase("Q14", "pass", note="base"),
    RuleCase("Q14", "pass", SKIP, note="one-level-skip"),
    RuleCase("Q14", "fail", {"current_grade": "乡科级副职", "target_grade": "县处级正职"}, severity="red",
             note="two-level-skip"),
    RuleCase("Q14", "na", {"target_grade": "县处级副职", "selection_type": "进一步使用"}, note="same-grade"),
    # Q15 a one-level skip must be 越级 and 破格
    RuleCase("Q15", "na", note="base"),
    RuleCase("Q15", "pass", {**SKIP, "is_skip_level": True, "is_breaking_rule": True}, note="flagged"),
    RuleCase("Q15", "fail", {**SKIP, "is_skip_level": True, "is_breaking_rule": False}, severity="red",
             note="not-breaking"),
    RuleCase("Q15", "fail", {**SKIP, "is_skip_level": False, "is_breaking_rule": True}, note="not-skip-flag"),
    RuleCase("Q15", "na", {"current_grade": "乡科级副职", "target_grade": "县处级正职"}, note="two-levels-is-Q14"),
    # Q16 no consecutive 破格 on 任职年限 (this case: 副处 since 2025-02-12 → 正处, 1 of 2 years)
    RuleCase("Q16", "pass", note="base"),
    RuleCase("Q16", "fail", {"current_grade_date": D(2025, 2, 12), "is_breaking_rule": True},
             related={"same_person": [prev_case(D(2025, 2, 12))]}, severity="red", note="previous-breaking"),
    RuleCase("Q16", "pass", {"current_grade_date": D(2025, 2, 12), "is_breaking_rule": True},
             related={"same_person": [prev_case(D(2025, 2, 12), breaking=False)]}, note="previous-normal"),
    RuleCase("Q16", "fail", {"current_grade_date": D(2025, 2, 12), "is_breaking_rule": True},
             related={"same_person": [prev_case(D(2025, 2, 12), breaking=False),
                                      prev_case(D(2023, 6, 1), "乡科级正职", breaking=False)]},
             note="previous-measured-short"),
    RuleCase("Q16", "pass", {"current_grade_date": D(2025, 2, 12), "is_breaking_rule": True},
             related={"same_person": [prev_case(D(2025, 2, 12)), prev_case(D(2020, 1, 1), "乡科级正职")]},
             note="previous-measured-enough"),
    RuleCase("Q16", "na", {"current_grade_date": D(2025, 2, 12), "is_breaking_rule": True},
             note="no-previous-record"),
    RuleCase("Q16", "pass", {"current_grade_date": D(2024, 2, 12)},
             related={"same_person": [prev_case(D(2024, 2, 12))]}, note="this-exactly-2-years"),
    # Q17 a Q01–Q07 failure needs 破格 and a statutory situation
    RuleCase("Q17", "na", note="base"),
    RuleCase("Q17", "fail", {"work_start_date": D(2022, 1, 1), "is_breaking_rule": True}, severity="red",
             note="Q01-no-reason"),
    RuleCase("Q17", "pass", {"work_start_date": D(2022, 1, 1), "is_breaking_rule": True,
                             "breaking_rule_reason": REASON}, note="Q01-with-reason"),
    RuleCase("Q17", "fail", {"work_start_date": D(2022, 1, 1), "is_breaking_rule": False}, note="Q01-not-breaking"),
    RuleCase("Q17", "fail", {"full_time_education": "高中/中专", "part_time_education": "无",
                             "is_breaking_rule": False}, note="Q06-not-breaking"),
    RuleCase("Q17", "fail", {"work_start_date": D(2022, 1, 1), "is_breaking_rule": True,
                             "breaking_rule_reason": "领导看好"}, note="non-statutory-reason"),
    RuleCase("Q17", "pass", {"is_breaking_rule": True, "breaking_rule_reason": REASON}, note="breaking-with-reason"),
    RuleCase("Q17", "fail", {"is_breaking_rule": True}, note="breaking-without-reason"),
    # Q18 ≥ 2 years to the statutory retirement date (2024 table)
    RuleCase("Q18", "pass", note="base"),
    RuleCase("Q18", "pass", {"birth_date": D(1965, 1, 10), "decision_date": D(2023, 2, 10)},
             note="man-1965-01-retires-60y1m-exactly-2"),
    RuleCase("Q18", "fail", {"birth_date": D(1965, 1, 10), "decision_date": D(2023, 2, 11)}, severity="yellow",
             note="man-1965-01-one-day-short"),
    RuleCase("Q18", "pass", {"birth_date": D(1976, 9, 1), "decision_date": D(2037, 9, 1)},
             note="man-1976-09-retires-63-exactly-2"),
    RuleCase("Q18", "fail", {"birth_date": D(1976, 8, 1), "decision_date": D(2037, 9, 1)},
             note="man-1976-08-retires-62y11m"),
    RuleCase("Q18", "fail", {"sex": "女", "birth_date": D(1972, 5, 20), **TOWNSHIP_PROMOTION},
             note="woman-township-55y8m"),
    RuleCase("Q18", "pass", {"sex": "女", "birth_date": D(1972, 5, 20)}, note="woman-county-60"),
    RuleCase("Q18", "na", {"sex": None}, note="no-sex"),
    # Q19 local age caps (disabled by default; placeholders)
    RuleCase("Q19", "pass", note="base"),
    RuleCase("Q19", "fail", {"birth_date": D(1975, 2, 11), **TO_DEPUTY_COUNTY}, severity="yellow", note="aged-51"),
    RuleCase("Q19", "pass", {"birth_date": D(1975, 2, 13), **TO_DEPUTY_COUNTY}, note="aged-50-exactly-cap"),
    RuleCase("Q19", "na", {"birth_date": D(1960, 1, 1), "current_grade": "厅局级副职", "target_grade": "厅局级正职"},
             note="no-cap"),
    # Q20 一身份
    RuleCase("Q20", "pass", note="base"),
    RuleCase("Q20", "fail", {"identity": "工勤人员"}, severity="red", note="worker"),
    RuleCase("Q20", "fail", {"identity": "国有企业管理人员"}, severity="yellow", note="soe-into-organ"),
    RuleCase("Q20", "pass", {"identity": "国有企业管理人员", "target_post_kind": "国有企业领导人员"}, note="soe-to-soe"),
    RuleCase("Q20", "pass", {"identity": "事业单位专技人员", "selection_type": "平级交流/转任"}, note="transfer"),
    RuleCase("Q20", "na", {"identity": "工勤人员", "selection_type": "免职"}, note="removal"),
]


Q_CODES = [f"Q{n:02d}" for n in range(1, 21)]
test_rule, test_base_case_is_not_a_hit, _ = rule_tests(TABLE, Q_CODES)


def test_every_q_rule_has_pass_and_fail_rows():
    assert {c for c in Q_CODES if not {"pass", "fail"} <= outcomes(TABLE, c)} == set()
    assert set(Q_CODES) == {c for c in all_rules() if c.startswith("Q")}
