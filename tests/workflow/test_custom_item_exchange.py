"""Custom items (自定义数据项) in the JSON exchange format (docs/exchange-format.md): exported under their
module, imported for a unit in their scope, refused (as an unknown key, nothing written) elsewhere, typed
on import and through the REST API."""
from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import func, select

from app.audit import acting_as
from app.extensions import db
from app.models import Case, CustomValue
from app.record.data import export_case, read_module
from app.scoping import Scope
from app.workflow import cases
from app.workflow.exchange import ImportFailed, export_content, import_cases
from tests.factories import (
    case_values, custom_item, login, office_ids, record_case, to_exchange, user_named, valid_case,
)


def _file(unit, changes):
    values = case_values(unit)
    values["motion"]["case_no"] = None
    data = to_exchange(values)
    data["signature"], data["submission"] = {}, {}
    for module_key, items in changes.items():
        data[module_key].update(items)
    return data


def test_export_and_import_round_trip(office, world):
    admin = user_named(world.users["admin"])
    talk = custom_item(admin, office.unit, type="date", module="inspection", label="任前廉政谈话日期")
    done = custom_item(admin, office.unit, type="bool", module="inspection", label="是否经过任前廉政谈话")
    case = record_case(office.unit, office.clerk, case_values(office.unit))
    with acting_as(office.clerk, "cli"):
        cases.save_module(case, "inspection", {talk["key"]: dt.date(2026, 2, 27), done["key"]: True})
    exported = export_case(case)
    assert exported["inspection"][talk["key"]] == "2026-02-27" and exported["inspection"][done["key"]] is True
    again = export_content(case)
    again["motion"]["case_no"] = None
    with acting_as(office.clerk, "cli"):
        [new_id] = import_cases(again, Scope("all"), office.clerk)
    new = db.session.get(Case, new_id)
    values = read_module(new, "inspection")
    assert values[talk["key"]].isoformat() == "2026-02-27" and values[done["key"]] is True
    assert db.session.execute(select(func.count()).select_from(CustomValue)
                              .where(CustomValue.case_id == new_id)).scalar() == 2


def test_import_of_another_scopes_item_or_a_wrong_type_writes_nothing(office, world, team):
    admin = user_named(world.users["admin"])
    talk = custom_item(admin, office.unit, type="date", label="任前廉政谈话日期")
    before = db.session.execute(select(func.count(Case.id))).scalar()
    # unit A of the world is outside the item's scope: the key is unknown there
    with pytest.raises(ImportFailed) as exc:
        import_cases(_file(team.unit, {"qualification": {talk["key"]: "2026-02-27"}}), Scope("all"))
    assert [p["message"] for p in exc.value.problems] == [f"模块“任职资格/基本信息”没有数据项“{talk['key']}”"]
    with pytest.raises(ImportFailed) as exc:
        import_cases(_file(office.unit, {"qualification": {talk["key"]: "27/02/2026"}}), Scope("all"))
    assert "“任前廉政谈话日期”应为日期（YYYY-MM-DD），实际为“27/02/2026”" in exc.value.problems[0]["message"]
    db.session.rollback()
    assert db.session.execute(select(func.count(Case.id))).scalar() == before


def test_rest_module_put_types_and_scopes_custom_items(app, world):
    ids = office_ids(app, world, "cia")
    with app.app_context():
        from app.models import Unit
        talk = custom_item(user_named(world.users["admin"]), db.session.get(Unit, ids.unit_id), type="int",
                           label="谈话次数")
    client = login(app.test_client(), ids.clerk)
    resp = client.post("/cases/new", data={"confirm": "1"})
    case_id = int(resp.headers["Location"].rsplit("/", 1)[1])
    body = valid_case()["qualification"]
    body = {k: (v.isoformat() if hasattr(v, "isoformat") else v) for k, v in body.items()}
    resp = client.put(f"/api/v1/case/{case_id}/module/qualification", json={**body, talk["key"]: "两次"})
    assert resp.status_code == 400 and "“谈话次数”应为整数" in str(resp.get_json())
    resp = client.put(f"/api/v1/case/{case_id}/module/qualification", json={**body, talk["key"]: 2})
    assert resp.status_code == 200, resp.get_data(as_text=True)
    exported = client.get(f"/api/v1/case/{case_id}/export").get_json()
    assert (exported.get("result") or exported)["qualification"][talk["key"]] == 2
    # another unit's clerk cannot name it at all
    other = login(app.test_client(), world.users["clerk_b"])
    resp = other.post("/cases/new", data={"confirm": "1"})
    other_id = int(resp.headers["Location"].rsplit("/", 1)[1])
    resp = other.put(f"/api/v1/case/{other_id}/module/qualification", json={**body, talk["key"]: "两次"})
    assert resp.status_code == 400
    text = str(resp.get_json())
    assert "没有数据项" in text and "谈话次数" not in text
