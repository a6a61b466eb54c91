"""网上巡查, 抽查 and 实时监控: the patrol service (reviews, reproducible draws, findings), its pages
(the dashboard and its JSON, the worklist, spot checks, findings) and `flask patrol sample`.

Service tests use the ``office`` fixture of test_deadlines (a fresh 组织部 above a fresh unit, real
cases built and submitted through the workflow). Page tests make their own office outside any held
app context — a request must never share ``g`` (the user, the scope) with the test — and load it
again where they need the ORM objects.
"""
from __future__ import annotations

import datetime as dt
import json
import math
import re
from contextlib import contextmanager
from dataclasses import dataclass, field
from types import SimpleNamespace

import pytest
from sqlalchemy import func, select

from app.audit import acting_as
from app.extensions import db
from app.models import Alarm, AppUser, Case, CaseDeadline, Submission, Unit
from app.models.case import STATUS_DRAFT, STATUS_FIRST, STATUS_RETURNED
from app.alarms import derived
from app.models.supervision import Finding, Review, SpotCheck
from app.scoping import Scope, scope_for
from app.workflow import guard
from app.workflow import cases as case_service
from app.supervision import patrol
from app.supervision.patrol import PatrolError
from tests.factories import login, make_case, make_unit, make_user, office_ids, submit_first, unique

TODAY = dt.date.today()
DECIDED = TODAY - dt.timedelta(days=2)
CJK = re.compile(r"[\u4e00-\u9fff]")


@pytest.fixture()
def actor():
    """Service calls outside a request name their actor (the audit trail requires one)."""
    with acting_as("测试巡查", "cli"):
        yield


def _chinese(problems) -> bool:
    return bool(problems) and all(CJK.search(str(p)) for p in problems)


def _review_count(case_id=None) -> int:
    q = select(func.count(Review.id))
    if case_id is not None:
        q = q.where(Review.case_id == case_id)
    return db.session.execute(q).scalar()


def _review_result(case: Case):
    db.session.expire_all()
    return db.session.get(Case, case.id).module_row("submission").review_result


def _submitted(office, n=1, decided=DECIDED) -> list[Case]:
    out = []
    for _ in range(n):
        case, _values = make_case(office, decided)
        submit_first(office, case)
        out.append(case)
    return out


def _fake_submitted(unit: Unit, n: int) -> list[int]:
    """Cheap submitted current cases (status set directly, then derived like a real one): enough for
    the draw arithmetic."""
    ids = []
    with acting_as("测试", "cli"):
        for _ in range(n):
            case = case_service.create_case(unit)
            with guard.workflow_write():
                case.status = STATUS_FIRST
                derived.derive(case)  # its light and evaluation follow the status, as on every real path
                db.session.commit()
            ids.append(case.id)
    return ids


def _child_unit(parent: Unit, label="子") -> Unit:
    with acting_as("测试夹具", "cli"):
        unit = make_unit(unique("pc").lower(), f"{label}单位{unique()}", parent)
        db.session.add(unit)
        db.session.commit()
    return unit


# ---- reviews ------------------------------------------------------------------------------------------

def test_review_results_are_written(office, actor):
    passed, yellow, red, back = _submitted(office, 4)
    sup = office.sup

    rev = patrol.review(passed, sup, "通过", "材料齐全，程序规范")
    assert rev.id and rev.result == "通过" and rev.reviewer_name
    assert _review_result(passed) == "通过"

    light_before = yellow.light
    patrol.review(yellow, sup, "黄灯提示", "考察谈话人数偏少")
    assert _review_result(yellow) == "黄灯提示"
    assert db.session.get(Case, yellow.id).light == ("黄" if light_before in (None, "绿") else light_before)

    rev = patrol.review(red, sup, "红灯预警", "破格未经批准")
    assert _review_result(red) == "红灯预警"
    red = db.session.get(Case, red.id)
    assert red.light == "红"
    alarm = db.session.execute(select(Alarm).where(Alarm.dedup_key == f"review:{rev.id}")).scalar_one()
    assert alarm.case_id == red.id and alarm.status == "已报警" and "破格未经批准" in alarm.message

    rev = patrol.review(back, sup, "退回补正", "缺少考察材料")
    db.session.expire_all()
    old = db.session.get(Case, back.id)
    assert old.status == STATUS_RETURNED and not old.is_current
    new = db.session.execute(select(Case).where(Case.root_id == old.root_id, Case.is_current.is_(True))).scalar_one()
    assert new.version_no == old.version_no + 1 and new.status == STATUS_DRAFT
    assert "缺少考察材料" in new.return_reason
    assert db.session.get(Review, rev.id).case_id == old.id

    # every reviewed case left the worklist
    listed = {c.id for c, _at in db.session.execute(patrol.worklist_select(scope_for(sup))).all()}
    assert listed.isdisjoint({passed.id, yellow.id, red.id, back.id, new.id})


