"""通报 (regulations.md C.2) on real cases: a period with one unit reporting late (one case reported late,
one never reported), one with a red alarm (a decision meeting without quorum: P27) and one clean unit,
under one supervising department. The draft names exactly the late and wrong reporters with the right
numbers (checked against ORM counts), ranks the units, is reproducible, is edited and issued, is locked
afterwards, reaches exactly the named units' clerks, reports the previous notice's correction status,
exports to xlsx, prints, stays inside its scope, and the CLI prints the same JSON every time.
"""
from __future__ import annotations

import datetime as dt
import io
import json
from types import SimpleNamespace

import pytest
from sqlalchemy import func, select
from flask_appbuilder.security.sqla.models import Role

from app import dates
from app.audit import acting_as
from app.extensions import db
from app.models import Alarm, AppUser, AuditLog, CaseDeadline, Message, Notice, NoticeCase, Unit
from app.deadlines import due as deadlines
from app.supervision.notices import commands as svc
from app.supervision.notices.content import compose
from app.supervision.notices.workbook import SHEETS
from tests.factories import (
    login, make_unit, make_user, record_case, submit_first, unique, values_decided_on, without_quorum,
)

D = dt.date
TODAY = dt.date.today()
PERIOD = (TODAY - dt.timedelta(days=60), TODAY + dt.timedelta(days=30))


def _days(n: int) -> dt.date:
    return TODAY + dt.timedelta(days=n)


def _make_case(office, decided: dt.date, *, no_quorum: bool = False):
    values = values_decided_on(office.unit, decided)
    if no_quorum:
        without_quorum(values)
    return record_case(office.unit, office.clerk, values)


def build_district(app, world) -> SimpleNamespace:
    """组织部 (a supervisor) → U1 (late: one reported late, one never), U2 (P27 red), U3 (clean); and a
    sibling 组织部 with its own supervisor (another subtree)."""
    sm = app.appbuilder.sm
    tag = unique("nt").lower()
    with acting_as("测试夹具", "cli"):
        root = db.session.get(Unit, world.units["root"])
        dept = make_unit(f"{tag}-ZZB", f"区委组织部{tag}", root, level="区县", unit_type="组织部")
        other = make_unit(f"{tag}-OZB", f"另一组织部{tag}", root, level="区县", unit_type="组织部")
        units = {k: make_unit(f"{tag}-{k.upper()}", f"{name}{tag}", dept)
                 for k, name in (("u1", "一局"), ("u2", "二局"), ("u3", "三局"))}
        db.session.add_all([dept, other, *units.values()])
        db.session.flush()
        offices = {}
        for k, unit in units.items():
            offices[k] = SimpleNamespace(
                unit=unit, clerk=make_user(sm, f"c{k}_{tag}", ["填报员"], unit.id),
                **{f"s{i}": make_user(sm, f"s{i}{k}_{tag}", ["签字领导"], unit.id) for i in (1, 2, 3)})
        sup = make_user(sm, f"sup_{tag}", ["监督员"], dept.id)
        sup2 = make_user(sm, f"supb_{tag}", ["监督员"], dept.id)
        other_sup = make_user(sm, f"osup_{tag}", ["监督员"], other.id)
        query = make_user(sm, f"q_{tag}", ["查询员"], dept.id)
        db.session.commit()
    late = _make_case(offices["u1"], _days(-50))       # due -45, reported today: 逾期 45 days
    missing = _make_case(offices["u1"], _days(-45))    # due -40, never reported: 未报
    wrong = _make_case(offices["u2"], _days(-2), no_quorum=True)  # reported in time, P27 red
    clean = _make_case(offices["u3"], _days(-1))       # reported in time, nothing wrong
    for office, case in ((offices["u1"], late), (offices["u2"], wrong), (offices["u3"], clean)):
        submit_first(office, case)
    with acting_as("测试", "task"):
        deadlines.scan()
    return SimpleNamespace(dept=dept, other=other, offices=offices, sup=sup, sup2=sup2, other_sup=other_sup,
                           query=query, late=late, missing=missing, wrong=wrong, clean=clean, tag=tag,
                           **{k: o.unit for k, o in offices.items()})


