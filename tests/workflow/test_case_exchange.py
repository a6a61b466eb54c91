"""The JSON exchange: spec coverage, export→import round trip, bad input writes nothing, CLI and REST."""
import json
from pathlib import Path

import pytest
from sqlalchemy import func, select

from app.audit import acting_as
from app.extensions import db
from app.models import MODULE_MODELS, Batch, Case, CasePerson, Unit
from app.record.data import export_case
from app.spec import BATCH_ITEMS, items_by_key, modules
from tests.factories import ADDED_ITEMS, case_json

SHARED_SPEC = Path(__file__).resolve().parents[3] / "shared" / "spec" / "modules.json"


# ---- spec coverage ----------------------------------------------------------------------------------

def _shared_spec():
    if not SHARED_SPEC.exists():
        pytest.skip(f"shared spec not found at {SHARED_SPEC}")
    return json.loads(SHARED_SPEC.read_text(encoding="utf-8"))


def test_our_spec_covers_the_shared_one():
    """app/spec grows shared/spec (issue 13's items), and keeps every shared item as it is."""
    ours = json.loads((Path(__file__).resolve().parents[2] / "app/spec/modules.json").read_text("utf-8"))
    shared = {m["key"]: m for m in _shared_spec()["modules"]}
    assert [m["key"] for m in ours["modules"]] == list(shared)
    for module in ours["modules"]:
        kept = [i for i in module["items"] if i["key"] not in ADDED_ITEMS]
        assert kept == shared[module["key"]]["items"], module["key"]


def test_every_item_exists_with_its_type_and_required_flag():
    """Each of the 181 keys is a typed column (or a proper model for persons, files and units)."""
    from sqlalchemy import JSON, Boolean, Date, Integer, String, Text

    from app.models import Attachment

    spec = _shared_spec()
    total = 0
    expected_sql = {"text": (Text, String), "int": (Integer,), "date": (Date,), "bool": (Boolean,),
                    "enum": (String,), "enum*": (JSON,)}
    parsed = items_by_key()
    for mod in spec["modules"]:
        model = MODULE_MODELS[mod["key"]]
        assert len(mod["items"]) == mod["declared_items"]
        for item in mod["items"]:
            total += 1
            key = item["key"]
            ours = parsed[key]
            assert ours.type == item["type"] and ours.label == item["label"]
            assert ours.required == ("cond" if item["required"].startswith("cond") else item["required"]), key
            holder = Batch if key in BATCH_ITEMS else model
            if key == "case_no":
                assert isinstance(Case.__table__.c.case_no.type, String)
            elif key == "reporting_unit":
                assert Case.__table__.c.unit_id.foreign_keys
            elif ours.kind in expected_sql:
                column = holder.__table__.c[key]
                assert isinstance(column.type, expected_sql[ours.kind]), key
            elif ours.kind == "file-ref":
                fk = holder.__table__.c[f"{key}_id"].foreign_keys
                assert {f.column.table.name for f in fk} == {Attachment.__tablename__}
            elif ours.kind == "unit":
                fk = holder.__table__.c[f"{key}_id"].foreign_keys
                assert {f.column.table.name for f in fk} == {Unit.__tablename__}
            else:
                assert ours.kind in ("person", "person[]")
                assert {"name", "id_card_no", "post", "item_key", "position"} <= set(CasePerson.__table__.c.keys())
            if ours.kind in ("enum", "enum*"):
                assert ours.choices, key
    assert total == 181  # every shared item is ours, with its type ...
    ours = {i.key for m in modules() for i in m.items}
    assert len(ours) == 181 + len(ADDED_ITEMS) and set(ADDED_ITEMS) <= ours  # ... and ours adds issue 13's


# ---- import / export -------------------------------------------------------------------------------

def _counts():
    return (db.session.scalar(select(func.count(Case.id))), db.session.scalar(select(func.count(CasePerson.id))),
            db.session.scalar(select(func.count(Batch.id))))


def test_export_then_import_gives_back_the_same_values(app, world, ctx):
    from app.scoping import Scope
    from app.workflow.exchange import import_cases

    data = case_json(world)
    with acting_as("测试", "cli"):
        [first] = import_cases(data, Scope("all"))
    exported = export_case(db.session.get(Case, first))
    case_no = exported["motion"].pop("case_no")
    assert case_no.startswith(data["motion"]["reporting_unit"] + "-")
    assert exported == data  # every value of the file came back
    # and once more: export → import → export is a fixed point (case number aside)
    again = json.loads(json.dumps(exported))
    with acting_as("测试", "cli"):
        [second] = import_cases(again, Scope("all"))
    second_export = export_case(db.session.get(Case, second))
    second_export["motion"].pop("case_no")
    assert second_export == exported
    # both cases share the meeting's batch (一批一档)
    assert db.session.get(Case, first).batch_id == db.session.get(Case, second).batch_id
    n_values = sum(len(m) for m in exported.values())
    assert n_values >= 130  # nearly all of the 157 entered items (181 less the 24 system records) carry a value