def test_review_refusals_are_chinese_and_write_nothing(office, actor, app):
    case = _submitted(office)[0]
    draft, _values = make_case(office, DECIDED)
    with acting_as("测试夹具", "cli"):
        stranger = make_user(app.appbuilder.sm, unique("sup").lower(), ["监督员"],
                             _child_unit(db.session.get(Unit, office.dept.parent_id), "别处").id)
        db.session.commit()
    before = _review_count()
    alarms = db.session.execute(select(func.count(Alarm.id))).scalar()
    cases_ = [
        (case, office.clerk, "通过", "理由", "只有该单位的监督部门可以审核此案例"),
        (case, stranger, "通过", "理由", "只有该单位的监督部门可以审核此案例"),
        (case, office.sup, "红灯预警", "   ", "请写明审核意见（理由）"),
        (case, office.sup, "随便", "理由", "审核结论应为"),
        (draft, office.sup, "通过", "理由", "只有已提交的现行版本可以审核"),
    ]
    for target, user, result, reason, expected in cases_:
        with pytest.raises(PatrolError) as exc:
            patrol.review(target, user, result, reason)
        assert _chinese(exc.value.problems) and any(expected in p for p in exc.value.problems), exc.value.problems
    # one call, every problem at once
    with pytest.raises(PatrolError) as exc:
        patrol.review(draft, office.clerk, "", "")
    assert len(exc.value.problems) == 4
    assert _review_count() == before
    assert db.session.execute(select(func.count(Alarm.id))).scalar() == alarms
    assert _review_result(case) in (None, "待审")
    assert db.session.get(Case, case.id).status == STATUS_FIRST


def test_worklist_is_scoped_and_ordered(office, actor, app):
    first, second = _submitted(office, 2)
    ids = [c.id for c, _at in db.session.execute(patrol.worklist_select(scope_for(office.sup))).all()]
    assert ids == [first.id, second.id]  # oldest submission first
    assert ids == [c.id for c, _at in db.session.execute(patrol.worklist_select(Scope("unit", office.unit.id)))]
    sibling = _child_unit(db.session.get(Unit, office.dept.parent_id), "旁支")
    assert db.session.execute(patrol.worklist_select(Scope("subtree", sibling.id, sibling.path))).all() == []


# ---- draws --------------------------------------------------------------------------------------------

def test_draw_is_reproducible_and_per_unit(office, actor):
    second = _child_unit(office.dept, "乙")
    a_ids = _fake_submitted(office.unit, 7)
    b_ids = _fake_submitted(second, 3)
    draft = case_service.create_case(office.unit)  # drafts are never drawn
    scope = scope_for(office.sup)

    one = patrol.draw(office.dept, scope, seed="2026-巡查", count=2)
    again = patrol.draw(office.dept, scope, seed="2026-巡查", count=2)
    assert one.by_unit == again.by_unit and one.population == 10
    assert len(one.by_unit[office.unit.id]) == 2 and len(one.by_unit[second.id]) == 2
    assert set(one.case_ids) <= set(a_ids + b_ids) and draft.id not in one.case_ids
    # another seed: (very likely) another draw — C(7,2)·C(3,2) = 63 outcomes, so ten seeds all equal is ~1e-18
    others = {tuple(patrol.draw(office.dept, scope, seed=f"s{i}", count=2).case_ids) for i in range(10)}
    assert len(others) > 1
    # count larger than a unit's cases: all of them
    assert sorted(patrol.draw(office.dept, scope, seed="x", count=5).by_unit[second.id]) == sorted(b_ids)
    # rate: ceil(rate × n) per unit
    for rate in ("0.1", "0.3", "0.5", "1"):
        d = patrol.draw(office.dept, scope, seed="r", rate=rate)
        assert len(d.by_unit[office.unit.id]) == math.ceil(float(rate) * 7), rate
        assert len(d.by_unit[second.id]) == math.ceil(float(rate) * 3), rate
    # a unit's draw does not depend on the other units: a new case in B leaves A's draw alone
    _fake_submitted(second, 1)
    assert patrol.draw(office.dept, scope, seed="2026-巡查", count=2).by_unit[office.unit.id] == one.by_unit[office.unit.id]
    # the subtree of a child only draws from it
    only_b = patrol.draw(second, scope, seed="r", rate="1")
    assert set(only_b.by_unit) == {second.id}


@pytest.mark.parametrize("kwargs, expected", [
    ({"rate": "0"}, "抽查比例"), ({"rate": "1.5"}, "抽查比例"), ({"rate": "abc"}, "抽查比例"),
    ({"rate": "nan"}, "抽查比例"), ({"rate": "-0.1"}, "抽查比例"), ({"rate": "0.1234567"}, "抽查比例"),
    ({"count": 0}, "每单位抽查件数"), ({"count": 10 ** 9}, "每单位抽查件数"),
    ({}, "--rate"), ({"rate": "0.1", "count": 2}, "--rate"),
    ({"rate": "0.1", "seed": " "}, "随机种子"), ({"rate": "0.1", "seed": "x" * 65}, "随机种子"),
])
def test_draw_validation(office, actor, kwargs, expected):
    kwargs = {"seed": "s", **kwargs}
    with pytest.raises(PatrolError) as exc:
        patrol.draw(office.dept, scope_for(office.sup), **kwargs)
    assert _chinese(exc.value.problems) and expected in exc.value.problems[0]


