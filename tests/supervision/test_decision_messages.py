"""Every decision a supervisor makes about a case reaches the case's unit — its clerks and its leaders
(签字领导) — in the inbox, in the transaction of the decision, and through the configured channels after
it: 叫停纠偏, 退回补正 (网上巡查), 黄灯提示, 红灯预警, 巡查发现 (and 通报: tests/supervision/test_notices.py).

A refused decision writes no message; another unit's users hear nothing.
"""
from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import select

from app.audit import acting_as
from app.extensions import db
from app.infra import notify
from app.models import Alarm, Message
from app.supervision import patrol
from app.supervision.alarm_actions import AlarmError, halt
from app.workflow import cases
from tests.factories import office_rows, save_case, submit_first

TODAY = dt.date.today()


class Recorder(notify.Channel):
    """A configured gateway (an SMS gateway, say): what it was given."""

    name = "recorder"

    def __init__(self):
        self.sent = []

    def enabled(self):
        return True

    def send(self, user, message):
        self.sent.append((user.id, message.id))


@pytest.fixture()
def channel(monkeypatch):
    recorder = Recorder()
    monkeypatch.setattr(notify, "_EXTRA", [recorder])
    return recorder


@pytest.fixture()
def offices(app, world, ctx):
    return office_rows(app, world, "dm"), office_rows(app, world, "dn")


def _unit_users(office):
    return {office.clerk.id, office.s1.id, office.s2.id, office.s3.id}


def _messages(kind, case_ids=None):
    db.session.expire_all()
    q = select(Message).where(Message.kind == kind)
    if case_ids is not None:
        q = q.where(Message.case_id.in_(case_ids))
    return db.session.execute(q).scalars().all()


def _submitted(office, *, no_quorum=False):
    case, _ = save_case(office.unit, office.clerk, TODAY - dt.timedelta(days=2), complete=True)
    if no_quorum:
        with acting_as(office.clerk, "cli"):
            cases.save_module(case, "decision", {"members_present": 7, "votes_for": 7, "votes_against": 0,
                                                 "votes_defer": 0})
            cases.complete_module(case, "decision")
    submit_first(office, case)
    return case


def test_halt_tells_the_units_clerks_and_leaders(offices, channel):
    o, other = offices
    case = _submitted(o, no_quorum=True)
    alarm = db.session.execute(select(Alarm).where(Alarm.case_id == case.id, Alarm.point == "S1")).scalar_one()
    deadline = TODAY + dt.timedelta(days=10)
    # refused (no reason): nothing written, nothing sent
    with acting_as(o.sup, "cli"), pytest.raises(AlarmError):
        halt(alarm, o.sup, "  ", deadline)
    assert _messages("叫停纠偏", [case.id]) == [] and channel.sent == []
    with acting_as(o.sup, "cli"):
        new = halt(alarm, o.sup, "到会人数不足三分之二", deadline)
    found = _messages("叫停纠偏", [new.id])
    assert {m.recipient_id for m in found} == _unit_users(o)
    assert not {m.recipient_id for m in found} & _unit_users(other)
    m = found[0]
    assert m.link == f"/cases/show/{new.id}" and m.unit_id == o.unit.id
    assert "到会人数不足三分之二" in m.body and f"{deadline.year}年{deadline.month}月{deadline.day}日" in m.body
    assert "第 2 版" in m.body and case.case_no in m.title
    assert sorted(mid for _, mid in channel.sent) == sorted(x.id for x in found)  # the configured channel too


def test_patrol_return_and_yellow_tell_the_unit(offices, channel):
    o, _other = offices
    returned, yellow, passed = _submitted(o), _submitted(o), _submitted(o)
    with acting_as(o.sup, "cli"):
        patrol.review(returned, o.sup, "退回补正", "考察材料缺页")
        patrol.review(yellow, o.sup, "黄灯提示", "公示期偏短，请注意")
        patrol.review(passed, o.sup, "通过", "符合程序")
    back = _messages("退回补正")
    back = [m for m in back if m.recipient_id in _unit_users(o)]
    assert {m.recipient_id for m in back} == _unit_users(o) and "考察材料缺页" in back[0].body
    warned = _messages("黄灯提示", [yellow.id])
    assert {m.recipient_id for m in warned} == _unit_users(o)
    assert "公示期偏短" in warned[0].body and warned[0].link == f"/cases/show/{yellow.id}"
    assert _messages("黄灯提示", [passed.id]) == [] and _messages("退回补正", [passed.id]) == []
    sent = {mid for _, mid in channel.sent}
    assert {m.id for m in back + warned} <= sent


def test_patrol_red_warning_tells_the_unit_and_another_unit_hears_nothing(offices, channel):
    """红灯预警 raises an alarm at the supervising department and, like 黄灯提示, tells the case's unit — its
    clerks and leaders — in the review's transaction and through the configured channels."""
    o, other = offices
    red = _submitted(o)
    with acting_as(o.sup, "cli"):
        patrol.review(red, o.sup, "红灯预警", "民主推荐范围明显过窄")
    warned = _messages("红灯预警", [red.id])
    assert {m.recipient_id for m in warned} == _unit_users(o)
    assert "民主推荐范围明显过窄" in warned[0].body and warned[0].link == f"/cases/show/{red.id}"
    assert "暂停办理任职手续" in warned[0].body
    assert not {m.recipient_id for m in warned} & _unit_users(other)
    assert {m.id for m in warned} <= {mid for _, mid in channel.sent}
    alarm = db.session.execute(select(Alarm).where(Alarm.case_id == red.id, Alarm.codes == "巡查")).scalar_one()
    assert "民主推荐范围明显过窄" in alarm.message


def test_a_finding_tells_the_unit_with_its_deadline(offices, channel):
    o, _other = offices
    case = _submitted(o)
    deadline = TODAY + dt.timedelta(days=15)
    with acting_as(o.sup, "cli"), pytest.raises(patrol.PatrolError):
        patrol.add_finding(case, o.sup, rule_codes="P27", description="", deadline=deadline)
    assert _messages("巡查发现", [case.id]) == []
    with acting_as(o.sup, "cli"):
        finding = patrol.add_finding(case, o.sup, rule_codes="P27", description="考察对象范围过窄", deadline=deadline)
    found = _messages("巡查发现", [case.id])
    assert {m.recipient_id for m in found} == _unit_users(o)
    assert "考察对象范围过窄" in found[0].body and "P27" in found[0].body
    assert f"{deadline.year}年{deadline.month}月{deadline.day}日" in found[0].body
    assert finding.id and {m.id for m in found} <= {mid for _, mid in channel.sent}
