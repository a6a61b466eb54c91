"""责任界定 (app/supervision/responsibility.py, /responsibility/…): for an alarm or a finding, who handled and
who signed each step involved — on the page, printable, and as an xlsx export that is recorded.

A real case is entered (a handler and a leader per module), signed three times, submitted, reviewed,
alarmed (P27 and T01: the decision and submission modules), given a finding and halted by the
supervisor. An 应报未报 alarm (a document no case was reported for) has a report too.
"""
from __future__ import annotations

import datetime as dt
import io

import pytest
from openpyxl import load_workbook
from sqlalchemy import select

from app.audit import acting_as
from app.extensions import db
from app.models import Alarm, AuditLog, Case
from app.models.supervision import Finding
from app.supervision import alarm_actions
from app.supervision import patrol
from app.supervision.reconcile import reconcile
from app.supervision.responsibility import report_for_alarm, report_for_finding, write_xlsx
from tests.factories import csv_file, days_ago, login, make_person_case, make_user, office_ids, office_in, submit_first

TODAY = dt.date.today()


@pytest.fixture()
def evidence(app, world, tmp_path):
    o = office_ids(app, world, "rc")
    with app.app_context():
        office = office_in(o)
        case = make_person_case(office, days_ago(6))
        submission = submit_first(office, case)
        with acting_as("测试", "cli"):
            alarm = Alarm(case_id=case.id, root_id=case.root_id, unit_id=case.unit_id, point="S1", codes="P27,T01",
                          message="P27 到会成员不足三分之二；T01 初次提交超期", status="已报警")
            db.session.add(alarm)
            db.session.commit()
        with acting_as(office.sup, "cli"):
            patrol.review(case, office.sup, "黄灯提示", "到会人数记录不清")
            finding = patrol.add_finding(case, office.sup, rule_codes="P27", description="到会人数不足三分之二仍表决",
                                         deadline=TODAY + dt.timedelta(days=10))
            alarm_actions.halt(alarm, office.sup, "到会人数不足，重新讨论决定", TODAY + dt.timedelta(days=10))
            result = reconcile(csv_file(tmp_path / "docs.csv", [
                ["西组任〔2026〕7号", days_ago(3), o.code, "王五", "", "区统计局局长"]]), office.sup)
        o.case_id, o.case_no, o.alarm_id, o.finding_id = case.id, case.case_no, alarm.id, finding.id
        o.submission_sha = submission.sha256
        o.unreported_id = result.unmatched[0]["alarm_id"]
        o.signers = [getattr(office, f"s{level}").username for level in (1, 2, 3)]
    return o


def test_alarm_report_names_who_handled_and_who_signed(app, evidence):
    with app.app_context():
        report = report_for_alarm(db.session.get(Alarm, evidence.alarm_id))
    assert report["case"]["case_no"] == evidence.case_no and report["case"]["version_no"] == 1
    assert report["case"]["created_by"] == evidence.clerk
    assert [(r["code"], r["title"]) for r in report["rules"]] == [("P27", "到会成员不足三分之二"), ("T01", "初次提交超期")]
    # the modules the rules read, in procedure order, with their handler and leader
    steps = {s["key"]: s for s in report["steps"]}
    assert list(steps) == ["decision", "submission"]
    decision = steps["decision"]
    assert (decision["handler"], decision["leader"], decision["state"]) == ("经办decision", "领导decision", "已完成")
    assert decision["completed_at"] is not None
    assert decision["entered"]["name"] == evidence.clerk and decision["changed"]["name"]
    assert {"实到会成员数", "应到会成员数"} <= set(decision["reads"])  # the items P27 reads
    # the three signatures, the submission and the review
    assert [(s["level"], s["signer"], s["voided"]) for s in report["signatures"]] == [
        (1, evidence.signers[0], False), (2, evidence.signers[1], False), (3, evidence.signers[2], False)]
    assert [s["title"] for s in report["signatures"]] == ["选任工作部门分管负责人", "选任工作部门主要领导", "选任责任单位领导"]
    [sub] = report["submissions"]
    assert (sub["node"], sub["by"], sub["sha256"], sub["version_no"]) == ("初次提交", evidence.clerk, evidence.submission_sha, 1)
    assert [(r["result"], r["by"]) for r in report["reviews"]] == [("黄灯提示", evidence.sup)]
    # who halted it, and why
    [halted] = report["events"]
    assert (halted["actor"], halted["to"], halted["reason"]) == (evidence.sup, "已叫停", "到会人数不足，重新讨论决定")
    assert report["document"] is None and report["contacts"] == []


