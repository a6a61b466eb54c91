"""Custom rules as commands (app/workflow/custom_rules.py): drafts checked on save, 四眼原则 on enabling
(recorded in the audit trail), the version in force on a case's decision date, evaluations that
record the custom version, scope by unit, and 试运行 that writes nothing."""
from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import func, select

from app.alarms.lights import latest_hits
from app.audit import acting_as
from app.extensions import db
from app.models import AuditLog, Case, CustomRuleVersion, EvaluationRun, RuleEvaluation
from app.workflow import custom_rules as cr
from tests.factories import fresh_rule_code, make_case, office_rows, two_admins, unique, user_named



@pytest.fixture()
def admins(app, ctx):
    return two_admins(app, "cr")


@pytest.fixture()
def office(app, world, ctx):
    return office_rows(app, world, "crl")


def draft(user, **changes):
    data = {"code": fresh_rule_code(), "title": "任前须满员到会", "category": "P", "severity": "red", "points": ["E", "S1", "S2"],
            "basis": "某省干部选拔任用工作规程第十二条", "effective_from": "2020-01-01",
            "expression": "members_present == members_total"}
    data.update(changes)
    with acting_as(user, "cli"):
        return cr.save_draft(data, user)


def count(model) -> int:
    return db.session.execute(select(func.count()).select_from(model)).scalar()


def test_a_bad_condition_is_refused_on_save_with_its_position_and_nothing_is_written(admins):
    author, _ = admins
    before = count(CustomRuleVersion)
    with pytest.raises(cr.CustomRuleError) as err:
        draft(author, expression="members_total > 3 &&\n decision_date > 5")
    assert err.value.problems == ["条件表达式第 2 行第 16 列：日期不能与数字比较：请比较两个日期，或用 days()/workdays()/years() 先算出天数、年数"]
    with pytest.raises(cr.CustomRuleError) as err:
        draft(author, code="P27", severity="black", points="E,X", effective_from="2024-13-01", expression="talk_done")
    text = "；".join(err.value.problems)
    for part in ("与内置规则目录重复", "严重程度应为 red", "评估时点应为", "生效日期应为", "未知数据项“talk_done”"):
        assert part in text
    db.session.rollback()
    assert count(CustomRuleVersion) == before


def test_enabling_needs_a_second_administrator_and_the_audit_trail_records_it(admins, office):
    author, second = admins
    row = draft(author, unit=office.dept.code)
    assert (row.status, row.version_no) == ("draft", 1)
    with pytest.raises(cr.CustomRuleError, match="四眼原则"):
        with acting_as(author, "cli"):
            cr.approve(row.code, author)
    # a clerk or another unit's supervisor may not approve either
    with pytest.raises(cr.CustomRuleError):
        cr.approve(row.code, office.clerk)
    with acting_as(second, "cli"):
        cr.approve(row.code, second)
    db.session.expire_all()
    row = db.session.get(CustomRuleVersion, row.id)
    assert (row.status, row.author_name, row.approver_name) == ("enabled", author.username, second.username)
    trail = db.session.execute(select(AuditLog).where(AuditLog.table_name == "custom_rule_version",
                                                      AuditLog.record_id == str(row.id), AuditLog.field == "status",
                                                      AuditLog.action == "update")).scalars().all()
    assert [(a.actor_name, a.old_value, a.new_value) for a in trail] == [(second.username, "draft", "enabled")]
    with pytest.raises(cr.CustomRuleError, match="没有待审批的版本"):
        cr.approve(row.code, second)


def test_a_supervisor_writes_rules_for_its_own_subtree_only(app, world, admins, office):
    sup = office.sup  # 监督员 of office.dept
    with pytest.raises(cr.CustomRuleError, match="请填写适用单位"):
        draft(sup)
    other = db.session.get(type(office.dept), world.units["b"])
    with pytest.raises(cr.CustomRuleError, match="不在您的权限范围内"):
        draft(sup, unit=other.code)
    row = draft(sup, unit=office.unit.code)
    assert row.unit_id == office.unit.id
    # another department's supervisor neither sees nor approves it
    foreign = user_named(world.users["sup_a"])
    with pytest.raises(cr.CustomRuleError, match="不存在"):
        cr.approve(row.code, foreign)
    with pytest.raises(cr.CustomRuleError, match="不存在"):
        cr.try_rule(row.code, foreign)