def test_bad_input_lists_every_problem_and_writes_nothing(app, world, ctx):
    from app.scoping import Scope
    from app.workflow.exchange import ImportFailed, import_cases

    good = case_json(world)
    bad = case_json(world)
    bad["qualification"]["id_card_no"] = "110101198003150000"  # wrong check digit
    bad["decision"]["members_present"] = 99  # more than members_total
    bad["motion"]["selection_type"] = "空降"  # not in the enum
    bad["inspection"]["inspection_start"] = "2025-13-01"  # not a date
    bad["nomination"]["unknown_key"] = 1
    bad["martian"] = {}
    before = _counts()
    with acting_as("测试", "cli"), pytest.raises(ImportFailed) as err:
        import_cases([good, bad], Scope("all"))
    problems = err.value.problems
    where = {(p["case"], p["module"], p["key"]) for p in problems}
    assert {(1, "motion", "selection_type"), (1, "inspection", "inspection_start"),
            (1, "nomination", "unknown_key"), (1, "martian", "")} <= where
    assert all(p["message"] and not p["message"].isascii() for p in problems)  # Chinese messages
    assert _counts() == before  # the good case was not written either


def test_an_imported_pledge_is_refused(app, world, ctx):
    from app.scoping import Scope
    from app.workflow.exchange import ImportFailed, import_cases

    data = case_json(world)
    data["signature"]["authenticity_pledge"] = True
    before = _counts()
    with acting_as("测试", "cli"), pytest.raises(ImportFailed) as err:
        import_cases(data, Scope("all"))
    assert [(p["module"], p["key"]) for p in err.value.problems] == [("signature", "authenticity_pledge")]
    assert _counts() == before


def test_values_checks_run_on_import(app, world, ctx):
    from app.scoping import Scope
    from app.workflow.exchange import ImportFailed, import_cases

    bad = case_json(world, {("decision", "members_present"): 99})
    with acting_as("测试", "cli"), pytest.raises(ImportFailed) as err:
        import_cases(bad, Scope("all"))
    assert ("decision", "members_present") in {(p["module"], p["key"]) for p in err.value.problems}


def test_import_refuses_a_unit_outside_the_scope(app, world, ctx):
    from app.scoping import scope_for
    from app.models import AppUser
    from app.workflow.exchange import ImportFailed, import_cases

    clerk_b = db.session.execute(select(AppUser).where(AppUser.username == world.users["clerk_b"])).scalar_one()
    with acting_as(clerk_b, "cli"), pytest.raises(ImportFailed) as err:
        import_cases(case_json(world), scope_for(clerk_b), clerk_b)
    assert any("权限范围" in p["message"] for p in err.value.problems)


def test_cli_import_and_export(app, world, tmp_path):
    with app.app_context():
        data = case_json(world)
    good = tmp_path / "case.json"
    good.write_text(json.dumps([data, data], ensure_ascii=False), encoding="utf-8")
    runner = app.test_cli_runner()
    result = runner.invoke(args=["cases", "import", str(good), "--json"])
    assert result.exit_code == 0, result.output
    created = json.loads(result.output)["created"]
    assert len(created) == 2
    out = runner.invoke(args=["cases", "export", str(created[0])])
    assert out.exit_code == 0
    exported = json.loads(out.output)
    exported["motion"].pop("case_no")
    assert exported == data
    bad = tmp_path / "bad.json"
    data["decision"]["members_total"] = 2
    bad.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
    with app.app_context():
        before = _counts()
    result = runner.invoke(args=["cases", "import", str(bad)])
    assert result.exit_code != 0
    assert "members_total" in result.output and "未写入任何数据" in result.output
    with app.app_context():
        assert _counts() == before
    (tmp_path / "broken.json").write_text("{not json", encoding="utf-8")
    assert runner.invoke(args=["cases", "import", str(tmp_path / "broken.json")]).exit_code != 0


def test_rest_import_and_export_are_scoped(app, world, client_for):
    with app.app_context():
        data = case_json(world)
    clerk_a = client_for("clerk_a")
    resp = clerk_a.post("/api/v1/case/import", json=data)
    assert resp.status_code == 201, resp.get_json()
    [case_id] = resp.get_json()["created"]
    exported = clerk_a.get(f"/api/v1/case/{case_id}/export").get_json()["result"]
    exported["motion"].pop("case_no")
    assert exported == data
    # a sibling's clerk can neither read it nor import into unit A
    clerk_b = client_for("clerk_b")
    assert clerk_b.get(f"/api/v1/case/{case_id}/export").status_code == 404
    resp = clerk_b.post("/api/v1/case/import", json=data)
    assert resp.status_code == 400
    assert any("权限范围" in p["message"] for p in resp.get_json()["problems"])
    # bad input: 400 with every problem, nothing written
    with app.app_context():
        before = _counts()
    data["motion"]["selection_type"] = "空降"
    resp = clerk_a.post("/api/v1/case/import", json=data)
    assert resp.status_code == 400
    assert resp.get_json()["problems"][0]["key"] == "selection_type"
    with app.app_context():
        assert _counts() == before
