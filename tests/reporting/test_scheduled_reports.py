"""Scheduled statistics reports: periods and the schedule, the statistics (the C.1 table of
app.queries, the same computation as the statistics page) checked against counts made independently
over the ORM objects, the workbook, one file and one notice per supervisor whatever is re-run, the scoped download, the
admin-only schedule page with its 立即生成 button, and the CLI.

The module builds its own organisation subtree (a top unit with two branches), so the figures it
checks are its own:

    top (sup_top) ─┬─ s1 (sup_s1, sup_s1b, clerk_s1, query_s1) ── s11
                   └─ s2 (only an inactive supervisor)
"""
from __future__ import annotations

import datetime as dt
import hashlib
import io
import json
from collections import Counter
from pathlib import Path
from types import SimpleNamespace

import pytest
from openpyxl import load_workbook
from sqlalchemy import func, select

from app.audit import acting_as
from app.extensions import db
from app.models import Alarm, AppUser, AuditLog, Batch, Case, CaseDeadline, Message, ReportFile, TaskRun, Unit
from app.models.case import STATUS_FIRST
from app.models.deadlines import ReportSchedule
from app.queries.columns import COLUMNS, GRADES, METHODS, SELECTION_TYPES
from app.reporting.statistics import statistics_table
from app.workflow import submission as case_workflow
from app.workflow import guard
from app.workflow import cases
from app.reporting import scheduled as sr
from tests.factories import PASSWORD, login, make_unit, make_user, planted, unique

D = dt.date
JULY = (D(2024, 7, 1), D(2024, 7, 31))
Q3 = (D(2024, 7, 1), D(2024, 9, 30))


# ---- periods and the schedule (no database) ---------------------------------------------------------

@pytest.mark.parametrize("kind, today, expected", [
    ("monthly", D(2025, 1, 15), (D(2024, 12, 1), D(2024, 12, 31))),  # January → the previous December
    ("monthly", D(2025, 1, 1), (D(2024, 12, 1), D(2024, 12, 31))),
    ("monthly", D(2024, 3, 1), (D(2024, 2, 1), D(2024, 2, 29))),     # leap year
    ("monthly", D(2024, 12, 31), (D(2024, 11, 1), D(2024, 11, 30))),
    ("quarterly", D(2025, 1, 1), (D(2024, 10, 1), D(2024, 12, 31))),  # first day of a quarter
    ("quarterly", D(2025, 3, 31), (D(2024, 10, 1), D(2024, 12, 31))),  # last day of a quarter
    ("quarterly", D(2025, 4, 1), (D(2025, 1, 1), D(2025, 3, 31))),
    ("quarterly", D(2025, 7, 15), (D(2025, 4, 1), D(2025, 6, 30))),
    ("quarterly", D(2025, 10, 1), (D(2025, 7, 1), D(2025, 9, 30))),
])
def test_period_for_is_the_last_complete_period(kind, today, expected):
    assert sr.period_for(kind, today) == expected


def test_period_containing_and_bad_kinds():
    assert sr.period_containing("monthly", D(2024, 2, 1)) == (D(2024, 2, 1), D(2024, 2, 29))
    assert sr.period_containing("monthly", D(2024, 12, 1)) == (D(2024, 12, 1), D(2024, 12, 31))
    assert sr.period_containing("quarterly", D(2024, 10, 1)) == (D(2024, 10, 1), D(2024, 12, 31))
    with pytest.raises(ValueError, match="1 日"):
        sr.period_containing("monthly", D(2024, 2, 2))
    with pytest.raises(ValueError, match="季度首日"):
        sr.period_containing("quarterly", D(2024, 2, 1))
    with pytest.raises(ValueError, match="monthly"):
        sr.period_for("weekly", D(2024, 2, 1))


