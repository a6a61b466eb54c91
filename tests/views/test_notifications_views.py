"""The inbox (站内消息), the reporting deadlines list (报送时限), task runs (任务运行记录) and the
deadline panel of the case page, in the browser.

Inbox tests make their own users, so the unread counts they check are their own whatever the
deadline scans of other tests send to the world's users.
"""
from __future__ import annotations

import datetime as dt
import re

from sqlalchemy import func, select

from app.audit import acting_as
from app.extensions import db
from app.models import AuditLog, CaseDeadline, Message, TaskRun, Unit
from tests.factories import (
    csrf_login, derived_on, login, make_user, node, planted, save_case, unique, values_decided_on,
)

TODAY = dt.date.today()


# ---- helpers ------------------------------------------------------------------------------------

def _new_user(app, world, role="填报员", unit="a"):
    username = unique("nt").lower()
    with app.app_context(), acting_as("测试", "cli"):
        user = make_user(app.appbuilder.sm, username, [role], world.units[unit])
        db.session.commit()
        return user.id, username


def _client(app, username):
    return login(app.test_client(), username)


def _message(app, world, recipient_id, unit="a", title=None, link=None, case_id=None, body="消息正文"):
    title = title or unique("消息")
    with app.app_context(), acting_as("测试", "cli"):
        msg = Message(recipient_id=recipient_id, unit_id=world.units[unit], kind="逾期通知", title=title, body=body,
                      link=link, case_id=case_id, dedup_key=unique("test:"))
        db.session.add(msg)
        db.session.commit()
        return msg.id, title


def _case_with_deadlines(app, world, unit="a", nodes=None):
    """A case of the unit (named uniquely) with deadline rows made directly (planted: the case has no
    decision to derive them from); returns (case id, name, row ids)."""
    from app.workflow.cases import create_case

    nodes = nodes or [dict(node=1, status="逾期", due_date=TODAY - dt.timedelta(days=5), days_late=5)]
    name = unique("时限案例人")
    with app.app_context(), acting_as("测试", "cli"):
        case = create_case(db.session.get(Unit, world.units[unit]))
        case.full_name = name[:30]
        ids = []
        for spec in nodes:
            row = CaseDeadline(root_id=case.root_id, case_id=case.id, unit_id=case.unit_id,
                               anchor_date=spec["due_date"] - dt.timedelta(days=7), days=7, day_type="calendar",
                               **spec)
            db.session.add(row)
            db.session.flush()
            ids.append(row.id)
        db.session.commit()
        planted(case.case_no)
        return case.id, case.full_name, ids


def _badge(html: str) -> int:
    """The unread count of the navigation bar (0 when the bell has no badge)."""
    assert 'id="inbox-nav"' in html and "fa-bell" in html
    m = re.search(r'id="inbox-unread-count"[^>]*>(\d+)<', html)
    return int(m.group(1)) if m else 0


def _xlsx_text(data: bytes) -> str:
    import io

    from openpyxl import load_workbook

    wb = load_workbook(io.BytesIO(data), read_only=True)
    return "\n".join(str(c) for row in wb.active.iter_rows(values_only=True) for c in row if c is not None)


# ---- inbox --------------------------------------------------------------------------------------

def test_inbox_shows_only_own_messages(app, world, client_for):
    me_id, me = _new_user(app, world)
    other_id, other = _new_user(app, world)
    case_id, _name, _ids = _case_with_deadlines(app, world)
    mine, my_title = _message(app, world, me_id, link=f"/cases/show/{case_id}", case_id=case_id, body="请立即报送")
    theirs, their_title = _message(app, world, other_id)

    client = _client(app, me)
    html = client.get("/inbox/list/").get_data(as_text=True)
    assert my_title in html and their_title not in html
    assert "inbox-row-unread" in html and "未读" in html  # unread rows stand out
    assert f'class="inbox-link" href="/cases/show/{case_id}"' in html
    assert client.get(f"/inbox/show/{theirs}").status_code == 404
    assert client.get(f"/inbox/show/{theirs}/").status_code in (404, 405)
    page = client.get(f"/inbox/show/{mine}")
    assert page.status_code == 200
    text = page.get_data(as_text=True)
    assert my_title in text and "请立即报送" in text
    assert f'href="/cases/show/{case_id}"' in text  # the link to the case page
    # nobody else reads it: not a colleague, not a role holding every permission, not even the admin
    for key in ("all_a", "all_b", "admin", "sup_root"):
        c = client_for(key)
        assert c.get(f"/inbox/show/{mine}").status_code == 404, key
        assert my_title not in c.get("/inbox/list/").get_data(as_text=True), key
    assert my_title not in _client(app, other).get("/inbox/list/").get_data(as_text=True)
    # the inbox offers no writes
    assert client.get("/inbox/add").status_code in (403, 404)
    assert client.post(f"/inbox/delete/{mine}").status_code in (403, 404)
    assert client.post(f"/inbox/edit/{mine}", data={"title": "x"}).status_code in (403, 404)
    with app.app_context():
        assert db.session.get(Message, mine).title == my_title


