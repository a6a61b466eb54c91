"""Bulk unit import (app/organisation/unit_import.py) and its page (/unitimportview/form).

Files are real xlsx (openpyxl) and csv (UTF-8 with BOM, GBK) files with the Chinese headers.
All rows or none: a file with any bad row reports every problem and writes nothing (no unit, no
quota, no audit row).
"""
from __future__ import annotations

import csv
import io
import re

import pytest
from openpyxl import Workbook
from sqlalchemy import func, select

from tests.factories import unique

HEADER = ["单位代码", "单位名称", "上级单位代码", "层级", "单位类型", "行政区划代码", "机构规格",
          "任免权限", "双重管理", "县处级副职职数"]
CHINESE = re.compile(r"[\u4e00-\u9fff]")


def row(code, parent, name=None, level="委办局", unit_type="政府", region="420100",
        max_grade="县处级正职", authority="处级任免权", dual="否", quota="2"):
    return [code, name if name is not None else f"导入测试单位{code}", parent, level, unit_type,
            region, max_grade, authority, dual, quota]


def xlsx_bytes(rows, header=HEADER) -> bytes:
    wb = Workbook()
    ws = wb.active
    ws.append(header)
    for r in rows:
        ws.append(r)
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def csv_bytes(rows, encoding="utf-8-sig", header=HEADER) -> bytes:
    buf = io.StringIO()
    writer = csv.writer(buf)
    writer.writerow(header)
    for r in rows:
        writer.writerow(r)
    return buf.getvalue().encode(encoding)


# --------------------------------------------------------------------------- helpers (DB reads)

def unit_code(app, unit_id) -> str:
    from app.extensions import db
    from app.models import Unit

    with app.app_context():
        return db.session.get(Unit, unit_id).code


def totals(app) -> dict:
    """Row counts of everything an import could write."""
    from app.extensions import db
    from app.models import AuditLog, Unit, UnitQuota

    with app.app_context():
        return {
            model.__tablename__: db.session.scalar(select(func.count()).select_from(model))
            for model in (Unit, UnitQuota, AuditLog)
        }


def units_by_code(app, codes) -> dict:
    """code → plain dict of the stored unit (only the codes that exist)."""
    from app.extensions import db
    from app.models import Unit

    with app.app_context():
        found = db.session.execute(select(Unit).where(Unit.code.in_(list(codes)))).scalars().all()
        return {
            u.code: {
                "id": u.id, "name": u.name, "parent_code": u.parent_code, "path": u.path,
                "level": u.level, "unit_type": u.unit_type, "region_code": u.region_code,
                "max_grade": u.max_grade, "authority": u.authority, "dual_managed": u.dual_managed,
                "quotas": {q.grade: q.approved for q in u.quotas},
            }
            for u in found
        }


def last_audit_id(app) -> int:
    from app.extensions import db
    from app.models import AuditLog

    with app.app_context():
        return db.session.scalar(select(func.max(AuditLog.id))) or 0


def audit_rows(app, table_name, record_ids, since: int) -> list:
    """Audit rows written after ``since`` for these records (SQLite may reuse a deleted id, so
    older rows with the same record_id can belong to another record)."""
    from app.extensions import db
    from app.models import AuditLog

    with app.app_context():
        rows = db.session.execute(
            select(AuditLog).where(AuditLog.id > since, AuditLog.table_name == table_name,
                                   AuditLog.record_id.in_([str(i) for i in record_ids]))
        ).scalars().all()
        return [(r.record_id, r.path, r.actor_name, r.actor_id, r.action, r.field, r.new_value) for r in rows]


def run_import(app, filename, data, scope=None, actor="导入测试"):
    """read_table + import_units as the service is used from the CLI (an explicit actor)."""
    from app.audit import acting_as
    from app.scoping import Scope
    from app.organisation.unit_import import import_units, read_table

    with app.app_context(), acting_as(actor, "cli"):
        rows = read_table(filename, data)
        return import_units(rows, scope or Scope("all"))


def error_cells(result) -> list[tuple[int, str]]:
    return [(e.row, e.column) for e in result.errors]


# --------------------------------------------------------------------------- good files

