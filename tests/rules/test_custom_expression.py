"""Custom rules' condition language (app/rules/expression.py) and the rule as the engine runs it
(app/rules/custom.py): checked on save with Chinese messages and positions; run over a case's facts
with working days through the calendar; an error reads as 不适用, never a pass or an exception."""
from __future__ import annotations

import datetime as dt

import pytest

from app.alarms.engine import evaluate_values, rule_version
from app.dates import default_calendar
from app.rules import expression
from app.rules.context import Ctx, Related
from app.rules.custom import CustomRule, code_problem, region_matches
from app.spec import items_by_key
from tests.factories import AS_OF, base_unit, base_values


def problems(text):
    return [(p.line, p.column, p.message) for p in expression.check(text)]


def rule(text, **kw) -> CustomRule:
    fields = dict(code="Z01", version_no=3, title="任前廉政谈话须在公示前完成", category="P", severity="red",
                  points=frozenset({"E", "S1", "S2"}), basis="某省办法第五条", expression=text)
    fields.update(kw)
    return CustomRule(**fields)


def ctx(changes=None, unit=None, related=None) -> Ctx:
    values = base_values()
    values.update(changes or {})
    return Ctx(values=values, as_of=AS_OF, unit=base_unit(**(unit or {})), target_unit=base_unit(),
               calendar=default_calendar(), related=Related(**(related or {})))


# ---- the check on save ------------------------------------------------------------------------------

@pytest.mark.parametrize("text", [
    "decision_date >= motion_meeting_date",
    "workdays(inspection_notice_date, publicity_end) <= 20",
    "members_present * 3 >= members_total * 2 && !is_breaking_rule",
    "decision_date == null || decision_date < add_workdays(motion_meeting_date, 40)",
    "person_cases.all(c, c.decision_result != '未通过') && size(person_cases) < 5",
    "unit.region_code.startsWith('11') ? batch_size <= 10 : true",
    "years(birth_date, judged_on) < 55 && decision_date > date('2020-01-01')",
    "target_grade in ['县处级正职', '县处级副职']",
])
def test_good_conditions_pass_the_check(text):
    assert problems(text) == []


def test_a_condition_that_does_not_parse_is_refused_with_its_position():
    [(line, column, message)] = problems("decision_date >= \n  (motion_meeting_date")
    assert (line, message) == (2, "表达式不完整：结尾缺少内容")
    [(line, column, message)] = problems("members_total > 3 $ 4")
    assert (line, column) == (1, 19) and "无法识别的字符“$”" in message
    [(line, column, message)] = problems("members_total > > 3")
    assert (line, column) == (1, 17) and "语法错误" in message


def test_an_unknown_item_is_refused_with_its_position():
    [(line, column, message)] = problems("decision_date != null && lianzheng_talk_date < decision_date")
    assert (line, column) == (1, 26)
    assert message.startswith("未知数据项“lianzheng_talk_date”")
    [(_l, column, message)] = problems("no_such_fn(decision_date)")
    assert column == 1 and message.startswith("未知函数“no_such_fn”")


def test_a_date_compared_with_a_number_is_refused_at_the_operator():
    [(line, column, message)] = problems("members_total > 3 &&\n    decision_date > 20240101")
    assert (line, column) == (2, 19)
    assert message.startswith("日期不能与数字比较")
    assert problems("decision_date == '2024-01-01'")[0][2].startswith("日期不能与文字比较")
    assert problems("decision_date + 5 > motion_meeting_date")[0][2].startswith("日期不能与数字相加减")
    assert problems("workdays(decision_date, 5) > 1")[0][2] == "函数 workdays() 的参数应为日期，此处是整数"


