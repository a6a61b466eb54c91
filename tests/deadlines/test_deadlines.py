"""Reporting deadlines as data and the scan: due dates (calendar and working days, across 国庆 with
调休), recomputation when dates change, the parameter version in force, statuses, the scan's
alarms, lights and notices — each sent once whatever is re-run — task runs and the CLI.

Each test gets its own supervising department and unit, so the recipients it counts are its own.
"""
from __future__ import annotations

import datetime as dt
import json

import pytest
from sqlalchemy import select

from app.audit import acting_as
from app.extensions import db
from app.models import Case, Message, RuleSetting, TaskRun
from app.models.deadlines import RUN_FAILED, RUN_OK, RUN_RUNNING
from app.workflow import submission as wf
from app.workflow import cases
from app.deadlines import due as deadlines
from app.record.data import read_case
from app.rule_settings import setting_problems
from tests.factories import (
    deadline_alarms, derived_on, make_case, make_user, node, scan, submit_first, unique, values_decided_on,
)

D = dt.date
TODAY = dt.date.today()
def inbox(user, case=None, kind=None) -> list[Message]:
    q = select(Message).where(Message.recipient_id == user.id)
    if case is not None:
        q = q.where(Message.case_id == case.id)
    if kind is not None:
        q = q.where(Message.kind == kind)
    return db.session.execute(q).scalars().all()


# ---- due dates ----------------------------------------------------------------------------------------

def test_due_dates_across_national_day_with_make_up_saturday(ctx):
    # 2026: 10-01…10-07 off (中秋 09-25 too), Saturday 10-10 a 调休 working day.
    assert deadlines.due_date(D(2026, 9, 30), 5, "calendar") == D(2026, 10, 5)
    # 10-08, 10-09, 10-10 (调休 Saturday), 10-12, 10-13
    assert deadlines.due_date(D(2026, 9, 30), 5, "working") == D(2026, 10, 13)
    assert deadlines.due_date(D(2026, 9, 24), 1, "working") == D(2026, 9, 28)  # over 中秋 Friday and a weekend


@pytest.mark.parametrize("due, submitted, as_of, expected", [
    (D(2026, 3, 10), D(2026, 3, 10), D(2026, 4, 1), ("按时", 0)),
    (D(2026, 3, 10), D(2026, 3, 12), D(2026, 4, 1), ("逾期", 2)),
    (D(2026, 3, 10), None, D(2026, 3, 10), ("未到期", 0)),
    (D(2026, 3, 10), None, D(2026, 3, 11), ("逾期", 1)),
    (D(2026, 3, 10), None, D(2026, 4, 9), ("逾期", 30)),
    (D(2026, 3, 10), None, D(2026, 4, 10), ("未报", 31)),
])
def test_status_of_a_node(due, submitted, as_of, expected):
    assert deadlines.status_of(due, submitted, as_of, missing_after=30) == expected


def test_deadline_is_stored_and_follows_the_decision_date(office):
    decided = TODAY - dt.timedelta(days=1)
    case, values = make_case(office, decided)
    row = node(case)
    assert (row.anchor_date, row.days, row.day_type, row.due_date, row.status) == (
        decided, 5, "calendar", decided + dt.timedelta(days=5), "未到期")
    assert node(case, 2) is None  # no appointment yet
    # the meeting moves: the due date moves with it (and, six days back, the node is late)
    moved = TODAY - dt.timedelta(days=6)
    values = values_decided_on(office.unit, moved)
    with acting_as(office.clerk, "cli"):
        cases.save_module(case, "decision", values["decision"])
    row = node(case)
    assert row.anchor_date == moved and row.due_date == moved + dt.timedelta(days=5)
    assert (row.status, row.days_late) == ("逾期", 1)
    assert db.session.get(Case, case.id).light == "红"


