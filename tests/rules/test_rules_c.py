"""C 条件/负面清单 rules (C01–C16): one row per outcome, with boundary rows at each threshold."""
import datetime as dt


from tests.factories import RuleCase, rule_tests

D = dt.date
COUNTY_PARTY = dict(level="区县", unit_type="党委", region_code="110101")

TABLE = [
    # C01 违反政治纪律和政治规矩
    RuleCase("C01", "pass", note="base"),
    RuleCase("C01", "fail", {"negative_list_result": ["违反政治纪律和政治规矩"]}, severity="red", note="listed"),
    RuleCase("C01", "pass", {"negative_list_result": ["跑官拉票等非组织行为"]}, note="other item"),
    RuleCase("C01", "na", {"negative_list_result": None}, note="no check"),
    # C02 群众公认度不高
    RuleCase("C02", "pass", note="base"),
    RuleCase("C02", "fail", {"negative_list_result": ["群众公认度不高"]}, severity="red", note="listed"),
    RuleCase("C02", "fail", {"meeting_reco_votes": 17}, severity="yellow", note="30pct"),
    RuleCase("C02", "pass", {"meeting_reco_votes": 28}, note="exactly half"),
    RuleCase("C02", "fail", {"meeting_reco_votes": 27}, severity="yellow", note="one below half"),
    RuleCase("C02", "pass", {"meeting_reco_rank": 3}, note="rank posts+2"),
    RuleCase("C02", "fail", {"meeting_reco_rank": 4}, severity="yellow", note="rank posts+3"),
    RuleCase("C02", "fail", {"talk_reco_rank": 4}, severity="yellow", note="talk rank"),
    RuleCase("C02", "fail", {"meeting_reco_rank": 2}, params={"max_rank": 1}, severity="yellow", note="max_rank set"),
    RuleCase("C02", "pass", {"meeting_reco_votes": 19}, params={"min_vote_ratio": "1/3"}, note="ratio param"),
    RuleCase("C02", "na", {"negative_list_result": None, "meeting_reco_votes": None, "ballots_valid": None,
                           "meeting_reco_rank": None, "talk_reco_rank": None}, note="nothing to judge"),
    # C03 年度考核基本称职以下
    RuleCase("C03", "pass", note="base"),
    RuleCase("C03", "fail", {"appraisal_y1": "基本称职"}, note="y1 basic"),
    RuleCase("C03", "fail", {"appraisal_y1": "不称职"}, note="y1 incompetent"),
    RuleCase("C03", "pass", {"appraisal_y2": "基本称职"}, note="y2 outside 2019 look-back"),
    RuleCase("C03", "fail", {"appraisal_y3": "基本称职"}, params={"lookback_years": 3}, note="y3 with 3 years"),
    RuleCase("C03", "na", {"appraisal_y1": None}, note="no y1"),
    # C04 年度考核不定等次
    RuleCase("C04", "pass", note="base"),
    RuleCase("C04", "fail", {"appraisal_y2": "不定等次"}, severity="yellow", note="y2"),
    RuleCase("C04", "pass", {"appraisal_y3": "不定等次"}, params={"lookback_years": 2}, note="y3 outside 2 years"),
    RuleCase("C04", "na", {"appraisal_y1": None, "appraisal_y2": None, "appraisal_y3": None}, note="none"),
    # C05 跑官拉票
    RuleCase("C05", "pass", note="base"),
    RuleCase("C05", "fail", {"negative_list_result": ["跑官拉票等非组织行为"]}, note="listed"),
    RuleCase("C05", "na", {"negative_list_result": None}, note="no check"),
    # C06 配偶子女移居国（境）外
    RuleCase("C06", "pass", note="base"),
    RuleCase("C06", "fail", {"spouse_children_abroad": "配偶已移居"}, note="spouse"),
    RuleCase("C06", "fail", {"spouse_children_abroad": "无配偶且子女均已移居"}, note="all children"),
    RuleCase("C06", "pass", {"spouse_children_abroad": "部分子女移居"}, note="some children"),
    RuleCase("C06", "na", {"spouse_children_abroad": "配偶已移居"}, params={"special_post_whitelist": ["发展和改革"]},
             note="whitelisted post"),
    RuleCase("C06", "na", {"spouse_children_abroad": None}, note="missing"),
    # C07 影响期 (decision 2026-02-12)
    RuleCase("C07", "na", note="base no sanction"),
    RuleCase("C07", "pass", {"sanction_type": "党纪-警告", "sanction_date": D(2025, 2, 12)}, note="warning exactly 12m"),
    RuleCase("C07", "fail", {"sanction_type": "党纪-警告", "sanction_date": D(2025, 2, 13)}, note="warning 1 day short"),
    RuleCase("C07", "pass", {"sanction_type": "诫勉", "sanction_date": D(2025, 8, 12)}, note="jiemian exactly 6m"),
    RuleCase("C07", "fail", {"sanction_type": "诫勉", "sanction_date": D(2025, 8, 13)}, note="jiemian 1 day short"),
    RuleCase("C07", "fail", {"sanction_type": "政务-记大过", "sanction_date": D(2024, 9, 1)}, note="major demerit 18m"),
    RuleCase("C07", "fail", {"sanction_type": "组织处理-免职", "sanction_date": D(2025, 1, 10)},
             note="dismissed then promoted 24m"),
    RuleCase("C07", "pass", {"sanction_type": "组织处理-免职", "sanction_date": D(2025, 1, 10),
                             "selection_type": "平级交流/转任", "target_grade": "县处级副职"}, note="dismissed same level 12m"),
    RuleCase("C07", "pass", {"sanction_type": "党纪-留党察看", "sanction_date": D(2022, 2, 12)}, note="probation 24+24"),
    RuleCase("C07", "fail", {"sanction_type": "党纪-留党察看", "sanction_date": D(2022, 2, 13)},
             note="probation 1 day short"),
    RuleCase("C07", "pass", {"sanction_type": "党纪-留党察看", "sanction_date": D(2023, 2, 12)},
             params={"probation_months": 12}, note="probation one year"),
    RuleCase("C07", "fail", {"negative_list_result": ["影响期未满或期满影响使用"]}, note="negative list"),
    RuleCase("C07", "na", {"sanction_type": "党纪-警告", "sanction_date": D(2025, 6, 1), "selection_type": "免职"},
             note="dismissal"),
    RuleCase("C07", "na", {"sanction_type": "党纪-警告", "sanction_date": None}, note="no date"),
    # C08 审查调查/线索核查中
    RuleCase("C08", "pass", note="base"),
    RuleCase("C08", "fail", {"discipline_opinion_result": "问题线索正在核查"}, note="lead checked"),
    RuleCase("C08", "fail", {"petition_received": True, "petition_check_result": "核查中"}, note="petition checked"),
    RuleCase("C08", "na", {"discipline_opinion_result": None, "petition_check_result": None}, note="missing"),
    # C09 个人有关事项
    RuleCase("C09", "pass", note="base"),
    RuleCase("C09", "fail", {"personal_matters_result": "不如实报告/隐瞒不报"}, severity="red", note="concealed"),
    RuleCase("C09", "fail", {"personal_matters_result": "漏报（情节较轻，已说明）"}, severity="yellow", note="minor"),
    RuleCase("C09", "na", {"personal_matters_result": "不属于报告对象"}, note="not a reporter"),
    # C10 纪检监察机关意见
    RuleCase("C10", "pass", note="base"),
    RuleCase("C10", "pass", {"discipline_opinion_result": "有问题但不影响使用"}, note="minor problem"),
    RuleCase("C10", "fail", {"discipline_opinion_result": "影响使用"}, note="affects use"),
    RuleCase("C10", "na", {"discipline_opinion_result": None}, note="missing"),
    # C11 信访举报
    RuleCase("C11", "na", note="base no petition"),
    RuleCase("C11", "pass", {"petition_received": True, "petition_check_result": "查否"}, note="disproved"),
    RuleCase("C11", "fail", {"petition_received": True, "petition_check_result": "属实影响使用"}, note="verified"),
    # C12 三龄两历一身份
    RuleCase("C12", "pass", note="base"),
    RuleCase("C12", "pass", {"sanling_result": "存在差异已认定（以档案为准）"}, note="resolved"),
    RuleCase("C12", "fail", {"sanling_result": "存在疑点未查清"}, note="unresolved"),
    RuleCase("C12", "na", {"sanling_result": None}, note="missing"),
    # C13 经济责任审计
    RuleCase("C13", "na", note="base not needed"),
    RuleCase("C13", "pass", {"economic_audit": "已审计无问题"}, note="clean audit"),
    RuleCase("C13", "fail", {"economic_audit": "应审未审"}, severity="red", note="not audited"),
    RuleCase("C13", "fail", {"economic_audit": "已审计有问题"}, severity="yellow", note="problems"),
    # C14 任职回避（亲属）
    RuleCase("C14", "pass", note="base"),
    RuleCase("C14", "fail", {"kinship_avoidance": "与拟任单位领导成员有亲属关系-直接上下级或同一领导"}, severity="red",
             note="direct"),
    RuleCase("C14", "fail", {"kinship_avoidance": "拟任组织人事纪检审计财务岗位且亲属任该单位领导"}, severity="red",
             note="sensitive post"),
    RuleCase("C14", "fail", {"kinship_avoidance": "与拟任单位领导成员有亲属关系-非直接隶属"}, severity="yellow",
             note="non-direct"),
    RuleCase("C14", "na", {"kinship_avoidance": None}, note="missing"),
    # C15 地域回避
    RuleCase("C15", "na", note="base a government department"),
    RuleCase("C15", "fail", target_unit=COUNTY_PARTY, note="county party committee grew up there"),
    RuleCase("C15", "pass", {"growth_place": "110102"}, target_unit=COUNTY_PARTY, note="grew up elsewhere"),
    RuleCase("C15", "fail", {"growth_place": "420101"},
             target_unit=dict(level="委办局", unit_type="公安", region_code="420101"), note="county police"),
    RuleCase("C15", "fail", {"growth_place": "420105"},
             target_unit=dict(level="委办局", unit_type="公安", region_code="420100"), note="city police same city"),
    RuleCase("C15", "pass", {"growth_place": "430105"},
             target_unit=dict(level="委办局", unit_type="公安", region_code="420100"), note="city police other city"),
    RuleCase("C15", "na", {"growth_place": "420105"}, params={"levels": ["县"]},
             target_unit=dict(level="委办局", unit_type="公安", region_code="420100"), note="city level not covered"),
    RuleCase("C15", "na", target_unit=dict(level="省", unit_type="党委", region_code="420000"), note="province"),
    RuleCase("C15", "na", {"is_principal": False}, target_unit=COUNTY_PARTY, note="deputy"),
    RuleCase("C15", "na", target_unit=dict(COUNTY_PARTY, level="乡镇街道", unit_type="政府"), note="township"),
    RuleCase("C15", "na", {"growth_place": "河北保定"}, target_unit=COUNTY_PARTY, note="not a code"),
    # C16 考察组不建议任用仍决定通过
    RuleCase("C16", "pass", note="base"),
    RuleCase("C16", "fail", {"inspection_conclusion": "不建议任用"}, note="not recommended passed"),
    RuleCase("C16", "fail", {"inspection_conclusion": "建议缓用"}, note="defer advised passed"),
    RuleCase("C16", "pass", {"inspection_conclusion": "不建议任用", "decision_result": "未通过"}, note="followed advice"),
    RuleCase("C16", "na", {"inspection_conclusion": None}, note="missing"),
]


test_rule, test_base_case_does_not_fail, _ = rule_tests(TABLE, [f"C{n:02d}" for n in range(1, 17)])