def test_rate_is_normalised():
    assert str(patrol.parse_rate("0.10")) == "0.1"
    assert str(patrol.parse_rate("1.000")) == "1"
    assert str(patrol.parse_rate(" 0.25 ")) == "0.25"


def test_recorded_spot_check_redraws_the_same(office, actor, app):
    ids = _submitted(office, 2)
    check = patrol.record_spot_check(office.dept, office.sup, seed="abc", rate="0.5",
                                     period_from=DECIDED - dt.timedelta(days=1), period_to=DECIDED)
    assert check.population == 2 and check.rate == "0.5" and check.method == "rate" and check.seed == "abc"
    assert [i.case_id for i in check.items] == patrol.redraw(check).case_ids
    assert len(check.items) == 1 and check.items[0].case_id in {c.id for c in ids}
    # the period filters by the decision date
    assert patrol.draw(office.dept, scope_for(office.sup), seed="abc", rate="1",
                       period_from=TODAY, period_to=TODAY).population == 0
    # refused: a clerk, a unit outside the scope; nothing recorded
    n = db.session.execute(select(func.count(SpotCheck.id))).scalar()
    with pytest.raises(PatrolError) as exc:
        patrol.record_spot_check(office.dept, office.clerk, seed="abc", count=1)
    assert "只有该单位的监督部门可以抽查" in exc.value.problems
    root = db.session.get(Unit, office.dept.parent_id)
    with pytest.raises(PatrolError):
        patrol.record_spot_check(root, office.sup, seed="abc", count=1)
    empty = _child_unit(office.dept, "空")
    with pytest.raises(PatrolError) as exc:
        patrol.record_spot_check(empty, office.sup, seed="abc", count=1)
    assert "没有已提交的案例" in exc.value.problems[0]
    assert db.session.execute(select(func.count(SpotCheck.id))).scalar() == n


def test_redraw_check_tells_when_the_population_changed(office, actor):
    from app.views.patrol import verification

    cases_ = _submitted(office, 2)
    check = patrol.record_spot_check(office.dept, office.sup, seed="v", rate="1")
    ok = verification(check)
    assert ok["same"] and ok["population_same"] and ok["stored_nos"] == [c.case_no for c in cases_]
    patrol.review(cases_[0], office.sup, "退回补正", "缺少材料")  # the drawn version is no longer current
    changed = verification(db.session.get(SpotCheck, check.id))
    assert not changed["same"] and not changed["population_same"] and changed["population"] == 1
    assert changed["missing"] == [cases_[0].id]


# ---- findings -----------------------------------------------------------------------------------------

def test_findings_lifecycle_and_overdue(office, actor, app):
    case = _submitted(office)[0]
    check = patrol.record_spot_check(office.dept, office.sup, seed="f", count=1)
    deadline = TODAY + dt.timedelta(days=10)
    bad = [
        (dict(rule_codes="", description="x", deadline=deadline), "规则编号"),
        (dict(rule_codes="ZZ99", description="x", deadline=deadline), "规则编号不存在"),
        (dict(rule_codes="P27", description=" ", deadline=deadline), "请描述"),
        (dict(rule_codes="P27", description="x", deadline=TODAY), "整改期限应晚于今天"),
    ]
    for kwargs, expected in bad:
        with pytest.raises(PatrolError) as exc:
            patrol.add_finding(case, office.sup, spot_check=check, **kwargs)
        assert any(expected in p for p in exc.value.problems), exc.value.problems
    with pytest.raises(PatrolError) as exc:
        patrol.add_finding(case, office.clerk, rule_codes="P27", description="x", deadline=deadline)
    assert "只有该单位的监督部门可以记录问题" in exc.value.problems
    assert db.session.execute(select(func.count(Finding.id)).where(Finding.case_id == case.id)).scalar() == 0

    finding = patrol.add_finding(case, office.sup, rule_codes="p27， c02,P27", description="考察对象范围过窄",
                                 deadline=deadline, spot_check=check)
    assert finding.rule_codes == "P27,C02" and finding.status == "整改中" and finding.spot_check_id == check.id
    scope = scope_for(office.sup)
    assert patrol.overdue_findings(scope) == []
    assert patrol.overdue_findings(scope, today=deadline + dt.timedelta(days=1)) == [finding]

    with pytest.raises(PatrolError) as exc:
        patrol.close_finding(finding, office.sup)
    assert "整改尚未完成，不能关闭" in exc.value.problems
    with pytest.raises(PatrolError) as exc:
        patrol.report_corrected(finding, office.s1, "已整改")  # a signer of the unit
    assert "只有本单位填报员或监督部门可以报告整改情况" in exc.value.problems
    with pytest.raises(PatrolError) as exc:
        patrol.report_corrected(finding, office.clerk, " ")
    assert "请说明整改情况" in exc.value.problems
    patrol.report_corrected(finding, office.clerk, "已补充考察谈话")
    assert finding.status == "已整改" and finding.corrected_at is not None
    assert patrol.overdue_findings(scope, today=deadline + dt.timedelta(days=1)) == []
    with pytest.raises(PatrolError):
        patrol.report_corrected(finding, office.clerk, "再报一次")
    with pytest.raises(PatrolError) as exc:
        patrol.close_finding(finding, office.clerk)
    assert "只有该单位的监督部门可以关闭问题" in exc.value.problems
    patrol.close_finding(finding, office.sup)
    assert finding.status == "已关闭" and finding.closed_by_name


