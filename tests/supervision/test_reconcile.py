"""应报未报 (app/supervision/reconcile.py, /reconcile, /documents, `flask reconcile`).

A fresh 组织部 with a unit below it (conftest's office fixture) reports real cases; the list of
appointment documents actually issued is a real xlsx or csv file. One document matches a case by ID
number, one by name and 文号, one names a person never reported (an 应报未报 alarm, one notice to the
unit's clerk and one to its supervisor); a passed decision with no document is flagged. Importing the
same file again writes, raises and sends nothing new. Any bad row: every problem, nothing written.
"""
from __future__ import annotations

import datetime as dt
import io
import json

import pytest
from openpyxl import Workbook
from sqlalchemy import func, select

from app.audit import acting_as
from app.extensions import db
from app.models import Alarm, AlarmEvent, AppointmentDocument, Message, Unit
from app.workflow import cases
from app.supervision.reconcile import ReconcileError, mask_id, reconcile
from tests.factories import (
    CANDIDATE_ID, DOCUMENT_HEADER, csv_file, days_ago, login, make_id, make_person_case, office_ids, office_in,
)

TODAY = dt.date.today()
HEADER = DOCUMENT_HEADER
OTHER_ID = make_id("110101", "19800315", "135")    # 男, born 1980-03-15, like the valid case
MISSING_ID = make_id("110101", "19800315", "157")


def xlsx_file(path, rows, header=HEADER):
    wb = Workbook()
    ws = wb.active
    ws.append(header)
    for r in rows:
        ws.append(r)
    wb.save(path)
    return path


@pytest.fixture()
def reported(office):
    """Three cases of the office's unit and a document list naming two of them and someone else."""
    by_id = make_person_case(office, days_ago(40))
    by_name = make_person_case(office, days_ago(40), name="李四海", id_no=OTHER_ID, doc_no="西组任〔2026〕2号")
    no_doc = make_person_case(office, days_ago(45), name="赵六一", id_no=MISSING_ID)
    recent = make_person_case(office, days_ago(5), name="钱七七", id_no=make_id("110101", "19800315", "179"))
    code = office.unit.code
    rows = [
        ["西组任〔2026〕1号", days_ago(35), code, "张明华", CANDIDATE_ID, "区发展改革委主任"],
        ["西组任[2026]2号", days_ago(38), code, "李四海", "", "区发展改革委副主任"],  # by name, 文号 written with []
        ["西组任〔2026〕3号", days_ago(10), code, "王五", "", "区统计局局长"],           # never reported
    ]
    return {"by_id": by_id, "by_name": by_name, "no_doc": no_doc, "recent": recent, "rows": rows}


def run(office, path, user=None):
    user = user or office.sup
    with acting_as(user, "cli"):
        return reconcile(path, user)


def doc_count(unit_id) -> int:
    return db.session.execute(select(func.count()).select_from(AppointmentDocument)
                              .where(AppointmentDocument.unit_id == unit_id)).scalar()


def inbox(user) -> list[Message]:
    return db.session.execute(select(Message).where(Message.recipient_id == user.id,
                                                    Message.kind == "应报未报")).scalars().all()


# ---- matching, alarms, notices ------------------------------------------------------------------------

