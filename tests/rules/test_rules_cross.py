"""Issue 13, classes 5 and 6: one person and one unit across cases (pure rows over a hand-made Related).
The base case SJ011-2026-0001 is decided on 2026-02-12; its root is 10."""
import datetime as dt

import pytest

from app.rules.catalog import all_rules
from tests.factories import RuleCase, base_values, check, make_ctx

D = dt.date
_B = base_values()
EARLIER = {"case_no": "SJ011-2023-0007", "root_id": 5, "status": "已二次提交", "decision_date": D(2023, 5, 10),
           "decision_result": "通过", "selection_type": "提拔", "target_grade": "县处级副职",
           "target_post": _B["current_post"], "appointment_effective_date": _B["current_post_date"],
           "formal_appointment_date": None, "current_post": "区发展和改革委员会办公室主任", "current_post_date": D(2018, 1, 1),
           **{k: _B[k] for k in ("full_name", "birth_date", "work_start_date", "party_join_date", "full_time_education")}}


def person(*rows, corrections=()):
    return {"root_id": 10, "same_person": [dict(EARLIER, **r) for r in rows], "corrections": list(corrections)}


MOVED_BIRTH = {"birth_date": D(1982, 3, 15)}
BIRTH_FIX = {"item_key": "birth_date", "old_value": "1982-03-15", "new_value": "1980-03-15",
             "basis": "区委组织部干部档案专审认定（2025）12号", "decided_on": D(2025, 6, 1)}

TABLE = [
    # X18 同一人跨案例基本信息不一致
    RuleCase("X18", "pass", related=person({}), note="same facts"),
    RuleCase("X18", "fail", related=person(MOVED_BIRTH), severity="red", note="birth year moved by two"),
    RuleCase("X18", "fail", {"sanling_result": "存在差异已认定（以档案为准）"}, related=person(MOVED_BIRTH),
             severity="red", note="documented in this case only is no correction"),
    RuleCase("X18", "pass", related=person(MOVED_BIRTH, corrections=[BIRTH_FIX]), note="recorded correction"),
    RuleCase("X18", "fail", related=person({"birth_date": D(1981, 3, 15)}, corrections=[BIRTH_FIX]),
             severity="red", note="a correction of other values explains nothing"),
    RuleCase("X18", "na", related=person({**MOVED_BIRTH, "decision_date": D(2026, 3, 1)}), note="later case"),
    RuleCase("X18", "fail", related=person({**MOVED_BIRTH, "decision_date": D(2026, 2, 12), "root_id": 9}),
             note="same day created before"),
    RuleCase("X18", "na", related=person({**MOVED_BIRTH, "decision_date": D(2026, 2, 12), "root_id": 11}),
             note="same day created after"),
    RuleCase("X18", "na", related=person({**MOVED_BIRTH, "decision_date": None}), note="undecided other case"),
    RuleCase("X18", "fail", related=person({"full_name": "王某某"}), severity="red", note="another name same ID"),
    RuleCase("X18", "fail", related=person({"work_start_date": D(2001, 7, 1)}), note="work start differs"),
    RuleCase("X18", "fail", related=person({"party_join_date": D(2005, 7, 1)}), note="party join differs"),
    RuleCase("X18", "fail", related=person({"full_time_education": "大学专科"}), note="education differs"),
    RuleCase("X18", "pass", related=person({"party_join_date": None}), note="not recorded earlier"),
    RuleCase("X18", "na", note="no other case"),
    RuleCase("X18", "fail", {"decision_date": None}, related=person(MOVED_BIRTH), note="undecided case vs decided"),
    # X19 任现职时间与系统内任职记录不一致
    RuleCase("X19", "pass", related=person({}), note="same date"),
    RuleCase("X19", "pass", related=person({"appointment_effective_date": D(2019, 11, 19)}), note="31 days"),
    RuleCase("X19", "fail", related=person({"appointment_effective_date": D(2019, 11, 18)}), severity="yellow",
             note="32 days"),
    RuleCase("X19", "fail", related=person({"appointment_effective_date": None, "decision_date": D(2021, 12, 20)}),
             note="decision date when no appointment date"),
    RuleCase("X19", "na", related=person({"target_post": "区财政局副局长"}), note="another post"),
    RuleCase("X19", "na", related=person({"decision_result": "未通过"}), note="not passed"),
    RuleCase("X19", "na", related=person({"decision_date": D(2026, 3, 1)}), note="later case"),
    RuleCase("X19", "na", note="no other case"),
]


