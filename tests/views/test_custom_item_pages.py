"""Custom items (自定义数据项) in the browser's terms: the generated module form (typed, with help text),
the case page, 明细查询 and the 纪实表 print — for cases of units in the item's scope only."""
from __future__ import annotations

import re

from sqlalchemy import select

from app.extensions import db
from app.models import Case, CustomValue
from tests.factories import custom_item, form_payload, login, office_ids, user_named, valid_case


def _new_case(client) -> int:
    resp = client.post("/cases/new", data={"confirm": "1"})
    assert resp.status_code == 302
    return int(re.search(r"/cases/show/(\d+)", resp.headers["Location"]).group(1))


def _items(app, world, ids):
    with app.app_context():
        from app.models import Unit

        admin = user_named(world.users["admin"])
        unit = db.session.get(Unit, ids.unit_id)
        talk = custom_item(admin, unit, type="date", label="任前廉政谈话日期", help_text="谈话记录上的日期")
        kind = custom_item(admin, unit, type="enum[集体谈话, 个别谈话]", label="廉政谈话方式")
    return talk, kind


def test_item_in_the_form_case_page_detail_and_print(app, world):
    ids = office_ids(app, world, "cip")
    talk, kind = _items(app, world, ids)
    client = login(app.test_client(), ids.clerk)
    case_id = _new_case(client)
    url = f"/cases/show/{case_id}/module/qualification"
    html = client.get(url).get_data(as_text=True)
    assert f'data-item="{talk["key"]}" data-kind="date"' in html and "任前廉政谈话日期" in html
    assert "谈话记录上的日期" in html and "个别谈话" in html and "custom-item" in html
    values = valid_case()["qualification"]
    # typed like a catalogued item: a wrong date is refused item by item, nothing is written
    bad = form_payload(values, "qualification", **{talk["key"]: "2026-02-30", kind["key"]: "个别谈话"})
    html = client.post(url, data=bad).get_data(as_text=True)
    assert "“任前廉政谈话日期”应为日期（YYYY-MM-DD），实际为“2026-02-30”" in html
    with app.app_context():
        assert db.session.execute(select(CustomValue).where(CustomValue.case_id == case_id)).first() is None
        assert db.session.get(Case, case_id).module_row("qualification").full_name is None
    # a value not among the choices is refused too
    html = client.post(url, data=form_payload(values, "qualification", **{kind["key"]: "电话谈话"})).get_data(as_text=True)
    assert "Not a valid choice" in html or "不是有效" in html or "选择" in html
    good = form_payload(values, "qualification", **{talk["key"]: "2026-02-27", kind["key"]: "个别谈话"})
    resp = client.post(url, data=good)
    assert resp.status_code == 302
    html = client.get(url).get_data(as_text=True)
    assert 'value="2026-02-27"' in html
    page = client.get(f"/cases/show/{case_id}").get_data(as_text=True)
    table = page.split('id="custom-items"')[1].split("</table>")[0]
    assert "任前廉政谈话日期" in table and "2026-02-27" in table and "个别谈话" in table
    history = page.split('id="history"')[1].split("</table>")[0]
    assert "自定义数据项" in history and "2026-02-27" in history  # 痕迹 on the case page
    sup = login(app.test_client(), ids.sup)
    for path in (f"/query/case/{case_id}", f"/query/case/{case_id}/print"):
        html = sup.get(path).get_data(as_text=True)
        assert "任前廉政谈话日期" in html and "2026-02-27" in html, path


def test_another_units_case_never_shows_the_item(app, world, client_for):
    ids = office_ids(app, world, "cix")
    talk, _kind = _items(app, world, ids)
    client = client_for("clerk_b")
    case_id = _new_case(client)
    html = client.get(f"/cases/show/{case_id}/module/qualification").get_data(as_text=True)
    assert talk["key"] not in html and "任前廉政谈话日期" not in html
    assert 'id="custom-items"' not in client.get(f"/cases/show/{case_id}").get_data(as_text=True)
    # posting the key anyway writes nothing
    values = valid_case()["qualification"]
    client.post(f"/cases/show/{case_id}/module/qualification",
                data=form_payload(values, "qualification", **{talk["key"]: "2026-02-27"}))
    with app.app_context():
        assert db.session.execute(select(CustomValue).where(CustomValue.case_id == case_id)).first() is None