def test_a_case_is_judged_by_the_version_in_force_on_its_decision_date(admins, office):
    author, second = admins
    early, late = make_case(office, dt.date(2023, 5, 10))[0], make_case(office, dt.date(2025, 5, 10))[0]
    v1 = draft(author, unit=office.dept.code, expression="members_present > members_total",  # always false: fires
               effective_from="2020-01-01")
    with acting_as(second, "cli"):
        cr.approve(v1.code, second)
    v2 = draft(author, code=v1.code, unit=office.dept.code, expression="members_present <= members_total",
               effective_from="2024-01-01", severity="yellow")
    assert v2.version_no == 2
    with acting_as(second, "cli"):
        cr.approve(v1.code, second)
    db.session.expire_all()
    # approving re-derived the subtree's open cases (input change): the early case by v1 (red), the late by v2
    early, late = db.session.get(Case, early.id), db.session.get(Case, late.id)
    hits = {h.rule_code: h for h in latest_hits(early)}
    assert v1.code in hits and hits[v1.code].severity == "red" and "任前须满员到会" in hits[v1.code].message
    assert early.light == "红"
    assert v1.code not in {h.rule_code for h in latest_hits(late)}
    versions = dict(db.session.execute(
        select(RuleEvaluation.case_id, RuleEvaluation.rule_version).where(RuleEvaluation.rule_code == v1.code)
        .order_by(RuleEvaluation.id)).all())
    assert versions[early.id] == "c1" and versions[late.id] == "c2"


def test_a_rule_scoped_to_a_unit_leaves_other_units_cases_alone(app, world, admins, office):
    author, second = admins
    other = office_rows(app, world, "cro")
    mine, theirs = make_case(office, dt.date(2024, 6, 3))[0], make_case(other, dt.date(2024, 6, 3))[0]
    row = draft(author, unit=office.unit.code, expression="false")
    with acting_as(second, "cli"):
        cr.approve(row.code, second)
    db.session.expire_all()
    assert row.code in {h.rule_code for h in latest_hits(db.session.get(Case, mine.id))}
    assert row.code not in {h.rule_code for h in latest_hits(db.session.get(Case, theirs.id))}


def test_try_runs_the_draft_over_existing_cases_and_writes_nothing(admins, office):
    author, _ = admins
    cases = [make_case(office, dt.date(2024, 3, d))[0] for d in (5, 12, 19)]
    row = draft(author, unit=office.dept.code, expression=f"case_no != '{cases[1].case_no}'")
    db.session.commit()
    before = [count(m) for m in (AuditLog, EvaluationRun, RuleEvaluation, CustomRuleVersion)]
    result = cr.try_rule(row.code, author, date_from=dt.date(2024, 3, 1), date_to=dt.date(2024, 3, 31),
                         unit_code=office.dept.code)
    assert (result["checked"], result["would_fire"], result["passed"]) == (3, 1, 2)
    assert [c["case_no"] for c in result["cases"]] == [cases[1].case_no]
    assert len(result["samples"]["pass"]) == 2 and result["samples"]["fail"][0]["case_no"] == cases[1].case_no
    narrower = cr.try_rule(row.code, author, date_from=dt.date(2024, 3, 10), date_to=dt.date(2024, 3, 15))
    assert narrower["checked"] >= 1 and cases[1].case_no in [c["case_no"] for c in narrower["cases"]]
    assert [count(m) for m in (AuditLog, EvaluationRun, RuleEvaluation, CustomRuleVersion)] == before
    assert db.session.get(CustomRuleVersion, row.id).status == "draft"
    later = draft(author, code=row.code, unit=office.dept.code, expression="false", effective_from="2024-03-15")
    tried = cr.try_rule(later.code, author, date_from=dt.date(2024, 3, 1), date_to=dt.date(2024, 3, 31),
                        unit_code=office.dept.code)
    assert (tried["version"], tried["would_fire"], tried["not_applicable"]) == (2, 1, 2)  # the 19th only
    assert "早于本版本的生效日期 2024-03-15" in tried["samples"]["na"][0]["message"]
    with pytest.raises(cr.CustomRuleError, match="开始日期不能晚于结束日期"):
        cr.try_rule(row.code, author, date_from=dt.date(2024, 4, 1), date_to=dt.date(2024, 3, 1))


def test_disabling_from_a_date_keeps_the_earlier_cases_judgement(admins, office):
    author, second = admins
    early, late = make_case(office, dt.date(2023, 8, 1))[0], make_case(office, dt.date(2025, 8, 1))[0]
    row = draft(author, unit=office.dept.code, expression="false")
    with acting_as(second, "cli"):
        cr.approve(row.code, second)
    with acting_as(author, "cli"):
        stop = cr.disable(row.code, author, dt.date(2025, 1, 1))
    assert (stop.version_no, stop.status, stop.effective_from) == (2, "disabled", dt.date(2025, 1, 1))
    db.session.expire_all()
    assert row.code in {h.rule_code for h in latest_hits(db.session.get(Case, early.id))}
    assert row.code not in {h.rule_code for h in latest_hits(db.session.get(Case, late.id))}
    with pytest.raises(cr.CustomRuleError, match="已停用"):
        cr.disable(row.code, author)


