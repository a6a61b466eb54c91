"""The engine: stored evaluations, lights, parameter-version pinning, the calendar, alarms with
叫停纠偏 through to closure, and the CLI."""
import datetime as dt
import json
import secrets

import pytest
from sqlalchemy import func, select, text

from app.audit import acting_as
from app.extensions import db
from app.models import Alarm, AlarmEvent, AppUser, Case, EvaluationRun, RuleEvaluation, RuleSetting, Unit
from app.dates import default_calendar
from app.scoping import Scope
from app.workflow import submission as case_workflow
from app.workflow import cases
from app.record.data import to_exchange
from app.workflow.exchange import import_cases
from app.alarms.engine import evaluate_values, flat_values
from tests.factories import NEW_RULES, make_id, make_user, unique, valid_case

D = dt.date
CONTENT = ("qualification", "motion", "nomination", "recommendation", "inspection", "consultation", "decision")


# ---- calendar ---------------------------------------------------------------------------------------

def test_calendar_across_national_day_with_make_up_saturday():
    cal = default_calendar()
    assert not cal.is_working_day(D(2026, 10, 1)) and not cal.is_working_day(D(2026, 10, 7))
    assert cal.is_working_day(D(2026, 10, 10))  # a 调休 Saturday
    assert not cal.is_working_day(D(2026, 9, 25))  # 中秋, a Friday
    # 09-25 to 10-09: 09-28, 09-29, 09-30, 10-08, 10-09 are the working days
    assert cal.working_days_between(D(2026, 9, 25), D(2026, 10, 9)) == 5
    assert cal.add_working_days(D(2026, 9, 30), 1) == D(2026, 10, 8)


def test_calendar_across_spring_festival():
    cal = default_calendar()
    assert not cal.is_working_day(D(2026, 2, 17))  # 春节
    assert cal.is_working_day(D(2026, 2, 14))  # 调休 Saturday
    assert cal.working_days_between(D(2026, 2, 13), D(2026, 2, 26)) == 5
    assert cal.missing_years == set()


def test_a_year_without_calendar_is_a_visible_warning(ctx):
    cal = default_calendar()
    assert cal.working_days_between(D(2027, 1, 4), D(2027, 1, 8)) == 5  # Monday–Friday fallback ...
    assert cal.missing_years == {2027}  # ... but recorded
    values = flat_values(valid_case())
    values.update(publicity_start=D(2027, 3, 1), publicity_end=D(2027, 3, 5))
    result = evaluate_values(values, "E", as_of=D(2027, 3, 10), calendar=cal)
    warning = [h for h in result.hits if h.code == "CAL"]
    assert warning and warning[0].severity == "yellow" and "2027" in warning[0].message


def test_admin_calendar_rows_win(app, ctx):
    from app.models import CalendarDay, CalendarYear
    from app.rule_settings import load_calendar

    with acting_as("测试", "cli"):
        db.session.add(CalendarDay(day=D(2027, 1, 1), working=False, name="元旦", source="admin"))
        db.session.add(CalendarYear(year=2027, source="admin"))
        db.session.commit()
    cal = load_calendar()
    assert not cal.is_working_day(D(2027, 1, 1)) and 2027 in cal.known_years
    cal.working_days_between(D(2027, 1, 1), D(2027, 1, 8))
    assert 2027 not in cal.missing_years
    # the package's own calendar is untouched by what admins add
    assert default_calendar().is_working_day(D(2027, 1, 1)) and 2027 not in default_calendar().known_years
    # a later edit is seen by the next evaluation (the cached table is refreshed)
    with acting_as("测试", "cli"):
        db.session.add(CalendarDay(day=D(2027, 1, 4), working=False, name="测试假日", source="admin"))
        db.session.commit()
    assert not load_calendar().is_working_day(D(2027, 1, 4))


# ---- pure evaluation --------------------------------------------------------------------------------