@pytest.fixture(scope="module")
def district(app, world):
    with app.app_context():
        d = build_district(app, world)
        ids = SimpleNamespace(
            dept=d.dept.id, dept_code=d.dept.code, other=d.other.id, tag=d.tag,
            u1=d.u1.id, u2=d.u2.id, u3=d.u3.id, codes={k: getattr(d, k).code for k in ("u1", "u2", "u3")},
            names={k: getattr(d, k).name for k in ("u1", "u2", "u3")},
            late=d.late.id, missing=d.missing.id, wrong=d.wrong.id, clean=d.clean.id,
            late_root=d.late.root_id, missing_root=d.missing.root_id, wrong_root=d.wrong.root_id,
            clean_root=d.clean.root_id,
            case_no={k: getattr(d, k).case_no for k in ("late", "missing", "wrong", "clean")},
            sup=d.sup.username, sup2=d.sup2.username, other_sup=d.other_sup.username, query=d.query.username,
            clerks={k: o.clerk.username for k, o in d.offices.items()})
        db.session.remove()
    return ids


def user(username) -> AppUser:
    return db.session.execute(select(AppUser).where(AppUser.username == username)).scalar_one()


def _draft(district, **kw) -> Notice:
    with acting_as(user(district.sup), "cli"):
        return svc.draft(db.session.get(Unit, district.dept), *PERIOD, user(district.sup), **kw)


def _rows(content, section):
    if section == "wrong":
        return [r for g in content["wrong"]["groups"] for r in g["rows"]]
    return content[section]["rows"]


# ---- periods --------------------------------------------------------------------------------------------

def test_periods_and_labels():
    assert dates.previous_period(D(2026, 4, 1), D(2026, 6, 30)) == (D(2026, 1, 1), D(2026, 3, 31))
    assert dates.previous_period(D(2026, 1, 1), D(2026, 12, 31)) == (D(2025, 1, 1), D(2025, 12, 31))
    assert dates.previous_period(D(2026, 3, 1), D(2026, 3, 31)) == (D(2026, 2, 1), D(2026, 2, 28))
    assert dates.previous_period(D(2026, 1, 10), D(2026, 1, 19)) == (D(2025, 12, 31), D(2026, 1, 9))
    assert dates.period_label(D(2026, 7, 1), D(2026, 9, 30)) == "2026年第三季度"
    assert dates.period_label(D(2026, 1, 1), D(2026, 12, 31)) == "2026年度"
    assert dates.period_label(D(2026, 1, 5), D(2026, 2, 1)) == "2026年1月5日至2026年2月1日"
    assert dates.last_quarter(D(2026, 11, 27)) == (D(2026, 7, 1), D(2026, 9, 30))
    assert dates.last_quarter(D(2026, 2, 1)) == (D(2025, 10, 1), D(2025, 12, 31))
    from app.views.notices import quick_periods

    assert [(str(label), f, t) for label, f, t in quick_periods(D(2026, 11, 27))][0] == (
        "上季度", D(2026, 7, 1), D(2026, 9, 30))


# ---- the draft ----------------------------------------------------------------------------------------

def test_the_data_is_what_the_notice_will_say(ctx, district):
    """The fixture itself, by the ORM: two late nodes at U1, one P27 red alarm at U2, nothing at U3."""
    rows = {d.root_id: d for d in db.session.execute(select(CaseDeadline).where(CaseDeadline.root_id.in_(
        [district.late_root, district.missing_root, district.wrong_root, district.clean_root]))).scalars()}
    assert (rows[district.late_root].status, rows[district.late_root].days_late) == ("逾期", 45)
    assert (rows[district.missing_root].status, rows[district.missing_root].submitted_on) == ("未报", None)
    assert rows[district.wrong_root].status == rows[district.clean_root].status == "按时"
    alarms = db.session.execute(select(Alarm).where(Alarm.unit_id.in_([district.u1, district.u2, district.u3]))
                                .order_by(Alarm.id)).scalars().all()
    wrong = [a for a in alarms if set(a.codes.split(",")) - {"T01", "T02"}]
    assert [(a.unit_id, a.root_id) for a in wrong] == [(district.u2, district.wrong_root)]
    assert "P27" in wrong[0].codes.split(",")


