"""Custom items (自定义数据项) in the record: stored without a migration, read under their own key by
``read_module`` (so the rule engine's flat values, versions and seals see them), scoped to their unit
subtree or region and their effective date, locked with their module after submission, audited."""
from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import select

from app.alarms.engine import flat_values
from app.audit import acting_as
from app.extensions import db
from app.models import AuditLog, Case, CustomItem, CustomValue
from app.record import custom_items
from app.record.data import content_hash, read_case, read_module
from app.record.lock import module_version
from app.workflow import cases
from app.workflow import guard
from app.workflow.cases import CaseError
from app.workflow.custom_items import CustomItemRefused, add_item
from tests.factories import (
    build_case, case_values, custom_item, record_case, unique, user_named,
)


@pytest.fixture()
def admin(world, ctx):
    return user_named(world.users["admin"])


def _add_refused(admin, data) -> str:
    with acting_as(admin, "cli"), pytest.raises(CustomItemRefused) as exc:
        add_item(data, admin)
    return exc.value.message


def test_value_is_read_under_its_key_and_written_without_a_migration(office, admin):
    item = custom_item(admin, office.unit, type="date", label="任前廉政谈话日期")
    case = record_case(office.unit, office.clerk, case_values(office.unit))
    assert read_module(case, "qualification")[item["key"]] is None
    with acting_as(office.clerk, "cli"):
        before = module_version(case, "qualification")
        sealed = content_hash(case)
        cases.save_module(case, "qualification", {item["key"]: dt.date(2026, 3, 2)})
    db.session.expire_all()
    case = db.session.get(Case, case.id)
    assert read_module(case, "qualification")[item["key"]] == dt.date(2026, 3, 2)
    assert flat_values(read_case(case))[item["key"]] == dt.date(2026, 3, 2)  # what the rules read
    # A custom value is content: it changes the module's version and the signed content hash.
    assert module_version(case, "qualification") != before
    assert content_hash(case) != sealed
    row = db.session.execute(select(CustomValue).where(CustomValue.case_id == case.id)).scalar_one()
    assert row.value_date == dt.date(2026, 3, 2) and row.unit_id == case.unit_id
    # 痕迹: the value's insert is in the audit trail, with its unit and its actor.
    audit = db.session.execute(select(AuditLog).where(AuditLog.table_name == "custom_value",
                                                      AuditLog.record_id == str(row.id))).scalars().all()
    assert audit and audit[0].unit_id == case.unit_id and audit[0].actor_name == office.clerk.username


def test_wrong_value_of_a_custom_item_is_refused_and_nothing_written(office, admin):
    item = custom_item(admin, office.unit, type="text")
    case, _values = (record_case(office.unit, office.clerk, case_values(office.unit)), None)
    with acting_as(office.clerk, "cli"), pytest.raises(CaseError) as exc:
        cases.save_module(case, "qualification", {item["key"]: "x" * 10_001})
    db.session.rollback()
    assert item["label"] in exc.value.message
    assert db.session.execute(select(CustomValue).where(CustomValue.case_id == case.id)).first() is None


def test_item_of_one_subtree_never_reaches_another_units_case(team, admin, office):
    item = custom_item(admin, office.unit, label="仅本区数据项")
    case, _values = build_case(team)  # unit A of the world, not the office's unit
    assert item["key"] not in read_module(case, "qualification")
    with acting_as(team.clerk, "cli"), pytest.raises(CaseError) as exc:
        cases.save_module(case, "qualification", {item["key"]: "值"})
    db.session.rollback()
    # the same answer as for a key that exists nowhere: nothing is told about other regions' items
    assert f"没有数据项“{item['key']}”" in exc.value.message
    assert "仅本区" not in exc.value.message


