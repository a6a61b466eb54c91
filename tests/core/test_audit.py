"""痕迹管理: every path leaves the right before/after rows; nobody can change them."""
import pytest
from sqlalchemy import select, text
from sqlalchemy.exc import DatabaseError

from app.audit import AuditError, acting_as
from app.extensions import db
from app.models import AuditLog, Unit
from tests.factories import login, login as login_as, make_unit, unique


@pytest.fixture()
def unit(app, world):
    """A fresh unit under B, owned by the tests of this module."""
    code = unique("AU")
    with app.app_context(), acting_as("测试夹具", "cli"):
        u = make_unit(code, "审计单位" + code, db.session.get(Unit, world.units["b"]))
        db.session.add(u)
        db.session.commit()
        return {"id": u.id, "code": code, "name": u.name}


def _rows(app, unit_id, field=None, action="update"):
    with app.app_context():
        q = select(AuditLog).where(AuditLog.table_name == "unit", AuditLog.record_id == str(unit_id),
                                   AuditLog.action == action)
        if field:
            q = q.where(AuditLog.field == field)
        return [
            (r.actor_name, r.path, r.field, r.old_value, r.new_value, r.unit_id)
            for r in db.session.execute(q.order_by(AuditLog.id)).scalars()
        ]


def test_insert_is_recorded_field_by_field(app, unit):
    rows = _rows(app, unit["id"], action="insert")
    fields = {r[2]: r for r in rows}
    assert fields["name"][3:5] == (None, unit["name"])
    assert fields["code"][4] == unit["code"]
    assert all(r[1] == "cli" and r[0] == "测试夹具" and r[5] == unit["id"] for r in rows)
    assert "path" not in fields  # derived, not business data


def test_edit_through_the_form(app, world, unit):

    client = login(app.test_client(), world.users["admin"])
    resp = client.post(f"/unitview/edit/{unit['id']}", data={
        "name": unit["name"] + "（改）", "parent": world.units["b"], "level": "委办局", "unit_type": "公安",
        "region_code": "420100", "max_grade": "县处级正职", "authority": "处级任免权",
    })
    assert resp.status_code == 302, resp.get_data(as_text=True)[:400]
    rows = _rows(app, unit["id"])
    assert (world.users["admin"], "web", "name", unit["name"], unit["name"] + "（改）", unit["id"]) in rows
    assert (world.users["admin"], "web", "unit_type", "政府", "公安", unit["id"]) in rows
    assert not [r for r in rows if r[2] in ("level", "max_grade")]  # unchanged fields leave no row


def test_edit_through_the_api(app, world, unit):

    client = login(app.test_client(), world.users["admin"])
    resp = client.put(f"/api/v1/unit/{unit['id']}", json={"name": unit["name"] + "API", "dual_managed": True})
    assert resp.status_code == 200, resp.get_json()
    rows = _rows(app, unit["id"])
    assert (world.users["admin"], "api", "name", unit["name"], unit["name"] + "API", unit["id"]) in rows
    assert (world.users["admin"], "api", "dual_managed", "否", "是", unit["id"]) in rows


def test_edit_through_the_cli(app, unit):
    result = app.test_cli_runner().invoke(args=["units", "update", unit["code"], "--name", "命令行改名",
                                                "--authority", "科级任免权"])
    assert result.exit_code == 0, result.output
    rows = _rows(app, unit["id"])
    assert ("命令行", "cli", "name", unit["name"], "命令行改名", unit["id"]) in rows
    assert ("命令行", "cli", "authority", "处级任免权", "科级任免权", unit["id"]) in rows


def test_bad_cli_edit_writes_nothing(app, unit):
    result = app.test_cli_runner().invoke(args=["units", "update", unit["code"], "--level", "火星"])
    assert result.exit_code != 0
    assert "层级" in result.output
    with app.app_context():
        assert db.session.get(Unit, unit["id"]).level == "委办局"
    assert not _rows(app, unit["id"], field="level")


