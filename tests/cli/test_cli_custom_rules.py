"""`flask rules custom add / try / approve` and custom rules in `flask rules list --json` (issue 16)."""
from __future__ import annotations

import datetime as dt
import json

from sqlalchemy import func, select

from app.audit import acting_as
from app.extensions import db
from app.models import AuditLog, EvaluationRun
from tests.factories import fresh_rule_code, make_case, office_rows, two_admins


def invoke(app, *args):
    return app.test_cli_runner().invoke(args=list(args))



def test_add_try_approve_list(app, world, ctx, tmp_path):
    a1, a2 = (u.username for u in two_admins(app, "crc"))
    office = office_rows(app, world, "crc")
    case = make_case(office, dt.date(2024, 9, 10))[0]
    code = fresh_rule_code()
    rule = {"code": code, "title": "决定前须满员到会", "category": "P", "severity": "red", "points": "E,S1,S2",
            "basis": "某省办法第三条", "effective_from": "2020-01-01", "unit": office.dept.code,
            "expression": "members_present == members_total + 1"}  # never holds: every case fires
    path = tmp_path / "rule.json"

    bad = dict(rule, expression="decision_date > 3")
    path.write_text(json.dumps(bad, ensure_ascii=False), encoding="utf-8")
    result = invoke(app, "rules", "custom", "add", str(path), "--as-user", a1)
    assert result.exit_code == 1
    assert "第 1 行第 15 列：日期不能与数字比较" in result.output

    path.write_text(json.dumps(rule, ensure_ascii=False), encoding="utf-8")
    result = invoke(app, "rules", "custom", "add", str(path), "--as-user", a1)
    assert result.exit_code == 0, result.output
    assert f"已保存自定义规则 {code} 第 1 版（草稿）" in result.output

    before = [db.session.execute(select(func.count()).select_from(m)).scalar() for m in (AuditLog, EvaluationRun)]
    result = invoke(app, "rules", "custom", "try", code, "--from", "2024-09-01", "--to", "2024-09-30",
                    "--unit", office.dept.code, "--json")
    assert result.exit_code == 0, result.output
    tried = json.loads(result.output)
    assert tried["would_fire"] == 1 and [c["case_no"] for c in tried["cases"]] == [case.case_no]
    after = [db.session.execute(select(func.count()).select_from(m)).scalar() for m in (AuditLog, EvaluationRun)]
    assert after == before

    listed = json.loads(invoke(app, "rules", "list", "--json").output)
    assert code not in {r["code"] for r in listed}  # a draft is not in force

    result = invoke(app, "rules", "custom", "approve", code, "--as-user", a1)
    assert result.exit_code == 1 and "四眼原则" in result.output
    result = invoke(app, "rules", "custom", "approve", code, "--as-user", a2)
    assert result.exit_code == 0, result.output
    assert f"编写：{a1}，审批：{a2}" in result.output

    [entry] = [r for r in json.loads(invoke(app, "rules", "list", "--json").output) if r["code"] == code]
    assert entry["enabled"] and entry["custom"] and entry["version"] == "c1" and entry["title"] == "决定前须满员到会"
    assert entry["basis"] == "某省办法第三条" and entry["points"] == ["E", "S1", "S2"]

    result = invoke(app, "rules", "custom", "try", "Z0000", "--json")
    assert result.exit_code == 1 and "自定义规则“Z0000”不存在" in result.output


def test_cases_check_includes_enabled_custom_rules(app, world, ctx, tmp_path):
    from app.record.data import to_exchange
    from app.workflow import custom_rules as cr
    from tests.factories import valid_case

    a1, a2 = two_admins(app, "crk")
    code = fresh_rule_code()
    unique_votes = 7919  # only this file's case has it: the rule is in force for every unit
    data = {"code": code, "title": "票数异常", "category": "P", "severity": "yellow", "points": "E",
            "basis": "测试依据", "effective_from": "2000-01-01", "expression": f"votes_for != {unique_votes}"}
    with acting_as(a1, "cli"):
        cr.save_draft(data, a1)
    with acting_as(a2, "cli"):
        cr.approve(code, a2)
    try:
        values = valid_case()
        values["decision"]["votes_for"] = unique_votes
        path = tmp_path / "case.json"
        path.write_text(json.dumps(to_exchange(values), ensure_ascii=False), encoding="utf-8")
        result = invoke(app, "cases", "check", str(path), "--json")
        assert code in result.output, result.output
    finally:
        with acting_as(a1, "cli"):
            cr.disable(code, a1, dt.date(2000, 1, 1))


def test_a_file_that_is_not_json_is_refused_in_chinese_by_every_command(app, ctx, tmp_path):
    a1, _ = (u.username for u in two_admins(app, "crj"))
    path = tmp_path / "broken.json"
    for content in (b'{"code": "Z01",', "{}".encode("gbk") + "规则".encode("gbk")):
        path.write_bytes(content)
        for args in (("rules", "custom", "add"), ("rules", "custom", "import"), ("items", "add")):
            result = invoke(app, *args, str(path), "--as-user", a1)
            assert result.exit_code == 1 and "文件不是有效的 JSON（UTF-8）" in result.output, (args, result.output)