def test_valid_case_is_not_red_and_broken_quorum_is(ctx):
    values = flat_values(valid_case())
    result = evaluate_values(values, "S1", as_of=D(2026, 2, 16))
    assert result.light in ("绿", "黄"), [(h.code, h.message) for h in result.hits if h.severity == "red"]
    values["members_present"] = 7  # of 11: below 2/3
    values["votes_for"] = 7
    result = evaluate_values(values, "S1", as_of=D(2026, 2, 16))
    p27 = [h for h in result.hits if h.code == "P27"]
    assert result.light == "红" and p27 and "7" in p27[0].message and "11" in p27[0].message


def test_points_select_rules(ctx):
    values = flat_values(valid_case())
    values["members_present"] = 7
    values["votes_for"] = 7
    e = {h.code for h in evaluate_values(values, "E", as_of=D(2026, 2, 16)).hits}
    s1 = {h.code for h in evaluate_values(values, "S1", as_of=D(2026, 2, 16)).hits}
    assert "P27" in e and "P27" in s1  # E,S1 rule
    values["publicity_end"] = D(2026, 2, 17)  # 2 working days (春节)
    d = {h.code for h in evaluate_values(values, "D", as_of=D(2026, 2, 16)).hits}
    assert "P33" not in d and "P33" in {h.code for h in evaluate_values(values, "S2", as_of=D(2026, 3, 6)).hits}


# ---- parameters are data, versioned ------------------------------------------------------------------

def test_a_later_parameter_version_does_not_rejudge_an_earlier_decision(app, ctx):
    values = flat_values(valid_case())  # decision 2026-02-12, 10 of 11 present
    code = "P27"
    with acting_as("测试", "cli"):
        # from 2026-03-01 on, a stricter quorum (all members): later decisions are judged by it
        # flushed, never committed: a committed setting re-derives every open case (and their stored
        # evaluations would keep it)
        db.session.add(RuleSetting(code=code, effective_from=D(2026, 3, 1), enabled=True, params={"quorum": 1}))
        db.session.flush()
    try:
        assert "P27" not in {h.code for h in evaluate_values(values, "S1", as_of=D(2026, 6, 1)).hits}
        later = dict(values, decision_date=D(2026, 3, 2), publicity_start=D(2026, 3, 3),
                     publicity_end=D(2026, 3, 13), sig1_signed_at=D(2026, 3, 3), sig2_signed_at=D(2026, 3, 4),
                     sig3_signed_at=D(2026, 3, 5), first_submitted_at=D(2026, 3, 6))
        result = evaluate_values(later, "S1", as_of=D(2026, 6, 1))
        assert "P27" in {h.code for h in result.hits} and result.judged_on == D(2026, 3, 2)
        # before a decision exists, the motion date decides the version
        undecided = dict(values, decision_date=None, motion_meeting_date=D(2026, 3, 5))
        assert evaluate_values(undecided, "E", as_of=D(2026, 6, 1)).judged_on == D(2026, 3, 5)
    finally:
        db.session.rollback()


def test_disabling_a_rule_and_validating_parameters(app, ctx):
    values = flat_values(valid_case())
    values.update(members_present=7, votes_for=7)
    with acting_as("测试", "cli"):
        bad = RuleSetting(code="P27", effective_from=D(2020, 1, 1), enabled=True, params={"quorum": "很多"})
        db.session.add(bad)
        with pytest.raises(Exception, match="分数"):
            db.session.commit()
        db.session.rollback()
        db.session.add(RuleSetting(code="P27", effective_from=D(2020, 1, 1), enabled=False, params={}))
        db.session.flush()  # never committed (see above)
    try:
        assert "P27" not in {h.code for h in evaluate_values(values, "S1", as_of=D(2026, 6, 1)).hits}
    finally:
        db.session.rollback()


# ---- stored evaluations, lights and the alarm lifecycle ------------------------------------------