def test_draft_names_exactly_the_late_and_wrong_reporters(ctx, district):
    notice = _draft(district, number=f"测组通〔2026〕{district.tag}1号")
    c = notice.content
    assert notice.status == "草稿" and notice.unit_id == district.dept
    assert c["header"]["issuer"].startswith("区委组织部") and c["header"]["recipients"] == "各单位"
    assert c["header"]["period_from"] == PERIOD[0].isoformat() and c["header"]["number"].startswith("测组通")

    # late list: exactly U1's two cases, with the stored numbers
    late = _rows(c, "late")
    assert [(r["unit_id"], r["case_no"], r["node"], r["status"], r["kind"]) for r in late] == [
        (district.u1, district.case_no["late"], 1, "逾期", "迟报"),
        (district.u1, district.case_no["missing"], 1, "未报", "漏报")]
    assert late[0]["submitted"] == TODAY.isoformat() and late[0]["days_late"] == 45
    assert late[1]["submitted"] == "未报" and late[1]["due_date"] == _days(-40).isoformat()
    orm_late = db.session.execute(select(func.count(CaseDeadline.id)).where(
        CaseDeadline.unit_id.in_([district.u1, district.u2, district.u3]),
        CaseDeadline.due_date.between(*PERIOD), CaseDeadline.status.in_(("逾期", "未报")))).scalar()
    assert len(late) == orm_late == 2

    # wrong reports: U2's P27 only, grouped under 程序不到位, not corrected; T01 never counts as 错报
    wrong = _rows(c, "wrong")
    assert [(r["unit_id"], r["case_no"], r["code"], r["type"], r["status"]) for r in wrong] == [
        (district.u2, district.case_no["wrong"], "P27", "P", "未整改")]
    assert [g["label"] for g in c["wrong"]["groups"]] == ["程序不到位"]
    assert wrong[0]["title"] and wrong[0]["what"]

    # overall: per node due / on time / late / 未报, against the ORM
    n1 = c["overall"]["nodes"][0]
    orm = dict(db.session.execute(
        select(CaseDeadline.status, func.count()).where(
            CaseDeadline.unit_id.in_([district.u1, district.u2, district.u3]), CaseDeadline.node == 1,
            CaseDeadline.due_date.between(*PERIOD)).group_by(CaseDeadline.status)).all())
    assert (n1["due"], n1["on_time"], n1["late"], n1["missing"]) == (
        sum(orm.values()), orm["按时"], orm["逾期"], orm["未报"]) == (4, 2, 1, 1)
    assert n1["rate"] == 50.0 and c["overall"]["nodes"][1]["due"] == 0 and c["overall"]["nodes"][1]["rate"] is None
    assert (c["overall"]["cases"], c["overall"]["accurate"], c["overall"]["accuracy_rate"]) == (4, 3, 75.0)
    assert c["overall"]["previous"]["total"]["due"] == 0  # the previous period of equal length: nothing
    assert [u["unit_id"] for u in c["overall"]["positive_units"]] == [district.u3]
    assert any("及时率 50.0%" in line for line in c["overall"]["summary"])

    # ranking: 100 − 5×逾期 − 10×未报 − 8×错报
    ranking = c["ranking"]["rows"]
    assert [(r["unit_id"], r["score"], r["rank"]) for r in ranking] == [
        (district.u3, 100, 1), (district.u2, 92, 2), (district.u1, 85, 3)]
    assert "100 − 5×逾期" in c["ranking"]["formula"]

    # requirements: the units that must correct; the named units
    assert [u["unit_id"] for u in c["requirements"]["units"]] == sorted(
        [district.u1, district.u2], key=lambda i: {district.u1: district.codes["u1"],
                                                   district.u2: district.codes["u2"]}[i])
    assert c["requirements"]["correction_days"] == 15 and c["requirements"]["correction_deadline"] is None
    assert set(c["named_unit_ids"]) == {district.u1, district.u2}
    assert c["previous"] is None or c["previous"]["notice_id"] != notice.id

    # the stored case list
    stored = db.session.execute(select(NoticeCase).where(NoticeCase.notice_id == notice.id)
                                .order_by(NoticeCase.id)).scalars().all()
    assert [(x.kind, x.root_id, x.unit_id) for x in stored] == [
        ("迟报", district.late_root, district.u1), ("漏报", district.missing_root, district.u1),
        ("错报", district.wrong_root, district.u2)]
    assert "P27" in stored[2].detail and "逾期 45 天" in stored[0].detail


def test_same_data_gives_the_same_content(ctx, district):
    dept = db.session.get(Unit, district.dept)
    first = compose(dept, *PERIOD, number="X")
    second = compose(dept, *PERIOD, number="X")
    assert json.dumps(first, ensure_ascii=False, sort_keys=True) == json.dumps(second, ensure_ascii=False,
                                                                               sort_keys=True)
    a, b = _draft(district), _draft(district)
    db.session.expire_all()
    assert a.id != b.id and a.content == b.content
    assert a.content["late"] == first["late"] and a.content["ranking"] == first["ranking"]