def test_inbox_link_is_never_another_host(app, world):
    me_id, me = _new_user(app, world)
    evil, _ = _message(app, world, me_id, link="//evil.example/x")
    script, _ = _message(app, world, me_id, link="javascript:alert(1)")
    client = _client(app, me)
    for pk in (evil, script):
        html = client.get(f"/inbox/show/{pk}").get_data(as_text=True)
        assert "evil.example" not in html and "javascript:" not in html
    assert "evil.example" not in client.get("/inbox/list/").get_data(as_text=True)


def test_unread_badge_counts_and_showing_marks_read(app, world):
    me_id, me = _new_user(app, world, role="签字领导")
    ids = [_message(app, world, me_id)[0] for _ in range(3)]
    client = _client(app, me)
    # the badge is on every page, linking to the inbox
    for url in ("/cases/list/", "/inbox/list/", "/unitview/list/"):
        html = client.get(url).get_data(as_text=True)
        assert _badge(html) == 3, url
        assert 'href="/inbox/list/"' in html
    assert client.get(f"/inbox/show/{ids[0]}").status_code == 200
    assert _badge(client.get("/cases/list/").get_data(as_text=True)) == 2
    with app.app_context():
        first = db.session.get(Message, ids[0])
        assert first.read_at is not None
        read_at = first.read_at
        # reading is not an edit: no trace row for it
        assert db.session.execute(select(func.count()).select_from(AuditLog).where(
            AuditLog.table_name == "inbox_message", AuditLog.record_id == str(ids[0]),
            AuditLog.action == "update")).scalar() == 0
    # showing it again keeps the first reading time
    client.get(f"/inbox/show/{ids[0]}")
    with app.app_context():
        assert db.session.get(Message, ids[0]).read_at == read_at
    for pk in ids[1:]:
        client.get(f"/inbox/show/{pk}")
    html = client.get("/cases/list/").get_data(as_text=True)
    assert _badge(html) == 0 and 'id="inbox-unread-count"' not in html
    # no bell before logging in
    assert 'id="inbox-nav"' not in app.test_client().get("/login/").get_data(as_text=True)


def test_mark_all_read_affects_only_own_messages(app, world):
    me_id, me = _new_user(app, world)
    other_id, other = _new_user(app, world)
    mine = [_message(app, world, me_id)[0] for _ in range(2)]
    theirs = _message(app, world, other_id)[0]
    client = _client(app, me)
    assert "全部标为已读" in client.get("/inbox/list/").get_data(as_text=True)
    assert client.get("/inbox/mark_all_read").status_code == 405
    resp = client.post("/inbox/mark_all_read", follow_redirects=True)
    assert resp.status_code == 200
    html = resp.get_data(as_text=True)
    assert "已将 2 条消息标为已读" in html and _badge(html) == 0
    with app.app_context():
        assert all(db.session.get(Message, pk).read_at is not None for pk in mine)
        assert db.session.get(Message, theirs).read_at is None
    assert _badge(_client(app, other).get("/inbox/list/").get_data(as_text=True)) == 1
    # nothing left: said so, not an error
    again = client.post("/inbox/mark_all_read", follow_redirects=True).get_data(as_text=True)
    assert "没有未读消息" in again


# ---- deadlines ----------------------------------------------------------------------------------