def test_good_xlsx_creates_every_unit_with_parent_path_and_quotas(app, world):
    root_code = unit_code(app, world.units["root"])
    a_code = unit_code(app, world.units["a"])
    p, c, g, d = unique("IMP"), unique("IMC"), unique("IMG"), unique("IMD")
    rows = [
        row(p, root_code, quota="3"),                               # parent already in the DB
        row(c, p, level="事业单位", unit_type="其他", max_grade="乡科级正职",
            authority="科级任免权", quota="0"),                       # parent earlier in the file
        row(g, c, level="其他", unit_type="其他", max_grade="乡科级副职", authority="无",
            region="", quota=""),                                   # grandchild, empty optionals
        row(d, a_code, unit_type="公安", dual="是", quota="5"),
    ]
    before, mark = totals(app), last_audit_id(app)
    result = run_import(app, "单位.xlsx", xlsx_bytes(rows))

    assert result.ok, [(e.row, e.column, e.message) for e in result.errors]
    assert sorted(result.created) == sorted([p, c, g, d])
    units = units_by_code(app, [root_code, p, c, g, d])
    assert set(units) == {root_code, p, c, g, d}

    assert units[p]["parent_code"] == root_code
    assert units[c]["parent_code"] == p
    assert units[g]["parent_code"] == c
    assert units[d]["parent_code"] == a_code

    assert units[p]["path"] == units[root_code]["path"] + p + "/"
    assert units[c]["path"] == units[p]["path"] + c + "/"
    assert units[g]["path"].startswith(units[c]["path"])
    assert units[g]["path"] == units[c]["path"] + g + "/"
    assert units[d]["path"].startswith(units_by_code(app, [a_code])[a_code]["path"])

    assert units[p]["quotas"] == {"县处级副职": 3}
    assert units[c]["quotas"] == {"县处级副职": 0}
    assert units[g]["quotas"] == {}  # an empty quota cell is no quota
    assert units[d]["quotas"] == {"县处级副职": 5}

    assert units[p]["name"] == f"导入测试单位{p}"
    assert (units[c]["level"], units[c]["unit_type"], units[c]["max_grade"], units[c]["authority"]) == (
        "事业单位", "其他", "乡科级正职", "科级任免权")
    assert units[g]["authority"] == "无"
    assert units[p]["region_code"] == "420100"
    assert units[g]["region_code"] is None
    assert units[d]["dual_managed"] is True
    assert units[p]["dual_managed"] is False
    assert units[d]["unit_type"] == "公安"

    after = totals(app)
    assert after["unit"] == before["unit"] + 4
    assert after["unit_quota"] == before["unit_quota"] + 3
    # Each new unit left an insert trace under the explicit actor.
    traced = audit_rows(app, "unit", [units[x]["id"] for x in (p, c, g, d)], since=mark)
    assert {r[0] for r in traced} == {str(units[x]["id"]) for x in (p, c, g, d)}
    assert {(r[1], r[2], r[4]) for r in traced} == {("cli", "导入测试", "insert")}


@pytest.mark.parametrize("encoding", ["utf-8-sig", "gbk"])
def test_good_csv_in_utf8_bom_and_gbk(app, world, encoding):
    root_code = unit_code(app, world.units["root"])
    p, c = unique("ICP"), unique("ICC")
    header = HEADER + ["乡科级正职职数"]
    rows = [row(p, root_code, name=f"江城市测试局{p}", dual="否", quota="1") + ["6"],
            row(c, p, name=f"测试局直属中心{c}", level="事业单位", unit_type="其他",
                max_grade="乡科级正职", authority="科级任免权", dual="是", quota="") + ["2"]]
    data = csv_bytes(rows, encoding=encoding, header=header)
    if encoding == "gbk":
        with pytest.raises(UnicodeDecodeError):
            data.decode("utf-8")  # really a GBK file, not UTF-8 in disguise
    else:
        assert data.startswith(b"\xef\xbb\xbf")

    result = run_import(app, "UNITS.CSV", data)

    assert result.ok, [(e.row, e.column, e.message) for e in result.errors]
    units = units_by_code(app, [p, c])
    assert units[p]["name"] == f"江城市测试局{p}"
    assert units[c]["name"] == f"测试局直属中心{c}"
    assert units[p]["parent_code"] == root_code
    assert units[c]["parent_code"] == p
    assert units[c]["path"].startswith(units[p]["path"])
    assert units[p]["quotas"] == {"县处级副职": 1, "乡科级正职": 6}
    assert units[c]["quotas"] == {"乡科级正职": 2}
    assert units[c]["dual_managed"] is True


def test_english_headers_are_accepted(app, world):
    root_code = unit_code(app, world.units["root"])
    code = unique("IEN")
    header = ["code", "name", "parent_code", "level", "unit_type", "region_code", "max_grade",
              "authority", "dual_managed", "县处级正职职数"]
    result = run_import(app, "u.csv", csv_bytes([row(code, root_code, quota="1")], header=header))
    assert result.ok, result.errors
    assert units_by_code(app, [code])[code]["quotas"] == {"县处级正职": 1}