def test_admin_page_lists_and_adds_items_others_are_denied(app, world, client_for):
    from app.models import CustomItem
    from tests.factories import unique

    ids = office_ids(app, world, "cip")
    admin = client_for("admin")
    key = unique("pg").lower()
    form = {"module": "inspection", "key": key, "label": "是否经过任前廉政谈话", "type": "bool", "required": "N",
            "effective_from": "2026-01-01", "unit": ids.code, "help_text": "省委组织部通知要求"}
    resp = admin.post("/customitems/add", data=form)
    assert resp.status_code == 302, resp.get_data(as_text=True)[:500]
    html = admin.get("/customitems/").get_data(as_text=True)
    row = html.split(f'data-key="{key}"')[1].split("</tr>")[0]
    assert "是否经过任前廉政谈话" in row and "考察" in row and ids.code in row and "是/否" in row
    # bad input: every problem in Chinese, what was typed kept, nothing written
    with app.app_context():
        before = db.session.execute(select(CustomItem.id)).all()
    bad = {**form, "key": "full_name", "type": "person", "effective_from": "2026-02-30"}
    html = admin.post("/customitems/add", data=bad).get_data(as_text=True)
    problems = html.split('id="problems"')[1].split("</ul>")[0]
    assert "与目录中的数据项“姓名”" in problems and "类型“person”无效" in problems and "生效日期“2026-02-30”无效" in problems
    with app.app_context():
        assert db.session.execute(select(CustomItem.id)).all() == before
    for who in ("clerk_a", "sup_root"):
        client = client_for(who)
        assert client.get("/customitems/").status_code != 200, who
        assert client.post("/customitems/add", data={**form, "key": unique("pg").lower()}).status_code != 200
    with app.app_context():
        assert db.session.execute(select(CustomItem.id)).all() == before


def test_admin_withdraws_an_item_on_the_page_and_its_values_stay(app, world, client_for):
    """停用 on /customitems/: a new case's form no longer offers the item, a case holding a value still shows
    it (case page, 明细查询) and 条件查询 still finds it; others may not; 启用 brings it back."""
    from app.models import CustomItem

    ids = office_ids(app, world, "ciw")
    talk, _kind = _items(app, world, ids)
    clerk = login(app.test_client(), ids.clerk)
    held = _new_case(clerk)
    url = f"/cases/show/{held}/module/qualification"
    values = valid_case()["qualification"]
    assert clerk.post(url, data=form_payload(values, "qualification", **{talk["key"]: "2026-02-27"})).status_code == 302
    for who in ("clerk_a", "sup_root"):
        assert client_for(who).post(f"/customitems/{talk['key']}/active", data={"active": "0"}).status_code != 302
    admin = client_for("admin")
    resp = admin.post(f"/customitems/{talk['key']}/active", data={"active": "0"}, follow_redirects=True)
    html = resp.get_data(as_text=True)
    assert "已停用自定义数据项“任前廉政谈话日期”" in html
    assert "已停用" in html.split(f'data-key="{talk["key"]}"')[1].split("</tr>")[0]
    with app.app_context():
        assert db.session.execute(select(CustomItem.active).where(CustomItem.key == talk["key"])).scalar_one() is False
    fresh = _new_case(clerk)
    assert f'data-item="{talk["key"]}"' not in clerk.get(f"/cases/show/{fresh}/module/qualification").get_data(as_text=True)
    page = clerk.get(f"/cases/show/{held}").get_data(as_text=True)
    assert "任前廉政谈话日期" in page.split('id="custom-items"')[1].split("</table>")[0]
    sup = login(app.test_client(), ids.sup)
    assert "2026-02-27" in sup.get(f"/query/case/{held}").get_data(as_text=True)
    assert "任前廉政谈话日期" in sup.get("/query/").get_data(as_text=True)
    # twice: refused in Chinese, nothing changed; then 启用 again
    html = admin.post(f"/customitems/{talk['key']}/active", data={"active": "0"}, follow_redirects=True).get_data(as_text=True)
    assert "已是停用状态" in html
    admin.post(f"/customitems/{talk['key']}/active", data={"active": "1"})
    assert f'data-item="{talk["key"]}"' in clerk.get(f"/cases/show/{fresh}/module/qualification").get_data(as_text=True)