def test_delete_is_recorded(app, world, unit):

    client = login(app.test_client(), world.users["admin"])
    assert client.delete(f"/api/v1/unit/{unit['id']}").status_code == 200
    rows = _rows(app, unit["id"], action="delete")
    assert (world.users["admin"], "api", "name", unit["name"], None, unit["id"]) in rows


def test_record_page_shows_its_history(app, world, unit):

    client = login(app.test_client(), world.users["admin"])
    client.put(f"/api/v1/unit/{unit['id']}", json={"name": "历史可见"})
    html = client.get(f"/unitview/show/{unit['id']}").get_data(as_text=True)
    assert 'id="history"' in html
    assert "历史可见" in html and unit["name"] in html
    # a supervisor of the subtree sees it too; the sibling's clerk does not see the page at all

    sup = login_as(app.test_client(), world.users["sup_root"])
    assert "历史可见" in sup.get(f"/unitview/show/{unit['id']}").get_data(as_text=True)
    other = login_as(app.test_client(), world.users["clerk_a"])
    assert other.get(f"/unitview/show/{unit['id']}").status_code == 404


def test_write_without_actor_is_refused(app, world):
    with app.app_context():
        unit = db.session.get(Unit, world.units["b"])
        unit.name = "无人修改"
        with pytest.raises(AuditError):
            db.session.commit()
        db.session.rollback()
        assert db.session.get(Unit, world.units["b"]).name == world.names["b"]


def test_audit_rows_cannot_be_changed_or_deleted(app, world):
    with app.app_context():
        row = db.session.execute(select(AuditLog).order_by(AuditLog.id)).scalars().first()
        original = row.new_value
        # through the ORM
        row.new_value = "篡改"
        with acting_as("测试", "cli"), pytest.raises(AuditError):
            db.session.commit()
        db.session.rollback()
        db.session.delete(db.session.get(AuditLog, row.id))
        with acting_as("测试", "cli"), pytest.raises(AuditError):
            db.session.commit()
        db.session.rollback()
        # and in the database itself, below the app
        for sql in ("UPDATE audit_log SET new_value = 'x' WHERE id = :id", "DELETE FROM audit_log WHERE id = :id"):
            with pytest.raises(DatabaseError) as err:
                with db.engine.begin() as conn:
                    conn.execute(text(sql), {"id": row.id})
            assert "痕迹记录只能追加" in str(err.value)
        assert db.session.get(AuditLog, row.id).new_value == original


def test_failed_write_leaves_no_trace(app, world):
    """The trace is written in the same transaction as the change: a refused change leaves none."""

    client = login(app.test_client(), world.users["admin"])
    with app.app_context():
        before = db.session.execute(select(db.func.count(AuditLog.id))).scalar()
    resp = client.put(f"/api/v1/unit/{world.units['a']}", json={"level": "不存在的层级"})
    assert resp.status_code == 400
    assert "层级" in resp.get_json()["message"]
    with app.app_context():
        assert db.session.execute(select(db.func.count(AuditLog.id))).scalar() == before
        assert db.session.get(Unit, world.units["a"]).level == "委办局"


def test_ids_are_never_reused_so_histories_never_mix(app, world, client_for):
    """On SQLite a deleted row's id would be reused without AUTOINCREMENT; the audit trail is
    keyed by table and id, so a new record would inherit a deleted one's history."""
    client = client_for("admin")
    base = {"parent": world.units["b"], "level": "委办局", "unit_type": "政府", "max_grade": "县处级副职",
            "authority": "科级任免权", "dual_managed": False}
    first = client.post("/api/v1/unit/", json={**base, "code": unique("R"), "name": "先建后删"}).get_json()["id"]
    assert client.delete(f"/api/v1/unit/{first}").status_code == 200
    second = client.post("/api/v1/unit/", json={**base, "code": unique("R"), "name": "后建"}).get_json()["id"]
    assert second != first
    assert not [r for r in _rows(app, second, action="delete")]