UNIT = "区发展和改革委员会"  # the base case's reporting unit, as the engine names it
LEADER_OUT = {"case_no": "QW-2026-0031", "root_id": 31, "current_post": f"{UNIT}党组书记、主任",
              "selection_type": "平级交流/转任", "target_post": "区财政局党组书记、局长", "motion_meeting_date": D(2026, 1, 5),
              "inspection_notice_date": D(2026, 1, 20), "inspection_start": D(2026, 1, 22),
              "decision_date": D(2026, 3, 1)}


def unit(*departures, sizes=()):
    return {"unit_name": UNIT, "leader_departures": [dict(LEADER_OUT, **d) for d in departures],
            "unit_batch_sizes": list(sizes)}


def batch(size, *sizes):
    return {"unit_name": UNIT, "batch_size": size, "unit_batch_sizes": list(sizes)}


TABLE += [
    # D03 from a case in the system (the base case is decided on 2026-02-12 and declares nothing)
    RuleCase("D03", "fail", related=unit({}), severity="red", note="leader moved out by a system case"),
    RuleCase("D03", "pass", related=unit({"inspection_notice_date": D(2026, 2, 12)}), note="settled on decision day"),
    RuleCase("D03", "fail", related=unit({"inspection_notice_date": D(2026, 2, 11)}), note="settled the day before"),
    RuleCase("D03", "fail", related=unit({"decision_date": D(2026, 2, 12)}), note="leader leaves on decision day"),
    RuleCase("D03", "fail", related=unit({"inspection_notice_date": None, "inspection_start": None}),
             note="settled at the motion"),
    RuleCase("D03", "pass", related=unit({"inspection_notice_date": None, "inspection_start": None,
                                          "motion_meeting_date": None, "decision_date": D(2026, 5, 13)}),
             note="no dates: window 90 days before departure"),
    RuleCase("D03", "fail", related=unit({"inspection_notice_date": None, "inspection_start": None,
                                          "motion_meeting_date": None, "decision_date": D(2026, 5, 12)}),
             note="no dates: inside the 90-day window"),
    RuleCase("D03", "na", related=unit({"current_post": f"{UNIT}党组成员、副主任"}), note="a deputy leaves"),
    RuleCase("D03", "na", related=unit({"current_post": f"{UNIT}办公室主任"}), note="a section head leaves"),
    RuleCase("D03", "na", related=unit({"current_post": "区财政局党组书记、局长"}), note="another unit's leader"),
    RuleCase("D03", "pass", {"prior_report_required": True, "prior_report_items": ["机构变动或主要领导即将离任时调整干部"],
                             "prior_report_date": D(2026, 2, 1), "prior_report_reply": "同意",
                             "prior_report_reply_date": D(2026, 2, 8)}, related=unit({}), note="reported and approved"),
    # D14 batch-size spike against the unit's own history
    RuleCase("D14", "fail", related=batch(9, 2, 3, 2, 4), severity="yellow", note="9 against a median of 2.5"),
    RuleCase("D14", "pass", related=batch(5, 2, 3, 2, 4), note="5 is the minimum size"),
    RuleCase("D14", "fail", related=batch(6, 2, 3, 2), note="6 over max(5, 2x2)"),
    RuleCase("D14", "pass", related=batch(8, 4, 4, 4), note="exactly twice the median"),
    RuleCase("D14", "fail", related=batch(9, 4, 4, 4), note="one over twice the median"),
    RuleCase("D14", "na", related=batch(9, 2, 2), note="too little history"),
    RuleCase("D14", "na", {"selection_method": "换届考察"}, related=batch(9, 2, 3, 2), note="huanjie"),
    RuleCase("D14", "pass", {"prior_report_required": True, "prior_report_items": ["非换届期间一次性调整较多"],
                             "prior_report_date": D(2026, 2, 1), "prior_report_reply": "同意",
                             "prior_report_reply_date": D(2026, 2, 8)}, related=batch(9, 2, 3, 2), note="reported"),
]


@pytest.mark.parametrize("rc", TABLE, ids=lambda rc: rc.id())
def test_rule(rc):
    check(rc)


def test_x18_names_both_values_and_both_cases():
    out = all_rules()["X18"].run(make_ctx(RuleCase("X18", "fail", related=person(MOVED_BIRTH))))
    assert "SJ011-2026-0001" in out.message and "SJ011-2023-0007" in out.message
    assert "1980-03-15" in out.message and "1982-03-15" in out.message
