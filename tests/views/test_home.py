"""工作台 (the start page per role): each number equals the scoped list it links to, and another unit's
cases, messages and findings are never counted.

Each test builds its own 组织部 and unit (office_ids) — and a second, foreign one with the same kinds of
rows — so the numbers it reads are its own whatever other tests left in the database.
"""
from __future__ import annotations

import datetime as dt
import re

from sqlalchemy import func, select

from app.audit import acting_as
from app.extensions import db
from app.models import Alarm, Case, Message, TaskRun
from app.models.supervision import FINDING_OPEN, Finding
from app.workflow import cases
from tests.factories import login, make_user, office_ids, office_in, save_case, sign_all, submit_first, unique

TODAY = dt.date.today()


def _number(page: str, key: str) -> int:
    match = re.search(rf'data-n="{key}">(\d+)<', page)
    assert match, f"no number {key} on the page"
    return int(match.group(1))


def _list(client, key: str) -> tuple[int, str]:
    """The list a number links to: (its total, its page)."""
    page = client.get(f"/home/list/{key}").get_data(as_text=True)
    total = int(re.search(r'id="home-list-total">(\d+)<', page).group(1))
    return total, page


def _check(client, home: str, key: str, expected: int) -> str:
    """The number on the home page, the link beside it and the list behind it all say ``expected``."""
    assert _number(home, key) == expected, key
    assert f'href="/home/list/{key}"' in home, f"{key}: the number does not link to its list"
    total, page = _list(client, key)
    assert total == expected, key
    assert page.count('class="home-row"') == min(expected, 20), key
    return page


def _violating_case(office, decided=None):
    """A submitted case without quorum (P27): red, with an open S1 alarm."""
    case, _ = save_case(office.unit, office.clerk, decided or TODAY - dt.timedelta(days=2), complete=True)
    with acting_as(office.clerk, "cli"):
        cases.save_module(case, "decision", {"members_present": 7, "votes_for": 7, "votes_against": 0,
                                             "votes_defer": 0})
        cases.complete_module(case, "decision")
    submit_first(office, case)
    return case


def test_anonymous_start_page_goes_to_login(app):
    resp = app.test_client().get("/")
    assert resp.status_code == 302 and "/login" in resp.headers["Location"]


def test_clerk_home_counts_own_unit_and_links_to_filtered_lists(app, world):
    from app.supervision.alarm_actions import halt

    mine, other = office_ids(app, world, "hc"), office_ids(app, world, "hx")
    with app.app_context():
        o, x = office_in(mine), office_in(other)
        # a fresh draft (nothing entered), a case decided 20 days ago never reported (node 1 逾期), a
        # halted case (back as version 2 with a deadline); the foreign unit gets the same.
        for office in (o, x):
            with acting_as(office.clerk, "cli"):
                cases.create_case(office.unit, office.clerk)
            save_case(office.unit, office.clerk, TODAY - dt.timedelta(days=20), complete=True)
            bad = _violating_case(office)
            alarm = db.session.execute(select(Alarm).where(Alarm.case_id == bad.id, Alarm.point == "S1")).scalar_one()
            with acting_as(office.sup, "cli"):
                halt(alarm, office.sup, "到会人数不足", TODAY + dt.timedelta(days=9))
        with acting_as("测试", "cli"):
            db.session.add(Message(recipient_id=o.clerk.id, unit_id=o.unit.id, kind="测试", title="一条未读消息",
                                   body="", dedup_key=unique("home:")))
            db.session.commit()
        drafts = db.session.execute(select(func.count(Case.id)).where(
            Case.unit_id == o.unit.id, Case.is_current.is_(True), Case.status == "草稿",
            Case.version_no == 1)).scalar()
        unread = db.session.execute(select(func.count(Message.id)).where(
            Message.recipient_id == o.clerk.id, Message.read_at.is_(None))).scalar()

    client = login(app.test_client(), mine.clerk)
    home = client.get("/").get_data(as_text=True)
    assert "工作台" in home and 'id="section-clerk"' in home and "Welcome" not in home
    assert 'id="section-supervisor"' not in home and 'id="section-admin"' not in home
    page = _check(client, home, "drafts", drafts)
    assert drafts == 2 and "填写“任职资格/基本信息”" in page  # the empty draft's next step
    page = _check(client, home, "due", 1)
    assert "已逾期" in page
    page = _check(client, home, "returned", 1)
    assert (TODAY + dt.timedelta(days=9)).isoformat() in page and "到会人数不足" in page
    _check(client, home, "unread", unread)
    assert unread >= 1
    for page in (home, *(_list(client, k)[1] for k in ("drafts", "due", "returned"))):
        assert other.code not in page
    # a list of another role's section is not there for a clerk
    assert client.get("/home/list/red").status_code == 404
    assert client.get("/home/list/nonsense").status_code == 404


