"""Rule packs (app/workflow/rule_packs.py, `flask rules custom export / import`): signed; a bad signature
is refused with nothing written; importing shows the difference and writes drafts that need the same
second-administrator approval."""
from __future__ import annotations

import json

import pytest
from sqlalchemy import func, select

from app.audit import acting_as
from app.extensions import db
from app.models import AuditLog, CustomRuleVersion
from app.workflow import custom_rules as cr
from app.workflow import rule_packs
from tests.factories import fresh_rule_code, two_admins



@pytest.fixture()
def admins(app, ctx):
    users = two_admins(app, "pk")
    return users


def enabled_rule(author, approver, **changes) -> str:
    data = {"code": fresh_rule_code(), "title": "规则包测试规则", "category": "P", "severity": "yellow", "points": ["D"],
            "basis": "某省规定", "effective_from": "2099-01-01", "region_code": "990000",  # in force for no case
            "expression": "members_present <= members_total"}
    data.update(changes)
    with acting_as(author, "cli"):
        cr.save_draft(data, author)
    with acting_as(approver, "cli"):
        cr.approve(data["code"], approver)
    return data["code"]


def rows() -> int:
    return db.session.execute(select(func.count()).select_from(CustomRuleVersion)).scalar()


def test_export_then_import_shows_the_difference_and_writes_drafts(app, admins):
    a1, a2 = admins
    code = enabled_rule(a1, a2)
    pack = rule_packs.export_pack([code], source="某省委组织部")
    assert [r["code"] for r in pack["rules"]] == [code] and len(pack["signature"]) == 64
    assert rule_packs.diff(pack, a1) == [{"code": code, "action": "相同", "changes": {}, "version_here": 1}]

    # the province changes the rule and adds one: re-signed by the province (same pack key)
    body = {k: v for k, v in pack.items() if k != "signature"}
    body["rules"][0] = {**body["rules"][0], "severity": "red"}
    new_code = fresh_rule_code()
    body["rules"].append({**body["rules"][0], "code": new_code, "title": "新规则"})
    changed = {**body, "signature": rule_packs.sign(body)}
    found = {d["code"]: d for d in rule_packs.diff(changed, a1)}
    assert found[code]["action"] == "修改" and found[code]["changes"] == {"severity": {"现有": "yellow", "规则包": "red"}}
    assert found[new_code]["action"] == "新增"

    with acting_as(a1, "cli"):
        written = rule_packs.import_pack(changed, a1)
    assert sorted((w["code"], w["version"]) for w in written) == sorted([(code, 2), (new_code, 1)])
    v2 = cr.latest(code)
    assert (v2.status, v2.severity, v2.note) == ("draft", "red", "规则包导入：某省委组织部")
    with pytest.raises(cr.CustomRuleError, match="四眼原则"):
        cr.approve(new_code, a1)  # the importer is the author: the same approval follows
    with acting_as(a2, "cli"):
        assert cr.approve(new_code, a2).status == "enabled"


def test_a_pack_whose_signature_does_not_verify_is_refused_and_nothing_is_written(app, admins):
    a1, a2 = admins
    code = enabled_rule(a1, a2)
    pack = rule_packs.export_pack([code])
    tampered = json.loads(json.dumps(pack))
    tampered["rules"][0]["expression"] = "true"  # quietly weakened on the way
    before = (rows(), db.session.execute(select(func.count()).select_from(AuditLog)).scalar())
    for bad in (tampered, {**pack, "signature": "0" * 64}, {k: v for k, v in pack.items() if k != "signature"}):
        with pytest.raises(cr.CustomRuleError, match="规则包签名无效"):
            with acting_as(a1, "cli"):
                rule_packs.import_pack(bad, a1)
    db.session.rollback()
    assert (rows(), db.session.execute(select(func.count()).select_from(AuditLog)).scalar()) == before


def test_a_pack_with_a_bad_rule_writes_none_of_its_rules(app, admins):
    a1, _ = admins
    body = {"format": "jishi-rule-pack", "format_version": 1, "source": "", "exported_at": "", "items": [],
            "rules": [{"code": fresh_rule_code(), "title": "好规则", "category": "P", "severity": "red", "points": ["E"],
                       "basis": "依据", "effective_from": "2099-01-01", "expression": "true", "region_code": "990000",
                       "grades": [], "selection_types": []},
                      {"code": "P27", "title": "撞号", "category": "P", "severity": "red", "points": ["E"],
                       "basis": "依据", "effective_from": "2099-01-01", "expression": "decision_date > 1",
                       "region_code": None, "grades": [], "selection_types": []}]}
    pack = {**body, "signature": rule_packs.sign(body)}
    before = rows()
    with pytest.raises(cr.CustomRuleError) as err:
        rule_packs.import_pack(pack, a1)
    assert "P27：规则编号“P27”与内置规则目录重复" in err.value.problems
    assert any("日期不能与数字比较" in p for p in err.value.problems)
    db.session.rollback()
    assert rows() == before


def test_cli_export_and_import(app, admins, tmp_path):
    a1, a2 = admins
    code = enabled_rule(a1, a2)
    path = tmp_path / "pack.json"
    runner = app.test_cli_runner()
    result = runner.invoke(args=["rules", "custom", "export", code, "--out", str(path), "--source", "某省"])
    assert result.exit_code == 0 and "已导出 1 条" in result.output
    result = runner.invoke(args=["rules", "custom", "import", str(path), "--as-user", a1.username])
    assert result.exit_code == 0 and f"{code}\t相同" in result.output and "未写入" in result.output
    pack = json.loads(path.read_text(encoding="utf-8"))
    pack["rules"][0]["title"] = "改过的标题"
    path.write_text(json.dumps(pack, ensure_ascii=False), encoding="utf-8")
    result = runner.invoke(args=["rules", "custom", "import", str(path), "--as-user", a1.username, "--apply"])
    assert result.exit_code == 1 and "规则包签名无效" in result.output