def test_documents_match_by_id_and_by_name_and_the_rest_is_unreported(office, reported, tmp_path):
    path = xlsx_file(tmp_path / "任免文件.xlsx", reported["rows"])
    result = run(office, path)
    assert (result.new, result.unchanged) == (3, 0)
    matched = {e["person_name"]: e for e in result.matched}
    assert set(matched) == {"张明华", "李四海"}
    assert matched["张明华"]["case_no"] == reported["by_id"].case_no
    assert matched["李四海"]["case_no"] == reported["by_name"].case_no
    assert matched["张明华"]["id_card_no"] == mask_id(CANDIDATE_ID) and "*" in matched["张明华"]["id_card_no"]
    assert matched["张明华"]["doc_date"] == days_ago(35).isoformat()  # an Excel date cell
    [lost] = result.unmatched
    assert (lost["person_name"], lost["doc_no"], lost["unit_code"], lost["case_no"]) == (
        "王五", "西组任〔2026〕3号", office.unit.code, None)
    db.session.expire_all()
    docs = {d.person_name: d for d in db.session.execute(
        select(AppointmentDocument).where(AppointmentDocument.unit_id == office.unit.id)).scalars()}
    assert docs["张明华"].status == "已匹配" and docs["张明华"].matched_case_id == reported["by_id"].id
    assert docs["李四海"].matched_case_id == reported["by_name"].id
    assert docs["王五"].status == "未匹配" and docs["王五"].matched_case_id is None
    assert docs["张明华"].imported_by_name

    # the 应报未报 alarm names the document, not a case
    alarm = db.session.get(Alarm, lost["alarm_id"])
    assert alarm.case_id is None and alarm.root_id is None and alarm.document_id == docs["王五"].id
    assert (alarm.unit_id, alarm.codes, alarm.status, alarm.dedup_key) == (
        office.unit.id, "应报未报", "已报警", f"unreported:{docs['王五'].id}")
    assert "西组任〔2026〕3号" in alarm.message and "王五" in alarm.message and "区统计局局长" in alarm.message
    # one notice each to the unit's clerk and its supervising department, nobody else
    [to_clerk], [to_sup] = inbox(office.clerk), inbox(office.sup)
    assert "王五" in to_clerk.title and to_clerk.link == f"/alarms/show/{alarm.id}"
    assert to_sup.dedup_key == f"unreported:{docs['王五'].id}"
    recipients = set(db.session.execute(select(Message.recipient_id).where(
        Message.dedup_key == f"unreported:{docs['王五'].id}")).scalars())
    assert recipients == {office.clerk.id, office.sup.id}
    assert sorted(result.message_ids) == sorted([to_clerk.id, to_sup.id])

    # the passed decision with neither a 任职文号 nor a document is flagged, the recent one is not
    [flag] = result.missing
    assert (flag["case_no"], flag["person_name"], flag["doc_no"]) == (reported["no_doc"].case_no, "赵六一", None)
    assert flag["decision_date"] == days_ago(45).isoformat() and flag["days"] == 45
    nodoc = db.session.get(Alarm, flag["alarm_id"])
    assert (nodoc.case_id, nodoc.codes, nodoc.dedup_key) == (
        reported["no_doc"].id, "无任免文件", f"nodoc:{reported['no_doc'].root_id}")


def test_importing_again_changes_nothing(office, reported, tmp_path):
    first = run(office, xlsx_file(tmp_path / "a.xlsx", reported["rows"]))
    counts = lambda: (doc_count(office.unit.id),  # noqa: E731
                      db.session.execute(select(func.count()).select_from(Alarm).where(Alarm.unit_id == office.unit.id)).scalar(),
                      len(inbox(office.clerk)), len(inbox(office.sup)))
    before = counts()
    assert before == (3, before[1], 1, 1)
    # the same list again, now as a UTF-8 csv (without BOM), twice
    for _ in range(2):
        again = run(office, csv_file(tmp_path / "a.csv", reported["rows"], encoding="utf-8"))
        assert (again.new, again.unchanged) == (0, 3)
        assert again.message_ids == []
        assert counts() == before
        assert [e["alarm_id"] for e in again.unmatched] == [e["alarm_id"] for e in first.unmatched]
        assert [e["case_no"] for e in again.missing] == [e["case_no"] for e in first.missing]


def test_the_configured_days_decide_what_is_missing(app, office, monkeypatch, tmp_path):
    decided_20 = make_person_case(office, days_ago(20), name="孙八一", id_no=MISSING_ID)
    decided_5 = make_person_case(office, days_ago(5), name="周九九", id_no=OTHER_ID)
    rows = [["西组任〔2026〕9号", days_ago(3), office.unit.code, "吴十", "", "科长"]]
    assert run(office, csv_file(tmp_path / "d.csv", rows)).missing == []  # 30 days by default
    monkeypatch.setitem(app.config, "JISHI_DOCUMENT_EXPECTED_DAYS", 10)
    missing = run(office, csv_file(tmp_path / "d.csv", rows)).missing
    assert [m["case_no"] for m in missing] == [decided_20.case_no]
    assert decided_5.case_no not in {m["case_no"] for m in missing}
    # a 任职文号 entered since settles it: no longer listed, its alarm closed
    with acting_as(office.clerk, "cli"):
        cases.save_module(decided_20, "appointment", {"appointment_doc_no": "西组任〔2026〕8号"})
    assert run(office, csv_file(tmp_path / "d.csv", rows)).missing == []
    alarm = db.session.execute(select(Alarm).where(Alarm.dedup_key == f"nodoc:{decided_20.root_id}")).scalar_one()
    assert alarm.status == "已关闭"