@pytest.fixture()
def people(app, world):
    with app.app_context(), acting_as("测试", "cli"):
        sm = app.appbuilder.sm
        signers = [make_user(sm, unique("rs").lower(), ["签字领导"], world.units["a"]) for _ in range(3)]
        db.session.commit()
        return {"signers": [s.username for s in signers]}


def _a_case_id(world) -> int:
    """A fresh case of unit A (inside an app context), so a test does not depend on others' data."""
    with acting_as("测试", "cli"):
        return cases.create_case(db.session.get(Unit, world.units["a"])).id


def _user(name):
    return db.session.execute(select(AppUser).where(AppUser.username == name)).scalar_one()


def _sign_and_submit(case, world, people):
    for level, name in enumerate(people["signers"], start=1):
        case_workflow.sign(case, _user(name), level, f"职务{level}", "情况属实同意报送")
    clerk = _user(world.users["clerk_a"])
    case_workflow.set_pledge(case, clerk, True)
    return case_workflow.submit(case, clerk, 1)


def test_a_case_breaking_publicity_and_quorum_goes_red_is_halted_corrected_and_closed(app, world, people, client_for):
    today = dt.date.today()
    decision = today - dt.timedelta(days=2)
    values = valid_case()
    shift = decision - values["decision"]["decision_date"]
    for module in values.values():
        for key, value in list(module.items()):
            if isinstance(value, dt.date) and key not in ("birth_date", "work_start_date", "party_join_date",
                                                           "party_full_member_date", "current_post_date",
                                                           "current_grade_date"):
                module[key] = value + shift
    # a person of their own: other tests' cases share the base case's ID number, and another_person()
    # hands out 110101-19800315-NNN in a cycle (X17 would fire). 110105 (朝阳区) is used by no other case.
    old_id = values["qualification"]["id_card_no"]
    new_id = make_id("110105", "19800315", f"{secrets.randbelow(499) * 2 + 1:03d}")
    values["qualification"]["id_card_no"] = new_id
    for person in values["nomination"]["nominee_list"]:
        if person.get("id_card_no") == old_id:
            person["id_card_no"] = new_id
    with app.app_context():
        unit = db.session.get(Unit, world.units["a"])
        values["motion"]["reporting_unit"] = values["motion"]["target_unit"] = unit.code
        values["decision"].update(members_present=7, votes_for=7, votes_against=0, votes_defer=0)
        values["decision"]["decision_meeting_type"] = "党委全委会"  # its own batch
        values["publicity"].update(publicity_start=decision + dt.timedelta(days=1),
                                   publicity_end=decision + dt.timedelta(days=2))
        data = {k: v for k, v in to_exchange(values).items() if k in CONTENT + ("publicity",)}
        data["motion"].pop("case_no", None)
        with acting_as("测试", "cli"):
            [case_id] = import_cases(data, Scope("all"), _user(world.users["clerk_a"]))
            case = db.session.get(Case, case_id)
            for key in CONTENT:
                cases.save_module(case, key, {}, handler="经办人", leader="领导")
                cases.complete_module(case, key)
            assert case.light == "红"  # the save-time rules already light it
            _sign_and_submit(case, world, people)
        runs = db.session.execute(select(func.count(EvaluationRun.id)).where(EvaluationRun.case_id == case_id)).scalar()
        assert runs >= 2  # what the saves found (appended when it changed) and the submission, stored
        alarm = db.session.execute(select(Alarm).where(Alarm.case_id == case_id)).scalar_one()
        assert {"P27", "P33"} <= set(alarm.codes.split(",")) and alarm.status == "已报警"
        alarm_id = alarm.id
        stored = db.session.execute(select(RuleEvaluation).where(RuleEvaluation.run_id == alarm.run_id,
                                                                 RuleEvaluation.rule_code == "P27")).scalar_one()
        assert stored.outcome == "fail" and stored.severity == "red" and len(stored.inputs_hash) == 64

    # the supervisor sees the red light and both messages
    sup = client_for("sup_root")
    html = sup.get(f"/cases/show/{case_id}").get_data(as_text=True)
    assert "红灯" in html and "P27" in html and "P33" in html
    assert "红灯" in sup.get("/cases/list/").get_data(as_text=True)
    page = sup.get(f"/alarms/show/{alarm_id}").get_data(as_text=True)
    assert "到会" in page and "工作日" in page
    # a sibling unit's clerk sees neither the case nor the alarm
    assert client_for("clerk_b").get(f"/alarms/show/{alarm_id}").status_code == 404
    # 叫停纠偏 with a reason and a deadline
    resp = sup.post(f"/alarms/show/{alarm_id}/halt", data={"reason": "到会人数与公示期不合规",
                                                           "deadline": (today + dt.timedelta(days=10)).isoformat()})
    assert resp.status_code == 302
    with app.app_context():
        alarm = db.session.get(Alarm, alarm_id)
        assert alarm.status == "已叫停" and alarm.correction_deadline == today + dt.timedelta(days=10)
        new = db.session.execute(select(Case).where(Case.root_id == alarm.root_id, Case.is_current.is_(True))).scalar_one()
        assert new.version_no == 2 and "整改期限" in new.return_reason
        # the unit corrects (a proper meeting and a full 公示) and resubmits
        with acting_as("测试", "cli"):
            cases.save_module(new, "decision", {"members_present": 10, "votes_for": 10})
            cases.save_module(new, "publicity", {"publicity_end": decision + dt.timedelta(days=14)})
            for key in CONTENT:
                cases.save_module(new, key, {}, handler="经办人", leader="领导")
                cases.complete_module(new, key)
            _sign_and_submit(new, world, people)
        assert "P27" not in (new.module_row("submission").alarm_codes or "")
        assert "P33" not in (new.module_row("submission").alarm_codes or "")
        alarm = db.session.get(Alarm, alarm_id)
        assert alarm.status == "已关闭" and alarm.closed_at is not None, (
            alarm.codes, new.module_row("submission").alarm_codes)
        events = db.session.execute(select(AlarmEvent.to_status, AlarmEvent.actor_name)
                                    .where(AlarmEvent.alarm_id == alarm_id).order_by(AlarmEvent.id)).all()
        assert [e[0] for e in events] == ["已叫停", "已整改", "已关闭"]
        assert events[0][1] == world.users["sup_root"]
        assert new.light == "绿", [(r.rule_code, r.message) for r in
                                   __import__("app.alarms.lights", fromlist=["x"]).latest_hits(new)]