def test_working_days_setting_in_force_on_the_decision_date_applies(office):
    decided = D(2026, 9, 30)
    with acting_as("测试", "cli"):
        # in force from before the decision, for this unit only
        db.session.add(RuleSetting(code="T01", effective_from=D(2026, 1, 1), unit_id=office.unit.id,
                                   params={"first_submit_days": 5, "day_type": "working"}))
        # a later version does not re-judge a case decided before it
        db.session.add(RuleSetting(code="T01", effective_from=D(2026, 10, 2), unit_id=office.unit.id,
                                   params={"first_submit_days": 2, "day_type": "calendar"}))
        db.session.commit()
    case, _ = make_case(office, decided)
    row = node(case)
    assert (row.days, row.day_type, row.due_date) == (5, "working", D(2026, 10, 13))
    assert row.setting_id is not None
    assert db.session.get(RuleSetting, row.setting_id).effective_from == D(2026, 1, 1)


def test_a_wrong_day_type_is_refused_in_chinese(ctx):
    errors = setting_problems(RuleSetting(code="T02", effective_from=D(2026, 1, 1), params={"day_type": "weekly"}))
    assert any("天数计算方式" in e and "工作日" in e for e in errors)
    assert not any("day_type" in e for e in errors)  # the label, not the key


# ---- the scan -----------------------------------------------------------------------------------------

def test_a_case_decided_six_days_ago_is_flagged_once(office):
    case, _ = make_case(office, TODAY - dt.timedelta(days=6))
    first = scan()
    row = node(case)
    assert (row.status, row.days_late, row.due_date) == ("逾期", 1, TODAY - dt.timedelta(days=1))
    assert db.session.get(Case, case.id).light == "红"
    [alarm] = deadline_alarms(case)
    assert alarm.codes == "T01" and alarm.status == "已报警" and alarm.run_id is None
    assert alarm.unit_id == office.unit.id and "初次提交" in alarm.message
    clerk_notes, sup_notes = inbox(office.clerk, case), inbox(office.sup, case)
    assert [m.kind for m in clerk_notes] == ["逾期通知"] and [m.kind for m in sup_notes] == ["逾期通知"]
    assert clerk_notes[0].link == f"/cases/show/{case.id}" and "已逾期 1 天" in clerk_notes[0].body
    assert first.flagged >= 1 and first.sent >= 2
    # everything again, and again the same day: nothing new
    for _ in range(2):
        scan()
        assert len(deadline_alarms(case)) == 1
        assert len(inbox(office.clerk, case)) == 1 and len(inbox(office.sup, case)) == 1
    # nobody else is told: not the root's supervisor, not another unit
    recipients = set(db.session.execute(select(Message.recipient_id).where(Message.case_id == case.id)).scalars())
    assert recipients == {office.clerk.id, office.sup.id}


def test_second_scan_reports_zero_new(office):
    make_case(office, TODAY - dt.timedelta(days=7))
    scan()
    again = scan()
    assert again.flagged == 0 and again.sent == 0 and again.updated == 0


def test_reminder_before_the_due_date_goes_to_the_clerk_only(office):
    case, _ = make_case(office, TODAY - dt.timedelta(days=4))  # due tomorrow
    scan()
    assert [m.kind for m in inbox(office.clerk, case)] == ["到期提醒"]
    assert inbox(office.sup, case) == []
    assert node(case).status == "未到期" and db.session.get(Case, case.id).light != "红"
    scan()
    assert len(inbox(office.clerk, case)) == 1
    # two days later it is late: the scan moves it, turns the case red, and tells both
    other, _ = make_case(office, TODAY - dt.timedelta(days=6))
    derived_on(other, TODAY - dt.timedelta(days=2))  # due the day after that
    assert node(other).status == "未到期" and db.session.get(Case, other.id).light != "红"
    later = scan()
    assert later.updated >= 1 and later.red >= 1 and later.flagged >= 1
    assert node(other).status == "逾期" and db.session.get(Case, other.id).light == "红"
    assert [m.kind for m in inbox(office.clerk, other)] == ["逾期通知"]
    assert [m.kind for m in inbox(office.sup, other)] == ["逾期通知"]