def test_a_case_reported_later_settles_the_unreported_alarm(office, tmp_path):
    rows = [["西组任〔2026〕5号", days_ago(2), office.unit.code, "张明华", CANDIDATE_ID, "主任"]]
    [lost] = run(office, csv_file(tmp_path / "e.csv", rows)).unmatched
    case = make_person_case(office, days_ago(10))
    result = run(office, csv_file(tmp_path / "e.csv", rows))
    assert [e["case_no"] for e in result.matched] == [case.case_no] and result.unmatched == []
    db.session.expire_all()
    alarm = db.session.get(Alarm, lost["alarm_id"])
    assert alarm.status == "已关闭"
    assert db.session.execute(select(AlarmEvent.reason).where(AlarmEvent.alarm_id == alarm.id)).scalar() \
        == f"已匹配到报送的案例 {case.case_no}"


def test_a_decision_after_the_document_or_not_passed_does_not_match(office, tmp_path):
    make_person_case(office, days_ago(5))  # decided after the document's date
    rows = [["西组任〔2026〕6号", days_ago(8), office.unit.code, "张明华", CANDIDATE_ID, "主任"]]
    result = run(office, csv_file(tmp_path / "f.csv", rows))
    assert result.matched == [] and [e["person_name"] for e in result.unmatched] == ["张明华"]


# ---- bad files -----------------------------------------------------------------------------------------

def test_bad_rows_are_all_reported_in_chinese_and_nothing_is_written(app, world, office, tmp_path):
    b_code = db.session.get(Unit, world.units["b"]).code
    code = office.unit.code
    rows = [
        ["西组任〔2026〕1号", days_ago(3), code, "张三", "", "主任"],            # fine
        ["西组任〔2026〕2号", "2026-13-45", code, "李四", "", "主任"],           # bad date
        ["西组任〔2026〕3号", days_ago(3), "NO-SUCH-UNIT", "王五", "", "主任"],  # unknown unit
        ["西组任〔2026〕4号", days_ago(3), b_code, "赵六", "", "主任"],          # outside the scope
        ["西组任〔2026〕5号", days_ago(3), code, "钱七", "110101198003151230", "主任"],  # check digit
        ["西组任〔2026〕6号", days_ago(3), code, "", "", ""],                  # no name, no post
        ["西组任〔2026〕1号", days_ago(3), code, "张三", "", "主任"],            # the first row again
    ]
    before = (doc_count(office.unit.id), len(inbox(office.clerk)))
    with pytest.raises(ReconcileError) as exc:
        run(office, csv_file(tmp_path / "bad.csv", rows))
    got = {(e.row, e.column) for e in exc.value.errors}
    assert got == {(3, "日期"), (4, "单位"), (5, "单位"), (6, "身份证号"), (7, "姓名"), (7, "职务"), (8, "文号")}
    messages = {e.row: e.message for e in exc.value.errors}
    assert "2026-13-45" in messages[3] and "NO-SUCH-UNIT" in messages[4] and "权限范围" in messages[5]
    assert "校验码" in messages[6] and "第 2 行重复" in messages[8]
    assert all(any("\u4e00" <= ch <= "\u9fff" for ch in e.message) for e in exc.value.errors)
    assert (doc_count(office.unit.id), len(inbox(office.clerk))) == before
    assert db.session.execute(select(func.count()).select_from(AppointmentDocument)
                              .where(AppointmentDocument.doc_no.like("西组任〔2026〕%"),
                                     AppointmentDocument.unit_id == office.unit.id)).scalar() == before[0]


@pytest.mark.parametrize("name, content, expected", [
    ("no-post.csv", "文号,日期,单位,姓名,身份证号\nX,2026-01-05,U,张三,\n".encode("utf-8"), "缺少表头“职务”"),
    ("header.csv", "文号,日期,单位,姓名,身份证号,职务\n".encode("utf-8"), "只有表头"),
    ("gbk.csv", "文号,日期,单位,姓名,身份证号,职务\n".encode("gbk"), "UTF-8"),
    ("list.txt", b"x", "xlsx"),
    ("broken.xlsx", b"not a workbook", "xlsx"),
    ("empty.csv", b"", "文件为空"),
])
def test_file_problems(office, tmp_path, name, content, expected):
    path = tmp_path / name
    path.write_bytes(content)
    with pytest.raises(ReconcileError) as exc:
        run(office, path)
    assert expected in str(exc.value)