def test_signer_home_lists_cases_waiting_for_that_signer(app, world):
    mine, other = office_ids(app, world, "hs"), office_ids(app, world, "hy")
    with app.app_context():
        o, x = office_in(mine), office_in(other)
        ready, _ = save_case(o.unit, o.clerk, TODAY - dt.timedelta(days=2), complete=True)
        save_case(o.unit, o.clerk, TODAY - dt.timedelta(days=2), complete=False)  # not ready to sign
        save_case(x.unit, x.clerk, TODAY - dt.timedelta(days=2), complete=True)  # another unit's
        sign_all(ready, o, levels=(1,))
        case_no = ready.case_no

    s1 = login(app.test_client(), mine.s1)
    home = s1.get("/").get_data(as_text=True)
    assert 'id="section-signer"' in home and 'id="section-clerk"' not in home
    _check(s1, home, "to_sign", 0)  # signed level 1 already: the next level is for someone else
    s2 = login(app.test_client(), mine.s2)
    home = s2.get("/").get_data(as_text=True)
    page = _check(s2, home, "to_sign", 1)
    assert case_no in page and "第 2 级" in page
    foreign = login(app.test_client(), other.s2)
    home = foreign.get("/").get_data(as_text=True)
    assert case_no not in _list(foreign, "to_sign")[1]


def test_supervisor_home_puts_problems_first_and_counts_its_subtree(app, world):
    mine, other = office_ids(app, world, "hv"), office_ids(app, world, "hw")
    with app.app_context():
        o, x = office_in(mine), office_in(other)
        for office in (o, x):
            _violating_case(office)  # red, with an open alarm
            save_case(office.unit, office.clerk, TODAY - dt.timedelta(days=20), complete=True)  # 逾期
            late_case, _ = save_case(office.unit, office.clerk, TODAY - dt.timedelta(days=1), complete=True)
            with acting_as("测试", "cli"):
                db.session.add(Finding(case_id=late_case.id, root_id=late_case.root_id, unit_id=office.unit.id,
                                       rule_codes="P27", description="整改逾期的问题",
                                       correction_deadline=TODAY - dt.timedelta(days=3), status=FINDING_OPEN,
                                       created_by_name="测试"))
                db.session.commit()
        red = db.session.execute(select(func.count(Case.id)).where(
            Case.unit_id == o.unit.id, Case.is_current.is_(True), Case.light == "红")).scalar()
        alarms = db.session.execute(select(func.count(Alarm.id)).where(
            Alarm.unit_id == o.unit.id, Alarm.status == "已报警")).scalar()

    client = login(app.test_client(), mine.sup)
    home = client.get("/").get_data(as_text=True)
    assert 'id="section-supervisor"' in home and 'id="section-clerk"' not in home
    page = _check(client, home, "red", red)
    assert red == 2  # the quorum case and the late one
    _check(client, home, "alarms", alarms)
    assert alarms >= 1
    page = _check(client, home, "late_units", 1)
    assert "单位" + mine.code.rsplit("-", 1)[0] in page  # the unit, by its name
    _check(client, home, "overdue_findings", 1)
    # the patrol worklist: the submitted quorum case, linking to the worklist page itself
    assert _number(home, "worklist") == 1 and 'href="/patrol/"' in home
    for key in ("red", "alarms", "late_units", "overdue_findings"):
        assert other.code not in _list(client, key)[1]
    assert "整改逾期的问题" in _list(client, "overdue_findings")[1]


def test_admin_home_shows_system_health_and_failed_runs_link_filters(app, world):
    with app.app_context():
        with acting_as("测试", "cli"):
            db.session.add_all([TaskRun(task="derived_check", status="成功", counts={"cases": 12, "differences": 0}),
                                TaskRun(task="deadlines_scan", status="失败", error="测试失败"),
                                TaskRun(task="facts_check", status="成功", counts={"repaired": 0})])
            db.session.commit()
        failed = db.session.execute(select(func.count(TaskRun.id)).where(TaskRun.status == "失败")).scalar()
        ok_ids = db.session.execute(select(TaskRun.id).where(TaskRun.status == "成功")).scalars().all()
    client = login(app.test_client(), world.users["admin"])
    home = client.get("/").get_data(as_text=True)
    assert 'id="section-admin"' in home
    assert _number(home, "failed") == failed
    assert "12 件案例全部一致" in home or "处不一致" in home
    link = re.search(r'id="tile-failed" href="([^"]+)"', home).group(1).replace("&amp;", "&")
    listing = client.get(link).get_data(as_text=True)
    assert client.get(link).status_code == 200
    shown = set(re.findall(r'/taskruns/show/(\d+)', listing))
    assert shown and not shown & {str(i) for i in ok_ids}, "the failed-runs link shows only failed runs"


def test_a_user_with_several_roles_sees_each_section(app, world):
    username = unique("both").lower()
    with app.app_context(), acting_as("测试夹具", "cli"):
        make_user(app.appbuilder.sm, username, ["填报员", "签字领导"], world.units["a"])
        db.session.commit()
    home = login(app.test_client(), username).get("/").get_data(as_text=True)
    assert 'id="section-clerk"' in home and 'id="section-signer"' in home
    assert 'id="section-supervisor"' not in home and 'id="section-admin"' not in home
    # a 查询员 reads the supervisor's numbers over its subtree, without the patrol worklist it may not open
    query = login(app.test_client(), world.users["query_a"])
    home = query.get("/").get_data(as_text=True)
    assert 'id="section-supervisor"' in home and 'id="tile-worklist"' not in home
    assert query.get("/home/list/red").status_code == 200
    assert query.get("/home/list/drafts").status_code == 404