# ---- pages: helpers -----------------------------------------------------------------------------------

@dataclass
class Office:
    dept_id: int
    unit_id: int
    dept_code: str
    unit_code: str
    users: dict = field(default_factory=dict)  # key → username


def new_office(app, world) -> Office:
    """Like the ``office`` fixture, without holding an app context."""
    o = office_ids(app, world, "pt", query=True)
    return Office(o.dept_id, o.unit_id, o.dept_code, o.code,
                  {k: getattr(o, k) for k in ("clerk", "sup", "query", "s1", "s2", "s3")})


@contextmanager
def loaded(app, off: Office):
    """The office's ORM objects in a fresh app context (for make_case / submit_first)."""
    with app.app_context():
        users = {k: db.session.execute(select(AppUser).where(AppUser.username == v)).scalar_one()
                 for k, v in off.users.items()}
        try:
            yield SimpleNamespace(unit=db.session.get(Unit, off.unit_id), dept=db.session.get(Unit, off.dept_id),
                                  **users)
        finally:
            db.session.rollback()
            db.session.remove()


def _client(app, off: Office, key: str):
    return login(app.test_client(), off.users[key])


def _flashes(client) -> list[str]:
    with client.session_transaction() as sess:
        return [m for _cat, m in sess.get("_flashes", [])]


def independent_counts(app, off: Office) -> dict:
    """What the dashboard must say for the office's subtree, counted without it."""
    with app.app_context():
        dept = db.session.get(Unit, off.dept_id)
        units = select(Unit.id).where(Unit.path.startswith(dept.path))
        cases = db.session.execute(select(Case).where(Case.is_current.is_(True), Case.unit_id.in_(units))).scalars().all()
        lights = {"red": 0, "yellow": 0, "green": 0, "none": 0}
        for c in cases:
            lights[{"红": "red", "黄": "yellow", "绿": "green"}.get(c.light, "none")] += 1
        statuses = {"draft": 0, "first": 0, "second": 0}
        for c in cases:
            statuses[{"草稿": "draft", "已初次提交": "first", "已二次提交": "second"}[c.status]] += 1
        since = dt.datetime.utcnow() - dt.timedelta(days=7)
        subs = db.session.execute(select(Submission).where(Submission.unit_id.in_(units))).scalars().all()
        reviews = db.session.execute(select(Review).where(Review.unit_id.in_(units))).scalars().all()
        worklist = 0
        for c in cases:
            if c.status in ("已初次提交", "已二次提交"):
                last = max(s.submitted_at for s in subs if s.case_id == c.id)
                worklist += not any(r.case_id == c.id and r.at >= last for r in reviews)
        alarms = db.session.execute(select(Alarm).where(Alarm.unit_id.in_(units))).scalars().all()
        deadlines = db.session.execute(select(CaseDeadline).where(CaseDeadline.unit_id.in_(units))).scalars().all()
        findings = db.session.execute(select(Finding).where(Finding.unit_id.in_(units))).scalars().all()
        halted_roots = {a.root_id for a in db.session.execute(select(Alarm).where(Alarm.status == "已叫停")).scalars()}
        return {
            "cases": len(cases), "lights": lights, "statuses": statuses, "worklist": worklist,
            "submitted_recent": sum(1 for s in subs if s.submitted_at >= since),
            "alarms_raised": sum(1 for a in alarms if a.status == "已报警"),
            "halted": sum(1 for a in alarms if a.status == "已叫停"),
            "overdue": {"late": sum(1 for d in deadlines if d.status == "逾期" and d.submitted_on is None),
                        "missing": sum(1 for d in deadlines if d.status == "未报" and d.submitted_on is None)},
            "awaiting_correction": sum(1 for c in cases if (c.status == "草稿" and c.version_no > 1)
                                       or c.root_id in halted_roots),
            "findings": {"open": sum(1 for f in findings if f.status == "整改中"),
                         "corrected": sum(1 for f in findings if f.status == "已整改"),
                         "closed": sum(1 for f in findings if f.status == "已关闭"),
                         "overdue": sum(1 for f in findings if f.status == "整改中" and f.correction_deadline < TODAY)},
        }