def test_due_respects_day_hour_and_enabled():
    monthly = ReportSchedule(kind="monthly", enabled=True, day=3, hour=6)
    # July's report: due on 3 August (the 3rd day after 31 July) from 06:00
    assert not sr.due(monthly, dt.datetime(2024, 8, 2, 23, 59))
    assert not sr.due(monthly, dt.datetime(2024, 8, 3, 5, 59))
    assert sr.due(monthly, dt.datetime(2024, 8, 3, 6, 0))
    assert sr.due(monthly, dt.datetime(2024, 8, 31, 23, 0))
    monthly.enabled = False
    assert not sr.due(monthly, dt.datetime(2024, 8, 31, 23, 0))
    quarterly = ReportSchedule(kind="quarterly", enabled=True, day=1, hour=0)
    assert sr.due(quarterly, dt.datetime(2024, 10, 1, 0, 0))  # Q3's report, the first minute it may be made
    assert sr.due_at(quarterly, dt.datetime(2024, 12, 31, 12, 0)) == dt.datetime(2024, 10, 1, 0, 0)


# ---- the organisation, its cases and reports ----------------------------------------------------------

@pytest.fixture(scope="module")
def reports_folder(app, tmp_path_factory):
    old = app.config["REPORTS_FOLDER"]
    app.config["REPORTS_FOLDER"] = str(tmp_path_factory.mktemp("reports"))
    yield Path(app.config["REPORTS_FOLDER"])
    app.config["REPORTS_FOLDER"] = old


def _new_case(unit_id, decided=None, meeting="党委常委会", **motion) -> int:
    case = cases.create_case(db.session.get(Unit, unit_id))
    if motion:
        cases.save_module(case, "motion", motion)
    if decided:
        cases.save_module(case, "decision", {"decision_date": decided, "decision_meeting_type": meeting})
    return case.id


def _user(username) -> AppUser:
    return db.session.execute(select(AppUser).where(AppUser.username == username)).scalar_one()


@pytest.fixture(scope="module")
def org(app, world, reports_folder):
    tag = unique("rp")
    sm = app.appbuilder.sm
    with app.app_context(), acting_as("测试夹具", "cli"):
        top = make_unit(f"{tag}-TOP", f"报表组织部{tag}", None, level="市", unit_type="组织部")
        s1 = make_unit(f"{tag}-S1", f"报表甲单位{tag}", top)
        s11 = make_unit(f"{tag}-S11", f"报表甲下属{tag}", s1, level="事业单位")
        s2 = make_unit(f"{tag}-S2", f"报表乙单位{tag}", top)
        db.session.add_all([top, s1, s11, s2])
        db.session.flush()
        units = {"top": top.id, "s1": s1.id, "s11": s11.id, "s2": s2.id}
        names = {"top": top.name, "s1": s1.name, "s11": s11.name, "s2": s2.name}
        users = {}
        for key, role, unit in [("sup_top", "监督员", top), ("sup_s1", "监督员", s1), ("sup_s1b", "监督员", s1),
                                ("sup_off", "监督员", s2), ("clerk_s1", "填报员", s1), ("query_s1", "查询员", s1)]:
            users[key] = make_user(sm, f"{key}_{tag}".lower(), [role], unit.id).username
        _user(users["sup_off"]).active = False
        db.session.commit()

        # Cases: (unit, decision date, meeting, motion values)
        c = {}
        c["p1"] = _new_case(units["s1"], D(2024, 7, 5), selection_type="提拔", selection_method="组织选拔",
                            target_grade="县处级副职")
        c["p2"] = _new_case(units["s1"], D(2024, 7, 5), selection_type="提拔", selection_method="竞争上岗",
                            target_grade="乡科级正职")  # same meeting: same batch
        c["u3"] = _new_case(units["s11"], D(2024, 7, 20), selection_type="进一步使用", selection_method="组织选拔",
                            target_grade="县处级正职")
        c["t4"] = _new_case(units["top"], D(2024, 7, 31), selection_type="平级交流/转任", target_grade="厅局级副职")
        c["b5"] = _new_case(units["s2"], D(2024, 8, 2), selection_type="提拔", selection_method="公开选拔",
                            target_grade="乡科级副职")  # after July, inside Q3
        c["o6"] = _new_case(units["s1"], D(2024, 6, 30), selection_type="免职")  # before both periods
        c["d7"] = _new_case(units["s1"], None, selection_type="提拔")  # not decided: never counted

        # u3 was submitted and returned for correction: version 2 is current, version 1 is not
        case = db.session.get(Case, c["u3"])
        with guard.workflow_write():
            case.status = STATUS_FIRST
            db.session.commit()
        c["u3"] = case_workflow.return_for_correction(case, _user(users["sup_top"]), "请补正考察材料").id

        # p1's first report was made on time (the others are past due and unreported)
        root = db.session.get(Case, c["p1"]).root_id
        row = db.session.execute(select(CaseDeadline).where(CaseDeadline.root_id == root,
                                                            CaseDeadline.node == 1)).scalar_one()
        row.status, row.submitted_on, row.days_late = "按时", row.due_date, 0
        db.session.get(Case, c["p2"]).light = "红"
        db.session.get(Case, c["t4"]).light = "绿"
        planted(*(db.session.get(Case, c[k]).case_no for k in ("p1", "p2", "t4")))
        # alarms: one in July (s11), one in August (s2), one in June (s1)
        for key, unit_key, raised in [("u3", "s11", dt.datetime(2024, 7, 10, 9)),
                                      ("b5", "s2", dt.datetime(2024, 8, 15, 9)),
                                      ("o6", "s1", dt.datetime(2024, 6, 1, 9))]:
            db.session.add(Alarm(case_id=c[key], root_id=db.session.get(Case, c[key]).root_id, unit_id=units[unit_key],
                                 point="D", codes="T01", message="测试报警", raised_at=raised))
        db.session.commit()
    return SimpleNamespace(units=units, names=names, users=users, cases=c, tag=tag)


