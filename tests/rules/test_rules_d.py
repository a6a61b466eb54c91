"""D 纪律 rules (D01–D11): one row per outcome, with boundary rows at each threshold.
The base case is decided on 2026-02-12 and its appointment document is dated 2026-03-02."""
import datetime as dt


from tests.factories import RuleCase, rule_tests

D = dt.date


def reported(item, reply="同意"):
    return {"prior_report_required": True, "prior_report_items": [item], "prior_report_date": D(2026, 2, 1),
            "prior_report_reply": reply, "prior_report_reply_date": D(2026, 2, 8) if reply != "未答复" else None}


OVER_QUOTA = {"approved_quota": 1, "current_incumbents": 1}
NON_DIRECT = {"kinship_avoidance": "与拟任单位领导成员有亲属关系-非直接隶属"}
WARNED_5Y = {"sanction_type": "党纪-警告", "sanction_date": D(2021, 2, 13)}
PRINCIPAL = {"current_grade": "县处级正职", "target_grade": "厅局级副职", "current_post": "某某区委副书记、区长"}

TABLE = [
    # D01 超职数配备
    RuleCase("D01", "pass", note="base one vacancy"),
    RuleCase("D01", "fail", OVER_QUOTA, severity="red", note="quota full"),
    RuleCase("D01", "pass", {"approved_quota": 3, "current_incumbents": 2}, note="last vacancy"),
    RuleCase("D01", "fail", {**OVER_QUOTA, **reported("超职数配备")}, severity="yellow", note="reported approved"),
    RuleCase("D01", "fail", {**OVER_QUOTA, **reported("超职数配备", "不同意")}, severity="red", note="reported refused"),
    RuleCase("D01", "fail", {**OVER_QUOTA, **reported("破格提拔")}, severity="red", note="other item approved"),
    RuleCase("D01", "na", {**OVER_QUOTA, "selection_type": "职级晋升"}, note="rank promotion"),
    RuleCase("D01", "na", {"approved_quota": None}, note="missing"),
    # D02 超机构规格提拔
    RuleCase("D02", "pass", note="base"),
    RuleCase("D02", "pass", target_unit={"max_grade": "县处级正职"}, note="exactly the unit rank"),
    RuleCase("D02", "fail", target_unit={"max_grade": "县处级副职"}, note="above unit rank"),
    RuleCase("D02", "fail", {"target_grade": "县处级副职", "current_grade": "乡科级正职"},
             target_unit={"max_grade": "乡科级正职"}, note="deputy chief in a section-level unit"),
    RuleCase("D02", "na", target_unit={"max_grade": ""}, note="unit rank unknown"),
    # D03 主要领导调整已明确后突击提拔
    RuleCase("D03", "na", note="base no transfer"),
    RuleCase("D03", "pass", {"main_leader_transfer_settled_date": D(2026, 2, 12)}, note="same day"),
    RuleCase("D03", "fail", {"main_leader_transfer_settled_date": D(2026, 2, 11)}, note="day after"),
    RuleCase("D03", "pass", {"main_leader_transfer_settled_date": D(2026, 2, 11)}, params={"grace_days": 1},
             note="within grace"),
    RuleCase("D03", "pass", {"main_leader_transfer_settled_date": D(2026, 2, 1),
                             **reported("机构变动或主要领导即将离任时调整干部")}, note="reported approved"),
    RuleCase("D03", "fail", {"main_leader_transfer_settled_date": D(2026, 2, 1),
                             **reported("机构变动或主要领导即将离任时调整干部", "未答复")}, note="no reply"),
    # D04 冻结期
    RuleCase("D04", "pass", note="base"),
    RuleCase("D04", "fail", {"freeze_window_flag": True}, note="flag"),
    RuleCase("D04", "fail", related={"freeze_windows": [(D(2026, 2, 1), D(2026, 2, 12), "机构改革")]},
             note="last day of window"),
    RuleCase("D04", "fail", related={"freeze_windows": [(D(2026, 2, 12), D(2026, 3, 31), "换届")]},
             note="first day of window"),
    RuleCase("D04", "pass", related={"freeze_windows": [(D(2026, 1, 1), D(2026, 2, 11), "换届")]},
             note="window ended day before"),
    RuleCase("D04", "na", {"freeze_window_flag": None, "decision_date": None}, note="missing"),
    # D05 一次性大量调整
    RuleCase("D05", "na", note="base batch unknown"),
    RuleCase("D05", "pass", related={"batch_size": 10}, note="exactly max"),
    RuleCase("D05", "fail", related={"batch_size": 11}, severity="yellow", note="one over"),
    RuleCase("D05", "pass", reported("非换届期间一次性调整较多"), related={"batch_size": 18}, note="reported"),
    RuleCase("D05", "na", {"selection_method": "换届考察"}, related={"batch_size": 18}, note="during 换届"),
    # D06 亲属在本单位提拔未报告
    RuleCase("D06", "na", note="base no relative"),
    RuleCase("D06", "fail", NON_DIRECT, note="not reported"),
    RuleCase("D06", "pass", {**NON_DIRECT, **reported("领导干部亲属在本单位（系统）提拔")}, note="reported approved"),
    RuleCase("D06", "fail", {**NON_DIRECT, **reported("领导干部亲属在本单位（系统）提拔", "不同意")}, note="refused"),
    RuleCase("D06", "na", {"kinship_avoidance": "与拟任单位领导成员有亲属关系-直接上下级或同一领导"}, note="direct is C14"),
    # D07 受处理处分后重新任用未报告 (decision 2026-02-12)
    RuleCase("D07", "na", note="base no sanction"),
    RuleCase("D07", "fail", WARNED_5Y, note="one day inside 5 years"),
    RuleCase("D07", "pass", {**WARNED_5Y, "sanction_date": D(2021, 2, 12)}, note="exactly 5 years"),
    RuleCase("D07", "pass", {**WARNED_5Y, **reported("受处理处分后重新任用")}, note="reported approved"),
    RuleCase("D07", "fail", {"sanction_type": "组织处理-免职", "sanction_date": D(2022, 3, 1)}, note="dismissed 2022"),
    RuleCase("D07", "na", {**WARNED_5Y, "selection_type": "免职"}, note="dismissal"),
    # D08 正职任期未满调整未报告
    RuleCase("D08", "na", note="base deputy"),
    RuleCase("D08", "pass", {**PRINCIPAL, "current_post_date": D(2023, 2, 12)}, note="exactly 3 years"),
    RuleCase("D08", "fail", {**PRINCIPAL, "current_post_date": D(2023, 2, 13)}, severity="yellow",
             note="one day short"),
    RuleCase("D08", "fail", {**PRINCIPAL, "current_post_date": D(2024, 6, 12), "selection_type": "平级交流/转任",
                             "target_grade": "县处级正职"}, severity="yellow", note="transferred after 20 months"),
    RuleCase("D08", "pass", {**PRINCIPAL, "current_post_date": D(2024, 6, 12), **reported("正职任期未满调整")},
             note="reported"),
    RuleCase("D08", "na", {**PRINCIPAL, "current_post_date": D(2024, 6, 12), "selection_type": "职级晋升"},
             note="rank promotion"),
    # D09 改变党委集体决定
    RuleCase("D09", "pass", note="base"),
    RuleCase("D09", "fail", {"decision_result": "暂缓表决"}, note="deferred yet issued"),
    RuleCase("D09", "fail", {"decision_result": "未通过", "appointment_doc_date": None}, note="doc number only"),
    RuleCase("D09", "na", {"decision_result": "未通过", "appointment_doc_date": None, "appointment_doc_no": None},
             note="nothing issued"),
    # D10 拖延执行党委决定 (decision 2026-02-12; +60 days = 2026-04-13)
    RuleCase("D10", "pass", note="base doc after 18 days"),
    RuleCase("D10", "pass", {"appointment_doc_date": None}, as_of=D(2026, 4, 13), note="exactly 60 days pending"),
    RuleCase("D10", "fail", {"appointment_doc_date": None}, as_of=D(2026, 4, 14), severity="yellow",
             note="61 days pending"),
    RuleCase("D10", "fail", {"appointment_doc_date": D(2026, 4, 20)}, severity="yellow", note="issued late"),
    RuleCase("D10", "na", {"decision_result": "未通过", "appointment_doc_date": None}, note="not passed"),
    # D11 带病提拔倒查触发 (decision 2026-02-12)
    RuleCase("D11", "na", note="base no sanction"),
    RuleCase("D11", "fail", {"sanction_type": "党纪-严重警告", "sanction_date": D(2027, 5, 10)}, severity="yellow",
             note="sanctioned during probation"),
    RuleCase("D11", "fail", {"sanction_type": "政务-记过", "sanction_date": D(2029, 3, 1),
                             "formal_appointment_date": D(2027, 3, 2)}, note="within 3 years of formal appointment"),
    RuleCase("D11", "pass", {"sanction_type": "政务-记过", "sanction_date": D(2030, 3, 2),
                             "formal_appointment_date": D(2027, 3, 2)}, note="exactly 3 years later"),
    RuleCase("D11", "pass", {"sanction_type": "诫勉", "sanction_date": D(2025, 1, 5)}, note="sanction before decision"),
    RuleCase("D11", "na", {"sanction_type": "诫勉", "sanction_date": D(2027, 1, 5), "selection_type": "平级交流/转任"},
             note="not a promotion"),
]


test_rule, test_base_case_does_not_fail, _ = rule_tests(TABLE, [f"D{n:02d}" for n in range(1, 12)])