def test_dismiss_needs_a_reason_and_the_supervisor(app, world, people, client_for):
    with app.app_context():
        unit = db.session.get(Unit, world.units["a"])
        run = EvaluationRun(case_id=_a_case_id(world), unit_id=unit.id, point="S1", as_of=dt.date.today(), judged_on=dt.date.today(), light="红")
        with acting_as("测试", "cli"):
            db.session.add(run)
            db.session.flush()
            alarm = Alarm(case_id=run.case_id, root_id=run.case_id, unit_id=unit.id, run_id=run.id, point="S1",
                          codes="Q13", message="Q13 破格")
            db.session.add(alarm)
            db.session.commit()
        alarm_id = alarm.id
    clerk = client_for("clerk_a")
    assert clerk.post(f"/alarms/show/{alarm_id}/dismiss", data={"reason": "x"}).status_code in (302, 403)
    with app.app_context():
        assert db.session.get(Alarm, alarm_id).status == "已报警"
    sup = client_for("sup_a")
    html = sup.post(f"/alarms/show/{alarm_id}/dismiss", data={"reason": ""}, follow_redirects=True).get_data(as_text=True)
    assert "依据" in html
    sup.post(f"/alarms/show/{alarm_id}/dismiss", data={"reason": "经市委组织部批准的破格提拔"})
    with app.app_context():
        assert db.session.get(Alarm, alarm_id).status == "已关闭"