def _subtree(unit_id) -> list[int]:
    path = db.session.get(Unit, unit_id).path
    return list(db.session.execute(select(Unit.id).where(Unit.path.startswith(path))).scalars())


# The C.1 columns checked here, each counted again below without the statistics SQL.
KEYS = ("people", "batches", *(f"type_{i}" for i in range(len(SELECTION_TYPES))),
        *(f"grade_{i}" for i in range(len(GRADES))), *(f"method_{i}" for i in range(len(METHODS))),
        "red", "yellow", "returned", "due1", "ontime1", "late1", "missing1")
LABELS = {c.key: c.label for c in COLUMNS}


def expected_counts(unit_id, start, end, subtree=True) -> dict:
    """The same figures, counted over ORM objects in Python (no GROUP BY, no column conditions)."""
    units = _subtree(unit_id) if subtree else [unit_id]
    rows = db.session.execute(
        select(Case).join(Batch, Batch.id == Case.batch_id)
        .where(Case.is_current.is_(True), Case.unit_id.in_(units), Batch.decision_date >= start,
               Batch.decision_date <= end)).scalars().all()
    out = dict.fromkeys(KEYS, 0)
    out["people"], out["batches"] = len(rows), len({c.batch_id for c in rows})
    types = Counter(c.module_row("motion").selection_type for c in rows)
    methods = Counter(c.module_row("motion").selection_method for c in rows)
    grades = Counter(c.module_row("motion").target_grade for c in rows)
    out.update({f"type_{i}": types[t] for i, t in enumerate(SELECTION_TYPES)})
    out.update({f"method_{i}": methods[m] for i, m in enumerate(METHODS)})
    out.update({f"grade_{i}": grades[g] for i, g in enumerate(GRADES)})
    out["red"] = sum(c.light == "红" for c in rows)
    out["yellow"] = sum(c.light == "黄" for c in rows)
    out["returned"] = sum(c.version_no > 1 for c in rows)
    statuses = Counter(db.session.execute(select(CaseDeadline.status).where(
        CaseDeadline.root_id == c.root_id, CaseDeadline.node == 1)).scalar() for c in rows)
    out["due1"] = statuses["按时"] + statuses["逾期"] + statuses["未报"]
    out["ontime1"], out["late1"], out["missing1"] = statuses["按时"], statuses["逾期"], statuses["未报"]
    return out