def test_region_scope_and_effective_date(team, admin, office):
    office.unit.region_code = "330102"
    with acting_as("测试夹具", "cli"):
        db.session.commit()
    # 330000 covers the province: 330102 is in, the world's 420100 is not
    province = custom_item(admin, office.dept, region_code="330000")
    future = custom_item(admin, office.unit, effective_from="2999-01-01")
    mine = record_case(office.unit, office.clerk, case_values(office.unit), keys=("qualification",))
    theirs, _values = build_case(team)
    assert province["key"] in read_module(mine, "qualification")
    assert future["key"] not in read_module(mine, "qualification")  # decided (created) before it is in force
    assert province["key"] not in read_module(theirs, "qualification")
    assert custom_items.region_prefix("330000") == "33" and custom_items.region_prefix("330100") == "3301"


def test_required_custom_item_is_missing_at_completion(office, admin):
    values = case_values(office.unit)
    case = record_case(office.unit, office.clerk, values, keys=())
    item = custom_item(admin, office.unit, required=True, label="必填自定义项")
    with acting_as(office.clerk, "cli"):
        cases.save_module(case, "qualification", values["qualification"], handler="经办人甲", leader="领导乙")
        with pytest.raises(CaseError) as exc:
            cases.complete_module(case, "qualification")
        assert "“必填自定义项”未填写" in exc.value.message
        cases.save_module(case, "qualification", {item["key"]: "已谈话"})
        cases.complete_module(case, "qualification")
    assert db.session.get(Case, case.id).module_row("qualification").state == "已完成"


def test_value_is_frozen_after_submission_and_follows_a_correction(office, admin):
    item = custom_item(admin, office.unit, type="int")
    case = record_case(office.unit, office.clerk, case_values(office.unit))
    with acting_as(office.clerk, "cli"):
        cases.save_module(case, "qualification", {item["key"]: 7})
        cases.complete_module(case, "qualification")
    case, _values, _first = to_first_submission_of(office, case)
    with acting_as(office.clerk, "cli"), pytest.raises(CaseError):
        cases.save_module(case, "qualification", {item["key"]: 8})
    db.session.rollback()
    # below the commands: the ORM write is refused by the lock too
    row = db.session.execute(select(CustomValue).where(CustomValue.case_id == case.id)).scalar_one()
    row.value_num = 9
    with acting_as("直接写入", "cli"), pytest.raises(guard.CaseLocked):
        db.session.commit()
    db.session.rollback()
    assert read_module(db.session.get(Case, case.id), "qualification")[item["key"]] == 7
    from app.workflow import submission as wf
    with acting_as(office.sup, "cli"):
        new = wf.return_for_correction(db.session.get(Case, case.id), office.sup, "请补正")
    assert read_module(new, "qualification")[item["key"]] == 7


def to_first_submission_of(office, case):
    from tests.factories import submit_first
    return case, None, submit_first(office, case)


def test_key_colliding_with_a_catalogued_or_custom_item_is_refused(admin, office):
    taken = custom_item(admin, office.unit)
    before = db.session.execute(select(CustomItem.id)).all()
    message = _add_refused(admin, {"module": "motion", "key": "full_name", "label": "姓名二", "type": "text",
                                   "effective_from": "2026-01-01", "unit": office.unit.code})
    assert "与目录中的数据项“姓名”" in message
    message = _add_refused(admin, {"module": "motion", "key": taken["key"], "label": "另一个", "type": "text",
                                   "effective_from": "2026-01-01", "unit": office.unit.code})
    assert "已被另一个自定义数据项使用" in message
    assert db.session.execute(select(CustomItem.id)).all() == before


@pytest.mark.parametrize("data, expected", [
    ({"module": "nosuch"}, "模块“nosuch”不存在"),
    ({"module": "signature"}, "不能添加自定义数据项"),
    ({"key": "Bad Key"}, "键“Bad Key”无效"),
    ({"type": "person"}, "类型“person”无效"),
    ({"type": "enum[]"}, "应列出至少一个选项"),
    ({"effective_from": "2026-13-01"}, "生效日期“2026-13-01”无效"),
    ({"region_code": "33"}, "行政区划代码“33”无效"),
    ({"unit": "NO-SUCH-UNIT"}, "单位代码“NO-SUCH-UNIT”不存在或不在您的权限范围内"),
    ({"required": "maybe"}, "“required”应为"),
    ({"required": "cond"}, "须用“condition”指明"),
    ({"extra": 1}, "未知字段：extra"),
    ({"label": ""}, "缺少“label”"),
])
def test_bad_definitions_are_refused_in_chinese(admin, office, data, expected):
    base = {"module": "qualification", "key": unique("ci").lower(), "label": "某项", "type": "text",
            "effective_from": "2026-01-01", "unit": office.unit.code}
    count = db.session.execute(select(CustomItem.id)).all()
    assert expected in _add_refused(admin, {**base, **data})
    assert db.session.execute(select(CustomItem.id)).all() == count