def _same_numbers(data: dict, expected: dict) -> None:
    for key, value in expected.items():
        if isinstance(value, dict):
            for sub, n in value.items():
                assert data[key][sub] == n, (key, sub, data[key][sub], n)
        else:
            assert data[key] == value, (key, data[key], value)


# ---- pages: the dashboard -----------------------------------------------------------------------------

def test_dashboard_follows_submissions(app, world):
    off = new_office(app, world)
    sup = _client(app, off, "sup")
    empty = sup.get("/monitor/data").get_json()
    _same_numbers(empty, independent_counts(app, off))
    assert empty["cases"] == 0 and empty["units_total"]["total"] == 0

    with loaded(app, off) as o:
        first, _v = make_case(o, DECIDED)
        second, _v = make_case(o, DECIDED)
        submit_first(o, first)
        first_id, second_id = first.id, second.id
    data = sup.get("/monitor/data").get_json()
    expected = independent_counts(app, off)
    _same_numbers(data, expected)
    assert data["cases"] == 2 and data["statuses"]["draft"] == 1 and data["statuses"]["first"] == 1
    assert data["worklist"] == 1 and data["submitted_recent"] == 1
    assert sum(data["lights"].values()) == 2
    # the per-unit table: 本级 (the department, no cases) and the unit's subtree, adding up
    rows = {r["unit_id"]: r for r in data["units"]}
    assert rows[off.dept_id]["kind"] == "self" and rows[off.dept_id]["total"] == 0
    assert rows[off.unit_id]["total"] == 2
    for key in ("red", "yellow", "green", "none"):
        assert rows[off.unit_id][key] == data["lights"][key] == data["units_total"][key]

    # every light change as the unit submits: the second submission moves its light and its status
    with loaded(app, off) as o:
        submit_first(o, db.session.get(Case, second_id))
    after = sup.get("/monitor/data").get_json()
    _same_numbers(after, independent_counts(app, off))
    assert after["statuses"]["first"] == 2 and after["statuses"]["draft"] == 0 and after["worklist"] == 2
    # a 红灯预警 review turns a light red, raises an alarm and leaves the worklist
    with app.app_context():
        was_red = db.session.get(Case, first_id).light == "红"
    resp = sup.post(f"/patrol/review/{first_id}", data={"result": "红灯预警", "reason": "破格未经批准"})
    assert resp.status_code == 302
    red = sup.get("/monitor/data").get_json()
    _same_numbers(red, independent_counts(app, off))
    assert red["lights"]["red"] == after["lights"]["red"] + (0 if was_red else 1)
    assert red["alarms_raised"] == after["alarms_raised"] + 1 and red["worklist"] == 1

    # the page: the same numbers, an inline refresh script with no external source
    html = sup.get("/monitor/").get_data(as_text=True)
    assert 'id="monitor-page"' in html and 'data-url="/monitor/data"' in html and "fetch(" in html
    assert f'data-k="lights.red">{red["lights"]["red"]}<' in html
    assert f'data-k="worklist">{red["worklist"]}<' in html
    assert "setInterval" in html and "http://" not in html.split('id="monitor-page"')[1]
    assert "https://" not in html.split('id="monitor-page"')[1]


def test_dashboard_is_scoped_and_permissioned(app, world):
    off = new_office(app, world)
    other = new_office(app, world)
    with loaded(app, off) as o:
        _submitted(o, 1)
    mine = _client(app, off, "sup").get("/monitor/data").get_json()
    assert mine["cases"] == 1
    theirs = _client(app, other, "sup").get("/monitor/data").get_json()
    assert theirs["cases"] == 0 and theirs["worklist"] == 0
    assert {r["unit_id"] for r in theirs["units"]} == {other.dept_id}  # its unit has no case: folded
    assert theirs["units_folded"] == 1
    assert {r["unit_id"] for r in _client(app, other, "sup").get("/monitor/data?all=1").get_json()["units"]} == \
        {other.dept_id, other.unit_id}
    # the query user of the department reads the same numbers; a clerk has no dashboard
    query = _client(app, off, "query")
    assert query.get("/monitor/data").get_json()["cases"] == 1
    assert query.get("/monitor/").status_code == 200
    clerk = _client(app, off, "clerk")
    assert clerk.get("/monitor/data").status_code in (302, 403)
    # the root supervisor sees both offices; the admin's table lists top-level units
    root = client_for_world(app, world, "sup_root").get("/monitor/data").get_json()
    assert root["cases"] >= 1
    admin = client_for_world(app, world, "admin").get("/monitor/data").get_json()
    assert world.units["root"] in {r["unit_id"] for r in admin["units"]}
    assert admin["units_total"]["total"] == admin["cases"]


def client_for_world(app, world, key):
    return login(app.test_client(), world.users[key])


# ---- pages: the worklist ------------------------------------------------------------------------------

