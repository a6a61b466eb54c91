"""`flask items add FILE.json --as-user NAME` (issue 16): an admin adds a custom item; anything wrong is
refused with Chinese messages and exit status 1, and nothing is written."""
from __future__ import annotations

import json

from sqlalchemy import select

from app.extensions import db
from app.models import AuditLog, CustomItem
from tests.factories import unique


def _run(app, tmp_path, data, user):
    path = tmp_path / "item.json"
    path.write_text(data if isinstance(data, str) else json.dumps(data, ensure_ascii=False), encoding="utf-8")
    return app.test_cli_runner().invoke(args=["items", "add", str(path), "--as-user", user])


def _item(office, **over):
    return {"module": "inspection", "key": unique("lz").lower(), "label": f"是否经过任前廉政谈话{unique('L')}",
            "type": "bool", "required": False, "effective_from": "2026-01-01", "unit": office.unit.code, **over}


def test_admin_adds_an_item_listed_and_audited(app, world, office, tmp_path):
    data = _item(office, region_code="420100")
    result = _run(app, tmp_path, data, world.users["admin"])
    assert result.exit_code == 0, result.output
    assert f"inspection.{data['key']}" in result.output
    row = db.session.execute(select(CustomItem).where(CustomItem.key == data["key"])).scalar_one()
    assert (row.label, row.type, row.required, row.region_code, row.unit_id) == \
        (data["label"], "bool", "N", "420100", office.unit.id)
    assert row.author_name == world.users["admin"]
    assert db.session.execute(select(AuditLog.id).where(AuditLog.table_name == "custom_item",
                                                        AuditLog.record_id == str(row.id))).first()
    listed = app.test_cli_runner().invoke(args=["items", "list", "--json"])
    assert any(d["key"] == data["key"] and d["unit"] == office.unit.code for d in json.loads(listed.output))


def test_bad_input_is_refused_in_chinese_and_nothing_written(app, world, office, tmp_path):
    before = db.session.execute(select(CustomItem.id)).all()
    bad = _item(office, key="full_name", type="decimal", effective_from="明天")
    result = _run(app, tmp_path, bad, world.users["admin"])
    assert result.exit_code == 1
    assert "与目录中的数据项“姓名”" in result.output and "类型“decimal”无效" in result.output
    assert "生效日期“明天”无效" in result.output and "未写入任何数据" in result.output
    assert "Traceback" not in result.output
    result = _run(app, tmp_path, "{not json", world.users["admin"])
    assert result.exit_code == 1 and "不是有效的 JSON" in result.output
    result = _run(app, tmp_path, [1, 2], world.users["admin"])
    assert result.exit_code == 1 and "应为一个 JSON 对象" in result.output
    db.session.rollback()
    assert db.session.execute(select(CustomItem.id)).all() == before


def test_only_an_admin(app, world, office, tmp_path):
    result = _run(app, tmp_path, _item(office), world.users["sup_root"])
    assert result.exit_code == 1 and "只有系统管理员可以添加自定义数据项" in result.output
    result = _run(app, tmp_path, _item(office), "nobody-such")
    assert result.exit_code == 1 and "不存在" in result.output


def test_deactivate_and_activate_an_item(app, world, office, tmp_path):
    data = _item(office)
    assert _run(app, tmp_path, data, world.users["admin"]).exit_code == 0
    runner = app.test_cli_runner()
    result = runner.invoke(args=["items", "deactivate", data["key"], "--as-user", world.users["admin"]])
    assert result.exit_code == 0 and "已停用自定义数据项" in result.output, result.output
    listed = json.loads(runner.invoke(args=["items", "list", "--json"]).output)
    assert next(d for d in listed if d["key"] == data["key"])["active"] is False
    assert "已停用" in runner.invoke(args=["items", "list"]).output
    again = runner.invoke(args=["items", "deactivate", data["key"], "--as-user", world.users["admin"]])
    assert again.exit_code == 1 and "已是停用状态" in again.output and "未写入任何数据" in again.output
    denied = runner.invoke(args=["items", "activate", data["key"], "--as-user", office.clerk.username])
    assert denied.exit_code == 1 and "只有系统管理员" in denied.output
    db.session.expire_all()
    assert db.session.execute(select(CustomItem.active).where(CustomItem.key == data["key"])).scalar_one() is False
    result = runner.invoke(args=["items", "activate", data["key"], "--as-user", world.users["admin"]])
    assert result.exit_code == 0 and "已启用" in result.output
    db.session.expire_all()
    assert db.session.execute(select(CustomItem.active).where(CustomItem.key == data["key"])).scalar_one() is True