def test_only_the_issuing_departments_supervisors_draft(ctx, district):
    dept = db.session.get(Unit, district.dept)
    for who in (district.clerks["u1"], district.other_sup, district.query):
        with pytest.raises(svc.NoticeError) as err:
            svc.draft(dept, *PERIOD, user(who))
        assert "监督员" in str(err.value)
    with pytest.raises(svc.NoticeError) as err:
        svc.draft(dept, PERIOD[1], PERIOD[0], user(district.sup), correction_days=0)
    assert len(err.value.problems) == 2  # both problems at once, in Chinese
    assert "起始日期" in err.value.problems[0] and "整改天数" in err.value.problems[1]


# ---- edit, issue, lock, inbox ---------------------------------------------------------------------------

def _inbox(username, notice=None):
    q = select(Message).where(Message.recipient_id == user(username).id, Message.kind == "通报")
    if notice is not None:
        q = q.where(Message.dedup_key.like(f"notice:{notice.id}:%"))
    return db.session.execute(q).scalars().all()


def test_edit_issue_lock_and_inbox(ctx, district):
    notice = _draft(district)
    sup = user(district.sup)
    # editing: only the issuing department's supervisors, only known fields
    with pytest.raises(svc.NoticeError):
        svc.update_draft(notice, user(district.other_sup), title="越权")
    with pytest.raises(svc.NoticeError) as err:
        svc.update_draft(notice, sup, content={"x": 1})
    assert "不能修改" in str(err.value)
    # issuing without a 文号 is refused
    with pytest.raises(svc.NoticeError) as err, acting_as(sup, "cli"):
        svc.issue(notice, sup)
    assert "文号" in str(err.value)
    number = f"测组通〔2026〕{unique('N')}号"
    with acting_as(sup, "cli"):
        svc.update_draft(notice, user(district.sup2), title="关于本期记实报送情况的通报", number=number,
                         intro="导语已修改。", requirements="一、限期整改。", next_steps="继续巡查。", correction_days=20)
    db.session.expire_all()
    assert (notice.title, notice.number) == ("关于本期记实报送情况的通报", number)
    assert notice.content["texts"] == {"intro": "导语已修改。", "requirements": "一、限期整改。", "next_steps": "继续巡查。"}
    assert notice.content["header"]["title"] == notice.title
    # the 文号 is the department's own: a second notice cannot take it
    other = _draft(district)
    with pytest.raises(svc.NoticeError) as err:
        svc.update_draft(other, sup, number=number)
    assert "已被" in str(err.value)

    from app.infra import notify

    class Recorder(notify.Channel):  # a gateway: copies go out after the commit, once each
        name, sent = "recorder", []

        def enabled(self):
            return True

        def send(self, user, message):
            self.sent.append((user.id, message.id))

    recorder = Recorder()
    notify.register_channel(recorder)
    try:
        with acting_as(sup, "cli"):
            ids = svc.issue(notice, sup)
    finally:
        notify._EXTRA.remove(recorder)
    assert sorted(m for _, m in recorder.sent) == sorted(ids)
    db.session.expire_all()
    assert notice.status == "已印发" and notice.issued_by_name == sup.username and notice.issued_at is not None
    assert notice.correction_deadline == TODAY + dt.timedelta(days=20)
    assert notice.content["requirements"]["correction_deadline"] == notice.correction_deadline.isoformat()
    assert notice.content["header"]["issued_on"] == TODAY.isoformat()

    # the inbox: the clerks of U1 and U2 once each, the department's supervisors; not U3, not the other department
    for key in ("u1", "u2"):
        [m] = _inbox(district.clerks[key], notice)
        assert m.link == f"/notices/received/{notice.id}" and m.title.startswith("通报：")
    assert "逾期报送 1 件" in _inbox(district.clerks["u1"], notice)[0].body
    assert _inbox(district.clerks["u3"]) == [] and _inbox(district.other_sup) == []
    assert len(_inbox(district.sup, notice)) == 1 and len(_inbox(district.sup2, notice)) == 1
    # … and the leaders (签字领导) of the units named: three each in U1 and U2
    signers = {key: db.session.execute(select(AppUser).where(
        AppUser.unit_id == getattr(district, key), AppUser.roles.any(name="签字领导"))).scalars().all()
        for key in ("u1", "u2", "u3")}
    for signer in signers["u1"] + signers["u2"]:
        [m] = _inbox(signer.username, notice)
        assert m.unit_id == signer.unit_id and "贵单位被列入通报" in m.body
    assert all(_inbox(s.username, notice) == [] for s in signers["u3"])
    assert len(ids) == 4 + 6
    # sending again (a retried run) adds nothing: the dedup keys hold
    from app.deadlines.due import _insert_ignore

    again = db.session.execute(_insert_ignore(Message.__table__).values(svc._message_rows(notice))
                               .returning(Message.__table__.c.id)).scalars().all()
    db.session.commit()
    assert again == [] and len(_inbox(district.clerks["u1"], notice)) == 1

    # locked: the service refuses, and so does any ORM write
    with pytest.raises(svc.NoticeError) as err:
        svc.update_draft(notice, sup, title="改")
    assert "已印发" in str(err.value)
    with pytest.raises(svc.NoticeError), acting_as(sup, "cli"):
        svc.issue(notice, sup)
    with acting_as(sup, "cli"):
        notice.title = "直接改标题"
        with pytest.raises(svc.NoticeLocked):
            db.session.commit()
        db.session.rollback()
        notice.content = {**notice.content, "texts": {}}
        with pytest.raises(svc.NoticeLocked):
            db.session.flush()
        db.session.rollback()
        first = notice.cases[0]
        first.detail = "改"
        with pytest.raises(svc.NoticeLocked):
            db.session.flush()
        db.session.rollback()
        db.session.add(NoticeCase(notice_id=notice.id, case_id=district.clean, root_id=district.clean_root,
                                  unit_id=district.u3, kind="错报", detail="追加"))
        with pytest.raises(svc.NoticeLocked):
            db.session.flush()
        db.session.rollback()
        db.session.delete(db.session.get(Notice, notice.id))
        with pytest.raises(svc.NoticeLocked):
            db.session.flush()
        db.session.rollback()
    db.session.expire_all()
    assert db.session.get(Notice, notice.id).title == "关于本期记实报送情况的通报"
    assert len(db.session.get(Notice, notice.id).cases) == 3