def test_worklist_page_reviews_within_scope(app, world):
    off = new_office(app, world)
    other = new_office(app, world)
    with loaded(app, off) as o:
        case = _submitted(o, 1)[0]
        case_id, case_no = case.id, case.case_no
    sup = _client(app, off, "sup")
    html = sup.get("/patrol/").get_data(as_text=True)
    assert case_no in html and f'action="/patrol/review/{case_id}"' in html

    # a supervisor of another subtree: never sees it, cannot act on it
    stranger = _client(app, other, "sup")
    assert case_no not in stranger.get("/patrol/").get_data(as_text=True)
    assert stranger.post(f"/patrol/review/{case_id}", data={"result": "通过", "reason": "越权"}).status_code == 404
    # a clerk holds no review permission
    assert _client(app, off, "clerk").post(f"/patrol/review/{case_id}",
                                           data={"result": "通过", "reason": "x"}).status_code in (302, 403)
    with app.app_context():
        assert _review_count(case_id) == 0

    # no reason: refused in Chinese, nothing written
    resp = sup.post(f"/patrol/review/{case_id}", data={"result": "退回补正", "reason": " "}, follow_redirects=True)
    assert resp.status_code == 200 and "请写明审核意见（理由）" in resp.get_data(as_text=True)
    with app.app_context():
        assert _review_count(case_id) == 0 and db.session.get(Case, case_id).status == STATUS_FIRST
    # bad paging never fails
    for bad in ("abc", "-1", "999999999999999999999"):
        assert sup.get(f"/patrol/?page={bad}").status_code == 200
    assert sup.post("/patrol/review/999999999", data={"result": "通过", "reason": "x"}).status_code == 404

    # 退回补正 through the page: a new draft version, the case leaves the worklist
    resp = sup.post(f"/patrol/review/{case_id}", data={"result": "退回补正", "reason": "缺少考察材料"})
    assert resp.status_code == 302
    assert any("退回补正" in m for m in _flashes(sup))
    with app.app_context():
        assert _review_count(case_id) == 1
        assert db.session.get(Case, case_id).status == STATUS_RETURNED
    html = sup.get("/patrol/").get_data(as_text=True)
    assert f'action="/patrol/review/{case_id}"' not in html
    # the review is in the scoped list of reviews, not in the other office's
    assert "缺少考察材料" in sup.get("/reviews/list/").get_data(as_text=True)
    assert "缺少考察材料" not in stranger.get("/reviews/list/").get_data(as_text=True)
    data = sup.get("/monitor/data").get_json()
    assert data["awaiting_correction"] == 1 and data["statuses"]["draft"] == 1


# ---- pages: spot checks and findings -----------------------------------------------------------------