def _pick(values: dict) -> dict:
    return {k: values[k] for k in KEYS}


def test_statistics_match_independent_counts(app, org):
    with app.app_context():
        top = db.session.get(Unit, org.units["top"])
        table = statistics_table(top, *JULY)
        rows = [(r.kind, r.depth, r.unit_id) for r in table.rows]
        # 本级, s1 (its subtree, then its own cases and s11 below it), s2
        assert rows == [("self", 0, org.units["top"]), ("unit", 1, org.units["s1"]), ("self", 2, org.units["s1"]),
                        ("unit", 2, org.units["s11"]), ("unit", 1, org.units["s2"])]
        for row in table.rows:
            assert _pick(row.values) == expected_counts(row.unit_id, *JULY, subtree=row.subtree), row.label
        assert _pick(table.total.values) == expected_counts(org.units["top"], *JULY)
        total = table.total.values
        # the data is what this module made: 4 people at 3 meetings in July, 2 of them 提拔
        assert (total["people"], total["batches"], total["type_0"]) == (4, 3, 2)
        assert SELECTION_TYPES[0] == "提拔" and GRADES[2] == "县处级正职"
        assert total["returned"] == 1 and total["ontime1"] == 1 and total["due1"] == 4
        assert table.rows[2].values["people"] == 2 and table.rows[1].values["people"] == 3  # s1: own 2, subtree 3
        # 同比: July 2023 had nothing
        assert table.total.previous["people"] == 0
        # the quarter holds the August case too; an empty unit has zeros
        q3 = statistics_table(top, *Q3)
        assert _pick(q3.total.values) == expected_counts(org.units["top"], *Q3)
        assert q3.total.values["people"] == 5
        empty = statistics_table(db.session.get(Unit, org.units["s2"]), *JULY)
        assert set(empty.total.values.values()) == {0}


def _sheet(data_or_path):
    data = data_or_path if isinstance(data_or_path, bytes) else Path(data_or_path).read_bytes()
    wb = load_workbook(io.BytesIO(data))
    return wb.active


def _columns(ws) -> dict:
    """Column label → index, from the second header row (row 4)."""
    heads = [c.value for c in ws[4]]
    assert len({h for h in heads if h}) == len([h for h in heads if h]), "column labels are unique"
    return {h: i for i, h in enumerate(heads) if h}


def _row_values(ws, first, second=None):
    """The checked columns of the row whose first cells are (first, second)."""
    cols = _columns(ws)
    for row in ws.iter_rows(min_row=5, values_only=True):
        if row[0] == first and (second is None or row[1] == second):
            return {k: row[cols[LABELS[k]]] for k in KEYS}
    raise AssertionError(f"no row {first!r} {second!r}")


def _report(kind, period, unit_id):
    return db.session.execute(select(ReportFile).where(
        ReportFile.kind == kind, ReportFile.period_start == period[0], ReportFile.period_end == period[1],
        ReportFile.unit_id == unit_id)).scalar_one_or_none()


def _messages(report_id):
    return db.session.execute(select(Message).where(Message.dedup_key == f"report:{report_id}")).scalars().all()


@pytest.fixture(scope="module")
def july(app, org):
    """The July reports, generated once for the module (as the task does: as the system)."""
    with app.app_context(), acting_as("系统任务", "task"):
        return sr.generate("monthly", JULY[0], triggered_by="测试")