def test_only_an_admin_adds_items_and_a_subtree_admin_only_inside_it(admin, office, team):
    assert "只有系统管理员" in _add_refused(team.sup, {"module": "qualification", "key": "zz_x", "label": "x",
                                                       "type": "text", "effective_from": "2026-01-01"})


def test_active_definitions_lists_scope_for_the_rule_checker(admin, office):
    item = custom_item(admin, office.unit, type="bool", label="是否经过任前廉政谈话", module="inspection")
    found = next(d for d in custom_items.active_definitions() if d["key"] == item["key"])
    assert found["module"] == "inspection" and found["kind"] == "bool" and found["unit"] == office.unit.code
    assert found["label"] == "是否经过任前廉政谈话" and found["effective_from"] == "2000-01-01"


def test_a_label_taken_in_the_same_scope_or_the_catalogue_is_refused(admin, office):
    taken = custom_item(admin, office.unit, label=f"谈话{unique('L')}")
    assert "已有名为“姓名”的数据项" in _add_refused(admin, {
        "module": "qualification", "key": unique("ci").lower(), "label": "姓名", "type": "text",
        "effective_from": "2026-01-01", "unit": office.unit.code})
    assert f"已有名为“{taken['label']}”的数据项" in _add_refused(admin, {
        "module": "qualification", "key": unique("ci").lower(), "label": taken["label"], "type": "text",
        "effective_from": "2026-01-01", "unit": office.unit.code})
    custom_item(admin, office.dept, label=taken["label"])  # another scope may name its own item the same


def test_submitted_custom_value_changed_below_the_application_is_found(office, admin, app):
    from sqlalchemy import text

    from app.workflow import verification
    from tests.factories import submit_first

    item = custom_item(admin, office.unit, type="text", label="谈话记录编号")
    case = record_case(office.unit, office.clerk, case_values(office.unit))
    with acting_as(office.clerk, "cli"):
        cases.save_module(case, "qualification", {item["key"]: "LZ-2026-01"})
        cases.complete_module(case, "qualification")
    submit_first(office, case)
    root = case.root_id
    assert verification.verify_all([root]) == []
    snapshot = db.session.execute(select(Case).where(Case.id == case.id)).scalar_one().submissions[-1].snapshot
    assert '"LZ-2026-01"' in snapshot  # the submission snapshot holds the custom value
    db.session.execute(text("UPDATE custom_value SET value_text = 'LZ-FORGED' WHERE case_id = :c"), {"c": case.id})
    db.session.commit()  # a raw statement: no ORM, no lock listener, as a writer below the application
    breaks = verification.verify_all([root])
    assert [b["kind"] for b in breaks] == ["live_row"]
    assert "谈话记录编号" in breaks[0]["message"] and "LZ-FORGED" in breaks[0]["message"]
    db.session.execute(text("UPDATE custom_value SET value_text = 'LZ-2026-01' WHERE case_id = :c"), {"c": case.id})
    db.session.commit()
    assert verification.verify_all([root]) == []


def test_conditionally_required_custom_item(office, admin):
    flag = custom_item(admin, office.unit, type="bool", label=f"是否谈话{unique('L')}")
    item = custom_item(admin, office.unit, type="date", label=f"谈话日期{unique('L')}", required="cond",
                       condition=flag["key"])
    values = case_values(office.unit)
    case = record_case(office.unit, office.clerk, values, keys=())
    with acting_as(office.clerk, "cli"):
        cases.save_module(case, "qualification", {**values["qualification"], flag["key"]: True},
                          handler="经办人甲", leader="领导乙")
        with pytest.raises(CaseError) as exc:
            cases.complete_module(case, "qualification")
        assert f"“{item['label']}”未填写（“{flag['label']}”为是时必填）" in exc.value.message
        cases.save_module(case, "qualification", {flag["key"]: False})
        cases.complete_module(case, "qualification")
    # a condition must name a yes/no item
    assert "不是一个是/否数据项的键" in _add_refused(admin, {
        "module": "qualification", "key": unique("ci").lower(), "label": "x", "type": "text", "required": "cond",
        "condition": "full_name", "effective_from": "2026-01-01", "unit": office.unit.code})


