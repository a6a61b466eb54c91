"""通报 text tells the truth: a period with a red case (its alarm raised in the period, its deadline not
yet due), a case reported on time and a case reported late. The summary's numbers agree with the
notice's own lists, its prose dates read 2026年1月1日, and 起草人 / 印发人 are people's names.

On the old text: "应报案例 2 件中，无红灯预警、无问题记录的 2 件，占 100.0%" beside the red case's
P27 row in 错报、漏报情况.
"""
from __future__ import annotations

import datetime as dt
import re

from app.audit import acting_as
from app.extensions import db
from app.models import Message, Unit
from app.supervision.notices import commands as svc
from app.supervision.notices.content import compose
from app.workflow import cases
from tests.factories import login, make_department, make_users, save_case, submit_first, unique

TODAY = dt.date.today()


def _cn(day: dt.date) -> str:
    return f"{day.year}年{day.month}月{day.day}日"


def _build(app, world):
    tag = unique("nx").lower()
    with acting_as("测试夹具", "cli"):
        dept, units = make_department(db.session.get(Unit, world.units["root"]), tag, "区委组织部",
                                      {"u": ("一局", None, {})})
        unit = units["u"]
        users = make_users(app.appbuilder.sm, tag, {
            "clerk": ("clerk", ["填报员"], unit), "sup": ("sup", ["监督员"], dept),
            **{f"s{i}": (f"s{i}", ["签字领导"], unit) for i in (1, 2, 3)}})
        users["sup"].last_name, users["sup"].first_name = "王", "监督"
        db.session.commit()
    office = type("Office", (), {"unit": unit, **users})
    # red: no quorum (P27), decided two days ago and submitted today — its node 1 is due after the period
    red, _ = save_case(unit, users["clerk"], TODAY - dt.timedelta(days=2), complete=True)
    with acting_as(users["clerk"], "cli"):
        cases.save_module(red, "decision", {"members_present": 7, "votes_for": 7, "votes_against": 0,
                                            "votes_defer": 0})
        cases.complete_module(red, "decision")
    submit_first(office, red)
    on_time, _ = save_case(unit, users["clerk"], TODAY - dt.timedelta(days=5), complete=True)  # due today
    submit_first(office, on_time)
    save_case(unit, users["clerk"], TODAY - dt.timedelta(days=20), complete=True)  # due 15 days ago, never reported
    from tests.factories import scan

    scan()
    return dept, unit, users, red


def test_the_summary_agrees_with_the_lists(app, world, ctx):
    dept, _unit, users, red = _build(app, world)
    period = (TODAY - dt.timedelta(days=30), TODAY)
    c = compose(dept, *period)
    wrong_rows = [r for g in c["wrong"]["groups"] for r in g["rows"]]
    assert any(r["case_no"] == red.case_no and r["code"] == "P27" for r in wrong_rows)
    wrong_cases = {r["root_id"] for r in wrong_rows}
    overall = c["overall"]
    # the red case is one of the cases the share is about, and it is not counted as clean
    assert overall["cases"] == 3 and overall["accurate"] == 2
    assert overall["cases"] - overall["accurate"] == len(wrong_cases)
    assert overall["accuracy_rate"] == round(100 * 2 / 3, 1)
    text = "".join(overall["summary"])
    assert "占 100.0%" not in text
    assert f"共 {overall['cases']} 件" in text and f"无红灯预警、无问题记录的 {overall['accurate']} 件" in text
    assert f"问题 {c['wrong']['count']} 项，涉及 {c['wrong']['cases']} 件案例" in text
    late_rows = c["late"]["rows"]
    assert len(late_rows) == 1 == overall["total"]["late"] + overall["total"]["missing"]

    # issued and read: prose dates as 2026年1月1日, people by name
    sup = users["sup"]
    with acting_as(sup, "cli"):
        notice = svc.draft(dept, *period, sup, number=f"区组通〔2026〕{unique('N')}号")
        svc.issue(notice, sup)
    db.session.expire_all()
    assert notice.created_by_name == "王监督" and notice.issued_by_name == "王监督"
    body = db.session.query(Message).filter(Message.recipient_id == users["clerk"].id,
                                            Message.kind == "通报").one().body
    assert _cn(notice.correction_deadline) in body and notice.correction_deadline.isoformat() not in body
    notice_id, deadline, username = notice.id, notice.correction_deadline, sup.username
    db.session.remove()

    client = login(app.test_client(), username)
    page = client.get(f"/notices/show/{notice_id}").get_data(as_text=True)
    assert "起草人：王监督" in page.replace(" ", "")
    doc = page[page.index('id="notice-doc"'):]
    assert f"整改期限：{_cn(deadline)}" in doc and _cn(TODAY) in doc  # the deadline and the issue date
    iso = re.search(r"\d{4}-\d{2}-\d{2}", doc)
    assert not iso, doc[max(0, iso.start() - 300):iso.end() + 50]