def test_spot_check_and_finding_through_the_pages(app, world):
    off = new_office(app, world)
    other = new_office(app, world)
    with loaded(app, off) as o:
        ids = [c.id for c in _submitted(o, 3)]
    sup = _client(app, off, "sup")

    form = sup.get("/spotchecks/draw").get_data(as_text=True)
    seed = re.search(r'name="seed" id="seed" class="form-control" value="([^"]+)"', form).group(1)
    assert seed and f'value="{off.dept_code}"' in form

    # bad input: every problem in Chinese, the form again, nothing recorded
    with app.app_context():
        n = db.session.execute(select(func.count(SpotCheck.id))).scalar()
    resp = sup.post("/spotchecks/draw", data={"unit": other.dept_code, "method": "rate", "rate": "2", "seed": "",
                                              "period_from": "2026-13-01"})
    html = resp.get_data(as_text=True)
    assert resp.status_code == 200
    for text in ("不存在或不在您的权限范围内", "抽查比例", "请填写随机种子", "起始日期"):
        assert text in html, text
    resp = sup.post("/spotchecks/draw", data={"unit": off.dept_code, "method": "count", "count": "abc", "seed": "1"})
    assert "每单位抽查件数应为正整数" in resp.get_data(as_text=True)
    with app.app_context():
        assert db.session.execute(select(func.count(SpotCheck.id))).scalar() == n

    resp = sup.post("/spotchecks/draw", data={"unit": off.dept_code, "method": "count", "count": "2", "seed": seed})
    assert resp.status_code == 302, resp.get_data(as_text=True)[:500]
    check_id = int(resp.headers["Location"].rstrip("/").split("/")[-1])
    with app.app_context():
        check = db.session.get(SpotCheck, check_id)
        drawn = [i.case_id for i in check.items]
        assert check.seed == seed and check.population == 3 and len(drawn) == 2 and set(drawn) <= set(ids)
        case_no = db.session.get(Case, drawn[0]).case_no
    page = sup.get(f"/spotchecks/show/{check_id}").get_data(as_text=True)
    assert f'<code id="spotcheck-seed">{seed}</code>' in page and case_no in page
    assert 'id="spotcheck-population">3<' in page
    verify = sup.get(f"/spotchecks/show/{check_id}/verify").get_data(as_text=True)
    assert 'data-same="1"' in verify and "一致" in verify
    assert f'<span id="verify-stored" data-ids="{",".join(map(str, drawn))}">' in verify
    assert f'<span id="verify-again" data-ids="{",".join(map(str, drawn))}">' in verify
    # the other office sees none of it
    stranger = _client(app, other, "sup")
    assert stranger.get(f"/spotchecks/show/{check_id}").status_code == 404
    assert stranger.get(f"/spotchecks/show/{check_id}/verify").status_code == 404
    assert stranger.post(f"/spotchecks/show/{check_id}/finding", data={"case_id": drawn[0]}).status_code == 404

    # a finding on a sampled case: refused for a case not drawn, then recorded
    not_drawn = next(i for i in ids if i not in drawn)
    deadline = (TODAY + dt.timedelta(days=15)).isoformat()
    sup.post(f"/spotchecks/show/{check_id}/finding", data={"case_id": not_drawn, "rule_codes": "P27",
                                                           "description": "x", "deadline": deadline})
    assert "请选择本次抽查抽中的案例" in _flashes(sup)
    sup.post(f"/spotchecks/show/{check_id}/finding", data={"case_id": drawn[0], "rule_codes": "P27",
                                                           "description": "考察谈话人数不足", "deadline": "明天"})
    assert any("整改期限" in m for m in _flashes(sup))
    resp = sup.post(f"/spotchecks/show/{check_id}/finding", data={
        "case_id": drawn[0], "rule_codes": "P27", "description": "考察谈话人数不足", "deadline": deadline})
    assert resp.status_code == 302
    with app.app_context():
        finding = db.session.execute(select(Finding).where(Finding.spot_check_id == check_id)).scalar_one()
        fid = finding.id
        assert finding.case_id == drawn[0] and finding.status == "整改中"
    assert "考察谈话人数不足" in sup.get(f"/spotchecks/show/{check_id}").get_data(as_text=True)

    # the unit's clerk sees it and reports the correction; the other office's clerk does not
    clerk = _client(app, off, "clerk")
    assert "考察谈话人数不足" in clerk.get("/findings/list/").get_data(as_text=True)
    page = clerk.get(f"/findings/show/{fid}").get_data(as_text=True)
    assert 'id="corrected-form"' in page and 'id="close-form"' not in page
    other_clerk = _client(app, other, "clerk")
    assert other_clerk.get(f"/findings/show/{fid}").status_code == 404
    assert other_clerk.post(f"/findings/show/{fid}/corrected", data={"note": "x"}).status_code == 404
    assert "考察谈话人数不足" not in other_clerk.get("/findings/list/").get_data(as_text=True)
    clerk.post(f"/findings/show/{fid}/corrected", data={"note": ""})
    assert "请说明整改情况" in _flashes(clerk)
    clerk.post(f"/findings/show/{fid}/close")  # no permission
    assert clerk.post(f"/findings/show/{fid}/corrected", data={"note": "已补充谈话"}).status_code == 302
    with app.app_context():
        assert db.session.get(Finding, fid).status == "已整改"
    # the supervisor closes it
    page = sup.get(f"/findings/show/{fid}").get_data(as_text=True)
    assert 'id="close-form"' in page and "已补充谈话" in page
    assert sup.post(f"/findings/show/{fid}/close").status_code == 302
    with app.app_context():
        closed = db.session.get(Finding, fid)
        assert closed.status == "已关闭" and closed.closed_by_name
    assert "已关闭" in sup.get(f"/findings/show/{fid}").get_data(as_text=True)
    # the query user reads the lists, draws nothing
    query = _client(app, off, "query")
    assert "考察谈话人数不足" in query.get("/findings/list/").get_data(as_text=True)
    assert query.get(f"/spotchecks/show/{check_id}").status_code == 200
    assert query.get("/spotchecks/draw").status_code in (302, 403)
    assert query.get("/patrol/").status_code in (302, 403)


def test_overdue_findings_are_highlighted(app, world):
    off = new_office(app, world)
    with loaded(app, off) as o:
        case = _submitted(o, 1)[0]
        with acting_as(o.sup, "cli"):
            late = patrol.add_finding(case, o.sup, rule_codes="P27", description="逾期未整改的问题",
                                      deadline=TODAY + dt.timedelta(days=1))
            late.correction_deadline = TODAY - dt.timedelta(days=3)  # as if time had passed
            db.session.commit()
            on_time = patrol.add_finding(case, o.sup, rule_codes="C02", description="尚未到期的问题",
                                         deadline=TODAY + dt.timedelta(days=5))
        late_id, on_time_id = late.id, on_time.id
    sup = _client(app, off, "sup")
    html = sup.get("/findings/list/").get_data(as_text=True)
    rows = {pk: cls for cls, pk in re.findall(r'<tr class="finding-row([^"]*)" data-pk="(\d+)"', html)}
    assert "finding-overdue" in rows[str(late_id)] and "finding-overdue" not in rows[str(on_time_id)]
    data = sup.get("/monitor/data").get_json()
    assert data["findings"]["overdue"] == 1 and data["findings"]["open"] == 2
    assert 'id="finding-overdue"' in sup.get(f"/findings/show/{late_id}").get_data(as_text=True)
    # a non-numeric or foreign id is a 404, never a server error
    assert sup.get("/findings/show/abc").status_code == 404
    assert sup.get("/spotchecks/show/abc").status_code == 404