def test_generate_makes_one_file_per_supervising_unit(app, org, july, reports_folder):
    assert july["created"] >= 2 and july["period_start"] == "2024-07-01" and july["period_end"] == "2024-07-31"
    with app.app_context():
        run = db.session.get(TaskRun, july["task_run"])
        assert run.status == "成功" and run.counts["created"] == july["created"] and run.triggered_by == "测试"
        top, s1 = _report("monthly", JULY, org.units["top"]), _report("monthly", JULY, org.units["s1"])
        assert top is not None and s1 is not None
        # s2 has only an inactive supervisor, s11 none: no report for them
        assert _report("monthly", JULY, org.units["s2"]) is None
        assert _report("monthly", JULY, org.units["s11"]) is None
        # stored under a random name with its size and hash; the Chinese name is only for download
        path = reports_folder / top.storage_key
        data = path.read_bytes()
        assert len(top.storage_key) == 32 and top.storage_key.isalnum()
        assert top.size == len(data) and top.sha256 == hashlib.sha256(data).hexdigest()
        assert top.filename == f"{org.names['top']}-2024年7月选人用人工作统计月报.xlsx"
        ws = _sheet(path)
        text = [c for row in ws.iter_rows(values_only=True) for c in row if c is not None]
        assert ws["A1"].value == "干部选拔任用工作统计月报（2024年7月）"
        assert any(str(c).startswith("证据链头：") for c in text)  # the evidence chain head, outside the system
        meta = ws["A2"].value
        assert "统计期间：2024-07-01 至 2024-07-31" in meta and "制表日期：" in meta and org.names["top"] in meta
        for header in ("单位", "明细", "总量", "调整干部总人数", "研究干部批次", "任用类型", "提拔", "职务层次", "县处级副职",
                       "报警与整改", "红灯", "纪实报送", "退回补正件数", "初次按时", "初次未报", "及时率（%）",
                       "初次及时率", "同比", "去年同期人数", "同比增减（%）"):
            assert header in text, header
        merged = {str(r) for r in ws.merged_cells.ranges}
        assert {"A3:A4", "B3:B4"} <= merged  # 单位 and 明细 span both header rows
        assert _row_values(ws, org.names["top"], "本级") == expected_counts(org.units["top"], *JULY, subtree=False)
        assert _row_values(ws, "合计") == expected_counts(org.units["top"], *JULY)
        assert _row_values(ws, org.names["s1"]) == expected_counts(org.units["s1"], *JULY)
        assert _row_values(ws, None, "　　" + org.names["s11"]) == expected_counts(org.units["s11"], *JULY)
        # s1's name is merged down over its 小计, its 本级 and s11 (rows 6–8)
        assert [ws.cell(r, 2).value for r in (6, 7, 8)] == ["小计（含下级）", "　　本级", "　　" + org.names["s11"]]
        assert "A6:A8" in merged
        # the s1 workbook covers s1's subtree only
        ws1 = _sheet(reports_folder / s1.storage_key)
        names = [(row[0], row[1]) for row in ws1.iter_rows(min_row=5, values_only=True) if row[0] or row[1]]
        assert names[:3] == [(org.names["s1"], "本级"), (org.names["s11"], None), ("合计", None)]


def test_each_supervisor_gets_exactly_one_message(app, org, july):
    with app.app_context():
        top, s1 = _report("monthly", JULY, org.units["top"]), _report("monthly", JULY, org.units["s1"])
        got = {(m.recipient_id, m.kind, m.link) for m in _messages(top.id)}
        assert got == {(_user(org.users["sup_top"]).id, "统计报表", f"/reports/file/{top.id}")}
        s1_recipients = sorted(m.recipient_id for m in _messages(s1.id))
        assert s1_recipients == sorted([_user(org.users["sup_s1"]).id, _user(org.users["sup_s1b"]).id])
        inactive = _user(org.users["sup_off"]).id
        assert db.session.execute(select(func.count(Message.id)).where(
            Message.recipient_id == inactive, Message.kind == "统计报表")).scalar() == 0
        assert "2024年7月" in _messages(top.id)[0].title


def _totals():
    return (db.session.execute(select(func.count(ReportFile.id))).scalar(),
            db.session.execute(select(func.count(Message.id)).where(Message.kind == "统计报表")).scalar())