def test_disabling_stops_a_version_that_takes_effect_later_too(admins, office):
    """停用 from a date stops every earlier version from that date on, one effective only later included (a
    rule approved to start in 2099 and disabled today never comes into force); a version approved after
    the 停用 starts the rule again from its own date."""
    from app.rule_settings import custom_rules_in_force

    author, second = admins
    row = draft(author, unit=office.dept.code, expression="false", effective_from="2099-01-01")
    with acting_as(second, "cli"):
        cr.approve(row.code, second)
    assert row.code in {r.code for r in custom_rules_in_force(dt.date(2099, 6, 1))}
    with acting_as(author, "cli"):
        cr.disable(row.code, author, dt.date(2026, 1, 1))
    assert row.code not in {r.code for r in custom_rules_in_force(dt.date(2099, 6, 1))}
    assert row.code not in {r.code for r in custom_rules_in_force(dt.date(2026, 6, 1))}
    again = draft(author, code=row.code, unit=office.dept.code, expression="false", effective_from="2100-01-01")
    with acting_as(second, "cli"):
        cr.approve(again.code, second)
    assert row.code not in {r.code for r in custom_rules_in_force(dt.date(2099, 6, 1))}
    assert [r.version_no for r in custom_rules_in_force(dt.date(2100, 6, 1)) if r.code == row.code] == [3]


def test_a_rule_reads_a_custom_item_and_lights_the_case_that_breaks_it(app, world, admins, office):
    """The issue's example: a province's item (是否经过任前廉政谈话) and a rule over it. The checker knows
    the custom item (it refused it as unknown before the record layer registered its items)."""
    from tests.factories import custom_item
    from app.workflow import cases

    author, second = admins
    item = custom_item(author, office.unit, module="inspection", type="bool", label=unique("是否经过任前廉政谈话"))
    talked, skipped = make_case(office, dt.date(2024, 9, 2))[0], make_case(office, dt.date(2024, 9, 3))[0]
    with acting_as(office.clerk, "cli"):
        cases.save_module(talked, "inspection", {item["key"]: True})
        cases.save_module(skipped, "inspection", {item["key"]: False})
    db.session.commit()
    row = draft(author, unit=office.unit.code, title="任前须经廉政谈话", expression=f"{item['key']} == true")
    assert item["key"] in row.expression
    with acting_as(second, "cli"):
        cr.approve(row.code, second)
    db.session.expire_all()
    assert row.code in {h.rule_code for h in latest_hits(db.session.get(Case, skipped.id))}
    assert row.code not in {h.rule_code for h in latest_hits(db.session.get(Case, talked.id))}
    assert db.session.get(Case, skipped.id).light == "红"


def test_the_compiled_rules_cache_stays_bounded(admins, office, monkeypatch):
    from app import rule_settings

    author, second = admins
    codes = []
    for _ in range(3):
        row = draft(author, unit=office.dept.code, effective_from="2099-01-01")  # in force for no case
        with acting_as(second, "cli"):
            cr.approve(row.code, second)
        codes.append(row.code)
    monkeypatch.setattr(rule_settings, "CUSTOM_CACHE_SIZE", 2)
    monkeypatch.setattr(rule_settings, "_CUSTOM_CACHE", {})
    found = [r.code for r in rule_settings.custom_rules_in_force(dt.date(2099, 1, 1))]
    assert set(codes) <= set(found)  # every rule in force, whatever the cache holds
    assert len(rule_settings._CUSTOM_CACHE) <= 2
    again = rule_settings.custom_rules_in_force(dt.date(2099, 1, 1))
    assert [r.code for r in again] == found and len(rule_settings._CUSTOM_CACHE) <= 2


def test_a_supervisor_reads_only_the_custom_items_of_its_own_scope(app, world, admins, office):
    """A custom item of another subtree is, to a supervisor's rule, what an unknown key is: the same Chinese
    refusal (nothing tells it that the item exists); an item of its own subtree is read."""
    from tests.factories import custom_item

    admin = user_named(world.users["admin"])
    other = office_rows(app, world, "crm")  # another department's subtree
    theirs = custom_item(admin, other.unit, type="bool", label="外单位自定义项")
    mine = custom_item(admin, office.unit, type="bool", label="本单位自定义项")
    with pytest.raises(cr.CustomRuleError) as exc:
        draft(office.sup, unit=office.unit.code, expression=f"{theirs['key']} == true")
    assert f"未知数据项“{theirs['key']}”" in exc.value.message
    with pytest.raises(cr.CustomRuleError) as unknown:
        draft(office.sup, unit=office.unit.code, expression="no_such_key_here == true")
    assert exc.value.message.replace(theirs["key"], "K") == unknown.value.message.replace("no_such_key_here", "K")
    assert draft(office.sup, unit=office.unit.code, expression=f"{mine['key']} == true").code
    assert draft(admins[0], expression=f"{theirs['key']} == true").code  # an admin of all units reads every item