def test_deadlines_list_is_scoped(app, world, client_for):
    case_id, name, (row_id,) = _case_with_deadlines(app, world, unit="a")
    clerk_a, clerk_b = client_for("clerk_a"), client_for("clerk_b")
    html = clerk_a.get("/deadlines/list/?psize_CaseDeadlineView=100").get_data(as_text=True)
    assert name in html and "逾期" in html and "初次提交" in html and "自然日" in html
    assert clerk_a.get(f"/deadlines/show/{row_id}").status_code == 200
    # unit B sees none of it: list, show, export
    assert name not in clerk_b.get("/deadlines/list/").get_data(as_text=True)
    assert clerk_b.get(f"/deadlines/show/{row_id}").status_code == 404
    resp = clerk_b.get("/deadlines/export.xlsx")
    assert resp.status_code == 200 and name not in _xlsx_text(resp.data)
    # the supervisors above see it; the export has the Chinese headers
    with app.app_context():
        due = db.session.get(CaseDeadline, row_id).due_date.isoformat()
    for key in ("sup_root", "sup_a", "query_a"):  # filtered to its due date: the root's whole tree is many pages
        url = f"/deadlines/list/?_flt_0_due_date={due}&psize_CaseDeadlineView=100"
        assert name in client_for(key).get(url).get_data(as_text=True), key
    other_day = (dt.date.fromisoformat(due) + dt.timedelta(days=1)).isoformat()  # the filter does filter
    assert name not in client_for("sup_root").get(f"/deadlines/list/?_flt_0_due_date={other_day}").get_data(as_text=True)
    text = _xlsx_text(client_for("sup_root").get("/deadlines/export.xlsx").data)
    assert name in text and "截止日期" in text and "报送节点" in text
    # read-only for everyone
    assert clerk_a.get("/deadlines/add").status_code in (403, 404)
    assert clerk_a.post(f"/deadlines/delete/{row_id}").status_code in (403, 404)
    assert client_for("admin").post(f"/deadlines/edit/{row_id}", data={"status": "按时"}).status_code == 404
    with app.app_context():
        assert db.session.get(CaseDeadline, row_id).status == "逾期"
    # 签字领导 hold no deadline permission
    assert client_for("signer_a").get("/deadlines/list/").status_code == 403


def test_deadlines_filters(app, world, client_for):
    late_case, late_name, _ = _case_with_deadlines(app, world, nodes=[
        dict(node=1, status="逾期", due_date=TODAY - dt.timedelta(days=3), days_late=3)])
    ok_case, ok_name, _ = _case_with_deadlines(app, world, nodes=[
        dict(node=2, status="按时", due_date=TODAY - dt.timedelta(days=40), submitted_on=TODAY - dt.timedelta(days=41),
             days_late=0)])
    client = client_for("clerk_a")
    html = client.get("/deadlines/list/?_flt_3_status=逾期&psize_CaseDeadlineView=100").get_data(as_text=True)
    assert late_name in html and ok_name not in html
    html = client.get("/deadlines/list/?_flt_0_node=2&psize_CaseDeadlineView=100").get_data(as_text=True)
    assert ok_name in html and late_name not in html and "二次提交" in html
    due = (TODAY - dt.timedelta(days=10)).isoformat()
    html = client.get(f"/deadlines/list/?_flt_1_due_date={due}&psize_CaseDeadlineView=100").get_data(as_text=True)
    assert late_name in html and ok_name not in html
    # the export follows the filters
    text = _xlsx_text(client.get("/deadlines/export.xlsx?_flt_3_status=逾期").data)
    assert late_name in text and ok_name not in text
    # nonsense in a filter is not a server error
    for bad in ("_flt_0_due_date=不是日期", "_flt_0_node=abc", "_flt_9_status=x", "_oc_CaseDeadlineView=nope",
                "_oc_CaseDeadlineView=case.case_no&_od_CaseDeadlineView=desc"):
        assert client.get(f"/deadlines/list/?{bad}").status_code < 500, bad
    for view, url in (("CaseDeadlineView", "/deadlines/list/"), ("InboxView", "/inbox/list/")):
        for bad in (f"page_{view}=abc", f"page_{view}=-3", f"psize_{view}=0", f"psize_{view}=100000"):
            resp = client.get(f"{url}?{bad}", follow_redirects=True)
            assert resp.status_code == 200 and "分页参数无效" in resp.get_data(as_text=True), bad


def test_case_page_shows_the_deadline_panel(app, world, client_for):
    case_id, name, _ = _case_with_deadlines(app, world, nodes=[
        dict(node=1, status="按时", due_date=TODAY - dt.timedelta(days=20), submitted_on=TODAY - dt.timedelta(days=22),
             days_late=0),
        dict(node=2, status="逾期", due_date=TODAY - dt.timedelta(days=4), days_late=4)])
    html = client_for("clerk_a").get(f"/cases/show/{case_id}").get_data(as_text=True)
    assert 'id="case-deadlines"' in html
    panel = html[html.index('id="case-deadlines"'):]
    panel = panel[:panel.index("</table>")]
    assert "初次提交" in panel and "二次提交" in panel and "按时" in panel and "逾期" in panel
    assert (TODAY - dt.timedelta(days=4)).isoformat() in panel and ">4<" in panel
    # a case without deadline rows shows no panel
    bare, _, _ = _case_with_deadlines(app, world, nodes=[dict(node=1, status="未到期", due_date=TODAY, days_late=0)])
    with app.app_context(), acting_as("测试", "cli"):
        for row in db.session.query(CaseDeadline).filter(CaseDeadline.case_id == bare):
            db.session.delete(row)  # one by one, through the ORM: the case's statistics row follows
        db.session.commit()
    assert 'id="case-deadlines"' not in client_for("clerk_a").get(f"/cases/show/{bare}").get_data(as_text=True)