def test_a_second_generate_or_tick_makes_nothing(app, org, july, reports_folder):
    with app.app_context(), acting_as("系统任务", "task"):
        before, files = _totals(), len(list(reports_folder.iterdir()))
        again = sr.generate("monthly", JULY[0])
        assert again["created"] == 0 and again["messages"] == 0 and again["existing"] == again["units"]
        assert _totals() == before
        # tick on 1 August at 03:00: July is due and already made; the quarterly schedule's Q2 may be made once
        now = dt.datetime(2024, 8, 1, 3, 0)
        first = sr.tick(now)
        assert "monthly" not in first["generated"]
        after_first = _totals()
        second = sr.tick(now)
        assert second["generated"] == {} and _totals() == after_first
        assert len(list(reports_folder.iterdir())) == files + (after_first[0] - before[0])
        # before the monthly report is due, tick leaves it alone
        assert "monthly" not in sr.tick(dt.datetime(2024, 8, 1, 1, 59))["generated"]


def test_the_unique_key_decides_between_two_runs(app, org, reports_folder):
    """A run that finds another run's row at insert time keeps that one and leaves no file behind."""
    with app.app_context(), acting_as("系统任务", "task"):
        unit = db.session.get(Unit, org.units["s1"])
        period = (D(2023, 1, 1), D(2023, 1, 31))
        other = ReportFile(kind="monthly", period_start=period[0], period_end=period[1], unit_id=unit.id,
                           filename="另一进程.xlsx", storage_key=unique("k").lower(), size=1, sha256="0" * 64)
        db.session.add(other)
        db.session.commit()
        files = set(reports_folder.iterdir())
        assert sr._store(unit, "monthly", *period, None) is None
        assert set(reports_folder.iterdir()) == files
        db.session.rollback()
        assert _report("monthly", period, unit.id).filename == "另一进程.xlsx"


# ---- download -----------------------------------------------------------------------------------

def test_download_is_scoped_and_recorded(app, org, july, client_for, reports_folder):

    def client(username):
        return login(app.test_client(), username)

    with app.app_context():
        top, s1 = _report("monthly", JULY, org.units["top"]), _report("monthly", JULY, org.units["s1"])
        top_id, s1_id, top_sha, top_name, top_key = top.id, s1.id, top.sha256, top.filename, top.storage_key
    sup_top = client(org.users["sup_top"])
    resp = sup_top.get(f"/reports/file/{top_id}")
    assert resp.status_code == 200
    assert hashlib.sha256(resp.data).hexdigest() == top_sha
    assert "spreadsheetml" in resp.headers["Content-Type"]
    assert "filename*=UTF-8''" in resp.headers["Content-Disposition"]
    with app.app_context():
        row = db.session.execute(select(AuditLog).where(AuditLog.action == "export", AuditLog.table_name == "report_file")
                                 .order_by(AuditLog.id.desc())).scalars().first()
        assert row.actor_name == org.users["sup_top"] and top_name in row.old_value
    assert sup_top.get(f"/reports/file/{s1_id}").status_code == 200  # s1 is inside top's subtree
    # the list: the top supervisor sees both, the s1 supervisor and query user only s1's
    html = sup_top.get("/reports/list/").get_data(as_text=True)
    assert f"/reports/file/{top_id}" in html and f"/reports/file/{s1_id}" in html and "统计报表" in html
    for key in ("sup_s1", "query_s1"):
        c = client(org.users[key])
        html = c.get("/reports/list/").get_data(as_text=True)
        assert f"/reports/file/{s1_id}" in html and f"/reports/file/{top_id}" not in html, key
        assert c.get(f"/reports/file/{top_id}").status_code == 404, key  # above its subtree
        assert c.get(f"/reports/show/{top_id}").status_code == 404, key
    assert client(org.users["sup_s1"]).get(f"/reports/file/{s1_id}").status_code == 200
    # another subtree's supervisor: 404; a clerk holds no report permission at all
    assert client_for("sup_a").get(f"/reports/file/{top_id}").status_code == 404
    clerk = client(org.users["clerk_s1"])
    for url in (f"/reports/file/{s1_id}", "/reports/list/"):
        resp = clerk.get(url)
        assert resp.status_code in (302, 403) and top_sha not in resp.get_data(as_text=True), url
    assert sup_top.get("/reports/file/999999999").status_code == 404
    assert sup_top.get("/reports/file/abc").status_code == 404
    assert sup_top.get(f"/reports/show/{top_id}").status_code == 200
    # a file changed on disk is refused with a Chinese message, not served and not a 500
    path = reports_folder / top_key
    original = path.read_bytes()
    try:
        path.write_bytes(original + b"x")
        resp = sup_top.get(f"/reports/file/{top_id}")
        assert resp.status_code == 404 and "SHA-256" in resp.get_data(as_text=True)
    finally:
        path.write_bytes(original)


