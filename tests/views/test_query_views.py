"""条件查询, 明细查询 and their exports in the browser: the page counts what the query engine counts
(drill-down from a statistics column included), bad input is told in Chinese, scope holds on every
route (list, detail, print, export, saved queries, background files), saved queries, the detail page
with the whole record chain, the printable 记实表, and the xlsx exports — at once and in the background.
"""
from __future__ import annotations

import datetime as dt
import hashlib
import io
import re
from types import SimpleNamespace
from urllib.parse import urlencode

import pytest
from sqlalchemy import func, select

from app.audit import acting_as
from app.extensions import db
from app.models import AppUser, AuditLog, Case, ExportFile, SavedQuery, TaskRun
from app.queries.cases import CaseFilter, count
from app.queries.columns import BY_KEY
from app.scoping import scope_for
from app.workflow import submission as wf
from app.workflow import cases
from app.reporting.exports import HEADERS
from app.spec import modules
from tests.factories import login, make_users, save_case, submit_first, two_units, unique

D = dt.date
TODAY = dt.date.today()
_CN = dict(zip("0123456789abcdef", "甲乙丙丁戊己庚辛壬癸子丑寅卯辰巳"))


def cn_name(seq: int) -> str:
    """A unique name without digits (the validation refuses them)."""
    return "查" + "".join(_CN[c] for c in unique("").lower()[:8]) + "午未申酉戌亥"[seq % 6]


@pytest.fixture(scope="module")
def qv(app, world):
    """组织部 → U1, U2. Five saved cases (two women) as in test_queries, plus in U1 one case signed,
    submitted, returned for correction and corrected (two versions)."""
    sm = app.appbuilder.sm
    tag = unique("qv").lower()
    with app.app_context():
        with acting_as("测试夹具", "cli"):
            dept, (u1, u2) = two_units(world, tag, "查询组织部", "查询一局", "查询二局")
            users = make_users(sm, tag, {
                "clerk1": ("qc1", ["填报员"], u1), "clerk2": ("qc2", ["填报员"], u2),
                "sup": ("qsup", ["监督员"], dept), "query": ("qq", ["查询员"], dept),
                "signer": ("qs0", ["签字领导"], u1), "s1": ("qs1", ["签字领导"], u1),
                "s2": ("qs2", ["签字领导"], u1), "s3": ("qs3", ["签字领导"], u1),
            })
            db.session.commit()
        plan = [(u1, users["clerk1"], D(2026, 2, 10), True), (u1, users["clerk1"], D(2026, 2, 11), False),
                (u2, users["clerk2"], D(2026, 3, 5), False), (u2, users["clerk2"], D(2025, 2, 15), True),
                (u2, users["clerk2"], D(2026, 6, 1), False)]
        made = [save_case(unit, clerk, decided, woman=i + 31 if woman else None, name=cn_name(i))[0].id
                for i, (unit, clerk, decided, woman) in enumerate(plan)]
        office = SimpleNamespace(unit=u1, clerk=users["clerk1"], s1=users["s1"], s2=users["s2"], s3=users["s3"])
        full, _ = save_case(u1, users["clerk1"], TODAY - dt.timedelta(days=3), name=cn_name(5), complete=True)
        submission = submit_first(office, full)
        v1_id = full.id
        with acting_as(users["sup"], "cli"):
            v2 = wf.return_for_correction(full, users["sup"], "考察材料不完整")
        with acting_as(users["clerk1"], "cli"):
            cases.save_module(v2, "inspection", {"interview_count": 31})
        names = {cid: db.session.get(Case, cid).full_name for cid in made + [v2.id]}
        ids = SimpleNamespace(
            dept=dept.id, u1=u1.id, u2=u2.id, dept_code=dept.code, u1_code=u1.code, u2_code=u2.code,
            cases=made, v1=v1_id, v2=v2.id, names=names, sub_sha=submission.sha256,
            users={k: u.username for k, u in users.items()}, user_ids={k: u.id for k, u in users.items()},
        )
    return ids


def _client(app, qv, key):
    return login(app.test_client(), qv.users[key])