def test_evaluations_are_append_only(app, ctx):
    run_id = db.session.execute(select(func.max(EvaluationRun.id))).scalar()
    if run_id is None:
        pytest.skip("no evaluation stored yet")
    for sql in ("UPDATE evaluation_run SET light = '绿' WHERE id = :id", "DELETE FROM evaluation_run WHERE id = :id"):
        with pytest.raises(Exception, match="只能追加"):
            with db.engine.begin() as conn:
                conn.execute(text(sql), {"id": run_id})


# ---- CLI ------------------------------------------------------------------------------------------

def test_rules_list_json(app):
    result = app.test_cli_runner().invoke(args=["rules", "list", "--json"])
    assert result.exit_code == 0
    rules = [r for r in json.loads(result.output) if not r.get("custom")]  # custom rules other tests enabled
    assert len(rules) == 117 + NEW_RULES
    first = rules[0]
    assert set(first) >= {"code", "title", "category", "severity", "enabled", "points", "basis", "params"}
    assert sum(r["enabled"] for r in rules) == 112 + NEW_RULES


def test_cases_check_writes_nothing(app, world, tmp_path):
    values = valid_case()
    values["decision"]["members_present"] = 7
    values["decision"]["votes_for"] = 7
    path = tmp_path / "case.json"
    path.write_text(json.dumps(to_exchange(values), ensure_ascii=False), encoding="utf-8")
    with app.app_context():
        before = db.session.execute(select(func.count(EvaluationRun.id))).scalar()
    result = app.test_cli_runner().invoke(args=["cases", "check", str(path), "--as-of", "2026-02-16", "--json"])
    assert result.exit_code == 0, result.output
    out = json.loads(result.output)
    assert out["light"] == "red" and any(h["code"] == "P27" for h in out["hits"])
    assert all(set(h) >= {"code", "severity", "message"} for h in out["hits"])
    with app.app_context():
        assert db.session.execute(select(func.count(EvaluationRun.id))).scalar() == before


def test_alarms_list_json(app, world):
    with app.app_context():
        unit_a = db.session.get(Unit, world.units["a"])
        case_id = _a_case_id(world)
        with acting_as("测试", "cli"):
            run = EvaluationRun(case_id=case_id, unit_id=unit_a.id, point="S1", as_of=dt.date.today(),
                                judged_on=dt.date.today(), light="红")
            db.session.add(run)
            db.session.flush()
            alarm = Alarm(case_id=case_id, root_id=case_id, unit_id=unit_a.id, run_id=run.id, point="S1",
                          codes="P25", message="P25 会议类型")
            db.session.add(alarm)
            db.session.commit()
        alarm_id, code_a = alarm.id, unit_a.code
        code_b = db.session.get(Unit, world.units["b"]).code
    runner = app.test_cli_runner()
    result = runner.invoke(args=["alarms", "list", "--json"])
    assert result.exit_code == 0
    listed = {a["id"]: a for a in json.loads(result.output)}
    assert set(listed[alarm_id]) >= {"id", "case_id", "code", "severity", "status", "raised_at"}
    assert listed[alarm_id]["code"] == "P25" and listed[alarm_id]["status"] == "已报警"
    in_a = {a["id"] for a in json.loads(runner.invoke(args=["alarms", "list", "--unit", code_a, "--json"]).output)}
    in_b = {a["id"] for a in json.loads(runner.invoke(args=["alarms", "list", "--unit", code_b, "--json"]).output)}
    assert alarm_id in in_a and alarm_id not in in_b
    closed = runner.invoke(args=["alarms", "list", "--status", "已关闭", "--json"]).output
    assert alarm_id not in {a["id"] for a in json.loads(closed)}