# ---- the schedule page ------------------------------------------------------------------------------

def _schedule(kind):
    return db.session.execute(select(ReportSchedule).where(ReportSchedule.kind == kind)).scalar_one()


def test_schedule_is_admin_only_and_validated_in_chinese(app, org, client_for):
    with app.app_context():
        monthly = _schedule("monthly")
        pk, before = monthly.id, (monthly.enabled, monthly.day, monthly.hour)
    admin = client_for("admin")
    html = admin.get("/report-schedules/list/").get_data(as_text=True)
    assert "报表计划" in html and "立即生成" in html and "月报" in html and "季报" in html
    assert admin.get(f"/report-schedules/edit/{pk}").status_code == 200
    assert admin.get(f"/report-schedules/show/{pk}").status_code == 200
    resp = admin.post(f"/report-schedules/edit/{pk}", data={"enabled": "y", "day": "40", "hour": "25"})
    html = resp.get_data(as_text=True)
    assert resp.status_code == 200
    assert "生成日应为周期结束后的第 1–28 天" in html and "生成时刻应为 0–23 点" in html
    assert 'value="40"' in html  # the form keeps what was typed
    resp = admin.post(f"/report-schedules/edit/{pk}", data={"enabled": "y", "day": "abc", "hour": "2"})
    assert resp.status_code == 200 and "应为整数" in resp.get_data(as_text=True)
    with app.app_context():
        s = _schedule("monthly")
        assert (s.enabled, s.day, s.hour) == before
    # a valid change is saved (and put back)
    try:
        resp = admin.post(f"/report-schedules/edit/{pk}", data={"day": "5", "hour": "0"})
        assert resp.status_code == 302
        with app.app_context():
            s = _schedule("monthly")
            assert (s.enabled, s.day, s.hour) == (False, 5, 0)  # an unticked box disables it
    finally:
        admin.post(f"/report-schedules/edit/{pk}", data={"enabled": "y" if before[0] else "",
                                                          "day": str(before[1]), "hour": str(before[2])})
    with app.app_context():
        s = _schedule("monthly")
        assert (s.enabled, s.day, s.hour) == before
    assert admin.get("/report-schedules/edit/abc").status_code == 404
    assert admin.get("/report-schedules/add").status_code in (302, 403, 404)
    # supervisors and clerks do not reach the schedule
    for key in ("sup_root", "clerk_a"):
        c = client_for(key)
        assert c.get("/report-schedules/list/").status_code in (302, 403)
        assert c.post(f"/report-schedules/edit/{pk}", data={"day": "9", "hour": "9"}).status_code in (302, 403)
    with app.app_context():
        assert _schedule("monthly").day == before[1]