# --------------------------------------------------------------------------- bad files

def test_bad_file_reports_every_problem_and_writes_nothing(app, world):
    root_code = unit_code(app, world.units["root"])
    existing = unit_code(app, world.units["a"])
    good, good_child, later = unique("IBG"), unique("IBK"), unique("IBL")
    c = [unique("IBX") for _ in range(8)]
    rows = [
        row(good, root_code),                              # 2: good
        row(c[0], root_code, level="直辖市"),               # 3: bad level
        row(good, root_code),                              # 4: duplicate of row 2
        row(existing, root_code),                          # 5: code already in the database
        row(c[1], unique("NOPE")),                         # 6: unknown parent
        row(c[2], root_code, quota="三"),                   # 7: non-integer quota
        row(c[3], root_code, dual="也许"),                  # 8: invalid 双重管理
        row(c[4], root_code, name=""),                     # 9: empty required cell
        row(good_child, good),                             # 10: good (parent in row 2)
        row(c[5], later),                                  # 11: parent only defined below
        row(later, root_code),                             # 12: good
        row(c[6], root_code, quota="-1"),                  # 13: negative quota
        row(c[7], root_code, unit_type=""),                # 14: empty required cell
    ]
    expected = {
        (3, "层级"), (4, "单位代码"), (5, "单位代码"), (6, "上级单位代码"), (7, "县处级副职职数"),
        (8, "双重管理"), (9, "单位名称"), (11, "上级单位代码"), (13, "县处级副职职数"), (14, "单位类型"),
    }
    for fmt, data in (("xlsx", xlsx_bytes(rows)), ("csv", csv_bytes(rows))):
        before = totals(app)
        result = run_import(app, f"bad.{fmt}", data)

        assert not result.ok
        assert result.created == []
        cells = error_cells(result)
        assert set(cells) == expected, [(e.row, e.column, e.message) for e in result.errors]
        assert len(cells) == len(set(cells)), f"a problem reported twice: {cells}"
        for e in result.errors:
            assert e.message and CHINESE.search(e.message), e
        by_cell = {(e.row, e.column): e.message for e in result.errors}
        assert "直辖市" in by_cell[(3, "层级")]
        assert "第 2 行" in by_cell[(4, "单位代码")]
        assert existing in by_cell[(5, "单位代码")] and "已存在" in by_cell[(5, "单位代码")]
        assert "不存在" in by_cell[(6, "上级单位代码")]
        assert "整数" in by_cell[(7, "县处级副职职数")]
        assert "双重管理" in by_cell[(8, "双重管理")]
        assert "不能为空" in by_cell[(9, "单位名称")]

        # All or nothing: not even the good rows, their quotas or a trace.
        assert totals(app) == before
        assert units_by_code(app, [good, good_child, later, *c]) == {}


def test_one_row_with_several_problems_reports_each(app, world):
    code = unique("IMULTI")
    bad = row(code, unique("NOPE"), level="省会", authority="全部", dual="?", quota="x")
    before = totals(app)
    result = run_import(app, "multi.xlsx", xlsx_bytes([bad]))
    assert set(error_cells(result)) == {
        (2, "上级单位代码"), (2, "层级"), (2, "任免权限"), (2, "双重管理"), (2, "县处级副职职数"),
    }, [(e.row, e.column, e.message) for e in result.errors]
    assert totals(app) == before


def test_bad_code_region_grade_and_quota_column_name_their_columns(app, world):
    root_code = unit_code(app, world.units["root"])
    header = HEADER + ["处长职数"]  # not a grade
    rows = [
        row("含中文的代码", root_code) + [""],          # 2: code format
        row(unique("IRG"), root_code, region="4201") + [""],   # 3: region not 6 digits
        row(unique("IMG"), root_code, max_grade="副部级") + [""],  # 4: bad grade
        row(unique("IOK"), root_code) + ["1"],         # 5: fine, but the quota column is bad
    ]
    before = totals(app)
    result = run_import(app, "cols.csv", csv_bytes(rows, header=header))
    # The quota column naming no grade is reported once, against the header row.
    assert set(error_cells(result)) == {
        (2, "单位代码"), (3, "行政区划代码"), (4, "机构规格"), (1, "处长职数"),
    }, [(e.row, e.column, e.message) for e in result.errors]
    assert len(result.errors) == 4
    assert totals(app) == before


