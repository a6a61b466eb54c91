"""`flask units list` and `flask units import` (app/cli/units.py) on the test database."""
from __future__ import annotations

import csv
import io
import json

from sqlalchemy import func, select

from tests.factories import unique

HEADER = ["单位代码", "单位名称", "上级单位代码", "层级", "单位类型", "行政区划代码", "机构规格",
          "任免权限", "双重管理", "县处级副职职数"]
KEYS = {"code", "name", "parent_code", "level", "unit_type", "max_grade", "authority"}


def row(code, parent, level="委办局", quota="2", dual="否"):
    return [code, f"命令行导入单位{code}", parent, level, "政府", "420100", "县处级正职", "处级任免权",
            dual, quota]


def write_csv(path, rows, encoding="utf-8-sig"):
    buf = io.StringIO()
    writer = csv.writer(buf)
    writer.writerow(HEADER)
    writer.writerows(rows)
    path.write_bytes(buf.getvalue().encode(encoding))
    return path


def invoke(app, *args):
    return app.test_cli_runner().invoke(args=list(args))


def code_of(app, unit_id):
    from app.extensions import db
    from app.models import Unit

    with app.app_context():
        return db.session.get(Unit, unit_id).code


def totals(app):
    from app.extensions import db
    from app.models import AuditLog, Unit, UnitQuota

    with app.app_context():
        return tuple(db.session.scalar(select(func.count()).select_from(m)) for m in (Unit, UnitQuota, AuditLog))


def stored(app, codes):
    from app.extensions import db
    from app.models import Unit

    with app.app_context():
        units = db.session.execute(select(Unit).where(Unit.code.in_(list(codes)))).scalars().all()
        return {u.code: (u.id, u.parent_code, u.path, {q.grade: q.approved for q in u.quotas}) for u in units}


def last_audit_id(app):
    from app.extensions import db
    from app.models import AuditLog

    with app.app_context():
        return db.session.scalar(select(func.max(AuditLog.id))) or 0


def audit_since(app, since):
    """Audit rows written after ``since`` (SQLite may reuse a deleted record's id, so rows are
    picked by audit id rather than by record id alone)."""
    from app.extensions import db
    from app.models import AuditLog

    with app.app_context():
        return db.session.execute(
            select(AuditLog.path, AuditLog.actor_name, AuditLog.actor_id, AuditLog.action,
                   AuditLog.table_name, AuditLog.record_id)
            .where(AuditLog.id > since)
        ).all()


# --------------------------------------------------------------------------- units list

def test_units_list_json(app, world):
    result = invoke(app, "units", "list", "--json")
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert isinstance(data, list) and data
    for item in data:
        assert isinstance(item, dict) and set(item) == KEYS, item

    root_code, a_code, a1_code, b_code = (code_of(app, world.units[k]) for k in ("root", "a", "a1", "b"))
    by_code = {item["code"]: item for item in data}
    assert len(by_code) == len(data), "a unit listed twice"
    assert by_code[a_code] == {
        "code": a_code, "name": world.names["a"], "parent_code": root_code, "level": "委办局",
        "unit_type": "政府", "max_grade": "县处级正职", "authority": "处级任免权",
    }
    assert by_code[root_code]["parent_code"] is None
    assert by_code[root_code]["unit_type"] == "组织部" and by_code[root_code]["level"] == "市"
    assert by_code[a1_code]["parent_code"] == a_code
    assert by_code[a1_code]["authority"] == "科级任免权" and by_code[a1_code]["level"] == "事业单位"
    assert by_code[b_code]["parent_code"] == root_code
    # Tree order: a parent before its children.
    codes = [item["code"] for item in data]
    assert codes.index(root_code) < codes.index(a_code) < codes.index(a1_code)
    # Chinese is written as Chinese, not as \\u escapes.
    assert world.names["a"] in result.stdout and "委办局" in result.stdout

    # Every unit in the database is listed.
    from app.extensions import db
    from app.models import Unit

    with app.app_context():
        assert set(codes) == set(db.session.scalars(select(Unit.code)))


def test_units_list_text_is_indented_by_depth(app, world):
    result = invoke(app, "units", "list")
    assert result.exit_code == 0, result.output
    lines = {line.strip().split("\t")[0]: line for line in result.stdout.splitlines()}
    root_code, a_code, a1_code = (code_of(app, world.units[k]) for k in ("root", "a", "a1"))
    assert lines[root_code].startswith(root_code)
    assert lines[a_code].startswith("  " + a_code)
    assert lines[a1_code].startswith("    " + a1_code)
    assert world.names["a1"] in lines[a1_code] and "科级任免权" in lines[a1_code]


# --------------------------------------------------------------------------- units import

