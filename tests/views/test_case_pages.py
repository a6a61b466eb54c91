"""Guided entry (人机对话) in the browser's terms: the case page, module forms, step order,
item-by-item messages, attachments."""
import datetime as dt
import io
import re

from sqlalchemy import func, select

from app.extensions import db
from app.models import Attachment, Case, Unit
from app.spec import module
from tests.factories import form_payload, valid_case

PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


def _values(app, world):
    values = valid_case()
    with app.app_context():
        code = db.session.get(Unit, world.units["a"]).code
    values["motion"]["reporting_unit"] = code
    values["motion"]["target_unit"] = code
    return values


def _new_case(client) -> int:
    resp = client.post("/cases/new", data={"confirm": "1"})
    assert resp.status_code == 302
    return int(re.search(r"/cases/show/(\d+)", resp.headers["Location"]).group(1))


def test_case_page_lists_the_eleven_steps(app, world, client_for):
    client = client_for("clerk_a")
    assert "新建案例" in client.get("/cases/list/").get_data(as_text=True)
    case_id = _new_case(client)
    html = client.get(f"/cases/show/{case_id}").get_data(as_text=True)
    steps = re.findall(r'<tr data-module="(\w+)">', html)
    assert steps == ["qualification", "motion", "nomination", "recommendation", "inspection", "consultation",
                     "decision", "publicity", "appointment", "signature", "submission"]
    table = html.split('id="modules"')[1].split("</table>")[0]
    assert table.count(">未填<") == 11
    with app.app_context():
        case = db.session.get(Case, case_id)
        assert case.unit_id == world.units["a"] and case.case_no.startswith(case.unit.code + "-")


def test_new_case_asks_first_and_a_post_without_the_confirmation_creates_nothing(app, world, client_for):
    client = client_for("clerk_a")
    listing = client.get("/cases/list/").get_data(as_text=True)
    assert re.search(r'<a [^>]*href="/cases/new"[^>]*id="create-btn"', listing)  # a link to the question, not a POST

    def count():
        with app.app_context():
            return db.session.execute(select(func.count(Case.id)).where(Case.unit_id == world.units["a"])).scalar()

    before = count()
    html = client.get("/cases/new").get_data(as_text=True)
    assert count() == before
    effects = html.split('id="case-new-effects"')[1].split("</ul>")[0]
    with app.app_context():
        unit = db.session.get(Unit, world.units["a"])
        assert unit.name in effects and unit.code in effects and "不能删除" in effects
    resp = client.post("/cases/new")
    assert resp.status_code == 200 and "未新建案例" in resp.get_data(as_text=True)
    assert count() == before
    _new_case(client)
    assert count() == before + 1


def test_saving_shows_what_is_wrong_and_missing_item_by_item(app, world, client_for):
    client = client_for("clerk_a")
    case_id = _new_case(client)
    values = _values(app, world)["qualification"]
    bad = dict(values, id_card_no="110101198003150000", full_name="张3")
    payload = form_payload(bad, "qualification")
    del payload["native_place"]
    resp = client.post(f"/cases/show/{case_id}/module/qualification", data=payload)
    html = resp.get_data(as_text=True)
    assert resp.status_code == 200
    problems = dict(re.findall(r'<li data-key="(\w+)">([^<]+)</li>', html.split('id="problems"')[1].split("</ul>")[0]))
    assert "id_card_no" in problems and "校验" in problems["id_card_no"]
    assert "full_name" in problems
    assert 'value="张3"' in html  # what was typed is still there
    with app.app_context():
        assert db.session.get(Case, case_id).module_row("qualification").full_name is None  # nothing saved
    # a good save with one item left out: saved, and the missing item is named
    payload = form_payload(values, "qualification")
    del payload["native_place"]
    html = client.post(f"/cases/show/{case_id}/module/qualification", data=payload).get_data(as_text=True)
    assert 'id="missing"' in html and "籍贯" in html
    with app.app_context():
        row = db.session.get(Case, case_id).module_row("qualification")
        assert row.full_name == values["full_name"] and row.state == "填写中"
        assert row.handler == "经办人甲" and row.leader == "责任领导乙"