def test_dates_have_no_arithmetic_but_the_date_functions():
    """Dates run as day numbers (app/rules/cel_runtime.py), so the checker allows no arithmetic on them but
    through the functions, and CEL's own timestamp/duration and date methods are refused with the way to write it."""
    assert problems("add_days(decision_date, -30) < motion_meeting_date") == []
    assert problems("year(decision_date) >= 2020 && month(decision_date) <= 12 && day(decision_date) >= 1") == []
    [(line, column, message)] = problems("decision_date - motion_meeting_date > 3")
    assert (line, column) == (1, 15) and message.startswith("两个日期不能直接相减：相差天数请用 days(a, b)")
    assert problems("decision_date + duration('24h') > motion_meeting_date")[0][2].startswith("不支持 duration()")
    assert problems("decision_date > timestamp('2024-01-01T00:00:00Z')")[0][2] == \
        "不支持 timestamp()：日期常量请写 date('2024-01-01')"
    assert problems("decision_date.getFullYear() == 2024")[0][2].startswith("不支持 getFullYear()：年份、月份、日请用 year(日期)")
    assert problems("string(decision_date) == '2024-01-01'")[0][2].startswith("函数 string() 不能用于日期")
    assert problems("decision_date * 2 > motion_meeting_date")[0][2] == "日期不能做乘除运算"


def test_what_would_run_too_long_is_refused():
    assert problems("true && " * 300 + "true")[0][2].startswith("表达式过长")
    assert "括号嵌套超过" in problems("(" * 20 + "true" + ")" * 20)[0][2]
    nested = ("person_cases.exists(a, person_cases.exists(b, person_cases.exists(c, a.case_no == c.case_no)))")
    assert "列表宏嵌套超过 2 层" in problems(nested)[0][2]
    wide = "person_cases.exists(a, person_cases.exists(b, " + " && ".join(
        f"a.f{i} == b.f{i}" for i in range(30)) + "))"
    line, column, message = problems(wide)[0]
    assert message.startswith("表达式执行代价过高") and column > 1


def test_the_result_must_be_true_or_false():
    assert problems("members_total + 1")[0][2] == "条件的结果应为 true/false，实际为整数"


def test_codes_have_their_own_prefix_and_never_collide_with_the_catalogue():
    assert code_problem("Z01") is None
    assert "内置规则目录重复" in code_problem("P27")
    assert "应以 Z 开头" in code_problem("A01")


# ---- running ------------------------------------------------------------------------------------------

def test_pass_fail_and_missing_input():
    r = rule("workdays(inspection_notice_date, publicity_end) <= 20")
    assert r.run(ctx()).status == "pass"  # 2026-01-27 … 02-27 is 19 working days (春节 excluded), 32 calendar days
    out = r.run(ctx({"publicity_end": dt.date(2026, 3, 6)}))
    assert (out.status, out.severity) == ("fail", "red")
    assert "任前廉政谈话须在公示前完成" in out.message and "某省办法第五条" in out.message
    out = r.run(ctx({"publicity_end": None}))
    assert (out.status, out.message) == ("na", f"缺少数据项：{items_by_key()['publicity_end'].label}")


def test_working_days_come_from_the_calendar_not_the_weekdays():
    assert rule("workdays(inspection_notice_date, publicity_end) == 19").run(ctx()).status == "pass"
    assert rule("days(inspection_notice_date, publicity_end) == 31").run(ctx()).status == "pass"
    # 2026-02-13 (Fri) + 1 working day: the 14th is a 调休 working Saturday
    assert rule("add_workdays(date('2026-02-13'), 1) == date('2026-02-14')").run(ctx()).status == "pass"


def test_date_functions_answer_in_dates():
    # the base case: motion 2026-01-10, decision 2026-02-12
    for text in ("add_days(motion_meeting_date, 33) == decision_date",
                 "add_days(decision_date, -33) == motion_meeting_date",
                 "year(decision_date) == 2026 && month(decision_date) == 2 && day(decision_date) == 12",
                 "days(motion_meeting_date, decision_date) == 33",
                 "decision_date > date('2026-02-11') && decision_date < date('2026-02-13')",
                 "[date('2026-02-12'), date('2026-03-01')].exists(d, d == decision_date)"):
        assert rule(text).run(ctx()).status == "pass", text
    assert rule("add_days(decision_date, 1) == decision_date").run(ctx()).status == "fail"
    assert rule("year(decision_date) == 2026").run(ctx({"decision_date": None})).status == "na"


