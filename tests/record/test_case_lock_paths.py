"""A submitted case is read-only for its unit through every path — form, REST, CLI — and a
correction is a new version whose differences are shown field by field."""
import json
import re

import pytest
from sqlalchemy import select

from app.audit import acting_as
from app.extensions import db
from app.models import AppUser, Case, Unit
from app.scoping import Scope
from app.workflow import submission as case_workflow
from app.workflow import cases
from app.record.data import to_exchange
from app.workflow.exchange import import_cases
from tests.factories import form_payload, make_user, unique, valid_case

CONTENT = ("qualification", "motion", "nomination", "recommendation", "inspection", "consultation", "decision")


@pytest.fixture()
def submitted(app, world):
    """A case of unit A after 初次提交, built through the commands people use."""
    with app.app_context(), acting_as("测试", "cli"):
        sm = app.appbuilder.sm
        unit = db.session.get(Unit, world.units["a"])
        clerk = db.session.execute(select(AppUser).where(AppUser.username == world.users["clerk_a"])).scalar_one()
        signers = [make_user(sm, unique("sg").lower(), ["签字领导"], unit.id) for _ in range(3)]
        db.session.commit()
        values = valid_case()
        values["motion"]["reporting_unit"] = values["motion"]["target_unit"] = unit.code
        data = {k: v for k, v in to_exchange(values).items() if k in CONTENT}
        data["motion"].pop("case_no", None)
        [case_id] = import_cases(data, Scope("all"), clerk)
        case = db.session.get(Case, case_id)
        for key in CONTENT:
            cases.save_module(case, key, {}, handler="经办人", leader="领导")
            cases.complete_module(case, key)
        for level, signer in enumerate(signers, start=1):
            case_workflow.sign(case, signer, level, f"职务{level}", "情况属实同意报送")
        case_workflow.set_pledge(case, clerk, True)
        case_workflow.submit(case, clerk, 1)
        return {"id": case_id, "name": values["qualification"]["full_name"]}


def test_locked_through_the_form(app, world, submitted, client_for):
    client = client_for("clerk_a")
    html = client.get(f"/cases/show/{submitted['id']}/module/motion").get_data(as_text=True)
    assert "本环节已锁定" in html
    values = valid_case()["motion"]
    values["target_post"] = "改动后的职务"
    client.post(f"/cases/show/{submitted['id']}/module/motion", data=form_payload(values, "motion"))
    with app.app_context():
        assert db.session.get(Case, submitted["id"]).module_row("motion").target_post != "改动后的职务"


def test_locked_through_the_api(app, world, submitted, client_for):
    client = client_for("clerk_a")
    resp = client.put(f"/api/v1/case/{submitted['id']}/module/qualification", json={"full_name": "改名换姓"})
    assert resp.status_code == 400 and "锁定" in resp.get_json()["message"]
    # the steps after the decision stay open until the second submission
    resp = client.put(f"/api/v1/case/{submitted['id']}/module/publicity",
                      json={"publicity_required": True, "handler": "经办人", "leader": "领导"})
    assert resp.status_code == 200, resp.get_json()
    with app.app_context():
        assert db.session.get(Case, submitted["id"]).full_name == submitted["name"]


def test_locked_through_the_cli(app, world, submitted, tmp_path):
    change = tmp_path / "change.json"
    change.write_text(json.dumps({"qualification": {"full_name": "命令行改名"}}, ensure_ascii=False), "utf-8")
    result = app.test_cli_runner().invoke(args=["cases", "update", str(submitted["id"]), str(change)])
    assert result.exit_code != 0 and "锁定" in result.output
    with app.app_context():
        assert db.session.get(Case, submitted["id"]).module_row("qualification").full_name == submitted["name"]


def test_correction_is_a_new_version_with_a_field_diff(app, world, submitted, client_for):
    sup = client_for("sup_root")
    resp = sup.post(f"/api/v1/case/{submitted['id']}/return", json={"reason": "考察谈话人数填写有误"})
    assert resp.status_code == 200, resp.get_json()
    new_id = resp.get_json()["id"]
    clerk = client_for("clerk_a")
    resp = clerk.put(f"/api/v1/case/{new_id}/module/inspection", json={"interview_count": 31})
    assert resp.status_code == 200, resp.get_json()
    html = clerk.get(f"/cases/show/{new_id}/diff/{submitted['id']}").get_data(as_text=True)
    rows = html.split('id="changes"')[1]
    assert "30" in rows and "31" in rows
    # 版本比较 in words: the module's name from the catalogue, values as people read them (issue 14)
    from app.spec import module

    table = re.sub(r"<[^>]+>", " ", rows.split("</table>")[0])
    assert module("inspection").name in table
    for raw in ("inspection", "submission", "signature", "True", "False", "None", "{'"):
        assert raw not in table, raw
    with app.app_context():
        old, new = db.session.get(Case, submitted["id"]), db.session.get(Case, new_id)
        assert old.module_row("inspection").interview_count == 30 and not old.is_current
        assert new.previous_id == old.id and new.version_no == 2 and new.case_no == old.case_no
    # the old version stays read-only, even for the supervisor's API
    assert clerk.put(f"/api/v1/case/{submitted['id']}/module/inspection", json={"interview_count": 32}).status_code == 400


def test_openapi_documents_the_case_api(client_for):
    spec = client_for("admin").get("/api/v1/_openapi").get_json()
    for path in ("/api/v1/case/import", "/api/v1/case/{pk}/export", "/api/v1/case/{pk}/module/{key}",
                 "/api/v1/case/{pk}/sign", "/api/v1/case/{pk}/submit/{node}", "/api/v1/signature/",
                 "/api/v1/submission/", "/api/v1/batch/", "/api/v1/case_decision/"):
        assert path in spec["paths"], path