def test_the_row_number_is_the_spreadsheets(office, tmp_path):
    """Blank rows are skipped but counted: the number points at the row the user sees."""
    wb = Workbook()
    ws = wb.active
    ws.append(["说明：本表为任免文件清单"])
    ws.append([])
    ws.append(HEADER)
    ws.append(["西组任〔2026〕1号", "2026/2/30", office.unit.code, "张三", "", "主任"])
    wb.save(tmp_path / "n.xlsx")
    # the first non-blank row is taken as the header here: a title row is a header problem
    with pytest.raises(ReconcileError) as exc:
        run(office, tmp_path / "n.xlsx")
    assert exc.value.errors[0].row == 1 and "缺少表头" in exc.value.errors[0].message
    ws.delete_rows(1, 1)
    wb.save(tmp_path / "n.xlsx")
    with pytest.raises(ReconcileError) as exc:
        run(office, tmp_path / "n.xlsx")
    [err] = exc.value.errors
    assert (err.row, err.column) == (3, "日期") and "不是有效的日期" in err.message


# ---- CLI --------------------------------------------------------------------------------------------------

def test_cli_prints_the_three_lists_as_json(app, office, reported, tmp_path):
    path = csv_file(tmp_path / "cli.csv", reported["rows"])
    out = app.test_cli_runner().invoke(args=["reconcile", str(path), "--as-user", office.sup.username, "--json"])
    assert out.exit_code == 0, out.output
    data = json.loads(out.output)
    assert set(data) == {"matched", "unmatched", "missing"}
    assert {e["person_name"] for e in data["matched"]} == {"张明华", "李四海"}
    assert [e["person_name"] for e in data["unmatched"]] == ["王五"]
    assert [e["case_no"] for e in data["missing"]] == [reported["no_doc"].case_no]
    for e in data["matched"] + data["unmatched"]:
        assert {"doc_no", "doc_date", "unit_code", "person_name", "id_card_no", "case_no"} <= set(e)
    # again: the same lists, nothing new
    again = json.loads(app.test_cli_runner().invoke(
        args=["reconcile", str(path), "--as-user", office.sup.username, "--json"]).output)
    assert [e["alarm_id"] for e in again["unmatched"]] == [e["alarm_id"] for e in data["unmatched"]]
    db.session.expire_all()
    assert len(inbox(office.clerk)) == 1


def test_cli_refuses_bad_rows_and_unknown_users(app, office, tmp_path):
    path = csv_file(tmp_path / "bad.csv", [["X组任〔2026〕1号", "昨天", office.unit.code, "张三", "", "主任"]])
    out = app.test_cli_runner().invoke(args=["reconcile", str(path), "--as-user", office.sup.username, "--json"])
    assert out.exit_code == 1
    assert "未写入任何数据" in out.output and "第 2 行" in out.output
    out = app.test_cli_runner().invoke(args=["reconcile", str(path), "--as-user", "nobody-such"])
    assert out.exit_code != 0 and "不存在" in out.output


# ---- pages ---------------------------------------------------------------------------------------------
# Page tests hold no app context while they make requests (a pushed context would be shared by every
# request, and with it the per-request scope cache): the setup is done in its own context.

@pytest.fixture()
def web(app, world):
    """An office with the reported cases, its documents not imported yet."""
    o = office_ids(app, world, "rc")
    with app.app_context():
        office = office_in(o)
        by_id = make_person_case(office, days_ago(40))
        no_doc = make_person_case(office, days_ago(45), name="赵六一", id_no=MISSING_ID)
        o.rows = [["西组任〔2026〕1号", days_ago(35), o.code, "张明华", CANDIDATE_ID, "区发展改革委主任"],
                  ["西组任〔2026〕3号", days_ago(10), o.code, "王五", "", "区统计局局长"]]
        o.by_id, o.no_doc = by_id.case_no, no_doc.case_no
    return o


def upload(client, path):
    return client.post("/reconcile/", data={"file": (io.BytesIO(path.read_bytes()), path.name)},
                       content_type="multipart/form-data")