def _scope(app, qv, key):
    user = db.session.get(AppUser, qv.user_ids[key])
    return scope_for(user)


def _total(html: str) -> int | None:
    m = re.search(r'id="query-total" data-total="(\d+)"', html)
    return int(m.group(1)) if m else None


def _get(client, params) -> str:
    resp = client.get("/query/?" + urlencode(params, doseq=True))
    assert resp.status_code == 200, resp.status_code
    return resp.get_data(as_text=True)


def _xlsx_rows(data: bytes) -> list[tuple]:
    from openpyxl import load_workbook

    wb = load_workbook(io.BytesIO(data), read_only=True)
    return [tuple(row) for row in wb.active.iter_rows(values_only=True)]


# ---- the page counts what the engine counts -------------------------------------------------------

def test_filters_through_the_page_match_the_engine(app, qv):
    client = _client(app, qv, "sup")
    cases_of = [
        ({"unit": qv.dept_code}, CaseFilter(unit_id=qv.dept)),
        ({"unit": qv.u1_code}, CaseFilter(unit_id=qv.u1)),
        ({"unit": qv.dept_code, "subtree": ["0"]}, CaseFilter(unit_id=qv.dept, subtree=False)),
        ({"unit": qv.dept_code, "subtree": ["0", "1"]}, CaseFilter(unit_id=qv.dept)),
        ({"unit": qv.dept_code, "date_from": "2026-01-01", "date_to": "2026-03-31"},
         CaseFilter(unit_id=qv.dept, date_from=D(2026, 1, 1), date_to=D(2026, 3, 31))),
        ({"unit": qv.dept_code, "sex": "女"}, CaseFilter(unit_id=qv.dept, sex="女")),
        ({"unit": qv.dept_code, "selection_type": ["提拔", "免职"]},
         CaseFilter(unit_id=qv.dept, selection_type=["提拔", "免职"])),
        ({"unit": qv.dept_code, "education": "研究生"}, CaseFilter(unit_id=qv.dept, education="研究生")),
        ({"unit": qv.dept_code, "timeliness": ["未报", "按时"]}, CaseFilter(unit_id=qv.dept, timeliness=["未报", "按时"])),
        ({"unit": qv.dept_code, "status": ["草稿"]}, CaseFilter(unit_id=qv.dept, status=["草稿"])),
        ({"unit": qv.dept_code, "ethnicity": "少数民族"}, CaseFilter(unit_id=qv.dept, ethnicity="少数民族")),
        ({"unit": qv.dept_code, "political_status": "党外"}, CaseFilter(unit_id=qv.dept, political_status="党外")),
        ({"unit": qv.dept_code, "age_band": "41-45岁"}, CaseFilter(unit_id=qv.dept, age_band="41-45岁")),
        ({"unit": qv.dept_code, "basis": "appointment", "date_from": "2000-01-01"},
         CaseFilter(unit_id=qv.dept, basis="appointment", date_from=D(2000, 1, 1))),
        ({"name": qv.names[qv.cases[0]][:2]}, CaseFilter(name=qv.names[qv.cases[0]][:2])),
        ({}, CaseFilter()),
    ]
    with app.app_context():
        scope = _scope(app, qv, "sup")
        expected = [count(f, scope) for _p, f in cases_of]
    assert expected[0] == 6 and expected[1] == 3 and expected[2] == 0 and expected[5] == 2
    for (params, _f), want in zip(cases_of, expected):
        assert _total(_get(client, params)) == want, params


def test_unit_id_links_and_the_result_list(app, qv):
    client = _client(app, qv, "sup")
    html = _get(client, {"unit_id": qv.u2, "subtree": "1"})
    assert _total(html) == 3
    assert f'value="{qv.u2_code}"' in html  # the form shows the unit's code
    for cid in qv.cases[2:]:
        assert f'href="/query/case/{cid}"' in html
    assert qv.names[qv.cases[0]] not in html  # U1's case is not listed


