"""The pages issue 14 saw speaking the framework's and the database's language, now in the users' language:
修改痕迹 and a case's trail, 案例人员, 任务运行记录, 角色, FAB's dialogs, 节假日, "None", the favicon."""
from __future__ import annotations

import datetime as dt
import re

import pytest

from tests.factories import login, make_case, office_rows

SECONDS = re.compile(r"\d{2}:\d{2}:\d{2}")


def text_of(html: str) -> str:
    html = re.sub(r"<(script|style)\b.*?</\1\s*>", " ", html, flags=re.S | re.I)
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))


@pytest.fixture()
def office_case(app, world, ctx):
    office = office_rows(app, world, "lg")
    case, _values = make_case(office, dt.date.today() - dt.timedelta(days=3))
    return office, case


def test_audit_trail_names_tables_and_fields_from_the_catalogue(client_for, office_case):
    from app.spec import modules

    _office, case = office_case
    motion = next(m.name for m in modules() if m.key == "motion")
    page = text_of(client_for("admin").get("/auditlogview/list/?_flt_0_table_name=case_motion").get_data(as_text=True))
    assert motion in page and "完成时间" in page
    for raw in ("case_motion", "completed_at", "handler", "None"):
        assert raw not in page, raw
    assert not SECONDS.search(page), "times to the minute"


def test_case_page_trail_to_the_minute_and_in_words(app, office_case):
    office, case = office_case
    client = login(app.test_client(), office.clerk.username)
    page = text_of(client.get(f"/cases/show/{case.id}").get_data(as_text=True))
    assert "修改痕迹" in page
    trail = page[page.index("修改痕迹"):]
    assert not SECONDS.search(trail), "the trail's times are to the minute"
    for raw in ("cadre_case", "case_motion", "completed_at", "None", "{'", "True"):
        assert raw not in trail, raw


def test_case_persons_by_item_label(client_for, office_case):
    from app.spec import items_by_key

    page = text_of(client_for("admin").get("/casepersonview/list/").get_data(as_text=True))
    person_items = [k for k, i in items_by_key().items() if i.kind in ("person", "person[]")]
    assert any(items_by_key()[k].label in page for k in person_items)
    for key in person_items:
        assert key not in page, key
    assert "None" not in page


def test_task_runs_in_words(app, client_for):
    from app.audit import acting_as
    from app.tasks.deadlines import run_scan

    with app.app_context(), acting_as("测试", "cli"):
        run_scan(triggered_by="测试")
    page = text_of(client_for("admin").get("/taskruns/list/").get_data(as_text=True))
    assert "时限扫描" in page and "新发送消息" in page
    for raw in ("deadlines_scan", "as_of", "flagged", "written", "True", "{'"):
        assert raw not in page, raw


def test_roles_and_permissions_in_chinese(client_for):
    client = client_for("admin")
    page = text_of(client.get("/roles/list/").get_data(as_text=True))
    assert "公开（未登录）" in page and "案例：查看列表" in page
    for raw in ("Public", "can list", "can_list", "CaseView", "[['", "menu_access"):
        assert raw not in page, raw
    permissions = text_of(client.get("/permissions/list/").get_data(as_text=True))
    assert "查看列表" in permissions and "can_list" not in permissions


def test_fab_dialogs_in_chinese(client_for):
    html = client_for("admin").get("/unitview/list/").get_data(as_text=True)
    assert "Are you sure you want to delete this item?" not in html
    assert "确定要删除这条记录吗" in html
    assert ">Cancel<" not in html and ">OK<" not in html
    assert "取消" in html and "确定" in html


def test_holidays_by_name_and_source_in_chinese(app, client_for):
    from app.audit import acting_as
    from app.rule_settings import seed_calendar

    with app.app_context(), acting_as("测试", "cli"):
        seed_calendar()
    page = text_of(client_for("admin").get("/calendardayview/list/?_flt_0_day=2026-10-01").get_data(as_text=True))
    assert "国庆节" in page and "国务院办公厅放假安排" in page
    assert "package" not in page and "法定节假日" not in page


def test_no_none_where_a_value_is_missing(client_for):
    page = text_of(client_for("admin").get("/users/list/").get_data(as_text=True))
    assert "None" not in page  # the administrator has no unit: 所属单位 is empty


def test_related_lists_are_words_not_python_lists(client_for, world):
    # The fixture's own users (their names end in its tag): the suite adds many more, and which of them
    # fill the first page of an unfiltered list is the database's choice.
    tag = world.users["admin"].rsplit("_", 1)[1]
    page = text_of(client_for("admin").get(f"/users/list/?_flt_2_username={tag}").get_data(as_text=True))
    assert world.users["sup_a"] in page and world.users["clerk_a"] in page  # rows (the header names only the admin)
    assert "系统管理员" in page and "[系统管理员]" not in page and "[监督员]" not in page
    assert "监督员、全权测试角色" in page  # two roles read as words


def test_favicon_is_served(app):
    resp = app.test_client().get("/favicon.ico")
    assert resp.status_code == 200
    assert resp.data[:4] == b"\x00\x00\x01\x00"  # an ICO file


def test_trail_names_the_unit_not_its_id(app, world, client_for):
    from app.extensions import db
    from app.models import AppUser

    with app.app_context():
        user_id = db.session.query(AppUser.id).filter_by(username=world.users["clerk_a"]).scalar()
    page = text_of(client_for("admin").get(f"/users/show/{user_id}").get_data(as_text=True))
    trail = page[page.index("修改痕迹"):]
    assert f"所属单位 {world.names['a']}" in trail
    assert f"所属单位 {world.units['a']} " not in trail