def test_an_edit_racing_an_issue_is_refused(ctx, district):
    """Another worker issued the notice after this session loaded it: the write is refused at flush."""
    from sqlalchemy import update

    notice = _draft(district, number=f"竞〔2026〕{unique('R')}号")
    stale = db.session.get(Notice, notice.id)
    with db.engine.begin() as conn:  # the other worker
        conn.execute(update(Notice).where(Notice.id == notice.id).values(status="已印发"))
    assert stale.status == "草稿"  # this session has not noticed
    with pytest.raises(svc.NoticeLocked), acting_as(user(district.sup), "cli"):
        svc.update_draft(stale, user(district.sup), title="晚到的修改")
    db.session.expire_all()
    assert db.session.get(Notice, notice.id).title != "晚到的修改"


def test_a_later_notice_reports_the_previous_ones_correction(app, world, ctx):
    d = build_district(app, world)
    sup = d.sup
    dept = d.dept
    with acting_as(sup, "cli"):
        first = svc.draft(dept, *PERIOD, sup, number=f"前〔2026〕{d.tag}号")
        svc.issue(first, sup)
    # U1 reports the missing case now; U2's alarm stays open
    submit_first(d.offices["u1"], d.missing)
    with acting_as(sup, "cli"):
        second = svc.draft(dept, *PERIOD, sup, number=f"后〔2026〕{d.tag}号")
    prev = second.content["previous"]
    assert second.previous_id == first.id and prev["notice_id"] == first.id and prev["number"] == first.number
    status = {(r["case_no"], r["kind"]): (r["corrected"], r["status"]) for r in prev["rows"]}
    assert status == {(d.late.case_no, "迟报"): (True, "已整改"), (d.missing.case_no, "漏报"): (True, "已整改"),
                      (d.wrong.case_no, "错报"): (False, "未整改")}
    assert (prev["total"], prev["corrected"]) == (3, 2)
    # U1 is late again in this notice: a repeat offender
    assert [u["unit_id"] for u in second.content["late"]["repeat_units"]] == [d.u1.id]
    assert all(r["repeat"] for r in second.content["late"]["rows"])
    # now both U1 rows are reported late (逾期); U2 must still correct (its alarm and the previous item)
    assert [r["status"] for r in second.content["late"]["rows"]] == ["逾期", "逾期"]
    must = {u["unit_id"]: u for u in second.content["requirements"]["units"]}
    assert must[d.u2.id]["previous"] == 1 and must[d.u2.id]["wrong"] == 1
    # the dismissed alarm counts as settled in a later notice, and is not an error any more
    from app.supervision.alarm_actions import dismiss

    alarm = db.session.execute(select(Alarm).where(Alarm.root_id == d.wrong.root_id,
                                                   Alarm.codes.contains("P27"))).scalar_one()
    with acting_as(sup, "cli"):
        dismiss(alarm, sup, "经核实，会议另有书面表决，符合规定")
        third = compose(dept, *PERIOD)
    assert _rows(third, "wrong") == []
    assert {(r["case_no"], r["corrected"]) for r in third["previous"]["rows"]} >= {(d.wrong.case_no, True)}
    # a finding recorded in the period and an appointment never reported (no case at all) are wrong reports too
    from app.models import Finding

    with acting_as(sup, "cli"):
        db.session.add(Finding(case_id=d.clean.id, root_id=d.clean.root_id, unit_id=d.u3.id, rule_codes="Q01",
                               description="工龄计算有误", correction_deadline=_days(10), created_by_name="测试"))
        db.session.add(Alarm(case_id=None, root_id=None, unit_id=d.u3.id, point="R", codes="应报未报",
                             message="应报未报：任免文件 测任〔2026〕1号 未报送对应的案例", dedup_key=unique("nt:")))
        db.session.commit()
        fourth = compose(dept, *PERIOD)
    assert [(g["type"], [(r["code"], r["case_no"], r["status"]) for r in g["rows"]])
            for g in fourth["wrong"]["groups"]] == [
        ("Q", [("Q01", d.clean.case_no, "未整改")]), ("M", [("应报未报", "（未报送）", "未整改")])]
    assert d.u3.id in fourth["named_unit_ids"]
    assert [u["unit_id"] for u in fourth["overall"]["positive_units"]] == [d.u2.id]  # its alarm was verified
    assert {r["unit_id"]: r["score"] for r in fourth["ranking"]["rows"]}[d.u3.id] == 100 - 2 * 8