def test_row_numbers_match_the_sheet_when_blank_rows_are_skipped(app, world):
    root_code = unit_code(app, world.units["root"])
    blank = [None] * len(HEADER)
    rows = [row(unique("IBR"), root_code), blank, blank, row(unique("IBR"), root_code, level="坏层级")]
    before = totals(app)
    result = run_import(app, "gaps.xlsx", xlsx_bytes(rows))
    # The bad row is on line 5 of the sheet (header, good row, two blank rows, bad row).
    assert error_cells(result) == [(5, "层级")], [(e.row, e.column, e.message) for e in result.errors]
    assert totals(app) == before

    # The same in a csv with blank lines before the header and between rows.
    good, bad = unique("IBR"), unique("IBR")
    text = "\r\n" + csv_bytes([row(good, root_code), [""] * len(HEADER),
                                 row(bad, root_code, dual="不详")]).decode("utf-8-sig")
    result = run_import(app, "gaps.csv", text.encode("utf-8-sig"))
    assert error_cells(result) == [(5, "双重管理")], [(e.row, e.column, e.message) for e in result.errors]
    assert totals(app) == before


# --------------------------------------------------------------------------- unreadable files

def test_unsupported_extension_gives_chinese_error(app):
    from app.organisation.unit_import import read_table

    for name in ("units.txt", "units.xls", "units", "units.csv.exe"):
        with pytest.raises(ValueError) as exc:
            read_table(name, "单位代码,单位名称\nX1,甲\n".encode("utf-8"))
        assert CHINESE.search(str(exc.value)), str(exc.value)
        assert ".xlsx" in str(exc.value) and ".csv" in str(exc.value)


def test_empty_files_give_chinese_error(app):
    from app.organisation.unit_import import read_table

    empty_wb = Workbook()
    buf = io.BytesIO()
    empty_wb.save(buf)
    cases = {
        "empty.csv": b"",
        "bom-only.csv": "\ufeff".encode("utf-8"),
        "blank-lines.csv": b"\r\n,,,\r\n\r\n",
        "empty.xlsx": buf.getvalue(),
        "header-only.csv": csv_bytes([]),
        "header-only.xlsx": xlsx_bytes([]),
    }
    for name, data in cases.items():
        with pytest.raises(ValueError) as exc:
            read_table(name, data)
        assert CHINESE.search(str(exc.value)), (name, str(exc.value))


def test_corrupt_xlsx_gives_chinese_error(app):
    from app.organisation.unit_import import read_table

    for data in (b"", b"this is not a zip file", csv_bytes([["A1", "甲"]])):
        with pytest.raises(ValueError) as exc:
            read_table("broken.xlsx", data)
        assert CHINESE.search(str(exc.value)), str(exc.value)


# --------------------------------------------------------------------------- scope

def test_supervisor_cannot_attach_units_outside_their_subtree(app, world):
    from app.audit import acting_as
    from app.extensions import db
    from app.models import Unit
    from app.scoping import scope_for
    from app.organisation.unit_import import import_units, read_table

    a_code, a1_code, b_code = (unit_code(app, world.units[k]) for k in ("a", "a1", "b"))
    under_b, under_a1, top = unique("ISB"), unique("ISA"), unique("IST")
    rows = [row(under_a1, a1_code), row(under_b, b_code), row(top, "")]
    before = totals(app)
    with app.app_context():
        user = app.appbuilder.sm.find_user(username=world.users["sup_a"])
        scope = scope_for(user)
        assert scope.kind == "subtree"
        with acting_as(user, "web"):
            result = import_units(read_table("scope.xlsx", xlsx_bytes(rows)), scope)
        by_cell = {(e.row, e.column): e.message for e in result.errors}
        assert set(by_cell) == {(3, "上级单位代码"), (4, "上级单位代码")}, by_cell
        assert "权限范围" in by_cell[(3, "上级单位代码")] and b_code in by_cell[(3, "上级单位代码")]
        assert "系统管理员" in by_cell[(4, "上级单位代码")]
        assert db.session.execute(
            select(Unit.id).where(Unit.code.in_([under_a1, under_b, top]))).first() is None
    assert totals(app) == before

    # Within the subtree (a child of A1 and a grandchild of A) the same supervisor may import.
    mark = last_audit_id(app)
    with app.app_context():
        user = app.appbuilder.sm.find_user(username=world.users["sup_a"])
        with acting_as(user, "web"):
            result = import_units(read_table("scope.csv", csv_bytes([row(under_a1, a1_code)])),
                                  scope_for(user))
        assert result.ok, result.errors
        unit = db.session.execute(select(Unit).where(Unit.code == under_a1)).scalar_one()
        assert unit.parent.code == a1_code
        assert unit.path.startswith(f"/{unit_code(app, world.units['root'])}/{a_code}/{a1_code}/")
    traced = audit_rows(app, "unit", [unit_id_of(app, under_a1)], since=mark)
    assert traced and {(r[1], r[2]) for r in traced} == {("web", world.users["sup_a"])}