def test_multiple_choice_custom_item(office, admin):
    item = custom_item(admin, office.unit, type="enum*[本人谈话, 家属谈话, 单位谈话]", label=f"谈话对象{unique('L')}")
    case = record_case(office.unit, office.clerk, case_values(office.unit), keys=())
    with acting_as(office.clerk, "cli"):
        cases.save_module(case, "qualification", {item["key"]: ["本人谈话", "家属谈话"]})
        with pytest.raises(CaseError) as exc:
            cases.save_module(case, "qualification", {item["key"]: ["本人谈话", "电话谈话"]})
        assert "不在可选范围内" in exc.value.message
    db.session.rollback()
    assert read_module(db.session.get(Case, case.id), "qualification")[item["key"]] == ["本人谈话", "家属谈话"]


def _set_active(user, key, active):
    from app.workflow.custom_items import set_active

    with acting_as(user, "cli"):
        return set_active(key, active, user)


def test_a_withdrawn_item_is_offered_for_no_new_entry_but_its_values_stay(office, admin):
    """停用: a new case has no such item (form, import, completion, a new rule), a case holding a value keeps
    it (read, never required), the change is audited, and 启用 brings it back."""
    from app.alarms.engine import evaluate_values
    from app.rules.custom import CustomRule
    from app.scoping import scope_for
    from app.workflow import custom_rules as cr

    def refusals(expression_text):
        data = {"code": "Z9002", "title": "t", "category": "P", "severity": "red", "points": ["S1"], "basis": "b",
                "effective_from": "2026-01-01", "expression": expression_text}
        return cr.validate(data, scope_for(admin))[1]

    item = custom_item(admin, office.unit, type="date", required=True, label="停用测试谈话日期")
    key = item["key"]
    held = record_case(office.unit, office.clerk, case_values(office.unit), keys=())
    with acting_as(office.clerk, "cli"):
        cases.save_module(held, "qualification", {key: dt.date(2026, 2, 27)})
    assert not refusals(f"{key} != null")
    _set_active(admin, key, False)

    fresh = record_case(office.unit, office.clerk, case_values(office.unit), keys=())
    assert key not in {s.key for s in custom_items.items_for(fresh, "qualification")}
    assert key not in read_module(fresh, "qualification")
    assert key not in {s.key for s in custom_items.items_for_unit(office.unit, "qualification")}
    with acting_as(office.clerk, "cli"), pytest.raises(CaseError):
        cases.save_module(fresh, "qualification", {key: dt.date(2026, 3, 1)})
    db.session.rollback()
    assert not db.session.execute(select(CustomValue).where(CustomValue.case_id == fresh.id)).first()
    # the case that holds a value still shows it, and it is no longer required there
    held = db.session.get(Case, held.id)
    spec = next(s for s in custom_items.items_for(held, "qualification") if s.key == key)
    assert spec.required == "N"
    assert read_module(held, "qualification")[key] == dt.date(2026, 2, 27)
    # no rule saved (or approved) now may read it; it is not listed among the active items
    assert any(f"未知数据项“{key}”" in p for p in refusals(f"{key} != null"))
    # but a version that judges the older cases still reads the value they hold
    older = CustomRule(code="Z9003", version_no=1, title="谈话须在决定前", category="P", severity="red",
                       points=frozenset({"S1"}), basis="某省规定", expression=f"{key} <= date('2026-02-01')")
    assert key in older.reads
    flat = {k: v for m in ("qualification",) for k, v in read_module(held, m).items()}
    result = evaluate_values(flat, "S1", as_of=dt.date(2026, 3, 1), unit=held.unit, custom=[older])
    assert [o.status for r, o, _s, _p in result.outcomes if r is older] == ["fail"]
    assert all(d["key"] != key for d in custom_items.active_definitions())
    row = db.session.execute(select(CustomItem).where(CustomItem.key == key)).scalar_one()
    assert row.active is False
    trail = db.session.execute(select(AuditLog).where(AuditLog.table_name == "custom_item",
                                                      AuditLog.record_id == str(row.id))).scalars().all()
    assert any(t.action == "update" and t.field == "active" and t.actor_name == admin.username for t in trail), \
        [(t.action, t.field, t.actor_name) for t in trail]
    # 启用 again: a new case has it (and must fill it) again
    _set_active(admin, key, True)
    assert key in {s.key for s in custom_items.items_for(db.session.get(Case, fresh.id), "qualification")}
    assert next(s for s in custom_items.items_for(held, "qualification") if s.key == key).required == "Y"