def test_steps_complete_in_procedure_order(app, world, client_for):
    client = client_for("clerk_a")
    case_id = _new_case(client)
    values = _values(app, world)
    # 动议 cannot be completed before 任职资格
    resp = client.post(f"/cases/show/{case_id}/module/motion", data=form_payload(values["motion"], "motion", complete="1"))
    assert "请先完成前一环节" in resp.get_data(as_text=True)
    # completing needs the handler and the responsible leader
    payload = form_payload(values["qualification"], "qualification", complete="1", handler="", leader="")
    html = client.post(f"/cases/show/{case_id}/module/qualification", data=payload).get_data(as_text=True)
    assert "经办人" in html and "责任领导" in html
    resp = client.post(f"/cases/show/{case_id}/module/qualification",
                       data=form_payload(values["qualification"], "qualification", complete="1"))
    assert resp.status_code == 302
    resp = client.post(f"/cases/show/{case_id}/module/motion", data=form_payload(values["motion"], "motion", complete="1"))
    assert resp.status_code == 302, resp.get_data(as_text=True)[-2000:]
    html = client.get(f"/cases/show/{case_id}").get_data(as_text=True)
    states = dict(re.findall(r'<tr data-module="(\w+)">.*?module-state">([^<]+)<', html, re.S))
    assert states["qualification"] == "已完成" and states["motion"] == "已完成" and states["nomination"] == "未填"


def test_attachments_are_checked_hashed_and_served_only_in_scope(app, world, client_for):
    import hashlib

    client = client_for("clerk_a")
    case_id = _new_case(client)
    values = _values(app, world)["motion"]
    payload = form_payload(values, "motion")
    payload["motion_meeting_minutes"] = (io.BytesIO(b"MZ\x90\x00 not a pdf"), "纪要.pdf")
    html = client.post(f"/cases/show/{case_id}/module/motion", data=payload).get_data(as_text=True)
    assert "文件内容与扩展名" in html
    payload = form_payload(values, "motion")
    payload["work_plan_file"] = (io.BytesIO(b"x"), "方案.exe")
    assert "不支持的文件类型" in client.post(f"/cases/show/{case_id}/module/motion", data=payload).get_data(as_text=True)
    resp = client.post(f"/cases/show/{case_id}/module/motion", data=form_payload(values, "motion"))
    assert resp.status_code in (200, 302)
    with app.app_context():
        att = db.session.execute(select(Attachment).where(Attachment.case_id == case_id,
                                                          Attachment.item_key == "work_plan_file")).scalar_one()
        assert att.sha256 == hashlib.sha256(PDF).hexdigest() and att.has_content
        assert att.storage_key not in att.filename and "static" not in app.config["UPLOAD_FOLDER"]
        att_id = att.id
    resp = client.get(f"/cases/attachment/{att_id}")
    assert resp.status_code == 200 and resp.data == PDF
    assert client_for("clerk_b").get(f"/cases/attachment/{att_id}").status_code == 404
    assert client_for("sup_root").get(f"/cases/attachment/{att_id}").status_code == 200


def test_module_api_saves_and_reports_problems(app, world, client_for):
    client = client_for("clerk_a")
    case_id = client.post("/api/v1/case/create").get_json()["id"]
    values = _values(app, world)
    body = {k: (v.isoformat() if isinstance(v, dt.date) else v) for k, v in values["qualification"].items()}
    body["members_present"] = 1
    resp = client.put(f"/api/v1/case/{case_id}/module/qualification", json=body)
    assert resp.status_code == 400 and resp.get_json()["problems"][0]["key"] == "members_present"
    del body["members_present"]
    body["sex"] = "女"  # contradicts the ID number
    resp = client.put(f"/api/v1/case/{case_id}/module/qualification", json=body)
    assert resp.status_code == 400
    assert {p["key"] for p in resp.get_json()["problems"]} == {"sex"}
    body["sex"] = "男"
    resp = client.put(f"/api/v1/case/{case_id}/module/qualification", json={**body, "handler": "甲", "leader": "乙"})
    assert resp.status_code == 200, resp.get_json()
    assert client.post(f"/api/v1/case/{case_id}/module/qualification/complete").status_code == 200
    row = client.get(f"/api/v1/case_qualification/?q=(filters:!((col:case_id,opr:eq,value:{case_id})))").get_json()
    assert row["result"][0]["state"] == "已完成" and row["result"][0]["full_name"] == body["full_name"]
    assert module("qualification").item("full_name").label == "姓名"


