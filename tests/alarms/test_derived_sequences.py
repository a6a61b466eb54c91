"""Generated operation sequences (Hypothesis ``RuleBasedStateMachine``): random sequences of the
write paths — form/service save, REST save, import, ``cases update``, sign and submit, halt,
correction, dismiss, patrol review, a rule-setting change, a calendar change, today's scan and
scans ``--as-of`` other days — applied to a handful of cases of one unit. After every step the
stored derived state of those cases equals a fresh derivation, and no ``--as-of`` step changed
anything. Bounded (examples × steps) to stay within CI's time on SQLite and PostgreSQL."""
from __future__ import annotations

import datetime as dt
import json

from hypothesis import HealthCheck, settings, strategies as st
from hypothesis.stateful import (
    Bundle, RuleBasedStateMachine, initialize, invariant, multiple, rule, run_state_machine_as_test,
)
from sqlalchemy import delete, func, select

from app.audit import acting_as
from app.extensions import db
from app.models import Alarm, Case, CaseDeadline, EvaluationRun, Message, RuleSetting
from app.models.rules import CalendarDay
from app.scoping import Scope
from app.workflow import submission as wf
from app.workflow import cases
from app.alarms import derived
from app.record.data import CaseError, to_exchange
from app.workflow.exchange import ImportFailed, import_cases
from tests.factories import (
    CONTENT, login, office_rows, save_case, submit_first, values_decided_on,
)

TODAY = dt.date.today()
SETTINGS = settings(max_examples=6, stateful_step_count=10, deadline=None, derandomize=True, database=None,
                    suppress_health_check=list(HealthCheck))
CTX: dict = {}  # the test's app and folder; each example's own office and client


def _mine() -> list[Case]:
    return db.session.execute(select(Case).where(Case.unit_id == CTX["office"].unit.id, Case.is_current.is_(True))
                              .order_by(Case.id)).scalars().all()


def _snapshot():
    unit_id = CTX["office"].unit.id
    return (db.session.execute(select(CaseDeadline.id, CaseDeadline.status, CaseDeadline.days_late)
                               .order_by(CaseDeadline.id)).all(),
            db.session.execute(select(Alarm.id, Alarm.status).where(Alarm.unit_id == unit_id)).all(),
            db.session.execute(select(func.count(Message.id))).scalar(),
            db.session.execute(select(Case.id, Case.light).where(Case.unit_id == unit_id)).all(),
            db.session.execute(select(func.count(EvaluationRun.id))).scalar())