def test_drill_down_by_statistics_column(app, qv):
    client = _client(app, qv, "sup")
    base = {"unit": qv.dept_code, "date_from": "2026-01-01", "date_to": "2026-03-31"}
    f = CaseFilter(unit_id=qv.dept, date_from=D(2026, 1, 1), date_to=D(2026, 3, 31))
    for key in ("people", "female", "type_0", "grade_3", "missing1", "edu_grad", "age_2", "red", "returned"):
        col = BY_KEY[key]
        with app.app_context():
            want = count(f, _scope(app, qv, "sup"), extra_conditions=[col.sql()], extra_needs=col.needs)
        html = _get(client, {**base, "col": key})
        assert _total(html) == want, key
        assert 'data-key="col"' in html and col.label in html, key
        assert f'name="col" value="{key}"' in html  # the form keeps the column
    with app.app_context():
        assert count(f, _scope(app, qv, "sup"), extra_conditions=[BY_KEY["female"].sql()],
                     extra_needs=BY_KEY["female"].needs) == 1


def test_paging(app, qv):
    from app.views import query as view

    client = _client(app, qv, "sup")
    old = view.PAGE_SIZE
    view.PAGE_SIZE = 2
    try:
        first = _get(client, {"unit": qv.dept_code})
        assert 'id="query-pager"' in first and first.count('class="case-link"') == 2
        third = _get(client, {"unit": qv.dept_code, "page": "3"})
        assert third.count('class="case-link"') == 2
        beyond = _get(client, {"unit": qv.dept_code, "page": "99"})  # past the end: the last page
        assert beyond.count('class="case-link"') == 2
    finally:
        view.PAGE_SIZE = old
    for bad in ("abc", "-1", "0", "99999999999"):
        html = _get(client, {"unit": qv.dept_code, "page": bad})
        assert "分页参数无效，已显示第一页" in html and _total(html) == 6


# ---- bad input ----------------------------------------------------------------------------------------

@pytest.mark.parametrize("params, message, kept", [
    ({"date_from": "2026-13-01"}, "“起始日期”不是有效日期", 'value="2026-13-01"'),
    ({"date_to": "明天"}, "“截止日期”不是有效日期", 'value="明天"'),
    ({"date_from": "2026-03-01", "date_to": "2026-01-01"}, "起始日期不能晚于截止日期", 'value="2026-03-01"'),
    ({"unit": "NO-SUCH-UNIT"}, "单位代码“NO-SUCH-UNIT”不存在或不在您的权限范围内", 'value="NO-SUCH-UNIT"'),
    ({"unit_id": "abc"}, "所选单位不存在或不在您的权限范围内", None),
    ({"sex": "未知"}, "“性别”的取值无效", None),
    ({"selection_type": ["提拔", "乱填"]}, "“任用类型”的取值无效：乱填", None),
    ({"light": "紫"}, "“灯”的取值无效", None),
    ({"col": "nosuch"}, "统计列“nosuch”不存在", None),
    ({"rule_code": "ZZ99"}, "规则编号“ZZ99”不存在", None),
    ({"basis": "whenever"}, "“日期依据”应为", None),
    ({"id_card_no": "12345"}, "“公民身份号码”应为 18 位", 'value="12345"'),
    ({"age_band": "99岁"}, "“年龄段（决定时）”的取值无效", None),
])
def test_bad_input_is_told_in_chinese(app, qv, params, message, kept):
    client = _client(app, qv, "sup")
    resp = client.get("/query/?" + urlencode({"name": "张", **params}, doseq=True))
    assert resp.status_code == 200
    html = resp.get_data(as_text=True)
    assert message in html
    assert 'id="query-results"' not in html  # nothing runs with a broken filter
    assert 'value="张"' in html  # the rest of the form is kept
    if kept:
        assert kept in html
    # the export refuses the same way, never a 500
    resp = client.get("/query/export.xlsx?" + urlencode(params, doseq=True), follow_redirects=True)
    assert resp.status_code == 200 and message in resp.get_data(as_text=True)


# ---- scope ------------------------------------------------------------------------------------------------