def test_only_an_admin_of_the_items_scope_withdraws_it(office, admin, team):
    from app.workflow.custom_items import set_active

    item = custom_item(admin, office.unit, label="停用权限测试项")
    for user, key, message in ((office.sup, item["key"], "只有系统管理员"), (office.clerk, item["key"], "只有系统管理员"),
                               (admin, "no_such_item", "自定义数据项“no_such_item”不存在或不在您的权限范围内")):
        with acting_as(user, "cli"), pytest.raises(CustomItemRefused) as exc:
            set_active(key, False, user)
        assert message in exc.value.message
    _set_active(admin, item["key"], False)
    with acting_as(admin, "cli"), pytest.raises(CustomItemRefused) as exc:
        set_active(item["key"], False, admin)
    assert "已是停用状态" in exc.value.message
    assert db.session.execute(select(CustomItem.active).where(CustomItem.key == item["key"])).scalar_one() is False


def test_an_item_an_enabled_rule_reads_is_not_withdrawn(office, admin, app):
    """A rule still reading the item would judge every new case on a value nobody can enter: withdrawing it
    is refused, naming the rule, until that rule is disabled."""
    from app.workflow import custom_rules as cr
    from app.workflow.custom_items import set_active
    from tests.factories import fresh_rule_code, two_admins

    author, second = two_admins(app, "ciw")
    item = custom_item(admin, office.unit, type="bool", label="规则读取的停用测试项")
    code = fresh_rule_code()
    with acting_as(author, "cli"):
        cr.save_draft({"code": code, "title": "须经过廉政谈话", "category": "P", "severity": "yellow", "points": ["S1"],
                       "basis": "某省规定", "effective_from": "2099-01-01", "expression": f"{item['key']} == true"}, author)
    with acting_as(second, "cli"):
        cr.approve(code, second)
    with acting_as(admin, "cli"), pytest.raises(CustomItemRefused) as exc:
        set_active(item["key"], False, admin)
    assert f"仍被已启用的自定义规则 {code} 读取" in exc.value.message
    assert db.session.execute(select(CustomItem.active).where(CustomItem.key == item["key"])).scalar_one() is True
    with acting_as(second, "cli"):
        cr.disable(code, second)
    assert not _set_active(admin, item["key"], False).active


def test_a_rule_missing_a_custom_items_value_names_the_item(office, admin):
    """不适用 with the custom item's Chinese label when the condition cannot run without its value."""
    from app.rules.context import Ctx
    from app.rules.custom import CustomRule

    item = custom_item(admin, office.unit, type="date", label="缺值提示测试谈话日期")
    rule = CustomRule(code="Z9001", version_no=1, title="谈话须在决定前", category="P", severity="red",
                      points=frozenset({"S1"}), basis="某省规定", expression=f"{item['key']} <= decision_date")
    out = rule.run(Ctx({"decision_date": dt.date(2026, 3, 1), item["key"]: None}))
    assert (out.status, out.message) == ("na", "缺少数据项：缺值提示测试谈话日期")
    assert rule.run(Ctx({"decision_date": dt.date(2026, 3, 1), item["key"]: dt.date(2026, 2, 1)})).status == "pass"
