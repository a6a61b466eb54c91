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
from app.models import CustomItem
from app.record import custom_items
from tests.factories import custom_item, fresh_rule_code, two_admins, unique



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
    assert rule_packs.diff(pack, a1) == [{"kind": "规则", "code": code, "action": "相同", "changes": {}, "version_here": 1}]
    assert pack["items"] == []  # the rule reads no custom item

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


def _pack_with_item(key: str, rule_code: str, *, item_type="date", expression=None) -> dict:
    body = {"format": "jishi-rule-pack", "format_version": 1, "source": "某省委组织部", "exported_at": "",
            "items": [{"module": "inspection", "key": key, "label": f"任前廉政谈话日期{key[-6:]}", "type": item_type,
                       "required": "N", "condition": None, "help_text": "省委组织部要求", "effective_from": "2099-01-01",
                       "region_code": "990000"}],  # a region no unit of the shared test database has
            "rules": [{"code": rule_code, "title": "任前廉政谈话须在决定前", "category": "P", "severity": "red",
                       "points": ["D"], "basis": "某省办法第五条", "effective_from": "2099-01-01",
                       "expression": expression or f"{key} == null || {key} <= decision_date",
                       "region_code": "990000", "grades": [], "selection_types": []}]}
    return {**body, "signature": rule_packs.sign(body)}


def _item_rows(key) -> int:
    return db.session.execute(select(func.count()).select_from(CustomItem).where(CustomItem.key == key)).scalar()


def test_a_pack_carries_the_custom_items_its_rules_read(app, admins, world):
    a1, a2 = admins
    from app.models import Unit
    unit = db.session.get(Unit, world.units["a"])
    item = custom_item(a1, unit, type="date", module="inspection")
    code = enabled_rule(a1, a2, expression=f"{item['key']} == null || {item['key']} <= decision_date")
    pack = rule_packs.export_pack([code])
    assert [i["key"] for i in pack["items"]] == [item["key"]]
    assert pack["items"][0]["type"] == "date" and "unit" not in pack["items"][0]  # unit codes differ between installs
    # here the item exists with the same module and type: used as it is
    assert [(d["kind"], d["action"]) for d in rule_packs.diff(pack, a1)] == [("数据项", "相同"), ("规则", "相同")]


def test_importing_a_pack_adds_its_new_items_with_its_rules_in_one_transaction(app, admins):
    a1, a2 = admins
    key, code = unique("lz").lower(), fresh_rule_code()
    pack = _pack_with_item(key, code)
    assert [(d["kind"], d["code"], d["action"]) for d in rule_packs.diff(pack, a1)] == [
        ("数据项", key, "新增"), ("规则", code, "新增")]
    assert _item_rows(key) == 0  # the diff writes nothing
    with acting_as(a1, "cli"):
        written = rule_packs.import_pack(pack, a1)
    assert [(w["kind"], w["code"]) for w in written] == [("数据项", key), ("规则", code)]
    assert _item_rows(key) == 1 and cr.latest(code).status == "draft"
    assert key in {d.key for d in custom_items.definitions()}
    with acting_as(a2, "cli"):
        assert cr.approve(code, a2).status == "enabled"  # the rule reads the imported item


def test_a_pack_whose_item_clashes_or_whose_rule_is_bad_writes_nothing(app, admins):
    a1, _ = admins
    key = unique("lz").lower()
    # a rule that compares the pack's date item with a number: the checker knows the item's type from the pack
    bad = _pack_with_item(key, fresh_rule_code(), expression=f"{key} > 3")
    with pytest.raises(cr.CustomRuleError) as err:
        rule_packs.import_pack(bad, a1)
    assert any("日期不能与数字比较" in p for p in err.value.problems)
    db.session.rollback()
    assert _item_rows(key) == 0
    # an item of the same key here with another type
    with acting_as(a1, "cli"):
        rule_packs.import_pack(_pack_with_item(key, fresh_rule_code()), a1)
    clash = _pack_with_item(key, fresh_rule_code(), item_type="text", expression="true")
    with pytest.raises(cr.CustomRuleError) as err:
        rule_packs.diff(clash, a1)
    assert any(p.startswith(f"数据项“{key}”：本系统已有同键的数据项，但模块或类型不同") for p in err.value.problems)


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


def test_a_supervisors_pack_never_carries_an_item_outside_its_scope(app, admins, world):
    """A rule of the supervisor's subtree (written by an admin of all units) that reads another subtree's
    item: the supervisor's export is refused, so the item's definition never leaves in its pack."""
    from tests.factories import office_rows, user_named

    a1, a2 = admins
    office, other = office_rows(app, world, "pko"), office_rows(app, world, "pkx")
    theirs = custom_item(a1, other.unit, type="bool", module="inspection", label="外单位规则包项")
    mine = custom_item(a1, office.unit, type="bool", module="inspection", label="本单位规则包项")
    reads_mine = enabled_rule(a1, a2, unit=office.unit.code, expression=f"{mine['key']} != false")
    reads_theirs = enabled_rule(a1, a2, unit=office.unit.code, expression=f"{theirs['key']} != false")
    sup = user_named(office.sup.username)
    from app.scoping import scope_for
    scope = scope_for(sup)
    with pytest.raises(cr.CustomRuleError) as exc:
        rule_packs.export_pack(scope=scope)
    assert f"规则 {reads_theirs} 读取的自定义数据项“{theirs['key']}”不在您的权限范围内" in exc.value.message
    assert "外单位规则包项" not in exc.value.message
    pack = rule_packs.export_pack([reads_mine], scope=scope)
    assert [i["key"] for i in pack["items"]] == [mine["key"]]
    assert {i["key"] for i in rule_packs.export_pack()["items"]} >= {mine["key"], theirs["key"]}  # the server's own