# ---- the CLI ------------------------------------------------------------------------------------------

def _cli(app, *args):
    return app.test_cli_runner().invoke(args=["patrol", "sample", *args])


def test_cli_sample_is_reproducible(app, world):
    off = new_office(app, world)
    with loaded(app, off) as o:
        second = _child_unit(o.dept, "乙")
        second_code = second.code
        _fake_submitted(o.unit, 6)
        _fake_submitted(second, 4)
    args = ["--count", "2", "--seed", "cli-2026", "--unit", off.dept_code, "--json"]
    first = _cli(app, *args)
    assert first.exit_code == 0, first.output
    data = json.loads(first.stdout)
    assert data["seed"] == "cli-2026" and data["unit"] == off.dept_code and data["population"] == 10
    assert len(data["cases"]) == 4 and {c["unit"] for c in data["cases"]} == {off.unit_code, second_code}
    assert set(data["cases"][0]) >= {"case_no", "name", "unit"}
    again = json.loads(_cli(app, *args).stdout)
    assert again["cases"] == data["cases"]
    seeds = {json.dumps(json.loads(_cli(app, "--count", "2", "--seed", f"other{i}", "--unit", off.dept_code,
                                        "--json").stdout)["cases"]) for i in range(6)}
    assert len(seeds) > 1
    rate = json.loads(_cli(app, "--rate", "0.5", "--seed", "r", "--unit", off.dept_code, "--json").stdout)
    assert len(rate["cases"]) == 3 + 2 and rate["rate"] == "0.5"

    # --save as the supervisor: the stored draw is the one printed, and the page's redraw agrees
    with app.app_context():
        n = db.session.execute(select(func.count(SpotCheck.id))).scalar()
    saved = _cli(app, *args, "--save", "--as-user", off.users["sup"])
    assert saved.exit_code == 0, saved.output
    out = json.loads(saved.stdout)
    assert out["cases"] == data["cases"] and out["spot_check_id"]
    with app.app_context():
        assert db.session.execute(select(func.count(SpotCheck.id))).scalar() == n + 1
        check = db.session.get(SpotCheck, out["spot_check_id"])
        assert [i.case_id for i in check.items] == [c["case_id"] for c in data["cases"]]
    verify = _client(app, off, "sup").get(f"/spotchecks/show/{out['spot_check_id']}/verify").get_data(as_text=True)
    assert 'data-same="1"' in verify
    text = _cli(app, "--count", "1", "--seed", "t", "--unit", off.dept_code)
    assert text.exit_code == 0 and "总体 10 件" in text.output


@pytest.mark.parametrize("args, message", [
    (["--seed", "s", "--unit", "@"], "--rate"),
    (["--rate", "0.1", "--count", "2", "--seed", "s", "--unit", "@"], "--rate"),
    (["--rate", "abc", "--seed", "s", "--unit", "@"], "抽查比例"),
    (["--count", "x", "--seed", "s", "--unit", "@"], "--count"),
    (["--count", "0", "--seed", "s", "--unit", "@"], "--count"),
    (["--count", "1", "--unit", "@"], "--seed"),
    (["--count", "1", "--seed", "s", "--unit", "NO-SUCH-UNIT"], "不存在"),
    (["--count", "1", "--seed", "s"], "--unit"),
    (["--count", "1", "--seed", "s", "--unit", "@", "--from", "2026-02-30"], "--from"),
    (["--count", "1", "--seed", "s", "--unit", "@", "--from", "2026-03-01", "--to", "2026-02-01"], "不能晚于"),
    (["--count", "1", "--seed", "s", "--unit", "@", "--save"], "--as-user"),
    (["--count", "1", "--seed", "s", "--unit", "@", "--as-user", "no-such-user"], "不存在"),
    (["--count", "1", "--seed", "s", "--unit", "@U", "--save", "--as-user", "@clerk"], "监督部门"),
])
def test_cli_refuses_bad_input_in_chinese(app, world, args, message):
    off = _cli_office(app, world)
    codes = {"@clerk": off.users["clerk"], "@U": off.unit_code, "@": off.dept_code}
    args = [codes.get(a, a) for a in args]
    result = _cli(app, *args, "--json")
    assert result.exit_code != 0
    output = result.output
    assert message in output and CJK.search(output), output


_CLI_OFFICE = {}


def _cli_office(app, world) -> Office:
    if "office" not in _CLI_OFFICE:
        off = new_office(app, world)
        with loaded(app, off) as o:
            _fake_submitted(o.unit, 2)
        _CLI_OFFICE["office"] = off
    return _CLI_OFFICE["office"]