# ---- pages ------------------------------------------------------------------------------------------------

def _client(app, username):
    return login(app.test_client(), username)


def test_pages_create_edit_issue_print_export(app, district, world):
    sup = _client(app, district.sup)
    page = sup.get("/notices/add")
    assert page.status_code == 200 and "上季度" in page.get_data(as_text=True)
    # nonsense input: Chinese messages, never a server error
    for bad in ({"period_from": "2026-13-01", "period_to": "x", "correction_days": "abc"},
                {"period_from": "0001-01-01", "period_to": "0001-03-31", "correction_days": "15"},
                {"period_from": PERIOD[1].isoformat(), "period_to": PERIOD[0].isoformat(), "correction_days": "15"},
                {"period_from": "", "period_to": "", "correction_days": "999"}):
        resp = sup.post("/notices/add", data=bad)
        assert resp.status_code == 200
        assert "alert" in resp.get_data(as_text=True)
    resp = sup.post("/notices/add", data={"period_from": PERIOD[0].isoformat(), "period_to": PERIOD[1].isoformat(),
                                          "number": "", "correction_days": "10"})
    assert resp.status_code == 302
    pk = int(resp.headers["Location"].rstrip("/").split("/")[-1])
    html = sup.get(f"/notices/show/{pk}").get_data(as_text=True)
    for text in ("一、总体情况", "二、迟报情况", "三、错报、漏报情况", "四、上期通报问题整改情况", "五、各单位得分排名",
                 "六、整改要求", "七、下一步工作", district.case_no["late"], district.case_no["wrong"], "P27",
                 'id="issue-form"', 'id="edit-link"'):
        assert text in html, text
    # a draft is the issuing department's only: not the root supervisor's, not another subtree's
    assert _client(app, world.users["sup_root"]).get(f"/notices/show/{pk}").status_code == 404
    other = _client(app, district.other_sup)
    assert other.get(f"/notices/show/{pk}").status_code == 404
    assert other.get(f"/notices/edit/{pk}").status_code == 404
    assert other.post(f"/notices/issue/{pk}").status_code == 404
    assert other.get(f"/notices/{pk}/export.xlsx").status_code == 404
    assert other.get(f"/notices/{pk}/print").status_code == 404
    assert other.get(f"/notices/received/{pk}").status_code == 404

    # edit: bad values are told, good ones saved
    resp = sup.post(f"/notices/edit/{pk}", data={"title": "", "number": "", "intro": "", "requirements": "",
                                                 "next_steps": "", "correction_deadline": "2020-99-01",
                                                 "correction_days": "0"})
    assert resp.status_code == 200 and "alert" in resp.get_data(as_text=True)
    number = f"页组通〔2026〕{unique('P')}号"
    resp = sup.post(f"/notices/edit/{pk}", data={"title": "页面修改的通报", "number": number, "intro": "导语",
                                                 "requirements": "整改要求正文", "next_steps": "下一步正文",
                                                 "correction_deadline": _days(25).isoformat(), "correction_days": "10"})
    assert resp.status_code == 302
    # 印发 without the confirmation does nothing
    resp = sup.post(f"/notices/issue/{pk}")
    assert resp.status_code == 302
    with app.app_context():
        assert db.session.get(Notice, pk).status == "草稿"
        sent = select(func.count(Message.id)).where(Message.link.contains(f"/notices/received/{pk}"))
        assert db.session.execute(sent).scalar() == 0
    html = sup.get(f"/notices/show/{pk}").get_data(as_text=True)
    assert "未印发" in html and 'id="issue-confirm"' in html
    effects = html.split('id="issue-effects"')[1].split("</ul>")[0]
    assert "不能再修改" in effects and f"{_days(25).year}年{_days(25).month}月{_days(25).day}日" in effects
    resp = sup.post(f"/notices/issue/{pk}", data={"confirm": "1"})
    assert resp.status_code == 302
    with app.app_context():
        notice = db.session.get(Notice, pk)
        assert (notice.status, notice.title, notice.correction_deadline) == ("已印发", "页面修改的通报", _days(25))
    html = sup.get(f"/notices/show/{pk}").get_data(as_text=True)
    assert 'id="issue-form"' not in html and 'id="edit-link"' not in html
    assert "整改期限：" + dates.official_date(_days(25)) in html  # 公文 prose: 2026年1月1日
    resp = sup.get(f"/notices/edit/{pk}")
    assert resp.status_code == 302  # issued: back to the document with a message
    assert sup.post(f"/notices/issue/{pk}", data={"confirm": "1"}).status_code == 302
    with app.app_context():
        assert db.session.get(Notice, pk).title == "页面修改的通报"
    # issued: the root supervisor (subtree above) and the department's query user read it
    assert _client(app, world.users["sup_root"]).get(f"/notices/show/{pk}").status_code == 200
    assert _client(app, district.query).get(f"/notices/show/{pk}").status_code == 200

    # the named units' clerks open it from their inbox; a clean unit's clerk and strangers cannot
    for key in ("u1", "u2"):
        clerk = _client(app, district.clerks[key])
        with app.app_context():
            [m] = _inbox(district.clerks[key], SimpleNamespace(id=pk))
        assert clerk.get(m.link).status_code == 200
        assert "页面修改的通报" in clerk.get(f"/notices/{pk}/print").get_data(as_text=True)
        assert clerk.get(f"/notices/show/{pk}").status_code != 200  # not by scope: only through the named route
    # the named units' leaders (签字领导) got it too, and open it from their inbox as well
    with app.app_context():
        leaders = db.session.execute(select(Message.recipient_id, Message.link).join(AppUser, AppUser.id == Message.recipient_id)
                                     .join(AppUser.roles).where(Message.link == f"/notices/received/{pk}",
                                                                Role.name == "签字领导")).all()
        names = {uid: db.session.get(AppUser, uid).username for uid, _link in leaders}
    assert len(names) >= 6  # three signers in each of the two named units
    for uid, link in leaders:
        leader = _client(app, names[uid])
        assert leader.get(link).status_code == 200, names[uid]
        assert leader.get(f"/notices/{pk}/print").status_code == 200
    clean = _client(app, district.clerks["u3"])
    assert clean.get(f"/notices/received/{pk}").status_code == 404
    assert clean.get(f"/notices/{pk}/print").status_code == 404
    assert _client(app, world.users["clerk_b"]).get(f"/notices/received/{pk}").status_code == 404
    assert other.get(f"/notices/received/{pk}").status_code == 404
    assert sup.get("/notices/received/abc").status_code == 404
    assert sup.get("/notices/show/99999999999999").status_code == 404

    # print: a standalone page, no script, no external asset
    printed = sup.get(f"/notices/{pk}/print").get_data(as_text=True)
    assert "@media print" in printed and "<script" not in printed
    assert "http:" not in printed and "https:" not in printed and "<link" not in printed
    assert "页面修改的通报" in printed and number in printed and 'lang="zh-CN"' in printed
    assert "证据链头：" in printed  # a copy of the evidence chain head outside the system

    # the workbook, and its export in the audit trail
    resp = sup.get(f"/notices/{pk}/export.xlsx")
    assert resp.status_code == 200 and resp.mimetype.endswith("spreadsheetml.sheet")
    from openpyxl import load_workbook

    wb = load_workbook(io.BytesIO(resp.data))
    assert wb.sheetnames == list(SHEETS)
    assert any(str(c).startswith("证据链头：") for ws in wb for row in ws.iter_rows(values_only=True) for c in row)
    late = [r for r in wb["迟报名单"].iter_rows(values_only=True) if isinstance(r[0], int)]
    assert [r[2] for r in late] == [district.case_no["late"], district.case_no["missing"]]
    assert late[1][6] == "未报"
    wrong = [r for r in wb["错报漏报"].iter_rows(values_only=True) if isinstance(r[0], int)]
    assert [(r[1], r[3], r[5]) for r in wrong] == [("程序不到位", district.case_no["wrong"], "P27")]
    ranking = [r for r in wb["单位排名"].iter_rows(values_only=True) if isinstance(r[0], int)]
    assert [(r[1], r[9]) for r in ranking] == [(district.codes["u3"], 100), (district.codes["u2"], 92),
                                                (district.codes["u1"], 85)]
    overall = {r[0]: r[1] for r in wb["总体情况"].iter_rows(values_only=True) if r and r[0]}
    assert overall["初次提交应报件次"] == 4 and overall["初次提交及时率（%）"] == 50.0
    with app.app_context():
        logged = db.session.execute(select(AuditLog).where(AuditLog.table_name == "circular_notice",
                                                           AuditLog.action == "export",
                                                           AuditLog.old_value.contains(f"#{pk}"))).scalars().all()
        c = db.session.get(Notice, pk).content
        rows = (len(c["late"]["rows"]) + c["wrong"]["count"] + len((c["previous"] or {}).get("rows") or [])
                + len(c["ranking"]["rows"]))
        assert len(logged) == 1 and logged[0].new_value == f"{rows} 行"