def test_a_clerk_of_another_unit_sees_nothing(app, qv, world, client_for, tmp_path):
    clerk2 = _client(app, qv, "clerk2")
    u1_names = [qv.names[c] for c in qv.cases[:2]] + [qv.names[qv.v2]]
    # the list: U1 by code is refused, and nothing of U1 is listed without a unit either
    html = _get(clerk2, {"unit": qv.u1_code})
    assert "不存在或不在您的权限范围内" in html and 'id="query-results"' not in html
    html = _get(clerk2, {"unit_id": qv.u1})
    assert "不存在或不在您的权限范围内" in html
    html = _get(clerk2, {})
    assert _total(html) == 3
    for name in u1_names:
        assert name not in html
    html = _get(clerk2, {"unit": qv.dept_code})  # the parent is not in a clerk's scope either
    assert "不存在或不在您的权限范围内" in html
    # detail and print
    for cid in (qv.cases[0], qv.v1, qv.v2):
        assert clerk2.get(f"/query/case/{cid}").status_code == 404
        assert clerk2.get(f"/query/case/{cid}/print").status_code == 404
    assert _client(app, qv, "clerk1").get(f"/query/case/{qv.v2}").status_code == 200
    # a clerk has no export; a role with every permission in unit B exports none of U1's rows
    assert clerk2.get("/query/export.xlsx").status_code in (302, 403)
    all_b = client_for("all_b")
    resp = all_b.get("/query/export.xlsx")
    assert resp.status_code == 200
    text = "\n".join(str(c) for row in _xlsx_rows(resp.data) for c in row if c is not None)
    for name in u1_names:
        assert name not in text
    assert all_b.get(f"/query/case/{qv.cases[0]}").status_code == 404
    # a saved query naming U1 runs in the runner's scope: refused, nothing shown
    with app.app_context(), acting_as("测试", "cli"):
        own = SavedQuery(user_id=qv.user_ids["clerk2"], unit_id=qv.u2, name=unique("越权"),
                         params={"unit_id": qv.u1, "subtree": True})
        theirs = SavedQuery(user_id=qv.user_ids["clerk1"], unit_id=qv.u1, name=unique("一局"),
                            params={"sex": "女"})
        db.session.add_all([own, theirs])
        db.session.commit()
        own_id, theirs_id = own.id, theirs.id
    html = clerk2.get(f"/query/saved/{own_id}/run", follow_redirects=True).get_data(as_text=True)
    assert "不存在或不在您的权限范围内" in html
    for name in u1_names:
        assert name not in html
    assert clerk2.get(f"/query/saved/{theirs_id}/run").status_code == 404
    assert clerk2.post(f"/query/saved/{theirs_id}/delete").status_code == 404
    with app.app_context():
        assert db.session.get(SavedQuery, theirs_id) is not None
    assert f"/query/saved/{theirs_id}/run" not in clerk2.get("/query/saved").get_data(as_text=True)
    # a background export of U1's supervisor: nobody else downloads it
    export_id = _background_export(app, qv, tmp_path)
    for other in (clerk2, all_b, _client(app, qv, "query"), client_for("sup_root"), client_for("admin")):
        assert other.get(f"/query/exports/{export_id}/download").status_code in (403, 404)
        assert f"/query/exports/{export_id}/download" not in other.get("/query/exports").get_data(as_text=True)


# ---- saved queries ----------------------------------------------------------------------------------------

