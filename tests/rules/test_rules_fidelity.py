"""Issue 13: rules that hold on real violations. Boundary rows per class; the base case is decided on
2026-02-12 (tests/factories.py)."""
import datetime as dt

import pytest

from app.rules.context import Ctx, Related
from app.rules.catalog import all_rules
from tests.factories import RuleCase, base_unit, base_values, check

D = dt.date
AFTER = {"sanction_type": "党纪-严重警告", "sanction_date": D(2026, 2, 13)}  # the day after the decision
SAME_DAY = {"sanction_type": "党纪-严重警告", "sanction_date": D(2026, 2, 12)}
KE_PROMOTION = {"current_grade": "乡科级副职", "target_grade": "乡科级正职", "target_post": "区发展和改革委员会办公室主任"}
FIRST_FUKE = {"current_grade": "一级科员", "target_grade": "乡科级副职", "current_grade_date": D(2022, 1, 1),
              "is_skip_level": False}
REUSED = {"talk_reco_date": None, "meeting_reco_date": None, "reused_reco_date": D(2025, 10, 1)}
TOWNSHIP_HEAD = {"current_grade": "乡科级正职", "target_grade": "县处级副职", "current_post": "某县某某镇党委书记",
                 "current_post_date": D(2024, 6, 12), "selection_type": "平级交流/转任"}

TABLE = [
    # ---- class 1: a fact dated after the decision is not held against the selecting body ----
    RuleCase("C07", "na", AFTER, note="sanction the day after the decision"),
    RuleCase("C07", "fail", SAME_DAY, note="sanction on the decision day is known"),
    RuleCase("D07", "na", AFTER, note="sanction after decision is not a reuse"),
    RuleCase("D07", "fail", SAME_DAY, note="sanction on the decision day, unreported"),
    RuleCase("P21", "na", AFTER, note="later sanction is no reportable condition"),
    RuleCase("P21", "fail", SAME_DAY, note="same-day sanction is reportable"),
    RuleCase("D11", "fail", AFTER, note="after-the-fact finding is D11's"),
    RuleCase("D11", "pass", SAME_DAY, note="known at decision is not D11's"),
    RuleCase("D11", "fail", {**AFTER, "formal_appointment_date": D(2026, 8, 1)},
             note="between decision and formal appointment"),
    RuleCase("D11", "pass", {**AFTER, "sanction_date": D(2029, 8, 1), "formal_appointment_date": D(2026, 8, 1)},
             note="exactly lookback after formal appointment"),
    # ---- class 4: a reused recommendation result is valid only for the same post, within a year ----
    RuleCase("P03", "pass", {**REUSED, "reused_reco_post": "区发展和改革委员会 主任"}, note="same post"),
    RuleCase("P03", "fail", {**REUSED, "reused_reco_post": "区发展和改革委员会副主任"}, severity="red",
             note="reused for another post"),
    RuleCase("P03", "fail", REUSED, severity="yellow", note="reused with no post recorded"),
    RuleCase("P03", "pass", {**REUSED, "reused_reco_date": D(2025, 2, 12), "reused_reco_post": "区发展和改革委员会主任"},
             note="same post exactly 365 days"),
    RuleCase("P03", "fail", {**REUSED, "reused_reco_date": D(2025, 2, 11), "reused_reco_post": "区发展和改革委员会主任"},
             severity="red", note="same post 366 days"),
    RuleCase("P03", "pass", {**REUSED, "talk_reco_date": D(2025, 12, 1), "reused_reco_post": "区财政局局长"},
             note="a newer own recommendation is relied on"),
    # ---- class 2: 科级 selection (decision 2026-02-12) ----
    RuleCase("Q04", "fail", {**KE_PROMOTION, "current_grade_date": D(2024, 7, 20)}, severity="red",
             note="fuke to zhengke after 1.6 years"),
    RuleCase("Q04", "pass", {**KE_PROMOTION, "current_grade_date": D(2024, 2, 12)}, note="fuke exactly 2 years"),
    RuleCase("Q04", "fail", {**KE_PROMOTION, "current_grade_date": D(2024, 2, 13)}, note="fuke one day short"),
    RuleCase("Q04", "na", {**KE_PROMOTION, "current_grade_date": D(2024, 7, 20)},
             params={"applies_from_grade": "县处级正职"}, note="region keeps the old scope"),
    RuleCase("Q04", "na", {"current_grade": "一级主任科员", "target_grade": "乡科级正职",
                           "current_grade_date": D(2025, 7, 20)}, note="zhiji is no deputy post"),
    RuleCase("Q05", "fail", {"current_grade": "乡科级正职", "target_grade": "县处级副职",
                             "current_grade_date": D(2023, 2, 13)}, note="zhengke to fuchu one day short"),
    RuleCase("Q05", "pass", {"current_grade": "乡科级正职", "target_grade": "县处级副职",
                             "current_grade_date": D(2023, 2, 12)}, note="zhengke to fuchu exactly 3 years"),
    RuleCase("Q01", "pass", {**FIRST_FUKE, "work_start_date": D(2023, 2, 12)}, note="township work exactly 3y"),
    RuleCase("Q01", "fail", {**FIRST_FUKE, "work_start_date": D(2023, 2, 13)}, note="township work one day short"),
    RuleCase("Q01", "na", {**FIRST_FUKE, "work_start_date": D(2023, 2, 13)},
             params={"township_min_work_years": None}, note="region turns township work years off"),
    RuleCase("Q14", "pass", FIRST_FUKE, note="keyuan to fuke is one level"),
    RuleCase("Q15", "fail", {**FIRST_FUKE, "current_grade": "二级科员"}, note="banshiyuan to fuke skips a level"),
    RuleCase("D02", "fail", {"target_grade": "一级调研员", "selection_type": "职级晋升"},
             target_unit={"max_grade": "县处级副职"}, note="zhiji above the unit's rank"),
    RuleCase("D02", "pass", {"target_grade": "三级调研员", "selection_type": "职级晋升"},
             target_unit={"max_grade": "县处级副职"}, note="zhiji at the unit's rank"),
    # ---- class 3: D08 concerns only 县乡党委、政府正职 ----
    RuleCase("D08", "fail", TOWNSHIP_HEAD, severity="yellow", note="township secretary after 20 months"),
    RuleCase("D08", "pass", {**TOWNSHIP_HEAD, "current_post_date": D(2023, 2, 12)}, note="township exactly 3y"),
    RuleCase("D08", "na", {**TOWNSHIP_HEAD, "current_post": "市卫生健康委员会办公室主任"}, note="zhengke section chief"),
    RuleCase("D08", "na", {**TOWNSHIP_HEAD, "current_post": "某县某某镇党委副书记、镇长", "current_grade": "乡科级副职"},
             note="deputy grade"),
    RuleCase("D08", "fail", {**TOWNSHIP_HEAD, "current_post": "某县某某镇党委副书记、镇长"}, note="town head"),
    RuleCase("D08", "na", {**TOWNSHIP_HEAD, "current_post": "某县副县长"}, note="vice county head text"),
    RuleCase("D08", "fail", {**TOWNSHIP_HEAD, "current_post": "某县县委书记", "current_grade": "县处级正职",
                             "target_grade": "厅局级副职"}, note="county secretary"),
    RuleCase("D08", "na", {**TOWNSHIP_HEAD, "current_post": "市财政局局长", "current_grade": "县处级正职",
                           "target_grade": "厅局级副职"}, note="bureau chief is not 县乡党政正职"),
    RuleCase("D08", "na", {**TOWNSHIP_HEAD, "current_post": "某区某某街道党工委书记"}, note="street not in text"),
    RuleCase("D08", "fail", {**TOWNSHIP_HEAD, "current_post": "某区某某街道党工委书记"},
             params={"post_patterns": {"乡科级正职": ["街道党工委书记"]}}, note="region widens to streets"),
    RuleCase("P21", "na", {**TOWNSHIP_HEAD, "current_post": "市卫生健康委员会办公室主任"},
             note="section chief does not drag P21"),
    RuleCase("P21", "fail", TOWNSHIP_HEAD, note="township secretary drags P21"),
]