def test_list_is_scoped(app, district):
    with app.app_context():
        dept = db.session.get(Unit, district.dept)
        with acting_as(user(district.sup), "cli"):
            notice = svc.draft(dept, *PERIOD, user(district.sup), number=f"列〔2026〕{unique('L')}号")
            title = f"列表可见性{unique('T')}"
            svc.update_draft(notice, user(district.sup), title=title)
            pk = notice.id
    assert title in _client(app, district.sup).get("/notices/list/").get_data(as_text=True)
    assert title not in _client(app, district.other_sup).get("/notices/list/").get_data(as_text=True)
    assert _client(app, district.clerks["u1"]).get("/notices/list/").status_code != 200
    assert _client(app, district.other_sup).get(f"/notices/edit/{pk}").status_code == 404
    assert _client(app, district.other_sup).post(f"/notices/edit/{pk}", data={"title": "越权"}).status_code == 404
    with app.app_context():
        assert db.session.get(Notice, pk).title == title


# ---- the CLI --------------------------------------------------------------------------------------------

def test_cli_draft_json_is_the_same_every_time(app, district):
    runner = app.test_cli_runner()
    args = ["notices", "draft", "--from", PERIOD[0].isoformat(), "--to", PERIOD[1].isoformat(),
            "--unit", district.dept_code, "--number", "测〔2026〕9号", "--json"]
    with app.app_context():
        before = db.session.execute(select(func.count(Notice.id))).scalar()
    first, second = runner.invoke(args=args), runner.invoke(args=args)
    assert first.exit_code == 0, first.output
    assert first.stdout == second.stdout
    data = json.loads(first.stdout)
    assert [r["case_no"] for r in data["late"]["rows"]][:1] == [district.case_no["late"]]
    with app.app_context():
        assert db.session.execute(select(func.count(Notice.id))).scalar() == before  # nothing saved
        assert data == json.loads(json.dumps(compose(db.session.get(Unit, district.dept), *PERIOD,
                                                         number="测〔2026〕9号"), default=str))
    saved = runner.invoke(args=args[:-1] + ["--save", "--as-user", district.sup, "--json"])
    assert saved.exit_code == 0, saved.output
    assert json.loads(saved.stdout) == data
    refused = runner.invoke(args=args[:-1] + ["--save", "--as-user", district.other_sup])
    assert refused.exit_code != 0 and "监督员" in refused.output
    bad = runner.invoke(args=["notices", "draft", "--from", "2026-02-30", "--to", "x", "--unit", district.dept_code])
    assert bad.exit_code != 0 and "YYYY-MM-DD" in bad.output
    text = runner.invoke(args=args[:-1])
    assert text.exit_code == 0 and "100 分" in text.output