# ---- task runs ----------------------------------------------------------------------------------

def _runs(app) -> int:
    with app.app_context():
        return db.session.execute(select(func.count()).select_from(TaskRun)).scalar()


def test_task_runs_are_for_admins_only(app, world, client_for):
    before = _runs(app)
    for key in ("clerk_a", "sup_root", "sup_a", "query_a", "signer_a"):
        client = client_for(key)
        assert client.get("/taskruns/list/").status_code == 403, key
        assert client.post("/taskruns/scan").status_code == 403, key
        assert "任务运行记录" not in client.get("/cases/list/").get_data(as_text=True), key
    assert _runs(app) == before
    assert app.test_client().post("/taskruns/scan").status_code == 302  # anonymous: to the login page
    assert _runs(app) == before
    admin = client_for("admin")
    html = admin.get("/taskruns/list/").get_data(as_text=True)
    assert "立即执行时限扫描" in html and "任务运行记录" in html
    assert admin.get("/taskruns/add").status_code == 404
    assert admin.get("/taskruns/scan").status_code == 405


def test_admin_runs_the_scan_now(app, world, client_for):
    from app.models import AppUser, Case
    from app.workflow import cases

    with app.app_context():
        unit = db.session.get(Unit, world.units["a"])
        clerk = db.session.execute(select(AppUser).where(AppUser.username == world.users["clerk_a"])).scalar_one()
        case, _ = save_case(unit, clerk, TODAY - dt.timedelta(days=8))  # its first report was due 3 days ago
        derived_on(case, TODAY - dt.timedelta(days=4))  # as the last scan left it, four days ago: 未到期
        row_id, ids = node(case).id, (case.id, clerk.id, unit.id)
        assert node(case).status == "未到期"
        last = db.session.execute(select(func.max(TaskRun.id))).scalar() or 0
    try:
        admin = client_for("admin")
        resp = admin.post("/taskruns/scan", follow_redirects=True)
        assert resp.status_code == 200
        html = resp.get_data(as_text=True)
        assert "已提交时限扫描任务" in html
        with app.app_context():
            run = db.session.execute(select(TaskRun).where(TaskRun.id > last, TaskRun.task == "deadlines_scan")
                                     .order_by(TaskRun.id)).scalars().first()
            assert run is not None and run.status == "成功" and run.progress == 100, run and run.error
            assert run.counts["flagged"] >= 1
            row = db.session.get(CaseDeadline, row_id)
            assert row.status == "逾期" and row.days_late == 3
        # the run is listed and shown (eager Celery in tests: already finished)
        assert "时限扫描" in admin.get("/taskruns/list/").get_data(as_text=True)
        show = admin.get(f"/taskruns/show/{run.id}").get_data(as_text=True)
        assert "成功" in show and "100%" in show
    finally:
        with app.app_context():  # leave no late node for other tests' scans: the meeting moves to today
            case, clerk, unit = db.session.get(Case, ids[0]), db.session.get(AppUser, ids[1]), db.session.get(Unit, ids[2])
            with acting_as(clerk, "cli"):
                cases.save_module(case, "decision", values_decided_on(unit, TODAY)["decision"])


def test_a_failing_queue_is_a_message_not_a_500(app, world, client_for, monkeypatch):
    from app.tasks import deadlines as task_module

    def broken():
        raise ConnectionError("broker down")

    monkeypatch.setattr(task_module.deadlines_scan, "delay", broken)
    resp = client_for("admin").post("/taskruns/scan", follow_redirects=True)
    assert resp.status_code == 200
    assert "时限扫描任务提交失败" in resp.get_data(as_text=True)


# ---- CSRF -----------------------------------------------------------------------------------------



def test_post_routes_need_the_csrf_token(csrf_app, app, world):
    me_id, me = _new_user(app, world)
    pk, _ = _message(app, world, me_id)
    client = csrf_login(csrf_app.test_client(), me)
    html = client.post("/inbox/mark_all_read", follow_redirects=True).get_data(as_text=True)
    assert "安全令牌" in html
    with app.app_context():
        assert db.session.get(Message, pk).read_at is None
    page = client.get("/inbox/list/").get_data(as_text=True)
    token = re.search(r'id="mark-all-read-form">\s*<input type="hidden" name="csrf_token" value="([^"]+)"', page).group(1)
    client.post("/inbox/mark_all_read", data={"csrf_token": token})
    with app.app_context():
        assert db.session.get(Message, pk).read_at is not None

    before = _runs(app)
    admin = csrf_login(csrf_app.test_client(), world.users["admin"])
    html = admin.post("/taskruns/scan", follow_redirects=True).get_data(as_text=True)
    assert "安全令牌" in html
    assert _runs(app) == before