def test_units_import_good_csv(app, world, tmp_path):
    root_code = code_of(app, world.units["root"])
    p, c = unique("CLP"), unique("CLC")
    path = write_csv(tmp_path / "units.csv", [row(p, root_code, quota="3"), row(c, p, level="事业单位", quota="")])
    before, mark = totals(app), last_audit_id(app)
    result = invoke(app, "units", "import", str(path))
    assert result.exit_code == 0, result.output
    assert "导入成功：新增 2 个单位" in result.stdout

    units = stored(app, [p, c])
    assert set(units) == {p, c}
    assert units[p][1] == root_code and units[c][1] == p
    assert units[c][2].startswith(units[p][2])
    assert units[p][3] == {"县处级副职": 3} and units[c][3] == {}
    after = totals(app)
    assert (after[0], after[1]) == (before[0] + 2, before[1] + 1)

    # Every trace of the import (units and quotas) was written through the "cli" path.
    from app.extensions import db
    from app.models import UnitQuota

    with app.app_context():
        quota_ids = db.session.scalars(select(UnitQuota.id).where(UnitQuota.unit_id == units[p][0])).all()
    new_rows = audit_since(app, mark)
    assert len(new_rows) == after[2] - before[2] > 0
    assert {(r.table_name, r.record_id) for r in new_rows} == {
        ("unit", str(units[p][0])), ("unit", str(units[c][0])), ("unit_quota", str(quota_ids[0]))}
    assert {(r.path, r.actor_name, r.actor_id, r.action) for r in new_rows} == {("cli", "命令行", None, "insert")}


def test_units_import_bad_csv_writes_nothing(app, world, tmp_path):
    root_code = code_of(app, world.units["root"])
    good, bad1, bad2 = unique("CLG"), unique("CLB"), unique("CLB")
    path = write_csv(tmp_path / "bad.csv", [
        row(good, root_code),
        row(bad1, root_code, level="火星"),
        row(bad2, unique("NOPE"), quota="二"),
    ], encoding="gbk")
    before = totals(app)
    result = invoke(app, "units", "import", str(path))
    assert result.exit_code != 0
    err = result.stderr
    assert "第 3 行 层级" in err and "火星" in err
    assert "第 4 行 上级单位代码" in err and "不存在" in err
    assert "第 4 行 县处级副职职数" in err
    assert "导入失败：3 处错误，未写入任何数据" in err
    assert "导入成功" not in result.output
    assert totals(app) == before
    assert stored(app, [good, bad1, bad2]) == {}


def test_units_import_unreadable_file(app, tmp_path):
    before = totals(app)
    txt = tmp_path / "units.txt"
    txt.write_text("单位代码,单位名称\n", encoding="utf-8")
    result = invoke(app, "units", "import", str(txt))
    assert result.exit_code != 0
    assert "只支持 .xlsx 或 .csv 文件" in result.output
    empty = tmp_path / "empty.csv"
    empty.write_bytes(b"")
    result = invoke(app, "units", "import", str(empty))
    assert result.exit_code != 0 and "文件为空" in result.output
    result = invoke(app, "units", "import", str(tmp_path / "missing.csv"))
    assert result.exit_code != 0
    assert totals(app) == before


def test_units_import_as_user_uses_their_scope_and_identity(app, world, tmp_path):
    a_code, b_code = code_of(app, world.units["a"]), code_of(app, world.units["b"])
    sup_a = world.users["sup_a"]
    foreign, own = unique("CLF"), unique("CLO")
    before = totals(app)
    result = invoke(app, "units", "import", str(write_csv(tmp_path / "f.csv", [row(foreign, b_code)])),
                    "--as-user", sup_a)
    assert result.exit_code != 0
    assert "第 2 行 上级单位代码" in result.stderr and "权限范围" in result.stderr
    assert totals(app) == before

    mark = last_audit_id(app)
    result = invoke(app, "units", "import", str(write_csv(tmp_path / "o.csv", [row(own, a_code)])),
                    "--as-user", sup_a)
    assert result.exit_code == 0, result.output
    units = stored(app, [own, foreign])
    assert set(units) == {own} and units[own][1] == a_code
    with app.app_context():
        sup_id = app.appbuilder.sm.find_user(username=sup_a).id
    new_rows = audit_since(app, mark)
    assert ("unit", str(units[own][0])) in {(r.table_name, r.record_id) for r in new_rows}
    assert {(r.path, r.actor_name, r.actor_id) for r in new_rows} == {("cli", sup_a, sup_id)}

    result = invoke(app, "units", "import", str(tmp_path / "o.csv"), "--as-user", unique("ghost"))
    assert result.exit_code != 0 and "不存在" in result.output