def unit_id_of(app, code):
    return units_by_code(app, [code])[code]["id"]


# --------------------------------------------------------------------------- web page

def post_file(client, filename, data):
    return client.post("/unitimportview/form", data={"file": (io.BytesIO(data), filename)},
                       content_type="multipart/form-data")


def test_form_page_shows_the_headers(client_for):
    resp = client_for("admin").get("/unitimportview/form")
    assert resp.status_code == 200
    html = resp.get_data(as_text=True)
    assert 'type="file"' in html
    for label in ("单位代码", "上级单位代码", "任免权限", "双重管理"):
        assert label in html


def test_web_import_of_a_good_csv(app, world, client_for):
    root_code = unit_code(app, world.units["root"])
    p, c = unique("IWP"), unique("IWC")
    data = csv_bytes([row(p, root_code, quota="4"), row(c, p, level="事业单位", unit_type="其他",
                                                         max_grade="乡科级正职", authority="科级任免权")])
    client = client_for("admin")
    mark = last_audit_id(app)
    resp = post_file(client, "units.csv", data)
    assert resp.status_code == 302, resp.get_data(as_text=True)[:2000]
    assert "/login" not in resp.headers["Location"]
    units = units_by_code(app, [p, c])
    assert set(units) == {p, c}
    assert units[p]["parent_code"] == root_code and units[c]["parent_code"] == p
    assert units[p]["quotas"] == {"县处级副职": 4}
    # The success message is shown on the next page.
    page = client.get(resp.headers["Location"]).get_data(as_text=True)
    assert "导入成功：新增 2 个单位" in page
    traced = audit_rows(app, "unit", [units[p]["id"], units[c]["id"]], since=mark)
    assert traced and {(r[1], r[2]) for r in traced} == {("web", world.users["admin"])}


def test_web_import_of_a_bad_file_lists_errors_and_writes_nothing(app, world, client_for):
    root_code = unit_code(app, world.units["root"])
    good, bad = unique("IWG"), unique("IWB")
    data = xlsx_bytes([row(good, root_code), row(bad, root_code, level="星球级", quota="两个")])
    client = client_for("admin")
    before = totals(app)
    resp = post_file(client, "units.xlsx", data)
    assert resp.status_code == 200
    html = resp.get_data(as_text=True)
    assert 'id="import-errors"' in html
    section = html.split('id="import-errors"', 1)[1]
    assert "星球级" in section and "县处级副职职数" in section and "<td>3</td>" in section
    assert "未写入任何数据" in html
    assert totals(app) == before
    assert units_by_code(app, [good, bad]) == {}


def test_web_import_of_an_unsupported_or_missing_file(app, client_for):
    client = client_for("admin")
    before = totals(app)
    resp = post_file(client, "units.txt", b"whatever")
    assert resp.status_code == 200
    html = resp.get_data(as_text=True)
    assert "只支持" in html
    assert 'id="import-errors"' not in html
    resp = client.post("/unitimportview/form", data={}, content_type="multipart/form-data")
    assert resp.status_code == 200
    assert "请选择要导入的文件" in resp.get_data(as_text=True)
    resp = post_file(client, "broken.xlsx", b"not a workbook")
    assert resp.status_code == 200, resp.status_code
    assert totals(app) == before


def test_web_import_refused_to_non_admin(app, world, client_for):
    root_code = unit_code(app, world.units["root"])
    code = unique("IWN")
    client = client_for("clerk_a")
    before = totals(app)
    resp = client.get("/unitimportview/form")
    assert resp.status_code in (302, 403)
    resp = post_file(client, "units.csv", csv_bytes([row(code, root_code)]))
    assert resp.status_code in (302, 403)
    if resp.status_code == 302:
        assert "/login" in resp.headers["Location"]
    assert units_by_code(app, [code]) == {}
    assert totals(app) == before


def test_web_import_by_unit_scoped_user_refuses_foreign_parent(app, world, client_for):
    """A role holding every permission still cannot import under a unit outside its scope."""
    a_code = unit_code(app, world.units["a"])
    code = unique("IWF")
    client = client_for("all_b")
    before = totals(app)
    resp = post_file(client, "units.csv", csv_bytes([row(code, a_code)]))
    assert resp.status_code == 200
    html = resp.get_data(as_text=True)
    assert 'id="import-errors"' in html and "权限范围" in html
    assert units_by_code(app, [code]) == {}
    assert totals(app) == before
