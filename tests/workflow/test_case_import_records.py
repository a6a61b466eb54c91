"""System records (signatures, the pledge, submissions) never come from a file or a module save, and
import answers say nothing about other units."""
from __future__ import annotations

import json

import pytest
from sqlalchemy import func, select

from app.audit import acting_as
from app.extensions import db
from app.models import AppUser, Case, CasePerson, Signature, Submission, Unit
from app.scoping import Scope
from app.workflow.exchange import ImportFailed, import_cases
from tests.factories import build_case, case_json, sign_all

FAKE = "伪造签字人"
FORGED = {
    "signature": {"sig1_signer": {"name": FAKE, "post": "组织部副部长"}, "sig1_post": "组织部副部长",
                  "sig1_opinion": "情况属实同意报送", "sig1_signed_at": "2026-02-13"},
    "submission": {"first_submitted_at": "2026-02-14", "first_submitter": {"name": "伪造提交人"}},
}
FORGED_KEYS = {("signature", "sig1_signer"), ("signature", "sig1_post"), ("signature", "sig1_opinion"),
               ("signature", "sig1_signed_at"), ("submission", "first_submitted_at"),
               ("submission", "first_submitter")}


def _forged(world) -> dict:
    data = case_json(world)
    data.update(json.loads(json.dumps(FORGED)))
    return data


def _counts():
    return tuple(db.session.scalar(select(func.count(m.id))) for m in (Case, CasePerson, Signature, Submission))


def test_a_file_with_signatures_and_submission_dates_is_refused_by_the_cli(app, world, tmp_path):
    with app.app_context():
        data = _forged(world)
        before = _counts()
    path = tmp_path / "forged.json"
    path.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
    result = app.test_cli_runner().invoke(args=["cases", "import", str(path), "--json"])
    assert result.exit_code == 1
    problems = json.loads(result.stdout)["problems"]
    assert {(p["module"], p["key"]) for p in problems} == FORGED_KEYS
    assert all("系统记录" in p["message"] for p in problems)
    assert "signature.sig1_signer" in result.output and "未写入任何数据" in result.output
    with app.app_context():
        assert _counts() == before
    # and `flask cases update` cannot write them into an existing draft either
    with app.app_context(), acting_as("测试", "cli"):
        [case_id] = import_cases(case_json(world), Scope("all"))
    one = tmp_path / "signature.json"
    one.write_text(json.dumps({"signature": FORGED["signature"]}, ensure_ascii=False), encoding="utf-8")
    result = app.test_cli_runner().invoke(args=["cases", "update", str(case_id), str(one)])
    assert result.exit_code == 1 and "已锁定" in result.output
    with app.app_context():
        assert db.session.get(Case, case_id).module_row("signature").sig1_opinion is None
        assert not [p for p in db.session.get(Case, case_id).persons if p.name == FAKE]


def test_a_file_with_signatures_is_refused_over_rest_and_pages_show_no_fake_signer(app, world, client_for):
    with app.app_context():
        data = _forged(world)
        before = _counts()
    clerk = client_for("clerk_a")
    resp = clerk.post("/api/v1/case/import", json=data)
    assert resp.status_code == 400
    body = resp.get_json()
    assert {(p["module"], p["key"]) for p in body["problems"]} == FORGED_KEYS and "未写入任何数据" in body["message"]
    with app.app_context():
        assert _counts() == before
    # the same content without the records imports; nothing of the forgery shows anywhere
    content = {k: v for k, v in data.items() if k not in FORGED}
    resp = clerk.post("/api/v1/case/import", json=content)
    assert resp.status_code == 201, resp.get_json()
    [case_id] = resp.get_json()["created"]
    # a module save cannot write them either
    for key, block in FORGED.items():
        resp = clerk.put(f"/api/v1/case/{case_id}/module/{key}", json=block)
        assert resp.status_code == 400 and "已锁定" in resp.get_json()["message"], resp.get_json()
    page = clerk.get(f"/cases/show/{case_id}").get_data(as_text=True)
    export = clerk.get(f"/api/v1/case/{case_id}/export").get_json()["result"]
    record = client_for("sup_a").get(f"/query/case/{case_id}/print")
    assert record.status_code == 200
    for text in (page, json.dumps(export, ensure_ascii=False), record.get_data(as_text=True)):
        assert FAKE not in text and "伪造提交人" not in text
    assert export["signature"] == {} and export["submission"] == {}