def test_false_only_for_want_of_a_date_is_not_a_hit():
    """``null == 31`` is false in CEL: a date function without its date must not turn a missing item into a hit."""
    out = rule("days(inspection_notice_date, publicity_end) == 31").run(ctx({"publicity_end": None}))
    assert (out.status, out.message) == ("na", f"缺少数据项：{items_by_key()['publicity_end'].label}")
    out = rule("add_days(decision_date, 40000) == decision_date").run(ctx())
    assert (out.status, out.message) == ("na", "条件执行出错：add_days() 的天数应在 ±36600 之间")
    # a condition that says what a missing date means still judges
    assert rule("publicity_end == null || days(inspection_notice_date, publicity_end) == 31").run(
        ctx({"publicity_end": None})).status == "pass"


def test_history_the_engine_exposes_is_readable():
    r = rule("size(person_cases.filter(c, c.decision_result == '未通过')) == 0")
    assert r.run(ctx()).status == "pass"
    earlier = {"case_no": "X-1", "decision_result": "未通过", "decision_date": dt.date(2025, 1, 1)}
    assert r.run(ctx(related={"same_person": [earlier]})).status == "fail"
    assert rule("person_cases.all(c, c.decision_date < judged_on)").run(
        ctx(related={"same_person": [earlier]})).status == "pass"


def test_a_runtime_error_reads_as_not_applicable_with_a_chinese_reason():
    out = rule("members_total / (members_present - members_present) > 0").run(ctx())
    assert out.status == "na" and out.message == "条件执行出错：除数为零"


def test_scope_region_unit_subtree_grades_selection_types():
    r = rule("false")
    assert r.run(ctx()).status == "fail"
    assert rule("false", region_code="110000").run(ctx()).status == "fail"  # 110101 is in 北京 (110000)
    assert rule("false", region_code="120000").run(ctx()).status == "na"
    assert rule("false", unit_path="/R/A/").run(ctx(unit={"path": "/R/A/A1/"})).status == "fail"
    assert rule("false", unit_path="/R/A/").run(ctx(unit={"path": "/R/B/"})).status == "na"
    assert rule("false", grades=("乡科级正职",)).run(ctx()).status == "na"
    assert rule("false", selection_types=("提拔",)).run(ctx()).status == "fail"
    assert region_matches("110100", "110101") and not region_matches("110100", "110201")


def test_the_engine_runs_custom_rules_like_catalogued_ones():
    r = rule("publicity_end < decision_date", severity="yellow")  # never true on the base case
    result = evaluate_values(base_values(), "S1", as_of=AS_OF, calendar=default_calendar(), settings={},
                             related=Related(), facts=(base_unit(), base_unit()), custom=[r])
    [hit] = [h for h in result.hits if h.code == "Z01"]
    assert (hit.severity, hit.title) == ("yellow", "任前廉政谈话须在公示前完成")
    [(stored, outcome)] = [(x, o) for x, o, _s, _p in result.outcomes if x.code == "Z01"]
    assert outcome.status == "fail" and rule_version(stored) == "c3"
    # a point the rule does not name does not run it
    result = evaluate_values(base_values(), "D", as_of=AS_OF, calendar=default_calendar(), settings={},
                             related=Related(), facts=(base_unit(), base_unit()), custom=[r])
    assert not [o for x, o, _s, _p in result.outcomes if x.code == "Z01"]


def test_add_workdays_out_of_range_is_not_applicable_not_a_long_walk():
    out = rule("add_workdays(decision_date, 1000000000) > decision_date").run(ctx())
    assert out.status == "na"
    assert rule("add_workdays(decision_date, 10) > decision_date").run(ctx()).status == "pass"


def test_a_judged_case_is_freed_without_the_cycle_collector():
    """The CEL runtime kept on a case's context holds nothing that leads back to it: once the engine drops
    the context, reference counting frees it. (A cycle left every evaluated case to the cyclic collector,
    whose passes over a batch's live objects cost a custom rule set about a third of its time.)"""
    import gc
    import weakref

    rules = [rule("workdays(inspection_notice_date, publicity_end) <= 20"), rule("size(person_cases) >= 0", code="Z02")]
    enabled = gc.isenabled()
    gc.disable()
    try:
        c = ctx()
        CustomRule.prepare(c, rules)
        assert [r.judge(c).status for r in rules] == ["pass", "pass"]
        gone = weakref.ref(c)
        del c
        assert gone() is None
    finally:
        if enabled:
            gc.enable()