def test_saved_queries(app, qv):
    client = _client(app, qv, "clerk1")
    name = unique("女干部")
    qs = urlencode({"sex": "女", "unit": qv.u1_code, "subtree": "1"})
    resp = client.post("/query/saved/add", data={"name": name, "qs": qs})
    assert resp.status_code == 302
    html = client.get(resp.headers["Location"]).get_data(as_text=True)
    assert f"已保存查询“{name}”" in html
    with app.app_context():
        row = db.session.execute(select(SavedQuery).where(SavedQuery.name == name)).scalar_one()
        assert (row.user_id, row.unit_id) == (qv.user_ids["clerk1"], qv.u1)
        assert row.params["sex"] == "女" and row.params["unit_id"] == qv.u1
        pk = row.id
    listing = client.get("/query/saved").get_data(as_text=True)
    assert name in listing and "性别：女" in listing
    # run: the same filter, in the runner's scope
    run = client.get(f"/query/saved/{pk}/run")
    assert run.status_code == 302 and "/query/?" in run.headers["Location"]
    html = client.get(run.headers["Location"]).get_data(as_text=True)
    with app.app_context():
        want = count(CaseFilter(unit_id=qv.u1, sex="女"), _scope(app, qv, "clerk1"))
    assert _total(html) == want == 1
    # a second query of the same name is refused in Chinese; another user may use the name
    html = client.post("/query/saved/add", data={"name": name, "qs": "sex=男"},
                       follow_redirects=True).get_data(as_text=True)
    assert f"已有名为“{name}”的查询，请换一个名称" in html
    signer = _client(app, qv, "signer")
    assert signer.post("/query/saved/add", data={"name": name, "qs": "sex=男"}).status_code == 302
    html = client.post("/query/saved/add", data={"name": "  ", "qs": ""}, follow_redirects=True).get_data(as_text=True)
    assert "请为查询起一个名称" in html
    html = client.post("/query/saved/add", data={"name": unique("坏"), "qs": "date_from=2026-99-99"},
                       follow_redirects=True).get_data(as_text=True)
    assert "不是有效日期" in html and "未保存" in html
    with app.app_context():
        assert db.session.execute(select(func.count()).select_from(SavedQuery).where(
            SavedQuery.user_id == qv.user_ids["clerk1"], SavedQuery.name == name)).scalar() == 1
    # the signer's list does not show the clerk's query, and cannot delete it
    assert signer.post(f"/query/saved/{pk}/delete").status_code == 404
    # delete own
    resp = client.post(f"/query/saved/{pk}/delete")
    assert resp.status_code == 302
    html = client.get("/query/saved").get_data(as_text=True)
    assert f"已删除查询“{name}”" in html and f'data-saved="{pk}"' not in html
    with app.app_context():
        assert db.session.get(SavedQuery, pk) is None


def test_post_routes_check_the_csrf_token(app, qv):
    client = _client(app, qv, "clerk1")
    name = unique("无令牌")
    app.config["WTF_CSRF_ENABLED"] = True
    try:
        html = client.post("/query/saved/add", data={"name": name, "qs": "sex=女"},
                           follow_redirects=True).get_data(as_text=True)
    finally:
        app.config["WTF_CSRF_ENABLED"] = False
    assert "安全令牌" in html  # refused (by the app-wide CSRF protection or the view's own check)
    with app.app_context():
        assert db.session.execute(select(SavedQuery).where(SavedQuery.name == name)).first() is None


# ---- the detail page and the 记实表 ------------------------------------------------------------------

def test_detail_page_shows_the_whole_chain(app, qv):
    client = _client(app, qv, "sup")
    resp = client.get(f"/query/case/{qv.v2}")
    assert resp.status_code == 200
    html = resp.get_data(as_text=True)
    for spec in modules():  # every step, in procedure order, with its items
        assert f'data-module="{spec.key}"' in html, spec.key
        assert spec.items[0].label in html
    positions = [html.index(f'class="table table-condensed table-bordered step" data-module="{m.key}"') for m in modules()]
    assert positions == sorted(positions)
    assert "经办人" in html and "领导" in html
    with app.app_context():
        v1 = db.session.get(Case, qv.v1)
        sigs = list(v1.signatures)
        assert len(sigs) == 3
        for s in sigs:
            assert s.snapshot_sha256 in html and s.signer_name in html
    assert qv.sub_sha in html  # the submission's hash
    assert "初次提交" in html and 'id="case-deadlines"' in html and 'data-node="1"' in html
    # versions, linked, with the field-by-field difference
    assert f'href="/query/case/{qv.v1}"' in html and "考察材料不完整" in html
    assert 'data-from="1" data-to="2"' in html and "个别谈话人数" in html
    # the audit history
    assert 'id="history"' in html and "暂无修改记录" not in html
    assert qv.users["clerk1"] in html
    # rule evaluations and alarms sections are there
    assert 'id="evaluations"' in html and 'id="alarms"' in html
    # the old version is readable too
    assert client.get(f"/query/case/{qv.v1}").status_code == 200
    assert client.get("/query/case/999999999").status_code == 404