def test_generate_button_queues_a_run(app, world, org, client_for):
    with app.app_context():
        pk = _schedule("monthly").id
        runs = db.session.execute(select(func.count(TaskRun.id)).where(TaskRun.task == "reports_generate")).scalar()
    # a supervisor may not trigger it
    resp = client_for("sup_root").post(f"/report-schedules/generate/{pk}")
    assert resp.status_code in (302, 403)
    with app.app_context():
        assert db.session.execute(select(func.count(TaskRun.id)).where(
            TaskRun.task == "reports_generate")).scalar() == runs
    admin = client_for("admin")
    resp = admin.post(f"/report-schedules/generate/{pk}", follow_redirects=True)
    assert resp.status_code == 200 and "已提交生成任务" in resp.get_data(as_text=True)
    with app.app_context():
        run = db.session.execute(select(TaskRun).where(TaskRun.task == "reports_generate")
                                 .order_by(TaskRun.id.desc())).scalars().first()
        assert run.status == "成功" and run.triggered_by == world.users["admin"] and run.counts["kind"] == "monthly"
        start, _ = sr.period_for("monthly", dt.date.today())
        assert run.counts["period_start"] == start.isoformat()
    assert admin.get(f"/report-schedules/generate/{pk}").status_code == 405
    assert admin.post("/report-schedules/generate/999999").status_code == 404


# ---- CLI ------------------------------------------------------------------------------------------

def test_cli_schedule_generate_and_statistics(app, org, july, tmp_path):
    runner = app.test_cli_runner()
    result = runner.invoke(args=["reports", "schedule", "--json"])
    assert result.exit_code == 0, result.output
    kinds = {s["kind"]: s for s in json.loads(result.output)}
    assert set(kinds) >= {"monthly", "quarterly"} and kinds["monthly"]["label"] == "月报"
    result = runner.invoke(args=["reports", "generate", "--kind", "monthly", "--period-start", "2024-07-01", "--json"])
    assert result.exit_code == 0, result.output
    out = json.loads(result.output)
    assert out["created"] == 0 and out["messages"] == 0 and out["period_end"] == "2024-07-31"
    result = runner.invoke(args=["reports", "generate", "--kind", "quarterly", "--period-start", "2024-08-01"])
    assert result.exit_code == 2 and "季度首日" in result.output
    out_file = tmp_path / "统计.xlsx"
    with app.app_context():
        code = db.session.get(Unit, org.units["top"]).code
        expected = expected_counts(org.units["top"], *Q3)
    result = runner.invoke(args=["reports", "statistics", "--from", "2024-07-01", "--to", "2024-09-30",
                                 "--unit", code, "--out", str(out_file)])
    assert result.exit_code == 0, result.output
    assert _row_values(_sheet(out_file), "合计") == expected
    assert "调整干部总人数 5 人" in result.output
    result = runner.invoke(args=["reports", "statistics", "--from", "2024-07-01", "--to", "2024-09-30",
                                 "--unit", "NO-SUCH-UNIT", "--out", str(out_file)])
    assert result.exit_code == 1 and "不存在" in result.output


def test_generate_button_needs_the_csrf_token(app, db_url, world):
    """With CSRF on (as in production), a post without the page's token generates nothing."""
    import re

    import config
    from app import create_app

    csrf_app = create_app(config.TestConfig, SQLALCHEMY_DATABASE_URI=db_url, WTF_CSRF_ENABLED=True,
                          REPORTS_FOLDER=app.config["REPORTS_FOLDER"])
    client = csrf_app.test_client()
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"',
                      client.get("/login/").get_data(as_text=True)).group(1)
    client.post("/login/", data={"username": world.users["admin"], "password": PASSWORD, "csrf_token": token})
    with csrf_app.app_context():
        pk = _schedule("quarterly").id
        runs = db.session.execute(select(func.count(TaskRun.id))).scalar()
    resp = client.post(f"/report-schedules/generate/{pk}", follow_redirects=True)
    assert "安全令牌" in resp.get_data(as_text=True)
    with csrf_app.app_context():
        assert db.session.execute(select(func.count(TaskRun.id))).scalar() == runs
    page = client.get("/report-schedules/list/").get_data(as_text=True)
    token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
    resp = client.post(f"/report-schedules/generate/{pk}", data={"csrf_token": token}, follow_redirects=True)
    assert "已提交生成任务" in resp.get_data(as_text=True)