def test_long_unreported_is_escalated_to_missing(office):
    case, _ = make_case(office, TODAY - dt.timedelta(days=46))
    derived_on(case, TODAY - dt.timedelta(days=40))
    scan(TODAY - dt.timedelta(days=40))  # only read: what that day would have given
    assert node(case).status == "逾期" and inbox(office.sup, case) == []
    late = scan()
    row = node(case)
    assert (row.status, row.days_late) == ("未报", 41)
    assert late.by_kind.get("未报通知", 0) >= 2
    assert sorted(m.kind for m in inbox(office.sup, case)) == ["未报通知", "逾期通知"]
    assert len(deadline_alarms(case)) == 1  # the same late node: one alarm
    scan()
    assert len(inbox(office.sup, case)) == 2


def test_a_scan_as_of_an_earlier_day_only_reads(office):
    case, _ = make_case(office, TODAY - dt.timedelta(days=6))
    scan()
    earlier = scan(TODAY - dt.timedelta(days=3))
    assert earlier.written is False and earlier.updated >= 1  # that day the node was not due yet…
    assert node(case).status == "逾期"  # …and today it is late, as stored


def test_late_submission_closes_the_deadline_alarm_and_is_recorded_late(office):
    case, _ = make_case(office, TODAY - dt.timedelta(days=8))
    scan()
    [alarm] = deadline_alarms(case)
    submit_first(office, case)
    row = node(case)
    assert (row.status, row.days_late, row.submitted_on) == ("逾期", 3, TODAY)
    db.session.refresh(alarm)
    assert alarm.status == "已关闭" and alarm.closed_at is not None
    assert "逾期 3 天" in alarm.events[-1].reason
    assert read_case(case)["submission"]["first_submit_status"] == "逾期提交"
    # reported: no more overdue notices for it
    before = len(inbox(office.sup, case))
    scan(TODAY + dt.timedelta(days=40))
    assert len(inbox(office.sup, case)) == before and node(case).status == "逾期"


def test_on_time_submission(office):
    case, _ = make_case(office, TODAY - dt.timedelta(days=1))
    submit_first(office, case)
    row = node(case)
    assert (row.status, row.days_late) == ("按时", 0)
    assert read_case(case)["submission"]["first_submit_status"] == "按时提交"
    scan(TODAY + dt.timedelta(days=30))
    assert node(case).status == "按时" and deadline_alarms(case) == []


def test_a_corrected_version_keeps_the_deadline(office):
    case, _ = make_case(office, TODAY - dt.timedelta(days=1))
    submit_first(office, case)
    with acting_as(office.sup, "cli"):
        new = wf.return_for_correction(case, office.sup, "请补充考察材料")
    row = node(new)
    assert row.case_id == new.id and row.status == "按时" and row.submitted_on == TODAY


def test_moving_the_decision_later_closes_the_alarm(office):
    case, _ = make_case(office, TODAY - dt.timedelta(days=6))
    scan()
    [alarm] = deadline_alarms(case)
    values = values_decided_on(office.unit, TODAY - dt.timedelta(days=1))
    with acting_as(office.clerk, "cli"):
        cases.save_module(case, "decision", values["decision"])
    db.session.refresh(alarm)
    assert alarm.status == "已关闭" and "重新计算" in alarm.events[-1].reason
    assert node(case).status == "未到期"


def test_a_disabled_rule_sets_no_deadline(office):
    with acting_as("测试", "cli"):
        db.session.add(RuleSetting(code="T01", effective_from=D(2000, 1, 1), unit_id=office.unit.id, enabled=False))
        db.session.commit()
    case, _ = make_case(office, TODAY - dt.timedelta(days=6))
    assert node(case) is None
    scan()
    assert inbox(office.clerk, case) == []


# ---- routes ------------------------------------------------------------------------------------------