def test_report_page_print_and_export(app, evidence):
    client = login(app.test_client(), evidence.sup)
    html = client.get(f"/alarms/show/{evidence.alarm_id}").get_data(as_text=True)
    assert f"/responsibility/alarm/{evidence.alarm_id}" in html
    resp = client.get(f"/responsibility/alarm/{evidence.alarm_id}")
    assert resp.status_code == 200
    html = resp.get_data(as_text=True)
    for text in (evidence.case_no, "经办decision", "领导decision", *evidence.signers, evidence.clerk, evidence.sup,
                 evidence.submission_sha, "到会成员不足三分之二", "已叫停", 'id="resp-xlsx"'):
        assert text in html, text
    printed = client.get(f"/responsibility/alarm/{evidence.alarm_id}/print")
    assert printed.status_code == 200
    assert '<html lang="zh-CN">' in printed.get_data(as_text=True) and "经办decision" in printed.get_data(as_text=True)
    resp = client.get(f"/responsibility/alarm/{evidence.alarm_id}/export.xlsx")
    assert resp.status_code == 200 and resp.mimetype.endswith("spreadsheetml.sheet")
    wb = load_workbook(io.BytesIO(resp.data), read_only=True)
    assert {"概况", "涉及规则", "环节责任", "责任签字", "报送记录", "审核记录", "处理记录"} <= set(wb.sheetnames)
    steps = "\n".join(str(c) for row in wb["环节责任"].iter_rows(values_only=True) for c in row if c is not None)
    assert "经办decision" in steps and "领导decision" in steps
    signs = "\n".join(str(c) for row in wb["责任签字"].iter_rows(values_only=True) for c in row if c is not None)
    assert all(name in signs for name in evidence.signers)
    with app.app_context():
        row = db.session.execute(select(AuditLog).where(AuditLog.action == "export", AuditLog.table_name == "alarm")
                                 .order_by(AuditLog.id.desc())).scalars().first()
        assert row.actor_name == evidence.sup and f"报警 #{evidence.alarm_id}" in row.old_value


def test_finding_report(app, evidence):
    with app.app_context():
        report = report_for_finding(db.session.get(Finding, evidence.finding_id))
        buf = io.BytesIO()
        assert write_xlsx(report, buf) > 0
    assert [r["code"] for r in report["rules"]] == ["P27"]
    assert [s["key"] for s in report["steps"]] == ["decision"]
    assert report["events"][0]["actor"] == evidence.sup and report["events"][0]["to"] == "整改中"
    assert len(report["signatures"]) == 3 and report["submissions"]
    client = login(app.test_client(), evidence.sup)
    html = client.get(f"/responsibility/finding/{evidence.finding_id}").get_data(as_text=True)
    assert "经办decision" in html and "到会人数不足三分之二仍表决" in html
    assert client.get(f"/responsibility/finding/{evidence.finding_id}/print").status_code == 200
    resp = client.get(f"/responsibility/finding/{evidence.finding_id}/export.xlsx")
    assert resp.status_code == 200 and "处理记录" in load_workbook(io.BytesIO(resp.data), read_only=True).sheetnames


def test_unreported_alarm_report_has_no_case(app, evidence):
    with app.app_context():
        alarm = db.session.get(Alarm, evidence.unreported_id)
        assert alarm.case_id is None
        report = report_for_alarm(alarm)
        buf = io.BytesIO()
        write_xlsx(report, buf)
    assert report["case"] is None and report["steps"] == [] and report["signatures"] == []
    assert report["document"]["doc_no"] == "西组任〔2026〕7号" and report["document"]["person_name"] == "王五"
    assert [(r["code"], r["modules"]) for r in report["rules"]] == [("应报未报", [])]
    assert {(c["role"], c["username"]) for c in report["contacts"]} == {
        ("本单位填报员", evidence.clerk), ("监督部门监督员", evidence.sup)}
    wb = load_workbook(io.BytesIO(buf.getvalue()), read_only=True)
    assert "责任人员" in wb.sheetnames and "环节责任" not in wb.sheetnames
    client = login(app.test_client(), evidence.sup)
    html = client.get(f"/responsibility/alarm/{evidence.unreported_id}").get_data(as_text=True)
    assert "西组任〔2026〕7号" in html and evidence.clerk in html and 'id="resp-steps"' not in html
    assert client.get(f"/responsibility/alarm/{evidence.unreported_id}/print").status_code == 200
    assert client.get(f"/responsibility/alarm/{evidence.unreported_id}/export.xlsx").status_code == 200


def test_reports_are_scoped(app, evidence, client_for):
    urls = [f"/responsibility/{kind}/{pk}{suffix}"
            for kind, pk in (("alarm", evidence.alarm_id), ("alarm", evidence.unreported_id),
                             ("finding", evidence.finding_id))
            for suffix in ("", "/print", "/export.xlsx")]
    for key in ("sup_a", "query_a", "all_b"):  # another subtree, whatever the role
        client = client_for(key)
        for url in urls:
            assert client.get(url).status_code == 404, (key, url)
    for url in ("/responsibility/alarm/999999999", "/responsibility/finding/999999999"):
        assert client_for("sup_root").get(url).status_code == 404
    clerk = login(app.test_client(), evidence.clerk)  # clerks: nothing new
    for url in urls:
        assert clerk.get(url).status_code in (302, 403), url
    root = client_for("sup_root")  # above the office: sees it
    for url in urls:
        assert root.get(url).status_code == 200, url
    # a query user above the office reads the reports too
    with app.app_context():
        from app.models import Unit

        with acting_as("测试", "cli"):
            make_user(app.appbuilder.sm, f"q_{evidence.clerk}", ["查询员"], db.session.get(Unit, evidence.dept_id).id)
            db.session.commit()
    query = login(app.test_client(), f"q_{evidence.clerk}")
    assert query.get(urls[0]).status_code == 200 and query.get(urls[2]).status_code == 200
    with app.app_context():
        assert db.session.get(Case, evidence.case_id) is not None