def test_upload_page_shows_the_three_lists(app, web, tmp_path):
    client = login(app.test_client(), web.sup)
    assert client.get("/reconcile/").status_code == 200
    resp = upload(client, xlsx_file(tmp_path / "任免文件.xlsx", web.rows))
    html = resp.get_data(as_text=True)
    assert resp.status_code == 200
    for part in ('id="matched"', 'id="unmatched"', 'id="missing"', "王五", web.by_id, web.no_doc,
                 mask_id(CANDIDATE_ID)):
        assert part in html, part
    assert CANDIDATE_ID not in html
    # nothing chosen, or a bad file: a Chinese message, no server error
    html = client.post("/reconcile/", data={}, content_type="multipart/form-data").get_data(as_text=True)
    assert "请选择" in html
    (tmp_path / "x.xlsx").write_bytes(b"junk")
    resp = upload(client, tmp_path / "x.xlsx")
    assert resp.status_code == 200 and "无法读取" in resp.get_data(as_text=True)
    (tmp_path / "b.csv").write_bytes("文号,日期,单位,姓名,身份证号,职务\nX,2026-02-30,NOPE,张三,,主任\n".encode("utf-8"))
    html = upload(client, tmp_path / "b.csv").get_data(as_text=True)
    assert 'id="import-errors"' in html and "未写入任何数据" in html and "NOPE" in html


def test_pages_are_scoped(app, world, client_for, web, tmp_path):
    path = csv_file(tmp_path / "s.csv", web.rows)
    # a supervisor may not import into a unit it does not supervise: nothing is written
    other = client_for("sup_a")
    assert "不在您的权限范围内" in upload(other, path).get_data(as_text=True)
    with app.app_context():
        assert doc_count(web.unit_id) == 0
    sup = login(app.test_client(), web.sup)
    upload(sup, path)
    with app.app_context():
        doc = db.session.execute(select(AppointmentDocument).where(AppointmentDocument.unit_id == web.unit_id,
                                                                   AppointmentDocument.person_name == "王五")).scalar_one()
        alarm_id = db.session.execute(select(Alarm.id).where(Alarm.document_id == doc.id)).scalar_one()
        doc_id = doc.id
    assert sup.get(f"/documents/show/{doc_id}").status_code == 200
    assert "王五" in sup.get("/documents/list/").get_data(as_text=True)
    # the alarm page copes with no case: the document instead, no 叫停, and halting is refused
    html = sup.get(f"/alarms/show/{alarm_id}").get_data(as_text=True)
    assert "西组任〔2026〕3号" in html and 'id="halt-form"' not in html and 'id="dismiss-form"' in html
    assert 'id="alarm-responsibility"' in html
    html = sup.post(f"/alarms/show/{alarm_id}/halt", data={"reason": "x", "deadline": days_ago(-5).isoformat()},
                    follow_redirects=True).get_data(as_text=True)
    assert "不能叫停" in html
    with app.app_context():
        assert db.session.get(Alarm, alarm_id).status == "已报警"
    assert f"/alarms/show/{alarm_id}" in sup.get("/alarms/list/").get_data(as_text=True)  # no case: no 500
    # another subtree sees none of it
    assert other.get(f"/documents/show/{doc_id}").status_code == 404
    assert "王五" not in other.get("/documents/list/").get_data(as_text=True)
    assert other.get(f"/alarms/show/{alarm_id}").status_code == 404
    # query users read the documents list; clerks get nothing new
    assert client_for("query_a").get("/documents/list/").status_code == 200
    assert client_for("query_a").get("/reconcile/").status_code in (302, 403)
    clerk = login(app.test_client(), web.clerk)
    assert clerk.get("/reconcile/").status_code in (302, 403)
    assert clerk.get("/documents/list/").status_code in (302, 403)
    assert 'id="alarm-responsibility"' not in clerk.get(f"/alarms/show/{alarm_id}").get_data(as_text=True)
    # the root supervisor (above the office) sees it and may close it as checked
    root = client_for("sup_root")
    assert root.get(f"/documents/show/{doc_id}").status_code == 200
    root.post(f"/alarms/show/{alarm_id}/dismiss", data={"reason": "经核实已另行报送"})
    with app.app_context():
        assert db.session.get(Alarm, alarm_id).status == "已关闭"