def test_notices_go_to_the_nearest_supervising_department(app, office):
    sm = app.appbuilder.sm
    with acting_as("测试夹具", "cli"):
        inactive = make_user(sm, unique("old").lower(), ["填报员"], office.unit.id)
        inactive.active = False
        db.session.commit()
    routes = deadlines.routes([office.unit.id])
    assert (office.unit.id, office.clerk.id, "填报员") in routes
    assert (office.unit.id, office.sup.id, "监督员") in routes
    assert all(user != inactive.id for _, user, _ in routes)
    # the root's supervisor is further up: not told while the district has its own
    sups = {user for _, user, role in routes if role == "监督员"}
    assert sups == {office.sup.id}


# ---- task runs, celery and the CLI ---------------------------------------------------------------------

def test_scan_task_records_its_run(app, office):
    from app.tasks.deadlines import deadlines_scan

    make_case(office, TODAY - dt.timedelta(days=6))
    result = deadlines_scan.delay().get()
    run = db.session.get(TaskRun, result["task_run"])
    assert run.status == RUN_OK and run.task == "deadlines_scan" and run.finished_at is not None
    assert run.counts["flagged"] == result["flagged"] and run.counts["sent"] == result["sent"] >= 2


def test_a_stuck_run_is_marked_failed_by_the_next(app, ctx):
    from app.tasks.deadlines import run_scan

    with acting_as("测试", "cli"):
        stuck = TaskRun(task="deadlines_scan", status=RUN_RUNNING,
                        started_at=dt.datetime.utcnow() - dt.timedelta(hours=3))
        db.session.add(stuck)
        db.session.commit()
        run_scan()
    db.session.refresh(stuck)
    assert stuck.status == RUN_FAILED and "超时" in stuck.error and stuck.finished_at is not None


def test_a_failing_scan_is_recorded_and_writes_nothing(app, office, monkeypatch):
    from app.tasks.deadlines import run_scan

    case, _ = make_case(office, TODAY - dt.timedelta(days=6))

    def broken(unit_ids):
        raise RuntimeError("网关故障")

    monkeypatch.setattr(deadlines, "routes", broken)
    with acting_as("测试", "cli"), pytest.raises(RuntimeError):
        run_scan()
    run = db.session.execute(select(TaskRun).order_by(TaskRun.id.desc()).limit(1)).scalar_one()
    assert run.status == RUN_FAILED and "网关故障" in run.error
    assert deadline_alarms(case) == [] and inbox(office.clerk, case) == []  # one transaction: all or nothing
    monkeypatch.undo()
    with acting_as("测试", "cli"):
        run_scan()
    assert len(deadline_alarms(case)) == 1 and len(inbox(office.clerk, case)) == 1


def test_cli_scan_json(app, office):
    case, _ = make_case(office, TODAY - dt.timedelta(days=6))
    as_of = (TODAY + dt.timedelta(days=1)).isoformat()
    out = app.test_cli_runner().invoke(args=["deadlines", "scan", "--as-of", as_of, "--json"])
    assert out.exit_code == 0, out.output
    data = json.loads(out.output)
    assert data["as_of"] == as_of and data["flagged"] >= 1 and data["sent"] >= 2 and data["written"] is False
    assert len(inbox(office.sup, case)) == 0  # another day: only read
    data = json.loads(app.test_cli_runner().invoke(args=["deadlines", "scan", "--json"]).output)
    assert data["written"] is True and data["flagged"] >= 1 and data["sent"] >= 2
    assert len(inbox(office.sup, case)) == 1
    again = json.loads(app.test_cli_runner().invoke(args=["deadlines", "scan", "--json"]).output)
    assert again["flagged"] == 0 and again["sent"] == 0


def test_cli_scan_bad_date(app, ctx):
    out = app.test_cli_runner().invoke(args=["deadlines", "scan", "--as-of", "2026-13-01"])
    assert out.exit_code != 0 and "YYYY-MM-DD" in out.output


def test_cli_list(app, office):
    case, _ = make_case(office, TODAY - dt.timedelta(days=6))
    out = app.test_cli_runner().invoke(args=["deadlines", "list", "--status", "逾期", "--json"])
    rows = [r for r in json.loads(out.output) if r["case_no"] == case.case_no]
    assert rows and rows[0]["status"] == "逾期" and rows[0]["days_late"] == 1