@pytest.mark.parametrize("rc", TABLE, ids=lambda rc: rc.id())
def test_rule(rc):
    check(rc)


def run_all(changes: dict, related: Related | None = None) -> dict:
    """Every enabled rule over the base case with ``changes``: code → outcome."""
    values = base_values()
    values.update(changes)
    out = {}
    for code, rule in sorted(all_rules().items()):
        if not rule.enabled_by_default:
            continue
        ctx = Ctx(values=values, params=rule.params, as_of=D(2026, 6, 30), unit=base_unit(),
                  target_unit=base_unit(), related=related or Related())
        out[code] = rule.run(ctx)
    return out


def test_a_later_sanction_lights_only_d11():
    """A promotion decided clean, the cadre sanctioned later: only the 倒查 trigger fires."""
    clean = {c for c, o in run_all({}).items() if o.status == "fail"}
    later = {c for c, o in run_all(AFTER).items() if o.status == "fail"}
    assert later - clean == {"D11"}


def test_a_section_chief_moved_early_lights_nothing_new():
    clean = {c for c, o in run_all({}).items() if o.status == "fail"}
    moved = {c for c, o in run_all({**TOWNSHIP_HEAD, "current_post": "市卫生健康委员会办公室主任"}).items()
             if o.status == "fail"}
    assert not {"D08", "P21"} & (moved - clean)


def test_grade_list_is_complete_under_zhiwu_zhiji_bingxing():
    from app.enums import ALL_GRADES, GRADES, grade_rank
    from app.spec import items_by_key

    for key in ("current_grade", "target_grade"):
        choices = items_by_key()[key].choices
        assert {"一级科员", "二级科员", "科员", "办事员", "四级主任科员", "一级调研员", "二级巡视员"} <= set(choices)
        assert list(choices) == ALL_GRADES
    assert [grade_rank(g) for g in GRADES] == [0, 1, 2, 3, 4, 5]  # the 领导职务 keep their ranks
    assert [grade_rank(g) for g in ALL_GRADES] == sorted(grade_rank(g) for g in ALL_GRADES)
    assert grade_rank("一级科员") == -1 and grade_rank("二级科员") == -2 and grade_rank("二级主任科员") == 1


def test_a_first_promotion_to_fuke_records_the_current_grade():
    from app.record.validation import validate_values
    from tests.factories import valid_case

    case = valid_case()
    case["qualification"]["current_grade"] = "一级科员"
    case["motion"]["target_grade"] = "乡科级副职"
    case["motion"]["is_skip_level"] = False
    problems = [p for p in validate_values(case, D(2026, 6, 30)) if "grade" in str(p)]
    assert problems == []