class Sequences(RuleBasedStateMachine):
    cases = Bundle("cases")

    @initialize()
    def start(self):
        db.session.expire_all()
        CTX["office"] = office_rows(CTX["app"], CTX["world"], "sq")  # a 组织部 and unit of its own
        CTX["client"] = login(CTX["app"].test_client(), CTX["office"].clerk.username)

    # ---- writes of facts ------------------------------------------------------------------------

    @rule(target=cases, days=st.integers(0, 9), complete=st.booleans())
    def form_save(self, days, complete):
        o = CTX["office"]
        case, _ = save_case(o.unit, o.clerk, TODAY - dt.timedelta(days=days), complete=complete)
        return case.id

    @rule(target=cases, days=st.integers(0, 9))
    def import_one(self, days):
        o = CTX["office"]
        data = {k: v for k, v in to_exchange(values_decided_on(o.unit, TODAY - dt.timedelta(days=days))).items()
                if k in CONTENT}
        data["motion"].pop("case_no", None)
        try:
            with acting_as(o.clerk, "cli"):
                [case_id] = import_cases(data, Scope("all"), o.clerk)
        except ImportFailed as exc:
            # `cases update` may have changed that meeting's data: a file disagreeing with the meeting
            # already recorded is refused whole, and nothing of it is written.
            db.session.rollback()
            assert exc.problems and all("同一会议批次" in p["message"] for p in exc.problems), exc.problems
            return multiple()
        return case_id

    @rule(case_id=cases, days=st.integers(0, 12))
    def rest_save(self, case_id, days):
        decided = (TODAY - dt.timedelta(days=days)).isoformat()
        case = db.session.get(Case, case_id)
        if not case.is_current:
            return
        CTX["client"].put(f"/api/v1/case/{case_id}/module/decision", json={"decision_date": decided})

    @rule(case_id=cases, present=st.sampled_from([7, 10]))
    def cli_update(self, case_id, present):
        case = db.session.get(Case, case_id)
        current = db.session.execute(select(Case.id).where(Case.root_id == case.root_id,
                                                           Case.is_current.is_(True))).scalar()
        path = CTX["tmp"] / "update.json"
        path.write_text(json.dumps({"decision": {"members_present": present, "votes_for": present}}), "utf-8")
        CTX["app"].test_cli_runner().invoke(args=["cases", "update", str(current), str(path)])

    @rule(case_id=cases)
    def sign_and_submit(self, case_id):
        case = self._current(case_id)
        if case.status != "草稿":
            return
        try:
            with acting_as(CTX["office"].clerk, "cli"):
                for key in CONTENT:
                    cases.save_module(case, key, {}, handler="经办人", leader="领导")
                    cases.complete_module(case, key)
            submit_first(CTX["office"], case)
        except CaseError:
            db.session.rollback()

    @rule(case_id=cases)
    def correct(self, case_id):
        case, o = self._current(case_id), CTX["office"]
        if case.status in ("已初次提交", "已二次提交"):
            with acting_as(o.sup, "cli"):
                wf.return_for_correction(case, o.sup, "请补充材料")

    @rule(case_id=cases)
    def halt(self, case_id):
        from app.supervision.alarm_actions import halt

        from app.supervision.alarm_actions import AlarmError

        alarm = self._open_alarm(case_id)
        if alarm is not None:
            try:  # refused (a deadline alarm of a draft, a superseded version): nothing written
                with acting_as(CTX["office"].sup, "cli"):
                    halt(alarm, CTX["office"].sup, "叫停", TODAY + dt.timedelta(days=5))
            except AlarmError:
                db.session.rollback()

    @rule(case_id=cases)
    def dismiss(self, case_id):
        from app.supervision.alarm_actions import dismiss

        alarm = self._open_alarm(case_id)
        if alarm is not None:
            with acting_as(CTX["office"].sup, "cli"):
                dismiss(alarm, CTX["office"].sup, "经批准")

    @rule(case_id=cases, result=st.sampled_from(["通过", "黄灯提示", "红灯预警"]))
    def patrol_review(self, case_id, result):
        from app.supervision import patrol

        case = self._current(case_id)
        if case.status in ("已初次提交", "已二次提交"):
            with acting_as(CTX["office"].sup, "cli"):
                patrol.review(case, CTX["office"].sup, result, "巡查意见")

    # ---- inputs ------------------------------------------------------------------------------------

    @rule(days=st.sampled_from([3, 5, 8]), enabled=st.booleans())
    def rule_setting(self, days, enabled):
        with acting_as("测试", "cli"):
            db.session.add(RuleSetting(code="T01", effective_from=dt.date(2000, 1, 1), unit_id=CTX["office"].unit.id,
                                       enabled=enabled, params={"first_submit_days": days, "day_type": "working"}))
            db.session.commit()

    @rule(back=st.integers(1, 10))
    def calendar_day(self, back):
        day = TODAY - dt.timedelta(days=back)
        with acting_as("测试", "cli"):
            row = db.session.execute(select(CalendarDay).where(CalendarDay.day == day)).scalar_one_or_none()
            if row is None:
                db.session.add(CalendarDay(day=day, working=day.weekday() >= 5, name="测试调整", source="admin"))
                CTX["days"].append(day)
            else:
                row.working = not row.working
            db.session.commit()

    # ---- scans --------------------------------------------------------------------------------------

    @rule()
    def scan_today(self):
        out = CTX["app"].test_cli_runner().invoke(args=["deadlines", "scan", "--json"])
        assert out.exit_code == 0, out.output

    @rule(offset=st.integers(-60, 60).filter(lambda n: n != 0), daily=st.booleans())
    def scan_as_of(self, offset, daily):
        before = _snapshot()
        day = (TODAY + dt.timedelta(days=offset)).isoformat()
        args = ["rules", "daily", "--as-of", day] if daily else ["deadlines", "scan", "--as-of", day]
        out = CTX["app"].test_cli_runner().invoke(args=args + ["--json"])
        assert out.exit_code == 0, out.output
        db.session.expire_all()
        assert _snapshot() == before, f"{' '.join(args)} wrote"

    # ---- the invariant -------------------------------------------------------------------------------

    @invariant()
    def stored_equals_fresh(self):
        db.session.expire_all()
        found = []
        with db.session.no_autoflush:
            for case in _mine():
                found += derived.case_differences(case)
        db.session.rollback()
        assert found == []

    # ---- helpers -------------------------------------------------------------------------------------

    def _current(self, case_id) -> Case:
        root = db.session.get(Case, case_id).root_id
        return db.session.execute(select(Case).where(Case.root_id == root, Case.is_current.is_(True))).scalar_one()

    def _open_alarm(self, case_id):
        root = db.session.get(Case, case_id).root_id
        return db.session.execute(select(Alarm).where(Alarm.root_id == root, Alarm.status == "已报警",
                                                      Alarm.case_id.is_not(None)).limit(1)).scalar()


def test_generated_sequences_keep_one_truth(app, world, ctx, tmp_path):
    CTX.update(app=app, world=world, tmp=tmp_path, days=[])
    try:
        run_state_machine_as_test(Sequences, settings=SETTINGS)
    finally:
        db.session.rollback()
        with acting_as("测试", "cli"):  # the calendar is shared: put it back (the open cases follow)
            if CTX["days"]:
                db.session.execute(delete(CalendarDay).where(CalendarDay.day.in_(CTX["days"]),
                                                             CalendarDay.name == "测试调整"))
                db.session.commit()
                from app.tasks.rules import run_rederive

                run_rederive("测试日历复原")
        CTX.clear()
