"""自定义规则 pages (app/views/custom_rules.py): write (check errors with the position, a 400 and nothing
saved), 试运行 showing the count, approval by a second administrator only, and the unit scope."""
from __future__ import annotations

import datetime as dt

from sqlalchemy import select

from app.audit import acting_as
from app.extensions import db
from app.models import CustomRuleVersion
from tests.factories import fresh_rule_code, login, make_case, office_rows, two_admins



def form(code, unit, expression, **extra):
    data = {"code": code, "title": "谈话须在决定之前", "category": "P", "severity": "red", "points": ["E", "S1"],
            "basis": "某省规定第七条", "effective_from": "2020-01-01", "unit": unit, "expression": expression}
    data.update(extra)
    return data


def test_write_try_approve_in_the_browser(app, world):
    with app.app_context():
        a1, a2 = (u.username for u in two_admins(app, "crv"))
        office = office_rows(app, world, "crv")
        case = make_case(office, dt.date(2024, 4, 8))[0]
        dept, case_no, case_id = office.dept.code, case.case_no, case.id
        sup = office.sup.username
        code = fresh_rule_code()
    author = login(app.test_client(), a1)

    resp = author.post("/custom-rules/edit", data=form(code, dept, "members_present >\n decision_date"))
    assert resp.status_code == 400
    page = resp.get_data(as_text=True)
    assert "第 1 行第 17 列：日期不能与数字比较" in page, page[-3000:]
    assert "公示结束日期" in page and "publicity_end" in page  # the item list: Chinese labels shown, keys used
    with app.app_context():
        assert db.session.execute(select(CustomRuleVersion).where(CustomRuleVersion.code == code)).first() is None

    resp = author.post("/custom-rules/edit", data=form(code, dept, f"case_no != '{case_no}'"))
    assert resp.status_code == 302, resp.get_data(as_text=True)[-2000:]
    page = author.get(f"/custom-rules/show/{code}?try=1&from=2024-04-01&to=2024-04-30&unit={dept}")
    page = page.get_data(as_text=True)
    assert '<span id="would-fire">1</span>' in page and case_no in page
    assert 'id="approve-rule"' not in page  # the author is offered no approval
    resp = author.post(f"/custom-rules/show/{code}/approve", follow_redirects=True)
    assert "四眼原则" in resp.get_data(as_text=True)

    # a supervisor of another subtree does not see it; a clerk has no access at all
    other = login(app.test_client(), world.users["sup_a"])
    assert other.get(f"/custom-rules/show/{code}").status_code == 404
    assert code not in other.get("/custom-rules/").get_data(as_text=True)
    clerk = login(app.test_client(), world.users["clerk_a"])
    assert clerk.get("/custom-rules/").status_code in (302, 403)
    # the department's own supervisor sees it
    assert code in login(app.test_client(), sup).get("/custom-rules/").get_data(as_text=True)

    second = login(app.test_client(), a2)
    page = second.get(f"/custom-rules/show/{code}").get_data(as_text=True)
    assert 'id="approve-rule"' in page
    page = second.post(f"/custom-rules/show/{code}/approve", follow_redirects=True).get_data(as_text=True)
    assert "已审批启用第 1 版" in page
    with app.app_context():
        row = db.session.execute(select(CustomRuleVersion).where(CustomRuleVersion.code == code)).scalar_one()
        assert (row.status, row.author_name, row.approver_name) == ("enabled", a1, a2)
    # the case breaking it lights red at the supervisor, with the rule's title and basis
    page = login(app.test_client(), sup).get(f"/cases/show/{case_id}").get_data(as_text=True)
    assert code in page and "谈话须在决定之前" in page


def test_rule_pack_pages_refuse_a_bad_signature_and_show_the_difference(app, world):
    import io
    import json

    from app.workflow import custom_rules as cr

    with app.app_context():
        a1, a2 = two_admins(app, "crp")
        code = fresh_rule_code()
        data = form(code, None, "true", region_code="990000", effective_from="2099-01-01")
        data.pop("unit")
        with acting_as(a1, "cli"):
            cr.save_draft(data, a1)
        with acting_as(a2, "cli"):
            cr.approve(code, a2)
        names = (a1.username, a2.username)
    client = login(app.test_client(), names[0])
    resp = client.get("/custom-rules/pack/export.json")
    assert resp.status_code == 200
    pack = json.loads(resp.get_data(as_text=True))
    assert code in [r["code"] for r in pack["rules"]]
    only = json.loads(client.get(f"/custom-rules/pack/export.json?code={code}").get_data(as_text=True))
    assert [r["code"] for r in only["rules"]] == [code]  # ?code= exports those rules only
    mine = {**pack, "rules": [dict(r, title="省里改过的标题") for r in pack["rules"] if r["code"] == code]}

    def upload(p, **extra):
        body = json.dumps(p, ensure_ascii=False).encode("utf-8")
        return client.post("/custom-rules/pack/", data={"file": (io.BytesIO(body), "pack.json"), **extra},
                           content_type="multipart/form-data")

    page = upload(mine).get_data(as_text=True)  # edited after signing
    assert "规则包签名无效" in page and 'id="pack-diff"' not in page
    with app.app_context():
        from app.workflow import rule_packs

        body = {k: v for k, v in mine.items() if k != "signature"}
        signed = {**body, "signature": rule_packs.sign(body)}
        before = len(cr.versions(code))
    page = upload(signed).get_data(as_text=True)
    assert 'id="pack-diff"' in page and "修改" in page and "省里改过的标题" in page
    with app.app_context():
        assert len(cr.versions(code)) == before  # showing the difference writes nothing
    page = client.post("/custom-rules/pack/", data={"pack": json.dumps(signed, ensure_ascii=False), "apply": "1"},
                       follow_redirects=True).get_data(as_text=True)
    assert "已写入 1 条规则的草稿版本" in page
    with app.app_context():
        latest = cr.latest(code)
        assert (latest.version_no, latest.status, latest.title) == (before + 1, "draft", "省里改过的标题")


def test_the_rule_catalogue_lists_enabled_custom_rules(app, world):
    from app.workflow import custom_rules as cr

    with app.app_context():
        a1, a2 = two_admins(app, "crl")
        code = fresh_rule_code()
        data = form(code, None, "true", region_code="990000", title="目录中的自定义规则")
        data.pop("unit")
        with acting_as(a1, "cli"):
            cr.save_draft(data, a1)
        page = login(app.test_client(), world.users["clerk_a"]).get("/rules/").get_data(as_text=True)
        assert code not in page  # a draft is not in force
        with acting_as(a2, "cli"):
            cr.approve(code, a2)
    page = login(app.test_client(), world.users["clerk_a"]).get("/rules/").get_data(as_text=True)
    assert f'data-code="{code}"' in page and "目录中的自定义规则" in page and "（c1）" in page