def test_print_page(app, qv):
    client = _client(app, qv, "clerk1")
    resp = client.get(f"/query/case/{qv.v2}/print")
    assert resp.status_code == 200
    html = resp.get_data(as_text=True)
    assert '<html lang="zh-CN">' in html and "干部选拔任用工作记实表" in html
    assert "@media print" in html and "<script" not in html
    assert "http://" not in html and "https://" not in html and "<link" not in html
    assert qv.names[qv.v2] in html
    for spec in modules():
        assert spec.name in html
    assert qv.sub_sha in html


# ---- exports ----------------------------------------------------------------------------------------------

def test_sync_export(app, qv):
    client = _client(app, qv, "sup")
    resp = client.get("/query/export.xlsx?" + urlencode({"unit": qv.dept_code, "sex": "女"}))
    assert resp.status_code == 200
    assert resp.mimetype.endswith("spreadsheetml.sheet")
    rows = _xlsx_rows(resp.data)
    assert rows[0][0] == "条件查询结果"
    assert "单位：" in rows[1][0] and qv.dept_code not in rows[1][0]
    assert tuple(rows[2][:len(HEADERS)]) == HEADERS
    data = [r for r in rows[3:] if r and r[0] and str(r[0]).strip() and not str(r[0]).startswith("共 ")]
    with app.app_context():
        want = count(CaseFilter(unit_id=qv.dept, sex="女"), _scope(app, qv, "sup"))
    assert len(data) == want == 2
    assert all(r[2] == "女" for r in data)
    # every case of the scope, with a statistics column
    resp = client.get("/query/export.xlsx?" + urlencode({"unit": qv.dept_code, "col": "people"}))
    assert len([r for r in _xlsx_rows(resp.data)[3:] if r[0] and not str(r[0]).startswith("共 ")]) == 6
    with app.app_context():
        row = db.session.execute(select(AuditLog).where(AuditLog.action == "export", AuditLog.table_name == "cadre_case")
                                 .order_by(AuditLog.id.desc())).scalars().first()
        assert row.actor_name == qv.users["sup"] and "统计列" in row.old_value and row.new_value == "6 行"
    # the page offers the export with the same filter
    html = _get(client, {"unit": qv.dept_code, "sex": "女"})
    assert 'id="query-export"' in html and "/query/export.xlsx?unit=" in html
    # a clerk has neither the link nor the route
    html = _get(_client(app, qv, "clerk1"), {})
    assert 'id="query-export"' not in html


def _background_export(app, qv, tmp_path) -> int:
    """A background export by the supervisor (the sync limit set to 1); returns the ExportFile id."""
    old_limit, old_folder = app.config.get("JISHI_EXPORT_SYNC_MAX"), app.config["REPORTS_FOLDER"]
    app.config["JISHI_EXPORT_SYNC_MAX"] = 1
    app.config["REPORTS_FOLDER"] = str(tmp_path)
    # Other test modules create apps of their own; the eager task must run in this one.
    from celery import _state

    previous = _state.get_current_app()
    app.extensions["celery"].set_current()
    client = _client(app, qv, "sup")
    try:
        with app.app_context():
            before = db.session.execute(select(func.max(ExportFile.id))).scalar() or 0
        resp = client.get("/query/export.xlsx?" + urlencode({"unit": qv.dept_code}))
        assert resp.status_code == 302 and resp.headers["Location"].endswith("/query/exports")
        html = client.get(resp.headers["Location"]).get_data(as_text=True)
        assert "导出任务已提交" in html
        with app.app_context():
            export = db.session.execute(select(ExportFile).where(ExportFile.id > before,
                                                                 ExportFile.user_id == qv.user_ids["sup"])
                                        .order_by(ExportFile.id.desc())).scalars().first()
            assert export is not None and export.finished_at is not None, "the eager task filled the row"
            return export.id
    finally:
        if old_limit is None:
            app.config.pop("JISHI_EXPORT_SYNC_MAX", None)
        else:
            app.config["JISHI_EXPORT_SYNC_MAX"] = old_limit
        app.config["REPORTS_FOLDER"] = old_folder
        previous.set_current()