def test_daily_run_flags_an_unsubmitted_decision(app, world):
    """T01 at the daily point: decided and not submitted within 5 days turns the case red."""
    today = dt.date.today()
    values = valid_case()
    with app.app_context():
        unit = db.session.get(Unit, world.units["a"])
        values["motion"]["reporting_unit"] = values["motion"]["target_unit"] = unit.code
        values["decision"]["decision_date"] = today - dt.timedelta(days=9)
        values["decision"]["decision_meeting_type"] = "党组(党委)会议"
        data = {k: v for k, v in to_exchange(values).items() if k in ("qualification", "motion", "decision")}
        data["motion"].pop("case_no", None)
        with acting_as("测试", "cli"):
            [case_id] = import_cases(data, Scope("all"))
    result = app.test_cli_runner().invoke(args=["rules", "daily", "--json"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.output)["evaluated"] >= 1
    with app.app_context():
        case = db.session.get(Case, case_id)
        assert case.light == "红"
        run = db.session.execute(select(EvaluationRun).where(EvaluationRun.case_id == case_id, EvaluationRun.point == "D")
                                 .order_by(EvaluationRun.id.desc())).scalars().first()
        hit = [r for r in run.results if r.rule_code == "T01" and r.outcome == "fail"]
        assert hit and "5" in hit[0].message


def test_settings_are_edited_in_the_ui_with_validation_and_a_trace(app, world, client_for):
    admin = client_for("admin")
    form = {"effective_from": "2030-01-01", "enabled": "1", "p_applies_from_grade": "县处级副职",
            "p_township_min_work_years": "3", "save": "1"}
    resp = admin.post("/rulesettingview/version/Q01", data={**form, "p_min_work_years": "五年"})
    assert "整数" in resp.get_data(as_text=True)
    resp = admin.post("/rulesettingview/version/Q01", data={**form, "p_min_work_years": "6", "note": "测试新版本"})
    assert resp.status_code == 302
    with app.app_context():
        from app.models import AuditLog

        row = db.session.execute(select(RuleSetting).where(RuleSetting.note == "测试新版本")).scalar_one()
        trace = db.session.execute(select(AuditLog).where(AuditLog.table_name == "rule_setting",
                                                          AuditLog.record_id == str(row.id))).scalars().all()
        assert {t.field for t in trace} >= {"code", "params", "effective_from"}
        assert all(t.actor_name == world.users["admin"] for t in trace)
        # a unit override is refused for a rule that is not local practice (Q01 is, since issue 13: its 乡科级 default) ...
        with acting_as("测试", "cli"):
            db.session.add(RuleSetting(code="Q03", effective_from=D(2030, 1, 1), params={}, unit_id=world.units["a"]))
            with pytest.raises(Exception, match="地方性"):
                db.session.commit()
            db.session.rollback()
            db.session.delete(db.session.get(RuleSetting, row.id))
            db.session.commit()
    # ... and the clerk cannot reach the settings at all
    assert client_for("clerk_a").get("/rulesettingview/list/").status_code in (302, 403)


def test_a_unit_override_of_a_local_rule(app, world, ctx):
    from app.rule_settings import settings_for

    unit = db.session.get(Unit, world.units["b"])
    with acting_as("测试", "cli"):
        db.session.add(RuleSetting(code="P12", effective_from=D(2020, 1, 1), params={"min_interviews": 40},
                                   unit_id=unit.id, note="乙单位从严"))
        db.session.commit()
    values = flat_values(valid_case())  # 30 interviews
    assert "P12" in {h.code for h in evaluate_values(values, "S1", as_of=D(2026, 6, 1), unit=unit).hits}
    other = db.session.get(Unit, world.units["a"])
    assert "P12" not in {h.code for h in evaluate_values(values, "S1", as_of=D(2026, 6, 1), unit=other).hits}
    assert settings_for(unit, D(2026, 1, 1))["P12"].params == {"min_interviews": 40}
