"""The unit tree: materialised paths, moves, cycles, stable codes, validation messages."""
import pytest
from sqlalchemy import select

from app.audit import acting_as
from app.extensions import db
from app.integrity import ValidationFailed
from app.models import Unit
from app.scoping import Scope, scope_for
from tests.factories import make_unit, unique


@pytest.fixture()
def branch(app, world):
    """X → Y → Z, a fresh branch under root."""
    with app.app_context(), acting_as("测试", "cli"):
        root = db.session.get(Unit, world.units["root"])
        x = make_unit(unique("X"), "X", root)
        y = make_unit(unique("Y"), "Y", x)
        z = make_unit(unique("Z"), "Z", y)
        db.session.add_all([x, y, z])
        db.session.commit()
        return {"x": x.id, "y": y.id, "z": z.id, "root": root.id}


def test_paths_follow_the_parent_chain(app, branch):
    with app.app_context():
        x, y, z = (db.session.get(Unit, branch[k]) for k in "xyz")
        assert y.path == x.path + y.code + "/"
        assert z.path == y.path + z.code + "/"
        assert z.depth == x.depth + 2


def test_moving_a_unit_moves_its_subtree(app, world, branch):
    with app.app_context(), acting_as("测试", "cli"):
        y = db.session.get(Unit, branch["y"])
        y.parent = db.session.get(Unit, world.units["b"])
        db.session.commit()
        db.session.expire_all()
        b = db.session.get(Unit, world.units["b"])
        y = db.session.get(Unit, branch["y"])
        z = db.session.get(Unit, branch["z"])
        assert y.path == b.path + y.code + "/"
        assert z.path == y.path + z.code + "/"
        # the supervisor scope of B now covers Z, the old branch no longer does
        assert Scope("subtree", b.id, b.path).contains(z.id)
        x = db.session.get(Unit, branch["x"])
        assert not Scope("subtree", x.id, x.path).contains(z.id)


def test_a_unit_cannot_move_below_itself(app, branch):
    with app.app_context(), acting_as("测试", "cli"):
        x = db.session.get(Unit, branch["x"])
        x.parent = db.session.get(Unit, branch["z"])
        with pytest.raises(ValidationFailed, match="上级单位不能是本单位或其下级单位"):
            db.session.commit()
        db.session.rollback()


def test_codes_are_stable(app, branch):
    with app.app_context(), acting_as("测试", "cli"):
        x = db.session.get(Unit, branch["x"])
        x.code = unique("NEW")
        with pytest.raises(ValidationFailed, match="不可更改"):
            db.session.commit()
        db.session.rollback()


def test_every_problem_is_reported_in_chinese(app, client_for):
    client = client_for("admin")
    resp = client.post("/api/v1/unit/", json={
        "code": "bad code!", "name": " ", "level": "火星", "unit_type": "外星", "max_grade": "将军",
        "authority": "全部", "region_code": "12",
    })
    assert resp.status_code == 400
    message = resp.get_json()["message"]
    for word in ("单位代码", "单位名称", "层级", "单位类型", "机构规格", "任免权限", "行政区划代码"):
        assert word in message


def test_form_shows_the_problem_and_keeps_the_input(app, world, client_for):
    client = client_for("admin")
    code = unique("F")
    resp = client.post("/unitview/add", data={
        "code": code, "name": "表单单位", "parent": world.units["root"], "level": "委办局",
        "unit_type": "政府", "region_code": "12", "max_grade": "县处级正职", "authority": "处级任免权",
    })
    html = resp.get_data(as_text=True)
    assert resp.status_code == 200
    assert "行政区划代码应为 6 位数字" in html
    assert code in html  # what the user typed is still there
    with app.app_context():
        assert db.session.execute(select(Unit).where(Unit.code == code)).first() is None


def test_unit_with_children_cannot_be_deleted(app, branch, client_for):
    client = client_for("admin")
    resp = client.delete(f"/api/v1/unit/{branch['x']}")
    assert resp.status_code == 400
    assert "下级单位" in resp.get_json()["message"]
    resp = client.post(f"/unitview/delete/{branch['x']}")
    assert resp.status_code == 302
    with app.app_context():
        assert db.session.get(Unit, branch["x"]) is not None


def test_subtree_scope_is_one_indexed_prefix_query(app, world):
    """The supervisor's subtree is a prefix match on the path, not a list of ids."""
    with app.app_context():
        from app.models import AppUser

        sup = db.session.execute(select(AppUser).where(AppUser.username == world.users["sup_root"])).scalar_one()
        scope = scope_for(sup)
        assert scope.kind == "subtree"
        sql = str(select(Unit.id).where(scope.clause(Unit.id)).compile(db.engine))
        assert "LIKE" in sql.upper()
        ids = set(db.session.execute(select(Unit.id).where(scope.clause(Unit.id))).scalars())
        assert set(world.units.values()) <= ids


def test_bad_edit_keeps_the_input_and_changes_nothing(app, world, branch, client_for):
    client = client_for("admin")
    resp = client.post(f"/unitview/edit/{branch['x']}", data={
        "name": "改了但不合法", "parent": world.units["root"], "level": "委办局", "unit_type": "政府",
        "region_code": "abc", "max_grade": "县处级正职", "authority": "处级任免权",
    })
    assert resp.status_code == 200
    html = resp.get_data(as_text=True)
    assert "行政区划代码应为 6 位数字" in html and "改了但不合法" in html
    with app.app_context():
        assert db.session.get(Unit, branch["x"]).name == "X"