def test_round_trip_of_a_signed_case_goes_through_its_content(app, world, team):
    """A signed case's export carries its signatures: importing that is refused (naming them), the
    content-only export imports as a new draft with the same content."""

    case, _values = build_case(team)
    sign_all(case, team)
    full = app.test_cli_runner().invoke(args=["cases", "export", str(case.id)])
    exported = json.loads(full.output)
    assert exported["signature"]["sig1_opinion"] == "情况属实同意报送"
    exported["motion"].pop("case_no")
    with acting_as("测试", "cli"), pytest.raises(ImportFailed) as err:
        import_cases(exported, Scope("all"))
    assert ("signature", "sig1_signer") in {(p["module"], p["key"]) for p in err.value.problems}
    db.session.rollback()
    content = json.loads(app.test_cli_runner().invoke(args=["cases", "export", str(case.id), "--content-only"]).output)
    assert "signature" not in content and "submission" not in content
    content["motion"].pop("case_no")
    with acting_as("测试", "cli"):
        [copy_id] = import_cases(content, Scope("all"))
    from app.record.data import export_case

    again = export_case(db.session.get(Case, copy_id))
    again["motion"].pop("case_no")
    assert {k: v for k, v in again.items() if k not in ("signature", "submission")} == content
    assert again["signature"] == {} and again["submission"] == {}


# ---- import hygiene ---------------------------------------------------------------------------------

def test_import_answers_say_nothing_about_other_units(app, world, ctx):
    clerk = db.session.execute(select(AppUser).where(AppUser.username == world.users["clerk_a"])).scalar_one()
    from app.scoping import scope_for

    scope = scope_for(clerk)
    code_b = db.session.get(Unit, world.units["b"]).code

    def problems(changes):
        data = case_json(world)
        for (mkey, key), value in changes.items():
            data[mkey][key] = value
        with acting_as(clerk, "cli"), pytest.raises(ImportFailed) as err:
            import_cases(data, scope, clerk)
        db.session.rollback()
        return {(p["module"], p["key"]): p["message"] for p in err.value.problems}

    # a sibling unit's code is answered exactly like a code that does not exist, without its name
    foreign = problems({("motion", "reporting_unit"): code_b})[("motion", "reporting_unit")]
    missing = problems({("motion", "reporting_unit"): code_b + "X"})[("motion", "reporting_unit")]
    assert foreign.replace(code_b, "?") == missing.replace(code_b + "X", "?")
    assert world.names["b"] not in foreign and "权限范围" in foreign
    # a number used in unit B is answered like an unused number of unit B
    with acting_as("测试", "cli"):
        data_b = case_json(world)
        data_b["motion"]["reporting_unit"] = data_b["motion"]["target_unit"] = code_b
        [b_id] = import_cases(data_b, Scope("all"))
    used = db.session.get(Case, b_id).case_no
    unused = f"{code_b}-1999-0001"
    taken = problems({("motion", "case_no"): used})[("motion", "case_no")]
    free = problems({("motion", "case_no"): unused})[("motion", "case_no")]
    assert taken.replace(used, "?") == free.replace(unused, "?") and "已存在" not in taken


def test_the_cli_import_has_a_size_limit(app, world, tmp_path):
    big = tmp_path / "big.json"
    big.write_text(json.dumps([{"qualification": {"resume": "经" * 600_000}}], ensure_ascii=False), encoding="utf-8")
    assert big.stat().st_size > 1024 * 1024
    with app.app_context():
        before = _counts()
    old = app.config.get("JISHI_IMPORT_MAX_MB", 20)
    app.config["JISHI_IMPORT_MAX_MB"] = 1
    try:
        result = app.test_cli_runner().invoke(args=["cases", "import", str(big)])
    finally:
        app.config["JISHI_IMPORT_MAX_MB"] = old
    assert result.exit_code != 0 and "文件过大" in result.output and "JISHI_IMPORT_MAX_MB" in result.output
    with app.app_context():
        assert _counts() == before