def test_background_export(app, qv, tmp_path):
    export_id = _background_export(app, qv, tmp_path)
    with app.app_context():
        export = db.session.get(ExportFile, export_id)
        run = db.session.get(TaskRun, export.task_run_id)
        assert (run.task, run.status, run.progress) == ("export_cases", "成功", 100)
        assert run.counts["rows"] == export.rows == 6
        assert export.unit_id == qv.dept and export.kind == "cases" and export.params["unit_id"] == qv.dept
        path = tmp_path / export.storage_key
        assert path.is_file() and path.stat().st_size == export.size
        assert hashlib.sha256(path.read_bytes()).hexdigest() == export.sha256
        assert export.filename.endswith(".xlsx")
    client = _client(app, qv, "sup")
    listing = client.get("/query/exports").get_data(as_text=True)
    assert f'data-export="{export_id}"' in listing and "已完成" in listing
    assert f"/query/exports/{export_id}/download" in listing
    old_folder = app.config["REPORTS_FOLDER"]
    app.config["REPORTS_FOLDER"] = str(tmp_path)
    try:
        resp = client.get(f"/query/exports/{export_id}/download")
        assert resp.status_code == 200
        rows = _xlsx_rows(resp.data)
        assert tuple(rows[2][:len(HEADERS)]) == HEADERS
        assert len([r for r in rows[3:] if r[0] and not str(r[0]).startswith("共 ")]) == 6
        # another user with the export permission, in the same unit: 404
        assert _client(app, qv, "query").get(f"/query/exports/{export_id}/download").status_code == 404
        # a tampered file is refused
        (tmp_path / _storage_key(app, export_id)).write_bytes(b"changed")
        assert client.get(f"/query/exports/{export_id}/download").status_code == 404
    finally:
        app.config["REPORTS_FOLDER"] = old_folder


def _storage_key(app, export_id):
    with app.app_context():
        return db.session.get(ExportFile, export_id).storage_key


def test_background_export_reruns_the_filter_in_the_requesters_scope(app, qv, tmp_path):
    """An export request whose stored filter names a unit outside the requester's scope fails: the
    task never widens what its requester may see."""
    from app.reporting.exports import run_export

    old_folder = app.config["REPORTS_FOLDER"]
    app.config["REPORTS_FOLDER"] = str(tmp_path)
    try:
        with app.app_context():
            with acting_as("测试", "cli"):
                export = ExportFile(user_id=qv.user_ids["clerk2"], unit_id=qv.u2, kind="cases", title="越权导出",
                                    params={"unit_id": qv.u1})
                db.session.add(export)
                db.session.commit()
            with acting_as("系统任务", "task"), pytest.raises(ValueError, match="不在您的权限范围内"):
                run_export(export.id)
            db.session.rollback()
            export = db.session.get(ExportFile, export.id)
            run = db.session.get(TaskRun, export.task_run_id)
            assert export.finished_at is None and export.storage_key is None and run.status == "失败"
            assert list(tmp_path.iterdir()) == []
    finally:
        app.config["REPORTS_FOLDER"] = old_folder


def test_menu_and_permissions(app, qv):
    sup_html = _client(app, qv, "sup").get("/query/").get_data(as_text=True)
    assert "条件查询" in sup_html and "我的导出" in sup_html
    signer = _client(app, qv, "signer")
    assert signer.get("/query/").status_code == 200
    assert signer.get(f"/query/case/{qv.v2}").status_code == 200  # own unit
    assert signer.get(f"/query/case/{qv.cases[2]}").status_code == 404  # U2
    assert signer.get("/query/exports").status_code in (302, 403)