def test_attachment_size_limit(app, world, client_for):
    client = client_for("clerk_a")
    case_id = _new_case(client)
    values = _values(app, world)["motion"]
    old = app.config["JISHI_ATTACHMENT_MAX_MB"]
    app.config["JISHI_ATTACHMENT_MAX_MB"] = 16 / 1048576  # 16 bytes
    try:
        html = client.post(f"/cases/show/{case_id}/module/motion", data=form_payload(values, "motion")).get_data(as_text=True)
    finally:
        app.config["JISHI_ATTACHMENT_MAX_MB"] = old
    assert "超过 16 字节" in html
    with app.app_context():
        assert db.session.execute(select(Attachment).where(Attachment.case_id == case_id)).first() is None


def _count_messages(html: str, text: str) -> int:
    return html.split('id="module-page"')[1].count(text)


def test_completing_too_early_keeps_what_was_saved_and_says_so(app, world, client_for):
    """Issue 14: a missing item was shown four times, and '以下内容有误，未保存' although the values were saved."""
    client = client_for("clerk_a")
    case_id = _new_case(client)
    values = _values(app, world)
    payload = form_payload(values["qualification"], "qualification", complete="1")
    del payload["native_place"]
    html = client.post(f"/cases/show/{case_id}/module/qualification", data=payload).get_data(as_text=True)
    assert "未保存" not in html
    summary = html.split('id="not-completed"')[1].split("</div>")[0]
    assert "已保存" in summary and "未能完成" in summary
    kept = sum(1 for k, v in payload.items() if k not in ("handler", "leader", "complete") and v)
    assert f"您填写的 {kept} 项内容已保存" in summary
    assert re.findall(r'<li data-key="(\w+)">', summary) == ["native_place"]
    # one message in the summary, one beside the field: not four
    assert _count_messages(html, "“籍贯”未填写") == 2
    field = html.split('data-item="native_place"')[1].split("</div>")[0]
    assert field.count("“籍贯”未填写") == 1
    assert f'value="{values["qualification"]["full_name"]}"' in html  # the form shows what was kept
    with app.app_context():
        row = db.session.get(Case, case_id).module_row("qualification")
        assert row.full_name == values["qualification"]["full_name"] and row.state == "填写中"
    # a later step completed before its predecessor: saved, and the reason it is not completed is named once
    html = client.post(f"/cases/show/{case_id}/module/motion",
                       data=form_payload(values["motion"], "motion", complete="1")).get_data(as_text=True)
    assert "未保存" not in html
    assert _count_messages(html, f"请先完成前一环节“{module('qualification').name}”") == 1
    assert "已保存" in html.split('id="not-completed"')[1].split("</div>")[0]
    with app.app_context():
        row = db.session.get(Case, case_id).module_row("motion")
        assert row.motion_reason == values["motion"]["motion_reason"] and row.state != "已完成"


def test_a_refused_value_is_named_once_in_the_summary_and_once_by_its_field(app, world, client_for):
    client = client_for("clerk_a")
    case_id = _new_case(client)
    values = _values(app, world)["qualification"]
    html = client.post(f"/cases/show/{case_id}/module/qualification",
                       data=form_payload(dict(values, full_name="张3"), "qualification", complete="1")
                       ).get_data(as_text=True)
    summary = html.split('id="problems"')[1].split("</div>")[0]
    assert "未保存" in summary
    (message,) = re.findall(r'<li data-key="full_name">([^<]+)</li>', summary)
    assert _count_messages(html, message.split("：")[-1]) == 2
    # a value the form itself cannot read (not a number) is in the summary too, not only beside the field
    int_item = next(i for i in module("qualification").items if i.kind == "int" and not i.system)
    payload = form_payload(values, "qualification", **{int_item.key: "十二"})
    html = client.post(f"/cases/show/{case_id}/module/qualification", data=payload).get_data(as_text=True)
    summary = html.split('id="problems"')[1].split("</div>")[0]
    assert f'data-key="{int_item.key}"' in summary and "整数" in summary
    assert html.count("应为整数") == 2
    with app.app_context():
        assert db.session.get(Case, case_id).module_row("qualification").full_name is None
